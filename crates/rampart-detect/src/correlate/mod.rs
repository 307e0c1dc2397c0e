//! Correlation rules evaluated as events stream in.
//!
//! Each correlation keeps, per group (the `group-by` values), the recent
//! matches of its rules inside the time span. When the condition is first
//! met an alert opens; later matches while it stays met extend it (count,
//! last seen, a capped list of events); it is emitted when the group goes
//! quiet for a whole span, when the group is evicted, or at the end of the
//! input. So a burst of 10,000 failed logins is one alert, not 9,996.
//!
//! Each match costs O(log n) at most, however many matches its group's
//! window holds and in whatever order their times arrive: the window keeps
//! its measure up to date as matches enter and leave (see `measure`), and
//! groups that went quiet are swept at a rate that keeps sweeping O(1) per
//! match.
//!
//! Memory is bounded: a window keeps at most `max_window` matches (or the
//! threshold, if higher), and a correlation keeps at most `max_groups`
//! groups, evicting the least recently active first (their open alerts are
//! emitted, not lost).

mod measure;
mod window;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::Arc;

use rampart_event::{Event, Timestamp};
use serde_json::value::RawValue;

use crate::alert::{stable_id, techniques, Alert, Origin};
use crate::compile::{CompiledRule, Matched};
use crate::correlation::{CorrelationRule, Kind};
use crate::mapping::fields_of;
use crate::pattern::text_of;
use window::Window;

/// Maps keyed by what attackers write (group values, field values): a fast
/// hash with a seed of its own per map, so colliding keys cannot be chosen
/// ahead.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Limits that keep correlation state bounded.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Groups kept per correlation (default 100,000).
    pub max_groups: usize,
    /// Events kept in one alert (default 10).
    pub max_alert_events: usize,
    /// Matches kept per group window, whatever the condition (default 10,000).
    pub max_window: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_groups: 100_000,
            max_alert_events: 10,
            max_window: 10_000,
        }
    }
}

/// One member of a correlation: a detection rule, with the event fields
/// its group values come from, or another correlation (a chain), with the
/// names of its group fields that give this one's group values.
#[derive(Debug, Clone)]
enum Member {
    Rule {
        group_fields: Vec<Vec<String>>,
        value_fields: Vec<String>,
    },
    Chain {
        group_names: Vec<String>,
    },
}

#[derive(Debug)]
struct Group {
    window: Window,
    open: Option<Box<Alert>>,
    last_activity: Timestamp,
}

/// What a detection rule does for the correlations.
#[derive(Debug, Clone, Default)]
pub struct RuleRoles {
    feeding: HashSet<usize>,
    quiet: HashSet<usize>,
}

impl RuleRoles {
    /// Whether the rule's matches feed a correlation.
    pub fn feeds(&self, rule: usize) -> bool {
        self.feeding.contains(&rule)
    }

    /// Whether the rule alerts only through its correlations.
    pub fn is_quiet(&self, rule: usize) -> bool {
        self.quiet.contains(&rule)
    }
}

/// A correlation rule ready to run.
#[derive(Debug)]
struct Running {
    rule: Arc<CorrelationRule>,
    members: Vec<Member>,
    /// Groups by their encoded values (see `encode_part`).
    groups: HashMap<Box<str>, Group>,
    /// Where a match's group key is encoded, to look it up without allocating.
    scratch: String,
    span: jiff::SignedDuration,
    /// The most matches a window keeps.
    cap: usize,
    /// The latest event time seen, and matches since the last sweep of
    /// groups that have gone quiet for a whole span.
    newest: Option<Timestamp>,
    since_sweep: usize,
    /// Matches until the next sweep: as many as the groups the last sweep
    /// kept, so that memory stays within twice the live groups.
    sweep_after: usize,
}

/// Matches between sweeps of quiet groups, at least (and at least as many
/// as there are groups, so a sweep costs O(1) per match).
const SWEEP_EVERY: usize = 4096;

