//! Stored alerts and their triage. An alert is stored under its own id
//! (which the same input always gives), so an alert raised again updates
//! the one stored (its count, last seen, events) and keeps its triage.
//! Each triage step (acknowledged, assigned, closed, false positive,
//! reopened) is kept with its time, who took it and their note.

use jiff::Timestamp;
use rampart_detect::{Alert, Level};
use rusqlite::{params, params_from_iter, OptionalExtension, Transaction};

use crate::facets;
use crate::{now_micros, NewAlert, Store, StoreError};

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not looked at yet.
    Open,
    /// Someone is on it.
    Acknowledged,
    /// Dealt with.
    Closed,
    /// Not an attack.
    FalsePositive,
}

impl Status {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Acknowledged => "acknowledged",
            Status::Closed => "closed",
            Status::FalsePositive => "false-positive",
        }
    }

    /// Reads a status name.
    pub fn parse(text: &str) -> Option<Status> {
        Some(match text {
            "open" => Status::Open,
            "acknowledged" | "ack" => Status::Acknowledged,
            "closed" => Status::Closed,
            "false-positive" | "fp" => Status::FalsePositive,
            _ => return None,
        })
    }
}

fn level_rank(level: Level) -> i64 {
    level as i64
}

fn micros(t: Option<Timestamp>) -> Option<i64> {
    t.map(|t| t.as_microsecond())
}

fn group_value<'a>(alert: &'a Alert, name: &str) -> Option<&'a str> {
    alert
        .group
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Stores `alerts`, updating those already stored; returns how many were new.
pub(crate) fn upsert(
    tx: &Transaction<'_>,
    alerts: &[NewAlert],
    now: i64,
) -> Result<u64, StoreError> {
    let mut link =
        tx.prepare_cached("INSERT OR IGNORE INTO alert_events (alert, event) VALUES (?1, ?2)")?;
    let mut known = tx.prepare_cached("SELECT 1 FROM alerts WHERE id = ?1")?;
    let mut row = tx.prepare_cached(
        "INSERT INTO alerts (id, rule_id, title, severity, time, first_seen, last_seen, count,
             host, source_ip, grp, doc, stored, updated, dataset, protocol)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?14, ?15)
         ON CONFLICT (id) DO UPDATE SET time = excluded.time, last_seen = excluded.last_seen,
             count = excluded.count, doc = excluded.doc, updated = excluded.updated",
    )?;
    let mut first_event =
        tx.prepare_cached("SELECT dataset, protocol FROM events WHERE id = ?1")?;
    let mut doc = Vec::new();
    let mut added = 0;
    for NewAlert { alert: a, events } in alerts {
        doc.clear();
        a.write_stored_json(&mut doc)
            .map_err(|e| StoreError(e.to_string()))?;
        let doc = std::str::from_utf8(&doc).map_err(|e| StoreError(e.to_string()))?;
        let group: serde_json::Map<String, serde_json::Value> = a
            .group
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let new = !known.exists([&a.id])?;
        // What the alert is about, for slicing alerts as events are: the
        // dataset and protocol of its first event (stored, or carried).
        let (dataset, protocol): (Option<String>, Option<String>) = match events.first() {
            Some(id) => first_event
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .unwrap_or_default(),
            None => a
                .events
                .first()
                .and_then(|raw| serde_json::from_str::<serde_json::Value>(raw.get()).ok())
                .map(|e| {
                    let text = |p: &str| e.pointer(p).and_then(|v| v.as_str());
                    (
                        text("/event/dataset").map(str::to_owned),
                        facets::protocol(text("/network/protocol"), text("/network/transport")),
                    )
                })
                .unwrap_or_default(),
        };
        row.execute(params![
            a.id,
            a.rule_id,
            a.title,
            level_rank(a.severity),
            micros(a.timestamp),
            micros(a.first_seen),
            micros(a.last_seen),
            a.count as i64,
            group_value(a, "host.name"),
            group_value(a, "source.ip"),
            serde_json::Value::Object(group).to_string(),
            doc,
            now,
            dataset,
            protocol,
        ])?;
        added += u64::from(new);
        for event in events {
            link.execute(params![a.id, event])?;
        }
    }
    Ok(added)
}

