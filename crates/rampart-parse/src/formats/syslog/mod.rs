//! Syslog files: the header, then a message read according to the program
//! that wrote it (sshd, sudo, su, cron, PAM, account tools, kernel firewall).
//!
//! RFC 3164 lines carry no year. The year comes from `--year`, else from the
//! file's modification time; a month that jumps back by six or more (December
//! to January) starts the next year, so a file that spans New Year reads right.

mod auth;
pub mod exported;
mod header;
mod sshd;

use std::sync::Arc;

use rampart_event::time::{Civil, Zone};
use rampart_event::{Event, Timestamp};

use crate::context::FileContext;
use crate::formats::{auditd, netdevice, netfilter, windows};
use crate::output::mark_quality;

pub use header::{parse as parse_header, Header, HeaderTime};

/// Which year an RFC 3164 line belongs to, tracked along one file.
#[derive(Debug, Clone)]
pub struct YearTracker {
    given: Option<i16>,
    modified: Option<(i16, u8)>,
    current: Option<i16>,
    last_month: u8,
}

impl YearTracker {
    /// A tracker with the user's `--year` (the year of the file's first line)
    /// or the file's modification time.
    pub fn new(given: Option<i16>, modified: Option<Timestamp>, zone: &Zone) -> Self {
        YearTracker {
            given,
            modified: modified.map(|t| {
                let c = zone.civil(t);
                (c.year, c.month)
            }),
            current: None,
            last_month: 0,
        }
    }

    /// A tracker for the lines of the file in `ctx`.
    pub fn of_file(ctx: &FileContext) -> Self {
        YearTracker::new(ctx.options.year, ctx.modified, &ctx.options.zone)
    }

    /// The year of a line dated in `month`.
    pub fn year_for(&mut self, month: u8) -> i16 {
        let year = match self.current {
            None => match (self.given, self.modified) {
                (Some(y), _) => y,
                // A first line dated after the file was last written is from the year before.
                (None, Some((y, m))) => {
                    if month > m {
                        y - 1
                    } else {
                        y
                    }
                }
                (None, None) => Zone::utc().civil(Timestamp::now()).year,
            },
            Some(y) if month + 6 <= self.last_month => y + 1,
            Some(y) => y,
        };
        self.current = Some(year);
        self.last_month = month;
        year
    }
}

/// The syslog line parser of one file.
#[derive(Debug, Clone)]
pub struct SyslogParser {
    years: YearTracker,
}

/// The format name syslog lines are counted under unless a message is more specific.
pub const DATASET_SYSLOG: &str = "linux.syslog";

impl SyslogParser {
    /// A parser for the file in `ctx`.
    pub fn new(ctx: &FileContext) -> Self {
        SyslogParser {
            years: YearTracker::of_file(ctx),
        }
    }

    /// Parses one line; `None` if it is not syslog. Returns the dataset.
    pub fn parse(
        &mut self,
        ctx: &FileContext,
        no: u64,
        line: &Arc<str>,
    ) -> Option<(&'static str, Event)> {
        let h = header::parse(line, &ctx.options.zone)?;
        let time = match h.time {
            HeaderTime::Instant(t) => Some(t),
            HeaderTime::Missing => None,
            HeaderTime::NoYear { month, day, clock } => {
                let year = self.years.year_for(month);
                ctx.options
                    .zone
                    .instant(Civil::new(year, month, day, clock))
            }
        };
        let unreadable = time.is_none() && !matches!(h.time, HeaderTime::Missing);
        let (dataset, mut event) = event_of(ctx, no, line, &h, time);
        // A clock such as 25:99:99: the event is kept, its time said to be unreadable.
        if unreadable {
            mark_quality(&mut event, "unreadable-time");
        }
        Some((dataset, event))
    }
}

/// The event of one syslog message whose header is read: `original` is the
/// record it came from (the line, or a JSON export of the message).
pub fn event_of(
    ctx: &FileContext,
    no: u64,
    original: &Arc<str>,
    h: &Header<'_>,
    time: Option<Timestamp>,
) -> (&'static str, Event) {
    if let Some(parsed) = windows_event(ctx, no, original, h, time) {
        return parsed;
    }
    let mut event = ctx.event(no, Arc::clone(original));
    event.timestamp = time;
    let dataset = fill(h, &mut event);
    (dataset, event)
}

