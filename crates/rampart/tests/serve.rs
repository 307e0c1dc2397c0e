//! `rampart serve` over HTTP, without a browser: the token (required off
//! loopback, then carried by every request), the host and same-origin
//! checks, the form token of triage, the policy on every response, bad
//! filters refused by name, and filter values that are SQL kept as values.

mod browser;
mod common;

use std::path::Path;

use common::{ok, rampart};

const TOKEN: &str = "a-long-enough-token-1234";

/// An IDS line of seed 001's generator.
const LINE: &str = "2023-07-23 21:36:36,227 - ids_logger_1 - high_severity - TCP - \
     203.0.113.61:57020 --> 10.1.2.24:80 - SYN - Port scanning\n";

/// A store with one IDS line (and so one alert).
fn stored(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("r.db");
    let log = dir.join("ids.log");
    std::fs::write(&log, LINE).unwrap();
    ok(rampart(&db, &["ingest", "-q", log.to_str().unwrap()]));
    db
}

/// An agent that follows no redirects.
fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().redirects(0).build()
}

/// The status and body of a response, errors included.
fn answer(result: Result<ureq::Response, ureq::Error>) -> (u16, String, Option<String>) {
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let status = response.status();
    let policy = response
        .header("content-security-policy")
        .map(str::to_owned);
    (status, response.into_string().unwrap_or_default(), policy)
}

