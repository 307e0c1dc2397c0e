//! Alerts as DESIGN §6 defines them: what fired, why, on which events, and
//! where those events came from. An alert reads on its own: it carries the
//! triggering events (up to a cap) as normalised JSON.

use std::sync::Arc;

use rampart_event::{Event, Timestamp};
use serde_json::{json, Map, Value as Json};

use crate::compile::Matched;
use crate::rule::{Level, Rule};

/// A MITRE ATT&CK technique named by a rule's tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Technique {
    /// `T1059.001`.
    pub id: String,
}

/// Where the first event behind an alert was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file.
    pub path: Arc<str>,
    /// The line (or record number).
    pub line: u64,
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
    /// The triggering events as normalised JSON (capped).
    pub events: Vec<Json>,
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
            ok.then(|| Technique {
                id: format!("T{}", digits.to_ascii_uppercase()),
            })
        })
        .collect()
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
            title: rule.title.clone(),
            author: rule.author.clone(),
            references: rule.references.clone(),
            severity: rule.level,
            timestamp: event.timestamp,
            first_seen: event.timestamp,
            last_seen: event.timestamp,
            count: 1,
            group,
            mitre: techniques(&rule.tags),
            tags: rule.tags.clone(),
            matched,
            events: vec![event.to_json_value()],
            origin: Origin {
                path: Arc::clone(&event.origin.path),
                line: event.origin.line,
            },
        }
    }

    /// The alert as one JSON object.
    pub fn to_json(&self) -> Json {
        let time = |t: Option<Timestamp>| t.map_or(Json::Null, |t| Json::String(t.to_string()));
        let group: Map<String, Json> = self
            .group
            .iter()
            .map(|(k, v)| (k.clone(), Json::String(v.clone())))
            .collect();
        let matched: Vec<Json> = self
            .matched
            .iter()
            .map(|m| {
                let mut o = Map::new();
                o.insert("search".into(), Json::String(m.search.clone()));
                if let Some(f) = &m.field {
                    o.insert("field".into(), Json::String(f.clone()));
                }
                if let Some(v) = &m.value {
                    o.insert("value".into(), Json::String(v.clone()));
                }
                Json::Object(o)
            })
            .collect();
        json!({
            "id": self.id,
            "rule_id": self.rule_id,
            "title": self.title,
            "author": self.author,
            "references": self.references,
            "severity": self.severity.as_str(),
            "timestamp": time(self.timestamp),
            "first_seen": time(self.first_seen),
            "last_seen": time(self.last_seen),
            "count": self.count,
            "group": group,
            "mitre": self.mitre.iter().map(|t| json!({"id": t.id})).collect::<Vec<_>>(),
            "tags": self.tags,
            "matched": matched,
            "events": self.events,
            "origin": {"file": &*self.origin.path, "line": self.origin.line},
        })
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
    fn ids_are_stable() {
        assert_eq!(stable_id(&["a", "b"]), stable_id(&["a", "b"]));
        assert_ne!(stable_id(&["ab", ""]), stable_id(&["a", "b"]));
        // FNV-1a 64 of one NUL byte, the published value: ids must not change between builds.
        assert_eq!(stable_id(&[""]), "af63bd4c8601b7df");
    }
}
