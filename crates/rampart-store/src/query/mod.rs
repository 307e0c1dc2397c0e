//! Searching stored events: the query language (`parse`), its translation
//! to SQLite (`sql`), its test of events in memory (`filter`, for
//! pipelines), free text's words (`words`), and the searches the commands
//! run.

mod filter;
mod parse;
mod sql;
mod words;

use jiff::Timestamp;
use rusqlite::params_from_iter;
use rusqlite::types::Value;

pub use filter::Filter;
pub use parse::{parse, Expr, Op, QueryError};
pub(crate) use sql::ip_in;
pub use sql::{column as hot_column, like_pattern, time_of, Kind as ColumnKind};
use words::holds_words;
pub use words::words;

use crate::{Store, StoreError};

/// Which events to find.
#[derive(Debug, Default, Clone)]
pub struct EventQuery {
    /// What they must match.
    pub expr: Option<Expr>,
    /// At or after this time.
    pub since: Option<Timestamp>,
    /// Before this time.
    pub until: Option<Timestamp>,
    /// The most to return.
    pub limit: Option<u64>,
    /// In the order they were read (a retro-hunt's), rather than newest
    /// first.
    pub as_read: bool,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Its id (its source and place).
    pub id: i64,
    /// Its time.
    pub time: Option<Timestamp>,
    /// The event as JSON.
    pub doc: String,
}

impl EventQuery {
    /// The WHERE clause and its parameters; `docs` says how many events
    /// hold a word.
    fn condition(&self, docs: sql::WordCount<'_>) -> Result<(String, Vec<Value>), StoreError> {
        let mut clauses = Vec::new();
        let mut params = Vec::new();
        if let Some(expr) = &self.expr {
            let sql = sql::condition(expr, docs).map_err(|e| StoreError(e.to_string()))?;
            clauses.push(sql.text);
            params = sql.params;
        }
        if let Some(t) = self.since {
            params.push(t.as_microsecond().into());
            clauses.push(format!("time >= ?{}", params.len()));
        }
        if let Some(t) = self.until {
            params.push(t.as_microsecond().into());
            clauses.push(format!("time < ?{}", params.len()));
        }
        let text = if clauses.is_empty() {
            "1 = 1".to_owned()
        } else {
            clauses.join(" AND ")
        };
        Ok((text, params))
    }
}

impl Store {
    /// How many stored events hold `word` (lowercase) in their text; none
    /// when it cannot be told.
    fn word_docs(&self, word: &str) -> u64 {
        self.conn
            .prepare_cached("SELECT doc FROM events_vocab WHERE term = ?1")
            .and_then(|mut stmt| stmt.query_row([word], |r| r.get::<_, i64>(0)))
            .map_or(0, |n| n.max(0) as u64)
    }

