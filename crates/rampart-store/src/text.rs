//! The full-text index, kept in a file of its own beside the database
//! (`<database>-text`), so that while an ingest runs a thread of its own
//! tokenises the events of one commit as the rows of the next are written:
//! indexing each event's text is about a third of what storing it costs,
//! and SQLite writes a file from one thread at a time. Every connection
//! attaches the file as `text`, so that queries name its tables as they
//! would the database's own.
//!
//! The two files commit apart, and an ingest commits the index after the
//! rows, so the index may fall behind them. It keeps, per source, how many
//! of the source's events it holds, and adds only events past those: an
//! event is indexed once however often it is handed over. What it lacks
//! (after a crash between the two commits) is indexed from the stored
//! events' JSON before the next ingest writes, and a file that is not this
//! database's (missing, or another database's: each keeps a token that
//! must match) is built again from them on open.

use std::collections::HashMap;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use rusqlite::{params, Connection, DatabaseName, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use crate::events::NewEvents;
use crate::{file_of, write_ahead, StoreError, PER_SOURCE};

/// The attached file's schema.
const SCHEMA: &str = "
    CREATE VIRTUAL TABLE text.events_text USING fts5 (
        text, content = '', contentless_delete = 1, detail = none
    );
    -- How many events hold each word: a search picks its plan by it.
    CREATE VIRTUAL TABLE text.events_vocab USING fts5vocab (events_text, 'row');
    -- Per source, how many of its events (from the first) are indexed.
    CREATE TABLE text.indexed (source INTEGER PRIMARY KEY, through INTEGER NOT NULL);
    -- The token of the database this index belongs to.
    CREATE TABLE text.owner (token INTEGER NOT NULL);";

/// The attached file's name in SQL.
const TEXT: DatabaseName<'static> = DatabaseName::Attached("text");

/// How a text goes into the index.
const INSERT: &str = "INSERT INTO text.events_text (rowid, text) VALUES (?1, ?2)";

/// Texts that may wait for the indexing thread: a commit's each.
const WAITING: usize = 2;

/// Attaches the index of the database `conn` has open (in memory for a
/// store in memory), making it, or making it again, when it is not this
/// database's.
pub(crate) fn attach(conn: &mut Connection) -> Result<(), StoreError> {
    let path = match file_of(conn) {
        Some(main) => format!("{main}-text"),
        None => ":memory:".to_owned(),
    };
    conn.execute("ATTACH DATABASE ?1 AS text", [&path])
        .map_err(|e| StoreError(format!("cannot open {path}: {e}")))?;
    // Settings a new file takes, before its first table.
    conn.pragma_update(Some(TEXT), "page_size", 8192)?;
    conn.pragma_update(Some(TEXT), "auto_vacuum", "INCREMENTAL")?;
    write_ahead(conn, TEXT)?;
    conn.pragma_update(Some(TEXT), "synchronous", "NORMAL")?;
    if !owned(conn)? {
        // Under the write lock, looked at again: another connection may
        // be making it at this moment.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !owned(&tx)? {
            if !made(&tx)? {
                tx.execute_batch(SCHEMA)?;
            }
            tx.execute_batch(
                "INSERT INTO text.events_text (events_text) VALUES ('delete-all');
                 DELETE FROM text.indexed;
                 DELETE FROM text.owner;
                 INSERT INTO text.owner (token) SELECT token FROM text_index;",
            )?;
            catch_up(&tx)?;
        }
        tx.commit()?;
    }
    Ok(())
}

/// Whether the attached file has the index's tables (the last of them).
fn made(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT count(*) > 0 FROM text.sqlite_master WHERE name = 'owner'",
        [],
        |r| r.get(0),
    )?)
}

/// Whether the attached index is this database's.
fn owned(conn: &Connection) -> Result<bool, StoreError> {
    if !made(conn)? {
        return Ok(false);
    }
    Ok(conn.query_row(
        "SELECT count(*) > 0 FROM text.owner JOIN text_index USING (token)",
        [],
        |r| r.get(0),
    )?)
}

