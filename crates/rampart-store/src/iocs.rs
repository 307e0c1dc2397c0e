//! The indicator table: imports are upserts keyed by (kind, value, source),
//! so importing the same feed twice changes nothing the second time, and
//! each import says what it added, updated and left unchanged.

use jiff::Timestamp;
use rampart_intel::{Indicator, Kind};
use rusqlite::{params, OptionalExtension, Row};

use crate::{Store, StoreError};

/// What an import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportCounts {
    /// New indicators.
    pub added: u64,
    /// Indicators whose details changed.
    pub updated: u64,
    /// Indicators already there as they are.
    pub unchanged: u64,
}

/// An indicator as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIoc {
    /// The row id.
    pub id: i64,
    /// The indicator.
    pub indicator: Indicator,
    /// Whether it is matched (not expired or switched off).
    pub active: bool,
    /// When it was first stored.
    pub added: String,
    /// When it last changed.
    pub updated: String,
}

/// Which indicators to list.
#[derive(Debug, Default, Clone)]
pub struct IocFilter {
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Only from this source.
    pub source: Option<String>,
    /// Only values containing this text.
    pub contains: Option<String>,
    /// Inactive ones too.
    pub all: bool,
    /// The time activity is judged at: an indicator expired by then is not
    /// active even before `expire` sweeps it. `None` takes the stored flag.
    pub at: Option<Timestamp>,
}

fn time(t: Option<Timestamp>) -> Option<String> {
    t.map(|t| t.to_string())
}

fn parse_time(s: Option<String>) -> Option<Timestamp> {
    s.and_then(|s| s.parse().ok())
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<StoredIoc> {
    let kind: String = row.get("kind")?;
    let tags: String = row.get("tags")?;
    let kind = kind.parse::<Kind>().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })?;
    let mut indicator = Indicator::new(kind, row.get("value")?, &row.get::<_, String>("source")?);
    indicator.confidence = row.get("confidence")?;
    indicator.tags = serde_json::from_str(&tags).unwrap_or_default();
    indicator.first_seen = parse_time(row.get("first_seen")?);
    indicator.last_seen = parse_time(row.get("last_seen")?);
    indicator.expires = parse_time(row.get("expires")?);
    Ok(StoredIoc {
        id: row.get("id")?,
        indicator,
        active: row.get::<_, i64>("active")? != 0,
        added: row.get("added")?,
        updated: row.get("updated")?,
    })
}

impl Store {
    /// Adds or updates indicators in one transaction. An indicator expired
    /// at `now` is stored inactive.
    pub fn import(
        &mut self,
        indicators: &[Indicator],
        now: Timestamp,
    ) -> Result<ImportCounts, StoreError> {
        let mut counts = ImportCounts::default();
        let stamp = now.to_string();
        let tx = self.conn.transaction()?;
        {
            let mut find = tx.prepare_cached(
                "SELECT * FROM iocs WHERE kind = ?1 AND value = ?2 AND source = ?3",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO iocs (kind, value, source, confidence, tags, first_seen, last_seen, expires, active, added, updated)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
            )?;
            let mut update = tx.prepare_cached(
                "UPDATE iocs SET confidence = ?2, tags = ?3, first_seen = ?4, last_seen = ?5, expires = ?6, active = ?7, updated = ?8
                 WHERE id = ?1",
            )?;
            for ind in indicators {
                let active = !ind.expired(now);
                let tags = serde_json::to_string(&ind.tags).unwrap_or_else(|_| "[]".into());
                let old = find
                    .query_row(params![ind.kind.as_str(), ind.value, ind.source], from_row)
                    .optional()?;
                match old {
                    None => {
                        insert.execute(params![
                            ind.kind.as_str(),
                            ind.value,
                            ind.source,
                            ind.confidence,
                            tags,
                            time(ind.first_seen),
                            time(ind.last_seen),
                            time(ind.expires),
                            active,
                            stamp,
                        ])?;
                        counts.added += 1;
                    }
                    Some(old) => {
                        // What the new record leaves unsaid keeps its old value
                        // (a plain `ioc add` of a known indicator must not make a
                        // time-limited one permanent); tags accumulate.
                        let confidence = ind.confidence.or(old.indicator.confidence);
                        let expires = ind.expires.or(old.indicator.expires);
                        let mut tags = old.indicator.tags.clone();
                        for t in &ind.tags {
                            if !tags.contains(t) {
                                tags.push(t.clone());
                            }
                        }
                        let active = expires.is_none_or(|e| e > now);
                        // The earliest first sighting and the latest last one are kept.
                        let first_seen = match (old.indicator.first_seen, ind.first_seen) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                        let last_seen = match (old.indicator.last_seen, ind.last_seen) {
                            (Some(a), Some(b)) => Some(a.max(b)),
                            (a, b) => a.or(b),
                        };
                        let same = old.indicator.confidence == confidence
                            && old.indicator.tags == tags
                            && old.indicator.first_seen == first_seen
                            && old.indicator.last_seen == last_seen
                            && old.indicator.expires == expires
                            && old.active == active;
                        if same {
                            counts.unchanged += 1;
                        } else {
                            let tags = serde_json::to_string(&tags).unwrap_or_else(|_| "[]".into());
                            update.execute(params![
                                old.id,
                                confidence,
                                tags,
                                time(first_seen),
                                time(last_seen),
                                time(expires),
                                active,
                                stamp,
                            ])?;
                            counts.updated += 1;
                        }
                    }
                }
            }
        }
        tx.commit()?;
        Ok(counts)
    }

