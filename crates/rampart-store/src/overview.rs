//! The figures of an overview, what a dashboard's panels show, for one
//! time range and minimum severity: alerts per severity, alerts and events
//! over time, the rules, source addresses and hosts with the most alerts,
//! and how far the stored data reaches in time.
//!
//! A dashboard asks again every second or two while an ingest writes, over
//! stores of millions of events, so no figure reads event rows. Events over
//! time are sums of the counts kept per dataset and hour as events are
//! stored (`event_hours`), and so come in whole hours; their datasets are
//! walked one at a time through the table's key, so a range costs the hours
//! it covers, not the table. Alert figures read the `(severity, time)`
//! index, one range of it per level at or above the minimum: a
//! `severity >= ?` would scan every alert of those levels to find the
//! range's. [`Store::snapshot`] runs several of them over one view of the
//! data, so that the panels agree while an ingest commits.

use jiff::{SignedDuration, Timestamp};
use rampart_detect::Level;
use rusqlite::{params_from_iter, Row};

use crate::events::HOUR;
use crate::{Store, StoreError};

/// What an overview counts: alerts and events whose own time is at or
/// after `since` and before `until`, and alerts of `min_severity` or above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverviewFilter {
    /// The start of the range.
    pub since: Timestamp,
    /// The end of the range (not in it).
    pub until: Timestamp,
    /// Only alerts of this level or above (events have no level).
    pub min_severity: Option<Level>,
}

/// Counts over time: `counts[i]` is what fell in the bar that starts at
/// `start + i × bucket`. The first bar may start before the range and the
/// last end after it (bars start at whole multiples of their width since
/// the epoch); only what is in the range is counted, except that events
/// are counted by whole hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    /// Where the first bar starts.
    pub start: Timestamp,
    /// The width of a bar.
    pub bucket: SignedDuration,
    /// The count of each bar, oldest first.
    pub counts: Vec<u64>,
}

/// A rule among those that raised the most alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopRule {
    /// The rule's id.
    pub rule_id: String,
    /// The title of its newest alert in the range (a rule that takes its
    /// titles from events has several).
    pub title: String,
    /// Its alerts in the range.
    pub alerts: u64,
}

/// The figures of an overview for one filter, read together (what the
/// terminal dashboard's panels show).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    /// Alerts per level at or above the minimum, highest first.
    pub by_severity: Vec<(Level, u64)>,
    /// Alerts over the range.
    pub alerts: Timeline,
    /// Events over the range (by whole hours).
    pub events: Timeline,
    /// The rules with the most alerts.
    pub rules: Vec<TopRule>,
    /// The source addresses with the most alerts.
    pub sources: Vec<(String, u64)>,
    /// The hosts with the most alerts.
    pub hosts: Vec<(String, u64)>,
}

/// How far the stored data reaches in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// From the start of the first hour with events, or the first alert,
    /// to the end of the last hour with events, or just after the newest
    /// alert, whichever reach further; `None` when nothing stored has a
    /// time.
    pub range: Option<(Timestamp, Timestamp)>,
    /// Whether anything (an event or an alert) is stored at all.
    pub stored: bool,
}

impl Extent {
    /// The extent of events from the `hours` (first and last) that hold
    /// some, and alerts from `alerts` (first and last time, in
    /// microseconds); `stored` whether anything is stored at all.
    pub fn of(
        hours: Option<(i64, i64)>,
        alerts: Option<(i64, i64)>,
        stored: bool,
    ) -> Result<Extent, StoreError> {
        let first = [hours.map(|(h, _)| h * HOUR), alerts.map(|(t, _)| t)]
            .into_iter()
            .flatten()
            .min();
        let last = [
            hours.map(|(_, h)| (h + 1) * HOUR),
            alerts.map(|(_, t)| t + 1),
        ]
        .into_iter()
        .flatten()
        .max();
        let range = match (first, last) {
            (Some(first), Some(last)) => Some((time(first)?, time(last)?)),
            _ => None,
        };
        Ok(Extent { range, stored })
    }
}

