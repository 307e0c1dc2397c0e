//! What a running pipeline counts about itself: messages in per source,
//! records out per sink, what waits in each buffer, failed attempts and
//! drops by reason. Counted with atomics by the threads that do the work,
//! served in Prometheus's text format on a local port, and written as a
//! structured line on stderr every so often.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use rampart_intel::vt::VtAnswers;
use rampart_intel::{LiveAnswers, LiveCounts};

/// One source's counts.
#[derive(Debug, Default)]
pub struct SourceCounts {
    /// Messages received.
    pub messages: AtomicU64,
    /// Messages longer than the bound, cut.
    pub cut: AtomicU64,
    /// When the last message arrived (Unix seconds).
    pub last_seen: AtomicU64,
}

/// One sink's counts.
#[derive(Debug, Default)]
pub struct SinkCounts {
    /// Records handed to it.
    pub records: AtomicU64,
    /// Records it refused (a file that cannot be written).
    pub refused: AtomicU64,
    /// Records its destination took (network sinks).
    pub delivered: AtomicU64,
    /// Attempts that failed and were retried.
    pub retries: AtomicU64,
    /// Records waiting in its buffer.
    pub waiting: AtomicU64,
}

/// What a lookup service's live answers count (whatever they hold).
pub trait Asked: Send + Sync + std::fmt::Debug {
    /// The counts.
    fn counts(&self) -> &LiveCounts;
    /// Values waiting for a lookup.
    fn queued(&self) -> usize;
}

impl<K, A> Asked for LiveAnswers<K, A>
where
    K: Eq + std::hash::Hash + Ord + Clone + Send + Sync + std::fmt::Debug,
    A: Send + Sync + std::fmt::Debug,
{
    fn counts(&self) -> &LiveCounts {
        &self.counts
    }

    fn queued(&self) -> usize {
        LiveAnswers::queued(self)
    }
}

/// Every count of a pipeline.
#[derive(Debug)]
pub struct Metrics {
    sources: Vec<(String, Arc<SourceCounts>)>,
    sinks: Vec<(String, Arc<SinkCounts>)>,
    /// Events read.
    pub events: AtomicU64,
    /// Lines nothing could read.
    pub unreadable: AtomicU64,
    /// Alerts handed on.
    pub alerts: AtomicU64,
    /// The VirusTotal lookups made while events flow, when asked for.
    pub virustotal: OnceLock<Arc<VtAnswers>>,
    /// The HTTP lookups made while events flow, by lookup name.
    pub lookups: OnceLock<Vec<(String, Arc<dyn Asked>)>>,
    /// A cluster worker's own counts, when the pipeline is one.
    pub cluster: OnceLock<ClusterCounts>,
}

/// What a worker of a cluster counts beside a pipeline's counts.
#[derive(Debug, Default)]
pub struct ClusterCounts {
    /// Partitions it owns now.
    pub owned: AtomicU64,
    /// Partitions it took (from a worker gone, or a free one) since it started.
    pub taken: AtomicU64,
    /// Partition states it saved.
    pub saves: AtomicU64,
    /// Events of the stream no worker has taken yet (the consumer's lag).
    pub pending: AtomicU64,
    /// Events taken by a worker and not yet acknowledged.
    pub in_hand: AtomicU64,
}

/// Adds `n` to a counter.
pub fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

impl Metrics {
    /// Counts for the named sources and sinks.
    pub fn new(sources: &[String], sinks: &[String]) -> Metrics {
        Metrics {
            sources: sources
                .iter()
                .map(|n| (n.clone(), Arc::default()))
                .collect(),
            sinks: sinks.iter().map(|n| (n.clone(), Arc::default())).collect(),
            events: AtomicU64::new(0),
            unreadable: AtomicU64::new(0),
            alerts: AtomicU64::new(0),
            virustotal: OnceLock::new(),
            lookups: OnceLock::new(),
            cluster: OnceLock::new(),
        }
    }

    /// The counts of source `index`.
    pub fn source(&self, index: usize) -> Arc<SourceCounts> {
        self.sources
            .get(index)
            .map_or_else(Arc::default, |(_, c)| Arc::clone(c))
    }

    /// The counts of the sink named `name`.
    pub fn sink(&self, name: &str) -> Arc<SinkCounts> {
        self.sinks
            .iter()
            .find(|(n, _)| n == name)
            .map_or_else(Arc::default, |(_, c)| Arc::clone(c))
    }

