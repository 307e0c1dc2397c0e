//! What a sink is handed of each event, and in what shape: the events a
//! condition (`where:`, the query language of `rampart events`) and a
//! sample keep, their fields dropped, renamed and added (`transforms:`),
//! and the flat record a receiving SIEM's searches expect (`template:`,
//! seed 000's record, Splunk CIM names).
//!
//! Sampling is by a hash of the event (or of one field's value), never by
//! a counter: a replay or a restart keeps the same events, so a sink
//! written at least once gets no event it would not have got.

use rampart_event::{Event, ValueRef};
use rampart_store::Filter;
use serde_json::{Map, Value as Json};
use xxhash_rust::xxh3::xxh3_64;

/// One change to an event's fields, on its nested JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transform {
    /// These fields (dotted paths) removed.
    Drop(Vec<String>),
    /// Each field moved to its new name.
    Rename(Vec<(String, String)>),
    /// Each field set to a text.
    Add(Vec<(String, String)>),
}

/// One event in `one_in`, chosen by a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Keeps one event in this many.
    pub one_in: u64,
    /// The field whose value is hashed (all events of one value are kept
    /// or left together); none: the event's own text and place.
    pub by: Option<String>,
}

/// The selection and shape of a sink's events.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    /// Only events that match.
    pub filter: Option<Filter>,
    /// Only a sample of them.
    pub sample: Option<Sample>,
    /// Changes to each event's fields, in order.
    pub transforms: Vec<Transform>,
    /// The flat record written instead of the event: (record name, field).
    pub template: Option<Vec<(String, String)>>,
}

impl Shape {
    /// Whether `event` goes to the sink.
    pub fn admits(&self, event: &Event) -> bool {
        if self.filter.as_ref().is_some_and(|f| !f.matches(event)) {
            return false;
        }
        match &self.sample {
            None => true,
            Some(s) => {
                let hash = match &s.by {
                    Some(field) => xxh3_64(
                        event
                            .get(field)
                            .map(|v| v.to_string())
                            .unwrap_or_default()
                            .as_bytes(),
                    ),
                    None => {
                        let place = format!("\u{0}{}\u{0}{}", event.origin.path, event.origin.line);
                        xxh3_64(format!("{}{place}", event.original()).as_bytes())
                    }
                };
                hash % s.one_in.max(1) == 0
            }
        }
    }

    /// The record to write for `event`, or none when it goes whole.
    pub fn record(&self, event: &Event) -> Option<Vec<u8>> {
        if self.transforms.is_empty() {
            return self.template.as_ref().map(|t| flat(event, t));
        }
        let mut doc = event_json(event);
        for t in &self.transforms {
            apply(t, &mut doc);
        }
        let mut out = Vec::with_capacity(256);
        match &self.template {
            Some(template) => {
                // In the template's order, which a JSON map would not keep.
                out.push(b'{');
                for (i, (name, path)) in template.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    // Plain values into a vector: cannot fail.
                    let _ = serde_json::to_writer(&mut out, name);
                    out.push(b':');
                    let _ =
                        serde_json::to_writer(&mut out, within(&doc, path).unwrap_or(&Json::Null));
                }
                out.push(b'}');
            }
            None => {
                let _ = serde_json::to_writer(&mut out, &doc);
            }
        }
        Some(out)
    }
}

/// The event's nested JSON, as sinks write it.
fn event_json(event: &Event) -> Json {
    let mut bytes = Vec::with_capacity(512);
    event.write_json(&mut bytes);
    serde_json::from_slice(&bytes).unwrap_or(Json::Null)
}

fn apply(t: &Transform, doc: &mut Json) {
    match t {
        Transform::Drop(paths) => {
            for p in paths {
                take(doc, p);
            }
        }
        Transform::Rename(pairs) => {
            for (from, to) in pairs {
                if let Some(v) = take(doc, from) {
                    put(doc, to, v);
                }
            }
        }
        Transform::Add(pairs) => {
            for (path, text) in pairs {
                put(doc, path, Json::String(text.clone()));
            }
        }
    }
}

/// Removes the value at a dotted path, and the objects it leaves empty.
fn take(doc: &mut Json, path: &str) -> Option<Json> {
    let Json::Object(map) = doc else {
        return None;
    };
    match path.split_once('.') {
        None => map.remove(path),
        Some((head, rest)) => {
            let child = map.get_mut(head)?;
            let taken = take(child, rest);
            if child.as_object().is_some_and(Map::is_empty) {
                map.remove(head);
            }
            taken
        }
    }
}

/// Sets the value at a dotted path, making the objects on the way (a value
/// in the way is replaced by an object).
fn put(doc: &mut Json, path: &str, value: Json) {
    if !doc.is_object() {
        *doc = Json::Object(Map::new());
    }
    let Json::Object(map) = doc else {
        return;
    };
    match path.split_once('.') {
        None => {
            map.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let child = map
                .entry(head.to_string())
                .or_insert_with(|| Json::Object(Map::new()));
            put(child, rest, value);
        }
    }
}

