//! The same alerts, byte for byte and in the same order, whatever the
//! number of threads: 1, 2 and 8 threads over the shared corpora (Windows
//! EVTX attack samples, loghub's Linux, SSH and Apache logs, Suricata and
//! Zeek captures, OTRF's datasets) with every SigmaHQ rule, the built-in
//! pack and the IPsum feed. Skipped when the corpora are absent.

use std::path::{Path, PathBuf};

#[path = "../../rampart-detect/tests/common/mod.rs"]
mod common;
use common::corpora;

use rampart_detect::{builtin, load_path, load_text, CompileOptions, Loaded, RuleSet, Tuning};
use rampart_engine::{Engine, Scope, Watch};
use rampart_intel::{read_file, Enrichers, FeedOptions, IntelTable};
use rampart_io::{discover, FileReport, Input, ReadOptions};
use rampart_parse::DeadLetter;

struct Quiet;

impl Watch for Quiet {
    fn dead(&mut self, _: &Input, _: &[DeadLetter]) {}
    fn file_done(&mut self, _: FileReport) {}
}

/// Every alert of a run, as the JSON lines output writes it.
fn alerts(threads: usize, inputs: &[Input], rules: Loaded, feed: &Path) -> Vec<String> {
    let mut table = IntelTable::new(false);
    for indicator in read_file(feed, &FeedOptions::default()).unwrap().indicators {
        table.add(indicator).unwrap();
    }
    let enrichers = Enrichers {
        intel: Some(table),
        ..Enrichers::default()
    };
    let rules = RuleSet::build(rules, &CompileOptions::default());
    let mut engine = Engine::new(rules, enrichers, Tuning::default(), Scope::default());
    let options = ReadOptions {
        threads,
        parse: rampart_parse::ParseOptions {
            year: Some(2025),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut sink = Vec::new();
    engine.run(inputs, &options, &mut sink, &mut Quiet);
    sink.iter()
        .map(|a| {
            let mut line = Vec::new();
            a.write_json(&mut line).unwrap();
            String::from_utf8(line).unwrap()
        })
        .collect()
}

#[test]
fn one_two_and_eight_threads_give_the_same_alerts() {
    let (Some(sigma), Some(feed)) = (corpora("sigma/rules"), corpora("ipsum/ipsum.txt")) else {
        return;
    };
    let dirs: Vec<PathBuf> = [
        "evtx-attack-samples",
        "loghub",
        "suricata",
        "zeek",
        "otrf-security-datasets",
    ]
    .iter()
    .filter_map(|d| corpora(d))
    .collect();
    let (inputs, _) = discover(&dirs);
    let rules = || {
        let mut loaded = load_path(&sigma);
        for (name, text) in builtin::PACK {
            loaded.extend(load_text(text, format!("builtin:{name}").into()));
        }
        loaded
    };
    let one = alerts(1, &inputs, rules(), &feed);
    assert!(one.len() > 500, "{} alerts", one.len());
    for threads in [2, 8] {
        let many = alerts(threads, &inputs, rules(), &feed);
        assert_eq!(many.len(), one.len(), "{threads} threads");
        if let Some(at) = one.iter().zip(&many).position(|(a, b)| a != b) {
            panic!(
                "{threads} threads differ at alert {at}:\n{}\n{}",
                one[at], many[at]
            );
        }
    }
}
