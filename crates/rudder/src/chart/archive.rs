//! Safe reading of gzipped tar archives (chart packages).
//!
//! An archive is read completely into memory and checked before anything touches the disk:
//! entries with `..`, absolute or drive-letter paths, symlinks, hard links, devices and FIFOs are
//! rejected, and so is an archive that inflates past its [`Budget`] or holds more than
//! [`Limits::max_entries`] entries (a gzip bomb is stopped while it inflates, not after).
//! Tar's own header entries (GNU long names and long link names, PAX headers) are read here,
//! not by the `tar` crate, so that they are bounded and counted like files: a name longer than
//! [`Limits::max_name_bytes`] or a PAX header larger than [`Limits::max_pax_bytes`] is refused.
//! [`Archive::unpack_to`] then writes the checked entries below one directory and nowhere else.

use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// The environment variable that raises (or lowers) the decompressed size allowed for a chart
/// and every archive it contains: bytes, or a number with `KiB`, `MiB` or `GiB`.
pub const MAX_CHART_SIZE_ENV: &str = "RUDDER_MAX_CHART_SIZE";

/// Helm's limit for one chart archive, used here for a chart and all archives nested in it.
pub const DEFAULT_MAX_CHART_BYTES: u64 = 100 * 1024 * 1024;

/// Bounds on what an archive may inflate to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Sum of all entry sizes after decompression, header entries included (Helm: 100 MiB;
    /// [`MAX_CHART_SIZE_ENV`] changes it).
    pub max_total_bytes: u64,
    /// Largest single file after decompression (Helm: 5 MiB).
    pub max_file_bytes: u64,
    /// Number of tar entries of any kind, directories and header entries included.
    pub max_entries: usize,
    /// Longest entry name or link name, however it is stored (GNU long name, PAX `path`).
    pub max_name_bytes: usize,
    /// Largest PAX extended header (local or global).
    pub max_pax_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_bytes: DEFAULT_MAX_CHART_BYTES,
            max_file_bytes: 5 * 1024 * 1024,
            max_entries: 10_000,
            max_name_bytes: 4096,
            max_pax_bytes: 64 * 1024,
        }
    }
}

impl Limits {
    /// The default limits, with the total taken from [`MAX_CHART_SIZE_ENV`] when it is set.
    pub fn from_env() -> Result<Self, ArchiveError> {
        let mut limits = Limits::default();
        if let Ok(text) = std::env::var(MAX_CHART_SIZE_ENV) {
            limits.max_total_bytes =
                parse_size(&text).ok_or(ArchiveError::BadSizeSetting { value: text })?;
        }
        Ok(limits)
    }
}

/// `1048576`, `512KiB`, `200MiB`, `2GiB` (also `K`, `M`, `G`, `KB`, `MB`, `GB` as binary units).
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number.parse().ok()?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return None,
    };
    number.checked_mul(1 << shift).filter(|n| *n > 0)
}

/// Decompressed bytes a chart may still use, shared by the chart's archive and every archive
/// nested in it (subcharts in `charts/`), so that nesting cannot multiply the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The limit the budget started with.
    pub limit: u64,
    /// Bytes used so far.
    pub used: u64,
}

impl Budget {
    /// A fresh budget of `limit` bytes.
    pub fn new(limit: u64) -> Self {
        Budget { limit, used: 0 }
    }

    fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }
}

/// One regular file of an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveEntry {
    /// Normalised relative path, `/`-separated, without `.` or empty components.
    pub path: String,
    /// The file's bytes.
    pub data: Vec<u8>,
    /// Whether any execute bit was set (kept by [`Archive::unpack_to`]).
    pub executable: bool,
}

/// The regular files of a checked archive, in archive order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Archive {
    pub entries: Vec<ArchiveEntry>,
}

