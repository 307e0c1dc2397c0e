//! Generic JSON objects and CSV rows: fields kept under their own names, plus
//! ECS fields for the column names that mean the same thing everywhere
//! (`src_ip`, `client_ip`, `ip_address` → `source.ip`, `status` →
//! `http.response.status_code`, ...), so rules written for ECS still apply.

use rampart_event::time::Zone;
use rampart_event::{severity, Event, Timestamp, Value};

use crate::text::{ip_token, port, uint};

/// Keys that name the event's time, in order of preference.
const TIME_KEYS: &[&str] = &[
    "@timestamp",
    "timestamp",
    "time",
    "ts",
    "datetime",
    "date_time",
    "date",
    "eventtime",
    "event_time",
    "timecreated",
    "time_created",
    "utctime",
    "created_at",
    "createdat",
    "time_generated",
    "timegenerated",
    "logged_at",
];

fn normal(key: &str) -> String {
    key.trim()
        .chars()
        .map(|c| match c {
            '-' | ' ' | '.' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The rank of a key as a time field (lower is better), if it is one.
pub fn time_rank(key: &str) -> Option<usize> {
    let k = normal(key);
    TIME_KEYS.iter().position(|t| normal(t) == k)
}

/// Reads a time value, text or epoch number.
pub fn time_value(value: &Value, zone: &Zone) -> Option<Timestamp> {
    match value {
        Value::Str(s) => crate::timefmt::any(s, zone),
        Value::Int(i) => crate::timefmt::any(&i.to_string(), zone),
        Value::Float(f) => crate::timefmt::epoch(&format!("{f}")),
        Value::Time(t) => Some(*t),
        _ => None,
    }
}

/// Adds the ECS field a well-known key implies, unless already set. A key
/// that names the ECS object its field belongs to (`user_agent` for
/// `user_agent.original`) is then dropped as a flat field: its value is in
/// the ECS field and in `event.original`, and kept it would clash with the
/// object in nested output.
pub fn map_alias(key: &str, value: &Value, e: &mut Event) {
    if let Some(field) = alias(key, value, e) {
        if field
            .strip_prefix(key)
            .is_some_and(|rest| rest.starts_with('.'))
        {
            e.remove(key);
        }
    }
}

/// Maps one well-known key; returns the ECS field it stored its value in.
fn alias(key: &str, value: &Value, e: &mut Event) -> Option<&'static str> {
    let text = match value {
        Value::Str(s) => s.trim().to_owned(),
        Value::Int(i) => i.to_string(),
        _ => return None,
    };
    if text.is_empty() || text == "-" {
        return None;
    }
    // The field it stored, if it stored one (an ECS field already set
    // keeps its value, and then the key's own value stays as it is).
    let mut named = None;
    let mut put = |field: &'static str, v: Value| {
        if !e.contains(field) {
            e.set(field, v);
            named = Some(field);
        }
    };
    match normal(key).as_str() {
        "src_ip" | "source_ip" | "srcip" | "src" | "client_ip" | "clientip" | "ip_address"
        | "ip" | "remote_addr" | "remote_ip" | "c_ip" | "sourceip" | "src_addr" => {
            if let Some(ip) = ip_token(&text) {
                put("source.ip", Value::Ip(ip));
            }
        }
        "dst_ip" | "dest_ip" | "destination_ip" | "dstip" | "dst" | "server_ip" | "s_ip"
        | "destinationip" | "dst_addr" => {
            if let Some(ip) = ip_token(&text) {
                put("destination.ip", Value::Ip(ip));
            }
        }
        "src_port" | "source_port" | "sport" | "spt" | "srcport" => {
            if let Some(p) = port(&text) {
                put("source.port", Value::from(p));
            }
        }
        "dst_port" | "dest_port" | "destination_port" | "dport" | "dpt" | "dstport" => {
            if let Some(p) = port(&text) {
                put("destination.port", Value::from(p));
            }
        }
        "user" | "username" | "user_name" | "account" | "login" => {
            put("user.name", Value::Str(text))
        }
        "user_id" | "userid" | "uid" => put("user.id", Value::Str(text)),
        "host" | "hostname" | "computer" | "computer_name" | "device" | "machine" => {
            put("host.name", Value::Str(text))
        }
        "method" | "http_method" | "request_method" | "verb" => {
            put("http.request.method", Value::Str(text.to_ascii_uppercase()))
        }
        "status" | "status_code" | "response_code" | "http_status" | "sc_status" => {
            if let Some(n) = uint(&text) {
                put("http.response.status_code", Value::Int(n as i64));
            }
        }
        "url" | "uri" | "request_uri" | "resource" | "path" | "cs_uri_stem" => {
            put("url.original", Value::Str(text))
        }
        "query" | "query_string" | "cs_uri_query" => put("url.query", Value::Str(text)),
        "user_agent" | "useragent" | "ua" | "http_user_agent" | "cs_user_agent" => {
            put("user_agent.original", Value::Str(text))
        }
        "message" | "msg" => put("message", Value::Str(text)),
        "proto" | "protocol" | "transport" => {
            let lower = text.to_ascii_lowercase();
            if matches!(lower.as_str(), "tcp" | "udp" | "icmp" | "icmpv6" | "sctp") {
                put("network.transport", Value::Str(lower));
            } else {
                put("network.protocol", Value::Str(lower));
            }
        }
        "action" => put("event.action", Value::Str(text)),
        "severity" | "level" | "log_level" => {
            if let Some(s) = severity::from_label(&text) {
                put("event.severity", Value::Int(s));
            }
            put("log.level", Value::Str(text));
        }
        _ => {}
    }
    named
}

/// Flattens a JSON object into dotted fields, typing scalars.
pub fn flatten(prefix: &str, object: &serde_json::Map<String, serde_json::Value>, e: &mut Event) {
    for (key, value) in object {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            serde_json::Value::Object(inner) if !inner.is_empty() => flatten(&name, inner, e),
            other => e.insert(name, Value::from(other)),
        }
    }
}

