//! The Security Log Generator's formats: IDS lines, its web access lines and
//! its multi-line endpoint antivirus records.

use std::sync::Arc;

use rampart_event::{severity, Event, Value};

use crate::context::FileContext;
use crate::output::Output;
use crate::text::{ip_token, port, snake, uint};
use crate::timefmt;

/// `event.dataset` of IDS lines.
pub const IDS: &str = "ids.alert";
/// `event.dataset` of the generator's access lines.
pub const ACCESS: &str = "web.access";
/// `event.dataset` of endpoint AV records.
pub const ENDPOINT: &str = "endpoint.av";

/// The transport an application protocol usually runs over.
fn transport_of(protocol: &str) -> Option<&'static str> {
    Some(match protocol {
        "tcp" => "tcp",
        "udp" => "udp",
        "icmp" => "icmp",
        "http" | "https" | "ftp" | "ssh" | "smtp" | "telnet" | "imap" | "pop3" | "smb" | "rdp"
        | "ldap" => "tcp",
        "dhcp" | "tftp" | "dns" | "snmp" | "ntp" | "syslog" | "netbios" => "udp",
        _ => return None,
    })
}

/// `ip:port`, with the port after the last colon.
fn endpoint(text: &str) -> Option<(std::net::IpAddr, Option<u16>)> {
    if let Some(ip) = ip_token(text) {
        return Some((ip, None));
    }
    let (addr, p) = text.rsplit_once(':')?;
    Some((ip_token(addr)?, port(p)))
}

/// `2023-07-23 21:36:36,227 - ids_logger_1 - low_severity - TCP - a:p --> b:q - SYN - Port scanning`
pub fn parse_ids(ctx: &FileContext, no: u64, line: &Arc<str>) -> Option<(&'static str, Event)> {
    let (timestamp, used) = timefmt::iso8601(line.as_bytes(), &ctx.options.zone)?;
    let rest = line[used..].strip_prefix(" - ")?;
    let mut parts = rest.splitn(6, " - ");
    let logger = parts.next()?;
    let level = parts.next()?;
    let protocol = parts.next()?;
    let flow = parts.next()?;
    let flag = parts.next()?;
    let description = parts.next().unwrap_or("").trim_end();
    let (src, dst) = flow.split_once(" --> ")?;
    let (src_ip, src_port) = endpoint(src.trim())?;
    let (dst_ip, dst_port) = endpoint(dst.trim())?;

    let mut e = ctx.event(no, Arc::clone(line));
    e.timestamp = Some(timestamp);
    e.set_static("event.dataset", IDS);
    e.set_static("event.kind", "alert");
    e.set_static("event.category", "intrusion_detection");
    e.set_str("log.logger", logger);
    e.set_str("log.level", level);
    if let Some(s) = severity::from_label(level) {
        e.set("event.severity", s);
    }
    let proto = protocol.trim().to_ascii_lowercase();
    if let Some(transport) = transport_of(&proto) {
        e.set("network.transport", transport);
    }
    if !matches!(proto.as_str(), "tcp" | "udp" | "icmp") {
        e.set("network.protocol", proto);
    }
    e.set("source.ip", src_ip);
    if let Some(p) = src_port {
        e.set("source.port", p);
    }
    e.set("destination.ip", dst_ip);
    if let Some(p) = dst_port {
        e.set("destination.port", p);
    }
    e.set_str("tcp.flags", flag.trim());
    e.set_str("rule.name", description);
    e.set_str("message", description);
    Some((IDS, e))
}

