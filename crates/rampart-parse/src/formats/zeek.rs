//! Zeek logs, in the default TSV form (with `#fields`/`#types` headers) and
//! as JSON (`id.orig_h`, or the `id_orig_h`/`@stream` variant). Both reach one
//! mapper, so a TSV log and its JSON twin give the same events.

use rampart_event::{Event, Value};
use serde_json::{Map, Value as Json};

use super::web::url;
use crate::context::FileContext;
use crate::output::Output;
use crate::text::ip_token;

/// The statistics key of Zeek records.
pub const FORMAT: &str = "zeek";

/// Whether a JSON object is a Zeek record.
pub fn is_zeek_json(o: &Map<String, Json>) -> bool {
    o.contains_key("_path")
        || o.contains_key("@stream")
        || (o.contains_key("ts")
            && (o.contains_key("uid")
                || o.contains_key("id.orig_h")
                || o.contains_key("id_orig_h")
                || o.contains_key("fuid")))
}

/// The log name of a JSON record: `_path`, `@stream`, else what its
/// fields say (a DNS query, an HTTP request, ...), else the file name.
pub fn path_of_json(o: &Map<String, Json>, ctx: &FileContext) -> String {
    o.get("_path")
        .or_else(|| o.get("@stream"))
        .and_then(Json::as_str)
        .map(str::to_owned)
        .or_else(|| path_from_fields(|k| o.contains_key(k)).map(str::to_owned))
        .unwrap_or_else(|| path_from_name(&ctx.name_hint))
}

/// The log whose own fields a record has (Zeek's log field names).
fn path_from_fields(has: impl Fn(&str) -> bool) -> Option<&'static str> {
    const LOGS: [(&str, &[&str]); 9] = [
        ("dns", &["query", "qtype_name"]),
        ("http", &["method", "uri"]),
        ("ssl", &["server_name", "cipher"]),
        ("ssl", &["version", "cipher"]),
        ("files", &["fuid", "mime_type"]),
        ("conn", &["conn_state"]),
        ("notice", &["note", "msg"]),
        ("weird", &["name", "addl"]),
        ("x509", &["certificate.subject"]),
    ];
    LOGS.iter()
        .find(|(_, keys)| keys.iter().all(|k| has(k)))
        .map(|(path, _)| *path)
}

/// `conn.log`, `conn.json`, `NASHUA_conn.log`, `conn.09:00:00-10:00:00.log` → `conn`.
fn path_from_name(name: &str) -> String {
    let stem = name.split('.').next().unwrap_or(name);
    stem.rsplit('_').next().unwrap_or(stem).to_owned()
}

/// Builds the event of one record given as `(field, value)` pairs.
pub fn event(
    ctx: &FileContext,
    no: u64,
    line: &str,
    path: String,
    fields: Vec<(String, Value)>,
) -> Event {
    let mut e = ctx.event(no, line);
    e.set_static("event.module", "zeek");
    e.set_static("event.kind", "event");
    e.set(
        "event.category",
        match path.as_str() {
            "http" => "web",
            "files" | "pe" | "x509" => "file",
            "notice" | "weird" | "intel" => "intrusion_detection",
            "kerberos" | "ntlm" | "radius" => "authentication",
            _ => "network",
        },
    );
    for (name, value) in &fields {
        let name = name
            .replace("id_orig_", "id.orig_")
            .replace("id_resp_", "id.resp_");
        map_field(&path, &name, value, ctx, &mut e);
    }
    for (name, value) in fields {
        if name.starts_with('@') || name == "_path" {
            continue;
        }
        let name = name
            .replace("id_orig_", "id.orig_")
            .replace("id_resp_", "id.resp_");
        e.insert(format!("zeek.{path}.{name}"), value);
    }
    if path == "http" {
        super::web::wire_full_url(&mut e);
    }
    e.set("event.dataset", format!("zeek.{path}"));
    e
}

