//! The files a store has read, each known by its first bytes (so a
//! renamed or rotated file is the same file) and read on from where the
//! store left it; and what tells that a followed file changed. Shared by
//! `ingest` (with `--follow`) and the file sources of `rampart run`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rampart_io::{fingerprint, Input, Resume};
use rampart_store::{Intake, Source, StoreError, FINGERPRINT_BYTES};

/// Inputs ready to read on from where the store left them.
#[derive(Debug, Default)]
pub struct Placed {
    /// The inputs, each with how much of it to pass over.
    pub inputs: Vec<Input>,
    /// The store's source of each input, in the same order.
    pub sources: Vec<Source>,
    /// Inputs that are another input again (same first bytes).
    pub duplicates: Vec<PathBuf>,
    /// Inputs that could not be read, with why.
    pub unreadable: Vec<String>,
}

/// Knows each file of `found` by its first bytes: one already stored,
/// under this name or another (a rotated copy), is read on from where it
/// was left.
pub fn place(store: &mut dyn Intake, found: Vec<Input>) -> Result<Placed, StoreError> {
    let mut placed = Placed::default();
    let mut seen = HashSet::new();
    for mut input in found {
        let head = match fingerprint::head(&input.path, FINGERPRINT_BYTES) {
            Ok(head) => head,
            Err(e) => {
                placed
                    .unreadable
                    .push(format!("{}: {e}", input.path.display()));
                continue;
            }
        };
        let source = store.source(&head, &input.path.display().to_string())?;
        if !seen.insert(source.id) {
            placed.duplicates.push(input.path);
            continue;
        }
        input.resume = Resume {
            events: source.events,
            dead: source.dead,
        };
        placed.inputs.push(input);
        placed.sources.push(source);
    }
    Ok(placed)
}

/// A file's size and modification time: what tells that it changed.
pub type Seen = (u64, Option<std::time::SystemTime>);

/// What `path` is now, if it is there.
pub fn seen_now(path: &Path) -> Option<Seen> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()))
}

/// The database's own files (a database in a folder being read).
pub fn own_files(db: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm", "-journal", ".lock"]
        .iter()
        .filter_map(|suffix| {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            std::fs::canonicalize(name).ok()
        })
        .collect()
}

/// Whether `path` is one of `own` (see [`own_files`]).
pub fn is_own(own: &[PathBuf], path: &Path) -> bool {
    std::fs::canonicalize(path).is_ok_and(|p| own.contains(&p))
}
