//! Reading Sigma YAML: files of one or more documents, rule collections
//! (`action: global`, `reset`, `repeat`), detection, correlation and filter
//! rules. A document that cannot be read becomes a [`LoadError`] naming the
//! file, the rule and the reason; the other documents are still read.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlLoader};

use crate::correlation::CorrelationRule;
use crate::pattern::Scalar;
use crate::rule::{Level, LogSource, Rule, RuleSource, Search, Term};
use crate::yaml::{scalar_text, str_at, strings_at, text_at};

/// A rule that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file.
    pub path: Arc<str>,
    /// The rule's id or title, when it got that far.
    pub rule: Option<String>,
    /// Why.
    pub reason: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rule {
            Some(rule) => write!(f, "{}: rule {rule}: {}", self.path, self.reason),
            None => write!(f, "{}: {}", self.path, self.reason),
        }
    }
}

/// A Sigma filter: extra conditions applied to the rules it names.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// `id`.
    pub id: String,
    /// `title`.
    pub title: String,
    /// `logsource` (the filter applies only to rules with a compatible one).
    pub logsource: LogSource,
    /// The rule ids or names it applies to.
    pub rules: Vec<String>,
    /// Its searches.
    pub searches: Vec<(String, Search)>,
    /// Its condition.
    pub conditions: Vec<String>,
    /// Where it came from.
    pub source: RuleSource,
}

/// Everything one YAML text holds.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Detection rules.
    pub rules: Vec<Rule>,
    /// Correlation rules.
    pub correlations: Vec<CorrelationRule>,
    /// Filters.
    pub filters: Vec<Filter>,
    /// Documents that could not be read.
    pub errors: Vec<LoadError>,
}

impl Loaded {
    /// Adds another text's rules.
    pub fn extend(&mut self, other: Loaded) {
        self.rules.extend(other.rules);
        self.correlations.extend(other.correlations);
        self.filters.extend(other.filters);
        self.errors.extend(other.errors);
    }
}

/// Reads every `.yml`/`.yaml` file under `path` (a file or a folder).
pub fn load_path(path: &Path) -> Loaded {
    let mut loaded = Loaded::default();
    let mut files = Vec::new();
    collect(path, &mut files);
    files.sort();
    if files.is_empty() {
        loaded.errors.push(LoadError {
            path: path.display().to_string().into(),
            rule: None,
            reason: "no .yml or .yaml rule files here".into(),
        });
    }
    // Files are read and parsed on every core (a rule pack is thousands of
    // small files), then joined in path order.
    use rayon::prelude::*;
    let each: Vec<Loaded> = files
        .par_iter()
        .map(|file| {
            let shown: Arc<str> = file.display().to_string().into();
            match std::fs::read_to_string(file) {
                Ok(text) => load_text(&text, shown),
                Err(e) => Loaded {
                    errors: vec![LoadError {
                        path: shown,
                        rule: None,
                        reason: e.to_string(),
                    }],
                    ..Loaded::default()
                },
            }
        })
        .collect();
    for one in each {
        loaded.extend(one);
    }
    loaded
}

fn collect(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            out.push(path.to_path_buf());
            return;
        };
        for entry in entries.flatten() {
            collect(&entry.path(), out);
        }
    } else if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
        || !path.exists()
    {
        out.push(path.to_path_buf());
    }
}

