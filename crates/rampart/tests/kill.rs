//! `ingest`, and `rampart run` reading files into the store, killed at any
//! moment (SIGKILL, some kills inside a commit) and run again give exactly
//! the database one uninterrupted run gives:
//! the same events, unreadable lines, alerts with their counts and events,
//! file checkpoints and open correlation and dedup windows. Only the
//! record of runs and the times things were stored differ.
//!
//! Over a mix of formats (sshd, Apache, UFW, a Windows CSV, a line of no
//! format), with brute forces, port scans and 404 floods whose windows are
//! open across commits and across kills, and a rotation between the two
//! halves. The kill times are random; the seed is printed (set
//! `RAMPART_KILL_SEED` to replay one).
//!
//! `ingest` into ClickHouse is killed the same way (fewer times: each run
//! starts slower): its tables, each event and alert counted once as the
//! backend's readers count them, and its saved windows come out as an
//! uninterrupted run's, whose events and alerts are the SQLite store's.

mod common;
mod servers;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Rng;

/// Kills in each half.
const KILLS: usize = 28;

/// Kills in each half of a run into ClickHouse.
const HOUSE_KILLS: usize = 10;

/// When a run is killed.
#[derive(Clone, Copy)]
enum KillAt {
    /// Mostly once the store has grown by a random few hundred events,
    /// after up to this much more: a SQLite commit is quick, and this
    /// puts the kills all along the input and often inside a commit.
    Grown(Duration),
    /// Once started, at a random moment of the time an uninterrupted run
    /// takes over what is left: a commit into ClickHouse is several
    /// requests, long enough for a random moment to fall inside one.
    Anywhere,
}

/// Events per commit: many commits per run, so that kills land in them.
const COMMIT_EVENTS: &str = "150";

/// sshd failures and logins: bursts from a few addresses, slow guessers,
/// logins that repeat (the dedup rule folds them).
fn auth(rng: &mut Rng, from: u32, lines: u32) -> String {
    let mut out = String::new();
    for i in from..from + lines {
        let s = i * 2;
        let (h, m, sec) = (s / 3600 % 24, s / 60 % 60, s % 60);
        let ip = format!("203.0.113.{}", rng.below(12));
        if rng.below(9) == 0 {
            let user = ["alice", "bob"][rng.below(2) as usize];
            let _ = writeln!(
                out,
                "Mar 14 {h:02}:{m:02}:{sec:02} web01 sshd[{}]: Accepted password for {user} from {ip} port {} ssh2",
                100 + i % 900,
                40000 + i % 20000
            );
        } else {
            let _ = writeln!(
                out,
                "Mar 14 {h:02}:{m:02}:{sec:02} web01 sshd[{}]: Failed password for root from {ip} port {} ssh2",
                100 + i % 900,
                40000 + i % 20000
            );
        }
    }
    out
}

/// Apache lines: scanners asking for pages that are not there.
fn access(rng: &mut Rng, from: u32, lines: u32) -> String {
    let mut out = String::new();
    for i in from..from + lines {
        let s = i * 3;
        let ip = format!("198.51.100.{}", rng.below(6));
        let status = if rng.below(4) == 0 { 200 } else { 404 };
        let _ = writeln!(
            out,
            "{ip} - - [14/Mar/2025:{:02}:{:02}:{:02} +0000] \"GET /p{} HTTP/1.1\" {status} 209 \"-\" \"gobuster/3.6\"",
            s / 3600 % 24,
            s / 60 % 60,
            s % 60,
            rng.below(5000)
        );
    }
    out
}

/// UFW blocks: sources probing many ports.
fn ufw(rng: &mut Rng, from: u32, lines: u32) -> String {
    let mut out = String::new();
    for i in from..from + lines {
        let s = i;
        let ip = format!("192.0.2.{}", rng.below(4));
        let _ = writeln!(
            out,
            "Mar 14 {:02}:{:02}:{:02} fw01 kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:aa:bb:cc:00:16:3e:dd:ee:ff:08:00 SRC={ip} DST=10.0.0.5 LEN=44 TOS=0x00 PREC=0x00 TTL=52 ID=54321 PROTO=TCP SPT=40000 DPT={} WINDOW=1024 RES=0x00 SYN URGP=0",
            s / 3600 % 24,
            s / 60 % 60,
            s % 60,
            1 + rng.below(65535)
        );
        if i % 997 == 0 {
            out.push_str("a line in no format at all\n");
        }
    }
    out
}

