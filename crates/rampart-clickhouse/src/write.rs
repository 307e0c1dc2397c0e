//! Events and alerts made into the rows of ClickHouse's tables (JSON
//! lines, the body of one insert per table). Rows are made on the caller's
//! side; [`crate::ClickHouse::store`] sends them, events first, so that an
//! alert is never stored before the events it points at.

use std::collections::HashMap;
use std::net::IpAddr;

use jiff::Timestamp;
use rampart_detect::Level;
use rampart_event::{Event, ValueRef};
use rampart_store::{Facets, NewAlert, TEXT_COLUMNS};
use serde_json::{json, Value};

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

impl Rows {
    /// Adds `event` under `id` (its source and place; the same event
    /// always gets the same id).
    pub fn event(&mut self, id: i64, event: &Event, now: Timestamp) {
        let mut doc = Vec::new();
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
        let Leaves {
            keys,
            vals,
            nums,
            addrs,
        } = Leaves::of(event);
        let protocol = facets.protocol.unwrap_or_default();
        self.about.insert(id, (dataset.clone(), protocol.clone()));
        let row = json!({
            // An event without a time is kept with the day it was stored.
            "day": day_of(time.unwrap_or(now.as_microsecond())),
            "time": time.unwrap_or(0),
            "timed": u8::from(time.is_some()),
            "id": id,
            "dataset": dataset,
            "host": host,
            "source_ip": source_ip,
            "destination_ip": destination_ip,
            "user_name": user_name,
            "event_code": event_code,
            "severity": severity,
            "level": facets.level.unwrap_or_default(),
            "protocol": protocol,
            "threat": facets.threat,
            "text": text,
            "keys": keys,
            "vals": vals,
            "addrs": addrs,
            // A number where the field holds one (JSON has no NaN).
            "numeric": nums.iter().map(|n| u8::from(!n.is_nan())).collect::<Vec<u8>>(),
            "nums": nums.iter().map(|n| if n.is_nan() { 0.0 } else { *n }).collect::<Vec<f64>>(),
            "doc": doc,
            "stored": now.as_microsecond(),
        });
        self.events.extend_from_slice(row.to_string().as_bytes());
        self.events.push(b'\n');
        self.counts.0 += 1;
    }

    /// Adds `alert` (stored again, it replaces the alert of its id), the
    /// stored events it points at apart.
    pub fn alert(&mut self, new: &NewAlert, now: Timestamp) {
        let mut doc = Vec::new();
        let _ = new.alert.write_stored_json(&mut doc);
        if let Ok(value) = serde_json::from_slice::<Value>(&doc) {
            self.alert_row(&value, &new.events, now);
        }
    }

    /// Adds an alert as its JSON (as a pipeline's sink is handed it, its
    /// events carried in it).
    pub fn alert_json(&mut self, json: &[u8], now: Timestamp) -> Result<(), String> {
        let value: Value = serde_json::from_slice(json).map_err(|e| format!("an alert: {e}"))?;
        if !value["id"].is_string() {
            return Err("an alert without an id".into());
        }
        self.alert_row(&value, &[], now);
        Ok(())
    }

    /// Adds an event as its JSON, under `id`.
    pub fn event_json(&mut self, id: i64, json: &str, now: Timestamp) -> Result<(), String> {
        let event = Event::from_ecs_json(json)?;
        self.event(id, &event, now);
        Ok(())
    }

    fn alert_row(&mut self, a: &Value, events: &[i64], now: Timestamp) {
        let text = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_owned);
        // What the alert is about: the dataset and protocol of its first
        // event, stored beside it or carried in it.
        let (dataset, protocol) = match events.first() {
            Some(id) => self.about.get(id).cloned().unwrap_or_default(),
            None => {
                let first = &a["events"][0];
                (
                    text(first, "/event/dataset").unwrap_or_default(),
                    rampart_store::protocol(
                        text(first, "/network/protocol").as_deref(),
                        text(first, "/network/transport").as_deref(),
                    )
                    .unwrap_or_default(),
                )
            }
        };
        let micros = |p: &str| {
            text(a, p)
                .and_then(|t| t.parse::<Timestamp>().ok())
                .map(|t| t.as_microsecond())
        };
        let time = micros("/timestamp");
        let severity = text(a, "/severity")
            .and_then(|l| Level::parse(&l))
            .unwrap_or(Level::Medium);
        let row = json!({
            "id": text(a, "/id"),
            "rule_id": text(a, "/rule_id").unwrap_or_default(),
            "title": text(a, "/title").unwrap_or_default(),
            "severity": severity as u8,
            "time": time.unwrap_or(0),
            "timed": u8::from(time.is_some()),
            "first_seen": micros("/first_seen").unwrap_or(0),
            "last_seen": micros("/last_seen").unwrap_or(0),
            "count": a["count"].as_u64().unwrap_or(1),
            "host": text(a, "/group/host.name").unwrap_or_default(),
            "source_ip": text(a, "/group/source.ip").unwrap_or_default(),
            "dataset": dataset,
            "protocol": protocol,
            "doc": a.to_string(),
            "events": events,
            "updated": now.as_microsecond(),
        });
        self.alerts.extend_from_slice(row.to_string().as_bytes());
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