/// `[2023-07-23 21:03:47,072] - access_logger_1 - IP - user "GET path HTTP/1.1 202 90178 referrer" "agent"`
pub fn parse_access(ctx: &FileContext, no: u64, line: &Arc<str>) -> Option<(&'static str, Event)> {
    let rest = line.strip_prefix('[')?;
    let (timestamp, used) = timefmt::iso8601(rest.as_bytes(), &ctx.options.zone)?;
    let rest = rest[used..].strip_prefix("] - ")?;
    let (logger, rest) = rest.split_once(" - ")?;
    let (client, rest) = rest.split_once(" - ")?;
    let (user, rest) = rest.split_once(" \"")?;
    let (request, rest) = rest.split_once("\" ")?;
    let agent = rest.trim_end().strip_prefix('"')?.strip_suffix('"')?;
    let mut words = request.splitn(6, ' ');
    let method = words.next()?;
    let path = words.next()?;
    let version = words.next()?;
    let status = uint(words.next()?)?;
    let bytes = words.next().and_then(uint);
    let referrer = words.next();

    let mut e = ctx.event(no, Arc::clone(line));
    e.timestamp = Some(timestamp);
    e.set_static("event.dataset", ACCESS);
    e.set_static("event.kind", "event");
    e.set_static("event.category", "web");
    e.set(
        "event.outcome",
        if status < 400 { "success" } else { "failure" },
    );
    e.set_str("log.logger", logger);
    match ip_token(client) {
        Some(ip) => e.set("source.ip", ip),
        None => e.set_str("source.domain", client),
    }
    if user != "-" {
        e.set_str("user.name", user);
    }
    e.set_str("http.request.method", method);
    super::web::url(path, &mut e);
    e.set_str(
        "http.version",
        version.strip_prefix("HTTP/").unwrap_or(version),
    );
    e.set("http.response.status_code", status as i64);
    if let Some(b) = bytes {
        e.set("http.response.body.bytes", b as i64);
    }
    if let Some(r) = referrer {
        e.set_str("http.request.referrer", r);
    }
    e.set_str("user_agent.original", agent);
    Some((ACCESS, e))
}

/// The endpoint AV decoder: a record starts at `Date: ...` and takes the
/// `Key: value` lines that follow.
#[derive(Debug, Default)]
pub struct EndpointDecoder {
    record: Option<(u64, Event)>,
}

impl EndpointDecoder {
    /// Feeds one line.
    pub fn feed(&mut self, ctx: &FileContext, no: u64, line: &str, out: &mut Output) {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            out.skipped();
            return;
        }
        if let Some(date) = trimmed.strip_prefix("Date:") {
            self.flush(out);
            let mut e = ctx.event(no, line);
            match timefmt::iso8601(date.trim().as_bytes(), &ctx.options.zone) {
                Some((t, _)) => e.timestamp = Some(t),
                None => out.quality("unreadable-time"),
            }
            e.set_static("event.dataset", ENDPOINT);
            e.set_static("event.kind", "event");
            e.set_static("event.category", "malware");
            self.record = Some((no, e));
            return;
        }
        let (Some((_, e)), Some((key, value))) = (self.record.as_mut(), trimmed.split_once(':'))
        else {
            out.unparsed(no, "not part of an endpoint record", line);
            return;
        };
        e.append_original(&["\n", line].concat());
        let value = value.trim();
        match snake(key).as_str() {
            "event_type" => {
                e.set_str("event.action", &snake(value).replace('_', "-"));
                e.set_str("endpoint.av.event_type", value);
            }
            "user" => e.set_str("user.name", value),
            "computer" => e.set_str("host.name", value),
            "file_process" => {
                e.set_str("file.name", value);
                e.set_str("process.name", value);
            }
            "reason" => e.set_str("event.reason", value),
            "threat_name" | "malware_name" | "threat" => {
                e.set_str("threat.software.name", &names_of(value))
            }
            "malware_found" => match uint(value) {
                Some(n) => e.set("endpoint.av.malware_found", Value::Int(n as i64)),
                None => e.set_str("endpoint.av.malware_found", value),
            },
            other => e.insert(format!("endpoint.av.{other}"), value),
        }
    }

    /// Emits the last record.
    pub fn flush(&mut self, out: &mut Output) {
        if let Some((_, e)) = self.record.take() {
            out.event(ENDPOINT, e);
        }
    }
}