/// A Windows CSV export, each Event ID repeated (the watch list folds
/// them per host and Event ID).
fn windows(rng: &mut Rng, rows: u32) -> String {
    let mut out = String::from("EventID,UtcTime,Image,ProcessName,CommandLine\n");
    for i in 0..rows {
        let id = [1, 3, 11, 4624, 4688][rng.below(5) as usize];
        let _ = writeln!(
            out,
            "{id},2025-01-15 {:02}:{:02}:{:02}.123,C:\\Windows\\System32\\cmd.exe,cmd.exe,cmd.exe /c dir {i}",
            9 + i / 3600,
            i / 60 % 60,
            i % 60
        );
    }
    out
}

/// A rule of the test's own: logins folded per user over ten minutes.
const DEDUP_RULE: &str = "title: SSH login
id: test-ssh-login
logsource: {product: linux, service: sshd}
detection:
  selection: {event.action: ssh-login, event.outcome: success}
  condition: selection
level: low
rampart:
  group: [user.name]
  dedup: 10m
";

/// The logs of the first half, written afresh.
fn first_half(logs: &Path, seed: u64) {
    let _ = std::fs::remove_dir_all(logs);
    std::fs::create_dir_all(logs).unwrap();
    let mut rng = Rng(seed);
    std::fs::write(logs.join("auth.log"), auth(&mut rng, 0, 8000)).unwrap();
    std::fs::write(logs.join("access.log"), access(&mut rng, 0, 4000)).unwrap();
    std::fs::write(logs.join("ufw.log"), ufw(&mut rng, 0, 8000)).unwrap();
    std::fs::write(logs.join("security.csv"), windows(&mut rng, 600)).unwrap();
}

/// The second half: auth.log rotated (renamed, a new one started),
/// access.log grown.
fn second_half(logs: &Path, seed: u64) {
    let mut rng = Rng(seed ^ 0x5555);
    std::fs::rename(logs.join("auth.log"), logs.join("auth.log.1")).unwrap();
    std::fs::write(logs.join("auth.log"), auth(&mut rng, 8000, 10000)).unwrap();
    let mut access_log = std::fs::OpenOptions::new()
        .append(true)
        .open(logs.join("access.log"))
        .unwrap();
    std::io::Write::write_all(&mut access_log, access(&mut rng, 4000, 10000).as_bytes()).unwrap();
}

/// The command killed: `ingest`, or `run` with a file source (read once)
/// and a store sink.
#[derive(Clone, Copy)]
enum Writer {
    Ingest,
    Run,
}

/// The database written: a SQLite file, or a ClickHouse database (its
/// `--db` address and its HTTP address).
enum Db {
    File(PathBuf),
    House { url: String, http: String },
}

impl Db {
    /// A ClickHouse database named `name` of the server on `port`.
    fn house(port: u16, name: &str) -> Db {
        Db::House {
            url: format!("clickhouse://127.0.0.1:{port}/{name}"),
            http: format!("http://127.0.0.1:{port}/?database={name}"),
        }
    }

    fn arg(&self) -> &std::ffi::OsStr {
        match self {
            Db::File(path) => path.as_os_str(),
            Db::House { url, .. } => url.as_ref(),
        }
    }
}

/// The rows `sql` selects from ClickHouse at `http`, each as its JSON
/// (none while the database is not there yet).
fn house_rows(http: &str, sql: &str) -> Vec<String> {
    let Ok(answer) = ureq::post(http).send_string(&format!("{sql} FORMAT JSONEachRow")) else {
        return Vec::new();
    };
    let mut text = String::new();
    std::io::Read::read_to_string(&mut answer.into_reader(), &mut text).unwrap();
    text.lines().map(str::to_owned).collect()
}

