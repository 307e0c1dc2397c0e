//! Syslog messages exported as JSON objects, one per message, as Azure
//! Monitor's `Syslog` table gives them (`SyslogMessage`, `ProcessName`,
//! `Computer`, `EventTime`). The message is read exactly as it would be in
//! a syslog line, so sshd, audit records and Sysmon for Linux events read
//! the same from either.

use std::sync::Arc;

use rampart_event::Event;
use serde_json::{Map, Value as Json};

use super::{event_of, Header, HeaderTime};
use crate::context::FileContext;
use crate::timefmt;

/// Whether the object is an exported syslog message.
pub fn is_exported(o: &Map<String, Json>) -> bool {
    o.get("SyslogMessage").is_some_and(Json::is_string)
}

/// The event of one exported message; `original` is the object's text.
pub fn event(
    ctx: &FileContext,
    no: u64,
    original: &str,
    o: &Map<String, Json>,
) -> (&'static str, Event) {
    let text = |key: &str| o.get(key).and_then(Json::as_str).filter(|s| !s.is_empty());
    let time = ["EventTime", "TimeGenerated"]
        .iter()
        .find_map(|k| text(k).and_then(|t| timefmt::any(t, &ctx.options.zone)));
    let h = Header {
        priority: None,
        time: time.map_or(HeaderTime::Missing, HeaderTime::Instant),
        host: text("HostName").or_else(|| text("Computer")),
        program: text("ProcessName"),
        subname: None,
        pid: o
            .get("ProcessID")
            .and_then(Json::as_u64)
            .and_then(|p| u32::try_from(p).ok()),
        msgid: None,
        structured: None,
        message: text("SyslogMessage").unwrap_or(""),
    };
    let (dataset, mut event) = event_of(ctx, no, &Arc::from(original), &h, time);
    if let Some(facility) = text("Facility") {
        event.set_str("log.syslog.facility.name", facility);
    }
    if let Some(severity) = text("SeverityLevel") {
        event.set_str("log.syslog.severity.name", severity);
    }
    if let Some(ip) = text("HostIP").and_then(crate::text::ip_token) {
        event.set("host.ip", ip);
    }
    (dataset, event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    fn read(json: &str) -> (&'static str, Event) {
        let ctx = FileContext::new("syslog.json", ParseOptions::default());
        let o: Map<String, Json> = serde_json::from_str(json).unwrap();
        assert!(is_exported(&o));
        event(&ctx, 1, json, &o)
    }

    #[test]
    fn messages_read_as_in_syslog_lines() {
        let (dataset, e) = read(
            r#"{"TimeGenerated":"2022-05-11T18:10:21.997Z","EventTime":"2022-05-11T18:10:21Z","Computer":"UBUNTU5","HostName":"UBUNTU5","Facility":"auth","SeverityLevel":"info","ProcessName":"sshd","ProcessID":811,"HostIP":"192.168.2.5","SyslogMessage":"Failed password for root from 203.0.113.9 port 4242 ssh2"}"#,
        );
        assert_eq!(dataset, "linux.auth");
        assert_eq!(e.get_str("event.outcome"), Some("failure"));
        assert_eq!(e.get("source.ip").unwrap().to_string(), "203.0.113.9");
        assert_eq!(e.get_str("host.name"), Some("UBUNTU5"));
        assert_eq!(e.timestamp.unwrap().to_string(), "2022-05-11T18:10:21Z");
        let (dataset, e) = read(
            r#"{"Computer":"UBUNTU5","ProcessName":"sysmon","SyslogMessage":"<Event><System><Provider Name=\"Linux-Sysmon\"/><EventID>1</EventID><TimeCreated SystemTime=\"2022-05-11T18:10:20.399931000Z\"/><Channel>Linux-Sysmon/Operational</Channel><Computer>UBUNTU5</Computer></System><EventData><Data Name=\"Image\">/usr/bin/whoami</Data></EventData></Event>"}"#,
        );
        assert_eq!(dataset, "linux.sysmon");
        assert_eq!(
            e.get_str("winlog.event_data.Image"),
            Some("/usr/bin/whoami")
        );
        assert_eq!(e.get_str("event.code"), Some("1"));
    }
}
