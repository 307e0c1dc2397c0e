//! `rampart run` as a user runs it: a pipeline file, the real binary, real
//! sockets on 127.0.0.1. Syslog arrives over TCP (both framings) and UDP,
//! alerts and events land in the sinks while it runs, a stop drains and
//! flushes, stdin pipelines end with their input, a receiving SIEM gets
//! seed 000's `<14>{json}` records, and misbehaving senders (silent,
//! oversized) neither stall it nor grow it.

mod seed0;

mod fed;

use std::io::{BufRead, BufReader, Read, Write};

use fed::run_fed;
use std::net::{TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

fn rampart() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rampart"));
    c.env_remove("RAMPART_DB")
        .env_remove("RAMPART_CONFIG")
        .arg("--db")
        .arg("unused.db");
    c
}

/// `rampart run --no-db FLAG --config CONFIG`, waited for.
fn run_once(flag: &str, config: &Path) -> std::process::Output {
    rampart()
        .args(["run", "--no-db", flag, "--config"])
        .arg(config)
        .output()
        .unwrap()
}

/// A running pipeline and the addresses its sources listen on.
struct Running {
    child: Child,
    stderr: BufReader<ChildStderr>,
    listening: Vec<(String, String)>,
    /// Where its counts are served, when the pipeline says.
    metrics: Option<String>,
}

impl Running {
    fn start(folder: &Path, pipeline: &str, listeners: usize) -> Running {
        let config = folder.join("pipeline.yml");
        std::fs::write(&config, pipeline).unwrap();
        let mut child = rampart()
            .current_dir(folder)
            .args(["run", "--no-db", "--threads", "2", "--config"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut listening = Vec::new();
        let mut metrics = None;
        let mut line = String::new();
        let wants_metrics = pipeline.contains("\nmetrics:");
        while listening.len() < listeners || (wants_metrics && metrics.is_none()) {
            line.clear();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "rampart run ended before listening"
            );
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                if let (Some(s), Some(a)) = (v["source"].as_str(), v["listening"].as_str()) {
                    listening.push((s.to_string(), a.to_string()));
                }
                if let Some(url) = v["metrics"].as_str() {
                    metrics = Some(url.to_string());
                }
            }
        }
        Running {
            child,
            stderr,
            listening,
            metrics,
        }
    }

    fn address(&self, source: &str) -> String {
        let (_, a) = self
            .listening
            .iter()
            .find(|(s, _)| s == source)
            .expect("the source listens");
        a.split_once("://").unwrap().1.to_string()
    }

    /// SIGTERM, then its exit status and the rest of what it said.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let status = self.child.wait().unwrap();
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).unwrap();
        (status, rest)
    }
}

fn failures(ip: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!("<38>Dec  6 12:00:{:02} web01 sshd[123]: Failed password for root from {ip} port {} ssh2", 10 + i, 4000 + i)
        })
        .collect()
}

/// The lines without their syslog priority, as a log file holds them.
fn unprefixed(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{}\n", &l[4..])).collect()
}

fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Waits up to ten seconds for `ready` to hold of the lines in `path`.
fn wait_for(path: &Path, ready: impl Fn(&[serde_json::Value]) -> bool) -> Vec<serde_json::Value> {
    let started = Instant::now();
    loop {
        let lines = json_lines(path);
        if ready(&lines) || started.elapsed() > Duration::from_secs(10) {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn syslog_over_tcp_and_udp_becomes_alerts_and_events_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let running = Running::start(
        dir.path(),
        "sources:
  tcp:
    type: syslog
    listen: tcp://127.0.0.1:0
  udp:
    type: syslog
    listen: udp://127.0.0.1:0
sinks:
  alerts:
    type: file
    path: out/alerts.jsonl
  events:
    type: file
    path: out/events.jsonl
    take: events
",
        2,
    );
    let lines = failures("203.0.113.9", 8);
    let mut tcp = TcpStream::connect(running.address("tcp")).unwrap();
    // Half newline-framed, half octet-counted (RFC 6587), one connection.
    for line in &lines[..4] {
        tcp.write_all(format!("{line}\n").as_bytes()).unwrap();
    }
    for line in &lines[4..] {
        tcp.write_all(format!("{} {line}", line.len()).as_bytes())
            .unwrap();
    }
    tcp.flush().unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.send_to(
        b"<13>1 2026-12-06T12:00:30Z fw01 kernel - - - [UFW BLOCK] IN=eth0 OUT= SRC=198.51.100.4 DST=10.0.0.1 PROTO=TCP SPT=5555 DPT=22",
        running.address("udp"),
    )
    .unwrap();
    // The brute force goes out when it opens, before any stop.
    let alerts = wait_for(&dir.path().join("out/alerts.jsonl"), |a| !a.is_empty());
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["rule_id"], "ssh-brute-force");
    assert_eq!(alerts[0]["group"]["source.ip"], "203.0.113.9");
    let events = wait_for(&dir.path().join("out/events.jsonl"), |e| e.len() == 9);
    assert_eq!(events.len(), 9);
    let sender = tcp.local_addr().unwrap().to_string();
    let from_tcp = events
        .iter()
        .filter(|e| e["log"]["source"]["address"] == sender.as_str())
        .count();
    assert_eq!(from_tcp, 8, "each TCP event names its sender {sender}");
    let ufw = events
        .iter()
        .find(|e| e["event"]["dataset"] == "firewall.ufw")
        .expect("the UDP datagram is a UFW event");
    assert_eq!(ufw["source"]["ip"], "198.51.100.4");
    drop(tcp);

    let (status, said) = running.stop();
    assert!(status.success(), "{said}");
    // The final state of the open alert is written at the stop.
    let alerts = json_lines(&dir.path().join("out/alerts.jsonl"));
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[1]["id"], alerts[0]["id"]);
    assert_eq!(alerts[1]["count"], 8);
    let health: serde_json::Value = serde_json::from_str(said.lines().last().unwrap()).unwrap();
    assert_eq!(health["state"], "stopped");
    assert_eq!(health["events"], 9);
}

