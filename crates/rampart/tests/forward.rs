//! Forwarding to a real receiving SIEM: rsyslog, started here with a
//! folder, port and configuration of its own, stopped and started again
//! while `rampart run` sends under continuous load. Over RELP nothing is
//! lost (rsyslog acknowledges each record; the sink's disk buffer holds
//! them while it is down); over plain TCP the loss is measured and shown,
//! and delivery resumes. Each line carries a sequence number, and the
//! test reads back what rsyslog wrote.
//!
//! rsyslog comes from the system's packages (`scripts/install-servers.sh`);
//! without it the tests say they were skipped, unless
//! `RAMPART_REQUIRE_SERVERS` is set (CI), when they fail.

mod common;
mod seed0;
mod vt_server;

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::free_port;

fn rsyslogd() -> Option<PathBuf> {
    let found = ["/usr/sbin/rsyslogd", "/sbin/rsyslogd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("RAMPART_REQUIRE_SERVERS").is_none(),
            "rsyslogd is not installed (scripts/install-servers.sh)"
        );
        eprintln!("skipped: rsyslogd not installed (scripts/install-servers.sh)");
    }
    found
}

/// An rsyslog receiving on one port (RELP or plain TCP) and writing each
/// message as received to `out.log` in its folder.
struct Rsyslog {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Rsyslog {
    fn start(bin: PathBuf, dir: &Path, relp: bool) -> Rsyslog {
        let port = free_port();
        let input = if relp {
            format!("module(load=\"imrelp\")\ninput(type=\"imrelp\" port=\"{port}\" address=\"127.0.0.1\")")
        } else {
            format!("module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"{port}\" address=\"127.0.0.1\")")
        };
        std::fs::write(
            dir.join("rsyslog.conf"),
            format!(
                "global(workDirectory=\"{d}\")\n{input}\ntemplate(name=\"asReceived\" type=\"string\" string=\"%rawmsg%\\n\")\naction(type=\"omfile\" file=\"{d}/out.log\" template=\"asReceived\")\n",
                d = dir.display()
            ),
        )
        .unwrap();
        let mut r = Rsyslog {
            bin,
            dir: dir.to_path_buf(),
            port,
            child: None,
        };
        r.up();
        r
    }

