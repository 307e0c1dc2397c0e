//! One run of the engine over a set of inputs: the consumer side of the
//! loop, which sees batches in input order and turns what the workers found
//! into the alerts a sink receives.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use rampart_detect::rule::Rule;
use rampart_detect::{Alert, Correlator, Deduper, Level, RuleRoles, RuleSet, SavedState, Tuning};
use rampart_event::Event;
use rampart_intel::{Enrichers, IpCounts};
use rampart_io::{read_files_on, worker_pool, FileReport, Input, Message, ReadOptions};
use rampart_parse::DeadLetter;

use rayon::prelude::*;

use crate::batch::{BatchResult, Detector, Scope};
use crate::sink::AlertSink;

/// The most distinct source addresses counted for the top talkers.
pub const MAX_COUNTED_ADDRESSES: usize = 1_000_000;

/// Events read elsewhere, for [`Engine::pass_batches`]: the input they
/// are named with (none for a store's), and the lines of it nothing could
/// read.
pub struct Batch {
    /// What the events are named with, for the sink.
    pub input: Option<Arc<Input>>,
    /// The events, in order.
    pub events: Vec<Event>,
    /// Lines of the input that nothing could read.
    pub dead: Vec<DeadLetter>,
    /// What the input keeps to read on from where it stands after these
    /// events (a SQL table's rows taken), for a sink that stores it with
    /// them.
    pub state: Option<Vec<u8>>,
}

/// What a caller watches of the reading, besides the alerts.
pub trait Watch {
    /// Lines of `input` that nothing could read.
    fn dead(&mut self, input: &Input, dead: &[DeadLetter]);
    /// A file is finished.
    fn file_done(&mut self, report: FileReport);
}

/// Everything a run hands on, in input order: each batch's unreadable
/// lines, then its alerts, then its events (enriched); and each file's
/// report once it is finished.
pub trait Sink {
    /// Lines of `input` that nothing could read.
    fn dead(&mut self, input: &Input, dead: &[DeadLetter]);
    /// One alert; after an error the run goes on, counting alerts, but
    /// hands no more on.
    fn alert(&mut self, alert: Alert) -> io::Result<()>;
    /// The events of one batch of `input`, after their alerts.
    fn events(&mut self, input: &Input, events: Vec<Event>);
    /// What `input` keeps to read on from where it stands after the
    /// events just handed on (see [`Batch::state`]).
    fn source_state(&mut self, _input: &Input, _state: Vec<u8>) {}
    /// Whether it wants correlation alerts while their burst goes on
    /// ([`Sink::open_alert`]), besides each one when it closes.
    fn wants_open_alerts(&self) -> bool {
        false
    }
    /// A correlation alert whose burst goes on, as it stands after a batch
    /// (it comes again as it grows, and whole when it closes).
    fn open_alert(&mut self, _alert: Alert) {}
    /// A file is finished.
    fn file_done(&mut self, report: FileReport);
    /// Whether it keeps the engine's state (correlation windows, dedup
    /// windows) with what it stores, so that a later run goes on with it
    /// ([`Engine::restore`]).
    fn keeps_state(&self) -> bool {
        false
    }
    /// Asked after each batch when it keeps state: whether it wants the
    /// state now, to store with everything handed on so far.
    fn state_due(&self) -> bool {
        false
    }
    /// What changed in the engine's state since it was last handed on, as
    /// it stands after everything handed on so far; also at the end of
    /// each pass.
    fn state(&mut self, _changes: SavedState) {}
}

/// Alerts to one place, the rest to a watch.
struct Split<'a> {
    alerts: &'a mut dyn AlertSink,
    watch: &'a mut dyn Watch,
}

impl Sink for Split<'_> {
    fn dead(&mut self, input: &Input, dead: &[DeadLetter]) {
        self.watch.dead(input, dead);
    }

    fn alert(&mut self, alert: Alert) -> io::Result<()> {
        self.alerts.alert(alert)
    }

    fn events(&mut self, _: &Input, _: Vec<Event>) {}

    fn file_done(&mut self, report: FileReport) {
        self.watch.file_done(report);
    }
}

