//! The seed systems' real inputs (../shared/seed-data): every event line
//! yields an event with the fields the seeds relied on.

mod common;

use rampart_parse::Output;

fn seed(file: &str) -> Option<(Output, usize)> {
    let path = common::shared(&format!("seed-data/{file}"))?;
    Some((
        common::parse_file(&path, file),
        common::non_blank_lines(&path),
    ))
}

fn all_have(out: &Output, fields: &[&str]) {
    for e in &out.events {
        for f in fields {
            assert!(
                e.contains(f),
                "line {} lacks {f}: {}",
                e.origin.line,
                e.original()
            );
        }
    }
}

#[test]
fn seed1_ids_lines() {
    let Some((out, lines)) = seed("seed1/ids.log") else {
        return;
    };
    assert_eq!(out.events.len(), lines);
    assert_eq!(out.stats.unparsed, 0);
    all_have(
        &out,
        &[
            "@timestamp",
            "source.ip",
            "source.port",
            "destination.ip",
            "destination.port",
            "tcp.flags",
            "log.level",
            "log.logger",
            "rule.name",
            "event.severity",
        ],
    );
    assert!(out
        .events
        .iter()
        .all(|e| e.get_str("event.dataset") == Some("ids.alert")));
}

#[test]
fn seed1_access_lines() {
    let Some((out, lines)) = seed("seed1/access.log") else {
        return;
    };
    assert_eq!(out.events.len(), lines);
    all_have(
        &out,
        &[
            "@timestamp",
            "source.ip",
            "http.request.method",
            "url.original",
            "http.response.status_code",
            "user_agent.original",
        ],
    );
}

#[test]
fn seed1_endpoint_records() {
    let Some((out, _)) = seed("seed1/endpoint.log") else {
        return;
    };
    let path = common::shared("seed-data/seed1/endpoint.log").expect("present");
    let records = std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .filter(|l| l.starts_with("Date:"))
        .count();
    assert_eq!(out.events.len(), records);
    assert_eq!(out.stats.unparsed, 0);
    all_have(
        &out,
        &["@timestamp", "event.action", "user.name", "host.name"],
    );
}

#[test]
fn seed3_telemetry_tables() {
    for (table, fields) in [
        ("process_events.csv", &["process.pid"][..]),
        ("network_events.csv", &["process.pid"][..]),
        ("file_events.csv", &["process.pid", "event.category"][..]),
        (
            "registry_events.csv",
            &["process.pid", "event.category"][..],
        ),
    ] {
        let Some((out, lines)) = seed(&format!("seed3/{table}")) else {
            return;
        };
        assert_eq!(out.events.len(), lines - 1, "{table}: one event per row");
        assert_eq!(out.stats.unparsed, 0, "{table}");
        all_have(&out, fields);
        let corrupt = out
            .events
            .iter()
            .filter(|e| e.original().contains("###CORRUPT###"))
            .count();
        assert_eq!(
            out.stats.quality.get("corrupt-value").copied().unwrap_or(0) as usize,
            corrupt,
            "{table}"
        );
        for e in &out.events {
            for (_, v) in e.fields() {
                assert!(
                    !v.to_string().contains("###CORRUPT###"),
                    "{table}: corrupt value passed on"
                );
            }
        }
    }
}

#[test]
fn seed4_sysmon_csv() {
    let Some((out, lines)) = seed("seed4/sample_data.csv") else {
        return;
    };
    assert_eq!(out.events.len(), lines - 1);
    all_have(
        &out,
        &[
            "@timestamp",
            "event.code",
            "winlog.channel",
            "process.executable",
            "process.name",
        ],
    );
    assert!(out.events.iter().any(|e| e
        .get_str("process.command_line")
        .is_some_and(|c| c.to_ascii_lowercase().contains("-enc"))));
}

#[test]
fn seed2_inferred_logs() {
    let Some((auth, lines)) = seed("seed2/inferred_auth.log") else {
        return;
    };
    assert_eq!(auth.events.len(), lines);
    let failed: Vec<_> = auth
        .events
        .iter()
        .filter(|e| e.get_str("system.auth.ssh.event") == Some("Failed"))
        .collect();
    assert!(failed.len() >= 5);
    assert!(failed
        .iter()
        .all(|e| e.get("source.ip").is_some() && e.get_str("user.name").is_some()));

    let Some((ufw, lines)) = seed("seed2/inferred_ufw_firewall.log") else {
        return;
    };
    assert_eq!(ufw.events.len(), lines);
    all_have(
        &ufw,
        &[
            "source.ip",
            "destination.ip",
            "destination.port",
            "network.transport",
            "event.action",
        ],
    );

    let Some((web, lines)) = seed("seed2/inferred_apache_access.log") else {
        return;
    };
    assert_eq!(web.events.len(), lines);
    all_have(
        &web,
        &[
            "source.ip",
            "http.response.status_code",
            "url.original",
            "user_agent.original",
        ],
    );

    let Some((win, lines)) = seed("seed2/inferred_windows_security.csv") else {
        return;
    };
    assert_eq!(win.events.len(), lines - 1);
    let by_code = |code: &str| {
        win.events
            .iter()
            .find(|e| e.get_str("event.code") == Some(code))
            .expect(code)
    };
    assert_eq!(
        by_code("4720").get_str("user.target.name"),
        Some("backdoor_user")
    );
    assert_eq!(by_code("7045").get_str("service.name"), Some("updsvc"));
    assert_eq!(by_code("7045").get_str("winlog.channel"), Some("System"));
}