#[test]
fn silent_and_oversized_senders_neither_stall_nor_grow_it() {
    let dir = tempfile::tempdir().unwrap();
    let running = Running::start(
        dir.path(),
        "sources:
  tcp:
    type: syslog
    listen: tcp://127.0.0.1:0
    max_frame: 1024
sinks:
  events:
    type: file
    path: events.jsonl
    take: events
",
        1,
    );
    let address = running.address("tcp");
    // Connections that send nothing, held open through the stop.
    let silent: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(&address).unwrap())
        .collect();
    // One line of 5 MB with no newline until its end, then a good line.
    let mut big = TcpStream::connect(&address).unwrap();
    let mut line =
        b"<38>Dec  6 12:00:00 web01 sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2 "
            .to_vec();
    line.extend(std::iter::repeat_n(b'A', 5_000_000));
    line.push(b'\n');
    big.write_all(&line).unwrap();
    big.write_all(format!("{}\n", failures("192.0.2.2", 1)[0]).as_bytes())
        .unwrap();
    big.flush().unwrap();
    let events = wait_for(&dir.path().join("events.jsonl"), |e| e.len() == 2);
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events[0]["event"]["original"].as_str().unwrap().len() <= 1024);
    let marks = events[0]["rampart"]["quality"].to_string();
    assert!(marks.contains("cut-event"), "{marks}");
    assert_eq!(events[1]["source"]["ip"], "192.0.2.2");
    let started = Instant::now();
    let (status, said) = running.stop();
    assert!(status.success(), "{said}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "silent connections held the stop for {:?}",
        started.elapsed()
    );
    drop(silent);
}

#[test]
fn a_stdin_pipeline_ends_with_its_input_and_forwards_seed_zero_records() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    receiver
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let config = dir.path().join("pipeline.yml");
    std::fs::write(
        &config,
        format!(
            "sources:
  piped:
    type: stdin
sinks:
  siem:
    type: syslog
    to: udp://{}
    framing: json
    take: alerts
  screen:
    type: stdout
    take: events
",
            receiver.local_addr().unwrap()
        ),
    )
    .unwrap();
    let out = run_fed(&config, unprefixed(&failures("198.51.100.7", 6)).as_bytes());
    let events: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 6);
    assert_eq!(events[5]["source"]["ip"], "198.51.100.7");
    // The alert as it opened, then its final state.
    let mut buf = [0u8; 65_536];
    let mut records = Vec::new();
    for _ in 0..2 {
        let n = receiver.recv(&mut buf).unwrap();
        records.push(String::from_utf8(buf[..n].to_vec()).unwrap());
    }
    for record in &records {
        // user.err: a high alert.
        assert!(record.starts_with("<11>{"), "{record}");
        let alert: serde_json::Value = serde_json::from_str(&record[4..]).unwrap();
        assert_eq!(alert["rule_id"], "ssh-brute-force");
    }
}

#[test]
fn check_prints_the_pipeline_and_a_bad_file_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pipeline.yml");
    std::fs::write(
        &config,
        "sources:\n  net: {type: syslog, listen: udp://127.0.0.1:5514}\nsinks:\n  out: {type: stdout, take: all, min_severity: high}\n",
    )
    .unwrap();
    let out = run_once("--check", &config);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("net: syslog on udp://127.0.0.1:5514"),
        "{text}"
    );
    assert!(
        text.contains("out: JSON lines to stdout; takes alerts and events, alerts from high"),
        "{text}"
    );
    // A listener never ends: `--once` refuses it.
    let out = run_once("--once", &config);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--once: source `net` listens"));

    std::fs::write(
        &config,
        "sources:\n  net:\n    type: syslog\n    listen: 127.0.0.1:5514\nsinks:\n  out: {type: stdout, take: everything}\n",
    )
    .unwrap();
    let out = run_once("--check", &config);
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8(out.stderr).unwrap();
    let name = config.display().to_string();
    assert!(
        said.contains(&format!("{name}:4:13: source `net`: listen")),
        "{said}"
    );
    assert!(
        said.contains(&format!("{name}:6:29: sink `out`: take `everything`")),
        "{said}"
    );
}

