//! Suppressions made from triage, kept in ClickHouse beside the alerts
//! they came from: an id made from the rule and the group (so the same
//! group is silenced once), a removal kept as a later version of the row.

use jiff::Timestamp;
use rampart_store::{group_json, StoreError, StoredSuppression};
use serde::Deserialize;

use crate::ClickHouse;

/// Suppression ids stay under this, short enough to type.
const IDS: u64 = 10_000_000_000;

/// The id of the suppression of `rule_id` for `grp` (its group as JSON).
fn id_of(rule_id: &str, grp: &str) -> i64 {
    let hash = xxhash_rust::xxh3::xxh3_64(format!("{rule_id}\0{grp}").as_bytes());
    (hash % IDS) as i64 + 1
}

#[derive(Deserialize)]
struct Row {
    id: i64,
    rule_id: String,
    grp: String,
    alert: String,
    user: String,
    note: Option<String>,
    created: i64,
}

impl ClickHouse {
    /// The suppressions in force (`id`: that one only).
    fn kept(&self, id: Option<i64>) -> Result<Vec<StoredSuppression>, StoreError> {
        let which = id.map_or(String::new(), |id| format!(" AND id = {id}"));
        let rows: Vec<Row> = self.client.rows(&format!(
            "SELECT id, rule_id, grp, alert, user, note, created FROM suppressions FINAL
             WHERE removed = 0{which} ORDER BY created, id"
        ))?;
        Ok(rows
            .into_iter()
            .map(|r| StoredSuppression {
                id: r.id,
                rule_id: r.rule_id,
                group: serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&r.grp)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned()))
                    .collect(),
                alert: Some(r.alert).filter(|a| !a.is_empty()),
                user: r.user,
                note: r.note,
                created: Timestamp::from_microsecond(r.created).unwrap_or_default(),
            })
            .collect())
    }

    /// The suppressions in force, oldest first.
    pub(crate) fn suppressions_kept(&self) -> Result<Vec<StoredSuppression>, StoreError> {
        self.kept(None)
    }

    /// A version of suppression `id` later than any before it.
    fn next_version(&self, id: i64) -> Result<i64, StoreError> {
        self.after_latest(&format!(
            "SELECT max(version) AS n FROM suppressions WHERE id = {id}"
        ))
    }

    /// Silences `rule_id` for `group` (made from `alert` by `user`, with
    /// `note`); returns its id (the one in force when already there).
    pub(crate) fn suppress(
        &self,
        rule_id: &str,
        group: &[(String, String)],
        (alert, user, note): (Option<&str>, &str, Option<&str>),
    ) -> Result<i64, StoreError> {
        let grp = group_json(group);
        let id = id_of(rule_id, &grp);
        if !self.kept(Some(id))?.is_empty() {
            return Ok(id);
        }
        let version = self.next_version(id)?;
        let row = serde_json::json!({
            "id": id,
            "rule_id": rule_id,
            "grp": grp,
            "alert": alert.unwrap_or_default(),
            "user": user,
            "note": note,
            "created": Timestamp::now().as_microsecond(),
            "removed": 0,
            "version": version,
        });
        self.client
            .insert("suppressions", format!("{row}\n").as_bytes())?;
        Ok(id)
    }

    /// Removes suppression `id`; whether there was one in force.
    pub(crate) fn unsuppress(&self, id: i64) -> Result<bool, StoreError> {
        let Some(kept) = self.kept(Some(id))?.into_iter().next() else {
            return Ok(false);
        };
        let version = self.next_version(id)?;
        let row = serde_json::json!({
            "id": id,
            "rule_id": kept.rule_id,
            "grp": group_json(&kept.group),
            "alert": kept.alert.unwrap_or_default(),
            "user": kept.user,
            "note": kept.note,
            "created": kept.created.as_microsecond(),
            "removed": 1,
            "version": version,
        });
        self.client
            .insert("suppressions", format!("{row}\n").as_bytes())?;
        Ok(true)
    }
}
