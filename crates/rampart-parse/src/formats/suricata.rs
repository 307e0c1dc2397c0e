//! Suricata EVE JSON: alerts, flows, DNS, HTTP and TLS records mapped onto
//! ECS, with every original key kept under `suricata.eve.*`.

use rampart_event::{severity, Event, Value};
use serde_json::{Map, Value as Json};

use super::generic::flatten;
use super::web::{url, wire_full_url};
use crate::context::FileContext;
use crate::text::ip_token;

/// The statistics key and `event.dataset` of EVE records.
pub const FORMAT: &str = "suricata.eve";

fn s<'a>(v: &'a Json, path: &[&str]) -> Option<&'a Json> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

/// `s` from the record's top-level map, without wrapping it in a `Json`.
fn top<'a>(o: &'a Map<String, Json>, path: &[&str]) -> Option<&'a Json> {
    let (first, rest) = path.split_first()?;
    s(o.get(*first)?, rest)
}

/// Builds the event of one EVE record.
pub fn event(ctx: &FileContext, no: u64, line: &str, o: &Map<String, Json>) -> Event {
    let mut e = ctx.event(no, line);
    e.timestamp = o
        .get("timestamp")
        .and_then(Json::as_str)
        .and_then(|t| crate::timefmt::any(t, &ctx.options.zone));
    let kind = o.get("event_type").and_then(Json::as_str).unwrap_or("");
    e.set_static("event.dataset", FORMAT);
    e.set_static("event.module", "suricata");
    e.set(
        "event.kind",
        if kind == "alert" { "alert" } else { "event" },
    );
    e.set(
        "event.category",
        match kind {
            "alert" => "intrusion_detection",
            "http" => "web",
            _ => "network",
        },
    );
    let text = |path: &[&str]| top(o, path).and_then(Json::as_str);
    let int = |path: &[&str]| top(o, path).and_then(Json::as_i64);
    let ip = |e: &mut Event, key: &str, field: &'static str| {
        if let Some(addr) = text(&[key]).and_then(ip_token) {
            e.set(field, addr);
        }
    };
    ip(&mut e, "src_ip", "source.ip");
    ip(&mut e, "dest_ip", "destination.ip");
    let num = |e: &mut Event, path: &[&str], field: &'static str| {
        if let Some(n) = int(path) {
            e.set(field, n);
        }
    };
    num(&mut e, &["src_port"], "source.port");
    num(&mut e, &["dest_port"], "destination.port");
    if let Some(proto) = text(&["proto"]) {
        e.set("network.transport", proto.to_ascii_lowercase());
    }
    if let Some(app) = text(&["app_proto"]).filter(|a| *a != "failed") {
        e.set("network.protocol", app.to_ascii_lowercase());
    }
    if let Some(id) = text(&["community_id"]) {
        e.set_str("network.community_id", id);
    }
    if kind == "alert" {
        if let Some(sig) = text(&["alert", "signature"]) {
            e.set_str("rule.name", sig);
            e.set_str("message", sig);
        }
        if let Some(id) = int(&["alert", "signature_id"]) {
            e.set("rule.id", id.to_string());
        }
        if let Some(c) = text(&["alert", "category"]) {
            e.set_str("rule.category", c);
        }
        if let Some(a) = text(&["alert", "action"]) {
            e.set_str("event.action", a);
        }
        if let Some(sev) = int(&["alert", "severity"]) {
            e.set("log.level", sev.to_string());
            let scaled = match sev {
                1 => severity::HIGH,
                2 => severity::MEDIUM,
                _ => severity::LOW,
            };
            e.set("event.severity", scaled);
        }
    }
    if let Some(http) = o.get("http") {
        let t = |k: &str| http.get(k).and_then(Json::as_str);
        if let Some(u) = t("url") {
            url(u, &mut e);
        }
        if let Some(h) = t("hostname") {
            e.insert("url.domain", h.to_owned());
        }
        // A fileinfo record's ends follow the file, not the request.
        if kind == "http" || kind == "alert" {
            wire_full_url(&mut e);
        }
        if let Some(m) = t("http_method") {
            e.set_str("http.request.method", m);
        }
        if let Some(a) = t("http_user_agent") {
            e.set_str("user_agent.original", a);
        }
        if let Some(r) = t("http_refer") {
            e.set_str("http.request.referrer", r);
        }
        if let Some(v) = t("protocol") {
            e.set_str("http.version", v.trim_start_matches("HTTP/"));
        }
        if let Some(n) = http.get("status").and_then(Json::as_i64) {
            e.set("http.response.status_code", n);
        }
        if let Some(n) = http.get("length").and_then(Json::as_i64) {
            e.set("http.response.body.bytes", n);
        }
    }
    if let Some(dns) = o.get("dns") {
        let query = dns.get("queries").and_then(|q| q.get(0)).unwrap_or(dns);
        if let Some(name) = query.get("rrname").and_then(Json::as_str) {
            e.set_str("dns.question.name", name);
        }
        if let Some(t) = query.get("rrtype").and_then(Json::as_str) {
            e.set_str("dns.question.type", t);
        }
        if let Some(t) = dns.get("type").and_then(Json::as_str) {
            e.set_str("dns.type", t);
        }
        if let Some(rc) = dns.get("rcode").and_then(Json::as_str) {
            e.set_str("dns.response_code", rc);
        }
    }
    if let Some(tls) = o.get("tls") {
        let t = |path: &[&str]| s(tls, path).and_then(Json::as_str);
        for (path, field) in [
            (&["sni"][..], "tls.client.server_name"),
            (&["version"][..], "tls.version"),
            (&["subject"][..], "tls.server.subject"),
            (&["issuerdn"][..], "tls.server.issuer"),
            (&["ja3", "hash"][..], "tls.client.ja3"),
            (&["ja3s", "hash"][..], "tls.server.ja3s"),
        ] {
            if let Some(v) = t(path) {
                e.set_str(field, v);
            }
        }
    }
    if let Some(file) = o.get("fileinfo") {
        let t = |k: &str| file.get(k).and_then(Json::as_str);
        for (key, field) in [
            ("filename", "file.name"),
            ("md5", "file.hash.md5"),
            ("sha1", "file.hash.sha1"),
            ("sha256", "file.hash.sha256"),
        ] {
            if let Some(v) = t(key) {
                e.set_str(field, v);
            }
        }
        if let Some(size) = file.get("size").and_then(Json::as_i64) {
            e.set("file.size", size);
        }
    }
    if let Some(flow) = o.get("flow") {
        let n = |k: &str| flow.get(k).and_then(Json::as_i64);
        let (ps, pc, bs, bc) = (
            n("pkts_toserver"),
            n("pkts_toclient"),
            n("bytes_toserver"),
            n("bytes_toclient"),
        );
        for (v, field) in [
            (ps, "source.packets"),
            (pc, "destination.packets"),
            (bs, "source.bytes"),
            (bc, "destination.bytes"),
        ] {
            if let Some(v) = v {
                e.set(field, v);
            }
        }
        if let (Some(a), Some(b)) = (bs, bc) {
            e.set("network.bytes", a + b);
        }
        if let (Some(a), Some(b)) = (ps, pc) {
            e.set("network.packets", a + b);
        }
    }
    flatten("suricata.eve", o, &mut e);
    if !e.contains("message") {
        e.set("message", Value::Str(format!("suricata {kind}")));
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    #[test]
    fn alert_record() {
        let line = r#"{"timestamp":"2017-03-25T16:49:58.856335-0600","flow_id":1,"event_type":"alert","src_ip":"84.92.227.177","src_port":6668,"dest_ip":"10.192.19.6","dest_port":57966,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2000355,"rev":5,"signature":"ET CHAT IRC authorization message","category":"Misc activity","severity":3},"flow":{"pkts_toserver":7,"pkts_toclient":8,"bytes_toserver":708,"bytes_toclient":4091}}"#;
        let o: Map<String, Json> = serde_json::from_str(line).unwrap();
        let ctx = FileContext::new("eve.json", ParseOptions::default());
        let e = event(&ctx, 1, line, &o);
        assert_eq!(
            e.timestamp.unwrap().to_string(),
            "2017-03-25T22:49:58.856335Z"
        );
        assert_eq!(e.get_str("rule.id"), Some("2000355"));
        assert_eq!(e.get_str("log.level"), Some("3"));
        assert_eq!(
            e.get("event.severity").unwrap().as_i64(),
            Some(severity::LOW)
        );
        assert_eq!(e.get_str("network.transport"), Some("tcp"));
        assert_eq!(e.get("network.bytes").unwrap().as_i64(), Some(4799));
        assert_eq!(e.get("suricata.eve.alert.gid").unwrap().as_i64(), Some(1));
    }

    #[test]
    fn fileinfo_gives_file_hashes_and_no_url_with_the_client_port() {
        let sha = "a".repeat(64);
        let line = format!(
            r#"{{"timestamp":"2025-03-14T10:00:00.000000+0000","event_type":"fileinfo","src_ip":"198.51.100.66","src_port":80,"dest_ip":"10.0.0.25","dest_port":51744,"proto":"TCP","http":{{"hostname":"dl.example.com","url":"/payload.exe"}},"fileinfo":{{"filename":"/payload.exe","md5":"{md5}","sha256":"{sha}","size":4096}}}}"#,
            md5 = "b".repeat(32)
        );
        let o: Map<String, Json> = serde_json::from_str(&line).unwrap();
        let ctx = FileContext::new("eve.json", ParseOptions::default());
        let e = event(&ctx, 1, &line, &o);
        assert_eq!(e.get_str("file.hash.sha256"), Some(sha.as_str()));
        assert_eq!(e.get_str("file.hash.md5"), Some("b".repeat(32).as_str()));
        assert_eq!(e.get("file.size").unwrap().as_i64(), Some(4096));
        assert!(e.get("url.full").is_none());
    }
}