#[test]
fn check_prints_a_cluster_worker_and_refuses_sources_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("worker.yml");
    std::fs::write(
        &config,
        "cluster:\n  servers: nats://127.0.0.1:4222\n  name: soc\n  worker: w7\n  replicas: 3\nsinks:\n  out: {type: stdout, take: alerts}\n",
    )
    .unwrap();
    let out = run_once("--check", &config);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("cluster soc: worker w7 on nats://127.0.0.1:4222, events from rampart.events (3 replicas, lease 10 s, ack wait 30 s)"),
        "{text}"
    );
    for (text, says) in [
        (
            "cluster:\n  worker: a b\nsinks:\n  out: {type: stdout}\n",
            "2:11: cluster: worker `a b` may hold",
        ),
        (
            "cluster:\n  worker: w1\nsources:\n  piped: {type: stdin}\nsinks:\n  out: {type: stdout}\n",
            "4:8: a worker of a cluster reads the cluster's events stream: it has no `sources`",
        ),
    ] {
        std::fs::write(&config, text).unwrap();
        let out = run_once("--check", &config);
        assert_eq!(out.status.code(), Some(2));
        let said = String::from_utf8(out.stderr).unwrap();
        assert!(said.contains(says), "{said}");
    }
}

/// Runs `rampart --db DB ARGS` and gives its standard output.
fn query(db: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .env_remove("RAMPART_DB")
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_listener_feeds_the_store_and_a_brute_force_split_between_two_runs_is_one_alert() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("siem.db");
    let pipeline = format!(
        "sources:
  net:
    type: syslog
    listen: tcp://127.0.0.1:0
sinks:
  db:
    type: store
    path: {}
",
        db.display()
    );
    let lines = failures("203.0.113.50", 5);
    for part in [&lines[..3], &lines[3..]] {
        let running = Running::start(dir.path(), &pipeline, 1);
        let mut tcp = TcpStream::connect(running.address("net")).unwrap();
        for line in part {
            tcp.write_all(format!("{line}\n").as_bytes()).unwrap();
        }
        drop(tcp);
        let (status, said) = running.stop();
        assert!(status.success(), "{said}");
        let health: serde_json::Value = serde_json::from_str(said.lines().last().unwrap()).unwrap();
        let store = &health["sinks"][0];
        assert_eq!(store["sink"], "store");
        assert_eq!(store["events"], part.len(), "{said}");
    }
    let alerts: Vec<serde_json::Value> = query(&db, &["alerts", "--format", "jsonl"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["rule_id"], "ssh-brute-force");
    assert_eq!(alerts[0]["count"], 5);
    // The second run's events are numbered on from the first's: all five
    // are stored, none in place of another.
    let events: Vec<serde_json::Value> = query(
        &db,
        &[
            "events",
            "--query",
            "source.ip=203.0.113.50",
            "--format",
            "jsonl",
        ],
    )
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect();
    assert_eq!(events.len(), 5);
}

#[test]
fn sighup_reloads_the_rules_and_open_windows_go_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    let running = Running::start(
        dir.path(),
        "rules: [rules]
sources:
  tcp:
    type: syslog
    listen: tcp://127.0.0.1:0
sinks:
  alerts:
    type: file
    path: alerts.jsonl
",
        1,
    );
    let lines = failures("198.51.100.20", 5);
    let send = |lines: &[String]| {
        let mut tcp = TcpStream::connect(running.address("tcp")).unwrap();
        for line in lines {
            tcp.write_all(format!("{line}\n").as_bytes()).unwrap();
        }
    };
    send(&lines[..3]);
    std::thread::sleep(Duration::from_millis(300));
    // A rule added while it runs, read on SIGHUP.
    std::fs::write(
        dir.path().join("rules/canary.yml"),
        "title: Canary token seen
id: 5b0d7d7e-8a4e-4d55-9d47-3c1f3f2f7a11
logsource:
  definition: any event
detection:
  keywords:
    - canary-token-42
  condition: keywords
level: high
",
    )
    .unwrap();
    let pid = running.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
    std::thread::sleep(Duration::from_millis(500));
    let mut rest: Vec<String> = lines[3..].to_vec();
    rest.push("<38>Dec  6 12:01:00 web01 app[1]: found canary-token-42 in a request".into());
    send(&rest);
    let (status, said) = running.stop();
    assert!(status.success(), "{said}");
    assert!(said.contains("reloaded: "), "{said}");
    let alerts = json_lines(&dir.path().join("alerts.jsonl"));
    let finals: Vec<&serde_json::Value> = alerts
        .iter()
        .filter(|a| a["rule_id"] == "ssh-brute-force")
        .collect();
    // Three failures before the reload and two after: one brute force.
    assert!(!finals.is_empty(), "{alerts:?}");
    assert_eq!(finals.last().unwrap()["count"], 5, "{alerts:?}");
    assert!(
        alerts
            .iter()
            .any(|a| a["rule_id"] == "5b0d7d7e-8a4e-4d55-9d47-3c1f3f2f7a11"),
        "{alerts:?}"
    );
}

