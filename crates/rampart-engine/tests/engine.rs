//! The engine end to end: files in, alerts out through a sink, with what a
//! caller watches (dead letters, finished files) and what a config does.

use std::path::{Path, PathBuf};

use rampart_detect::{builtin, load_text, Alert, CompileOptions, Level, Loaded, RuleSet, Tuning};
use rampart_engine::{Engine, Scope, Watch};
use rampart_intel::Enrichers;
use rampart_io::{discover, FileReport, Input, ReadOptions};
use rampart_parse::DeadLetter;

#[derive(Default)]
struct Seen {
    dead: Vec<(PathBuf, u64)>,
    files: Vec<FileReport>,
}

impl Watch for Seen {
    fn dead(&mut self, input: &Input, dead: &[DeadLetter]) {
        self.dead
            .extend(dead.iter().map(|d| (input.path.clone(), d.line)));
    }

    fn file_done(&mut self, report: FileReport) {
        self.files.push(report);
    }
}

fn builtin_pack() -> Loaded {
    let mut loaded = Loaded::default();
    for (name, text) in builtin::PACK {
        loaded.extend(load_text(text, format!("builtin:{name}").into()));
    }
    loaded
}

/// Twelve failed passwords from one address in two minutes, an accepted
/// login from another, and a line of no format.
fn write_auth_log(dir: &Path) -> PathBuf {
    let mut text = String::new();
    for i in 0..12 {
        text.push_str(&format!(
            "Mar 14 03:2{}:{:02} bastion sshd[4242]: Failed password for root from 203.0.113.7 port {} ssh2\n",
            i / 6,
            i * 10 % 60,
            40000 + i
        ));
    }
    text.push_str("Mar 14 03:25:00 bastion sshd[4243]: Accepted publickey for ops from 198.51.100.4 port 50000 ssh2\n");
    text.push_str("\u{1}\u{2}\u{3} binary junk\n");
    let path = dir.join("auth.log");
    std::fs::write(&path, text).unwrap();
    path
}

fn run(tuning: Tuning, dir: &Path) -> (Vec<Alert>, Seen, rampart_engine::Tally) {
    run_scoped(tuning, Scope::default(), dir)
}

fn run_scoped(
    tuning: Tuning,
    scope: Scope,
    dir: &Path,
) -> (Vec<Alert>, Seen, rampart_engine::Tally) {
    let rules = RuleSet::build(builtin_pack(), &CompileOptions::default());
    let mut engine = Engine::new(rules, Enrichers::default(), tuning, scope);
    let (inputs, missing) = discover(&[dir.to_path_buf()]);
    assert!(missing.is_empty());
    let options = ReadOptions {
        parse: rampart_parse::ParseOptions {
            year: Some(2025),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut alerts = Vec::new();
    let mut seen = Seen::default();
    let tally = engine.run(&inputs, &options, &mut alerts, &mut seen);
    (alerts, seen, tally)
}

#[test]
fn a_brute_force_burst_is_one_alert_and_the_junk_a_dead_letter() {
    let dir = tempfile::tempdir().unwrap();
    let log = write_auth_log(dir.path());
    let (alerts, seen, tally) = run(Tuning::default(), dir.path());
    let brute: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.rule_id == "ssh-brute-force")
        .collect();
    assert_eq!(
        brute.len(),
        1,
        "{:?}",
        alerts.iter().map(|a| &a.rule_id).collect::<Vec<_>>()
    );
    assert_eq!(brute[0].count, 12);
    assert_eq!(
        brute[0].group,
        [("source.ip".to_owned(), "203.0.113.7".to_owned())]
    );
    assert_eq!(tally.alerts(), alerts.len() as u64);
    assert_eq!(seen.dead, [(log.clone(), 14)]);
    assert_eq!(seen.files.len(), 1);
    assert_eq!(seen.files[0].path, log);
}

#[test]
fn the_config_suppresses_and_the_tally_says_so() {
    let dir = tempfile::tempdir().unwrap();
    write_auth_log(dir.path());
    let (all, _, _) = run(Tuning::default(), dir.path());
    let tuning = Tuning::from_yaml(
        "suppress:\n  - rule: ssh-brute-force\n    field: source.ip\n    values: [203.0.113.0/24]\n",
    )
    .unwrap();
    let (kept, _, tally) = run(tuning, dir.path());
    assert!(kept.iter().all(|a| a.rule_id != "ssh-brute-force"));
    assert_eq!(kept.len() + 1, all.len());
    assert_eq!(tally.suppressed, 1);
}

#[test]
fn detections_of_other_tools_pass_through_with_their_signature_and_severity() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("eve.json"),
        concat!(
            r#"{"timestamp":"2025-03-14T10:01:02.123456+0000","event_type":"alert","src_ip":"203.0.113.51","src_port":51514,"dest_ip":"10.0.0.5","dest_port":22,"proto":"TCP","alert":{"action":"allowed","signature_id":9000010,"signature":"LOCAL SCAN Inbound SSH SYN","category":"Attempted Information Leak","severity":2}}"#,
            "\n",
            r#"{"timestamp":"2025-03-14T10:01:10.500001+0000","event_type":"alert","src_ip":"192.0.2.133","src_port":44310,"dest_ip":"10.0.0.80","dest_port":80,"proto":"TCP","alert":{"action":"blocked","signature_id":2024897,"signature":"ET EXPLOIT Apache Struts RCE attempt","category":"Attempted Administrator Privilege Gain","severity":1}}"#,
            "\n",
        ),
    )
    .unwrap();
    let (alerts, _, _) = run(Tuning::default(), dir.path());
    let got: Vec<(&str, Level)> = alerts
        .iter()
        .filter(|a| a.rule_id == "suricata-alert")
        .map(|a| (a.title.as_str(), a.severity))
        .collect();
    assert_eq!(
        got,
        [
            ("LOCAL SCAN Inbound SSH SYN", Level::Medium),
            ("ET EXPLOIT Apache Struts RCE attempt", Level::High)
        ]
    );
    // The level the source gave decides what a minimum level keeps.
    let high = Scope {
        min: Level::High,
        ..Scope::default()
    };
    let (alerts, _, _) = run_scoped(Tuning::default(), high, dir.path());
    let titles: Vec<&str> = alerts.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(titles, ["ET EXPLOIT Apache Struts RCE attempt"]);
}

