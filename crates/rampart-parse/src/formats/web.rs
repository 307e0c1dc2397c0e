//! Web server logs: Apache and Nginx access logs (combined, common,
//! vhost_combined, and combined with extra trailing fields) and error logs.

use std::sync::Arc;

use rampart_event::Event;

use crate::context::FileContext;
use crate::text::{find, ip_token, port, position, uint, words};
use crate::timefmt;

/// The dataset of an access log: `nginx.access` when the file name says
/// nginx, else `apache.access` (the two write the same formats).
fn access_dataset(ctx: &FileContext) -> &'static str {
    if find(ctx.name_hint.as_bytes(), b"nginx").is_some() {
        "nginx.access"
    } else {
        "apache.access"
    }
}

/// Reads a double-quoted field starting at `s[0] == '"'`, honouring `\"`.
/// Returns the inside and the rest after the closing quote.
fn quoted(s: &str) -> Option<(&str, &str)> {
    let body = s.strip_prefix('"')?;
    let bytes = body.as_bytes();
    let mut from = 0;
    loop {
        let at = from + memchr::memchr(b'"', &bytes[from..])?;
        let backslashes = bytes[..at]
            .iter()
            .rev()
            .take_while(|b| **b == b'\\')
            .count();
        if backslashes % 2 == 0 {
            return Some((&body[..at], &body[at + 1..]));
        }
        from = at + 1;
    }
}

/// The quoted request, whose closing quote is the one followed by a status
/// code: scanners send raw `"` inside URLs (`?postdata="><script>`), which
/// servers log unescaped.
fn request_field(s: &str) -> Option<(&str, &str)> {
    let (request, rest) = quoted(s)?;
    if uint(next_word(rest).0).is_some() {
        return Some((request, rest));
    }
    let body = &s[1..];
    let mut from = request.len() + 1;
    while let Some(at) = find(&body.as_bytes()[from..], b"\" ") {
        let at = from + at;
        let after = &body[at + 1..];
        if uint(next_word(after).0).is_some() {
            return Some((&body[..at], after));
        }
        from = at + 1;
    }
    None
}

fn next_word(s: &str) -> (&str, &str) {
    let s = s.trim_start_matches(' ');
    match position(s, b' ') {
        Some(at) => (&s[..at], &s[at + 1..]),
        None => (s, ""),
    }
}

/// Parses one access-log line; `None` if it is not one.
pub fn parse_access(ctx: &FileContext, no: u64, line: &Arc<str>) -> Option<(&'static str, Event)> {
    let bracket = find(line.as_bytes(), b" [")?;
    // `client ident user` or `vhost client ident user`.
    let mut head = [""; 5];
    let mut count = 0;
    for word in words(&line[..bracket]) {
        *head.get_mut(count)? = word;
        count += 1;
    }
    let (vhost, client, user) = match count {
        3 => (None, head[0], head[2]),
        4 => (Some(head[0]), head[1], head[3]),
        _ => return None,
    };
    let rest = &line[bracket + 2..];
    let close = position(rest, b']')?;
    let timestamp = timefmt::apache(&rest.as_bytes()[..close], &ctx.options.zone)?;
    let rest = rest[close + 1..].trim_start_matches(' ');
    let (request, rest) = request_field(rest)?;
    let (status, rest) = next_word(rest);
    let status = uint(status)?;
    let (bytes, rest) = next_word(rest);
    if bytes != "-" && uint(bytes).is_none() {
        return None;
    }

    let dataset = access_dataset(ctx);
    let mut e = ctx.event(no, Arc::clone(line));
    e.timestamp = Some(timestamp);
    e.set_static("event.dataset", dataset);
    e.set_static("event.kind", "event");
    e.set_static("event.category", "web");
    e.set(
        "event.outcome",
        if status < 400 { "success" } else { "failure" },
    );
    match ip_token(client) {
        Some(ip) => e.set("source.ip", ip),
        None => e.set_str("source.domain", client),
    }
    if user != "-" {
        e.set_str("user.name", user);
    }
    if let Some(vhost) = vhost {
        match vhost
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h, port(p)?)))
        {
            Some((host, p)) => {
                e.set_str("url.domain", host);
                e.set("destination.port", p);
            }
            None => e.set_str("url.domain", vhost),
        }
    }
    request_line(request, &mut e);
    e.set("http.response.status_code", status as i64);
    if let Some(n) = uint(bytes) {
        e.set("http.response.body.bytes", n as i64);
    }
    let rest = rest.trim_start_matches(' ');
    if let Some((referrer, rest)) = quoted(rest) {
        if referrer != "-" && !referrer.is_empty() {
            e.set_str("http.request.referrer", referrer);
        }
        if let Some((agent, _)) = quoted(rest.trim_start_matches(' ')) {
            if agent != "-" {
                e.set_str("user_agent.original", agent);
            }
        }
    }
    Some((dataset, e))
}

