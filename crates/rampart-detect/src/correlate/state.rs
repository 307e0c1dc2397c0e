//! The groups of one correlation in one partition: each group's window
//! and open alert, and the sweeping and eviction that keep their number
//! bounded.

use std::sync::Arc;

use rampart_event::{Event, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::plan::{decode, Running};
use super::window::{SavedWindow, Window};
use super::{HashMap, HashSet};
use crate::alert::{from_nanos, nanos, stable_id, techniques, Alert, Origin};
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
    /// Groups that changed or ended since `take_dirty`, when the state is
    /// saved between runs.
    dirty: Option<HashSet<Box<str>>>,
}

/// A state's counters as saved between runs: with its groups, they make
/// the next run sweep and evict as one uninterrupted run would.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(super) struct Counters {
    newest: Option<i128>,
    since_sweep: u64,
    sweep_after: u64,
}

/// A group as saved between runs.
#[derive(Serialize, Deserialize)]
struct SavedGroup {
    last_activity: i128,
    open: Option<Vec<u8>>,
    window: SavedWindow,
}

impl State {
    pub fn new(limits: &Limits) -> State {
        State {
            groups: HashMap::default(),
            newest: None,
            since_sweep: 0,
            sweep_after: limits.sweep_every,
            changed: Vec::new(),
            dirty: None,
        }
    }

    /// From now on, notes the groups that change or end, for `take_dirty`.
    pub fn track(&mut self) {
        self.dirty.get_or_insert_with(HashSet::default);
    }

    fn touch(&mut self, key: &str) {
        if let Some(dirty) = &mut self.dirty {
            if !dirty.contains(key) {
                dirty.insert(key.into());
            }
        }
    }

    /// The counters, to save.
    pub fn counters(&self) -> Counters {
        Counters {
            newest: self.newest.map(nanos),
            since_sweep: self.since_sweep as u64,
            sweep_after: self.sweep_after as u64,
        }
    }

    /// Puts back saved counters.
    pub fn set_counters(&mut self, c: &Counters) -> Result<(), String> {
        self.newest = c.newest.map(from_nanos).transpose()?;
        self.since_sweep = c.since_sweep as usize;
        self.sweep_after = c.sweep_after as usize;
        Ok(())
    }

    /// The groups that changed since the last call, each with its state as
    /// bytes, or none when it ended; in key order.
    pub fn take_dirty(&mut self) -> Vec<(Box<str>, Option<Vec<u8>>)> {
        let Some(dirty) = &mut self.dirty else {
            return Vec::new();
        };
        let mut keys: Vec<Box<str>> = dirty.drain().collect();
        keys.sort();
        keys.into_iter()
            .map(|key| {
                let saved = self.groups.get(&key).map(|g| {
                    let group = SavedGroup {
                        last_activity: nanos(g.last_activity),
                        open: g.open.as_ref().map(|a| a.to_bytes()),
                        window: g.window.save(),
                    };
                    // Plain data into a vector: cannot fail.
                    postcard::to_stdvec(&group).unwrap_or_default()
                });
                (key, saved)
            })
            .collect()
    }

    /// Puts back a group that `take_dirty` saved.
    pub fn restore(&mut self, running: &Running, key: &str, bytes: &[u8]) -> Result<(), String> {
        let saved: SavedGroup =
            postcard::from_bytes(bytes).map_err(|e| format!("saved group: {e}"))?;
        let rule = &running.rule;
        let window = Window::restore(
            rule.kind,
            running.members.len(),
            rule.percentile,
            saved.window,
        )?;
        let open = saved
            .open
            .map(|a| Alert::from_bytes(&a).map(Box::new))
            .transpose()?;
        self.groups.insert(
            key.into(),
            Group {
                window,
                open,
                last_activity: from_nanos(saved.last_activity)?,
                changed: false,
            },
        );
        Ok(())
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
        if let Some(dirty) = &mut self.dirty {
            dirty.extend(self.groups.keys().cloned());
        }
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
        self.touch(key);
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
                    .map(|k| k.to_json_raw())
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
        let dirty = &mut self.dirty;
        self.groups.retain(|key, g| {
            let quiet = newest.duration_since(g.last_activity) > span;
            if quiet {
                ended.extend(g.open.take().map(|a| *a));
                if let Some(dirty) = dirty {
                    dirty.insert(key.clone());
                }
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
            self.touch(&key);
            if let Some(group) = self.groups.remove(&key) {
                closed.extend(group.open.map(|a| *a));
            }
        }
    }
}