    /// The Prometheus text exposition of every count.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, rows: Vec<(String, u64)>| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in rows {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        let per_source = |f: &dyn Fn(&SourceCounts) -> u64| -> Vec<(String, u64)> {
            self.sources
                .iter()
                .map(|(n, c)| (format!("{{source=\"{}\"}}", label(n)), f(c)))
                .collect()
        };
        let per_sink = |f: &dyn Fn(&SinkCounts) -> u64| -> Vec<(String, u64)> {
            self.sinks
                .iter()
                .map(|(n, c)| (format!("{{sink=\"{}\"}}", label(n)), f(c)))
                .collect()
        };
        family(
            "rampart_source_messages_total",
            "counter",
            "Messages received per source.",
            per_source(&|c| get(&c.messages)),
        );
        family(
            "rampart_source_dropped_total",
            "counter",
            "Parts of messages dropped per source, by reason.",
            self.sources
                .iter()
                .map(|(n, c)| {
                    (
                        format!("{{source=\"{}\",reason=\"cut\"}}", label(n)),
                        get(&c.cut),
                    )
                })
                .collect(),
        );
        family(
            "rampart_source_last_message_seconds",
            "gauge",
            "When each source last received a message (Unix time; its lag is now minus this).",
            per_source(&|c| get(&c.last_seen)),
        );
        family(
            "rampart_events_total",
            "counter",
            "Events read.",
            vec![(String::new(), get(&self.events))],
        );
        family(
            "rampart_unreadable_total",
            "counter",
            "Lines nothing could read (kept as dead letters).",
            vec![(String::new(), get(&self.unreadable))],
        );
        family(
            "rampart_alerts_total",
            "counter",
            "Alerts handed on (final states).",
            vec![(String::new(), get(&self.alerts))],
        );
        family(
            "rampart_sink_records_total",
            "counter",
            "Records handed to each sink.",
            per_sink(&|c| get(&c.records)),
        );
        family(
            "rampart_sink_refused_total",
            "counter",
            "Records each sink refused.",
            per_sink(&|c| get(&c.refused)),
        );
        family(
            "rampart_sink_delivered_total",
            "counter",
            "Records each network sink's destination took.",
            per_sink(&|c| get(&c.delivered)),
        );
        family(
            "rampart_sink_retries_total",
            "counter",
            "Deliveries that failed and were tried again.",
            per_sink(&|c| get(&c.retries)),
        );
        family(
            "rampart_sink_buffer_records",
            "gauge",
            "Records waiting in each sink's buffer.",
            per_sink(&|c| get(&c.waiting)),
        );
        if let Some(c) = self.cluster.get() {
            let one = |n: &AtomicU64| vec![(String::new(), get(n))];
            family(
                "rampart_cluster_partitions_owned",
                "gauge",
                "Partitions this worker owns.",
                one(&c.owned),
            );
            family(
                "rampart_cluster_partitions_taken_total",
                "counter",
                "Partitions this worker took since it started.",
                one(&c.taken),
            );
            family(
                "rampart_cluster_state_saves_total",
                "counter",
                "Partition states this worker saved.",
                one(&c.saves),
            );
            family(
                "rampart_cluster_events_pending",
                "gauge",
                "Events of the stream no worker has taken yet.",
                one(&c.pending),
            );
            family(
                "rampart_cluster_events_in_hand",
                "gauge",
                "Events taken by the cluster's workers and not yet acknowledged.",
                one(&c.in_hand),
            );
        }
        if let Some(vt) = self.virustotal.get() {
            let c = &vt.counts;
            family(
                "rampart_virustotal_addresses_total",
                "counter",
                "Addresses queued for a VirusTotal lookup, and what became of them.",
                [
                    ("asked", &c.asked),
                    ("answered", &c.answered),
                    ("failed", &c.failed),
                    ("queue_full", &c.queue_full),
                ]
                .into_iter()
                .map(|(outcome, n)| (format!("{{outcome=\"{outcome}\"}}"), get(n)))
                .collect(),
            );
            family(
                "rampart_virustotal_queued",
                "gauge",
                "Addresses waiting for a VirusTotal lookup.",
                vec![(String::new(), vt.queued() as u64)],
            );
            family(
                "rampart_virustotal_waited_milliseconds_total",
                "counter",
                "Time batches waited for VirusTotal answers.",
                vec![(String::new(), get(&c.waited_ms))],
            );
        }
        if let Some(lookups) = self.lookups.get().filter(|l| !l.is_empty()) {
            family(
                "rampart_lookup_values_total",
                "counter",
                "Values queued for an HTTP lookup, and what became of them.",
                lookups
                    .iter()
                    .flat_map(|(name, a)| {
                        let c = a.counts();
                        [
                            ("asked", &c.asked),
                            ("answered", &c.answered),
                            ("failed", &c.failed),
                            ("queue_full", &c.queue_full),
                        ]
                        .map(|(outcome, n)| {
                            let name = label(name);
                            (
                                format!("{{lookup=\"{name}\",outcome=\"{outcome}\"}}"),
                                get(n),
                            )
                        })
                    })
                    .collect(),
            );
            family(
                "rampart_lookup_queued",
                "gauge",
                "Values waiting for an HTTP lookup.",
                lookups
                    .iter()
                    .map(|(name, a)| (format!("{{lookup=\"{}\"}}", label(name)), a.queued() as u64))
                    .collect(),
            );
        }
        out
    }

    /// The counts as one JSON object, for the health line.
    pub fn health(&self) -> String {
        let sources: serde_json::Map<String, serde_json::Value> = self
            .sources
            .iter()
            .map(|(n, c)| {
                let v = serde_json::json!({"messages": get(&c.messages), "cut": get(&c.cut)});
                (n.clone(), v)
            })
            .collect();
        let sinks: serde_json::Map<String, serde_json::Value> = self
            .sinks
            .iter()
            .map(|(n, c)| {
                let v = serde_json::json!({
                    "records": get(&c.records),
                    "refused": get(&c.refused),
                    "delivered": get(&c.delivered),
                    "retries": get(&c.retries),
                    "waiting": get(&c.waiting),
                });
                (n.clone(), v)
            })
            .collect();
        let mut line = serde_json::json!({
            "rampart": "run",
            "state": "running",
            "events": get(&self.events),
            "unreadable": get(&self.unreadable),
            "alerts": get(&self.alerts),
            "sources": sources,
            "sinks": sinks,
        });
        if let Some(vt) = self.virustotal.get() {
            let c = &vt.counts;
            line["virustotal"] = serde_json::json!({
                "asked": get(&c.asked),
                "answered": get(&c.answered),
                "failed": get(&c.failed),
                "queue_full": get(&c.queue_full),
                "queued": vt.queued(),
                "waited_ms": get(&c.waited_ms),
            });
        }
        if let Some(lookups) = self.lookups.get().filter(|l| !l.is_empty()) {
            let each: serde_json::Map<String, serde_json::Value> = lookups
                .iter()
                .map(|(name, a)| {
                    let c = a.counts();
                    let v = serde_json::json!({
                        "asked": get(&c.asked),
                        "answered": get(&c.answered),
                        "failed": get(&c.failed),
                        "queued": a.queued(),
                    });
                    (name.clone(), v)
                })
                .collect();
            line["lookups"] = serde_json::Value::Object(each);
        }
        line.to_string()
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn label(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Serves `metrics` at `/metrics` on `at`, on a thread of its own, for as
/// long as the process runs; the address it listens on.
pub fn serve(metrics: Arc<Metrics>, at: SocketAddr) -> std::io::Result<SocketAddr> {
    let server = tiny_http::Server::http(at).map_err(std::io::Error::other)?;
    let local = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| std::io::Error::other("the metrics server has no IP address"))?;
    std::thread::Builder::new()
        .name("rampart-metrics".into())
        .spawn(move || {
            for request in server.incoming_requests() {
                let response = if request.url() == "/metrics" {
                    let header = tiny_http::Header::from_bytes(
                        &b"Content-Type"[..],
                        &b"text/plain; version=0.0.4"[..],
                    )
                    .expect("a valid header");
                    tiny_http::Response::from_string(metrics.render()).with_header(header)
                } else {
                    tiny_http::Response::from_string("not found: try /metrics\n")
                        .with_status_code(404)
                };
                let _ = request.respond(response);
            }
        })?;
    Ok(local)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn counts_are_served_in_the_prometheus_format() {
        let m = Arc::new(Metrics::new(&["net".into()], &["si\"em".into()]));
        add(&m.source(0).messages, 7);
        add(&m.sink("si\"em").retries, 2);
        add(&m.events, 7);
        let at = serve(Arc::clone(&m), "127.0.0.1:0".parse().unwrap()).unwrap();
        let mut s = std::net::TcpStream::connect(at).unwrap();
        s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        assert!(text.starts_with("HTTP/1."), "{text}");
        assert!(
            text.contains("rampart_source_messages_total{source=\"net\"} 7\n"),
            "{text}"
        );
        assert!(
            text.contains("rampart_sink_retries_total{sink=\"si\\\"em\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE rampart_sink_buffer_records gauge\n"),
            "{text}"
        );
        assert!(text.contains("rampart_events_total 7\n"), "{text}");
        let health: serde_json::Value = serde_json::from_str(&m.health()).unwrap();
        assert_eq!(health["sources"]["net"]["messages"], 7);
    }

    #[test]
    fn each_http_lookup_is_counted_by_name() {
        let m = Metrics::new(&[], &[]);
        let answers: Arc<LiveAnswers<String, rampart_intel::Answer>> = Arc::new(LiveAnswers::new(
            Default::default(),
            (std::time::Duration::ZERO, false),
            1,
        ));
        // One value fits the queue; the other is counted as not fitting.
        answers.ask_and_wait(
            ["a".to_string(), "b".to_string()],
            std::time::Instant::now(),
        );
        m.lookups
            .set(vec![("rep\"check".to_string(), answers as Arc<dyn Asked>)])
            .unwrap();
        let text = m.render();
        for line in [
            "rampart_lookup_values_total{lookup=\"rep\\\"check\",outcome=\"asked\"} 1\n",
            "rampart_lookup_values_total{lookup=\"rep\\\"check\",outcome=\"queue_full\"} 1\n",
            "rampart_lookup_queued{lookup=\"rep\\\"check\"} 1\n",
        ] {
            assert!(text.contains(line), "{line} not in {text}");
        }
        let health: serde_json::Value = serde_json::from_str(&m.health()).unwrap();
        assert_eq!(health["lookups"]["rep\"check"]["queued"], 1);
    }
}