    fn up(&mut self) {
        let child = Command::new(&self.bin)
            .arg("-n")
            .arg("-f")
            .arg(self.dir.join("rsyslog.conf"))
            .arg("-i")
            .arg(self.dir.join("rsyslog.pid"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "rsyslog did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }

    /// The JSON records rsyslog wrote, in order.
    fn records(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.dir.join("out.log")).unwrap_or_default();
        text.lines()
            .map(|line| {
                let json = &line[line.find('{').expect("a JSON record")..];
                serde_json::from_str(json).unwrap()
            })
            .collect()
    }

    /// The sequence numbers rsyslog wrote, with how often each.
    fn received(&self) -> BTreeMap<u64, u32> {
        let mut seen = BTreeMap::new();
        for record in self.records() {
            let message = record["message"].as_str().unwrap();
            let seq = message.strip_prefix("seq=").unwrap().parse().unwrap();
            *seen.entry(seq).or_default() += 1;
        }
        seen
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        self.down();
    }
}

/// Sends `n` numbered lines into a stdin pipeline forwarding events to
/// `to`, stopping and starting `rsyslog` a third and two thirds of the way.
fn forward_through_a_restart(rsyslog: &mut Rsyslog, dir: &Path, to: &str, n: u64) -> String {
    std::fs::write(
        dir.join("pipeline.yml"),
        format!(
            "builtin: false
sources:
  piped:
    type: stdin
    format: syslog
sinks:
  siem:
    type: syslog
    to: {to}
    framing: json
    take: events
    buffer:
      type: disk
      path: buffer
"
        ),
    )
    .unwrap();
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_rampart"))
            .env_remove("RAMPART_DB")
            .args(["--db", "unused.db", "run", "--no-db", "-q", "--config"])
            .arg(dir.join("pipeline.yml"))
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let finish = |run: std::process::Child| {
        let out = run.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{said}");
        said
    };
    let mut run = start();
    let mut input = run.stdin.take().unwrap();
    common::feed_through_a_restart(&mut input, n, |up| {
        if up {
            rsyslog.up()
        } else {
            rsyslog.down()
        }
    });
    drop(input);
    // A run ends at most a second after its input does; what its sink
    // could not deliver by then stays in the disk buffer, and the next run
    // of the pipeline delivers it.
    let kept = |said: &str| {
        said.contains("\"waiting_on_disk\":") && !said.contains("\"waiting_on_disk\":0")
    };
    let mut last = finish(run);
    let mut said = last.clone();
    for _ in 0..3 {
        if !kept(&last) {
            break;
        }
        last = finish(start());
        said.push_str(&last);
    }
    said
}

#[test]
fn over_relp_nothing_is_lost_while_the_receiver_restarts() {
    let Some(bin) = rsyslogd() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut rsyslog = Rsyslog::start(bin, dir.path(), true);
    let n = 3000;
    let to = format!("relp://127.0.0.1:{}", rsyslog.port);
    let said = forward_through_a_restart(&mut rsyslog, dir.path(), &to, n);
    // The run ends once its buffer is empty; rsyslog writes what it took.
    std::thread::sleep(Duration::from_millis(500));
    let (missing, again) = common::missing_and_again(&rsyslog.received(), n);
    assert!(missing.is_empty(), "lost over RELP: {missing:?}\n{said}");
    // At least once: a window in flight when the receiver stopped may come
    // twice, no more.
    assert!(again <= 128, "{again} records came twice");
    eprintln!("RELP through a receiver restart: {n} sent, none lost, {again} twice");
}

#[test]
fn over_plain_tcp_the_loss_at_a_receiver_restart_is_measured_and_delivery_resumes() {
    let Some(bin) = rsyslogd() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut rsyslog = Rsyslog::start(bin, dir.path(), false);
    let n = 3000;
    let to = format!("tcp://127.0.0.1:{}", rsyslog.port);
    let said = forward_through_a_restart(&mut rsyslog, dir.path(), &to, n);
    std::thread::sleep(Duration::from_millis(500));
    let seen = rsyslog.received();
    let lost = (0..n).filter(|s| !seen.contains_key(s)).count();
    // Everything sent after the receiver came back arrives.
    let tail: Vec<u64> = (2 * n / 3 + 50..n)
        .filter(|s| !seen.contains_key(s))
        .collect();
    assert!(tail.is_empty(), "lost after the restart: {tail:?}\n{said}");
    eprintln!("plain TCP through a receiver restart: {n} sent, {lost} lost");
}

#[test]
fn the_seed000_example_forwards_each_new_row_once_to_rsyslog_over_relp() {
    let Some(bin) = rsyslogd() else { return };
    let dir = tempfile::tempdir().unwrap();
    let rsyslog = Rsyslog::start(bin, dir.path(), true);
    let table = dir.path().join("webapp.db");
    let rows = seed0::table(&table);
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed000/pipeline.yml");
    let (vt_url, asked) = vt_server::serve();
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .env_remove("RAMPART_DB")
            .current_dir(dir.path())
            .env("VT_API_KEY", "testkey")
            .env("SEED0_VT_URL", &vt_url)
            .env("SEED0_VT_PER_MINUTE", "1000")
            .env("SEED0_DATABASE", format!("sqlite:{}", table.display()))
            .env("SIEM", format!("relp://127.0.0.1:{}", rsyslog.port))
            .env("SEED0_BUFFER", dir.path().join("buffer"))
            .env("SEED0_STORE", dir.path().join("seed000.db"))
            .args(["run", "--no-db", "-q", "--config"])
            .arg(&config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run();
    run();
    std::thread::sleep(Duration::from_millis(300));
    let records = rsyslog.records();
    let events: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r.get("log_id").is_some())
        .collect();
    // Each row once, through two runs, as seed 000's flat record.
    assert_eq!(events.len(), rows);
    let distinct: std::collections::BTreeSet<String> =
        events.iter().map(|e| e.to_string()).collect();
    assert_eq!(distinct.len(), rows);
    let mut keys: Vec<&String> = events[0].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "ASN",
            "Country",
            "Harmless_Score",
            "Last_Modified",
            "Malicious_Score",
            "Network",
            "Regional_Internet_Registry",
            "Suspicious_Score",
            "Undetected_Score",
            "http_method",
            "ip_address",
            "ip_hit_count",
            "log_id",
            "query",
            "resource",
            "response_code",
            "timestamp",
            "user_agent",
            "user_id",
        ]
    );
    // VirusTotal's scores beside each row of an address it knows, as seed
    // 000 added them; each public address asked once over both runs.
    let known: Vec<&&serde_json::Value> = events
        .iter()
        .filter(|e| e["ip_address"] == "204.76.203.208")
        .collect();
    assert_eq!(known.len(), 2);
    for e in known {
        assert_eq!(e["Malicious_Score"], 10);
        assert_eq!(e["ASN"], 60729);
        assert_eq!(e["Country"], "DE");
        assert_eq!(e["Last_Modified"], 1750788713);
    }
    let asked = asked.lock().unwrap().clone();
    let distinct: std::collections::BTreeSet<&String> = asked.iter().collect();
    assert_eq!(distinct.len(), asked.len(), "an address asked twice");
    assert!(
        !asked.iter().any(|p| p.ends_with("/192.168.1.69")),
        "a private address was sent"
    );
    assert!(events.iter().all(|e| e["ip_address"].is_string()));
    // Seed 000's per-address hit counts: each address's rows count 1, 2,
    // ... up to how many rows it has.
    let mut per_address: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for e in &events {
        per_address
            .entry(e["ip_address"].as_str().unwrap().to_string())
            .or_default()
            .push(e["ip_hit_count"].as_u64().unwrap());
    }
    for (address, mut counts) in per_address {
        counts.sort();
        let want: Vec<u64> = (1..=counts.len() as u64).collect();
        assert_eq!(counts, want, "{address}");
    }
    // The rules' alerts went too (seed 000's rows hold SQL injections and
    // scanners).
    assert!(
        records.iter().any(|r| r.get("rule_id").is_some()),
        "no alert forwarded"
    );
}

/// A spill buffer (memory while rsyslog keeps up, disk before each commit
/// and when it falls behind) under 50 kills.
#[test]
fn run_killed_fifty_times_forwarding_over_relp_loses_nothing() {
    let Some(bin) = rsyslogd() else { return };
    let dir = tempfile::tempdir().unwrap();
    let rsyslog = Rsyslog::start(bin, dir.path(), true);
    let n: u64 = 20_000;
    let log: String = (0..n)
        .map(|seq| format!("Dec  6 12:00:00 host app: seq={seq}\n"))
        .collect();
    std::fs::write(dir.path().join("numbered.log"), log).unwrap();
    std::fs::write(
        dir.path().join("pipeline.yml"),
        format!(
            "builtin: false
sources:
  logs:
    type: file
    paths: [numbered.log]
    follow: false
sinks:
  db:
    type: store
    path: store.db
    commit_events: 300
  siem:
    type: syslog
    to: relp://127.0.0.1:{}
    framing: json
    take: events
    buffer:
      type: spill
      max_records: 1000
      path: buffer
health_seconds: 0
",
            rsyslog.port
        ),
    )
    .unwrap();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_rampart"))
            .env_remove("RAMPART_DB")
            .current_dir(dir.path())
            .args(["run", "--no-db", "-q", "--config", "pipeline.yml"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ std::process::id() as u64;
    let mut killed = 0;
    for _ in 0..50 {
        let mut child = run();
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(rng % 400));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
    }
    let status = run().wait().unwrap();
    assert!(status.success());
    let started = Instant::now();
    let seen = loop {
        let seen = rsyslog.received();
        if seen.len() as u64 >= n || started.elapsed() > Duration::from_secs(30) {
            break seen;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let missing: Vec<u64> = (0..n).filter(|s| !seen.contains_key(s)).collect();
    assert!(
        missing.is_empty(),
        "{} of {n} lost after {killed} kills: {:?}",
        missing.len(),
        &missing[..missing.len().min(20)]
    );
    let again: u32 = seen.values().map(|c| c - 1).sum();
    eprintln!("RELP with {killed} kills of run: {n} sent, none lost, {again} twice");
    assert!(
        killed >= 20,
        "only {killed} runs were killed before their end"
    );
    // At least once: what a killed run had read since its last commit is
    // read and sent again, no more.
    assert!(u64::from(again) <= killed as u64 * 2_000, "{again} twice");
}
