//! The figures of the web console's overview and rules pages over
//! ClickHouse: what the SQLite store keeps hourly counts for, counted from
//! the events and alerts themselves (ClickHouse reads a column of millions
//! of rows in a blink), with the same rules: a slice's range is whole
//! hours, alerts are sliced by their level, host, and the dataset and
//! protocol of their first event, and an empty value chosen in a filter
//! finds what has none.

use jiff::{SignedDuration, Timestamp};
use rampart_detect::Level;
use rampart_store::{
    bucket_for, Board, Choices, Extent, Figures, MaliciousEvent, OverviewFilter, Slice, SliceBars,
    StoreError, Timeline, TopRule, MOST_CHOICES,
};
use serde::Deserialize;

use crate::alerts::TRIAGED;
use crate::client::quote;
use crate::{ClickHouse, Count};

/// Microseconds in an hour.
const HOUR: i64 = 3_600_000_000;

/// How many rows the top lists and the details table hold.
const TOP: u64 = 10;
const DETAILS: u64 = 50;

/// A bar and its count.
#[derive(Deserialize)]
struct Bar {
    bar: i64,
    n: u64,
}

fn time(micros: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(micros).map_err(|e| StoreError(e.to_string()))
}

/// `AND column IN (...)`, unless `values` is empty.
fn any_of(column: &str, values: &[String]) -> String {
    if values.is_empty() {
        return String::new();
    }
    let list: Vec<String> = values.iter().map(|v| quote(v)).collect();
    format!(" AND {column} IN ({})", list.join(", "))
}

/// The slice's events.
fn events(slice: &Slice) -> String {
    let (first, end) = slice.hours();
    format!(
        "timed = 1 AND time >= {} AND time < {}{}{}{}{}",
        first * HOUR,
        end * HOUR,
        any_of("level", &slice.levels),
        any_of("protocol", &slice.protocols),
        any_of("dataset", &slice.datasets),
        any_of("host", &slice.hosts)
    )
}

/// The slice's alerts: its range, the levels its labels name, its hosts,
/// and the datasets and protocols of their first events.
fn alerts(slice: &Slice) -> String {
    let (first, end) = slice.hours();
    let mut clause = format!(
        "timed = 1 AND time >= {} AND time < {}",
        first * HOUR,
        end * HOUR
    );
    if !slice.levels.is_empty() {
        let ranks: Vec<String> = slice
            .levels
            .iter()
            .filter_map(|l| Level::parse(l))
            .map(|l| (l as u8).to_string())
            .collect();
        if ranks.is_empty() {
            clause.push_str(" AND 0");
        } else {
            clause.push_str(&format!(" AND severity IN ({})", ranks.join(", ")));
        }
    }
    clause
        + &any_of("host", &slice.hosts)
        + &any_of("dataset", &slice.datasets)
        + &any_of("protocol", &slice.protocols)
}

/// Counts per bar, bars out of range left out.
fn bars(rows: Vec<Bar>, n: usize) -> Vec<u64> {
    let mut counts = vec![0; n];
    for Bar { bar, n } in rows {
        if let Some(slot) = usize::try_from(bar).ok().and_then(|b| counts.get_mut(b)) {
            *slot += n;
        }
    }
    counts
}

impl ClickHouse {
    fn counts(&self, sql: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let rows: Vec<Count> = self.client.rows(sql)?;
        Ok(rows.into_iter().map(|c| (c.v, c.n)).collect())
    }

