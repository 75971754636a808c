//! One safe path component: the check every name that comes from a repository, a registry, an
//! archive or a Chart.yaml passes before it becomes part of a path on disk.
//!
//! Chart names, versions, archive file names and repository names are all joined onto a folder
//! the user chose (`charts/`, `--destination`, the cache). A name that is empty, `.` or `..`,
//! holds a separator, starts with a drive letter or holds a control character would make that
//! join point somewhere else, so it is refused instead of cleaned up.

/// Longest component accepted: the common file-system limit for one name (bytes).
pub const MAX_COMPONENT_BYTES: usize = 255;

/// A name that cannot be used as one file or folder name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not a single file or folder name: {reason}")]
pub struct UnsafeComponent {
    /// The name as given.
    pub name: String,
    /// Why it was refused, in the user's words.
    pub reason: &'static str,
}

/// Checks that `name` is exactly one path component that stays inside the folder it is joined
/// onto, on Unix and on Windows alike.
pub fn check_path_component(name: &str) -> Result<(), UnsafeComponent> {
    let refuse = |reason| {
        Err(UnsafeComponent {
            name: name.to_string(),
            reason,
        })
    };
    let bytes = name.as_bytes();
    if name.is_empty() {
        return refuse("it is empty");
    }
    if name == "." || name == ".." {
        return refuse("it names the current or the parent folder");
    }
    if name.contains(['/', '\\']) {
        return refuse("it contains a path separator");
    }
    if name.chars().any(char::is_control) {
        return refuse("it contains a control character");
    }
    // `C:` alone is a drive-relative path on Windows.
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return refuse("it starts with a drive letter");
    }
    if bytes.len() > MAX_COMPONENT_BYTES {
        return refuse("it is longer than 255 bytes");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for good in ["web", "web-1.2.3+build.1.tgz", "my_repo", "a.b", "x..y"] {
            assert_eq!(check_path_component(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn refuses_names_that_leave_the_folder() {
        let long = "x".repeat(256);
        for (bad, reason) in [
            ("", "empty"),
            (".", "parent folder"),
            ("..", "parent folder"),
            ("../../outside/escaped", "separator"),
            ("/abs/escaped", "separator"),
            ("a\\..\\b", "separator"),
            ("C:", "drive letter"),
            ("c:evil", "drive letter"),
            ("a\0b", "control character"),
            ("a\nb", "control character"),
            (long.as_str(), "255 bytes"),
        ] {
            let err = check_path_component(bad).unwrap_err();
            assert!(err.to_string().contains(reason), "{bad:?}: {err}");
        }
    }
}
