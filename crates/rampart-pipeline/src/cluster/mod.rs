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
//! and the sinks keep what it became; one a worker took and never
//! acknowledged (it died) goes to another after the ack wait, and what
//! its shares were is sent again and left out by the owners, who know it
//! by its sequence. So no event is lost, and correlations see each match
//! once.

pub mod keeper;
pub mod lease;
pub mod owner;
pub mod status;
pub mod wire;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer, object_store, stream};
use futures_util::StreamExt;
use rampart_detect::Alert;
use rampart_engine::{Detected, Engine, Sink, SHARES};
use rampart_event::Event;
use rampart_io::Input;
use rayon::prelude::*;
use xxhash_rust::xxh3::Xxh3;

use crate::config::Cluster;
use crate::route::Router;
use keeper::Keeper;
use owner::{Partition, Places};
use wire::{Item, Work};

/// Messages fetched from the events stream at a time, at most.
const FETCH: usize = 4096;
/// Bytes fetched from the events stream at a time, at most (a message
/// may hold many events).
const FETCH_BYTES: usize = 8 << 20;
/// Events run through the rules as one batch.
const CHUNK: usize = 1024;
/// A work message's size, at most, before the next is begun.
const MESSAGE_BYTES: usize = 512 * 1024;
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

/// The cluster's names for its streams, consumer and buckets.
pub struct Names {
    /// The stream collectors publish events to.
    pub events_stream: String,
    /// The workers' durable consumer of it.
    pub consumer: String,
    /// The stream of work shared out by partition.
    pub work_stream: String,
    /// Its subjects' prefix; a partition's subject ends with its number.
    pub work_prefix: String,
    /// The bucket of partitions' heads and the object store of their state.
    pub state: String,
}

impl Names {
    /// The names of `cluster`'s parts.
    pub fn of(cluster: &Cluster) -> Names {
        Names {
            events_stream: crate::nats::stream_for(&cluster.events),
            consumer: format!("{}-workers", cluster.name),
            work_stream: format!("{}_WORK", cluster.name.to_ascii_uppercase()),
            work_prefix: format!("{}.work.", cluster.name),
            state: format!("{}-state", cluster.name),
        }
    }
}

/// Connects to `cluster`'s servers.
pub async fn connect(cluster: &Cluster) -> Result<async_nats::Client, String> {
    let addresses = cluster
        .servers
        .split(',')
        .map(|a| a.trim().parse::<async_nats::ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", cluster.servers))?;
    async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(10))
        .connect(addresses)
        .await
        .map_err(|e| format!("{}: {e}", cluster.servers))
}

/// The streams, consumer and buckets of `cluster`, made when missing.
struct Parts {
    events: consumer::PullConsumer,
    places: Places,
}

