//! Finding the files behind the paths a user names.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The file.
    pub path: PathBuf,
    /// The log it belongs to when it is one of a rotated set (`auth.log` for
    /// `auth.log.2.gz`), else `None`.
    pub rotated_set: Option<String>,
    /// How much of it was read before, to pass over.
    pub resume: Resume,
}

/// How much of a file an earlier run read: its first `events` events and
/// first `dead` unreadable lines are passed over (the file is read again
/// from its start, so that what parsers learn on the way, a CSV header or
/// the year of syslog lines, is learnt again).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resume {
    /// Events passed over.
    pub events: u64,
    /// Unreadable lines passed over.
    pub dead: u64,
}

/// Splits `auth.log.2.gz` into (`auth.log`, 2); `auth.log` is (`auth.log`, 0);
/// `auth.log-20250314` is (`auth.log`, 20250314) but ordered as a date.
fn rotation(name: &str) -> (String, u64) {
    let base = name.strip_suffix(".gz").unwrap_or(name);
    if let Some((stem, n)) = base.rsplit_once('.') {
        if !n.is_empty() && n.len() <= 4 && n.bytes().all(|b| b.is_ascii_digit()) {
            return (stem.to_owned(), n.parse().unwrap_or(0));
        }
    }
    (base.to_owned(), 0)
}

/// Sort key that puts a rotated set oldest first: `x.3.gz`, `x.2`, `x.1`, `x`.
fn order_key(path: &Path) -> (PathBuf, String, Reverse<u64>, String) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (base, n) = rotation(&name);
    (
        path.parent().map(Path::to_path_buf).unwrap_or_default(),
        base,
        Reverse(n),
        name,
    )
}

/// Expands paths into files: folders are walked recursively (hidden entries
/// skipped, links not followed), files are kept as named. Rotated sets come
/// out together and oldest first. Paths that do not exist are returned as
/// errors next to the files found.
pub fn discover(paths: &[PathBuf]) -> (Vec<Input>, Vec<(PathBuf, String)>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.is_dir() {
            let walker = walkdir::WalkDir::new(path)
                .follow_links(false)
                .into_iter()
                .filter_entry(|e| {
                    e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                });
            for entry in walker {
                match entry {
                    Ok(e) if e.file_type().is_file() => files.push(e.into_path()),
                    Ok(_) => {}
                    Err(e) => errors.push((
                        e.path()
                            .map(Path::to_path_buf)
                            .unwrap_or_else(|| path.clone()),
                        e.to_string(),
                    )),
                }
            }
        } else if path.exists() || path.as_os_str() == "-" {
            files.push(path.clone());
        } else {
            errors.push((path.clone(), "no such file or folder".to_owned()));
        }
    }
    files.sort_by_cached_key(|p| order_key(p));
    files.dedup();
    let mut inputs: Vec<Input> = files
        .into_iter()
        .map(|path| Input {
            resume: Resume::default(),
            path,
            rotated_set: None,
        })
        .collect();
    // A file is one of a rotated set when another file of its folder has
    // the same base name: counted once per (folder, base), not pairwise, so
    // a folder of thousands of files costs no more than their sort.
    let keys: Vec<(Option<PathBuf>, String)> = inputs
        .iter()
        .map(|input| {
            let name = input.path.file_name().unwrap_or_default().to_string_lossy();
            (
                input.path.parent().map(Path::to_path_buf),
                rotation(&name).0,
            )
        })
        .collect();
    let mut members: HashMap<&(Option<PathBuf>, String), usize> = HashMap::new();
    for key in &keys {
        *members.entry(key).or_default() += 1;
    }
    for (input, key) in inputs.iter_mut().zip(&keys) {
        if members[key] > 1 {
            input.rotated_set = Some(key.1.clone());
        }
    }
    (inputs, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_sets_come_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "auth.log",
            "auth.log.1",
            "auth.log.2.gz",
            "access.log",
            ".hidden",
        ] {
            std::fs::write(dir.path().join(name), "x\n").unwrap();
        }
        let (inputs, errors) =
            discover(&[dir.path().to_path_buf(), dir.path().join("missing.log")]);
        let names: Vec<String> = inputs
            .iter()
            .map(|i| i.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["access.log", "auth.log.2.gz", "auth.log.1", "auth.log"]
        );
        assert_eq!(inputs[1].rotated_set.as_deref(), Some("auth.log"));
        assert_eq!(inputs[0].rotated_set, None);
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn a_folder_of_thousands_of_files_finds_its_one_rotated_set() {
        // Thousands of files: pairwise set detection made this quadratic.
        let dir = tempfile::tempdir().unwrap();
        for i in 0..3000 {
            std::fs::write(dir.path().join(format!("host{i}.log")), "x\n").unwrap();
        }
        std::fs::write(dir.path().join("host7.log.1"), "x\n").unwrap();
        let (inputs, _) = discover(&[dir.path().to_path_buf()]);
        assert_eq!(inputs.len(), 3001);
        let in_sets: Vec<&str> = inputs
            .iter()
            .filter_map(|i| i.rotated_set.as_deref())
            .collect();
        assert_eq!(in_sets, ["host7.log", "host7.log"]);
    }
}