/// Names the generator writes as a Python list (`['Trojan.JS.Example']`),
/// as plain text (`Trojan.JS.Example`; several joined by ", ").
fn names_of(value: &str) -> std::borrow::Cow<'_, str> {
    let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) else {
        return value.into();
    };
    let names: Vec<&str> = inner
        .split(',')
        .map(|n| n.trim().trim_matches(['\'', '"']))
        .filter(|n| !n.is_empty())
        .collect();
    names.join(", ").into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    fn ctx() -> FileContext {
        FileContext::new("ids.log", ParseOptions::default())
    }

    #[test]
    fn ids_line_keeps_every_part() {
        let line = "2026-02-06 12:00:00,000 - ids_logger_1 - high_severity - TCP - 213.209.159.158:4444 --> 10.0.0.10:80 - SYN - Malicious traffic";
        let (_, e) = parse_ids(&ctx(), 1, &Arc::from(line)).unwrap();
        assert_eq!(e.get("source.ip").unwrap().to_string(), "213.209.159.158");
        assert_eq!(e.get("source.port").unwrap().as_i64(), Some(4444));
        assert_eq!(e.get("destination.port").unwrap().as_i64(), Some(80));
        assert_eq!(e.get_str("tcp.flags"), Some("SYN"));
        assert_eq!(e.get_str("log.level"), Some("high_severity"));
        assert_eq!(
            e.get("event.severity").unwrap().as_i64(),
            Some(severity::HIGH)
        );
        assert_eq!(e.get_str("rule.name"), Some("Malicious traffic"));
        let (_, e) = parse_ids(&ctx(), 1, &Arc::from("2023-07-23 21:36:36,337 - ids_logger_1 - low_severity - DHCP - 74.57.157.4:50768 --> 234.255.198.179:67 - FIN - Denial of service (DoS)")).unwrap();
        assert_eq!(e.get_str("network.protocol"), Some("dhcp"));
        assert_eq!(e.get_str("network.transport"), Some("udp"));
    }

    #[test]
    fn generator_access_line() {
        let line = r#"[2023-07-23 21:03:48,152] - access_logger_1 - 255.129.167.173 - betty "GET blog/wp-content HTTP/1.1 304 9983 http://d.comblog/x.php?userparam=Clayton Adkins&id2=500" "Mozilla/5.0 (X11)""#;
        let (_, e) = parse_access(&ctx(), 1, &Arc::from(line)).unwrap();
        assert_eq!(e.get_str("user.name"), Some("betty"));
        assert_eq!(e.get_str("url.original"), Some("blog/wp-content"));
        assert_eq!(
            e.get("http.response.status_code").unwrap().as_i64(),
            Some(304)
        );
        assert_eq!(
            e.get_str("http.request.referrer"),
            Some("http://d.comblog/x.php?userparam=Clayton Adkins&id2=500")
        );
        assert_eq!(e.get_str("user_agent.original"), Some("Mozilla/5.0 (X11)"));
    }

    #[test]
    fn endpoint_records_span_lines() {
        let c = ctx();
        let mut d = EndpointDecoder::default();
        let mut out = Output::default();
        for (i, l) in [
            "Date: 2023-07-23 21:25:18,578 ",
            "Event Type: Exception",
            "File/Process: wininit.exe",
            "User: daniel",
            "Computer: XLWZAYAO25",
            "Date: 2023-07-23 21:25:19,000 ",
            "Event Type: Scan Started",
        ]
        .iter()
        .enumerate()
        {
            d.feed(&c, i as u64 + 1, l, &mut out);
        }
        d.flush(&mut out);
        assert_eq!(out.events.len(), 2);
        let e = &out.events[0];
        assert_eq!(e.get_str("event.action"), Some("exception"));
        assert_eq!(e.get_str("host.name"), Some("XLWZAYAO25"));
        assert_eq!(e.get_str("process.name"), Some("wininit.exe"));
        assert_eq!(e.origin.line, 1);
        assert_eq!(out.events[1].get_str("event.action"), Some("scan-started"));
    }

    #[test]
    fn threat_names_written_as_a_python_list_are_plain_names() {
        assert_eq!(
            names_of("['Backdoor.Win32.Example']"),
            "Backdoor.Win32.Example"
        );
        assert_eq!(names_of("['A', \"B\"]"), "A, B");
        assert_eq!(names_of("Trojan.Generic.123"), "Trojan.Generic.123");
        assert_eq!(names_of("[]"), "");
    }
}
