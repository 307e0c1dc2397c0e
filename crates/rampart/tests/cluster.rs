//! Workers of a cluster against a real NATS JetStream server, and against
//! three nodes with streams of three replicas: a collector (`rampart run`
//! with a file source) publishes sshd, UFW and Apache logs as events; one
//! worker, then three at once, then three of which one is killed (-9)
//! mid-stream (over three nodes, with a node killed too), read them and
//! must raise exactly the alerts one `rampart hunt` raises over the same
//! files: the same ids, counts and
//! events, each once, with correlations of every kind (a chain among
//! them) and dedup windows open across the kill.
//!
//! The workers also write events and alerts into ClickHouse (a server of
//! the test's own, started by `scripts/clickhouse.sh`; one database per
//! cluster): `rampart alerts` and `rampart export` read back from it the
//! alerts of `hunt` and every event once, through the kill too.
//!
//! Each cluster is a name of its own over the same events stream (its own
//! durable consumer, work stream and buckets), so the events are published
//! once. Without nats-server (or ClickHouse, for its part) the tests say
//! they were skipped, unless `RAMPART_REQUIRE_SERVERS` is set (CI), when
//! they fail.

mod common;
mod jetstream;
mod servers;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{command as rampart, Rng};
use jetstream::{ended_within, nats_server, Cluster, Server};

/// Rules beside the built-in pack: a chain (a brute force, then a login
/// from the same address), distinct users per address, bytes summed and
/// their median per address, so that every kind of state is shared out.
const RULES: &str = r#"title: Failed SSH password
id: cl-failed
name: cl_failed
logsource: {product: linux, service: sshd}
detection:
  selection: {event.action: ssh-login, event.outcome: failure}
  condition: selection
level: informational
---
title: Accepted SSH login
id: cl-accepted
name: cl_accepted
logsource: {product: linux, service: sshd}
detection:
  selection: {event.action: ssh-login, event.outcome: success}
  condition: selection
level: informational
---
title: Many failures
id: cl-many
name: cl_many
correlation:
  type: event_count
  rules: [cl_failed]
  group-by: [source.ip]
  timespan: 2m
  condition: {gte: 8}
level: medium
---
title: Failures then a login
id: cl-then-login
correlation:
  type: temporal_ordered
  rules: [cl_many, cl_accepted]
  group-by: [source.ip]
  timespan: 10m
  generate: true
level: critical
---
title: Users sprayed
id: cl-spray
correlation:
  type: value_count
  rules: [cl_failed]
  group-by: [source.ip]
  timespan: 5m
  condition: {field: user.name, gte: 4}
level: high
---
title: Web requests
id: cl-web
name: cl_web
logsource: {category: webserver}
detection:
  selection: {http.request.method: GET}
  condition: selection
level: informational
---
title: Bytes served
id: cl-bytes
correlation:
  type: value_sum
  rules: [cl_web]
  group-by: [source.ip]
  timespan: 10m
  condition: {field: http.response.body.bytes, gte: 200000}
level: low
---
title: Large median response
id: cl-median
correlation:
  type: value_median
  rules: [cl_web]
  group-by: [source.ip]
  timespan: 10m
  condition: {field: http.response.body.bytes, gte: 9000}
level: low
"#;

const MONTH: &str = "Mar";

/// A syslog clock `s` seconds into March 14.
fn clock(s: u64) -> String {
    format!(
        "{MONTH} 14 {:02}:{:02}:{:02}",
        s / 3600 % 24,
        s / 60 % 60,
        s % 60
    )
}

