//! The `rampart parse` command end to end: bad input never stops a run, and
//! every problem is reported with its file.

use std::io::Write;
use std::process::Command;

fn rampart() -> Command {
    // No database unless a test makes one: the user's is not read.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rampart"));
    cmd.env(
        "XDG_DATA_HOME",
        std::env::temp_dir().join("rampart-cli-tests-no-data"),
    )
    .env_remove("RAMPART_DB");
    cmd
}

const GOOD: &str =
    "Mar 14 03:22:14 web01 sshd[9841]: Failed password for root from 203.0.113.9 port 42190 ssh2\n";

#[test]
fn bad_files_are_reported_and_good_files_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a_good.log"), GOOD).unwrap();
    let garbage: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(d.join("b_garbage.bin"), &garbage).unwrap();
    let mut long = vec![b'x'; 20 * 1024 * 1024];
    long.push(b'\n');
    long.extend_from_slice(GOOD.as_bytes());
    std::fs::write(d.join("c_long_line.log"), &long).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(GOOD.repeat(50).as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    std::fs::write(d.join("d_truncated.log.gz"), &gz[..gz.len() / 2]).unwrap();
    std::fs::write(
        d.join("e_invalid_utf8.log"),
        b"Mar 14 03:22:14 web01 sshd[1]: Invalid user \xff\xfe from 203.0.113.9 port 1\n",
    )
    .unwrap();

    let dead = d.join("dead.jsonl");
    let output = rampart()
        .args(["parse", "--year", "2025", "--dead-letter"])
        .arg(&dead)
        .arg(d)
        .arg(d.join("missing.log"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "missing and truncated inputs are failures: {stderr}"
    );
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let from = |name: &str| {
        events
            .iter()
            .filter(|e| e["log"]["file"]["path"].as_str().unwrap().ends_with(name))
            .count()
    };
    assert_eq!(from("a_good.log"), 1);
    assert_eq!(
        from("c_long_line.log"),
        1,
        "the line after a 10 MB line is read"
    );
    assert_eq!(from("e_invalid_utf8.log"), 1);
    assert!(stderr.contains("missing.log: no such file"), "{stderr}");
    assert!(
        stderr.contains("d_truncated.log.gz: read failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("c_long_line.log:1: line too long (20971520 bytes)"),
        "{stderr}"
    );
    let dead = std::fs::read_to_string(dead).unwrap();
    assert!(dead
        .lines()
        .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    assert!(dead.contains("b_garbage.bin"));
    assert!(dead.contains("line too long"));
    // A cut text says so, and how long it was.
    let long: serde_json::Value = dead
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["reason"].as_str().unwrap().contains("line too long"))
        .unwrap();
    assert_eq!(long["cut"], true, "{long}");
    assert!(long["bytes"].as_u64().unwrap() > long["text"].as_str().unwrap().len() as u64);
}

#[test]
fn formats_are_listed_and_unknown_ones_refused() {
    let output = rampart().arg("formats").output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    for name in [
        "syslog",
        "web-access",
        "windows-xml",
        "suricata",
        "zeek",
        "csv",
    ] {
        assert!(text.lines().any(|l| l.starts_with(name)), "{name} missing");
    }
    let output = rampart()
        .args(["parse", "--input-format", "nope", "x"])
        .output()
        .unwrap();
    // Bad usage (DESIGN §2).
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown input format 'nope'"));
}

#[test]
fn forced_format_and_table_output() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.txt");
    std::fs::write(&path, GOOD).unwrap();
    let output = rampart()
        .args([
            "parse",
            "--input-format",
            "syslog",
            "--format",
            "table",
            "--year",
            "2025",
            "-q",
        ])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("TIMESTAMP"));
    assert!(text.contains("203.0.113.9:42190"));
    assert!(text.contains("ssh-login failure"));
    assert!(output.stderr.is_empty());
}

