//! What the corpus tests and the benchmark share: finding ../shared/corpora,
//! walking it, decoding EVTX files, and counting detections.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use std::collections::BTreeMap;

use rampart_detect::RuleSet;
use rampart_event::time::Zone;
use rampart_event::Event;
use rampart_parse::{FileContext, Output, ParseOptions};

/// `../shared/corpora/<sub>` (or under `RAMPART_SHARED`), when it exists;
/// otherwise says the test is skipped.
pub fn corpora(sub: &str) -> Option<PathBuf> {
    let root = std::env::var_os("RAMPART_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let path = root.join("corpora").join(sub);
    if path.exists() {
        Some(path)
    } else {
        println!("skipped: ../shared/corpora absent");
        None
    }
}

/// Every file under `dir` that `keep` accepts, sorted.
pub fn files(dir: &Path, keep: fn(&Path) -> bool) -> Vec<PathBuf> {
    fn walk(dir: &Path, keep: fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, keep, out);
            } else if keep(&path) {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, keep, &mut out);
    out.sort();
    out
}

/// Whether a path names an EVTX file.
pub fn is_evtx(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "evtx")
}

/// One thread, every record in one batch, live records only.
const SINGLE: rampart_io::evtx::EvtxOptions = rampart_io::evtx::EvtxOptions {
    threads: 1,
    batch: usize::MAX,
    recover: false,
};

/// Every record of an EVTX file, on one thread; an error when the file is
/// not EVTX at all.
pub fn decode_evtx(path: &Path) -> Result<Output, String> {
    let ctx = FileContext::new(
        &path.display().to_string(),
        ParseOptions {
            year: None,
            zone: Zone::utc(),
        },
    );
    let mut out = Output::default();
    rampart_io::evtx::read_evtx(path, &ctx, SINGLE, &mut out, |_| {})?;
    Ok(out)
}

/// How many events each rule of `set` matched, by rule title.
pub fn detections(set: &RuleSet, events: &[Event]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for e in events {
        for hit in set.matches(e) {
            *counts.entry(hit.rule.rule.title.clone()).or_default() += 1;
        }
    }
    counts
}
