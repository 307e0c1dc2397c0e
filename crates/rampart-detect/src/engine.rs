//! The rule set: compiled rules indexed by what they route on, so an event
//! is tested only against the rules that could match it (its dataset family
//! and Event ID), and cost grows with candidate rules rather than all rules.

use std::collections::HashMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use rampart_event::Event;

use crate::compile::{CompileOptions, CompiledRule, Matched};
use crate::correlate::{Correlator, Limits};
use crate::correlation::CorrelationRule;
use crate::load::{LoadError, Loaded};
use crate::mapping::Admit;
use crate::scan::Scanner;
use crate::view::EventView;

/// What rules are indexed on while the set is built: a dataset (a Windows
/// family counts as one) and, when the rule names them, an Event ID.
type Key = (String, Option<i64>);

/// The rules an event of one family and Event ID is tested against (those
/// for the family, for its Event ID, and for everything, each once), and
/// the field filters they need; resolved when the set is built, so routing
/// an event costs two lookups and no allocation.
#[derive(Debug, Default)]
struct Route {
    rules: Vec<usize>,
    filters: Vec<usize>,
}

/// The routes of one dataset family.
#[derive(Debug, Default)]
struct Family {
    /// Events whose Event ID no rule names.
    any: Route,
    by_code: FxHashMap<i64, Route>,
}

/// Compiled rules and the index over them.
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<CompiledRule>,
    families: HashMap<String, Family>,
    /// Events of a dataset no rule names.
    elsewhere: Route,
    correlations: Vec<CorrelationRule>,
    scanner: Scanner,
    /// For each rule, the first rule with the same log source routing: rules
    /// sharing one are admitted or not together, so an event's admission is
    /// worked out once per distinct routing instead of once per rule.
    admit_of: Vec<u32>,
    /// Rules that could not be compiled, with the reason.
    pub skipped: Vec<LoadError>,
}

/// A rule that matched an event.
#[derive(Debug, Clone)]
pub struct Hit<'r> {
    /// The rule.
    pub rule: &'r CompiledRule,
    /// Its position in [`RuleSet::rules`].
    pub index: usize,
}

impl<'r> Hit<'r> {
    /// Why it matched.
    pub fn explain(&self, event: &Event) -> Vec<Matched> {
        self.rule.explain(&EventView::new(event))
    }

    /// The values of the rule's group fields.
    pub fn group(&self, event: &Event) -> Vec<(String, String)> {
        self.rule.group_of(&EventView::new(event))
    }
}

/// The family a dataset is indexed under: `windows.sysmon` → `windows`.
fn family(dataset: &str) -> &str {
    if dataset.starts_with("windows.") {
        "windows"
    } else {
        dataset
    }
}

/// Where a rule is indexed: under dataset families and Event IDs, or
/// (`None`) for every event.
fn keys_of(rule: &CompiledRule) -> Vec<Option<Key>> {
    // A log source that names no dataset: those the detection requires.
    let from_detection;
    let admits = if rule.route.admits.is_empty() {
        match rule.required_datasets() {
            Some(datasets) if !datasets.is_empty() => {
                from_detection = [Admit {
                    datasets,
                    ..Admit::default()
                }];
                &from_detection[..]
            }
            _ => return vec![None],
        }
    } else {
        &rule.route.admits[..]
    };
    let mut keys: Vec<Key> = Vec::new();
    let mut everywhere = false;
    let required_ids = rule.required_event_ids();
    for admit in admits {
        if admit.datasets.is_empty() {
            everywhere = true;
            continue;
        }
        // Event IDs from the log source, else from the detection itself.
        let ids = if admit.event_ids.is_empty() {
            required_ids.clone().unwrap_or_default()
        } else {
            admit.event_ids.clone()
        };
        for d in &admit.datasets {
            let d = family(d.trim_end_matches('.'));
            if ids.is_empty() {
                keys.push((d.to_owned(), None));
            } else {
                keys.extend(ids.iter().map(|id| (d.to_owned(), Some(*id))));
            }
        }
    }
    // A rule listed under a dataset for every Event ID needs no per-ID entries.
    let any_id: Vec<String> = keys
        .iter()
        .filter(|(_, id)| id.is_none())
        .map(|(d, _)| d.clone())
        .collect();
    keys.retain(|(d, id)| id.is_none() || !any_id.contains(d));
    keys.sort();
    keys.dedup();
    let mut out: Vec<Option<Key>> = keys.into_iter().map(Some).collect();
    if everywhere {
        out.push(None);
    }
    out
}