/// Writes the logs: sshd failures and logins from a few hundred addresses
/// (some bursts, some slow, times now and then a little back), a port scan
/// and scattered blocks in UFW, Apache requests with 404 floods and
/// scanners. Gives how many lines.
fn write_logs(dir: &Path, lines: usize) -> usize {
    let mut rng = Rng(0x005e_edc1);
    let users = ["root", "admin", "oracle", "git", "test", "ubuntu", "deploy"];
    let ip = |rng: &mut Rng| {
        let hot = rng.below(10) < 3;
        let n = if hot { rng.below(6) } else { rng.below(400) };
        format!("203.0.{}.{}", n / 200, n % 200 + 1)
    };
    let each = lines / 3;
    let mut auth = String::new();
    for i in 0..each as u64 {
        let t = (i / 4 + rng.below(3)).saturating_sub(1);
        let from = ip(&mut rng);
        let user = users[rng.index(users.len())];
        let what = if rng.below(25) == 0 {
            "Accepted password"
        } else {
            "Failed password"
        };
        auth.push_str(&format!(
            "{} web01 sshd[{}]: {what} for {user} from {from} port {} ssh2\n",
            clock(t),
            1000 + i % 50,
            30000 + i
        ));
    }
    let mut ufw = String::new();
    for i in 0..each as u64 {
        let t = i / 4;
        let (src, port) = if i % 3 == 0 {
            (format!("198.51.100.{}", 1 + rng.below(3)), 1 + i % 2000)
        } else {
            (format!("192.0.2.{}", 1 + rng.below(200)), 22)
        };
        ufw.push_str(&format!(
            "{} gw01 kernel: [{i}.000001] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC={src} DST=10.0.0.5 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT={} DPT={port} WINDOW=64240 RES=0x00 SYN URGP=0\n",
            clock(t),
            40000 + i % 20000
        ));
    }
    let agents = [
        "Mozilla/5.0 (X11; Linux x86_64)",
        "gobuster/3.6",
        "sqlmap/1.7",
        "curl/8.4.0",
    ];
    let mut access = String::new();
    for i in 0..each as u64 {
        let t = i / 4;
        let from = ip(&mut rng);
        let agent = agents[rng.index(agents.len())];
        let (status, bytes) = if rng.below(3) == 0 {
            (404, 150)
        } else {
            (200, 500 + rng.below(20_000))
        };
        access.push_str(&format!(
            "{from} - - [14/Mar/2025:{:02}:{:02}:{:02} +0000] \"GET /p/{} HTTP/1.1\" {status} {bytes} \"-\" \"{agent}\"\n",
            t / 3600 % 24,
            t / 60 % 60,
            t % 60,
            rng.below(500)
        ));
    }
    std::fs::write(dir.join("auth.log"), auth).unwrap();
    std::fs::write(dir.join("ufw.log"), ufw).unwrap();
    std::fs::write(dir.join("access.log"), access).unwrap();
    each * 3
}

/// Alerts of JSON-lines files, by id: (rule, count, the events' lines).
type Alerts = BTreeMap<String, (String, u64, Vec<u64>)>;

