//! Serialising an event as nested ECS JSON (reading it back is in
//! `json_read`).
//!
//! Fields are stored flat under dotted names; ECS consumers expect them nested
//! (`{"source": {"ip": ...}}`). The writer sorts names segment by segment and
//! opens and closes objects as the path changes, writing straight into a byte
//! buffer: no intermediate tree on the output hot path.

use std::cmp::Ordering;
use std::io::Write;

use crate::event::Event;
use crate::value::{Value, ValueRef};

/// The key a value takes when its name is also the parent of other fields
/// (a CSV with columns `a` and `a.b`): `{"a": {"_value": .., "b": ..}}`.
pub(crate) const SHADOWED_LEAF: &str = "_value";

impl Event {
    /// Appends this event as one line of nested ECS JSON (no newline).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let mut fields = self.all_fields();
        fields.sort_by(|a, b| dotted_order(a.0, b.0));
        fields.dedup_by(|later, earlier| later.0 == earlier.0);

        let mut open: Vec<&str> = Vec::with_capacity(8);
        let mut has_member: Vec<bool> = Vec::with_capacity(8);
        has_member.push(false);
        out.push(b'{');
        for (i, (name, value)) in fields.iter().enumerate() {
            let (parents, leaf) = match name.rfind('.') {
                Some(at) => (&name[..at], &name[at + 1..]),
                None => ("", *name),
            };
            let mut parent_segments = parents
                .split('.')
                .filter(|s| !parents.is_empty() || !s.is_empty());
            let mut common = 0;
            let mut first_new = None;
            for segment in parent_segments.by_ref() {
                if open.get(common) == Some(&segment) {
                    common += 1;
                } else {
                    first_new = Some(segment);
                    break;
                }
            }
            while open.len() > common {
                open.pop();
                has_member.pop();
                out.push(b'}');
            }
            for segment in first_new.into_iter().chain(parent_segments) {
                open_object(out, &mut has_member, segment);
                open.push(segment);
            }
            let parent_of_next = fields.get(i + 1).is_some_and(|(next, _)| {
                next.len() > name.len()
                    && next.starts_with(name)
                    && next.as_bytes()[name.len()] == b'.'
            });
            if parent_of_next {
                open_object(out, &mut has_member, leaf);
                open.push(leaf);
                write_key(out, &mut has_member, SHADOWED_LEAF);
            } else {
                write_key(out, &mut has_member, leaf);
            }
            write_value(out, *value);
        }
        for _ in &open {
            out.push(b'}');
        }
        out.push(b'}');
    }

    /// This event as nested ECS JSON text, kept as it is written (no tree is
    /// built): what alerts carry, since most are only ever written out.
    pub fn to_json_raw(&self) -> Box<serde_json::value::RawValue> {
        let mut buf = Vec::with_capacity(512);
        self.write_json(&mut buf);
        let text = String::from_utf8(buf).expect("the writer emits UTF-8");
        serde_json::value::RawValue::from_string(text).expect("the writer emits valid JSON")
    }

    /// This event as a nested ECS JSON value.
    pub fn to_json_value(&self) -> serde_json::Value {
        let mut buf = Vec::with_capacity(512);
        self.write_json(&mut buf);
        serde_json::from_slice(&buf).expect("the writer emits valid JSON")
    }
}

/// Orders dotted names segment by segment (`a.b` < `a.b.c` < `a.bc` < `a_b`),
/// so that fields sharing a parent are adjacent: a byte comparison in which
/// the dot sorts before every other byte.
fn dotted_order(a: &str, b: &str) -> Ordering {
    let key = |byte: u8| if byte == b'.' { 0 } else { u16::from(byte) + 1 };
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // Eight bytes at a time past the common start, then byte by byte.
    let shorter = a.len().min(b.len());
    let mut from = 0;
    while from + 8 <= shorter && a[from..from + 8] == b[from..from + 8] {
        from += 8;
    }
    match a[from..shorter]
        .iter()
        .zip(&b[from..shorter])
        .position(|(x, y)| x != y)
    {
        Some(at) => key(a[from + at]).cmp(&key(b[from + at])),
        None => a.len().cmp(&b.len()),
    }
}

fn open_object(out: &mut Vec<u8>, has_member: &mut Vec<bool>, key: &str) {
    write_key(out, has_member, key);
    out.push(b'{');
    has_member.push(false);
}

fn write_key(out: &mut Vec<u8>, has_member: &mut [bool], key: &str) {
    let last = has_member
        .last_mut()
        .expect("the root object is always open");
    if *last {
        out.push(b',');
    }
    *last = true;
    write_str(out, key);
    out.push(b':');
}

/// Writes `s` as a JSON string. Most text needs no escape and is copied as
/// it is; the rest goes through serde_json's escaping.
fn write_str(out: &mut Vec<u8>, s: &str) {
    // A fold without early exit, which the compiler turns into SIMD.
    let needs_escape = s.bytes().fold(false, |any, b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if needs_escape {
        serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// Writes an IPv4 address as JSON text, without the formatting machinery
/// (addresses are in most events, and written for each).
fn write_ipv4(out: &mut Vec<u8>, ip: std::net::Ipv4Addr) {
    let mut digits = itoa::Buffer::new();
    out.push(b'"');
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        out.extend_from_slice(digits.format(octet).as_bytes());
    }
    out.push(b'"');
}

/// Writes `value` as JSON (times as RFC 3339 text, addresses as text).
pub fn write_value(out: &mut Vec<u8>, value: ValueRef<'_>) {
    match value {
        ValueRef::Null => out.extend_from_slice(b"null"),
        ValueRef::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        ValueRef::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes()),
        ValueRef::Float(x) if x.is_finite() => {
            serde_json::to_writer(&mut *out, &x).expect("writing to a Vec cannot fail");
        }
        ValueRef::Float(_) => out.extend_from_slice(b"null"),
        ValueRef::Str(s) => write_str(out, s),
        ValueRef::Mac(_) => {
            let _ = write!(out, "\"{value}\"");
        }
        ValueRef::Ip(std::net::IpAddr::V4(ip)) => write_ipv4(out, ip),
        ValueRef::Ip(ip) => {
            let _ = write!(out, "\"{ip}\"");
        }
        ValueRef::Time(t) => {
            let _ = write!(out, "\"{t}\"");
        }
        ValueRef::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item.as_ref());
            }
            out.push(b']');
        }
        ValueRef::Json(j) => write_sorted(out, j),
    }
}

