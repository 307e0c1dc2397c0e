//! What a correlation's condition measures in one group's window, kept up
//! to date as matches enter and leave it.
//!
//! Recomputing the measure from the whole window on every match made a
//! window of n matches cost O(n) per match, so one busy group (a full port
//! scan, a flood of failed logins) cost O(n²). Each measure here changes in
//! O(1) per match (counts, distinct values, sums) or O(log n) where order
//! matters (temporal order, percentiles).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rampart_event::ValueRef;
use serde::{Deserialize, Serialize};

use super::HashMap;
use crate::correlation::Kind;
use crate::pattern::numeric::number;

/// Where a match sits in its window: its time, then its arrival.
pub(super) type Slot = (rampart_event::Timestamp, u64);

/// What a match carries into the measure.
#[derive(Debug, Clone)]
pub(super) enum Carried {
    /// Nothing: a count, or a member whose field holds no number.
    Nothing,
    /// A value to count distinct, shared with the other matches carrying it.
    Text(Arc<str>),
    /// A number to add up or rank.
    Number(f64),
}

/// The running measure of one window.
#[derive(Debug)]
pub(super) enum Measure {
    /// `event_count`: the window's length says it all.
    Count,
    /// `value_count`: how many matches carry each value.
    Values(HashMap<Arc<str>, u32>),
    /// `temporal`: matches per member, and how many members have any.
    Members { counts: Vec<u32>, present: usize },
    /// `temporal_ordered`: each member's matches in window order.
    Ordered(Vec<BTreeSet<Slot>>),
    /// `value_sum` and `value_avg`.
    Sum { sum: Sum, avg: bool },
    /// `value_median` and `value_percentile`.
    Rank(Rank),
}

impl Measure {
    pub(super) fn new(kind: Kind, members: usize, percentile: Option<f64>) -> Measure {
        match kind {
            Kind::EventCount => Measure::Count,
            Kind::ValueCount => Measure::Values(HashMap::default()),
            Kind::Temporal => Measure::Members {
                counts: vec![0; members],
                present: 0,
            },
            Kind::TemporalOrdered => Measure::Ordered(vec![BTreeSet::new(); members]),
            Kind::ValueSum => Measure::Sum {
                sum: Sum::default(),
                avg: false,
            },
            Kind::ValueAvg => Measure::Sum {
                sum: Sum::default(),
                avg: true,
            },
            Kind::ValueMedian => Measure::Rank(Rank::new(50.0)),
            Kind::ValuePercentile => Measure::Rank(Rank::new(percentile.unwrap_or(50.0))),
        }
    }

    /// What a match whose field reads `text` carries: the value, shared
    /// with the matches already carrying it, or its number.
    pub(super) fn carry(&self, text: &str) -> Carried {
        match self {
            Measure::Values(values) => match values.get_key_value(text) {
                Some((shared, _)) => Carried::Text(Arc::clone(shared)),
                None => Carried::Text(Arc::from(text)),
            },
            Measure::Sum { .. } | Measure::Rank(_) => {
                number(ValueRef::Str(text)).map_or(Carried::Nothing, Carried::Number)
            }
            _ => Carried::Nothing,
        }
    }

    /// Takes a match entering the window.
    pub(super) fn add(&mut self, slot: Slot, member: u32, carried: &Carried) {
        match self {
            Measure::Count => {}
            Measure::Values(values) => {
                if let Carried::Text(v) = carried {
                    *values.entry(Arc::clone(v)).or_default() += 1;
                }
            }
            Measure::Members { counts, present } => {
                if let Some(c) = counts.get_mut(member as usize) {
                    *present += usize::from(*c == 0);
                    *c += 1;
                }
            }
            Measure::Ordered(sets) => {
                if let Some(set) = sets.get_mut(member as usize) {
                    set.insert(slot);
                }
            }
            Measure::Sum { sum, .. } => {
                if let Carried::Number(n) = carried {
                    sum.add(*n);
                }
            }
            Measure::Rank(rank) => {
                if let Carried::Number(n) = carried {
                    rank.insert(*n);
                }
            }
        }
    }

    /// Takes a match leaving the window (one that `add` took).
    pub(super) fn remove(&mut self, slot: Slot, member: u32, carried: &Carried) {
        match self {
            Measure::Count => {}
            Measure::Values(values) => {
                if let Carried::Text(v) = carried {
                    if let Some(c) = values.get_mut(v) {
                        *c -= 1;
                        if *c == 0 {
                            values.remove(v);
                        }
                    }
                }
            }
            Measure::Members { counts, present } => {
                if let Some(c) = counts.get_mut(member as usize) {
                    *c -= 1;
                    *present -= usize::from(*c == 0);
                }
            }
            Measure::Ordered(sets) => {
                if let Some(set) = sets.get_mut(member as usize) {
                    set.remove(&slot);
                }
            }
            Measure::Sum { sum, .. } => {
                if let Carried::Number(n) = carried {
                    sum.remove(*n);
                }
            }
            Measure::Rank(rank) => {
                if let Carried::Number(n) = carried {
                    rank.remove(*n);
                }
            }
        }
    }