/// Puts back into an alert's JSON the stored events it was kept without.
fn completed(conn: &rusqlite::Connection, alert: &mut StoredAlert) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.doc FROM alert_events l JOIN events e ON e.id = l.event
         WHERE l.alert = ?1 ORDER BY l.event",
    )?;
    let docs: Vec<String> = stmt
        .query_map([&alert.id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    alert.complete(&docs)
}

/// Which alerts to list.
#[derive(Debug, Default, Clone)]
pub struct AlertFilter {
    /// This level or above.
    pub min_severity: Option<Level>,
    /// Rule ids.
    pub rules: Vec<String>,
    /// Statuses.
    pub statuses: Vec<Status>,
    /// Fired at or after.
    pub since: Option<Timestamp>,
    /// Fired before.
    pub until: Option<Timestamp>,
    /// Only alerts about this host.
    pub host: Option<String>,
    /// Only alerts about this source address.
    pub source_ip: Option<String>,
    /// Text in the title or anywhere in the alert.
    pub search: Option<String>,
    /// The order to list them in.
    pub order: AlertOrder,
    /// The most to list.
    pub limit: Option<u64>,
}

/// The order alerts are listed in.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertOrder {
    /// Newest first (read from the time indexes, not sorted).
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
    /// Highest level first, then newest.
    Severity,
    /// Most events first, then newest.
    Count,
}

impl AlertOrder {
    /// Its `ORDER BY`.
    fn sql(self) -> &'static str {
        match self {
            AlertOrder::Newest => " ORDER BY time DESC, rowid DESC",
            AlertOrder::Oldest => " ORDER BY time, rowid",
            AlertOrder::Severity => " ORDER BY severity DESC, time DESC, rowid DESC",
            AlertOrder::Count => " ORDER BY count DESC, time DESC, rowid DESC",
        }
    }
}

/// An alert as stored, with its triage state.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAlert {
    /// The alert's id.
    pub id: String,
    /// The rule that raised it.
    pub rule_id: String,
    /// Its title.
    pub title: String,
    /// Its level.
    pub severity: Level,
    /// When it fired (event time).
    pub time: Option<Timestamp>,
    /// Events behind it.
    pub count: u64,
    /// Where its triage stands.
    pub status: String,
    /// Who it is assigned to.
    pub assignee: Option<String>,
    /// The alert as JSON.
    pub doc: String,
}

impl StoredAlert {
    /// Makes its JSON whole: its ATT&CK techniques from its tags (a stored
    /// alert keeps the tags only), and `docs`, the JSON of the stored
    /// events it points at, in their order.
    pub fn complete(&mut self, docs: &[String]) -> Result<(), StoreError> {
        let mut doc: serde_json::Value =
            serde_json::from_str(&self.doc).map_err(|e| StoreError(e.to_string()))?;
        let Some(map) = doc.as_object_mut() else {
            return Ok(());
        };
        if !map.contains_key("mitre") {
            let tags: Vec<String> = map
                .get("tags")
                .and_then(|t| t.as_array())
                .map(|tags| {
                    let text = tags.iter().filter_map(|t| t.as_str());
                    text.map(str::to_owned).collect()
                })
                .unwrap_or_default();
            map.insert(
                "mitre".into(),
                rampart_detect::alert::techniques_json(&tags),
            );
        }
        if !docs.is_empty() {
            let events: Vec<serde_json::Value> = docs
                .iter()
                .filter_map(|d| serde_json::from_str(d).ok())
                .collect();
            map.insert("events".into(), events.into());
        }
        self.doc = doc.to_string();
        Ok(())
    }

    /// What the alert is about: its group's fields and values
    /// (`source.ip`, `host.name`, ...), as its JSON holds them.
    pub fn group(&self) -> Vec<(String, String)> {
        let doc: serde_json::Value = serde_json::from_str(&self.doc).unwrap_or_default();
        doc["group"].as_object().map_or_else(Vec::new, |g| {
            g.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
    }
}

/// One triage step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// When the step was taken.
    pub time: Timestamp,
    /// Who took it.
    pub user: String,
    /// What was done.
    pub action: String,
    /// The status it set, if any.
    pub status: Option<String>,
    /// The assignee it set, if any.
    pub assignee: Option<String>,
    /// The note given with it.
    pub note: Option<String>,
}

/// A triage action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Triage {
    /// Sets the status.
    Set(Status),
    /// Assigns to someone (`None`: to nobody).
    Assign(Option<String>),
}