/// Why an archive was refused or could not be read or unpacked.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("not a gzipped tar archive: {0}")]
    Corrupt(io::Error),
    #[error("archive entry {entry:?} has an absolute path")]
    AbsolutePath { entry: String },
    #[error("archive entry {entry:?} points outside the archive (`..`)")]
    ParentDir { entry: String },
    #[error("archive entry {entry:?} is a {kind}; only regular files and directories are allowed")]
    ForbiddenType { entry: String, kind: &'static str },
    #[error(
        "the chart (with every archive in it) inflates to more than {} (at entry {entry:?}); \
         set {MAX_CHART_SIZE_ENV} (e.g. {MAX_CHART_SIZE_ENV}=500MiB) to allow more",
        human_size(*limit)
    )]
    TooLarge { limit: u64, entry: String },
    #[error(
        "archive entry {entry:?} inflates to more than {} (the limit for one file of a chart)",
        human_size(*limit)
    )]
    FileTooLarge { entry: String, limit: u64 },
    #[error("archive has more than {limit} entries")]
    TooManyEntries { limit: usize },
    #[error(
        "archive entry #{index} is a {kind} longer than {limit} bytes; names that long are refused"
    )]
    NameTooLong {
        index: usize,
        kind: &'static str,
        limit: usize,
    },
    #[error(
        "archive entry #{index} is a {kind} larger than {} (the limit for tar header entries)",
        human_size(*limit)
    )]
    HeaderTooLarge {
        index: usize,
        kind: &'static str,
        limit: u64,
    },
    #[error("archive entry {entry:?} has a name that is not valid UTF-8")]
    NonUtf8Name { entry: String },
    #[error(
        "archive entry {entry:?} appears more than once; a chart archive holds each file once"
    )]
    Duplicate { entry: String },
    #[error("archive has no files")]
    Empty,
    #[error("{MAX_CHART_SIZE_ENV}={value:?} is not a size (use bytes or a number with KiB, MiB or GiB, e.g. 500MiB)")]
    BadSizeSetting { value: String },
    #[error("cannot write {path}: {error}")]
    Write { path: PathBuf, error: io::Error },
    #[error("refusing to write through the symbolic link {path}")]
    SymlinkInTarget { path: PathBuf },
}

