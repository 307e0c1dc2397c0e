//! Running a pipeline: its sources on threads of their own, their
//! messages parsed per source as they come (the format found from the
//! first lines, or named), and the batches run through the engine, which
//! hands alerts and events to the router. A stop (SIGTERM, SIGINT) ends
//! the sources, drains what they read, closes the open windows and
//! flushes every sink.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rampart_engine::{Batch, Engine};
use rampart_event::Event;
use rampart_io::Input;
use rampart_parse::{mark_quality, FileContext, FileDecoder, Format, Line, ParseOptions};
use rayon::prelude::*;

use crate::arrival::{Arrival, Message};
use crate::config::{Pipeline, SourceKind};
use crate::delivery::Delivered;
use crate::metrics::{add, Metrics};
use crate::route::{PlaceBook, Router};
use crate::sources::{self, Bound};
use crate::tail::{self, Tail};

/// Bundles that may wait between the sources and the engine.
const WAITING: usize = 64;
/// Messages taken before they are parsed, at most.
const BATCH: usize = 16_384;
/// Messages parsed, and events run through the rules, as one batch.
const CHUNK: usize = 1024;
/// How long a batch may wait for more messages (the latency it adds to
/// the first of them).
const LINGER: Duration = Duration::from_millis(5);
/// With nothing arriving, an empty batch goes through this often, so that
/// a sink that commits by time (the store) commits what it holds.
const TICK: Duration = Duration::from_secs(1);
/// After a stop, how long a source that cannot be interrupted (stdin
/// blocked in a read) is waited for; the others end by themselves once
/// they have handed on what their senders had sent.
const GRACE: Duration = Duration::from_secs(2);

/// How a source's messages become events.
enum Parsing {
    /// Read apart, in chunks on the pool, each by a decoder of its own: a
    /// syslog listener's lines share no state (a line without a year is of
    /// the year it arrived in).
    Apart {
        ctx: FileContext,
        format: &'static Format,
        /// Messages waiting, with their places.
        pending: Vec<(u64, Message)>,
    },
    /// Read already (files, read by their source's thread), waiting to be
    /// run through the rules.
    Ready(Vec<Parsed>),
    /// Read in turn by one decoder, which finds the format from the first
    /// lines and may carry state from line to line (stdin).
    InTurn {
        decoder: Box<FileDecoder>,
        /// The decoder of the messages sent as JSON objects (HEC), when
        /// the source takes them.
        json: Option<Box<FileDecoder>>,
        /// Senders and cut frames of the messages in the decoders.
        marks: Vec<(u64, Option<SocketAddr>, bool)>,
    },
}

/// One source as the loop keeps it.
struct Source {
    /// What its events are named with (a file source's are named with
    /// their files).
    input: Arc<Input>,
    parsing: Parsing,
    /// Messages received so far: a message's place, which is its line.
    received: u64,
    ended: bool,
    finished: bool,
    /// Whether a stop may leave it blocked in a read (stdin): it is waited
    /// for only so long.
    may_block: bool,
    /// Tickets of batches of messages not yet read whole: the number of
    /// the last message of each (see `Arrival::Ticketed`).
    tickets: VecDeque<(u64, u64)>,
}

impl Source {
    fn new(kind: &SourceKind, options: ParseOptions) -> Source {
        let label = label(kind);
        let parsing = match kind {
            SourceKind::Syslog { .. } => {
                let ctx = FileContext::new(&label, options);
                match rampart_parse::by_name("syslog") {
                    Some(format) => Parsing::Apart {
                        ctx,
                        format,
                        pending: Vec::new(),
                    },
                    None => Parsing::InTurn {
                        decoder: Box::new(FileDecoder::new(ctx, None)),
                        json: None,
                        marks: Vec::new(),
                    },
                }
            }
            SourceKind::File { .. } | SourceKind::Sql { .. } => Parsing::Ready(Vec::new()),
            SourceKind::Hec { .. } | SourceKind::Nats(_) | SourceKind::Kafka(_) => {
                let mut ctx = FileContext::new(&label, options);
                ctx.modified = Some(jiff::Timestamp::now());
                let json = rampart_parse::by_name("json")
                    .map(|f| Box::new(FileDecoder::new(ctx.clone(), Some(f))));
                Parsing::InTurn {
                    decoder: Box::new(FileDecoder::new(ctx, None)),
                    json,
                    marks: Vec::new(),
                }
            }
            SourceKind::Stdin { format } => {
                let mut ctx = FileContext::new(&label, options);
                // Lines without a year are of this year, as a live log's are.
                ctx.modified = Some(jiff::Timestamp::now());
                Parsing::InTurn {
                    decoder: Box::new(FileDecoder::new(ctx, *format)),
                    json: None,
                    marks: Vec::new(),
                }
            }
        };
        Source {
            input: Arc::new(Input {
                path: PathBuf::from(label),
                rotated_set: None,
                resume: Default::default(),
            }),
            parsing,
            received: 0,
            ended: false,
            finished: false,
            may_block: matches!(kind, SourceKind::Stdin { .. }),
            tickets: VecDeque::new(),
        }
    }

