//! One group's window of a correlation: its matches inside the time span,
//! in time order (arrival order among equal times), with the condition's
//! measure kept up to date as matches enter and leave.
//!
//! Matches arriving in order (or nearly) go into a sorted deque, compact
//! and cheap for the many groups that see a handful of matches. The first
//! that would land far from either end (a log merged from several hosts, a
//! clock that went backwards) turns the window into a B-tree, where any
//! arrival order costs O(log n).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use rampart_event::{Event, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::measure::{Carried, Measure, SavedSum, Slot};
use crate::alert::{from_nanos, nanos, Origin};
use crate::correlation::Kind;

/// One match in a window.
#[derive(Debug)]
pub(super) struct Entry {
    /// Which member of the correlation matched.
    pub member: u32,
    /// Whether its event waits in `kept`, to become one of an alert's events.
    kept: bool,
    /// What it brings to the measure.
    pub carried: Carried,
    pub origin: Origin,
}

/// The most entries an out-of-order match may shift in the deque.
const MAX_SHIFT: usize = 32;

/// The matches, in slot order.
#[derive(Debug)]
enum Matches {
    Deque(VecDeque<(Slot, Entry)>),
    Tree(BTreeMap<Slot, Entry>),
}

impl Matches {
    fn len(&self) -> usize {
        match self {
            Matches::Deque(d) => d.len(),
            Matches::Tree(t) => t.len(),
        }
    }

    fn insert(&mut self, slot: Slot, entry: Entry) {
        let deque = match self {
            Matches::Tree(t) => {
                t.insert(slot, entry);
                return;
            }
            Matches::Deque(d) => d,
        };
        if deque.back().is_none_or(|(last, _)| *last < slot) {
            deque.push_back((slot, entry));
            return;
        }
        let at = deque.partition_point(|(s, _)| *s < slot);
        if at.min(deque.len() - at) <= MAX_SHIFT {
            deque.insert(at, (slot, entry));
            return;
        }
        let mut tree: BTreeMap<Slot, Entry> = std::mem::take(deque).into_iter().collect();
        tree.insert(slot, entry);
        *self = Matches::Tree(tree);
    }

    fn first(&self) -> Option<(&Slot, &Entry)> {
        match self {
            Matches::Deque(d) => d.front().map(|(s, e)| (s, e)),
            Matches::Tree(t) => t.first_key_value(),
        }
    }

    fn newest(&self) -> Option<Timestamp> {
        match self {
            Matches::Deque(d) => d.back().map(|((t, _), _)| *t),
            Matches::Tree(t) => t.last_key_value().map(|((t, _), _)| *t),
        }
    }

    fn pop_first(&mut self) -> Option<(Slot, Entry)> {
        match self {
            Matches::Deque(d) => d.pop_front(),
            Matches::Tree(t) => t.pop_first(),
        }
    }

    fn get_mut(&mut self, slot: Slot) -> Option<&mut Entry> {
        match self {
            Matches::Deque(d) => {
                let at = d.binary_search_by(|(s, _)| s.cmp(&slot)).ok()?;
                d.get_mut(at).map(|(_, e)| e)
            }
            Matches::Tree(t) => t.get_mut(&slot),
        }
    }

    fn entries(&self) -> impl Iterator<Item = &Entry> {
        let (deque, tree) = match self {
            Matches::Deque(d) => (Some(d.iter().map(|(_, e)| e)), None),
            Matches::Tree(t) => (None, Some(t.values())),
        };
        deque
            .into_iter()
            .flatten()
            .chain(tree.into_iter().flatten())
    }
}

/// An event kept for an alert: as read, or as the JSON it was saved as
/// when the window was saved between runs.
#[derive(Debug)]
pub(super) enum Kept {
    Event(Arc<Event>),
    Json(Box<RawValue>),
}

impl Kept {
    /// The event as an alert carries it.
    pub(super) fn to_json_raw(&self) -> Box<RawValue> {
        match self {
            Kept::Event(e) => e.to_json_raw(),
            Kept::Json(j) => j.clone(),
        }
    }
}

/// The matches of one group inside the span.
#[derive(Debug)]
pub(super) struct Window {
    matches: Matches,
    arrivals: u64,
    measure: Measure,
    /// The events of the first few matches since the last alert opened,
    /// while they are in the window: an alert's events if one opens.
    kept: Vec<(Slot, Kept)>,
}