fn map_field(path: &str, name: &str, value: &Value, ctx: &FileContext, e: &mut Event) {
    let text = match value {
        Value::Str(s) => Some(s.as_str()),
        _ => None,
    };
    let ip = |e: &mut Event, field: &'static str| match value {
        Value::Ip(ip) => e.insert(field, *ip),
        Value::Str(s) => {
            if let Some(ip) = ip_token(s) {
                e.insert(field, ip);
            }
        }
        _ => {}
    };
    let int = |e: &mut Event, field: &'static str| match value {
        Value::Int(i) => e.insert(field, *i),
        Value::Str(s) => {
            if let Some(n) = crate::text::uint(s) {
                e.insert(field, n as i64);
            }
        }
        _ => {}
    };
    let string = |e: &mut Event, field: &'static str| {
        if let Some(t) = text {
            e.insert(field, t.to_owned());
        }
    };
    match (path, name) {
        (_, "ts") => e.timestamp = super::generic::time_value(value, &ctx.options.zone),
        (_, "uid") => string(e, "zeek.session_id"),
        (_, "id.orig_h") => ip(e, "source.ip"),
        (_, "id.orig_p") => int(e, "source.port"),
        (_, "id.resp_h") => ip(e, "destination.ip"),
        (_, "id.resp_p") => int(e, "destination.port"),
        (_, "proto") => string(e, "network.transport"),
        ("conn", "service") => string(e, "network.protocol"),
        ("conn", "orig_bytes") => int(e, "source.bytes"),
        ("conn", "resp_bytes") => int(e, "destination.bytes"),
        ("conn", "orig_pkts") => int(e, "source.packets"),
        ("conn", "resp_pkts") => int(e, "destination.packets"),
        ("conn", "duration") => {
            if let Value::Float(secs) = value {
                e.insert("event.duration", (secs * 1e9) as i64);
            }
        }
        ("dns", "query") => string(e, "dns.question.name"),
        ("dns", "qtype_name") => string(e, "dns.question.type"),
        ("dns", "rcode_name") => string(e, "dns.response_code"),
        ("http", "host") => string(e, "url.domain"),
        ("http", "uri") => {
            if let Some(t) = text {
                url(t, e);
            }
        }
        ("http", "method") => string(e, "http.request.method"),
        ("http", "status_code") => int(e, "http.response.status_code"),
        ("http", "user_agent") => string(e, "user_agent.original"),
        ("http", "referrer") => string(e, "http.request.referrer"),
        ("http", "version") => string(e, "http.version"),
        ("http", "request_body_len") => int(e, "http.request.body.bytes"),
        ("http", "response_body_len") => int(e, "http.response.body.bytes"),
        ("ssl", "server_name") => string(e, "tls.client.server_name"),
        ("files", "md5") => string(e, "file.hash.md5"),
        ("files", "sha1") => string(e, "file.hash.sha1"),
        ("files", "sha256") => string(e, "file.hash.sha256"),
        ("files", "filename") => string(e, "file.name"),
        ("files", "mime_type") => string(e, "file.mime_type"),
        ("files", "total_bytes" | "seen_bytes") if !e.contains("file.size") => int(e, "file.size"),
        ("ssl", "version") => string(e, "tls.version"),
        ("ssl", "subject") => string(e, "tls.server.subject"),
        ("ssl", "issuer") => string(e, "tls.server.issuer"),
        ("ssl", "ja3") => string(e, "tls.client.ja3"),
        ("notice" | "weird", "note" | "name") => string(e, "rule.name"),
        (_, "msg") => string(e, "message"),
        ("kerberos" | "ntlm" | "ssh" | "ftp" | "rdp", "username" | "user" | "client") => {
            if let Some(t) = text {
                e.insert("user.name", t.to_owned());
            }
        }
        ("ssh", "auth_success") => {
            if let Value::Bool(ok) = value {
                e.insert("event.outcome", if *ok { "success" } else { "failure" });
            }
        }
        _ => {}
    }
}

/// Reads TSV logs: header lines set the columns and types; rows follow.
#[derive(Debug, Default)]
pub struct ZeekTsvDecoder {
    separator: Option<char>,
    set_separator: String,
    unset: String,
    empty: String,
    path: Option<String>,
    fields: Vec<String>,
    types: Vec<String>,
}

impl ZeekTsvDecoder {
    /// Feeds one line.
    pub fn feed(&mut self, ctx: &FileContext, no: u64, line: &str, out: &mut Output) {
        if line.trim().is_empty() {
            out.skipped();
            return;
        }
        if let Some(header) = line.strip_prefix('#') {
            self.header(header);
            out.skipped();
            return;
        }
        if self.fields.is_empty() {
            out.unparsed(no, "Zeek row before any #fields header", line);
            return;
        }
        let sep = self.separator.unwrap_or('\t');
        let values: Vec<&str> = line.split(sep).collect();
        if values.len() != self.fields.len() {
            out.unparsed(
                no,
                format!(
                    "Zeek row has {} columns, #fields names {}",
                    values.len(),
                    self.fields.len()
                ),
                line,
            );
            return;
        }
        let mut fields = Vec::with_capacity(values.len());
        for (i, raw) in values.iter().enumerate() {
            if *raw == self.unset {
                continue;
            }
            let ty = self.types.get(i).map_or("string", String::as_str);
            fields.push((self.fields[i].clone(), self.typed(raw, ty)));
        }
        let path = self
            .path
            .clone()
            .unwrap_or_else(|| path_from_name(&ctx.name_hint));
        out.event(FORMAT, event(ctx, no, line, path, fields));
    }

    fn header(&mut self, header: &str) {
        let (key, rest) = header.split_once([' ', '\t']).unwrap_or((header, ""));
        let sep = self.separator.unwrap_or('\t');
        let values = || rest.split(sep).map(str::to_owned).collect::<Vec<_>>();
        match key {
            "separator" => self.separator = unescape(rest.trim()).chars().next(),
            "set_separator" => self.set_separator = rest.to_owned(),
            "unset_field" => self.unset = rest.to_owned(),
            "empty_field" => self.empty = rest.to_owned(),
            "path" => self.path = Some(rest.trim().to_owned()),
            "fields" => self.fields = values(),
            "types" => self.types = values(),
            _ => {}
        }
    }

