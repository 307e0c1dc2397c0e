//! systemd journal entries, wherever they come from: `journalctl -o json`
//! lines, `journalctl -o export` records, or the binary journal files
//! (read by rampart-io). Modern Linux hosts keep their sshd, sudo and PAM
//! messages only here, so an entry's message is read exactly as the same
//! message in a syslog line would be, and the built-in rules fire on it.
//! Every field of the entry is kept under `journald.`.

use std::io::{BufRead, Read};
use std::sync::Arc;

use rampart_event::{Event, Timestamp};
use serde_json::{Map, Value as Json};

use super::syslog::{event_of, Header, HeaderTime};
use crate::context::FileContext;
use crate::text::uint;

/// One entry: its fields in the order written, values as text (bytes that
/// are not UTF-8 are replaced).
pub type Fields = Vec<(String, String)>;

fn get<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// Microseconds since the epoch, as the journal writes its times.
fn micros(s: &str) -> Option<Timestamp> {
    let us = i64::try_from(uint(s.trim())?).ok()?;
    Timestamp::from_microsecond(us).ok()
}

/// The dataset and event of one entry; `original` is the entry as read.
pub fn event(
    ctx: &FileContext,
    no: u64,
    original: &Arc<str>,
    fields: &[(String, String)],
) -> (&'static str, Event) {
    // When the message was logged, or else when the journal received it.
    let time = get(fields, "_SOURCE_REALTIME_TIMESTAMP")
        .and_then(micros)
        .or_else(|| get(fields, "__REALTIME_TIMESTAMP").and_then(micros));
    let severity = get(fields, "PRIORITY").and_then(uint).filter(|p| *p < 8);
    let facility = get(fields, "SYSLOG_FACILITY")
        .and_then(uint)
        .filter(|f| *f < 24);
    let priority = severity.map(|s| (facility.unwrap_or(1) * 8 + s) as u8);
    let pid = get(fields, "SYSLOG_PID")
        .or_else(|| get(fields, "_PID"))
        .and_then(uint)
        .and_then(|p| u32::try_from(p).ok());
    let h = Header {
        priority,
        time: time.map_or(HeaderTime::Missing, HeaderTime::Instant),
        host: get(fields, "_HOSTNAME"),
        program: get(fields, "SYSLOG_IDENTIFIER").or_else(|| get(fields, "_COMM")),
        subname: None,
        pid,
        msgid: None,
        structured: None,
        message: get(fields, "MESSAGE").unwrap_or(""),
    };
    let (dataset, mut e) = event_of(ctx, no, original, &h, time);
    for (name, value) in fields {
        e.insert(format!("journald.{name}"), value.as_str());
    }
    if let Some(unit) = get(fields, "_SYSTEMD_UNIT") {
        e.set_str("systemd.unit", unit);
    }
    if !e.contains("process.executable") {
        if let Some(exe) = get(fields, "_EXE") {
            e.set_str("process.executable", exe);
        }
    }
    e.set_static("event.module", "journald");
    (dataset, e)
}

/// The first bytes of every binary journal file.
pub const FILE_MAGIC: &[u8; 8] = b"LPKSHHRH";

/// The dataset and event of entry `number` of a binary journal file,
/// written at `realtime` (microseconds since the epoch): its original is
/// its fields as the export format writes text fields.
pub fn file_entry(
    ctx: &FileContext,
    number: u64,
    realtime: u64,
    mut fields: Fields,
) -> (&'static str, Event) {
    let text: String = fields.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    fields.push(("__REALTIME_TIMESTAMP".to_owned(), realtime.to_string()));
    event(ctx, number, &Arc::from(text.as_str()), &fields)
}

/// Whether a JSON object is a journal entry (`journalctl -o json`).
pub fn is_json_entry(o: &Map<String, Json>) -> bool {
    o.contains_key("__REALTIME_TIMESTAMP")
        && (o.contains_key("MESSAGE") || o.contains_key("__CURSOR"))
}

