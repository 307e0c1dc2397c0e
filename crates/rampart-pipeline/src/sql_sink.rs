//! Alerts and events into SQL tables of another system's database,
//! PostgreSQL or MySQL/MariaDB (seed 002 kept its alerts in MySQL, to
//! query, filter and export them there). An alert is one row upserted by
//! its id, so that an alert sent again (its final state after it opened,
//! or a batch resent after a failure) updates its row instead of adding
//! one; an event is one row by an id made from where it came from (its
//! source, line and text), inserted once, so that events read or sent
//! again are not written twice. The tables are made when missing; columns
//! are typed for querying, and the whole record is kept as its JSON.
//!
//! A record comes as `A` and the alert's JSON, or `E`, the event's id (16
//! hex digits) and its JSON (see `forward::Encoding::Row`).

use std::time::Duration;

use crate::delivery::{Failed, Transport};

/// A record read back: an alert's JSON, or an event's id and JSON.
enum Record<'r> {
    Alert(&'r [u8]),
    Event(&'r str, &'r [u8]),
}

fn record(r: &[u8]) -> Result<Record<'_>, String> {
    match r.split_first() {
        Some((b'A', json)) => Ok(Record::Alert(json)),
        Some((b'E', rest)) if rest.len() > 16 => {
            let id = std::str::from_utf8(&rest[..16]).map_err(|e| e.to_string())?;
            Ok(Record::Event(id, &rest[16..]))
        }
        _ => Err("a record of no known kind".into()),
    }
}

/// An event's typed columns: time, dataset, host, source and destination
/// address, user, event code.
fn event_columns(json: &[u8]) -> Result<[Option<String>; 7], String> {
    let e: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| format!("an event: {e}"))?;
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    };
    Ok([
        text(&e["@timestamp"]),
        text(&e["event"]["dataset"]),
        text(&e["host"]["name"]),
        text(&e["source"]["ip"]),
        text(&e["destination"]["ip"]),
        text(&e["user"]["name"]),
        text(&e["event"]["code"]),
    ])
}

/// PostgreSQL tables of alerts and events.
pub struct PostgresTables {
    config: postgres::Config,
    table: String,
    events_table: String,
    client: Option<postgres::Client>,
}

impl PostgresTables {
    /// Alerts into `table` and events into `events_table` of the database
    /// at `url` (the password, when one is needed, already in hand).
    pub fn new(
        url: &str,
        password: Option<String>,
        (table, events_table): (&str, &str),
    ) -> Result<PostgresTables, String> {
        let mut config: postgres::Config = url.parse().map_err(|e| format!("{url}: {e}"))?;
        if let Some(p) = password {
            config.password(p);
        }
        config.connect_timeout(Duration::from_secs(10));
        Ok(PostgresTables {
            config,
            table: table.to_string(),
            events_table: events_table.to_string(),
            client: None,
        })
    }

    fn client(&mut self) -> Result<&mut postgres::Client, postgres::Error> {
        if self.client.is_none() {
            let mut client = self.config.connect(postgres::NoTls)?;
            client.batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {} (
                    id TEXT PRIMARY KEY,
                    rule_id TEXT NOT NULL,
                    title TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    time TIMESTAMPTZ,
                    first_seen TIMESTAMPTZ,
                    last_seen TIMESTAMPTZ,
                    count BIGINT NOT NULL,
                    source_ip TEXT,
                    host TEXT,
                    doc JSONB NOT NULL
                );
                CREATE TABLE IF NOT EXISTS {} (
                    id TEXT PRIMARY KEY,
                    time TIMESTAMPTZ,
                    dataset TEXT,
                    host TEXT,
                    source_ip TEXT,
                    destination_ip TEXT,
                    user_name TEXT,
                    event_code TEXT,
                    doc JSONB NOT NULL
                )",
                quoted(&self.table),
                quoted(&self.events_table)
            ))?;
            self.client = Some(client);
        }
        Ok(self.client.as_mut().expect("just made"))
    }
}