#[test]
fn utf16_windows_exports_are_read_as_text() {
    // PowerShell's Export-Csv and Windows tools often write UTF-16 LE with a
    // byte-order mark and CRLF line ends.
    let csv = "\"TimeCreated\",\"EventID\",\"Computer\",\"Account\",\"SourceIP\",\"Message\"\r\n\
               \"2025-03-14 10:00:00\",\"4625\",\"DC01\",\"José\",\"203.0.113.9\",\"An account failed to log on.\"\r\n";
    let mut bytes = vec![0xff, 0xfe];
    for unit in csv.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("security.csv");
    std::fs::write(&path, bytes).unwrap();
    let output = rampart().arg("parse").arg(&path).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let event: serde_json::Value =
        serde_json::from_str(String::from_utf8(output.stdout).unwrap().trim()).unwrap();
    assert_eq!(event["event"]["code"], "4625");
    assert_eq!(event["winlog"]["channel"], "Security");
    assert_eq!(event["user"]["name"], "José");
    assert_eq!(event["source"]["ip"], "203.0.113.9");
}

#[test]
fn builtin_rules_pass_their_own_tests() {
    let output = rampart().args(["rules", "test"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    // Every built-in rule file carries tests.
    assert!(!stdout.contains("carries no tests"), "{stdout}");
}

/// Eight failed logins from one address: one brute-force alert.
fn brute_force_log(dir: &std::path::Path) -> std::path::PathBuf {
    let log = dir.join("auth.log");
    let mut text = String::new();
    for i in 0..8 {
        text.push_str(&format!(
            "Mar 14 03:22:{:02} web01 sshd[9841]: Failed password for root from 203.0.113.9 port {} ssh2\n",
            10 + i,
            42000 + i
        ));
    }
    std::fs::write(&log, text).unwrap();
    log
}

#[test]
fn table_csv_and_timeline_say_what_each_alert_is_about() {
    let dir = tempfile::tempdir().unwrap();
    let log = brute_force_log(dir.path());
    let hunt = |format: &str, path: &std::path::Path| {
        let output = rampart()
            .args(["hunt", "-q", "--year", "2025", "--format", format])
            .arg(path)
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap()
    };
    let table = hunt("table", &log);
    assert!(table.contains("8 events: source.ip=203.0.113.9"), "{table}");
    let csv = hunt("csv", &log);
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().contains(",group,count,"), "{csv}");
    assert!(
        lines.next().unwrap().contains(",source.ip=203.0.113.9,8,"),
        "{csv}"
    );
    let timeline = hunt("timeline", &log);
    let mut lines = timeline.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("datetime,timestamp_desc,message,"));
    let row = lines.next().unwrap();
    assert!(row.contains(",Alert time,SSH brute force"), "{row}");
    assert!(row.contains("(source.ip=203.0.113.9)"), "{row}");
    // No alerts: still a header, so a spreadsheet or import sees the columns.
    let quiet = dir.path().join("quiet.log");
    std::fs::write(
        &quiet,
        "Mar 14 10:22:10 web01 sshd[1]: Accepted publickey for ops from 10.0.0.5 port 5000 ssh2\n",
    )
    .unwrap();
    let empty = hunt("csv", &quiet);
    assert_eq!(empty.lines().count(), 1, "{empty}");
    assert!(empty.starts_with("timestamp,severity,"));
}

#[test]
fn hunt_finds_the_seed_attacks_and_fail_on_sets_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let log = brute_force_log(dir.path());
    let output = rampart()
        .args([
            "hunt",
            "--year",
            "2025",
            "--format",
            "jsonl",
            "--fail-on",
            "high",
        ])
        .arg(&log)
        .output()
        .unwrap();
    // 3, not 2: 2 is bad usage.
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let alerts: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["rule_id"], "ssh-brute-force");
    assert_eq!(alerts[0]["count"], 8);
    assert_eq!(alerts[0]["group"]["source.ip"], "203.0.113.9");
    assert_eq!(alerts[0]["origin"]["line"], 1);
}