/// A Windows-style XML event in a syslog message, as Sysmon for Linux
/// writes them: the event is the XML's, with the syslog priority kept. A
/// damaged event (cut short by a message size limit, or with Sysmon for
/// Linux's unterminated entities) is repaired, and what was repaired is
/// named in `rampart.quality`.
fn windows_event(
    ctx: &FileContext,
    no: u64,
    line: &Arc<str>,
    h: &Header<'_>,
    time: Option<Timestamp>,
) -> Option<(&'static str, Event)> {
    let xml = h.message.trim();
    if !xml.starts_with("<Event") {
        return None;
    }
    let (rec, repaired) = match windows::xml::parse_event(xml, ctx) {
        Ok(rec) => (rec, None),
        Err(_) => {
            let (rec, repaired) = windows::xml::parse_damaged_event(xml, ctx)?;
            (rec, Some(repaired))
        }
    };
    let dataset = windows::dataset_of(rec.channel.as_deref().unwrap_or(""));
    let mut event = windows::build(ctx, no, line, rec);
    if let Some(repairs) = repaired {
        windows::xml::mark_repairs(&mut event, repairs);
    }
    event.timestamp = event.timestamp.or(time);
    if let Some(program) = h.program {
        event.set_str("log.syslog.appname", program);
    }
    if let Some(p) = h.priority {
        event.set("log.syslog.priority", u32::from(p));
    }
    if event.get_str("host.name").is_none() {
        if let Some(host) = h.host {
            event.set_str("host.name", host);
        }
    }
    Some((dataset, event))
}