/// `"name"`, quoted for SQL.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The value of the group field `name` of an alert's JSON, if any.
fn group(alert: &serde_json::Value, name: &str) -> Option<String> {
    alert["group"][name].as_str().map(str::to_string)
}

impl Transport for PostgresTables {
    fn send(&mut self, records: &[Vec<u8>]) -> Result<(), Failed> {
        let table = quoted(&self.table);
        let events = quoted(&self.events_table);
        let sent = (|| -> Result<(), String> {
            let client = self.client().map_err(|e| e.to_string())?;
            let mut tx = client.transaction().map_err(|e| e.to_string())?;
            let insert = tx
                .prepare(&format!(
                    "INSERT INTO {events} (id, time, dataset, host, source_ip, destination_ip, user_name, event_code, doc)
                     VALUES ($1, $2::text::timestamptz, $3, $4, $5, $6, $7, $8, $9::text::jsonb)
                     ON CONFLICT (id) DO NOTHING"
                ))
                .map_err(|e| e.to_string())?;
            let upsert = tx
                .prepare(&format!(
                    "INSERT INTO {table} (id, rule_id, title, severity, time, first_seen, last_seen, count, source_ip, host, doc)
                     VALUES ($1, $2, $3, $4, $5::text::timestamptz, $6::text::timestamptz, $7::text::timestamptz, $8, $9, $10, $11::text::jsonb)
                     ON CONFLICT (id) DO UPDATE SET
                        last_seen = EXCLUDED.last_seen, count = EXCLUDED.count, doc = EXCLUDED.doc"
                ))
                .map_err(|e| e.to_string())?;
            for r in records {
                let r = match record(r)? {
                    Record::Alert(json) => json,
                    Record::Event(id, json) => {
                        let [time, dataset, host, src, dst, user, code] = event_columns(json)?;
                        let doc = String::from_utf8_lossy(json).into_owned();
                        tx.execute(
                            &insert,
                            &[&id, &time, &dataset, &host, &src, &dst, &user, &code, &doc],
                        )
                        .map_err(|e| e.to_string())?;
                        continue;
                    }
                };
                let a: serde_json::Value =
                    serde_json::from_slice(r).map_err(|e| format!("an alert: {e}"))?;
                let text = |k: &str| a[k].as_str().map(str::to_string);
                let count = a["count"].as_i64().unwrap_or(0);
                let doc = String::from_utf8_lossy(r).into_owned();
                tx.execute(
                    &upsert,
                    &[
                        &text("id").unwrap_or_default(),
                        &text("rule_id").unwrap_or_default(),
                        &text("title").unwrap_or_default(),
                        &text("severity").unwrap_or_default(),
                        &text("timestamp"),
                        &text("first_seen"),
                        &text("last_seen"),
                        &count,
                        &group(&a, "source.ip"),
                        &group(&a, "host.name"),
                        &doc,
                    ],
                )
                .map_err(|e| e.to_string())?;
            }
            tx.commit().map_err(|e| e.to_string())
        })();
        if sent.is_err() {
            self.client = None;
        }
        sent.map_err(|why| Failed {
            taken: 0,
            why: std::io::Error::other(why),
        })
    }
}

/// MySQL or MariaDB tables of alerts and events.
pub struct MysqlTables {
    opts: mysql::Opts,
    table: String,
    events_table: String,
    conn: Option<mysql::Conn>,
}

impl MysqlTables {
    /// Alerts into `table` and events into `events_table` of the database
    /// at `url`.
    pub fn new(
        url: &str,
        password: Option<String>,
        (table, events_table): (&str, &str),
    ) -> Result<MysqlTables, String> {
        let opts = mysql::Opts::from_url(url).map_err(|e| format!("{url}: {e}"))?;
        let opts = mysql::OptsBuilder::from_opts(opts)
            .pass(password)
            .tcp_connect_timeout(Some(Duration::from_secs(10)));
        Ok(MysqlTables {
            opts: opts.into(),
            table: format!("`{}`", table.replace('`', "``")),
            events_table: format!("`{}`", events_table.replace('`', "``")),
            conn: None,
        })
    }