impl Window {
    pub(super) fn new(kind: Kind, members: usize, percentile: Option<f64>) -> Window {
        Window {
            matches: Matches::Deque(VecDeque::new()),
            arrivals: 0,
            measure: Measure::new(kind, members, percentile),
            kept: Vec::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.matches.len()
    }

    /// How many events wait in the window for an alert.
    pub(super) fn kept_len(&self) -> usize {
        self.kept.len()
    }

    /// Takes a match of `member` whose measured field reads `value`;
    /// `event` is kept for an alert when given.
    pub(super) fn insert(
        &mut self,
        (time, member): (Timestamp, usize),
        value: Option<&str>,
        origin: Origin,
        event: Option<Arc<Event>>,
    ) {
        let slot = (time, self.arrivals);
        self.arrivals += 1;
        let entry = Entry {
            member: u32::try_from(member).unwrap_or(u32::MAX),
            kept: event.is_some(),
            carried: value.map_or(Carried::Nothing, |v| self.measure.carry(v)),
            origin,
        };
        self.measure.add(slot, entry.member, &entry.carried);
        self.matches.insert(slot, entry);
        if let Some(event) = event {
            self.kept.push((slot, Kept::Event(event)));
        }
    }

    /// Drops the oldest matches until every one is within `span` of the
    /// newest and at most `cap` remain.
    pub(super) fn expire(&mut self, span: jiff::SignedDuration, cap: usize) {
        let Some(newest) = self.matches.newest() else {
            return;
        };
        while let Some(((time, _), _)) = self.matches.first() {
            if newest.duration_since(*time) <= span && self.matches.len() <= cap {
                break;
            }
            let Some((slot, entry)) = self.matches.pop_first() else {
                break;
            };
            self.measure.remove(slot, entry.member, &entry.carried);
            if entry.kept {
                self.kept.retain(|(s, _)| *s != slot);
            }
        }
    }

    /// What the condition measures now.
    pub(super) fn measured(&self) -> f64 {
        self.measure.value(self.matches.len())
    }

    /// The earliest match.
    pub(super) fn first(&self) -> Option<(Timestamp, &Entry)> {
        self.matches.first().map(|((t, _), e)| (*t, e))
    }

    /// The kept events, in window order; none are kept afterwards.
    pub(super) fn take_kept(&mut self) -> Vec<Kept> {
        let mut kept = std::mem::take(&mut self.kept);
        kept.sort_by_key(|(slot, _)| *slot);
        kept.into_iter()
            .map(|(slot, event)| {
                if let Some(entry) = self.matches.get_mut(slot) {
                    entry.kept = false;
                }
                event
            })
            .collect()
    }

    /// The first `max` distinct values in window order.
    pub(super) fn distinct_values(&self, max: usize) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for entry in self.matches.entries() {
            let Carried::Text(value) = &entry.carried else {
                continue;
            };
            if seen.len() == max {
                break;
            }
            if !seen.contains(&value.as_ref()) {
                seen.push(value);
            }
        }
        seen
    }
}

/// One match as saved: its slot, member, what it carries, and its origin
/// (the file by its place in the window's list of files).
#[derive(Serialize, Deserialize)]
struct SavedEntry {
    time: i128,
    arrival: u64,
    member: u32,
    kept: bool,
    carried: SavedCarried,
    path: u32,
    line: u64,
}

#[derive(Serialize, Deserialize)]
enum SavedCarried {
    Nothing,
    Text(String),
    Number(f64),
}

/// A window as saved between runs: its matches in window order, from
/// which the measure is rebuilt (a sum is put back exactly), and the kept
/// events as JSON.
#[derive(Serialize, Deserialize)]
pub(super) struct SavedWindow {
    arrivals: u64,
    paths: Vec<String>,
    entries: Vec<SavedEntry>,
    kept: Vec<(i128, u64, String)>,
    sum: Option<SavedSum>,
}

