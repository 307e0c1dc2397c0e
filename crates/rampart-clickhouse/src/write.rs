//! Events and alerts made into the rows of ClickHouse's tables (JSON
//! lines, the body of one insert per table). Rows are made on the caller's
//! side; [`crate::ClickHouse::store`] sends them, events first, so that an
//! alert is never stored before the events it points at.

use std::collections::HashMap;
use std::net::IpAddr;

use jiff::Timestamp;
use rampart_detect::Alert;
use rampart_event::{Event, ValueRef};
use rampart_store::{Facets, NewAlert, TEXT_COLUMNS};
use serde::Serialize;
use serde_json::Value;

/// Microseconds in a day.
const DAY: i64 = 86_400_000_000;

/// Rows to insert.
#[derive(Debug, Default)]
pub struct Rows {
    events: Vec<u8>,
    alerts: Vec<u8>,
    counts: (u64, u64),
    /// The dataset and protocol of each event in these rows, for the
    /// alerts that point at them.
    about: HashMap<i64, (String, String)>,
}

/// The day a time in microseconds falls on, as ClickHouse writes a `Date`.
fn day_of(micros: i64) -> String {
    let day = micros.div_euclid(DAY) * DAY;
    Timestamp::from_microsecond(day)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| "1970-01-01".into())
}

/// The fields of an event's JSON as leaves: dotted name, text, number
/// (NaN for none) and address key (see [`address_key`]; empty for none),
/// each element of a list under the list's name.
#[derive(Debug, Default)]
struct Leaves {
    keys: Vec<String>,
    vals: Vec<String>,
    nums: Vec<f64>,
    addrs: Vec<String>,
}

/// An address as text that sorts as the address does within its family:
/// `4` and 8 hex digits, or `6` and 32, so that a range is a `BETWEEN` of
/// two such keys, with no parsing in SQL (18.16's functions and today's
/// disagree on text that is not an address).
pub(crate) fn address_key(ip: IpAddr) -> String {
    let (family, octets) = match ip {
        IpAddr::V4(a) => ('4', a.octets().to_vec()),
        IpAddr::V6(a) => ('6', a.octets().to_vec()),
    };
    let mut key = String::with_capacity(33);
    key.push(family);
    for b in octets {
        key.push_str(&format!("{b:02X}"));
    }
    key
}

impl Leaves {
    fn of(event: &Event) -> Leaves {
        let mut out = Leaves::default();
        for (name, value) in event.all_fields() {
            out.value(name, value);
        }
        out
    }

    fn push(&mut self, name: &str, text: String, number: f64) {
        self.addrs
            .push(text.parse::<IpAddr>().map(address_key).unwrap_or_default());
        self.keys.push(name.to_owned());
        self.vals.push(text);
        self.nums.push(number);
    }

    fn value(&mut self, name: &str, value: ValueRef<'_>) {
        let number = match value {
            ValueRef::Null => return,
            ValueRef::List(items) => {
                for item in items {
                    self.value(name, item.as_ref());
                }
                return;
            }
            ValueRef::Json(j) => return self.json(name, j),
            ValueRef::Int(i) => i as f64,
            ValueRef::Float(x) => x,
            ValueRef::Bool(b) => f64::from(u8::from(b)),
            _ => f64::NAN,
        };
        self.push(name, value.to_string(), number);
    }

    fn json(&mut self, name: &str, value: &Value) {
        let (text, number) = match value {
            Value::Null => return,
            Value::Object(map) => {
                for (k, v) in map {
                    self.json(&format!("{name}.{k}"), v);
                }
                return;
            }
            Value::Array(items) => {
                for item in items {
                    self.json(name, item);
                }
                return;
            }
            Value::String(s) => (s.clone(), f64::NAN),
            Value::Number(n) => (n.to_string(), n.as_f64().unwrap_or(f64::NAN)),
            Value::Bool(b) => (b.to_string(), f64::from(u8::from(*b))),
        };
        self.push(name, text, number);
    }
}

