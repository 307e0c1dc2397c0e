//! Matching events against the loaded indicators: which fields are looked
//! up, what an event carries afterwards (`threat.enrichments`, one entry per
//! match), and the `ioc-match` rule's alerts.
//!
//! Seed 001's semantics hold: a match on the source or the destination
//! flags the event, and the source's match comes first (its confidence is
//! the one shown first).

use std::sync::Arc;

use rampart_detect::rule::{LogSource, Rule, RuleSource};
use rampart_detect::{Alert, Level, Matched};
use rampart_event::{Event, Value};
use serde_json::{json, Value as Json};

use crate::indicator::{Indicator, Kind};
use crate::table::IntelTable;

/// Address fields, source first.
const IP_FIELDS: &[&str] = &["source.ip", "destination.ip", "client.ip", "server.ip"];
/// Domain fields.
const DOMAIN_FIELDS: &[&str] = &[
    "dns.question.name",
    "url.domain",
    "tls.client.server_name",
    "destination.domain",
    "server.domain",
    "source.domain",
    "client.domain",
];
/// URL fields (a full URL; a path alone matches nothing).
const URL_FIELDS: &[&str] = &["url.full", "url.original"];
/// File hash fields.
const HASH_FIELDS: &[&str] = &[
    "file.hash.sha256",
    "file.hash.sha1",
    "file.hash.md5",
    "process.hash.sha256",
    "process.hash.sha1",
    "process.hash.md5",
];

/// Where the addresses of a line of no known format (`event.dataset: raw`)
/// are looked for: its text.
const TEXT_FIELD: &str = "message";

/// The most addresses looked up in one raw line.
const MAX_TEXT_ADDRESSES: usize = 64;

/// How long repeats of one indicator fold into one `ioc-match` alert.
pub const IOC_DEDUP: std::time::Duration = std::time::Duration::from_secs(600);

/// One match of an event value against an indicator.
#[derive(Debug, Clone)]
pub struct Hit<'t> {
    /// The event field.
    pub field: &'static str,
    /// The event's value.
    pub atomic: String,
    /// The indicator.
    pub indicator: &'t Indicator,
}

impl IntelTable {
    /// Every match of `event`'s addresses, domains, URLs and hashes, source
    /// address first.
    pub fn matches(&self, event: &Event) -> Vec<Hit<'_>> {
        let mut hits = Vec::new();
        for &field in IP_FIELDS {
            let Some(ip) = event.get_ip(field) else {
                continue;
            };
            // `::ffff:203.0.113.5` is the IPv4 address a dual-stack socket saw.
            let ip = ip.to_canonical();
            self.each_ip(ip, |indicator| {
                hits.push(Hit {
                    field,
                    atomic: ip.to_string(),
                    indicator,
                })
            });
        }
        if event.get_str("event.dataset") == Some("raw") {
            for ip in addresses_in(event.get_str(TEXT_FIELD).unwrap_or_default()) {
                self.each_ip(ip, |indicator| {
                    hits.push(Hit {
                        field: TEXT_FIELD,
                        atomic: ip.to_string(),
                        indicator,
                    })
                });
            }
        }
        if !self.has_names() {
            return hits;
        }
        for &field in DOMAIN_FIELDS.iter().chain(URL_FIELDS).chain(HASH_FIELDS) {
            let Some(value) = event.get_str(field) else {
                continue;
            };
            let mut push = |indicator| {
                hits.push(Hit {
                    field,
                    atomic: value.to_owned(),
                    indicator,
                })
            };
            if DOMAIN_FIELDS.contains(&field) {
                self.each_domain(value, &mut push);
            } else if URL_FIELDS.contains(&field) {
                if let Ok((Kind::Url, url)) = crate::indicator::normalise(Kind::Url, value) {
                    self.each_url(&url, &mut push);
                }
            } else {
                self.each_hash(value, &mut push);
            }
        }
        hits
    }
}

