//! A pipeline file: named sources, named sinks, what each sink takes, and
//! the rules and intelligence the engine runs. Every mistake is reported
//! with its line and column, all of them at once, before anything starts.

mod cluster;
mod env;
mod lookups;
mod sinks;
mod sources;
mod virustotal;

pub use cluster::Cluster;
pub use lookups::{HttpLookup, Lookup, LookupFrom};
pub use virustotal::{Asking, VirusTotal};

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rampart_detect::Level;
use rampart_parse::Format;

use crate::delivery::Buffer;
use crate::yaml::{parse, Located, Mark, Node};

/// Frames longer than this are cut (and the event flagged) unless a
/// source says otherwise.
pub const DEFAULT_MAX_FRAME: usize = 64 * 1024;

/// A whole pipeline.
#[derive(Debug)]
pub struct Pipeline {
    /// Sigma rule files or folders run beside the built-in pack.
    pub rules: Vec<PathBuf>,
    /// Whether the built-in pack runs (default yes).
    pub builtin: bool,
    /// Indicator feeds.
    pub intel: Vec<PathBuf>,
    /// A tuning file (suppressions, thresholds), as `hunt --config` reads.
    pub tuning: Option<PathBuf>,
    /// The named sources, in the order written.
    pub sources: Vec<SourceSpec>,
    /// The named sinks, in the order written.
    pub sinks: Vec<SinkSpec>,
    /// Where its counts are served (Prometheus), if anywhere.
    pub metrics: Option<SocketAddr>,
    /// How often its counts are written on stderr as a line of JSON
    /// (none: never).
    pub health_every: Option<std::time::Duration>,
    /// A file where lines nothing could read are kept (the store keeps
    /// them too, when there is one).
    pub dead_letters: Option<PathBuf>,
    /// Addresses looked up on VirusTotal while events flow, if asked.
    pub virustotal: Option<VirusTotal>,
    /// CSV tables joined onto events before the rules run.
    pub lookups: Vec<Lookup>,
    /// A MaxMind City or Country database (`source.geo.*`).
    pub geoip: Option<PathBuf>,
    /// A MaxMind ASN database (`source.as.*`).
    pub asn: Option<PathBuf>,
    /// The cluster this run is a worker of, reading its events stream in
    /// place of sources.
    pub cluster: Option<Cluster>,
}

/// A named source.
#[derive(Debug)]
pub struct SourceSpec {
    /// Its name in the file.
    pub name: String,
    /// What it is.
    pub kind: SourceKind,
}

/// Where a source's lines come from.
#[derive(Debug)]
pub enum SourceKind {
    /// A syslog listener: RFC 3164 and 5424 lines; over TCP, newline or
    /// octet-counted framing (RFC 6587), told apart frame by frame.
    Syslog {
        /// The transport and address listened on.
        listen: Listen,
        /// Messages longer than this are cut and flagged.
        max_frame: usize,
        /// For `tls://`: the certificate chain and key files (PEM).
        tls: Option<(PathBuf, PathBuf)>,
    },
    /// Splunk's HTTP Event Collector protocol, served over HTTP.
    Hec {
        /// Where it listens (`host:port`).
        listen: SocketAddr,
        /// The environment variable holding the token senders must give.
        token_env: String,
        /// Events longer than this are cut and flagged.
        max_frame: usize,
    },
    /// A NATS JetStream stream, read by a durable consumer.
    Nats(crate::nats::Subscription),
    /// Kafka topics, read as a member of a consumer group.
    Kafka(crate::kafka::Subscription),
    /// A SQL table polled by a column that grows, what was taken kept in
    /// the store.
    Sql {
        /// The database.
        database: crate::sql::Database,
        /// The table.
        table: String,
        /// The column that grows as rows are added.
        order_by: String,
        /// Rows remembered above the floor (the look-back).
        look_back: usize,
        /// Time between polls.
        every: std::time::Duration,
        /// Whether to keep polling (else read once and end).
        follow: bool,
        /// A column whose values are counted over every row taken, and
        /// the field the count goes in (seed 000's `ip_hit_count`).
        hit_counts: Option<(String, String)>,
    },
    /// Files and folders, read as `ingest` reads them (and followed), how
    /// far each was read kept in the store.
    File {
        /// The files and folders.
        paths: Vec<PathBuf>,
        /// Whether to keep reading as they grow (default yes).
        follow: bool,
    },
    /// The process's standard input, read to its end; the format found by
    /// itself unless named.
    Stdin {
        /// The format, when named; else found from the first lines.
        format: Option<&'static Format>,
    },
}