/// Reads the rules of one YAML text.
pub fn load_text(text: &str, path: Arc<str>) -> Loaded {
    let mut loaded = Loaded::default();
    let docs = match YamlLoader::load_from_str(text) {
        Ok(docs) => docs,
        Err(e) => {
            loaded.errors.push(LoadError {
                path,
                rule: None,
                reason: format!("not valid YAML: {e}"),
            });
            return loaded;
        }
    };
    let mut global: Option<Yaml> = None;
    let mut previous: Option<Yaml> = None;
    for (index, doc) in docs.into_iter().enumerate() {
        let source = RuleSource {
            path: Arc::clone(&path),
            document: index,
        };
        let mut doc = doc;
        let action = str_at(&doc, "action").map(str::to_owned);
        if let Yaml::Hash(h) = &mut doc {
            h.remove(&key("action"));
        }
        match action.as_deref() {
            Some("global") => {
                global = Some(doc);
                continue;
            }
            Some("reset") => {
                global = None;
                continue;
            }
            Some("repeat") => {
                if let Some(prev) = &previous {
                    doc = merge(prev.clone(), doc);
                }
            }
            Some(other) => {
                loaded.errors.push(LoadError {
                    path: Arc::clone(&path),
                    rule: None,
                    reason: format!("document {index}: unknown action '{other}'"),
                });
                continue;
            }
            None => {}
        }
        previous = Some(doc.clone());
        let doc = match &global {
            Some(g) => merge(g.clone(), doc),
            None => doc,
        };
        if doc.is_null() {
            continue;
        }
        let label = text_at(&doc, "id").or_else(|| text_at(&doc, "title"));
        let result = if !doc["correlation"].is_badvalue() {
            CorrelationRule::from_yaml(&doc, source).map(|c| loaded.correlations.push(c))
        } else if !doc["filter"].is_badvalue() {
            filter(&doc, source).map(|f| loaded.filters.push(f))
        } else {
            rule(&doc, source).map(|r| loaded.rules.push(r))
        };
        if let Err(reason) = result {
            loaded.errors.push(LoadError {
                path: Arc::clone(&path),
                rule: label,
                reason,
            });
        }
    }
    loaded
}

/// Deep-merges `over` into `base`: maps merge key by key, anything else is replaced.
fn merge(base: Yaml, over: Yaml) -> Yaml {
    match (base, over) {
        (Yaml::Hash(mut b), Yaml::Hash(o)) => {
            for (k, v) in o {
                let merged = match b.remove(&k) {
                    Some(existing) => merge(existing, v),
                    None => v,
                };
                b.insert(k, merged);
            }
            Yaml::Hash(b)
        }
        (_, over) => over,
    }
}

fn key(name: &str) -> Yaml {
    Yaml::String(name.to_owned())
}

fn logsource(doc: &Yaml) -> LogSource {
    let ls = &doc["logsource"];
    let get = |k: &str| ls[k].as_str().map(|s| s.trim().to_ascii_lowercase());
    LogSource {
        product: get("product"),
        category: get("category"),
        service: get("service"),
    }
}

fn rule(doc: &Yaml, source: RuleSource) -> Result<Rule, String> {
    let title = str_at(doc, "title").ok_or("no title")?.to_owned();
    let id = text_at(doc, "id").unwrap_or_else(|| format!("{}#{}", source.path, source.document));
    let detection = &doc["detection"];
    let Yaml::Hash(detection) = detection else {
        return Err("no detection section".into());
    };
    let (searches, conditions) = searches(detection)?;
    let level = match str_at(doc, "level") {
        Some(l) => Level::parse(l).ok_or_else(|| format!("unknown level '{l}'"))?,
        None => Level::Medium,
    };
    Ok(Rule {
        id,
        name: text_at(doc, "name"),
        title,
        description: str_at(doc, "description").map(str::to_owned),
        status: str_at(doc, "status").map(str::to_owned),
        level,
        author: str_at(doc, "author").map(str::to_owned),
        references: strings_at(doc, "references"),
        tags: strings_at(doc, "tags"),
        falsepositives: strings_at(doc, "falsepositives"),
        logsource: logsource(doc),
        searches,
        conditions,
        group: strings_at(&doc["rampart"], "group"),
        dedup: match str_at(&doc["rampart"], "dedup") {
            Some(text) => Some(
                crate::correlation::parse_timespan(text)
                    .ok_or_else(|| format!("rampart.dedup: bad time span '{text}'"))?,
            ),
            None => None,
        },
        passthrough: crate::passthrough::Passthrough::from_yaml(doc)?,
        source,
    })
}

/// A test a rule carries in its `rampart.tests` block: logs and how many
/// alerts the rule must raise on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTest {
    /// The rule (or correlation) the test belongs to.
    pub rule_id: String,
    /// What the test shows.
    pub name: String,
    /// The alerts expected.
    pub alerts: u64,
    /// Raw log text in any format rampart reads.
    pub logs: String,
}