    /// The overview of `slice`.
    pub(crate) fn slice_board(&self, slice: &Slice) -> Result<Board, StoreError> {
        let (first, end) = slice.hours();
        let events = events(slice);
        let malicious = format!("{events} AND threat IS NOT NULL");
        let total = self.count(&format!(
            "SELECT uniqExact(id) AS n FROM events WHERE {events}"
        ))?;
        let bad = self.count(&format!(
            "SELECT uniqExact(id) AS n FROM events WHERE {malicious}"
        ))?;
        let by = |column: &str| {
            self.counts(&format!(
                "SELECT {column} AS v, uniqExact(id) AS n FROM events WHERE {events}
                 GROUP BY v ORDER BY n DESC, v"
            ))
        };
        let by_level = by("level")?;
        let by_protocol = by("protocol")?;

        let SliceBars {
            width,
            per_bar,
            start,
            n: n_bars,
        } = slice.bars();
        let event_bars = self.client.rows::<Bar>(&format!(
            "SELECT intDiv(intDiv(time, {HOUR}) - {start}, {per_bar}) AS bar, uniqExact(id) AS n
             FROM events WHERE {events} GROUP BY bar ORDER BY bar"
        ))?;
        let alerts = alerts(slice);
        let alert_bars = self.client.rows::<Bar>(&format!(
            "SELECT intDiv(time - {}, {}) AS bar, count() AS n FROM alerts FINAL
             WHERE {alerts} GROUP BY bar ORDER BY bar",
            start * HOUR,
            per_bar * HOUR
        ))?;
        let timeline = |counts| -> Result<Timeline, StoreError> {
            Ok(Timeline {
                start: time(start * HOUR)?,
                bucket: width,
                counts,
            })
        };
        let all_alerts = self.count(&format!(
            "SELECT count() AS n FROM {TRIAGED} WHERE {alerts}"
        ))?;
        let open = self.count(&format!(
            "SELECT count() AS n FROM {TRIAGED} WHERE {alerts} AND status IN ('', 'open')"
        ))?;
        let malicious_sources = self.count(&format!(
            "SELECT uniqExactIf(source_ip, source_ip != '') AS n FROM events WHERE {malicious}"
        ))?;
        let top_destinations = self.counts(&format!(
            "SELECT destination_ip AS v, uniqExact(id) AS n FROM events
             WHERE {events} AND destination_ip != ''
             GROUP BY v ORDER BY n DESC, v LIMIT {TOP}"
        ))?;
        #[derive(Deserialize)]
        struct Source {
            v: String,
            n: u64,
            surest: i64,
        }
        let top_malicious_sources = self
            .client
            .rows::<Source>(&format!(
                "SELECT source_ip AS v, uniqExact(id) AS n, max(assumeNotNull(threat)) AS surest
                 FROM events WHERE {malicious} AND source_ip != ''
                 GROUP BY v ORDER BY n DESC, v LIMIT {TOP}"
            ))?
            .into_iter()
            .map(|s| (s.v, s.n, s.surest))
            .collect();
        #[derive(Deserialize)]
        struct Cell {
            level: String,
            confidence: i64,
            n: u64,
        }
        let heatmap = self
            .client
            .rows::<Cell>(&format!(
                "SELECT level, assumeNotNull(threat) AS confidence, uniqExact(id) AS n
                 FROM events WHERE {malicious}
                 GROUP BY level, confidence ORDER BY level, confidence"
            ))?
            .into_iter()
            .map(|c| (c.level, c.confidence, c.n))
            .collect();
        #[derive(Deserialize)]
        struct Detail {
            id: i64,
            time: i64,
            level: String,
            protocol: String,
            source_ip: String,
            destination_ip: String,
            confidence: i64,
            message: String,
        }
        let some = |s: String| Some(s).filter(|s| !s.is_empty());
        let details = self
            .client
            .rows::<Detail>(&format!(
                "SELECT id, time, level, protocol, source_ip, destination_ip,
                     assumeNotNull(threat) AS confidence, vals[indexOf(keys, 'message')] AS message
                 FROM events WHERE {malicious} ORDER BY time DESC, id DESC LIMIT 1 BY id LIMIT {DETAILS}"
            ))?
            .into_iter()
            .map(|d| MaliciousEvent {
                id: d.id,
                time: Timestamp::from_microsecond(d.time).ok(),
                level: some(d.level),
                protocol: some(d.protocol),
                source_ip: some(d.source_ip),
                destination_ip: some(d.destination_ip),
                confidence: d.confidence,
                message: some(d.message),
            })
            .collect();
        Ok(Board {
            range: (time(first * HOUR)?, time(end * HOUR)?),
            events: total,
            malicious: bad,
            alerts_open: open,
            alerts: all_alerts,
            malicious_sources,
            by_level,
            by_protocol,
            event_timeline: timeline(bars(event_bars, n_bars))?,
            alert_timeline: timeline(bars(alert_bars, n_bars))?,
            top_destinations,
            top_malicious_sources,
            heatmap,
            details,
        })
    }

