//! rampart's embedded store: one SQLite file (WAL) holding events, alerts
//! and their triage, the files they came from with how far each was read,
//! indicators, feeds and VirusTotal answers, and beside it a second file
//! holding the events' full-text index (see `text`). The schema is
//! versioned: each migration runs once, in order, inside a transaction,
//! and the file records how far it has come (`PRAGMA user_version`), so an
//! old database opens with a new rampart and a new one is refused by an
//! old rampart.

mod alerts;
mod backend;
mod checkpoint;
mod commit;
mod dashboard;
mod destinations;
mod events;
mod facets;
mod feeds;
mod intake;
mod iocs;
mod migrations;
mod overview;
mod period;
mod query;
mod retention;
mod runs;
mod sources;
mod state;
mod suppressions;
#[cfg(test)]
mod testing;
mod text;
mod vt_cache;

use std::path::Path;

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, DatabaseName};

pub use alerts::{AlertFilter, AlertOrder, Status, Step, StoredAlert, Triage};
pub use backend::Backend;
pub use commit::{Commit, Committed, NewAlert};
pub use dashboard::{Board, Choices, MaliciousEvent, Slice, SliceBars, MOST_CHOICES};
pub use events::{NewDead, NewEvents, PER_SOURCE, TEXT_COLUMNS};
pub use facets::{protocol, Facets};
pub use feeds::StoredFeed;
pub use intake::Intake;
pub use iocs::{ImportCounts, IocFilter, StoredIoc};
pub use overview::{bucket_for, Extent, Figures, OverviewFilter, Timeline, TopRule, MOST_BARS};
pub use period::{Period, DAY};
pub use query::{
    hot_column, like_pattern, parse as parse_query, time_of, words, ColumnKind, EventQuery, Expr,
    Filter, Op, QueryError, StoredEvent,
};
pub use retention::{Pruned, Stats};
pub use sources::{head_hash, Source, FINGERPRINT_BYTES};
pub use suppressions::{group_json, Beside, StoredSuppression, Triaged};
pub use vt_cache::CachedAnswer;

/// The file `conn` has open; none for a database in memory.
pub(crate) fn file_of(conn: &Connection) -> Option<&str> {
    conn.path().filter(|p| !p.is_empty())
}

/// Now, in microseconds since the epoch, as times are stored.
pub(crate) fn now_micros() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

/// Pages under which an old database is rewritten to give freed pages
/// back (100 MB of the 4 KiB pages older files have).
const SMALL_PAGES: i64 = 25_600;

/// An open store.
pub struct Store {
    conn: Connection,
    /// While an ingest writes: the threads copying the log back and
    /// indexing the text of what it commits.
    apart: Option<Apart>,
}

/// The threads a writing store keeps.
struct Apart {
    checkpointer: checkpoint::Checkpointer,
    indexer: text::Indexer,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.conn.path())
            .field("writing", &self.apart.is_some())
            .finish()
    }
}

/// A store error, with what was being done.
#[derive(Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(e.to_string())
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its
    /// schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::file_only(path)?;
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)
                .map_err(|e| StoreError(format!("cannot create {}: {e}", folder.display())))?;
        }
        let conn = Connection::open(path)
            .map_err(|e| StoreError(format!("cannot open {}: {e}", path.display())))?;
        Store::setup(conn).map_err(|e| StoreError(format!("{}: {}", path.display(), e.0)))
    }

    /// Refuses a `--db` that names a server (`clickhouse://...`) where a
    /// file is needed, before anything is made of it.
    pub fn file_only(path: &Path) -> Result<(), StoreError> {
        if path.to_string_lossy().contains("://") {
            return Err(StoreError(format!(
                "{} names a server, not a file: this keeps its data in the embedded store \
                 (--db FILE); a ClickHouse address serves ingest, alerts, events, export, stats, \
                 prune, dashboard and serve",
                path.display()
            )));
        }
        Ok(())
    }

    /// A store in memory, for tests and dry runs.
    pub fn in_memory() -> Result<Store, StoreError> {
        Store::setup(Connection::open_in_memory()?)
    }

    fn setup(conn: Connection) -> Result<Store, StoreError> {
        // Before anything else: another connection may be setting up the
        // same new file (a pipeline's sink and its sources), and the steps
        // below wait for it rather than fail.
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Freed pages go back to the disk when asked (`prune`). The setting
        // takes hold in a new file, or in a small one rewritten now (a
        // database of the release before the event store).
        // 8 KiB pages: a stored event is about a kilobyte, and ingest ran
        // 9 % faster into a 10 % smaller file than with 4 KiB (takes hold in
        // a new file only).
        conn.pragma_update(None, "page_size", 8192)?;
        let vacuum: i64 = conn.pragma_query_value(None, "auto_vacuum", |r| r.get(0))?;
        if vacuum != 2 {
            conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
            let pages: i64 = conn.pragma_query_value(None, "page_count", |r| r.get(0))?;
            if pages > 0 && pages < SMALL_PAGES {
                conn.execute_batch("VACUUM")?;
            }
        }
        write_ahead(&conn, DatabaseName::Main)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Indexes of a large store are written all over: 64 MiB of pages
        // kept in memory, and the write-ahead log copied back into the
        // database every 64 MiB rather than every 4, so that a page
        // changed by many commits is copied back once.
        conn.pragma_update(None, "cache_size", -65_536)?;
        conn.pragma_update(None, "wal_autocheckpoint", 16_384)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // `ip_in(address, 'net/len')`, for queries on address ranges.
        conn.create_scalar_function(
            "ip_in",
            2,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            |ctx| {
                let ip = ctx.get::<Option<String>>(0)?;
                let net = ctx.get::<String>(1)?;
                Ok(query::ip_in(ip.as_deref(), &net))
            },
        )?;
        facets::register(&conn)?;
        let mut store = Store { conn, apart: None };
        migrations::run(&mut store.conn)?;
        text::attach(&mut store.conn)?;
        Ok(store)
    }

    /// Every row `sql` selects, made into `T` by `row`.
    pub(crate) fn rows<T>(
        &self,
        sql: &str,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map([], row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The schema version the file is at.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}

/// Puts the file of `schema` in write-ahead-log mode. Changing the journal
/// mode needs the file to itself and fails at once, without waiting, while
/// another connection sets up the same new file (a pipeline's sink and its
/// sources): it is tried again for up to five seconds.
fn write_ahead(conn: &Connection, schema: DatabaseName<'_>) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    loop {
        match conn.pragma_update(Some(schema), "journal_mode", "WAL") {
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && started.elapsed() < std::time::Duration::from_secs(5) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            done => return Ok(done?),
        }
    }
}