    /// The stored event `id`.
    pub fn event(&self, id: i64) -> Result<Option<StoredEvent>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, time, doc FROM events WHERE id = ?1")?;
        let mut rows = stmt.query_map([id], |r| {
            Ok(StoredEvent {
                id: r.get(0)?,
                time: r
                    .get::<_, Option<i64>>(1)?
                    .and_then(|t| Timestamp::from_microsecond(t).ok()),
                doc: r.get(2)?,
            })
        })?;
        Ok(rows.next().transpose()?)
    }

    /// The events `query` finds, newest first.
    pub fn events(&self, query: &EventQuery) -> Result<Vec<StoredEvent>, StoreError> {
        let mut found = Vec::new();
        self.each_event(query, |e| {
            found.push(e);
            true
        })?;
        Ok(found)
    }

    /// Hands each event `query` finds to `take`, newest first (or as
    /// read), one at a time, until it returns false (all of them when the
    /// query sets no limit).
    pub fn each_event(
        &self,
        query: &EventQuery,
        mut take: impl FnMut(StoredEvent) -> bool,
    ) -> Result<(), StoreError> {
        let (condition, mut params) = query.condition(&|w| self.word_docs(w))?;
        params.push((query.limit.unwrap_or(u64::MAX).min(i64::MAX as u64) as i64).into());
        let order = if query.as_read {
            "id"
        } else {
            "time DESC, id DESC"
        };
        let sql = format!(
            "SELECT id, time, doc FROM events WHERE {condition} ORDER BY {order} LIMIT ?{}",
            params.len()
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query(params_from_iter(params))?;
        while let Some(r) = rows.next()? {
            let event = StoredEvent {
                id: r.get(0)?,
                time: r
                    .get::<_, Option<i64>>(1)?
                    .and_then(|t| Timestamp::from_microsecond(t).ok()),
                doc: r.get(2)?,
            };
            if !take(event) {
                break;
            }
        }
        Ok(())
    }

    /// How many events `query` finds per value of `field`, most first
    /// (at most `top` values; events without the field count under none).
    pub fn count_by(
        &self,
        query: &EventQuery,
        field: &str,
        top: u64,
    ) -> Result<Vec<(Option<String>, u64)>, StoreError> {
        let (condition, mut params) = query.condition(&|w| self.word_docs(w))?;
        // A field kept as a column is counted from it (and its index) alone:
        // the column holds every value the event has.
        let value = match sql::column_of(field) {
            Some(column) => column.to_owned(),
            None => {
                params.push(sql::json_path_of(field).into());
                format!("json_extract(doc, ?{})", params.len())
            }
        };
        params.push((top.min(i64::MAX as u64) as i64).into());
        let sql = format!(
            "SELECT CAST({value} AS TEXT) AS v, count(*) AS n FROM events WHERE {condition}
             GROUP BY v ORDER BY n DESC, v LIMIT ?{}",
            params.len()
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(params), |r| {
            Ok((r.get::<_, Option<String>>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Commit;
    use rampart_event::{Event, Origin};

    /// The test events.
    fn events() -> Vec<Event> {
        let rows: [(&str, &str, &str, i64, &str); 5] = [
            (
                "203.0.113.7",
                "root",
                "4625",
                200,
                "Failed password for root",
            ),
            (
                "203.0.113.9",
                "admin",
                "4624",
                503,
                "Accepted password for admin",
            ),
            (
                "198.51.100.1",
                "administrator",
                "4688",
                404,
                "request timed out",
            ),
            ("2001:db8::5", "bob", "4625", 500, "Failed password for bob"),
            ("10.0.0.1", "x' OR 1=1 --", "1", 200, "odd user"),
        ];
        rows.iter()
            .enumerate()
            .map(|(i, (ip, user, code, status, message))| {
                let mut e = Event::new(Origin::new("t.log", i as u64 + 1), *message);
                e.timestamp = Some(Timestamp::from_second(1_741_910_400 + i as i64).unwrap());
                e.set("source.ip", *ip);
                e.set("user.name", *user);
                e.set("event.code", *code);
                e.set("http.response.status_code", *status);
                e.set("message", *message);
                e
            })
            .collect()
    }

    fn store() -> Store {
        let mut store = Store::in_memory().unwrap();
        let source = store.source(b"test", "t.log").unwrap().id;
        let mut commit = Commit::default();
        for (i, e) in events().iter().enumerate() {
            commit.events.push(source, i as u64, e);
        }
        store.commit(&mut commit).unwrap();
        store
    }

    fn users(store: &Store, query: &str) -> Vec<String> {
        let q = EventQuery {
            expr: Some(parse(query).unwrap()),
            ..EventQuery::default()
        };
        let mut found: Vec<String> = store
            .events(&q)
            .unwrap_or_else(|e| panic!("{query}: {e}"))
            .iter()
            .map(|e| {
                let doc: serde_json::Value = serde_json::from_str(&e.doc).unwrap();
                doc["user"]["name"].as_str().unwrap().to_owned()
            })
            .collect();
        found.sort();
        found
    }

    #[test]
    fn an_address_is_found_on_every_day_it_was_seen_through_its_day_index() {
        let mut store = Store::in_memory().unwrap();
        let source = store.source(b"days", "d.log").unwrap().id;
        let mut commit = Commit::default();
        // The same address with no time, before 1970 (a day SQL divides
        // toward zero), at the epoch, on two days a year apart, and
        // another address beside each.
        let times = [
            None,
            Some(-5_400),
            Some(-1),
            Some(0),
            Some(1_741_910_400),
            Some(1_773_446_400),
        ];
        for (i, t) in times.iter().enumerate() {
            for (j, ip) in ["203.0.113.7", "203.0.113.8"].iter().enumerate() {
                let n = (i * 2 + j) as u64;
                let mut e = Event::new(Origin::new("d.log", n + 1), "x");
                e.timestamp = t.map(|t| Timestamp::from_second(t).unwrap());
                e.set("source.ip", *ip);
                e.set("user.name", format!("u{i}"));
                commit.events.push(source, n, &e);
            }
        }
        store.commit(&mut commit).unwrap();
        let q = EventQuery {
            expr: Some(parse("source.ip=203.0.113.7").unwrap()),
            ..EventQuery::default()
        };
        let found = store.events(&q).unwrap();
        assert_eq!(found.len(), times.len(), "{found:?}");
        assert_eq!(
            users(&store, "user.name=u1 and source.ip=203.0.113.7"),
            ["u1"]
        );
        // The plan seeks the day index, it does not scan the events.
        let (condition, params) = q.condition(&|_| 0).unwrap();
        let plan: Vec<String> = store
            .conn
            .prepare(&format!(
                "EXPLAIN QUERY PLAN SELECT id FROM events WHERE {condition}"
            ))
            .unwrap()
            .query_map(rusqlite::params_from_iter(params), |r| {
                r.get::<_, String>(3)
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let plan = plan.join("; ");
        assert!(
            plan.contains("INDEX events_source_ip (<expr>=? AND source_ip=?)"),
            "{plan}"
        );
        assert!(!plan.contains("SCAN events"), "{plan}");
    }

    #[test]
    fn a_common_word_is_asked_event_by_event_and_finds_the_same_events() {
        let s = store();
        let q = |text: &str| EventQuery {
            expr: Some(parse(text).unwrap()),
            ..EventQuery::default()
        };
        for text in [
            "password",
            "\"failed password\"",
            "password and user.name=bob",
            "timed",
        ] {
            let (listed, _) = q(text).condition(&|_| 0).unwrap();
            let (walked, _) = q(text).condition(&|_| COMMON).unwrap();
            assert!(listed.contains("id IN (SELECT rowid"), "{listed}");
            assert!(
                walked.contains("EXISTS (SELECT 1 FROM events_text"),
                "{walked}"
            );
        }
        // Both plans find the same events.
        for text in [
            "password",
            "\"failed password\"",
            "password and user.name=bob",
            "timed",
        ] {
            let found = |docs: u64| {
                let (condition, params) = q(text).condition(&|_| docs).unwrap();
                let mut stmt = s
                    .conn
                    .prepare(&format!(
                        "SELECT id FROM events WHERE {condition} ORDER BY id"
                    ))
                    .unwrap();
                stmt.query_map(rusqlite::params_from_iter(params), |r| r.get::<_, i64>(0))
                    .unwrap()
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap()
            };
            assert_eq!(found(0), found(COMMON), "{text}");
            assert!(!found(0).is_empty(), "{text}");
        }
        // The store counts the events holding each word.
        assert_eq!(s.word_docs("password"), 3);
        assert_eq!(s.word_docs("nowhere"), 0);
    }

    /// As many events as make a word common.
    const COMMON: u64 = 1 << 40;

    #[test]
    fn conditions_on_columns_json_fields_ranges_patterns_and_text() {
        let s = store();
        assert_eq!(users(&s, "source.ip=203.0.113.7"), ["root"]);
        assert_eq!(users(&s, "source.ip=203.0.113.0/24"), ["admin", "root"]);
        assert_eq!(users(&s, "source.ip=2001:db8::/32"), ["bob"]);
        assert_eq!(users(&s, "user.name=adm*"), ["admin", "administrator"]);
        assert_eq!(
            users(&s, "user.name=ADM?N"),
            ["admin"],
            "patterns ignore case"
        );
        assert_eq!(
            users(&s, "event.code in (4624, 4625)"),
            ["admin", "bob", "root"]
        );
        assert_eq!(
            users(&s, "http.response.status_code>=500"),
            ["admin", "bob"]
        );
        assert_eq!(
            users(&s, "http.response.status_code=404"),
            ["administrator"]
        );
        assert_eq!(users(&s, "not user.name=root and event.code=4625"), ["bob"]);
        assert_eq!(users(&s, "\"failed password\""), ["bob", "root"]);
        assert_eq!(users(&s, "timed or odd"), ["administrator", "x' OR 1=1 --"]);
        assert_eq!(
            users(
                &s,
                "@timestamp>=2025-03-14T00:00:02Z and @timestamp<2025-03-14T00:00:04Z"
            ),
            ["administrator", "bob"]
        );
        // Values are bound, never pasted into the SQL.
        assert_eq!(users(&s, "user.name=\"x' OR 1=1 --\""), ["x' OR 1=1 --"]);
        assert!(users(&s, "user.name=\"' OR '1'='1\"").is_empty());
    }

    #[test]
    fn a_filter_in_memory_finds_what_a_search_of_the_store_finds() {
        let s = store();
        let events = events();
        for query in [
            "source.ip=203.0.113.7",
            "source.ip=203.0.113.0/24",
            "source.ip=2001:db8::/32",
            "source.ip!=203.0.113.0/24",
            "user.name=adm*",
            "user.name=ADM?N",
            "user.name=admin",
            "user.name!=root",
            "not user.name=adm* and not user.name=bob",
            "event.code in (4624, 4625)",
            "event.code=4688",
            "http.response.status_code>=500",
            "http.response.status_code<404",
            "http.response.status_code!=200",
            "http.response.status_code=404",
            "\"failed password\"",
            "timed or odd",
            "@timestamp>=2025-03-14T00:00:02Z and @timestamp<2025-03-14T00:00:04Z",
            "@timestamp<2025-03-15",
            "no.such.field=x",
            "no.such.field!=x",
            "user.name=\"x' OR 1=1 --\"",
            "(source.ip=10.0.0.0/8 or event.code=4625) and \"password\"",
        ] {
            let filter = Filter::new(query).unwrap();
            let mut found: Vec<String> = events
                .iter()
                .filter(|e| filter.matches(e))
                .map(|e| e.get("user.name").unwrap().to_string())
                .collect();
            found.sort();
            assert_eq!(found, users(&s, query), "{query}");
        }
    }

    #[test]
    fn counts_per_value_most_first() {
        let s = store();
        let q = EventQuery {
            expr: Some(parse("event.code in (4624, 4625)").unwrap()),
            ..EventQuery::default()
        };
        let counts = s.count_by(&q, "event.code", 10).unwrap();
        assert_eq!(
            counts,
            [(Some("4625".to_owned()), 2), (Some("4624".to_owned()), 1)]
        );
        let by_json = s
            .count_by(&EventQuery::default(), "http.response.status_code", 1)
            .unwrap();
        assert_eq!(by_json, [(Some("200".to_owned()), 2)]);
    }

    #[test]
    fn a_value_of_the_wrong_kind_names_the_field_and_column() {
        let s = store();
        let q = EventQuery {
            expr: Some(parse("user.name=a and @timestamp>yesterday").unwrap()),
            ..EventQuery::default()
        };
        let err = s.events(&q).unwrap_err().to_string();
        assert!(err.starts_with("column 17: @timestamp:"), "{err}");
    }
}
