//! Login records: `wtmp` (logins, logouts, boots), `btmp` (failed logins)
//! and `lastlog` (each user's last login), the binary files `last`, `lastb`
//! and `lastlog` read. They are glibc's x86_64 layouts: a 384-byte `utmp`
//! record and a 292-byte `lastlog` slot per user id.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rampart_event::{Event, Timestamp};

use crate::context::FileContext;
use crate::text::ip_token;

/// The size of one utmp record.
pub const UTMP_SIZE: usize = 384;
/// The size of one lastlog slot.
pub const LASTLOG_SIZE: usize = 292;

/// The dataset of wtmp and btmp records.
pub const DATASET: &str = "linux.login";
/// The dataset of lastlog slots.
pub const LASTLOG_DATASET: &str = "linux.lastlog";

/// Which login file a file is, by its name (rotated copies included:
/// `wtmp.1`, `btmp-20260301`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFile {
    /// Logins, logouts, boots and run-level changes.
    Wtmp,
    /// Failed logins.
    Btmp,
    /// Each user id's last login.
    Lastlog,
}

impl LoginFile {
    /// The kind of login file `name` is, if it is one.
    pub fn of_name(name: &str) -> Option<LoginFile> {
        let stem = name.split(['.', '-']).next().unwrap_or(name);
        match stem {
            "wtmp" | "utmp" => Some(LoginFile::Wtmp),
            "btmp" => Some(LoginFile::Btmp),
            "lastlog" => Some(LoginFile::Lastlog),
            _ => None,
        }
    }

    /// The size of one record of this file.
    pub fn record_size(self) -> usize {
        match self {
            LoginFile::Lastlog => LASTLOG_SIZE,
            _ => UTMP_SIZE,
        }
    }
}

/// Text up to the first NUL (the whole field when it has none).
fn c_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).trim().to_owned()
}

fn i32_at(r: &[u8], at: usize) -> i32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&r[at..at + 4]);
    i32::from_le_bytes(b)
}

/// Where a utmp record keeps `ut_addr_v6`.
const ADDRESS: usize = 348;

/// The address in `ut_addr_v6`: IPv4 in the first word alone, else IPv6.
fn address(r: &[u8]) -> Option<IpAddr> {
    let raw = &r[ADDRESS..ADDRESS + 16];
    if raw.iter().all(|&b| b == 0) {
        return None;
    }
    if raw[4..].iter().all(|&b| b == 0) {
        return Some(IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3])));
    }
    let mut v6 = [0u8; 16];
    v6.copy_from_slice(raw);
    Some(IpAddr::V6(Ipv6Addr::from(v6)))
}

/// What a utmp record's type means: `event.action`, and `event.type`.
fn action_of(kind: i16, failed: bool) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        // lastb lists the login attempts; an empty slot is no attempt.
        6 | 7 if failed => ("user-login-failed", "start"),
        _ if failed => return None,
        1 => ("runlevel-change", "change"),
        2 => ("system-boot", "start"),
        3 | 4 => ("clock-change", "change"),
        5 => ("init-process", "start"),
        6 => ("login-prompt", "start"),
        7 => ("user-login", "start"),
        8 => ("user-logout", "end"),
        _ => return None,
    })
}

