//! The table of well-known Windows Event IDs (`known_event_ids.tsv`).
//!
//! Used two ways: a real event's ID, under the channel the table names, gives
//! `event.category` and `event.action`; a CSV row that carries only an Event
//! ID takes its channel and provider from here, marked as inferred.

use std::collections::HashMap;
use std::sync::OnceLock;

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownId {
    /// The Event ID.
    pub id: u32,
    /// The channel (log name) that usually carries it.
    pub channel: &'static str,
    /// The provider that usually writes it.
    pub provider: &'static str,
    /// rampart's `event.dataset`.
    pub dataset: &'static str,
    /// ECS `event.category`.
    pub category: &'static str,
    /// `event.action`.
    pub action: &'static str,
    /// A short description.
    pub description: &'static str,
}

const TABLE: &str = include_str!("known_event_ids.tsv");

fn table() -> &'static HashMap<u32, KnownId> {
    static MAP: OnceLock<HashMap<u32, KnownId>> = OnceLock::new();
    MAP.get_or_init(|| {
        TABLE
            .lines()
            .skip(1)
            .filter_map(|line| {
                let cols: Vec<&'static str> = line.split('\t').collect();
                let [id, channel, provider, dataset, category, action, description] = cols[..]
                else {
                    return None;
                };
                let id = id.parse().ok()?;
                Some((
                    id,
                    KnownId {
                        id,
                        channel,
                        provider,
                        dataset,
                        category,
                        action,
                        description,
                    },
                ))
            })
            .collect()
    })
}

/// The row for an Event ID.
pub fn lookup(id: u32) -> Option<&'static KnownId> {
    table().get(&id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_loads() {
        let rows = TABLE.lines().skip(1).count();
        assert_eq!(
            table().len(),
            rows,
            "a row failed to parse or an id repeats"
        );
        assert_eq!(lookup(4720).unwrap().action, "user-account-created");
        assert_eq!(lookup(7045).unwrap().channel, "System");
        assert_eq!(lookup(1).unwrap().dataset, "windows.sysmon");
        assert!(lookup(999_999).is_none());
    }
}
