//! Plain-language accounts made from templates filled with the facts:
//! deterministic, offline, and what stays when a language model is asked
//! and fails.

use crate::facts::{AlertFacts, Technique};
use crate::findings::Findings;

/// A technique as `T1547.001 Registry Run Keys / Startup Folder (persistence)`.
pub fn technique(t: &Technique) -> String {
    let mut s = t.id.clone();
    if let Some(n) = &t.name {
        s.push(' ');
        s.push_str(n);
    }
    if !t.tactics.is_empty() {
        s.push_str(&format!(" ({})", t.tactics.join(", ")));
    }
    s
}

/// One alert's account.
pub fn alert(a: &AlertFacts) -> String {
    let mut s = format!(
        "{} ({}) fired on {} event{}",
        a.title,
        a.severity.as_str(),
        a.count,
        if a.count == 1 { "" } else { "s" }
    );
    match (&a.first_seen, &a.last_seen) {
        (Some(f), Some(l)) if f != l => s.push_str(&format!(" between {f} and {l}")),
        (Some(f), _) => s.push_str(&format!(" at {f}")),
        _ => {}
    }
    let group: Vec<String> = a.group.iter().map(|(k, v)| format!("{k} {v}")).collect();
    if !group.is_empty() {
        s.push_str(&format!(", for {}", group.join(", ")));
    }
    s.push('.');
    if let Some(p) = &a.process {
        s.push_str(&format!(" The process behind it is PID {}", p.actor.pid));
        if let Some(h) = &p.actor.host {
            s.push_str(&format!(" on {h}"));
        }
        s.push('.');
    }
    if !a.techniques.is_empty() {
        let ts: Vec<String> = a.techniques.iter().map(technique).collect();
        s.push_str(&format!(" ATT&CK: {}.", ts.join("; ")));
    }
    s.push_str(&format!(" First event: {}.", a.origin));
    s
}

/// The whole investigation's account.
pub fn investigation(f: &Findings) -> String {
    let mut parts = Vec::new();
    let span = match (&f.first, &f.last) {
        (Some(a), Some(b)) if a != b => format!(" between {a} and {b}"),
        (Some(a), _) => format!(" at {a}"),
        _ => String::new(),
    };
    parts.push(format!(
        "rampart read {} events from {} source{}{span}.",
        f.events,
        f.sources.len(),
        if f.sources.len() == 1 { "" } else { "s" }
    ));
    if f.alerts.is_empty() {
        parts.push("No rule fired.".to_owned());
    } else {
        let levels: Vec<String> = f
            .by_severity
            .iter()
            .map(|(level, n)| format!("{n} {level}"))
            .collect();
        parts.push(format!(
            "{} alert{} fired ({}).",
            f.alerts.len(),
            if f.alerts.len() == 1 { "" } else { "s" },
            levels.join(", ")
        ));
        if let Some(top) = f.alerts.first() {
            parts.push(format!(
                "The most severe, first seen earliest: {} ({}, {} event{}, first at {}).",
                top.title,
                top.severity.as_str(),
                top.count,
                if top.count == 1 { "" } else { "s" },
                top.first_seen.as_deref().unwrap_or("an unknown time")
            ));
        }
    }
    if !f.techniques.is_empty() {
        let ts: Vec<String> = f
            .techniques
            .values()
            .filter_map(|u| u.technique.as_ref().map(technique))
            .collect();
        parts.push(format!(
            "ATT&CK techniques named by the rules that fired: {}.",
            ts.join("; ")
        ));
    }
    if !f.trees.is_empty() {
        let flagged: usize = f.trees.iter().map(|t| t.anomalies).sum();
        let asked: Vec<&str> = f
            .trees
            .iter()
            .filter(|t| t.reason.starts_with("PID "))
            .map(|t| t.reason.as_str())
            .collect();
        let of_alerts = f.trees.len() - asked.len();
        let mut why = Vec::new();
        if !asked.is_empty() {
            why.push(format!("asked for: {}", asked.join(", ")));
        }
        if of_alerts > 0 {
            why.push(format!("{of_alerts} of processes behind alerts"));
        }
        parts.push(format!(
            "{} process tree{} drawn ({}){}.",
            f.trees.len(),
            if f.trees.len() == 1 { "" } else { "s" },
            why.join("; "),
            if flagged > 0 {
                format!(", with {flagged} processes flagged in them")
            } else {
                String::new()
            }
        ));
    }
    let rows: u64 = f.sources.iter().map(|s| s.rows).sum();
    let problems: u64 = f.sources.iter().map(|s| s.rows_with_problems).sum();
    if problems > 0 {
        let mut kinds: std::collections::BTreeMap<&str, u64> = Default::default();
        for s in &f.sources {
            for (k, i) in &s.issues {
                if k != "empty-optional-field" {
                    *kinds.entry(k).or_default() += i.rows;
                }
            }
        }
        let list: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        parts.push(format!(
            "Data quality: {problems} of {rows} rows had problems ({}).",
            list.join(", ")
        ));
    }
    parts.join(" ")
}