/// The event as the flat record `template` names, written straight from
/// its fields.
fn flat(event: &Event, template: &[(String, String)]) -> Vec<u8> {
    let mut json = Vec::with_capacity(256);
    json.push(b'{');
    for (i, (name, field)) in template.iter().enumerate() {
        if i > 0 {
            json.push(b',');
        }
        // A string into a vector: cannot fail.
        let _ = serde_json::to_writer(&mut json, name);
        json.push(b':');
        match event.get(field).or_else(|| nested(event, field)) {
            Some(value) => rampart_event::write_value(&mut json, value),
            None => json.extend_from_slice(b"null"),
        }
    }
    json.push(b'}');
    json
}

/// A template's field inside a field that holds JSON: the longest name
/// before a dot that is a field, then the rest as keys within it, a list
/// searched for its first entry that has them
/// (`threat.enrichments.virustotal.malicious`).
fn nested<'e>(event: &'e Event, path: &str) -> Option<ValueRef<'e>> {
    path.match_indices('.').rev().find_map(|(at, _)| {
        let Some(ValueRef::Json(json)) = event.get(&path[..at]) else {
            return None;
        };
        within(json, &path[at + 1..]).map(ValueRef::Json)
    })
}

/// The value at dotted `keys` within `json`, a list searched for its first
/// entry that has them.
fn within<'j>(json: &'j Json, keys: &str) -> Option<&'j Json> {
    match json {
        Json::Array(items) => items.iter().find_map(|item| within(item, keys)),
        Json::Object(map) => {
            let (key, rest) = keys
                .split_once('.')
                .map_or((keys, None), |(k, r)| (k, Some(r)));
            let value = map.get(key)?;
            match rest {
                Some(rest) => within(value, rest),
                None => Some(value),
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::{Origin, Value};

    fn event(line: u64, ip: &str) -> Event {
        let mut e = Event::new(Origin::new("t.log", line), format!("line {line}"));
        e.insert("source.ip", Value::Str(ip.into()));
        e.insert("user.name", Value::Str("root".into()));
        e
    }

    fn text(bytes: Option<Vec<u8>>) -> String {
        String::from_utf8(bytes.unwrap()).unwrap()
    }

    #[test]
    fn template_fields_reach_into_json_fields_and_their_lists() {
        let mut e = event(1, "204.76.203.208");
        let enrichments = serde_json::json!([
            {"feed": {"name": "ipsum"}},
            {"virustotal": {"malicious": 10, "asn": 51396, "country": "NL"}},
        ]);
        e.insert("threat.enrichments", Value::Json(Box::new(enrichments)));
        let template = |pairs: &[(&str, &str)]| Shape {
            template: Some(
                pairs
                    .iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
            ),
            ..Shape::default()
        };
        let shape = template(&[
            ("ip", "source.ip"),
            ("score", "threat.enrichments.virustotal.malicious"),
            ("feed", "threat.enrichments.feed.name"),
            ("none", "threat.enrichments.virustotal.missing"),
            ("deeper", "source.ip.deeper"),
        ]);
        assert_eq!(
            text(shape.record(&e)),
            r#"{"ip":"204.76.203.208","score":10,"feed":"ipsum","none":null,"deeper":null}"#
        );
    }

    #[test]
    fn transforms_drop_rename_and_add_on_the_nested_event() {
        let shape = Shape {
            transforms: vec![
                Transform::Drop(vec!["event.original".into(), "log".into()]),
                Transform::Rename(vec![
                    ("source.ip".into(), "src_ip".into()),
                    ("absent".into(), "nowhere".into()),
                ]),
                Transform::Add(vec![("observer.name".into(), "edge-1".into())]),
            ],
            ..Shape::default()
        };
        let out: Json =
            serde_json::from_slice(&shape.record(&event(7, "1.2.3.4")).unwrap()).unwrap();
        assert_eq!(
            out,
            serde_json::json!({
                "src_ip": "1.2.3.4",
                "user": {"name": "root"},
                "observer": {"name": "edge-1"},
            })
        );
        // A template then reads the transformed event.
        let shape = Shape {
            template: Some(vec![
                ("ip".into(), "src_ip".into()),
                ("who".into(), "user.name".into()),
            ]),
            ..shape
        };
        assert_eq!(
            text(shape.record(&event(7, "1.2.3.4"))),
            r#"{"ip":"1.2.3.4","who":"root"}"#
        );
    }

    #[test]
    fn a_condition_and_a_sample_choose_the_same_events_every_time() {
        let shape = Shape {
            filter: Some(Filter::new("source.ip=10.0.0.0/8").unwrap()),
            sample: Some(Sample {
                one_in: 4,
                by: None,
            }),
            ..Shape::default()
        };
        let kept = |shape: &Shape| -> Vec<u64> {
            (1..=4000)
                .filter(|n| {
                    shape.admits(&event(*n, if n % 2 == 0 { "10.0.0.1" } else { "8.8.8.8" }))
                })
                .collect()
        };
        let first = kept(&shape);
        assert_eq!(first, kept(&shape), "a sample is the same on a replay");
        assert!(first.iter().all(|n| n % 2 == 0), "only what matches");
        // About a quarter of the 2,000 that match.
        assert!((400..600).contains(&first.len()), "{}", first.len());
        // By a field: every event of one value goes, or none.
        let by_ip = Shape {
            sample: Some(Sample {
                one_in: 2,
                by: Some("source.ip".into()),
            }),
            ..Shape::default()
        };
        let lines: Vec<bool> = (1..=50)
            .map(|n| by_ip.admits(&event(n, "9.9.9.9")))
            .collect();
        assert!(lines.iter().all(|k| *k == lines[0]));
    }
}
