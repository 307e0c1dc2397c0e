//! The syslog header: RFC 3164 (`Mar 14 03:22:14 host prog[pid]: msg`),
//! RFC 5424 (`<34>1 2025-03-14T10:01:02Z host app pid msgid [sd] msg`) and the
//! RFC 3339 timestamps rsyslog writes in its high-precision template.

use rampart_event::Timestamp;

use crate::text::position;
use crate::timefmt;

/// The time as the header printed it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HeaderTime {
    /// A full instant (RFC 5424, RFC 3339).
    Instant(Timestamp),
    /// RFC 5424's NILVALUE: the sender did not know the time.
    Missing,
    /// An RFC 3164 time: month, day and clock, no year, no zone.
    NoYear {
        /// Month 1-12.
        month: u8,
        /// Day 1-31.
        day: u8,
        /// Hour, minute, second, nanoseconds.
        clock: (u8, u8, u8, u32),
    },
}

/// A parsed syslog header and the message after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Header<'a> {
    /// The `<PRI>` value, when present.
    pub priority: Option<u8>,
    /// The time.
    pub time: HeaderTime,
    /// The host name, when present.
    pub host: Option<&'a str>,
    /// The program (tag or APP-NAME), without pid or sub-name.
    pub program: Option<&'a str>,
    /// A sub-name in parentheses (`sshd(pam_unix)`).
    pub subname: Option<&'a str>,
    /// The pid in brackets or RFC 5424 PROCID.
    pub pid: Option<u32>,
    /// RFC 5424 MSGID.
    pub msgid: Option<&'a str>,
    /// RFC 5424 structured data, raw.
    pub structured: Option<&'a str>,
    /// The message.
    pub message: &'a str,
}

/// Parses a syslog header; `None` if the line is not syslog.
pub fn parse<'a>(line: &'a str, zone: &rampart_event::time::Zone) -> Option<Header<'a>> {
    let bytes = line.as_bytes();
    let (priority, mut at) = priority(bytes);
    if bytes.get(at..at + 2) == Some(b"1 ") {
        if let Some(h) = rfc5424(line, at + 2, priority, zone) {
            return Some(h);
        }
    }
    let time;
    if let Some((t, used)) = bsd_time(&bytes[at..]) {
        time = t;
        at += used;
    } else if let Some((t, used)) = rfc3339(&bytes[at..], zone) {
        time = HeaderTime::Instant(t);
        at += used;
    } else {
        return None;
    }
    if bytes.get(at) != Some(&b' ') {
        return None;
    }
    let rest = line[at..].trim_start_matches(' ');
    let (host, rest) = host_and_rest(rest);
    let (program, subname, pid, message) = tag(rest);
    Some(Header {
        priority,
        time,
        host,
        program,
        subname,
        pid,
        msgid: None,
        structured: None,
        message,
    })
}

fn priority(bytes: &[u8]) -> (Option<u8>, usize) {
    if bytes.first() != Some(&b'<') {
        return (None, 0);
    }
    let digits = bytes[1..]
        .iter()
        .take(4)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > 3 || bytes.get(1 + digits) != Some(&b'>') {
        return (None, 0);
    }
    let value: u32 = std::str::from_utf8(&bytes[1..1 + digits])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(u32::MAX);
    match u8::try_from(value) {
        Ok(p) if p <= 191 => (Some(p), digits + 2),
        _ => (None, 0),
    }
}

/// An RFC 3339 time (`2025-03-14T10:01:02.123+00:00`) as rsyslog writes it:
/// the `T` and the dashes keep other `date time` log formats out.
fn rfc3339(s: &[u8], zone: &rampart_event::time::Zone) -> Option<(Timestamp, usize)> {
    if s.len() < 19 || s[4] != b'-' || !matches!(s[10], b'T' | b't') {
        return None;
    }
    timefmt::iso8601(s, zone)
}

