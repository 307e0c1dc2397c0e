//! Reading one service record: values by dotted path, the record kept under
//! the service's prefix, and the ECS fields every service fills the same way.

use rampart_event::{Event, Timestamp, Value};
use serde_json::{Map, Value as Json};

use crate::context::FileContext;
use crate::text::ip_token;

/// The value at a dotted path (`userIdentity.sessionContext.type`).
pub fn at<'a>(o: &'a Map<String, Json>, path: &str) -> Option<&'a Json> {
    let mut parts = path.split('.');
    let first = o.get(parts.next()?)?;
    parts.try_fold(first, |v, k| v.get(k))
}

/// The non-empty text at `path`; numbers are not text.
pub fn text<'a>(o: &'a Map<String, Json>, path: &str) -> Option<&'a str> {
    at(o, path)
        .and_then(Json::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The text or number at `path`, as text.
pub fn scalar(o: &Map<String, Json>, path: &str) -> Option<String> {
    match at(o, path)? {
        Json::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The time at the first of `paths` that holds one (text or epoch number).
pub fn time(o: &Map<String, Json>, paths: &[&str], ctx: &FileContext) -> Option<Timestamp> {
    paths.iter().find_map(|p| match at(o, p)? {
        Json::String(s) => crate::timefmt::any(s.trim(), &ctx.options.zone),
        Json::Number(n) => crate::timefmt::any(&n.to_string(), &ctx.options.zone),
        _ => None,
    })
}

/// Keeps every key of `o` under `prefix`, flattened. An array of objects
/// becomes, for each path inside its items, the list of the items' values,
/// so a rule on `target.displayName` sees every target's name.
pub fn keep(prefix: &str, o: &Map<String, Json>, e: &mut Event) {
    let mut fields = Leaves::default();
    walk(prefix, o, false, &mut fields);
    for (name, mut values) in fields.list {
        let value = if values.len() == 1 {
            values.pop().unwrap_or(Value::Null)
        } else {
            Value::List(values)
        };
        e.insert(name, value);
    }
}

/// The leaves of a record in the order first seen, each path once.
#[derive(Default)]
struct Leaves {
    list: Vec<(String, Vec<Value>)>,
    /// Where each path is in `list` (a record may hold many keys).
    at: std::collections::HashMap<String, usize>,
}

/// Collects the leaves of `o` under `prefix`; inside an array of objects
/// (`listed`) the values of one path gather into one list.
fn walk(prefix: &str, o: &Map<String, Json>, listed: bool, into: &mut Leaves) {
    for (key, value) in o {
        let name = format!("{prefix}.{key}");
        match value {
            Json::Object(inner) if !inner.is_empty() => walk(&name, inner, listed, into),
            Json::Array(items) if items.iter().any(Json::is_object) => {
                for item in items {
                    match item {
                        Json::Object(inner) => walk(&name, inner, true, into),
                        other => push(into, &name, Value::from(other), true),
                    }
                }
            }
            Json::Array(items) if listed => {
                for item in items {
                    push(into, &name, Value::from(item), true);
                }
            }
            other => push(into, &name, Value::from(other), listed),
        }
    }
}

fn push(into: &mut Leaves, name: &str, value: Value, listed: bool) {
    match into.at.get(name) {
        Some(&i) if listed => into.list[i].1.push(value),
        Some(&i) => into.list[i].1 = vec![value],
        None => {
            into.at.insert(name.to_owned(), into.list.len());
            into.list.push((name.to_owned(), vec![value]));
        }
    }
}

/// Sets `field` to the address in `value`, if it is one (services write
/// host names and service names where an address would be).
pub fn put_ip(e: &mut Event, field: &'static str, value: Option<&str>) -> bool {
    let Some(addr) = value.and_then(address) else {
        return false;
    };
    e.set(field, addr);
    true
}

/// An address, alone or with a port (`198.51.100.7:5091`, `[2001:db8::1]:443`).
pub fn address(s: &str) -> Option<std::net::IpAddr> {
    let s = s.trim();
    ip_token(s)
        .or_else(|| {
            s.strip_prefix('[')
                .and_then(|r| r.split_once(']'))
                .and_then(|(a, _)| ip_token(a))
        })
        .or_else(|| {
            s.rsplit_once(':')
                .filter(|(a, p)| !a.contains(':') && p.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|(a, _)| ip_token(a))
        })
}

/// Sets `field` to `value` when there is one.
pub fn put(e: &mut Event, field: &'static str, value: Option<&str>) {
    if let Some(v) = value {
        e.set_str(field, v);
    }
}

/// Copies the text at each record path to its ECS field: `(field, path)`.
pub fn copy(o: &Map<String, Json>, e: &mut Event, pairs: &[(&'static str, &str)]) {
    for (field, path) in pairs {
        put(e, field, text(o, path));
    }
}

/// Sets `message` to `head` followed by each part that is there, after its
/// joiner (`(" by ", user)`).
pub fn say(e: &mut Event, head: String, parts: &[(&str, Option<&str>)]) {
    let mut message = head;
    for (joiner, part) in parts {
        if let Some(part) = part {
            message.push_str(joiner);
            message.push_str(part);
        }
    }
    e.set("message", message);
}

/// `event.outcome`: `success`, `failure`, or nothing when unknown.
pub fn outcome(e: &mut Event, success: Option<bool>) {
    match success {
        Some(true) => e.set_static("event.outcome", "success"),
        Some(false) => e.set_static("event.outcome", "failure"),
        None => {}
    }
}

/// Whether a service's result word means success, failure, or neither.
pub fn success_word(word: &str) -> Option<bool> {
    match word.trim().to_ascii_lowercase().as_str() {
        "success" | "succeeded" | "true" | "allow" | "allowed" | "0" | "ok" => Some(true),
        "failure" | "failed" | "false" | "deny" | "denied" | "fraud" | "error" | "blocked" => {
            Some(false)
        }
        _ => None,
    }
}

/// The last part of a path (`/usr/sbin/sshd` → `sshd`).
pub fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}