#[test]
fn damaged_evtx_yields_what_can_be_read_and_says_what_was_lost() {
    let sample = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
        "../../../shared/corpora/evtx-attack-samples/Command and Control/DE_RDP_Tunneling_TerminalServices-RemoteConnectionManagerOperational_1149.evtx",
    );
    let Ok(bytes) = std::fs::read(&sample) else {
        println!("skipped: ../shared/corpora absent");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Overwrite part of the second chunk (chunks are 64 KiB after a 4 KiB header).
    let mut damaged = bytes.clone();
    for b in &mut damaged[70_000..73_000] {
        *b = b'A';
    }
    let path = dir.path().join("damaged.evtx");
    std::fs::write(&path, &damaged).unwrap();
    let truncated = dir.path().join("truncated.evtx");
    std::fs::write(&truncated, &bytes[..20_000]).unwrap();
    let output = rampart().arg("parse").arg(&truncated).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("truncated EVTX"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let output = rampart().arg("parse").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("damaged EVTX record"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&output.stdout).lines().count() < 228,
        "the damaged chunk's records are lost"
    );
}

#[test]
fn config_raises_thresholds_and_suppresses_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    let mut text = String::new();
    for (i, ip) in ["203.0.113.9", "198.51.100.4"].iter().enumerate() {
        for n in 0..8 {
            text.push_str(&format!(
                "Mar 14 0{}:22:{:02} web01 sshd[9841]: Failed password for root from {ip} port {} ssh2\n",
                i + 3,
                10 + n,
                42000 + n
            ));
        }
    }
    std::fs::write(&log, text).unwrap();
    let run = |config: &str| -> Vec<serde_json::Value> {
        let path = dir.path().join("rampart.yml");
        std::fs::write(&path, config).unwrap();
        let output = rampart()
            .args(["hunt", "--year", "2025", "--format", "jsonl", "--config"])
            .arg(&path)
            .arg(&log)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    assert_eq!(run("rules: {}\n").len(), 2);
    let allowed = run("suppress:\n  - rule: ssh-brute-force\n    field: source.ip\n    values: [198.51.100.0/24]\n");
    assert_eq!(allowed.len(), 1);
    assert_eq!(allowed[0]["group"]["source.ip"], "203.0.113.9");
    assert!(run("rules:\n  ssh-brute-force: {threshold: 10}\n").is_empty());
    let typo = dir.path().join("typo.yml");
    std::fs::write(&typo, "rules:\n  ssh-brute-forse: {threshold: 10}\n").unwrap();
    let output = rampart()
        .args(["hunt", "--config"])
        .arg(&typo)
        .arg(&log)
        .output()
        .unwrap();
    // A typo in the config is bad usage.
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("ssh-brute-forse"));
}

#[test]
fn business_hours_follow_the_configured_zone() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    // 05:30 UTC is off hours in UTC and 07:30, within hours, at +02:00.
    std::fs::write(
        &log,
        "Mar 14 05:30:00 web01 sshd[1]: Accepted password for alice from 192.0.2.10 port 50000 ssh2\n",
    )
    .unwrap();
    let hunt = |config: &str| {
        let path = dir.path().join("c.yml");
        std::fs::write(&path, config).unwrap();
        let output = rampart()
            .args(["hunt", "--year", "2025", "--format", "jsonl", "--config"])
            .arg(&path)
            .arg(&log)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .unwrap()
            .matches("ssh-login-off-hours")
            .count()
    };
    assert_eq!(hunt("rules: {}\n"), 1);
    assert_eq!(hunt("business_hours:\n  timezone: \"+02:00\"\n"), 0);
}

