//! Answers of lookup services (VirusTotal, a pipeline's HTTP lookups) kept
//! across runs, so a repeated lookup spends no quota while the answer is
//! fresh, and the requests sent to each per UTC day, so the daily quota
//! holds across runs too.

use jiff::{SignedDuration, Timestamp};
use rusqlite::{params, OptionalExtension};

use crate::{Store, StoreError};

/// A kept answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CachedAnswer {
    /// The service's object, as JSON text.
    Found(String),
    /// The service had nothing.
    NotFound,
}

fn day(now: Timestamp) -> String {
    now.to_zoned(jiff::tz::TimeZone::UTC).date().to_string()
}

impl Store {
    /// The answer kept for a value, if fetched within `ttl` of `now`.
    pub fn answer_cached(
        &self,
        kind: &str,
        value: &str,
        now: Timestamp,
        ttl: SignedDuration,
    ) -> Result<Option<CachedAnswer>, StoreError> {
        let row: Option<(String, bool, Option<String>)> = self
            .conn
            .query_row(
                "SELECT fetched, found, answer FROM vt_cache WHERE kind = ?1 AND value = ?2",
                params![kind, value],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row.and_then(|(fetched, found, answer)| {
            let fetched: Timestamp = fetched.parse().ok()?;
            if now.duration_since(fetched) > ttl {
                return None;
            }
            Some(match (found, answer) {
                (true, Some(a)) => CachedAnswer::Found(a),
                _ => CachedAnswer::NotFound,
            })
        }))
    }

    /// Every answer of this kind fetched within `ttl` of `now`.
    pub fn answers_fresh(
        &self,
        kind: &str,
        now: Timestamp,
        ttl: SignedDuration,
    ) -> Result<Vec<(String, CachedAnswer)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT value, fetched, found, answer FROM vt_cache WHERE kind = ?1")?;
        let rows = stmt.query_map(params![kind], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (value, fetched, found, answer) = row?;
            let fresh = fetched
                .parse::<Timestamp>()
                .is_ok_and(|t| now.duration_since(t) <= ttl);
            if fresh {
                out.push((
                    value,
                    match (found, answer) {
                        (true, Some(a)) => CachedAnswer::Found(a),
                        _ => CachedAnswer::NotFound,
                    },
                ));
            }
        }
        Ok(out)
    }

    /// Forgets the answers of this kind fetched more than `ttl` before
    /// `now` (they would be asked again anyway); how many.
    pub fn answers_forget_stale(
        &mut self,
        kind: &str,
        now: Timestamp,
        ttl: SignedDuration,
    ) -> Result<usize, StoreError> {
        let Ok(oldest) = now.checked_sub(ttl) else {
            return Ok(0);
        };
        Ok(self.conn.execute(
            "DELETE FROM vt_cache WHERE kind = ?1 AND fetched < ?2",
            params![kind, oldest.to_string()],
        )?)
    }

    /// Keeps an answer.
    pub fn answer_put(
        &mut self,
        kind: &str,
        value: &str,
        answer: &CachedAnswer,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let (found, text) = match answer {
            CachedAnswer::Found(t) => (true, Some(t.as_str())),
            CachedAnswer::NotFound => (false, None),
        };
        self.conn.execute(
            "INSERT INTO vt_cache (kind, value, fetched, found, answer) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (kind, value) DO UPDATE SET fetched = ?3, found = ?4, answer = ?5",
            params![kind, value, now.to_string(), found, text],
        )?;
        Ok(())
    }

    /// Requests sent to `service` on `now`'s UTC day.
    pub fn requests_used(&self, service: &str, now: Timestamp) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT requests FROM lookup_usage WHERE service = ?1 AND day = ?2",
                params![service, day(now)],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map_or(0, |n| n.max(0) as u64))
    }

    /// Counts `n` more requests to `service` on `now`'s UTC day.
    pub fn requests_count(
        &mut self,
        service: &str,
        n: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO lookup_usage (service, day, requests) VALUES (?1, ?2, ?3)
             ON CONFLICT (service, day) DO UPDATE SET requests = requests + ?3",
            params![service, day(now), n as i64],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_kept_for_their_time_to_live_and_usage_adds_up() {
        let mut s = Store::in_memory().unwrap();
        let t0: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        let ttl = SignedDuration::from_hours(24);
        s.answer_put("ip", "8.8.8.8", &CachedAnswer::Found("{}".into()), t0)
            .unwrap();
        s.answer_put("ip", "1.1.1.1", &CachedAnswer::NotFound, t0)
            .unwrap();
        let later = t0 + SignedDuration::from_hours(2);
        assert_eq!(
            s.answer_cached("ip", "8.8.8.8", later, ttl).unwrap(),
            Some(CachedAnswer::Found("{}".into()))
        );
        assert_eq!(
            s.answer_cached("ip", "1.1.1.1", later, ttl).unwrap(),
            Some(CachedAnswer::NotFound)
        );
        let stale = t0 + SignedDuration::from_hours(25);
        assert_eq!(s.answer_cached("ip", "8.8.8.8", stale, ttl).unwrap(), None);
        assert_eq!(s.answers_forget_stale("domain", stale, ttl).unwrap(), 0);
        assert_eq!(s.answers_forget_stale("ip", later, ttl).unwrap(), 0);
        assert_eq!(s.answers_forget_stale("ip", stale, ttl).unwrap(), 2);
        s.requests_count("virustotal", 3, t0).unwrap();
        s.requests_count("virustotal", 2, later).unwrap();
        assert_eq!(s.requests_used("virustotal", later).unwrap(), 5);
        s.requests_count("abuse-check", 1, later).unwrap();
        assert_eq!(s.requests_used("abuse-check", later).unwrap(), 1);
        assert_eq!(
            s.requests_used("virustotal", later).unwrap(),
            5,
            "each service apart"
        );
        assert_eq!(
            s.requests_used("virustotal", t0 + SignedDuration::from_hours(24))
                .unwrap(),
            0,
            "a new day"
        );
    }
}
