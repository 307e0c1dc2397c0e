//! What a SOC dashboard slices events by, worked out once per event as it
//! is stored: the source's own severity label (seed 001's `low_severity`
//! shown as `low`), the line's protocol (`TCP`, `DHCP`), and whether a
//! threat indicator matched it and with what confidence. Each is a column
//! of the event, and the events of each hour are counted per dataset,
//! host, label, protocol and confidence (`event_facets`), so that the
//! dashboard's totals, distributions and heatmap add up a few hundred
//! counts instead of reading millions of events.
//!
//! The same rules run in Rust as events are stored and in SQL (as
//! functions registered on the connection) when a migration fills the
//! columns of events stored before them.

use std::collections::HashMap;

use rampart_event::{Event, ValueRef};
use rusqlite::functions::FunctionFlags;
use rusqlite::{params, Connection, Transaction};

use crate::StoreError;

/// The confidence kept for events no indicator matched.
pub(crate) const BENIGN: i64 = -1;

/// Suffixes a source puts after its severity word (`high_severity`).
const LABEL_SUFFIXES: [&str; 3] = ["_severity", "-severity", " severity"];

/// The label of an event's severity: the source's own (`log.level`, its
/// `_severity` suffix dropped, lower case), or else the band of rampart's
/// scale its `event.severity` falls in; `None` when it has neither.
pub(crate) fn level(label: Option<&str>, severity: Option<i64>) -> Option<String> {
    if let Some(label) = label.map(str::trim).filter(|l| !l.is_empty()) {
        let lower = label.to_lowercase();
        let word = LABEL_SUFFIXES
            .iter()
            .find_map(|s| lower.strip_suffix(s))
            .filter(|w| !w.is_empty())
            .unwrap_or(&lower);
        return Some(word.to_owned());
    }
    use rampart_event::severity::{CRITICAL, HIGH, MEDIUM};
    let band = match severity? {
        s if s >= CRITICAL => "critical",
        s if s >= HIGH => "high",
        s if s >= MEDIUM => "medium",
        s if s > 0 => "low",
        _ => return None,
    };
    Some(band.to_owned())
}

/// The line's protocol in capitals: the application protocol where the
/// source names one (`DHCP`), else the transport (`TCP`).
pub fn protocol(protocol: Option<&str>, transport: Option<&str>) -> Option<String> {
    [protocol, transport]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|p| !p.is_empty())
        .map(str::to_uppercase)
}

/// The confidence of the surest threat finding among an event's
/// enrichments: an indicator it matched (its confidence, 0 when the feed
/// gives none) or an address VirusTotal calls malicious (0); `None` when
/// there is no such finding.
pub(crate) fn threat(enrichments: &serde_json::Value) -> Option<i64> {
    enrichments
        .as_array()?
        .iter()
        .filter(|e| {
            e.pointer("/matched/type").and_then(|t| t.as_str()) == Some("indicator_match")
                || e.pointer("/virustotal/verdict").and_then(|v| v.as_str()) == Some("malicious")
        })
        .map(|e| {
            e.pointer("/indicator/confidence")
                .and_then(|c| c.as_i64())
                .unwrap_or(0)
        })
        .max()
}

/// An event's facets, as stored in its columns: what a dashboard slices
/// events by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facets {
    /// Its severity label (see [`level`]).
    pub level: Option<String>,
    /// Its protocol (see [`protocol`]).
    pub protocol: Option<String>,
    /// The confidence of its surest threat finding (see [`threat`]).
    pub threat: Option<i64>,
}

