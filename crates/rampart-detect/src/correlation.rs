//! Sigma correlation rules as read from YAML: which rules they combine, how
//! events are grouped, the time span and the condition.

use std::time::Duration;

use yaml_rust2::Yaml;

use crate::rule::{Level, RuleSource};
use crate::yaml::{str_at, strings_at, text_at};

/// The kind of correlation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// How many events.
    EventCount,
    /// How many distinct values of a field.
    ValueCount,
    /// All the rules matched within the span, in any order.
    Temporal,
    /// All the rules matched within the span, in the order listed.
    TemporalOrdered,
    /// The sum of a field.
    ValueSum,
    /// The mean of a field.
    ValueAvg,
    /// A percentile of a field.
    ValuePercentile,
    /// The median of a field.
    ValueMedian,
}

const KIND_NAMES: [(&str, Kind); 8] = [
    ("event_count", Kind::EventCount),
    ("value_count", Kind::ValueCount),
    ("temporal", Kind::Temporal),
    ("temporal_ordered", Kind::TemporalOrdered),
    ("value_sum", Kind::ValueSum),
    ("value_avg", Kind::ValueAvg),
    ("value_percentile", Kind::ValuePercentile),
    ("value_median", Kind::ValueMedian),
];

impl Kind {
    fn parse(text: &str) -> Option<Kind> {
        KIND_NAMES.iter().find(|(n, _)| *n == text).map(|(_, k)| *k)
    }

    /// The name Sigma gives it (`event_count`).
    pub fn name(self) -> &'static str {
        KIND_NAMES
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("correlation", |(n, _)| n)
    }
}

/// A numeric threshold: every bound given must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Threshold {
    /// `gt`.
    pub gt: Option<f64>,
    /// `gte`.
    pub gte: Option<f64>,
    /// `lt`.
    pub lt: Option<f64>,
    /// `lte`.
    pub lte: Option<f64>,
    /// `eq`.
    pub eq: Option<f64>,
    /// `neq`.
    pub neq: Option<f64>,
}

impl std::fmt::Display for Threshold {
    /// As Sigma writes it: `gte 5`, `gt 2 and lt 9`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = [
            ("gt", self.gt),
            ("gte", self.gte),
            ("lt", self.lt),
            ("lte", self.lte),
            ("eq", self.eq),
            ("neq", self.neq),
        ]
        .into_iter()
        .filter_map(|(op, v)| Some(format!("{op} {}", v?)))
        .collect();
        f.write_str(&parts.join(" and "))
    }
}

impl Threshold {
    /// Whether `n` satisfies every bound.
    pub fn holds(&self, n: f64) -> bool {
        self.gt.is_none_or(|b| n > b)
            && self.gte.is_none_or(|b| n >= b)
            && self.lt.is_none_or(|b| n < b)
            && self.lte.is_none_or(|b| n <= b)
            && self.eq.is_none_or(|b| n == b)
            && self.neq.is_none_or(|b| n != b)
    }

    /// The smallest count that can satisfy a lower bound, if it has one.
    pub fn minimum(&self) -> Option<f64> {
        match (self.gte, self.gt, self.eq) {
            (Some(b), _, _) => Some(b),
            (_, Some(b), _) => Some(b.floor() + 1.0),
            (_, _, Some(b)) => Some(b),
            _ => None,
        }
    }
}

/// A field alias: the field that carries the group value in each rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// The alias used in `group-by`.
    pub name: String,
    /// `(rule id or name, field)`.
    pub fields: Vec<(String, String)>,
}

/// A Sigma correlation rule.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationRule {
    /// `id`.
    pub id: String,
    /// `name`, for chaining.
    pub name: Option<String>,
    /// `title`.
    pub title: String,
    /// `description`.
    pub description: Option<String>,
    /// `level`.
    pub level: Level,
    /// `author`.
    pub author: Option<String>,
    /// `references`.
    pub references: Vec<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// The kind.
    pub kind: Kind,
    /// The rules (ids or names) it combines.
    pub rules: Vec<String>,
    /// The grouping fields (or aliases).
    pub group_by: Vec<String>,
    /// The window.
    pub timespan: Duration,
    /// The field counted, summed or averaged (`condition.field`).
    pub field: Option<String>,
    /// The percentile for `value_percentile`.
    pub percentile: Option<f64>,
    /// The threshold.
    pub threshold: Threshold,
    /// Aliases.
    pub aliases: Vec<Alias>,
    /// Whether the combined rules also alert on their own.
    pub generate: bool,
    /// Where it came from.
    pub source: RuleSource,
}