    fn typed(&self, raw: &str, ty: &str) -> Value {
        if let Some(inner) = ty
            .strip_prefix("set[")
            .or_else(|| ty.strip_prefix("vector["))
        {
            let inner = inner.trim_end_matches(']');
            if raw == self.empty {
                return Value::List(Vec::new());
            }
            let sep = if self.set_separator.is_empty() {
                ","
            } else {
                &self.set_separator
            };
            return Value::List(raw.split(sep).map(|v| self.typed(v, inner)).collect());
        }
        if raw == self.empty {
            return Value::Str(String::new());
        }
        match ty {
            "addr" => raw
                .parse()
                .map(Value::Ip)
                .unwrap_or_else(|_| Value::Str(raw.to_owned())),
            "port" | "count" | "int" => raw
                .parse()
                .map(Value::Int)
                .unwrap_or_else(|_| Value::Str(raw.to_owned())),
            "interval" | "double" => raw
                .parse()
                .map(Value::Float)
                .unwrap_or_else(|_| Value::Str(raw.to_owned())),
            "bool" => Value::Bool(raw == "T"),
            "time" => Value::Str(raw.to_owned()),
            _ => Value::Str(unescape(raw)),
        }
    }
}

/// Zeek escapes bytes as `\xNN`.
fn unescape(s: &str) -> String {
    if !s.contains("\\x") {
        return s.to_owned();
    }
    let mut out = Vec::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'x') && i + 3 < bytes.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 2]), hex(bytes[i + 3])) {
                let b = (hi * 16 + lo) as u8;
                out.push(b);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    #[test]
    fn tsv_and_json_agree() {
        let ctx = FileContext::new("conn.log", ParseOptions::default());
        let mut d = ZeekTsvDecoder::default();
        let mut out = Output::default();
        for (i, l) in [
            "#separator \\x09",
            "#set_separator\t,",
            "#empty_field\t(empty)",
            "#unset_field\t-",
            "#path\tconn",
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\ttunnel_parents",
            "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tset[string]",
            "1741946462.123456\tCabc\t10.0.0.5\t51514\t203.0.113.9\t443\ttcp\tssl\t1.5\t(empty)",
        ]
        .iter()
        .enumerate()
        {
            d.feed(&ctx, i as u64 + 1, l, &mut out);
        }
        assert_eq!(out.events.len(), 1, "{:?}", out.dead);
        let tsv = &out.events[0];
        let json: Map<String, Json> = serde_json::from_str(r#"{"_path":"conn","ts":1741946462.123456,"uid":"Cabc","id.orig_h":"10.0.0.5","id.orig_p":51514,"id.resp_h":"203.0.113.9","id.resp_p":443,"proto":"tcp","service":"ssl","duration":1.5}"#).unwrap();
        let fields = json
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v)))
            .collect();
        let j = event(&ctx, 1, "", path_of_json(&json, &ctx), fields);
        for field in [
            "@timestamp",
            "source.ip",
            "source.port",
            "destination.port",
            "network.protocol",
            "event.dataset",
            "event.duration",
        ] {
            assert_eq!(tsv.get(field), j.get(field), "{field}");
        }
        assert_eq!(tsv.get_str("event.dataset"), Some("zeek.conn"));
        assert_eq!(
            tsv.get("event.duration").unwrap().as_i64(),
            Some(1_500_000_000)
        );
    }

    #[test]
    fn escapes_decode_and_damaged_ones_stay() {
        assert_eq!(unescape("a\\x09b"), "a\tb");
        assert_eq!(unescape("\\x\u{e9}9"), "\\x\u{e9}9");
    }

    #[test]
    fn names_give_the_path() {
        assert_eq!(path_from_name("nashua_conn.log"), "conn");
        assert_eq!(path_from_name("dns.json"), "dns");
    }

    #[test]
    fn a_record_without_path_is_named_by_its_fields_before_its_file() {
        let ctx = FileContext::new("zeek-dns-2025-03-14.json", ParseOptions::default());
        for (record, path) in [
            (
                r#"{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","query":"evil.example.com","qtype_name":"A"}"#,
                "dns",
            ),
            (
                r#"{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","method":"GET","uri":"/a"}"#,
                "http",
            ),
            (
                r#"{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","conn_state":"S0"}"#,
                "conn",
            ),
            (
                r#"{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1"}"#,
                "zeek-dns-2025-03-14",
            ),
        ] {
            let o: Map<String, Json> = serde_json::from_str(record).unwrap();
            assert_eq!(path_of_json(&o, &ctx), path, "{record}");
        }
    }
}