/// The text served at `url` (`http://host:port/path`).
fn http_get(url: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = TcpStream::connect(host).unwrap();
    write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}

#[test]
fn its_counts_are_served_for_prometheus_and_written_as_health_lines() {
    let dir = tempfile::tempdir().unwrap();
    let running = Running::start(
        dir.path(),
        "sources:
  net:
    type: syslog
    listen: tcp://127.0.0.1:0
    max_frame: 100
sinks:
  alerts:
    type: file
    path: alerts.jsonl
metrics: 127.0.0.1:0
health_seconds: 1
",
        1,
    );
    let mut tcp = TcpStream::connect(running.address("net")).unwrap();
    for line in failures("192.0.2.77", 6) {
        tcp.write_all(format!("{line}\n").as_bytes()).unwrap();
    }
    tcp.write_all(format!("<13>Dec  6 12:00:00 h app: {}\n", "z".repeat(300)).as_bytes())
        .unwrap();
    drop(tcp);
    let url = running
        .metrics
        .clone()
        .expect("the metrics address is said");
    let started = Instant::now();
    let text = loop {
        let text = http_get(&url);
        if text.contains("rampart_events_total 7\n") || started.elapsed() > Duration::from_secs(10)
        {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        text.contains("rampart_source_messages_total{source=\"net\"} 7\n"),
        "{text}"
    );
    assert!(
        text.contains("rampart_source_dropped_total{source=\"net\",reason=\"cut\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("rampart_events_total 7\n"), "{text}");
    // The brute force, as it opened.
    assert!(
        text.contains("rampart_sink_records_total{sink=\"alerts\"} 1\n"),
        "{text}"
    );
    std::thread::sleep(Duration::from_millis(1200));
    let (status, said) = running.stop();
    assert!(status.success(), "{said}");
    let health = said
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["state"] == "running")
        .unwrap_or_else(|| panic!("no health line in {said}"));
    assert_eq!(health["sources"]["net"]["messages"], 7);
}

#[test]
fn a_followed_folder_feeds_the_store_as_it_grows_and_a_restart_reads_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let db = dir.path().join("siem.db");
    let auth = |from: usize, n: usize| -> String {
        unprefixed(&failures("203.0.113.66", from + n)[from..])
    };
    std::fs::write(logs.join("auth.log"), auth(0, 3)).unwrap();
    let pipeline = format!(
        "sources:
  logs:
    type: file
    paths: [logs]
sinks:
  db:
    type: store
    path: {}
  alerts:
    type: file
    path: alerts.jsonl
",
        db.display()
    );
    let count = || -> usize {
        query(
            &db,
            &[
                "events",
                "--query",
                "source.ip=203.0.113.66",
                "--format",
                "jsonl",
            ],
        )
        .lines()
        .count()
    };
    let running = Running::start(dir.path(), &pipeline, 0);
    // Lines appended, and a new file in the folder, while it runs.
    std::thread::sleep(Duration::from_millis(1500));
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(logs.join("auth.log"))
        .unwrap();
    f.write_all(auth(3, 2).as_bytes()).unwrap();
    drop(f);
    std::fs::write(logs.join("more.log"), auth(5, 1)).unwrap();
    let alerts = wait_for(&dir.path().join("alerts.jsonl"), |a| !a.is_empty());
    let (status, said) = running.stop();
    assert!(status.success(), "{said}");
    assert_eq!(
        alerts.first().map(|a| &a["rule_id"]),
        Some(&serde_json::json!("ssh-brute-force")),
        "{said}"
    );
    assert_eq!(count(), 6);
    // Again: nothing new to read, nothing stored twice.
    let running = Running::start(dir.path(), &pipeline, 0);
    std::thread::sleep(Duration::from_millis(1500));
    let (status, said) = running.stop();
    assert!(status.success(), "{said}");
    assert_eq!(count(), 6);
}

/// POSTs `body` to `url` with `headers`; the status and the answer.
fn http_post(url: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = TcpStream::connect(host).unwrap();
    let mut request = format!(
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    s.write_all(request.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let answer = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, answer)
}

#[test]
fn splunk_hec_senders_feed_it_and_wrong_tokens_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pipeline.yml");
    std::fs::write(
        &config,
        "sources:
  hec:
    type: hec
    listen: 127.0.0.1:0
    token_env: TEST_HEC_TOKEN
sinks:
  events:
    type: file
    path: events.jsonl
    take: events
",
    )
    .unwrap();
    let mut child = rampart()
        .current_dir(dir.path())
        .env("TEST_HEC_TOKEN", "f00d-cafe")
        .args(["run", "--no-db", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0);
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
            if let Some(a) = v["listening"].as_str() {
                break a.to_string();
            }
        }
    };
    let auth = [("Authorization", "Splunk f00d-cafe")];
    // Two events, one a line of text and one an object, gzipped.
    let body = format!(
        "{{\"event\": \"{}\", \"sourcetype\": \"linux_secure\"}}{{\"event\": {{\"action\": \"login\", \"source\": {{\"ip\": \"192.0.2.40\"}}}}}}",
        &failures("192.0.2.30", 1)[0][4..]
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(body.as_bytes()).unwrap();
    let gzipped = gz.finish().unwrap();
    let (status, answer) = http_post(
        &format!("{url}/services/collector/event"),
        &[auth[0], ("Content-Encoding", "gzip")],
        &gzipped,
    );
    assert_eq!(
        (status, answer.as_str()),
        (200, "{\"text\":\"Success\",\"code\":0}")
    );
    let raw = unprefixed(&failures("192.0.2.31", 2));
    let (status, _) = http_post(
        &format!("{url}/services/collector/raw"),
        &auth,
        raw.as_bytes(),
    );
    assert_eq!(status, 200);
    let refused = [
        (vec![], 401),
        (vec![("Authorization", "Splunk wrong")], 403),
    ];
    for (headers, want) in refused {
        let (status, _) = http_post(
            &format!("{url}/services/collector/event"),
            &headers,
            b"{\"event\":\"x\"}",
        );
        assert_eq!(status, want);
    }
    let (status, answer) = http_post(
        &format!("{url}/services/collector/event"),
        &auth,
        b"{\"event\": \"x\"} not json",
    );
    assert_eq!(status, 400, "{answer}");
    // Indexer acknowledgements: a request on a channel gets an id, which
    // is said to be kept once the sinks keep its events, then forgotten.
    let channel = [auth[0], ("X-Splunk-Request-Channel", "0aa0-chan")];
    let (status, answer) = http_post(
        &format!("{url}/services/collector/raw"),
        &channel,
        unprefixed(&failures("192.0.2.32", 1)).as_bytes(),
    );
    assert_eq!(
        (status, answer.as_str()),
        (200, "{\"text\":\"Success\",\"code\":0,\"ackId\":0}")
    );
    let ack = |ids: &str| {
        http_post(
            &format!("{url}/services/collector/ack"),
            &channel,
            format!("{{\"acks\": [{ids}]}}").as_bytes(),
        )
    };
    let started = Instant::now();
    let mut answer = String::new();
    while started.elapsed() < Duration::from_secs(10) {
        answer = ack("0, 7").1;
        if answer.contains("\"0\":true") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(answer, "{\"acks\":{\"0\":true,\"7\":false}}");
    assert_eq!(
        ack("0").1,
        "{\"acks\":{\"0\":false}}",
        "an id said kept is forgotten"
    );
    let (status, answer) = http_post(
        &format!("{url}/services/collector/ack"),
        &auth,
        b"{\"acks\":[0]}",
    );
    assert_eq!(
        (status, answer.contains("\"code\":10")),
        (400, true),
        "{answer}"
    );
    let events = wait_for(&dir.path().join("events.jsonl"), |e| e.len() == 5);
    assert_eq!(events.len(), 5, "{events:?}");
    assert_eq!(events[0]["source"]["ip"], "192.0.2.30");
    assert_eq!(events[2]["source"]["ip"], "192.0.2.31");
    assert!(
        events.iter().any(|e| e["source"]["ip"] == "192.0.2.40"),
        "{events:?}"
    );
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_sql_table_is_read_exactly_once_late_rows_and_identical_rows_included() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("webapp.db");
    let rows = seed0::table(&table);
    let db = dir.path().join("siem.db");
    let config = dir.path().join("pipeline.yml");
    std::fs::write(
        &config,
        format!(
            "sources:
  webapp:
    type: sql
    database: sqlite:webapp.db
    table: web_application
    order_by: log_id
    look_back: 20
    follow: false
sinks:
  db:
    type: store
    path: {}
",
            db.display()
        ),
    )
    .unwrap();
    let run = || {
        let out = run_once("-q", &config);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let stored = || -> usize {
        query(
            &db,
            &[
                "events",
                "--query",
                "event.dataset=json",
                "--limit",
                "1000",
                "--format",
                "jsonl",
            ],
        )
        .lines()
        .count()
    };
    run();
    assert_eq!(stored(), rows);
    run();
    assert_eq!(stored(), rows, "a second run takes nothing again");
    // Rows added late: one with an id below the highest (within the
    // look-back), one equal to the highest, and an exact copy of a row.
    let conn = rusqlite::Connection::open(&table).unwrap();
    let top: i64 = conn
        .query_row("SELECT max(log_id) FROM web_application", [], |r| r.get(0))
        .unwrap();
    conn.execute_batch(&format!(
        "INSERT INTO web_application VALUES ({}, '2025-06-22 10:00:00', NULL, '203.0.113.99', '/login', 'POST', 401, 'curl/8', 'late');
         INSERT INTO web_application VALUES ({top}, '2025-06-22 10:00:01', NULL, '203.0.113.98', '/', 'GET', 200, 'curl/8', 'equal');
         INSERT INTO web_application SELECT * FROM web_application WHERE log_id = {top} AND query = 'equal';",
        top - 3
    ))
    .unwrap();
    drop(conn);
    run();
    assert_eq!(stored(), rows + 3);
    let late = query(
        &db,
        &[
            "events",
            "--query",
            "source.ip=203.0.113.98",
            "--format",
            "jsonl",
        ],
    );
    assert_eq!(late.lines().count(), 2, "two identical rows are two events");
    run();
    assert_eq!(stored(), rows + 3);
}

#[test]
fn a_template_writes_events_as_the_flat_record_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pipeline.yml");
    std::fs::write(
        &config,
        "sources:\n  piped:\n    type: stdin\nsinks:\n  out:\n    type: stdout\n    take: events\n    template:\n      src: source.ip\n      when: \"@timestamp\"\n      port: source.port\n      absent: no.such.field\n",
    )
    .unwrap();
    let out = run_fed(
        &config,
        b"Mar 14 03:00:01 web01 sshd[9]: Connection closed by 192.0.2.9 port 4000 [preauth]\n",
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // The record's names in the template's order, values typed, a missing
    // field null.
    assert!(
        text.starts_with("{\"src\":\"192.0.2.9\",\"when\":\""),
        "{text}"
    );
    let record: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(record["port"], 4000);
    assert!(record["absent"].is_null());
}

#[test]
fn each_sink_takes_the_events_its_condition_and_sample_keep_in_its_own_shape() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pipeline.yml");
    std::fs::write(
        &config,
        r#"sources:
  piped:
    type: stdin
sinks:
  outside:
    type: file
    path: outside.jsonl
    take: events
    where: 'not source.ip=10.0.0.0/8 and "failed password"'
    transforms:
      - drop: [event.original, log, process]
      - rename: {source.ip: src_ip}
      - add: {observer.name: edge-1}
  sampled:
    type: file
    path: sampled.jsonl
    take: events
    sample: 3
    sample_by: source.ip
  whole:
    type: file
    path: whole.jsonl
    take: events
health_seconds: 0
"#,
    )
    .unwrap();
    let topology = String::from_utf8(run_once("--check", &config).stdout).unwrap();
    assert!(
        topology.contains(
            "events where not source.ip=10.0.0.0/8 and \"failed password\"; 3 transforms"
        ),
        "{topology}"
    );
    assert!(
        topology.contains("one event in 3 by source.ip"),
        "{topology}"
    );
    let mut input = String::new();
    for n in 0..60 {
        let ip = if n % 2 == 0 {
            format!("10.0.0.{n}")
        } else {
            format!("198.51.100.{n}")
        };
        input.push_str(&unprefixed(&failures(&ip, 2)));
    }
    input.push_str(
        "Mar 14 03:00:01 web01 sshd[9]: Connection closed by 192.0.2.9 port 4000 [preauth]
",
    );
    run_fed(&config, input.as_bytes());
    let whole = json_lines(&dir.path().join("whole.jsonl"));
    assert_eq!(whole.len(), 121);
    // The condition: failed logins from outside 10/8, reshaped.
    let outside = json_lines(&dir.path().join("outside.jsonl"));
    assert_eq!(outside.len(), 60);
    for e in &outside {
        let ip = e["src_ip"].as_str().unwrap();
        assert!(ip.starts_with("198.51.100."), "{e}");
        assert_eq!(e["observer"]["name"], "edge-1");
        assert!(e.get("source").is_none_or(|s| s.get("ip").is_none()), "{e}");
        assert!(e.get("log").is_none() && e.get("process").is_none(), "{e}");
        assert!(e["event"].get("original").is_none(), "{e}");
        assert_eq!(e["user"]["name"], "root");
    }
    // The sample: by address, both lines of an address or neither, and
    // the same ones when the input comes again.
    let sampled = json_lines(&dir.path().join("sampled.jsonl"));
    let ips = |events: &[serde_json::Value]| -> Vec<String> {
        events
            .iter()
            .map(|e| e["source"]["ip"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let kept = ips(&sampled);
    assert!(!kept.is_empty() && kept.len() < 121, "{}", kept.len());
    for ip in &kept {
        assert_eq!(
            kept.iter().filter(|k| *k == ip).count(),
            if ip == "192.0.2.9" { 1 } else { 2 },
            "{ip}"
        );
    }
    std::fs::remove_file(dir.path().join("sampled.jsonl")).unwrap();
    run_fed(&config, input.as_bytes());
    assert_eq!(ips(&json_lines(&dir.path().join("sampled.jsonl"))), kept);
}

#[test]
fn a_csv_file_of_events_is_set_aside_at_its_size_each_part_with_its_header() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pipeline.yml");
    std::fs::write(
        &config,
        "sources:\n  piped:\n    type: stdin\nsinks:\n  sheet:\n    type: file\n    path: out/events.csv\n    format: csv\n    take: events\n    rotate_bytes: 1000\n    keep: 2\n    template:\n      when: \"@timestamp\"\n      who: user.name\n      from: source.ip\nhealth_seconds: 0\n",
    )
    .unwrap();
    let topology = run_once("--check", &config);
    let text = String::from_utf8_lossy(&topology.stdout);
    assert!(
        text.contains("CSV to") && text.contains("(set aside at 1000 bytes, 2 kept)"),
        "{text}"
    );
    // Users named like formulas, as an attacker would.
    let input: String = (0..100)
        .map(|n| format!("Dec  6 12:00:{:02} web01 sshd[1]: Invalid user =HYPERLINK{n} from 203.0.113.{n} port 22\n", n % 60))
        .collect();
    run_fed(&config, input.as_bytes());
    let folder = dir.path().join("out");
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        3,
        "two set aside, kept, and the live file: {files:?}"
    );
    let mut rows = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.len() <= 1000, "{}", file.display());
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("when,who,from"));
        for row in lines {
            assert!(row.contains(",'=HYPERLINK"), "{row}");
            rows += 1;
        }
    }
    // The oldest parts went; the last rows are in the live file.
    assert!(rows < 100);
    let live = std::fs::read_to_string(folder.join("events.csv")).unwrap();
    assert!(live.contains("=HYPERLINK99,203.0.113.99"), "{live}");
}