/// What a run handed on, counted.
#[derive(Debug)]
pub struct Tally {
    /// Alerts per (level, title).
    pub per_rule: BTreeMap<(Level, String), u64>,
    /// Alerts per level.
    pub per_level: BTreeMap<Level, u64>,
    /// Alerts the config suppressed.
    pub suppressed: u64,
    /// Events per source address.
    pub talkers: IpCounts,
    /// The first error the sink gave, after which it was given nothing.
    pub sink_error: Option<io::Error>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            per_rule: BTreeMap::new(),
            per_level: BTreeMap::new(),
            suppressed: 0,
            talkers: IpCounts::new(MAX_COUNTED_ADDRESSES),
            sink_error: None,
        }
    }

    /// How many alerts were handed on.
    pub fn alerts(&self) -> u64 {
        self.per_level.values().sum()
    }
}

/// Rules, enrichment and tuning ready to run over inputs.
pub struct Engine {
    pub(crate) rules: RuleSet,
    pub(crate) roles: RuleRoles,
    pub(crate) correlator: Correlator,
    pub(crate) enrichers: Enrichers,
    pub(crate) ioc_rule: Rule,
    pub(crate) tuning: Tuning,
    pub(crate) scope: Scope,
    /// Repeats of single-event rules folded over their dedup windows.
    pub(crate) dedup: Deduper,
}

impl Engine {
    /// An engine running `rules` (their correlations included) with the
    /// config's limits and suppressions, over events enriched by `enrichers`.
    pub fn new(mut rules: RuleSet, enrichers: Enrichers, tuning: Tuning, scope: Scope) -> Engine {
        let limits = tuning.limits();
        let correlator = rules.correlator(limits.clone());
        let ioc_rule = rampart_intel::ioc_rule();
        let dedup = Deduper::new(
            rules
                .rules()
                .iter()
                .map(|r| r.rule.as_ref())
                .chain([&ioc_rule])
                .filter_map(|r| Some((r.id.clone(), r.dedup?))),
            limits.max_alert_events,
            limits.max_groups,
        );
        Engine {
            dedup,
            roles: correlator.roles(),
            rules,
            correlator,
            enrichers,
            ioc_rule,
            tuning,
            scope,
        }
    }

    /// The detection rules.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// How many correlation rules run.
    pub fn correlations(&self) -> usize {
        self.correlator.len()
    }

    /// Goes on from the state a sink kept ([`Sink::keeps_state`]): open
    /// correlation windows and dedup windows, as they stood after the
    /// input the sink stored. Call before the first pass; an error says
    /// what of the saved state could not be read.
    pub fn restore(&mut self, saved: &SavedState) -> Result<(), String> {
        self.correlator.restore(saved)?;
        self.dedup.restore(saved)
    }

    /// What events are enriched with.
    pub fn enrichers_mut(&mut self) -> &mut Enrichers {
        &mut self.enrichers
    }

    /// Reads `inputs`, hands every alert to `sink` in output order, and
    /// tells `watch` of dead letters and finished files. Correlations still
    /// open at the end are closed and handed on.
    pub fn run(
        &mut self,
        inputs: &[Input],
        options: &ReadOptions,
        alerts: &mut dyn AlertSink,
        watch: &mut dyn Watch,
    ) -> Tally {
        self.run_into(inputs, options, &mut Split { alerts, watch })
    }

    /// Reads `inputs` and hands everything to `sink` in input order (see
    /// [`Sink`]). Correlations still open at the end are closed and handed
    /// on.
    pub fn run_into(
        &mut self,
        inputs: &[Input],
        options: &ReadOptions,
        sink: &mut dyn Sink,
    ) -> Tally {
        let tally = self.pass(inputs, options, sink);
        self.close(sink, tally)
    }

    /// Reads `inputs` as [`Engine::run_into`] does, but leaves correlations
    /// and deduplication windows open for the inputs of a later pass (a
    /// followed log's new lines); [`Engine::close`] ends them.
    pub fn pass(&mut self, inputs: &[Input], options: &ReadOptions, sink: &mut dyn Sink) -> Tally {
        let pool = worker_pool(options.threads);
        let (detector, mut consumer) = self.parts(sink, pool.as_ref());
        let work = |events: &mut [Event]| detector.detect(events);
        read_files_on(
            pool.as_ref(),
            inputs,
            options,
            &work,
            |message| match message {
                Message::Batch {
                    index,
                    events,
                    dead,
                    work,
                } => consumer.batch(Some(&inputs[index]), (events, None), &dead, work),
                Message::Done(report) => consumer.out.sink.file_done(report),
            },
        );
        consumer.end_pass()
    }