impl SourceKind {
    /// Whether the source ends by itself (what `--once` waits for).
    pub fn ends(&self) -> bool {
        matches!(
            self,
            SourceKind::Stdin { .. }
                | SourceKind::File { follow: false, .. }
                | SourceKind::Sql { follow: false, .. }
        )
    }
}

/// A transport and an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    /// UDP, one message per datagram.
    Udp(SocketAddr),
    /// TCP, a stream of frames.
    Tcp(SocketAddr),
    /// RELP: TCP with each record acknowledged (sinks only).
    Relp(SocketAddr),
    /// Syslog over TLS (RFC 5425): TCP framing inside TLS.
    Tls(SocketAddr),
}

impl std::fmt::Display for Listen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listen::Udp(a) => write!(f, "udp://{a}"),
            Listen::Tcp(a) => write!(f, "tcp://{a}"),
            Listen::Relp(a) => write!(f, "relp://{a}"),
            Listen::Tls(a) => write!(f, "tls://{a}"),
        }
    }
}

/// What a sink is handed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Alerts only.
    Alerts,
    /// Events only.
    Events,
    /// Alerts and events.
    All,
}

impl Take {
    /// Whether alerts go to it.
    pub fn alerts(self) -> bool {
        matches!(self, Take::Alerts | Take::All)
    }

    /// Whether events go to it.
    pub fn events(self) -> bool {
        matches!(self, Take::Events | Take::All)
    }
}

/// Which states of a correlation alert, which changes while its window
/// lasts, a sink is sent. Each is its whole state; none overwrites
/// another silently (they share the alert's id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Updates {
    /// As it opens, and its final state when its window closes.
    #[default]
    OpenAndFinal,
    /// Once: as it opens (or, for one that never went out open, as it
    /// ends).
    Open,
    /// Its final state only.
    Final,
    /// As it opens, each time it grows, and its final state.
    Every,
}

/// A named sink.
#[derive(Debug)]
pub struct SinkSpec {
    /// Its name in the file.
    pub name: String,
    /// What it is handed.
    pub take: Take,
    /// Alerts below this level are not handed to it.
    pub min_severity: Level,
    /// Which states of a correlation alert it is sent.
    pub updates: Updates,
    /// What it is.
    pub kind: SinkKind,
    /// Which events it is handed and in what shape: a condition, a
    /// sample, fields dropped, renamed and added, and the flat record a
    /// receiver's searches expect (seed 000's record, Splunk CIM).
    pub shape: crate::shape::Shape,
}

