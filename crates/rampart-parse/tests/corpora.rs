//! Real public logs (../shared/corpora): every line yields an event, and the
//! fields analysts rely on are there.

mod common;

use std::net::Ipv4Addr;

fn mentions_ipv4(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .any(|t| t.parse::<Ipv4Addr>().is_ok())
}

fn every_line_is_an_event(sub: &str) -> Option<rampart_parse::Output> {
    let path = common::shared(sub)?;
    let out = common::parse_file(&path, sub);
    let lines = common::non_blank_lines(&path);
    assert_eq!(out.stats.unparsed, 0, "{sub}: {:?}", out.stats.examples);
    assert_eq!(out.events.len(), lines, "{sub}");
    Some(out)
}

#[test]
fn loghub_openssh() {
    let Some(out) = every_line_is_an_event("corpora/loghub/OpenSSH/OpenSSH_2k.log") else {
        return;
    };
    for e in &out.events {
        assert_eq!(e.get_str("process.name"), Some("sshd"));
        let message = e.get_str("message").unwrap_or("");
        if mentions_ipv4(message) {
            assert!(e.get("source.ip").is_some(), "no source.ip: {message}");
        }
    }
    let failed = out
        .events
        .iter()
        .filter(|e| e.get_str("system.auth.ssh.event") == Some("Failed"))
        .count();
    assert!(failed > 100, "failed logins: {failed}");
}

#[test]
fn loghub_linux() {
    let Some(out) = every_line_is_an_event("corpora/loghub/Linux/Linux_2k.log") else {
        return;
    };
    for e in out
        .events
        .iter()
        .filter(|e| e.get_str("process.name") == Some("sshd"))
    {
        let message = e.get_str("message").unwrap_or("");
        if message.contains("rhost=") && mentions_ipv4(message) {
            assert!(e.get("source.ip").is_some(), "no source.ip: {message}");
        }
    }
}

#[test]
fn loghub_apache_error() {
    let Some(out) = every_line_is_an_event("corpora/loghub/Apache/Apache_2k.log") else {
        return;
    };
    assert!(out
        .events
        .iter()
        .all(|e| e.get_str("event.dataset") == Some("apache.error")));
    assert!(out.events.iter().all(|e| e.get_str("log.level").is_some()));
}

#[test]
fn real_access_log_with_raw_bytes() {
    let sub = "corpora/evtx-attack-samples/Command and Control/web_attack_and_isp_webshell_localhost_access_log.txt";
    let Some(out) = every_line_is_an_event(sub) else {
        return;
    };
    assert!(out
        .events
        .iter()
        .all(|e| e.get("http.response.status_code").is_some() && e.get("source.ip").is_some()));
    assert!(out
        .events
        .iter()
        .any(|e| e.get_str("url.original").is_some_and(|u| u.contains("../"))));
}

#[test]
fn suricata_alerts() {
    for set in ["first-org-conf-2015", "wrccdc-2017"] {
        let Some(out) =
            every_line_is_an_event(&format!("corpora/suricata/{set}/alerts-only.eve.ndjson"))
        else {
            return;
        };
        assert!(out
            .events
            .iter()
            .all(|e| e.get_str("rule.name").is_some() && e.get("source.ip").is_some()));
    }
}

#[test]
fn zeek_tsv_and_json_twins_agree() {
    let Some(dir) = common::shared("corpora/zeek/wrccdc-2018-zed-sample-data") else {
        return;
    };
    for log in ["dns", "ssl", "ssh", "notice", "weird"] {
        let tsv = common::parse_file(
            &dir.join(format!("zeek-default/{log}.log.gz")),
            &format!("{log}.log"),
        );
        let json = common::parse_file(
            &dir.join(format!("zeek-json/{log}.json.gz")),
            &format!("{log}.json"),
        );
        assert_eq!(tsv.stats.unparsed, 0, "{log}: {:?}", tsv.stats.examples);
        assert_eq!(json.stats.unparsed, 0, "{log}: {:?}", json.stats.examples);
        assert_eq!(tsv.events.len(), json.events.len(), "{log}");
        for (a, b) in tsv.events.iter().zip(&json.events).take(200) {
            for field in [
                "source.ip",
                "destination.port",
                "event.dataset",
                "@timestamp",
            ] {
                assert_eq!(
                    a.get(field).map(|v| v.to_string()),
                    b.get(field).map(|v| v.to_string()),
                    "{log} {field}"
                );
            }
        }
    }
}
