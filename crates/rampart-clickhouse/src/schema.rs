//! The tables, in SQL that ClickHouse 18.16 and today's releases both run.
//!
//! - `events`: one row per event, partitioned by the day of its own time,
//!   so retention drops whole days (18.16 has no TTL). Its hot fields are
//!   columns; every other field of its JSON is in `keys` with its text in
//!   `vals`, its number in `nums` (where `numeric` says it holds one) and,
//!   when it is an address, a key that sorts as addresses do in `addrs`,
//!   so a search on any field reads arrays, not JSON (18.16 cannot read
//!   nested JSON). A `ReplacingMergeTree` keyed by time and id: an event
//!   sent twice is one row once merged, and before that reads count it
//!   once (`uniqExact(id)`, `LIMIT 1 BY id`). Not `FINAL`: in 18.16 it
//!   reads every column a query names through one merging stream, seven
//!   times slower, and over the memory limit with the events' JSON at a
//!   million events.
//! - `alerts`: one row per alert id, the newest version (`updated`)
//!   winning, so an alert raised again as its window goes on replaces
//!   itself. Its triage is not in it, so detection never undoes triage.
//! - `alert_history`: the triage steps; an alert's status and assignee are
//!   those of its latest steps that set them.
//! - `suppressions`: groups silenced from triage, one row per id (made
//!   from the rule and the group), its latest version winning; a removed
//!   one is a version marked `removed`.
//! - `ingest_state`, `dead_letters`, `runs`: what `ingest` keeps beside
//!   the events to go on from its last commit (see `intake`), the lines
//!   it could not read, and the record of its runs.
//!
//! Each change of schema is a numbered migration, recorded in
//! `schema_versions` once run.

use rampart_store::StoreError;

use crate::client::Client;

/// The migrations, in order; each runs once.
const MIGRATIONS: [&str; 3] = [
    "
    CREATE TABLE IF NOT EXISTS events (
        day Date,
        time Int64,
        timed UInt8,
        id Int64,
        dataset String,
        host String,
        source_ip String,
        destination_ip String,
        user_name String,
        event_code String,
        severity Nullable(Int64),
        level String,
        protocol String,
        threat Nullable(Int64),
        text String,
        keys Array(String),
        vals Array(String),
        nums Array(Float64),
        numeric Array(UInt8),
        addrs Array(String),
        doc String,
        stored Int64
    ) ENGINE = ReplacingMergeTree PARTITION BY day ORDER BY (time, id);
    CREATE TABLE IF NOT EXISTS alerts (
        id String,
        rule_id String,
        title String,
        severity UInt8,
        time Int64,
        timed UInt8,
        first_seen Int64,
        last_seen Int64,
        count UInt64,
        host String,
        source_ip String,
        dataset String,
        protocol String,
        doc String,
        events Array(Int64),
        updated Int64
    ) ENGINE = ReplacingMergeTree(updated) ORDER BY id;
    CREATE TABLE IF NOT EXISTS alert_history (
        alert String,
        time Int64,
        user String,
        action String,
        status String,
        assignee String,
        note Nullable(String)
    ) ENGINE = MergeTree ORDER BY (alert, time)
",
    "
    CREATE TABLE IF NOT EXISTS suppressions (
        id Int64,
        rule_id String,
        grp String,
        alert String,
        user String,
        note Nullable(String),
        created Int64,
        removed UInt8,
        version Int64
    ) ENGINE = ReplacingMergeTree(version) ORDER BY id
",
    "
    CREATE TABLE IF NOT EXISTS ingest_state (
        kind String,
        k1 String,
        k2 String,
        text String,
        n1 Int64,
        n2 Int64,
        gone UInt8,
        seq UInt64
    ) ENGINE = ReplacingMergeTree(seq) ORDER BY (kind, k1, k2);
    CREATE TABLE IF NOT EXISTS dead_letters (
        id Int64,
        source Int64,
        line UInt64,
        reason String,
        text String,
        stored Int64
    ) ENGINE = ReplacingMergeTree ORDER BY id;
    CREATE TABLE IF NOT EXISTS runs (
        id Int64,
        command String,
        paths String,
        rules String,
        started Int64,
        finished Int64,
        events UInt64,
        dead UInt64,
        alerts UInt64,
        version Int64
    ) ENGINE = ReplacingMergeTree(version) ORDER BY id
",
];

/// Creates the database if needed and runs the migrations it has not run.
pub fn migrate(client: &Client) -> Result<(), StoreError> {
    client.execute_outside(&format!(
        "CREATE DATABASE IF NOT EXISTS {}",
        client.database
    ))?;
    client.execute(
        "CREATE TABLE IF NOT EXISTS schema_versions (version UInt32, applied Int64)
         ENGINE = MergeTree ORDER BY version",
    )?;
    #[derive(serde::Deserialize)]
    struct Version {
        v: u32,
    }
    let done = client
        .rows::<Version>("SELECT max(version) AS v FROM schema_versions")?
        .first()
        .map_or(0, |r| r.v) as usize;
    if done > MIGRATIONS.len() {
        return Err(StoreError(format!(
            "{} was written by a newer rampart (schema {done}; this one knows {})",
            client.describe(),
            MIGRATIONS.len()
        )));
    }
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(done) {
        // One statement per request: the HTTP interface runs one.
        for statement in migration
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            client.execute(statement)?;
        }
        let row = serde_json::json!({
            "version": i + 1,
            "applied": jiff::Timestamp::now().as_microsecond(),
        });
        client.insert("schema_versions", format!("{row}\n").as_bytes())?;
    }
    Ok(())
}
