//! What the EVTX corpus tests share: finding ../shared/corpora.

use std::path::PathBuf;

/// `../shared/corpora` (or under `RAMPART_SHARED`), when it exists;
/// otherwise says the test is skipped.
pub fn corpora() -> Option<PathBuf> {
    let root = std::env::var_os("RAMPART_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("corpora");
    if root.exists() {
        Some(root)
    } else {
        println!("skipped: ../shared/corpora absent");
        None
    }
}