#[test]
fn a_lookup_table_joins_owners_by_address_or_subnet_before_routes_and_rules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("assets.csv"),
        "owner,address,criticality\nfinance,198.51.100.0/24,high\nlab,198.51.100.7,low\n",
    )
    .unwrap();
    let config = dir.path().join("pipeline.yml");
    std::fs::write(
        &config,
        "lookups:\n  - csv: assets.csv\n    key: source.ip\n    column: address\n    into: asset\nsources:\n  piped:\n    type: stdin\nsinks:\n  all:\n    type: file\n    path: all.jsonl\n    take: events\n  critical:\n    type: file\n    path: critical.jsonl\n    take: events\n    where: asset.criticality=high\nhealth_seconds: 0\n",
    )
    .unwrap();
    let topology = run_once("--check", &config);
    assert!(
        String::from_utf8_lossy(&topology.stdout).contains("lookup: "),
        "{topology:?}"
    );
    let mut input = String::new();
    for ip in ["198.51.100.7", "198.51.100.9", "203.0.113.1"] {
        input.push_str(&unprefixed(&failures(ip, 1)));
    }
    run_fed(&config, input.as_bytes());
    let all = json_lines(&dir.path().join("all.jsonl"));
    let owners: Vec<(&str, &str)> = all
        .iter()
        .map(|e| {
            (
                e["source"]["ip"].as_str().unwrap(),
                e["asset"]["owner"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        owners,
        [
            ("198.51.100.7", "lab"),
            ("198.51.100.9", "finance"),
            ("203.0.113.1", "-")
        ]
    );
    let critical = json_lines(&dir.path().join("critical.jsonl"));
    assert_eq!(critical.len(), 1);
    assert_eq!(critical[0]["source"]["ip"], "198.51.100.9");
    // A table with a broken row stops the run before it starts, saying where.
    std::fs::write(
        dir.path().join("assets.csv"),
        "owner,address\nlab,198.51.100.7,extra\n",
    )
    .unwrap();
    let out = run_once("--check", &config);
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("assets.csv:2"), "{said}");
}

#[test]
fn each_sink_gets_the_states_of_a_growing_alert_it_asks_for() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pipeline.yml");
    let mut text = String::from("sources:\n  piped:\n    type: stdin\nsinks:\n");
    for mode in ["open_and_final", "open", "final", "every"] {
        text.push_str(&format!(
            "  {mode}:\n    type: file\n    path: {mode}.jsonl\n    take: alerts\n    updates: {mode}\n"
        ));
    }
    text.push_str("health_seconds: 0\n");
    std::fs::write(&config, text).unwrap();
    // A brute force that opens, then grows twice, in batches apart.
    let lines = failures("198.51.100.8", 7);
    let mut child = rampart()
        .current_dir(dir.path())
        .args(["run", "--no-db", "-q", "--config"])
        .arg(&config)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    for part in [&lines[..5], &lines[5..6], &lines[6..]] {
        input.write_all(unprefixed(part).as_bytes()).unwrap();
        input.flush().unwrap();
        std::thread::sleep(Duration::from_millis(600));
    }
    drop(input);
    assert!(child.wait().unwrap().success());
    let counts = |mode: &str| -> Vec<u64> {
        json_lines(&dir.path().join(format!("{mode}.jsonl")))
            .iter()
            .filter(|a| a["rule_id"] == "ssh-brute-force")
            .map(|a| a["count"].as_u64().unwrap())
            .collect()
    };
    let every = counts("every");
    assert_eq!(counts("open_and_final"), [every[0], 7], "{every:?}");
    assert_eq!(counts("open"), [every[0]]);
    assert_eq!(counts("final"), [7]);
    // Open, each growth, and the final state, in that order.
    assert!(every.len() >= 3, "{every:?}");
    assert!(every.windows(2).all(|w| w[0] <= w[1]), "{every:?}");
    assert_eq!(every.last(), Some(&7));
}