    fn conn(&mut self) -> Result<&mut mysql::Conn, mysql::Error> {
        use mysql::prelude::Queryable;
        if self.conn.is_none() {
            let mut conn = mysql::Conn::new(self.opts.clone())?;
            conn.query_drop(format!(
                "CREATE TABLE IF NOT EXISTS {} (
                    id VARCHAR(64) PRIMARY KEY,
                    rule_id VARCHAR(255) NOT NULL,
                    title TEXT NOT NULL,
                    severity VARCHAR(16) NOT NULL,
                    time VARCHAR(40),
                    first_seen VARCHAR(40),
                    last_seen VARCHAR(40),
                    count BIGINT NOT NULL,
                    source_ip VARCHAR(64),
                    host VARCHAR(255),
                    doc LONGTEXT NOT NULL
                )",
                self.table
            ))?;
            conn.query_drop(format!(
                "CREATE TABLE IF NOT EXISTS {} (
                    id CHAR(16) PRIMARY KEY,
                    time VARCHAR(40),
                    dataset VARCHAR(255),
                    host VARCHAR(255),
                    source_ip VARCHAR(64),
                    destination_ip VARCHAR(64),
                    user_name VARCHAR(255),
                    event_code VARCHAR(64),
                    doc LONGTEXT NOT NULL
                )",
                self.events_table
            ))?;
            self.conn = Some(conn);
        }
        Ok(self.conn.as_mut().expect("just made"))
    }
}

impl Transport for MysqlTables {
    fn send(&mut self, records: &[Vec<u8>]) -> Result<(), Failed> {
        use mysql::prelude::Queryable;
        let table = self.table.clone();
        let events = self.events_table.clone();
        let sent = (|| -> Result<(), String> {
            let conn = self.conn().map_err(|e| e.to_string())?;
            let mut tx = conn
                .start_transaction(mysql::TxOpts::default())
                .map_err(|e| e.to_string())?;
            let upsert = format!(
                "INSERT INTO {table} (id, rule_id, title, severity, time, first_seen, last_seen, count, source_ip, host, doc)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON DUPLICATE KEY UPDATE last_seen = VALUES(last_seen), count = VALUES(count), doc = VALUES(doc)"
            );
            let insert = format!(
                "INSERT IGNORE INTO {events} (id, time, dataset, host, source_ip, destination_ip, user_name, event_code, doc)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            );
            for r in records {
                let r = match record(r)? {
                    Record::Alert(json) => json,
                    Record::Event(id, json) => {
                        let [time, dataset, host, src, dst, user, code] = event_columns(json)?;
                        let doc = String::from_utf8_lossy(json).into_owned();
                        let params: Vec<mysql::Value> = vec![
                            id.into(),
                            time.into(),
                            dataset.into(),
                            host.into(),
                            src.into(),
                            dst.into(),
                            user.into(),
                            code.into(),
                            doc.into(),
                        ];
                        tx.exec_drop(&insert, params).map_err(|e| e.to_string())?;
                        continue;
                    }
                };
                let a: serde_json::Value =
                    serde_json::from_slice(r).map_err(|e| format!("an alert: {e}"))?;
                let text = |k: &str| a[k].as_str().map(str::to_string);
                let params: Vec<mysql::Value> = vec![
                    text("id").unwrap_or_default().into(),
                    text("rule_id").unwrap_or_default().into(),
                    text("title").unwrap_or_default().into(),
                    text("severity").unwrap_or_default().into(),
                    text("timestamp").into(),
                    text("first_seen").into(),
                    text("last_seen").into(),
                    a["count"].as_i64().unwrap_or(0).into(),
                    group(&a, "source.ip").into(),
                    group(&a, "host.name").into(),
                    String::from_utf8_lossy(r).into_owned().into(),
                ];
                tx.exec_drop(&upsert, params).map_err(|e| e.to_string())?;
            }
            tx.commit().map_err(|e| e.to_string())
        })();
        if sent.is_err() {
            self.conn = None;
        }
        sent.map_err(|why| Failed {
            taken: 0,
            why: std::io::Error::other(why),
        })
    }
}
