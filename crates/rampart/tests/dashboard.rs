//! `rampart dashboard` as a person uses it: the real binary in a
//! pseudo-terminal, its output read by a terminal emulator, keys typed.
//! An alert is opened with its events, acknowledged and the dashboard
//! quit, leaving the store changed and the terminal as it was; what an
//! ingest stores while the dashboard runs shows within seconds, and a
//! resized terminal is drawn again to fit.

mod common;

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{failures, ingest, rampart};
use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

const ROWS: u16 = 40;
const COLS: u16 = 120;

/// The dashboard running in a pseudo-terminal, what it drew kept by a
/// terminal emulator fed on a thread of its own.
struct Dashboard {
    child: Box<dyn Child + Send + Sync>,
    keys: Box<dyn Write + Send>,
    screen: Arc<Mutex<vt100::Parser>>,
    // The terminal's master side; dropping it hangs the dashboard's up.
    pty: Box<dyn MasterPty + Send>,
}

/// A terminal of `rows` and `cols`.
fn size(rows: u16, cols: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

impl Dashboard {
    fn start(db: &Path, args: &[&str]) -> Dashboard {
        let pty = native_pty_system().openpty(size(ROWS, COLS)).unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_rampart"));
        cmd.arg("--db");
        cmd.arg(db);
        cmd.arg("dashboard");
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env("USER", "analyst");
        cmd.env_remove("RAMPART_DB");
        cmd.env_remove("NO_COLOR");
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let rows = NonZeroU16::new(ROWS).unwrap();
        let cols = NonZeroU16::new(COLS).unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let mut output = pty.master.try_clone_reader().unwrap();
        let fed = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut buf = [0; 8192];
            while let Ok(n @ 1..) = output.read(&mut buf) {
                fed.lock().unwrap().process(&buf[..n]);
            }
        });
        Dashboard {
            child,
            keys: pty.master.take_writer().unwrap(),
            screen,
            pty: pty.master,
        }
    }

    /// What the screen shows now.
    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Waits up to `secs` for the screen to show every one of `what`;
    /// returns the screen.
    fn wait_for(&self, what: &[&str], secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let screen = self.contents();
            if what.iter().all(|w| screen.contains(w)) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "after {secs} s, not all of {what:?} on the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits up to five seconds for the terminal to be as `done` says.
    fn wait_until(&self, done: impl Fn(&vt100::Screen) -> bool, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !done(self.screen.lock().unwrap().screen()) {
            assert!(
                Instant::now() < deadline,
                "not {what}:\n{}",
                self.contents()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Makes the terminal `rows` by `cols`, as a window resized.
    fn resize(&mut self, rows: u16, cols: u16) {
        let nonzero = |n| NonZeroU16::new(n).unwrap();
        let mut screen = self.screen.lock().unwrap();
        screen.set_size(nonzero(rows), nonzero(cols));
        self.pty.resize(size(rows, cols)).unwrap();
    }

    fn press(&mut self, keys: &str) {
        self.keys.write_all(keys.as_bytes()).unwrap();
        self.keys.flush().unwrap();
    }

    /// Waits up to ten seconds for the dashboard to end; its exit code.
    fn exit_code(&mut self) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.exit_code();
            }
            if Instant::now() > deadline {
                self.child.kill().unwrap();
                panic!("the dashboard did not end:\n{}", self.contents());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// A folder of logs holding a brute force from 203.0.113.9, stored.
fn stored() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("auth.log"), failures("203.0.113.9", 0, 6)).unwrap();
    let db = dir.path().join("rampart.db");
    ingest(&db, &logs);
    (dir, db)
}

#[test]
fn an_alert_is_opened_acknowledged_and_the_dashboard_quit() {
    let (_dir, db) = stored();
    let mut dash = Dashboard::start(&db, &[]);
    dash.wait_for(&["newest alerts (1)", "SSH brute force", "? help"], 10);
    dash.press("\r");
    dash.wait_for(
        &[
            "events (6 of 6)",
            "Failed password for root from 203.0.113.9 port 40005 ssh2",
            "status open",
        ],
        5,
    );
    dash.press("a");
    dash.wait_for(&["status acknowledged"], 5);
    dash.press("\x1b");
    let screen = dash.wait_for(&["newest alerts (1)"], 5);
    assert!(screen.contains(" ack "), "{screen}");
    dash.press("q");
    assert_eq!(dash.exit_code(), 0);
    dash.wait_until(
        |screen| !screen.alternate_screen(),
        "back on the main screen",
    );

    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM alerts WHERE status = 'acknowledged'"
        ),
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM alert_history WHERE user = 'analyst' AND action = 'acknowledge'"
        ),
        1
    );
}

#[test]
fn what_an_ingest_stores_meanwhile_shows_within_seconds() {
    let (dir, db) = stored();
    let mut dash = Dashboard::start(&db, &["--refresh", "1"]);
    dash.wait_for(&["newest alerts (1)", "6 events  1 alert"], 10);
    let more = dir.path().join("more");
    std::fs::create_dir(&more).unwrap();
    std::fs::write(more.join("auth.log"), failures("198.51.100.77", 600, 8)).unwrap();
    ingest(&db, &more);
    dash.wait_for(
        &["newest alerts (2)", "14 events  2 alerts", "198.51.100.77"],
        3,
    );
    // Made 80×24, it draws again to fit, every panel still there.
    dash.resize(24, 80);
    let screen = dash.wait_for(&["top sources", "newest alerts (2)", "? help  q quit"], 5);
    assert_eq!(screen.lines().count(), 24, "{screen}");
    assert!(screen.lines().all(|l| l.chars().count() <= 80), "{screen}");
    dash.press("\x03");
    assert_eq!(dash.exit_code(), 0);
}

#[test]
fn without_a_terminal_or_with_a_bad_level_it_says_why() {
    let (_dir, db) = stored();
    let out = rampart(&db, &["dashboard"]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("draws on a terminal"), "{said}");
    let out = rampart(&db, &["dashboard", "--severity", "severe"]);
    assert_eq!(out.status.code(), Some(2));
    let out = rampart(&db.with_file_name("none.db"), &["dashboard"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `rampart ingest` first"));
}