/// Everything a run hands on, kept (open alerts too).
#[derive(Default)]
struct Collect {
    alerts: Vec<Alert>,
    open: Vec<Alert>,
    events: usize,
}

impl rampart_engine::Sink for Collect {
    fn dead(&mut self, _: &Input, _: &[DeadLetter]) {}

    fn alert(&mut self, alert: Alert) -> std::io::Result<()> {
        self.alerts.push(alert);
        Ok(())
    }

    fn events(&mut self, _: &Input, events: Vec<rampart_event::Event>) {
        self.events += events.len();
    }

    fn wants_open_alerts(&self) -> bool {
        true
    }

    fn open_alert(&mut self, alert: Alert) {
        self.open.push(alert);
    }

    fn file_done(&mut self, _: FileReport) {}
}

#[test]
fn passes_keep_correlations_open_until_closed() {
    // The twelve failures arrive in two halves, read by two passes (what
    // `ingest --follow` does as a log grows): one burst, as in one run.
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read_to_string(write_auth_log(dir.path())).unwrap();
    let lines: Vec<&str> = whole.lines().take(12).collect();
    let halves = [dir.path().join("a.log"), dir.path().join("b.log")];
    std::fs::write(&halves[0], lines[..6].join("\n") + "\n").unwrap();
    std::fs::write(&halves[1], lines[6..].join("\n") + "\n").unwrap();
    let rules = RuleSet::build(builtin_pack(), &CompileOptions::default());
    let mut engine = Engine::new(
        rules,
        Enrichers::default(),
        Tuning::default(),
        Scope::default(),
    );
    let options = ReadOptions {
        parse: rampart_parse::ParseOptions {
            year: Some(2025),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut out = Collect::default();
    let mut tally = None;
    for half in &halves {
        let (inputs, _) = discover(std::slice::from_ref(half));
        tally = Some(engine.pass(&inputs, &options, &mut out));
        assert!(
            out.alerts.iter().all(|a| a.rule_id != "ssh-brute-force"),
            "the burst is still open"
        );
    }
    // Meanwhile the open burst was handed on as it grew: first at the
    // threshold's crossing, then at each batch it grew in, the same alert.
    let open: Vec<(String, u64)> = out
        .open
        .iter()
        .filter(|a| a.rule_id == "ssh-brute-force")
        .map(|a| (a.id.clone(), a.count))
        .collect();
    assert_eq!(open.len(), 2, "{open:?}");
    assert_eq!(open[0].1, 6);
    assert_eq!(open[1].1, 12);
    assert_eq!(open[0].0, open[1].0);
    let tally = engine.close(&mut out, tally.unwrap());
    let brute: Vec<&Alert> = out
        .alerts
        .iter()
        .filter(|a| a.rule_id == "ssh-brute-force")
        .collect();
    assert_eq!(brute.len(), 1);
    assert_eq!(brute[0].count, 12);
    assert_eq!(
        brute[0].id, open[0].0,
        "closed as the alert it was while open"
    );
    assert_eq!(out.events, 12);
    assert!(tally.alerts() >= 1);
}