impl Facets {
    /// The facets of `event`.
    pub fn of(event: &Event) -> Facets {
        let severity = match event.get("event.severity") {
            Some(ValueRef::Int(i)) => Some(i),
            Some(ValueRef::Str(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let threat = match event.get("threat.enrichments") {
            Some(ValueRef::Json(list)) => threat(list),
            _ => None,
        };
        Facets {
            level: level(event.get_str("log.level"), severity),
            protocol: protocol(
                event.get_str("network.protocol"),
                event.get_str("network.transport"),
            ),
            threat,
        }
    }
}

/// One cell of the hourly counts: hour, dataset, host, label, protocol
/// and confidence (absent ones as empty text, and [`BENIGN`]).
pub(crate) type Cell = (i64, String, String, String, String, i64);

/// Adds `delta` events to each cell of the hourly counts.
pub(crate) fn count(tx: &Transaction<'_>, delta: &HashMap<Cell, i64>) -> Result<(), StoreError> {
    let mut add = tx.prepare_cached(
        "INSERT INTO event_facets (hour, dataset, host, level, protocol, confidence, n)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (hour, dataset, host, level, protocol, confidence)
         DO UPDATE SET n = n + excluded.n",
    )?;
    for ((hour, dataset, host, level, protocol, confidence), n) in delta {
        add.execute(params![hour, dataset, host, level, protocol, confidence, n])?;
    }
    if delta.values().any(|n| *n < 0) {
        tx.execute("DELETE FROM event_facets WHERE n <= 0", [])?;
    }
    Ok(())
}

/// Registers [`level`] and [`protocol`] as SQL functions, for the
/// migration that fills the columns of events stored before them.
pub(crate) fn register(conn: &Connection) -> Result<(), StoreError> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("rampart_level", 2, flags, |ctx| {
        let label = ctx.get::<Option<String>>(0)?;
        let severity = ctx.get::<Option<i64>>(1).ok().flatten();
        Ok(level(label.as_deref(), severity))
    })?;
    conn.create_scalar_function("rampart_protocol", 2, flags, |ctx| {
        let p = ctx.get::<Option<String>>(0).ok().flatten();
        let t = ctx.get::<Option<String>>(1).ok().flatten();
        Ok(protocol(p.as_deref(), t.as_deref()))
    })?;
    conn.create_scalar_function("rampart_threat", 1, flags, |ctx| {
        let text = ctx.get::<Option<String>>(0)?;
        Ok(text
            .and_then(|t| serde_json::from_str(&t).ok())
            .and_then(|list: serde_json::Value| threat(&list)))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sources_label_is_kept_without_its_suffix_and_a_scale_gives_a_band() {
        assert_eq!(
            level(Some("low_severity"), Some(21)).as_deref(),
            Some("low")
        );
        assert_eq!(level(Some("HIGH"), None).as_deref(), Some("high"));
        assert_eq!(
            level(Some("Information"), None).as_deref(),
            Some("information")
        );
        assert_eq!(level(Some("_severity"), None).as_deref(), Some("_severity"));
        assert_eq!(level(Some("  "), Some(99)).as_deref(), Some("critical"));
        assert_eq!(level(None, Some(73)).as_deref(), Some("high"));
        assert_eq!(level(None, Some(50)).as_deref(), Some("medium"));
        assert_eq!(level(None, Some(1)).as_deref(), Some("low"));
        assert_eq!(level(None, Some(0)), None);
        assert_eq!(level(None, None), None);
    }

    #[test]
    fn the_protocol_is_the_application_ones_else_the_transport() {
        assert_eq!(protocol(Some("dhcp"), Some("udp")).as_deref(), Some("DHCP"));
        assert_eq!(protocol(None, Some("tcp")).as_deref(), Some("TCP"));
        assert_eq!(protocol(Some(""), Some("tcp")).as_deref(), Some("TCP"));
        assert_eq!(protocol(None, None), None);
    }

    #[test]
    fn a_threat_is_an_indicator_match_or_a_malicious_verdict() {
        let list = serde_json::json!([
            {"matched": {"type": "indicator_match"}, "indicator": {"confidence": 3}},
            {"matched": {"type": "indicator_match"}, "indicator": {"confidence": 11}},
            {"matched": {"type": "enrichment"}, "indicator": {"confidence": 50},
             "virustotal": {"verdict": "harmless"}},
        ]);
        assert_eq!(threat(&list), Some(11));
        let vt = serde_json::json!([
            {"matched": {"type": "enrichment"}, "virustotal": {"verdict": "malicious"}}
        ]);
        assert_eq!(threat(&vt), Some(0));
        let harmless = serde_json::json!([
            {"matched": {"type": "enrichment"}, "virustotal": {"verdict": "harmless"}}
        ]);
        assert_eq!(threat(&harmless), None);
        assert_eq!(threat(&serde_json::json!({})), None);
    }
}