impl Window {
    /// The window as it can be saved.
    pub(super) fn save(&self) -> SavedWindow {
        let mut paths: Vec<String> = Vec::new();
        let mut last: Option<(&Arc<str>, u32)> = None;
        let mut entries = Vec::with_capacity(self.matches.len());
        let slots = self.slots();
        for (slot, entry) in slots.iter().zip(self.matches.entries()) {
            let path = match last {
                Some((p, at)) if Arc::ptr_eq(p, &entry.origin.path) => at,
                _ => {
                    let text = entry.origin.path.to_string();
                    let at = paths.iter().position(|p| *p == text).unwrap_or_else(|| {
                        paths.push(text);
                        paths.len() - 1
                    }) as u32;
                    last = Some((&entry.origin.path, at));
                    at
                }
            };
            entries.push(SavedEntry {
                time: nanos(slot.0),
                arrival: slot.1,
                member: entry.member,
                kept: entry.kept,
                carried: match &entry.carried {
                    Carried::Nothing => SavedCarried::Nothing,
                    Carried::Text(t) => SavedCarried::Text(t.to_string()),
                    Carried::Number(n) => SavedCarried::Number(*n),
                },
                path,
                line: entry.origin.line,
            });
        }
        SavedWindow {
            arrivals: self.arrivals,
            paths,
            entries,
            kept: self
                .kept
                .iter()
                .map(|((t, a), k)| (nanos(*t), *a, k.to_json_raw().get().to_owned()))
                .collect(),
            sum: self.measure.saved_sum(),
        }
    }

    /// The slots of the matches, in window order.
    fn slots(&self) -> Vec<Slot> {
        match &self.matches {
            Matches::Deque(d) => d.iter().map(|(s, _)| *s).collect(),
            Matches::Tree(t) => t.keys().copied().collect(),
        }
    }

