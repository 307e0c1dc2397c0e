//! Schema migrations, applied in order. A migration is never edited once
//! released; changes come as a new one at the end.

use rusqlite::{Connection, TransactionBehavior};

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
    // 4: events and alerts, the files they came from with how far each has
    // been read, the runs that stored them, and what analysts did. An
    // event's id is its source's id times 2^40 plus its place in the source,
    // so ids grow as a file is read and never depend on the run; rowids
    // also grow with the time events were stored, which retention uses.
    "CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        fp_len INTEGER NOT NULL,
        fp_hash INTEGER NOT NULL,
        path TEXT NOT NULL,
        format TEXT,
        events INTEGER NOT NULL DEFAULT 0,
        dead INTEGER NOT NULL DEFAULT 0,
        first_read INTEGER NOT NULL,
        last_read INTEGER NOT NULL,
        UNIQUE (fp_len, fp_hash)
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        time INTEGER,
        stored INTEGER NOT NULL,
        dataset TEXT,
        host TEXT,
        source_ip TEXT,
        destination_ip TEXT,
        user_name TEXT,
        event_code TEXT,
        severity INTEGER,
        line INTEGER,
        doc TEXT NOT NULL
    );
    CREATE INDEX events_time ON events (time);
    CREATE INDEX events_dataset ON events (dataset, time);
    CREATE INDEX events_host ON events (host, time) WHERE host IS NOT NULL;
    CREATE INDEX events_source_ip ON events (source_ip, time) WHERE source_ip IS NOT NULL;
    CREATE INDEX events_destination_ip ON events (destination_ip, time)
        WHERE destination_ip IS NOT NULL;
    CREATE INDEX events_user_name ON events (user_name, time) WHERE user_name IS NOT NULL;
    CREATE INDEX events_event_code ON events (event_code, time) WHERE event_code IS NOT NULL;
    CREATE VIRTUAL TABLE events_text USING fts5 (
        text, content = '', contentless_delete = 1, detail = none
    );
    CREATE TABLE event_counts (
        dataset TEXT NOT NULL,
        day INTEGER NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (dataset, day)
    ) WITHOUT ROWID;
    CREATE TABLE dead_letters (
        source INTEGER NOT NULL REFERENCES sources (id),
        ordinal INTEGER NOT NULL,
        line INTEGER NOT NULL,
        reason TEXT NOT NULL,
        text TEXT NOT NULL,
        stored INTEGER NOT NULL,
        PRIMARY KEY (source, ordinal)
    ) WITHOUT ROWID;
    CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        rule_id TEXT NOT NULL,
        title TEXT NOT NULL,
        severity INTEGER NOT NULL,
        time INTEGER,
        first_seen INTEGER,
        last_seen INTEGER,
        count INTEGER NOT NULL,
        host TEXT,
        source_ip TEXT,
        grp TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        assignee TEXT,
        doc TEXT NOT NULL,
        stored INTEGER NOT NULL,
        updated INTEGER NOT NULL
    );
    CREATE INDEX alerts_time ON alerts (time);
    CREATE INDEX alerts_severity ON alerts (severity, time);
    CREATE INDEX alerts_status ON alerts (status, time);
    CREATE INDEX alerts_rule ON alerts (rule_id, time);
    CREATE INDEX alerts_source_ip ON alerts (source_ip, time);
    CREATE INDEX alerts_host ON alerts (host, time);
    CREATE TABLE alert_events (
        alert TEXT NOT NULL REFERENCES alerts (id),
        event INTEGER NOT NULL,
        PRIMARY KEY (alert, event)
    ) WITHOUT ROWID;
    CREATE TABLE alert_history (
        id INTEGER PRIMARY KEY,
        alert TEXT NOT NULL REFERENCES alerts (id),
        time INTEGER NOT NULL,
        user TEXT NOT NULL,
        action TEXT NOT NULL,
        status TEXT,
        assignee TEXT,
        note TEXT
    );
    CREATE INDEX alert_history_alert ON alert_history (alert, time);
    CREATE TABLE suppressions (
        id INTEGER PRIMARY KEY,
        rule_id TEXT NOT NULL,
        grp TEXT NOT NULL,
        alert TEXT,
        user TEXT NOT NULL,
        note TEXT,
        created INTEGER NOT NULL,
        UNIQUE (rule_id, grp)
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started INTEGER NOT NULL,
        finished INTEGER,
        command TEXT NOT NULL,
        paths TEXT NOT NULL,
        rules TEXT NOT NULL,
        events INTEGER NOT NULL DEFAULT 0,
        dead INTEGER NOT NULL DEFAULT 0,
        alerts INTEGER NOT NULL DEFAULT 0
    );
    -- Seed 001's tables, for its users' queries and BI tools: its IDS lines
    -- (raw_logs), the IP indicators (threat_ips) and the lines with what
    -- matched them, at ingest or in the IOC database now (enriched_logs).
    CREATE VIEW raw_logs AS
    SELECT strftime('%Y-%m-%d %H:%M:%f', time / 1000000.0, 'unixepoch') AS timestamp,
        json_extract(doc, '$.log.logger') AS logger,
        json_extract(doc, '$.log.level') AS severity,
        upper(coalesce(json_extract(doc, '$.network.protocol'),
            json_extract(doc, '$.network.transport'))) AS protocol,
        source_ip AS src_ip,
        json_extract(doc, '$.source.port') AS src_port,
        destination_ip AS dst_ip,
        json_extract(doc, '$.destination.port') AS dst_port,
        json_extract(doc, '$.tcp.flags') AS flag,
        json_extract(doc, '$.message') AS description,
        id AS event_id
    FROM events WHERE dataset = 'ids.alert';
    CREATE VIEW threat_ips AS
    SELECT value AS ip, confidence FROM iocs WHERE kind = 'ip' AND active = 1;
    CREATE VIEW enriched_logs AS
    SELECT r.*,
        (e.matched IS NOT NULL OR s.ip IS NOT NULL OR d.ip IS NOT NULL) AS is_malicious,
        coalesce(e.confidence, s.confidence, d.confidence) AS threat_confidence
    FROM raw_logs r
    LEFT JOIN (
        SELECT id, json_extract(doc, '$.threat.enrichments') AS matched,
            json_extract(doc, '$.threat.enrichments[0].indicator.confidence') AS confidence
        FROM events WHERE dataset = 'ids.alert'
    ) e ON e.id = r.event_id
    LEFT JOIN threat_ips s ON r.src_ip = s.ip
    LEFT JOIN threat_ips d ON r.dst_ip = d.ip;",
    // 5: events counted per hour of their time (timelines over a day need
    // hours; a day is the sum of its hours); indexes for the dashboard's
    // top-N panels and for pages of alerts by status and severity;
    // addresses and users indexed within their day; the count of events
    // per word; and what correlations and dedup windows hold between runs,
    // so that a burst read by two ingests is one burst. A correlation's
    // state is kept with the shape of the rule it was built by; another
    // shape starts afresh.
    "CREATE TABLE event_hours (
        dataset TEXT NOT NULL,
        hour INTEGER NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (dataset, hour)
    ) WITHOUT ROWID;
    INSERT INTO event_hours (dataset, hour, n)
    SELECT coalesce(dataset, ''),
        CASE WHEN time IS NULL THEN -1
             ELSE (time - (time % 3600000000 + 3600000000) % 3600000000) / 3600000000 END AS h,
        count(*)
    FROM events GROUP BY 1, 2;
    DROP TABLE event_counts;
    CREATE TABLE correlation_state (
        rule TEXT PRIMARY KEY,
        shape INTEGER NOT NULL,
        parts BLOB NOT NULL
    );
    CREATE TABLE correlation_groups (
        rule TEXT NOT NULL,
        grp BLOB NOT NULL,
        state BLOB NOT NULL,
        PRIMARY KEY (rule, grp)
    );
    CREATE TABLE dedup_open (
        rule TEXT NOT NULL,
        grp TEXT NOT NULL,
        alert BLOB NOT NULL,
        PRIMARY KEY (rule, grp)
    );
    -- The dashboard's top rules, sources and hosts of a severity and time
    -- range, read from the index alone (an alert row carries its JSON).
    CREATE INDEX alerts_overview ON alerts (severity, time, rule_id, host, source_ip);
    -- A page of open (or closed, ...) alerts of some severity is read from
    -- this index newest first, the severity checked in it.
    DROP INDEX alerts_status;
    CREATE INDEX alerts_status ON alerts (status, time, severity);
    -- Addresses and users take many values: indexed by value alone, every
    -- commit rewrote index pages all over a large store. Indexed within
    -- the day of the event (events arrive near their time), a commit
    -- touches the pages of a day or two; a lookup seeks once per day.
    DROP INDEX events_source_ip;
    DROP INDEX events_destination_ip;
    DROP INDEX events_user_name;
    CREATE INDEX events_source_ip ON events (coalesce(time / 86400000000, -1), source_ip, time)
        WHERE source_ip IS NOT NULL;
    CREATE INDEX events_destination_ip
        ON events (coalesce(time / 86400000000, -1), destination_ip, time)
        WHERE destination_ip IS NOT NULL;
    CREATE INDEX events_user_name ON events (coalesce(time / 86400000000, -1), user_name, time)
        WHERE user_name IS NOT NULL;
    -- How many events hold each word: a search picks its plan by it.
    CREATE VIRTUAL TABLE events_vocab USING fts5vocab (events_text, 'row');",
    // 6: what a source that is not a file keeps to read on exactly from
    // where it stood (a SQL table's rows already taken), committed with
    // its events.
    "ALTER TABLE sources ADD COLUMN state BLOB;",
    // 7: what a dashboard slices events by (see `facets`): the source's
    // severity label, the line's protocol and the confidence of a threat
    // match, as columns of each event and counted per hour; malicious
    // events indexed by time, for the lists of them.
    "ALTER TABLE events ADD COLUMN level TEXT;
    ALTER TABLE events ADD COLUMN protocol TEXT;
    ALTER TABLE events ADD COLUMN threat INTEGER;
    UPDATE events SET
        level = rampart_level(json_extract(doc, '$.log.level'), json_extract(doc, '$.event.severity')),
        protocol = rampart_protocol(json_extract(doc, '$.network.protocol'),
            json_extract(doc, '$.network.transport')),
        threat = rampart_threat(json_extract(doc, '$.threat.enrichments'))
    WHERE json_extract(doc, '$.log.level') IS NOT NULL
        OR json_extract(doc, '$.event.severity') IS NOT NULL
        OR json_extract(doc, '$.network') IS NOT NULL
        OR json_extract(doc, '$.threat.enrichments') IS NOT NULL;
    CREATE INDEX events_threat ON events (time) WHERE threat IS NOT NULL;
    CREATE TABLE event_facets (
        hour INTEGER NOT NULL,
        dataset TEXT NOT NULL,
        host TEXT NOT NULL,
        level TEXT NOT NULL,
        protocol TEXT NOT NULL,
        confidence INTEGER NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (hour, dataset, host, level, protocol, confidence)
    ) WITHOUT ROWID;
    INSERT INTO event_facets (hour, dataset, host, level, protocol, confidence, n)
    SELECT CASE WHEN time IS NULL THEN -1
             ELSE (time - (time % 3600000000 + 3600000000) % 3600000000) / 3600000000 END,
        coalesce(dataset, ''), coalesce(host, ''), coalesce(level, ''), coalesce(protocol, ''),
        coalesce(threat, -1), count(*)
    FROM events GROUP BY 1, 2, 3, 4, 5, 6;",
    // 8: events counted per hour and destination (see `destinations`), for
    // the dashboard's most targeted destinations.
    "CREATE TABLE destination_hours (
        hour INTEGER NOT NULL,
        destination_ip TEXT NOT NULL,
        dataset TEXT NOT NULL,
        host TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (hour, destination_ip, dataset, host)
    ) WITHOUT ROWID;
    INSERT INTO destination_hours (hour, destination_ip, dataset, host, n)
    SELECT CASE WHEN time IS NULL THEN -1
             ELSE (time - (time % 3600000000 + 3600000000) % 3600000000) / 3600000000 END,
        destination_ip, coalesce(dataset, ''), coalesce(host, ''), count(*)
    FROM events WHERE destination_ip IS NOT NULL GROUP BY 1, 2, 3, 4;",
    // 9: each alert's dataset and protocol, those of its first event, so
    // that a dashboard's filters slice alerts as they slice events.
    "ALTER TABLE alerts ADD COLUMN dataset TEXT;
    ALTER TABLE alerts ADD COLUMN protocol TEXT;
    UPDATE alerts SET
        dataset = (SELECT e.dataset FROM alert_events l JOIN events e ON e.id = l.event
                   WHERE l.alert = alerts.id ORDER BY l.event LIMIT 1),
        protocol = (SELECT e.protocol FROM alert_events l JOIN events e ON e.id = l.event
                    WHERE l.alert = alerts.id ORDER BY l.event LIMIT 1);",
    // 10: requests sent per UTC day counted per service (VirusTotal, or a
    // pipeline's HTTP lookup), each under its own quota.
    "CREATE TABLE lookup_usage (
        service TEXT NOT NULL,
        day TEXT NOT NULL,
        requests INTEGER NOT NULL,
        PRIMARY KEY (service, day)
    ) WITHOUT ROWID;
    INSERT INTO lookup_usage (service, day, requests)
    SELECT 'virustotal', day, requests FROM vt_usage;
    DROP TABLE vt_usage;",
    // 11: the full-text index moves to a file of its own beside the
    // database (see `text`), built there from the stored events; the
    // database keeps the token that file must carry to be its own.
    "DROP TABLE events_vocab;
    DROP TABLE events_text;
    CREATE TABLE text_index (token INTEGER NOT NULL);
    INSERT INTO text_index (token) VALUES (random());",
];

