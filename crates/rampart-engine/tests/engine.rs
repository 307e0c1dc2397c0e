//! The engine end to end: files in, alerts out through a sink, with what a
//! caller watches (dead letters, finished files) and what a config does.

use std::path::{Path, PathBuf};

use rampart_detect::{builtin, load_text, Alert, CompileOptions, Loaded, RuleSet, Tuning};
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
    let rules = RuleSet::build(builtin_pack(), &CompileOptions::default());
    let mut engine = Engine::new(rules, Enrichers::default(), tuning, Scope::default());
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