/// The workers' durable consumer of the events stream, both made when
/// missing.
async fn events_consumer(
    js: &jetstream::Context,
    cluster: &Cluster,
) -> Result<consumer::PullConsumer, String> {
    let names = Names::of(cluster);
    let events = js
        .get_or_create_stream(stream::Config {
            name: names.events_stream.clone(),
            subjects: vec![cluster.events.clone()],
            num_replicas: cluster.replicas,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("stream {}: {e}", names.events_stream))?;
    events
        .get_or_create_consumer(
            &names.consumer,
            consumer::pull::Config {
                durable_name: Some(names.consumer.clone()),
                filter_subject: cluster.events.clone(),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: cluster.ack_wait,
                max_ack_pending: 65_536,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| format!("consumer {}: {e}", names.consumer))
}

async fn parts(js: &jetstream::Context, cluster: &Cluster) -> Result<Parts, String> {
    let names = Names::of(cluster);
    let events = events_consumer(js, cluster).await?;
    let work = js
        .get_or_create_stream(stream::Config {
            name: names.work_stream.clone(),
            subjects: vec![format!("{}*", names.work_prefix)],
            num_replicas: cluster.replicas,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("stream {}: {e}", names.work_stream))?;
    let heads = lease::bucket(js, &names.state, Duration::ZERO, cluster.replicas).await?;
    let objects = match js.get_object_store(&names.state).await {
        Ok(o) => o,
        Err(_) => js
            .create_object_store(object_store::Config {
                bucket: names.state.clone(),
                num_replicas: cluster.replicas,
                ..Default::default()
            })
            .await
            .map_err(|e| format!("object store {}: {e}", names.state))?,
    };
    Ok(Parts {
        events,
        places: Places {
            js: js.clone(),
            heads,
            objects,
            work,
            prefix: names.work_prefix,
            worker: cluster.worker.clone(),
        },
    })
}

/// How long setting up waits out a cluster that does not answer (a node
/// lost, its streams electing a new leader).
const SETUP_PATIENCE: Duration = Duration::from_secs(30);

/// Does `step` until it works, or gives its last error after
/// [`SETUP_PATIENCE`].
pub async fn patiently<T, F, Fut>(mut step: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let started = Instant::now();
    loop {
        match step().await {
            Ok(t) => return Ok(t),
            Err(e) if started.elapsed() >= SETUP_PATIENCE => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// How long one exchange with the cluster may take before it counts as
/// failed: a request whose node died is never answered.
pub const REQUEST: Duration = Duration::from_secs(10);

/// `work`, failed with a timeout after [`REQUEST`].
pub async fn within<T>(
    work: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    tokio::time::timeout(REQUEST, work)
        .await
        .unwrap_or_else(|_| Err("the cluster did not answer in time".into()))
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
    let keeper = Keeper::start(cluster)?;
    let ran = rt.block_on(async {
        let js = jetstream::new(connect(cluster).await?);
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
    keeper: &'w Keeper,
    owned: Vec<Partition>,
    report: WorkReport,
    rate: Rate,
    /// Troubles said, each once.
    said: Vec<String>,
}

impl Worker<'_, '_> {
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

    /// Reads a batch of events, runs the rules, shares out what needs
    /// state, hands the rest to the sinks and acknowledges the batch;
    /// returns how many messages it took.
    async fn share_out(&mut self) -> Result<usize, String> {
        let events = &self.parts.events;
        let messages = within(async {
            let mut batch = events
                .fetch()
                .max_messages(FETCH)
                .max_bytes(FETCH_BYTES)
                .messages()
                .await
                .map_err(|e| e.to_string())?;
            let mut messages = Vec::new();
            while let Some(m) = batch.next().await {
                match m {
                    Ok(m) => messages.push(m),
                    // The server ends a fetch whose bytes are spent so.
                    Err(e) if e.to_string().contains("Exceeds MaxBytes") => break,
                    Err(e) => return Err(e.to_string()),
                }
            }
            Ok(messages)
        })
        .await?;
        if messages.is_empty() {
            return Ok(0);
        }
        let replies = messages
            .iter()
            .filter_map(|m| m.reply.as_ref().map(ToString::to_string))
            .collect();
        self.keeper.shared().in_hand = Some((Instant::now(), replies));
        // Each message holds one event or several, a line each.
        let decoded: Vec<Vec<(u64, Result<Event, String>)>> = {
            let decode = |m: &jetstream::Message| {
                let seq = m.info().map(|i| i.stream_sequence).unwrap_or(0);
                m.payload
                    .split(|b| *b == b'\n')
                    .filter(|line| !line.is_empty())
                    .enumerate()
                    .map(|(at, line)| {
                        let event = std::str::from_utf8(line)
                            .map_err(|_| "not UTF-8".to_string())
                            .and_then(Event::from_ecs_json);
                        (wire::place(seq, at), event)
                    })
                    .collect()
            };
            match self.pool {
                Some(pool) => pool.install(|| messages.par_iter().map(decode).collect()),
                None => messages.iter().map(decode).collect(),
            }
        };
        let mut seqs = Vec::with_capacity(decoded.len());
        let mut events = Vec::with_capacity(decoded.len());
        for (seq, event) in decoded.into_iter().flatten() {
            match event {
                Ok(e) => {
                    seqs.push(seq);
                    events.push(e);
                }
                Err(e) => {
                    self.report.unreadable += 1;
                    self.say(format!("a message of the events stream is no event: {e}"));
                }
            }
        }
        let mut batches: Vec<Vec<Event>> = Vec::new();
        while events.len() > CHUNK {
            let rest = events.split_off(CHUNK);
            batches.push(std::mem::replace(&mut events, rest));
        }
        batches.push(events);
        let detected = self.engine.detect_split(self.pool, &mut batches);
        // Each batch's items by partition, made on the pool, then each
        // partition's in event order.
        let mut starts = Vec::with_capacity(batches.len());
        let mut first = 0;
        for events in &batches {
            starts.push(first);
            first += events.len();
        }
        let items_of = |((events, detected), first): ((&Vec<Event>, Detected), &usize)| {
            let shares: Vec<Vec<Item>> = detected
                .shares
                .into_iter()
                .map(|list| {
                    list.into_iter()
                        .map(|share| {
                            let mut json = Vec::with_capacity(512);
                            events[share.event].write_json(&mut json);
                            Item {
                                seq: seqs[first + share.event],
                                event: String::from_utf8(json).unwrap_or_default(),
                                placed: share.placed,
                                folded: share.folded.iter().map(Alert::to_bytes).collect(),
                            }
                        })
                        .collect()
                })
                .collect();
            (shares, detected.ready)
        };
        let made: Vec<(Vec<Vec<Item>>, Vec<Alert>)> = {
            let work: Vec<_> = batches.iter().zip(detected).zip(&starts).collect();
            match self.pool {
                Some(pool) => pool.install(|| work.into_par_iter().map(items_of).collect()),
                None => work.into_iter().map(items_of).collect(),
            }
        };
        let mut shares: Vec<Vec<Item>> = (0..SHARES).map(|_| Vec::new()).collect();
        let mut ready = Vec::new();
        for (by_partition, alerts) in made {
            for (p, items) in by_partition.into_iter().enumerate() {
                shares[p].extend(items);
            }
            ready.extend(alerts);
        }
        within(self.publish(shares)).await?;
        for alert in ready {
            self.hand_on(alert);
        }
        let events: Vec<Event> = batches.into_iter().flatten().collect();
        self.report.events += events.len() as u64;
        self.router.events(&self.input, events);
        self.router.keep();
        futures_util::future::try_join_all(messages.iter().map(|m| m.ack()))
            .await
            .map_err(|e| format!("ack: {e}"))?;
        self.keeper.shared().in_hand = None;
        Ok(messages.len())
    }

    /// Publishes each partition's items, and waits until the work stream
    /// stored them all.
    async fn publish(&mut self, shares: Vec<Vec<Item>>) -> Result<(), String> {
        let prefix = &self.parts.places.prefix;
        let mut acks = Vec::new();
        for (p, items) in shares.into_iter().enumerate() {
            let mut message = Vec::new();
            let mut weight = 0;
            let mut items = items.into_iter().peekable();
            while let Some(item) = items.next() {
                weight += item.weight();
                message.push(item);
                if weight >= MESSAGE_BYTES || items.peek().is_none() {
                    let work = Work {
                        rules: self.rules,
                        items: std::mem::take(&mut message),
                    };
                    weight = 0;
                    let ack = self
                        .parts
                        .places
                        .js
                        .publish(format!("{prefix}{p:02}"), wire::encode(&work).into())
                        .await
                        .map_err(|e| format!("work: {e}"))?;
                    acks.push(ack);
                }
            }
        }
        for ack in acks {
            ack.await.map_err(|e| format!("work: {e}"))?;
        }
        Ok(())
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

    /// Saves each owned partition's state, after the sinks keep the
    /// alerts it raised; drops those another worker took over.
    /// One whose lease another took is dropped unsaved; one whose state
    /// another saved meanwhile (it held the partition for a moment after
    /// this worker's lease ran out) is given back, to be taken again from
    /// that state.
    /// A large state is saved less often than a small one (`all` saves
    /// every state that changed, now).
    async fn save_all(&mut self, all: bool) {
        self.router.keep();
        let lost = std::mem::take(&mut self.keeper.shared().lost);
        self.owned.retain(|p| !lost.contains(&p.index()));
        let mut gone = Vec::new();
        for part in &mut self.owned {
            if !all && !part.save_due() {
                continue;
            }
            match within(part.save(&self.parts.places)).await {
                Ok(true) => {}
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
        self.router.keep();
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
