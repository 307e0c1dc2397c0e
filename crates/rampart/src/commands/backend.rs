//! The database the reading commands (`alerts`, `events`, `export`,
//! `stats`) work on, chosen by `--db` (or `RAMPART_DB`): a file is the
//! embedded SQLite store, a `clickhouse://host:port/database` address a
//! ClickHouse server.

use std::path::Path;

use anyhow::{bail, Context};
use rampart_clickhouse::ClickHouse;
use rampart_store::{Backend, Store};

/// Opens the database `db` names; a file must exist already.
pub fn open(db: &Path) -> anyhow::Result<Box<dyn Backend>> {
    if let Some(url) = db.to_str().filter(|d| rampart_clickhouse::is_address(d)) {
        let house = ClickHouse::open(url).context("cannot open the ClickHouse database")?;
        return Ok(Box::new(house));
    }
    if !db.exists() {
        bail!(
            "no database at {} (run `rampart ingest` first)",
            db.display()
        );
    }
    Ok(Box::new(
        Store::open(db).context("cannot open the database")?,
    ))
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
