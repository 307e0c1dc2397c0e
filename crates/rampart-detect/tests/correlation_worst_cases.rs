//! Correlations of every type on a million matches in their worst shapes:
//! one group holding them all in one window, a million groups, times that
//! repeat and go backwards. Each must give exactly the alerts the input
//! calls for; that they finish at all shows the work per match does not
//! grow with the window (the benchmark measures how fast).

use std::collections::HashMap;
use std::net::Ipv4Addr;

use rampart_detect::{load_text, Alert, CompileOptions, Limits, Placements, RuleSet};
use rampart_event::{Event, Origin, Timestamp};

mod worst;
use worst::{rules, Case, Hit, BURST_SOURCES, CORRELATIONS};

const N: u64 = 1_000_000;
const BATCH: usize = 512;
const START: i64 = 1_700_000_000_000_000;

fn run(case: Case) -> (Vec<Alert>, Vec<Hit>) {
    let text = rules(|_| true);
    let mut set = RuleSet::build(
        load_text(&text, "worst.yml".into()),
        &CompileOptions::default(),
    );
    let mut correlator = set.correlator(Limits::default());
    assert!(set.skipped.is_empty(), "{:?}", set.skipped);
    assert_eq!(correlator.len(), CORRELATIONS.len());
    let index = |id: &str| set.rules().iter().position(|r| r.rule.id == id).unwrap();
    let (probe, answer) = (index("probe"), index("answer"));
    // As the engine runs them: batches of placed matches, the partitions
    // worked on by a pool of two.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let roles = correlator.roles();
    let mut alerts = Vec::new();
    let mut hits = Vec::with_capacity(N as usize);
    let mut batch = Vec::with_capacity(BATCH);
    let mut placed = Placements::default();
    for i in 0..N {
        let hit = case.hit(i, N);
        let mut event = Event::new(Origin::new("worst.log", i + 1), "");
        event.timestamp = Some(Timestamp::from_microsecond(START + hit.micros).unwrap());
        event.insert("source.ip", Ipv4Addr::from(hit.source).to_string());
        event.insert("source.port", i64::from(hit.port));
        let rule = if hit.answer { answer } else { probe };
        roles.place(rule, batch.len(), &event, &mut placed);
        batch.push(event);
        hits.push(hit);
        if batch.len() == BATCH || i + 1 == N {
            alerts.extend(correlator.observe_batch(&batch, &placed, Some(&pool)));
            batch.clear();
            placed = Placements::default();
        }
    }
    alerts.extend(correlator.finish());
    (alerts, hits)
}

/// Each correlation's alerts, as (group, count), sorted.
fn by_correlation(alerts: &[Alert]) -> HashMap<&str, Vec<(String, u64)>> {
    let mut out: HashMap<&str, Vec<(String, u64)>> = HashMap::new();
    for a in alerts {
        out.entry(a.rule_id.as_str())
            .or_default()
            .push((a.group[0].1.clone(), a.count));
    }
    for list in out.values_mut() {
        list.sort();
    }
    out
}

/// The matches each source fed a correlation with.
fn members_per_source(hits: &[Hit], answers_count: bool) -> HashMap<u32, u64> {
    let mut out = HashMap::new();
    for h in hits.iter().filter(|h| answers_count || !h.answer) {
        *out.entry(h.source).or_default() += 1;
    }
    out
}

/// One source, all matches in one window (hot key) or in any order
/// (disorder): every correlation fires once, for every match it was fed.
fn one_burst_of_everything(case: Case) {
    let (alerts, hits) = run(case);
    let got = by_correlation(&alerts);
    for (id, answers, _) in CORRELATIONS {
        let want: Vec<(String, u64)> = members_per_source(&hits, answers)
            .into_iter()
            .map(|(s, n)| (Ipv4Addr::from(s).to_string(), n))
            .collect();
        assert_eq!(got.get(id), Some(&want), "{id} on {case:?}");
    }
    let first = hits.iter().map(|h| h.micros).min().unwrap();
    for a in &alerts {
        assert_eq!(
            a.first_seen.map(|t| t.as_microsecond() - START),
            Some(first),
            "{}: the burst starts at the earliest match",
            a.rule_id
        );
        assert_eq!(a.events.len(), 10, "{}: events are capped", a.rule_id);
    }
}

#[test]
fn one_group_with_a_million_matches_in_one_window() {
    one_burst_of_everything(Case::HotKey);
}

#[test]
fn times_that_repeat_and_go_backwards() {
    one_burst_of_everything(Case::Disorder);
}

#[test]
fn a_million_groups_and_the_few_that_burst() {
    let (alerts, hits) = run(Case::ManyGroups);
    let got = by_correlation(&alerts);
    for (id, answers, _) in CORRELATIONS {
        // Quiet sources send one probe each and reach no threshold; each
        // bursting source fires every correlation, though groups are evicted
        // all along (a million sources inside one window, 100,000 kept).
        let want: Vec<(String, u64)> = members_per_source(&hits, answers)
            .into_iter()
            .filter(|(s, _)| *s >= BURST_SOURCES)
            .map(|(s, n)| (Ipv4Addr::from(s).to_string(), n))
            .collect();
        assert_eq!(want.len(), 10);
        let mut want = want;
        want.sort();
        assert_eq!(got.get(id), Some(&want), "{id}");
    }
}
