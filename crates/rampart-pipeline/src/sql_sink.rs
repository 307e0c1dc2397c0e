//! Alerts into a SQL table of another system's database, PostgreSQL or
//! MySQL/MariaDB (seed 002 kept
//! its alerts in MySQL, to query, filter and export them there): one row
//! per alert, upserted by its id, so that an alert sent again (its final
//! state after it opened, or a batch resent after a failure) updates its
//! row instead of adding one. The table is made when missing; columns are
//! typed for querying, and the whole alert is kept as its JSON.

use std::time::Duration;

use crate::delivery::{Failed, Transport};

/// A PostgreSQL table of alerts.
pub struct PostgresAlerts {
    config: postgres::Config,
    table: String,
    client: Option<postgres::Client>,
}

impl PostgresAlerts {
    /// Alerts into `table` of the database at `url` (the password, when
    /// one is needed, already in hand).
    pub fn new(url: &str, password: Option<String>, table: &str) -> Result<PostgresAlerts, String> {
        let mut config: postgres::Config = url.parse().map_err(|e| format!("{url}: {e}"))?;
        if let Some(p) = password {
            config.password(p);
        }
        config.connect_timeout(Duration::from_secs(10));
        Ok(PostgresAlerts {
            config,
            table: table.to_string(),
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
                )",
                quoted(&self.table)
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

impl Transport for PostgresAlerts {
    fn send(&mut self, records: &[Vec<u8>]) -> Result<(), Failed> {
        let table = quoted(&self.table);
        let sent = (|| -> Result<(), String> {
            let client = self.client().map_err(|e| e.to_string())?;
            let mut tx = client.transaction().map_err(|e| e.to_string())?;
            let upsert = tx
                .prepare(&format!(
                    "INSERT INTO {table} (id, rule_id, title, severity, time, first_seen, last_seen, count, source_ip, host, doc)
                     VALUES ($1, $2, $3, $4, $5::text::timestamptz, $6::text::timestamptz, $7::text::timestamptz, $8, $9, $10, $11::text::jsonb)
                     ON CONFLICT (id) DO UPDATE SET
                        last_seen = EXCLUDED.last_seen, count = EXCLUDED.count, doc = EXCLUDED.doc"
                ))
                .map_err(|e| e.to_string())?;
            for r in records {
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

/// A MySQL or MariaDB table of alerts.
pub struct MysqlAlerts {
    opts: mysql::Opts,
    table: String,
    conn: Option<mysql::Conn>,
}

impl MysqlAlerts {
    /// Alerts into `table` of the database at `url`.
    pub fn new(url: &str, password: Option<String>, table: &str) -> Result<MysqlAlerts, String> {
        let opts = mysql::Opts::from_url(url).map_err(|e| format!("{url}: {e}"))?;
        let opts = mysql::OptsBuilder::from_opts(opts)
            .pass(password)
            .tcp_connect_timeout(Some(Duration::from_secs(10)));
        Ok(MysqlAlerts {
            opts: opts.into(),
            table: format!("`{}`", table.replace('`', "``")),
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
            self.conn = Some(conn);
        }
        Ok(self.conn.as_mut().expect("just made"))
    }
}

impl Transport for MysqlAlerts {
    fn send(&mut self, records: &[Vec<u8>]) -> Result<(), Failed> {
        use mysql::prelude::Queryable;
        let table = self.table.clone();
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
            for r in records {
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
