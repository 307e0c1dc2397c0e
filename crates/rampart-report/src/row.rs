//! One event as a line of the unified stream: seed 003's columns
//! (`timestamp, process_id, event_type, event_details`) for any event
//! rampart reads, with its plain-language summary made from the same facts.
//! The four endpoint tables keep the seed's exact wording; other events say
//! what their fields say.

use rampart_event::{Event, Timestamp};
use serde::{Deserialize, Serialize};

use crate::processes::Actor;
use crate::text::{basename, cut, seed_time};

/// One event of the stream, small enough to sort a million of on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// When it happened (nanoseconds since the epoch); `None` sorts last.
    pub time: Option<i128>,
    /// Its place in the input (the order in which events were read), which
    /// breaks ties between equal times so the order is stable.
    pub seq: u64,
    /// Which source it came from (an index into the report's sources).
    pub source: u32,
    /// Its line (or record) in that source.
    pub line: u64,
    /// `process.pid`, when it has one.
    pub pid: Option<i64>,
    /// `process_start`, `file`, `network`, `registry`, or what the event is.
    pub kind: String,
    /// The facts, `Label: value | Label: value`.
    pub details: String,
    /// One sentence saying what happened.
    pub summary: String,
    /// The process that did it, when it is something a process did (not
    /// the start of one).
    pub actor: Option<Actor>,
}

impl Row {
    /// The row's time, when it has one.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.time.and_then(|n| Timestamp::from_nanosecond(n).ok())
    }

    /// The time as seed 003 writes it: `2025-03-01 09:00:21`.
    pub fn time_text(&self) -> String {
        self.timestamp().map(seed_time).unwrap_or_default()
    }
}

/// The longest a free-text value is kept in a row.
const MAX_TEXT: usize = 300;

/// Builds the row of one event.
pub fn describe(event: &Event, source: u32, seq: u64) -> Row {
    let text = |name: &str| {
        event
            .get(name)
            .map(|v| v.to_string())
            .filter(|s| !s.is_empty())
    };
    let dataset = text("event.dataset").unwrap_or_default();
    let category = text("event.category").unwrap_or_default();
    let user = text("user.name");
    let action = text("event.action");
    let kind = kind_of(&dataset, &category, event);
    let mut parts: Vec<(&str, String)> = Vec::new();
    let summary;
    let who = user.clone().unwrap_or_else(|| "someone".to_owned());
    match kind.as_str() {
        "process_start" => {
            let exe = text("process.executable").or_else(|| text("process.name"));
            if let Some(exe) = &exe {
                parts.push(("Executable", exe.clone()));
            }
            summary = format!(
                "{who} started {}{}{}.",
                exe.as_deref().map(basename).unwrap_or("a process"),
                text("process.pid")
                    .map(|p| format!(" (PID {p}"))
                    .unwrap_or_default(),
                match (text("process.pid"), text("process.parent.pid")) {
                    (Some(_), Some(pp)) => format!(", parent PID {pp})"),
                    (Some(_), None) => ")".to_owned(),
                    _ => String::new(),
                }
            );
        }
        "file" => {
            if let Some(a) = &action {
                parts.push(("Operation", a.clone()));
            }
            let path = text("file.path");
            if let Some(p) = &path {
                parts.push(("File", p.clone()));
            }
            summary = format!(
                "{who} {} {}.",
                past(action.as_deref().unwrap_or("touched")),
                path.as_deref().unwrap_or("a file")
            );
        }
        "registry" => {
            if let Some(a) = &action {
                parts.push(("Operation", a.clone()));
            }
            let key = text("registry.key").or_else(|| text("registry.path"));
            if let Some(k) = &key {
                parts.push(("Key", k.clone()));
            }
            match (text("registry.value"), text("registry.data.strings")) {
                (Some(v), Some(d)) => parts.push(("Value", format!("{v} = {d}"))),
                (Some(v), None) => parts.push(("Value", v)),
                _ => {}
            }
            summary = format!(
                "{who} {} the registry key {}{}.",
                past(action.as_deref().unwrap_or("changed")),
                key.as_deref().unwrap_or("(unnamed)"),
                match (text("registry.value"), text("registry.data.strings")) {
                    (Some(v), Some(d)) => format!(", value {v} = {d}"),
                    (Some(v), None) => format!(", value {v}"),
                    _ => String::new(),
                }
            );
        }
        "network" => {
            let end = |ip: &str, port: &str| match (text(ip), text(port)) {
                (Some(i), Some(p)) => Some(format!("{i}:{p}")),
                (Some(i), None) => Some(i),
                _ => None,
            };
            let from = end("source.ip", "source.port");
            let to = end("destination.ip", "destination.port");
            parts.push((
                "SrcIP",
                format!(
                    "{} → DstIP: {}",
                    from.as_deref().unwrap_or("?"),
                    to.as_deref().unwrap_or("?")
                ),
            ));
            summary = format!(
                "{}connection from {} to {}{}.",
                text("process.pid")
                    .map(|p| format!("PID {p} made a "))
                    .unwrap_or_else(|| "A ".to_owned()),
                from.as_deref().unwrap_or("an unknown address"),
                to.as_deref().unwrap_or("an unknown address"),
                user.as_deref()
                    .map(|u| format!(" as {u}"))
                    .unwrap_or_default()
            );
        }
        _ => {
            if let Some(a) = &action {
                parts.push(("Action", a.clone()));
            }
            for (label, field) in [
                ("Executable", "process.executable"),
                ("Source", "source.ip"),
                ("Destination", "destination.ip"),
                ("URL", "url.original"),
                ("Host", "host.name"),
            ] {
                if let Some(v) = text(field) {
                    parts.push((label, v));
                }
            }
            let message = text("message").unwrap_or_else(|| event.original().to_owned());
            summary = format!(
                "{} event{}{}: {}",
                if dataset.is_empty() { "An" } else { &dataset },
                action
                    .as_deref()
                    .map(|a| format!(" ({a})"))
                    .unwrap_or_default(),
                user.as_deref()
                    .map(|u| format!(" by {u}"))
                    .unwrap_or_default(),
                cut(&message, 160)
            );
            if parts.is_empty() {
                parts.push(("Message", message));
            }
        }
    }
    if let Some(u) = user {
        parts.push(("User", u));
    }
    let mut details = String::new();
    for (i, (label, value)) in parts.iter().enumerate() {
        if i > 0 {
            details.push_str(" | ");
        }
        details.push_str(label);
        details.push_str(": ");
        details.push_str(cut(value, MAX_TEXT));
    }
    Row {
        time: event.timestamp.map(|t| t.as_nanosecond()),
        seq,
        source,
        line: event.origin.line,
        pid: event.get("process.pid").and_then(|v| match v {
            rampart_event::ValueRef::Int(n) => Some(n),
            other => other.to_string().parse().ok(),
        }),
        kind: kind.clone(),
        details,
        summary: cut(&summary, 2 * MAX_TEXT).to_owned(),
        actor: if kind == "process_start" {
            None
        } else {
            Actor::of(event)
        },
    }
}

