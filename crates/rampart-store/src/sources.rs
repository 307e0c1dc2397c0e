//! The files events came from, known by their first bytes rather than by
//! their names, so that a rotated file (renamed, compressed) is known
//! again wherever it now lies, and how much of each has been stored.
//!
//! A file is fingerprinted by its first [`FINGERPRINT_BYTES`] bytes (after
//! decompression), or all of it while it is shorter. A short file that has
//! grown is found by the start it had, and is known by its longer start
//! from then on. Two files whose first 4 KiB are the same are taken for one
//! file: a rotated copy next to the log it came from is not read twice.

use rusqlite::{params, OptionalExtension};
use xxhash_rust::xxh3::xxh3_64;

use crate::{now_micros, Store, StoreError};

/// Bytes of a file's start that identify it.
pub const FINGERPRINT_BYTES: usize = 4096;

/// A file known to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Its id, part of every stored event's id.
    pub id: i64,
    /// Where it was last read.
    pub path: String,
    /// Events of it stored: its first `events`.
    pub events: u64,
    /// Unreadable lines of it kept: its first `dead`.
    pub dead: u64,
    /// What it keeps to read on from where it stood, when it is not a
    /// file (see `Commit::states`).
    pub state: Option<Vec<u8>>,
}

/// The hash a file's start is known by.
pub fn head_hash(bytes: &[u8]) -> i64 {
    // SQLite integers are signed; the bits are what matter.
    xxh3_64(bytes) as i64
}

impl Store {
    /// The file that starts with `head` (a file's first
    /// [`FINGERPRINT_BYTES`], or all of it when shorter), now at `path`:
    /// the one stored under that start, or under a shorter start of it,
    /// or else a new one.
    pub fn source(&mut self, head: &[u8], path: &str) -> Result<Source, StoreError> {
        let head = &head[..head.len().min(FINGERPRINT_BYTES)];
        let tx = self.conn.transaction()?;
        let mut lengths: Vec<i64> = tx
            .prepare_cached(
                "SELECT DISTINCT fp_len FROM sources WHERE fp_len < ?1 ORDER BY fp_len DESC",
            )?
            .query_map([head.len() as i64], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        lengths.insert(0, head.len() as i64);
        let mut found = None;
        for len in lengths {
            let Some(start) = usize::try_from(len).ok().and_then(|l| head.get(..l)) else {
                continue;
            };
            let row = tx
                .prepare_cached(
                    "SELECT id, path, events, dead, state FROM sources WHERE fp_len = ?1 AND fp_hash = ?2",
                )?
                .query_row(params![len, head_hash(start)], |r| {
                    Ok(Source {
                        id: r.get(0)?,
                        path: r.get(1)?,
                        events: r.get::<_, i64>(2)? as u64,
                        dead: r.get::<_, i64>(3)? as u64,
                        state: r.get(4)?,
                    })
                })
                .optional()?;
            if row.is_some() {
                found = row;
                break;
            }
        }
        let now = now_micros();
        let source = match found {
            Some(mut source) => {
                tx.execute(
                    "UPDATE sources SET fp_len = ?2, fp_hash = ?3, path = ?4, last_read = ?5 WHERE id = ?1",
                    params![source.id, head.len() as i64, head_hash(head), path, now],
                )?;
                source.path = path.to_owned();
                source
            }
            None => {
                tx.execute(
                    "INSERT INTO sources (fp_len, fp_hash, path, first_read, last_read)
                     VALUES (?1, ?2, ?3, ?4, ?4)",
                    params![head.len() as i64, head_hash(head), path, now],
                )?;
                Source {
                    id: tx.last_insert_rowid(),
                    path: path.to_owned(),
                    events: 0,
                    dead: 0,
                    state: None,
                }
            }
        };
        tx.commit()?;
        Ok(source)
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;

    #[test]
    fn a_file_is_known_by_its_start_wherever_it_lies_and_as_it_grows() {
        let mut store = Store::in_memory().unwrap();
        let a = store.source(b"line one\nline two\n", "auth.log").unwrap();
        assert_eq!((a.events, a.dead), (0, 0));
        // Renamed by rotation: the same file.
        let moved = store.source(b"line one\nline two\n", "auth.log.1").unwrap();
        assert_eq!(moved.id, a.id);
        assert_eq!(moved.path, "auth.log.1");
        // Grown: found by the start it had, then known by its longer start.
        let grown = store
            .source(b"line one\nline two\nline three\n", "auth.log.1")
            .unwrap();
        assert_eq!(grown.id, a.id);
        let again = store
            .source(b"line one\nline two\nline three\n", "x")
            .unwrap();
        assert_eq!(again.id, a.id);
        // Another file is another source.
        let other = store.source(b"other\n", "b.log").unwrap();
        assert_ne!(other.id, a.id);
        // A long file is known by its first 4 KiB.
        let long = vec![b'x'; 10_000];
        let l = store.source(&long, "big.log").unwrap();
        let mut longer = long.clone();
        longer.extend_from_slice(b"more\n");
        assert_eq!(store.source(&longer, "big.log").unwrap().id, l.id);
        let known: i64 = store
            .conn
            .query_row("SELECT count(*) FROM sources", [], |r| r.get(0))
            .unwrap();
        assert_eq!(known, 3);
    }
}