#[test]
fn a_condition_that_does_not_read_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pipeline.yml");
    std::fs::write(
        &config,
        "sources:\n  piped:\n    type: stdin\nsinks:\n  out:\n    type: stdout\n    where: '@timestamp>yesterday'\n    transforms:\n      - shuffle: [a]\n",
    )
    .unwrap();
    let out = run_once("--check", &config);
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("pipeline.yml:7:12: sink `out`: where: column 1: @timestamp"),
        "{said}"
    );
    assert!(
        said.contains("pipeline.yml:9:9: sink `out`: `shuffle`?"),
        "{said}"
    );
}

#[test]
fn syslog_over_tls_from_one_pipeline_to_another_and_a_scanner_does_not_stop_it() {
    let dir = tempfile::tempdir().unwrap();
    // A certificate authority and a certificate for 127.0.0.1 it signed,
    // made by openssl for the test.
    std::fs::write(
        dir.path().join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "1",
            "-subj",
            "/CN=rampart test CA",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "cert.pem",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
        ],
    ];
    for step in steps {
        let made = Command::new("openssl")
            .current_dir(dir.path())
            .args(step)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("skipped: openssl cannot make certificates here");
            return;
        }
    }
    let receiver = Running::start(
        dir.path(),
        "sources:
  secure:
    type: syslog
    listen: tls://127.0.0.1:0
    cert: cert.pem
    key: key.pem
sinks:
  events:
    type: file
    path: received.jsonl
    take: events
",
        1,
    );
    // A scanner: plain text where a TLS handshake should be.
    let mut scanner = TcpStream::connect(receiver.address("secure")).unwrap();
    scanner.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    drop(scanner);
    let sender = dir.path().join("sender.yml");
    std::fs::write(
        &sender,
        format!(
            "sources:\n  piped:\n    type: stdin\nsinks:\n  secure:\n    type: syslog\n    to: tls://{}\n    ca: ca.pem\n    take: events\n    framing: json\n",
            receiver.address("secure")
        ),
    )
    .unwrap();
    run_fed(&sender, unprefixed(&failures("192.0.2.55", 3)).as_bytes());
    let received = wait_for(&dir.path().join("received.jsonl"), |e| e.len() == 3);
    let (status, said) = receiver.stop();
    assert!(status.success(), "{said}");
    assert_eq!(received.len(), 3, "{said}");
    // Each came whole: the forwarded record holds the event sent.
    assert!(received.iter().all(|e| e["event"]["original"]
        .as_str()
        .is_some_and(|o| o.starts_with("<14>{") && o.contains("192.0.2.55"))));
}

