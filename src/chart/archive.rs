//! Safe reading of gzipped tar archives (chart packages).
//!
//! An archive is read completely into memory and checked before anything touches the disk:
//! entries with `..`, absolute or drive-letter paths, symlinks, hard links, devices and FIFOs are
//! rejected, and so is an archive that inflates past [`Limits::max_total_bytes`] or holds more than
//! [`Limits::max_entries`] entries (a gzip bomb is stopped while it inflates, not after).
//! [`Archive::unpack_to`] then writes the checked entries below one directory and nowhere else.

use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// Bounds on what an archive may inflate to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Sum of all file sizes after decompression (Helm: 100 MiB).
    pub max_total_bytes: u64,
    /// Largest single file after decompression (Helm: 5 MiB).
    pub max_file_bytes: u64,
    /// Number of tar entries of any kind, directories included.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_bytes: 100 * 1024 * 1024,
            max_file_bytes: 5 * 1024 * 1024,
            max_entries: 10_000,
        }
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
    #[error("archive inflates to more than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("archive entry {entry:?} inflates to more than {limit} bytes")]
    FileTooLarge { entry: String, limit: u64 },
    #[error("archive has more than {limit} entries")]
    TooManyEntries { limit: usize },
    #[error("archive entry {entry:?} has a name that is not valid UTF-8")]
    NonUtf8Name { entry: String },
    #[error("archive has no files")]
    Empty,
    #[error("cannot write {path}: {error}")]
    Write { path: PathBuf, error: io::Error },
    #[error("refusing to write through the symbolic link {path}")]
    SymlinkInTarget { path: PathBuf },
}

/// Reads and checks a `.tgz` held in memory, with the default [`Limits`].
pub fn read_tgz(bytes: &[u8]) -> Result<Archive, ArchiveError> {
    read_tgz_with_limits(bytes, Limits::default())
}

/// Reads and checks a `.tgz` held in memory.
pub fn read_tgz_with_limits(bytes: &[u8], limits: Limits) -> Result<Archive, ArchiveError> {
    let gz = flate2::read::GzDecoder::new(bytes);
    let mut tar = tar::Archive::new(gz);
    let mut archive = Archive::default();
    let mut total: u64 = 0;
    let mut count = 0usize;
    for entry in tar.entries().map_err(ArchiveError::Corrupt)? {
        let mut entry = entry.map_err(ArchiveError::Corrupt)?;
        count += 1;
        if count > limits.max_entries {
            return Err(ArchiveError::TooManyEntries {
                limit: limits.max_entries,
            });
        }
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        use tar::EntryType as T;
        match kind {
            T::Directory | T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink => {
                continue
            }
            T::Regular | T::Continuous | T::GNUSparse => {}
            T::Symlink => return Err(forbidden(raw_name, "symbolic link")),
            T::Link => return Err(forbidden(raw_name, "hard link")),
            T::Char => return Err(forbidden(raw_name, "character device")),
            T::Block => return Err(forbidden(raw_name, "block device")),
            T::Fifo => return Err(forbidden(raw_name, "FIFO")),
            _ => return Err(forbidden(raw_name, "special entry")),
        }
        if std::str::from_utf8(&entry.path_bytes()).is_err() {
            return Err(ArchiveError::NonUtf8Name { entry: raw_name });
        }
        let path = normalise_entry_path(&raw_name)?;
        // The header's size can lie; count what actually inflates.
        let remaining = limits.max_total_bytes - total;
        let cap = remaining.min(limits.max_file_bytes);
        let mut data = Vec::new();
        (&mut entry)
            .take(cap + 1)
            .read_to_end(&mut data)
            .map_err(ArchiveError::Corrupt)?;
        let len = data.len() as u64;
        if len > cap {
            if cap == limits.max_file_bytes && remaining > limits.max_file_bytes {
                return Err(ArchiveError::FileTooLarge {
                    entry: raw_name,
                    limit: limits.max_file_bytes,
                });
            }
            return Err(ArchiveError::TooLarge {
                limit: limits.max_total_bytes,
            });
        }
        total += len;
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
        };
        assert!(matches!(
            read_tgz_with_limits(&bytes, limits),
            Err(ArchiveError::TooLarge { limit: 6000 })
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
