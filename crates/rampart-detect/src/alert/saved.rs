//! An alert as bytes and back, exactly: what a dedup window or a
//! correlation holds open between two runs is saved with the rest of the
//! run's state and must come back as it was. Times keep their nanoseconds
//! and the group its repeated fields, which the JSON form folds.

use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{Alert, Origin, Technique};
use crate::attack::Catalogue;
use crate::compile::Matched;
use crate::rule::Level;

#[derive(Serialize, Deserialize)]
struct Saved {
    id: String,
    rule_id: String,
    title: String,
    author: Option<String>,
    references: Vec<String>,
    severity: String,
    timestamp: Option<i128>,
    first_seen: Option<i128>,
    last_seen: Option<i128>,
    count: u64,
    group: Vec<(String, String)>,
    mitre: Vec<String>,
    tags: Vec<String>,
    matched: Vec<(String, Option<String>, Option<String>)>,
    events: Vec<String>,
    origin: (String, u64),
}

/// Nanoseconds since the epoch, as saved state keeps times.
pub fn nanos(t: Timestamp) -> i128 {
    t.as_nanosecond()
}

/// A time from its nanoseconds; an error names what was out of range.
pub fn from_nanos(n: i128) -> Result<Timestamp, String> {
    Timestamp::from_nanosecond(n).map_err(|e| format!("saved time {n}: {e}"))
}

impl Alert {
    /// The alert as bytes, for [`Alert::from_bytes`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let saved = Saved {
            id: self.id.clone(),
            rule_id: self.rule_id.clone(),
            title: self.title.clone(),
            author: self.author.clone(),
            references: self.references.clone(),
            severity: self.severity.as_str().into(),
            timestamp: self.timestamp.map(nanos),
            first_seen: self.first_seen.map(nanos),
            last_seen: self.last_seen.map(nanos),
            count: self.count,
            group: self.group.clone(),
            mitre: self.mitre.iter().map(|t| t.id.clone()).collect(),
            tags: self.tags.clone(),
            matched: self
                .matched
                .iter()
                .map(|m| (m.search.clone(), m.field.clone(), m.value.clone()))
                .collect(),
            events: self.events.iter().map(|e| e.get().to_owned()).collect(),
            origin: (self.origin.path.to_string(), self.origin.line),
        };
        // Serialising owned strings and numbers into a vector cannot fail.
        postcard::to_stdvec(&saved).unwrap_or_default()
    }

    /// The alert [`Alert::to_bytes`] gave; an error says what was wrong.
    pub fn from_bytes(bytes: &[u8]) -> Result<Alert, String> {
        let s: Saved = postcard::from_bytes(bytes).map_err(|e| format!("saved alert: {e}"))?;
        let time = |t: Option<i128>| t.map(from_nanos).transpose();
        let catalogue = Catalogue::embedded();
        Ok(Alert {
            severity: Level::parse(&s.severity)
                .ok_or_else(|| format!("saved alert: level {:?}", s.severity))?,
            timestamp: time(s.timestamp)?,
            first_seen: time(s.first_seen)?,
            last_seen: time(s.last_seen)?,
            mitre: s
                .mitre
                .into_iter()
                .map(|id| Technique {
                    info: catalogue.technique(&id),
                    id,
                })
                .collect(),
            matched: s
                .matched
                .into_iter()
                .map(|(search, field, value)| Matched {
                    search,
                    field,
                    value,
                })
                .collect(),
            events: s
                .events
                .into_iter()
                .map(|e| RawValue::from_string(e).map_err(|e| format!("saved alert event: {e}")))
                .collect::<Result<_, _>>()?,
            origin: Origin {
                path: Arc::from(s.origin.0),
                line: s.origin.1,
            },
            id: s.id,
            rule_id: s.rule_id,
            title: s.title,
            author: s.author,
            references: s.references,
            count: s.count,
            group: s.group,
            tags: s.tags,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::Event;

    #[test]
    fn an_alert_comes_back_from_its_bytes_as_it_was() {
        let loaded = crate::load::load_text(
            "title: t\nid: r1\ntags: [attack.t1110.001, attack.credential-access]\ndetection:\n  s: {a: 1}\n  condition: s\n",
            "t.yml".into(),
        );
        let rule = &loaded.rules[0];
        let mut event = Event::new(
            rampart_event::Origin::new("auth.log", 42),
            "Failed password",
        );
        event.timestamp = Some(Timestamp::from_nanosecond(1_700_000_000_123_456_789).unwrap());
        let mut alert = Alert::single(rule, Vec::new(), Vec::new(), &event);
        alert.group = vec![("a".into(), "1".into()), ("a".into(), "2".into())];
        alert.count = 7;
        alert.author = Some("them".into());
        let back = Alert::from_bytes(&alert.to_bytes()).unwrap();
        assert_eq!(back.to_json(), alert.to_json());
        assert_eq!(back.group, alert.group);
        assert_eq!(back.timestamp, alert.timestamp);
        assert_eq!(back.mitre, alert.mitre);
        assert!(Alert::from_bytes(b"\x01\x02").is_err());
    }
}
