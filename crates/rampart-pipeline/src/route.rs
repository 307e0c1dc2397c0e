//! The engine's sink in a pipeline: each alert and event goes to the
//! sinks that take it. A correlation alert goes out when it opens and
//! again, final, when its window closes; a sink that fails is counted and
//! said once, and the others go on. The store, when there is one, takes
//! everything, with the engine's state, as `ingest` stores it.

use std::collections::HashSet;
use std::io::{self, Write as _};
use std::path::PathBuf;
use std::sync::Mutex;

use rampart_detect::SavedState;
use rampart_detect::{Alert, Level};
use rampart_engine::{Sink, StoreSink};
use rampart_event::Event;
use rampart_io::{FileReport, Input};
use rampart_parse::DeadLetter;

use std::sync::Arc;

use crate::acks::Acknowledgements;
use crate::config::{Take, Updates};
use crate::metrics::{add, Metrics, SinkCounts};
use crate::output::Output;
use crate::shape::Shape;
use crate::snapshot::Snapshot;

/// One sink as the router sees it.
pub struct Route {
    /// Its name in the file.
    pub name: String,
    /// What it is handed.
    pub take: Take,
    /// Alerts below this level are not handed to it.
    pub min: Level,
    /// Its writer.
    pub out: Box<dyn Output>,
    counts: Arc<SinkCounts>,
    /// Which events it is handed, and in what shape.
    shape: Shape,
    /// Which states of a correlation alert it is sent.
    updates: Updates,
    /// Records written.
    pub written: u64,
    /// Records it failed to write.
    pub failed: u64,
    /// The last failure, said once until it writes again.
    said: bool,
}

impl Route {
    /// A route to a sink, nothing written yet.
    pub fn new(
        name: String,
        (take, min): (Take, Level),
        out: Box<dyn Output>,
        counts: Arc<SinkCounts>,
    ) -> Route {
        Route {
            name,
            take,
            min,
            out,
            counts,
            shape: Shape::default(),
            updates: Updates::default(),
            written: 0,
            failed: 0,
            said: false,
        }
    }

    /// Which events it is handed, and in what shape.
    pub fn with_shape(mut self, shape: Shape) -> Route {
        self.shape = shape;
        self
    }

    /// Which states of a correlation alert it is sent.
    pub fn with_updates(mut self, updates: Updates) -> Route {
        self.updates = updates;
        self
    }

    /// Whether it is sent an alert at `stage`.
    fn wants(&self, alert: &Alert, stage: Stage) -> bool {
        if !self.take.alerts() || alert.severity < self.min {
            return false;
        }
        match (self.updates, stage) {
            (Updates::Every, _) => true,
            (Updates::OpenAndFinal | Updates::Open, Stage::Open { first }) => first,
            (Updates::Final, Stage::Open { .. }) => false,
            (Updates::Open, Stage::Final { went_open }) => !went_open,
            (Updates::OpenAndFinal | Updates::Final, Stage::Final { .. }) => true,
        }
    }

    /// Writes `event` in its shape, if the route takes it.
    fn event(&mut self, event: &Event) -> Option<io::Result<()>> {
        if !self.shape.admits(event) {
            return None;
        }
        Some(match self.shape.record(event) {
            Some(record) => self.out.record(&record),
            None => self.out.event(event),
        })
    }

    fn result(&mut self, r: io::Result<()>, log: &mut dyn FnMut(String)) {
        match r {
            Ok(()) => {
                self.written += 1;
                add(&self.counts.records, 1);
                self.said = false;
            }
            Err(e) => {
                self.failed += 1;
                add(&self.counts.refused, 1);
                if !self.said {
                    self.said = true;
                    log(format!("sink `{}`: {e}", self.name));
                }
            }
        }
    }
}

/// Where an alert stands when it is sent.
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// Open (its window lasts); the first time it is sent open or not.
    Open { first: bool },
    /// Final; whether it went out open before.
    Final { went_open: bool },
}

/// Files a file source found that the store sink has to place (see
/// `StoreSink::add_place`) before their events reach it.
pub type PlaceBook = Arc<Mutex<Vec<(PathBuf, rampart_store::Source)>>>;

/// Open correlation alerts already sent, by id: bounded by the
/// correlations' own bound on open groups.
type Opened = HashSet<String>;

/// The sinks, and what went by.
pub struct Router<'l> {
    /// Every sink, in the order written.
    pub routes: Vec<Route>,
    store: Option<StoreSink>,
    /// Sources that acknowledge what they read, and when they may.
    acks: Acknowledgements,
    /// Where lines nothing could read are kept as JSON lines, besides the
    /// store.
    dead_letters: Option<std::io::BufWriter<std::fs::File>>,
    book: PlaceBook,
    /// The engine's whole state, for rules reloaded while it runs.
    pub snapshot: Snapshot,
    metrics: Arc<Metrics>,
    /// When the state was last taken (without a store, once a second).
    since: std::time::Instant,
    opened: Opened,
    /// Lines nothing could read.
    pub dead: u64,
    /// Events that went by.
    pub events: u64,
    /// Alerts that went by (final states).
    pub alerts: u64,
    log: &'l mut dyn FnMut(String),
}

