//! A worker of a cluster (`rampart run` with `cluster:`): collectors
//! publish events to a NATS JetStream stream; every worker reads it as one
//! durable consumer, so the events are shared out among however many
//! workers run, and runs the stage of the engine without state over them
//! (enrichment, every rule). Alerts that need no state go to the worker's
//! sinks at once; the matches that feed correlations, and alerts that fold
//! over dedup windows, are shared out by partition ([`rampart_engine::split`])
//! to subjects of a work stream, each partition owned by one worker at a
//! time ([`lease`]), which takes them in input order and keeps the state
//! ([`owner`]). Adding or removing a worker needs no change to the others:
//! partitions move to whoever holds fewer than its share.
//!
//! An event is acknowledged once its shares are stored in the work stream
//! and the sinks have delivered what it became (not merely buffered it: a
//! worker killed after must not take it with it); one a worker took and never
//! acknowledged (it died) goes to another after the ack wait, and what
//! its shares were is sent again and left out by the owners, who know it
//! by its sequence. So no event is lost, and correlations see each match
//! once.

mod fetch;
pub mod keeper;
pub mod lease;
pub mod owner;
mod setup;
mod share;
pub mod status;
pub mod wire;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use rampart_detect::Alert;
use rampart_engine::{Engine, Sink, SHARES};
use rampart_io::Input;
use rayon::prelude::*;
use xxhash_rust::xxh3::Xxh3;

use crate::config::Cluster;
use crate::metrics::ClusterCounts;
use crate::route::Router;
use fetch::FetchSize;
use keeper::Keeper;
use owner::Partition;
pub use setup::{connect, patiently, within, Names, REQUEST};
use setup::{events_consumer, parts, Parts};

/// How often each owned partition's state is saved.
const SAVE_EVERY: Duration = Duration::from_secs(1);

/// How a worker runs.
pub struct WorkOptions {
    /// Worker threads.
    pub threads: usize,
    /// Whether to end once every event published so far is taken and
    /// every partition closed its windows (a bounded input).
    pub once: bool,
}

/// What a worker did.
#[derive(Debug, Default)]
pub struct WorkReport {
    /// Events read from the events stream.
    pub events: u64,
    /// Messages of the events stream that are no event.
    pub unreadable: u64,
    /// Alerts handed to the sinks.
    pub alerts: u64,
    /// Partitions taken over during the run.
    pub taken_over: u64,
}

/// A hash of the rules `engine` runs, which work messages carry.
pub fn rules_hash(engine: &Engine) -> u64 {
    let mut h = Xxh3::new();
    for r in engine.rules().rules() {
        h.update(r.rule.id.as_bytes());
        h.update(&[0]);
    }
    h.update(&(engine.correlations() as u64).to_le_bytes());
    h.digest()
}

/// Runs as a worker of `cluster` until stopped (or, with `once`, until
/// the input is taken whole), handing alerts and events to `router`.
pub fn work(
    cluster: &Cluster,
    engine: &mut Engine,
    router: &mut Router<'_>,
    stop: &Arc<AtomicBool>,
    options: WorkOptions,
) -> Result<WorkReport, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let pool = rampart_io::worker_pool(options.threads);
    let _ = router.metrics().cluster.set(ClusterCounts::default());
    let keeper = Keeper::start(cluster)?;
    let ran = rt.block_on(async {
        let client = connect(cluster).await?;
        let fetch = FetchSize::new(client.server_info().max_payload);
        let js = jetstream::new(client);
        let parts = patiently(|| parts(&js, cluster)).await?;
        let mut worker = Worker {
            cluster,
            engine,
            router,
            pool: pool.as_ref(),
            input: Input {
                path: PathBuf::from(format!("{}/{}", cluster.servers, cluster.events)),
                rotated_set: None,
                resume: Default::default(),
            },
            rules: 0,
            parts,
            fetch,
            keeper: &keeper,
            owned: Vec::new(),
            report: WorkReport::default(),
            rate: Rate::default(),
            said: Vec::new(),
        };
        worker.rules = rules_hash(worker.engine);
        worker.run(stop, options.once).await?;
        Ok(worker.report)
    });
    keeper.stop();
    ran
}

struct Worker<'w, 'r> {
    cluster: &'w Cluster,
    engine: &'w mut Engine,
    router: &'w mut Router<'r>,
    pool: Option<&'w rayon::ThreadPool>,
    input: Input,
    rules: u64,
    parts: Parts,
    /// The size of the next fetch of events.
    fetch: FetchSize,
    keeper: &'w Keeper,
    owned: Vec<Partition>,
    report: WorkReport,
    rate: Rate,
    /// Troubles said, each once.
    said: Vec<String>,
}

