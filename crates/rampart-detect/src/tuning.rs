//! Tuning from a configuration file, never from code edits: rules switched
//! off, correlation thresholds and time spans changed, and suppressions
//! (allowlists) that drop alerts by rule, field value or address range, and
//! event time.
//!
//! ```yaml
//! rules:
//!   ssh-brute-force: {threshold: 10, timespan: 10m}
//!   win-watchlist-event: {enabled: false}
//! suppress:
//!   - rule: scanner-user-agent          # omit, or "*", for every rule
//!     field: source.ip
//!     values: [10.0.0.5, 192.168.0.0/16]
//!   - field: host.name
//!     values: [build01]
//!     until: 2026-12-31T00:00:00Z       # event time; `from` too
//! business_hours:
//!   timezone: Europe/Berlin             # the clock `hour` rules read
//!   start: 8                            # whole hours, 0-24 (or "08:00")
//!   end: 18
//! limits:
//!   alert_events: 25                    # events kept in one alert
//!   groups: 100000                      # groups kept per correlation
//! ```
//!
//! Business hours reach the rules that test them by two searches named
//! `before_hours` (`@timestamp|hour|lt: START`) and `after_hours`
//! (`@timestamp|hour|gte: END`), as the built-in `ssh-login-off-hours` does.

use std::collections::HashMap;

use ipnet::IpNet;
use rampart_event::Timestamp;
use yaml_rust2::{Yaml, YamlLoader};

use crate::alert::Alert;
use crate::correlate::Limits;
use crate::correlation::parse_timespan;
use crate::load::Loaded;
use crate::pattern::Scalar;
use crate::rule::Search;

/// Changes to one rule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleTuning {
    /// `false` removes the rule.
    pub enabled: Option<bool>,
    /// A correlation's new lower bound (`gte`).
    pub threshold: Option<f64>,
    /// A correlation's new time span.
    pub timespan: Option<std::time::Duration>,
}

/// One value a suppression matches: text (case-insensitive) or a network.
#[derive(Debug, Clone, PartialEq)]
enum Allowed {
    Text(String),
    Net(IpNet),
}

/// Alerts to drop.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppression {
    /// The rule id, or every rule.
    pub rule: Option<String>,
    /// The field whose value decides.
    pub field: String,
    values: Vec<Allowed>,
    /// Only alerts at or after this event time.
    pub from: Option<Timestamp>,
    /// Only alerts before this event time.
    pub until: Option<Timestamp>,
}

/// The whole tuning file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tuning {
    /// Per rule id.
    pub rules: HashMap<String, RuleTuning>,
    /// Suppressions, in file order.
    pub suppress: Vec<Suppression>,
    /// Alert groups suppressed: a rule id and the group's values, all of
    /// which an alert must have (made from alerts marked false positives).
    pub suppressed_groups: Vec<(String, Vec<(String, String)>)>,
    /// The zone of business hours (`business_hours.timezone`), for rules
    /// that use the `hour` modifier.
    pub hour_zone: Option<String>,
    /// The hours business starts and ends (`business_hours.start`, `end`).
    pub hours: Option<(u8, u8)>,
    /// `limits.alert_events`.
    pub alert_events: Option<usize>,
    /// `limits.groups`.
    pub groups: Option<usize>,
    /// Values of Sigma's `%placeholders%` (`placeholders.<name>`), which
    /// rules with the `expand` modifier need before they can run.
    pub placeholders: HashMap<String, Vec<String>>,
}

/// A whole hour, 0-24: `8`, `"08"` or `"08:00"`.
fn hour(y: &Yaml, what: &str) -> Result<u8, String> {
    let n = match y {
        Yaml::Integer(i) => *i,
        Yaml::String(s) => {
            let (h, m) = s.split_once(':').unwrap_or((s, "00"));
            if m != "00" {
                return Err(format!("{what} '{s}': business hours are whole hours"));
            }
            h.parse()
                .map_err(|_| format!("{what} '{s}' is not an hour"))?
        }
        _ => return Err(format!("{what} is an hour, 0-24")),
    };
    u8::try_from(n)
        .ok()
        .filter(|h| *h <= 24)
        .ok_or_else(|| format!("{what} {n} is not an hour, 0-24"))
}