/// All correlations of a run.
#[derive(Debug, Default)]
pub struct Correlator {
    running: Vec<Running>,
    /// For each detection rule index, the (correlation, member) pairs it feeds.
    feeds: HashMap<usize, Vec<(usize, usize)>>,
    /// Detection rules that alert only through a correlation (`generate: false`).
    quiet: HashSet<usize>,
    /// For each correlation, the (correlation, member) pairs its firing feeds.
    chain_feeds: HashMap<usize, Vec<(usize, usize)>>,
    /// Correlations that alert only through the correlation they feed.
    quiet_chained: HashSet<usize>,
    limits: Limits,
}

/// How a member of a correlation is named, once resolved.
enum Resolved {
    Rule(usize),
    Correlation(usize),
}

impl Correlator {
    /// Resolves each correlation's rules among `rules`; a correlation that
    /// names an unknown rule is returned as an error with the reason.
    pub fn new(
        correlations: Vec<CorrelationRule>,
        rules: &[CompiledRule],
        limits: Limits,
    ) -> (Correlator, Vec<(CorrelationRule, String)>) {
        let mut c = Correlator {
            limits,
            ..Correlator::default()
        };
        let mut failed = Vec::new();
        let find_rule = |name: &str| {
            rules
                .iter()
                .position(|r| r.rule.id == name || r.rule.name.as_deref() == Some(name))
        };
        let find_correlation = |name: &str| {
            correlations
                .iter()
                .position(|c| c.id == name || c.name.as_deref() == Some(name))
        };
        // Resolve every member by name; a correlation naming nothing loaded fails.
        let mut resolved: Vec<Result<Vec<Resolved>, String>> = correlations
            .iter()
            .map(|corr| {
                corr.rules
                    .iter()
                    .map(|name| match (find_rule(name), find_correlation(name)) {
                        (Some(r), _) => Ok(Resolved::Rule(r)),
                        (None, Some(c)) => Ok(Resolved::Correlation(c)),
                        (None, None) => Err(format!("names rule '{name}', which is not loaded")),
                    })
                    .collect()
            })
            .collect();
        // A chain fails when what it feeds on fails or loops back to itself.
        loop {
            let mut changed = false;
            for i in 0..resolved.len() {
                let Ok(members) = &resolved[i] else { continue };
                let broken = members.iter().find_map(|m| match m {
                    Resolved::Correlation(j) if *j == i || loops(&resolved, *j, i) => {
                        Some("correlation chain loops back to itself".to_owned())
                    }
                    Resolved::Correlation(j) if resolved[*j].is_err() => Some(format!(
                        "names correlation '{}', which cannot run",
                        correlations[*j].id
                    )),
                    _ => None,
                });
                if let Some(reason) = broken {
                    resolved[i] = Err(reason);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let mut index_of: HashMap<usize, usize> = HashMap::default();
        let mut order = 0;
        for (i, r) in resolved.iter().enumerate() {
            if r.is_ok() {
                index_of.insert(i, order);
                order += 1;
            }
        }
        for (i, (corr, members)) in correlations.into_iter().zip(resolved).enumerate() {
            let members = match members {
                Ok(m) => m,
                Err(reason) => {
                    failed.push((corr, reason));
                    continue;
                }
            };
            let at = index_of[&i];
            let alias_field = |g: &String, id: &str, name: Option<&str>| {
                corr.aliases
                    .iter()
                    .find(|a| &a.name == g)
                    .and_then(|a| {
                        a.fields
                            .iter()
                            .find(|(r, _)| r == id || Some(r.as_str()) == name)
                            .map(|(_, f)| f.clone())
                    })
                    .unwrap_or_else(|| g.clone())
            };
            let mut built = Vec::new();
            for (m, member) in members.iter().enumerate() {
                match member {
                    Resolved::Rule(index) => {
                        let rule = &rules[*index].rule;
                        let ls = &rule.logsource;
                        let group_fields = corr
                            .group_by
                            .iter()
                            .map(|g| fields_of(ls, &alias_field(g, &rule.id, rule.name.as_deref())))
                            .collect();
                        let value_fields = corr
                            .field
                            .as_deref()
                            .map(|f| fields_of(ls, f))
                            .unwrap_or_default();
                        built.push(Member::Rule {
                            group_fields,
                            value_fields,
                        });
                        c.feeds.entry(*index).or_default().push((at, m));
                        if !corr.generate {
                            c.quiet.insert(*index);
                        }
                    }
                    Resolved::Correlation(j) => {
                        let upstream = index_of[j];
                        built.push(Member::Chain {
                            group_names: corr
                                .group_by
                                .iter()
                                .map(|g| alias_field(g, "", None))
                                .collect(),
                        });
                        c.chain_feeds.entry(upstream).or_default().push((at, m));
                        if !corr.generate {
                            c.quiet_chained.insert(upstream);
                        }
                    }
                }
            }
            let span =
                jiff::SignedDuration::try_from(corr.timespan).unwrap_or(jiff::SignedDuration::MAX);
            // A window must be able to hold the matches a count threshold
            // asks for (a value threshold says nothing of how many).
            let counts = matches!(corr.kind, Kind::EventCount | Kind::ValueCount);
            let needed = match corr.threshold.minimum() {
                Some(m) if counts => m.clamp(0.0, 1e9) as usize,
                _ => 0,
            };
            let cap = c.limits.max_window.max(needed);
            c.running.push(Running {
                cap,
                rule: Arc::new(corr),
                members: built,
                groups: HashMap::default(),
                scratch: String::new(),
                span,
                newest: None,
                since_sweep: 0,
                sweep_after: SWEEP_EVERY,
            });
        }
        (c, failed)
    }

    /// The correlation rules that run.
    pub fn rules(&self) -> Vec<&CorrelationRule> {
        self.running.iter().map(|r| r.rule.as_ref()).collect()
    }

    /// How many correlations run.
    pub fn len(&self) -> usize {
        self.running.len()
    }

    /// Whether none run.
    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// Which detection rules feed correlations, and which of those alert
    /// only through them: what the threads evaluating rules need to know.
    pub fn roles(&self) -> RuleRoles {
        RuleRoles {
            feeding: self.feeds.keys().copied().collect(),
            quiet: self.quiet.clone(),
        }
    }

    /// Records that detection rule `rule` matched `event`; returns alerts of
    /// bursts that closed.
    pub fn observe(&mut self, rule: usize, event: &Event) -> Vec<Alert> {
        let mut closed = Vec::new();
        let Some(time) = event.timestamp else {
            return closed;
        };
        let Some(feeds) = self.feeds.get(&rule) else {
            return closed;
        };
        let mut event = Shared::new(event);
        // Correlations that fire feed the chains built on them, level by level.
        let mut fired: Vec<(usize, Vec<(String, String)>)> = Vec::new();
        for &(at, member) in feeds {
            if let Some(group) =
                self.running[at].observe(member, time, &mut event, &self.limits, &mut closed)
            {
                fired.push((at, group));
            }
        }
        while let Some((up, group)) = fired.pop() {
            let Some(chained) = self.chain_feeds.get(&up) else {
                continue;
            };
            for &(at, member) in chained {
                let Member::Chain { group_names } = &self.running[at].members[member] else {
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
                    member,
                    value: None,
                    time,
                };
                let running = &mut self.running[at];
                running.scratch = key;
                if let Some(g) = running.observe_key(placed, &mut event, &self.limits, &mut closed)
                {
                    fired.push((at, g));
                }
            }
        }
        self.drop_quiet(closed)
    }

    /// Ends the input: every open alert is emitted.
    pub fn finish(&mut self) -> Vec<Alert> {
        let mut out = Vec::new();
        for running in &mut self.running {
            for (_, group) in running.groups.drain() {
                out.extend(group.open.map(|a| *a));
            }
        }
        out.sort_by(|a, b| a.first_seen.cmp(&b.first_seen).then(a.id.cmp(&b.id)));
        self.drop_quiet(out)
    }

    /// Leaves out the alerts of correlations that only feed a chain.
    fn drop_quiet(&self, alerts: Vec<Alert>) -> Vec<Alert> {
        if self.quiet_chained.is_empty() {
            return alerts;
        }
        let quiet: HashSet<&str> = self
            .quiet_chained
            .iter()
            .map(|i| self.running[*i].rule.id.as_str())
            .collect();
        alerts
            .into_iter()
            .filter(|a| !quiet.contains(a.rule_id.as_str()))
            .collect()
    }
}

/// Whether correlation `from` reaches `target` through the correlations it names.
fn loops(resolved: &[Result<Vec<Resolved>, String>], from: usize, target: usize) -> bool {
    let mut stack = vec![from];
    let mut seen = HashSet::new();
    while let Some(i) = stack.pop() {
        if !seen.insert(i) {
            continue;
        }
        let Some(Ok(members)) = resolved.get(i) else {
            continue;
        };
        for m in members {
            if let Resolved::Correlation(j) = m {
                if *j == target {
                    return true;
                }
                stack.push(*j);
            }
        }
    }
    false
}

/// The first non-empty text of the fields `names` (a Windows EventData
/// name also under its spelling with spaces, as the event view answers).
fn text_field<'e>(event: &'e Event, names: &[String]) -> Option<std::borrow::Cow<'e, str>> {
    names
        .iter()
        .find_map(|n| {
            event
                .get(n)
                .or_else(|| crate::view::spaced_event_data(event, n))
        })
        .map(text_of)
        .filter(|s| !s.is_empty())
}

/// Appends one group value to an encoded key: its length, a colon, then
/// the value, so that no two lists of values encode alike whatever they hold.
fn encode_part(key: &mut String, value: &str) {
    let _ = write!(key, "{}:", value.len());
    key.push_str(value);
}

/// The group values an encoded key holds.
fn decode(mut key: &str) -> Vec<String> {
    let mut parts = Vec::new();
    while let Some((len, rest)) = key.split_once(':') {
        let Some(value) = len.parse().ok().and_then(|n: usize| rest.get(..n)) else {
            break;
        };
        parts.push(value.to_owned());
        key = &rest[value.len()..];
    }
    parts
}

/// The event a match came from, shared by every window that keeps it:
/// copied once, however many correlations it feeds.
struct Shared<'e> {
    event: &'e Event,
    copy: Option<Arc<Event>>,
}