    fn take(&mut self, messages: Vec<Message>) {
        for m in messages {
            self.received += 1;
            let no = self.received;
            match &mut self.parsing {
                Parsing::Apart { pending, .. } => pending.push((no, m)),
                Parsing::Ready(_) => {}
                Parsing::InTurn {
                    decoder,
                    json,
                    marks,
                } => {
                    if m.peer.is_some() || m.frame.cut {
                        marks.push((no, m.peer, m.frame.cut));
                    }
                    let decoder = match json {
                        Some(json) if m.json => json,
                        _ => decoder,
                    };
                    decoder.feed(Line {
                        no,
                        bytes: &m.frame.bytes,
                        len: m.frame.bytes.len(),
                    });
                }
            }
        }
    }

    /// The events read so far, in batches of at most `CHUNK` (parsed on
    /// `pool` when they can be), and the unreadable lines.
    fn drain(&mut self, pool: Option<&rayon::ThreadPool>) -> Vec<Parsed> {
        let ended = self.ended && !self.finished;
        self.finished |= ended;
        let read: Vec<Read> = match &mut self.parsing {
            Parsing::Ready(ready) => return std::mem::take(ready),
            Parsing::Apart {
                ctx,
                format,
                pending,
            } => {
                if pending.is_empty() {
                    return Vec::new();
                }
                ctx.modified = Some(jiff::Timestamp::now());
                let (ctx, format) = (&*ctx, *format);
                let chunks: Vec<&[(u64, Message)]> = pending.chunks(CHUNK).collect();
                let parse = |chunk: &&[(u64, Message)]| parse_apart(ctx, format, chunk);
                let read = match pool {
                    Some(pool) => pool.install(|| chunks.par_iter().map(parse).collect()),
                    None => chunks.iter().map(parse).collect(),
                };
                pending.clear();
                read
            }
            Parsing::InTurn {
                decoder,
                json,
                marks,
            } => {
                let mut events = Vec::new();
                let mut dead = Vec::new();
                for d in std::iter::once(decoder).chain(json.as_mut()) {
                    if ended {
                        d.finish();
                    } else {
                        d.settle();
                    }
                    let out = d.output();
                    events.append(&mut out.events);
                    dead.append(&mut out.dead);
                }
                // The two decoders' events in the order they came.
                if json.is_some() {
                    events.sort_by_key(|e| e.origin.line);
                    dead.sort_by_key(|d| d.line);
                }
                let mut at = 0;
                for e in &mut events {
                    let no = e.origin.line;
                    while marks.get(at).is_some_and(|(n, ..)| *n < no) {
                        at += 1;
                    }
                    if let Some((_, peer, cut)) = marks.get(at).filter(|(n, ..)| *n == no) {
                        mark(e, peer.map(|p| p.to_string()).as_deref(), *cut);
                    }
                }
                marks.clear();
                let mut read: Vec<Read> = Vec::new();
                while events.len() > CHUNK {
                    let rest = events.split_off(CHUNK);
                    read.push((std::mem::replace(&mut events, rest), Vec::new()));
                }
                if !events.is_empty() || !dead.is_empty() {
                    read.push((events, dead));
                }
                read
            }
        };
        // Messages up to the last one read out of the decoders are done
        // (all of them at the end): their tickets go with the last batch.
        let done = if ended {
            self.received
        } else {
            read.iter()
                .flat_map(|(events, dead)| {
                    let last_event = events.last().map(|e| e.origin.line);
                    last_event.into_iter().chain(dead.last().map(|d| d.line))
                })
                .max()
                .unwrap_or(0)
        };
        let mut ticket = None;
        while self.tickets.front().is_some_and(|(last, _)| *last <= done) {
            ticket = self.tickets.pop_front().map(|(_, t)| t);
        }
        let mut parsed: Vec<Parsed> = read
            .into_iter()
            .map(|(events, dead)| (Arc::clone(&self.input), events, dead, None))
            .collect();
        if let Some(t) = ticket {
            let state = Some(t.to_le_bytes().to_vec());
            match parsed.last_mut() {
                Some(last) => last.3 = state,
                None => parsed.push((Arc::clone(&self.input), Vec::new(), Vec::new(), state)),
            }
        }
        parsed
    }
}

