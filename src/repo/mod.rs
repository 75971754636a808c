//! Moving charts around: package, HTTP chart repositories, dependencies, OCI registries.
