//! A rule compiled for evaluation: its route, its searches as field checks
//! on event field names, and its condition as a tree over search indexes.
//! Compiling resolves everything that can be resolved once (field names,
//! modifiers, wildcards, regexes), so an event costs only the checks.

use std::sync::Arc;

use rampart_event::ValueRef;

use crate::condition::{self, Cond};
use crate::load::Filter;
use crate::mapping::{fields_of, route_of, Route};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder};

use crate::atoms::{Atoms, ANYWHERE, AT_END, AT_START};
use crate::pattern::string::{Case, Haystack, Place, StrMatch};
use crate::pattern::{self, text_of, Modifiers, Scalar, ValueMatch};
use crate::rule::{LogSource, Rule, Search, Term};
use crate::view::EventView;

/// One `Field|modifiers: values` check.
#[derive(Debug, Clone)]
pub struct FieldCheck {
    /// The field as the rule names it.
    pub sigma: String,
    /// The event fields it may be found in, in order.
    pub fields: Vec<String>,
    values: Vec<ValueMatch>,
    all: bool,
    neq: bool,
    /// Where a rule set's scan finds this check's literals.
    pub(crate) atoms: Option<Atoms>,
    /// For checks no scan serves (keywords in the whole record, or rules
    /// evaluated on their own): when every value is a case-insensitive
    /// `contains` literal (whose only cased letters are ASCII), one automaton
    /// finds any (or, with `all`, every) one of them in a single pass over
    /// the lower-cased text. Built on first use, so only the checks events
    /// actually reach pay for one.
    any_contains: std::sync::OnceLock<Option<AnyContains>>,
}

/// Values at which one automaton beats testing them one by one.
const AUTOMATON_MIN_VALUES: usize = 8;

/// Many `contains` literals searched at once in lower-cased text.
#[derive(Debug, Clone)]
struct AnyContains {
    /// A SIMD search for a few dozen literals, when the machine has one.
    packed: Option<aho_corasick::packed::Searcher>,
    /// Finds every literal, for `all`, and any of them without SIMD.
    automaton: AhoCorasick,
}

impl AnyContains {
    fn is_match(&self, lower: &str) -> bool {
        match &self.packed {
            Some(p) => p.find(lower).is_some(),
            None => self.automaton.is_match(lower),
        }
    }

    /// Whether every literal occurs.
    fn all_match(&self, lower: &str, count: usize) -> bool {
        let mut found = vec![false; count];
        for m in self.automaton.find_overlapping_iter(lower) {
            found[m.pattern().as_usize()] = true;
        }
        found.iter().all(|f| *f)
    }
}

fn any_contains(values: &[ValueMatch]) -> Option<AnyContains> {
    if values.len() < AUTOMATON_MIN_VALUES {
        return None;
    }
    let needles: Option<Vec<&str>> = values
        .iter()
        .map(|v| match v {
            ValueMatch::Str(StrMatch::Literal {
                needle,
                place: Place::Contains,
                case: Case::Ascii,
                ..
            }) if !needle.is_empty() => Some(needle.as_str()),
            _ => None,
        })
        .collect();
    let needles = needles?;
    // The needles are lower case and the search reads the lower-cased text.
    Some(AnyContains {
        packed: aho_corasick::packed::Searcher::new(needles.iter()),
        automaton: AhoCorasickBuilder::new().build(&needles).ok()?,
    })
}

/// A compiled search.
#[derive(Debug, Clone)]
pub enum CompiledSearch {
    /// An OR of AND-groups of field checks.
    Fields(Vec<Vec<FieldCheck>>),
    /// Values searched in the event's original text and its message: the
    /// same values as a check of each.
    Keywords {
        /// The values as a check of `event.original`.
        original: Box<FieldCheck>,
        /// The values as a check of `message`.
        message: Box<FieldCheck>,
        /// Every value must be found (`'|all'`), each in one of the two.
        all: bool,
    },
}

/// A filter compiled against one rule.
#[derive(Debug, Clone)]
struct CompiledFilter {
    searches: Vec<CompiledSearch>,
    condition: Cond,
}

