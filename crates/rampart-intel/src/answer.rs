//! What a lookup service or database answers about one value (a JSON
//! object), and the fields of it an event takes: those a pipeline names
//! (`fields: {score: data.abuseConfidenceScore}`), or every scalar leaf
//! under its dotted path. Answers come from outside: at most
//! [`MAX_FIELDS`] leaves, [`MAX_DEPTH`] levels and [`MAX_TEXT`] bytes of
//! text each are taken.

use rampart_event::{Event, Value};
use serde_json::Value as Json;

/// Leaves an answer gives an event, at most.
pub const MAX_FIELDS: usize = 64;
/// Levels of an answer walked, at most.
pub const MAX_DEPTH: usize = 6;
/// Bytes of one text value kept, at most.
pub const MAX_TEXT: usize = 4096;

/// What an answer gives: the named paths, or every leaf.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// Every scalar leaf, named by its path.
    pub fn all() -> Fields {
        Fields(Vec::new())
    }

    /// The leaves at these dotted paths, each named as given.
    pub fn named(names_and_paths: Vec<(String, String)>) -> Fields {
        Fields(names_and_paths)
    }
}

/// A lookup's answer on one value.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The fields the answer gave (named below the lookup's prefix).
    Found(Vec<(String, Value)>),
    /// The service or database has nothing on the value.
    NotFound,
}

impl Answer {
    /// The fields `fields` picks out of `json`.
    pub fn of(json: &Json, fields: &Fields) -> Answer {
        let mut out = Vec::new();
        if fields.0.is_empty() {
            leaves(json, &mut String::new(), 0, &mut out);
        } else {
            for (name, path) in &fields.0 {
                if let Some(v) = path.split('.').try_fold(json, |j, part| match j {
                    Json::Array(items) => items.get(part.parse::<usize>().ok()?),
                    _ => j.get(part),
                }) {
                    if let Some(v) = scalar(v) {
                        out.push((name.clone(), v));
                    }
                }
            }
        }
        Answer::Found(out)
    }

    /// Writes the answer into `event` under `into`: `{into}.found`, then
    /// each field as `{into}.{name}`.
    pub fn enrich(&self, event: &mut Event, into: &str) {
        match self {
            Answer::NotFound => event.insert(format!("{into}.found"), Value::Bool(false)),
            Answer::Found(fields) => {
                event.insert(format!("{into}.found"), Value::Bool(true));
                for (name, value) in fields {
                    event.insert(format!("{into}.{name}"), value.clone());
                }
            }
        }
    }
}

fn leaves(json: &Json, path: &mut String, depth: usize, out: &mut Vec<(String, Value)>) {
    if out.len() >= MAX_FIELDS {
        return;
    }
    match json {
        Json::Object(map) if depth < MAX_DEPTH => {
            for (key, value) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                leaves(value, path, depth + 1, out);
                path.truncate(len);
            }
        }
        Json::Object(_) => {}
        _ if path.is_empty() => {}
        other => {
            if let Some(v) = scalar(other) {
                out.push((path.clone(), v));
            }
        }
    }
}

/// A JSON value as an event value: scalars, and lists of scalars; text cut
/// at [`MAX_TEXT`] bytes.
fn scalar(json: &Json) -> Option<Value> {
    Some(match json {
        Json::Null | Json::Object(_) => return None,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64()?),
        },
        Json::String(s) => {
            let mut end = s.len().min(MAX_TEXT);
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            Value::Str(s[..end].to_string())
        }
        Json::Array(items) => Value::List(
            items
                .iter()
                .filter(|i| !i.is_array())
                .filter_map(scalar)
                .take(MAX_FIELDS)
                .collect(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn named_paths_pick_their_leaves_and_skip_what_is_absent() {
        let j = json!({"data": {"score": 87, "country": "NL", "tags": ["tor", "vpn"],
                       "reports": [{"by": "x"}]}});
        let a = Answer::of(
            &j,
            &Fields::named(vec![
                ("score".into(), "data.score".into()),
                ("first_by".into(), "data.reports.0.by".into()),
                ("tags".into(), "data.tags".into()),
                ("missing".into(), "data.nope".into()),
            ]),
        );
        assert_eq!(
            a,
            Answer::Found(vec![
                ("score".into(), Value::Int(87)),
                ("first_by".into(), Value::Str("x".into())),
                (
                    "tags".into(),
                    Value::List(vec![Value::Str("tor".into()), Value::Str("vpn".into())])
                ),
            ])
        );
    }

    #[test]
    fn every_leaf_is_taken_within_bounds() {
        let mut deep = json!(1);
        for _ in 0..20 {
            deep = json!({ "d": deep });
        }
        let wide: serde_json::Map<String, Json> =
            (0..500).map(|i| (format!("k{i}"), json!(i))).collect();
        let long = "x".repeat(10_000);
        let j = json!({"a": {"b": true, "c": null}, "deep": deep, "long": long, "wide": wide});
        let Answer::Found(fields) = Answer::of(&j, &Fields::all()) else {
            panic!()
        };
        assert_eq!(fields[0], ("a.b".to_string(), Value::Bool(true)));
        assert!(fields.len() <= MAX_FIELDS);
        assert!(fields
            .iter()
            .all(|(n, _)| n.split('.').count() <= MAX_DEPTH));
        let Some((_, Value::Str(s))) = fields.iter().find(|(n, _)| n == "long") else {
            panic!("{fields:?}")
        };
        assert_eq!(s.len(), MAX_TEXT);
    }
}