/// `GET /a?b=c HTTP/1.1` → method, url, version; anything else is kept raw.
fn request_line(request: &str, e: &mut Event) {
    let (method, rest) = match position(request, b' ') {
        Some(at) => (&request[..at], &request[at + 1..]),
        None => (request, ""),
    };
    let (target, version) = match memchr::memrchr(b' ', rest.as_bytes()) {
        Some(at) if rest[at + 1..].starts_with("HTTP/") => (&rest[..at], Some(&rest[at + 1..])),
        _ => (rest, None),
    };
    let is_method = !method.is_empty()
        && method.len() <= 16
        && method
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b == b'-' || b == b'_');
    if is_method && !target.is_empty() {
        e.set_str("http.request.method", method);
        url(target, e);
        if let Some(v) = version {
            e.set_str("http.version", v.strip_prefix("HTTP/").unwrap_or(v));
        }
    } else if request != "-" {
        e.set_str("http.request.line", request);
    }
}

/// Sets `url.original`, `url.path` and `url.query`.
pub fn url(target: &str, e: &mut Event) {
    e.set_str("url.original", target);
    let (path, query) = match position(target, b'?') {
        Some(at) => (&target[..at], &target[at + 1..]),
        None => (target, ""),
    };
    let path = match find(path.as_bytes(), b"://") {
        Some(at) => {
            let after = &path[at + 3..];
            let slash = position(after, b'/').unwrap_or(after.len());
            let authority = &after[..slash];
            // `host:port` (or `[v6]:port`): ECS keeps the port apart.
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let (host, port) = match host.rsplit_once(':') {
                Some((h, p))
                    if !p.is_empty()
                        && p.bytes().all(|b| b.is_ascii_digit())
                        && (!h.contains(':') || h.ends_with(']')) =>
                {
                    (h, p.parse::<u16>().ok())
                }
                _ => (host, None),
            };
            e.set_str(
                "url.domain",
                host.trim_start_matches('[').trim_end_matches(']'),
            );
            if let Some(port) = port {
                e.set("url.port", i64::from(port));
            }
            &after[slash..]
        }
        None => path,
    };
    e.set_str("url.path", path);
    e.set_str("url.query", query);
}

/// `url.full` of an HTTP transaction seen on the wire (Zeek, Suricata),
/// which logs the host and the request target apart: `http://` (what a
/// sensor reads is cleartext), the host, the port unless it is 80, and the
/// target. Indicator feeds list whole URLs, and this is what they match.
pub fn wire_full_url(e: &mut Event) {
    if e.contains("url.full") {
        return;
    }
    let (Some(host), Some(target)) = (e.get_str("url.domain"), e.get_str("url.original")) else {
        return;
    };
    if !target.starts_with('/') || host.is_empty() || host.contains(['/', ' ']) {
        return;
    }
    // A Host header may carry its port already.
    let has_port = host
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let port = match e.get("destination.port").map(|p| p.to_string()) {
        Some(p) if p != "80" && !has_port => format!(":{p}"),
        _ => String::new(),
    };
    let full = format!("http://{}{port}{target}", host.to_ascii_lowercase());
    e.set("url.full", full);
}

/// Parses one Apache or Nginx error-log line.
pub fn parse_error(ctx: &FileContext, no: u64, line: &Arc<str>) -> Option<(&'static str, Event)> {
    if let Some(rest) = line.strip_prefix('[') {
        apache_error(ctx, no, line, rest)
    } else {
        nginx_error(ctx, no, line)
    }
}