/// The admission of one event by the distinct routings met so far; a few
/// per event, so a short list searched in place.
#[derive(Default)]
struct Admitted {
    known: [(u32, bool); 8],
    len: usize,
}

impl Admitted {
    /// Whether routing `key` admits the event, worked out by `admits` the
    /// first time it is asked.
    fn get(&mut self, key: u32, admits: impl FnOnce() -> bool) -> bool {
        if let Some(&(_, known)) = self.known[..self.len].iter().find(|(k, _)| *k == key) {
            return known;
        }
        let answer = admits();
        if self.len < self.known.len() {
            self.known[self.len] = (key, answer);
            self.len += 1;
        }
        answer
    }
}

impl RuleSet {
    /// Compiles what was loaded. Load errors carry over into `skipped`, and
    /// so do rules that fail to compile; the rest are indexed.
    pub fn build(loaded: Loaded, options: &CompileOptions) -> RuleSet {
        let mut set = RuleSet {
            skipped: loaded.errors,
            ..RuleSet::default()
        };
        // An id names one rule: alerts carry it, correlations and the config
        // refer to it. See `unique_ids`.
        let mut taken = HashMap::new();
        let rules = unique_ids(loaded.rules, 0, &mut taken, &mut set.skipped, |r| {
            (&r.id, &r.source.path)
        });
        set.correlations = unique_ids(loaded.correlations, 1, &mut taken, &mut set.skipped, |c| {
            (&c.id, &c.source.path)
        });
        let mut index: HashMap<Key, Vec<usize>> = HashMap::new();
        let mut everywhere = Vec::new();
        // Rules compile on every core, then are indexed in their order.
        use rayon::prelude::*;
        let compiled: Vec<_> = rules
            .into_par_iter()
            .map(|rule| {
                let filters: Vec<_> = loaded
                    .filters
                    .iter()
                    .filter(|f| {
                        f.rules
                            .iter()
                            .any(|r| *r == rule.id || rule.name.as_deref() == Some(r.as_str()))
                    })
                    .collect();
                let (path, id) = (rule.source.path.clone(), rule.id.clone());
                (path, id, CompiledRule::new(rule, &filters, options))
            })
            .collect();
        for (path, id, result) in compiled {
            match result {
                Ok(compiled) => {
                    let at = set.rules.len();
                    for key in keys_of(&compiled) {
                        match key {
                            Some(key) => index.entry(key).or_default().push(at),
                            None => everywhere.push(at),
                        }
                    }
                    set.rules.push(compiled);
                }
                Err(reason) => set.skipped.push(LoadError {
                    path,
                    rule: Some(id),
                    reason,
                }),
            }
        }
        set.scanner = Scanner::build(&mut set.rules);
        let mut distinct: Vec<usize> = Vec::new();
        for (i, rule) in set.rules.iter().enumerate() {
            let first = distinct
                .iter()
                .copied()
                .find(|&d| set.rules[d].route.admits == rule.route.admits)
                .unwrap_or_else(|| {
                    distinct.push(i);
                    i
                });
            set.admit_of.push(first as u32);
        }
        let route = |lists: &[&[usize]]| {
            let mut rules: Vec<usize> = Vec::new();
            for &i in lists.iter().copied().flatten() {
                if !rules.contains(&i) {
                    rules.push(i);
                }
            }
            let filters = set.scanner.filters_for(rules.iter().copied());
            Route { rules, filters }
        };
        let none: &[usize] = &[];
        for (fam, code) in index.keys() {
            let any = index.get(&(fam.clone(), None)).map_or(none, Vec::as_slice);
            let family = set.families.entry(fam.clone()).or_default();
            match code {
                None => family.any = route(&[any, &everywhere]),
                Some(c) => {
                    let own = &index[&(fam.clone(), Some(*c))];
                    family.by_code.insert(*c, route(&[any, own, &everywhere]));
                }
            }
        }
        for family in set.families.values_mut() {
            if family.any.rules.is_empty() {
                family.any = route(&[&everywhere]);
            }
        }
        set.elsewhere = route(&[&everywhere]);
        set
    }

