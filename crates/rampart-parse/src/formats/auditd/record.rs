//! One audit record as text: `[node=N ]type=T msg=audit(SECS.MS:SEQ): k=v ...`,
//! with the enriched part auditd appends after a `0x1d` byte (`UID="root"`),
//! `msg='...'` holding further pairs (user-space records), and the kernel's
//! numeric types (`type=1300`) when no daemon named them.
//!
//! Values the kernel could not print safely arrive hex-encoded and unquoted
//! (`a1=2D6C61`, `proctitle=6C73002D6C`); they are decoded here, so rules
//! match what was run rather than its encoding.

use std::borrow::Cow;

use rampart_event::Timestamp;

use crate::timefmt;

/// A record's header and its fields, values unquoted and decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a> {
    /// The `node=` prefix a relaying daemon adds.
    pub node: Option<&'a str>,
    /// The record type by name (`SYSCALL`, `EXECVE`, `USER_LOGIN`).
    pub kind: Cow<'a, str>,
    /// When the kernel stamped it.
    pub time: Option<Timestamp>,
    /// The serial number shared by every record of one event.
    pub sequence: u64,
    /// The text after the header.
    pub body: &'a str,
    /// The fields in order, the enriched ones (upper case) last.
    pub fields: Vec<(&'a str, Cow<'a, str>)>,
}

/// Reads a record; `None` if `text` does not start like one.
pub fn parse(text: &str) -> Option<Record<'_>> {
    let (node, rest) = match text.strip_prefix("node=") {
        Some(rest) => {
            let (node, rest) = rest.split_once(' ')?;
            (Some(node), rest)
        }
        None => (None, text),
    };
    let rest = rest.strip_prefix("type=")?;
    let (kind, rest) = rest.split_once(' ')?;
    let rest = rest.trim_start();
    let rest = rest.strip_prefix("msg=").unwrap_or(rest);
    let rest = rest.strip_prefix("audit(")?;
    let (stamp, rest) = rest.split_once("):")?;
    let (secs, sequence) = stamp.split_once(':')?;
    let sequence = sequence.parse().ok()?;
    let kind = match kind.parse::<u16>() {
        Ok(number) => type_name(number).map_or(Cow::Borrowed(kind), Cow::Borrowed),
        Err(_) => Cow::Borrowed(kind),
    };
    let body = rest.trim_start();
    let mut fields = Vec::new();
    let style = if kind == "EXECVE" {
        Style::Execve
    } else if kind.starts_with("AUOMS_") {
        Style::Auoms
    } else {
        Style::Plain
    };
    let (raw, enriched) = body.split_once('\u{1d}').unwrap_or((body, ""));
    pairs(raw, style, &mut fields);
    pairs(enriched, Style::Plain, &mut fields);
    Some(Record {
        node,
        kind,
        time: timefmt::epoch(secs),
        sequence,
        body,
        fields,
    })
}

/// What a record's values need beyond the common rules.
#[derive(Clone, Copy, PartialEq)]
enum Style {
    /// `EXECVE`: unquoted arguments `aN` are hex-encoded.
    Execve,
    /// Azure's auoms: `proctitle` and `cmdline` are text with spaces (and,
    /// in `cmdline`, quotes), up to the `redactors=` field that follows
    /// them or the end.
    Auoms,
    /// Everything else.
    Plain,
}