/// `Mar 14 03:22:14`, `Mar  4 03:22:14`, optionally with a fraction or a year.
fn bsd_time(s: &[u8]) -> Option<(HeaderTime, usize)> {
    if s.len() < 15 || s[3] != b' ' {
        return None;
    }
    let month = timefmt::month(&s[0..3])?;
    let mut at = 4;
    if s[at] == b' ' {
        at += 1;
    }
    let day_len = s[at..]
        .iter()
        .take(2)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if day_len == 0 || s.get(at + day_len) != Some(&b' ') {
        return None;
    }
    let day = s[at..at + day_len]
        .iter()
        .fold(0u8, |n, b| n * 10 + (b - b'0'));
    at += day_len + 1;
    let (clock, used) = timefmt::hms(&s[at..])?;
    at += used;
    Some((HeaderTime::NoYear { month, day, clock }, at))
}

/// Splits off the host name. A first token that already looks like a tag
/// (`sshd[12]:`, `kernel:`) means the line has no host.
fn host_and_rest(rest: &str) -> (Option<&str>, &str) {
    let end = position(rest, b' ').unwrap_or(rest.len());
    let token = &rest[..end];
    if token.ends_with(':') || position(token, b'[').is_some() {
        return (None, rest);
    }
    (Some(token), rest[end..].trim_start_matches(' '))
}

/// Splits `prog[pid]: message`, `prog(sub)[pid]: message`, `prog: message`.
/// Text with no tag before the first `: ` is all message.
fn tag(rest: &str) -> (Option<&str>, Option<&str>, Option<u32>, &str) {
    let window = &rest.as_bytes()[..rest.len().min(64)];
    let Some(colon) = memchr::memchr(b':', window) else {
        return (None, None, None, rest);
    };
    let after = &rest[colon + 1..];
    if !(after.is_empty() || after.starts_with(' ')) {
        return (None, None, None, rest);
    }
    let tag = &rest[..colon];
    let message = after.strip_prefix(' ').unwrap_or(after);
    let (name, pid) = match (position(tag, b'['), tag.ends_with(']')) {
        (Some(open), true) => (
            &tag[..open],
            crate::text::uint(&tag[open + 1..tag.len() - 1]),
        ),
        _ => (tag, None),
    };
    let (name, subname) = match (position(name, b'('), name.ends_with(')')) {
        (Some(open), true) => (&name[..open], Some(&name[open + 1..name.len() - 1])),
        _ => (name, None),
    };
    if name.is_empty() || position(name, b'=').is_some() {
        return (None, None, None, rest);
    }
    let pid = pid.and_then(|p| u32::try_from(p).ok());
    (Some(name), subname, pid, message)
}

fn rfc5424<'a>(
    line: &'a str,
    start: usize,
    priority: Option<u8>,
    zone: &rampart_event::time::Zone,
) -> Option<Header<'a>> {
    let mut rest = &line[start..];
    let mut next = || -> Option<&'a str> {
        let end = rest.find(' ')?;
        let token = &rest[..end];
        rest = &rest[end + 1..];
        Some(token)
    };
    let ts = next()?;
    let time = if ts == "-" {
        HeaderTime::Missing
    } else {
        HeaderTime::Instant(timefmt::iso8601(ts.as_bytes(), zone)?.0)
    };
    let nil = |t: &'a str| (t != "-").then_some(t);
    let host = nil(next()?);
    let program = nil(next()?);
    let pid = nil(next()?)
        .and_then(crate::text::uint)
        .and_then(|p| u32::try_from(p).ok());
    let msgid = nil(next()?);
    let (structured, message) = structured_data(rest)?;
    let message = message.strip_prefix('\u{feff}').unwrap_or(message);
    Some(Header {
        priority,
        time,
        host,
        program,
        subname: None,
        pid,
        msgid,
        structured,
        message,
    })
}