/// What a source's events are named with (`log.file.path`): its address,
/// or `stdin`.
fn label(kind: &SourceKind) -> String {
    match kind {
        SourceKind::Syslog { listen, .. } => listen.to_string(),
        SourceKind::Stdin { .. } => "stdin".to_string(),
        SourceKind::File { .. } => "files".to_string(),
        SourceKind::Hec { listen, .. } => format!("http://{listen}"),
        SourceKind::Sql {
            database, table, ..
        } => format!("{database}/{table}"),
        SourceKind::Nats(sub) => format!("{}/{}", sub.servers, sub.subject),
        SourceKind::Kafka(sub) => format!("kafka://{}/{}", sub.brokers, sub.topics.join(",")),
    }
}

/// The input each source's events are named with, in the order of the
/// sources (what a store sink places them by; a file source's events are
/// named with their files instead).
pub fn inputs(pipeline: &Pipeline) -> Vec<Input> {
    pipeline
        .sources
        .iter()
        .map(|s| Input {
            path: PathBuf::from(label(&s.kind)),
            rotated_set: None,
            resume: Default::default(),
        })
        .collect()
}

/// A batch of events read and the lines nothing could read.
type Read = (Vec<Event>, Vec<rampart_parse::DeadLetter>);

/// Notes an event's sender and that its message was cut.
fn mark(event: &mut Event, peer: Option<&str>, cut: bool) {
    if let Some(peer) = peer {
        event.set_str("log.source.address", peer);
    }
    if cut {
        mark_quality(event, "cut-event");
    }
}

/// Reads `chunk` as `format` with a decoder of its own.
fn parse_apart(ctx: &FileContext, format: &'static Format, chunk: &[(u64, Message)]) -> Read {
    let mut decoder = FileDecoder::new(ctx.clone(), Some(format));
    decoder.output().events.reserve(chunk.len());
    for (no, m) in chunk {
        decoder.feed(Line {
            no: *no,
            bytes: &m.frame.bytes,
            len: m.frame.bytes.len(),
        });
    }
    decoder.finish();
    let out = decoder.output();
    let mut events = std::mem::take(&mut out.events);
    let dead = std::mem::take(&mut out.dead);
    let first = chunk.first().map_or(0, |(no, _)| *no);
    // Senders repeat (one connection sends many lines): each is written
    // out once.
    let mut last: Option<(SocketAddr, String)> = None;
    for e in &mut events {
        let Some((_, m)) = usize::try_from(e.origin.line - first)
            .ok()
            .and_then(|at| chunk.get(at))
        else {
            continue;
        };
        let peer = m.peer.map(|p| match &last {
            Some((a, text)) if *a == p => text.clone(),
            _ => {
                let text = p.to_string();
                last = Some((p, text.clone()));
                text
            }
        });
        mark(e, peer.as_deref(), m.frame.cut);
    }
    (events, dead)
}

/// What a run did.
#[derive(Debug)]
pub struct Report {
    /// Events read.
    pub events: u64,
    /// Lines nothing could read.
    pub dead: u64,
    /// Alerts handed on.
    pub alerts: u64,
    /// Per sink.
    pub sinks: Vec<SinkReport>,
    /// What went wrong with sources (each said once, as it happened).
    pub troubles: usize,
}

