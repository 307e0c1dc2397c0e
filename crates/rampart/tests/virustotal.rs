//! `rampart intel vt` against a local server that answers as VirusTotal's
//! v3 API does (objects, 404, 429 with Retry-After, 401), counting the
//! requests it gets: verdicts, the cache (a repeated run sends nothing),
//! the daily quota across runs, private values never sent, and a refused
//! key stopping the run without being printed.

mod vt_server;

use std::path::Path;
use std::process::{Command, Output};

use vt_server::serve;

fn vt(dir: &Path, url: &str, key: Option<&str>, extra: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rampart"));
    cmd.args([
        "intel",
        "vt",
        "--type",
        "ip",
        "--input",
        "iocs.txt",
        "--vt-url",
        url,
        "--vt-per-minute",
        "1000",
    ])
    .args(extra)
    .current_dir(dir)
    .env("XDG_DATA_HOME", dir)
    .env_remove("VT_API_KEY")
    .env_remove("RAMPART_DB");
    if let Some(k) = key {
        cmd.env("VT_API_KEY", k);
    }
    cmd.output().unwrap()
}

fn rows(csv: &str) -> Vec<Vec<String>> {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

const IOCS: &str = "# suspicious IPs from firewall logs\n185.220.101.45\n\n45.33.32.156\n8.8.8.8\n192.168.1.1\n1.2.3.4\n8.8.8.8\n999.1.1.1\n";

#[test]
fn lookups_give_verdicts_and_a_repeated_run_sends_nothing() {
    let (url, asked) = serve();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("iocs.txt"), IOCS).unwrap();

    let dry = vt(d, &url, None, &["--vt-dry-run"]);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&dry.stdout)
            .lines()
            .collect::<Vec<_>>(),
        ["185.220.101.45", "45.33.32.156", "8.8.8.8", "1.2.3.4"],
        "the private address is never listed"
    );
    assert!(asked.lock().unwrap().is_empty(), "a dry run sends nothing");

    let first = vt(d, &url, Some("testkey"), &["-o", "report.csv"]);
    let said = String::from_utf8_lossy(&first.stderr);
    assert_eq!(
        first.status.code(),
        Some(1),
        "the bad line is reported: {said}"
    );
    assert!(said.contains("iocs.txt:9"), "{said}");
    assert!(!said.contains("testkey"), "the key is never printed");
    let report = std::fs::read_to_string(d.join("report.csv")).unwrap();
    assert!(report.starts_with(
        "ioc,type,verdict,detections,total_engines,malware_family,first_seen,last_seen,tags\n"
    ));
    let got: Vec<(String, String)> = rows(&report)
        .into_iter()
        .map(|r| (r[0].clone(), r[2].clone()))
        .collect();
    let want = [
        ("185.220.101.45", "MALICIOUS"),
        ("45.33.32.156", "SUSPICIOUS"),
        ("8.8.8.8", "CLEAN"),
        ("192.168.1.1", "not_sent"),
        ("1.2.3.4", "not_found"),
    ];
    assert_eq!(got, want.map(|(a, b)| (a.to_owned(), b.to_owned())));
    assert_eq!(rows(&report)[0][3..5], ["72".to_owned(), "166".to_owned()]);
    // Four values, one of them throttled once: five requests, none for the
    // private address or the duplicate.
    assert_eq!(
        asked.lock().unwrap().len(),
        5,
        "{:?}",
        asked.lock().unwrap()
    );
    assert!(asked.lock().unwrap().iter().all(|p| !p.contains("192.168")));

    let again = vt(d, &url, Some("testkey"), &["-o", "again.csv"]);
    assert_eq!(
        asked.lock().unwrap().len(),
        5,
        "the second run is answered from the cache"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("4 from the cache, 0 requests sent"));
    assert_eq!(
        std::fs::read_to_string(d.join("again.csv")).unwrap(),
        report
    );
}