fn apache_error(
    ctx: &FileContext,
    no: u64,
    line: &Arc<str>,
    rest: &str,
) -> Option<(&'static str, Event)> {
    let (timestamp, used) = timefmt::ctime(rest.as_bytes(), &ctx.options.zone)?;
    let mut rest = rest[used..].strip_prefix("] ")?;
    let mut e = ctx.event(no, Arc::clone(line));
    e.timestamp = Some(timestamp);
    e.set_static("event.dataset", "apache.error");
    e.set_static("event.kind", "event");
    e.set_static("event.category", "web");
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(close) = inner.find("] ") else { break };
        let field = &inner[..close];
        rest = &inner[close + 2..];
        if let Some(client) = field.strip_prefix("client ") {
            client_address(client, &mut e);
        } else if let Some(pids) = field.strip_prefix("pid ") {
            let (pid, tid) = pids.split_once(":tid ").unwrap_or((pids, ""));
            if let Some(p) = uint(pid) {
                e.set("process.pid", p as i64);
            }
            if let Some(t) = uint(tid) {
                e.set("process.thread.id", t as i64);
            }
        } else if let Some((module, level)) = field.split_once(':') {
            e.set_str("apache.error.module", module);
            e.set_str("log.level", level);
        } else {
            e.set_str("log.level", field);
        }
    }
    if let Some((code, _)) = rest.split_once(": ") {
        if code.len() == 7
            && code.starts_with("AH")
            && code[2..].bytes().all(|b| b.is_ascii_digit())
        {
            e.set_str("error.code", code);
        }
    }
    e.set_str("message", rest);
    Some(("apache.error", e))
}

fn client_address(client: &str, e: &mut Event) {
    if let Some(ip) = ip_token(client) {
        e.set("source.ip", ip);
        return;
    }
    if let Some((addr, p)) = client.rsplit_once(':') {
        if let (Some(ip), Some(p)) = (ip_token(addr), port(p)) {
            e.set("source.ip", ip);
            e.set("source.port", p);
        }
    }
}

fn nginx_error(ctx: &FileContext, no: u64, line: &Arc<str>) -> Option<(&'static str, Event)> {
    let (timestamp, used) = timefmt::iso8601(line.as_bytes(), &ctx.options.zone)?;
    let rest = line[used..].strip_prefix(" [")?;
    let (level, rest) = rest.split_once("] ")?;
    if level.is_empty() || !level.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let (pids, rest) = rest.split_once(": ")?;
    let (pid, tid) = pids.split_once('#')?;
    let mut e = ctx.event(no, Arc::clone(line));
    e.timestamp = Some(timestamp);
    e.set_static("event.dataset", "nginx.error");
    e.set_static("event.kind", "event");
    e.set_static("event.category", "web");
    e.set_str("log.level", level);
    if let (Some(p), Some(t)) = (uint(pid), uint(tid)) {
        e.set("process.pid", p as i64);
        e.set("process.thread.id", t as i64);
    }
    let mut message = rest;
    if let Some(conn) = rest.strip_prefix('*') {
        if let Some((id, after)) = conn.split_once(' ') {
            if let Some(id) = uint(id) {
                e.set("nginx.error.connection_id", id as i64);
                message = after;
            }
        }
    }
    if let Some(at) = message.find(", client: ") {
        let context = &message[at + 2..];
        for (key, value) in nginx_context(context) {
            match key {
                "client" => client_address(value, &mut e),
                "server" => e.set_str("url.domain", value),
                "request" => request_line(value, &mut e),
                "host" => e.set_str("destination.domain", value),
                "referrer" => e.set_str("http.request.referrer", value),
                "upstream" => e.set_str("nginx.error.upstream", value),
                _ => {}
            }
        }
        message = &message[..at];
    }
    e.set_str("message", message);
    Some(("nginx.error", e))
}

