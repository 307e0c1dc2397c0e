//! Suppressions made from triage: an alert marked a false positive can
//! silence its rule for its group (the same address, the same user ...)
//! in every later `hunt` and `ingest`, beside the config file's
//! suppressions; and an `ioc-match` false positive can switch its
//! indicator off.

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use crate::{now_micros, Status, Store, StoreError, StoredAlert, Triage};

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

/// A group (field, value pairs) as the JSON object suppressions keep.
pub fn group_json(group: &[(String, String)]) -> String {
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

/// What a false positive does beside its status (`rampart alerts fp
/// --suppress --deactivate-ioc`, and the console's triage form).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Beside {
    /// Silence the alert's rule for its group.
    pub suppress: bool,
    /// Switch the alert's indicator off in the IOC database.
    pub deactivate_ioc: bool,
}

impl Beside {
    /// Refuses anything beside a step that is not a false positive.
    pub fn check(self, step: &Triage) -> Result<(), StoreError> {
        if *step != Triage::Set(Status::FalsePositive) && self != Beside::default() {
            return Err(StoreError(
                "silencing a rule or switching an indicator off goes with a false positive".into(),
            ));
        }
        Ok(())
    }
}

/// What a triage step did.
#[derive(Debug, Clone)]
pub struct Triaged {
    /// The alert as it now stands.
    pub alert: StoredAlert,
    /// The suppression made, by number.
    pub suppression: Option<i64>,
    /// The indicator switched off, and how many entries of it.
    pub deactivated: Option<(String, u64)>,
}

impl Store {
    /// Applies `step` to the alert `id` as `user` with `note`, then what a
    /// false positive does beside it; refused beside any other step, and
    /// switching an indicator off is refused for an alert that names none.
    pub fn triage_beside(
        &mut self,
        id: &str,
        step: &Triage,
        (user, note): (&str, Option<&str>),
        beside: Beside,
    ) -> Result<Triaged, StoreError> {
        beside.check(step)?;
        let group = self
            .alert(id)?
            .ok_or_else(|| StoreError(format!("no alert {id}")))?
            .group();
        let indicator = group
            .iter()
            .find(|(k, _)| k == "indicator")
            .map(|(_, v)| v.clone());
        if beside.deactivate_ioc && indicator.is_none() {
            return Err(StoreError(format!(
                "{id} is not an ioc-match alert: it names no indicator"
            )));
        }
        let alert = self.triage(id, step, user, note)?;
        let suppression = if beside.suppress {
            Some(self.add_suppression(&alert.rule_id, &group, (Some(&alert.id), user, note))?)
        } else {
            None
        };
        let deactivated = match indicator.filter(|_| beside.deactivate_ioc) {
            Some(value) => {
                let n = self.deactivate_ioc(&value)?;
                Some((value, n))
            }
            None => None,
        };
        Ok(Triaged {
            alert,
            suppression,
            deactivated,
        })
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

    #[test]
    fn a_false_positive_can_silence_its_group_and_switch_its_indicator_off() {
        use crate::{Beside, Commit, Status, Triage};
        use rampart_detect::Level;
        let mut store = Store::in_memory().unwrap();
        let at = jiff::Timestamp::from_second(1_700_000_000).unwrap();
        let indicator = vec![("indicator".to_owned(), "203.0.113.7".to_owned())];
        let plain = vec![("source.ip".to_owned(), "10.0.0.5".to_owned())];
        let mut commit = Commit::default();
        commit.alerts.push(crate::testing::alert(
            "ioc1",
            "ioc-match",
            Level::High,
            at,
            indicator,
        ));
        commit.alerts.push(crate::testing::alert(
            "scan1",
            "port-scan",
            Level::Low,
            at,
            plain,
        ));
        store.commit(&mut commit).unwrap();
        store
            .conn
            .execute(
                "INSERT INTO iocs (kind, value, source, added, updated)
                 VALUES ('ip', '203.0.113.7', 'feed.txt', 'x', 'x')",
                [],
            )
            .unwrap();
        let fp = Triage::Set(Status::FalsePositive);
        let both = Beside {
            suppress: true,
            deactivate_ioc: true,
        };
        // Beside another step, or switching off what a plain alert does
        // not name, is refused before anything changes.
        let ack = Triage::Set(Status::Acknowledged);
        assert!(store
            .triage_beside("scan1", &ack, ("ana", None), both)
            .is_err());
        assert!(store
            .triage_beside("scan1", &fp, ("ana", None), both)
            .is_err());
        assert_eq!(store.alert("scan1").unwrap().unwrap().status, "open");
        assert!(store.history("scan1").unwrap().is_empty());
        let done = store
            .triage_beside("ioc1", &fp, ("ana", Some("our scanner")), both)
            .unwrap();
        assert_eq!(done.alert.status, "false-positive");
        assert!(done.suppression.is_some());
        assert_eq!(done.deactivated, Some(("203.0.113.7".to_owned(), 1)));
        let made = store.suppressions().unwrap();
        assert_eq!(made.len(), 1);
        assert_eq!(made[0].rule_id, "ioc-match");
    }
}
