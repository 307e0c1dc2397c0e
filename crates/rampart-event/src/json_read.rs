//! Reading an event back from the nested ECS JSON the writer made (an event
//! kept in the store, or sent to a cluster worker) to an event whose JSON
//! is the same text, its time, original line and origin included, so that
//! rules run again over stored events (a retro-hunt) see them as they were
//! read and raise alerts of the same ids.
//!
//! Workers and retro-hunts read every event this way, so the JSON is
//! walked as it is parsed: each leaf goes to the event under its dotted
//! name, and no tree of the whole document is built and copied.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserializer as _;

use crate::event::{Event, Origin, FILE_LINE, FILE_PATH, ORIGINAL, TIMESTAMP};
use crate::json::SHADOWED_LEAF;
use crate::value::Value;

/// What a top level that is not an object is told apart by.
const NOT_AN_OBJECT: &str = "not a JSON object";

impl Event {
    /// The event [`Event::write_json`] wrote as `text`. Addresses, MACs and
    /// times other than `@timestamp` come back as text, which rules read
    /// alike; the JSON written again is the same. An error says why `text`
    /// is not an event's JSON.
    pub fn from_ecs_json(text: &str) -> Result<Event, String> {
        let mut leaves = Vec::with_capacity(32);
        let mut de = serde_json::Deserializer::from_str(text);
        let read = de
            .deserialize_any(Level {
                prefix: None,
                out: &mut leaves,
            })
            .and_then(|()| de.end());
        if let Err(e) = read {
            return Err(match e.classify() {
                serde_json::error::Category::Data => NOT_AN_OBJECT.into(),
                _ => format!("not JSON: {e}"),
            });
        }
        let mut original = None;
        let (mut path, mut line, mut timestamp) = (None, 0, None);
        let mut rest = Vec::with_capacity(leaves.len());
        for (name, value) in leaves {
            match (name.as_str(), value) {
                (ORIGINAL, serde_json::Value::String(s)) => original = Some(s),
                (FILE_PATH, serde_json::Value::String(s)) => path = Some(s),
                (FILE_LINE, serde_json::Value::Number(n)) if n.as_u64().is_some() => {
                    line = n.as_u64().unwrap_or_default();
                }
                (TIMESTAMP, serde_json::Value::String(s)) => {
                    timestamp = Some(s.parse().map_err(|e| format!("@timestamp {s:?}: {e}"))?);
                }
                (_, value) => rest.push((name, value)),
            }
        }
        let origin = Origin::new(path.unwrap_or_default(), line);
        let mut event = Event::new(origin, original.unwrap_or_default());
        event.timestamp = timestamp;
        for (name, value) in rest {
            event.insert(name, Value::from(value));
        }
        Ok(event)
    }
}

/// The leaves read so far, under their dotted names.
type Leaves = Vec<(String, serde_json::Value)>;

/// An object whose members go to `out` under `prefix` (none at the top,
/// where anything but an object is refused).
struct Level<'a> {
    prefix: Option<&'a str>,
    out: &'a mut Leaves,
}

impl<'de> Visitor<'de> for Level<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(NOT_AN_OBJECT)
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some(key) = map.next_key_seed(Key)? {
            let name = match self.prefix {
                None => key.into_owned(),
                Some(prefix) if key == SHADOWED_LEAF => prefix.to_owned(),
                Some(prefix) => {
                    let mut name = String::with_capacity(prefix.len() + 1 + key.len());
                    name.push_str(prefix);
                    name.push('.');
                    name.push_str(&key);
                    name
                }
            };
            map.next_value_seed(Member {
                name,
                out: &mut *self.out,
            })?;
        }
        Ok(())
    }
}

/// A member's name, borrowed from the text when it holds no escape.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// The value of one member: a non-empty object is walked, anything else
/// is a leaf.
struct Member<'a> {
    name: String,
    out: &'a mut Leaves,
}

impl<'de> DeserializeSeed<'de> for Member<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl Member<'_> {
    fn leaf<E>(self, value: serde_json::Value) -> Result<(), E> {
        self.out.push((self.name, value));
        Ok(())
    }
}

