//! Reading a pipeline file's `cluster:`: the run is one worker of a
//! cluster, reading the events collectors publish to a NATS JetStream
//! stream and sharing the correlations' partitions with the other
//! workers (see [`crate::cluster`]).

use std::time::Duration;

use super::Reader;
use crate::yaml::Node;

/// How a worker finds its cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// The NATS servers, comma-separated (a cluster's nodes).
    pub servers: String,
    /// The subject collectors publish events on.
    pub events: String,
    /// What the cluster's streams, consumer and buckets are named after.
    pub name: String,
    /// This worker's name, unique in the cluster.
    pub worker: String,
    /// Servers the streams and buckets are kept on.
    pub replicas: usize,
    /// How long a partition stays owned by a worker that stopped renewing
    /// it (one that died).
    pub lease: Duration,
    /// How long an event handed to a worker waits for its acknowledgement
    /// before another worker is given it.
    pub ack_wait: Duration,
}

impl Cluster {
    /// The defaults, for `servers`.
    pub fn new(servers: &str) -> Cluster {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "worker".into());
        Cluster {
            servers: servers.to_owned(),
            events: "rampart.events".into(),
            name: "rampart".into(),
            worker: format!("{host}-{}", std::process::id()),
            replicas: 1,
            lease: Duration::from_secs(10),
            ack_wait: Duration::from_secs(30),
        }
    }
}

impl Reader<'_> {
    pub(super) fn cluster(&mut self, node: &Node) -> Option<Cluster> {
        let what = "cluster";
        let e = self.map(
            node,
            what,
            &[
                "servers",
                "events",
                "name",
                "worker",
                "replicas",
                "lease_seconds",
                "ack_wait_seconds",
            ],
        );
        let servers = match e.get("servers") {
            Some(n) => self.text(n, "cluster: servers")?,
            None => "nats://127.0.0.1:4222",
        };
        let mut c = Cluster::new(servers);
        let name_like = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        for (key, slot) in [("name", &mut c.name), ("worker", &mut c.worker)] {
            if let Some(n) = e.get(key) {
                let text = self.text(n, &format!("cluster: {key}"))?;
                if !name_like(text) {
                    self.fail(
                        n.mark(),
                        format!("cluster: {key} `{text}` may hold letters, digits, - and _ only"),
                    );
                    return None;
                }
                *slot = text.to_owned();
            }
        }
        if let Some(n) = e.get("events") {
            c.events = self.text(n, "cluster: events")?.to_owned();
        }
        if let Some(n) = e.get("replicas") {
            c.replicas = self.number(n, "cluster: replicas")?;
        }
        if let Some(n) = e.get("lease_seconds") {
            c.lease = Duration::from_secs(self.number(n, "cluster: lease_seconds")? as u64);
        }
        if let Some(n) = e.get("ack_wait_seconds") {
            c.ack_wait = Duration::from_secs(self.number(n, "cluster: ack_wait_seconds")? as u64);
        }
        Some(c)
    }
}
