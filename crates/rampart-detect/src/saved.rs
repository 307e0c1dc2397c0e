//! What a run's correlations and dedup windows hold, as the store keeps it
//! between runs: a brute force whose attempts are split between two
//! ingests (or around a crash) is one brute force. It is handed over as
//! changes since the last save, so that a commit writes the groups that
//! moved, not every group.

/// Changes to the saved state since the last save, or (from the store)
/// the whole of it.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SavedState {
    /// Each running correlation: its id, the shape of its rule (state saved
    /// under another shape is not carried on) and its partitions' counters.
    pub rules: Vec<SavedRule>,
    /// Correlations whose saved groups are dropped before `groups` are
    /// written: their rule changed.
    pub reset: Vec<String>,
    /// Groups that changed (their state) or ended (none).
    pub groups: Vec<SavedGroup>,
    /// Open dedup alerts that changed (the alert) or closed (none).
    pub dedup: Vec<SavedOpen>,
}

/// One correlation's header.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SavedRule {
    /// The correlation's id.
    pub rule: String,
    /// A hash of what its state depends on in the rule.
    pub shape: i64,
    /// Its partitions' counters, as bytes.
    pub parts: Vec<u8>,
}

/// One group of a correlation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SavedGroup {
    /// The correlation's id.
    pub rule: String,
    /// The group's encoded values.
    pub key: Vec<u8>,
    /// Its state as bytes; none when it ended.
    pub state: Option<Vec<u8>>,
}

/// One open alert of a dedup window.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SavedOpen {
    /// The rule's id.
    pub rule: String,
    /// Its group, as JSON.
    pub group: String,
    /// The alert as bytes; none when it closed.
    pub alert: Option<Vec<u8>>,
}

impl SavedState {
    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
            && self.reset.is_empty()
            && self.groups.is_empty()
            && self.dedup.is_empty()
    }
}