impl<'de> Visitor<'de> for Member<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<(), M::Error> {
        let before = self.out.len();
        Level {
            prefix: Some(&self.name),
            out: &mut *self.out,
        }
        .visit_map(map)?;
        if self.out.len() == before {
            // An empty object is a leaf of its own.
            return self.leaf(serde_json::Value::Object(serde_json::Map::new()));
        }
        Ok(())
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element::<serde_json::Value>()? {
            items.push(item);
        }
        self.leaf(serde_json::Value::Array(items))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.leaf(serde_json::Value::String(v.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<(), E> {
        self.leaf(serde_json::Value::String(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.leaf(v.into())
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.leaf(v.into())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        match serde_json::Number::from_f64(v) {
            Some(n) => self.leaf(serde_json::Value::Number(n)),
            None => Err(E::custom("a number JSON cannot hold")),
        }
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.leaf(serde_json::Value::Bool(v))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.leaf(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use serde_json::json;

    use crate::{Event, Origin, Timestamp, Value};

    /// The leaves of a JSON object as a tree walk finds them: what the
    /// streaming reader must give.
    fn leaves_of_tree(prefix: &str, j: &serde_json::Value, out: &mut Vec<(String, Value)>) {
        let serde_json::Value::Object(object) = j else {
            unreachable!()
        };
        for (key, value) in object {
            let name = match (prefix.is_empty(), key.as_str()) {
                (false, "_value") => prefix.to_owned(),
                (true, _) => key.clone(),
                (false, _) => format!("{prefix}.{key}"),
            };
            match value {
                serde_json::Value::Object(inner) if !inner.is_empty() => {
                    leaves_of_tree(&name, value, out)
                }
                other => out.push((name, Value::from(other))),
            }
        }
    }

    #[test]
    fn an_event_comes_back_as_it_was_written() {
        let mut e = Event::new(Origin::new("logs/a b.log", 7), "line \"seven\"\n");
        e.timestamp = Some("2025-03-14T03:22:14.123Z".parse::<Timestamp>().unwrap());
        e.set("source.ip", "203.0.113.9".parse::<IpAddr>().unwrap());
        e.set("source.port", 4444u16);
        e.set("a", "shadowed leaf");
        e.set("a.b", -3i64);
        e.set("ratio", 0.25);
        e.set("flag", true);
        e.set("nothing", Value::Null);
        e.set("tags", Value::List(vec!["x".into(), 2i64.into()]));
        e.set(
            "process.args",
            Value::Json(Box::new(json!([{"k": 1}, {"k": {}}]))),
        );
        e.set("empty", Value::Json(Box::new(json!({}))));
        let mut text = Vec::new();
        e.write_json(&mut text);
        let text = String::from_utf8(text).unwrap();
        let back = Event::from_ecs_json(&text).unwrap();
        let mut again = Vec::new();
        back.write_json(&mut again);
        assert_eq!(String::from_utf8(again).unwrap(), text);
        assert_eq!(back.origin.line, 7);
        assert_eq!(&*back.origin.path, "logs/a b.log");
        assert_eq!(back.original(), "line \"seven\"\n");
        assert_eq!(back.timestamp, e.timestamp);

        let tree: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut expected = Vec::new();
        leaves_of_tree("", &tree, &mut expected);
        expected.retain(|(n, _)| {
            !matches!(
                n.as_str(),
                "@timestamp" | "event.original" | "log.file.path" | "log.file.line"
            )
        });
        let expected: Vec<_> = expected
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_ref()))
            .collect();
        assert_eq!(back.fields().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn what_is_not_an_event_is_said_so() {
        assert_eq!(
            Event::from_ecs_json("[1, 2]").unwrap_err(),
            "not a JSON object"
        );
        assert_eq!(Event::from_ecs_json("7").unwrap_err(), "not a JSON object");
        for bad in ["{\"a\": ", "{\"a\": 1} trailing", "", "{\"a\": tru}"] {
            let why = Event::from_ecs_json(bad).unwrap_err();
            assert!(why.starts_with("not JSON: "), "{bad:?}: {why}");
        }
        let why = Event::from_ecs_json("{\"@timestamp\": \"yesterday\"}").unwrap_err();
        assert!(why.starts_with("@timestamp \"yesterday\""), "{why}");
    }
}
