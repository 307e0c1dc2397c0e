//! The engine's state between runs: open correlation windows and dedup
//! windows, written in the same transaction as the events they were built
//! from, so that a run stopped at any moment (killed included) goes on
//! from its last commit with exactly the windows that commit's events left.

use rampart_detect::saved::{SavedGroup, SavedOpen, SavedRule};
use rampart_detect::SavedState;
use rusqlite::{params, Transaction};

use crate::{Store, StoreError};

/// Writes what changed in the state.
pub(crate) fn write(tx: &Transaction<'_>, changes: &SavedState) -> Result<(), StoreError> {
    for rule in &changes.reset {
        tx.execute("DELETE FROM correlation_groups WHERE rule = ?1", [rule])?;
        tx.execute("DELETE FROM correlation_state WHERE rule = ?1", [rule])?;
    }
    let mut header = tx.prepare_cached(
        "INSERT INTO correlation_state (rule, shape, parts) VALUES (?1, ?2, ?3)
         ON CONFLICT (rule) DO UPDATE SET shape = excluded.shape, parts = excluded.parts",
    )?;
    for r in &changes.rules {
        header.execute(params![r.rule, r.shape, r.parts])?;
    }
    let mut put = tx.prepare_cached(
        "INSERT INTO correlation_groups (rule, grp, state) VALUES (?1, ?2, ?3)
         ON CONFLICT (rule, grp) DO UPDATE SET state = excluded.state",
    )?;
    let mut gone =
        tx.prepare_cached("DELETE FROM correlation_groups WHERE rule = ?1 AND grp = ?2")?;
    for g in &changes.groups {
        match &g.state {
            Some(state) => put.execute(params![g.rule, g.key, state])?,
            None => gone.execute(params![g.rule, g.key])?,
        };
    }
    let mut put = tx.prepare_cached(
        "INSERT INTO dedup_open (rule, grp, alert) VALUES (?1, ?2, ?3)
         ON CONFLICT (rule, grp) DO UPDATE SET alert = excluded.alert",
    )?;
    let mut gone = tx.prepare_cached("DELETE FROM dedup_open WHERE rule = ?1 AND grp = ?2")?;
    for d in &changes.dedup {
        match &d.alert {
            Some(alert) => put.execute(params![d.rule, d.group, alert])?,
            None => gone.execute(params![d.rule, d.group])?,
        };
    }
    Ok(())
}

impl Store {
    /// The whole saved state, for the engine to go on from.
    pub fn saved_state(&self) -> Result<SavedState, StoreError> {
        Ok(SavedState {
            rules: self.rows(
                "SELECT rule, shape, parts FROM correlation_state ORDER BY rule",
                |r| {
                    Ok(SavedRule {
                        rule: r.get(0)?,
                        shape: r.get(1)?,
                        parts: r.get(2)?,
                    })
                },
            )?,
            groups: self.rows(
                "SELECT rule, grp, state FROM correlation_groups ORDER BY rule, grp",
                |r| {
                    Ok(SavedGroup {
                        rule: r.get(0)?,
                        key: r.get(1)?,
                        state: Some(r.get(2)?),
                    })
                },
            )?,
            dedup: self.rows(
                "SELECT rule, grp, alert FROM dedup_open ORDER BY rule, grp",
                |r| {
                    Ok(SavedOpen {
                        rule: r.get(0)?,
                        group: r.get(1)?,
                        alert: Some(r.get(2)?),
                    })
                },
            )?,
            reset: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Commit;

    #[test]
    fn changes_add_up_to_the_state_they_describe() {
        let mut store = Store::in_memory().unwrap();
        let group = |rule: &str, key: &str, state: Option<&[u8]>| SavedGroup {
            rule: rule.into(),
            key: key.as_bytes().to_vec(),
            state: state.map(<[u8]>::to_vec),
        };
        let header = |rule: &str, shape: i64| SavedRule {
            rule: rule.into(),
            shape,
            parts: vec![shape as u8],
        };
        let mut commit = Commit {
            state: SavedState {
                rules: vec![header("brute", 1), header("scan", 2)],
                groups: vec![
                    group("brute", "10.0.0.1", Some(b"a")),
                    group("brute", "10.0.0.2", Some(b"b")),
                    group("scan", "10.0.0.3", Some(b"c")),
                ],
                dedup: vec![SavedOpen {
                    rule: "new-user".into(),
                    group: "[]".into(),
                    alert: Some(b"x".to_vec()),
                }],
                reset: Vec::new(),
            },
            ..Commit::default()
        };
        store.commit(&mut commit).unwrap();
        // One group grows, one ends, the scan's rule changed shape, the
        // dedup alert closed.
        let mut commit = Commit {
            state: SavedState {
                rules: vec![header("brute", 1), header("scan", 3)],
                groups: vec![
                    group("brute", "10.0.0.1", Some(b"aa")),
                    group("brute", "10.0.0.2", None),
                    group("scan", "10.0.0.4", Some(b"d")),
                ],
                dedup: vec![SavedOpen {
                    rule: "new-user".into(),
                    group: "[]".into(),
                    alert: None,
                }],
                reset: vec!["scan".into()],
            },
            ..Commit::default()
        };
        store.commit(&mut commit).unwrap();
        assert!(commit.state.is_empty(), "a commit empties what it stored");
        let saved = store.saved_state().unwrap();
        assert_eq!(saved.rules, [header("brute", 1), header("scan", 3)]);
        assert_eq!(
            saved.groups,
            [
                group("brute", "10.0.0.1", Some(b"aa")),
                group("scan", "10.0.0.4", Some(b"d"))
            ]
        );
        assert!(saved.dedup.is_empty());
    }
}
