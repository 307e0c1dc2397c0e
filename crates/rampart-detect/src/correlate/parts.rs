//! One batch of placed matches through the correlations: the partitions
//! worked on in parallel, each in match order, then the correlations kept
//! in one place and the chains the matches set off, and every alert handed
//! on in the order of the match that raised it. Working the partitions one
//! after another, or all at once, gives the same alerts in the same order,
//! since no two share a group.

use std::sync::Arc;

use rampart_event::Event;

use super::place::{Placements, PARTITIONS, SERIAL};
use super::plan::{encode_part, Member, Plan};
use super::state::{self, Placed, Shared, State};
use super::Correlator;
use crate::alert::Alert;

/// Placements in a batch below which its partitions are worked on by the
/// calling thread: handing them to the pool costs more than the work.
const PARALLEL_AT: usize = 256;

/// An alert and where it falls: the index of the placement that raised it,
/// then 0 for what the placement did itself or 1 for the chains its match
/// set off.
type Tagged = (usize, u8, Alert);

/// Group values of an alert that just opened, by field.
type Group = Vec<(String, String)>;

/// What one partition made of a batch.
#[derive(Default)]
struct PartOut {
    alerts: Vec<Tagged>,
    /// (placement, correlation, group) of the alerts that opened in
    /// correlations that feed chains.
    fired: Vec<(usize, usize, Group)>,
}

impl Correlator {
    /// Takes the placed matches of one batch of `events`; returns the
    /// alerts of bursts that closed or opened, in the order of the matches
    /// that raised them. With `pool`, large batches have their partitions
    /// worked on in parallel.
    pub fn observe_batch(
        &mut self,
        events: &[Event],
        placed: &Placements,
        pool: Option<&rayon::ThreadPool>,
    ) -> Vec<Alert> {
        let alerts = match pool {
            Some(pool) if placed.len() >= PARALLEL_AT && pool.current_num_threads() > 1 => {
                self.in_parallel(events, placed, pool)
            }
            _ => self.in_order(events, placed),
        };
        self.drop_quiet(alerts)
    }

    /// Every placement in turn, on this thread.
    fn in_order(&mut self, events: &[Event], placed: &Placements) -> Vec<Alert> {
        let mut alerts = Vec::new();
        let mut fired = Vec::new();
        let plan = Arc::clone(&self.plan);
        for (n, p) in placed.items.iter().enumerate() {
            let (state, limits) = match p.part {
                SERIAL => (&mut self.serial, &self.serial_limits),
                part => (&mut self.parts[part as usize], &self.part_limits),
            };
            fired.extend(observe(
                &plan,
                limits,
                state,
                (placed, n),
                events,
                &mut alerts,
            ));
            self.chain_after(n, placed, events, &mut fired, &mut alerts);
        }
        alerts.into_iter().map(|(_, _, a)| a).collect()
    }

    /// The partitions on the pool, then what is kept in one place on this
    /// thread, merged in the order `in_order` gives.
    fn in_parallel(
        &mut self,
        events: &[Event],
        placed: &Placements,
        pool: &rayon::ThreadPool,
    ) -> Vec<Alert> {
        let mut buckets: Vec<Vec<usize>> = vec![Vec::new(); PARTITIONS];
        for (n, p) in placed.items.iter().enumerate() {
            if p.part != SERIAL {
                buckets[p.part as usize].push(n);
            }
        }
        let mut outs: Vec<PartOut> = (0..PARTITIONS).map(|_| PartOut::default()).collect();
        let (plan, limits) = (&*self.plan, &self.part_limits);
        let work = |states: &mut [Vec<State>], buckets: &[Vec<usize>], outs: &mut [PartOut]| {
            for ((state, bucket), out) in states.iter_mut().zip(buckets).zip(outs) {
                for &n in bucket {
                    let at = (placed, n);
                    let opened = observe(plan, limits, state, at, events, &mut out.alerts);
                    if let Some((running, group)) = opened {
                        out.fired.push((n, running, group));
                    }
                }
            }
        };
        let chunk = PARTITIONS.div_ceil(pool.current_num_threads());
        pool.in_place_scope(|scope| {
            let work = &work;
            let mut jobs = self
                .parts
                .chunks_mut(chunk)
                .zip(buckets.chunks(chunk))
                .zip(outs.chunks_mut(chunk));
            let mine = jobs.next();
            for ((states, buckets), outs) in jobs {
                scope.spawn(move |_| work(states, buckets, outs));
            }
            if let Some(((states, buckets), outs)) = mine {
                work(states, buckets, outs);
            }
        });
        let mut alerts: Vec<Tagged> = Vec::new();
        let mut fired: Vec<(usize, usize, Group)> = Vec::new();
        for out in outs {
            alerts.extend(out.alerts);
            fired.extend(out.fired);
        }
        if plan.has_serial() {
            fired.sort_by_key(|f| f.0);
            self.serial_stage(events, placed, fired, &mut alerts);
        }
        alerts.sort_by_key(|(n, phase, _)| (*n, *phase));
        alerts.into_iter().map(|(_, _, a)| a).collect()
    }