#[test]
fn another_address_than_loopback_needs_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = stored(dir.path());
    let out = rampart(&db, &["serve", "--listen", "0.0.0.0:0"]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("needs a token"), "{said}");
    let short = std::process::Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args([
            "--db",
            db.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .env("RAMPART_TOKEN", "short")
        .output()
        .unwrap();
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 16"));
}

#[test]
fn with_a_token_every_request_carries_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = stored(dir.path());
    let (_server, url) = browser::serve(&db, &[], &[("RAMPART_TOKEN", TOKEN)]);
    let agent = agent();
    let (status, _, policy) = answer(agent.get(&format!("{url}/")).call());
    assert_eq!(status, 401);
    assert!(policy.is_some(), "refusals carry the policy too");
    let (status, _, _) = answer(
        agent
            .get(&format!("{url}/api/overview"))
            .set("Authorization", "Bearer not-the-token-at-all")
            .call(),
    );
    assert_eq!(status, 401);
    let (status, body, _) = answer(
        agent
            .get(&format!("{url}/api/overview"))
            .set("Authorization", &format!("Bearer {TOKEN}"))
            .call(),
    );
    assert_eq!(status, 200);
    let overview: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(overview["events"], 1);
    // Once in the URL, then a cookie.
    let first = agent.get(&format!("{url}/alerts?token={TOKEN}")).call();
    let response = match first {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(response.status(), 303);
    assert_eq!(response.header("location"), Some("/alerts"));
    let cookie = response.header("set-cookie").unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let pair = cookie.split(';').next().unwrap();
    let (status, _, _) = answer(
        agent
            .get(&format!("{url}/alerts"))
            .set("Cookie", pair)
            .call(),
    );
    assert_eq!(status, 200);
}

#[test]
fn changes_need_the_same_origin_and_the_form_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = stored(dir.path());
    let (_server, url) = browser::serve(&db, &[], &[]);
    let agent = agent();
    // Another name for the server (DNS rebinding) is refused.
    let (status, _, _) = answer(
        agent
            .get(&format!("{url}/"))
            .set("Host", "evil.example")
            .call(),
    );
    assert_eq!(status, 421);
    let alerts: serde_json::Value =
        serde_json::from_str(&answer(agent.get(&format!("{url}/api/alerts")).call()).1).unwrap();
    let id = alerts[0]["id"].as_str().unwrap().to_owned();
    let page = answer(agent.get(&format!("{url}/alerts/{id}")).call()).1;
    let token = browser::form_token(&page);
    let post = |origin: Option<&str>, token: &str| {
        let mut request = agent.post(&format!("{url}/alerts/{id}/triage"));
        if let Some(origin) = origin {
            request = request.set("Origin", origin);
        }
        answer(request.send_form(&[
            ("token", token),
            ("action", "close"),
            ("note", "done"),
            ("user", "web"),
        ]))
        .0
    };
    assert_eq!(post(None, &token), 403, "no origin");
    assert_eq!(
        post(Some("http://evil.example"), &token),
        403,
        "another origin"
    );
    assert_eq!(
        post(Some(&url), "0123456789abcdef0123"),
        403,
        "a wrong form token"
    );
    assert_eq!(post(Some(&url), &token), 303);
    let shown = ok(rampart(&db, &["alerts", "show", &id]));
    assert!(shown.contains("closed"), "{shown}");
    // The API takes the form token as a bearer header, not without it.
    let api = |bearer: Option<&str>, body: &str| {
        let mut request = agent.post(&format!("{url}/api/alerts/{id}/triage"));
        if let Some(b) = bearer {
            request = request.set("Authorization", &format!("Bearer {b}"));
        }
        answer(
            request
                .set("Content-Type", "application/json")
                .send_string(body),
        )
    };
    let reopen = r#"{"action": "reopen", "user": "api"}"#;
    assert_eq!(api(None, reopen).0, 403);
    assert_eq!(api(Some("guess-guess-guess-guess"), reopen).0, 403);
    let (status, body, _) = api(Some(&token), r#"{"action": "reopen", "user": "api"}"#);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"status\":\"open\""), "{body}");
    // A false positive can silence its rule for the alert's group, as the
    // CLI's `--suppress` does; beside another step it is refused.
    let close = r#"{"action": "close", "suppress": true}"#;
    assert_eq!(api(Some(&token), close).0, 400);
    let fp = r#"{"action": "false-positive", "suppress": true, "note": "our scanner"}"#;
    let (status, body, _) = api(Some(&token), fp);
    assert_eq!(status, 200, "{body}");
    let listed = ok(rampart(&db, &["suppress", "list"]));
    assert!(listed.contains("our scanner"), "{listed}");
}

#[test]
fn filters_are_checked_and_bound_as_values() {
    let dir = tempfile::tempdir().unwrap();
    let db = stored(dir.path());
    let (_server, url) = browser::serve(&db, &[], &[]);
    let agent = agent();
    let (status, body, policy) = answer(agent.get(&format!("{url}/?range=2w")).call());
    assert_eq!(status, 400);
    assert!(body.contains("range:"), "{body}");
    assert!(policy.unwrap().contains("script-src 'self'"));
    let (status, body, _) = answer(agent.get(&format!("{url}/alerts?order=random")).call());
    assert_eq!(status, 400);
    assert!(body.contains("order:"), "{body}");
    // A value that is SQL selects nothing, and breaks nothing.
    for hostile in ["' OR 1=1 --", "x') OR ('1'='1", "\"; DROP TABLE events; --"] {
        let query: String = form_urlencoded_pair("host", hostile);
        let (status, body, _) = answer(
            agent
                .get(&format!("{url}/api/overview?range=all&{query}"))
                .call(),
        );
        assert_eq!(status, 200, "{body}");
        let overview: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(overview["events"], 0, "{hostile}");
    }
    let all: serde_json::Value =
        serde_json::from_str(&answer(agent.get(&format!("{url}/api/overview?range=all")).call()).1)
            .unwrap();
    assert_eq!(all["events"], 1, "the events are still there");
    // Assets come from the binary, under the same policy.
    let (status, css, policy) = answer(agent.get(&format!("{url}/assets/app.css")).call());
    assert_eq!(status, 200);
    assert!(css.contains("--threat"));
    assert!(policy.is_some());
    assert_eq!(
        answer(agent.get(&format!("{url}/assets/../Cargo.toml")).call()).0,
        404
    );
}

/// `key=value` with the value escaped for a URL.
fn form_urlencoded_pair(key: &str, value: &str) -> String {
    let escaped: String = value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{key}={escaped}")
}

#[test]
fn seed_001s_ids_log_and_feed_give_the_figures_seed_001_computes() {
    let (Some(log), Some(feed)) = (
        common::shared("seed-data/seed1/ids.log"),
        common::shared("seed-data/seed1/ipsum_head300.txt"),
    ) else {
        return;
    };
    // Seed 001's lines, its README's planted line, and feed addresses
    // planted as destinations too, so that both sides match.
    let feed_text = std::fs::read_to_string(&feed).unwrap();
    let bad: std::collections::BTreeSet<&str> = feed_text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let planted_destinations: Vec<&str> = bad.iter().copied().take(2).collect();
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str("2026-02-06 12:00:00,000 - ids_logger_1 - high_severity - TCP - 213.209.159.158:4444 --> 10.0.0.10:80 - SYN - Malicious traffic\n");
    for ip in &planted_destinations {
        text.push_str(&format!(
            "2026-02-06 12:05:00,000 - ids_logger_1 - medium_severity - UDP - 10.0.0.7:5353 --> {ip}:53 - ACK - Command and control\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let planted = dir.path().join("ids.log");
    std::fs::write(&planted, &text).unwrap();
    let db = dir.path().join("r.db");
    ok(rampart(
        &db,
        &[
            "ingest",
            "-q",
            "--intel",
            feed.to_str().unwrap(),
            planted.to_str().unwrap(),
        ],
    ));

    // Seed 001's figures, from its lines: severity without `_severity`,
    // the line's protocol, malicious when either address is in the feed.
    let mut events = 0u64;
    let mut malicious = 0u64;
    let mut sources = std::collections::BTreeSet::new();
    let mut levels: std::collections::BTreeMap<String, u64> = Default::default();
    let mut protocols: std::collections::BTreeMap<String, u64> = Default::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let parts: Vec<&str> = line.split(" - ").collect();
        let (level, protocol, flow) = (parts[2], parts[3], parts[4]);
        let (src, dst) = flow.split_once(" --> ").unwrap();
        let ip = |end: &str| end.rsplit_once(':').unwrap().0.to_owned();
        let (src, dst) = (ip(src), ip(dst));
        events += 1;
        *levels
            .entry(level.trim_end_matches("_severity").to_owned())
            .or_default() += 1;
        *protocols.entry(protocol.to_owned()).or_default() += 1;
        if bad.contains(src.as_str()) || bad.contains(dst.as_str()) {
            malicious += 1;
            sources.insert(src);
        }
    }
    assert!(malicious >= 3, "the planted lines match the feed");

    let (_server, url) = browser::serve(&db, &[], &[]);
    let body = answer(agent().get(&format!("{url}/api/overview?range=all")).call()).1;
    let shown: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(shown["events"], events);
    assert_eq!(shown["malicious_events"], malicious);
    assert_eq!(shown["benign_events"], events - malicious);
    assert_eq!(shown["malicious_sources"], sources.len() as u64);
    let pairs = |key: &str| -> std::collections::BTreeMap<String, u64> {
        shown[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["value"].as_str().unwrap().to_owned(),
                    p["count"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(pairs("severity"), levels);
    assert_eq!(pairs("protocol"), protocols);
    let top: Vec<&str> = shown["top_malicious_sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_str().unwrap())
        .collect();
    assert!(top.contains(&"213.209.159.158"), "{top:?}");
    let heat: u64 = shown["heatmap"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(heat, malicious, "the heatmap holds every malicious event");
}