/// `104857600` → `100 MiB`; sizes that are not whole MiB stay in bytes.
fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 && bytes % 1024 == 0 {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// An entry name as shown in errors: names are bounded on read, but a page of one name helps
/// nobody.
fn shown_name(raw: &[u8]) -> String {
    const SHOWN: usize = 200;
    let text = String::from_utf8_lossy(&raw[..raw.len().min(SHOWN)]).into_owned();
    if raw.len() > SHOWN {
        format!("{text}…")
    } else {
        text
    }
}

/// Reads and checks a `.tgz` held in memory, with the [`Limits`] of the environment.
pub fn read_tgz(bytes: &[u8]) -> Result<Archive, ArchiveError> {
    let limits = Limits::from_env()?;
    read_tgz_with_budget(bytes, limits, &mut Budget::new(limits.max_total_bytes))
}

/// Reads and checks a `.tgz` held in memory with its own budget of `limits.max_total_bytes`.
pub fn read_tgz_with_limits(bytes: &[u8], limits: Limits) -> Result<Archive, ArchiveError> {
    read_tgz_with_budget(bytes, limits, &mut Budget::new(limits.max_total_bytes))
}

/// Reads and checks a `.tgz` held in memory, charging every decompressed byte (files, header
/// entries, directories' declared sizes) to `budget`.
pub fn read_tgz_with_budget(
    bytes: &[u8],
    limits: Limits,
    budget: &mut Budget,
) -> Result<Archive, ArchiveError> {
    let gz = flate2::read::GzDecoder::new(bytes);
    let mut tar = tar::Archive::new(gz);
    let mut archive = Archive::default();
    let mut count = 0usize;
    // Header entries describe the entry after them; the `tar` crate would read them unbounded.
    let mut long_name: Option<Vec<u8>> = None;
    let mut pax_path: Option<Vec<u8>> = None;
    // Helm overlays a second Chart.yaml on the first and lets the last copy of other files win;
    // one file, one content is the only reading every tool agrees on.
    let mut seen = std::collections::HashSet::new();
    let entries = tar.entries().map_err(ArchiveError::Corrupt)?.raw(true);
    for entry in entries {
        let mut entry = entry.map_err(ArchiveError::Corrupt)?;
        count += 1;
        if count > limits.max_entries {
            return Err(ArchiveError::TooManyEntries {
                limit: limits.max_entries,
            });
        }
        let kind = entry.header().entry_type();
        use tar::EntryType as T;
        match kind {
            T::GNULongName | T::GNULongLink => {
                let what = if kind == T::GNULongName {
                    "GNU long name"
                } else {
                    "GNU long link name"
                };
                let cap = limits.max_name_bytes as u64;
                let data = read_capped(&mut entry, cap, budget, "(tar header)")?;
                if data.len() as u64 > cap {
                    return Err(ArchiveError::NameTooLong {
                        index: count,
                        kind: what,
                        limit: limits.max_name_bytes,
                    });
                }
                if kind == T::GNULongName {
                    let end = data.iter().position(|b| *b == 0).unwrap_or(data.len());
                    long_name = Some(data[..end].to_vec());
                }
                continue;
            }
            T::XHeader | T::XGlobalHeader => {
                let what = if kind == T::XHeader {
                    "PAX header"
                } else {
                    "PAX global header"
                };
                let data = read_capped(&mut entry, limits.max_pax_bytes, budget, "(tar header)")?;
                if data.len() as u64 > limits.max_pax_bytes {
                    return Err(ArchiveError::HeaderTooLarge {
                        index: count,
                        kind: what,
                        limit: limits.max_pax_bytes,
                    });
                }
                for record in tar::PaxExtensions::new(&data) {
                    let record = record.map_err(ArchiveError::Corrupt)?;
                    let key = record.key_bytes();
                    if key == b"path" || key == b"linkpath" {
                        if record.value_bytes().len() > limits.max_name_bytes {
                            return Err(ArchiveError::NameTooLong {
                                index: count,
                                kind: "PAX path",
                                limit: limits.max_name_bytes,
                            });
                        }
                        if key == b"path" && kind == T::XHeader {
                            pax_path = Some(record.value_bytes().to_vec());
                        }
                    }
                }
                continue;
            }
            _ => {}
        }
        let name_bytes = long_name
            .take()
            .or_else(|| pax_path.take())
            .unwrap_or_else(|| entry.header().path_bytes().into_owned());
        let raw_name = shown_name(&name_bytes);
        match kind {
            T::Directory => {
                // A directory has no content, but its declared size is still inflated to skip it.
                let skipped = entry.size();
                charge(budget, skipped, &raw_name)?;
                continue;
            }
            T::Regular | T::Continuous => {}
            T::GNUSparse => return Err(forbidden(raw_name, "sparse file")),
            T::Symlink => return Err(forbidden(raw_name, "symbolic link")),
            T::Link => return Err(forbidden(raw_name, "hard link")),
            T::Char => return Err(forbidden(raw_name, "character device")),
            T::Block => return Err(forbidden(raw_name, "block device")),
            T::Fifo => return Err(forbidden(raw_name, "FIFO")),
            _ => return Err(forbidden(raw_name, "special entry")),
        }
        if name_bytes.len() > limits.max_name_bytes {
            return Err(ArchiveError::NameTooLong {
                index: count,
                kind: "name",
                limit: limits.max_name_bytes,
            });
        }
        let Ok(name) = String::from_utf8(name_bytes) else {
            return Err(ArchiveError::NonUtf8Name { entry: raw_name });
        };
        let path = normalise_entry_path(&name)?;
        if !seen.insert(path.clone()) {
            return Err(ArchiveError::Duplicate { entry: path });
        }
        // The header's size can lie; count what actually inflates.
        let data = read_capped(&mut entry, limits.max_file_bytes, budget, &raw_name)?;
        if data.len() as u64 > limits.max_file_bytes {
            return Err(ArchiveError::FileTooLarge {
                entry: raw_name,
                limit: limits.max_file_bytes,
            });
        }
        let executable = entry
            .header()
            .mode()
            .map(|m| m & 0o111 != 0)
            .unwrap_or(false);
        archive.entries.push(ArchiveEntry {
            path,
            data,
            executable,
        });
    }
    if archive.entries.is_empty() {
        return Err(ArchiveError::Empty);
    }
    Ok(archive)
}

/// Reads at most `cap + 1` bytes of an entry (so that the caller can tell "over the cap"),
/// charging them to `budget`, which refuses first when it runs out.
fn read_capped(
    entry: &mut impl Read,
    cap: u64,
    budget: &mut Budget,
    entry_name: &str,
) -> Result<Vec<u8>, ArchiveError> {
    let allowed = cap.min(budget.remaining());
    let mut data = Vec::new();
    entry
        .take(allowed + 1)
        .read_to_end(&mut data)
        .map_err(ArchiveError::Corrupt)?;
    let len = data.len() as u64;
    if len > allowed && allowed < cap {
        return Err(ArchiveError::TooLarge {
            limit: budget.limit,
            entry: entry_name.to_string(),
        });
    }
    budget.used += len.min(cap);
    Ok(data)
}

fn charge(budget: &mut Budget, bytes: u64, entry_name: &str) -> Result<(), ArchiveError> {
    if bytes > budget.remaining() {
        return Err(ArchiveError::TooLarge {
            limit: budget.limit,
            entry: entry_name.to_string(),
        });
    }
    budget.used += bytes;
    Ok(())
}

fn forbidden(entry: String, kind: &'static str) -> ArchiveError {
    ArchiveError::ForbiddenType { entry, kind }
}

/// Turns a raw entry name into a clean relative path, refusing anything that could escape.
fn normalise_entry_path(raw: &str) -> Result<String, ArchiveError> {
    // Archives made on Windows may use backslashes.
    let name = raw.replace('\\', "/");
    let drive =
        name.len() >= 2 && name.as_bytes()[1] == b':' && name.as_bytes()[0].is_ascii_alphabetic();
    if name.starts_with('/') || drive {
        return Err(ArchiveError::AbsolutePath {
            entry: raw.to_string(),
        });
    }
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(ArchiveError::ParentDir {
                    entry: raw.to_string(),
                })
            }
            p => {
                // A drive letter in the middle (`a/c:/x`) is as dangerous as at the start on Windows.
                if p.contains(':') && p.len() == 2 && p.as_bytes()[0].is_ascii_alphabetic() {
                    return Err(ArchiveError::AbsolutePath {
                        entry: raw.to_string(),
                    });
                }
                parts.push(p);
            }
        }
    }
    if parts.is_empty() {
        return Err(ArchiveError::ParentDir {
            entry: raw.to_string(),
        });
    }
    Ok(parts.join("/"))
}

