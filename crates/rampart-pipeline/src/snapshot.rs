//! The engine's whole state (open correlation windows, open dedup
//! alerts), kept up to date from the changes the engine hands on, so that
//! rules reloaded by SIGHUP go on with the windows the old rules left
//! open, as a store keeps it between runs of `ingest`.

use std::collections::BTreeMap;

use rampart_detect::saved::{SavedGroup, SavedOpen, SavedRule};
use rampart_detect::SavedState;

/// The whole saved state.
#[derive(Debug, Default)]
pub struct Snapshot {
    rules: BTreeMap<String, SavedRule>,
    groups: BTreeMap<(String, Vec<u8>), Vec<u8>>,
    dedup: BTreeMap<(String, String), Vec<u8>>,
}

impl Snapshot {
    /// Takes in changes since the last ones.
    pub fn apply(&mut self, changes: &SavedState) {
        for reset in &changes.reset {
            self.groups.retain(|(rule, _), _| rule != reset);
        }
        for rule in &changes.rules {
            self.rules.insert(rule.rule.clone(), rule.clone());
        }
        for g in &changes.groups {
            let key = (g.rule.clone(), g.key.clone());
            match &g.state {
                Some(state) => {
                    self.groups.insert(key, state.clone());
                }
                None => {
                    self.groups.remove(&key);
                }
            }
        }
        for d in &changes.dedup {
            let key = (d.rule.clone(), d.group.clone());
            match &d.alert {
                Some(alert) => {
                    self.dedup.insert(key, alert.clone());
                }
                None => {
                    self.dedup.remove(&key);
                }
            }
        }
    }

    /// All of it, as an engine restores it.
    pub fn whole(&self) -> SavedState {
        SavedState {
            rules: self.rules.values().cloned().collect(),
            reset: Vec::new(),
            groups: self
                .groups
                .iter()
                .map(|((rule, key), state)| SavedGroup {
                    rule: rule.clone(),
                    key: key.clone(),
                    state: Some(state.clone()),
                })
                .collect(),
            dedup: self
                .dedup
                .iter()
                .map(|((rule, group), alert)| SavedOpen {
                    rule: rule.clone(),
                    group: group.clone(),
                    alert: Some(alert.clone()),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(rule: &str, key: &str, state: Option<&str>) -> SavedGroup {
        SavedGroup {
            rule: rule.into(),
            key: key.as_bytes().to_vec(),
            state: state.map(|s| s.as_bytes().to_vec()),
        }
    }

    #[test]
    fn changes_add_up_to_the_whole_state() {
        let mut s = Snapshot::default();
        s.apply(&SavedState {
            groups: vec![group("bf", "a", Some("1")), group("bf", "b", Some("1"))],
            ..SavedState::default()
        });
        s.apply(&SavedState {
            groups: vec![group("bf", "a", Some("2")), group("bf", "b", None)],
            ..SavedState::default()
        });
        s.apply(&SavedState {
            groups: vec![group("scan", "x", Some("9"))],
            ..SavedState::default()
        });
        let whole = s.whole();
        assert_eq!(
            whole.groups,
            vec![group("bf", "a", Some("2")), group("scan", "x", Some("9"))]
        );
        s.apply(&SavedState {
            reset: vec!["bf".into()],
            ..SavedState::default()
        });
        assert_eq!(s.whole().groups, vec![group("scan", "x", Some("9"))]);
    }
}
