//! Schema migrations, applied in order. A migration is never edited once
//! released; changes come as a new one at the end.

use rusqlite::Connection;

use crate::StoreError;

/// The migrations; the schema version is how many have run.
const MIGRATIONS: &[&str] = &[
    // 1: indicators of compromise.
    "CREATE TABLE iocs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        source TEXT NOT NULL,
        confidence INTEGER,
        tags TEXT NOT NULL DEFAULT '[]',
        first_seen TEXT,
        last_seen TEXT,
        expires TEXT,
        active INTEGER NOT NULL DEFAULT 1,
        added TEXT NOT NULL,
        updated TEXT NOT NULL,
        UNIQUE (kind, value, source)
    );
    CREATE INDEX iocs_value ON iocs (value);",
    // 2: VirusTotal answers kept across runs, and requests sent per day.
    "CREATE TABLE vt_cache (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        fetched TEXT NOT NULL,
        found INTEGER NOT NULL,
        answer TEXT,
        PRIMARY KEY (kind, value)
    );
    CREATE TABLE vt_usage (
        day TEXT PRIMARY KEY,
        requests INTEGER NOT NULL
    );",
    // 3: feeds refreshed by URL, with the last good copy of each.
    "CREATE TABLE feeds (
        name TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        body TEXT,
        fetched TEXT,
        last_attempt TEXT,
        last_error TEXT
    );",
];

/// Brings the schema up to date.
pub fn run(conn: &mut Connection) -> Result<(), StoreError> {
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError(format!(
            "the database is at schema version {version}, newer than this rampart knows ({}); upgrade rampart",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .map_err(|e| StoreError(format!("migration {}: {e}", i + 1)))?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::Store;

    #[test]
    fn a_new_file_is_brought_to_the_latest_version_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            super::MIGRATIONS.len() as u32
        );
        drop(store);
        // Opening again runs nothing and keeps the version.
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            super::MIGRATIONS.len() as u32
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        drop(Store::open(&path).unwrap());
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = Store::open(&path).unwrap_err().to_string();
        assert!(err.contains("newer than this rampart knows"), "{err}");
    }
}