/// The tests of every document of a YAML text.
pub fn rule_tests(text: &str) -> Result<Vec<RuleTest>, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
    let mut out = Vec::new();
    for doc in &docs {
        let Yaml::Array(tests) = &doc["rampart"]["tests"] else {
            continue;
        };
        let rule_id = text_at(doc, "id").ok_or("a document with tests has no id")?;
        for t in tests {
            out.push(RuleTest {
                rule_id: rule_id.clone(),
                name: str_at(t, "name").unwrap_or("unnamed").to_owned(),
                alerts: t["alerts"]
                    .as_i64()
                    .and_then(|n| u64::try_from(n).ok())
                    .ok_or_else(|| format!("{rule_id}: a test has no 'alerts' count"))?,
                logs: str_at(t, "logs")
                    .ok_or_else(|| format!("{rule_id}: a test has no logs"))?
                    .to_owned(),
            });
        }
    }
    Ok(out)
}

fn filter(doc: &Yaml, source: RuleSource) -> Result<Filter, String> {
    let title = str_at(doc, "title").ok_or("no title")?.to_owned();
    let Yaml::Hash(body) = &doc["filter"] else {
        return Err("filter is not a map".into());
    };
    let rules = match body.get(&key("rules")) {
        Some(y) => match y {
            Yaml::Array(items) => items.iter().filter_map(scalar_text).collect(),
            other => scalar_text(other).into_iter().collect(),
        },
        None => Vec::new(),
    };
    let mut body = body.clone();
    body.remove(&key("rules"));
    let (searches, conditions) = searches(&body)?;
    Ok(Filter {
        id: text_at(doc, "id").unwrap_or_else(|| title.clone()),
        title,
        logsource: logsource(doc),
        rules,
        searches,
        conditions,
        source,
    })
}

type Searches = (Vec<(String, Search)>, Vec<String>);

fn searches(detection: &Hash) -> Result<Searches, String> {
    let mut out = Vec::new();
    let mut conditions = Vec::new();
    for (k, v) in detection {
        let name = k.as_str().ok_or("a detection key is not text")?;
        match name {
            "condition" => match v {
                Yaml::Array(items) => {
                    for item in items {
                        conditions.push(item.as_str().ok_or("condition is not text")?.to_owned());
                    }
                }
                other => conditions.push(other.as_str().ok_or("condition is not text")?.to_owned()),
            },
            "timeframe" => return Err("'timeframe' is Sigma 1; write a correlation rule".into()),
            _ => out.push((name.to_owned(), search(name, v)?)),
        }
    }
    if conditions.is_empty() {
        return Err("detection has no condition".into());
    }
    Ok((out, conditions))
}

fn search(name: &str, y: &Yaml) -> Result<Search, String> {
    match y {
        Yaml::Hash(map) => {
            if let Some(modifiers) = keyword_modifiers(map) {
                let values = map
                    .values()
                    .next()
                    .map(values)
                    .transpose()?
                    .unwrap_or_default();
                return Ok(Search::Keywords { modifiers, values });
            }
            Ok(Search::Fields(vec![terms(map)?]))
        }
        Yaml::Array(items)
            if items.iter().all(|i| matches!(i, Yaml::Hash(_))) && !items.is_empty() =>
        {
            let mut groups = Vec::new();
            for item in items {
                if let Yaml::Hash(map) = item {
                    groups.push(terms(map)?);
                }
            }
            Ok(Search::Fields(groups))
        }
        Yaml::Array(_) | Yaml::String(_) | Yaml::Integer(_) | Yaml::Real(_) => {
            Ok(Search::Keywords {
                modifiers: Vec::new(),
                values: values(y)?,
            })
        }
        _ => Err(format!("search '{name}' is neither a map nor a list")),
    }
}

/// A map whose only key is `|mod|mod` is a keyword search with modifiers.
fn keyword_modifiers(map: &Hash) -> Option<Vec<String>> {
    if map.len() != 1 {
        return None;
    }
    let k = map.keys().next()?.as_str()?;
    let rest = k.strip_prefix('|')?;
    Some(rest.split('|').map(str::to_owned).collect())
}

fn terms(map: &Hash) -> Result<Vec<Term>, String> {
    let mut out = Vec::new();
    for (k, v) in map {
        let k = match k {
            Yaml::String(s) => s.clone(),
            Yaml::Integer(i) => i.to_string(),
            _ => return Err("a field name is not text".into()),
        };
        let mut parts = k.split('|');
        let field = parts.next().unwrap_or_default().to_owned();
        let modifiers = parts.map(str::to_owned).collect();
        out.push(Term {
            field,
            modifiers,
            values: values(v)?,
        });
    }
    Ok(out)
}