/// Brings the schema up to date.
pub fn run(conn: &mut Connection) -> Result<(), StoreError> {
    run_to(conn, MIGRATIONS.len())
}

/// Refuses a file of a newer schema than this rampart knows.
fn known(version: usize) -> Result<(), StoreError> {
    if version > MIGRATIONS.len() {
        return Err(StoreError(format!(
            "the database is at schema version {version}, newer than this rampart knows ({}); upgrade rampart",
            MIGRATIONS.len()
        )));
    }
    Ok(())
}

/// Brings the schema to version `last` (or leaves a newer one alone).
fn run_to(conn: &mut Connection, last: usize) -> Result<(), StoreError> {
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version >= last {
        return known(version);
    }
    loop {
        // The version is read again under the write lock: another connection
        // opening the same new file at the same moment migrates it first,
        // and this one then goes on from where that one left it.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: usize = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version >= last {
            return known(version);
        }
        tx.execute_batch(MIGRATIONS[version])
            .map_err(|e| StoreError(format!("migration {}: {e}", version + 1)))?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
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
    fn connections_opening_a_new_file_at_once_all_open_it() {
        // A pipeline's store sink and its file sources open the same new
        // file at the same moment: none may fail, none may migrate twice.
        for round in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("r.db");
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
            let openers: Vec<_> = (0..4)
                .map(|_| {
                    let path = path.clone();
                    let barrier = std::sync::Arc::clone(&barrier);
                    std::thread::spawn(move || {
                        barrier.wait();
                        Store::open(&path).map(|s| s.schema_version().unwrap())
                    })
                })
                .collect();
            for opener in openers {
                let version = opener.join().unwrap();
                assert_eq!(
                    version.map_err(|e| format!("round {round}: {e}")),
                    Ok(super::MIGRATIONS.len() as u32)
                );
            }
        }
    }

    #[test]
    fn a_database_of_the_release_before_the_event_store_opens_with_its_indicators() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        // As the release before this one left it: schema version 3, one
        // indicator imported.
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        super::run_to(&mut conn, 3).unwrap();
        conn.execute(
            "INSERT INTO iocs (kind, value, source, added, updated)
             VALUES ('ip', '203.0.113.7', 'feed.txt', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z')",
            [],
        )
        .unwrap();
        drop(conn);
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            super::MIGRATIONS.len() as u32
        );
        let listed = store.list(&crate::IocFilter::default()).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].indicator.value, "203.0.113.7");
        assert_eq!(store.event_count().unwrap(), 0);
    }

    #[test]
    fn events_stored_before_the_hourly_counts_are_counted_by_hour() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        super::run_to(&mut conn, 4).unwrap();
        // Two events in one hour, one in the hour before the epoch (whose
        // hour must round down), one without a time or a dataset.
        for (id, time, dataset) in [
            (1, Some(7_200_000_001i64), Some("sshd")),
            (2, Some(10_799_999_999), Some("sshd")),
            (3, Some(-1), Some("ufw")),
            (4, None, None),
        ] {
            conn.execute(
                "INSERT INTO events (id, time, stored, dataset, doc) VALUES (?1, ?2, 0, ?3, '{}')",
                rusqlite::params![id, time, dataset],
            )
            .unwrap();
        }
        drop(conn);
        let store = Store::open(&path).unwrap();
        let mut stmt = store
            .conn
            .prepare("SELECT dataset, hour, n FROM event_hours ORDER BY dataset, hour")
            .unwrap();
        let rows: Vec<(String, i64, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                (String::new(), -1, 1),
                ("sshd".into(), 2, 2),
                ("ufw".into(), -1, 1)
            ]
        );
        assert_eq!(store.stats().unwrap().events, 4);
    }

    #[test]
    fn a_database_with_its_word_index_inside_is_searched_from_the_file_beside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        crate::facets::register(&conn).unwrap();
        super::run_to(&mut conn, 10).unwrap();
        conn.execute(
            "INSERT INTO sources (id, fp_len, fp_hash, path, events, first_read, last_read)
             VALUES (1, 3, 7, 'a.log', 2, 0, 0)",
            [],
        )
        .unwrap();
        let base = crate::PER_SOURCE;
        for (id, doc, text) in [
            (
                base,
                r#"{"message":"Failed password for root"}"#,
                "Failed password for root",
            ),
            (
                base + 1,
                r#"{"event":{"original":"GET /login"}}"#,
                "GET /login",
            ),
        ] {
            conn.execute(
                "INSERT INTO events (id, stored, doc) VALUES (?1, 0, ?2)",
                rusqlite::params![id, doc],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO events_text (rowid, text) VALUES (?1, ?2)",
                rusqlite::params![id, text],
            )
            .unwrap();
        }
        drop(conn);
        let store = Store::open(&path).unwrap();
        let found = |word: &str| -> Vec<i64> {
            store
                .rows(
                    &format!("SELECT rowid FROM text.events_text WHERE events_text MATCH '{word}'"),
                    |r| r.get(0),
                )
                .unwrap()
        };
        assert_eq!(found("password"), [base]);
        assert_eq!(found("login"), [base + 1]);
        let inside = store
            .rows(
                "SELECT name FROM main.sqlite_master WHERE name IN ('events_text', 'events_vocab')",
                |r| r.get::<_, String>(0),
            )
            .unwrap();
        assert!(inside.is_empty(), "{inside:?}");
        assert!(dir.path().join("r.db-text").exists());
    }

    #[test]
    fn events_stored_before_the_dashboard_facets_get_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        super::run_to(&mut conn, 6).unwrap();
        let docs = [
            r#"{"log":{"level":"high_severity"},"network":{"transport":"tcp"},
               "threat":{"enrichments":[{"matched":{"type":"indicator_match"},
               "indicator":{"confidence":11}}]}}"#,
            r#"{"event":{"severity":21},"network":{"protocol":"dhcp","transport":"udp"}}"#,
            r#"{"message":"plain"}"#,
        ];
        for (id, doc) in docs.iter().enumerate() {
            conn.execute(
                "INSERT INTO events (id, time, stored, dataset, host, doc)
                 VALUES (?1, 7200000001, 0, 'ids.alert', 'gw', ?2)",
                rusqlite::params![id as i64, doc],
            )
            .unwrap();
        }
        drop(conn);
        let store = Store::open(&path).unwrap();
        let rows = store
            .rows(
                "SELECT level, protocol, threat FROM events ORDER BY id",
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        let expected: Vec<(Option<String>, Option<String>, Option<i64>)> = vec![
            (Some("high".into()), Some("TCP".into()), Some(11)),
            (Some("low".into()), Some("DHCP".into()), None),
            (None, None, None),
        ];
        assert_eq!(rows, expected);
        let cells = store
            .rows(
                "SELECT hour, level, protocol, confidence, n FROM event_facets ORDER BY level",
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        let expected: Vec<(i64, String, String, i64, i64)> = vec![
            (2, "".into(), "".into(), -1, 1),
            (2, "high".into(), "TCP".into(), 11, 1),
            (2, "low".into(), "DHCP".into(), -1, 1),
        ];
        assert_eq!(cells, expected);
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
