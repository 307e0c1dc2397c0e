//! The engine cut in two, as the workers of a cluster run it: the stage
//! without state shares each batch out by partition, and one state per
//! partition, fed its shares in input order, must raise exactly the alerts
//! of one engine: the same ids, counts and events, chains and dedup
//! windows included, whatever the batches.

use std::collections::BTreeMap;

use rampart_detect::{
    builtin, load_text, Alert, CompileOptions, Loaded, Placements, RuleSet, Tuning,
};
use rampart_engine::{Engine, Scope, SHARES};
use rampart_event::{Event, Origin, Timestamp};
use rampart_intel::Enrichers;

/// Beside the built-in pack: a chain (many failures, then a login from
/// the same address) and distinct users per address.
const RULES: &str = r#"title: Failed
id: t-failed
name: t_failed
logsource: {product: linux, service: sshd}
detection:
  selection: {event.action: ssh-login, event.outcome: failure}
  condition: selection
---
title: Accepted
id: t-accepted
name: t_accepted
logsource: {product: linux, service: sshd}
detection:
  selection: {event.action: ssh-login, event.outcome: success}
  condition: selection
---
title: Many failures
id: t-many
name: t_many
correlation: {type: event_count, rules: [t_failed], group-by: [source.ip], timespan: 2m, condition: {gte: 6}}
level: medium
---
title: Failures then a login
id: t-then
correlation: {type: temporal_ordered, rules: [t_many, t_accepted], group-by: [source.ip], timespan: 10m, generate: true}
level: critical
---
title: Spray
id: t-spray
correlation: {type: value_count, rules: [t_failed], group-by: [source.ip], timespan: 5m, condition: {field: user.name, gte: 3}}
level: high
"#;

fn engine() -> Engine {
    let mut loaded = Loaded::default();
    for (name, text) in builtin::PACK {
        loaded.extend(load_text(text, format!("builtin:{name}").into()));
    }
    loaded.extend(load_text(RULES, "t.yml".into()));
    let rules = RuleSet::build(loaded, &CompileOptions::default());
    assert!(rules.skipped.is_empty(), "{:?}", rules.skipped);
    Engine::new(
        rules,
        Enrichers::default(),
        Tuning::default(),
        Scope::default(),
    )
}

/// sshd logins from a few hundred addresses, hot ones among them, times
/// now and then a little back, off-hours logins (a dedup window).
fn events(n: u64) -> Vec<Event> {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |below: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % below
    };
    let users = ["root", "admin", "git", "oracle", "test"];
    (0..n)
        .map(|i| {
            let hot = next(10) < 3;
            let ip = if hot { next(5) } else { next(300) };
            let mut e = Event::new(Origin::new("auth.log", i + 1), "x");
            let secs = (i / 3 + next(3)).saturating_sub(1) as i64;
            e.timestamp = Some(Timestamp::from_second(1_741_910_400 + secs).unwrap());
            e.set("event.dataset", "linux.auth");
            e.set("process.name", "sshd");
            e.set("host.name", "web01");
            e.set("event.action", "ssh-login");
            let ok = next(20) == 0;
            e.set("event.outcome", if ok { "success" } else { "failure" });
            e.set("event.category", "authentication");
            e.set("source.ip", format!("203.0.113.{}", ip + 1));
            e.set("user.name", users[next(users.len() as u64) as usize]);
            e
        })
        .collect()
}

type Seen = BTreeMap<String, (String, u64, usize)>;

fn seen(alerts: &[Alert]) -> Seen {
    let mut out = Seen::new();
    for a in alerts {
        let previous = out.insert(a.id.clone(), (a.rule_id.clone(), a.count, a.events.len()));
        assert!(previous.is_none(), "alert {} raised twice", a.id);
    }
    out
}

#[test]
fn partitions_worked_apart_raise_the_alerts_of_one_engine() {
    let all = events(12_000);
    let mut one = engine();
    let mut expected = Vec::new();
    one.run_events(all.chunks(700).map(<[Event]>::to_vec), 1, &mut expected);
    let expected = seen(&expected);
    for rule in ["t-many", "t-then", "t-spray", "ssh-brute-force"] {
        assert!(expected.values().any(|(r, ..)| r == rule), "{rule} fires");
    }

    let split = engine();
    let mut owned: Vec<_> = (0..SHARES).map(|_| split.owned()).collect();
    let mut got = Vec::new();
    // Other batches than the single engine's, shared out and taken a
    // partition at a time.
    let mut batches: Vec<Vec<Event>> = all.chunks(450).map(<[Event]>::to_vec).collect();
    for detected in split
        .detect_split(None, &mut batches)
        .into_iter()
        .zip(&batches)
    {
        let (detected, batch) = detected;
        got.extend(detected.ready);
        for (p, shares) in detected.shares.into_iter().enumerate() {
            let mut events = Vec::new();
            let mut placed = Placements::default();
            let mut folded = Vec::new();
            for share in shares {
                let at = events.len();
                // As it travels: the event's JSON read back.
                let mut json = Vec::new();
                batch[share.event].write_json(&mut json);
                events.push(Event::from_ecs_json(std::str::from_utf8(&json).unwrap()).unwrap());
                for c in &share.placed {
                    assert!(owned[p].accepts(c));
                    assert_eq!(c.partition as usize, p);
                    placed.push_carried(at, c);
                }
                folded.extend(share.folded);
            }
            got.extend(owned[p].take(&events, &placed, folded, None));
        }
    }
    for o in &mut owned {
        got.extend(o.finish());
    }
    let got = seen(&got);
    let differ: Vec<_> = expected
        .keys()
        .chain(got.keys())
        .filter(|k| expected.get(*k) != got.get(*k))
        .take(5)
        .map(|k| (k, expected.get(k), got.get(k)))
        .collect();
    assert!(differ.is_empty(), "{differ:?}");
    assert!(expected.len() > 100, "{} alerts", expected.len());
}
