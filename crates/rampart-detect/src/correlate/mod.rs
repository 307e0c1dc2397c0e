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
//! No one thread holds every group: the threads that evaluate rules place
//! each match in its group (`place`), and each correlation's groups are
//! spread over a fixed number of partitions by a hash of their values, the
//! partitions of a batch worked on in parallel (`parts`). The partitions
//! are the same whatever the number of threads, and alerts are handed on
//! in the order of the matches that raised them, so any number of threads
//! gives the alerts of one, in the same order. A correlation fed by
//! another (a chain) keeps its groups in one place, after the partitions.
//!
//! Memory is bounded: a window keeps at most `max_window` matches (or the
//! threshold, if higher), and a correlation keeps at most `max_groups`
//! groups, evicting the least recently active of a partition first (their
//! open alerts are emitted, not lost).

mod measure;
mod parts;
mod place;
mod plan;
mod resume;
mod state;
mod window;

use std::sync::Arc;

use rampart_event::Event;

use crate::alert::Alert;
use crate::compile::CompiledRule;
use crate::correlation::CorrelationRule;
pub use place::{Carried, Placements, PARTITIONS};
use plan::Plan;
use state::State;

/// Maps keyed by what attackers write (group values, field values): a fast
/// hash with a seed of its own per map, so colliding keys cannot be chosen
/// ahead.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// Limits that keep correlation state bounded.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Groups kept per correlation (default 100,000), spread evenly over
    /// its partitions.
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

/// A correlator of `plan` holding no state.
fn empty(plan: Arc<Plan>, part_limits: state::Limits, serial_limits: state::Limits) -> Correlator {
    let states = |limits: &state::Limits| -> Vec<State> {
        plan.running.iter().map(|_| State::new(limits)).collect()
    };
    Correlator {
        parts: (0..PARTITIONS).map(|_| states(&part_limits)).collect(),
        serial: states(&serial_limits),
        plan,
        part_limits,
        serial_limits,
        reset: Vec::new(),
    }
}

/// Matches of one correlation between sweeps of its quiet groups, at least.
const SWEEP_EVERY: usize = 4096;

/// What a detection rule does for the correlations, and where its matches
/// go: what the threads evaluating rules need to know.
#[derive(Debug, Clone, Default)]
pub struct RuleRoles {
    plan: Arc<Plan>,
}

impl RuleRoles {
    /// Whether the rule's matches feed a correlation.
    pub fn feeds(&self, rule: usize) -> bool {
        self.plan.feeds.contains_key(&rule)
    }

    /// Whether the rule alerts only through its correlations.
    pub fn is_quiet(&self, rule: usize) -> bool {
        self.plan.quiet.contains(&rule)
    }

    /// Places the match of detection rule `rule` on `event` (the `at`-th
    /// of its batch) in the groups of the correlations it feeds.
    pub fn place(&self, rule: usize, at: usize, event: &Event, out: &mut Placements) {
        out.place(&self.plan, rule, at, event);
    }
}

/// All correlations of a run, and their groups.
#[derive(Debug)]
pub struct Correlator {
    plan: Arc<Plan>,
    /// Each partition's state of every correlation (those kept in one
    /// place have theirs in `serial`).
    parts: Vec<Vec<State>>,
    serial: Vec<State>,
    part_limits: state::Limits,
    serial_limits: state::Limits,
    /// Correlations whose saved groups the next save drops (see `resume`).
    reset: Vec<String>,
}

impl Correlator {
    /// Resolves each correlation's rules among `rules`; a correlation that
    /// names an unknown rule is returned as an error with the reason.
    pub fn new(
        correlations: Vec<CorrelationRule>,
        rules: &[CompiledRule],
        limits: Limits,
    ) -> (Correlator, Vec<(CorrelationRule, String)>) {
        let (plan, failed) = Plan::new(correlations, rules, &limits);
        let serial_limits = state::Limits {
            max_groups: limits.max_groups.max(1),
            max_alert_events: limits.max_alert_events,
            sweep_every: SWEEP_EVERY,
            note_changes: false,
        };
        let part_limits = state::Limits {
            max_groups: limits.max_groups.div_ceil(PARTITIONS).max(1),
            sweep_every: SWEEP_EVERY / PARTITIONS,
            ..serial_limits
        };
        (empty(Arc::new(plan), part_limits, serial_limits), failed)
    }

    /// A correlator of the same rules holding no state: what a worker of
    /// a cluster keeps for each partition it owns.
    pub fn fresh(&self) -> Correlator {
        empty(Arc::clone(&self.plan), self.part_limits, self.serial_limits)
    }