/// Reads `key=value` pairs; words without `=` are skipped.
fn pairs<'a>(mut text: &'a str, style: Style, out: &mut Vec<(&'a str, Cow<'a, str>)>) {
    loop {
        text = text.trim_start_matches([' ', '\t']);
        if text.is_empty() {
            return;
        }
        let word_end = text.find([' ', '\t']).unwrap_or(text.len());
        let Some(eq) = text[..word_end].find('=') else {
            text = &text[word_end..];
            continue;
        };
        let key = &text[..eq];
        let rest = &text[eq + 1..];
        let (value, after) = match rest.as_bytes().first() {
            // Written as is, up to the field that follows it; the quotes
            // around `cmdline` do not escape the quotes inside it.
            _ if style == Style::Auoms && matches!(key, "proctitle" | "cmdline") => {
                // The last one: the command line is the attacker's text.
                let end = rest.rfind(" redactors=").unwrap_or(rest.len());
                let value = &rest[..end];
                let unquoted = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(value);
                (unquoted, &rest[end..])
            }
            Some(&q @ (b'"' | b'\'')) => match rest[1..].find(char::from(q)) {
                Some(end) => (&rest[1..1 + end], &rest[end + 2..]),
                None => (&rest[1..], ""),
            },
            _ => {
                let end = rest.find([' ', '\t']).unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        let quoted = rest.starts_with(['"', '\'']);
        if key == "msg" && rest.starts_with('\'') {
            pairs(value, Style::Plain, out);
        } else if !key.is_empty() {
            let value = if !quoted && style != Style::Auoms && encoded(key, style == Style::Execve)
            {
                decode_hex(value).map_or(Cow::Borrowed(value), Cow::Owned)
            } else {
                Cow::Borrowed(value)
            };
            out.push((key, value));
        }
        text = after;
    }
}

/// Whether an unquoted value of `key` is hex-encoded text.
fn encoded(key: &str, execve: bool) -> bool {
    let argument = || {
        let digits = key.strip_prefix('a').unwrap_or("");
        let digits = digits.split_once('[').map_or(digits, |(n, _)| n);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    };
    matches!(
        key,
        "proctitle" | "name" | "cwd" | "exe" | "comm" | "path" | "cmd" | "data" | "ocomm"
    ) || (execve && argument())
}

/// Hex to text: NUL bytes (argument separators in `proctitle`) become
/// spaces. `None` when `hex` is not an even run of hex digits.
fn decode_hex(hex: &str) -> Option<String> {
    let bytes = hex.as_bytes();
    if bytes.len() < 2 || !bytes.len().is_multiple_of(2) || !bytes.iter().all(u8::is_ascii_hexdigit)
    {
        return None;
    }
    let nibble = |b: u8| match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    };
    let mut out: Vec<u8> = bytes
        .chunks_exact(2)
        .map(|p| (nibble(p[0]) << 4) | nibble(p[1]))
        .map(|b| if b == 0 { b' ' } else { b })
        .collect();
    while out.last() == Some(&b' ') {
        out.pop();
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Names of the record types the kernel prints as numbers (`linux/audit.h`),
/// the common ones.
fn type_name(number: u16) -> Option<&'static str> {
    Some(match number {
        1006 => "LOGIN",
        1100 => "USER_AUTH",
        1101 => "USER_ACCT",
        1102 => "USER_MGMT",
        1103 => "CRED_ACQ",
        1104 => "CRED_DISP",
        1105 => "USER_START",
        1106 => "USER_END",
        1107 => "USER_AVC",
        1108 => "USER_CHAUTHTOK",
        1109 => "USER_ERR",
        1110 => "CRED_REFR",
        1111 => "USYS_CONFIG",
        1112 => "USER_LOGIN",
        1113 => "USER_LOGOUT",
        1114 => "ADD_USER",
        1115 => "DEL_USER",
        1116 => "ADD_GROUP",
        1117 => "DEL_GROUP",
        1123 => "USER_CMD",
        1124 => "USER_TTY",
        1130 => "SERVICE_START",
        1131 => "SERVICE_STOP",
        1300 => "SYSCALL",
        1302 => "PATH",
        1303 => "IPC",
        1304 => "SOCKETCALL",
        1305 => "CONFIG_CHANGE",
        1306 => "SOCKADDR",
        1307 => "CWD",
        1309 => "EXECVE",
        1320 => "EOE",
        1325 => "NETFILTER_CFG",
        1326 => "SECCOMP",
        1327 => "PROCTITLE",
        1328 => "FEATURE_CHANGE",
        1329 => "REPLACE",
        1330 => "KERN_MODULE",
        1331 => "FANOTIFY",
        1400 => "AVC",
        1700 => "ANOM_PROMISCUOUS",
        1701 => "ANOM_ABEND",
        1702 => "ANOM_LINK",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<'a>(r: &'a Record<'_>, key: &str) -> Option<&'a str> {
        r.fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_ref())
    }

    #[test]
    fn header_fields_and_quoting() {
        let r = parse(r#"node=web1 type=SYSCALL msg=audit(1604996384.965:93777): arch=c000003e syscall=59 success=yes a0=558e25052c70 comm="dd" exe="/bin/dd" key=(null)"#).unwrap();
        assert_eq!(r.node, Some("web1"));
        assert_eq!(r.kind, "SYSCALL");
        assert_eq!(r.sequence, 93777);
        assert_eq!(r.time.unwrap().to_string(), "2020-11-10T08:19:44.965Z");
        assert_eq!(value(&r, "a0"), Some("558e25052c70"), "registers stay hex");
        assert_eq!(value(&r, "comm"), Some("dd"));
        assert_eq!(value(&r, "key"), Some("(null)"));
    }

    #[test]
    fn encoded_values_are_decoded() {
        let r =
            parse("type=EXECVE msg=audit(1.5:7): argc=3 a0=\"sh\" a1=\"-c\" a2=6563686F20612062")
                .unwrap();
        assert_eq!(value(&r, "a2"), Some("echo a b"));
        let r = parse("type=PROCTITLE msg=audit(1.5:7): proctitle=64640069663D2F6465762F7A65726F")
            .unwrap();
        assert_eq!(value(&r, "proctitle"), Some("dd if=/dev/zero"));
        let r = parse("type=PATH msg=audit(1.5:7): item=0 name=(null) inode=20").unwrap();
        assert_eq!(value(&r, "name"), Some("(null)"));
    }

    #[test]
    fn nested_enriched_and_numeric_types() {
        let line = "type=USER_LOGIN msg=audit(1700000000.100:42): pid=5 uid=0 msg='op=login acct=\"root\" addr=203.0.113.9 res=failed'\u{1d}UID=\"root\" AUID=\"unset\"";
        let r = parse(line).unwrap();
        assert_eq!(value(&r, "acct"), Some("root"));
        assert_eq!(value(&r, "addr"), Some("203.0.113.9"));
        assert_eq!(value(&r, "res"), Some("failed"));
        assert_eq!(value(&r, "UID"), Some("root"));
        let r = parse("type=AUOMS_EXECVE audit(1.5:7): comm=\"java\" proctitle=/usr/bin/java -Da=b -cp x redactors= containerid=").unwrap();
        assert_eq!(value(&r, "proctitle"), Some("/usr/bin/java -Da=b -cp x"));
        assert_eq!(value(&r, "-Da"), None);
        let r = parse(r#"type=AUOMS_EXECVE audit(1.5:7): argc=3 cmdline="bash -c "a|b"" redactors= containerid="#).unwrap();
        assert_eq!(value(&r, "cmdline"), Some(r#"bash -c "a|b""#));
        assert_eq!(value(&r, "containerid"), Some(""));
        let r = parse("type=1300 audit(1700000000.100:42): arch=c000003e syscall=2").unwrap();
        assert_eq!(r.kind, "SYSCALL");
        assert!(parse("type=SYSCALL nothing here").is_none());
        assert!(parse("Mar 14 sshd: hello").is_none());
    }
}