/// The narrowest bars a timeline has, in seconds; each is at most two and
/// a half times the one before, so that a range gets 24 to 60 bars.
const BUCKETS: [i64; 17] = [
    60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200, 86_400, 172_800, 345_600,
    604_800, 1_209_600, 2_419_200,
];

/// The most bars a timeline has.
pub const MOST_BARS: i64 = 60;

/// The width of the bars for a timeline over `span`: the narrowest of
/// whole minutes, hours or days that needs at most [`MOST_BARS`].
pub fn bucket_for(span: SignedDuration) -> SignedDuration {
    let span = span.as_secs().max(1);
    let bars = |width: i64| (span + width - 1) / width;
    let secs = BUCKETS
        .into_iter()
        .find(|&width| bars(width) <= MOST_BARS)
        .unwrap_or_else(|| bars(MOST_BARS * 86_400) * 86_400);
    SignedDuration::from_secs(secs)
}

/// The levels at or above `min`, as alerts store them, one for each of
/// the five slots of [`SCOPE`] (the lowest repeated).
fn ranks(min: Option<Level>) -> impl Iterator<Item = i64> {
    let min = min.map_or(0, |l| l as i64);
    (0..=Level::Critical as i64).map(move |rank| rank.max(min))
}

/// The alerts a filter selects: `?1` and `?2` the range, `?3`-`?7` the
/// levels (see [`bind`]); a query's own parameters start at `?8`.
const SCOPE: &str = "time >= ?1 AND time < ?2 AND severity IN (?3, ?4, ?5, ?6, ?7)";

/// The parameters of [`SCOPE`] for `filter`, then `more`.
fn bind(filter: &OverviewFilter, more: &[i64]) -> Vec<i64> {
    let range = [filter.since, filter.until].map(|t| t.as_microsecond());
    range
        .into_iter()
        .chain(ranks(filter.min_severity))
        .chain(more.iter().copied())
        .collect()
}

/// Alerts of the filter per level, highest first (parameters: [`bind`]).
const BY_SEVERITY: &str = "SELECT severity, count(*) FROM alerts WHERE {SCOPE} GROUP BY severity";

/// Alerts of the filter per bar (`?8` the first bar's start, `?9` the width).
const ALERT_BARS: &str =
    "SELECT (time - ?8) / ?9 AS bar, count(*) FROM alerts WHERE {SCOPE} GROUP BY bar";

/// The columns the top lists count alerts by, and the queries for them
/// (`?8` how many).
const TOP: &str =
    "SELECT {COLUMN}, count(*) AS n FROM alerts WHERE {SCOPE} AND {COLUMN} IS NOT NULL
     GROUP BY {COLUMN} ORDER BY n DESC, {COLUMN} LIMIT ?8";

/// The newest title of a rule in the filter (`?8` the rule).
const RULE_TITLE: &str =
    "SELECT title FROM alerts WHERE rule_id = ?8 AND {SCOPE} ORDER BY time DESC LIMIT 1";

/// Events per bar from the hourly counts (`?1`, `?2` the first hour and
/// the one after the last, `?3` hours per bar). The recursive part steps
/// from one dataset to the next through the table's key, so that each
/// dataset's hours are one range of it.
const EVENT_BARS: &str = "WITH RECURSIVE datasets (name) AS (
        SELECT min(dataset) FROM event_hours
        UNION ALL
        SELECT (SELECT min(dataset) FROM event_hours WHERE dataset > name)
        FROM datasets WHERE name IS NOT NULL
    )
    SELECT (h.hour - ?1) / ?3 AS bar, sum(h.n)
    FROM datasets JOIN event_hours h ON h.dataset = datasets.name AND h.hour >= ?1 AND h.hour < ?2
    GROUP BY bar";

