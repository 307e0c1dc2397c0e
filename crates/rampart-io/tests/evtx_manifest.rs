//! Every EVTX file of ../shared/corpora against its manifest: as many
//! records read as the manifest counts, and as many damaged records reported
//! as it counts errors. Skipped when the corpora are absent.

mod common;

use common::corpora;
use rampart_event::time::Zone;
use rampart_io::evtx::{read_evtx, EvtxOptions};
use rampart_parse::{FileContext, Output, ParseOptions};

/// One thread, every record in one batch, live records only.
const SINGLE: EvtxOptions = EvtxOptions {
    threads: 1,
    batch: usize::MAX,
    recover: false,
};

fn context(path: &std::path::Path) -> FileContext {
    FileContext::new(
        &path.display().to_string(),
        ParseOptions {
            year: None,
            zone: Zone::utc(),
        },
    )
}

#[test]
fn records_and_errors_match_the_manifest() {
    let Some(root) = corpora() else {
        return;
    };
    let manifest = std::fs::read_to_string(root.join("MANIFEST-evtx-records.tsv")).unwrap();
    let (mut files, mut records) = (0, 0);
    for line in manifest.lines().skip(1) {
        let mut cols = line.split('\t');
        let (Some(path), Some(ok), Some(errors)) = (cols.next(), cols.next(), cols.next()) else {
            continue;
        };
        let (ok, errors): (usize, u64) = (ok.parse().unwrap(), errors.parse().unwrap());
        let path = root.join(path);
        let mut out = Output::default();
        read_evtx(&path, &context(&path), SINGLE, &mut out, |_| {})
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(out.events.len(), ok, "{}", path.display());
        assert_eq!(
            out.stats.unparsed,
            errors,
            "{}: {:?}",
            path.display(),
            out.stats.examples
        );
        files += 1;
        records += ok;
    }
    println!("{files} EVTX files, {records} records, all as the manifest counts");
    assert!(files > 100);
}

/// Records carved from unallocated space: read only on request, marked,
/// and left out when a live record of the file has the same number.
#[test]
fn carved_records_are_recovered_marked_and_not_duplicated() {
    let Some(root) = corpora() else {
        return;
    };
    let recover = EvtxOptions {
        recover: true,
        ..SINGLE
    };
    let read = |name: &str, options: EvtxOptions| {
        let path = root.join("evtx-attack-samples").join(name);
        let mut out = Output::default();
        read_evtx(&path, &context(&path), options, &mut out, |_| {}).unwrap();
        out
    };
    // Slack holding records the live log no longer has.
    let name = "Persistence/persistence_hidden_local_account_sysmon.evtx";
    let (plain, carved) = (read(name, SINGLE), read(name, recover));
    let recovered: Vec<_> = carved
        .events
        .iter()
        .filter(|e| e.get("rampart.recovered").is_some())
        .collect();
    assert!(!recovered.is_empty());
    assert_eq!(plain.events.len() + recovered.len(), carved.events.len());
    assert!(plain
        .events
        .iter()
        .all(|e| e.get("rampart.recovered").is_none()));
    assert_eq!(
        carved.stats.quality.get("evtx-record-recovered"),
        Some(&(recovered.len() as u64))
    );
    let numbers = |out: &Output| -> std::collections::HashSet<String> {
        out.events
            .iter()
            .filter_map(|e| e.get("winlog.record_id").map(|v| v.to_string()))
            .collect()
    };
    assert_eq!(
        numbers(&carved).len(),
        carved.events.len(),
        "no record twice"
    );
    // Slack holding stale copies of live records only: nothing is added.
    let name = "Persistence/DACL_DCSync_Right_Powerview_ Add-DomainObjectAcl.evtx";
    let (plain, carved) = (read(name, SINGLE), read(name, recover));
    assert_eq!(plain.events.len(), carved.events.len());
    assert!(carved.stats.quality.get("evtx-carved-copy-of-live-record") > Some(&0));
    println!("{} carved records recovered", recovered.len());
}

/// Chunks are read straight from their bytes unless something needs the
/// crate's record iterator; reading for carving sends every chunk to the
/// crate. Both ways must give every live record the same event, and so
/// must decoding on several threads.
#[test]
fn the_straight_read_gives_what_the_crates_iterator_gives() {
    let Some(root) = corpora() else {
        return;
    };
    let manifest = std::fs::read_to_string(root.join("MANIFEST-evtx-records.tsv")).unwrap();
    let lines = |out: &Output, live_only: bool| -> Vec<String> {
        out.events
            .iter()
            .filter(|e| !live_only || e.get("rampart.recovered").is_none())
            .map(|e| {
                // Carved records are numbered among the live ones.
                let mut e = e.clone();
                e.origin.line = 0;
                let mut json = Vec::new();
                e.write_json(&mut json);
                format!("{}\n{}", e.original(), String::from_utf8_lossy(&json))
            })
            .collect()
    };
    let mut records = 0;
    for line in manifest.lines().skip(1) {
        let path = root.join(line.split('\t').next().unwrap());
        let read = |options: EvtxOptions| {
            let mut out = Output::default();
            read_evtx(&path, &context(&path), options, &mut out, |_| {}).unwrap();
            out
        };
        let straight = read(SINGLE);
        let crate_read = read(EvtxOptions {
            recover: true,
            ..SINGLE
        });
        let threaded = read(EvtxOptions {
            threads: 2,
            batch: 7,
            ..SINGLE
        });
        let name = path.display();
        assert_eq!(lines(&straight, false), lines(&crate_read, true), "{name}");
        assert_eq!(
            straight
                .events
                .iter()
                .map(|e| e.origin.line)
                .collect::<Vec<_>>(),
            threaded
                .events
                .iter()
                .map(|e| e.origin.line)
                .collect::<Vec<_>>(),
            "{name}"
        );
        assert_eq!(lines(&straight, false), lines(&threaded, false), "{name}");
        assert_eq!(straight.stats.unparsed, threaded.stats.unparsed, "{name}");
        records += straight.events.len();
    }
    println!("{records} records read alike straight, by the crate and on two threads");
    assert!(records > 8000);
}
