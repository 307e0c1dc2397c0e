//! The SigmaHQ rule folders in ../shared/corpora/sigma: how many rules load
//! per folder, and why the others do not. Skipped when the corpora are absent.

use rampart_detect::{load_path, CompileOptions, RuleSet};
use std::collections::BTreeMap;

mod common;
use common::corpora;

#[test]
fn sigmahq_folders_load_and_every_skip_has_a_reason() {
    let Some(rules) = corpora("sigma/rules") else {
        return;
    };
    let mut total_loaded = 0;
    let mut total = 0;
    for folder in ["windows", "linux", "web", "network"] {
        let set = RuleSet::build(load_path(&rules.join(folder)), &CompileOptions::default());
        let loaded = set.rules().len();
        let skipped = set.skipped.len();
        let no_source = set
            .rules()
            .iter()
            .filter(|r| r.route.no_source.is_some())
            .count();
        println!("{folder}: {loaded} loaded ({no_source} for sources rampart does not parse yet), {skipped} skipped");
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        for s in &set.skipped {
            assert!(!s.reason.is_empty());
            let short: String = s.reason.chars().take(90).collect();
            *reasons.entry(short).or_default() += 1;
        }
        for (reason, n) in &reasons {
            println!("  {n:>4}  {reason}");
        }
        total_loaded += loaded;
        total += loaded + skipped;
    }
    println!("total: {total_loaded} of {total} rules load");
    // Nearly every SigmaHQ rule is within what rampart runs.
    assert!(
        total_loaded * 100 >= total * 97,
        "{total_loaded} of {total}"
    );
}

/// The ATT&CK table rampart ships is what the enterprise bundle in
/// ../shared/corpora gives. `RAMPART_UPDATE_ATTACK=1` rewrites the table
/// from the bundle instead.
#[test]
fn the_shipped_attack_catalogue_matches_the_bundle() {
    let Some(dir) = common::corpora("mitre-attack") else {
        return;
    };
    let Some(bundle) = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name().is_some_and(|n| {
                n.to_string_lossy().starts_with("enterprise-attack")
                    && n.to_string_lossy().ends_with(".json")
            })
        })
    else {
        println!("skipped: no enterprise ATT&CK bundle in {}", dir.display());
        return;
    };
    let text = std::fs::read_to_string(&bundle).unwrap();
    let fresh = rampart_detect::attack::Catalogue::from_stix(&text).unwrap();
    if std::env::var_os("RAMPART_UPDATE_ATTACK").is_some() {
        let out =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/attack-enterprise.tsv");
        std::fs::write(out, fresh.to_tsv()).unwrap();
        return;
    }
    assert_eq!(
        &fresh,
        rampart_detect::attack::Catalogue::embedded(),
        "data/attack-enterprise.tsv differs from {}; rerun with RAMPART_UPDATE_ATTACK=1",
        bundle.display()
    );
    println!(
        "{} techniques, {} tactics",
        fresh.len(),
        fresh.tactics().len()
    );
}
