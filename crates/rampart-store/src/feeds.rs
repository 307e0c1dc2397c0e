//! Feeds refreshed by URL: where each comes from, and the last copy that
//! downloaded and read well. A failed refresh records its error and leaves
//! that copy in place, so a feed server being down never empties a feed.

use jiff::Timestamp;
use rusqlite::params;

use crate::{Store, StoreError};

/// A configured feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFeed {
    /// Its name (the source its indicators carry).
    pub name: String,
    /// Where it is downloaded from.
    pub url: String,
    /// The last good copy.
    pub body: Option<String>,
    /// When that copy was downloaded.
    pub fetched: Option<String>,
    /// When a refresh was last tried.
    pub last_attempt: Option<String>,
    /// Why the last refresh failed, if it did.
    pub last_error: Option<String>,
}

impl Store {
    /// Adds a feed, or changes its URL.
    pub fn feed_add(&mut self, name: &str, url: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO feeds (name, url) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET url = ?2",
            params![name, url],
        )?;
        Ok(())
    }

    /// Removes a feed; returns whether it was there.
    pub fn feed_remove(&mut self, name: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM feeds WHERE name = ?1", params![name])?
            > 0)
    }

    /// The configured feeds, by name.
    pub fn feeds(&self) -> Result<Vec<StoredFeed>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT name, url, body, fetched, last_attempt, last_error FROM feeds ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(StoredFeed {
                name: r.get(0)?,
                url: r.get(1)?,
                body: r.get(2)?,
                fetched: r.get(3)?,
                last_attempt: r.get(4)?,
                last_error: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Keeps a good copy of a feed.
    pub fn feed_refreshed(
        &mut self,
        name: &str,
        body: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE feeds SET body = ?2, fetched = ?3, last_attempt = ?3, last_error = NULL WHERE name = ?1",
            params![name, body, now.to_string()],
        )?;
        Ok(())
    }

    /// Records a failed refresh; the last good copy stays.
    pub fn feed_failed(
        &mut self,
        name: &str,
        error: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE feeds SET last_attempt = ?2, last_error = ?3 WHERE name = ?1",
            params![name, now.to_string(), error],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_refresh_keeps_the_last_good_copy() {
        let mut s = Store::in_memory().unwrap();
        let now: Timestamp = "2026-03-01T00:00:00Z".parse().unwrap();
        s.feed_add("ipsum", "http://feeds.example/ipsum.txt")
            .unwrap();
        s.feed_refreshed("ipsum", "203.0.113.7\t3\n", now).unwrap();
        s.feed_failed("ipsum", "HTTP 503", now).unwrap();
        let f = &s.feeds().unwrap()[0];
        assert_eq!(f.body.as_deref(), Some("203.0.113.7\t3\n"));
        assert_eq!(f.last_error.as_deref(), Some("HTTP 503"));
        assert!(s.feed_remove("ipsum").unwrap());
        assert!(s.feeds().unwrap().is_empty());
    }
}