    /// The number the threshold is compared with, for a window of `len`
    /// matches.
    pub(super) fn value(&self, len: usize) -> f64 {
        match self {
            Measure::Count => len as f64,
            Measure::Values(values) => values.len() as f64,
            Measure::Members { present, .. } => *present as f64,
            Measure::Ordered(sets) => ordered_progress(sets) as f64,
            Measure::Sum { sum, avg: false } => sum.total(),
            Measure::Sum { sum, avg: true } if sum.n == 0 => f64::NAN,
            Measure::Sum { sum, avg: true } => sum.total() / sum.n as f64,
            Measure::Rank(rank) => rank.value(),
        }
    }
}

/// A running sum as saved between runs: exactly its parts, since a sum
/// rebuilt by adding its numbers again in another order could differ in
/// its last bits from the one kept.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct SavedSum {
    parts: [f64; 4],
    counts: [u64; 4],
}

impl Measure {
    /// The running sum's parts, for a sum.
    pub(super) fn saved_sum(&self) -> Option<SavedSum> {
        let Measure::Sum { sum, .. } = self else {
            return None;
        };
        Some(SavedSum {
            parts: [
                sum.small.sum,
                sum.small.carry,
                sum.large.sum,
                sum.large.carry,
            ],
            counts: [sum.n, sum.plus_inf, sum.minus_inf, sum.nan],
        })
    }

    /// Puts back the parts `saved_sum` gave (after the window's numbers were
    /// added again, which leaves the sum in another order).
    pub(super) fn restore_sum(&mut self, saved: &SavedSum) {
        if let Measure::Sum { sum, .. } = self {
            let [small, small_carry, large, large_carry] = saved.parts;
            let [n, plus_inf, minus_inf, nan] = saved.counts;
            *sum = Sum {
                small: Compensated {
                    sum: small,
                    carry: small_carry,
                },
                large: Compensated {
                    sum: large,
                    carry: large_carry,
                },
                n,
                plus_inf,
                minus_inf,
                nan,
            };
        }
    }
}

/// How many of the members matched in the listed order within the window:
/// the earliest match of the first member, then the earliest of the second
/// after it, and so on. O(members × log n).
fn ordered_progress(sets: &[BTreeSet<Slot>]) -> usize {
    let mut after: Option<Slot> = None;
    for (done, set) in sets.iter().enumerate() {
        let next = match after {
            None => set.first().copied(),
            Some(at) => set
                .range((std::ops::Bound::Excluded(at), std::ops::Bound::Unbounded))
                .next()
                .copied(),
        };
        match next {
            Some(slot) => after = Some(slot),
            None => return done,
        }
    }
    sets.len()
}

/// A sum that numbers can leave as well as enter: finite numbers in
/// compensated (Neumaier) sums, so that adding and taking away many values
/// does not drift, and infinities and NaNs counted apart, so that one that
/// has left no longer poisons the total. Numbers of 2^900 and more are
/// summed apart, scaled down by 2^900 (exactly), so that no partial sum can
/// overflow to infinity and leave a NaN behind when its parts leave.
#[derive(Debug, Default)]
pub(super) struct Sum {
    small: Compensated,
    large: Compensated,
    n: u64,
    plus_inf: u64,
    minus_inf: u64,
    nan: u64,
}

/// 2^900 (biased exponent 900 + 1023): where a number counts as large.
const LARGE: f64 = f64::from_bits(1923 << 52);
/// 2^-900 (biased exponent 1023 - 900), the scale of large numbers.
const LARGE_SCALE: f64 = f64::from_bits(123 << 52);

/// A Neumaier sum.
#[derive(Debug, Default)]
struct Compensated {
    sum: f64,
    carry: f64,
}

impl Compensated {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        self.carry += if self.sum.abs() >= x.abs() {
            (self.sum - t) + x
        } else {
            (x - t) + self.sum
        };
        self.sum = t;
    }

    fn value(&self) -> f64 {
        self.sum + self.carry
    }
}

impl Sum {
    fn add(&mut self, x: f64) {
        self.n += 1;
        match self.special(x) {
            Some(count) => *count += 1,
            None => self.accumulate(x),
        }
    }

    fn remove(&mut self, x: f64) {
        self.n -= 1;
        match self.special(x) {
            Some(count) => *count -= 1,
            None => self.accumulate(-x),
        }
        if self.n == 0 {
            *self = Sum::default();
        }
    }

