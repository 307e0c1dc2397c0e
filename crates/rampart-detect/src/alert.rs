//! Alerts as DESIGN §6 defines them: what fired, why, on which events, and
//! where those events came from. An alert reads on its own: it carries the
//! triggering events (up to a cap) as normalised JSON.

mod saved;

use std::sync::Arc;

use rampart_event::{Event, Timestamp};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value as Json;

use crate::attack::{Catalogue, TechniqueInfo};
use crate::compile::Matched;
use crate::rule::{Level, Rule};
pub use saved::{from_nanos, nanos};

/// A MITRE ATT&CK technique named by a rule's tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Technique {
    /// `T1059.001`.
    pub id: String,
    /// Its name, tactics and page, when the catalogue knows it.
    pub info: Option<&'static TechniqueInfo>,
}

/// Where the first event behind an alert was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file.
    pub path: Arc<str>,
    /// The line (or record number).
    pub line: u64,
}

/// The JSON form of an alert (DESIGN §6), in field order.
#[derive(Serialize)]
struct AlertJson<'a> {
    id: &'a str,
    rule_id: &'a str,
    title: &'a str,
    author: Option<&'a str>,
    references: &'a [String],
    severity: &'static str,
    timestamp: Option<String>,
    first_seen: Option<String>,
    last_seen: Option<String>,
    count: u64,
    group: GroupJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mitre: Option<Vec<TechniqueJson<'a>>>,
    tags: &'a [String],
    matched: Vec<MatchedJson<'a>>,
    events: &'a [Box<RawValue>],
    origin: OriginJson<'a>,
}

/// One `matched` entry.
#[derive(Serialize)]
struct MatchedJson<'a> {
    search: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
}

/// One technique: its id, and its name, tactics and page when known.
#[derive(Serialize)]
struct TechniqueJson<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tactics: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

/// The group as one object, its fields in order; a field named twice
/// appears once, where it first came, with its last value.
struct GroupJson<'a>(&'a [(String, String)]);

impl Serialize for GroupJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for (at, (field, _)) in self.0.iter().enumerate() {
            if self.0[..at].iter().any(|(earlier, _)| earlier == field) {
                continue;
            }
            let last = self.0.iter().rev().find(|(f, _)| f == field);
            if let Some((_, value)) = last {
                map.serialize_entry(field, value)?;
            }
        }
        map.end()
    }
}

#[derive(Serialize)]
struct OriginJson<'a> {
    file: &'a str,
    line: u64,
}

/// One alert.
#[derive(Debug, Clone)]
pub struct Alert {
    /// Deterministic: the same input and rules give the same id.
    pub id: String,
    /// The rule's id.
    pub rule_id: String,
    /// The rule's title.
    pub title: String,
    /// The rule's author (Sigma's licence asks that matches keep it).
    pub author: Option<String>,
    /// The rule's references.
    pub references: Vec<String>,
    /// The rule's level.
    pub severity: Level,
    /// When it fired (event time).
    pub timestamp: Option<Timestamp>,
    /// The earliest event behind it.
    pub first_seen: Option<Timestamp>,
    /// The latest event behind it.
    pub last_seen: Option<Timestamp>,
    /// How many events are behind it.
    pub count: u64,
    /// The fields that identify it.
    pub group: Vec<(String, String)>,
    /// ATT&CK techniques from the rule's tags.
    pub mitre: Vec<Technique>,
    /// The rule's tags.
    pub tags: Vec<String>,
    /// Why it fired.
    pub matched: Vec<Matched>,
    /// The triggering events as normalised JSON text (capped).
    pub events: Vec<Box<RawValue>>,
    /// The first event's origin.
    pub origin: Origin,
}

/// The techniques named by `attack.tNNNN[.NNN]` tags.
pub fn techniques(tags: &[String]) -> Vec<Technique> {
    tags.iter()
        .filter_map(|t| {
            let id = t.strip_prefix("attack.")?;
            let digits = id.strip_prefix('t').or_else(|| id.strip_prefix('T'))?;
            let (main, sub) = digits.split_once('.').unwrap_or((digits, ""));
            let ok = main.len() == 4
                && main.bytes().all(|b| b.is_ascii_digit())
                && (sub.is_empty() || (sub.len() == 3 && sub.bytes().all(|b| b.is_ascii_digit())));
            ok.then(|| {
                let id = format!("T{}", digits.to_ascii_uppercase());
                Technique {
                    info: Catalogue::embedded().technique(&id),
                    id,
                }
            })
        })
        .collect()
}

/// The `mitre` list of an alert with `tags`, as its JSON has it.
pub fn techniques_json(tags: &[String]) -> Json {
    let techniques = techniques(tags);
    let list: Vec<TechniqueJson<'_>> = techniques.iter().map(technique_json).collect();
    serde_json::to_value(list).unwrap_or_default()
}

/// A technique as alerts show it: id, and name, tactics and page when known.
fn technique_json(t: &Technique) -> TechniqueJson<'_> {
    match t.info {
        Some(info) => {
            let catalogue = Catalogue::embedded();
            // In the matrix's order.
            let tactics: Vec<&str> = catalogue
                .tactics()
                .iter()
                .filter(|t| info.tactics.contains(&t.short))
                .map(|t| t.name.as_str())
                .collect();
            TechniqueJson {
                id: &t.id,
                name: Some(&info.name),
                tactics: Some(tactics),
                url: Some(&info.url),
            }
        }
        None => TechniqueJson {
            id: &t.id,
            name: None,
            tactics: None,
            url: None,
        },
    }
}

