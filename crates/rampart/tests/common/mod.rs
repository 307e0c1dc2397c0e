//! What the tests that run the binary over a database share: running it,
//! sshd logs to feed it, storing them, and finding ../shared.

// Each test crate uses some of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary, deaf to the environment's database and config.
pub fn command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rampart"));
    c.env_remove("RAMPART_DB").env_remove("RAMPART_CONFIG");
    c
}

/// Runs the binary over the database `db`, whatever the environment says.
pub fn rampart(db: &Path, args: &[&str]) -> Output {
    command().arg("--db").arg(db).args(args).output().unwrap()
}

/// The standard output of a run that must succeed.
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `n` failed sshd logins from `ip`, a second apart from `start` seconds.
pub fn failures(ip: &str, start: u32, n: u32) -> String {
    (0..n)
        .map(|i| {
            let s = start + i;
            format!(
                "Mar 14 03:{:02}:{:02} web01 sshd[9841]: Failed password for root from {ip} port {} ssh2\n",
                s / 60 % 60,
                s % 60,
                40000 + s
            )
        })
        .collect()
}

/// Stores the logs at `path` in `db` (their lines of 2025).
pub fn ingest(db: &Path, path: &Path) -> String {
    let out = rampart(
        db,
        &["ingest", "--year", "2025", "-q", path.to_str().unwrap()],
    );
    ok(out)
}

/// The workspace's root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared/<sub>`, from `RAMPART_SHARED` or beside the workspace; says
/// the test is skipped when it is absent.
pub fn shared(sub: &str) -> Option<PathBuf> {
    let root = std::env::var_os("RAMPART_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared"));
    let path = root.join(sub);
    if path.exists() {
        Some(path)
    } else {
        println!("skipped: ../shared/{sub} absent");
        None
    }
}

/// A port free on 127.0.0.1 now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A small deterministic generator (xorshift), for test data that is
/// random but the same every run.
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// An index below `n`.
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }
}

/// The whole lines of a file another process may be writing: a line not
/// yet ended is left for a later read.
pub fn whole_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let whole = &text[..text.rfind('\n').map_or(0, |at| at + 1)];
    whole.lines().map(str::to_string).collect()
}

/// Writes `n` numbered syslog lines (`seq=N`) into `input` a little at a
/// time, calling `receiver(false)` a third of the way through and
/// `receiver(true)` two thirds of the way (a receiver stopped and started
/// again while a pipeline forwards to it).
pub fn feed_through_a_restart(
    input: &mut impl std::io::Write,
    n: u64,
    mut receiver: impl FnMut(bool),
) {
    for seq in 0..n {
        writeln!(input, "<13>Dec  6 12:00:00 host app: seq={seq}").unwrap();
        if seq % 50 == 49 {
            input.flush().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        if seq == n / 3 {
            receiver(false);
        }
        if seq == 2 * n / 3 {
            receiver(true);
        }
    }
}

/// The sequence numbers of `0..n` missing from `seen` (how often each
/// arrived), and how many arrived more than once in all.
pub fn missing_and_again(seen: &std::collections::BTreeMap<u64, u32>, n: u64) -> (Vec<u64>, u32) {
    let missing = (0..n).filter(|s| !seen.contains_key(s)).collect();
    let again = seen.values().map(|c| c - 1).sum();
    (missing, again)
}