    /// The window `save` gave, for a correlation of `kind`.
    pub(super) fn restore(
        kind: Kind,
        members: usize,
        percentile: Option<f64>,
        saved: SavedWindow,
    ) -> Result<Window, String> {
        let mut window = Window::new(kind, members, percentile);
        let paths: Vec<Arc<str>> = saved.paths.into_iter().map(Arc::from).collect();
        for e in saved.entries {
            let slot = (from_nanos(e.time)?, e.arrival);
            let path = paths
                .get(e.path as usize)
                .ok_or("saved window: a match names no file")?;
            let entry = Entry {
                member: e.member,
                kept: e.kept,
                carried: match e.carried {
                    SavedCarried::Nothing => Carried::Nothing,
                    SavedCarried::Text(t) => window.measure.carry(&t),
                    SavedCarried::Number(n) => Carried::Number(n),
                },
                origin: Origin {
                    path: Arc::clone(path),
                    line: e.line,
                },
            };
            window.measure.add(slot, entry.member, &entry.carried);
            window.matches.insert(slot, entry);
        }
        if let Some(sum) = &saved.sum {
            window.measure.restore_sum(sum);
        }
        window.arrivals = saved.arrivals;
        for (time, arrival, json) in saved.kept {
            let json = RawValue::from_string(json).map_err(|e| format!("saved event: {e}"))?;
            window
                .kept
                .push(((from_nanos(time)?, arrival), Kept::Json(json)));
        }
        Ok(window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The measure as the window defines it, recomputed from scratch: what
    /// the incremental measure must always equal.
    fn naive(kind: Kind, members: usize, percentile: f64, window: &[(Slot, usize, String)]) -> f64 {
        let values = || window.iter().map(|(_, _, v)| v.as_str());
        let numbers: Vec<f64> = values()
            .filter_map(|v| crate::pattern::numeric::number(rampart_event::ValueRef::Str(v)))
            .collect();
        let rank = |p: f64| {
            let mut sorted = numbers.clone();
            sorted.sort_by(f64::total_cmp);
            if sorted.is_empty() {
                return f64::NAN;
            }
            sorted[(p / 100.0 * (sorted.len() - 1) as f64).round() as usize]
        };
        match kind {
            Kind::EventCount => window.len() as f64,
            Kind::ValueCount => values().collect::<std::collections::HashSet<_>>().len() as f64,
            Kind::Temporal => window
                .iter()
                .map(|(_, m, _)| *m)
                .collect::<std::collections::HashSet<_>>()
                .len() as f64,
            Kind::TemporalOrdered => {
                let mut next = 0;
                for (_, m, _) in window {
                    if next < members && *m == next {
                        next += 1;
                    }
                }
                next as f64
            }
            Kind::ValueSum => numbers.iter().sum(),
            Kind::ValueAvg if numbers.is_empty() => f64::NAN,
            Kind::ValueAvg => numbers.iter().sum::<f64>() / numbers.len() as f64,
            Kind::ValueMedian => rank(50.0),
            Kind::ValuePercentile => rank(percentile),
        }
    }

    /// A small deterministic generator, so a failure can be replayed.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    const KINDS: [Kind; 8] = [
        Kind::EventCount,
        Kind::ValueCount,
        Kind::Temporal,
        Kind::TemporalOrdered,
        Kind::ValueSum,
        Kind::ValueAvg,
        Kind::ValueMedian,
        Kind::ValuePercentile,
    ];

    fn origin() -> Origin {
        Origin {
            path: "t".into(),
            line: 1,
        }
    }

    #[test]
    fn the_running_measure_equals_the_measure_recomputed_from_the_window() {
        // Times that repeat, jump ahead and go backwards; values that
        // repeat, are not numbers, or are not finite; a cap that bites.
        let values = [
            "1", "2", "2", "3.5", "-4", "10", "x", "0x10", "inf", "-inf", "NaN", "7", "7",
        ];
        let mut disordered = 0;
        for seed in 1..=60u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let kind = KINDS[(seed % 8) as usize];
            let members = 1 + rng.below(3) as usize;
            let percentile = [0.0, 10.0, 50.0, 90.0, 100.0][rng.below(5) as usize];
            let span = jiff::SignedDuration::from_secs(1 + rng.below(300) as i64);
            let cap = 5 + rng.below(300) as usize;
            let mut window = Window::new(kind, members, Some(percentile));
            let mut oracle: Vec<(Slot, usize, String)> = Vec::new();
            let mut clock = 1_000i64;
            for arrival in 0..600u64 {
                clock += rng.below(5) as i64 - 1;
                let back = if rng.below(10) == 0 {
                    rng.below(40) as i64
                } else {
                    0
                };
                let time = Timestamp::from_second(clock - back).unwrap();
                let member = rng.below(members as u64) as usize;
                let value = values[rng.below(values.len() as u64) as usize];
                window.insert((time, member), Some(value), origin(), None);
                let at = oracle.partition_point(|(s, _, _)| *s <= (time, arrival));
                oracle.insert(at, ((time, arrival), member, value.to_owned()));
                window.expire(span, cap);
                let newest = oracle.last().unwrap().0 .0;
                while oracle.first().is_some_and(|(s, _, _)| {
                    newest.duration_since(s.0) > span || oracle.len() > cap
                }) {
                    oracle.remove(0);
                }
                assert_eq!(window.len(), oracle.len());
                let want = naive(kind, members, percentile, &oracle);
                let got = window.measured();
                assert!(
                    got == want || (got.is_nan() && want.is_nan()),
                    "seed {seed}, {kind:?}, arrival {arrival}: {got} != {want}"
                );
            }
            disordered += usize::from(matches!(window.matches, Matches::Tree(_)));
        }
        assert!(
            (1..60).contains(&disordered),
            "both layouts are tried: {disordered} of 60 windows became trees"
        );
    }

    #[test]
    fn kept_events_leave_with_their_matches_and_come_back_in_window_order() {
        let mut window = Window::new(Kind::EventCount, 1, None);
        let span = jiff::SignedDuration::from_secs(10);
        for (second, line) in [(5, 1), (3, 2), (20, 3), (18, 4)] {
            let mut event = Event::new(rampart_event::Origin::new("t", line), "x");
            event.timestamp = Some(Timestamp::from_second(second).unwrap());
            window.insert(
                (event.timestamp.unwrap(), 0),
                None,
                origin(),
                Some(Arc::new(event)),
            );
            window.expire(span, 100);
        }
        // The matches at 3 s and 5 s are more than 10 s older than 20 s.
        assert_eq!(window.kept_len(), 2);
        let lines: Vec<u64> = window
            .take_kept()
            .iter()
            .map(|k| match k {
                Kept::Event(e) => e.origin.line,
                Kept::Json(_) => 0,
            })
            .collect();
        assert_eq!(lines, [4, 3]);
        assert_eq!(window.kept_len(), 0);
        assert_eq!(window.first().map(|(t, _)| t.as_second()), Some(18));
    }
}