/// Builds a generic event from a JSON object.
pub fn json_event(
    ctx: &crate::context::FileContext,
    no: u64,
    line: &str,
    object: &serde_json::Map<String, serde_json::Value>,
) -> Event {
    let mut e = ctx.event(no, line);
    let zone = &ctx.options.zone;
    let best_time = object
        .iter()
        .filter_map(|(k, v)| Some((time_rank(k)?, v)))
        .min_by_key(|(rank, _)| *rank)
        .and_then(|(_, v)| time_value(&Value::from(v), zone));
    e.timestamp = best_time;
    flatten("", object, &mut e);
    if e.contains("@timestamp") {
        e.remove("@timestamp");
    }
    for (key, value) in object {
        map_alias(key, &Value::from(value), &mut e);
    }
    if !e.contains("event.dataset") {
        e.set_static("event.dataset", "json");
    }
    if !e.contains("event.kind") {
        e.set_static("event.kind", "event");
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{FileContext, ParseOptions};

    #[test]
    fn a_key_naming_its_ecs_object_does_not_stay_beside_it() {
        let ctx = FileContext::new("x.jsonl", ParseOptions::default());
        let v: serde_json::Value =
            serde_json::from_str(r#"{"user_agent":"sqlmap/1.7","user":"bob","user_id":7}"#)
                .unwrap();
        let e = json_event(&ctx, 1, "", v.as_object().unwrap());
        assert_eq!(e.get_str("user_agent.original"), Some("sqlmap/1.7"));
        assert!(e.get("user_agent").is_none());
        assert!(e.get("user").is_none());
        // A key that is not the object's own name stays.
        assert!(e.get("user_id").is_some());
        let mut json = Vec::new();
        e.write_json(&mut json);
        assert!(!String::from_utf8(json).unwrap().contains("_value"));
        // A key whose ECS field was already set keeps its value.
        let v: serde_json::Value = serde_json::from_str(r#"{"computer":"A","host":"B"}"#).unwrap();
        let e = json_event(&ctx, 1, "", v.as_object().unwrap());
        assert_eq!(e.get_str("host.name"), Some("A"));
        assert_eq!(e.get_str("host"), Some("B"));
    }

    #[test]
    fn json_objects_flatten_and_alias() {
        let ctx = FileContext::new("x.jsonl", ParseOptions::default());
        let v: serde_json::Value = serde_json::from_str(
            r#"{"time":"2025-03-14T10:00:00Z","src":"203.0.113.5","user":"bob","net":{"bytes":12,"tags":["a","b"]},"ok":true,"gone":null}"#,
        )
        .unwrap();
        let e = json_event(&ctx, 1, "", v.as_object().unwrap());
        assert_eq!(e.timestamp.unwrap().to_string(), "2025-03-14T10:00:00Z");
        assert_eq!(e.get("source.ip").unwrap().to_string(), "203.0.113.5");
        assert_eq!(e.get_str("user.name"), Some("bob"));
        assert_eq!(e.get("net.bytes").unwrap().as_i64(), Some(12));
        assert_eq!(e.get("net.tags").unwrap().to_string(), "a,b");
        assert_eq!(e.get("gone"), Some(rampart_event::ValueRef::Null));
        assert_eq!(e.get_str("event.dataset"), Some("json"));
    }
}
