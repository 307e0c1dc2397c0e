//! What a set of correlations knows before any event arrives: each
//! correlation's members resolved to the detection rules and correlations
//! they name, which detection rules feed which correlations, and where
//! each correlation keeps its groups (spread over partitions, or in one
//! place when it takes chained matches).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::Arc;

use rampart_event::Event;
use xxhash_rust::xxh3::xxh3_64;

use super::HashMap;
use crate::compile::CompiledRule;
use crate::correlation::{CorrelationRule, Kind};
use crate::mapping::fields_of;
use crate::pattern::text_of;

/// One member of a correlation: a detection rule, with the event fields
/// its group values come from, or another correlation (a chain), with the
/// names of its group fields that give this one's group values.
#[derive(Debug, Clone)]
pub(super) enum Member {
    Rule {
        group_fields: Vec<Vec<String>>,
        value_fields: Vec<String>,
    },
    Chain {
        group_names: Vec<String>,
    },
}

/// A correlation rule ready to run: what it needs besides its groups.
#[derive(Debug)]
pub(super) struct Running {
    pub rule: Arc<CorrelationRule>,
    pub members: Vec<Member>,
    pub span: jiff::SignedDuration,
    /// The most matches a window keeps.
    pub cap: usize,
    /// Whether it takes chained matches: its groups are then kept in one
    /// place, since a chained match's group is known only once its
    /// upstream fires.
    pub serial: bool,
    /// Seeds the hash that picks a group's partition: the rule's id hashed,
    /// so that a group lands alike in every run and on every machine.
    pub seed: u64,
}

/// All correlations of a run, resolved.
#[derive(Debug, Default)]
pub(super) struct Plan {
    pub running: Vec<Running>,
    /// For each detection rule index, the (correlation, member) pairs it feeds.
    pub feeds: HashMap<usize, Vec<(usize, usize)>>,
    /// Detection rules that alert only through a correlation (`generate: false`).
    pub quiet: HashSet<usize>,
    /// For each correlation, the (correlation, member) pairs its firing feeds.
    pub chain_feeds: HashMap<usize, Vec<(usize, usize)>>,
    /// Correlations that alert only through the correlation they feed.
    pub quiet_chained: HashSet<usize>,
    /// Their ids, to leave their alerts out.
    pub quiet_ids: HashSet<String>,
}

/// How a member of a correlation is named, once resolved.
enum Resolved {
    Rule(usize),
    Correlation(usize),
}

impl Plan {
    /// Resolves each correlation's rules among `rules`; a correlation that
    /// names an unknown rule is returned as an error with the reason.
    pub fn new(
        correlations: Vec<CorrelationRule>,
        rules: &[CompiledRule],
        limits: &super::Limits,
    ) -> (Plan, Vec<(CorrelationRule, String)>) {
        let mut c = Plan::default();
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
            let cap = limits.max_window.max(needed);
            let serial = built.iter().any(|m| matches!(m, Member::Chain { .. }));
            c.running.push(Running {
                cap,
                seed: xxh3_64(corr.id.as_bytes()),
                rule: Arc::new(corr),
                members: built,
                span,
                serial,
            });
        }
        // A correlation that feeds a chain keeps its groups in one place
        // too, beside the chain: what it opens then reaches the chain in
        // match order without crossing partitions, so that a cluster, whose
        // partitions are worked on by different machines, needs no second
        // hop for chains.
        let upstream: Vec<usize> = c.chain_feeds.keys().copied().collect();
        for at in upstream {
            c.running[at].serial = true;
        }
        c.quiet_ids = c
            .quiet_chained
            .iter()
            .map(|&i| c.running[i].rule.id.clone())
            .collect();
        (c, failed)
    }

    /// Whether some correlation keeps its groups in one place.
    pub fn has_serial(&self) -> bool {
        self.running.iter().any(|r| r.serial)
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
pub(super) fn text_field<'e>(
    event: &'e Event,
    names: &[String],
) -> Option<std::borrow::Cow<'e, str>> {
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
pub(super) fn encode_part(key: &mut String, value: &str) {
    let _ = write!(key, "{}:", value.len());
    key.push_str(value);
}

/// The group values an encoded key holds.
pub(super) fn decode(mut key: &str) -> Vec<String> {
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
