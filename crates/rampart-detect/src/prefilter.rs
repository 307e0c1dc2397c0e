//! Rule pruning by necessary literals. Most Sigma rules require some field
//! to contain a literal (`Image|endswith: '\certutil.exe'`): if the literal
//! is not in the event's value, the rule cannot match. One Aho-Corasick
//! automaton per field holds every such literal of every rule, so an event's
//! value is scanned once per field and only the rules whose literal was
//! found (plus the rules with no such literal) are evaluated in full.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rampart_event::ValueRef;

use crate::compile::CompiledRule;
use crate::pattern::text_of;
use crate::view::EventView;

/// The literals of all rules, by field.
#[derive(Debug, Default)]
pub struct Prefilter {
    /// For each rule, whether it has a necessary literal.
    keyed: Vec<bool>,
    fields: Vec<FieldFilter>,
    /// For each rule, the field filters holding its literals.
    rule_fields: Vec<Vec<usize>>,
}

#[derive(Debug)]
struct FieldFilter {
    /// The event fields the checked Sigma field resolves to (first present wins).
    names: Vec<String>,
    automaton: AhoCorasick,
    /// For each pattern, the rules it keys.
    owners: Vec<Vec<u32>>,
}

/// A set of rule indexes.
#[derive(Debug, Clone)]
pub struct RuleBits(Vec<u64>);

impl RuleBits {
    fn new(n: usize) -> Self {
        RuleBits(vec![0; n.div_ceil(64)])
    }

    fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    /// Whether rule `i` is in the set.
    pub fn contains(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
}

impl Prefilter {
    /// Collects the literals of `rules`.
    pub fn build(rules: &[CompiledRule]) -> Prefilter {
        let mut keyed = vec![false; rules.len()];
        // For each field list, its (literal, rule) pairs.
        type Pairs = Vec<(String, u32)>;
        let mut by_field: Vec<(Vec<String>, Pairs)> = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let Some(cover) = rule.necessary_literals() else {
                continue;
            };
            keyed[i] = true;
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            for (names, literals) in cover {
                let slot = match by_field.iter().position(|(n, _)| *n == names) {
                    Some(at) => at,
                    None => {
                        by_field.push((names, Vec::new()));
                        by_field.len() - 1
                    }
                };
                by_field[slot]
                    .1
                    .extend(literals.into_iter().map(|l| (l, index)));
            }
        }
        let mut fields = Vec::new();
        let mut rule_fields: Vec<Vec<usize>> = vec![Vec::new(); rules.len()];
        for (names, mut pairs) in by_field {
            pairs.sort();
            pairs.dedup();
            let mut patterns: Vec<String> = Vec::new();
            let mut owners: Vec<Vec<u32>> = Vec::new();
            for (literal, rule) in pairs {
                if patterns.last() == Some(&literal) {
                    if let Some(o) = owners.last_mut() {
                        o.push(rule);
                    }
                } else {
                    patterns.push(literal);
                    owners.push(vec![rule]);
                }
            }
            let built = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&patterns);
            match built {
                Ok(automaton) => {
                    for o in owners.iter().flatten() {
                        let list = &mut rule_fields[*o as usize];
                        if list.last() != Some(&fields.len()) {
                            list.push(fields.len());
                        }
                    }
                    fields.push(FieldFilter {
                        names,
                        automaton,
                        owners,
                    });
                }
                // Without an automaton the rules are simply evaluated in full.
                Err(_) => {
                    for o in owners.iter().flatten() {
                        keyed[*o as usize] = false;
                    }
                }
            }
        }
        Prefilter {
            keyed,
            fields,
            rule_fields,
        }
    }

    /// The field filters the given rules need, each once, in order.
    pub fn filters_for(&self, rules: impl Iterator<Item = usize>) -> Vec<usize> {
        let mut out: Vec<usize> = rules
            .flat_map(|r| self.rule_fields.get(r).into_iter().flatten().copied())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether rule `i` is pruned by literals.
    pub fn is_keyed(&self, i: usize) -> bool {
        self.keyed.get(i).copied().unwrap_or(false)
    }

    /// The keyed rules whose literal occurs in `event`, scanning only the
    /// given field filters (those the event's candidate rules need).
    pub fn possible(&self, event: &EventView<'_>, filters: &[usize]) -> RuleBits {
        let mut bits = RuleBits::new(self.keyed.len());
        for field in filters.iter().filter_map(|&f| self.fields.get(f)) {
            let Some(value) = field.names.iter().find_map(|n| event.get(n)) else {
                continue;
            };
            let mut scan = |text: &str| {
                for m in field.automaton.find_overlapping_iter(text) {
                    for &rule in &field.owners[m.pattern().as_usize()] {
                        bits.insert(rule as usize);
                    }
                }
            };
            match value {
                ValueRef::List(items) => {
                    for item in items {
                        scan(&text_of(item.as_ref()));
                    }
                }
                other => scan(&text_of(other)),
            }
        }
        bits
    }
}