#[test]
fn rules_list_and_validate_write_machine_formats() {
    let output = rampart()
        .args(["rules", "list", "--format", "jsonl"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let rows: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kind_of = |id: &str| {
        rows.iter()
            .find(|r| r["id"] == id)
            .map(|r| r["kind"].as_str().unwrap().to_owned())
    };
    assert_eq!(kind_of("ssh-brute-force").as_deref(), Some("correlation"));
    assert_eq!(kind_of("ioc-match").as_deref(), Some("native"));
    assert_eq!(kind_of("win-new-user").as_deref(), Some("detection"));

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yml");
    std::fs::write(
        &broken,
        "title: Broken\nid: broken-1\nlogsource: {product: linux}\ndetection:\n  s: {a|re: '(?<=x)y'}\n  condition: s\n",
    )
    .unwrap();
    let report = dir.path().join("report.csv");
    let output = rampart()
        .args(["rules", "validate", "--format", "csv", "--output"])
        .arg(&report)
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = std::fs::read_to_string(&report).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("path,rule,reason"));
    assert!(lines.next().unwrap().contains(",broken-1,"), "{text}");
}

#[test]
fn bad_usage_exits_2_and_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    std::fs::write(&log, "x\n").unwrap();
    let log = log.to_str().unwrap();
    for (args, said) in [
        (
            vec!["parse", "--input-format", "nope", log],
            "unknown input format",
        ),
        (
            vec!["hunt", "--timezone", "Mars/Base", log],
            "unknown time zone",
        ),
        (
            vec!["parse", "--timezone", "+25:00", log],
            "unknown time zone",
        ),
        (
            vec!["ioc", "list", "--type", "bogus"],
            "unknown indicator type",
        ),
    ] {
        let output = rampart().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(said), "{args:?}: {stderr}");
    }
    // A config that does not apply is bad usage too.
    let config = dir.path().join("tuning.yml");
    std::fs::write(&config, "rules:\n  win-new-user: {threshold: 3}\n").unwrap();
    let output = rampart()
        .args(["hunt", "-q", "--config", config.to_str().unwrap(), log])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot be applied"), "{stderr}");
    // A negative offset is a value, not a flag.
    let output = rampart()
        .args(["parse", "-q", "--timezone", "-05:00", log])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_reader_that_stops_early_ends_the_hunt_quietly() {
    // `rampart hunt ... | head -1`: the pipe closes after the first alert.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ids.log");
    let mut text = String::new();
    for i in 0..20_000u32 {
        text.push_str(&format!(
            "2023-07-23 21:{:02}:{:02},227 - ids_logger_1 - high_severity - TCP - 203.0.{}.{}:57020 --> 10.1.2.24:443 - SYN - Port scanning\n",
            i / 60 % 60, i % 60, i / 256 % 256, i % 256
        ));
    }
    std::fs::write(&log, text).unwrap();
    let mut child = rampart()
        .args(["hunt", "-q", "--format", "jsonl"])
        .arg(&log)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert!(
        first.starts_with(b"{\"id\":"),
        "{}",
        String::from_utf8_lossy(&first)
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_pipe_is_read_from_its_first_byte() {
    // `rampart parse <(zcat auth.log.gz)`: a FIFO, read once.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        println!("skipped: mkfifo is not available");
        return;
    }
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, GOOD).unwrap())
    };
    let output = rampart()
        .args(["parse", "--year", "2025", "-q"])
        .arg(&fifo)
        .output()
        .unwrap();
    writer.join().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let event: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(event["event"]["original"], GOOD.trim_end());
    assert_eq!(event["event"]["dataset"], "linux.auth");
}

#[test]
fn a_database_left_in_the_current_folder_by_an_earlier_release_is_pointed_out() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rampart.db"), "").unwrap();
    let output = rampart()
        .args(["ioc", "list"])
        .current_dir(dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("./rampart.db is no longer read by default"),
        "{said}"
    );
    assert!(said.contains("data/rampart/rampart.db"), "{said}");
}
