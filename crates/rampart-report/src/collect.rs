//! The report as the engine's sink: every event becomes a row of the
//! unified stream (sorted on disk), counts for the charts and the quality
//! report, and, when it is a process or something a process did, part of
//! the process forest; every alert becomes its facts.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::IpAddr;
use std::sync::Arc;

use rampart_detect::attack::Catalogue;
use rampart_detect::Alert;
use rampart_engine::Sink;
use rampart_event::{Event, Value, ValueRef};
use rampart_io::{FileReport, Input};
use rampart_parse::DeadLetter;

use crate::cleaned::Cleaned;
use crate::facts::AlertFacts;
use crate::processes::{Activity, Actor, Forest, Gatherer};
use crate::quality;
use crate::row::describe;
use crate::sorter::Sorter;

/// Distinct processes and addresses counted for the top talkers; events
/// of further ones are counted apart.
const MAX_TALKERS: usize = 100_000;

/// Counts kept as events pass, for the charts.
#[derive(Debug, Default)]
pub struct Counts {
    /// Events per row kind.
    pub kinds: BTreeMap<String, u64>,
    /// Events per minute since the epoch.
    pub minutes: BTreeMap<i64, u64>,
    /// Events with no time.
    pub untimed: u64,
    /// Events per PID.
    pub processes: HashMap<i64, u64>,
    /// Events per source address.
    pub addresses: HashMap<IpAddr, u64>,
    /// Events of processes and addresses past [`MAX_TALKERS`].
    pub talkers_untracked: u64,
}

fn count<K: std::hash::Hash + Eq>(map: &mut HashMap<K, u64>, key: K, untracked: &mut u64) {
    if let Some(n) = map.get_mut(&key) {
        *n += 1;
    } else if map.len() < MAX_TALKERS {
        map.insert(key, 1);
    } else {
        *untracked += 1;
    }
}

/// Everything gathered from a run.
pub struct Collector {
    pub(crate) catalogue: &'static Catalogue,
    pub(crate) sources: Vec<quality::Source>,
    index: HashMap<Arc<str>, u32>,
    pub(crate) sorter: Sorter,
    /// Events in the stream so far (each row's place in the input).
    pub(crate) rows: u64,
    pub(crate) gatherer: Gatherer,
    pub(crate) alerts: Vec<AlertFacts>,
    pub(crate) counts: Counts,
    pub(crate) cleaned: Option<Cleaned>,
    pub(crate) error: Option<io::Error>,
}

impl Collector {
    /// A collector reading techniques through `catalogue`, writing cleaned
    /// telemetry tables with `cleaned` when given.
    pub fn new(catalogue: &'static Catalogue, cleaned: Option<Cleaned>) -> Collector {
        Collector {
            catalogue,
            sources: Vec::new(),
            index: HashMap::new(),
            sorter: Sorter::default(),
            rows: 0,
            gatherer: Gatherer::default(),
            alerts: Vec::new(),
            counts: Counts::default(),
            cleaned,
            error: None,
        }
    }

    fn source(&mut self, path: &str) -> u32 {
        if let Some(&i) = self.index.get(path) {
            return i;
        }
        let i = self.sources.len() as u32;
        self.sources.push(quality::Source {
            path: path.to_owned(),
            ..Default::default()
        });
        self.index.insert(Arc::from(path), i);
        i
    }

