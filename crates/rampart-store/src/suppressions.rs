//! Suppressions made from triage: an alert marked a false positive can
//! silence its rule for its group (the same address, the same user ...)
//! in every later `hunt` and `ingest`, beside the config file's
//! suppressions; and an `ioc-match` false positive can switch its
//! indicator off.

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use crate::{now_micros, Store, StoreError};

/// A suppression kept in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSuppression {
    /// Its id, for `suppress remove`.
    pub id: i64,
    /// The rule it silences.
    pub rule_id: String,
    /// The group values an alert must have to be silenced.
    pub group: Vec<(String, String)>,
    /// The alert it was made from.
    pub alert: Option<String>,
    /// Who made it.
    pub user: String,
    /// Why.
    pub note: Option<String>,
    /// When.
    pub created: Timestamp,
}

fn group_json(group: &[(String, String)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = group
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

impl Store {
    /// Silences `rule_id` for `group` (made from `alert` by `user`, with
    /// `note`); returns its id (the existing one when already there).
    pub fn add_suppression(
        &mut self,
        rule_id: &str,
        group: &[(String, String)],
        (alert, user, note): (Option<&str>, &str, Option<&str>),
    ) -> Result<i64, StoreError> {
        let grp = group_json(group);
        self.conn.execute(
            "INSERT INTO suppressions (rule_id, grp, alert, user, note, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (rule_id, grp) DO NOTHING",
            params![rule_id, grp, alert, user, note, now_micros()],
        )?;
        let id = self
            .conn
            .query_row(
                "SELECT id FROM suppressions WHERE rule_id = ?1 AND grp = ?2",
                params![rule_id, grp],
                |r| r.get(0),
            )
            .optional()?;
        id.ok_or_else(|| StoreError("the suppression was not kept".into()))
    }

    /// Every suppression, oldest first.
    pub fn suppressions(&self) -> Result<Vec<StoredSuppression>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, rule_id, grp, alert, user, note, created FROM suppressions ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            let grp: String = r.get(2)?;
            let group = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&grp)
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned()))
                .collect();
            Ok(StoredSuppression {
                id: r.get(0)?,
                rule_id: r.get(1)?,
                group,
                alert: r.get(3)?,
                user: r.get(4)?,
                note: r.get(5)?,
                created: Timestamp::from_microsecond(r.get(6)?).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Removes suppression `id`; whether there was one.
    pub fn remove_suppression(&mut self, id: i64) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM suppressions WHERE id = ?1", [id])?
            > 0)
    }

    /// Switches off the indicators of value `value`; returns how many.
    pub fn deactivate_ioc(&mut self, value: &str) -> Result<u64, StoreError> {
        let n = self.conn.execute(
            "UPDATE iocs SET active = 0, updated = ?2 WHERE value = ?1 AND active = 1",
            params![value, Timestamp::now().to_string()],
        )?;
        Ok(n as u64)
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;

    #[test]
    fn a_group_is_suppressed_once_and_can_be_removed() {
        let mut store = Store::in_memory().unwrap();
        let group = vec![("source.ip".to_owned(), "10.0.0.5".to_owned())];
        let who = (Some("abc"), "ana", Some("our scanner"));
        let id = store.add_suppression("port-scan", &group, who).unwrap();
        assert_eq!(store.add_suppression("port-scan", &group, who).unwrap(), id);
        let all = store.suppressions().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].group, group);
        assert_eq!(all[0].note.as_deref(), Some("our scanner"));
        assert!(store.remove_suppression(id).unwrap());
        assert!(!store.remove_suppression(id).unwrap());
        assert!(store.suppressions().unwrap().is_empty());
    }
}