/// The fields of a JSON entry. journalctl writes a value that is not UTF-8
/// as an array of its bytes, a field written several times as an array of
/// its values (the first is kept), and a value too large to show as null.
pub fn json_fields(o: &Map<String, Json>) -> Fields {
    let text = |v: &Json| -> Option<String> {
        match v {
            Json::String(s) => Some(s.clone()),
            Json::Array(items) if items.iter().all(Json::is_u64) => {
                let bytes: Vec<u8> = items
                    .iter()
                    .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                    .collect();
                Some(String::from_utf8_lossy(&bytes).into_owned())
            }
            Json::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    o.iter()
        .filter_map(|(k, v)| {
            let value = match v {
                Json::Array(items) if items.first().is_some_and(|i| !i.is_u64()) => {
                    items.first().and_then(text)
                }
                other => text(other),
            }?;
            Some((k.clone(), value))
        })
        .collect()
}

/// Whether a file's first bytes are `journalctl -o export` output.
pub fn is_export(head: &[u8]) -> bool {
    head.starts_with(b"__CURSOR=") || head.starts_with(b"__REALTIME_TIMESTAMP=")
}

/// The longest field value an export may give (the journal's own default
/// limit on a field is far below this).
const MAX_EXPORT_FIELD: u64 = 64 * 1024 * 1024;
/// The most bytes one entry's text may hold, all its fields together.
const MAX_EXPORT_ENTRY: usize = 64 * 1024 * 1024;
/// The most fields one entry may hold.
const MAX_EXPORT_FIELDS: usize = 4096;

/// Why an export stops being readable.
#[derive(Debug)]
pub enum ExportError {
    /// Reading failed.
    Io(std::io::Error),
    /// The bytes are not the export format, at this line.
    Bad {
        /// The line the damage is on (1-based).
        line: u64,
        /// What is wrong.
        reason: String,
    },
}

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExportError::Io(e) => write!(f, "{e}"),
            ExportError::Bad { line, reason } => write!(f, "line {line}: {reason}"),
        }
    }
}

