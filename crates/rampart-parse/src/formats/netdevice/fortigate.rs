//! FortiGate logs: `date=2024-05-10 time=11:37:47 devname="fw01"
//! logid="0100044547" type="event" ...`, sent with or without a syslog
//! header. Every pair is kept under `fortinet.firewall.<key>` (the names
//! Sigma's FortiGate rules use), and the common ones are mapped to ECS.

use std::sync::Arc;

use rampart_event::time::Zone;
use rampart_event::{Event, Timestamp};

use crate::context::FileContext;
use crate::formats::Parsed;
use crate::names;
use crate::text::{ip_token, port, uint};
use crate::timefmt;

/// The dataset of FortiGate records.
pub const DATASET: &str = "fortinet.fortigate";

/// Whether a message is a FortiGate record.
pub fn is_record(msg: &str) -> bool {
    msg.starts_with("date=")
        && (msg.contains(" devid=") || msg.contains(" logid="))
        && msg.contains(" type=")
}

/// Reads a record sent without a syslog header (`<189>date=...`).
pub fn parse_line(ctx: &FileContext, no: u64, line: &Arc<str>) -> Parsed {
    let text = super::strip_priority(line);
    if !is_record(text) {
        return None;
    }
    let mut event = ctx.event(no, Arc::clone(line));
    event.set_static("event.dataset", DATASET);
    event.set_static("event.kind", "event");
    fill(text, &mut event, Some(&ctx.options.zone));
    Some((DATASET, event))
}

