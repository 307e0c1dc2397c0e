//! evtx_dump-shaped JSON (`{"Event": {"System": .., "EventData": ..}}`), the
//! text every binary EVTX record is rendered to, read without copying.
//!
//! Strings are borrowed from the record's text wherever JSON did not have
//! to escape them, so most `EventData` values end up as ranges of
//! `event.original` instead of owned copies; only the parts of `System`
//! rampart reads are looked at, the rest is skipped unbuilt.

use std::borrow::Cow;
use std::fmt;

use rampart_event::Value;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::{Field, WinRecord};
use crate::context::FileContext;
use crate::text::uint;

/// The record as rendered: only `Event` is read.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(rename = "Event", borrow)]
    event: Parts<'a>,
}

#[derive(Deserialize)]
struct Parts<'a> {
    #[serde(rename = "System", borrow, default)]
    system: System<'a>,
    #[serde(rename = "EventData", borrow, default)]
    event_data: Option<Node<'a>>,
    #[serde(rename = "UserData", borrow, default)]
    user_data: Option<Node<'a>>,
}

/// The parts of `System` rampart maps; Version, Task, Keywords and the
/// rest are skipped.
#[derive(Default, Deserialize)]
struct System<'a> {
    #[serde(rename = "Provider", borrow)]
    provider: Option<Node<'a>>,
    #[serde(rename = "EventID", borrow)]
    event_id: Option<Node<'a>>,
    #[serde(rename = "Channel", borrow)]
    channel: Option<Node<'a>>,
    #[serde(rename = "Computer", borrow)]
    computer: Option<Node<'a>>,
    #[serde(rename = "EventRecordID", borrow)]
    record_id: Option<Node<'a>>,
    #[serde(rename = "Level", borrow)]
    level: Option<Node<'a>>,
    #[serde(rename = "TimeCreated", borrow)]
    time_created: Option<Node<'a>>,
    #[serde(rename = "Execution", borrow)]
    execution: Option<Node<'a>>,
    #[serde(rename = "Security", borrow)]
    security: Option<Node<'a>>,
}

/// A JSON value whose strings borrow from the text when they can. Objects
/// are kept as ordered lists of entries: they are small and read once.
#[derive(Debug, Clone, PartialEq)]
enum Node<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(Cow<'a, str>),
    List(Vec<Node<'a>>),
    Map(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl<'a> Node<'a> {
    fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn attr(&self, name: &str) -> Option<&Node<'a>> {
        self.get("#attributes")?.get(name)
    }

    /// Text as it stands, numbers written out, `#text` of an element.
    fn text(&self) -> Option<Cow<'a, str>> {
        match self {
            Node::Text(s) => Some(s.clone()),
            Node::Int(i) => Some(Cow::Owned(i.to_string())),
            Node::Map(_) => self.get("#text").and_then(Node::text),
            _ => None,
        }
    }

    fn number(&self) -> Option<u64> {
        match self {
            Node::Int(i) => u64::try_from(*i).ok(),
            Node::Text(s) => uint(s.trim()),
            Node::Map(_) => self.get("#text").and_then(Node::number),
            _ => None,
        }
    }

    /// The value of one data field: text stays borrowed, anything else
    /// becomes a typed value.
    fn into_field(self) -> Field<'a> {
        match self {
            Node::Text(s) => Field::Text(s),
            other => Field::Value(Value::from(&other.into_json())),
        }
    }

    fn into_json(self) -> serde_json::Value {
        use serde_json::Value as Json;
        match self {
            Node::Null => Json::Null,
            Node::Bool(b) => Json::Bool(b),
            Node::Int(i) => Json::from(i),
            Node::Float(x) => Json::from(x),
            Node::Text(s) => Json::String(s.into_owned()),
            Node::List(items) => Json::Array(items.into_iter().map(Node::into_json).collect()),
            Node::Map(entries) => Json::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.into_owned(), v.into_json()))
                    .collect(),
            ),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Node<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor(std::marker::PhantomData))
    }
}

struct NodeVisitor<'a>(std::marker::PhantomData<Node<'a>>);