/// The event of one utmp record (`failed` for btmp), numbered `no`;
/// `None` for an empty slot. The event's original is the record as `last`
/// would print it.
pub fn utmp_event(ctx: &FileContext, no: u64, r: &[u8], failed: bool) -> Option<Event> {
    let kind = i16::from_le_bytes([r[0], r[1]]);
    let (action, kind_of) = action_of(kind, failed)?;
    let pid = i32_at(r, 4);
    let line = c_text(&r[8..40]);
    let user = c_text(&r[44..76]);
    let host = c_text(&r[76..332]);
    let secs = i32_at(r, 340);
    let usecs = i32_at(r, 344).clamp(0, 999_999);
    // Boot and run-level records keep the kernel's release where a login
    // keeps the remote host.
    let system = matches!(kind, 1 | 2) && !failed;
    let (host, kernel) = if system {
        (String::new(), c_text(&r[76..332]))
    } else {
        (host, String::new())
    };
    let addr = address(r).or_else(|| ip_token(&host));
    let mut text = format!("{action} {user} {line}");
    if !host.is_empty() {
        text.push_str(&format!(" from {host}"));
    }
    if !kernel.is_empty() {
        text = format!("{action} (kernel {kernel})");
    }
    let mut e = ctx.event(no, text.trim().to_owned());
    e.timestamp = Timestamp::new(i64::from(secs), usecs * 1000).ok();
    e.set_static("event.dataset", DATASET);
    e.set_static("event.kind", "event");
    e.set_static("event.action", action);
    e.set_static("event.type", kind_of);
    if (6..=8).contains(&kind) || failed {
        e.set_static("event.category", "authentication");
    }
    if action == "user-login" {
        e.set_static("event.outcome", "success");
    } else if failed {
        e.set_static("event.outcome", "failure");
    }
    if !kernel.is_empty() {
        e.set_str("host.os.kernel", &kernel);
    }
    if !user.is_empty() && !system {
        e.set_str("user.name", &user);
    }
    if pid > 0 {
        e.set("process.pid", i64::from(pid));
    }
    if let Some(ip) = addr {
        e.set("source.ip", ip);
    }
    remote(&mut e, &host);
    e.set("login.type", i64::from(kind));
    if !line.is_empty() {
        e.set_str("login.line", &line);
    }
    let session = i32_at(r, 336);
    if session != 0 {
        e.set("login.session", i64::from(session));
    }
    e.set("message", text.trim().to_owned());
    Some(e)
}

/// Where a login came from, as written (`source.address`), and as a host
/// name when it is not an address (`source.domain`).
fn remote(e: &mut Event, host: &str) {
    if host.is_empty() {
        return;
    }
    e.set_str("source.address", host);
    if ip_token(host).is_none() {
        e.set_str("source.domain", host);
    }
}

/// The event of lastlog slot `uid`; `None` for a user who never logged in.
pub fn lastlog_event(ctx: &FileContext, uid: u64, r: &[u8]) -> Option<Event> {
    let secs = i32_at(r, 0);
    if secs == 0 {
        return None;
    }
    let line = c_text(&r[4..36]);
    let host = c_text(&r[36..292]);
    let mut text = format!("last login of uid {uid} on {line}");
    if !host.is_empty() {
        text.push_str(&format!(" from {host}"));
    }
    let mut e = ctx.event(uid + 1, text.clone());
    e.timestamp = Timestamp::new(i64::from(secs), 0).ok();
    e.set_static("event.dataset", LASTLOG_DATASET);
    e.set_static("event.kind", "state");
    e.set_static("event.action", "last-login");
    e.set("user.id", uid.to_string());
    if !line.is_empty() {
        e.set_str("login.line", &line);
    }
    if let Some(ip) = ip_token(&host) {
        e.set("source.ip", ip);
    }
    remote(&mut e, &host);
    e.set("message", text);
    Some(e)
}

/// Where a record of `file` keeps text that names someone (user, line,
/// host) and its address, if it has one.
/// Each field is its first byte and the byte past its end.
fn text_fields(file: LoginFile) -> (&'static [(usize, usize)], Option<usize>) {
    match file {
        LoginFile::Lastlog => (&[(36, 292)], None),
        _ => (&[(44, 76), (76, 332)], Some(ADDRESS)),
    }
}

