//! The typed form of a Sigma rule, as read from YAML and before compiling:
//! metadata, log source, and the detection's searches and condition.

use std::fmt;
use std::sync::Arc;

use crate::pattern::Scalar;

pub use crate::level::Level;

/// What the rule says about where its events come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogSource {
    /// `product`: windows, linux, zeek, ...
    pub product: Option<String>,
    /// `category`: process_creation, webserver, firewall, ...
    pub category: Option<String>,
    /// `service`: security, sysmon, sshd, ...
    pub service: Option<String>,
}

impl fmt::Display for LogSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = [
            ("product", &self.product),
            ("category", &self.category),
            ("service", &self.service),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}:{v}")))
        .collect();
        f.write_str(&parts.join(" "))
    }
}

/// One `Field|modifiers: values` entry of a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The Sigma field name.
    pub field: String,
    /// The modifiers, in order.
    pub modifiers: Vec<String>,
    /// The values (a single value is a list of one).
    pub values: Vec<Scalar>,
}

/// A named search of the detection.
#[derive(Debug, Clone, PartialEq)]
pub enum Search {
    /// Maps of terms: each map is an AND of its terms, the list an OR.
    Fields(Vec<Vec<Term>>),
    /// Field-less values searched in the whole event text.
    Keywords {
        /// Modifiers written as `'|all'` and the like.
        modifiers: Vec<String>,
        /// The values.
        values: Vec<Scalar>,
    },
}

/// Where a rule was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSource {
    /// The file (or `builtin:<name>`).
    pub path: Arc<str>,
    /// The YAML document within the file, from 0.
    pub document: usize,
}

/// A Sigma detection rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// `id` (a UUID for SigmaHQ rules, a stable name for built-in rules).
    pub id: String,
    /// `name`, by which correlation rules may refer to it.
    pub name: Option<String>,
    /// `title`.
    pub title: String,
    /// `description`.
    pub description: Option<String>,
    /// `status`.
    pub status: Option<String>,
    /// `level`.
    pub level: Level,
    /// `author`.
    pub author: Option<String>,
    /// `references`.
    pub references: Vec<String>,
    /// `tags` (`attack.t1110`, ...).
    pub tags: Vec<String>,
    /// `falsepositives`.
    pub falsepositives: Vec<String>,
    /// `logsource`.
    pub logsource: LogSource,
    /// The searches in the order written.
    pub searches: Vec<(String, Search)>,
    /// The condition(s); several are alternatives.
    pub conditions: Vec<String>,
    /// The fields that identify one alert (`rampart.group`, a rampart
    /// extension; empty for most Sigma rules).
    pub group: Vec<String>,
    /// Repeats of one group within this window fold into one alert
    /// (`rampart.dedup`, a rampart extension).
    pub dedup: Option<std::time::Duration>,
    /// Title and level taken from the event (`rampart.passthrough`, a
    /// rampart extension for detections other tools made).
    pub passthrough: Option<crate::passthrough::Passthrough>,
    /// Where the rule came from.
    pub source: RuleSource,
}

impl Rule {
    /// The level of its alert on `event`.
    pub fn level_for(&self, event: &rampart_event::Event) -> Level {
        match &self.passthrough {
            Some(p) => p.level(event, self.level),
            None => self.level,
        }
    }

    /// The title of its alert on `event`.
    pub fn title_for<'a>(&'a self, event: &'a rampart_event::Event) -> std::borrow::Cow<'a, str> {
        match &self.passthrough {
            Some(p) => p.title(event, &self.title),
            None => std::borrow::Cow::Borrowed(&self.title),
        }
    }
}