impl Archive {
    /// Writes every entry below `dir` (created if missing). Never writes outside `dir`: entry
    /// paths are already clean, and a symbolic link met on the way (for example one planted in
    /// an existing target directory) is refused rather than followed.
    pub fn unpack_to(&self, dir: &Path) -> Result<(), ArchiveError> {
        let write_err = |path: &Path, error| ArchiveError::Write {
            path: path.to_path_buf(),
            error,
        };
        fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
        for entry in &self.entries {
            let relative = Path::new(&entry.path);
            // Paths were normalised on read; re-check so unpack_to is safe on a hand-built Archive.
            if relative
                .components()
                .any(|c| !matches!(c, Component::Normal(_)))
            {
                return Err(ArchiveError::ParentDir {
                    entry: entry.path.clone(),
                });
            }
            let mut current = dir.to_path_buf();
            let components: Vec<_> = relative.components().collect();
            for (i, component) in components.iter().enumerate() {
                current.push(component);
                let last = i + 1 == components.len();
                match fs::symlink_metadata(&current) {
                    Ok(meta) if meta.file_type().is_symlink() => {
                        return Err(ArchiveError::SymlinkInTarget { path: current });
                    }
                    Ok(_) => {}
                    Err(err) if err.kind() == io::ErrorKind::NotFound => {
                        if !last {
                            fs::create_dir(&current).map_err(|e| write_err(&current, e))?;
                        }
                    }
                    Err(err) => return Err(write_err(&current, err)),
                }
            }
            fs::write(&current, &entry.data).map_err(|e| write_err(&current, e))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = if entry.executable { 0o755 } else { 0o644 };
                fs::set_permissions(&current, fs::Permissions::from_mode(mode))
                    .map_err(|e| write_err(&current, e))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a `.tgz` from raw tar headers so that tests can produce entries the `tar` crate's
    /// safe builder API refuses to write (`..`, absolute paths).
    pub(crate) fn tgz(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, kind, data) in entries {
            let mut header = tar::Header::new_gnu();
            {
                let bytes = header.as_old_mut();
                let n = name.as_bytes();
                bytes.name[..n.len()].copy_from_slice(n);
            }
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            if *kind == tar::EntryType::Symlink || *kind == tar::EntryType::Link {
                header.set_size(0);
                header.set_link_name("target").unwrap();
            }
            header.set_cksum();
            let body: &[u8] = if header.size().unwrap() == 0 {
                &[]
            } else {
                data
            };
            builder.append(&header, body).unwrap();
        }
        let tar = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        gz.finish().unwrap()
    }

    const REG: tar::EntryType = tar::EntryType::Regular;

    #[test]
    fn reads_regular_files_and_skips_directories() {
        let bytes = tgz(&[
            ("web/", tar::EntryType::Directory, b""),
            ("web/Chart.yaml", REG, b"name: web\n"),
            ("./web//templates/a.yaml", REG, b"a"),
        ]);
        let archive = read_tgz(&bytes).unwrap();
        let paths: Vec<_> = archive.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["web/Chart.yaml", "web/templates/a.yaml"]);
    }