impl<'l> Router<'l> {
    /// A route to a sink, nothing written yet.
    pub fn new(
        routes: Vec<Route>,
        metrics: Arc<Metrics>,
        log: &'l mut dyn FnMut(String),
    ) -> Router<'l> {
        Router {
            metrics,
            routes,
            store: None,
            dead_letters: None,
            book: PlaceBook::default(),
            snapshot: Snapshot::default(),
            since: std::time::Instant::now(),
            opened: Opened::new(),
            dead: 0,
            events: 0,
            alerts: 0,
            log,
            acks: Acknowledgements::default(),
        }
    }

    /// The pipeline's counts.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The sources that acknowledge what they read, told when they may.
    pub fn acks(&mut self) -> &mut Acknowledgements {
        &mut self.acks
    }

    /// The run ended and the store (if any) finished, having stored
    /// everything when `kept`: acknowledging sources acknowledge what was
    /// kept and end.
    pub fn settle(&mut self, kept: bool) {
        self.acks.settle(kept);
    }

    /// Everything goes to `store` too.
    pub fn with_store(mut self, store: StoreSink) -> Router<'l> {
        self.store = Some(store);
        self
    }

    /// Lines nothing could read are appended to `file`, one JSON object
    /// each (the source, the line, why, the text).
    pub fn with_dead_letters(mut self, file: std::fs::File) -> Router<'l> {
        self.dead_letters = Some(std::io::BufWriter::new(file));
        self
    }

    /// Where file sources note the files the store is to place.
    pub fn place_book(&self) -> PlaceBook {
        Arc::clone(&self.book)
    }

    /// Places the files noted in the book with the store.
    fn place_noted(&mut self) {
        let Some(store) = &mut self.store else {
            return;
        };
        if let Ok(mut book) = self.book.lock() {
            for (path, source) in book.drain(..) {
                store.add_place(&path, &source);
            }
        }
    }

    /// Whether everything goes to a store too.
    pub fn has_store(&self) -> bool {
        self.store.is_some()
    }

    /// The store's sink, to be finished, when there is one.
    pub fn take_store(&mut self) -> Option<StoreSink> {
        self.store.take()
    }

    fn send(&mut self, alert: &Alert, stage: Stage) {
        for route in &mut self.routes {
            if route.wants(alert, stage) {
                let r = route.out.alert(alert);
                route.result(r, self.log);
            }
        }
    }

    /// Hands on what every sink buffered and waits until each has
    /// delivered it (see [`Output::settle`]).
    pub fn deliver(&mut self) {
        for route in &mut self.routes {
            let r = route.out.flush();
            if let Err(e) = r {
                (self.log)(format!("sink `{}`: {e}", route.name));
            }
            route.out.settle();
        }
    }

    /// Hands on what every sink buffered.
    pub fn flush(&mut self) {
        for route in &mut self.routes {
            let r = route.out.flush();
            if let Err(e) = r {
                (self.log)(format!("sink `{}`: {e}", route.name));
            }
        }
    }
}

impl Sink for Router<'_> {
    fn dead(&mut self, input: &Input, dead: &[DeadLetter]) {
        self.place_noted();
        self.dead += dead.len() as u64;
        add(&self.metrics.unreadable, dead.len() as u64);
        if let Some(out) = &mut self.dead_letters {
            let source = input.path.display().to_string();
            let written: io::Result<()> = dead.iter().try_for_each(|d| {
                let line = serde_json::json!({
                    "source": source, "line": d.line, "reason": d.reason, "text": d.text
                });
                writeln!(out, "{line}")
            });
            if let Err(e) = written.and_then(|()| out.flush()) {
                (self.log)(format!("dead letters: {e}"));
            }
        }
        if let Some(store) = &mut self.store {
            store.dead(input, dead);
        }
    }

    fn alert(&mut self, alert: Alert) -> io::Result<()> {
        self.alerts += 1;
        add(&self.metrics.alerts, 1);
        let went_open = self.opened.remove(&alert.id);
        self.send(&alert, Stage::Final { went_open });
        if let Some(store) = &mut self.store {
            store.alert(alert)?;
        }
        Ok(())
    }

    fn events(&mut self, input: &Input, events: Vec<Event>) {
        self.place_noted();
        self.events += events.len() as u64;
        add(&self.metrics.events, events.len() as u64);
        for route in &mut self.routes {
            if route.take.events() {
                for event in &events {
                    if let Some(r) = route.event(event) {
                        route.result(r, self.log);
                    }
                }
            }
        }
        self.flush();
        if let Some(store) = &mut self.store {
            store.events(input, events);
            self.acks.written(store.written());
        }
    }

    fn source_state(&mut self, input: &Input, state: Vec<u8>) {
        if self.acks.note(&input.path, &state) {
            return;
        }
        if let Some(store) = &mut self.store {
            store.source_state(input, state);
        }
    }

    fn wants_open_alerts(&self) -> bool {
        true
    }

    fn open_alert(&mut self, alert: Alert) {
        let first = self.opened.insert(alert.id.clone());
        self.send(&alert, Stage::Open { first });
        if let Some(store) = &mut self.store {
            store.open_alert(alert);
        }
    }

    fn keeps_state(&self) -> bool {
        true
    }

    fn state_due(&self) -> bool {
        match &self.store {
            Some(store) => store.state_due(),
            // Sources that acknowledge what they read wait for a barrier
            // (the server holds back what is not acknowledged): ten a
            // second for them, else one.
            None => {
                let every = if self.acks.is_empty() {
                    std::time::Duration::from_secs(1)
                } else {
                    std::time::Duration::from_millis(100)
                };
                self.since.elapsed() >= every
            }
        }
    }

    fn state(&mut self, changes: SavedState) {
        self.since = std::time::Instant::now();
        self.snapshot.apply(&changes);
        // What the other sinks were handed is safe in their buffers before
        // a commit moves the sources' places past it, and before sources
        // acknowledge it.
        for route in &mut self.routes {
            route.out.flush().ok();
            route.out.sync();
        }
        match &mut self.store {
            Some(store) => {
                store.state(changes);
                self.acks.barrier(Some(store.handed()));
                self.acks.written(store.written());
            }
            None => self.acks.barrier(None),
        }
    }

    fn file_done(&mut self, _: FileReport) {}
}
