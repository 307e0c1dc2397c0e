//! The database the commands reading and working stored events and
//! alerts work on (`alerts`, `events`, `export`, `stats`, `prune`,
//! `suppress`, `dashboard`, `serve`, and `hunt` for its suppressions),
//! chosen by `--db` (or `RAMPART_DB`): a file is the embedded SQLite
//! store, a `clickhouse://host:port/database` address a ClickHouse server.

use std::path::Path;

use anyhow::{bail, Context};
use rampart_clickhouse::ClickHouse;
use rampart_store::{Backend, Intake, Store, StoreError};

/// Whether `db` names a ClickHouse database.
fn clickhouse(db: &Path) -> Option<&str> {
    db.to_str().filter(|d| rampart_clickhouse::is_address(d))
}

/// Whether `db` names a server rather than a file.
pub fn is_server(db: &Path) -> bool {
    clickhouse(db).is_some()
}

/// Opens the database `db` names; a file must exist already.
pub fn open(db: &Path) -> anyhow::Result<Box<dyn Backend>> {
    if clickhouse(db).is_none() && !db.exists() {
        bail!(
            "no database at {} (run `rampart ingest` first)",
            db.display()
        );
    }
    connect(db).context("cannot open the database")
}

/// Opens (a file: creating) the database `db` names.
pub fn connect(db: &Path) -> Result<Box<dyn Backend>, StoreError> {
    Ok(intake(db)?)
}

/// Opens (a file: creating) the database `db` names, for `ingest` to
/// write into.
pub fn intake(db: &Path) -> Result<Box<dyn Intake>, StoreError> {
    Ok(match clickhouse(db) {
        Some(url) => Box::new(ClickHouse::open(url)?),
        None => Box::new(Store::open(db)?),
    })
}

/// The database as messages name it (a ClickHouse address without its
/// password).
pub fn name(db: &Path) -> String {
    let text = db.display().to_string();
    match text.strip_prefix("clickhouse://") {
        Some(rest) => match rest.rsplit_once('@') {
            Some((login, at)) => {
                let user = login.split(':').next().unwrap_or_default();
                format!("clickhouse://{user}@{at}")
            }
            None => text,
        },
        None => text,
    }
}
