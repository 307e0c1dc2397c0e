//! Literal scanning: one Aho-Corasick pass over a field's value finds every
//! literal any rule looks for in that field, and both rule pruning and rule
//! evaluation read the result.
//!
//! Most Sigma checks are literals (`Image|endswith: '\certutil.exe'`,
//! `CommandLine|contains: ' -enc '`), and many rules check the same field.
//! Testing them rule by rule reads a long command line dozens of times; the
//! scan reads it once per event, noting for each literal whether it occurs,
//! at the start, or at the end. A check then costs a lookup.
//!
//! Pruning: a rule whose condition needs one of some literals in a field (its
//! cover, see [`CompiledRule::necessary_literals`]) cannot match when none
//! was found, so it is not evaluated at all.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rampart_event::ValueRef;

use crate::atoms::{Atoms, FieldScanner, Found, ANYWHERE, AT_END, AT_START};
use crate::compile::CompiledRule;
use crate::pattern::text_of;

thread_local! {
    /// The text being scanned, in ASCII lower case.
    static LOWERED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The literals of all rules, by field.
#[derive(Debug, Default)]
pub struct Scanner {
    /// For each rule, whether it has a necessary literal.
    keyed: Vec<bool>,
    fields: Vec<FieldScan>,
    /// For each rule, the field scans holding its necessary literals.
    rule_fields: Vec<Vec<usize>>,
}

#[derive(Debug)]
struct FieldScan {
    /// The event fields the checked Sigma field resolves to (first present wins).
    names: Vec<String>,
    /// `None` when the automaton could not be built: checks are then
    /// evaluated directly and no rule is pruned on this field.
    automaton: Option<AhoCorasick>,
    /// For each pattern, the rules it keys.
    owners: Vec<Vec<u32>>,
}

/// Whether checks of these fields are left to test their values directly:
/// the whole record (keywords) is long and only a few literals are looked
/// for in it, so a SIMD search for them beats an automaton pass that
/// reports every literal of every rule.
fn is_unscanned(fields: &[String]) -> bool {
    fields == ["event.original"]
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

/// Literals of one field list while the scanner is built.
#[derive(Default)]
struct FieldBuild {
    patterns: Vec<String>,
    numbers: HashMap<String, u32>,
    owners: Vec<Vec<u32>>,
}

impl FieldBuild {
    /// The pattern number of `literal`, matched without regard to ASCII
    /// case (as the scan is).
    fn intern(&mut self, literal: &str) -> u32 {
        let literal = literal.to_ascii_lowercase();
        if let Some(&n) = self.numbers.get(&literal) {
            return n;
        }
        let n = u32::try_from(self.patterns.len()).unwrap_or(u32::MAX);
        self.patterns.push(literal.clone());
        self.numbers.insert(literal, n);
        self.owners.push(Vec::new());
        n
    }
}

impl Scanner {
    /// Collects the literals of `rules` and tells each of their checks
    /// where its literals are.
    pub fn build(rules: &mut [CompiledRule]) -> Scanner {
        let mut keyed = vec![false; rules.len()];
        let mut names: Vec<Vec<String>> = Vec::new();
        let mut builds: Vec<FieldBuild> = Vec::new();
        let mut field_of = |fields: &[String], builds: &mut Vec<FieldBuild>| match names
            .iter()
            .position(|n| n == fields)
        {
            Some(at) => at,
            None => {
                names.push(fields.to_vec());
                builds.push(FieldBuild::default());
                names.len() - 1
            }
        };
        let mut rule_fields: Vec<Vec<usize>> = vec![Vec::new(); rules.len()];
        for (i, rule) in rules.iter_mut().enumerate() {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            if let Some(cover) = rule.necessary_literals() {
                keyed[i] = true;
                for (fields, literals) in cover {
                    let f = field_of(&fields, &mut builds);
                    for literal in literals {
                        let n = builds[f].intern(&literal) as usize;
                        builds[f].owners[n].push(index);
                    }
                    if !rule_fields[i].contains(&f) {
                        rule_fields[i].push(f);
                    }
                }
            }
            for check in rule.checks_mut().filter(|c| !is_unscanned(&c.fields)) {
                let literals = check.literals_to_scan();
                if literals.iter().all(Option::is_none) {
                    continue;
                }
                let f = field_of(&check.fields, &mut builds);
                let ids = literals
                    .into_iter()
                    .map(|l| l.map(|l| builds[f].intern(&l)))
                    .collect();
                check.atoms = Some(Atoms::new(f, ids));
            }
        }
        // Each field's automaton is built on its own core. The patterns
        // are lower case already and the scan lowers the text, so the
        // automaton need not hold both cases of every letter: with
        // thousands of rules (hash lists) that halves the time to build.
        use rayon::prelude::*;
        let fields: Vec<FieldScan> = names
            .into_par_iter()
            .zip(builds)
            .map(|(names, build)| FieldScan {
                names,
                automaton: AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .build(&build.patterns)
                    .ok(),
                owners: build.owners,
            })
            .collect();
        for field in fields.iter().filter(|f| f.automaton.is_none()) {
            // Without an automaton these rules are simply evaluated in full.
            for o in field.owners.iter().flatten() {
                keyed[*o as usize] = false;
            }
        }
        Scanner {
            keyed,
            fields,
            rule_fields,
        }
    }

    /// The field scans the given rules need for pruning, each once, in order.
    pub fn filters_for(&self, rules: impl Iterator<Item = usize>) -> Vec<usize> {
        let mut out: Vec<usize> = rules
            .flat_map(|r| self.rule_fields.get(r).into_iter().flatten().copied())
            .filter(|&f| self.fields[f].automaton.is_some())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether rule `i` is pruned by literals.
    pub fn is_keyed(&self, i: usize) -> bool {
        self.keyed.get(i).copied().unwrap_or(false)
    }

    /// The keyed rules whose literal occurs in the event, reading only the
    /// given field scans (those the event's candidate rules need) through
    /// `found` (the event's scans).
    pub fn possible<'f>(
        &self,
        found: impl Fn(usize) -> Option<&'f Found>,
        filters: &[usize],
    ) -> RuleBits {
        let mut bits = RuleBits::new(self.keyed.len());
        for &f in filters {
            let Some(found) = found(f) else {
                continue;
            };
            let owners = &self.fields[f].owners;
            for &(pattern, _) in found.hits() {
                for &rule in &owners[pattern as usize] {
                    bits.insert(rule as usize);
                }
            }
        }
        bits
    }
}

impl FieldScanner for Scanner {
    fn fields(&self) -> usize {
        self.fields.len()
    }

    fn names(&self, f: usize) -> &[String] {
        &self.fields[f].names
    }

    fn scan(&self, f: usize, value: ValueRef<'_>) -> Option<Found> {
        let automaton = self.fields[f].automaton.as_ref()?;
        let mut hits: Vec<(u32, u8)> = Vec::new();
        let mut scan = |text: &str| {
            // The patterns are lower case: the text is lowered into this
            // thread's buffer, not a new string per value.
            LOWERED.with_borrow_mut(|lowered| {
                lowered.clear();
                lowered.extend(text.bytes().map(|b| b.to_ascii_lowercase()));
                for m in automaton.find_overlapping_iter(&lowered[..]) {
                    let mut place = ANYWHERE;
                    if m.start() == 0 {
                        place |= AT_START;
                    }
                    if m.end() == lowered.len() {
                        place |= AT_END;
                    }
                    hits.push((m.pattern().as_u32(), place));
                }
            });
        };
        match value {
            ValueRef::List(items) => {
                for item in items {
                    scan(&text_of(item.as_ref()));
                }
            }
            other => scan(&text_of(other)),
        }
        Some(Found::new(hits))
    }
}

#[cfg(test)]
mod tests {
    use rampart_event::{Event, Origin};

    use crate::engine::RuleSet;
    use crate::load::load_text;
    use crate::view::EventView;
    use crate::CompileOptions;

    /// One rule per way a literal can be placed, plus patterns, `all`,
    /// case-sensitive values and keywords, over one field.
    const RULES: &str = r#"
title: contains
id: contains
logsource: {product: linux}
detection: {s: {message|contains: ['Needle', 'other']}, condition: s}
---
title: startswith
id: startswith
logsource: {product: linux}
detection: {s: {message|startswith: 'needle'}, condition: s}
---
title: endswith
id: endswith
logsource: {product: linux}
detection: {s: {message|endswith: 'NEEDLE'}, condition: s}
---
title: exact
id: exact
logsource: {product: linux}
detection: {s: {message: 'needle'}, condition: s}
---
title: pattern
id: pattern
logsource: {product: linux}
detection: {s: {message: 'nee*dle end'}, condition: s}
---
title: all
id: all
logsource: {product: linux}
detection: {s: {message|contains|all: ['needle', 'end']}, condition: s}
---
title: cased
id: cased
logsource: {product: linux}
detection: {s: {message|contains|cased: 'Needle'}, condition: s}
---
title: keyword
id: keyword
logsource: {product: linux}
detection: {keywords: ['needle'], condition: keywords}
"#;

    fn event(message: &str) -> Event {
        let mut e = Event::new(Origin::new("a.log", 1), format!("raw {message}"));
        e.set("event.dataset", "linux.syslog");
        e.set("message", message.to_owned());
        e
    }

    #[test]
    fn scanned_checks_decide_as_direct_evaluation_does() {
        let set = RuleSet::build(load_text(RULES, "r.yml".into()), &CompileOptions::default());
        assert!(set.skipped.is_empty(), "{:?}", set.skipped);
        let cases: &[(&str, &[&str])] = &[
            (
                "needle",
                &["contains", "startswith", "endswith", "exact", "keyword"][..],
            ),
            (
                "NEEDLE",
                &["contains", "startswith", "endswith", "exact", "keyword"],
            ),
            ("xx Needle yy", &["contains", "cased", "keyword"]),
            ("needle at start", &["contains", "startswith", "keyword"]),
            (
                "at the end needle",
                &["contains", "endswith", "all", "keyword"],
            ),
            ("neeXXXdle end", &["pattern"]),
            (
                "needle end",
                &["contains", "startswith", "pattern", "all", "keyword"],
            ),
            (
                "end, then needle",
                &["contains", "endswith", "all", "keyword"],
            ),
            ("nothing here", &[]),
            ("needl", &[]),
        ];
        for (message, want) in cases {
            let e = event(message);
            let mut fast: Vec<&str> = set
                .matches(&e)
                .iter()
                .map(|h| h.rule.rule.id.as_str())
                .collect();
            let view = EventView::new(&e);
            let mut direct: Vec<&str> = set
                .rules()
                .iter()
                .filter(|r| r.admits(&view) && r.matches(&view))
                .map(|r| r.rule.id.as_str())
                .collect();
            let mut want = want.to_vec();
            fast.sort_unstable();
            direct.sort_unstable();
            want.sort_unstable();
            assert_eq!(fast, want, "scanned, {message:?}");
            assert_eq!(direct, want, "direct, {message:?}");
        }
    }
}