/// Rewrites in place the names and address of one record of `file` with
/// `rewrite` (a sanitiser's), keeping the layout: a longer text is cut to
/// its field, an address that is no longer one is cleared.
pub fn rewrite_record(record: &mut [u8], file: LoginFile, rewrite: &mut dyn FnMut(&str) -> String) {
    let (fields, address_at) = text_fields(file);
    for &(start, end) in fields {
        let Some(field) = record.get_mut(start..end) else {
            return;
        };
        let text = c_text(field);
        if text.is_empty() {
            continue;
        }
        let new = rewrite(&text);
        field.fill(0);
        let n = new.len().min(field.len());
        field[..n].copy_from_slice(&new.as_bytes()[..n]);
    }
    let Some(at) = address_at.filter(|at| record.len() >= at + 16) else {
        return;
    };
    let Some(addr) = address(record) else { return };
    let field = &mut record[at..at + 16];
    field.fill(0);
    match ip_token(&rewrite(&addr.to_string())) {
        Some(IpAddr::V4(v4)) => field[..4].copy_from_slice(&v4.octets()),
        Some(IpAddr::V6(v6)) => field.copy_from_slice(&v6.octets()),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    fn record(kind: i16, user: &str, host: &str, addr: [u8; 4], secs: i32) -> Vec<u8> {
        let mut r = vec![0u8; UTMP_SIZE];
        r[0..2].copy_from_slice(&kind.to_le_bytes());
        r[4..8].copy_from_slice(&4242i32.to_le_bytes());
        r[8..13].copy_from_slice(b"pts/0");
        r[44..44 + user.len()].copy_from_slice(user.as_bytes());
        r[76..76 + host.len()].copy_from_slice(host.as_bytes());
        r[340..344].copy_from_slice(&secs.to_le_bytes());
        r[348..352].copy_from_slice(&addr);
        r
    }

    #[test]
    fn logins_failures_and_empty_slots() {
        let ctx = FileContext::new("wtmp", ParseOptions::default());
        let login = record(7, "alice", "203.0.113.9", [203, 0, 113, 9], 1_773_479_112);
        let e = utmp_event(&ctx, 1, &login, false).unwrap();
        assert_eq!(e.get_str("event.action"), Some("user-login"));
        assert_eq!(e.get_str("user.name"), Some("alice"));
        assert_eq!(e.get("source.ip").unwrap().to_string(), "203.0.113.9");
        assert_eq!(e.timestamp.unwrap().to_string(), "2026-03-14T09:05:12Z");
        let failed = utmp_event(&ctx, 2, &record(6, "root", "", [0; 4], 1), true).unwrap();
        assert_eq!(failed.get_str("event.outcome"), Some("failure"));
        assert!(utmp_event(&ctx, 3, &record(0, "", "", [0; 4], 0), false).is_none());
        // A user name filling its field has no NUL.
        let long = record(7, &"x".repeat(32), "host.example", [0; 4], 5);
        let e = utmp_event(&ctx, 4, &long, false).unwrap();
        assert_eq!(e.get_str("user.name").map(str::len), Some(32));
        assert!(e.get("source.ip").is_none());
        assert_eq!(LoginFile::of_name("btmp.1"), Some(LoginFile::Btmp));
    }

    #[test]
    fn records_rewritten_in_place_keep_their_layout() {
        let ctx = FileContext::new("wtmp", ParseOptions::default());
        let mut r = record(7, "alice", "203.0.113.9", [203, 0, 113, 9], 5);
        rewrite_record(&mut r, LoginFile::Wtmp, &mut |text| match text {
            "alice" => "u1234".to_owned(),
            "203.0.113.9" => "198.51.100.1".to_owned(),
            other => other.repeat(100),
        });
        assert_eq!(r.len(), UTMP_SIZE);
        let e = utmp_event(&ctx, 1, &r, false).unwrap();
        assert_eq!(e.get_str("user.name"), Some("u1234"));
        assert_eq!(e.get("source.ip").unwrap().to_string(), "198.51.100.1");
        assert_eq!(e.get_str("source.address"), Some("198.51.100.1"));
        // A longer replacement is cut to its field, never past it.
        let mut r = record(7, "bob", "host.example", [0; 4], 5);
        rewrite_record(&mut r, LoginFile::Wtmp, &mut |t| t.repeat(100));
        let e = utmp_event(&ctx, 1, &r, false).unwrap();
        assert_eq!(e.get_str("user.name").map(str::len), Some(32));
        assert_eq!(LoginFile::of_name("wtmpx-notes.txt"), None);
    }
}