/// A stable 64-bit FNV-1a hash, written as hex: alert ids must not change
/// between runs or builds, which rules out the standard library's hasher.
pub fn stable_id(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0u8]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

impl Alert {
    /// The alert of a single-event rule that matched `event`.
    pub fn single(
        rule: &Rule,
        group: Vec<(String, String)>,
        matched: Vec<Matched>,
        event: &Event,
    ) -> Alert {
        let time = event.timestamp.map(|t| t.to_string()).unwrap_or_default();
        Alert {
            id: stable_id(&[
                &rule.id,
                &event.origin.path,
                &event.origin.line.to_string(),
                &time,
            ]),
            rule_id: rule.id.clone(),
            title: rule.title_for(event).into_owned(),
            author: rule.author.clone(),
            references: rule.references.clone(),
            severity: rule.level_for(event),
            timestamp: event.timestamp,
            first_seen: event.timestamp,
            last_seen: event.timestamp,
            count: 1,
            group,
            mitre: techniques(&rule.tags),
            tags: rule.tags.clone(),
            matched,
            events: vec![event.to_json_raw()],
            origin: Origin {
                path: Arc::clone(&event.origin.path),
                line: event.origin.line,
            },
        }
    }

    /// A field of the alert: its group's value, else the first event's, by
    /// dotted ECS name (`host.name`).
    pub fn field(&self, dotted: &str) -> Option<String> {
        if let Some((_, v)) = self.group.iter().find(|(k, _)| k == dotted) {
            return Some(v.clone());
        }
        let first: Json = serde_json::from_str(self.events.first()?.get()).ok()?;
        let mut v = &first;
        for part in dotted.split('.') {
            v = v.get(part)?;
        }
        Some(match v {
            Json::String(s) => s.clone(),
            Json::Object(o) => o.get("_value").map(|x| x.to_string())?,
            other => other.to_string(),
        })
    }

    /// The alert as one JSON object.
    pub fn to_json(&self) -> Json {
        serde_json::to_value(self.shape()).expect("an alert is plain data")
    }

    /// Writes the alert as one JSON object (no newline). The events are
    /// copied in as the JSON text they already are.
    pub fn write_json(&self, out: impl std::io::Write) -> std::io::Result<()> {
        // An output error keeps its kind (a closed pipe stays a closed pipe).
        serde_json::to_writer(out, &self.shape()).map_err(std::io::Error::from)
    }

    /// Writes the alert as [`Alert::write_json`] does, less its `mitre`
    /// list: what a store keeps, since the list (names, tactics, pages) is
    /// made from the tags again when read ([`techniques_json`]).
    pub fn write_stored_json(&self, out: impl std::io::Write) -> std::io::Result<()> {
        let mut shape = self.shape();
        shape.mitre = None;
        serde_json::to_writer(out, &shape).map_err(std::io::Error::from)
    }

    fn shape(&self) -> AlertJson<'_> {
        let time = |t: Option<Timestamp>| t.map(|t| t.to_string());
        let matched = self
            .matched
            .iter()
            .map(|m| MatchedJson {
                search: &m.search,
                field: m.field.as_deref(),
                value: m.value.as_deref(),
            })
            .collect();
        AlertJson {
            id: &self.id,
            rule_id: &self.rule_id,
            title: &self.title,
            author: self.author.as_deref(),
            references: &self.references,
            severity: self.severity.as_str(),
            timestamp: time(self.timestamp),
            first_seen: time(self.first_seen),
            last_seen: time(self.last_seen),
            count: self.count,
            group: GroupJson(&self.group),
            mitre: Some(self.mitre.iter().map(technique_json).collect()),
            tags: &self.tags,
            matched,
            events: &self.events,
            origin: OriginJson {
                file: &self.origin.path,
                line: self.origin.line,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn techniques_come_from_attack_tags() {
        let tags: Vec<String> = [
            "attack.t1059.001",
            "attack.execution",
            "attack.T1110",
            "attack.t12",
            "cve.2021-44228",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let ids: Vec<_> = techniques(&tags).into_iter().map(|t| t.id).collect();
        assert_eq!(ids, ["T1059.001", "T1110"]);
    }

    #[test]
    fn a_group_field_named_twice_is_written_once_with_its_last_value() {
        let group = [("a", "1"), ("b", "2"), ("a", "3")].map(|(k, v)| (k.to_owned(), v.to_owned()));
        let text = serde_json::to_string(&GroupJson(&group)).unwrap();
        assert_eq!(text, r#"{"a":"3","b":"2"}"#);
    }

    #[test]
    fn ids_are_stable() {
        assert_eq!(stable_id(&["a", "b"]), stable_id(&["a", "b"]));
        assert_ne!(stable_id(&["ab", ""]), stable_id(&["a", "b"]));
        // FNV-1a 64 of one NUL byte, the published value: ids must not change between builds.
        assert_eq!(stable_id(&[""]), "af63bd4c8601b7df");
    }
}