/// Splits RFC 5424 STRUCTURED-DATA (`-` or `[id k="v"]...`) from the message.
fn structured_data(rest: &str) -> Option<(Option<&str>, &str)> {
    if let Some(msg) = rest.strip_prefix('-') {
        return Some((None, msg.strip_prefix(' ').unwrap_or(msg)));
    }
    if !rest.starts_with('[') {
        return Some((None, rest));
    }
    let bytes = rest.as_bytes();
    let (mut i, mut in_quotes) = (0, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_quotes => i += 1,
            b'"' => in_quotes = !in_quotes,
            b']' if !in_quotes && bytes.get(i + 1) != Some(&b'[') => {
                let msg = &rest[i + 1..];
                return Some((Some(&rest[..=i]), msg.strip_prefix(' ').unwrap_or(msg)));
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The `(id, name, value)` parameters of RFC 5424 structured data.
pub fn sd_params(sd: &str) -> Vec<(&str, &str, String)> {
    let mut params = Vec::new();
    for element in sd.split_inclusive(']') {
        let element = element.trim_start_matches('[').trim_end_matches(']');
        let Some((id, mut body)) = element.split_once(' ') else {
            continue;
        };
        while let Some((name, after)) = body.trim_start().split_once("=\"") {
            let mut value = String::new();
            let mut chars = after.char_indices();
            let mut end = after.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            params.push((id, name.trim(), value));
            body = &after[end.min(after.len())..];
        }
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::time::Zone;

    #[test]
    fn bsd_header() {
        let h = parse(
            "Mar  4 03:22:14 web01 sshd[9841]: Failed password for root",
            &Zone::utc(),
        )
        .unwrap();
        assert_eq!(
            h.time,
            HeaderTime::NoYear {
                month: 3,
                day: 4,
                clock: (3, 22, 14, 0)
            }
        );
        assert_eq!(h.host, Some("web01"));
        assert_eq!(h.program, Some("sshd"));
        assert_eq!(h.pid, Some(9841));
        assert_eq!(h.message, "Failed password for root");
    }

    #[test]
    fn tags_with_subnames_spaces_or_none() {
        let z = Zone::utc();
        let h = parse(
            "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass;",
            &z,
        )
        .unwrap();
        assert_eq!(
            (h.program, h.subname, h.pid),
            (Some("sshd"), Some("pam_unix"), Some(19939))
        );
        let h = parse("Jun 14 15:16:01 combo syslogd 1.4.1: restart.", &z).unwrap();
        assert_eq!((h.program, h.message), (Some("syslogd 1.4.1"), "restart."));
        let h = parse("Jun 14 15:16:01 combo kernel: Linux version 2.6", &z).unwrap();
        assert_eq!(
            (h.program, h.message),
            (Some("kernel"), "Linux version 2.6")
        );
        let h = parse("Jun 14 15:16:01 combo no tag here at all", &z).unwrap();
        assert_eq!((h.program, h.message), (None, "no tag here at all"));
    }

    #[test]
    fn rfc5424_header_with_structured_data() {
        let line = "<34>1 2025-03-14T10:01:02.003Z web01 sshd 4123 ID47 [ex@32473 iut=\"3\" src=\"a\\\"b\"] \u{feff}Failed password";
        let h = parse(line, &Zone::utc()).unwrap();
        assert_eq!(h.priority, Some(34));
        assert_eq!(h.program, Some("sshd"));
        assert_eq!(h.pid, Some(4123));
        assert_eq!(h.msgid, Some("ID47"));
        assert_eq!(h.message, "Failed password");
        let params = sd_params(h.structured.unwrap());
        assert_eq!(params[1], ("ex@32473", "src", "a\"b".to_owned()));
    }

    #[test]
    fn rfc5424_nil_time() {
        let h = parse("<34>1 - web03 sshd 777 - - Failed password", &Zone::utc()).unwrap();
        assert_eq!(h.time, HeaderTime::Missing);
        assert_eq!(h.message, "Failed password");
    }

    #[test]
    fn not_syslog() {
        assert!(parse(
            "2023-07-23 21:36:36,227 - ids_logger_1 - low_severity - TCP",
            &Zone::utc()
        )
        .is_none());
        assert!(parse("hello world", &Zone::utc()).is_none());
        assert!(parse("<999>Mar 14 03:22:14 x y: z", &Zone::utc()).is_none());
    }
}
