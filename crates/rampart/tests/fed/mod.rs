//! `rampart run` fed on its standard input: a pipeline with a stdin
//! source run to the end of `input`, in the pipeline file's folder.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs the pipeline of `config` on `input`; its output, once it ended
/// well (a failure fails the test with what it said).
pub fn run_fed(config: &Path, input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .env_remove("RAMPART_DB")
        .env_remove("RAMPART_CONFIG")
        .current_dir(config.parent().unwrap_or(Path::new(".")))
        .args(["--db", "unused.db", "run", "--no-db", "-q", "--config"])
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