impl<'e> Shared<'e> {
    fn new(event: &'e Event) -> Shared<'e> {
        Shared { event, copy: None }
    }

    fn copy(&mut self) -> Arc<Event> {
        Arc::clone(
            self.copy
                .get_or_insert_with(|| Arc::new(self.event.clone())),
        )
    }
}

/// A match placed in its group (whose key is in `Running::scratch`).
struct Placed<'v> {
    member: usize,
    value: Option<std::borrow::Cow<'v, str>>,
    time: Timestamp,
}

impl Running {
    /// Takes a match of a detection-rule member; returns the group when
    /// this correlation's condition is met for it now (an alert opened).
    fn observe(
        &mut self,
        member: usize,
        time: Timestamp,
        event: &mut Shared<'_>,
        limits: &Limits,
        closed: &mut Vec<Alert>,
    ) -> Option<Vec<(String, String)>> {
        let Member::Rule {
            group_fields,
            value_fields,
        } = &self.members[member]
        else {
            return None;
        };
        self.scratch.clear();
        for fields in group_fields {
            // An event without the grouping field cannot be placed.
            encode_part(&mut self.scratch, &text_field(event.event, fields)?);
        }
        let value = if value_fields.is_empty() {
            None
        } else {
            Some(text_field(event.event, value_fields)?)
        };
        let placed = Placed {
            member,
            value,
            time,
        };
        self.observe_key(placed, event, limits, closed)
    }