/// The `key: value` pairs after an nginx error message; values may be quoted.
fn nginx_context(text: &str) -> Vec<(&str, &str)> {
    let mut pairs = Vec::new();
    let mut rest = text;
    while let Some((key, after)) = rest.split_once(": ") {
        let (value, after) = if after.starts_with('"') {
            match quoted(after) {
                Some((v, a)) => (v, a),
                None => (after, ""),
            }
        } else {
            after.split_once(", ").map_or((after, ""), |(v, a)| (v, a))
        };
        pairs.push((key.trim_start_matches(", ").trim(), value));
        rest = after.trim_start_matches(", ");
        if rest.is_empty() {
            break;
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    fn ctx() -> FileContext {
        FileContext::new("access.log", ParseOptions::default())
    }

    #[test]
    fn combined_line() {
        let line = r#"198.51.100.23 - alice [14/Mar/2025:10:01:01 +0000] "GET /item.php?id=1' OR '1'='1 HTTP/1.1" 404 209 "-" "sqlmap/1.7 (\"x\")""#;
        let (ds, e) = parse_access(&ctx(), 1, &Arc::from(line)).unwrap();
        assert_eq!(ds, "apache.access");
        assert_eq!(e.get_str("user.name"), Some("alice"));
        assert_eq!(e.get_str("url.path"), Some("/item.php"));
        assert_eq!(e.get_str("url.query"), Some("id=1' OR '1'='1"));
        assert_eq!(
            e.get("http.response.status_code").unwrap().as_i64(),
            Some(404)
        );
        assert_eq!(
            e.get_str("user_agent.original"),
            Some(r#"sqlmap/1.7 (\"x\")"#)
        );
        assert!(e.get("http.request.referrer").is_none());
    }

    #[test]
    fn absolute_targets_keep_the_port_apart_from_the_host() {
        let cases = [
            (
                "http://malware-c2.example.net:8080/x",
                "malware-c2.example.net",
                Some(8080),
            ),
            ("http://user@host.example:81/", "host.example", Some(81)),
            ("http://[2001:db8::7]:8443/a", "2001:db8::7", Some(8443)),
            ("http://plain.example/a?b=1:2", "plain.example", None),
        ];
        for (target, host, port) in cases {
            let mut e = rampart_event::Event::new(rampart_event::Origin::new("a", 1), target);
            url(target, &mut e);
            assert_eq!(e.get_str("url.domain"), Some(host), "{target}");
            assert_eq!(e.get("url.port").and_then(|p| p.as_i64()), port, "{target}");
        }
    }

    #[test]
    fn raw_quotes_inside_the_request() {
        let line = r#"192.0.2.83 - - [11/Jul/2018:09:32:27 +0300] "GET /a.dll?postdata="><script>foo</script> HTTP/1.1" 404 997"#;
        let (_, e) = parse_access(&ctx(), 1, &Arc::from(line)).unwrap();
        assert_eq!(
            e.get_str("url.query"),
            Some("postdata=\"><script>foo</script>")
        );
        assert_eq!(
            e.get("http.response.status_code").unwrap().as_i64(),
            Some(404)
        );
    }

    #[test]
    fn common_and_vhost_lines() {
        let (_, e) = parse_access(
            &ctx(),
            1,
            &Arc::from(
                r#"2001:db8::1 - - [11/Jul/2018:08:41:28 +0300] "GET /manager HTTP/1.1" 302 -"#,
            ),
        )
        .unwrap();
        assert_eq!(e.get("source.ip").unwrap().to_string(), "2001:db8::1");
        assert!(e.get("http.response.body.bytes").is_none());
        assert_eq!(e.timestamp.unwrap().to_string(), "2018-07-11T05:41:28Z");
        let (_, e) = parse_access(&ctx(), 1, &Arc::from(r#"www.example.com:443 203.0.113.5 - - [14/Mar/2025:10:01:01 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8""#)).unwrap();
        assert_eq!(e.get_str("url.domain"), Some("www.example.com"));
        assert_eq!(e.get("destination.port").unwrap().as_i64(), Some(443));
    }

    #[test]
    fn error_lines() {
        let (ds, e) = parse_error(&ctx(), 1, &Arc::from("[Fri Mar 14 10:01:02.123456 2025] [core:error] [pid 1234:tid 5678] [client 2001:db8::42:40988] AH00126: Invalid URI")).unwrap();
        assert_eq!(ds, "apache.error");
        assert_eq!(e.get_str("log.level"), Some("error"));
        assert_eq!(e.get("source.port").unwrap().as_i64(), Some(40988));
        assert_eq!(e.get_str("error.code"), Some("AH00126"));
        let line = r#"2025/03/14 10:01:02 [error] 1234#1234: *5 open() "/x" failed (2: No such file), client: 203.0.113.7, server: example.com, request: "GET /wp-login.php HTTP/1.1", host: "example.com""#;
        let (ds, e) = parse_error(&ctx(), 1, &Arc::from(line)).unwrap();
        assert_eq!(ds, "nginx.error");
        assert_eq!(e.get("source.ip").unwrap().to_string(), "203.0.113.7");
        assert_eq!(e.get_str("url.path"), Some("/wp-login.php"));
        assert_eq!(
            e.get_str("message"),
            Some(r#"open() "/x" failed (2: No such file)"#)
        );
    }
}