impl Triage {
    /// The step's name, as an alert's history keeps it.
    pub fn action(&self) -> &'static str {
        match self {
            Triage::Set(Status::Open) => "reopen",
            Triage::Set(Status::Acknowledged) => "acknowledge",
            Triage::Set(Status::Closed) => "close",
            Triage::Set(Status::FalsePositive) => "false-positive",
            Triage::Assign(_) => "assign",
        }
    }
}

fn like(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

const COLUMNS: &str = "id, rule_id, title, severity, time, count, status, assignee, doc";

fn stored(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredAlert> {
    Ok(StoredAlert {
        id: r.get(0)?,
        rule_id: r.get(1)?,
        title: r.get(2)?,
        severity: Level::from_rank(r.get(3)?),
        time: r
            .get::<_, Option<i64>>(4)?
            .and_then(|t| Timestamp::from_microsecond(t).ok()),
        count: r.get::<_, i64>(5)? as u64,
        status: r.get(6)?,
        assignee: r.get(7)?,
        doc: r.get(8)?,
    })
}

/// The query of the alerts `filter` selects, newest first, and its
/// parameters.
fn select(filter: &AlertFilter) -> (String, Vec<rusqlite::types::Value>) {
    let mut sql = format!("SELECT {COLUMNS} FROM alerts WHERE 1 = 1");
    let mut values: Vec<rusqlite::types::Value> = Vec::new();
    let mut bind = |sql: &mut String, clause: &str, value: rusqlite::types::Value| {
        values.push(value);
        sql.push_str(&clause.replace('?', &format!("?{}", values.len())));
    };
    if let Some(level) = filter.min_severity {
        bind(&mut sql, " AND severity >= ?", level_rank(level).into());
    }
    if !filter.rules.is_empty() {
        sql.push_str(" AND rule_id IN (");
        for (i, rule) in filter.rules.iter().enumerate() {
            bind(
                &mut sql,
                if i == 0 { "?" } else { ", ?" },
                rule.clone().into(),
            );
        }
        sql.push(')');
    }
    if !filter.statuses.is_empty() {
        sql.push_str(" AND status IN (");
        for (i, status) in filter.statuses.iter().enumerate() {
            let name = status.as_str().to_owned();
            bind(&mut sql, if i == 0 { "?" } else { ", ?" }, name.into());
        }
        sql.push(')');
    }
    if let Some(t) = filter.since {
        bind(&mut sql, " AND time >= ?", t.as_microsecond().into());
    }
    if let Some(t) = filter.until {
        bind(&mut sql, " AND time < ?", t.as_microsecond().into());
    }
    if let Some(host) = &filter.host {
        bind(&mut sql, " AND host = ?", host.clone().into());
    }
    if let Some(ip) = &filter.source_ip {
        bind(&mut sql, " AND source_ip = ?", ip.clone().into());
    }
    if let Some(text) = &filter.search {
        bind(&mut sql, " AND doc LIKE ? ESCAPE '\\'", like(text).into());
    }
    // Newest first, ties in the order stored, by default: the order the
    // time indexes keep, so a page is read from an index, not sorted.
    sql.push_str(filter.order.sql());
    if let Some(limit) = filter.limit {
        bind(
            &mut sql,
            " LIMIT ?",
            (limit.min(i64::MAX as u64) as i64).into(),
        );
    }
    (sql, values)
}

impl Store {
    /// The alerts `filter` selects, newest first.
    pub fn alerts(&self, filter: &AlertFilter) -> Result<Vec<StoredAlert>, StoreError> {
        let (sql, values) = select(filter);
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(values), stored)?;
        let mut found: Vec<StoredAlert> = rows.collect::<Result<_, _>>()?;
        for alert in &mut found {
            completed(&self.conn, alert)?;
        }
        Ok(found)
    }

    /// Whether an alert of exactly this id is stored.
    pub fn has_alert(&self, id: &str) -> Result<bool, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT 1 FROM alerts WHERE id = ?1")?;
        Ok(stmt.exists([id])?)
    }

    /// One alert, by its id or the start of it (when only one matches).
    pub fn alert(&self, id: &str) -> Result<Option<StoredAlert>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM alerts WHERE id >= ?1 AND id < ?1 || x'ff' ORDER BY id LIMIT 2"
        ))?;
        let found: Vec<StoredAlert> = stmt.query_map([id], stored)?.collect::<Result<_, _>>()?;
        let mut one = match found.as_slice() {
            [one] => one.clone(),
            [] => return Ok(None),
            _ => match found.iter().find(|a| a.id == id) {
                Some(exact) => exact.clone(),
                None => {
                    return Err(StoreError(format!(
                        "{id} is the start of more than one alert id"
                    )))
                }
            },
        };
        completed(&self.conn, &mut one)?;
        Ok(Some(one))
    }

    /// An alert's triage steps, oldest first.
    pub fn history(&self, id: &str) -> Result<Vec<Step>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT time, user, action, status, assignee, note FROM alert_history
             WHERE alert = ?1 ORDER BY time, id",
        )?;
        let rows = stmt.query_map([id], |r| {
            Ok(Step {
                time: Timestamp::from_microsecond(r.get(0)?).unwrap_or_default(),
                user: r.get(1)?,
                action: r.get(2)?,
                status: r.get(3)?,
                assignee: r.get(4)?,
                note: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Applies `action` to the alert `id` as `user`, with `note`, and keeps
    /// the step. Returns the alert as it now stands.
    pub fn triage(
        &mut self,
        id: &str,
        action: &Triage,
        user: &str,
        note: Option<&str>,
    ) -> Result<StoredAlert, StoreError> {
        let Some(alert) = self.alert(id)? else {
            return Err(StoreError(format!("no alert {id}")));
        };
        let now = now_micros();
        let tx = self.conn.transaction()?;
        let (status, assignee) = match action {
            Triage::Set(status) => {
                tx.execute(
                    "UPDATE alerts SET status = ?2, updated = ?3 WHERE id = ?1",
                    params![alert.id, status.as_str(), now],
                )?;
                (Some(status.as_str()), None)
            }
            Triage::Assign(who) => {
                tx.execute(
                    "UPDATE alerts SET assignee = ?2, updated = ?3 WHERE id = ?1",
                    params![alert.id, who, now],
                )?;
                (None, who.as_deref())
            }
        };
        let name = action.action();
        tx.execute(
            "INSERT INTO alert_history (alert, time, user, action, status, assignee, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![alert.id, now, user, name, status, assignee, note],
        )?;
        tx.commit()?;
        self.alert(&alert.id)?
            .ok_or_else(|| StoreError(format!("alert {} vanished", alert.id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan SQLite makes for the alerts `filter` selects.
    fn plan(filter: &AlertFilter) -> String {
        let store = Store::in_memory().unwrap();
        let (sql, values) = select(filter);
        let mut stmt = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let rows: Vec<String> = stmt
            .query_map(params_from_iter(values), |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.join("; ")
    }

    #[test]
    fn a_page_of_alerts_is_read_from_an_index_newest_first_not_sorted() {
        let page = |f: AlertFilter| AlertFilter {
            limit: Some(50),
            ..f
        };
        for filter in [
            page(AlertFilter::default()),
            page(AlertFilter {
                min_severity: Some(Level::High),
                statuses: vec![Status::Open],
                ..AlertFilter::default()
            }),
            page(AlertFilter {
                statuses: vec![Status::Acknowledged],
                ..AlertFilter::default()
            }),
        ] {
            // Ties in time may be put in order among themselves (`LAST
            // TERM`), which stops with the page; the page is never made by
            // sorting every alert the filter selects.
            let plan = plan(&filter);
            assert!(
                !plan.contains("TEMP B-TREE FOR ORDER BY"),
                "{filter:?}: {plan}"
            );
            assert!(plan.contains("INDEX"), "{filter:?}: {plan}");
        }
        let open_high = plan(&page(AlertFilter {
            min_severity: Some(Level::High),
            statuses: vec![Status::Open],
            ..AlertFilter::default()
        }));
        assert!(open_high.contains("alerts_status"), "{open_high}");
    }
}
