//! Alerts and their triage in ClickHouse: an alert's latest version from
//! `alerts` (`FINAL`), its status and assignee from its latest triage
//! steps in `alert_history` (none: open, no one), joined by alert id.

use jiff::Timestamp;
use rampart_detect::Level;
use rampart_store::{
    AlertFilter, AlertOrder, Beside, Status, Step, StoreError, StoredAlert, Triage, Triaged,
};
use serde::Deserialize;

use crate::client::quote;
use crate::ClickHouse;

/// An alert row as read.
#[derive(Deserialize)]
struct Row {
    id: String,
    rule_id: String,
    title: String,
    severity: u8,
    time: i64,
    timed: u8,
    count: u64,
    status: String,
    assignee: String,
    doc: String,
    events: Vec<i64>,
}

/// The alerts with their triage state, as a table to select from.
pub(crate) const TRIAGED: &str =
    "(SELECT id, rule_id, title, severity, time, timed, count, host, source_ip,
        dataset, protocol, doc, events FROM alerts FINAL) AS alert
    ANY LEFT JOIN
    (SELECT alert AS id, argMaxIf(status, time, status != '') AS status,
        argMaxIf(assignee, time, action = 'assign') AS assignee
     FROM alert_history GROUP BY alert) AS triage USING id";

/// A row made into a stored alert, `docs` (its stored events) put back.
fn stored(row: Row, docs: &[String]) -> Result<StoredAlert, StoreError> {
    let mut alert = StoredAlert {
        id: row.id,
        rule_id: row.rule_id,
        title: row.title,
        severity: Level::from_rank(row.severity.into()),
        time: (row.timed == 1)
            .then(|| Timestamp::from_microsecond(row.time).ok())
            .flatten(),
        count: row.count,
        status: if row.status.is_empty() {
            Status::Open.as_str().to_owned()
        } else {
            row.status
        },
        assignee: Some(row.assignee).filter(|a| !a.is_empty()),
        doc: row.doc,
    };
    alert.complete(docs)?;
    Ok(alert)
}

fn order(order: AlertOrder) -> &'static str {
    match order {
        AlertOrder::Newest => "timed DESC, time DESC, id DESC",
        AlertOrder::Oldest => "timed, time, id",
        AlertOrder::Severity => "severity DESC, timed DESC, time DESC, id DESC",
        AlertOrder::Count => "count DESC, timed DESC, time DESC, id DESC",
    }
}

/// The condition of `filter`, over [`TRIAGED`].
fn condition(filter: &AlertFilter) -> String {
    let mut parts = vec!["1".to_owned()];
    let list = |items: Vec<String>| items.join(", ");
    if let Some(level) = filter.min_severity {
        parts.push(format!("severity >= {}", level as u8));
    }
    if !filter.rules.is_empty() {
        let rules = list(filter.rules.iter().map(|r| quote(r)).collect());
        parts.push(format!("rule_id IN ({rules})"));
    }
    if !filter.statuses.is_empty() {
        let names = list(filter.statuses.iter().map(|s| quote(s.as_str())).collect());
        parts.push(format!("if(status = '', 'open', status) IN ({names})"));
    }
    if let Some(t) = filter.since {
        parts.push(format!("timed = 1 AND time >= {}", t.as_microsecond()));
    }
    if let Some(t) = filter.until {
        parts.push(format!("timed = 1 AND time < {}", t.as_microsecond()));
    }
    if let Some(host) = &filter.host {
        parts.push(format!("host = {}", quote(host)));
    }
    if let Some(ip) = &filter.source_ip {
        parts.push(format!("source_ip = {}", quote(ip)));
    }
    if let Some(text) = &filter.search {
        parts.push(format!(
            "positionCaseInsensitiveUTF8(doc, {}) > 0",
            quote(text)
        ));
    }
    parts.join(" AND ")
}

