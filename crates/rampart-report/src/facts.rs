//! What a report keeps of each alert: the facts a summary is made from,
//! its ATT&CK techniques (from the rule's tags, read through the shipped
//! catalogue or the bundle the user gives, never from words in the text),
//! the process behind it and the events it stands on.

use std::collections::BTreeMap;

use rampart_detect::attack::Catalogue;
use rampart_detect::{Alert, Level};
use serde::Serialize;

use crate::processes::Actor;
use serde_json::Value as Json;

/// One technique as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Technique {
    /// `T1547.001`.
    pub id: String,
    /// Its name, when the catalogue knows it.
    pub name: Option<String>,
    /// Its tactics (`persistence`), when the catalogue knows it.
    pub tactics: Vec<String>,
}

impl Technique {
    /// The technique `id` as `catalogue` knows it.
    pub fn of(id: &str, catalogue: &Catalogue) -> Technique {
        let id = id.to_ascii_uppercase();
        let info = catalogue.technique(&id);
        Technique {
            name: info.map(|i| i.name.clone()),
            tactics: info.map(|i| i.tactics.clone()).unwrap_or_default(),
            id,
        }
    }
}

/// The process an alert's first event names.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessRef {
    /// Who it was.
    pub actor: Actor,
    /// The event's time (nanoseconds).
    pub time: Option<i128>,
}

/// One alert's facts.
#[derive(Debug, Clone, Serialize)]
pub struct AlertFacts {
    /// Its id.
    pub id: String,
    /// The rule's id.
    pub rule_id: String,
    /// The rule's title.
    pub title: String,
    /// Its level.
    #[serde(serialize_with = "level_name")]
    pub severity: Level,
    /// When it fired.
    pub timestamp: Option<String>,
    /// Its first event's time.
    pub first_seen: Option<String>,
    /// Its last event's time.
    pub last_seen: Option<String>,
    /// Events behind it.
    pub count: u64,
    /// The fields that identify it.
    pub group: Vec<(String, String)>,
    /// Its techniques.
    pub techniques: Vec<Technique>,
    /// Where its first event was read: `file:line`.
    pub origin: String,
    /// The process behind it, when its first event names one.
    pub process: Option<ProcessRef>,
    /// Where each of its events was read (path, line).
    #[serde(skip)]
    pub events: Vec<(String, u64)>,
    /// Its plain-language account (empty until one is written).
    pub summary: String,
    /// Where the account came from: `template`, `llm`, or why the template
    /// stayed.
    pub summary_by: String,
}

fn level_name<S: serde::Serializer>(level: &Level, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(level.as_str())
}

fn path_of<'a>(event: &'a Json, dotted: &str) -> Option<&'a Json> {
    let mut at = event;
    if let Some(v) = at.get(dotted) {
        return Some(v);
    }
    for part in dotted.split('.') {
        at = at.get(part)?;
    }
    Some(at)
}

fn json_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl AlertFacts {
    /// The facts of `alert`, its techniques read through `catalogue`.
    pub fn of(alert: &Alert, catalogue: &Catalogue) -> AlertFacts {
        let mut techniques: Vec<Technique> = alert
            .mitre
            .iter()
            .map(|t| Technique::of(&t.id, catalogue))
            .collect();
        techniques.sort();
        techniques.dedup();
        let events: Vec<Json> = alert
            .events
            .iter()
            .filter_map(|raw| serde_json::from_str(raw.get()).ok())
            .collect();
        let process = events.first().and_then(|e| {
            let pid = path_of(e, "process.pid")
                .and_then(json_text)
                .and_then(|p| p.parse().ok())?;
            Some(ProcessRef {
                actor: Actor {
                    host: path_of(e, "host.name")
                        .and_then(json_text)
                        .map(|h| h.to_ascii_lowercase()),
                    pid,
                    guid: path_of(e, "process.entity_id")
                        .and_then(json_text)
                        .map(|g| crate::processes::one_spelling(&g)),
                },
                time: path_of(e, "@timestamp")
                    .and_then(Json::as_str)
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    .map(|t| t.as_nanosecond()),
            })
        });
        let origins = events
            .iter()
            .filter_map(|e| {
                Some((
                    path_of(e, "log.file.path")?.as_str()?.to_owned(),
                    path_of(e, "log.file.line")?.as_u64()?,
                ))
            })
            .collect();
        let time = |t: Option<jiff::Timestamp>| t.map(|t| t.to_string());
        AlertFacts {
            id: alert.id.clone(),
            rule_id: alert.rule_id.clone(),
            title: alert.title.clone(),
            severity: alert.severity,
            timestamp: time(alert.timestamp),
            first_seen: time(alert.first_seen),
            last_seen: time(alert.last_seen),
            count: alert.count,
            group: alert.group.clone(),
            techniques,
            origin: format!("{}:{}", alert.origin.path, alert.origin.line),
            process,
            events: origins,
            summary: String::new(),
            summary_by: "template".to_owned(),
        }
    }
}

/// Techniques over the alerts: how many alerts and events each stands for,
/// and which rules named it, by id.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TechniqueUse {
    /// The technique.
    pub technique: Option<Technique>,
    /// Alerts naming it.
    pub alerts: u64,
    /// Events behind those alerts.
    pub events: u64,
    /// The rules' titles.
    pub rules: Vec<String>,
}

/// Techniques named by the alerts, by id.
pub fn techniques(alerts: &[AlertFacts]) -> BTreeMap<String, TechniqueUse> {
    let mut out: BTreeMap<String, TechniqueUse> = BTreeMap::new();
    for a in alerts {
        for t in &a.techniques {
            let u = out.entry(t.id.clone()).or_default();
            u.technique.get_or_insert_with(|| t.clone());
            u.alerts += 1;
            u.events += a.count;
            if !u.rules.contains(&a.title) {
                u.rules.push(a.title.clone());
            }
        }
    }
    out
}
