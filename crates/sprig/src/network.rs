//! Sprig's `getHostByName`, which Helm replaces with one that returns "" unless DNS lookups are
//! enabled (`--enable-dns` on `template`, `install`, `upgrade`, `diff` and `lint`).

use std::net::ToSocketAddrs;
use std::sync::atomic::{AtomicBool, Ordering};

use super::cast::str_param;
use gotmpl::value::Value;

/// Whether templates may resolve host names. Process-wide: one rudder command renders with one
/// setting, as one `helm` invocation does.
static DNS_ENABLED: AtomicBool = AtomicBool::new(false);

/// Lets `getHostByName` resolve names (Helm's `--enable-dns`).
pub fn enable_dns_lookups(enabled: bool) {
    DNS_ENABLED.store(enabled, Ordering::Relaxed);
}

/// One of the addresses `name` resolves to (Sprig picks one at random), or "" when it does
/// not resolve.
fn resolve_host(name: &str) -> String {
    let addrs: Vec<String> = match (name, 0u16).to_socket_addrs() {
        Ok(addrs) => addrs.map(|a| a.ip().to_string()).collect(),
        Err(_) => return String::new(),
    };
    if addrs.is_empty() {
        return String::new();
    }
    let i = rand::Rng::random_range(&mut rand::rng(), 0..addrs.len());
    addrs[i].clone()
}

/// `getHostByName NAME`: "" unless DNS lookups are enabled.
pub fn get_host_by_name(name: &Value) -> Value {
    if !DNS_ENABLED.load(Ordering::Relaxed) {
        return Value::str("");
    }
    Value::from(resolve_host(&str_param(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_only_when_enabled() {
        // Never switched on in unit tests: Helm's default.
        assert_eq!(get_host_by_name(&Value::str("localhost")), Value::str(""));
        let local = resolve_host("localhost");
        assert!(local == "127.0.0.1" || local == "::1", "{local}");
        assert_eq!(resolve_host("no-such-host.invalid"), "");
    }
}
