//! Manifests: split rendered templates into documents, parse their heads, order them in Helm's
//! install order, and separate hooks.