    /// Whether a placement that travelled here names a correlation and
    /// member of these rules (a worker with other rules sent it otherwise).
    pub fn accepts(&self, c: &Carried) -> bool {
        self.plan
            .running
            .get(c.running as usize)
            .is_some_and(|r| (c.member as usize) < r.members.len())
            && self
                .plan
                .feeds
                .get(&(c.rule as usize))
                .is_some_and(|f| f.contains(&(c.running as usize, c.member as usize)))
            && c.partition as usize <= PARTITIONS
    }

    /// The correlation rules that run.
    pub fn rules(&self) -> Vec<&CorrelationRule> {
        self.plan.running.iter().map(|r| r.rule.as_ref()).collect()
    }

    /// How many correlations run.
    pub fn len(&self) -> usize {
        self.plan.running.len()
    }

    /// Whether none run.
    pub fn is_empty(&self) -> bool {
        self.plan.running.is_empty()
    }

    /// Which detection rules feed correlations, which of those alert only
    /// through them, and where their matches go.
    pub fn roles(&self) -> RuleRoles {
        RuleRoles {
            plan: Arc::clone(&self.plan),
        }
    }

    /// Records that detection rule `rule` matched `event`; returns alerts of
    /// bursts that closed or opened.
    pub fn observe(&mut self, rule: usize, event: &Event) -> Vec<Alert> {
        let mut placed = Placements::default();
        placed.place(&self.plan, rule, 0, event);
        self.observe_batch(std::slice::from_ref(event), &placed, None)
    }

    /// From now on, notes the open alerts that open or grow, for
    /// [`Correlator::open_changed`].
    pub fn note_open_changes(&mut self) {
        self.part_limits.note_changes = true;
        self.serial_limits.note_changes = true;
    }

    /// The open alerts (bursts still going on) that opened or grew since
    /// the last call, as they stand now, for a store to show before they
    /// close; in order of first seen, then id. Only noted after
    /// [`Correlator::note_open_changes`].
    pub fn open_changed(&mut self) -> Vec<Alert> {
        let mut out = Vec::new();
        for states in self.parts.iter_mut().chain([&mut self.serial]) {
            for state in states {
                out.extend(state.take_changed());
            }
        }
        out.sort_by(|a, b| a.first_seen.cmp(&b.first_seen).then(a.id.cmp(&b.id)));
        self.drop_quiet(out)
    }

    /// Ends the input: every open alert is emitted.
    pub fn finish(&mut self) -> Vec<Alert> {
        let mut out = Vec::new();
        for states in self.parts.iter_mut().chain([&mut self.serial]) {
            for state in states {
                out.extend(state.drain());
            }
        }
        out.sort_by(|a, b| a.first_seen.cmp(&b.first_seen).then(a.id.cmp(&b.id)));
        self.drop_quiet(out)
    }