    #[test]
    fn rejects_parent_directory_entries() {
        let bytes = tgz(&[("web/../../etc/passwd", REG, b"x")]);
        assert!(matches!(
            read_tgz(&bytes),
            Err(ArchiveError::ParentDir { .. })
        ));
    }

    #[test]
    fn rejects_absolute_paths() {
        let bytes = tgz(&[("/etc/passwd", REG, b"x")]);
        assert!(matches!(
            read_tgz(&bytes),
            Err(ArchiveError::AbsolutePath { .. })
        ));
        let bytes = tgz(&[("C:/windows/x", REG, b"x")]);
        assert!(matches!(
            read_tgz(&bytes),
            Err(ArchiveError::AbsolutePath { .. })
        ));
        let bytes = tgz(&[("web\\..\\..\\x", REG, b"x")]);
        assert!(matches!(
            read_tgz(&bytes),
            Err(ArchiveError::ParentDir { .. })
        ));
    }

    #[test]
    fn rejects_links_devices_and_fifos() {
        for (kind, word) in [
            (tar::EntryType::Symlink, "symbolic link"),
            (tar::EntryType::Link, "hard link"),
            (tar::EntryType::Char, "character device"),
            (tar::EntryType::Block, "block device"),
            (tar::EntryType::Fifo, "FIFO"),
        ] {
            let bytes = tgz(&[("web/Chart.yaml", REG, b"x"), ("web/evil", kind, b"")]);
            let err = read_tgz(&bytes).unwrap_err();
            assert!(err.to_string().contains(word), "{err}");
            assert!(err.to_string().contains("web/evil"), "{err}");
        }
    }

    #[test]
    fn rejects_inflation_past_the_total_limit_while_reading() {
        let big = vec![0u8; 4096];
        let bytes = tgz(&[("a/x", REG, &big), ("a/y", REG, &big)]);
        let limits = Limits {
            max_total_bytes: 6000,
            max_file_bytes: 5000,
            max_entries: 10,
            ..Limits::default()
        };
        assert!(matches!(
            read_tgz_with_limits(&bytes, limits),
            Err(ArchiveError::TooLarge { limit: 6000, .. })
        ));
    }

