//! Every EVTX file of ../shared/corpora against its manifest: as many
//! records read as the manifest counts, and as many damaged records reported
//! as it counts errors. Skipped when the corpora are absent.

use std::path::PathBuf;

use rampart_event::time::Zone;
use rampart_parse::{FileContext, Output, ParseOptions};

#[test]
fn records_and_errors_match_the_manifest() {
    let root = std::env::var_os("RAMPART_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("corpora");
    let Ok(manifest) = std::fs::read_to_string(root.join("MANIFEST-evtx-records.tsv")) else {
        println!("skipped: ../shared/corpora absent");
        return;
    };
    let (mut files, mut records) = (0, 0);
    for line in manifest.lines().skip(1) {
        let mut cols = line.split('\t');
        let (Some(path), Some(ok), Some(errors)) = (cols.next(), cols.next(), cols.next()) else {
            continue;
        };
        let (ok, errors): (usize, u64) = (ok.parse().unwrap(), errors.parse().unwrap());
        let path = root.join(path);
        let ctx = FileContext::new(
            &path.display().to_string(),
            ParseOptions {
                year: None,
                zone: Zone::utc(),
            },
        );
        let mut out = Output::default();
        rampart_io::evtx::read_evtx(&path, &ctx, 1, usize::MAX, &mut out, |_| {})
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
