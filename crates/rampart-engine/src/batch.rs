//! The work on one batch of events, done on the worker threads: enrichment
//! (indicators, GeoIP, VirusTotal answers), the indicator-match rule, and
//! every detection rule. Single-event alerts come out whole; matches that
//! feed correlations come out placed in their groups, for the correlations
//! to take in input order.

use rampart_detect::rule::Rule;
use rampart_detect::{Alert, Level, Placements, RuleRoles, RuleSet};
use rampart_event::{Event, Timestamp};
use rampart_intel::Enrichers;

/// The time range and level an alert must fall in.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    /// Only events at or after this time.
    pub from: Option<Timestamp>,
    /// Only events before this time.
    pub to: Option<Timestamp>,
    /// Only alerts of this level or above.
    pub min: Level,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            from: None,
            to: None,
            min: Level::Informational,
        }
    }
}

impl Scope {
    /// Whether an event at `t` is in the time range (one without a time is
    /// only when no range is set).
    pub fn admits_time(&self, t: Option<Timestamp>) -> bool {
        match t {
            Some(t) => self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t < e),
            None => self.from.is_none() && self.to.is_none(),
        }
    }
}

/// What the worker threads make of one batch.
#[derive(Debug, Default)]
pub struct BatchResult {
    /// Alerts of single-event rules.
    pub alerts: Vec<Alert>,
    /// The index in the batch of the event each alert was raised on.
    pub raised_on: Vec<u32>,
    /// Matches that feed correlations, placed in their groups.
    pub placements: Placements,
}

/// What the work on a batch needs.
pub(crate) struct Detector<'e> {
    pub rules: &'e RuleSet,
    pub roles: &'e RuleRoles,
    pub enrichers: &'e Enrichers,
    pub ioc_rule: &'e Rule,
    pub scope: Scope,
}

impl Detector<'_> {
    /// Enriches one batch and runs the rules (and the indicator lookups) over it.
    pub(crate) fn detect(&self, events: &mut [Event]) -> BatchResult {
        let mut out = BatchResult::default();
        self.enrichers.prepare(events);
        for (at, event) in events.iter_mut().enumerate() {
            if !self.scope.admits_time(event.timestamp) {
                continue;
            }
            let hits = self.enrichers.enrich(event);
            let event = &*event;
            if self.ioc_rule.level >= self.scope.min {
                out.alerts
                    .extend(rampart_intel::alerts(self.ioc_rule, event, &hits));
                out.raised_on.resize(out.alerts.len(), at as u32);
            }
            self.rules.each_match(event, |hit, view| {
                if self.roles.feeds(hit.index) {
                    self.roles.place(hit.index, at, event, &mut out.placements);
                }
                let rule = &hit.rule.rule;
                if rule.level_for(event) < self.scope.min || self.roles.is_quiet(hit.index) {
                    return;
                }
                out.alerts.push(Alert::single(
                    rule,
                    hit.rule.group_of(view),
                    hit.rule.explain(view),
                    event,
                ));
                out.raised_on.push(at as u32);
            });
        }
        out
    }
}