    /// The route of an event.
    fn route(&self, event: &EventView<'_>) -> &Route {
        let dataset = event.get_str("event.dataset").unwrap_or("");
        // Indexed in lower case; a dataset is nearly always written so.
        let lowered;
        let dataset = if dataset.bytes().any(|b| b.is_ascii_uppercase()) {
            lowered = dataset.to_ascii_lowercase();
            &lowered
        } else {
            dataset
        };
        let fam = family(dataset);
        match self.families.get(fam) {
            Some(f) => event
                .code()
                .and_then(|c| f.by_code.get(&c))
                .unwrap_or(&f.any),
            None => &self.elsewhere,
        }
    }

    /// The compiled rules.
    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// Builds the streaming evaluator of the loaded correlation rules; one
    /// that cannot run (it names a rule that did not load) is added to
    /// `skipped` with the reason.
    pub fn correlator(&mut self, limits: Limits) -> Correlator {
        let (correlator, failed) =
            Correlator::new(std::mem::take(&mut self.correlations), &self.rules, limits);
        for (c, reason) in failed {
            self.skipped.push(LoadError {
                path: c.source.path.clone(),
                rule: Some(c.id.clone()),
                reason,
            });
        }
        correlator
    }

    /// The rules that match `event`, in rule order within each index list.
    pub fn matches<'r>(&'r self, event: &Event) -> Vec<Hit<'r>> {
        let mut out = Vec::new();
        self.each_match(event, |hit, _| out.push(hit));
        out
    }

    /// Calls `f` with each rule that matches `event`, in the order of
    /// [`RuleSet::matches`], and the view the event was matched through:
    /// what an alert needs of the event (its group, why the rule matched)
    /// is then read without preparing the event again.
    pub fn each_match<'r>(&'r self, event: &Event, mut f: impl FnMut(Hit<'r>, &EventView<'_>)) {
        let event = &EventView::scanned(event, &self.scanner);
        let route = self.route(event);
        let mut possible = None;
        let mut admitted = Admitted::default();
        for &i in &route.rules {
            let rule = &self.rules[i];
            if self.scanner.is_keyed(i)
                && !possible
                    .get_or_insert_with(|| {
                        self.scanner.possible(|f| event.found(f), &route.filters)
                    })
                    .contains(i)
            {
                continue;
            }
            let admits = admitted.get(self.admit_of[i], || rule.admits(event));
            if admits && rule.matches(event) {
                f(Hit { rule, index: i }, event);
            }
        }
    }

    /// How many rules are evaluated in full for `event`: its candidates by
    /// routing, less those whose necessary literal is absent.
    pub fn evaluated(&self, event: &Event) -> usize {
        let event = &EventView::scanned(event, &self.scanner);
        let route = self.route(event);
        let possible = self.scanner.possible(|f| event.found(f), &route.filters);
        route
            .rules
            .iter()
            .filter(|&&i| !self.scanner.is_keyed(i) || possible.contains(i))
            .count()
    }

    /// How many rules `event` is tested against before pruning.
    pub fn candidates(&self, event: &Event) -> usize {
        self.route(&EventView::new(event)).rules.len()
    }
}

/// Where an id was first seen: its kind (0 detection, 1 correlation), file
/// and place among the kept items of that kind.
type Taken = HashMap<String, (u8, Arc<str>, usize)>;

/// The items whose ids are their own. A rule reusing an id is skipped with
/// the reason, except the documents of one collection (a shared `action:
/// global` block may give them its id) and a user's edited copy of a
/// built-in rule, which replaces it.
fn unique_ids<T>(
    items: Vec<T>,
    kind: u8,
    taken: &mut Taken,
    skipped: &mut Vec<LoadError>,
    id_of: impl Fn(&T) -> (&String, &Arc<str>),
) -> Vec<T> {
    let mut kept: Vec<Option<T>> = Vec::with_capacity(items.len());
    for item in items {
        let (id, path) = id_of(&item);
        let (id, path) = (id.clone(), path.clone());
        match taken.get(&id) {
            None => {
                taken.insert(id, (kind, path, kept.len()));
                kept.push(Some(item));
            }
            Some((_, first, _)) if *first == path => kept.push(Some(item)),
            Some((k, first, at))
                if *k == kind && first.starts_with("builtin:") && !path.starts_with("builtin:") =>
            {
                kept[*at] = None;
                taken.insert(id, (kind, path, kept.len()));
                kept.push(Some(item));
            }
            Some((_, first, _)) => skipped.push(LoadError {
                path,
                rule: Some(id),
                reason: format!("id already taken by a rule in {first}; rule ids must be unique"),
            }),
        }
    }
    kept.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_text;
    use rampart_event::Origin;

    fn windows_event(channel: &str, id: &str, data: &[(&str, &str)]) -> Event {
        let mut e = Event::new(Origin::new("t", 1), "raw");
        e.set(
            "event.dataset",
            if channel == "Security" {
                "windows.security"
            } else {
                "windows.sysmon"
            },
        );
        e.set("winlog.channel", channel);
        e.set("event.code", id);
        for (k, v) in data {
            e.set(format!("winlog.event_data.{k}"), *v);
        }
        e
    }

    const RULES: &str = r#"
title: Encoded PowerShell
id: r1
logsource: {product: windows, category: process_creation}
detection:
  selection:
    Image|endswith: '\powershell.exe'
    CommandLine|contains|windash: ' -enc '
  filter_admin:
    User: 'NT AUTHORITY\SYSTEM'
  condition: selection and not filter_admin
---
title: New user
id: r2
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 4720}
  condition: selection