/// A positive count.
fn count(y: &Yaml, what: &str) -> Result<usize, String> {
    y.as_i64()
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{what} is a positive number"))
}

fn timestamp(y: &Yaml, what: &str) -> Result<Option<Timestamp>, String> {
    match y {
        Yaml::BadValue | Yaml::Null => Ok(None),
        other => {
            let text = other
                .as_str()
                .ok_or_else(|| format!("{what} must be an RFC 3339 time"))?;
            text.parse()
                .map(Some)
                .map_err(|e| format!("{what} '{text}': {e}"))
        }
    }
}

impl Tuning {
    /// Reads a tuning file's text.
    pub fn from_yaml(text: &str) -> Result<Tuning, String> {
        let docs = YamlLoader::load_from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
        let Some(doc) = docs.first() else {
            return Ok(Tuning::default());
        };
        let mut tuning = Tuning::default();
        if let Yaml::Hash(h) = doc {
            for key in h.keys() {
                match key.as_str() {
                    Some("rules" | "suppress" | "business_hours" | "limits" | "placeholders") => {}
                    other => {
                        return Err(format!(
                            "unknown section {other:?} (rules, suppress, business_hours, limits, placeholders)"
                        ))
                    }
                }
            }
        }
        if let Yaml::Hash(rules) = &doc["rules"] {
            for (id, body) in rules {
                let id = id.as_str().ok_or("a rule id is not text")?.to_owned();
                let mut t = RuleTuning::default();
                if let Yaml::Hash(fields) = body {
                    for (k, v) in fields {
                        match k.as_str() {
                            Some("enabled") => {
                                t.enabled = Some(
                                    v.as_bool()
                                        .ok_or_else(|| format!("{id}: enabled is true or false"))?,
                                )
                            }
                            Some("threshold") => {
                                t.threshold = Some(match v {
                                    Yaml::Integer(i) => *i as f64,
                                    Yaml::Real(r) => {
                                        r.parse().map_err(|_| format!("{id}: bad threshold"))?
                                    }
                                    _ => return Err(format!("{id}: threshold is a number")),
                                })
                            }
                            Some("timespan") => {
                                let text = v
                                    .as_str()
                                    .ok_or_else(|| format!("{id}: timespan like 5m"))?;
                                t.timespan = Some(
                                    parse_timespan(text)
                                        .ok_or_else(|| format!("{id}: bad timespan '{text}'"))?,
                                );
                            }
                            other => {
                                return Err(format!(
                                "{id}: unknown setting {other:?} (enabled, threshold, timespan)"
                            ))
                            }
                        }
                    }
                }
                tuning.rules.insert(id, t);
            }
        }
        match &doc["business_hours"] {
            Yaml::BadValue => {}
            Yaml::Hash(h) => {
                for key in h.keys() {
                    if !matches!(key.as_str(), Some("timezone" | "start" | "end")) {
                        return Err(format!(
                            "business_hours: unknown setting {:?} (timezone, start, end)",
                            key.as_str()
                        ));
                    }
                }
                let hours = &doc["business_hours"];
                if let Some(zone) = hours["timezone"].as_str() {
                    tuning.hour_zone = Some(zone.to_owned());
                }
                match (&hours["start"], &hours["end"]) {
                    (Yaml::BadValue, Yaml::BadValue) => {}
                    (Yaml::BadValue, _) | (_, Yaml::BadValue) => {
                        return Err("business_hours needs both start and end".into())
                    }
                    (start, end) => {
                        let (start, end) = (
                            hour(start, "business_hours.start")?,
                            hour(end, "business_hours.end")?,
                        );
                        if start >= end {
                            return Err(format!(
                                "business_hours: start {start} is not before end {end}"
                            ));
                        }
                        tuning.hours = Some((start, end));
                    }
                }
            }
            _ => return Err("business_hours holds timezone, start and end".into()),
        }
        match &doc["placeholders"] {
            Yaml::BadValue => {}
            Yaml::Hash(h) => {
                for (name, values) in h {
                    let name = name.as_str().ok_or("placeholders: a name is not text")?;
                    let scalar = |v: &Yaml| match v {
                        Yaml::String(s) => Some(s.clone()),
                        Yaml::Integer(i) => Some(i.to_string()),
                        _ => None,
                    };
                    let values: Vec<String> = match values {
                        Yaml::Array(items) => items.iter().map(scalar).collect::<Option<_>>(),
                        one => scalar(one).map(|v| vec![v]),
                    }
                    .ok_or_else(|| {
                        format!("placeholders.{name}: values are text or a list of text")
                    })?;
                    tuning
                        .placeholders
                        .insert(name.trim_matches('%').to_owned(), values);
                }
            }
            _ => return Err("placeholders maps each name to its values".into()),
        }
        match &doc["limits"] {
            Yaml::BadValue => {}
            Yaml::Hash(h) => {
                for (k, v) in h {
                    match k.as_str() {
                        Some("alert_events") => {
                            tuning.alert_events = Some(count(v, "limits.alert_events")?)
                        }
                        Some("groups") => tuning.groups = Some(count(v, "limits.groups")?),
                        other => {
                            return Err(format!(
                                "limits: unknown setting {other:?} (alert_events, groups)"
                            ))
                        }
                    }
                }
            }
            _ => return Err("limits holds alert_events and groups".into()),
        }
        if let Yaml::Array(items) = &doc["suppress"] {
            for (n, item) in items.iter().enumerate() {
                let what = format!("suppress entry {}", n + 1);
                let field = item["field"]
                    .as_str()
                    .ok_or_else(|| format!("{what}: no field"))?
                    .to_owned();
                let list = match &item["values"] {
                    Yaml::Array(v) => v.clone(),
                    Yaml::BadValue => return Err(format!("{what}: no values")),
                    one => vec![one.clone()],
                };
                let values = list
                    .iter()
                    .map(|v| {
                        let text = match v {
                            Yaml::String(s) | Yaml::Real(s) => s.clone(),
                            Yaml::Integer(i) => i.to_string(),
                            _ => return Err(format!("{what}: a value is not text")),
                        };
                        Ok(match text.parse::<IpNet>() {
                            Ok(net) => Allowed::Net(net),
                            Err(_) => Allowed::Text(text.to_lowercase()),
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                let rule = item["rule"]
                    .as_str()
                    .filter(|r| *r != "*")
                    .map(str::to_owned);
                tuning.suppress.push(Suppression {
                    rule,
                    field,
                    values,
                    from: timestamp(&item["from"], &format!("{what}: from"))?,
                    until: timestamp(&item["until"], &format!("{what}: until"))?,
                });
            }
        }
        Ok(tuning)
    }

    /// The correlation and alert limits, with the file's changes.
    pub fn limits(&self) -> Limits {
        let base = Limits::default();
        Limits {
            max_alert_events: self.alert_events.unwrap_or(base.max_alert_events),
            max_groups: self.groups.unwrap_or(base.max_groups),
            ..base
        }
    }

    /// Whether business hours are set but no loaded rule tests them (a
    /// shared config run with other rules): worth a warning, not an error.
    pub fn hours_unread(&self, loaded: &Loaded) -> bool {
        self.hours.is_some()
            && !loaded.rules.iter().any(|r| {
                r.searches
                    .iter()
                    .any(|(name, _)| name == "before_hours" || name == "after_hours")
            })
    }

    /// Applies rule changes to what was loaded; returns what it could not
    /// apply (an id no loaded rule has, a threshold for a rule that has
    /// none), so nothing is silently ignored.
    pub fn apply(&self, loaded: &mut Loaded) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some((start, end)) = self.hours {
            for rule in &mut loaded.rules {
                for (name, search) in &mut rule.searches {
                    let (bound, modifier) = match name.as_str() {
                        "before_hours" => (start, "lt"),
                        "after_hours" => (end, "gte"),
                        _ => continue,
                    };
                    let Search::Fields(maps) = search else {
                        continue;
                    };
                    for term in maps.iter_mut().flatten() {
                        if term.field == "@timestamp" && term.modifiers == ["hour", modifier] {
                            term.values = vec![Scalar::Int(i64::from(bound))];
                        }
                    }
                }
            }
        }
        for (id, t) in &self.rules {
            let in_rules = loaded.rules.iter().any(|r| &r.id == id);
            let in_correlations = loaded.correlations.iter().any(|c| &c.id == id);
            if !in_rules && !in_correlations {
                problems.push(format!("{id}: no loaded rule has this id"));
                continue;
            }
            if !in_correlations && (t.threshold.is_some() || t.timespan.is_some()) {
                problems.push(format!(
                    "{id}: threshold and timespan are a correlation's; this rule alerts on each event"
                ));
            }
            if t.enabled == Some(false) {
                loaded.rules.retain(|r| &r.id != id);
                loaded.correlations.retain(|c| &c.id != id);
                continue;
            }
            for c in loaded.correlations.iter_mut().filter(|c| &c.id == id) {
                if let Some(n) = t.threshold {
                    c.threshold = crate::correlation::Threshold {
                        gte: Some(n),
                        ..Default::default()
                    };
                }
                if let Some(span) = t.timespan {
                    c.timespan = span;
                }
            }
        }
        problems.sort();
        problems
    }

    /// Whether a suppression drops `alert`.
    pub fn suppresses(&self, alert: &Alert) -> bool {
        self.suppress.iter().any(|s| s.matches(alert))
            || self.suppressed_groups.iter().any(|(rule, group)| {
                *rule == alert.rule_id && group.iter().all(|pair| alert.group.contains(pair))
            })
    }
}

impl Suppression {
    fn matches(&self, alert: &Alert) -> bool {
        if self.rule.as_ref().is_some_and(|r| *r != alert.rule_id) {
            return false;
        }
        let time = alert.first_seen.or(alert.timestamp);
        if self.from.is_some_and(|f| time.is_none_or(|t| t < f))
            || self.until.is_some_and(|u| time.is_none_or(|t| t >= u))
        {
            return false;
        }
        let Some(value) = alert.field(&self.field) else {
            return false;
        };
        let lower = value.to_lowercase();
        let ip = value.parse::<std::net::IpAddr>().ok();
        self.values.iter().any(|allowed| match allowed {
            Allowed::Text(t) => *t == lower,
            Allowed::Net(net) => ip.is_some_and(|ip| net.contains(&ip)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_text;
    use rampart_event::{Event, Origin};

    fn alert(rule: &str, ip: &str) -> Alert {
        let l = load_text(
            &format!("title: t\nid: {rule}\ndetection:\n  s: {{a: 1}}\n  condition: s\n"),
            "t.yml".into(),
        );
        let mut e = Event::new(Origin::new("x.log", 1), "raw");
        e.timestamp = Some("2026-06-01T00:00:00Z".parse().unwrap());
        e.set("source.ip", ip.parse::<std::net::IpAddr>().unwrap());
        Alert::single(&l.rules[0], Vec::new(), Vec::new(), &e)
    }

    #[test]
    fn suppressions_by_rule_value_network_and_time() {
        let t = Tuning::from_yaml(
            "suppress:\n  - rule: scanner\n    field: source.ip\n    values: [10.0.0.0/8]\n  - field: source.ip\n    values: 203.0.113.5\n    until: 2026-01-01T00:00:00Z\n",
        )
        .unwrap();
        assert!(t.suppresses(&alert("scanner", "10.1.2.3")));
        assert!(
            !t.suppresses(&alert("other", "10.1.2.3")),
            "the first entry names one rule"
        );
        assert!(!t.suppresses(&alert("scanner", "11.1.2.3")));
        assert!(
            !t.suppresses(&alert("any", "203.0.113.5")),
            "the second entry expired before the event"
        );
    }

    #[test]
    fn thresholds_and_switches_apply_and_typos_are_reported() {
        let text = "title: base\nid: b\nname: b\ndetection:\n  s: {a: 1}\n  condition: s\n---\ntitle: c\nid: corr\ncorrelation:\n  type: event_count\n  rules: [b]\n  group-by: [x]\n  timespan: 5m\n  condition: {gte: 5}\n";
        let mut loaded = load_text(text, "t.yml".into());
        let t = Tuning::from_yaml("rules:\n  corr: {threshold: 10, timespan: 1h}\n  b: {enabled: true}\n  nope: {enabled: false}\n").unwrap();
        assert_eq!(t.apply(&mut loaded), ["nope: no loaded rule has this id"]);
        assert_eq!(loaded.correlations[0].threshold.gte, Some(10.0));
        assert_eq!(loaded.correlations[0].timespan.as_secs(), 3600);
        let off = Tuning::from_yaml("rules:\n  b: {enabled: false}\n").unwrap();
        off.apply(&mut loaded);
        assert!(loaded.rules.is_empty());
        assert!(Tuning::from_yaml("rulez: {}").is_err());
        assert!(Tuning::from_yaml("rules:\n  b: {threshhold: 3}\n").is_err());
        // A threshold means nothing to a rule that alerts on each event.
        let mut loaded = load_text(text, "t.yml".into());
        let t = Tuning::from_yaml("rules:\n  b: {threshold: 3}\n").unwrap();
        assert_eq!(t.apply(&mut loaded).len(), 1);
    }

    #[test]
    fn business_hours_replace_the_bounds_of_the_rules_that_test_them() {
        let text = "title: off\nid: off\ndetection:\n  login: {event.action: ssh-login}\n  before_hours: {'@timestamp|hour|lt': 7}\n  after_hours: {'@timestamp|hour|gte': 22}\n  condition: login and (before_hours or after_hours)\n";
        let mut loaded = load_text(text, "t.yml".into());
        let t = Tuning::from_yaml(
            "business_hours:\n  timezone: Europe/Berlin\n  start: \"08:00\"\n  end: 18\n",
        )
        .unwrap();
        assert_eq!(t.hour_zone.as_deref(), Some("Europe/Berlin"));
        assert!(t.apply(&mut loaded).is_empty());
        let bounds: Vec<_> = loaded.rules[0]
            .searches
            .iter()
            .filter_map(|(name, search)| match search {
                Search::Fields(maps) => Some((name.clone(), maps[0][0].values.clone())),
                _ => None,
            })
            .collect();
        assert!(bounds.contains(&("before_hours".into(), vec![Scalar::Int(8)])));
        assert!(bounds.contains(&("after_hours".into(), vec![Scalar::Int(18)])));
        for bad in [
            "business_hours: {start: 8}",
            "business_hours: {start: \"08:30\", end: 18}",
            "business_hours: {start: 18, end: 8}",
            "business_hours: {start: 8, end: 25}",
            "business_hours: {opens: 8}",
            "limits: {alert_events: 0}",
        ] {
            assert!(Tuning::from_yaml(bad).is_err(), "{bad}");
        }
        // Hours no loaded rule reads are worth a warning, not an error.
        let mut none = load_text(
            "title: b\nid: b\ndetection:\n  s: {a: 1}\n  condition: s\n",
            "t.yml".into(),
        );
        let t = Tuning::from_yaml("business_hours: {start: 8, end: 18}").unwrap();
        assert!(t.hours_unread(&none));
        assert!(t.apply(&mut none).is_empty());
        assert!(!t.hours_unread(&loaded));
        let t = Tuning::from_yaml("limits: {alert_events: 25}").unwrap();
        assert_eq!(t.limits().max_alert_events, 25);
    }
}