/// Indexes the events each source has stored that the index lacks. (An
/// index may also be ahead of the rows, when both were written in one
/// transaction, which is atomic in each file but not across them: the
/// events lost come again with the next ingest, and until then their
/// words find no rows.)
fn catch_up(conn: &Connection) -> Result<(), StoreError> {
    let sources: Vec<(i64, i64, i64)> = conn
        .prepare(
            "SELECT s.id, s.events, coalesce(i.through, 0)
             FROM sources s LEFT JOIN text.indexed i ON i.source = s.id
             WHERE s.events > coalesce(i.through, 0)",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (source, events, through) in sources {
        fill(conn, source, through, events)?;
        set_through(conn, source, events)?;
    }
    Ok(())
}

/// Indexes the stored events `from..to` of `source` from their JSON.
fn fill(conn: &Connection, source: i64, from: i64, to: i64) -> Result<(), StoreError> {
    let base = source * PER_SOURCE;
    let mut docs = conn.prepare("SELECT id, doc FROM events WHERE id >= ?1 AND id < ?2")?;
    let mut add = conn.prepare_cached(INSERT)?;
    let mut rows = docs.query(params![base + from, base + to])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let doc: String = row.get(1)?;
        if let Some(text) = text_of(&doc) {
            add.execute(params![id, text])?;
        }
    }
    Ok(())
}

/// What an event's JSON is indexed by: its `message`, or where it has no
/// text one, its original line (as [`NewEvents::push`] chose).
fn text_of(doc: &str) -> Option<String> {
    let doc: Value = serde_json::from_str(doc).ok()?;
    // A field shadowed by fields under it keeps its value under `_value`.
    let leaf = |v: &Value| match v {
        Value::Object(o) => o.get("_value").and_then(Value::as_str).map(str::to_owned),
        v => v.as_str().map(str::to_owned),
    };
    doc.get("message")
        .and_then(leaf)
        .filter(|m| !m.is_empty())
        .or_else(|| doc.get("event")?.get("original").and_then(leaf))
}

fn set_through(conn: &Connection, source: i64, through: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO text.indexed (source, through) VALUES (?1, ?2)
         ON CONFLICT (source) DO UPDATE SET through = excluded.through",
    )?
    .execute(params![source, through])?;
    Ok(())
}

/// Indexes `texts` (event ids with their texts, each source's in order),
/// those past what each source has indexed; a gap before them (texts that
/// never came) is filled from the stored events.
pub(crate) fn add<'t>(
    conn: &Connection,
    texts: impl Iterator<Item = (i64, &'t str)>,
) -> Result<(), StoreError> {
    let mut through: HashMap<i64, i64> = HashMap::new();
    let mut insert = conn.prepare_cached(INSERT)?;
    let mut indexed = conn.prepare_cached("SELECT through FROM text.indexed WHERE source = ?1")?;
    for (id, text) in texts {
        let (source, ordinal) = (id.div_euclid(PER_SOURCE), id.rem_euclid(PER_SOURCE));
        let next = match through.get(&source) {
            Some(next) => *next,
            None => {
                let next = indexed
                    .query_row([source], |r| r.get(0))
                    .optional()?
                    .unwrap_or(0);
                through.insert(source, next);
                next
            }
        };
        if ordinal < next {
            continue;
        }
        if ordinal > next {
            fill(conn, source, next, ordinal)?;
        }
        insert.execute(params![id, text])?;
        through.insert(source, ordinal + 1);
    }
    for (source, next) in through {
        set_through(conn, source, next)?;
    }
    Ok(())
}

/// A commit's texts, copied for the indexing thread: put end to end in
/// one string, each ending where `ends` says.
#[derive(Default)]
struct Texts {
    ids: Vec<i64>,
    ends: Vec<usize>,
    text: String,
}

impl Texts {
    fn fill(&mut self, events: &NewEvents) {
        for (id, text) in events.texts() {
            self.ids.push(id);
            self.text.push_str(text);
            self.ends.push(self.text.len());
        }
    }

    fn iter(&self) -> impl Iterator<Item = (i64, &str)> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        self.ids
            .iter()
            .zip(starts.zip(self.ends.iter().copied()))
            .map(|(id, (start, end))| (*id, &self.text[start..end]))
    }

    fn clear(&mut self) {
        self.ids.clear();
        self.ends.clear();
        self.text.clear();
    }
}