/// What one sink did.
#[derive(Debug)]
pub struct SinkReport {
    /// Its name.
    pub name: String,
    /// Records handed to it.
    pub written: u64,
    /// Records it refused.
    pub failed: u64,
    /// For a destination over the network: what its delivery did.
    pub delivered: Option<Delivered>,
}

/// Binds every source (so that an address in use is an error before
/// anything runs).
pub fn bind(pipeline: &Pipeline) -> Result<Vec<Bound>, String> {
    pipeline
        .sources
        .iter()
        .map(|s| sources::bind(&s.kind).map_err(|e| format!("source `{}`: {e}", s.name)))
        .collect()
}

/// What a run is told while it runs: to stop, or to reload its rules.
pub struct Signals {
    /// Set by SIGTERM or SIGINT.
    pub stop: Arc<AtomicBool>,
    /// Set by SIGHUP; cleared when taken.
    pub reload: Arc<AtomicBool>,
}

/// A new engine for reloaded rules and intelligence, or why there is none.
pub type Rebuild<'r> = &'r mut dyn FnMut() -> Result<Engine, String>;

/// How a run works: its threads, how it rebuilds its engine on SIGHUP,
/// and what it counts.
pub struct RunOptions<'r> {
    /// Worker threads.
    pub threads: usize,
    /// The engine for reloaded rules.
    pub rebuild: Rebuild<'r>,
    /// The counts, shared with the router and the deliveries.
    pub metrics: Arc<Metrics>,
    /// The database of the store sink, which file sources keep their
    /// place in.
    pub store: Option<PathBuf>,
}