    /// The counter of a value that is not finite.
    fn special(&mut self, x: f64) -> Option<&mut u64> {
        if x.is_nan() {
            Some(&mut self.nan)
        } else if x == f64::INFINITY {
            Some(&mut self.plus_inf)
        } else if x == f64::NEG_INFINITY {
            Some(&mut self.minus_inf)
        } else {
            None
        }
    }

    fn accumulate(&mut self, x: f64) {
        if x.abs() >= LARGE {
            self.large.add(x * LARGE_SCALE);
        } else {
            self.small.add(x);
        }
    }

    fn total(&self) -> f64 {
        match (self.nan, self.plus_inf, self.minus_inf) {
            (0, 0, 0) => self.large.value() * LARGE + self.small.value(),
            (0, _, 0) => f64::INFINITY,
            (0, 0, _) => f64::NEG_INFINITY,
            _ => f64::NAN,
        }
    }
}

/// A percentile of a multiset that values enter and leave, in O(log n):
/// the values split into a lower part, holding exactly the values up to the
/// wanted rank, and an upper part; the answer is the lower part's largest.
/// Values are ordered as `f64::total_cmp` orders them.
#[derive(Debug)]
pub(super) struct Rank {
    percentile: f64,
    lower: Multiset,
    upper: Multiset,
}

#[derive(Debug, Default)]
struct Multiset {
    counts: BTreeMap<u64, u32>,
    len: usize,
}

impl Multiset {
    fn insert(&mut self, key: u64) {
        *self.counts.entry(key).or_default() += 1;
        self.len += 1;
    }

    /// Removes one copy of `key`; false when there is none.
    fn remove(&mut self, key: u64) -> bool {
        let Some(c) = self.counts.get_mut(&key) else {
            return false;
        };
        *c -= 1;
        if *c == 0 {
            self.counts.remove(&key);
        }
        self.len -= 1;
        true
    }

    fn max(&self) -> Option<u64> {
        self.counts.last_key_value().map(|(k, _)| *k)
    }

    fn min(&self) -> Option<u64> {
        self.counts.first_key_value().map(|(k, _)| *k)
    }
}

/// `f64` as a `u64` whose unsigned order is `f64::total_cmp`'s.
fn ordered_bits(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

fn from_ordered_bits(key: u64) -> f64 {
    if key >> 63 == 1 {
        f64::from_bits(key & !(1 << 63))
    } else {
        f64::from_bits(!key)
    }
}

impl Rank {
    fn new(percentile: f64) -> Rank {
        Rank {
            percentile: percentile.clamp(0.0, 100.0),
            lower: Multiset::default(),
            upper: Multiset::default(),
        }
    }

    fn insert(&mut self, x: f64) {
        let key = ordered_bits(x);
        if self.lower.max().is_some_and(|m| key <= m) {
            self.lower.insert(key);
        } else {
            self.upper.insert(key);
        }
        self.balance();
    }

    fn remove(&mut self, x: f64) {
        let key = ordered_bits(x);
        if !self.lower.remove(key) {
            self.upper.remove(key);
        }
        self.balance();
    }

    /// Moves values across until the lower part holds the values up to the
    /// rank `round(p / 100 × (n - 1))`, as a sorted list would index them.
    fn balance(&mut self) {
        let n = self.lower.len + self.upper.len;
        let wanted = if n == 0 {
            0
        } else {
            (self.percentile / 100.0 * (n - 1) as f64).round() as usize + 1
        };
        while self.lower.len > wanted {
            let Some(k) = self.lower.max() else { break };
            self.lower.remove(k);
            self.upper.insert(k);
        }
        while self.lower.len < wanted {
            let Some(k) = self.upper.min() else { break };
            self.upper.remove(k);
            self.lower.insert(k);
        }
    }

    fn value(&self) -> f64 {
        self.lower.max().map_or(f64::NAN, from_ordered_bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_of_large_numbers_is_exact() {
        assert_eq!(LARGE, 2f64.powi(900));
        assert_eq!(LARGE_SCALE, 2f64.powi(-900));
    }

    #[test]
    fn sums_that_overflow_recover_when_their_parts_leave() {
        let mut sum = Sum::default();
        sum.add(1e308);
        sum.add(1e308);
        assert_eq!(
            sum.total(),
            f64::INFINITY,
            "past f64::MAX, as a plain sum says"
        );
        sum.remove(1e308);
        assert_eq!(sum.total(), 1e308);
        sum.add(-1e308);
        sum.add(5.0);
        assert_eq!(sum.total(), 5.0);
        // Decimals that a plain running sum would drift on.
        let mut drift = Sum::default();
        for _ in 0..1000 {
            drift.add(0.1);
        }
        for _ in 0..999 {
            drift.remove(0.1);
        }
        assert_eq!(drift.total(), 0.1);
    }
}