/// The thread indexing what an ingest commits, for as long as it writes.
pub(crate) struct Indexer {
    tx: Option<SyncSender<Texts>>,
    /// Texts indexed, emptied, to be filled again.
    spare: Receiver<Texts>,
    thread: Option<JoinHandle<Result<(), StoreError>>>,
}

impl Indexer {
    /// Starts the thread, with a connection of its own to the database at
    /// `path`; it first indexes what the index lacks.
    pub fn start(path: &str) -> Result<Indexer, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        attach(&mut conn)?;
        // The index's log copied back every 32 MiB.
        conn.pragma_update(Some(TEXT), "wal_autocheckpoint", 4096)?;
        let (tx, rx) = sync_channel::<Texts>(WAITING);
        let (give_back, spare) = sync_channel::<Texts>(WAITING + 1);
        let thread = std::thread::Builder::new()
            .name("rampart-text".into())
            .spawn(move || -> Result<(), StoreError> {
                let tx = conn.transaction()?;
                catch_up(&tx)?;
                tx.commit()?;
                while let Ok(first) = rx.recv() {
                    let mut waiting = vec![first];
                    waiting.extend(rx.try_iter());
                    let tx = conn.transaction()?;
                    add(&tx, waiting.iter().flat_map(Texts::iter))?;
                    tx.commit()?;
                    for mut texts in waiting {
                        texts.clear();
                        let _ = give_back.try_send(texts);
                    }
                }
                conn.query_row("PRAGMA text.wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
                Ok(())
            })
            .map_err(|e| StoreError(format!("cannot start the indexing thread: {e}")))?;
        Ok(Indexer {
            tx: Some(tx),
            spare,
            thread: Some(thread),
        })
    }

    /// Hands the texts of `events`, committed, to the thread; waits while
    /// it is behind. False once the thread has stopped (`finish` says why).
    pub fn send(&self, events: &NewEvents) -> bool {
        let mut texts = self.spare.try_recv().unwrap_or_default();
        texts.fill(events);
        self.tx.as_ref().is_some_and(|tx| tx.send(texts).is_ok())
    }

    /// Waits until everything handed over is indexed; the thread's error.
    pub fn finish(mut self) -> Result<(), StoreError> {
        match self.stop() {
            Some(Ok(result)) => result,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Ok(()),
        }
    }

    fn stop(&mut self) -> Option<std::thread::Result<Result<(), StoreError>>> {
        self.tx = None;
        self.thread.take().map(JoinHandle::join)
    }
}

impl Drop for Indexer {
    fn drop(&mut self) {
        // What was handed over is indexed; what was not, the next ingest
        // indexes from the stored events.
        let _ = self.stop();
    }
}

#[cfg(test)]
mod tests {
    use rampart_event::{Event, Origin};

    use crate::{Commit, Store};

    /// Commits `lines` as the next events of `source`, with its progress.
    fn commit(store: &mut Store, source: i64, first: u64, lines: &[&str]) {
        let mut commit = Commit::default();
        for (i, line) in lines.iter().enumerate() {
            let ordinal = first + i as u64;
            let event = Event::new(Origin::new("a.log", ordinal + 1), *line);
            commit.events.push(source, ordinal, &event);
        }
        commit
            .progress
            .insert(source, (first + lines.len() as u64, 0));
        store.commit(&mut commit).unwrap();
    }

    /// Events holding `word`, and the index's count of them.
    fn found(store: &Store, word: &str) -> (i64, i64) {
        let conn = &store.conn;
        let rows = conn
            .query_row(
                "SELECT count(*) FROM events WHERE id IN
                 (SELECT rowid FROM events_text WHERE events_text MATCH ?1)",
                [word],
                |r| r.get(0),
            )
            .unwrap();
        let counted = conn
            .query_row(
                "SELECT coalesce(sum(doc), 0) FROM events_vocab WHERE term = ?1",
                [word],
                |r| r.get(0),
            )
            .unwrap();
        (rows, counted)
    }