/// Where a sink writes.
#[derive(Debug)]
pub enum SinkKind {
    /// JSON lines on standard output.
    Stdout,
    /// A file: JSON lines or CSV appended (and set aside by its
    /// rotation), or one JSON array written whole by the end of the run
    /// (seed 004's `alerts.json`).
    File {
        /// The file.
        path: PathBuf,
        /// Whether it is one JSON array (else lines).
        array: bool,
        /// What each line holds.
        lines: crate::file_sink::Lines,
        /// When it is set aside.
        rotation: crate::file_sink::Rotation,
        /// Whether events come as a template's records.
        templated: bool,
    },
    /// The database (`rampart alerts`, `events`, the dashboards read it):
    /// events, unreadable lines and alerts, with the open correlation
    /// windows, committed at least once a second.
    Store {
        /// The database file; the one `--db` names when not given.
        path: Option<PathBuf>,
        /// Events held before a commit, at most (a commit also comes
        /// every second).
        commit_events: Option<usize>,
    },
    /// Splunk's HTTP Event Collector.
    Hec {
        /// The collector's base URL (`https://splunk:8088`).
        url: String,
        /// The environment variable holding the token (never the file).
        token_env: String,
        /// The index, when not the token's default.
        index: Option<String>,
        /// The sourcetype (default `rampart:alert` or `rampart:event`).
        sourcetype: Option<String>,
        /// Whether request bodies are gzipped.
        gzip: bool,
        /// Indexer acknowledgements: how long a batch's id may wait for
        /// one (none: a batch the collector took is delivered), and the
        /// channel named (one made for the run when none).
        acks: Option<(Duration, Option<String>)>,
        /// Where records wait for the collector.
        buffer: Buffer,
    },
    /// Records produced to a Kafka topic.
    Kafka {
        /// The brokers (`host:port,...`).
        brokers: String,
        /// The topic.
        topic: String,
        /// Where records wait for the brokers.
        buffer: Buffer,
    },
    /// Records published to a NATS JetStream stream.
    Nats {
        /// The servers (`nats://host:port`).
        servers: String,
        /// The stream (made, taking `subject`, when it is not there).
        stream: String,
        /// The subject records are published on.
        subject: String,
        /// Servers the stream is kept on, when this sink makes it.
        replicas: usize,
        /// Records sent together as the lines of one message (the events
        /// collectors send the workers of a cluster: fewer messages, each
        /// acknowledged once).
        per_message: usize,
        /// Where records wait for the stream.
        buffer: Buffer,
    },
    /// Tables of another database: alerts upserted by id, events
    /// inserted once each.
    SqlTables {
        /// The database's URL (`postgres://user@host:port/db`).
        url: String,
        /// The variable holding its password, if one is needed.
        password_env: Option<String>,
        /// The alerts' table (made when missing).
        table: String,
        /// The events' table (made when missing).
        events_table: String,
        /// Where records wait for the database.
        buffer: Buffer,
    },
    /// ClickHouse, in the tables of rampart's ClickHouse store: alerts
    /// replaced by id, events stored once each.
    ClickHouse {
        /// The database's address (`clickhouse://host:port/database`).
        url: String,
        /// Where records wait for the database.
        buffer: Buffer,
    },
    /// A webhook: each alert POSTed.
    Webhook {
        /// The URL, or the environment variable holding it (`url_env`).
        url: Secret,
        /// What is sent.
        format: WebhookFormat,
        /// Where records wait for the receiver.
        buffer: Buffer,
    },
    /// Syslog to a receiving SIEM.
    Syslog {
        /// The receiver.
        to: Listen,
        /// How each record is framed.
        framing: Framing,
        /// Where records wait for the receiver.
        buffer: Buffer,
        /// For `tls://`: the certificates the receiver is trusted by (PEM)
        /// and the name its certificate must hold.
        tls: Option<(PathBuf, String)>,
    },
}

/// A value written in the file, or the environment variable that holds
/// it (for what must not be written down: a webhook's URL carries its
/// secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// Written in the file.
    Plain(String),
    /// In this environment variable.
    Env(String),
}

/// What a webhook is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// `{"text": "..."}`: one line per alert, as Slack (and most chat
    /// tools) take it.
    Slack,
    /// The alert's JSON.
    Json,
}

/// How a record is framed for syslog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// RFC 5424, the record's JSON as the message.
    Rfc5424,
    /// `<PRI>` then the JSON and nothing else, as seed 000 sent it.
    Json,
}

