//! The engine cut in two, for the workers of a cluster: the stage without
//! state (enrichment, every rule, placing each correlation's matches in
//! their partition) runs wherever an event lands, and the stage with state
//! (correlation windows, dedup windows) runs, partition by partition, in
//! the one worker that owns each partition. Partitions are the
//! correlator's own (`PARTITIONS`, by a hash of the group), plus one for
//! what is kept in one place: chained correlations and dedup windows.
//!
//! Fed the same events in the same order, the owners of the partitions
//! together raise the alerts one [`Engine`] raises, with the same ids and
//! counts: each partition's state sees its matches in input order, and no
//! two partitions share a group.

use rampart_detect::correlate::Carried;
use rampart_detect::{Alert, Correlator, Deduper, Level, Placements, SavedState, PARTITIONS};
use rampart_event::Event;
use rayon::prelude::*;

use crate::batch::{BatchResult, Detector};
use crate::run::Engine;

/// Partitions of a cluster: the correlator's, and the one place.
pub const SHARES: usize = PARTITIONS + 1;

/// The partition of chained correlations and dedup windows.
pub const ONE_PLACE: usize = PARTITIONS;

/// What one event brings to one partition.
#[derive(Debug, Default)]
pub struct Share {
    /// The event's index in its batch.
    pub event: usize,
    /// Its matches placed in the partition's correlations.
    pub placed: Vec<Carried>,
    /// Its alerts that fold over a dedup window (the one place only).
    pub folded: Vec<Alert>,
}

/// What the stage without state made of one batch.
#[derive(Debug, Default)]
pub struct Detected {
    /// Alerts that need no state, ready for the sinks.
    pub ready: Vec<Alert>,
    /// For each partition, what the batch's events bring it, in event order.
    pub shares: Vec<Vec<Share>>,
}

impl Engine {
    /// The stage without state over `batches`, on `pool` (all of them at
    /// once): each batch's events enriched and matched, single-event alerts
    /// that fold nothing ready, the rest shared out by partition.
    pub fn detect_split(
        &self,
        pool: Option<&rayon::ThreadPool>,
        batches: &mut [Vec<Event>],
    ) -> Vec<Detected> {
        let detector = Detector {
            rules: &self.rules,
            roles: &self.roles,
            enrichers: &self.enrichers,
            ioc_rule: &self.ioc_rule,
            scope: self.scope,
        };
        let work = |events: &mut Vec<Event>| split(detector.detect(events), &self.dedup);
        match pool {
            Some(pool) => pool.install(|| batches.par_iter_mut().map(work).collect()),
            None => batches.iter_mut().map(work).collect(),
        }
    }

    /// Whether the config's suppressions hold `alert` back.
    pub fn suppresses(&self, alert: &Alert) -> bool {
        self.tuning.suppresses(alert)
    }

    /// The stage with state for one partition, holding nothing yet.
    pub fn owned(&self) -> Owned {
        let mut correlator = self.correlator.fresh();
        correlator.track_changes();
        let mut dedup = self.dedup.fresh();
        dedup.track_changes();
        Owned {
            correlator,
            dedup,
            min: self.scope.min,
        }
    }
}

/// One batch's result shared out by partition.
fn split(result: BatchResult, dedup: &Deduper) -> Detected {
    let mut out = Detected {
        ready: Vec::new(),
        shares: (0..SHARES).map(|_| Vec::new()).collect(),
    };
    let share = |shares: &mut Vec<Share>, event: usize| -> usize {
        if shares.last().is_none_or(|s| s.event != event) {
            shares.push(Share {
                event,
                ..Share::default()
            });
        }
        shares.len() - 1
    };
    // Alerts and placements come in event order each; merged by event.
    let mut alerts = result.alerts.into_iter().zip(result.raised_on).peekable();
    let mut carried = result.placements.carried().peekable();
    loop {
        let next_alert = alerts.peek().map(|(_, at)| *at as usize);
        let next_placed = carried.peek().map(|(at, _)| *at);
        match (next_alert, next_placed) {
            (None, None) => break,
            (Some(a), p) if p.is_none_or(|p| a <= p) => {
                let Some((alert, _)) = alerts.next() else {
                    break;
                };
                if dedup.folds(&alert.rule_id) {
                    let shares = &mut out.shares[ONE_PLACE];
                    let at = share(shares, a);
                    shares[at].folded.push(alert);
                } else {
                    out.ready.push(alert);
                }
            }
            _ => {
                let Some((event, c)) = carried.next() else {
                    break;
                };
                let shares = &mut out.shares[c.partition as usize];
                let at = share(shares, event);
                shares[at].placed.push(c);
            }
        }
    }
    out
}

/// The state of one partition, fed by every worker's shares of it.
#[derive(Debug)]
pub struct Owned {
    correlator: Correlator,
    dedup: Deduper,
    min: Level,
}

impl Owned {
    /// Whether a placement that travelled here fits these rules.
    pub fn accepts(&self, c: &Carried) -> bool {
        self.correlator.accepts(c)
    }

    /// Takes the next events of the partition, in input order, with their
    /// placements (built with [`Placements::push_carried`]) and folded
    /// alerts; returns the alerts that closed or opened.
    pub fn take(
        &mut self,
        events: &[Event],
        placed: &Placements,
        folded: Vec<Alert>,
        pool: Option<&rayon::ThreadPool>,
    ) -> Vec<Alert> {
        let mut out: Vec<Alert> = folded
            .into_iter()
            .flat_map(|a| self.dedup.offer(a))
            .collect();
        let min = self.min;
        out.extend(
            self.correlator
                .observe_batch(events, placed, pool)
                .into_iter()
                .filter(|a| a.severity >= min),
        );
        out
    }

    /// Ends the input: every open window's alert.
    pub fn finish(&mut self) -> Vec<Alert> {
        let min = self.min;
        let mut out: Vec<Alert> = self
            .correlator
            .finish()
            .into_iter()
            .filter(|a| a.severity >= min)
            .collect();
        out.extend(self.dedup.finish());
        out
    }

    /// What changed since the last call.
    pub fn changes(&mut self) -> SavedState {
        let mut out = SavedState::default();
        self.correlator.save(&mut out);
        self.dedup.save(&mut out);
        out
    }

    /// Goes on from a whole saved state.
    pub fn restore(&mut self, saved: &SavedState) -> Result<(), String> {
        self.correlator.restore(saved)?;
        self.dedup.restore(saved)
    }
}