fn values(y: &Yaml) -> Result<Vec<Scalar>, String> {
    match y {
        Yaml::Array(items) => items.iter().map(scalar).collect(),
        other => Ok(vec![scalar(other)?]),
    }
}

fn scalar(y: &Yaml) -> Result<Scalar, String> {
    Ok(match y {
        Yaml::String(s) => Scalar::Str(s.clone()),
        Yaml::Integer(i) => Scalar::Int(*i),
        Yaml::Real(r) => r
            .parse()
            .map(Scalar::Float)
            .unwrap_or_else(|_| Scalar::Str(r.clone())),
        Yaml::Boolean(b) => Scalar::Bool(*b),
        Yaml::Null => Scalar::Null,
        Yaml::Hash(_) | Yaml::Array(_) => return Err("a value is a nested map or list".into()),
        _ => return Err("a value cannot be read".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Loaded {
        load_text(text, "test.yml".into())
    }

    #[test]
    fn a_rule_with_every_search_shape() {
        let l = load(
            r#"
title: Test
id: 1234
level: high
tags: [attack.t1059.001, attack.execution]
logsource: {product: windows, category: process_creation}
detection:
  selection:
    Image|endswith: '\powershell.exe'
    CommandLine|contains|all: ['-nop', '-w hidden']
  alternatives:
    - ParentImage: 'C:\x.exe'
    - User: null
  keywords:
    - 'mimikatz'
    - 42
  kw_all:
    '|all': ['a', 'b']
  condition: selection and (alternatives or 1 of kw*)
"#,
        );
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        let r = &l.rules[0];
        assert_eq!((r.id.as_str(), r.level), ("1234", Level::High));
        assert_eq!(r.logsource.category.as_deref(), Some("process_creation"));
        let Search::Fields(groups) = &r.searches[0].1 else {
            panic!()
        };
        assert_eq!(groups[0][1].modifiers, ["contains", "all"]);
        let Search::Fields(groups) = &r.searches[1].1 else {
            panic!()
        };
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[1][0].values, [Scalar::Null]);
        assert_eq!(
            r.searches[2].1,
            Search::Keywords {
                modifiers: vec![],
                values: vec![Scalar::Str("mimikatz".into()), Scalar::Int(42)]
            }
        );
        assert!(
            matches!(&r.searches[3].1, Search::Keywords { modifiers, .. } if modifiers == &["all"])
        );
    }

    #[test]
    fn collections_merge_global_documents() {
        let l = load(
            r#"
action: global
title: Shared
logsource: {product: windows}
detection:
  condition: selection
---
id: a
logsource: {service: security}
detection:
  selection: {EventID: 4720}
---
id: b
logsource: {service: system}
detection:
  selection: {EventID: 7045}
---
action: repeat
id: c
detection:
  selection: {EventID: 7036}
"#,
        );
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        let ids: Vec<_> = l.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(l.rules[0].logsource.product.as_deref(), Some("windows"));
        assert_eq!(l.rules[0].logsource.service.as_deref(), Some("security"));
        assert_eq!(l.rules[2].logsource.service.as_deref(), Some("system"));
        assert_eq!(l.rules[2].conditions, ["selection"]);
        assert_eq!(l.rules[2].title, "Shared");
    }

    #[test]
    fn bad_documents_are_reported_and_the_rest_still_load() {
        let l = load(
            "title: No detection\nid: x1\n---\ntitle: Old\nid: x2\ndetection:\n  sel: {a: 1}\n  timeframe: 5m\n  condition: sel\n---\ntitle: Fine\ndetection:\n  sel: {a: 1}\n  condition: sel\n",
        );
        assert_eq!(l.rules.len(), 1);
        assert_eq!(l.errors.len(), 2);
        assert_eq!(l.errors[0].rule.as_deref(), Some("x1"));
        assert!(l.errors[1].reason.contains("correlation"));
        assert!(load("a: [").errors[0].reason.contains("YAML"));
    }
}
