//! The groups of one correlation in one partition: each group's window
//! and open alert, and the sweeping and eviction that keep their number
//! bounded.

use std::sync::Arc;

use rampart_event::{Event, Timestamp};
use serde_json::value::RawValue;

use super::plan::{decode, Running};
use super::window::Window;
use super::HashMap;
use crate::alert::{stable_id, techniques, Alert, Origin};
use crate::compile::Matched;
use crate::correlation::CorrelationRule;

/// How many groups a state may keep, and how often it sweeps.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub max_groups: usize,
    pub max_alert_events: usize,
    /// Matches between sweeps of quiet groups, at least (and at least as
    /// many as there are groups, so a sweep costs O(1) per match).
    pub sweep_every: usize,
    /// Whether open alerts that change are noted for `take_changed` (only
    /// when someone takes them, so that the list stays bounded).
    pub note_changes: bool,
}

#[derive(Debug)]
struct Group {
    window: Window,
    open: Option<Box<Alert>>,
    last_activity: Timestamp,
    /// Whether its open alert changed since it was last handed on open.
    changed: bool,
}

/// One correlation's groups in one partition.
#[derive(Debug)]
pub(super) struct State {
    /// Groups by their encoded values (see `plan::encode_part`).
    groups: HashMap<Box<str>, Group>,
    /// The latest event time seen, and matches since the last sweep of
    /// groups that have gone quiet for a whole span.
    newest: Option<Timestamp>,
    since_sweep: usize,
    /// Matches until the next sweep: as many as the groups the last sweep
    /// kept, so that memory stays within twice the live groups.
    sweep_after: usize,
    /// Groups whose open alert opened or grew since `take_changed`.
    changed: Vec<Box<str>>,
}

impl State {
    pub fn new(limits: &Limits) -> State {
        State {
            groups: HashMap::default(),
            newest: None,
            since_sweep: 0,
            sweep_after: limits.sweep_every,
            changed: Vec::new(),
        }
    }

    /// How many groups it keeps.
    #[cfg(test)]
    pub fn groups(&self) -> usize {
        self.groups.len()
    }

    /// The open alerts that opened or grew since the last call, as they
    /// stand (a group gone since is left out: its alert was handed on).
    pub fn take_changed(&mut self) -> Vec<Alert> {
        let mut out = Vec::new();
        for key in self.changed.drain(..) {
            if let Some(group) = self.groups.get_mut(&key) {
                group.changed = false;
                out.extend(group.open.as_deref().cloned());
            }
        }
        out
    }

    /// Ends the input: every open alert.
    pub fn drain(&mut self) -> impl Iterator<Item = Alert> + '_ {
        self.groups.drain().filter_map(|(_, g)| g.open.map(|a| *a))
    }
}

/// The event a match came from, shared by every window that keeps it:
/// copied once, however many correlations it feeds.
pub(super) struct Shared<'e> {
    pub event: &'e Event,
    copy: Option<Arc<Event>>,
}

impl<'e> Shared<'e> {
    pub fn new(event: &'e Event) -> Shared<'e> {
        Shared { event, copy: None }
    }

    fn copy(&mut self) -> Arc<Event> {
        Arc::clone(
            self.copy
                .get_or_insert_with(|| Arc::new(self.event.clone())),
        )
    }
}

/// A match placed in its group.
pub(super) struct Placed<'v> {
    pub key: &'v str,
    pub member: usize,
    pub value: Option<&'v str>,
    pub time: Timestamp,
}

impl State {
    /// Takes a placed match; returns the group when an alert opened.
    pub fn observe(
        &mut self,
        running: &Running,
        placed: Placed<'_>,
        event: &mut Shared<'_>,
        limits: &Limits,
        closed: &mut Vec<Alert>,
    ) -> Option<Vec<(String, String)>> {
        let Placed {
            key,
            member,
            value,
            time,
        } = placed;
        self.newest = self.newest.max(Some(time));
        self.since_sweep += 1;
        if self.since_sweep >= self.sweep_after {
            self.since_sweep = 0;
            self.sweep(running.span, closed);
            self.sweep_after = limits.sweep_every.max(self.groups.len());
        }
        if !self.groups.contains_key(key) {
            if self.groups.len() >= limits.max_groups {
                self.evict(limits.max_groups / 10 + 1, closed);
            }
            let rule = &running.rule;
            let window = Window::new(rule.kind, running.members.len(), rule.percentile);
            self.groups.insert(
                key.into(),
                Group {
                    window,
                    open: None,
                    last_activity: time,
                    changed: false,
                },
            );
        }
        let group = self.groups.get_mut(key)?;
        let span = running.span;
        // A burst whose last match is a whole span old is over.
        if let Some(open) = &group.open {
            if open
                .last_seen
                .is_some_and(|l| time.duration_since(l) > span)
            {
                closed.extend(group.open.take().map(|a| *a));
            }
        }
        group.last_activity = group.last_activity.max(time);
        let keep = group.open.is_none() && group.window.kept_len() < limits.max_alert_events;
        let origin = Origin {
            path: Arc::clone(&event.event.origin.path),
            line: event.event.origin.line,
        };
        let kept = keep.then(|| event.copy());
        group.window.insert((time, member), value, origin, kept);
        group.window.expire(span, running.cap);
        let measured = group.window.measured();
        let holds = running.rule.threshold.holds(measured);
        match (&mut group.open, holds) {
            (Some(open), _) => {
                if limits.note_changes && !group.changed {
                    group.changed = true;
                    self.changed.push(key.into());
                }
                open.count += 1;
                open.last_seen = open.last_seen.max(Some(time));
                if open.events.len() < limits.max_alert_events {
                    open.events.push(event.event.to_json_raw());
                }
                None
            }
            (None, true) => {
                let (first, origin) = match group.window.first() {
                    Some((t, e)) => (t, e.origin.clone()),
                    None => (
                        time,
                        Origin {
                            path: Arc::clone(&event.event.origin.path),
                            line: event.event.origin.line,
                        },
                    ),
                };
                let events: Vec<Box<RawValue>> = group
                    .window
                    .take_kept()
                    .iter()
                    .map(|e| e.to_json_raw())
                    .collect();
                if !group.changed {
                    group.changed = true;
                    self.changed.push(key.into());
                }
                let key = decode(key);
                let matched = why(&running.rule, &key, measured, &group.window);
                group.open = Some(Box::new(open_alert(
                    &running.rule,
                    &key,
                    (first, time),
                    group.window.len() as u64,
                    (events, matched),
                    origin,
                )));
                Some(running.rule.group_by.iter().cloned().zip(key).collect())
            }
            (None, false) => None,
        }
    }
}