/// Reads a pipeline file's text; relative paths are taken from `base`
/// (the file's folder). Gives every mistake found.
pub fn read(text: &str, base: &Path) -> Result<Pipeline, Vec<Located>> {
    let text = env::expand(text, |name| std::env::var(name).ok())?;
    let root = parse(&text).map_err(|e| vec![e])?;
    let mut r = Reader {
        base,
        errors: Vec::new(),
    };
    let pipeline = r.pipeline(&root);
    if r.errors.is_empty() {
        Ok(pipeline)
    } else {
        r.errors.sort_by_key(|e| (e.at.line, e.at.col));
        Err(r.errors)
    }
}

pub(super) struct Reader<'a> {
    base: &'a Path,
    errors: Vec<Located>,
}

/// The entries of a map, with the keys a reader may use.
struct Entries<'n> {
    entries: &'n [(String, Mark, Node)],
}

impl<'n> Entries<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, ..)| k == key)
            .map(|(.., v)| v)
    }
}

impl Reader<'_> {
    fn fail(&mut self, at: Mark, what: impl Into<String>) {
        self.errors.push(Located {
            at,
            what: what.into(),
        });
    }

    /// The entries of `node` as a map whose keys are among `known`.
    fn map<'n>(&mut self, node: &'n Node, what: &str, known: &[&str]) -> Entries<'n> {
        match node {
            Node::Map(entries, _) => {
                for (key, at, _) in entries {
                    if !known.contains(&key.as_str()) {
                        self.fail(
                            *at,
                            format!("{what}: unknown key `{key}` (known: {})", known.join(", ")),
                        );
                    }
                }
                Entries { entries }
            }
            other => {
                self.fail(
                    other.mark(),
                    format!("{what} must be a map of keys and values"),
                );
                Entries { entries: &[] }
            }
        }
    }

    fn text<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n str> {
        match node {
            Node::Scalar(s, _) => Some(s),
            other => {
                self.fail(other.mark(), format!("{what} must be a single value"));
                None
            }
        }
    }

    /// One path or a list of them.
    fn paths(&mut self, node: Option<&Node>, what: &str) -> Vec<PathBuf> {
        let items: Vec<&Node> = match node {
            None => return Vec::new(),
            Some(Node::Seq(items, _)) => items.iter().collect(),
            Some(one) => vec![one],
        };
        items
            .into_iter()
            .filter_map(|n| self.text(n, what).map(|t| self.base.join(t)))
            .collect()
    }

    fn pipeline(&mut self, root: &Node) -> Pipeline {
        let top = self.map(
            root,
            "the pipeline",
            &[
                "rules",
                "builtin",
                "intel",
                "tuning",
                "sources",
                "sinks",
                "metrics",
                "health_seconds",
                "dead_letters",
                "virustotal",
                "lookups",
                "geoip",
                "asn",
                "cluster",
            ],
        );
        let builtin = match top.get("builtin") {
            None => true,
            Some(n) => match self.text(n, "builtin") {
                Some("true" | "yes") => true,
                Some("false" | "no") => false,
                Some(other) => {
                    self.fail(n.mark(), format!("builtin: `{other}` is not true or false"));
                    true
                }
                None => true,
            },
        };
        let tuning = self.paths(top.get("tuning"), "tuning").into_iter().next();
        let mut pipeline = Pipeline {
            rules: self.paths(top.get("rules"), "rules"),
            builtin,
            intel: self.paths(top.get("intel"), "intel"),
            tuning,
            sources: Vec::new(),
            sinks: Vec::new(),
            metrics: None,
            health_every: Some(std::time::Duration::from_secs(60)),
            dead_letters: None,
            virustotal: None,
            lookups: Vec::new(),
            geoip: self.paths(top.get("geoip"), "geoip").into_iter().next(),
            asn: self.paths(top.get("asn"), "asn").into_iter().next(),
            cluster: None,
        };
        if let Some(n) = top.get("cluster") {
            pipeline.cluster = self.cluster(n);
        }
        if let Some(n) = top.get("lookups") {
            pipeline.lookups = self.lookups(n);
        }
        if let Some(n) = top.get("virustotal") {
            pipeline.virustotal = self.virustotal(n);
        }
        pipeline.dead_letters = self
            .paths(top.get("dead_letters"), "dead_letters")
            .into_iter()
            .next();
        if let Some(n) = top.get("metrics") {
            let text = self.text(n, "metrics").unwrap_or_default();
            match text.to_socket_addrs().ok().and_then(|mut a| a.next()) {
                Some(a) => pipeline.metrics = Some(a),
                None => self.fail(n.mark(), format!("metrics: `{text}` is not host:port")),
            }
        }
        if let Some(n) = top.get("health_seconds") {
            let text = self.text(n, "health_seconds").unwrap_or_default();
            match text.parse::<u64>() {
                Ok(0) => pipeline.health_every = None,
                Ok(secs) => pipeline.health_every = Some(std::time::Duration::from_secs(secs)),
                Err(_) => self.fail(
                    n.mark(),
                    format!("health_seconds: `{text}` is not a number of seconds (0: never)"),
                ),
            }
        }
        match top.get("sources") {
            Some(Node::Map(entries, _)) => {
                for (name, _, node) in entries {
                    if let Some(kind) = self.source(name, node) {
                        pipeline.sources.push(SourceSpec {
                            name: name.clone(),
                            kind,
                        });
                    }
                }
            }
            Some(other) => self.fail(other.mark(), "sources must be a map of named sources"),
            None if top.get("cluster").is_some() => {}
            None => self.fail(root.mark(), "the pipeline has no `sources`"),
        }
        match top.get("sinks") {
            Some(Node::Map(entries, _)) => {
                let mut stores = 0;
                for (name, _, node) in entries {
                    if let Some(sink) = self.sink(name, node) {
                        if matches!(sink.kind, SinkKind::Store { .. }) {
                            stores += 1;
                            if stores > 1 {
                                self.fail(
                                    node.mark(),
                                    format!("sink `{name}`: one store sink at most"),
                                );
                            }
                        }
                        pipeline.sinks.push(sink);
                    }
                }
            }
            Some(other) => self.fail(other.mark(), "sinks must be a map of named sinks"),
            None => self.fail(root.mark(), "the pipeline has no `sinks`"),
        }
        let has_store = pipeline
            .sinks
            .iter()
            .any(|s| matches!(s.kind, SinkKind::Store { .. }));
        if !has_store {
            if let Some(Node::Map(entries, _)) = top.get("sources") {
                for (name, at, _) in entries {
                    let kept = pipeline.sources.iter().any(|s| {
                        &s.name == name
                            && matches!(s.kind, SourceKind::File { .. } | SourceKind::Sql { .. })
                    });
                    if kept {
                        self.fail(
                            *at,
                            format!("source `{name}`: it keeps how far it read in the store: add a sink of type store"),
                        );
                    }
                }
            }
        }
        if let (Some(n), true) = (top.get("cluster"), pipeline.cluster.is_some()) {
            if let Some(s) = top.get("sources") {
                self.fail(
                    s.mark(),
                    "a worker of a cluster reads the cluster's events stream: it has no `sources` (collectors have them)",
                );
            }
            if has_store {
                self.fail(
                    n.mark(),
                    "a worker of a cluster keeps its state in the cluster: a store sink is not one of its sinks yet",
                );
            }
        }
        pipeline
    }

    fn kind<'n>(&mut self, node: &'n Node, what: &str, kinds: &[&str]) -> Option<&'n str> {
        let Node::Map(entries, at) = node else {
            self.fail(node.mark(), format!("{what} must be a map with a `type`"));
            return None;
        };
        let Some((_, _, kind)) = entries.iter().find(|(k, ..)| k == "type") else {
            self.fail(
                *at,
                format!("{what} has no `type` (one of: {})", kinds.join(", ")),
            );
            return None;
        };
        let text = self.text(kind, "type")?;
        if kinds.contains(&text) {
            Some(text)
        } else {
            self.fail(
                kind.mark(),
                format!(
                    "{what}: unknown type `{text}` (one of: {})",
                    kinds.join(", ")
                ),
            );
            None
        }
    }

    /// `{type: memory, max_records: N}` or `{type: disk, path: DIR,
    /// max_bytes: N}`.
    fn buffer(&mut self, node: &Node, sink: &str) -> Option<Buffer> {
        let what = format!("{sink}: buffer");
        let kind = self.kind(node, &what, &["memory", "disk", "spill"])?;
        if kind == "memory" {
            let e = self.map(node, &what, &["type", "max_records"]);
            let max_records = match e.get("max_records") {
                Some(n) => self.number(n, &format!("{what}: max_records"))?,
                None => 10_000,
            };
            return Some(Buffer::Memory { max_records });
        }
        let keys: &[&str] = if kind == "spill" {
            &["type", "path", "max_bytes", "max_records"]
        } else {
            &["type", "path", "max_bytes"]
        };
        let e = self.map(node, &what, keys);
        let Some(path) = e.get("path") else {
            self.fail(
                node.mark(),
                format!("{what} on disk needs a `path` (a folder)"),
            );
            return None;
        };
        let dir = self.base.join(self.text(path, "path")?);
        let max_bytes = match e.get("max_bytes") {
            Some(n) => self.number(n, &format!("{what}: max_bytes"))? as u64,
            None => 1 << 30,
        };
        if kind == "spill" {
            let max_records = match e.get("max_records") {
                Some(n) => self.number(n, &format!("{what}: max_records"))?,
                None => 10_000,
            };
            return Some(Buffer::Spill {
                max_records,
                dir,
                max_bytes,
            });
        }
        Some(Buffer::Disk { dir, max_bytes })
    }

    /// An `http://` or `https://` URL.
    fn url(&mut self, node: &Node, what: &str) -> Option<String> {
        let text = self.text(node, what)?;
        if text.starts_with("http://") || text.starts_with("https://") {
            Some(text.trim_end_matches('/').to_string())
        } else {
            self.fail(
                node.mark(),
                format!("{what}: `{text}` must start with http:// or https://"),
            );
            None
        }
    }

    fn flag(&mut self, node: &Node, what: &str) -> Option<bool> {
        match self.text(node, what)? {
            "true" | "yes" => Some(true),
            "false" | "no" => Some(false),
            other => {
                self.fail(node.mark(), format!("{what}: `{other}`? (true or false)"));
                None
            }
        }
    }

    fn number(&mut self, node: &Node, what: &str) -> Option<usize> {
        let text = self.text(node, what)?;
        match text.parse::<usize>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                self.fail(
                    node.mark(),
                    format!("{what}: `{text}` is not a positive number"),
                );
                None
            }
        }
    }

    /// `udp://host:port` or `tcp://host:port`, or also `relp://host:port`
    /// where `relp` is allowed (a sink's receiver).
    fn address(&mut self, node: &Node, what: &str, relp: bool) -> Option<Listen> {
        let text = self.text(node, what)?;
        let (scheme, rest) = text.split_once("://").unwrap_or(("", text));
        let resolved = rest.to_socket_addrs().ok().and_then(|mut a| a.next());
        let schemes = if relp {
            "udp://, tcp://, tls:// or relp://"
        } else {
            "udp://, tcp:// or tls://"
        };
        match (scheme, resolved) {
            ("udp", Some(a)) => Some(Listen::Udp(a)),
            ("tcp", Some(a)) => Some(Listen::Tcp(a)),
            ("tls", Some(a)) => Some(Listen::Tls(a)),
            ("relp", Some(a)) if relp => Some(Listen::Relp(a)),
            ("udp" | "tcp" | "tls", None) | ("relp", None) if scheme != "relp" || relp => {
                self.fail(node.mark(), format!("{what}: `{rest}` is not host:port"));
                None
            }
            _ => {
                self.fail(
                    node.mark(),
                    format!("{what}: `{text}` must start with {schemes}"),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "
rules: [more-rules]
intel: feeds/ipsum.txt
sources:
  net:
    type: syslog
    listen: tcp://127.0.0.1:5514
  piped:
    type: stdin
    format: syslog
sinks:
  alerts:
    type: file
    path: out/alerts.jsonl
  siem:
    type: syslog
    to: udp://127.0.0.1:514
    framing: json
    take: all
    min_severity: high
";

    #[test]
    fn a_pipeline_reads_with_paths_from_its_folder() {
        let p = read(GOOD, Path::new("/etc/rampart")).unwrap();
        assert_eq!(p.rules, [PathBuf::from("/etc/rampart/more-rules")]);
        assert_eq!(p.intel, [PathBuf::from("/etc/rampart/feeds/ipsum.txt")]);
        assert!(p.builtin);
        assert_eq!(p.sources.len(), 2);
        assert!(matches!(
            p.sources[0].kind,
            SourceKind::Syslog {
                listen: Listen::Tcp(_),
                max_frame: DEFAULT_MAX_FRAME,
                tls: None
            }
        ));
        assert!(p.sources[1].kind.ends());
        assert_eq!(p.sinks[0].take, Take::Alerts);
        assert!(
            matches!(&p.sinks[0].kind, SinkKind::File { path, array: false, .. } if path.ends_with("out/alerts.jsonl"))
        );
        assert_eq!(p.sinks[1].take, Take::All);
        assert_eq!(p.sinks[1].min_severity, Level::High);
        assert!(matches!(
            p.sinks[1].kind,
            SinkKind::Syslog {
                to: Listen::Udp(_),
                framing: Framing::Json,
                ..
            }
        ));
    }

    #[test]
    fn every_mistake_is_given_with_its_line_and_column() {
        let text = "sources:\n  net:\n    type: syslog\n    listen: 127.0.0.1:5514\n    colour: red\nsinks:\n  out:\n    type: pigeon\n";
        let errors = read(text, Path::new(".")).unwrap_err();
        let found: Vec<(usize, usize, &str)> = errors
            .iter()
            .map(|e| (e.at.line, e.at.col, e.what.as_str()))
            .collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!((found[0].0, found[0].1), (4, 13));
        assert!(found[0]
            .2
            .contains("must start with udp://, tcp:// or tls://"));
        assert_eq!((found[1].0, found[1].1), (5, 5));
        assert!(found[1].2.contains("unknown key `colour`"));
        assert_eq!((found[2].0, found[2].1), (8, 11));
        assert!(found[2].2.contains("unknown type `pigeon`"));
    }

    #[test]
    fn a_pipeline_needs_sources_and_sinks() {
        let errors = read("rules: x\n", Path::new(".")).unwrap_err();
        let text: Vec<&str> = errors.iter().map(|e| e.what.as_str()).collect();
        assert_eq!(
            text,
            [
                "the pipeline has no `sources`",
                "the pipeline has no `sinks`"
            ]
        );
    }

    #[test]
    fn bad_values_are_named() {
        let text = "sources:\n  s: {type: stdin, format: nope}\nsinks:\n  o: {type: stdout, take: some, min_severity: loud}\n";
        let errors = read(text, Path::new(".")).unwrap_err();
        let text: Vec<&str> = errors.iter().map(|e| e.what.as_str()).collect();
        assert!(text[0].contains("no format is named `nope`"), "{text:?}");
        assert!(text[1].contains("take `some`"), "{text:?}");
    }
}
