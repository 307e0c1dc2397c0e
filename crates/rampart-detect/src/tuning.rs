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
//! ```

use std::collections::HashMap;

use ipnet::IpNet;
use rampart_event::Timestamp;
use yaml_rust2::{Yaml, YamlLoader};

use crate::alert::Alert;
use crate::correlation::parse_timespan;
use crate::load::Loaded;

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
    /// The zone of business hours (`business_hours.timezone`), for rules
    /// that use the `hour` modifier.
    pub hour_zone: Option<String>,
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
                    Some("rules" | "suppress" | "business_hours") => {}
                    other => {
                        return Err(format!(
                            "unknown section {other:?} (rules, suppress, business_hours)"
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
            hours => {
                tuning.hour_zone = Some(
                    hours["timezone"]
                        .as_str()
                        .ok_or("business_hours needs a timezone (an IANA name or an offset)")?
                        .to_owned(),
                );
            }
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

    /// Applies rule changes to what was loaded; returns the ids it names
    /// that no loaded rule has (so a typo is reported, not ignored).
    pub fn apply(&self, loaded: &mut Loaded) -> Vec<String> {
        let mut unknown = Vec::new();
        for (id, t) in &self.rules {
            let in_rules = loaded.rules.iter().any(|r| &r.id == id);
            let in_correlations = loaded.correlations.iter().any(|c| &c.id == id);
            if !in_rules && !in_correlations {
                unknown.push(id.clone());
                continue;
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
        unknown.sort();
        unknown
    }

    /// Whether a suppression drops `alert`.
    pub fn suppresses(&self, alert: &Alert) -> bool {
        self.suppress.iter().any(|s| s.matches(alert))
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
        assert_eq!(t.apply(&mut loaded), ["nope"]);
        assert_eq!(loaded.correlations[0].threshold.gte, Some(10.0));
        assert_eq!(loaded.correlations[0].timespan.as_secs(), 3600);
        let off = Tuning::from_yaml("rules:\n  b: {enabled: false}\n").unwrap();
        off.apply(&mut loaded);
        assert!(loaded.rules.is_empty());
        assert!(Tuning::from_yaml("rulez: {}").is_err());
        assert!(Tuning::from_yaml("rules:\n  b: {threshhold: 3}\n").is_err());
    }
}