    /// Runs the rules over events read elsewhere (a store's), batch by
    /// batch in the order given, on `threads` threads, and hands the
    /// alerts to `alerts`; correlations and dedup windows close at the end.
    pub fn run_events(
        &mut self,
        batches: impl Iterator<Item = Vec<Event>>,
        threads: usize,
        alerts: &mut dyn AlertSink,
    ) -> Tally {
        let mut sink = AlertsOnly(alerts);
        // A few batches per thread at a time: every thread busy, memory bounded.
        let ahead = threads.max(1) * 2;
        let mut batches = batches.peekable();
        let groups = std::iter::from_fn(|| {
            batches.peek()?;
            Some(
                batches
                    .by_ref()
                    .take(ahead)
                    .map(|events| Batch {
                        input: None,
                        events,
                        dead: Vec::new(),
                        state: None,
                    })
                    .collect(),
            )
        });
        let tally = self.pass_batches(groups, threads, &mut sink);
        self.close(&mut sink, tally)
    }

    /// Runs the rules over events read elsewhere (a store's, a network
    /// listener's), group by group in the order given, each group's
    /// batches on `threads` threads at once, and hands everything to
    /// `sink` as [`Engine::pass`] does (the events and unreadable lines of
    /// a batch named with an input go to the sink too). A group is worked
    /// on as soon as it comes, so a live source gives what it holds
    /// without waiting for more. Correlations and dedup windows stay open
    /// for a later pass; [`Engine::close`] ends them.
    pub fn pass_batches(
        &mut self,
        groups: impl Iterator<Item = Vec<Batch>>,
        threads: usize,
        sink: &mut dyn Sink,
    ) -> Tally {
        let pool = worker_pool(threads);
        self.pass_batches_on(pool.as_ref(), groups, sink)
    }

    /// [`Engine::pass_batches`] on a pool of the caller's (see
    /// [`rampart_io::worker_pool`]; none works on this thread), which the
    /// caller may use between groups too (to parse the next one).
    pub fn pass_batches_on(
        &mut self,
        pool: Option<&rayon::ThreadPool>,
        groups: impl Iterator<Item = Vec<Batch>>,
        sink: &mut dyn Sink,
    ) -> Tally {
        let (detector, mut consumer) = self.parts(sink, pool);
        for mut group in groups {
            let results: Vec<BatchResult> = match pool {
                Some(pool) => pool.install(|| {
                    group
                        .par_iter_mut()
                        .map(|b| detector.detect(&mut b.events))
                        .collect()
                }),
                None => group
                    .iter_mut()
                    .map(|b| detector.detect(&mut b.events))
                    .collect(),
            };
            for (b, result) in group.into_iter().zip(results) {
                consumer.batch(b.input.as_deref(), (b.events, b.state), &b.dead, result);
            }
        }
        consumer.end_pass()
    }

    /// The work on batches, and the consumer of its results feeding `sink`.
    fn parts<'s>(
        &'s mut self,
        sink: &'s mut dyn Sink,
        pool: Option<&'s rayon::ThreadPool>,
    ) -> (Detector<'s>, Consumer<'s>) {
        let open_too = sink.wants_open_alerts();
        if open_too {
            self.correlator.note_open_changes();
            self.dedup.note_open_changes();
        }
        let keeps_state = sink.keeps_state();
        if keeps_state {
            self.correlator.track_changes();
            self.dedup.track_changes();
        }
        let detector = Detector {
            rules: &self.rules,
            roles: &self.roles,
            enrichers: &self.enrichers,
            ioc_rule: &self.ioc_rule,
            scope: self.scope,
        };
        let consumer = Consumer {
            out: Output {
                tally: Tally::new(),
                tuning: &self.tuning,
                sink,
            },
            dedup: &mut self.dedup,
            correlator: &mut self.correlator,
            min: self.scope.min,
            open_too,
            keeps_state,
            pool,
        };
        (detector, consumer)
    }

    /// Ends the input: hands on the alerts that open correlations and
    /// deduplication windows still hold, counted in `tally`.
    pub fn close(&mut self, sink: &mut dyn Sink, tally: Tally) -> Tally {
        let mut out = Output {
            tally,
            tuning: &self.tuning,
            sink,
        };
        for alert in self.correlator.finish() {
            if alert.severity >= self.scope.min {
                out.take(alert);
            }
        }
        for alert in self.dedup.finish() {
            out.take(alert);
        }
        out.tally
    }
}