/// Runs `pipeline` until stopped or every source ended (stdin does),
/// through `engine` into `router`. On SIGHUP, the engine `rebuild` gives
/// takes over with the state of the open windows; one that cannot be
/// built leaves the running one in place, said on stderr.
pub fn run(
    pipeline: &Pipeline,
    bound: Vec<Bound>,
    engine: &mut Engine,
    router: &mut Router<'_>,
    signals: &Signals,
    options: RunOptions<'_>,
) -> Result<Report, String> {
    let RunOptions {
        threads,
        rebuild,
        metrics,
        store,
    } = options;
    let stop = &signals.stop;
    let (tx, rx) = sync_channel::<Arrival>(WAITING);
    let mut sources: Vec<Source> = pipeline
        .sources
        .iter()
        .map(|s| Source::new(&s.kind, ParseOptions::default()))
        .collect();
    for (index, (bound, spec)) in bound.into_iter().zip(&pipeline.sources).enumerate() {
        let max = match &spec.kind {
            SourceKind::Syslog { max_frame, .. } | SourceKind::Hec { max_frame, .. } => *max_frame,
            SourceKind::Stdin { .. } => crate::config::DEFAULT_MAX_FRAME,
            SourceKind::File { paths, follow } => {
                let db = store.clone().ok_or_else(|| {
                    format!("source `{}`: a file source needs a store", spec.name)
                })?;
                let tail = Tail {
                    paths: paths.clone(),
                    follow: *follow,
                    db,
                };
                tail::start(index, tail, tx.clone(), Arc::clone(stop))
                    .map_err(|e| format!("source `{}`: {e}", spec.name))?;
                continue;
            }
            SourceKind::Kafka(sub) => {
                let point = Arc::new(crate::acks::AckPoint::default());
                router
                    .acks()
                    .add(PathBuf::from(label(&spec.kind)), Arc::clone(&point));
                crate::kafka::start(index, sub.clone(), tx.clone(), (Arc::clone(stop), point))
                    .map_err(|e| format!("source `{}`: {e}", spec.name))?;
                continue;
            }
            SourceKind::Nats(sub) => {
                let point = Arc::new(crate::acks::AckPoint::default());
                router
                    .acks()
                    .add(PathBuf::from(label(&spec.kind)), Arc::clone(&point));
                crate::nats::start(index, sub.clone(), tx.clone(), (Arc::clone(stop), point))
                    .map_err(|e| format!("source `{}`: {e}", spec.name))?;
                continue;
            }
            SourceKind::Sql {
                database,
                table,
                order_by,
                look_back,
                every,
                follow,
                hit_counts,
            } => {
                let db = store
                    .clone()
                    .ok_or_else(|| format!("source `{}`: a SQL source needs a store", spec.name))?;
                let table = crate::sql::Table {
                    name: spec.name.clone(),
                    database: database.clone(),
                    table: table.clone(),
                    order_by: order_by.clone(),
                    look_back: *look_back,
                    every: *every,
                    follow: *follow,
                    db,
                    hit_counts: hit_counts.clone(),
                };
                crate::sql::start(index, table, tx.clone(), Arc::clone(stop))
                    .map_err(|e| format!("source `{}`: {e}", spec.name))?;
                continue;
            }
        };
        if let Some(point) = bound.ack_point() {
            router.acks().add(PathBuf::from(label(&spec.kind)), point);
        }
        // The threads end by themselves once stopped (stdin's, blocked in
        // a read, with the process).
        sources::start(index, bound, max, tx.clone(), Arc::clone(stop))
            .map_err(|e| format!("source `{}`: {e}", spec.name))?;
    }
    drop(tx);
    let book = router.place_book();
    let names: Vec<String> = pipeline.sources.iter().map(|s| s.name.clone()).collect();
    let mut troubles: Vec<String> = Vec::new();
    let pool = rampart_io::worker_pool(threads);
    let mut batches = Batches {
        pool: pool.as_ref(),
        rx: &rx,
        sources: &mut sources,
        stop,
        reload: &signals.reload,
        stopped_at: None,
        last: Instant::now(),
        troubles: &mut troubles,
        names: &names,
        metrics: &metrics,
        health: (pipeline.health_every, Instant::now()),
        book: &book,
    };
    loop {
        let groups = batches.by_ref().map(|group| {
            group
                .into_iter()
                .map(|(input, events, dead, state)| Batch {
                    input: Some(input),
                    events,
                    dead,
                    state,
                })
                .collect()
        });
        let tally = engine.pass_batches_on(pool.as_ref(), groups, router);
        if batches.all_ended() {
            // With a store, open windows stay open, stored with their state,
            // for the next run to go on with (as `ingest` leaves them);
            // without one, they close and their alerts go out whole.
            if !router.has_store() {
                engine.close(router, tally);
            }
            break;
        }
        // SIGHUP: the pass ended with the state handed on whole.
        match rebuild() {
            Ok(mut next) => match next.restore(&router.snapshot.whole()) {
                Ok(()) => {
                    eprintln!(
                        "reloaded: {} detection rules, {} correlations; open windows carried on",
                        next.rules().rules().len(),
                        next.correlations()
                    );
                    *engine = next;
                }
                Err(e) => eprintln!("reload: the open windows do not fit the new rules ({e}); the running rules stay"),
            },
            Err(e) => eprintln!("reload: {e}; the running rules stay"),
        }
    }
    router.flush();
    let delivered: Vec<Option<Delivered>> =
        router.routes.iter_mut().map(|r| r.out.close()).collect();
    // Sources that could be stopped have ended; one blocked in a read of
    // stdin is left to the process's exit.
    drop(rx);
    Ok(Report {
        events: router.events,
        dead: router.dead,
        alerts: router.alerts,
        sinks: router
            .routes
            .iter()
            .zip(delivered)
            .map(|(r, delivered)| SinkReport {
                name: r.name.clone(),
                written: r.written,
                failed: r.failed,
                delivered,
            })
            .collect(),
        troubles: troubles.len(),
    })
}

/// The batches the sources make, group by group, as they come; ends when
/// the sources have (or after a stop).
struct Batches<'a> {
    pool: Option<&'a rayon::ThreadPool>,
    rx: &'a Receiver<Arrival>,
    sources: &'a mut [Source],
    stop: &'a AtomicBool,
    reload: &'a AtomicBool,
    stopped_at: Option<Instant>,
    last: Instant,
    troubles: &'a mut Vec<String>,
    names: &'a [String],
    metrics: &'a Metrics,
    /// How often the counts are written, and when they last were.
    health: (Option<Duration>, Instant),
    /// Files the store has not seen in this run, for it to place.
    book: &'a PlaceBook,
}

