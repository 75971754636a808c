//! Reading what users hand rudder — values files, stdin, `--set-file`, the files of a chart
//! directory — with a size cap, so that `-f /dev/zero` or `yes | rudder ... -f -` ends in an
//! error naming the file and the limit instead of growing until the machine runs out of memory.
//!
//! The cap is one per process: [`DEFAULT_MAX_FILE_BYTES`] unless the CLI sets another
//! ([`set_max_file_bytes`], from `--max-file-size` or `RUDDER_MAX_FILE_SIZE`).

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The default cap on one input file: Helm's limit for one file of a chart archive.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 5 * 1024 * 1024;

/// The flag and the environment variable that raise the cap, for error messages.
pub const RAISE_HINT: &str =
    "raise it with --max-file-size SIZE or RUDDER_MAX_FILE_SIZE=SIZE (e.g. 20MiB)";

static MAX_FILE_BYTES: AtomicU64 = AtomicU64::new(DEFAULT_MAX_FILE_BYTES);

/// The cap on one input file, in bytes.
pub fn max_file_bytes() -> u64 {
    MAX_FILE_BYTES.load(Ordering::Relaxed)
}

/// Sets the cap on one input file for the rest of the process.
pub fn set_max_file_bytes(limit: u64) {
    MAX_FILE_BYTES.store(limit, Ordering::Relaxed);
}

/// An input that could not be read whole.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read {shown}: {error}")]
    Read {
        shown: String,
        error: std::io::Error,
    },
    #[error(
        "{shown} is larger than the {} limit for one input file; {RAISE_HINT}",
        show_size(*limit)
    )]
    TooLarge { shown: String, limit: u64 },
}

/// Reads the file at `path` whole, refusing one larger than [`max_file_bytes`]. Never trusts
/// the size the file system reports (`/dev/zero` and `/proc` files report none).
pub fn read_file(path: &Path) -> Result<Vec<u8>, InputError> {
    read_file_within(path, max_file_bytes())
}

/// [`read_file`] with an explicit cap.
pub fn read_file_within(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|error| InputError::Read {
        shown: shown.clone(),
        error,
    })?;
    read_within(file, &shown, limit)
}

/// Reads stdin whole, refusing more than [`max_file_bytes`]; `shown` names it in errors.
pub fn read_stdin(shown: &str) -> Result<Vec<u8>, InputError> {
    read_within(std::io::stdin().lock(), shown, max_file_bytes())
}

/// Reads `reader` to its end, refusing more than `limit` bytes: reads at most one byte past the
/// limit, so an endless source costs `limit` bytes of memory, not all of it.
pub fn read_within(reader: impl Read, shown: &str, limit: u64) -> Result<Vec<u8>, InputError> {
    let mut data = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|error| InputError::Read {
            shown: shown.to_string(),
            error,
        })?;
    if data.len() as u64 > limit {
        return Err(InputError::TooLarge {
            shown: shown.to_string(),
            limit,
        });
    }
    Ok(data)
}

/// `5 MiB`, `1.9 GiB`, `512 KiB`, `100 bytes`: a size as a person reads it (the template
/// engine's render budget words its sizes the same way, so there is one formatter).
pub use gotmpl::limits::show_size;

/// Parses a size such as `5MiB`, `20M`, `512Ki`, `1G` or `1048576` (bytes). `K`, `M` and `G`
/// are binary units like `Ki`, `Mi` and `Gi`, as for Kubernetes memory sizes that read alike
/// in practice; a trailing `B` is allowed.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (try 5MiB, 512KiB or 1048576)"))?;
    let unit = unit.trim();
    let unit = unit.strip_suffix(['B', 'b']).unwrap_or(unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let factor: u64 = match unit {
        "" => 1,
        "K" | "k" => 1 << 10,
        "M" | "m" => 1 << 20,
        "G" | "g" => 1 << 30,
        _ => {
            return Err(format!(
                "{text:?} is not a size (try 5MiB, 512KiB or 1048576)"
            ))
        }
    };
    number
        .checked_mul(factor)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{text:?} is not a size above 0 that fits in 64 bits"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_refuses_one_byte_more() {
        assert_eq!(read_within(&b"abcd"[..], "x", 4).unwrap(), b"abcd");
        let err = read_within(&b"abcde"[..], "x", 4).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("x is larger than the 4 bytes limit for one input file; {RAISE_HINT}")
        );
    }

    #[test]
    fn an_endless_source_costs_only_the_limit() {
        let err = read_within(std::io::repeat(0), "<stdin>", 1 << 20).unwrap_err();
        assert!(err
            .to_string()
            .contains("<stdin> is larger than the 1 MiB limit"));
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_size("5MiB"), Ok(5 << 20));
        assert_eq!(parse_size("20M"), Ok(20 << 20));
        assert_eq!(parse_size("512Ki"), Ok(512 << 10));
        assert_eq!(parse_size("1 GB"), Ok(1 << 30));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("5XB").is_err());
        assert_eq!(show_size(5 << 20), "5 MiB");
        assert_eq!(show_size(1000), "1000 bytes");
        assert_eq!(show_size(2_000_000_000), "1.9 GiB");
    }
}
