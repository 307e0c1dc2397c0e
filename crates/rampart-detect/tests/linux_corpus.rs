//! SigmaHQ's Linux rules over real Linux telemetry in ../shared/corpora
//! (OTRF's auditd captures of Atomic Red Team tests, and the Log4Shell
//! capture's Sysmon for Linux and auoms records exported from Azure's
//! Syslog table), read as rampart reads any file: format detected, then
//! parsed. The detections per file are pinned. Skipped when the corpora are
//! absent.

use std::collections::BTreeMap;
use std::path::Path;

use rampart_detect::{load_path, CompileOptions, RuleSet};
use rampart_parse::{parse_bytes, FileContext, ParseOptions};

mod common;
use common::{corpora, detections, files};

fn is_log(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "log" || e == "json")
}

#[test]
fn detections_per_linux_sample_are_pinned() {
    let (Some(otrf), Some(rules_dir)) = (
        corpora("otrf-security-datasets"),
        corpora("sigma/rules/linux"),
    ) else {
        return;
    };
    let set = RuleSet::build(load_path(&rules_dir), &CompileOptions::default());
    let waiting = set
        .rules()
        .iter()
        .filter(|r| r.route.no_source.is_some())
        .count();
    assert_eq!(waiting, 0, "every Linux rule has a source rampart reads");
    let mut report = String::new();
    let mut samples = files(&otrf.join("atomic/linux"), is_log);
    samples.extend(
        files(&otrf.join("compound/Log4Shell"), is_log)
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("syslog_"))
            }),
    );
    assert!(samples.len() >= 4, "{samples:?}");
    let mut titles = BTreeMap::new();
    for file in &samples {
        let bytes = std::fs::read(file).unwrap();
        let ctx = FileContext::new(&file.display().to_string(), ParseOptions::default());
        let out = parse_bytes(&bytes, ctx, None);
        assert_eq!(out.stats.unparsed, 0, "{}", file.display());
        let counts = detections(&set, &out.events);
        let name = file
            .strip_prefix(&otrf)
            .unwrap_or(file)
            .display()
            .to_string();
        report.push_str(&format!("{name} ({} events", out.events.len()));
        for (dataset, n) in &out.stats.events {
            report.push_str(&format!(", {dataset} {n}"));
        }
        report.push_str(")\n");
        for (title, n) in &counts {
            report.push_str(&format!("    {n:>4}  {title}\n"));
            titles.insert(title.clone(), name.clone());
        }
    }
    // The Atomic Red Team test in the file's name is what SigmaHQ's auditd
    // rule for it finds.
    assert!(titles
        .get("Binary Padding - Linux")
        .is_some_and(|f| f.contains("binary_padding")));
    // Sysmon for Linux: Log4Shell's Java process spawning a shell.
    assert!(titles.contains_key("Suspicious Java Children Processes"));
    insta::assert_snapshot!(report);
}