impl ClickHouse {
    fn select(
        &self,
        condition: &str,
        order_by: &str,
        limit: Option<u64>,
    ) -> Result<Vec<StoredAlert>, StoreError> {
        let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
        let rows: Vec<Row> = self.client.rows(&format!(
            "SELECT id, rule_id, title, severity, time, timed, count, status, assignee, doc, events
             FROM {TRIAGED} WHERE {condition} ORDER BY {order_by}{limit}"
        ))?;
        // The stored events they point at, read at once.
        let mut wanted: Vec<i64> = rows.iter().flat_map(|r| r.events.iter().copied()).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut docs = std::collections::HashMap::new();
        if !wanted.is_empty() {
            #[derive(Deserialize)]
            struct Doc {
                id: i64,
                doc: String,
            }
            let ids: Vec<String> = wanted.iter().map(i64::to_string).collect();
            self.client.each(
                &format!(
                    "SELECT id, any(doc) AS doc FROM events WHERE id IN ({}) GROUP BY id ORDER BY id",
                    ids.join(", ")
                ),
                |d: Doc| {
                    docs.insert(d.id, d.doc);
                    true
                },
            )?;
        }
        rows.into_iter()
            .map(|row| {
                let events: Vec<String> = row
                    .events
                    .iter()
                    .filter_map(|id| docs.get(id).cloned())
                    .collect();
                stored(row, &events)
            })
            .collect()
    }

    pub(crate) fn list_alerts(&self, filter: &AlertFilter) -> Result<Vec<StoredAlert>, StoreError> {
        self.select(&condition(filter), order(filter.order), filter.limit)
    }

    pub(crate) fn one_alert(&self, id: &str) -> Result<Option<StoredAlert>, StoreError> {
        let found = self.select(&format!("startsWith(id, {})", quote(id)), "id", Some(2))?;
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.into_iter().next()),
            _ => match found.into_iter().find(|a| a.id == id) {
                Some(exact) => Ok(Some(exact)),
                None => Err(StoreError(format!(
                    "{id} is the start of more than one alert id"
                ))),
            },
        }
    }

    pub(crate) fn steps(&self, id: &str) -> Result<Vec<Step>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            time: i64,
            user: String,
            action: String,
            status: String,
            assignee: String,
            note: Option<String>,
        }
        let rows: Vec<Row> = self.client.rows(&format!(
            "SELECT time, user, action, status, assignee, note FROM alert_history
             WHERE alert = {} ORDER BY time",
            quote(id)
        ))?;
        Ok(rows
            .into_iter()
            .map(|r| Step {
                time: Timestamp::from_microsecond(r.time).unwrap_or_default(),
                user: r.user,
                assignee: Some(r.assignee).filter(|a| !a.is_empty() && r.action == "assign"),
                action: r.action,
                status: Some(r.status).filter(|s| !s.is_empty()),
                note: r.note,
            })
            .collect())
    }

    /// Keeps a triage step, and the suppression a false positive may
    /// make; switching an indicator off needs the SQLite store, which
    /// keeps the indicators.
    pub(crate) fn take_step(
        &mut self,
        id: &str,
        step: &Triage,
        (user, note): (&str, Option<&str>),
        beside: Beside,
    ) -> Result<Triaged, StoreError> {
        beside.check(step)?;
        if beside.deactivate_ioc {
            return Err(StoreError(format!(
                "{}: switching an indicator off needs the SQLite store, which keeps the \
                 indicators",
                self.client.describe()
            )));
        }
        let alert = self
            .one_alert(id)?
            .ok_or_else(|| StoreError(format!("no alert {id}")))?;
        let (status, assignee) = match step {
            Triage::Set(status) => (status.as_str(), ""),
            Triage::Assign(who) => ("", who.as_deref().unwrap_or("")),
        };
        let now = self.after_latest(&format!(
            "SELECT max(time) AS n FROM alert_history WHERE alert = {}",
            quote(&alert.id)
        ))?;
        let row = serde_json::json!({
            "alert": alert.id,
            "time": now,
            "user": user,
            "action": step.action(),
            "status": status,
            "assignee": assignee,
            "note": note,
        });
        self.client
            .insert("alert_history", format!("{row}\n").as_bytes())?;
        let alert = self
            .one_alert(&alert.id)?
            .ok_or_else(|| StoreError(format!("alert {} vanished", alert.id)))?;
        let suppression = if beside.suppress {
            let group = alert.group();
            Some(self.suppress(&alert.rule_id, &group, (Some(&alert.id), user, note))?)
        } else {
            None
        };
        Ok(Triaged {
            alert,
            suppression,
            deactivated: None,
        })
    }
}