---
title: Broken
id: r3
logsource: {product: windows, category: process_creation}
detection:
  selection: {CommandLine|re: '(?<=x)y'}
  condition: selection
"#;

    #[test]
    fn rules_selecting_a_dataset_in_their_detection_are_routed_by_it() {
        let rules = "title: IDS\nid: ids\nlogsource: {definition: IDS lines}\ndetection:\n  lines: {event.dataset: ids.alert, source.ip|exists: true}\n  sysmon: {event.dataset: windows.sysmon, event.code: 3}\n  condition: lines or sysmon\n---\ntitle: Anywhere\nid: any\nlogsource: {definition: any}\ndetection:\n  s: {event.dataset|contains: ids}\n  condition: s\n";
        let set = RuleSet::build(load_text(rules, "r.yml".into()), &CompileOptions::default());
        let event = |dataset: &str| {
            let mut e = Event::new(Origin::new("t", 1), "raw");
            e.set("event.dataset", dataset);
            e.set("source.ip", "192.0.2.1");
            e.set("event.code", 3i64);
            e
        };
        let hits = set.matches(&event("ids.alert"));
        let ids: Vec<&str> = hits.iter().map(|h| h.rule.rule.id.as_str()).collect();
        assert_eq!(ids, ["ids", "any"]);
        // Case is ignored, as the rule's own comparison ignores it.
        assert_eq!(set.matches(&event("IDS.Alert")).len(), 2);
        assert_eq!(set.candidates(&event("IDS.Alert")), 2);
        assert_eq!(set.matches(&event("windows.sysmon")).len(), 1);
        // Other datasets meet only the rule that names none.
        assert_eq!(set.candidates(&event("firewall.ufw")), 1);
        assert_eq!(set.candidates(&event("zeek.ids")), 1);
        assert_eq!(set.matches(&event("zeek.ids")).len(), 1);
    }

    #[test]
    fn a_second_rule_with_a_taken_id_is_skipped_and_said_so() {
        let mut loaded = load_text(RULES, "first.yml".into());
        loaded.extend(load_text(
            "title: Impostor\nid: r2\nlogsource: {product: linux}\ndetection: {s: {message: x}, condition: s}\n",
            "second.yml".into(),
        ));
        let set = RuleSet::build(loaded, &CompileOptions::default());
        let r2: Vec<_> = set.rules().iter().filter(|r| r.rule.id == "r2").collect();
        assert_eq!(r2.len(), 1);
        assert_eq!(r2[0].rule.title, "New user");
        let why = set
            .skipped
            .iter()
            .find(|s| &*s.path == "second.yml")
            .expect("the impostor is reported");
        assert!(
            why.reason.contains("already taken by a rule in first.yml"),
            "{why}"
        );
        // A collection's documents may share an id; a user's copy of a
        // built-in rule replaces it.
        let collection = "title: A\nid: shared\nlogsource: {product: linux}\ndetection: {s: {message: a}, condition: s}\n---\ntitle: B\nid: shared\nlogsource: {product: linux}\ndetection: {s: {message: b}, condition: s}\n";
        let mut loaded = load_text(collection, "coll.yml".into());
        loaded.extend(load_text(
            &RULES.replace("title: New user", "title: Built-in new user"),
            "builtin:r.yml".into(),
        ));
        loaded.extend(load_text(
            "title: My new user\nid: r2\nlogsource: {product: windows, service: security}\ndetection: {s: {EventID: 4720}, condition: s}\n",
            "mine.yml".into(),
        ));
        let set = RuleSet::build(loaded, &CompileOptions::default());
        let count = |id: &str| set.rules().iter().filter(|r| r.rule.id == id).count();
        assert_eq!(count("shared"), 2);
        assert_eq!(count("r2"), 1);
        let r2 = set.rules().iter().find(|r| r.rule.id == "r2").unwrap();
        assert_eq!(r2.rule.title, "My new user");
        assert!(set.skipped.iter().all(|s| s.rule.as_deref() != Some("r2")));
    }

    #[test]
    fn event_data_names_match_with_or_without_their_spaces() {
        // Defender writes `Threat Name` and `Process Name`; SigmaHQ's rules
        // say `ThreatName`, and a user's rule may copy the event's spelling.
        let rules = r#"
title: Mimikatz found by Defender
id: d1
logsource: {product: windows, service: windefend}
detection:
  selection: {EventID: 1116, ThreatName|contains: Mimikatz}
  condition: selection
---
title: Threat in a temp folder
id: d2
logsource: {product: windows, service: windefend}
detection:
  selection: {'Process Name|contains': '\Temp\'}
  condition: selection
"#;
        let set = RuleSet::build(load_text(rules, "d.yml".into()), &CompileOptions::default());
        assert!(set.skipped.is_empty(), "{:?}", set.skipped);
        let defender = |names: [&str; 2]| {
            let mut e = Event::new(Origin::new("t", 1), "raw");
            e.set("event.dataset", "windows.defender");
            e.set(
                "winlog.channel",
                "Microsoft-Windows-Windows Defender/Operational",
            );
            e.set("event.code", "1116");
            e.set(
                format!("winlog.event_data.{}", names[0]),
                "HackTool:Win32/Mimikatz.D",
            );
            e.set(
                format!("winlog.event_data.{}", names[1]),
                "C:\\Users\\a\\AppData\\Local\\Temp\\m.exe",
            );
            e
        };
        for names in [
            ["Threat Name", "Process Name"],
            ["ThreatName", "ProcessName"],
        ] {
            let mut hits: Vec<&str> = set
                .matches(&defender(names))
                .iter()
                .map(|h| h.rule.rule.id.as_str())
                .collect();
            hits.sort();
            assert_eq!(hits, ["d1", "d2"], "{names:?}");
        }
    }

    #[test]
    fn routes_by_channel_and_event_id() {
        let set = RuleSet::build(load_text(RULES, "r.yml".into()), &CompileOptions::default());
        assert_eq!(set.rules().len(), 2);
        assert_eq!(set.skipped.len(), 1, "the lookbehind regex is reported");
        assert_eq!(set.skipped[0].rule.as_deref(), Some("r3"));

        let sysmon = windows_event(
            "Microsoft-Windows-Sysmon/Operational",
            "1",
            &[
                (
                    "Image",
                    "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                ),
                ("CommandLine", "powershell /ENC SQBFAFgA"),
            ],
        );
        let ids: Vec<_> = set
            .matches(&sysmon)
            .iter()
            .map(|h| h.rule.rule.id.clone())
            .collect();
        assert_eq!(ids, ["r1"]);
        let explained = set.matches(&sysmon)[0].explain(&sysmon);
        assert_eq!(explained[0].field.as_deref(), Some("Image"));

        // The same Event ID under another channel is not process creation.
        let other = windows_event(
            "Application",
            "1",
            &[("Image", "x\\powershell.exe"), ("CommandLine", "a -enc b")],
        );
        assert!(set.matches(&other).is_empty());

        // Security 4688 names the image NewProcessName.
        let security = windows_event(
            "Security",
            "4688",
            &[
                ("NewProcessName", "C:\\x\\POWERSHELL.EXE"),
                ("CommandLine", "powershell -enc AAA"),
                ("SubjectUserName", "bob"),
            ],
        );
        assert_eq!(set.matches(&security).len(), 1);
        let filtered = windows_event(
            "Security",
            "4688",
            &[
                ("NewProcessName", "C:\\x\\powershell.exe"),
                ("CommandLine", "powershell -enc AAA"),
                ("SubjectUserName", "NT AUTHORITY\\SYSTEM"),
            ],
        );
        assert!(set.matches(&filtered).is_empty());

        let new_user = windows_event("Security", "4720", &[]);
        assert_eq!(set.matches(&new_user)[0].rule.rule.id, "r2");
        assert_eq!(set.candidates(&new_user), 1);
        // The new-user rule is indexed under its own Event ID, from its detection.
        assert_eq!(set.candidates(&security), 1);
    }
}