/// Writes JSON with object keys in sorted order, so output does not depend on
/// whether serde_json keeps insertion order in this build (a dependency can
/// switch that feature on for the whole program).
fn write_sorted(out: &mut Vec<u8>, j: &serde_json::Value) {
    match j {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, k);
                out.push(b':');
                write_sorted(out, v);
            }
            out.push(b'}');
        }
        serde_json::Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_sorted(out, item);
            }
            out.push(b']');
        }
        scalar => serde_json::to_writer(&mut *out, scalar).expect("writing to a Vec cannot fail"),
    }
}

impl From<serde_json::Value> for Value {
    /// As the conversion from a reference, moving text, lists and JSON
    /// instead of copying them.
    fn from(j: serde_json::Value) -> Self {
        match j {
            serde_json::Value::String(s) => Value::Str(s),
            serde_json::Value::Array(items) if items.iter().all(|i| !i.is_object()) => {
                Value::List(items.into_iter().map(Value::from).collect())
            }
            j @ (serde_json::Value::Array(_) | serde_json::Value::Object(_)) => {
                Value::Json(Box::new(j))
            }
            scalar => Value::from(&scalar),
        }
    }
}

impl From<&serde_json::Value> for Value {
    /// Scalars become typed values, arrays of scalars lists, and anything
    /// holding objects stays JSON.
    fn from(j: &serde_json::Value) -> Self {
        match j {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::Str(s.clone()),
            serde_json::Value::Array(items) if items.iter().all(|i| !i.is_object()) => {
                Value::List(items.iter().map(Value::from).collect())
            }
            other => Value::Json(Box::new(other.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use serde_json::json;

    use crate::{Event, Origin, Timestamp};

    #[test]
    fn dotted_names_nest_as_ecs() {
        let mut e = Event::new(Origin::new("x.log", 2), "line \"two\"");
        e.timestamp = Some("2025-03-14T03:22:14Z".parse::<Timestamp>().unwrap());
        e.set("source.ip", "203.0.113.9".parse::<IpAddr>().unwrap());
        e.set("source.port", 4444u16);
        e.set("event.dataset", "linux.auth");
        e.set("user.name", "root");
        e.set("event.outcome", "failure");
        assert_eq!(
            e.to_json_value(),
            json!({
                "@timestamp": "2025-03-14T03:22:14Z",
                "event": {"dataset": "linux.auth", "original": "line \"two\"", "outcome": "failure"},
                "log": {"file": {"line": 2, "path": "x.log"}},
                "source": {"ip": "203.0.113.9", "port": 4444},
                "user": {"name": "root"}
            })
        );
    }

    #[test]
    fn a_leaf_that_is_also_a_parent_keeps_both() {
        let mut e = Event::new(Origin::new("x.csv", 0), "");
        e.set("a", "leaf");
        e.set("a.b", 1i64);
        let v = e.to_json_value();
        assert_eq!(v["a"], json!({"_value": "leaf", "b": 1}));
        assert!(v["log"]["file"].get("line").is_none());
    }

    #[test]
    fn dotted_order_is_segment_order() {
        let mut names = vec![
            "a_b",
            "a.bc",
            "a.b.c",
            "a",
            "a.b",
            "b",
            "a.b.a",
            "destination.address",
            "destination.address.x",
            "destination.addresses",
            "destination.address_b",
            "destination.addres",
            "destination_address",
        ];
        let mut by_segments = names.clone();
        by_segments.sort_by(|x, y| x.split('.').cmp(y.split('.')));
        names.sort_by(|x, y| super::dotted_order(x, y));
        assert_eq!(names, by_segments);
    }

    #[test]
    fn numbers_and_addresses_are_written_in_full() {
        let mut e = Event::new(Origin::new("x", 1), "");
        e.set("a", i64::MIN);
        e.set("b", i64::MAX);
        e.set("c", "0.0.0.0".parse::<IpAddr>().unwrap());
        e.set("d", "255.255.255.255".parse::<IpAddr>().unwrap());
        e.set("e", "2001:db8::1".parse::<IpAddr>().unwrap());
        let v = e.to_json_value();
        assert_eq!(v["a"], json!(i64::MIN));
        assert_eq!(v["b"], json!(i64::MAX));
        assert_eq!(v["c"], json!("0.0.0.0"));
        assert_eq!(v["d"], json!("255.255.255.255"));
        assert_eq!(v["e"], json!("2001:db8::1"));
    }

    #[test]
    fn hostile_text_stays_inside_its_string() {
        let mut e = Event::new(Origin::new("x", 1), "\u{0}\n\"}{");
        e.set("message", "</script>\"\\");
        let v = e.to_json_value();
        assert_eq!(v["message"], json!("</script>\"\\"));
        assert_eq!(v["event"]["original"], json!("\u{0}\n\"}{"));
    }
}