/// Reads `30s`, `5m`, `1h`, `2d`, `1w`.
pub fn parse_timespan(text: &str) -> Option<Duration> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let n: u64 = text[..text.len() - unit.len_utf8()].trim().parse().ok()?;
    let secs = match unit {
        's' => n,
        'm' => n * 60,
        'h' => n * 3600,
        'd' => n * 86_400,
        'w' => n * 604_800,
        'M' => n * 2_592_000,
        'y' => n * 31_536_000,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

impl CorrelationRule {
    /// Reads a correlation document.
    pub fn from_yaml(doc: &Yaml, source: RuleSource) -> Result<CorrelationRule, String> {
        let title = str_at(doc, "title").ok_or("no title")?.to_owned();
        let c = &doc["correlation"];
        let kind_text = c["type"].as_str().ok_or("correlation has no type")?;
        let kind = Kind::parse(kind_text)
            .ok_or_else(|| format!("unknown correlation type '{kind_text}'"))?;
        let rules = strings_at(c, "rules");
        if rules.is_empty() {
            return Err("correlation names no rules".into());
        }
        let timespan_text = c["timespan"]
            .as_str()
            .or_else(|| c["timeframe"].as_str())
            .ok_or("correlation has no timespan")?;
        let timespan = parse_timespan(timespan_text)
            .ok_or_else(|| format!("bad timespan '{timespan_text}'"))?;
        let mut threshold = Threshold::default();
        let mut field = None;
        let mut percentile = None;
        match &c["condition"] {
            Yaml::Hash(h) => {
                for (k, v) in h {
                    let k = k.as_str().ok_or("a condition key is not text")?;
                    let n = || -> Result<f64, String> {
                        match v {
                            Yaml::Integer(i) => Ok(*i as f64),
                            Yaml::Real(r) => r.parse().map_err(|_| format!("bad number for {k}")),
                            _ => Err(format!("{k} needs a number")),
                        }
                    };
                    match k {
                        "gt" => threshold.gt = Some(n()?),
                        "gte" => threshold.gte = Some(n()?),
                        "lt" => threshold.lt = Some(n()?),
                        "lte" => threshold.lte = Some(n()?),
                        "eq" => threshold.eq = Some(n()?),
                        "neq" => threshold.neq = Some(n()?),
                        "field" => field = v.as_str().map(str::to_owned),
                        "percentile" => percentile = Some(n()?),
                        other => return Err(format!("unknown condition key '{other}'")),
                    }
                }
            }
            Yaml::BadValue | Yaml::Null => {
                if !matches!(kind, Kind::Temporal | Kind::TemporalOrdered) {
                    return Err("correlation has no condition".into());
                }
            }
            _ => return Err("correlation condition is not a map".into()),
        }
        if matches!(kind, Kind::Temporal | Kind::TemporalOrdered)
            && threshold == Threshold::default()
        {
            // Temporal rules need every listed rule by default.
            threshold.gte = Some(rules.len() as f64);
        }
        let needs_field = matches!(
            kind,
            Kind::ValueCount
                | Kind::ValueSum
                | Kind::ValueAvg
                | Kind::ValuePercentile
                | Kind::ValueMedian
        );
        if needs_field && field.is_none() {
            return Err(format!("{kind_text} needs condition.field"));
        }
        let mut aliases = Vec::new();
        if let Yaml::Hash(h) = &c["aliases"] {
            for (name, map) in h {
                let name = name.as_str().ok_or("an alias name is not text")?.to_owned();
                let Yaml::Hash(map) = map else {
                    return Err(format!("alias '{name}' is not a map"));
                };
                let fields = map
                    .iter()
                    .filter_map(|(r, f)| Some((r.as_str()?.to_owned(), f.as_str()?.to_owned())))
                    .collect();
                aliases.push(Alias { name, fields });
            }
        }
        let level = match str_at(doc, "level") {
            Some(l) => Level::parse(l).ok_or_else(|| format!("unknown level '{l}'"))?,
            None => Level::Medium,
        };
        Ok(CorrelationRule {
            id: text_at(doc, "id")
                .unwrap_or_else(|| format!("{}#{}", source.path, source.document)),
            name: text_at(doc, "name"),
            title,
            description: str_at(doc, "description").map(str::to_owned),
            level,
            author: str_at(doc, "author").map(str::to_owned),
            references: strings_at(doc, "references"),
            tags: strings_at(doc, "tags"),
            kind,
            rules,
            group_by: strings_at(c, "group-by"),
            timespan,
            field,
            percentile,
            threshold,
            aliases,
            generate: c["generate"].as_bool().unwrap_or(false),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_text;

    #[test]
    fn reads_a_value_count_with_aliases() {
        let l = load_text(
            r#"
title: Many users from one host
id: c1
correlation:
  type: value_count
  rules: [failed_logon]
  group-by: [src]
  timespan: 10m
  aliases:
    src:
      failed_logon: IpAddress
  condition:
    field: TargetUserName
    gte: 3
level: high
"#,
            "c.yml".into(),
        );
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        let c = &l.correlations[0];
        assert_eq!(c.kind, Kind::ValueCount);
        assert_eq!(c.timespan, Duration::from_secs(600));
        assert_eq!(c.field.as_deref(), Some("TargetUserName"));
        assert_eq!(
            c.aliases[0].fields,
            [("failed_logon".to_owned(), "IpAddress".to_owned())]
        );
        assert!(c.threshold.holds(3.0) && !c.threshold.holds(2.0));
    }

    #[test]
    fn timespans_and_bad_documents() {
        assert_eq!(parse_timespan("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_timespan("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_timespan("h"), None);
        let l = load_text(
            "title: x\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n",
            "c.yml".into(),
        );
        assert!(l.errors[0].reason.contains("condition"));
    }
}