/// The IP addresses written in `text` (`203.0.113.5`, `203.0.113.5:443`,
/// `2001:db8::1`), each once, at most [`MAX_TEXT_ADDRESSES`].
fn addresses_in(text: &str) -> Vec<std::net::IpAddr> {
    let mut found: Vec<std::net::IpAddr> = Vec::new();
    let tokens = text.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'));
    for token in tokens {
        if found.len() == MAX_TEXT_ADDRESSES {
            break;
        }
        let token = token.trim_matches(['.', ':']);
        // An IPv4 address with its port: `203.0.113.5:443`.
        let host = match token.split_once(':') {
            Some((host, port)) if host.contains('.') && !port.contains(':') => host,
            _ => token,
        };
        if host.len() < 7 || !host.bytes().any(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(ip) = host.parse::<std::net::IpAddr>() {
            let ip = ip.to_canonical();
            if !found.contains(&ip) {
                found.push(ip);
            }
        }
    }
    found
}

/// `threat.enrichments` entries: for each match, the indicator, its feed
/// and confidence, and the event field and value it matched.
pub fn enrichments(hits: &[Hit<'_>]) -> Vec<Json> {
    hits.iter()
        .map(|h| {
            let mut indicator = json!({
                "type": h.indicator.kind.as_str(),
                "value": h.indicator.value,
                "provider": h.indicator.source,
            });
            if let Some(c) = h.indicator.confidence {
                indicator["confidence"] = json!(c);
            }
            if !h.indicator.tags.is_empty() {
                indicator["tags"] = json!(h.indicator.tags);
            }
            json!({
                "indicator": indicator,
                "feed": {"name": h.indicator.source},
                "matched": {"atomic": h.atomic, "field": h.field, "type": "indicator_match"},
            })
        })
        .collect()
}

/// Adds `threat.enrichments` to the event.
pub fn enrich(event: &mut Event, hits: &[Hit<'_>]) {
    if !hits.is_empty() {
        event.insert(
            "threat.enrichments",
            Value::Json(Box::new(Json::Array(enrichments(hits)))),
        );
    }
}

/// The `ioc-match` rule: native (Sigma cannot look up a database), with
/// the built-in pack's metadata.
pub fn ioc_rule() -> Rule {
    Rule {
        id: "ioc-match".into(),
        name: None,
        title: "Indicator of compromise matched".into(),
        description: Some(
            "An address, domain, URL or file hash of the event is on a loaded feed or in the IOC database"
                .into(),
        ),
        status: Some("stable".into()),
        level: Level::Critical,
        author: Some("rampart".into()),
        references: Vec::new(),
        tags: Vec::new(),
        falsepositives: vec!["Stale feed entries; shared hosting addresses".into()],
        logsource: LogSource::default(),
        searches: Vec::new(),
        conditions: Vec::new(),
        group: vec!["indicator".into()],
        dedup: Some(IOC_DEDUP),
        passthrough: None,
        source: RuleSource {
            path: Arc::from("builtin:ioc-match"),
            document: 0,
        },
    }
}

/// The `ioc-match` alerts of one event (already given its enrichments by
/// [`enrich`]): one per indicator value matched. Repeats of an indicator
/// fold into one alert per burst through the rule's dedup window.
pub fn alerts(rule: &Rule, event: &Event, hits: &[Hit<'_>]) -> Vec<Alert> {
    let mut out: Vec<Alert> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for hit in hits {
        if seen.contains(&hit.indicator.value.as_str()) {
            continue;
        }
        seen.push(&hit.indicator.value);
        let matched = hits
            .iter()
            .filter(|h| h.indicator.value == hit.indicator.value)
            .map(|h| Matched {
                search: match h.indicator.confidence {
                    Some(c) => format!("{} (confidence {c})", h.indicator.source),
                    None => h.indicator.source.clone(),
                },
                field: Some(h.field.to_owned()),
                value: Some(h.atomic.clone()),
            })
            .collect();
        out.push(Alert::single(
            rule,
            vec![("indicator".into(), hit.indicator.value.clone())],
            matched,
            event,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    use crate::indicator::classify;
    use rampart_event::{Origin, ValueRef};

    fn table(values: &[&str], subdomains: bool) -> IntelTable {
        let mut t = IntelTable::new(subdomains);
        for v in values {
            let (kind, value) = classify(v).unwrap();
            let mut i = Indicator::new(kind, value, "feed");
            i.confidence = Some(7);
            t.add(i).unwrap();
        }
        t
    }

    #[test]
    fn addresses_in_the_text_of_raw_lines_are_looked_up() {
        let t = table(&["203.0.113.7", "2001:db8::/32"], false);
        let mut e = Event::new(Origin::new("app.log", 1), "raw");
        e.set("event.dataset", "raw");
        e.set(
            "message",
            "INFO conn from 203.0.113.7:51514 to 10.0.0.5, then 2001:db8::1 and 203.0.113.7 again; v1.2.3",
        );
        let hits: Vec<(&str, String)> = t
            .matches(&e)
            .into_iter()
            .map(|h| (h.field, h.atomic))
            .collect();
        assert_eq!(
            hits,
            [
                ("message", "203.0.113.7".to_owned()),
                ("message", "2001:db8::1".to_owned())
            ]
        );
        // The same text in an event of a known format is not searched.
        e.insert("event.dataset", "app.log");
        assert!(t.matches(&e).is_empty());
    }

    #[test]
    fn domains_urls_and_hashes_are_found_in_their_fields() {
        let sha = "ab".repeat(32);
        let t = table(
            &[
                "evil.example.com",
                "http://bad.example.net/x.exe",
                &sha.to_uppercase(),
                "203.0.113.7",
            ],
            true,
        );
        let mut e = Event::new(Origin::new("a.log", 1), "raw");
        e.set("destination.ip", "203.0.113.7".parse::<IpAddr>().unwrap());
        e.set("dns.question.name", "cdn.Evil.example.com");
        e.set("url.full", "HTTP://Bad.Example.net/x.exe");
        e.set("process.hash.sha256", sha.clone());
        e.set("url.original", "/x.exe");
        let hits = t.matches(&e);
        let fields: Vec<&str> = hits.iter().map(|h| h.field).collect();
        assert_eq!(
            fields,
            [
                "destination.ip",
                "dns.question.name",
                "url.full",
                "process.hash.sha256"
            ]
        );
        enrich(&mut e, &hits);
        let Some(ValueRef::Json(list)) = e.get("threat.enrichments") else {
            panic!("no enrichments");
        };
        assert_eq!(list[0]["indicator"]["confidence"], 7);
        assert_eq!(list[1]["matched"]["atomic"], "cdn.Evil.example.com");
        // One alert per indicator, each naming the field it matched.
        let out = alerts(&ioc_rule(), &e, &hits);
        assert_eq!(out.len(), 4);
        assert_eq!(out[2].group[0].1, "http://bad.example.net/x.exe");
        let strict = table(&["evil.example.com"], false);
        assert!(strict.matches(&e).is_empty(), "subdomains only when asked");
    }

    #[test]
    fn mapped_addresses_tls_names_and_source_hosts_are_looked_up() {
        let t = table(
            &["203.0.113.45", "c2.example.org", "scan.example.net"],
            false,
        );
        let mut e = Event::new(Origin::new("a.log", 1), "raw");
        e.set(
            "source.ip",
            "::ffff:203.0.113.45".parse::<IpAddr>().unwrap(),
        );
        e.set("tls.client.server_name", "c2.example.org");
        e.set("source.domain", "scan.example.net");
        let fields: Vec<&str> = t.matches(&e).iter().map(|h| h.field).collect();
        assert_eq!(
            fields,
            ["source.ip", "tls.client.server_name", "source.domain"]
        );
    }
}

/// One true- or false-positive example of `ioc-match`, run by `rampart
/// rules test` beside the Sigma pack's own.
#[derive(Debug, Clone, Copy)]
pub struct NativeTest {
    /// What the example shows.
    pub name: &'static str,
    /// The feed loaded (a plain list).
    pub feed: &'static str,
    /// The logs read.
    pub logs: &'static str,
    /// The alerts expected.
    pub alerts: u64,
}

/// `ioc-match`'s examples.
pub const IOC_TESTS: &[NativeTest] = &[
    NativeTest {
        name: "a listed source address",
        feed: "203.0.113.7\n",
        logs: "2026-02-06 12:00:00,000 - ids_logger_1 - high_severity - TCP - 203.0.113.7:4444 --> 10.0.0.10:80 - SYN - x\n",
        alerts: 1,
    },
    NativeTest {
        name: "a listed destination address",
        feed: "203.0.113.7\n",
        logs: "2026-02-06 12:00:00,000 - ids_logger_1 - low_severity - TCP - 10.0.0.10:50000 --> 203.0.113.7:443 - ACK - x\n",
        alerts: 1,
    },
    NativeTest {
        name: "a range covers its addresses",
        feed: "198.51.100.0/24\n",
        logs: "2026-02-06 12:00:00,000 - ids_logger_1 - high_severity - UDP - 198.51.100.200:53 --> 10.0.0.10:53 - SYN - x\n",
        alerts: 1,
    },
    NativeTest {
        name: "repeats of one indicator within ten minutes are one alert",
        feed: "203.0.113.7\n",
        logs: "2026-02-06 12:00:00,000 - ids_logger_1 - high_severity - TCP - 203.0.113.7:4444 --> 10.0.0.10:80 - SYN - x\n\
               2026-02-06 12:03:00,000 - ids_logger_1 - high_severity - TCP - 203.0.113.7:4445 --> 10.0.0.10:80 - SYN - x\n\
               2026-02-06 12:30:00,000 - ids_logger_1 - high_severity - TCP - 203.0.113.7:4446 --> 10.0.0.10:80 - SYN - x\n",
        alerts: 2,
    },
    NativeTest {
        name: "an address on no list",
        feed: "203.0.113.7\n",
        logs: "2026-02-06 12:00:00,000 - ids_logger_1 - high_severity - TCP - 203.0.113.8:4444 --> 10.0.0.10:80 - SYN - x\n",
        alerts: 0,
    },
];