/// The first and last hour with timed events, stepping through datasets
/// as [`EVENT_BARS`] does.
const EVENT_HOURS: &str = "WITH RECURSIVE datasets (name) AS (
        SELECT min(dataset) FROM event_hours
        UNION ALL
        SELECT (SELECT min(dataset) FROM event_hours WHERE dataset > name)
        FROM datasets WHERE name IS NOT NULL
    )
    SELECT min((SELECT min(hour) FROM event_hours WHERE dataset = name AND hour >= 0)),
        max((SELECT max(hour) FROM event_hours WHERE dataset = name AND hour >= 0))
    FROM datasets WHERE name IS NOT NULL";

/// The first and last alert times, each one step into the time index (a
/// `min` and a `max` in one select would scan it).
const ALERT_TIMES: &str = "SELECT (SELECT min(time) FROM alerts), (SELECT max(time) FROM alerts)";

/// Whether anything is stored (each side reads one row at most).
const ANYTHING: &str = "SELECT EXISTS (SELECT 1 FROM alerts) OR EXISTS (SELECT 1 FROM event_hours)";

fn sql(template: &str) -> String {
    template.replace("{SCOPE}", SCOPE)
}

fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn time(micros: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(micros).map_err(|e| StoreError(e.to_string()))
}

/// Where the bars of `width` over `filter`'s range start, and how many.
fn frame(filter: &OverviewFilter, width: i64) -> (i64, usize) {
    let start = micros(filter.since).div_euclid(width) * width;
    let span = (micros(filter.until) - start).max(1);
    (start, ((span + width - 1) / width) as usize)
}

/// Counts per bar from rows of (bar, count), bars out of range left out.
pub(crate) fn bars(rows: Vec<(i64, i64)>, n: usize) -> Vec<u64> {
    let mut counts = vec![0; n];
    for (bar, count) in rows {
        if let Some(slot) = usize::try_from(bar).ok().and_then(|b| counts.get_mut(b)) {
            *slot += count.max(0) as u64;
        }
    }
    counts
}

pub(crate) fn pair(r: &Row<'_>) -> rusqlite::Result<(i64, i64)> {
    Ok((r.get(0)?, r.get(1)?))
}

impl Store {
    /// Runs `read` over one view of the data: what other connections
    /// commit meanwhile is not seen until it returns.
    pub fn snapshot<T>(
        &self,
        read: impl FnOnce(&Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // Only reads can happen through `&Store`: ending the transaction by
        // rolling it back undoes nothing.
        let view = self.conn.unchecked_transaction()?;
        let found = read(self)?;
        view.rollback()?;
        Ok(found)
    }

    /// A number that changes whenever another connection commits to the
    /// database: a reader that finds it as it was need not read again.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "data_version", |r| r.get(0))?)
    }

    /// How far the stored data reaches in time.
    pub fn extent(&self) -> Result<Extent, StoreError> {
        let (first_hour, last_hour): (Option<i64>, Option<i64>) = self
            .conn
            .prepare_cached(EVENT_HOURS)?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let (first_alert, last_alert): (Option<i64>, Option<i64>) = self
            .conn
            .prepare_cached(ALERT_TIMES)?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let stored = self
            .conn
            .prepare_cached(ANYTHING)?
            .query_row([], |r| r.get(0))?;
        let hours = first_hour.zip(last_hour);
        Extent::of(hours, first_alert.zip(last_alert), stored)
    }

    /// The figures of `filter`, each top list `top` long.
    pub fn figures(&self, filter: &OverviewFilter, top: usize) -> Result<Figures, StoreError> {
        Ok(Figures {
            by_severity: self.alerts_by_severity(filter)?,
            alerts: self.alert_timeline(filter)?,
            events: self.event_timeline(filter)?,
            rules: self.top_rules(filter, top)?,
            sources: self.top_sources(filter, top)?,
            hosts: self.top_hosts(filter, top)?,
        })
    }