    #[test]
    fn what_an_ingest_commits_is_indexed_apart_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("r.db")).unwrap();
        let source = store.source(b"a", "a.log").unwrap().id;
        store.writing_starts().unwrap();
        commit(&mut store, source, 0, &["alpha beta", "beta gamma"]);
        commit(&mut store, source, 2, &["gamma alpha"]);
        // Handed over again (a re-run after a crash): indexed once.
        commit(&mut store, source, 1, &["beta gamma", "gamma alpha"]);
        store.writing_done().unwrap();
        assert_eq!(found(&store, "alpha"), (2, 2));
        assert_eq!(found(&store, "beta"), (2, 2));
        assert_eq!(found(&store, "gamma"), (2, 2));
        assert!(dir.path().join("r.db-text").exists());
    }

    #[test]
    fn an_index_behind_its_rows_catches_up_from_the_stored_events() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let mut store = Store::open(&path).unwrap();
        let source = store.source(b"a", "a.log").unwrap().id;
        commit(&mut store, source, 0, &["alpha", "beta", "alpha gamma"]);
        // As after a crash between the rows' commit and the index's: the
        // index holds the first event only.
        store
            .conn
            .execute_batch(&format!(
                "INSERT INTO text.events_text (events_text) VALUES ('delete-all');
                 INSERT INTO text.events_text (rowid, text) VALUES ({}, 'alpha');
                 UPDATE text.indexed SET through = 1;",
                source * crate::PER_SOURCE
            ))
            .unwrap();
        assert_eq!(found(&store, "alpha"), (1, 1));
        // The next ingest catches up before it writes, then goes on.
        store.writing_starts().unwrap();
        commit(&mut store, source, 3, &["delta alpha"]);
        store.writing_done().unwrap();
        assert_eq!(found(&store, "alpha"), (3, 3));
        assert_eq!(found(&store, "gamma"), (1, 1));
        assert_eq!(found(&store, "delta"), (1, 1));
    }

    #[test]
    fn texts_that_never_came_are_filled_from_the_stored_events() {
        let mut store = Store::in_memory().unwrap();
        let source = store.source(b"a", "a.log").unwrap().id;
        commit(&mut store, source, 0, &["alpha"]);
        // Rows stored with no text handed over.
        let mut rows = Commit::default();
        for (ordinal, line) in [(1, "beta"), (2, "alpha beta")] {
            let event = Event::new(Origin::new("a.log", ordinal + 1), line);
            rows.events.push(source, ordinal, &event);
        }
        let tx = store.conn.transaction().unwrap();
        crate::events::insert(&tx, &rows.events, 0).unwrap();
        tx.commit().unwrap();
        assert_eq!(found(&store, "beta"), (0, 0));
        commit(&mut store, source, 3, &["gamma"]);
        assert_eq!(found(&store, "alpha"), (2, 2));
        assert_eq!(found(&store, "beta"), (2, 2));
        assert_eq!(found(&store, "gamma"), (1, 1));
    }

    #[test]
    fn an_index_file_missing_or_of_another_database_is_built_again() {
        let dir = tempfile::tempdir().unwrap();
        let (one, two) = (dir.path().join("one.db"), dir.path().join("two.db"));
        for (path, line) in [(&one, "alpha beta"), (&two, "gamma")] {
            let mut store = Store::open(path).unwrap();
            let source = store.source(line.as_bytes(), "a.log").unwrap().id;
            commit(&mut store, source, 0, &[line, line]);
        }
        let text = |p: &std::path::Path| format!("{}-text", p.display());
        std::fs::remove_file(text(&one)).unwrap();
        let store = Store::open(&one).unwrap();
        assert_eq!(found(&store, "alpha"), (2, 2));
        drop(store);
        // Another database's index, copied over this one's.
        std::fs::copy(text(&one), text(&two)).unwrap();
        let store = Store::open(&two).unwrap();
        assert_eq!(found(&store, "alpha"), (0, 0));
        assert_eq!(found(&store, "gamma"), (2, 2));
    }

    #[test]
    fn a_message_is_indexed_from_the_stored_json_as_when_it_was_stored() {
        let mut event = Event::new(Origin::new("a.log", 1), "the whole line");
        assert_eq!(
            super::text_of(event.to_json_raw().get()).as_deref(),
            Some("the whole line")
        );
        event.set("message", "only the message");
        assert_eq!(
            super::text_of(event.to_json_raw().get()).as_deref(),
            Some("only the message")
        );
        // A message with fields under it keeps its value apart.
        event.set("message.id", "7");
        assert_eq!(
            super::text_of(event.to_json_raw().get()).as_deref(),
            Some("only the message")
        );
    }
}
