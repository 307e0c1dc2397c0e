//! Running a pipeline: its sources on threads of their own, their
//! messages parsed per source as they come (the format found from the
//! first lines, or named), and the batches run through the engine, which
//! hands alerts and events to the router. A stop (SIGTERM, SIGINT) ends
//! the sources, drains what they read, closes the open windows and
//! flushes every sink.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rampart_engine::{Batch, Engine};
use rampart_event::Event;
use rampart_io::Input;
use rampart_parse::{mark_quality, FileContext, FileDecoder, Line, ParseOptions};

use crate::config::{Pipeline, SourceKind};
use crate::route::Router;
use crate::sources::{self, Arrival, Bound, Message};

/// Bundles that may wait between the sources and the engine.
const WAITING: usize = 64;
/// Messages parsed into one batch, at most.
const BATCH: usize = 4096;
/// How long a batch may wait for more messages.
const LINGER: Duration = Duration::from_millis(50);
/// After a stop, how long sources that cannot be interrupted (stdin
/// blocked in a read) are waited for.
const GRACE: Duration = Duration::from_secs(2);

/// One source as the loop keeps it.
struct Source {
    input: Input,
    decoder: FileDecoder,
    /// Messages received so far: a message's place, which is its line.
    received: u64,
    /// Senders and cut frames of the messages waiting in the decoder.
    peers: HashMap<u64, std::net::SocketAddr>,
    cut: Vec<u64>,
    ended: bool,
    finished: bool,
}

impl Source {
    fn new(kind: &SourceKind, options: ParseOptions) -> Source {
        let (label, forced) = match kind {
            SourceKind::Syslog { listen, .. } => {
                (listen.to_string(), rampart_parse::by_name("syslog"))
            }
            SourceKind::Stdin { format } => ("stdin".to_string(), *format),
        };
        let mut ctx = FileContext::new(&label, options);
        // Lines without a year are of this year, as a live log's are.
        ctx.modified = Some(jiff::Timestamp::now());
        Source {
            input: Input {
                path: PathBuf::from(label),
                rotated_set: None,
                resume: Default::default(),
            },
            decoder: FileDecoder::new(ctx, forced),
            received: 0,
            peers: HashMap::new(),
            cut: Vec::new(),
            ended: false,
            finished: false,
        }
    }

    fn take(&mut self, messages: Vec<Message>) {
        for m in messages {
            self.received += 1;
            let no = self.received;
            if let Some(peer) = m.peer {
                self.peers.insert(no, peer);
            }
            if m.frame.cut {
                self.cut.push(no);
            }
            self.decoder.feed(Line {
                no,
                bytes: &m.frame.bytes,
                len: m.frame.bytes.len(),
            });
        }
    }

    /// The events read so far, with their senders, and unreadable lines.
    fn drain(&mut self) -> (Vec<Event>, Vec<rampart_parse::DeadLetter>) {
        self.decoder.settle();
        let out = self.decoder.output();
        let mut events = std::mem::take(&mut out.events);
        let dead = std::mem::take(&mut out.dead);
        for e in &mut events {
            let no = e.origin.line;
            if let Some(peer) = self.peers.get(&no) {
                e.set_str("log.source.address", &peer.to_string());
            }
            if self.cut.contains(&no) {
                mark_quality(e, "cut-event");
            }
        }
        self.peers.clear();
        self.cut.clear();
        (events, dead)
    }
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
    /// Per sink: name, records written, records that failed.
    pub sinks: Vec<(String, u64, u64)>,
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

/// Runs `pipeline` until `stop` is set or every source ended (stdin
/// does), through `engine` into `router`.
pub fn run(
    pipeline: &Pipeline,
    bound: Vec<Bound>,
    engine: &mut Engine,
    router: &mut Router<'_>,
    stop: Arc<AtomicBool>,
    threads: usize,
) -> Result<Report, String> {
    let (tx, rx) = sync_channel::<Arrival>(WAITING);
    let mut sources: Vec<Source> = pipeline
        .sources
        .iter()
        .map(|s| Source::new(&s.kind, ParseOptions::default()))
        .collect();
    let mut threads_started = Vec::new();
    for (index, (bound, spec)) in bound.into_iter().zip(&pipeline.sources).enumerate() {
        let max = match spec.kind {
            SourceKind::Syslog { max_frame, .. } => max_frame,
            SourceKind::Stdin { .. } => crate::config::DEFAULT_MAX_FRAME,
        };
        let handle = sources::start(index, bound, max, tx.clone(), Arc::clone(&stop))
            .map_err(|e| format!("source `{}`: {e}", spec.name))?;
        threads_started.push(handle);
    }
    drop(tx);
    let inputs: Vec<Input> = sources.iter().map(|s| s.input.clone()).collect();
    let names: Vec<String> = pipeline.sources.iter().map(|s| s.name.clone()).collect();
    let mut troubles: Vec<String> = Vec::new();
    let batches = Batches {
        rx: &rx,
        sources: &mut sources,
        stop: &stop,
        stopped_at: None,
        troubles: &mut troubles,
        names: &names,
    };
    let groups = batches.map(|group| {
        group
            .into_iter()
            .map(|(index, events, dead)| Batch {
                input: Some(&inputs[index]),
                events,
                dead,
            })
            .collect()
    });
    let tally = engine.pass_batches(groups, threads, router);
    engine.close(router, tally);
    router.flush();
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
            .map(|r| (r.name.clone(), r.written, r.failed))
            .collect(),
    })
}

/// The batches the sources make, group by group, as they come; ends when
/// the sources have (or after a stop).
struct Batches<'a> {
    rx: &'a Receiver<Arrival>,
    sources: &'a mut [Source],
    stop: &'a AtomicBool,
    stopped_at: Option<Instant>,
    troubles: &'a mut Vec<String>,
    names: &'a [String],
}

/// A source's parsed events and unreadable lines.
type Parsed = (usize, Vec<Event>, Vec<rampart_parse::DeadLetter>);

impl Batches<'_> {
    fn all_ended(&self) -> bool {
        self.sources.iter().all(|s| s.ended)
    }

    fn take(&mut self, arrival: Arrival) -> usize {
        match arrival {
            Arrival::Messages(index, messages) => {
                let n = messages.len();
                self.sources[index].take(messages);
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
            let done = self.all_ended() || self.stopped_at.is_some_and(|t| t.elapsed() > GRACE);
            if done {
                // What is left in the decoders, then the end.
                let rest = self.collect();
                return (!rest.is_empty()).then_some(rest);
            }
            let first = match self.rx.recv_timeout(Duration::from_millis(100)) {
                Ok(a) => a,
                Err(RecvTimeoutError::Timeout) => continue,
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
                return Some(group);
            }
        }
    }
}

impl Batches<'_> {
    fn collect(&mut self) -> Vec<Parsed> {
        let mut group = Vec::new();
        for (index, source) in self.sources.iter_mut().enumerate() {
            if source.ended && !source.finished {
                source.finished = true;
                source.decoder.finish();
            }
            let (events, dead) = source.drain();
            if !events.is_empty() || !dead.is_empty() {
                group.push((index, events, dead));
            }
        }
        group
    }
}