    /// Leaves out the alerts of correlations that only feed a chain.
    fn drop_quiet(&self, mut alerts: Vec<Alert>) -> Vec<Alert> {
        if !self.plan.quiet_ids.is_empty() {
            alerts.retain(|a| !self.plan.quiet_ids.contains(&a.rule_id));
        }
        alerts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::CompileOptions;
    use crate::engine::RuleSet;
    use crate::load::load_text;
    use rampart_event::{Origin as EventOrigin, Timestamp};
    use std::collections::HashSet;

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
        let kept: usize = c.parts.iter().map(|p| p[0].groups()).sum();
        assert!(kept <= 300 + 2 * SWEEP_EVERY, "{kept} groups kept");
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
    fn partitions_worked_in_parallel_give_the_alerts_of_one_thread_in_its_order() {
        let mut set = RuleSet::build(load_text(CHAIN, "c.yml".into()), &CompileOptions::default());
        assert!(set.skipped.is_empty(), "{:?}", set.skipped);
        // 400 addresses failing every ten seconds, now and then logging
        // in, in three bursts an hour apart, times jittered backwards:
        // bursts that open and close in mid-batch, chains that fire.
        let mut events = Vec::new();
        for i in 0..18_000u32 {
            let ip = format!("10.0.{}.{}", i % 400 / 256, i % 400 % 256);
            let secs = i64::from(i / 6000 * 3600 + i % 6000 / 40) - i64::from(i % 7);
            let mut e = failed(&ip, "root", secs, u64::from(i));
            if i % 11 == 0 {
                e.insert("event.outcome", "success");
            }
            events.push(e);
        }
        let hits: Vec<Vec<usize>> = events
            .iter()
            .map(|e| set.matches(e).iter().map(|h| h.index).collect())
            .collect();
        let mut one = set.correlator(Limits::default());
        let mut alone = Vec::new();
        for (e, hits) in events.iter().zip(&hits) {
            for &rule in hits {
                alone.extend(one.observe(rule, e));
            }
        }
        let closed_early = alone.len();
        alone.extend(one.finish());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let mut again =
            RuleSet::build(load_text(CHAIN, "c.yml".into()), &CompileOptions::default());
        let mut many = again.correlator(Limits::default());
        let roles = many.roles();
        let mut together = Vec::new();
        for (batch, hits) in events.chunks(700).zip(hits.chunks(700)) {
            let mut placed = Placements::default();
            for (at, (e, hits)) in batch.iter().zip(hits).enumerate() {
                for &rule in hits {
                    roles.place(rule, at, e, &mut placed);
                }
            }
            assert!(
                placed.len() >= 256,
                "{} placed: too few for the pool",
                placed.len()
            );
            together.extend(many.observe_batch(batch, &placed, Some(&pool)));
        }
        together.extend(many.finish());
        let key = |a: &Alert| (a.id.clone(), a.rule_id.clone(), a.count, a.events.len());
        let alone: Vec<_> = alone.iter().map(key).collect();
        let together: Vec<_> = together.iter().map(key).collect();
        assert!(alone.iter().any(|a| a.1 == "brute-then-login"), "{alone:?}");
        assert!(closed_early > 800, "{closed_early} alerts closed mid-run");
        assert_eq!(alone, together);
    }

    /// CHAIN, with a spray (distinct users) and a sum of bytes beside it.
    fn resumable_rules() -> String {
        format!(
            "{CHAIN}---
title: Spray
id: spray
correlation:
  type: value_count
  rules: [failed]
  group-by: [source.ip]
  timespan: 5m
  condition: {{field: user.name, gte: 3}}
level: high
---
title: Bytes
id: bytes
correlation:
  type: value_sum
  rules: [failed]
  group-by: [user.name]
  timespan: 2m
  condition: {{field: source.bytes, gte: 1000}}
level: low
"
        )
    }

    #[test]
    fn a_correlator_restored_from_its_saved_state_goes_on_as_if_never_stopped() {
        let rules = resumable_rules();
        let build = || {
            let mut set = RuleSet::build(
                load_text(&rules, "c.yml".into()),
                &CompileOptions::default(),
            );
            assert!(set.skipped.is_empty(), "{:?}", set.skipped);
            let c = set.correlator(Limits {
                max_groups: 300,
                ..Limits::default()
            });
            (set, c)
        };
        let (set, _) = build();
        let mut events = Vec::new();
        // Each burst from its own addresses: the last burst's groups end
        // only when swept, so the sweeps must fall where they would have.
        for i in 0..6_000u32 {
            let ip = format!("10.0.{}.{}", i / 2000, i % 97);
            let secs = i64::from(i / 2000 * 3600 + i % 2000 / 8) - i64::from(i % 5);
            let mut e = failed(&ip, &format!("u{}", i % 7), secs, u64::from(i));
            e.set("source.bytes", format!("{}.{}", i % 300, i % 10));
            if i % 13 == 0 {
                e.insert("event.outcome", "success");
            }
            events.push(e);
        }
        let hits: Vec<Vec<usize>> = events
            .iter()
            .map(|e| set.matches(e).iter().map(|h| h.index).collect())
            .collect();
        let batches: Vec<(&[Event], &[Vec<usize>])> =
            events.chunks(150).zip(hits.chunks(150)).collect();
        let feed = |c: &mut Correlator, (batch, hits): (&[Event], &[Vec<usize>])| {
            let roles = c.roles();
            let mut placed = Placements::default();
            for (at, (e, hits)) in batch.iter().zip(hits).enumerate() {
                for &rule in hits {
                    roles.place(rule, at, e, &mut placed);
                }
            }
            c.observe_batch(batch, &placed, None)
        };
        let key = |a: &Alert| {
            let events: Vec<String> = a.events.iter().map(|e| e.get().to_owned()).collect();
            (
                a.rule_id.clone(),
                a.id.clone(),
                a.count,
                a.last_seen,
                events,
            )
        };
        let (_, mut whole) = build();
        let mut expected: Vec<_> = Vec::new();
        for &b in &batches {
            expected.extend(feed(&mut whole, b).iter().map(key));
        }
        expected.extend(whole.finish().iter().map(key));
        // Saved after every third batch, as a store would keep it; killed
        // two batches after some saves, the unsaved batches read again.
        let mut store: std::collections::BTreeMap<(String, Vec<u8>), Vec<u8>> = Default::default();
        let mut headers = Vec::new();
        let mut save = |c: &mut Correlator| {
            let mut changes = crate::SavedState::default();
            c.save(&mut changes);
            assert!(changes.reset.is_empty());
            headers = changes.rules;
            for g in changes.groups {
                match g.state {
                    Some(state) => store.insert((g.rule, g.key), state),
                    None => store.remove(&(g.rule, g.key)),
                };
            }
            crate::SavedState {
                rules: headers.clone(),
                groups: store
                    .iter()
                    .map(|((rule, key), state)| crate::saved::SavedGroup {
                        rule: rule.clone(),
                        key: key.clone(),
                        state: Some(state.clone()),
                    })
                    .collect(),
                ..Default::default()
            }
        };
        let (_, mut c) = build();
        c.track_changes();
        let mut got = Vec::new();
        let mut uncommitted = Vec::new();
        let mut saved = save(&mut c);
        let mut at = 0;
        let mut restarts = 0;
        while at < batches.len() {
            uncommitted.extend(feed(&mut c, batches[at]).iter().map(key));
            at += 1;
            if at % 3 == 0 {
                got.append(&mut uncommitted);
                saved = save(&mut c);
                if at % 2 == 0 && at + 2 < batches.len() {
                    // Two more batches, lost with the process.
                    feed(&mut c, batches[at]);
                    feed(&mut c, batches[at + 1]);
                    let (_, mut fresh) = build();
                    fresh.restore(&saved).unwrap();
                    fresh.track_changes();
                    c = fresh;
                    restarts += 1;
                }
            }
        }
        got.append(&mut uncommitted);
        got.extend(c.finish().iter().map(key));
        assert!(restarts >= 3, "{restarts} restarts");
        assert!(
            saved.groups.len() > 50,
            "{} groups saved",
            saved.groups.len()
        );
        for rule in ["brute", "brute-then-login", "spray", "bytes"] {
            assert!(expected.iter().any(|a| a.0 == rule), "{rule} fires");
        }
        assert!(expected.len() > 100, "{} alerts", expected.len());
        assert_eq!(got, expected);
    }

    #[test]
    fn state_saved_under_another_shape_of_its_rule_is_dropped() {
        let (mut set, mut c) = (
            RuleSet::build(load_text(RULES, "r.yml".into()), &CompileOptions::default()),
            None,
        );
        let mut first = set.correlator(Limits::default());
        first.track_changes();
        for i in 0..3 {
            let e = failed("203.0.113.9", "root", i, i as u64);
            for hit in set.matches(&e) {
                first.observe(hit.index, &e);
            }
        }
        let mut saved = crate::SavedState::default();
        first.save(&mut saved);
        assert_eq!(saved.groups.len(), 2, "one group in each correlation");
        // The brute force now needs 10 in 5 minutes: its state is dropped;
        // the spray's is carried on.
        let changed = RULES.replace("condition: {gte: 5}", "condition: {gte: 10}");
        let mut set2 = RuleSet::build(
            load_text(&changed, "r.yml".into()),
            &CompileOptions::default(),
        );
        let mut second = set2.correlator(Limits::default());
        second.restore(&saved).unwrap();
        second.track_changes();
        let mut again = crate::SavedState::default();
        second.save(&mut again);
        assert_eq!(again.reset, ["brute"]);
        c.get_or_insert(second);
        let e = failed("203.0.113.9", "admin", 4, 9);
        let e2 = failed("203.0.113.9", "guest", 5, 10);
        let mut alerts = Vec::new();
        for e in [&e, &e2] {
            for hit in set2.matches(e) {
                alerts.extend(c.as_mut().unwrap().observe(hit.index, e));
            }
        }
        alerts.extend(c.as_mut().unwrap().finish());
        let rules: Vec<&str> = alerts.iter().map(|a| a.rule_id.as_str()).collect();
        assert_eq!(rules, ["spray"], "three users in all, five failures in all");
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
                plan::encode_part(&mut key, v);
            }
            assert_eq!(plan::decode(&key), list, "{key}");
            assert!(seen.insert(key), "two lists encode alike");
        }
    }

    #[test]
    fn only_count_thresholds_widen_a_window() {
        let text = "title: f\nid: f\nlogsource: {product: linux, service: sshd}\ndetection: {s: {event.action: x}, condition: s}\n---\ntitle: many\nid: many\ncorrelation: {type: event_count, rules: [f], group-by: [source.ip], timespan: 1h, condition: {gte: 50000}}\n---\ntitle: bytes\nid: bytes\ncorrelation: {type: value_sum, rules: [f], group-by: [source.ip], timespan: 1h, condition: {field: source.bytes, gte: 1000000000}}\n";
        let mut set = RuleSet::build(load_text(text, "c.yml".into()), &CompileOptions::default());
        let c = set.correlator(Limits::default());
        let caps: Vec<usize> = c.plan.running.iter().map(|r| r.cap).collect();
        assert_eq!(caps, [50_000, Limits::default().max_window]);
    }

    #[test]
    fn a_windows_group_field_is_found_under_its_spelling_with_spaces() {
        let mut e = Event::new(EventOrigin::new("d.evtx", 1), "x");
        e.set("winlog.event_data.Threat Name", "HackTool:Win32/Mimikatz");
        let names = ["winlog.event_data.ThreatName".to_owned()];
        assert_eq!(
            plan::text_field(&e, &names).as_deref(),
            Some("HackTool:Win32/Mimikatz")
        );
    }
}