    /// Takes a placed match; returns the group when an alert opened.
    fn observe_key(
        &mut self,
        placed: Placed<'_>,
        event: &mut Shared<'_>,
        limits: &Limits,
        closed: &mut Vec<Alert>,
    ) -> Option<Vec<(String, String)>> {
        let Placed {
            member,
            value,
            time,
        } = placed;
        self.newest = self.newest.max(Some(time));
        self.since_sweep += 1;
        if self.since_sweep >= self.sweep_after {
            self.since_sweep = 0;
            self.sweep(closed);
            self.sweep_after = SWEEP_EVERY.max(self.groups.len());
        }
        if !self.groups.contains_key(self.scratch.as_str()) {
            if self.groups.len() >= limits.max_groups {
                self.evict(limits.max_groups / 10 + 1, closed);
            }
            let window = Window::new(self.rule.kind, self.members.len(), self.rule.percentile);
            self.groups.insert(
                self.scratch.as_str().into(),
                Group {
                    window,
                    open: None,
                    last_activity: time,
                },
            );
        }
        let group = self.groups.get_mut(self.scratch.as_str())?;
        let span = self.span;
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
        group
            .window
            .insert((time, member), value.as_deref(), origin, kept);
        group.window.expire(span, self.cap);
        let measured = group.window.measured();
        let holds = self.rule.threshold.holds(measured);
        match (&mut group.open, holds) {
            (Some(open), _) => {
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
                let key = decode(&self.scratch);
                let matched = why(&self.rule, &key, measured, &group.window);
                group.open = Some(Box::new(open_alert(
                    &self.rule,
                    &key,
                    (first, time),
                    group.window.len() as u64,
                    (events, matched),
                    origin,
                )));
                Some(self.rule.group_by.iter().cloned().zip(key).collect())
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

impl Running {
    /// Drops the groups whose last match is a whole span older than the
    /// newest event: nothing they hold can count again. Their open alerts
    /// are emitted.
    fn sweep(&mut self, closed: &mut Vec<Alert>) {
        let (Some(newest), span) = (self.newest, self.span) else {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::CompileOptions;
    use crate::engine::RuleSet;
    use crate::load::load_text;
    use rampart_event::Origin as EventOrigin;

    const RULES: &str = r#"
title: Failed SSH password
id: ssh-failed
name: ssh_failed
logsource: {product: linux, service: sshd}
detection:
  selection: {event.action: ssh-login, event.outcome: failure}
  condition: selection
---
title: SSH brute force
id: brute
correlation:
  type: event_count
  rules: [ssh_failed]
  group-by: [source.ip]
  timespan: 5m
  condition: {gte: 5}
level: high
---
title: Password spray
id: spray
correlation:
  type: value_count
  rules: [ssh-failed]
  group-by: [source.ip]
  timespan: 5m
  condition: {field: user.name, gte: 3}
level: high
"#;

    fn failed(ip: &str, user: &str, secs: i64, line: u64) -> Event {
        let mut e = Event::new(EventOrigin::new("auth.log", line), "x");
        e.timestamp = Some(Timestamp::from_second(1_700_000_000 + secs).unwrap());
        e.set("event.dataset", "linux.auth");
        e.set("process.name", "sshd");
        e.set("event.action", "ssh-login");
        e.set("event.outcome", "failure");
        e.set("source.ip", ip);
        e.set("user.name", user);
        e
    }

    fn run(events: &[Event]) -> Vec<Alert> {
        let mut set = RuleSet::build(load_text(RULES, "r.yml".into()), &CompileOptions::default());
        let mut c = set.correlator(Limits::default());
        assert!(set.skipped.is_empty(), "{:?}", set.skipped);
        assert_eq!(c.len(), 2);
        assert!(
            c.roles().is_quiet(0),
            "member rules do not alert alone by default"
        );
        let mut alerts = Vec::new();
        for e in events {
            for hit in set.matches(e) {
                alerts.extend(c.observe(hit.index, e));
            }
        }
        alerts.extend(c.finish());
        alerts
    }

    #[test]
    fn one_alert_per_burst_with_its_count() {
        // 12 failures in 2 minutes, a quiet hour, then 6 more: two bursts.
        let mut events: Vec<Event> = (0..12)
            .map(|i| failed("203.0.113.7", "root", i * 10, i as u64 + 1))
            .collect();
        events.extend((0..6).map(|i| failed("203.0.113.7", "root", 3600 + i * 10, 100 + i as u64)));
        // Four failures from another address never reach the threshold.
        events.extend((0..4).map(|i| failed("198.51.100.1", "root", i, 200 + i as u64)));
        let alerts: Vec<_> = run(&events)
            .into_iter()
            .filter(|a| a.rule_id == "brute")
            .collect();
        assert_eq!(alerts.len(), 2);
        assert_eq!(alerts[0].count, 12);
        assert_eq!(alerts[1].count, 6);
        assert_eq!(
            alerts[0].group,
            [("source.ip".to_owned(), "203.0.113.7".to_owned())]
        );
        assert_eq!(alerts[0].events.len(), 10, "events are capped");
        assert_eq!(alerts[0].first_seen, events[0].timestamp);
    }

    #[test]
    fn slow_attempts_outside_the_span_do_not_fire() {
        let events: Vec<Event> = (0..10)
            .map(|i| failed("203.0.113.7", "root", i * 100, i as u64))
            .collect();
        assert!(run(&events).iter().all(|a| a.rule_id != "brute"));
    }

    #[test]
    fn groups_that_went_quiet_are_swept_so_memory_stays_flat() {
        let mut set = RuleSet::build(load_text(RULES, "r.yml".into()), &CompileOptions::default());
        let mut c = set.correlator(Limits::default());
        // 50,000 addresses, one failure each, a second apart: none can
        // reach the threshold, and none needs to be kept past five minutes.
        for i in 0..50_000u32 {
            let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
            let e = failed(&ip, "root", i64::from(i), u64::from(i));
            for hit in set.matches(&e) {
                assert!(c.observe(hit.index, &e).is_empty());
            }
        }
        let kept = c.running.iter().map(|r| r.groups.len()).max().unwrap();
        assert!(kept <= 300 + SWEEP_EVERY, "{kept} groups kept");
    }

    #[test]
    fn value_count_counts_distinct_users() {
        let users = ["root", "admin", "root", "oracle"];
        let events: Vec<Event> = users
            .iter()
            .enumerate()
            .map(|(i, u)| failed("192.0.2.9", u, i as i64, i as u64))
            .collect();
        let spray: Vec<_> = run(&events)
            .into_iter()
            .filter(|a| a.rule_id == "spray")
            .collect();
        assert_eq!(spray.len(), 1);
        assert_eq!(
            spray[0].count, 4,
            "the third distinct user arrives with the fourth event"
        );
        // Why it fired: the group, the measure against the threshold, and
        // the distinct values.
        let why: Vec<(String, String)> = spray[0]
            .matched
            .iter()
            .map(|m| (m.search.clone(), m.value.clone().unwrap_or_default()))
            .collect();
        assert_eq!(why[0], ("group-by".into(), "192.0.2.9".into()));
        assert!(why[1].0.starts_with("value_count of "), "{why:?}");
        assert_eq!(why[1].1, "3 (gte 3)");
        assert_eq!(
            why[2],
            ("distinct values".into(), "root, admin, oracle".into())
        );
    }

    const CHAIN: &str = r#"
title: Failed SSH password
id: failed
logsource: {product: linux, service: sshd}
detection:
  selection: {event.action: ssh-login, event.outcome: failure}
  condition: selection
---
title: Accepted SSH login
id: accepted
logsource: {product: linux, service: sshd}
detection:
  selection: {event.action: ssh-login, event.outcome: success}
  condition: selection
---
title: Brute force
id: brute
name: brute
correlation:
  type: event_count
  rules: [failed]
  group-by: [source.ip]
  timespan: 5m
  condition: {gte: 5}
level: high
---
title: Brute force then a login
id: brute-then-login
correlation:
  type: temporal_ordered
  rules: [brute, accepted]
  group-by: [source.ip]
  timespan: 10m
  generate: true
level: critical
"#;

    #[test]
    fn chained_correlations_fire_on_their_upstream() {
        let mut set = RuleSet::build(load_text(CHAIN, "c.yml".into()), &CompileOptions::default());
        let mut c = set.correlator(Limits::default());
        assert!(set.skipped.is_empty(), "{:?}", set.skipped);
        let mut events: Vec<Event> = (0..6)
            .map(|i| failed("203.0.113.7", "root", i * 10, i as u64))
            .collect();
        let mut ok = failed("203.0.113.7", "root", 120, 50);
        ok.insert("event.outcome", "success");
        events.push(ok);
        // A login from an address that never brute-forced is no chain.
        let mut other = failed("198.51.100.2", "root", 130, 60);
        other.insert("event.outcome", "success");
        events.push(other);
        let mut alerts = Vec::new();
        for e in &events {
            for hit in set.matches(e) {
                alerts.extend(c.observe(hit.index, e));
            }
        }
        alerts.extend(c.finish());
        let ids: Vec<&str> = alerts.iter().map(|a| a.rule_id.as_str()).collect();
        assert_eq!(
            ids.iter().filter(|i| **i == "brute-then-login").count(),
            1,
            "{ids:?}"
        );
        assert!(
            ids.contains(&"brute"),
            "generate: true keeps the upstream's own alert"
        );
        let chained = alerts
            .iter()
            .find(|a| a.rule_id == "brute-then-login")
            .unwrap();
        assert_eq!(
            chained.group,
            [("source.ip".to_owned(), "203.0.113.7".to_owned())]
        );
    }

    #[test]
    fn chains_that_loop_are_refused() {
        let text = "title: a\nid: a\ncorrelation:\n  type: temporal\n  rules: [b]\n  group-by: [x]\n  timespan: 5m\n---\ntitle: b\nid: b\ncorrelation:\n  type: temporal\n  rules: [a]\n  group-by: [x]\n  timespan: 5m\n";
        let mut set = RuleSet::build(load_text(text, "c.yml".into()), &CompileOptions::default());
        let c = set.correlator(Limits::default());
        assert!(c.is_empty());
        assert_eq!(set.skipped.len(), 2);
        assert!(set.skipped[0].reason.contains("loops"), "{:?}", set.skipped);
    }

    #[test]
    fn group_keys_decode_to_the_values_they_encode() {
        // Values holding the separator, digits, nothing, or other text.
        let lists: [&[&str]; 4] = [&["a:b", "1:c"], &["a", ":b1:c"], &["", "12:"], &["€", ""]];
        let mut seen = HashSet::new();
        for list in lists {
            let mut key = String::new();
            for v in list {
                encode_part(&mut key, v);
            }
            assert_eq!(decode(&key), list, "{key}");
            assert!(seen.insert(key), "two lists encode alike");
        }
    }

    #[test]
    fn only_count_thresholds_widen_a_window() {
        let text = "title: f\nid: f\nlogsource: {product: linux, service: sshd}\ndetection: {s: {event.action: x}, condition: s}\n---\ntitle: many\nid: many\ncorrelation: {type: event_count, rules: [f], group-by: [source.ip], timespan: 1h, condition: {gte: 50000}}\n---\ntitle: bytes\nid: bytes\ncorrelation: {type: value_sum, rules: [f], group-by: [source.ip], timespan: 1h, condition: {field: source.bytes, gte: 1000000000}}\n";
        let mut set = RuleSet::build(load_text(text, "c.yml".into()), &CompileOptions::default());
        let c = set.correlator(Limits::default());
        let caps: Vec<usize> = c.running.iter().map(|r| r.cap).collect();
        assert_eq!(caps, [50_000, Limits::default().max_window]);
    }

    #[test]
    fn a_windows_group_field_is_found_under_its_spelling_with_spaces() {
        let mut e = Event::new(EventOrigin::new("d.evtx", 1), "x");
        e.set("winlog.event_data.Threat Name", "HackTool:Win32/Mimikatz");
        let names = ["winlog.event_data.ThreatName".to_owned()];
        assert_eq!(
            text_field(&e, &names).as_deref(),
            Some("HackTool:Win32/Mimikatz")
        );
    }
}
