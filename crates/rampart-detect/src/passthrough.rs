//! Detections other tools already made (an IDS signature, an antivirus
//! finding, a Zeek notice) passed through as alerts: a rule with
//! `rampart.passthrough` takes its alert's title and level from the event
//! instead of from itself, so one rule covers every signature of a source.
//!
//! ```yaml
//! rampart:
//!   passthrough:
//!     title: [rule.name, message]   # the first field the event has titles the alert
//!     level: event.severity         # the field with the source's severity
//!     levels: {"1": low, "5": critical}  # optional: that field's values
//! ```
//!
//! Without `levels`, the severity is read as rampart's `event.severity`
//! scale (21 low, 47 medium, 73 high, 99 critical) or as a severity word
//! (`high`, `crit`, `warning`); a value that says nothing leaves the
//! rule's own level.

use std::borrow::Cow;

use rampart_event::{severity, Event, ValueRef};
use yaml_rust2::Yaml;

use crate::level::Level;
use crate::pattern::text_of;
use crate::yaml::strings_at;

/// Where a passed-through alert's title and level come from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Passthrough {
    /// Fields, in order, whose first value titles the alert.
    pub title: Vec<String>,
    /// The field holding the source's severity.
    pub level: Option<String>,
    /// That field's values and the levels they mean.
    pub levels: Vec<(String, Level)>,
}

impl Passthrough {
    /// Reads a rule's `rampart.passthrough` block, if it has one.
    pub fn from_yaml(doc: &Yaml) -> Result<Option<Passthrough>, String> {
        let block = &doc["rampart"]["passthrough"];
        match block {
            Yaml::BadValue => return Ok(None),
            Yaml::Hash(_) => {}
            _ => return Err("rampart.passthrough is not a map".into()),
        }
        let mut title = strings_at(block, "title");
        if let Some(one) = block["title"].as_str() {
            title = vec![one.to_owned()];
        }
        let level = block["level"].as_str().map(str::to_owned);
        let mut levels = Vec::new();
        match &block["levels"] {
            Yaml::BadValue => {}
            Yaml::Hash(map) => {
                for (k, v) in map {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        _ => return Err("rampart.passthrough.levels: a key is not text".into()),
                    };
                    let name = v.as_str().unwrap_or_default();
                    let to = Level::parse(name).ok_or_else(|| {
                        format!("rampart.passthrough.levels: unknown level '{name}' for '{key}'")
                    })?;
                    levels.push((key, to));
                }
            }
            _ => return Err("rampart.passthrough.levels is not a map".into()),
        }
        if title.is_empty() && level.is_none() {
            return Err("rampart.passthrough names neither a title nor a level field".into());
        }
        Ok(Some(Passthrough {
            title,
            level,
            levels,
        }))
    }

    /// The alert's title for `event`: the first title field it has, else
    /// `own`.
    pub fn title<'a>(&self, event: &'a Event, own: &'a str) -> Cow<'a, str> {
        self.title
            .iter()
            .find_map(|f| event.get(f).map(text_of).filter(|t| !t.trim().is_empty()))
            .unwrap_or(Cow::Borrowed(own))
    }

    /// The alert's level for `event`, else `own`.
    pub fn level(&self, event: &Event, own: Level) -> Level {
        let Some(value) = self.level.as_deref().and_then(|f| event.get(f)) else {
            return own;
        };
        let text = text_of(value);
        let text = text.trim();
        if !self.levels.is_empty() {
            return self
                .levels
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(text))
                .map_or(own, |(_, l)| *l);
        }
        let scale = match value {
            ValueRef::Int(n) => Some(n),
            _ => text
                .parse::<i64>()
                .ok()
                .or_else(|| severity::from_label(text)),
        };
        scale.map_or(own, on_scale)
    }
}

/// A level for a value on rampart's `event.severity` scale.
fn on_scale(n: i64) -> Level {
    match n {
        n if n >= severity::CRITICAL => Level::Critical,
        n if n >= severity::HIGH => Level::High,
        n if n >= severity::MEDIUM => Level::Medium,
        n if n >= severity::LOW => Level::Low,
        _ => Level::Informational,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::Origin;
    use yaml_rust2::YamlLoader;

    fn passthrough(yaml: &str) -> Passthrough {
        let doc = &YamlLoader::load_from_str(yaml).unwrap()[0];
        Passthrough::from_yaml(doc).unwrap().unwrap()
    }

    fn event(fields: &[(&str, &str)]) -> Event {
        let mut e = Event::new(Origin::new("t", 1), "");
        for (k, v) in fields {
            e.set((*k).to_owned(), (*v).to_owned());
        }
        e
    }

    #[test]
    fn title_and_level_come_from_the_event() {
        let p = passthrough("rampart:\n  passthrough:\n    title: [rule.name, message]\n    level: event.severity\n");
        let sig = event(&[("rule.name", "ET SCAN Nmap"), ("event.severity", "73")]);
        assert_eq!(p.title(&sig, "own"), "ET SCAN Nmap");
        assert_eq!(p.level(&sig, Level::Medium), Level::High);
        let msg = event(&[("message", "Port scanning"), ("event.severity", "critical")]);
        assert_eq!(p.title(&msg, "own"), "Port scanning");
        assert_eq!(p.level(&msg, Level::Medium), Level::Critical);
        // Nothing to read: the rule's own title and level.
        let bare = event(&[("event.severity", "banana")]);
        assert_eq!(p.title(&bare, "own"), "own");
        assert_eq!(p.level(&bare, Level::Medium), Level::Medium);
        let mut int = event(&[]);
        int.set("event.severity", 21i64);
        assert_eq!(p.level(&int, Level::Medium), Level::Low);
    }

    #[test]
    fn a_map_of_the_sources_own_values_wins() {
        let p = passthrough("rampart:\n  passthrough:\n    title: winlog.event_data.Threat Name\n    level: winlog.event_data.Severity ID\n    levels: {1: low, 2: medium, 4: high, 5: critical}\n");
        let e = event(&[
            ("winlog.event_data.Threat Name", "HackTool:Win32/Mimikatz"),
            ("winlog.event_data.Severity ID", "5"),
        ]);
        assert_eq!(p.title(&e, "own"), "HackTool:Win32/Mimikatz");
        assert_eq!(p.level(&e, Level::Medium), Level::Critical);
        let unknown = event(&[("winlog.event_data.Severity ID", "3")]);
        assert_eq!(p.level(&unknown, Level::Medium), Level::Medium);
    }

    #[test]
    fn bad_blocks_are_refused_with_the_reason() {
        for (yaml, why) in [
            ("rampart:\n  passthrough: yes\n", "not a map"),
            ("rampart:\n  passthrough: {levels: {1: low}}\n", "neither"),
            (
                "rampart:\n  passthrough: {level: x, levels: {1: extreme}}\n",
                "unknown level 'extreme'",
            ),
        ] {
            let doc = &YamlLoader::load_from_str(yaml).unwrap()[0];
            let err = Passthrough::from_yaml(doc).unwrap_err();
            assert!(err.contains(why), "{err}");
        }
    }
}
