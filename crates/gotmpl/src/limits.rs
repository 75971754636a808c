//! The render budget: how much one template's output, or one string or list a function builds,
//! may hold. Process-wide, so that plain functions (Sprig's `repeat`, `until`) see it too.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::RwLock;

/// The default budget. A chart's whole manifest must fit in a 1 MiB release Secret compressed,
/// so no real template comes near it.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 100 * 1024 * 1024;

static MAX_OUTPUT_BYTES: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_OUTPUT_BYTES);
static RAISE_HINT: RwLock<&str> = RwLock::new("the host sets the render limit");

/// The render budget in bytes (see [`DEFAULT_MAX_OUTPUT_BYTES`]).
pub fn max_output_bytes() -> usize {
    MAX_OUTPUT_BYTES.load(Ordering::Relaxed)
}

/// Sets the render budget for the rest of the process.
pub fn set_max_output_bytes(limit: usize) {
    MAX_OUTPUT_BYTES.store(limit, Ordering::Relaxed);
}

/// Sets the words that tell a user how to raise the budget (the host's flag or variable).
pub fn set_raise_hint(hint: &'static str) {
    if let Ok(mut h) = RAISE_HINT.write() {
        *h = hint;
    }
}

/// The words for a breached render budget: `what` passed it.
pub fn output_limit_message(what: &str) -> String {
    let hint = RAISE_HINT.read().map(|h| *h).unwrap_or_default();
    format!(
        "{what} would pass the {} render limit; {hint}",
        show_size(max_output_bytes() as u64)
    )
}

/// What one list element costs against the render budget: the size of a value.
pub const LIST_ELEMENT_BYTES: usize = std::mem::size_of::<crate::Value>();

/// Refuses a string or list of `bytes` that function `name` is about to build when it would pass
/// the render budget, before any of it is allocated.
pub fn within_budget(name: &str, bytes: usize) -> Result<(), crate::FuncError> {
    if bytes > max_output_bytes() {
        return Err(crate::FuncError::new(output_limit_message(&format!(
            "the result of {name} ({})",
            show_size(bytes as u64)
        ))));
    }
    Ok(())
}

/// A byte count in words: `100 MiB`, `1.5 KiB`, `12 bytes`.
pub fn show_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if bytes >= unit {
            if bytes % unit == 0 {
                return format!("{} {name}", bytes / unit);
            }
            return format!("{:.1} {name}", bytes as f64 / unit as f64);
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(show_size(100 * 1024 * 1024), "100 MiB");
        assert_eq!(show_size(1536), "1.5 KiB");
        assert_eq!(show_size(12), "12 bytes");
    }
}
