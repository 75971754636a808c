//! Releases: Helm-format revision storage in Secrets and the verbs (install, upgrade, rollback,
//! uninstall), each verb's whole flow in its own file.

pub mod storage;
pub mod template;