/// An event's row (see [`event_row`]).
#[derive(Serialize)]
struct EventRow<'a> {
    day: String,
    time: i64,
    timed: u8,
    id: i64,
    dataset: &'a str,
    host: &'a str,
    source_ip: &'a str,
    destination_ip: &'a str,
    user_name: &'a str,
    event_code: &'a str,
    severity: Option<i64>,
    level: &'a str,
    protocol: &'a str,
    threat: Option<i64>,
    text: &'a str,
    keys: &'a [String],
    vals: &'a [String],
    /// A number where the field holds one (JSON has no NaN).
    nums: Vec<f64>,
    numeric: Vec<u8>,
    addrs: &'a [String],
    doc: &'a str,
    stored: i64,
}

/// Writes the `events` row of `event`, stored under `id` (the same event
/// always gets the same id), as one line of JSON without its newline.
/// Returns its dataset and protocol, what an alert pointing at it is about.
pub fn event_row(id: i64, event: &Event, now: Timestamp, out: &mut Vec<u8>) -> (String, String) {
    let mut doc = Vec::with_capacity(1024);
    event.write_json(&mut doc);
    let doc = String::from_utf8_lossy(&doc);
    let column = |name: &str| event.get(name).map(|v| v.to_string()).unwrap_or_default();
    let [dataset, host, source_ip, destination_ip, user_name, event_code] =
        TEXT_COLUMNS.map(column);
    let facets = Facets::of(event);
    let severity = match event.get("event.severity") {
        Some(ValueRef::Int(i)) => Some(i),
        Some(ValueRef::Str(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let time = event.timestamp.map(|t| t.as_microsecond());
    let text = event
        .get_str("message")
        .filter(|m| !m.is_empty())
        .unwrap_or(event.original());
    let leaves = Leaves::of(event);
    let protocol = facets.protocol.unwrap_or_default();
    let row = EventRow {
        // An event without a time is kept with the day it was stored.
        day: day_of(time.unwrap_or(now.as_microsecond())),
        time: time.unwrap_or(0),
        timed: u8::from(time.is_some()),
        id,
        dataset: &dataset,
        host: &host,
        source_ip: &source_ip,
        destination_ip: &destination_ip,
        user_name: &user_name,
        event_code: &event_code,
        severity,
        level: facets.level.as_deref().unwrap_or_default(),
        protocol: &protocol,
        threat: facets.threat,
        text,
        keys: &leaves.keys,
        vals: &leaves.vals,
        nums: leaves
            .nums
            .iter()
            .map(|n| if n.is_nan() { 0.0 } else { *n })
            .collect(),
        numeric: leaves.nums.iter().map(|n| u8::from(!n.is_nan())).collect(),
        addrs: &leaves.addrs,
        doc: &doc,
        stored: now.as_microsecond(),
    };
    // Plain data with string keys: writing it cannot fail.
    let _ = serde_json::to_writer(&mut *out, &row);
    (dataset, protocol)
}

/// An alert's row (see [`alert_row`]).
#[derive(Serialize)]
struct AlertRow<'a> {
    id: &'a str,
    rule_id: &'a str,
    title: &'a str,
    severity: u8,
    time: i64,
    timed: u8,
    first_seen: i64,
    last_seen: i64,
    count: u64,
    host: &'a str,
    source_ip: &'a str,
    dataset: &'a str,
    protocol: &'a str,
    doc: &'a str,
    events: &'a [i64],
    updated: i64,
}

/// Writes the `alerts` row of `alert` (stored again, it replaces the alert
/// of its id) as one line of JSON without its newline. `events` are the
/// ids of the stored events it points at, `about` their first one's
/// dataset and protocol; without them, what it is about comes from the
/// first event it carries.
pub fn alert_row(
    alert: &Alert,
    (events, about): (&[i64], Option<(String, String)>),
    now: Timestamp,
    out: &mut Vec<u8>,
) {
    let mut doc = Vec::with_capacity(2048);
    let _ = alert.write_stored_json(&mut doc);
    let doc = String::from_utf8_lossy(&doc);
    let group = |name: &str| {
        alert
            .group
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let (dataset, protocol) = about.unwrap_or_else(|| {
        alert
            .events
            .first()
            .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok())
            .map(|e| {
                let text = |p: &str| e.pointer(p).and_then(Value::as_str);
                (
                    text("/event/dataset").unwrap_or_default().to_owned(),
                    rampart_store::protocol(text("/network/protocol"), text("/network/transport"))
                        .unwrap_or_default(),
                )
            })
            .unwrap_or_default()
    });
    let micros = |t: Option<Timestamp>| t.map_or(0, |t| t.as_microsecond());
    let row = AlertRow {
        id: &alert.id,
        rule_id: &alert.rule_id,
        title: &alert.title,
        severity: alert.severity as u8,
        time: micros(alert.timestamp),
        timed: u8::from(alert.timestamp.is_some()),
        first_seen: micros(alert.first_seen),
        last_seen: micros(alert.last_seen),
        count: alert.count,
        host: group("host.name"),
        source_ip: group("source.ip"),
        dataset: &dataset,
        protocol: &protocol,
        doc: &doc,
        events,
        updated: now.as_microsecond(),
    };
    let _ = serde_json::to_writer(&mut *out, &row);
}

impl Rows {
    /// Adds `event` under `id` (its source and place).
    pub fn event(&mut self, id: i64, event: &Event, now: Timestamp) {
        let about = event_row(id, event, now, &mut self.events);
        self.events.push(b'\n');
        self.about.insert(id, about);
        self.counts.0 += 1;
    }

    /// Adds `alert`, the stored events it points at apart.
    pub fn alert(&mut self, new: &NewAlert, now: Timestamp) {
        let about = new
            .events
            .first()
            .and_then(|id| self.about.get(id).cloned());
        alert_row(&new.alert, (&new.events, about), now, &mut self.alerts);
        self.alerts.push(b'\n');
        self.counts.1 += 1;
    }

    /// Events and alerts held.
    pub fn counts(&self) -> (u64, u64) {
        self.counts
    }

    /// The event rows and the alert rows, as insert bodies.
    pub(crate) fn bodies(&self) -> (&[u8], &[u8]) {
        (&self.events, &self.alerts)
    }

    /// Empties it, for the next batch.
    pub fn clear(&mut self) {
        self.events.clear();
        self.alerts.clear();
        self.counts = (0, 0);
        self.about.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::Origin;
    use serde_json::json;

    #[test]
    fn a_day_is_the_utc_date_of_a_time_before_1970_too() {
        assert_eq!(day_of(0), "1970-01-01");
        assert_eq!(day_of(DAY - 1), "1970-01-01");
        assert_eq!(day_of(1_741_910_400_000_000), "2025-03-14");
        assert_eq!(day_of(-1), "1969-12-31");
    }

    #[test]
    fn every_field_is_a_leaf_with_lists_and_json_spread_out() {
        let mut e = Event::new(Origin::new("a.log", 3), "line");
        e.set("user.name", "ana");
        e.set("http.response.status_code", 404i64);
        e.insert(
            "threat.enrichments",
            rampart_event::Value::Json(Box::new(json!([{"indicator": {"confidence": 7}}]))),
        );
        e.set("source.ip", "10.0.0.1");
        let Leaves {
            keys,
            vals,
            nums,
            addrs,
        } = Leaves::of(&e);
        let at = |k: &str| keys.iter().position(|x| x == k).unwrap();
        assert_eq!(vals[at("user.name")], "ana");
        assert!(nums[at("user.name")].is_nan());
        assert_eq!(nums[at("http.response.status_code")], 404.0);
        assert_eq!(vals[at("threat.enrichments.indicator.confidence")], "7");
        assert_eq!(vals[at("log.file.line")], "3");
        assert_eq!(addrs[at("source.ip")], "40A000001");
        assert_eq!(addrs[at("user.name")], "");
        let v6 = address_key("2001:db8::1".parse().unwrap());
        assert_eq!(v6, "620010DB8000000000000000000000001");
    }
}