    fn event(&mut self, source: u32, e: &Event) -> io::Result<()> {
        let marks: Vec<String> = match e.get("rampart.quality") {
            Some(ValueRef::List(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Str(s) => s.clone(),
                    other => other.as_ref().to_string(),
                })
                .collect(),
            Some(other) => vec![other.to_string()],
            None => Vec::new(),
        };
        let duplicate = self.sources[source as usize].marks(marks.iter().map(String::as_str));
        if duplicate {
            return Ok(());
        }
        let row = describe(e, source, self.rows);
        *self.counts.kinds.entry(row.kind.clone()).or_default() += 1;
        match e.timestamp {
            Some(t) => {
                *self
                    .counts
                    .minutes
                    .entry(t.as_second().div_euclid(60))
                    .or_default() += 1
            }
            None => self.counts.untimed += 1,
        }
        if let Some(pid) = row.pid {
            count(
                &mut self.counts.processes,
                pid,
                &mut self.counts.talkers_untracked,
            );
        }
        if let Some(ip) = e.get_ip("source.ip") {
            count(
                &mut self.counts.addresses,
                ip,
                &mut self.counts.talkers_untracked,
            );
        }
        self.gatherer.take(e, source);
        if let Some(c) = self.cleaned.as_mut() {
            c.row(source, &self.sources[source as usize].path, e, &marks)?;
        }
        self.rows += 1;
        self.sorter.push(row)
    }

    /// The first error met while writing rows, if any.
    fn keep(&mut self, r: io::Result<()>) {
        if let Err(e) = r {
            self.error.get_or_insert(e);
        }
    }
}

impl Sink for Collector {
    fn dead(&mut self, _input: &Input, _dead: &[DeadLetter]) {}

    fn alert(&mut self, alert: Alert) -> io::Result<()> {
        let mut facts = AlertFacts::of(&alert, self.catalogue);
        facts.summary = crate::summary::alert(&facts);
        self.alerts.push(facts);
        Ok(())
    }

    fn events(&mut self, _input: &Input, events: Vec<Event>) {
        // Each event names the file it was read from as the reader did
        // (the path as displayed), stored events included.
        let mut last: Option<(Arc<str>, u32)> = None;
        for e in &events {
            if self.error.is_some() {
                return;
            }
            let source = match &last {
                Some((path, i)) if Arc::ptr_eq(path, &e.origin.path) => *i,
                _ => {
                    let i = self.source(&e.origin.path);
                    last = Some((e.origin.path.clone(), i));
                    i
                }
            };
            let r = self.event(source, e);
            self.keep(r);
        }
    }

    fn file_done(&mut self, report: FileReport) {
        let path = report.path.display().to_string();
        let i = self.source(&path) as usize;
        let s = &mut self.sources[i];
        s.format = report.format.map(str::to_owned);
        s.unparsed(report.stats.unparsed);
        s.examples = report.stats.examples.clone();
        s.error = report.error;
    }
}

/// Activities kept by [`ProcessSink`] until the forest is built; more are
/// counted.
const PENDING_ACTIVITY: usize = 500_000;

/// Only the processes and what they did, for `rampart tree`.
#[derive(Default)]
pub struct ProcessSink {
    gatherer: Gatherer,
    pending: Vec<(Actor, Activity)>,
    seq: u64,
    /// Activities past the cap, counted and not shown.
    pub dropped: u64,
}

impl ProcessSink {
    /// The forest, with what each process did.
    pub fn forest(self) -> Forest {
        let mut forest = self.gatherer.forest();
        for (actor, activity) in self.pending {
            if let Some(node) = forest.owner(&actor, activity.time) {
                forest.attach(node, activity);
            }
        }
        for node in &mut forest.nodes {
            node.activity.sort_by_key(|a| a.time);
        }
        forest
    }
}

impl Sink for ProcessSink {
    fn dead(&mut self, _input: &Input, _dead: &[DeadLetter]) {}

    fn alert(&mut self, _alert: Alert) -> io::Result<()> {
        Ok(())
    }

    fn events(&mut self, _input: &Input, events: Vec<Event>) {
        for e in &events {
            self.gatherer.take(e, 0);
            let row = describe(e, 0, self.seq);
            self.seq += 1;
            if let Some(actor) = row.actor {
                if self.pending.len() < PENDING_ACTIVITY {
                    let activity = Activity {
                        time: row.time,
                        kind: row.kind,
                        text: row.details,
                    };
                    self.pending.push((actor, activity));
                } else {
                    self.dropped += 1;
                }
            }
        }
    }

    fn file_done(&mut self, _report: FileReport) {}
}
