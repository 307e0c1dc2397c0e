//! Network devices' logs: Cisco IOS, IOS-XE, NX-OS and ASA messages
//! (`%SYS-5-CONFIG_I: ...`), Huawei VRP messages (`%%01BGP/3/...`),
//! FortiGate's key=value records and Juniper Junos messages ([`junos`]),
//! whether a syslog server relayed them (a syslog header first) or they were
//! kept as the device sent them.
//!
//! The message's code (`SYS-5-CONFIG_I`) becomes `event.code`, so rules and
//! analysts can select device events precisely; the dataset says which
//! kind of device wrote it.

pub mod buffer;
mod flow;
pub mod fortigate;
pub mod junos;

use rampart_event::{Event, Value};

use crate::text::ip_token;

/// The longest message code looked for (`%PARSER-5-CFGLOG_LOGGEDCMD` is 25).
const MAX_CODE: usize = 64;

/// Reads a device message inside a syslog message; returns the dataset, or
/// `None` when the message is not from a device rampart knows.
pub fn in_message(msg: &str, event: &mut Event) -> Option<&'static str> {
    if fortigate::is_record(msg) {
        fortigate::fill(msg, event, None);
        return Some(fortigate::DATASET);
    }
    if let Some(at) = msg.find("%%") {
        if let Some(dataset) = huawei(&msg[at + 2..], event) {
            return Some(dataset);
        }
    }
    let mut from = 0;
    while let Some(at) = msg[from..].find('%') {
        let start = from + at + 1;
        if let Some(dataset) = cisco(&msg[start..], event) {
            return Some(dataset);
        }
        from = start;
    }
    None
}

/// The line after a syslog `<PRI>`, if it has one.
fn strip_priority(line: &str) -> &str {
    line.strip_prefix('<')
        .and_then(|r| r.split_once('>'))
        .filter(|(pri, _)| !pri.is_empty() && pri.bytes().all(|b| b.is_ascii_digit()))
        .map_or(line, |(_, rest)| rest)
}

/// `FACILITY-SEVERITY-MNEMONIC: text` (after the `%`).
fn cisco(text: &str, event: &mut Event) -> Option<&'static str> {
    // Codes are short: looking no further keeps a line full of `%` linear.
    let colon = text.bytes().take(MAX_CODE).position(|b| b == b':')?;
    let (code, rest) = (&text[..colon], &text[colon + 1..]);
    let mut parts = code.rsplitn(3, '-');
    let (mnemonic, severity, facility) = (parts.next()?, parts.next()?, parts.next()?);
    let word = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    };
    let severity = severity.parse::<u8>().ok().filter(|s| *s <= 7)?;
    // ASA's mnemonics are numbers (`%ASA-6-302013`); facilities are names.
    if !word(facility) || !facility.as_bytes()[0].is_ascii_uppercase() || !word(mnemonic) {
        return None;
    }
    let message = rest.trim();
    event.set_str("event.code", code);
    event.set_str("cisco.facility", facility);
    event.set_str("cisco.mnemonic", mnemonic);
    event.set("event.severity", i64::from(severity));
    event.insert_str("message", message);
    if mnemonic == "CFGLOG_LOGGEDCMD" {
        // `User:admin  logged command:clear logging`
        if let Some((user, command)) = message
            .strip_prefix("User:")
            .and_then(|r| r.split_once("logged command:"))
        {
            event.set_str("user.name", user.trim());
            event.set_str("cisco.command", command.trim());
        }
    }
    // Configuration and login messages name the administrator's address.
    if mnemonic.starts_with("CONFIG") || mnemonic.contains("LOGIN") {
        if let Some(ip) = message
            .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | ']'))
            .find_map(ip_token)
        {
            event.set("source.ip", ip);
        }
    }
    let asa = matches!(facility, "ASA" | "FTD" | "PIX" | "FWSM");
    if asa {
        flow::asa(message, event);
    }
    event.set_static("event.module", "cisco");
    Some(if asa { "cisco.asa" } else { "cisco.ios" })
}

/// `01MODULE/SEVERITY/MNEMONIC(flags)[n]:text` (after the `%%`).
fn huawei(text: &str, event: &mut Event) -> Option<&'static str> {
    let colon = text.bytes().take(MAX_CODE).position(|b| b == b':')?;
    let (code, rest) = (&text[..colon], &text[colon + 1..]);
    let digits = code.bytes().take_while(u8::is_ascii_digit).count();
    let mut parts = code[digits..].splitn(3, '/');
    let (module, severity, mnemonic) = (parts.next()?, parts.next()?, parts.next()?);
    let severity = severity.parse::<u8>().ok().filter(|s| *s <= 7)?;
    let mnemonic = mnemonic.split(['(', '[']).next()?;
    if digits == 0 || module.is_empty() || mnemonic.is_empty() {
        return None;
    }
    event.set(
        "event.code",
        Value::Str(format!("{module}/{severity}/{mnemonic}")),
    );
    event.set_str("huawei.module", module);
    event.set_str("huawei.mnemonic", mnemonic);
    event.set("event.severity", i64::from(severity));
    event.insert_str("message", rest.trim());
    event.set_static("event.module", "huawei");
    Some("huawei.vrp")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::Origin;

    fn read(msg: &str) -> (Option<&'static str>, Event) {
        let mut e = Event::new(Origin::new("x", 1), msg);
        (in_message(msg, &mut e), e)
    }

    #[test]
    fn cisco_messages() {
        let (d, e) = read("*Mar  1 18:46:11.123: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.5)");
        assert_eq!(d, Some("cisco.ios"));
        assert_eq!(e.get_str("event.code"), Some("SYS-5-CONFIG_I"));
        assert_eq!(e.get("source.ip").unwrap().to_string(), "10.0.0.5");
        let (_, e) = read("2345: Mar 1 18:46:11.123 UTC: %PARSER-5-CFGLOG_LOGGEDCMD: User:admin  logged command:clear logging");
        assert_eq!(e.get_str("user.name"), Some("admin"));
        assert_eq!(e.get_str("cisco.command"), Some("clear logging"));
        let (d, _) =
            read("%ASA-6-302013: Built inbound TCP connection 1 for outside:198.51.100.2/443");
        assert_eq!(d, Some("cisco.asa"));
        let (d, e) = read("%%01BGP/3/BGP_AUTH_FAILED(l)[0]:BGP authentication failed. (PeerAddress=192.0.2.1:179)");
        assert_eq!(d, Some("huawei.vrp"));
        assert_eq!(e.get_str("event.code"), Some("BGP/3/BGP_AUTH_FAILED"));
        for plain in [
            "100% done",
            "disk at 95%: ok",
            "%not-a-code: x",
            "%SYS-9-X: too severe",
        ] {
            assert_eq!(read(plain).0, None, "{plain}");
        }
    }
}