#[test]
fn lines_nothing_reads_are_kept_in_the_dead_letter_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pipeline.yml");
    std::fs::write(
        &config,
        "sources:\n  piped:\n    type: stdin\nsinks:\n  out:\n    type: file\n    path: events.jsonl\n    take: events\ndead_letters: dead.jsonl\n",
    )
    .unwrap();
    let good = unprefixed(&failures("192.0.2.60", 1));
    let mut input = Vec::new();
    input.extend_from_slice(good.as_bytes());
    input.extend_from_slice(b"\x00\x01\x02\xff\xfe binary\x00\n");
    input.extend_from_slice(good.as_bytes());
    run_fed(&config, &input);
    let dead = json_lines(&dir.path().join("dead.jsonl"));
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["source"], "stdin");
    assert_eq!(dead[0]["line"], 2);
    assert!(dead[0]["text"].as_str().unwrap().contains("binary"));
    assert_eq!(json_lines(&dir.path().join("events.jsonl")).len(), 2);
}

#[test]
fn a_sql_server_source_is_listed_as_experimental_and_an_absent_server_is_named() {
    let help = rampart().args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("SQL Server is\n") || help.contains("SQL Server is experimental"),
        "{help}"
    );
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("mssql://rampart@127.0.0.1:{port}/weblogs?encrypt=not_supported");
    let config = dir.path().join("pipeline.yml");
    std::fs::write(
        &config,
        format!(
            "sources:\n  webapp: {{type: sql, database: '{url}', table: web_application, order_by: log_id, follow: false}}\n\
             sinks:\n  out: {{type: file, path: out.jsonl, take: events}}\n  db: {{type: store, path: kept.db}}\n"
        ),
    )
    .unwrap();
    let out = run_once("--check", &config);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{listed}");
    assert!(
        listed.contains(&format!("table web_application of {url}")),
        "{listed}"
    );
    // Nothing listens there: the run says which database it could not read.
    let out = rampart()
        .current_dir(dir.path())
        .args(["run", "--no-db", "--once", "-q", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!("mssql://rampart@127.0.0.1:{port}/weblogs")),
        "{said}"
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a source not read fails a run of --once"
    );
    // A password in the address is refused: it belongs in the environment.
    std::fs::write(
        &config,
        "sources:\n  webapp: {type: sql, database: 'mssql://sa:secret@db/x', table: t, order_by: id}\nsinks:\n  db: {type: store, path: kept.db}\n",
    )
    .unwrap();
    let out = run_once("--check", &config);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && said.contains("password"), "{said}");
}