/// A source's parsed events and unreadable lines.
type Parsed = (
    Arc<Input>,
    Vec<Event>,
    Vec<rampart_parse::DeadLetter>,
    Option<Vec<u8>>,
);

impl Batches<'_> {
    fn all_ended(&self) -> bool {
        let waited = self.stopped_at.is_some_and(|t| t.elapsed() > GRACE);
        self.sources
            .iter()
            .all(|s| s.ended || (waited && s.may_block))
    }

    fn take(&mut self, arrival: Arrival) -> usize {
        match arrival {
            Arrival::Messages(index, messages) => {
                let n = messages.len();
                let counts = self.metrics.source(index);
                add(&counts.messages, n as u64);
                add(
                    &counts.cut,
                    messages.iter().filter(|m| m.frame.cut).count() as u64,
                );
                let now = jiff::Timestamp::now().as_second().max(0) as u64;
                counts.last_seen.store(now, Ordering::Relaxed);
                self.sources[index].take(messages);
                n
            }
            Arrival::Ticketed(index, messages, ticket) => {
                let n = self.take(Arrival::Messages(index, messages));
                let source = &mut self.sources[index];
                source.tickets.push_back((source.received, ticket));
                n
            }
            Arrival::Read {
                source,
                input,
                place,
                events,
                dead,
                state,
            } => {
                let n = events.len() + dead.len();
                add(&self.metrics.source(source).messages, n as u64);
                if let Ok(mut book) = self.book.lock() {
                    book.push((input.path.clone(), place));
                }
                if let Parsing::Ready(ready) = &mut self.sources[source].parsing {
                    ready.push((input, events, dead, state));
                }
                n
            }
            Arrival::Ended(index) => {
                self.sources[index].ended = true;
                0
            }
            Arrival::Trouble(index, why) => {
                let said = format!("source `{}`: {why}", self.names[index]);
                if !self.troubles.contains(&said) {
                    eprintln!("{said}");
                    self.troubles.push(said);
                }
                0
            }
        }
    }
}

impl Iterator for Batches<'_> {
    type Item = Vec<Parsed>;

    fn next(&mut self) -> Option<Vec<Parsed>> {
        loop {
            if self.stop.load(Ordering::Relaxed) && self.stopped_at.is_none() {
                self.stopped_at = Some(Instant::now());
            }
            if self.all_ended() {
                // What is left in the decoders, then the end.
                let rest = self.collect();
                return (!rest.is_empty()).then_some(rest);
            }
            if let (Some(every), last) = self.health {
                if last.elapsed() >= every {
                    self.health.1 = Instant::now();
                    eprintln!("{}", self.metrics.health());
                }
            }
            if self.reload.swap(false, Ordering::Relaxed) {
                // The pass ends here; the next goes on with new rules.
                return None;
            }
            let first = match self.rx.recv_timeout(Duration::from_millis(100)) {
                Ok(a) => a,
                Err(RecvTimeoutError::Timeout) => {
                    if self.last.elapsed() >= TICK && !self.sources.is_empty() {
                        self.last = Instant::now();
                        let input = Arc::clone(&self.sources[0].input);
                        return Some(vec![(input, Vec::new(), Vec::new(), None)]);
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    for s in self.sources.iter_mut() {
                        s.ended = true;
                    }
                    continue;
                }
            };
            let mut taken = self.take(first);
            let started = Instant::now();
            while taken < BATCH && started.elapsed() < LINGER {
                match self
                    .rx
                    .recv_timeout(LINGER.saturating_sub(started.elapsed()))
                {
                    Ok(a) => taken += self.take(a),
                    Err(_) => break,
                }
            }
            let group = self.collect();
            if !group.is_empty() {
                self.last = Instant::now();
                return Some(group);
            }
        }
    }
}

impl Batches<'_> {
    fn collect(&mut self) -> Vec<Parsed> {
        let mut group = Vec::new();
        for source in self.sources.iter_mut() {
            group.extend(source.drain(self.pool));
        }
        group
    }
}