#[test]
fn the_daily_quota_holds_across_runs_and_a_refused_key_stops() {
    let (url, asked) = serve();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("iocs.txt"), "185.220.101.45\n8.8.8.8\n1.2.3.4\n").unwrap();
    let out = vt(d, &url, Some("testkey"), &["--vt-per-day", "2"]);
    assert!(out.status.success());
    let verdicts: Vec<String> = rows(&String::from_utf8_lossy(&out.stdout))
        .into_iter()
        .map(|r| r[2].clone())
        .collect();
    assert_eq!(verdicts, ["MALICIOUS", "CLEAN", "pending"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 left for the next run"));
    // The same day, the quota is already spent: nothing more is sent.
    let out = vt(d, &url, Some("testkey"), &["--vt-per-day", "2"]);
    assert!(out.status.success());
    assert_eq!(asked.lock().unwrap().len(), 2);

    let refused = vt(d, &url, Some("sekrit-key-123"), &["--vt-per-day", "100"]);
    assert_eq!(refused.status.code(), Some(1));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("refused the API key"), "{said}");
    assert!(!said.contains("sekrit-key-123"), "{said}");
    assert_eq!(
        asked.lock().unwrap().len(),
        3,
        "one refused request, then it stops"
    );

    let missing = vt(d, &url, None, &["--vt-per-day", "100"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("VT_API_KEY is not set"));
}

#[test]
fn hunt_looks_up_alert_addresses_once_and_later_runs_use_the_answers() {
    let (url, asked) = serve();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("feed.txt"), "185.220.101.45\n").unwrap();
    let line = |m: u32| {
        format!("2026-02-06 12:{m:02}:00,000 - ids_logger_1 - high_severity - TCP - 185.220.101.45:4444 --> 10.0.0.10:80 - SYN - x\n")
    };
    std::fs::write(d.join("ids.log"), format!("{}{}", line(0), line(1))).unwrap();
    let hunt = || {
        let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args([
                "hunt",
                "ids.log",
                "--intel",
                "feed.txt",
                "--vt",
                "--vt-url",
                &url,
                "--vt-per-minute",
                "1000",
                "--format",
                "jsonl",
            ])
            .current_dir(d)
            .env("XDG_DATA_HOME", d)
            .env("VT_API_KEY", "testkey")
            .env_remove("RAMPART_DB")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let alerts: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (alerts, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let dry = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args([
            "hunt",
            "ids.log",
            "--intel",
            "feed.txt",
            "--vt-dry-run",
            "--vt-url",
            &url,
            "-q",
        ])
        .current_dir(d)
        .env("XDG_DATA_HOME", d)
        .env_remove("RAMPART_DB")
        .env_remove("VT_API_KEY")
        .output()
        .unwrap();
    assert!(dry.status.success());
    let said = String::from_utf8_lossy(&dry.stderr);
    assert!(
        said.contains("would send 185.220.101.45") && !said.contains("10.0.0.10"),
        "{said}"
    );
    assert!(asked.lock().unwrap().is_empty());
    for run in 0..2 {
        let (alerts, said) = hunt();
        let ioc = alerts.iter().find(|a| a["rule_id"] == "ioc-match").unwrap();
        let vt: Vec<&serde_json::Value> = ioc["events"][0]["threat"]["enrichments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["feed"]["name"] == "virustotal")
            .collect();
        assert_eq!(
            vt.len(),
            1,
            "run {run}: one answer, for the public source only: {vt:?}"
        );
        assert_eq!(vt[0]["matched"]["field"], "source.ip");
        assert_eq!(vt[0]["virustotal"]["verdict"], "MALICIOUS");
        assert_eq!(vt[0]["virustotal"]["malicious"], 72);
        assert_eq!(vt[0]["virustotal"]["asn"], 60729);
        assert_eq!(vt[0]["virustotal"]["network"], "185.220.101.0/24");
        assert_eq!(asked.lock().unwrap().len(), 1, "run {run}: {said}");
    }
}