/// Reads `journalctl -o export` records from `input`, handing each entry,
/// with the line it starts on and its text, to `entry`. Fields are
/// `NAME=value` lines, or a name alone on its line followed by a 64-bit
/// little-endian length and that many bytes (values holding a newline or
/// bytes that are not text); a blank line ends an entry.
pub fn read_export(
    mut input: impl BufRead,
    mut entry: impl FnMut(u64, &Arc<str>, &[(String, String)]),
) -> Result<u64, ExportError> {
    let mut line_no = 0u64;
    let mut start = 1u64;
    let mut fields: Fields = Vec::new();
    let mut text = String::new();
    let mut line = Vec::new();
    let mut entries = 0u64;
    loop {
        line.clear();
        // One line is at most one whole field (a longer one is damage).
        let n = (&mut input)
            .take(MAX_EXPORT_FIELD + 256)
            .read_until(b'\n', &mut line)
            .map_err(ExportError::Io)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if text.len() + line.len() > MAX_EXPORT_ENTRY || fields.len() >= MAX_EXPORT_FIELDS {
            return Err(ExportError::Bad {
                line: line_no,
                reason: format!(
                    "the entry from line {start} holds more than {MAX_EXPORT_FIELDS} fields or {} MiB",
                    MAX_EXPORT_ENTRY >> 20
                ),
            });
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        if line.is_empty() {
            if !fields.is_empty() {
                entries += 1;
                entry(start, &Arc::from(text.as_str()), &fields);
                fields.clear();
                text.clear();
            }
            start = line_no + 1;
            continue;
        }
        if let Some(eq) = line.iter().position(|&b| b == b'=') {
            let name = String::from_utf8_lossy(&line[..eq]).into_owned();
            let value = String::from_utf8_lossy(&line[eq + 1..]).into_owned();
            text.push_str(&String::from_utf8_lossy(&line));
            text.push('\n');
            fields.push((name, value));
            continue;
        }
        // A binary field: its name, then the length and the bytes.
        let name = String::from_utf8_lossy(&line).into_owned();
        let mut size = [0u8; 8];
        input.read_exact(&mut size).map_err(|e| ExportError::Bad {
            line: line_no,
            reason: format!("the value of {name} is cut off ({e})"),
        })?;
        let size = u64::from_le_bytes(size);
        if size > MAX_EXPORT_FIELD {
            return Err(ExportError::Bad {
                line: line_no,
                reason: format!("the value of {name} claims {size} bytes"),
            });
        }
        // Read as it comes, not set aside at the size the file claims.
        let mut value = Vec::new();
        (&mut input)
            .take(size)
            .read_to_end(&mut value)
            .map_err(ExportError::Io)?;
        if (value.len() as u64) < size {
            return Err(ExportError::Bad {
                line: line_no,
                reason: format!("the value of {name} is cut off"),
            });
        }
        let mut end = [0u8; 1];
        if input.read(&mut end).map_err(ExportError::Io)? == 1 && end[0] != b'\n' {
            return Err(ExportError::Bad {
                line: line_no,
                reason: format!("no newline after the value of {name}"),
            });
        }
        let value = String::from_utf8_lossy(&value).into_owned();
        line_no += value.matches('\n').count() as u64 + 1;
        text.push_str(&format!("{name}={value}\n"));
        fields.push((name, value));
    }
    if !fields.is_empty() {
        entries += 1;
        entry(start, &Arc::from(text.as_str()), &fields);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    #[test]
    fn export_records_with_binary_fields() {
        let mut bytes = b"__CURSOR=s=1\n__REALTIME_TIMESTAMP=1773479112000000\n_HOSTNAME=web01\nSYSLOG_IDENTIFIER=sshd\nSYSLOG_PID=9841\nPRIORITY=6\nSYSLOG_FACILITY=4\nMESSAGE=Failed password for root from 203.0.113.9 port 50322 ssh2\n\n".to_vec();
        bytes.extend_from_slice(b"__CURSOR=s=2\n__REALTIME_TIMESTAMP=1773479113000000\nMESSAGE\n");
        let value = b"two\nlines \xff";
        bytes.extend_from_slice(&(value.len() as u64).to_le_bytes());
        bytes.extend_from_slice(value);
        bytes.extend_from_slice(b"\nSYSLOG_IDENTIFIER=app\n");
        let ctx = FileContext::new("x.export", ParseOptions::default());
        let mut events = Vec::new();
        let n = read_export(&bytes[..], |no, text, fields| {
            events.push((no, event(&ctx, no, text, fields)));
        })
        .unwrap();
        assert_eq!(n, 2);
        let (no, (dataset, e)) = &events[0];
        assert_eq!((*no, *dataset), (1, "linux.auth"));
        assert_eq!(e.get("source.ip").unwrap().to_string(), "203.0.113.9");
        assert_eq!(e.get_str("process.name"), Some("sshd"));
        assert_eq!(e.get_str("host.name"), Some("web01"));
        assert_eq!(e.timestamp.unwrap().to_string(), "2026-03-14T09:05:12Z");
        assert_eq!(e.get("log.syslog.priority").unwrap().as_i64(), Some(38));
        let (no, (_, e)) = &events[1];
        assert_eq!(*no, 10);
        assert_eq!(e.get_str("message"), Some("two\nlines \u{fffd}"));
        assert_eq!(e.get_str("journald.SYSLOG_IDENTIFIER"), Some("app"));
    }

    #[test]
    fn a_cut_binary_field_names_its_line() {
        let bytes = b"__CURSOR=s=1\nMESSAGE\n\x40\x00\x00\x00\x00\x00\x00\x00short".to_vec();
        let err = read_export(&bytes[..], |_, _, _| {}).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("line 2: the value of MESSAGE is cut off"));
        let huge = b"MESSAGE\n\xff\xff\xff\xff\xff\xff\xff\x7f".to_vec();
        let err = read_export(&huge[..], |_, _, _| {}).unwrap_err();
        assert!(err.to_string().contains("claims"));
    }

    #[test]
    fn json_entries_with_byte_arrays_and_repeats() {
        let o: Json = serde_json::from_str(
            r#"{"__REALTIME_TIMESTAMP":"1773479112000000","MESSAGE":[104,105,255],"TAG":["a","b"],"BIG":null,"_PID":"7"}"#,
        )
        .unwrap();
        let o = o.as_object().unwrap();
        assert!(is_json_entry(o));
        let fields = json_fields(o);
        assert_eq!(get(&fields, "MESSAGE"), Some("hi\u{fffd}"));
        assert_eq!(get(&fields, "TAG"), Some("a"));
        assert_eq!(get(&fields, "BIG"), None);
    }
}