/// A rule ready to evaluate.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    /// The rule as loaded (metadata for alerts).
    pub rule: Arc<Rule>,
    /// The events it may match.
    pub route: Route,
    searches: Vec<CompiledSearch>,
    condition: Cond,
    filters: Vec<CompiledFilter>,
}

/// Options for compiling: how values are read (placeholders, the zone of
/// the `hour` modifier).
pub use crate::pattern::ValueOptions as CompileOptions;

fn compile_searches(
    searches: &[(String, Search)],
    ls: &LogSource,
    options: &CompileOptions,
) -> Result<Vec<CompiledSearch>, String> {
    searches
        .iter()
        .map(|(name, search)| {
            compile_search(search, ls, options).map_err(|e| format!("search '{name}': {e}"))
        })
        .collect()
}

fn compile_search(
    search: &Search,
    ls: &LogSource,
    options: &CompileOptions,
) -> Result<CompiledSearch, String> {
    let map_field = |f: &str| fields_of(ls, f);
    match search {
        Search::Keywords { modifiers, values } => {
            let names: Vec<&str> = modifiers.iter().map(String::as_str).collect();
            let mut mods = Modifiers::parse(&names)?;
            // Keywords are found anywhere in the text unless they say otherwise.
            if !names
                .iter()
                .any(|m| matches!(*m, "startswith" | "endswith" | "re"))
            {
                mods = Modifiers::parse(&[names.as_slice(), &["contains"]].concat())?;
            }
            let texts: Vec<Scalar> = values
                .iter()
                .map(|v| Scalar::Str(v.text().into_owned()))
                .collect();
            let values = pattern::compile(&mods, &texts, options, &map_field)?;
            let check = |field: &str| {
                Box::new(FieldCheck {
                    sigma: field.to_owned(),
                    fields: vec![field.to_owned()],
                    values: values.clone(),
                    all: false,
                    neq: false,
                    atoms: None,
                    any_contains: std::sync::OnceLock::new(),
                })
            };
            Ok(CompiledSearch::Keywords {
                original: check("event.original"),
                message: check("message"),
                all: mods.all,
            })
        }
        Search::Fields(groups) => {
            let mut out = Vec::with_capacity(groups.len());
            for group in groups {
                let checks = group
                    .iter()
                    .map(|term| compile_term(term, ls, options))
                    .collect::<Result<Vec<_>, _>>()?;
                out.push(checks);
            }
            Ok(CompiledSearch::Fields(out))
        }
    }
}

fn compile_term(
    term: &Term,
    ls: &LogSource,
    options: &CompileOptions,
) -> Result<FieldCheck, String> {
    let names: Vec<&str> = term.modifiers.iter().map(String::as_str).collect();
    let mods = Modifiers::parse(&names).map_err(|e| format!("{}: {e}", term.field))?;
    let map_field = |f: &str| fields_of(ls, f);
    let values = pattern::compile(&mods, &term.values, options, &map_field)
        .map_err(|e| format!("{}: {e}", term.field))?;
    Ok(FieldCheck {
        sigma: term.field.clone(),
        fields: fields_of(ls, &term.field),
        values,
        all: mods.all,
        neq: mods.neq,
        atoms: None,
        any_contains: std::sync::OnceLock::new(),
    })
}

fn compile_condition(conditions: &[String], searches: &[(String, Search)]) -> Result<Cond, String> {
    let names: Vec<&str> = searches.iter().map(|(n, _)| n.as_str()).collect();
    let mut parsed = conditions
        .iter()
        .map(|c| condition::parse(c, &names).map_err(|e| e.0))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(if parsed.len() == 1 {
        parsed.remove(0)
    } else {
        Cond::Or(parsed)
    })
}

