//! Helpers shared by the integration tests: where the workspace and the
//! shared corpora are, and parsing a file the way the CLI does.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rampart_event::time::Zone;
use rampart_parse::{parse_bytes, FileContext, Output, ParseOptions};

/// The workspace root (tests run in the crate's folder).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// `../shared` beside the workspace, or `RAMPART_SHARED`; `None` (with the
/// skip message printed) when it is absent.
pub fn shared(sub: &str) -> Option<PathBuf> {
    let base = std::env::var_os("RAMPART_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared"));
    let path = base.join(sub);
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "skipped: ../shared/corpora absent ({} not found)",
            path.display()
        );
        None
    }
}

/// The context of a file named `display`, read with `--year 2025` in UTC.
#[allow(dead_code)]
pub fn context(display: &str) -> FileContext {
    FileContext::new(
        display,
        ParseOptions {
            year: Some(2025),
            zone: Zone::utc(),
        },
    )
}

/// Parses a file with `--year 2025` in UTC, naming it `display` in events.
pub fn parse_file(path: &Path, display: &str) -> Output {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::MultiGzDecoder::new(&bytes[..]),
            &mut text,
        )
        .expect("gzip");
        text
    } else {
        bytes
    };
    parse_bytes(&bytes, context(display), None)
}

/// The lines of a file that are not blank.
pub fn non_blank_lines(path: &Path) -> usize {
    let bytes = std::fs::read(path).expect("read");
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}