/// The consumer's side of a pass: each batch, in input order, through
/// dedup and the correlations to the sink.
struct Consumer<'r> {
    out: Output<'r>,
    dedup: &'r mut Deduper,
    correlator: &'r mut Correlator,
    min: Level,
    /// Whether the sink wants open alerts as they grow.
    open_too: bool,
    /// Whether the sink keeps the engine's state.
    keeps_state: bool,
    pool: Option<&'r rayon::ThreadPool>,
}

impl Consumer<'_> {
    /// One batch of `input` (none for events not read from a file), with
    /// its unreadable lines and what the workers found.
    fn batch(
        &mut self,
        input: Option<&Input>,
        (events, source_state): (Vec<Event>, Option<Vec<u8>>),
        dead: &[DeadLetter],
        result: BatchResult,
    ) {
        let out = &mut self.out;
        if let (Some(input), false) = (input, dead.is_empty()) {
            out.sink.dead(input, dead);
        }
        for e in &events {
            if let Some(ip) = rampart_intel::source_ip(e) {
                out.tally.talkers.observe(ip);
            }
        }
        for alert in result.alerts.into_iter().flat_map(|a| self.dedup.offer(a)) {
            out.take(alert);
        }
        let correlator = &mut *self.correlator;
        for alert in correlator.observe_batch(&events, &result.placements, self.pool) {
            if alert.severity >= self.min {
                out.take(alert);
            }
        }
        if self.open_too {
            let open = correlator.open_changed().into_iter();
            let min = self.min;
            for alert in open
                .filter(|a| a.severity >= min)
                .chain(self.dedup.open_changed())
            {
                if !out.tuning.suppresses(&alert) {
                    out.sink.open_alert(alert);
                }
            }
        }
        if let Some(input) = input {
            out.sink.events(input, events);
            // Stored with the events, before any commit can come between.
            if let Some(state) = source_state {
                out.sink.source_state(input, state);
            }
        }
        if self.keeps_state && out.sink.state_due() {
            out.sink.state(saved(correlator, self.dedup));
        }
    }

    /// The end of a pass: the state as it stands, for a sink that keeps it.
    fn end_pass(self) -> Tally {
        let Consumer {
            out,
            dedup,
            correlator,
            keeps_state,
            ..
        } = self;
        if keeps_state {
            out.sink.state(saved(correlator, dedup));
        }
        out.tally
    }
}

/// Alerts to an alert sink; nothing else is wanted.
struct AlertsOnly<'a>(&'a mut dyn AlertSink);

impl Sink for AlertsOnly<'_> {
    fn dead(&mut self, _: &Input, _: &[DeadLetter]) {}

    fn alert(&mut self, alert: Alert) -> io::Result<()> {
        self.0.alert(alert)
    }

    fn events(&mut self, _: &Input, _: Vec<Event>) {}

    fn file_done(&mut self, _: FileReport) {}
}

/// What changed in the state of `correlator` and `dedup` since it was last
/// saved.
fn saved(correlator: &mut Correlator, dedup: &mut Deduper) -> SavedState {
    let mut out = SavedState::default();
    correlator.save(&mut out);
    dedup.save(&mut out);
    out
}

/// The last step of every alert: suppression, counting, the sink.
struct Output<'r> {
    tally: Tally,
    tuning: &'r Tuning,
    sink: &'r mut dyn Sink,
}

impl Output<'_> {
    fn take(&mut self, alert: Alert) {
        let tally = &mut self.tally;
        if self.tuning.suppresses(&alert) {
            tally.suppressed += 1;
            return;
        }
        *tally
            .per_rule
            .entry((alert.severity, alert.title.clone()))
            .or_default() += 1;
        *tally.per_level.entry(alert.severity).or_default() += 1;
        if tally.sink_error.is_none() {
            if let Err(e) = self.sink.alert(alert) {
                tally.sink_error = Some(e);
            }
        }
    }
}