    /// The values each filter can take over `since`..`until`.
    pub(crate) fn slice_choices(
        &self,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Choices, StoreError> {
        let slice = Slice {
            since,
            until,
            ..Slice::default()
        };
        let events = events(&slice);
        let of = |column: &str| -> Result<Vec<String>, StoreError> {
            Ok(self
                .counts(&format!(
                    "SELECT {column} AS v, uniqExact(id) AS n FROM events
                     WHERE {events} AND {column} != ''
                     GROUP BY v ORDER BY n DESC, v LIMIT {MOST_CHOICES}"
                ))?
                .into_iter()
                .map(|(v, _)| v)
                .collect())
        };
        Ok(Choices {
            levels: of("level")?,
            protocols: of("protocol")?,
            datasets: of("dataset")?,
            hosts: of("host")?,
        })
    }

    /// Alerts per rule whose time is in `since`..`until`, most first.
    pub(crate) fn rule_counts(
        &self,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        self.counts(&format!(
            "SELECT rule_id AS v, count() AS n FROM alerts FINAL
             WHERE timed = 1 AND time >= {} AND time < {}
             GROUP BY v ORDER BY n DESC, v",
            since.as_microsecond(),
            until.as_microsecond()
        ))
    }

    /// The figures of `filter`, each top list `top` long.
    pub(crate) fn filter_figures(
        &self,
        filter: &OverviewFilter,
        top: usize,
    ) -> Result<Figures, StoreError> {
        let (since, until) = (filter.since.as_microsecond(), filter.until.as_microsecond());
        let min = filter.min_severity.map_or(0, |l| l as u8);
        let scope =
            format!("timed = 1 AND time >= {since} AND time < {until} AND severity >= {min}");
        #[derive(Deserialize)]
        struct Rank {
            severity: u8,
            n: u64,
        }
        let ranks: Vec<Rank> = self.client.rows(&format!(
            "SELECT severity, count() AS n FROM alerts FINAL WHERE {scope} GROUP BY severity"
        ))?;
        let by_severity = (min..=Level::Critical as u8)
            .rev()
            .map(|rank| {
                let n = ranks.iter().find(|r| r.severity == rank).map_or(0, |r| r.n);
                (Level::from_rank(rank.into()), n)
            })
            .collect();
        // Alerts in bars of the range's width, from a whole multiple of it.
        let frame = |width: SignedDuration| {
            let w = width.as_micros() as i64;
            let start = since.div_euclid(w) * w;
            let n = ((until - start).max(1) + w - 1) / w;
            (w, start, n as usize)
        };
        let width = bucket_for(filter.until.duration_since(filter.since));
        let (w, start, n) = frame(width);
        let alert_bars = self.client.rows::<Bar>(&format!(
            "SELECT intDiv(time - {start}, {w}) AS bar, count() AS n FROM alerts FINAL
             WHERE {scope} GROUP BY bar ORDER BY bar"
        ))?;
        let alerts = Timeline {
            start: time(start)?,
            bucket: width,
            counts: bars(alert_bars, n),
        };
        // Events by whole hours: every event of an hour the bars touch.
        let width = width.max(SignedDuration::from_hours(1));
        let (w, start, n) = frame(width);
        let (first_hour, per_bar) = (start / HOUR, w / HOUR);
        let end_hour = first_hour + per_bar * n as i64;
        let hour = format!("intDiv(time - if(time < 0, {}, 0), {HOUR})", HOUR - 1);
        let event_bars = self.client.rows::<Bar>(&format!(
            "SELECT intDiv({hour} - {first_hour}, {per_bar}) AS bar, uniqExact(id) AS n
             FROM events WHERE timed = 1 AND {hour} >= {first_hour} AND {hour} < {end_hour}
             GROUP BY bar ORDER BY bar"
        ))?;
        let events = Timeline {
            start: time(start)?,
            bucket: width,
            counts: bars(event_bars, n),
        };
        let top_of = |column: &str| {
            self.counts(&format!(
                "SELECT {column} AS v, count() AS n FROM alerts FINAL
                 WHERE {scope} AND {column} != '' GROUP BY v ORDER BY n DESC, v LIMIT {top}"
            ))
        };
        #[derive(Deserialize)]
        struct Rule {
            v: String,
            n: u64,
            title: String,
        }
        let rules = self
            .client
            .rows::<Rule>(&format!(
                "SELECT rule_id AS v, count() AS n, argMax(title, time) AS title FROM alerts FINAL
                 WHERE {scope} GROUP BY v ORDER BY n DESC, v LIMIT {top}"
            ))?
            .into_iter()
            .map(|r| TopRule {
                rule_id: r.v,
                title: r.title,
                alerts: r.n,
            })
            .collect();
        Ok(Figures {
            by_severity,
            alerts,
            events,
            rules,
            sources: top_of("source_ip")?,
            hosts: top_of("host")?,
        })
    }

    /// How far the stored data reaches in time.
    pub(crate) fn reach(&self) -> Result<Extent, StoreError> {
        #[derive(Deserialize)]
        struct Reach {
            first: i64,
            last: i64,
            n_timed: u64,
            n_all: u64,
        }
        let read = |sql: &str| -> Result<Reach, StoreError> {
            self.client
                .rows::<Reach>(sql)?
                .into_iter()
                .next()
                .ok_or_else(|| StoreError(format!("{}: no answer to {sql}", self.describe())))
        };
        let hours = read(&format!(
            "SELECT minIf(intDiv(time, {HOUR}), timed = 1 AND time >= 0) AS first,
                 maxIf(intDiv(time, {HOUR}), timed = 1 AND time >= 0) AS last,
                 countIf(timed = 1 AND time >= 0) AS n_timed, count() AS n_all
             FROM events"
        ))?;
        let alerts = read(
            "SELECT minIf(time, timed = 1) AS first, maxIf(time, timed = 1) AS last,
                 countIf(timed = 1) AS n_timed, count() AS n_all
             FROM alerts",
        )?;
        Extent::of(
            (hours.n_timed > 0).then_some((hours.first, hours.last)),
            (alerts.n_timed > 0).then_some((alerts.first, alerts.last)),
            hours.n_all > 0 || alerts.n_all > 0,
        )
    }
}