    #[test]
    fn rejects_the_default_100_mib_bomb() {
        // 101 MiB of zeros compresses to about 100 KiB.
        let mut builder = tar::Builder::new(Vec::new());
        let chunk = vec![0u8; 4 * 1024 * 1024];
        for i in 0..26 {
            let mut header = tar::Header::new_gnu();
            header.set_size(chunk.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(&mut header, format!("a/f{i}"), &chunk[..])
                .unwrap();
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &builder.into_inner().unwrap()).unwrap();
        let bytes = gz.finish().unwrap();
        assert!(matches!(
            read_tgz(&bytes),
            Err(ArchiveError::TooLarge { .. })
        ));
    }

    #[test]
    fn rejects_a_single_oversized_file() {
        let big = vec![1u8; 2000];
        let bytes = tgz(&[("a/x", REG, &big)]);
        let limits = Limits {
            max_total_bytes: 10_000,
            max_file_bytes: 1000,
            max_entries: 10,
            ..Limits::default()
        };
        assert!(matches!(
            read_tgz_with_limits(&bytes, limits),
            Err(ArchiveError::FileTooLarge { .. })
        ));
    }

    #[test]
    fn rejects_too_many_entries() {
        let entries: Vec<(String, tar::EntryType, &[u8])> = (0..12)
            .map(|i| (format!("a/f{i}"), REG, &b"x"[..]))
            .collect();
        let refs: Vec<(&str, tar::EntryType, &[u8])> = entries
            .iter()
            .map(|(n, k, d)| (n.as_str(), *k, *d))
            .collect();
        let limits = Limits {
            max_entries: 10,
            ..Limits::default()
        };
        assert!(matches!(
            read_tgz_with_limits(&tgz(&refs), limits),
            Err(ArchiveError::TooManyEntries { limit: 10 })
        ));
    }

    #[test]
    fn rejects_a_file_that_appears_twice() {
        let bytes = tgz(&[
            ("web/Chart.yaml", REG, b"name: web\n"),
            ("./web/Chart.yaml", REG, b"name: other\n"),
        ]);
        let err = read_tgz(&bytes).unwrap_err();
        assert!(
            matches!(&err, ArchiveError::Duplicate { entry } if entry == "web/Chart.yaml"),
            "{err}"
        );
    }

    #[test]
    fn header_entries_count_against_the_budget() {
        // A GNU long name under the name limit, but over what the budget has left.
        let long = vec![b'a'; 3000];
        let bytes = tgz(&[
            ("././@LongLink", tar::EntryType::GNULongName, &long),
            ("a/x", REG, b"x"),
        ]);
        let limits = Limits {
            max_total_bytes: 2000,
            ..Limits::default()
        };
        let err = read_tgz_with_limits(&bytes, limits).unwrap_err();
        assert!(matches!(err, ArchiveError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn a_gnu_long_name_names_the_next_entry() {
        let name = format!("web/templates/{}.yaml", "n".repeat(150));
        let mut data = name.clone().into_bytes();
        data.push(0);
        let bytes = tgz(&[
            ("././@LongLink", tar::EntryType::GNULongName, &data),
            ("web/templates/short", REG, b"x"),
        ]);
        let archive = read_tgz(&bytes).unwrap();
        assert_eq!(archive.entries[0].path, name);
    }

    #[test]
    fn parses_size_settings() {
        assert_eq!(parse_size("1048576"), Some(1 << 20));
        assert_eq!(parse_size("500MiB"), Some(500 << 20));
        assert_eq!(parse_size("2 GiB"), Some(2 << 30));
        assert_eq!(parse_size("64k"), Some(64 << 10));
        for bad in ["", "lots", "0", "-1", "5TiB", "99999999999999999999GiB"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn rejects_garbage_and_empty_archives() {
        assert!(matches!(
            read_tgz(b"not gzip"),
            Err(ArchiveError::Corrupt(_))
        ));
        assert!(matches!(
            read_tgz(&tgz(&[("a/", tar::EntryType::Directory, b"")])),
            Err(ArchiveError::Empty)
        ));
    }

    #[test]
    fn unpacks_inside_the_target_only() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = tgz(&[
            ("web/Chart.yaml", REG, b"name: web\n"),
            ("web/t/a", REG, b"a"),
        ]);
        read_tgz(&bytes).unwrap().unpack_to(dir.path()).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("web/Chart.yaml")).unwrap(),
            "name: web\n"
        );
        assert_eq!(fs::read(dir.path().join("web/t/a")).unwrap(), b"a");
    }

    #[cfg(unix)]
    #[test]
    fn unpack_refuses_to_follow_a_planted_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("web")).unwrap();
        let bytes = tgz(&[("web/Chart.yaml", REG, b"x")]);
        let err = read_tgz(&bytes).unwrap().unpack_to(dir.path()).unwrap_err();
        assert!(matches!(err, ArchiveError::SymlinkInTarget { .. }), "{err}");
        assert!(!outside.path().join("Chart.yaml").exists());
    }

    #[test]
    fn unpack_refuses_a_hand_built_escaping_entry() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive {
            entries: vec![ArchiveEntry {
                path: "../escape".into(),
                data: b"x".to_vec(),
                executable: false,
            }],
        };
        assert!(archive.unpack_to(&dir.path().join("in")).is_err());
        assert!(!dir.path().join("escape").exists());
    }
}