fn alerts_of(paths: &[PathBuf]) -> (Alerts, usize) {
    let mut out = Alerts::new();
    let mut lines = 0;
    for path in paths {
        for line in common::whole_lines(path) {
            lines += 1;
            let a: serde_json::Value = serde_json::from_str(&line).unwrap();
            let events = a["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["log"]["file"]["line"].as_u64().unwrap_or(0))
                .collect();
            out.insert(
                a["id"].as_str().unwrap().to_owned(),
                (
                    a["rule_id"].as_str().unwrap().to_owned(),
                    a["count"].as_u64().unwrap(),
                    events,
                ),
            );
        }
    }
    (out, lines)
}

/// A ClickHouse server for the workers' events and alerts, when installed.
struct House(Option<servers::Server>);

impl House {
    fn start(dir: &Path) -> House {
        let installed = servers::available(
            "ClickHouse",
            Path::new("/usr/sbin/clickhouse-server").exists(),
        );
        House(installed.then(|| servers::Server::start("clickhouse.sh", dir)))
    }

    /// The database of `cluster`, if there is a server.
    fn url(&self, cluster: &str) -> Option<String> {
        let server = self.0.as_ref()?;
        Some(format!("clickhouse://127.0.0.1:{}/{cluster}", server.port))
    }
}

/// A worker's pipeline file.
fn worker_file(
    dir: &Path,
    (servers, house): (&str, &House),
    (cluster, worker): (&str, &str),
) -> PathBuf {
    let path = dir.join(format!("{cluster}-{worker}.yml"));
    let replicas = servers.split(',').count();
    let house = house.url(cluster).map_or(String::new(), |url| {
        format!("  house:\n    type: clickhouse\n    database: {url}\n    take: all\n")
    });
    let text = format!(
        "rules: [{rules}]\ncluster:\n  servers: {servers}\n  name: {cluster}\n  events: logs.events\n  worker: {worker}\n  replicas: {replicas}\n  lease_seconds: 2\n  ack_wait_seconds: 3\nsinks:\n  out:\n    type: file\n    path: {out}\n    take: alerts\n{house}health_seconds: 0\n",
        rules = dir.join("rules.yml").display(),
        out = dir.join(format!("{cluster}-{worker}.jsonl")).display(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// A worker process, killed if the test ends before it does.
struct Worker(Option<Child>);

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Worker {
    /// Kills it (-9) now.
    fn kill(&mut self) {
        drop(Worker(self.0.take()));
    }
}

fn start_worker(dir: &Path, bus: (&str, &House), names: (&str, &str)) -> Worker {
    spawn_worker(dir, bus, names, true)
}

/// [`start_worker`] for a worker among others writing the same database
/// at once: their statements reach ClickHouse in an order of their own,
/// which a replay of the transcript cannot follow, so it records none.
fn start_among(dir: &Path, bus: (&str, &House), names: (&str, &str)) -> Worker {
    spawn_worker(dir, bus, names, false)
}

/// `rampart`, its ClickHouse statements recorded in the transcript or not.
fn recording(record: bool) -> std::process::Command {
    let mut command = rampart();
    if !record {
        command.env_remove("RAMPART_CLICKHOUSE_TRANSCRIPT");
    }
    command
}

fn spawn_worker(dir: &Path, bus: (&str, &House), names: (&str, &str), record: bool) -> Worker {
    let file = worker_file(dir, bus, names);
    let child = recording(record)
        .args([
            "run",
            "--no-db",
            "-q",
            "--once",
            "--threads",
            "1",
            "--config",
        ])
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Worker(Some(child))
}

/// Waits for a worker's end; fails the test on a failure or after 3 minutes.
fn finish(mut worker: Worker, what: &str) {
    let Some(mut child) = worker.0.take() else {
        return;
    };
    let status = ended_within(&mut child, Duration::from_secs(180));
    let mut err = String::new();
    let _ = std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err);
    match status {
        Ok(status) => assert!(status.success(), "{what}: {err}"),
        Err(why) => panic!("{what} did not end ({why}): {err}"),
    }
}

/// The logs written, published by a collector to `servers`, and hunted
/// through: the alerts every cluster must raise.
fn publish_and_hunt(
    dir: &Path,
    servers: &str,
    (lines, per_message): (usize, usize),
) -> (Alerts, usize) {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let n = write_logs(&logs, lines);
    std::fs::write(dir.join("rules.yml"), RULES).unwrap();
    let collector = dir.join("collector.yml");
    let replicas = servers.split(',').count();
    std::fs::write(
        &collector,
        format!(
            "sources:\n  logs:\n    type: file\n    paths: [{logs}]\n    follow: false\nsinks:\n  db:\n    type: store\n    path: {db}\n  bus:\n    type: nats\n    servers: {servers}\n    subject: logs.events\n    replicas: {replicas}\n    records_per_message: {per_message}\n    take: events\nhealth_seconds: 0\n",
            logs = logs.display(),
            db = dir.join("collector.db").display()
        ),
    )
    .unwrap();
    common::ok(
        rampart()
            .args(["run", "--no-db", "-q", "--once", "--config"])
            .arg(&collector)
            .output()
            .unwrap(),
    );
    let hunt = dir.join("hunt.jsonl");
    common::ok(
        rampart()
            .args(["hunt", "--no-db", "--format", "jsonl", "--output"])
            .arg(&hunt)
            .arg("--rules")
            .arg(dir.join("rules.yml"))
            .arg(&logs)
            .output()
            .unwrap(),
    );
    let (expected, written) = alerts_of(&[hunt]);
    assert_eq!(expected.len(), written, "hunt gives each alert once");
    let rules: std::collections::BTreeSet<&str> =
        expected.values().map(|(r, ..)| r.as_str()).collect();
    for rule in [
        "cl-many",
        "cl-then-login",
        "cl-spray",
        "cl-bytes",
        "cl-median",
        "port-scan",
        "ssh-brute-force",
        "web-404-flood",
        "scanner-user-agent",
    ] {
        assert!(rules.contains(rule), "{rule} fires on the logs ({rules:?})");
    }
    eprintln!("{n} lines, {} alerts from hunt", expected.len());
    (expected, n)
}

/// What `rampart cluster status --json` says of the cluster of a
/// worker's file (null while the cluster does not answer).
fn status_of(file: &Path) -> serde_json::Value {
    let out = rampart()
        .args(["cluster", "status", "--json", "--config"])
        .arg(file)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_default()
}

/// Waits until the cluster of a worker's file has taken some events.
fn wait_for_events_taken(file: &Path) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let status = status_of(file);
        if status["events_taken"].as_u64() > Some(0) {
            return status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no event taken"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Fails, saying a few of the differences, unless `got` is `expected`.
fn assert_alerts(expected: &Alerts, got: &Alerts, what: &str) {
    let differ: Vec<String> = expected
        .keys()
        .chain(got.keys().filter(|k| !expected.contains_key(*k)))
        .filter(|k| expected.get(*k) != got.get(*k))
        .take(5)
        .map(|k| format!("{k}: hunt {:?}, cluster {:?}", expected.get(k), got.get(k)))
        .collect();
    assert!(differ.is_empty(), "{what}: {differ:#?}");
}

/// A worker left running with its metrics served: once it has taken every
/// event it owns every partition, no event waits, and its counts say so;
/// SIGTERM ends it cleanly.
fn serves_its_counts(dir: &Path, bus: (&str, &House), lines: usize) {
    let file = worker_file(dir, bus, ("metered", "m"));
    let port = common::free_port();
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(&format!("metrics: 127.0.0.1:{port}\n"));
    std::fs::write(&file, text).unwrap();
    let child = rampart()
        .args(["run", "--no-db", "-q", "--threads", "1", "--config"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let worker = Worker(Some(child));
    let wanted = [
        "rampart_cluster_partitions_owned 17\n".to_owned(),
        "rampart_cluster_partitions_taken_total 17\n".to_owned(),
        "rampart_cluster_events_pending 0\n".to_owned(),
        "rampart_cluster_events_in_hand 0\n".to_owned(),
        format!("rampart_events_total {lines}\n"),
    ];
    let started = Instant::now();
    let mut last = String::new();
    while !wanted.iter().all(|w| last.contains(w.as_str())) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the counts never said so: {last}"
        );
        std::thread::sleep(Duration::from_millis(200));
        if let Ok(r) = ureq::get(&format!("http://127.0.0.1:{port}/metrics")).call() {
            last = r.into_string().unwrap_or_default();
        }
    }
    assert!(
        last.contains("rampart_cluster_state_saves_total "),
        "{last}"
    );
    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(stopped.success());
    finish(worker, "the metered worker");
}

/// Fails unless the ClickHouse database of `cluster` (if there is a
/// server) holds the alerts `expected` and each of the `lines` events once,
/// as `rampart alerts` and `rampart export` read them.
fn assert_house(dir: &Path, house: &House, cluster: &str, (expected, lines): (&Alerts, usize)) {
    assert_house_of(dir, house, cluster, (expected, lines), true);
}

/// [`assert_house`] for a database that workers among others wrote (see
/// [`start_among`]): read without a transcript too, so that a replay sees
/// all of a database's statements or none.
fn assert_house_among(dir: &Path, house: &House, cluster: &str, expected: (&Alerts, usize)) {
    assert_house_of(dir, house, cluster, expected, false);
}

fn assert_house_of(
    dir: &Path,
    house: &House,
    cluster: &str,
    (expected, lines): (&Alerts, usize),
    record: bool,
) {
    let Some(url) = house.url(cluster) else {
        return;
    };
    let listed = dir.join(format!("{cluster}-house-alerts.jsonl"));
    let out = recording(record)
        .args([
            "alerts", "--db", &url, "--format", "jsonl", "--limit", "1000000",
        ])
        .output()
        .unwrap();
    std::fs::write(&listed, common::ok(out)).unwrap();
    let (got, written) = alerts_of(&[listed]);
    assert_alerts(
        expected,
        &got,
        &format!("{cluster}: rampart alerts from ClickHouse"),
    );
    assert_eq!(written, got.len(), "{cluster}: an alert listed twice");
    let events = dir.join(format!("{cluster}-house-events.jsonl"));
    common::ok(
        recording(record)
            .args(["export", "events", "--db", &url, "--output"])
            .arg(&events)
            .output()
            .unwrap(),
    );
    let mut places = std::collections::BTreeSet::new();
    let mut exported = 0;
    for line in common::whole_lines(&events) {
        let e: serde_json::Value = serde_json::from_str(&line).unwrap();
        let file = &e["log"]["file"];
        places.insert((file["path"].to_string(), file["line"].as_u64().unwrap()));
        exported += 1;
    }
    assert_eq!(exported, lines, "{cluster}: every event stored once");
    assert_eq!(places.len(), lines, "{cluster}: every line's event");
}

/// Fails unless the alerts written to `outs` are `expected`, each once.
fn assert_same(expected: &Alerts, outs: &[PathBuf], what: &str) {
    let (got, lines) = alerts_of(outs);
    assert_alerts(expected, &got, what);
    assert_eq!(lines, got.len(), "{what}: an alert written twice");
}

#[test]
fn one_worker_three_and_three_with_one_killed_raise_the_alerts_of_hunt() {
    let Some(bin) = nats_server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&bin, dir.path());
    let house = House::start(dir.path());
    let servers = format!("nats://{}", server.url);
    let bus = (servers.as_str(), &house);
    let (expected, lines) = publish_and_hunt(dir.path(), &servers, (12_000, 1));
    let d = dir.path();

    finish(start_worker(d, bus, ("one", "w1")), "one worker");
    assert_same(&expected, &[d.join("one-w1.jsonl")], "one worker");
    assert_house(d, &house, "one", (&expected, lines));
    serves_its_counts(d, bus, lines);

    let workers: Vec<Worker> = ["a", "b", "c"]
        .iter()
        .map(|w| start_among(d, bus, ("three", w)))
        .collect();
    for (w, child) in ["a", "b", "c"].iter().zip(workers) {
        finish(child, &format!("worker {w} of three"));
    }
    let outs: Vec<PathBuf> = ["a", "b", "c"]
        .iter()
        .map(|w| d.join(format!("three-{w}.jsonl")))
        .collect();
    assert_same(&expected, &outs, "three workers");
    assert_house_among(d, &house, "three", (&expected, lines));

    // Three, one killed mid-stream: it starts alone and takes every
    // partition; once it has taken some events the other two start, and
    // it is killed with its windows open.
    let status_file = worker_file(d, bus, ("killed", "a"));
    let first = start_among(d, bus, ("killed", "b"));
    wait_for_events_taken(&status_file);
    let mut workers: Vec<Worker> = vec![
        start_among(d, bus, ("killed", "a")),
        first,
        start_among(d, bus, ("killed", "c")),
    ];
    std::thread::sleep(Duration::from_millis(300));
    let status = status_of(&status_file);
    workers[1].kill();
    workers.remove(1);
    for (w, child) in ["a", "c"].iter().zip(workers) {
        finish(child, &format!("worker {w} beside the killed one"));
    }
    let outs: Vec<PathBuf> = ["a", "b", "c"]
        .iter()
        .map(|w| d.join(format!("killed-{w}.jsonl")))
        .collect();
    // What the killed worker wrote before it died may come again from
    // the worker that took its partitions over: the same alert, whole.
    let (got, written) = alerts_of(&outs);
    assert_alerts(&expected, &got, "three workers, one killed");
    assert_house_among(d, &house, "killed", (&expected, lines));
    let (taken, published) = (&status["events_taken"], &status["events_published"]);
    eprintln!(
        "worker b killed with {taken} of {published} events taken; {} alerts written twice",
        written - got.len()
    );
    assert!(
        taken.as_u64() < published.as_u64(),
        "the kill came mid-stream"
    );
}

#[test]
fn one_and_three_workers_over_three_nats_nodes_through_a_node_and_a_worker_killed() {
    let Some(bin) = nats_server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::start(&bin, dir.path());
    let house = House::start(dir.path());
    let servers = cluster.urls.join(",");
    let bus = (servers.as_str(), &house);
    let (expected, lines) = publish_and_hunt(dir.path(), &servers, (6_000, 64));
    let d = dir.path();

    finish(
        start_worker(d, bus, ("nodes1", "w1")),
        "one worker over three nodes",
    );
    assert_same(
        &expected,
        &[d.join("nodes1-w1.jsonl")],
        "one worker over three nodes",
    );
    assert_house(d, &house, "nodes1", (&expected, lines));

    // Three workers; once they have taken some of the events, a NATS node
    // and then a worker are killed (-9).
    let mut workers: Vec<Worker> = ["a", "b", "c"]
        .iter()
        .map(|w| start_among(d, bus, ("nodes", w)))
        .collect();
    wait_for_events_taken(&worker_file(d, bus, ("nodes", "a")));
    cluster.kill(0);
    workers[1].kill();
    workers.remove(1);
    for (w, child) in ["a", "c"].iter().zip(workers) {
        finish(child, &format!("worker {w}"));
    }
    let outs: Vec<PathBuf> = ["a", "b", "c"]
        .iter()
        .map(|w| d.join(format!("nodes-{w}.jsonl")))
        .collect();
    let (got, _) = alerts_of(&outs);
    assert_alerts(&expected, &got, "a NATS node and a worker killed");
    assert_house_among(d, &house, "nodes", (&expected, lines));
}