    /// The placements kept in one place, and the chains set off by every
    /// match, in match order.
    fn serial_stage(
        &mut self,
        events: &[Event],
        placed: &Placements,
        from_parts: Vec<(usize, usize, Group)>,
        alerts: &mut Vec<Tagged>,
    ) {
        let plan = Arc::clone(&self.plan);
        let mut from_parts = from_parts.into_iter().peekable();
        let mut fired = Vec::new();
        for (n, p) in placed.items.iter().enumerate() {
            if p.part == SERIAL {
                let (state, limits) = (&mut self.serial, &self.serial_limits);
                fired.extend(observe(&plan, limits, state, (placed, n), events, alerts));
            }
            while let Some((_, running, group)) = from_parts.next_if(|f| f.0 == n) {
                fired.push((running, group));
            }
            self.chain_after(n, placed, events, &mut fired, alerts);
        }
    }

    /// After the last placement of a match, feeds what it opened to the
    /// correlations chained on them.
    fn chain_after(
        &mut self,
        n: usize,
        placed: &Placements,
        events: &[Event],
        fired: &mut Vec<(usize, Group)>,
        alerts: &mut Vec<Tagged>,
    ) {
        if placed.ends_match(n) && !fired.is_empty() {
            let event = &events[placed.items[n].event as usize];
            let plan = Arc::clone(&self.plan);
            let (limits, serial) = (&self.serial_limits, &mut self.serial);
            chain(&plan, limits, serial, fired, (event, n), alerts);
        }
    }
}

/// The `n`-th placement into its correlation's state; its alerts are
/// appended to `alerts`, and the group returned when an alert opened in a
/// correlation that feeds chains.
fn observe(
    plan: &Plan,
    limits: &state::Limits,
    states: &mut [State],
    (placed, n): (&Placements, usize),
    events: &[Event],
    alerts: &mut Vec<Tagged>,
) -> Option<(usize, Group)> {
    let p = &placed.items[n];
    let event = &events[p.event as usize];
    let time = event.timestamp?;
    let running = p.running as usize;
    let at = Placed {
        key: placed.key(p),
        member: p.member as usize,
        value: placed.value(p),
        time,
    };
    let mut closed = Vec::new();
    let opened = states[running].observe(
        &plan.running[running],
        at,
        &mut Shared::new(event),
        limits,
        &mut closed,
    );
    alerts.extend(closed.into_iter().map(|a| (n, 0, a)));
    opened
        .filter(|_| plan.chain_feeds.contains_key(&running))
        .map(|group| (running, group))
}

/// Feeds the alerts that opened for one match (the `n`-th placement's) to the correlations chained
/// on them, level by level (the last opened first).
fn chain(
    plan: &Plan,
    limits: &state::Limits,
    serial: &mut [State],
    fired: &mut Vec<(usize, Group)>,
    (event, n): (&Event, usize),
    alerts: &mut Vec<Tagged>,
) {
    let Some(time) = event.timestamp else {
        fired.clear();
        return;
    };
    let mut shared = Shared::new(event);
    let mut closed = Vec::new();
    while let Some((up, group)) = fired.pop() {
        let Some(chained) = plan.chain_feeds.get(&up) else {
            continue;
        };
        for &(at, member) in chained {
            let Member::Chain { group_names } = &plan.running[at].members[member] else {
                continue;
            };
            let mut key = String::new();
            let placed_all = group_names.iter().all(|name| {
                let value = group.iter().find(|(k, _)| k == name);
                value.inspect(|(_, v)| encode_part(&mut key, v)).is_some()
            });
            if !placed_all {
                continue;
            }
            let placed = Placed {
                key: &key,
                member,
                value: None,
                time,
            };
            if let Some(g) =
                serial[at].observe(&plan.running[at], placed, &mut shared, limits, &mut closed)
            {
                fired.push((at, g));
            }
        }
    }
    alerts.extend(closed.into_iter().map(|a| (n, 1, a)));
}
