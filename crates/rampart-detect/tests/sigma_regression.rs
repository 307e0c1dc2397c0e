//! SigmaHQ's regression samples: each `info.yml` names a rule and an EVTX
//! file that must make it fire (`match_count` times when given). Skipped when
//! the corpora are absent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rampart_detect::{load_path, CompileOptions, EventView, RuleSet};

mod common;
use common::{corpora, decode_evtx, detections, files, is_evtx};

/// `(rule id, evtx path, match_count)` from an info.yml, read line by line
/// (the file is a small fixed layout).
fn read_info(path: &Path, sigma: &Path) -> Vec<(String, PathBuf, Option<u64>)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut rule = None;
    let mut tests = Vec::new();
    let mut in_meta = false;
    let mut count = None;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') {
            continue;
        }
        if t.starts_with("rule_metadata:") {
            in_meta = true;
        } else if t.starts_with("regression_tests_info:") {
            in_meta = false;
        } else if let Some(id) = t.strip_prefix("- id:").filter(|_| in_meta) {
            rule = Some(id.trim().to_owned());
        } else if let Some(n) = t.strip_prefix("match_count:") {
            count = n.trim().parse().ok();
        } else if let Some(p) = t.strip_prefix("path:") {
            let p = p.trim();
            if p.ends_with(".evtx") {
                tests.push((sigma.join(p), count.take()));
            }
        }
    }
    let Some(rule) = rule else { return Vec::new() };
    tests
        .into_iter()
        .map(|(p, c)| (rule.clone(), p, c))
        .collect()
}

#[test]
fn every_regression_sample_fires_its_rule() {
    let (Some(sigma), Some(rules_dir)) = (corpora("sigma"), corpora("sigma/rules")) else {
        return;
    };
    let set = RuleSet::build(load_path(&rules_dir), &CompileOptions::default());
    let by_id: HashMap<&str, usize> = set
        .rules()
        .iter()
        .enumerate()
        .map(|(i, r)| (r.rule.id.as_str(), i))
        .collect();
    let infos = files(&sigma.join("regression_data"), |p| {
        p.file_name().is_some_and(|n| n == "info.yml")
    });
    let (mut checked, mut failures) = (0, Vec::new());
    for info in &infos {
        for (rule_id, evtx, expected) in read_info(info, &sigma) {
            let Some(&index) = by_id.get(rule_id.as_str()) else {
                failures.push(format!("{rule_id}: rule not loaded"));
                continue;
            };
            let rule = &set.rules()[index];
            let out = match decode_evtx(&evtx) {
                Ok(out) => out,
                Err(e) => {
                    failures.push(format!("{}: {e}", evtx.display()));
                    continue;
                }
            };
            let hits = out
                .events
                .iter()
                .filter(|e| {
                    let v = EventView::new(e);
                    rule.admits(&v) && rule.matches(&v)
                })
                .count() as u64;
            checked += 1;
            // A sample may hold more matching events than its match_count
            // (one holds both AutoShareWks and AutoShareServer writes, each a
            // match of its rule): those are printed, not failed.
            if expected.is_some_and(|n| hits > n) {
                println!(
                    "  note: {} matches {hits} events of {}, match_count says {}",
                    rule.rule.title,
                    evtx.display(),
                    expected.unwrap_or(0)
                );
            }
            let ok = hits > 0 && expected.is_none_or(|n| hits >= n);
            if !ok {
                failures.push(format!(
                    "{} ({}): {hits} matches, expected {}",
                    rule.rule.title,
                    evtx.display(),
                    expected.map_or("at least 1".to_owned(), |n| n.to_string())
                ));
            }
        }
    }
    println!(
        "{checked} regression samples checked, {} failed",
        failures.len()
    );
    for f in &failures {
        println!("  {f}");
    }
    assert!(checked > 50, "regression samples were found");
    assert!(
        failures.is_empty(),
        "{} regression samples failed",
        failures.len()
    );
}

/// The indexed, literal-pruned rule set finds exactly what testing every
/// rule on every event finds, over the EVTX attack samples.
#[test]
fn pruning_loses_no_detection() {
    let (Some(samples), Some(rules_dir)) = (
        corpora("evtx-attack-samples"),
        corpora("sigma/rules/windows"),
    ) else {
        return;
    };
    let set = RuleSet::build(load_path(&rules_dir), &CompileOptions::default());
    let files = files(&samples, is_evtx);
    let (mut events, mut hits) = (0, 0);
    for file in &files {
        let out = decode_evtx(file).unwrap_or_default();
        for e in &out.events {
            events += 1;
            let mut fast: Vec<usize> = set.matches(e).iter().map(|h| h.index).collect();
            let v = EventView::new(e);
            let mut full: Vec<usize> = set
                .rules()
                .iter()
                .enumerate()
                .filter(|(_, r)| r.admits(&v) && r.matches(&v))
                .map(|(i, _)| i)
                .collect();
            fast.sort_unstable();
            full.sort_unstable();
            assert_eq!(fast, full, "{}:{}", file.display(), e.origin.line);
            hits += full.len();
        }
    }
    println!("{events} events, {hits} rule matches, identical with and without pruning");
    assert!(hits > 100);
}

/// The detections per EVTX attack sample, pinned: a change in what the
/// SigmaHQ Windows rules find in any file shows up as a snapshot diff.
#[test]
fn detections_per_attack_sample_are_pinned() {
    let (Some(samples), Some(rules_dir)) = (
        corpora("evtx-attack-samples"),
        corpora("sigma/rules/windows"),
    ) else {
        return;
    };
    let set = RuleSet::build(load_path(&rules_dir), &CompileOptions::default());
    let files = files(&samples, is_evtx);
    let mut report = String::new();
    for file in &files {
        let out = decode_evtx(file).unwrap_or_default();
        let counts = detections(&set, &out.events);
        let name = file
            .strip_prefix(&samples)
            .unwrap_or(file)
            .display()
            .to_string();
        report.push_str(&format!("{name} ({} events)\n", out.events.len()));
        for (title, n) in counts {
            report.push_str(&format!("    {n:>4}  {title}\n"));
        }
    }
    insta::assert_snapshot!(report);
}