    /// Removes the indicators with this value (of this kind and source, when
    /// given); returns how many.
    pub fn remove(
        &mut self,
        value: &str,
        kind: Option<Kind>,
        source: Option<&str>,
    ) -> Result<u64, StoreError> {
        let n = self.conn.execute(
            "DELETE FROM iocs WHERE value = ?1 AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR source = ?3)",
            params![value, kind.map(Kind::as_str), source],
        )?;
        Ok(n as u64)
    }

    /// Switches off the indicators whose expiry has passed at `now`; returns
    /// how many.
    pub fn expire(&mut self, now: Timestamp) -> Result<u64, StoreError> {
        // Times are stored as RFC 3339 UTC text, which sorts as time does
        // only when written alike; compare parsed times instead.
        let rows: Vec<(i64, String)> = {
            let mut stmt = self
                .conn
                .prepare("SELECT id, expires FROM iocs WHERE active = 1 AND expires IS NOT NULL")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let stamp = now.to_string();
        let tx = self.conn.transaction()?;
        let mut n = 0;
        for (id, expires) in rows {
            if expires.parse::<Timestamp>().is_ok_and(|e| e <= now) {
                n += tx.execute(
                    "UPDATE iocs SET active = 0, updated = ?2 WHERE id = ?1",
                    params![id, stamp],
                )? as u64;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// The stored indicators the filter selects, by kind and value.
    pub fn list(&self, filter: &IocFilter) -> Result<Vec<StoredIoc>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT * FROM iocs
             WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR source = ?2)
               AND (?3 IS NULL OR instr(value, ?3) > 0) AND (?4 OR active = 1)
             ORDER BY kind, value, source",
        )?;
        let rows = stmt.query_map(
            params![
                filter.kind.map(Kind::as_str),
                filter.source,
                filter.contains,
                filter.all
            ],
            from_row,
        )?;
        // An indicator past its expiry is not active, swept or not.
        let rows: Vec<StoredIoc> = rows.collect::<Result<_, _>>()?;
        Ok(rows
            .into_iter()
            .map(|mut r| {
                if let Some(at) = filter.at {
                    r.active &= !r.indicator.expired(at);
                }
                r
            })
            .filter(|r| filter.all || r.active)
            .collect())
    }

    /// The indicators to match at `now`: active and not expired.
    pub fn active(&self, now: Timestamp) -> Result<Vec<Indicator>, StoreError> {
        Ok(self
            .list(&IocFilter::default())?
            .into_iter()
            .map(|s| s.indicator)
            .filter(|i| !i.expired(now))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_intel::classify;

    fn ind(value: &str, source: &str, confidence: Option<u32>) -> Indicator {
        let (kind, value) = classify(value).unwrap();
        let mut i = Indicator::new(kind, value, source);
        i.confidence = confidence;
        i
    }

    fn now() -> Timestamp {
        "2026-03-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn importing_twice_changes_nothing_the_second_time() {
        let mut s = Store::in_memory().unwrap();
        let feed = [
            ind("203.0.113.7", "ipsum", Some(3)),
            ind("evil.example.com", "ipsum", None),
        ];
        let first = s.import(&feed, now()).unwrap();
        assert_eq!((first.added, first.updated, first.unchanged), (2, 0, 0));
        let again = s.import(&feed, now()).unwrap();
        assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 2));
        let changed = s
            .import(&[ind("203.0.113.7", "ipsum", Some(5))], now())
            .unwrap();
        assert_eq!(
            (changed.added, changed.updated, changed.unchanged),
            (0, 1, 0)
        );
        // Another source listing the same address is another row.
        let other = s
            .import(&[ind("203.0.113.7", "misp", None)], now())
            .unwrap();
        assert_eq!(other.added, 1);
        let listed = s.list(&IocFilter::default()).unwrap();
        assert_eq!(listed.len(), 3);
        assert_eq!(listed[1].indicator.confidence, Some(5));
    }

    #[test]
    fn a_plain_re_add_keeps_what_it_does_not_say() {
        let mut s = Store::in_memory().unwrap();
        let mut full = ind("203.0.113.70", "manual", Some(90));
        full.tags = vec!["c2".into(), "apt".into()];
        full.expires = Some("2030-01-01T00:00:00Z".parse().unwrap());
        s.import(&[full], now()).unwrap();
        let mut plain = ind("203.0.113.70", "manual", None);
        plain.tags = vec!["seen-again".into()];
        let counts = s.import(&[plain], now()).unwrap();
        assert_eq!(counts.updated, 1, "the new tag is an update");
        let kept = &s.list(&IocFilter::default()).unwrap()[0];
        assert_eq!(kept.indicator.confidence, Some(90));
        assert_eq!(kept.indicator.tags, ["c2", "apt", "seen-again"]);
        assert!(kept.indicator.expires.is_some());
        assert!(kept.active);
    }

    #[test]
    fn expiry_switches_indicators_off_and_remove_deletes() {
        let mut s = Store::in_memory().unwrap();
        let mut old = ind("198.51.100.1", "a", None);
        old.expires = Some("2026-02-01T00:00:00Z".parse().unwrap());
        let mut later = ind("198.51.100.2", "a", None);
        later.expires = Some("2026-04-01T00:00:00Z".parse().unwrap());
        s.import(
            &[old.clone(), later],
            "2026-01-01T00:00:00Z".parse().unwrap(),
        )
        .unwrap();
        assert_eq!(
            s.active(now()).unwrap().len(),
            1,
            "the expired one is not matched"
        );
        assert_eq!(s.expire(now()).unwrap(), 1);
        assert_eq!(s.expire(now()).unwrap(), 0);
        assert_eq!(s.list(&IocFilter::default()).unwrap().len(), 1);
        let all = IocFilter {
            all: true,
            ..IocFilter::default()
        };
        assert_eq!(s.list(&all).unwrap().len(), 2);
        // Judged at a time past the later expiry, before any sweep.
        let at = IocFilter {
            at: Some("2026-05-01T00:00:00Z".parse().unwrap()),
            ..IocFilter::default()
        };
        assert!(s.list(&at).unwrap().is_empty());
        // Re-importing the expired one leaves it as it is.
        assert_eq!(s.import(&[old], now()).unwrap().unchanged, 1);
        assert_eq!(s.remove("198.51.100.1", None, None).unwrap(), 1);
        assert_eq!(s.list(&all).unwrap().len(), 1);
    }
}