impl<'de: 'a, 'a> Visitor<'de> for NodeVisitor<'a> {
    type Value = Node<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Node<'a>, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node<'a>, E> {
        Ok(Node::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Node<'a>, E> {
        Ok(Node::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Node<'a>, E> {
        Ok(Node::Int(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Node<'a>, E> {
        Ok(i64::try_from(u).map_or(Node::Float(u as f64), Node::Int))
    }

    fn visit_f64<E>(self, x: f64) -> Result<Node<'a>, E> {
        Ok(Node::Float(x))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Node<'a>, E> {
        Ok(Node::Text(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Node<'a>, E> {
        Ok(Node::Text(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Node<'a>, E> {
        Ok(Node::Text(Cow::Owned(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'a>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'a>, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(Key(k)) = map.next_key()? {
            entries.push((k, map.next_value()?));
        }
        Ok(Node::Map(entries))
    }
}

/// An object key, borrowed unless it had escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// Reads one evtx_dump-shaped record; `None` when `text` is not JSON or has
/// no `Event` object.
pub fn record<'a>(text: &'a str, ctx: &FileContext) -> Option<WinRecord<'a>> {
    let Record { event } = serde_json::from_str(text).ok()?;
    let sys = &event.system;
    let mut rec = WinRecord {
        provider: sys
            .provider
            .as_ref()
            .and_then(|p| p.attr("Name"))
            .and_then(Node::text),
        event_id: sys
            .event_id
            .as_ref()
            .and_then(Node::number)
            .and_then(|n| u32::try_from(n).ok()),
        channel: sys.channel.as_ref().and_then(Node::text),
        computer: sys.computer.as_ref().and_then(Node::text),
        record_id: sys.record_id.as_ref().and_then(Node::number),
        level: sys
            .level
            .as_ref()
            .and_then(Node::number)
            .and_then(|n| i64::try_from(n).ok()),
        time: sys
            .time_created
            .as_ref()
            .and_then(|t| t.attr("SystemTime"))
            .and_then(Node::text)
            .and_then(|t| crate::timefmt::any(&t, &ctx.options.zone)),
        pid: sys
            .execution
            .as_ref()
            .and_then(|x| x.attr("ProcessID"))
            .and_then(Node::number),
        tid: sys
            .execution
            .as_ref()
            .and_then(|x| x.attr("ThreadID"))
            .and_then(Node::number),
        user_sid: sys
            .security
            .as_ref()
            .and_then(|s| s.attr("UserID"))
            .and_then(Node::text),
        ..Default::default()
    };
    for data in [event.event_data, event.user_data].into_iter().flatten() {
        data_fields(data, &mut rec.data);
    }
    Some(rec)
}

/// `EventData` / `UserData` fields in order: `Name: value` pairs, elements
/// with `#text`, unnamed `Data` arrays as one list `Data`; `UserData`
/// wraps its fields in one more element, which is looked through.
fn data_fields<'a>(data: Node<'a>, into: &mut Vec<(Cow<'a, str>, Field<'a>)>) {
    let Node::Map(entries) = data else { return };
    for (key, value) in entries {
        if key == "#attributes" {
            continue;
        }
        match value {
            Node::Map(inner) if inner.iter().any(|(k, _)| k == "#text") => {
                if let Some((_, text)) = inner.into_iter().find(|(k, _)| k == "#text") {
                    into.push((key, text.into_field()));
                }
            }
            map @ Node::Map(_) => data_fields(map, into),
            // Unnamed `Data` are one list `Data`, as the EVTX reader gives
            // them.
            Node::List(items) if key == "Data" => {
                let items = items
                    .into_iter()
                    .map(|item| match item.into_field() {
                        Field::Text(t) => Value::Str(t.into_owned()),
                        Field::Value(v) => v,
                    })
                    .collect();
                into.push((key, Field::Value(Value::List(items))));
            }
            other => into.push((key, other.into_field())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    fn ctx() -> FileContext {
        FileContext::new("x.evtx", ParseOptions::default())
    }

    #[test]
    fn unescaped_text_is_borrowed_and_escaped_text_is_decoded() {
        let text = r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"{5770}"}},"EventID":1,"Version":5,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"WS01","Execution":{"#attributes":{"ProcessID":1640,"ThreadID":2004}},"TimeCreated":{"#attributes":{"SystemTime":"2019-05-14T12:00:00.123456Z"}}},"EventData":{"RuleName":"","Image":"C:\\Windows\\cmd.exe","User":"NT AUTHORITY\\SYSTEM","ProcessId":4242,"Hashes":"SHA256=AB"}}}"##;
        let rec = record(text, &ctx()).unwrap();
        assert_eq!(rec.event_id, Some(1));
        assert_eq!(rec.pid, Some(1640));
        assert!(matches!(rec.computer, Some(Cow::Borrowed("WS01"))));
        let names: Vec<&str> = rec.data.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(names, ["RuleName", "Image", "User", "ProcessId", "Hashes"]);
        assert!(matches!(&rec.data[0].1, Field::Text(Cow::Borrowed(""))));
        assert!(
            matches!(&rec.data[1].1, Field::Text(Cow::Owned(s)) if s == "C:\\Windows\\cmd.exe")
        );
        assert!(matches!(&rec.data[3].1, Field::Value(Value::Int(4242))));
        assert!(matches!(
            &rec.data[4].1,
            Field::Text(Cow::Borrowed("SHA256=AB"))
        ));
    }

    #[test]
    fn text_elements_unnamed_data_and_user_data_are_flattened() {
        let text = r##"{"Event":{"System":{"EventID":{"#attributes":{"Qualifiers":16384},"#text":7045}},"EventData":{"Data":["a",2,null],"Binary":{"#text":"00FF"}},"UserData":{"LogFileCleared":{"#attributes":{"xmlns":"y"},"SubjectUserName":"bob"}}}}"##;
        let rec = record(text, &ctx()).unwrap();
        assert_eq!(rec.event_id, Some(7045));
        let fields = crate::formats::windows::shown(&rec);
        assert_eq!(
            fields,
            [
                ("Data", r#"List([Str("a"), Int(2), Null])"#.to_owned()),
                ("Binary", "00FF".to_owned()),
                ("SubjectUserName", "bob".to_owned()),
            ]
        );
    }

    #[test]
    fn text_that_is_not_an_event_is_refused() {
        assert!(record("{\"a\":1}", &ctx()).is_none());
        assert!(record("{\"Event\":", &ctx()).is_none());
    }
}
