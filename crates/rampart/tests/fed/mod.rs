//! `rampart run` as the tests start it: a pipeline with a stdin source
//! fed to the end of its input (in the pipeline file's folder), or one
//! left running until stopped; and the numbered sshd lines the transport
//! tests send through it. Not every test file uses every helper.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

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

/// Starts `rampart run` on `config`; waits until it says it runs.
pub fn start(config: &Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .env_remove("RAMPART_DB")
        .env_remove("RAMPART_CONFIG")
        .args(["run", "--no-db", "--config"])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("running"), "{line}");
    child
}

/// Stops a run with SIGTERM; it must end well.
pub fn stop(mut child: Child) {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(child.wait().unwrap().success());
}

/// sshd lines, one per number of `numbers`, each number the client's port
/// (so that a reader can tell which arrived).
pub fn closed_connections(numbers: std::ops::Range<u64>) -> String {
    numbers
        .map(|i| {
            format!(
                "Mar 14 03:{:02}:{:02} web01 sshd[9]: Connection closed by 192.0.2.{} port {i} [preauth]\n",
                i / 60 % 60,
                i % 60,
                1 + i % 200
            )
        })
        .collect()
}