/// What kind of event it is, in seed 003's words where it has them.
fn kind_of(dataset: &str, category: &str, event: &Event) -> String {
    if crate::processes::is_start(event) {
        return "process_start".to_owned();
    }
    let first = category.split(',').next().unwrap_or("");
    match (dataset, first) {
        ("endpoint.file", _) | (_, "file") if event.contains("file.path") => "file".to_owned(),
        ("endpoint.registry", _) | (_, "registry") => "registry".to_owned(),
        ("endpoint.network", _) => "network".to_owned(),
        (_, "network") if event.contains("destination.ip") => "network".to_owned(),
        (_, "") if dataset.is_empty() => "event".to_owned(),
        (_, "") => dataset.to_owned(),
        (_, c) => c.to_owned(),
    }
}

/// A verb's past tense for the operations telemetry names.
fn past(op: &str) -> String {
    match op {
        "read" => "read".to_owned(),
        "write" => "wrote".to_owned(),
        "create" => "created".to_owned(),
        "delete" => "deleted".to_owned(),
        "modify" => "modified".to_owned(),
        "rename" => "renamed".to_owned(),
        other if other.ends_with('e') => format!("{other}d"),
        other => format!("{other}ed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::Origin;

    fn event(dataset: &'static str, fields: &[(&'static str, &str)]) -> Event {
        let mut e = Event::new(Origin::new("t.csv", 2), "x");
        e.set_static("event.dataset", dataset);
        for (k, v) in fields {
            e.set_str(*k, v);
        }
        e.timestamp = Some("2025-03-01T09:00:21Z".parse().unwrap());
        e
    }

    #[test]
    fn telemetry_rows_read_as_seed_three_writes_them() {
        let mut p = event(
            "endpoint.process",
            &[
                ("process.executable", "C:/Windows/System32/explorer.exe"),
                ("user.name", "SYSTEM"),
            ],
        );
        p.set("process.pid", 100i64);
        p.set("process.parent.pid", 0i64);
        let r = describe(&p, 0, 0);
        assert_eq!(r.kind, "process_start");
        assert_eq!(
            r.details,
            "Executable: C:/Windows/System32/explorer.exe | User: SYSTEM"
        );
        assert_eq!(r.time_text(), "2025-03-01 09:00:21");
        assert_eq!(r.pid, Some(100));
        assert_eq!(
            r.summary,
            "SYSTEM started explorer.exe (PID 100, parent PID 0)."
        );

        let f = event(
            "endpoint.file",
            &[
                ("event.action", "read"),
                ("file.path", "C:/Users/JohnDoe/Desktop/data.csv"),
                ("user.name", "user1"),
            ],
        );
        assert_eq!(
            describe(&f, 0, 1).details,
            "Operation: read | File: C:/Users/JohnDoe/Desktop/data.csv | User: user1"
        );

        let mut n = event(
            "endpoint.network",
            &[
                ("source.ip", "164.75.142.68"),
                ("destination.ip", "70.26.127.107"),
                ("user.name", "johndoe"),
            ],
        );
        n.set("source.port", 36059i64);
        n.set("destination.port", 80i64);
        assert_eq!(
            describe(&n, 0, 2).details,
            "SrcIP: 164.75.142.68:36059 → DstIP: 70.26.127.107:80 | User: johndoe"
        );

        let g = event(
            "endpoint.registry",
            &[
                ("event.action", "create"),
                (
                    "registry.key",
                    "HKEY_CURRENT_USER\\SOFTWARE/Microsoft/Office/16.0",
                ),
                ("user.name", "janedoe"),
            ],
        );
        assert_eq!(
            describe(&g, 0, 3).details,
            "Operation: create | Key: HKEY_CURRENT_USER\\SOFTWARE/Microsoft/Office/16.0 | User: janedoe"
        );
    }

    #[test]
    fn other_events_say_what_their_fields_say() {
        let e = event(
            "linux.auth",
            &[
                ("event.category", "authentication"),
                ("event.action", "ssh_login"),
                ("source.ip", "203.0.113.9"),
                ("message", "Failed password for root"),
            ],
        );
        let r = describe(&e, 1, 9);
        assert_eq!(r.kind, "authentication");
        assert_eq!(r.details, "Action: ssh_login | Source: 203.0.113.9");
        assert!(
            r.summary.contains("Failed password for root"),
            "{}",
            r.summary
        );
        assert_eq!(cut("héllo", 2), "h");
    }
}