/// The alert of a burst that has just met its correlation's condition.
fn open_alert(
    rule: &CorrelationRule,
    key: &[String],
    (first, now): (Timestamp, Timestamp),
    count: u64,
    (events, matched): (Vec<Box<RawValue>>, Vec<Matched>),
    origin: Origin,
) -> Alert {
    let group: Vec<(String, String)> = rule
        .group_by
        .iter()
        .cloned()
        .zip(key.iter().cloned())
        .collect();
    let mut id_parts: Vec<&str> = vec![&rule.id];
    id_parts.extend(key.iter().map(String::as_str));
    let first_text = first.to_string();
    id_parts.push(&first_text);
    Alert {
        id: stable_id(&id_parts),
        rule_id: rule.id.clone(),
        title: rule.title.clone(),
        author: rule.author.clone(),
        references: rule.references.clone(),
        severity: rule.level,
        timestamp: Some(now),
        first_seen: Some(first),
        last_seen: Some(now),
        count,
        group,
        mitre: techniques(&rule.tags),
        tags: rule.tags.clone(),
        matched,
        events,
        origin,
    }
}

/// The most distinct values an alert lists for a `value_count`.
const MAX_LISTED_VALUES: usize = 20;

/// Why a burst met its condition: its group's values, what was measured
/// against the threshold, and for `value_count` the distinct values seen.
fn why(rule: &CorrelationRule, key: &[String], measured: f64, window: &Window) -> Vec<Matched> {
    let mut matched: Vec<Matched> = rule
        .group_by
        .iter()
        .zip(key)
        .map(|(field, value)| Matched {
            search: "group-by".into(),
            field: Some(field.clone()),
            value: Some(value.clone()),
        })
        .collect();
    let span = rule.timespan.as_secs();
    matched.push(Matched {
        search: format!(
            "{} of {} within {span} s",
            rule.kind.name(),
            rule.rules.join(", ")
        ),
        field: Some(rule.field.clone().unwrap_or_else(|| "count".into())),
        value: Some(format!("{measured} ({})", rule.threshold)),
    });
    if rule.kind == crate::correlation::Kind::ValueCount {
        let seen = window.distinct_values(MAX_LISTED_VALUES);
        // The measure of a value_count is its number of distinct values.
        let more = (measured as usize).saturating_sub(seen.len());
        let mut list = seen.join(", ");
        if more > 0 {
            list.push_str(&format!(" and {more} more"));
        }
        matched.push(Matched {
            search: "distinct values".into(),
            field: rule.field.clone(),
            value: Some(list),
        });
    }
    matched
}

impl State {
    /// Drops the groups whose last match is a whole span older than the
    /// newest event: nothing they hold can count again. Their open alerts
    /// are emitted.
    fn sweep(&mut self, span: jiff::SignedDuration, closed: &mut Vec<Alert>) {
        let Some(newest) = self.newest else {
            return;
        };
        let mut ended = Vec::new();
        self.groups.retain(|_, g| {
            let quiet = newest.duration_since(g.last_activity) > span;
            if quiet {
                ended.extend(g.open.take().map(|a| *a));
            }
            !quiet
        });
        // The map's order is arbitrary; the output's must not be.
        ended.sort_by(|a, b| a.first_seen.cmp(&b.first_seen).then(a.id.cmp(&b.id)));
        closed.append(&mut ended);
    }

    /// Drops the `n` least recently active groups (ties by group values).
    fn evict(&mut self, n: usize, closed: &mut Vec<Alert>) {
        let mut by_age: Vec<(Timestamp, &Box<str>)> = self
            .groups
            .iter()
            .map(|(k, g)| (g.last_activity, k))
            .collect();
        let n = n.min(by_age.len());
        if n < by_age.len() {
            by_age.select_nth_unstable(n);
        }
        by_age.truncate(n);
        by_age.sort();
        let oldest: Vec<Box<str>> = by_age.into_iter().map(|(_, k)| k.clone()).collect();
        for key in oldest {
            if let Some(group) = self.groups.remove(&key) {
                closed.extend(group.open.map(|a| *a));
            }
        }
    }
}
