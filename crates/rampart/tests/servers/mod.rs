//! Database servers of the project's own for the tests that talk to them
//! (`scripts/postgres.sh`, `scripts/mariadb.sh`): each started with a
//! folder and a free port of its own, and stopped when dropped. A server
//! that is not installed skips the test, unless `RAMPART_REQUIRE_SERVERS`
//! is set (CI), when it fails it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether `what` is installed (`found`); says the test is skipped when not.
pub fn available(what: &str, found: bool) -> bool {
    if !found {
        assert!(
            std::env::var_os("RAMPART_REQUIRE_SERVERS").is_none(),
            "{what} is not installed (scripts/install-servers.sh)"
        );
        eprintln!("skipped: {what} not installed (scripts/install-servers.sh)");
    }
    found
}

/// A server started by `scripts/<script>`, running for as long as it lives.
pub struct Server {
    script: PathBuf,
    dir: PathBuf,
    pub port: u16,
}

/// The server of `script` that the tests of this binary share, started by
/// the first to ask, each test keeping to a database of its own. The
/// script stops it, and removes its folder, once the binary has exited.
#[allow(dead_code)] // each test binary uses what it needs
pub fn shared(script: &'static str) -> &'static Server {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static STARTED: OnceLock<Mutex<HashMap<&'static str, &'static Server>>> = OnceLock::new();
    let mut started = STARTED
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    started.entry(script).or_insert_with(|| {
        let dir = std::env::temp_dir().join(format!("rampart-{script}-{}", std::process::id()));
        Box::leak(Box::new(Server::start_in(script, &dir, true)))
    })
}

impl Server {
    /// Starts the server of `script` (`postgres.sh`) in a folder of `dir`.
    #[allow(dead_code)] // each test binary uses what it needs
    pub fn start(script: &str, dir: &Path) -> Server {
        Server::start_in(script, &dir.join("server"), false)
    }

    /// Starts it with `first` its folder; when `owned`, stopped by the
    /// script once this process has exited. A free port is found by
    /// binding to port 0 and letting it go, so another process may take it
    /// before the server binds it: a server that does not start is stopped
    /// and tried again on another port in a fresh folder, twice.
    fn start_in(script: &str, first: &Path, owned: bool) -> Server {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../scripts")
            .join(script);
        for attempt in 0..3 {
            let mut dir = first.as_os_str().to_owned();
            if attempt > 0 {
                dir.push(format!("-{attempt}"));
            }
            let dir = std::path::PathBuf::from(dir);
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let server = Server {
                script: script.clone(),
                dir,
                port,
            };
            let mut command = Command::new("bash");
            command
                .arg(&server.script)
                .arg("start")
                .arg(&server.dir)
                .arg(port.to_string());
            if owned {
                command.env("RAMPART_SERVER_OWNER", std::process::id().to_string());
            }
            if command.status().unwrap().success() {
                return server;
            }
            // Dropped: stopped, whatever part of it did start.
        }
        panic!("{} did not start, three times", script.display());
    }
}

impl Server {
    /// Stops it, its data kept.
    #[allow(dead_code)] // each test binary uses what it needs
    pub fn stop(&self) {
        self.script_run("stop", None);
    }

    /// Starts it again on its folder and port.
    #[allow(dead_code)] // each test binary uses what it needs
    pub fn start_again(&self) {
        self.script_run("start", Some(self.port));
    }

    fn script_run(&self, what: &str, port: Option<u16>) {
        let mut command = Command::new("bash");
        command.arg(&self.script).arg(what).arg(&self.dir);
        if let Some(port) = port {
            command.arg(port.to_string());
        }
        assert!(command.status().unwrap().success(), "{what} failed");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(&self.script)
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}