/// Sets the header fields and reads the message; returns the dataset.
fn fill(h: &Header<'_>, event: &mut Event) -> &'static str {
    if let Some(host) = h.host {
        event.set_str("host.name", host);
    }
    if let Some(program) = h.program {
        event.set_str("process.name", program);
    }
    if let Some(pid) = h.pid {
        event.set("process.pid", pid);
    }
    if let Some(p) = h.priority {
        event.set("log.syslog.priority", u32::from(p));
        event.set("log.syslog.facility.code", u32::from(p / 8));
        event.set("log.syslog.severity.code", u32::from(p % 8));
    }
    if let Some(msgid) = h.msgid {
        event.set_str("log.syslog.msgid", msgid);
    }
    let params = h.structured.map(header::sd_params).unwrap_or_default();
    let juniper_data = params
        .iter()
        .any(|(id, ..)| netdevice::junos::is_juniper_sd_id(id));
    for (id, name, value) in params {
        // An SD-ID's dots (`junos@2636.1.1`) would nest the field.
        let id = id.replace('.', "_");
        event.insert(format!("log.syslog.structured_data.{id}.{name}"), value);
    }
    event.set_str("message", h.message);
    let dataset = message(h, juniper_data, event);
    event.set_static("event.dataset", dataset);
    event.set_static("event.kind", "event");
    dataset
}

/// Reads the message by program and returns the dataset; `juniper_data`
/// says the structured data names Juniper.
fn message(h: &Header<'_>, juniper_data: bool, event: &mut Event) -> &'static str {
    let msg = h.message;
    if netfilter::is_netfilter(msg) {
        return netfilter::parse(msg, event);
    }
    if let Some(record) = auditd::in_message(msg) {
        auditd::fill_from_syslog(&record, event);
        return auditd::DATASET;
    }
    let junos = netdevice::junos::Line {
        program: h.program,
        msgid: h.msgid,
        juniper_data,
        message: msg,
    };
    if let Some(dataset) = netdevice::junos::read(&junos, event) {
        return dataset;
    }
    let program = h.program.unwrap_or("");
    let lower: std::borrow::Cow<'_, str> = if program.bytes().any(|b| b.is_ascii_uppercase()) {
        program.to_ascii_lowercase().into()
    } else {
        program.into()
    };
    if let Some(body) = pam_body(h) {
        auth::pam(body, event);
        if lower == "sshd" && !event.contains("event.action") {
            sshd::parse(msg, event);
        }
        return if lower.starts_with("cron") {
            "linux.cron"
        } else {
            "linux.auth"
        };
    }
    match lower.as_ref() {
        "sshd" | "ssh" => sshd::parse(msg, event),
        "sudo" => auth::sudo(msg, event),
        "su" => auth::su(msg, event),
        "cron" | "crond" | "anacron" => {
            auth::cron(msg, event);
            return "linux.cron";
        }
        "useradd" | "usermod" | "userdel" | "groupadd" | "groupdel" | "groupmod" | "passwd"
        | "chpasswd" | "gpasswd" | "adduser" | "deluser" | "chage" => auth::account(msg, event),
        "systemd-logind" | "login" | "polkitd" | "gdm-password" | "lightdm" | "sddm"
        | "unix_chkpwd" | "chsh" | "chfn" | "newgrp" => {}
        "kernel" => return "linux.kernel",
        _ => return device(h, event).unwrap_or(DATASET_SYSLOG),
    }
    "linux.auth"
}

/// A network device's message, from a program name no Linux host uses:
/// returns its dataset.
fn device(h: &Header<'_>, event: &mut Event) -> Option<&'static str> {
    // A Cisco message code right after the host reads as the program tag.
    let dataset = match h.program.filter(|p| p.starts_with('%')) {
        Some(code) => netdevice::in_message(&format!("{code}: {}", h.message), event),
        None => netdevice::in_message(h.message, event),
    }?;
    // Cisco's message counter, or code, sits where a program name would.
    if h.program
        .is_some_and(|p| p.starts_with('%') || p.bytes().all(|b| b.is_ascii_digit()))
    {
        event.remove("process.name");
    }
    Some(dataset)
}

/// The PAM part of a message: `pam_unix(sshd:auth): BODY`, or the whole
/// message when the tag names PAM (`sshd(pam_unix)[12]: BODY`).
fn pam_body<'a>(h: &Header<'a>) -> Option<&'a str> {
    if h.subname.is_some_and(|s| s.starts_with("pam")) {
        return Some(h.message);
    }
    let rest = h.message.strip_prefix("pam_")?;
    let (_, body) = rest.split_once("): ")?;
    Some(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    fn ctx(year: Option<i16>) -> FileContext {
        FileContext::new(
            "auth.log",
            ParseOptions {
                year,
                zone: Zone::utc(),
            },
        )
    }

    #[test]
    fn year_rolls_over_at_new_year() {
        let c = ctx(Some(2024));
        let mut p = SyslogParser::new(&c);
        let (_, dec) = p
            .parse(
                &c,
                1,
                &Arc::from(
                    "Dec 31 23:59:58 h sshd[1]: Connection closed by 192.0.2.1 port 2 [preauth]",
                ),
            )
            .unwrap();
        let (_, jan) = p
            .parse(
                &c,
                2,
                &Arc::from(
                    "Jan  1 00:00:05 h sshd[1]: Connection closed by 192.0.2.1 port 2 [preauth]",
                ),
            )
            .unwrap();
        assert_eq!(dec.timestamp.unwrap().to_string(), "2024-12-31T23:59:58Z");
        assert_eq!(jan.timestamp.unwrap().to_string(), "2025-01-01T00:00:05Z");
    }

    #[test]
    fn year_from_modification_time() {
        let mut c = ctx(None);
        c.modified = Some("2026-01-10T00:00:00Z".parse().unwrap());
        let mut p = SyslogParser::new(&c);
        let (_, e) = p
            .parse(&c, 1, &Arc::from("Dec 30 10:00:00 h cron[1]: x"))
            .unwrap();
        assert_eq!(e.timestamp.unwrap().to_string(), "2025-12-30T10:00:00Z");
    }

    #[test]
    fn sysmon_for_linux_events_even_when_cut() {
        let c = ctx(Some(2025));
        let mut p = SyslogParser::new(&c);
        let head = r#"Mar 14 11:00:21 h sysmon: <Event><System><Provider Name="Linux-Sysmon"/><EventID>1</EventID><Channel>Linux-Sysmon/Operational</Channel><Computer>h</Computer></System><EventData><Data Name="Image">/usr/bin/id</Data><Data Name="CommandLine">id -"#;
        let (dataset, e) = p.parse(&c, 1, &Arc::from(head)).unwrap();
        assert_eq!(dataset, "linux.sysmon");
        assert_eq!(e.get_str("winlog.event_data.Image"), Some("/usr/bin/id"));
        assert!(e.get("winlog.event_data.CommandLine").is_none());
        assert_eq!(e.get("rampart.quality").unwrap().to_string(), "cut-event");
        let whole = format!("{head}u</Data></EventData></Event>");
        let (_, e) = p.parse(&c, 2, &Arc::from(whole.as_str())).unwrap();
        assert_eq!(e.get_str("winlog.event_data.CommandLine"), Some("id -u"));
        assert!(e.get("rampart.quality").is_none());
    }

    #[test]
    fn programs_pick_the_dataset() {
        let c = ctx(Some(2025));
        let mut p = SyslogParser::new(&c);
        let cases = [
            ("Mar 14 03:22:14 web01 sshd[9841]: Failed password for root from 45.33.32.156 port 42190 ssh2", "linux.auth"),
            ("Mar 14 11:00:21 fw01 kernel: [UFW BLOCK] IN=eth0 OUT= SRC=192.0.2.66 DST=10.0.0.5 PROTO=TCP SPT=1 DPT=21", "firewall.ufw"),
            ("Mar 14 11:00:21 h CRON[2211]: (root) CMD (/usr/local/bin/backup.sh)", "linux.cron"),
            ("Mar 14 11:00:21 h kernel: Linux version 6.1", "linux.kernel"),
            ("Mar 14 11:00:21 h dhclient[4]: DHCPACK", "linux.syslog"),
            ("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 ", "linux.auth"),
        ];
        for (line, want) in cases {
            let (dataset, e) = p.parse(&c, 1, &Arc::from(line)).unwrap();
            assert_eq!(dataset, want, "{line}");
            assert_eq!(e.get_str("event.dataset"), Some(want));
        }
    }
}