/// The `key=value` pairs of a record, quotes removed.
fn pairs(mut text: &str) -> impl Iterator<Item = (&str, &str)> {
    std::iter::from_fn(move || loop {
        text = text.trim_start();
        if text.is_empty() {
            return None;
        }
        let word_end = text.find(' ').unwrap_or(text.len());
        let Some(eq) = text[..word_end].find('=') else {
            text = &text[word_end..];
            continue;
        };
        let key = &text[..eq];
        let rest = &text[eq + 1..];
        let (value, after) = match rest.strip_prefix('"') {
            Some(quoted) => match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            },
            None => {
                let end = rest.find(' ').unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        text = after;
        return Some((key, value));
    })
}

/// Sets every pair of the record and the ECS fields; the time, when the
/// record carries its offset (`tz=`) or an epoch (`eventtime=`), else its
/// `date` and `time` read in `zone` when one is given (a syslog header's
/// time is kept otherwise).
pub fn fill(text: &str, event: &mut Event, zone: Option<&Zone>) {
    event.set_static("event.module", "fortinet");
    let (mut date, mut clock, mut tz, mut epoch) = (None, None, None, None);
    for (key, value) in pairs(text) {
        event.set_str(names::prefixed("fortinet.firewall.", key), value);
        match key {
            "date" => date = Some(value),
            "time" => clock = Some(value),
            "tz" => tz = Some(value),
            "eventtime" => epoch = Some(value),
            _ => ecs(key, value, event),
        }
    }
    let offset_time = date.zip(clock).zip(tz).and_then(|((d, c), z)| {
        let z = if z.len() == 5 && z.is_ascii() && !z.contains(':') {
            format!("{}:{}", &z[..3], &z[3..])
        } else {
            z.to_owned()
        };
        timefmt::any(&format!("{d}T{c}{z}"), &Zone::utc())
    });
    let local = || {
        let (d, c) = date.zip(clock)?;
        timefmt::any(&format!("{d} {c}"), zone?)
    };
    if let Some(t) = offset_time
        .or_else(|| epoch.and_then(epoch_any))
        .or_else(local)
    {
        event.timestamp = Some(t);
    }
}

/// FortiGate's `eventtime`: seconds, or nanoseconds since 6.2.
fn epoch_any(value: &str) -> Option<Timestamp> {
    let n = uint(value)?;
    let secs = if n > 100_000_000_000_000 {
        n / 1_000_000_000
    } else {
        n
    };
    let nanos = if n > 100_000_000_000_000 {
        (n % 1_000_000_000) as i32
    } else {
        0
    };
    Timestamp::new(i64::try_from(secs).ok()?, nanos).ok()
}

fn ecs(key: &str, value: &str, event: &mut Event) {
    if value.is_empty() || value == "N/A" {
        return;
    }
    match key {
        "srcip" | "remip" => {
            if let Some(ip) = ip_token(value) {
                event.insert("source.ip", ip);
            }
        }
        "dstip" | "locip" => {
            if let Some(ip) = ip_token(value) {
                event.insert("destination.ip", ip);
            }
        }
        "srcport" => {
            if let Some(p) = port(value) {
                event.insert("source.port", i64::from(p));
            }
        }
        "dstport" => {
            if let Some(p) = port(value) {
                event.insert("destination.port", i64::from(p));
            }
        }
        "user" => event.insert_str("user.name", value),
        "action" => event.insert_str("event.action", value),
        "msg" => event.insert_str("message", value),
        "level" => event.insert_str("log.level", value),
        "devname" => event.insert_str("observer.name", value),
        "devid" => event.insert_str("observer.serial_number", value),
        "logid" => event.insert_str("event.code", value),
        "logdesc" => event.insert_str("event.reason", value),
        "policyid" => event.insert_str("rule.id", value),
        "srcintf" => event.insert_str("observer.ingress.interface.name", value),
        "dstintf" => event.insert_str("observer.egress.interface.name", value),
        "hostname" => event.insert_str("url.domain", value),
        "url" => event.insert_str("url.original", value),
        // `ui="https(198.51.100.7)"`: where an administrator connected from.
        "ui" => {
            if let Some(ip) = value
                .split(['(', ')'])
                .nth(1)
                .and_then(ip_token)
                .filter(|_| !event.contains("source.ip"))
            {
                event.insert("source.ip", ip);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    #[test]
    fn records_with_and_without_syslog_header() {
        let ctx = FileContext::new("fortigate.log", ParseOptions::default());
        let line = r#"<189>date=2024-05-10 time=11:37:47 devname="fw01" devid="FGT60E0000000001" eventtime=1715340467118457610 tz="+0200" logid="0100044547" type="event" subtype="system" level="information" vd="root" logdesc="Object attribute configured" user="admin" ui="https(198.51.100.7)" action="Add" cfgtid=1 cfgpath="system.admin" cfgobj="backdoor" msg="Add system.admin backdoor""#;
        let (dataset, e) = parse_line(&ctx, 1, &Arc::from(line)).unwrap();
        assert_eq!(dataset, DATASET);
        assert_eq!(e.get_str("fortinet.firewall.cfgpath"), Some("system.admin"));
        assert_eq!(e.get_str("fortinet.firewall.action"), Some("Add"));
        assert_eq!(e.get_str("user.name"), Some("admin"));
        assert_eq!(e.get("source.ip").unwrap().to_string(), "198.51.100.7");
        assert_eq!(e.get_str("message"), Some("Add system.admin backdoor"));
        assert_eq!(e.timestamp.unwrap().to_string(), "2024-05-10T09:37:47Z");
        let traffic = r#"date=2024-05-10 time=11:40:01 logid="0000000013" type="traffic" subtype="forward" srcip=10.0.0.12 srcport=51514 dstip=203.0.113.80 dstport=443 action="deny" policyid=7"#;
        let (_, e) = parse_line(&ctx, 2, &Arc::from(traffic)).unwrap();
        assert_eq!(e.get("destination.port").unwrap().to_string(), "443");
        assert_eq!(e.get_str("event.action"), Some("deny"));
        assert_eq!(e.timestamp.unwrap().to_string(), "2024-05-10T11:40:01Z");
        assert!(parse_line(&ctx, 3, &Arc::from("date=today nothing else")).is_none());
    }
}