fn command(writer: Writer, db: &Db, logs: &Path, rules: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rampart"));
    cmd.arg("--db").arg(db.arg());
    match writer {
        Writer::Ingest => {
            cmd.args(["ingest", "--year", "2025", "-q", "--commit-events"])
                .arg(COMMIT_EVENTS)
                .arg("--rules")
                .arg(rules)
                .arg(logs);
        }
        Writer::Run => {
            let Db::File(db) = db else {
                unreachable!("`run` stores into a file")
            };
            let config = db.with_extension("yml");
            std::fs::write(
                &config,
                format!(
                    "rules: [{}]\nsources:\n  logs:\n    type: file\n    paths: [{}]\n    follow: false\nsinks:\n  db:\n    type: store\n    path: {}\n    commit_events: {COMMIT_EVENTS}\nhealth_seconds: 0\n",
                    rules.display(),
                    logs.display(),
                    db.display()
                ),
            )
            .unwrap();
            cmd.args(["run", "-q", "--no-db", "--config"]).arg(config);
        }
    }
    // Not in CI's record of ClickHouse statements, run again on today's
    // engine: a statement recorded by a run killed before it was sent
    // would be run there and not here.
    cmd.env_remove("RAMPART_DB")
        .env_remove("RAMPART_CONFIG")
        .env_remove("RAMPART_CLICKHOUSE_TRANSCRIPT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// Runs the writer to its end; gives how long it took.
fn complete(writer: Writer, db: &Db, logs: &Path, rules: &Path) -> Duration {
    let started = Instant::now();
    let out = command(writer, db, logs, rules).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed()
}

/// Events stored in `db` (none while it is not there yet).
fn stored(db: &Db) -> i64 {
    let db = match db {
        Db::File(path) => path,
        Db::House { http, .. } => {
            let rows = house_rows(http, "SELECT toString(uniqExact(id)) AS n FROM events");
            return rows.first().map_or(0, |r| {
                let row: serde_json::Value = serde_json::from_str(r).unwrap();
                row["n"].as_str().unwrap().parse().unwrap()
            });
        }
    };
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap_or(0)
}

/// Starts ingest and kills it `kills` times before its end (see
/// [`KillAt`]; besides, one kill in five comes while the run starts), then
/// runs it to its end. `start` is how long a run with nothing to read
/// takes, `whole` an uninterrupted run. Gives the number of kills, and
/// adds to `progress` the events stored after each.
fn with_kills(
    writer: Writer,
    db: &Db,
    (logs, rules): (&Path, &Path),
    (start, whole, total): (Duration, Duration, i64),
    (kills, at): (usize, KillAt),
    rng: &mut Rng,
    progress: &mut std::collections::BTreeSet<i64>,
) -> usize {
    let mut killed = 0;
    while killed < kills {
        let before = stored(db);
        if before >= total {
            break;
        }
        let mut child = command(writer, db, logs, rules).spawn().unwrap();
        let part = |of: Duration, rng: &mut Rng| of.mul_f64(rng.below(1000) as f64 / 1000.0);
        match at {
            _ if rng.below(5) == 0 => std::thread::sleep(part(start, rng)),
            KillAt::Anywhere => {
                // Within the first 80 % of what is left, so that few runs
                // end before their kill.
                let left = (total - before) as f64 / total as f64;
                let rest = whole.saturating_sub(start).mul_f64(left * 0.8);
                std::thread::sleep(start + part(rest, rng));
            }
            KillAt::Grown(settle) => {
                let target = before + 1 + rng.below(300) as i64;
                while stored(db) < target && child.try_wait().unwrap().is_none() {
                    std::thread::sleep(Duration::from_millis(2));
                }
                std::thread::sleep(part(settle, rng));
            }
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
        progress.insert(stored(db));
    }
    complete(writer, db, logs, rules);
    killed
}

/// Every table a run writes, as sorted text rows, without the columns
/// that hold when things were stored.
fn dump(db: &Db) -> Vec<(String, Vec<String>)> {
    let db = match db {
        Db::File(path) => path,
        Db::House { http, .. } => return house_dump(http),
    };
    let conn = rusqlite::Connection::open(db).unwrap();
    // The full-text index's file, beside the database.
    let text = format!("{}-text", db.display());
    conn.execute("ATTACH DATABASE ?1 AS text", [&text]).unwrap();
    let tables = [
        (
            "events",
            "SELECT id, time, dataset, host, source_ip, destination_ip, user_name, event_code, severity, line, doc FROM events ORDER BY id",
        ),
        (
            "dead_letters",
            "SELECT source, ordinal, line, reason, text FROM dead_letters ORDER BY source, ordinal",
        ),
        (
            "sources",
            "SELECT id, fp_len, fp_hash, path, format, events, dead FROM sources ORDER BY id",
        ),
        (
            "alerts",
            "SELECT id, rule_id, title, severity, time, first_seen, last_seen, count, host, source_ip, grp, status, doc FROM alerts ORDER BY id",
        ),
        ("alert_events", "SELECT alert, event FROM alert_events ORDER BY alert, event"),
        ("event_hours", "SELECT dataset, hour, n FROM event_hours ORDER BY dataset, hour"),
        (
            "correlation_state",
            "SELECT rule, shape, hex(parts) FROM correlation_state ORDER BY rule",
        ),
        (
            "correlation_groups",
            "SELECT rule, hex(grp), hex(state) FROM correlation_groups ORDER BY rule, grp",
        ),
        ("dedup_open", "SELECT rule, grp, hex(alert) FROM dedup_open ORDER BY rule, grp"),
        (
            "search",
            "SELECT rowid FROM events_text WHERE events_text MATCH 'password OR gobuster OR ufw' ORDER BY rowid",
        ),
        // Each word with how many events hold it: an event indexed twice,
        // or left in the index when its row was lost, shows here.
        ("words", "SELECT term, doc FROM events_vocab ORDER BY term"),
        ("indexed", "SELECT source, through FROM text.indexed ORDER BY source"),
    ];
    tables
        .iter()
        .map(|(name, sql)| {
            let mut stmt = conn.prepare(sql).unwrap();
            let columns = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    let mut row = String::new();
                    for c in 0..columns {
                        let v: rusqlite::types::Value = r.get(c)?;
                        let _ = write!(row, "{v:?}|");
                    }
                    Ok(row)
                })
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            ((*name).to_owned(), rows)
        })
        .collect()
}

/// What a run into ClickHouse wrote, as [`dump`] gives a SQLite file's:
/// each event, unreadable line and alert once (an alert as its newest
/// version), how far each file was read, and the windows saved (read as
/// `ingest_state` says: each one's newest version, unless it ended or its
/// rule's windows were all dropped after it). Read over HTTP, not through
/// rampart: the test's own queries stay out of CI's record of statements.
fn house_dump(http: &str) -> Vec<(String, Vec<String>)> {
    let windows = |kind: &str| {
        format!(
            "SELECT k1, k2, t, a FROM
                (SELECT kind, k1, k2, argMax(text, seq) AS t, argMax(n1, seq) AS a,
                     argMax(gone, seq) AS g, max(seq) AS last
                 FROM ingest_state WHERE kind = '{kind}' GROUP BY kind, k1, k2)
             ANY LEFT JOIN
                (SELECT k1, max(seq) AS reset FROM ingest_state WHERE kind = 'reset' GROUP BY k1)
             USING k1
             WHERE g = 0 AND ('{kind}' = 'dedup' OR last >= reset)
             ORDER BY k1, k2"
        )
    };
    let tables = [
        (
            "events",
            "SELECT DISTINCT id, time, timed, dataset, host, source_ip, destination_ip, user_name,
                 event_code, severity, level, protocol, threat, text, keys, vals, nums, numeric,
                 addrs, doc FROM events ORDER BY id",
        ),
        (
            "dead_letters",
            "SELECT DISTINCT id, source, line, reason, text FROM dead_letters ORDER BY id",
        ),
        (
            "sources",
            "SELECT kind, k1, argMax(text, seq) AS t, argMax(n1, seq) AS a, argMax(n2, seq) AS b
             FROM ingest_state WHERE kind IN ('source', 'progress')
             GROUP BY kind, k1 ORDER BY kind, k1",
        ),
        (
            "alerts",
            "SELECT id, argMax(rule_id, updated) AS r, argMax(title, updated) AS t,
                 argMax(severity, updated) AS s, argMax(time, updated) AS at,
                 argMax(first_seen, updated) AS f, argMax(last_seen, updated) AS l,
                 argMax(count, updated) AS c, argMax(host, updated) AS h,
                 argMax(source_ip, updated) AS i, argMax(dataset, updated) AS d,
                 argMax(protocol, updated) AS p, argMax(doc, updated) AS j,
                 argMax(events, updated) AS e
             FROM alerts GROUP BY id ORDER BY id",
        ),
        ("correlation_state", &windows("rule")),
        ("correlation_groups", &windows("group")),
        ("dedup_open", &windows("dedup")),
    ];
    tables
        .iter()
        .map(|(name, sql)| ((*name).to_owned(), house_rows(http, sql)))
        .collect()
}

#[test]
fn ingest_killed_at_random_moments_gives_the_database_of_an_uninterrupted_run() {
    killed_into_files(Writer::Ingest);
}

#[test]
fn run_killed_at_random_moments_gives_the_database_of_an_uninterrupted_run() {
    killed_into_files(Writer::Run);
}

/// `writer` killed at random moments into a SQLite file, against one run
/// uninterrupted into another.
fn killed_into_files(writer: Writer) {
    let dir = tempfile::tempdir().unwrap();
    let dbs = [
        Db::File(dir.path().join("whole.db")),
        Db::File(dir.path().join("killed.db")),
    ];
    let at = KillAt::Grown(Duration::from_millis(20));
    killed_at_random_moments(writer, &dbs, (KILLS, at), dir.path());
}

#[test]
fn ingest_into_clickhouse_killed_at_random_moments_gives_an_uninterrupted_runs_tables() {
    let installed = std::path::Path::new("/usr/bin/clickhouse-server").exists()
        || std::path::Path::new("/usr/sbin/clickhouse-server").exists();
    if !servers::available("ClickHouse", installed) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = servers::Server::start("clickhouse.sh", dir.path());
    let dbs = [
        Db::house(server.port, "kill_whole"),
        Db::house(server.port, "kill_killed"),
    ];
    killed_at_random_moments(
        Writer::Ingest,
        &dbs,
        (HOUSE_KILLS, KillAt::Anywhere),
        dir.path(),
    );
    // The uninterrupted run's events and alerts are those of the SQLite
    // store over the same logs.
    let Db::House { http, .. } = &dbs[0] else {
        unreachable!()
    };
    let file = Db::File(dir.path().join("file.db"));
    let logs = dir.path().join("logs");
    let rules = dir.path().join("login.yml");
    let seed = kill_seed();
    first_half(&logs, seed);
    complete(Writer::Ingest, &file, &logs, &rules);
    second_half(&logs, seed);
    complete(Writer::Ingest, &file, &logs, &rules);
    let Db::File(path) = &file else {
        unreachable!()
    };
    let conn = rusqlite::Connection::open(path).unwrap();
    let sqlite = |sql: &str| -> Vec<String> {
        let mut stmt = conn.prepare(sql).unwrap();
        stmt.query_map([], |r| {
            Ok(format!(
                "{}|{}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    let house = |sql: &str| -> Vec<String> {
        house_rows(http, sql)
            .iter()
            .map(|r| {
                let v: serde_json::Value = serde_json::from_str(r).unwrap();
                format!("{}|{}", v["a"].as_str().unwrap(), v["b"].as_str().unwrap())
            })
            .collect()
    };
    let events = sqlite("SELECT CAST(id AS TEXT), doc FROM events ORDER BY CAST(id AS TEXT)");
    assert!(events.len() > 10_000);
    assert_eq!(
        events,
        house("SELECT DISTINCT toString(id) AS a, doc AS b FROM events ORDER BY a"),
        "the events"
    );
    let alerts = sqlite("SELECT id, CAST(count AS TEXT) || ' ' || doc FROM alerts ORDER BY id");
    assert_eq!(
        alerts,
        house(
            "SELECT id AS a, concat(toString(argMax(count, updated)), ' ', argMax(doc, updated)) AS b
             FROM alerts GROUP BY id ORDER BY id"
        ),
        "the alerts"
    );
}

/// The seed of the kill times and the logs: `RAMPART_KILL_SEED`, or one
/// from the clock, read once per test.
fn kill_seed() -> u64 {
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| {
        std::env::var("RAMPART_KILL_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            })
    })
}

/// Runs `writer` whole into the first of `dbs`, and killed `kills` times
/// in each half into the second, with logs and rules in `dir`; their
/// tables must be the same.
fn killed_at_random_moments(
    writer: Writer,
    [whole, killed_db]: &[Db; 2],
    (kills, at): (usize, KillAt),
    dir: &Path,
) {
    // One at a time: a run slowed by another test's would end before
    // the moments chosen from an uninterrupted run's time.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let seed = kill_seed();
    println!("RAMPART_KILL_SEED={seed}");
    let logs: PathBuf = dir.join("logs");
    let rules = dir.join("login.yml");
    std::fs::write(&rules, DEDUP_RULE).unwrap();

    first_half(&logs, seed);
    let first_time = complete(writer, whole, &logs, &rules);
    let first_total = stored(whole);
    second_half(&logs, seed);
    let second_time = complete(writer, whole, &logs, &rules);
    let second_total = stored(whole);
    // A run with nothing new to read: how long starting takes.
    let start = complete(writer, whole, &logs, &rules);
    assert_eq!(stored(whole), second_total, "a run again adds nothing");

    let mut rng = Rng(seed);
    let mut progress = std::collections::BTreeSet::new();
    first_half(&logs, seed);
    let mut killed = with_kills(
        writer,
        killed_db,
        (&logs, &rules),
        (start, first_time, first_total),
        (kills, at),
        &mut rng,
        &mut progress,
    );
    second_half(&logs, seed);
    killed += with_kills(
        writer,
        killed_db,
        (&logs, &rules),
        (start, second_time, second_total),
        (kills, at),
        &mut rng,
        &mut progress,
    );

    let (want, got) = (dump(whole), dump(killed_db));
    let sizes: Vec<(String, usize)> = want.iter().map(|(n, r)| (n.clone(), r.len())).collect();
    println!("{killed} runs killed; tables: {sizes:?}");
    assert!(
        killed + 6 >= 2 * kills,
        "only {killed} runs were killed before their end"
    );
    // The kills fell all along the runs, not only before the first commit.
    println!("events stored when killed: {progress:?}");
    assert!(
        progress.len() * 14 >= kills * 10,
        "kills left the store at only {} points: {progress:?}",
        progress.len()
    );
    for (name, least) in [
        ("events", 10_000),
        ("dead_letters", 2),
        ("alerts", 10),
        ("correlation_groups", 1),
        ("dedup_open", 1),
    ] {
        let n = want.iter().find(|(t, _)| t == name).unwrap().1.len();
        assert!(
            n >= least,
            "{name}: {n} rows, the test means at least {least}"
        );
    }
    for ((name, want), (_, got)) in want.iter().zip(&got) {
        if want != got {
            let first = want
                .iter()
                .zip(got)
                .position(|(a, b)| a != b)
                .unwrap_or(want.len().min(got.len()));
            panic!(
                "{name} differs (seed {seed}): {} rows against {}; first difference at row {first}:\n  whole:  {}\n  killed: {}",
                want.len(),
                got.len(),
                want.get(first).map_or("(none)", |s| &s[..s.len().min(600)]),
                got.get(first).map_or("(none)", |s| &s[..s.len().min(600)]),
            );
        }
    }
}