impl Worker<'_, '_> {
    /// Updates the worker's counts served for Prometheus.
    fn count(&self, update: impl FnOnce(&ClusterCounts)) {
        if let Some(c) = self.router.metrics().cluster.get() {
            update(c);
        }
    }

    fn say(&mut self, what: String) {
        if !self.said.contains(&what) {
            eprintln!("cluster: {what}");
            self.said.push(what);
        }
    }

    async fn run(&mut self, stop: &AtomicBool, once: bool) -> Result<(), String> {
        let mut saved = Instant::now();
        loop {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            self.balance().await;
            self.count(|c| {
                c.owned.store(self.owned.len() as u64, Ordering::Relaxed);
                c.taken.store(self.report.taken_over, Ordering::Relaxed);
            });
            let read = match self.share_out().await {
                Ok(n) => {
                    let events = &mut self.parts.events;
                    within(async {
                        match events.info().await {
                            Ok(i) => Ok((n, i.clone())),
                            Err(e) => Err(format!("consumer: {e}")),
                        }
                    })
                    .await
                }
                Err(e) => Err(e),
            };
            let (fetched, info) = match read {
                Ok(read) => read,
                Err(e) => {
                    // A node lost: the consumer is found again (its
                    // stream's new leader) once the cluster answers.
                    self.say(format!("events: {e}"));
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    if let Ok(c) = events_consumer(&self.parts.places.js, self.cluster).await {
                        self.parts.events = c;
                    }
                    continue;
                }
            };
            let floor = info.ack_floor.stream_sequence;
            self.count(|c| {
                c.pending.store(info.num_pending, Ordering::Relaxed);
                c.in_hand
                    .store(info.num_ack_pending as u64, Ordering::Relaxed);
            });
            self.take_owned(floor).await;
            let drained = once
                && fetched == 0
                && info.num_pending == 0
                && info.num_ack_pending == 0
                && self.published().await == Some(floor);
            if drained && self.close_all(floor).await {
                break;
            }
            if saved.elapsed() >= SAVE_EVERY {
                saved = Instant::now();
                self.save_all(false).await;
            }
            if fetched == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        // Stopped: the state saved; the keeper gives the partitions back
        // for others to go on with.
        self.save_all(true).await;
        Ok(())
    }

    /// The last event published, as the events stream says (its leader,
    /// not a consumer's replica that may lag after a node was lost).
    async fn published(&self) -> Option<u64> {
        let js = &self.parts.places.js;
        let name = Names::of(self.cluster).events_stream;
        within(async {
            let mut stream = js.get_stream(&name).await.map_err(|e| e.to_string())?;
            let info = stream.info().await.map_err(|e| e.to_string())?;
            Ok(info.state.last_sequence)
        })
        .await
        .ok()
    }

    /// An alert to the sinks, unless the config suppresses it.
    fn hand_on(&mut self, alert: Alert) {
        if self.engine.suppresses(&alert) {
            return;
        }
        self.report.alerts += 1;
        if let Err(e) = self.router.alert(alert) {
            self.say(format!("a sink refused an alert: {e}"));
        }
    }

    /// Reads each owned partition's work and takes what is up to `floor`.
    async fn take_owned(&mut self, floor: u64) {
        let mut troubles = Vec::new();
        // A partition whose work could not be read whole takes nothing:
        // what it missed may lie below the floor.
        // Read all at once: each read waits on the cluster, not the CPU.
        let (places, rules) = (&self.parts.places, self.rules);
        let reads = self
            .owned
            .iter_mut()
            .map(|part| async move { (part.index(), within(part.read(places, rules)).await) });
        let mut unread = Vec::new();
        for (p, read) in futures_util::future::join_all(reads).await {
            if let Err(e) = read {
                troubles.push(e);
                unread.push(p);
            }
        }
        for part in &mut self.owned {
            if unread.contains(&part.index()) {
                part.drop_reader();
            }
        }
        // The partitions share no state: taken on the pool at once.
        let take = |part: &mut Partition| {
            if unread.contains(&part.index()) {
                Vec::new()
            } else {
                part.take(floor, None)
            }
        };
        let alerts: Vec<Vec<Alert>> = match self.pool {
            Some(pool) => pool.install(|| self.owned.par_iter_mut().map(take).collect()),
            None => self.owned.iter_mut().map(take).collect(),
        };
        for part in &mut self.owned {
            if let Some(t) = part.trouble.take() {
                troubles.push(format!("partition {}: {t}", part.index()));
            }
        }
        for t in troubles {
            self.say(t);
        }
        for a in alerts.into_iter().flatten() {
            self.hand_on(a);
        }
    }

    /// Saves each owned partition's state, after the sinks deliver the
    /// alerts it raised; drops those another worker took over.
    /// One whose lease another took is dropped unsaved; one whose state
    /// another saved meanwhile (it held the partition for a moment after
    /// this worker's lease ran out) is given back, to be taken again from
    /// that state.
    /// A large state is saved less often than a small one (`all` saves
    /// every state that changed, now).
    async fn save_all(&mut self, all: bool) {
        self.router.deliver();
        let lost = std::mem::take(&mut self.keeper.shared().lost);
        self.owned.retain(|p| !lost.contains(&p.index()));
        let mut gone = Vec::new();
        for part in &mut self.owned {
            if !all && !part.save_due() {
                continue;
            }
            match within(part.save(&self.parts.places)).await {
                Ok(true) => {
                    if let Some(c) = self.router.metrics().cluster.get() {
                        c.saves.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Ok(false) => gone.push(part.index()),
                Err(e) => eprintln!("cluster: {e}"),
            }
        }
        self.owned.retain(|p| !gone.contains(&p.index()));
        self.keeper.shared().give_back.extend(gone);
    }

    /// Goes along with the keeper: drops the partitions it lost, opens
    /// those it took, gives back (saved) those above its share, and tells
    /// it what to say of this worker.
    async fn balance(&mut self) {
        let said = serde_json::json!({
            "events": self.report.events,
            "alerts": self.report.alerts,
            "partitions": self.owned.iter().map(Partition::index).collect::<Vec<_>>(),
            "events_per_second": self.rate.per_second(self.report.events),
        });
        let (lost, taken, alive, greedy, trouble) = {
            let mut s = self.keeper.shared();
            s.said = said.to_string().into_bytes();
            (
                std::mem::take(&mut s.lost),
                std::mem::take(&mut s.taken),
                s.alive,
                s.greedy,
                s.trouble.take(),
            )
        };
        if let Some(t) = trouble {
            self.say(t);
        }
        self.owned.retain(|p| !lost.contains(&p.index()));
        for p in taken {
            match within(Partition::open(p, &self.parts.places, self.engine)).await {
                Ok(part) => {
                    self.report.taken_over += 1;
                    self.owned.push(part);
                }
                Err(e) => {
                    self.say(e);
                    self.keeper.shared().give_back.push(p);
                }
            }
        }
        let share = SHARES.div_ceil(alive.max(1));
        if greedy || self.owned.len() <= share {
            return;
        }
        self.router.deliver();
        while self.owned.len() > share {
            let Some(mut part) = self.owned.pop() else {
                break;
            };
            let _ = within(part.save(&self.parts.places)).await;
            self.keeper.shared().give_back.push(part.index());
        }
    }

    /// At the end of a bounded input (`floor` the last event): closes the
    /// windows of the partitions it owns; whether every partition of the
    /// cluster is closed there.
    async fn close_all(&mut self, floor: u64) -> bool {
        let mut alerts = Vec::new();
        for part in &mut self.owned {
            if part.through() >= floor && !part.closed() {
                alerts.extend(part.close());
            }
        }
        for a in alerts {
            self.hand_on(a);
        }
        self.save_all(true).await;
        for p in 0..SHARES {
            let done = match within(self.parts.places.head(p)).await {
                Ok((head, revision)) => revision > 0 && head.through >= floor && head.closed,
                Err(e) => {
                    self.say(e);
                    false
                }
            };
            if !done {
                self.keeper.shared().greedy = true;
                return false;
            }
        }
        true
    }
}

/// Events a second between two heartbeats.
#[derive(Default)]
struct Rate {
    last: Option<(Instant, u64)>,
}

impl Rate {
    fn per_second(&mut self, events: u64) -> f64 {
        let now = Instant::now();
        let rate = match self.last {
            Some((then, before)) if now > then => {
                events.saturating_sub(before) as f64 / (now - then).as_secs_f64()
            }
            _ => 0.0,
        };
        self.last = Some((now, events));
        (rate * 10.0).round() / 10.0
    }
}