impl CompiledRule {
    /// Compiles a rule with the filters that name it.
    pub fn new(
        rule: Rule,
        filters: &[&Filter],
        options: &CompileOptions,
    ) -> Result<CompiledRule, String> {
        let route = route_of(&rule.logsource)?;
        let searches = compile_searches(&rule.searches, &rule.logsource, options)?;
        let condition = compile_condition(&rule.conditions, &rule.searches)?;
        let filters = filters
            .iter()
            .map(|f| {
                Ok(CompiledFilter {
                    searches: compile_searches(&f.searches, &rule.logsource, options)
                        .map_err(|e| format!("filter {}: {e}", f.id))?,
                    condition: compile_condition(&f.conditions, &f.searches)
                        .map_err(|e| format!("filter {}: {e}", f.id))?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(CompiledRule {
            rule: Arc::new(rule),
            route,
            searches,
            condition,
            filters,
        })
    }

    /// Every field check of the rule and its filters.
    pub(crate) fn checks_mut(&mut self) -> impl Iterator<Item = &mut FieldCheck> {
        self.searches
            .iter_mut()
            .chain(self.filters.iter_mut().flat_map(|f| f.searches.iter_mut()))
            .flat_map(|s| -> Box<dyn Iterator<Item = &mut FieldCheck>> {
                match s {
                    CompiledSearch::Fields(groups) => Box::new(groups.iter_mut().flatten()),
                    CompiledSearch::Keywords {
                        original, message, ..
                    } => Box::new([&mut **original, &mut **message].into_iter()),
                }
            })
    }

    /// Whether the route admits this event.
    pub fn admits(&self, event: &EventView<'_>) -> bool {
        if self.route.admits.is_empty() {
            return true;
        }
        let dataset = event.get_str("event.dataset").unwrap_or("");
        self.route.admits.iter().any(|a| {
            (a.datasets.is_empty()
                || a.datasets.iter().any(|d| {
                    if d.ends_with('.') {
                        dataset.starts_with(d.as_str())
                    } else {
                        dataset == d
                    }
                }))
                && (a.channels.is_empty()
                    || event.get_str("winlog.channel").is_some_and(|c| {
                        a.channels.iter().any(|want| c.eq_ignore_ascii_case(want))
                    }))
                && (a.event_ids.is_empty()
                    || event.code().is_some_and(|id| a.event_ids.contains(&id)))
                && (a.programs.is_empty()
                    || event.get_str("process.name").is_some_and(|p| {
                        a.programs.iter().any(|want| p.eq_ignore_ascii_case(want))
                    }))
        })
    }

    /// Whether the detection (with its filters) matches; routing is checked
    /// separately by [`CompiledRule::admits`].
    pub fn matches(&self, event: &EventView<'_>) -> bool {
        self.condition
            .eval(&mut |i| search_matches(&self.searches[i], event))
            && self.filters.iter().all(|f| {
                f.condition
                    .eval(&mut |i| search_matches(&f.searches[i], event))
            })
    }

    /// A cover of the rule by literals: if the rule matches, at least one
    /// of these literals occurs (ASCII case ignored) in the value of its
    /// fields (the first present of each field list). `None` when the
    /// condition does not allow one (a search of numbers only, say).
    pub fn necessary_literals(&self) -> Option<Cover> {
        cover(&self.condition, &self.searches)
    }

    /// The Event IDs the detection itself requires (`EventID: 4720` in a
    /// search every match needs), for indexing rules whose log source names
    /// a channel but no Event IDs.
    pub fn required_event_ids(&self) -> Option<Vec<i64>> {
        required(&self.condition, &self.searches, search_event_ids)
    }

    /// The datasets the detection itself requires (`event.dataset:
    /// ids.alert` in a search every match needs), in lower case, for
    /// indexing rules whose log source names none (rampart's own pack
    /// selects by dataset in its detections).
    pub fn required_datasets(&self) -> Option<Vec<String>> {
        required(&self.condition, &self.searches, search_datasets)
    }

    /// The values of the rule's group fields in this event (absent ones are
    /// left out).
    pub fn group_of(&self, event: &EventView<'_>) -> Vec<(String, String)> {
        self.rule
            .group
            .iter()
            .filter_map(|g| {
                let value = fields_of(&self.rule.logsource, g)
                    .iter()
                    .find_map(|f| event.get(f))?;
                Some((g.clone(), text_of(value).into_owned()))
            })
            .collect()
    }

    /// Why the rule matched: for each search that holds, the fields and
    /// values that made it hold.
    pub fn explain(&self, event: &EventView<'_>) -> Vec<Matched> {
        let names: Vec<&str> = self.rule.searches.iter().map(|(n, _)| n.as_str()).collect();
        let mut out = Vec::new();
        for (i, search) in self.searches.iter().enumerate() {
            if !search_matches(search, event) {
                continue;
            }
            match search {
                CompiledSearch::Keywords { .. } => out.push(Matched {
                    search: names[i].to_owned(),
                    field: None,
                    value: None,
                }),
                CompiledSearch::Fields(groups) => {
                    if let Some(group) = groups.iter().find(|g| g.iter().all(|c| c.matches(event)))
                    {
                        for check in group {
                            let found = check
                                .fields
                                .iter()
                                .find_map(|f| event.get(f).map(|v| (f, v)));
                            out.push(Matched {
                                search: names[i].to_owned(),
                                field: Some(check.sigma.clone()),
                                value: found.map(|(_, v)| text_of(v).into_owned()),
                            });
                        }
                    }
                }
            }
        }
        out
    }
}

/// `(event fields, literals)` pairs: a match implies one literal occurs in
/// its field.
pub type Cover = Vec<(Vec<String>, Vec<String>)>;

/// The shortest literal of a cover: the higher, the more selective.
fn selectivity(c: &Cover) -> usize {
    c.iter()
        .flat_map(|(_, l)| l.iter().map(String::len))
        .min()
        .unwrap_or(0)
}

fn cover(cond: &Cond, searches: &[CompiledSearch]) -> Option<Cover> {
    let union = |covers: &mut dyn Iterator<Item = Option<Cover>>| -> Option<Cover> {
        let mut all = Vec::new();
        for c in covers {
            all.extend(c?);
        }
        Some(all)
    };
    let best = |covers: &mut dyn Iterator<Item = Option<Cover>>| -> Option<Cover> {
        covers.flatten().max_by_key(selectivity)
    };
    match cond {
        Cond::Search(i) => search_cover(searches.get(*i)?),
        Cond::Or(parts) => union(&mut parts.iter().map(|p| cover(p, searches))),
        Cond::And(parts) => best(&mut parts.iter().map(|p| cover(p, searches))),
        Cond::All(ids) => best(&mut ids.iter().map(|i| search_cover(searches.get(*i)?))),
        Cond::AtLeast(_, ids) => union(&mut ids.iter().map(|i| search_cover(searches.get(*i)?))),
        Cond::Not(_) => None,
    }
}

/// What every match of `cond` needs, by `of` each search: the union over
/// alternatives, any one part of a conjunction that has a need. `None`
/// when some way to match needs nothing `of` can name.
fn required<T>(
    cond: &Cond,
    searches: &[CompiledSearch],
    of: fn(&CompiledSearch) -> Option<Vec<T>>,
) -> Option<Vec<T>> {
    let union = |parts: &mut dyn Iterator<Item = Option<Vec<T>>>| -> Option<Vec<T>> {
        let mut all = Vec::new();
        for p in parts {
            all.extend(p?);
        }
        Some(all)
    };
    match cond {
        Cond::Search(i) => of(searches.get(*i)?),
        Cond::Or(parts) => union(&mut parts.iter().map(|p| required(p, searches, of))),
        Cond::And(parts) => parts.iter().find_map(|p| required(p, searches, of)),
        Cond::All(ids) => ids.iter().find_map(|i| of(searches.get(*i)?)),
        Cond::AtLeast(_, ids) => union(&mut ids.iter().map(|i| of(searches.get(*i)?))),
        Cond::Not(_) => None,
    }
}

/// The values of `field` each group of a search requires, by `value` of
/// each value the check accepts; `None` when a group does not check it so.
fn search_values<T>(
    search: &CompiledSearch,
    field: &str,
    value: fn(&ValueMatch) -> Option<T>,
) -> Option<Vec<T>> {
    let CompiledSearch::Fields(groups) = search else {
        return None;
    };
    let mut out = Vec::new();
    for group in groups {
        let check = group
            .iter()
            .find(|c| c.fields == [field] && !c.neq && !c.all)?;
        for v in &check.values {
            out.push(value(v)?);
        }
    }
    Some(out)
}

/// The Event IDs a search requires: each group checks `event.code` for
/// whole numbers.
fn search_event_ids(search: &CompiledSearch) -> Option<Vec<i64>> {
    search_values(search, "event.code", |v| match v {
        ValueMatch::Num(crate::pattern::numeric::NumOp::Eq, n) if n.fract() == 0.0 => {
            Some(*n as i64)
        }
        _ => None,
    })
}

/// The datasets a search requires, in lower case: each group checks
/// `event.dataset` for whole values (no wildcards).
fn search_datasets(search: &CompiledSearch) -> Option<Vec<String>> {
    search_values(search, "event.dataset", |v| match v {
        ValueMatch::Str(StrMatch::Literal {
            needle,
            place: Place::Exact,
            ..
        }) => Some(needle.to_ascii_lowercase()),
        _ => None,
    })
}

/// A search's cover: each of its groups (an OR) needs a literal check.
/// Keywords have none: the original text is not scanned (see `scan`).
fn search_cover(search: &CompiledSearch) -> Option<Cover> {
    let CompiledSearch::Fields(groups) = search else {
        return None;
    };
    let mut out = Vec::new();
    for group in groups {
        let best = group
            .iter()
            .filter_map(|c| c.literals().map(|l| (c, l)))
            .max_by_key(|(_, l)| l.iter().map(String::len).min().unwrap_or(0))?;
        out.push((best.0.fields.clone(), best.1));
    }
    Some(out)
}

/// One reason a rule fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    /// The search that held.
    pub search: String,
    /// The Sigma field checked (none for keywords).
    pub field: Option<String>,
    /// The event's value of it.
    pub value: Option<String>,
}

fn search_matches(search: &CompiledSearch, event: &EventView<'_>) -> bool {
    match search {
        CompiledSearch::Fields(groups) => groups.iter().any(|g| g.iter().all(|c| c.matches(event))),
        CompiledSearch::Keywords {
            original,
            message,
            all: false,
        } => original.matches(event) || message.matches(event),
        // Each value in one of the two texts: rare, so tested value by value.
        CompiledSearch::Keywords {
            original,
            message: _,
            all: true,
        } => {
            let text = Haystack::new(event.original());
            let message = event.get_str("message").map(Haystack::new);
            original.values.iter().all(|m| {
                m.matches_in(ValueRef::Str(text.raw()), &text, &|_| None)
                    || message
                        .as_ref()
                        .is_some_and(|msg| m.matches_in(ValueRef::Str(msg.raw()), msg, &|_| None))
            })
        }
    }
}

impl FieldCheck {
    /// Literals one of which a matching value contains, when every value
    /// carries non-empty ASCII ones (text checks, wildcard patterns, and
    /// regexes whose matches start with one of a few literals).
    fn literals(&self) -> Option<Vec<String>> {
        if self.neq || self.values.is_empty() {
            return None;
        }
        let mut all = Vec::new();
        for v in &self.values {
            let text = match v {
                ValueMatch::Str(StrMatch::Literal { needle, .. }) => needle,
                ValueMatch::Str(StrMatch::Pattern(_, longest)) => longest,
                ValueMatch::Regex(_, Some(starts)) => {
                    all.extend(starts.iter().cloned());
                    continue;
                }
                _ => return None,
            };
            if text.is_empty() || !text.is_ascii() {
                return None;
            }
            all.push(text.to_ascii_lowercase());
        }
        Some(all)
    }

    /// For each value, the literal a scan should look for: the needle of
    /// a literal compared ignoring ASCII case, or the longest piece of a
    /// wildcard pattern (which every match contains).
    pub(crate) fn literals_to_scan(&self) -> Vec<Option<String>> {
        self.values
            .iter()
            .map(|v| match v {
                ValueMatch::Str(StrMatch::Literal {
                    needle,
                    case: Case::Ascii,
                    ..
                }) if !needle.is_empty() => Some(needle.clone()),
                ValueMatch::Str(StrMatch::Pattern(_, longest))
                    if !longest.is_empty() && longest.is_ascii() =>
                {
                    Some(longest.clone())
                }
                _ => None,
            })
            .collect()
    }

    /// Whether the event satisfies this check.
    pub fn matches(&self, event: &EventView<'_>) -> bool {
        let found = self.fields.iter().find_map(|f| event.get_cached(f));
        let value = found.map(|(v, _)| v);
        let other = |name: &str| event.get(name);
        let result = match value {
            None => {
                if self.neq {
                    return false;
                }
                let absent = |m: &ValueMatch| m.matches_absent();
                return if self.all {
                    self.values.iter().all(absent)
                } else {
                    self.values.iter().any(absent)
                };
            }
            Some(ValueRef::List(items)) => {
                let one =
                    |m: &ValueMatch| items.iter().any(|item| m.matches(item.as_ref(), &other));
                if self.all {
                    self.values.iter().all(one)
                } else {
                    self.values.iter().any(one)
                }
            }
            // Numbers, ranges, presence: no text needed (a number's would
            // be formatted for nothing).
            Some(v) if !self.values.iter().any(ValueMatch::reads_text) => {
                let hay = Haystack::new("");
                let one = |m: &ValueMatch| m.matches_in(v, &hay, &other);
                if self.all {
                    self.values.iter().all(one)
                } else {
                    self.values.iter().any(one)
                }
            }
            Some(v) => {
                let text = text_of(v);
                let hay = match (&text, found.and_then(|(_, cache)| cache)) {
                    // Text of the event itself: lower-cased once for all rules.
                    (std::borrow::Cow::Borrowed(raw), Some(cache)) => Haystack::cached(raw, cache),
                    _ => Haystack::new(&text),
                };
                let scanned = self.atoms.as_ref().and_then(|atoms| {
                    let found = event.found(atoms.field)?;
                    Some((atoms, found))
                });
                let by_scan =
                    |m: &ValueMatch, place: u8| scanned_match(m, place, &hay).unwrap_or(false);
                match scanned {
                    // Any value: from what the scan found, or from the
                    // check's literals, whichever list is shorter.
                    Some((atoms, found)) if !self.all => {
                        let hits = found.hits();
                        let literal = if atoms.by_pattern.len() <= hits.len() {
                            atoms
                                .by_pattern
                                .iter()
                                .any(|&(id, i)| by_scan(&self.values[i], found.get(id)))
                        } else {
                            hits.iter().any(|&(id, place)| {
                                atoms.values_of(id).any(|i| by_scan(&self.values[i], place))
                            })
                        };
                        literal
                            || atoms
                                .direct
                                .iter()
                                .any(|&i| self.values[i].matches_in(v, &hay, &other))
                    }
                    Some((atoms, found)) => {
                        self.values.iter().zip(&atoms.ids).all(|(m, id)| match id {
                            Some(id) => by_scan(m, found.get(*id)),
                            None => m.matches_in(v, &hay, &other),
                        })
                    }
                    None => match self.any_contains.get_or_init(|| any_contains(&self.values)) {
                        // Every needle must occur: collect the ones found in one pass.
                        Some(ac) if self.all => ac.all_match(hay.ascii_lower(), self.values.len()),
                        Some(ac) => ac.is_match(hay.ascii_lower()),
                        None => {
                            let one = |m: &ValueMatch| m.matches_in(v, &hay, &other);
                            if self.all {
                                self.values.iter().all(one)
                            } else {
                                self.values.iter().any(one)
                            }
                        }
                    },
                }
            }
        };
        if self.neq {
            !result
        } else {
            result
        }
    }
}

/// Whether value `m`, whose literal a scan found at `place` (0: nowhere),
/// matches the text in `hay`; `None` for values a scan does not decide.
fn scanned_match(m: &ValueMatch, place: u8, hay: &Haystack<'_>) -> Option<bool> {
    let ValueMatch::Str(m) = m else {
        return None;
    };
    Some(match m {
        StrMatch::Literal {
            needle, place: at, ..
        } => match at {
            Place::Contains => place & ANYWHERE != 0,
            Place::Prefix => place & AT_START != 0,
            Place::Suffix => place & AT_END != 0,
            Place::Exact => place & AT_START != 0 && needle.len() == hay.raw().len(),
        },
        // The pattern's longest piece was found: the pattern itself decides.
        StrMatch::Pattern(..) => place & ANYWHERE != 0 && m.is_match_in(hay),
        StrMatch::Anything => return None,
    })
}