    /// The filter's alerts per level at or above its minimum, highest
    /// first, levels without alerts included.
    pub fn alerts_by_severity(
        &self,
        filter: &OverviewFilter,
    ) -> Result<Vec<(Level, u64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&sql(BY_SEVERITY))?;
        let rows: Vec<(i64, i64)> = stmt
            .query_map(params_from_iter(bind(filter, &[])), pair)?
            .collect::<Result<_, _>>()?;
        let min = filter.min_severity.map_or(0, |l| l as i64);
        Ok((min..=Level::Critical as i64)
            .rev()
            .map(|rank| {
                let n = rows.iter().find(|(r, _)| *r == rank).map_or(0, |(_, n)| *n);
                (Level::from_rank(rank), n.max(0) as u64)
            })
            .collect())
    }

    /// The filter's alerts over its range, in [`bucket_for`] bars.
    pub fn alert_timeline(&self, filter: &OverviewFilter) -> Result<Timeline, StoreError> {
        let width = bucket_for(filter.until.duration_since(filter.since));
        let w = width.as_micros() as i64;
        let (start, n) = frame(filter, w);
        let mut stmt = self.conn.prepare_cached(&sql(ALERT_BARS))?;
        let rows = stmt
            .query_map(params_from_iter(bind(filter, &[start, w])), pair)?
            .collect::<Result<_, _>>()?;
        Ok(Timeline {
            start: time(start)?,
            bucket: width,
            counts: bars(rows, n),
        })
    }

    /// Events over the filter's range, from the hourly counts: bars as
    /// [`bucket_for`] says but never narrower than an hour, each counting
    /// the whole hours it holds.
    pub fn event_timeline(&self, filter: &OverviewFilter) -> Result<Timeline, StoreError> {
        let width = bucket_for(filter.until.duration_since(filter.since))
            .max(SignedDuration::from_hours(1));
        let w = width.as_micros() as i64;
        let (start, n) = frame(filter, w);
        let (first_hour, per_bar) = (start / HOUR, w / HOUR);
        let end_hour = first_hour + per_bar * n as i64;
        let mut stmt = self.conn.prepare_cached(EVENT_BARS)?;
        let rows = stmt
            .query_map([first_hour, end_hour, per_bar], pair)?
            .collect::<Result<_, _>>()?;
        Ok(Timeline {
            start: time(start)?,
            bucket: width,
            counts: bars(rows, n),
        })
    }

    /// The `n` rules with the most alerts in the filter, most first.
    pub fn top_rules(&self, filter: &OverviewFilter, n: usize) -> Result<Vec<TopRule>, StoreError> {
        let counts = self.top("rule_id", filter, n)?;
        let mut title = self.conn.prepare_cached(&sql(RULE_TITLE))?;
        counts
            .into_iter()
            .map(|(rule_id, alerts)| {
                let mut values: Vec<rusqlite::types::Value> =
                    bind(filter, &[]).into_iter().map(Into::into).collect();
                values.push(rule_id.clone().into());
                let title = title.query_row(params_from_iter(values), |r| r.get(0))?;
                Ok(TopRule {
                    rule_id,
                    title,
                    alerts,
                })
            })
            .collect()
    }

    /// The `n` source addresses with the most alerts in the filter (as
    /// the alerts' groups name them), most first.
    pub fn top_sources(
        &self,
        filter: &OverviewFilter,
        n: usize,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        self.top("source_ip", filter, n)
    }

    /// The `n` hosts with the most alerts in the filter (as the alerts'
    /// groups name them), most first.
    pub fn top_hosts(
        &self,
        filter: &OverviewFilter,
        n: usize,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        self.top("host", filter, n)
    }

    /// Alerts in the filter counted by `column` (one of the alert table's,
    /// never text from outside), most first.
    fn top(
        &self,
        column: &'static str,
        filter: &OverviewFilter,
        n: usize,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let query = sql(TOP).replace("{COLUMN}", column);
        let mut stmt = self.conn.prepare_cached(&query)?;
        let limit = i64::try_from(n).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params_from_iter(bind(filter, &[limit])), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Commit, NewAlert};
    use rampart_event::{Event, Origin};

    /// 2025-03-14T00:00:00Z, in seconds.
    const DAY0: i64 = 1_741_910_400;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap()
    }

    fn alert(n: u64, rule: &str, level: Level, secs: i64, host: &str, ip: &str) -> NewAlert {
        let mut group = Vec::new();
        if !host.is_empty() {
            group.push(("host.name".to_owned(), host.to_owned()));
        }
        if !ip.is_empty() {
            group.push(("source.ip".to_owned(), ip.to_owned()));
        }
        crate::testing::alert(&format!("a{n:05}"), rule, level, at(secs), group)
    }

    const LEVELS: [Level; 5] = [
        Level::Informational,
        Level::Low,
        Level::Medium,
        Level::High,
        Level::Critical,
    ];

    /// What the oracle knows of an alert: (rule, level, time, host, ip).
    type Known = (String, Level, i64, String, String);

    /// A store with events over three days in two datasets (one event
    /// without a time) and alerts of every level, rule, host and address
    /// mix; returns what was stored.
    fn filled(store: &mut Store) -> (Vec<i64>, Vec<Known>) {
        let source = store.source(b"overview", "o.log").unwrap().id;
        let mut commit = Commit::default();
        let mut times = Vec::new();
        for i in 0..500u64 {
            let mut e = Event::new(Origin::new("o.log", i + 1), "x");
            e.set(
                "event.dataset",
                if i % 3 == 0 {
                    "web.access"
                } else {
                    "linux.auth"
                },
            );
            if i != 13 {
                let secs = DAY0 + (i as i64 * 7_919) % (3 * 86_400);
                e.timestamp = Some(at(secs));
                times.push(secs);
            }
            commit.events.push(source, i, &e);
        }
        let mut known = Vec::new();
        for i in 0..300u64 {
            let rule =
                ["ssh-brute-force", "port-scan", "win-new-user", "ioc-match"][i as usize % 4];
            let level = LEVELS[(i as usize * 7) % 5];
            let secs = DAY0 + (i as i64 * 4_513) % (3 * 86_400);
            let host = ["", "web01", "dc01"][(i as usize / 4) % 3];
            let ip = ["", "203.0.113.9", "198.51.100.4", "192.0.2.1"][(i as usize / 3) % 4];
            commit.alerts.push(alert(i, rule, level, secs, host, ip));
            known.push((rule.to_owned(), level, secs, host.to_owned(), ip.to_owned()));
        }
        store.commit(&mut commit).unwrap();
        (times, known)
    }

    /// `(name, n)` pairs counted from `items`, most first then by name,
    /// the first `n`.
    fn ranked<'a>(items: impl Iterator<Item = &'a str>, n: usize) -> Vec<(String, u64)> {
        let mut counts: std::collections::BTreeMap<&str, u64> = Default::default();
        for item in items.filter(|i| !i.is_empty()) {
            *counts.entry(item).or_default() += 1;
        }
        let mut pairs: Vec<(String, u64)> =
            counts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        pairs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        pairs.truncate(n);
        pairs
    }

    #[test]
    fn every_figure_agrees_with_counting_the_rows_for_any_range_and_level() {
        let mut store = Store::in_memory().unwrap();
        let (times, known) = filled(&mut store);
        let ranges = [
            (DAY0, DAY0 + 3 * 86_400),
            (DAY0 + 3_600 + 17, DAY0 + 7_200 + 17),
            (DAY0 + 86_400 - 1, DAY0 + 2 * 86_400 + 5),
            (DAY0 - 7 * 86_400, DAY0 + 30 * 86_400),
        ];
        for (since, until) in ranges {
            for min in [None, Some(Level::Medium), Some(Level::Critical)] {
                let filter = OverviewFilter {
                    since: at(since),
                    until: at(until),
                    min_severity: min,
                };
                let what = format!("{since}..{until} {min:?}");
                let picked: Vec<&Known> = known
                    .iter()
                    .filter(|k| k.2 >= since && k.2 < until && Some(k.1) >= min)
                    .collect();

                let by_level = store.alerts_by_severity(&filter).unwrap();
                let expected: Vec<(Level, u64)> = LEVELS
                    .iter()
                    .rev()
                    .filter(|l| Some(**l) >= min)
                    .map(|l| (*l, picked.iter().filter(|k| k.1 == *l).count() as u64))
                    .collect();
                assert_eq!(by_level, expected, "{what}");

                let timeline = store.alert_timeline(&filter).unwrap();
                let width = timeline.bucket.as_secs();
                let start = timeline.start.as_second();
                assert!(start <= since && start + width > since, "{what}");
                assert!(
                    start + width * timeline.counts.len() as i64 >= until,
                    "{what}"
                );
                for (i, n) in timeline.counts.iter().enumerate() {
                    let from = start + i as i64 * width;
                    let bar = picked.iter().filter(|k| k.2 >= from && k.2 < from + width);
                    assert_eq!(*n, bar.count() as u64, "{what}: bar {i}");
                }

                // Events count by whole hours: those of every hour the
                // range touches.
                let events = store.event_timeline(&filter).unwrap();
                let width = events.bucket.as_secs();
                assert!(width >= 3_600 && width % 3_600 == 0, "{what}");
                let start = events.start.as_second();
                for (i, n) in events.counts.iter().enumerate() {
                    let from = start + i as i64 * width;
                    let bar = times.iter().filter(|t| **t >= from && **t < from + width);
                    assert_eq!(*n, bar.count() as u64, "{what}: event bar {i}");
                }
                let first_hour = since.div_euclid(3_600) * 3_600;
                let touched = times
                    .iter()
                    .filter(|t| **t >= first_hour && **t < until.div_euclid(3_600) * 3_600 + 3_600);
                assert_eq!(
                    events.counts.iter().sum::<u64>(),
                    touched.count() as u64,
                    "{what}"
                );

                let rules = store.top_rules(&filter, 3).unwrap();
                let expected = ranked(picked.iter().map(|k| k.0.as_str()), 3);
                let got: Vec<(String, u64)> = rules
                    .iter()
                    .map(|r| (r.rule_id.clone(), r.alerts))
                    .collect();
                assert_eq!(got, expected, "{what}");
                for rule in &rules {
                    let newest = picked
                        .iter()
                        .filter(|k| k.0 == rule.rule_id)
                        .max_by_key(|k| k.2)
                        .unwrap();
                    let title = known.iter().position(|k| std::ptr::eq(k, *newest)).unwrap();
                    assert_eq!(
                        rule.title,
                        format!("{} a{title:05}", rule.rule_id),
                        "{what}"
                    );
                }
                assert_eq!(
                    store.top_sources(&filter, 2).unwrap(),
                    ranked(picked.iter().map(|k| k.4.as_str()), 2),
                    "{what}"
                );
                assert_eq!(
                    store.top_hosts(&filter, 5).unwrap(),
                    ranked(picked.iter().map(|k| k.3.as_str()), 5),
                    "{what}"
                );
            }
        }
    }

    #[test]
    fn a_range_gets_24_to_60_bars_of_whole_minutes_hours_or_days() {
        let mut span = 24 * 60;
        while span < 20 * 365 * 86_400 {
            let width = bucket_for(SignedDuration::from_secs(span)).as_secs();
            let bars = (span + width - 1) / width;
            assert!(
                (24..=MOST_BARS).contains(&bars),
                "{span} s: {bars} bars of {width} s"
            );
            assert!(width % 60 == 0, "{span} s: {width}");
            span = span * 11 / 10;
        }
        // Less than 24 minutes: one bar a minute.
        assert_eq!(bucket_for(SignedDuration::from_secs(300)).as_secs(), 60);
        assert_eq!(bucket_for(SignedDuration::ZERO).as_secs(), 60);
    }

    #[test]
    fn the_extent_spans_event_hours_and_alert_times() {
        let mut store = Store::in_memory().unwrap();
        assert_eq!(
            store.extent().unwrap(),
            Extent {
                range: None,
                stored: false
            }
        );
        // An event without a time is stored but has no place in time.
        let source = store.source(b"extent", "e.log").unwrap().id;
        let mut commit = Commit::default();
        commit
            .events
            .push(source, 0, &Event::new(Origin::new("e.log", 1), "x"));
        store.commit(&mut commit).unwrap();
        assert_eq!(
            store.extent().unwrap(),
            Extent {
                range: None,
                stored: true
            }
        );
        let mut e = Event::new(Origin::new("e.log", 2), "x");
        e.timestamp = Some(at(DAY0 + 5_400));
        commit.events.push(source, 1, &e);
        commit
            .alerts
            .push(alert(1, "r", Level::Low, DAY0 + 86_400 + 7, "", ""));
        commit
            .alerts
            .push(alert(2, "r", Level::Low, DAY0 + 7_000, "", ""));
        store.commit(&mut commit).unwrap();
        let (first, last) = store.extent().unwrap().range.unwrap();
        assert_eq!(first, at(DAY0 + 3_600), "the start of the event's hour");
        assert_eq!(
            last,
            at(DAY0 + 86_400 + 7) + SignedDuration::from_micros(1),
            "just after the newest alert"
        );
    }

    #[test]
    fn a_snapshot_does_not_see_what_another_connection_commits_meanwhile_and_a_commit_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let reader = Store::open(&path).unwrap();
        let mut writer = Store::open(&path).unwrap();
        let filter = OverviewFilter {
            since: at(DAY0),
            until: at(DAY0 + 86_400),
            min_severity: None,
        };
        let store = |n: u64, writer: &mut Store| {
            let mut commit = Commit::default();
            commit
                .alerts
                .push(alert(n, "r", Level::High, DAY0 + 60, "", ""));
            writer.commit(&mut commit).unwrap();
        };
        store(1, &mut writer);
        let (before, during) = reader
            .snapshot(|s| {
                let before = s.alerts_by_severity(&filter)?;
                store(2, &mut writer);
                Ok((before, s.alerts_by_severity(&filter)?))
            })
            .unwrap();
        assert_eq!(before, during);
        assert_eq!(during[1], (Level::High, 1));
        // What another connection committed changes the data version;
        // reading does not.
        let version = reader.data_version().unwrap();
        assert_eq!(reader.data_version().unwrap(), version);
        store(3, &mut writer);
        assert_ne!(reader.data_version().unwrap(), version);
        assert_eq!(
            reader.alerts_by_severity(&filter).unwrap()[1],
            (Level::High, 3)
        );
    }

    /// The plan SQLite makes for `query`, one step a line.
    fn plan(store: &Store, query: &str, params: usize) -> String {
        let mut stmt = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {query}"))
            .unwrap();
        let values = vec![rusqlite::types::Value::Integer(0); params];
        let rows = stmt
            .query_map(params_from_iter(values), |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn no_query_scans_a_table_or_reads_event_rows() {
        let store = Store::in_memory().unwrap();
        let alerts = [
            (sql(BY_SEVERITY), 7),
            (sql(ALERT_BARS), 9),
            (sql(RULE_TITLE), 8),
            (sql(TOP).replace("{COLUMN}", "rule_id"), 8),
            (sql(TOP).replace("{COLUMN}", "host"), 8),
            (sql(TOP).replace("{COLUMN}", "source_ip"), 8),
            (ALERT_TIMES.to_owned(), 0),
        ];
        for (query, params) in alerts {
            let plan = plan(&store, &query, params);
            assert!(!plan.contains("SCAN alerts"), "{query}\n{plan}");
            assert!(plan.contains("INDEX alerts_"), "{query}\n{plan}");
        }
        for (query, params) in [(EVENT_BARS, 3), (EVENT_HOURS, 0)] {
            let plan = plan(&store, query, params);
            assert!(
                !plan.contains("SCAN h") && !plan.contains("SCAN event_hours"),
                "{query}\n{plan}"
            );
            assert!(!plan.contains(" events"), "{query}\n{plan}");
        }
    }
}
