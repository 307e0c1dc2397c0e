//! The figures of seed 001's SOC dashboard, and more, for one slice of the
//! data: a time range and, optionally, severity labels, protocols,
//! datasets and hosts. Totals, distributions, the timeline and the
//! confidence × severity heatmap add up the hourly counts of
//! `event_facets` (see `facets`), the most targeted destinations those of
//! `destination_hours` (see `destinations`); the lists of malicious events
//! and their sources read the malicious events alone through their own
//! index. Only a slice that picks severity labels or protocols reads its
//! events for the top destinations.
//!
//! A slice's range is whole hours (its start rounded down, its end up), so
//! that every panel counts the same events. Alerts have a level, not a
//! label: the severity filter keeps the alerts whose level it names; the
//! other filters take an alert's host, and the dataset and protocol of its
//! first event. Every value is bound as a parameter.

use jiff::{SignedDuration, Timestamp};
use rampart_detect::Level;
use rusqlite::params_from_iter;
use rusqlite::types::Value;

use crate::events::HOUR;
use crate::facets::BENIGN;
use crate::overview::{bars, bucket_for, pair, time, Timeline};
use crate::{Store, StoreError};

/// The most values of one filter a slice takes.
pub const MOST_CHOICES: usize = 32;

/// How many rows the top lists and the details table hold.
const TOP: i64 = 10;
const DETAILS: i64 = 50;

/// The part of the data a dashboard shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Slice {
    /// The start of the range (rounded down to the hour).
    pub since: Timestamp,
    /// The end of the range (rounded up to the hour; not in it).
    pub until: Timestamp,
    /// Severity labels, as `event.severity`'s label or the source's own
    /// (`low`, `high`, `information`); none for all.
    pub levels: Vec<String>,
    /// Protocols (`TCP`, `DHCP`); none for all.
    pub protocols: Vec<String>,
    /// Datasets (`ids.alert`, `sshd`); none for all.
    pub datasets: Vec<String>,
    /// Hosts; none for all.
    pub hosts: Vec<String>,
}

/// A malicious event, as the details table shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaliciousEvent {
    /// The event's id.
    pub id: i64,
    /// Its time.
    pub time: Option<Timestamp>,
    /// Its severity label.
    pub level: Option<String>,
    /// Its protocol.
    pub protocol: Option<String>,
    /// Its source address.
    pub source_ip: Option<String>,
    /// Its destination address.
    pub destination_ip: Option<String>,
    /// The confidence of the surest indicator it matched.
    pub confidence: i64,
    /// Its message.
    pub message: Option<String>,
}

/// Everything the overview shows for one slice, read over one view of
/// the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    /// The slice's range, in whole hours.
    pub range: (Timestamp, Timestamp),
    /// Events.
    pub events: u64,
    /// Events a threat indicator matched.
    pub malicious: u64,
    /// Open alerts.
    pub alerts_open: u64,
    /// Alerts, whatever their triage.
    pub alerts: u64,
    /// Source addresses of malicious events.
    pub malicious_sources: u64,
    /// Events per severity label, most first (`""` for none).
    pub by_level: Vec<(String, u64)>,
    /// Events per protocol, most first (`""` for none).
    pub by_protocol: Vec<(String, u64)>,
    /// Events over the range.
    pub event_timeline: Timeline,
    /// Alerts over the range, in bars as wide as the events'.
    pub alert_timeline: Timeline,
    /// Destination addresses with the most events.
    pub top_destinations: Vec<(String, u64)>,
    /// Source addresses with the most malicious events, and the surest
    /// confidence among them.
    pub top_malicious_sources: Vec<(String, u64, i64)>,
    /// Malicious events per (severity label, confidence).
    pub heatmap: Vec<(String, i64, u64)>,
    /// The newest malicious events.
    pub details: Vec<MaliciousEvent>,
}

/// The values each filter can take in a range (the most common first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choices {
    /// Severity labels.
    pub levels: Vec<String>,
    /// Protocols.
    pub protocols: Vec<String>,
    /// Datasets.
    pub datasets: Vec<String>,
    /// Hosts.
    pub hosts: Vec<String>,
}

/// A `WHERE` clause and its parameters, built from parts that are never
/// text from outside.
struct Clause {
    sql: String,
    values: Vec<Value>,
}

impl Clause {
    fn new(sql: &str, values: impl IntoIterator<Item = Value>) -> Clause {
        Clause {
            sql: sql.to_owned(),
            values: values.into_iter().collect(),
        }
    }

    /// `AND column IN (?, ...)`, unless `values` is empty.
    fn any_of(self, column: &'static str, values: &[String]) -> Clause {
        self.any(column, values.iter().map(|v| Value::Text(v.clone())))
    }

    /// `AND column IN (?, ...)`, unless `values` is empty.
    fn any(mut self, column: &'static str, values: impl ExactSizeIterator<Item = Value>) -> Clause {
        if values.len() == 0 {
            return self;
        }
        let marks = vec!["?"; values.len()].join(", ");
        self.sql.push_str(&format!(" AND {column} IN ({marks})"));
        self.values.extend(values);
        self
    }

    fn and(mut self, sql: &str) -> Clause {
        self.sql.push_str(" AND ");
        self.sql.push_str(sql);
        self
    }
}

/// The hour of a time, rounded down.
fn hour_floor(t: Timestamp) -> i64 {
    t.as_microsecond().div_euclid(HOUR)
}

/// The hour after a time's, unless it starts one.
fn hour_ceil(t: Timestamp) -> i64 {
    (t.as_microsecond() + HOUR - 1).div_euclid(HOUR)
}

fn count(n: i64) -> u64 {
    n.max(0) as u64
}

/// The bars of a slice's timelines: whole hours at least, the same for
/// events and alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SliceBars {
    /// The width of a bar.
    pub width: SignedDuration,
    /// Hours a bar holds.
    pub per_bar: i64,
    /// The hour (since the epoch) the first bar starts at.
    pub start: i64,
    /// How many bars.
    pub n: usize,
}

impl Slice {
    /// The slice's first hour and the hour after its last (hours since
    /// the epoch).
    pub fn hours(&self) -> (i64, i64) {
        let first = hour_floor(self.since);
        (first, hour_ceil(self.until).max(first + 1))
    }

    /// The bars of its timelines.
    pub fn bars(&self) -> SliceBars {
        let (first, end) = self.hours();
        let width = bucket_for(SignedDuration::from_micros((end - first) * HOUR))
            .max(SignedDuration::from_hours(1));
        let per_bar = width.as_micros() as i64 / HOUR;
        let start = first.div_euclid(per_bar) * per_bar;
        SliceBars {
            width,
            per_bar,
            start,
            n: ((end - start + per_bar - 1) / per_bar) as usize,
        }
    }

    /// The hourly counts of the slice (`event_facets` rows).
    fn facets(&self) -> Clause {
        let (first, end) = self.hours();
        Clause::new(
            "hour >= ? AND hour < ?",
            [Value::Integer(first), Value::Integer(end)],
        )
        .any_of("level", &self.levels)
        .any_of("protocol", &self.protocols)
        .any_of("dataset", &self.datasets)
        .any_of("host", &self.hosts)
    }

    /// The slice's events (`events` rows); `coalesce` so that an empty
    /// value chosen in a filter finds the events without one, as the
    /// hourly counts keep them.
    fn events(&self) -> Clause {
        let (first, end) = self.hours();
        Clause::new(
            "time >= ? AND time < ?",
            [Value::Integer(first * HOUR), Value::Integer(end * HOUR)],
        )
        .any_of("coalesce(level, '')", &self.levels)
        .any_of("coalesce(protocol, '')", &self.protocols)
        .any_of("coalesce(dataset, '')", &self.datasets)
        .any_of("coalesce(host, '')", &self.hosts)
    }

    /// The slice's alerts: its range, the levels its labels name, its
    /// hosts, and the datasets and protocols of their first events.
    fn alerts(&self) -> Clause {
        let (first, end) = self.hours();
        let mut clause = Clause::new(
            "time >= ? AND time < ?",
            [Value::Integer(first * HOUR), Value::Integer(end * HOUR)],
        );
        if !self.levels.is_empty() {
            let ranks: Vec<Value> = self
                .levels
                .iter()
                .filter_map(|l| Level::parse(l))
                .map(|l| Value::Integer(l as i64))
                .collect();
            clause = if ranks.is_empty() {
                clause.and("0")
            } else {
                clause.any("severity", ranks.into_iter())
            };
        }
        clause
            .any_of("coalesce(host, '')", &self.hosts)
            .any_of("coalesce(dataset, '')", &self.datasets)
            .any_of("coalesce(protocol, '')", &self.protocols)
    }
}

impl Store {
    /// The overview of `slice` (inside [`Store::snapshot`], its panels
    /// agree however another process writes meanwhile).
    pub fn board(&self, slice: &Slice) -> Result<Board, StoreError> {
        let (first, end) = slice.hours();
        let facets = slice.facets();
        let totals = format!(
            "SELECT coalesce(sum(n), 0), coalesce(sum(n) FILTER (WHERE confidence <> {BENIGN}), 0)
             FROM event_facets WHERE {}",
            facets.sql
        );
        let (events, malicious): (i64, i64) = self
            .conn
            .prepare_cached(&totals)?
            .query_row(params_from_iter(&facets.values), |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let by = |column: &str| -> Result<Vec<(String, u64)>, StoreError> {
            let sql = format!(
                "SELECT {column}, sum(n) AS total FROM event_facets WHERE {}
                 GROUP BY {column} ORDER BY total DESC, {column}",
                facets.sql
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params_from_iter(&facets.values), |r| {
                Ok((r.get(0)?, count(r.get(1)?)))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        let by_level = by("level")?;
        let by_protocol = by("protocol")?;

        let SliceBars {
            width,
            per_bar,
            start,
            n: bars,
        } = slice.bars();
        let event_bars = self.bars(
            &format!(
                "SELECT (hour - {start}) / {per_bar} AS bar, sum(n) FROM event_facets
                 WHERE {} GROUP BY bar",
                facets.sql
            ),
            &facets.values,
            bars,
        )?;
        let alerts = slice.alerts();
        let alert_bars = self.bars(
            &format!(
                "SELECT (time - {}) / {} AS bar, count(*) FROM alerts WHERE {} GROUP BY bar",
                start * HOUR,
                per_bar * HOUR,
                alerts.sql
            ),
            &alerts.values,
            bars,
        )?;
        let timeline = |counts| -> Result<Timeline, StoreError> {
            Ok(Timeline {
                start: time(start * HOUR)?,
                bucket: width,
                counts,
            })
        };

        // Two counts, each read from an index alone (the open ones from
        // `(status, time, severity)`): one count with a filter on status
        // would read every alert's row.
        let count_alerts = |clause: &Clause| -> Result<i64, StoreError> {
            Ok(self
                .conn
                .prepare_cached(&format!("SELECT count(*) FROM alerts WHERE {}", clause.sql))?
                .query_row(params_from_iter(&clause.values), |r| r.get(0))?)
        };
        let all_alerts = count_alerts(&alerts)?;
        let open = count_alerts(&slice.alerts().and("status = 'open'"))?;

        let events_clause = slice.events();
        let malicious_clause = slice.events().and("threat IS NOT NULL");
        let malicious_sources: i64 = self
            .conn
            .prepare_cached(&format!(
                "SELECT count(DISTINCT source_ip) FROM events WHERE {}",
                malicious_clause.sql
            ))?
            .query_row(params_from_iter(&malicious_clause.values), |r| r.get(0))?;
        let top_destinations = {
            // From the hourly counts, unless the slice picks labels or
            // protocols, which they do not keep: then from its events.
            let (sql, values) = if slice.levels.is_empty() && slice.protocols.is_empty() {
                let clause = Clause::new(
                    "hour >= ? AND hour < ?",
                    [Value::Integer(first), Value::Integer(end)],
                )
                .any_of("dataset", &slice.datasets)
                .any_of("host", &slice.hosts)
                .and("destination_ip <> ''");
                (
                    format!(
                        "SELECT destination_ip, sum(n) AS total FROM destination_hours WHERE {}
                         GROUP BY destination_ip ORDER BY total DESC, destination_ip LIMIT {TOP}",
                        clause.sql
                    ),
                    clause.values,
                )
            } else {
                let clause = events_clause.and("destination_ip IS NOT NULL");
                (
                    format!(
                        "SELECT destination_ip, count(*) AS n FROM events WHERE {}
                         GROUP BY destination_ip ORDER BY n DESC, destination_ip LIMIT {TOP}",
                        clause.sql
                    ),
                    clause.values,
                )
            };
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params_from_iter(&values), |r| {
                Ok((r.get(0)?, count(r.get(1)?)))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let top_malicious_sources = {
            let clause = slice
                .events()
                .and("threat IS NOT NULL AND source_ip IS NOT NULL");
            let sql = format!(
                "SELECT source_ip, count(*) AS n, max(threat) FROM events WHERE {}
                 GROUP BY source_ip ORDER BY n DESC, source_ip LIMIT {TOP}",
                clause.sql
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params_from_iter(&clause.values), |r| {
                Ok((r.get(0)?, count(r.get(1)?), r.get(2)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let heatmap = {
            let sql = format!(
                "SELECT level, confidence, sum(n) FROM event_facets
                 WHERE {} AND confidence <> {BENIGN}
                 GROUP BY level, confidence ORDER BY level, confidence",
                facets.sql
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params_from_iter(&facets.values), |r| {
                Ok((r.get(0)?, r.get(1)?, count(r.get(2)?)))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let details = {
            let sql = format!(
                "SELECT id, time, level, protocol, source_ip, destination_ip, threat,
                     json_extract(doc, '$.message')
                 FROM events WHERE {} ORDER BY time DESC, id DESC LIMIT {DETAILS}",
                malicious_clause.sql
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params_from_iter(&malicious_clause.values), |r| {
                Ok(MaliciousEvent {
                    id: r.get(0)?,
                    time: r
                        .get::<_, Option<i64>>(1)?
                        .and_then(|t| Timestamp::from_microsecond(t).ok()),
                    level: r.get(2)?,
                    protocol: r.get(3)?,
                    source_ip: r.get(4)?,
                    destination_ip: r.get(5)?,
                    confidence: r.get(6)?,
                    message: r.get(7)?,
                })
            })?;
            rows.collect::<Result<_, _>>()?
        };
        Ok(Board {
            range: (time(first * HOUR)?, time(end * HOUR)?),
            events: count(events),
            malicious: count(malicious),
            alerts_open: count(open),
            alerts: count(all_alerts),
            malicious_sources: count(malicious_sources),
            by_level,
            by_protocol,
            event_timeline: timeline(event_bars)?,
            alert_timeline: timeline(alert_bars)?,
            top_destinations,
            top_malicious_sources,
            heatmap,
            details,
        })
    }

    /// Counts per bar from a query of (bar, count), bars out of range left
    /// out.
    fn bars(&self, sql: &str, values: &[Value], n: usize) -> Result<Vec<u64>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt
            .query_map(params_from_iter(values), pair)?
            .collect::<Result<_, _>>()?;
        Ok(bars(rows, n))
    }

    /// Alerts per rule whose time is in `since`..`until`, most first.
    pub fn alerts_by_rule(
        &self,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT rule_id, count(*) AS n FROM alerts WHERE time >= ?1 AND time < ?2
             GROUP BY rule_id ORDER BY n DESC, rule_id",
        )?;
        let rows = stmt.query_map([since.as_microsecond(), until.as_microsecond()], |r| {
            Ok((r.get(0)?, count(r.get(1)?)))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The values each filter can take over `since`..`until`, the most
    /// common first, at most [`MOST_CHOICES`] of each (blank ones left out).
    pub fn choices(&self, since: Timestamp, until: Timestamp) -> Result<Choices, StoreError> {
        let slice = Slice {
            since,
            until,
            ..Slice::default()
        };
        let facets = slice.facets();
        let of = |column: &str| -> Result<Vec<String>, StoreError> {
            let sql = format!(
                "SELECT {column}, sum(n) AS total FROM event_facets WHERE {} AND {column} <> ''
                 GROUP BY {column} ORDER BY total DESC, {column} LIMIT {MOST_CHOICES}",
                facets.sql
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params_from_iter(&facets.values), |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        Ok(Choices {
            levels: of("level")?,
            protocols: of("protocol")?,
            datasets: of("dataset")?,
            hosts: of("host")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Commit;
    use rampart_detect::Level;
    use rampart_event::{Event, Origin, Value as EventValue};

    /// 2023-07-23T00:00:00Z, in seconds.
    const DAY0: i64 = 1_690_070_400;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap()
    }

    /// What the oracle knows of an event.
    #[derive(Debug, Clone)]
    struct Known {
        secs: i64,
        level: &'static str,
        protocol: &'static str,
        dataset: &'static str,
        host: &'static str,
        source: String,
        destination: String,
        threat: Option<i64>,
    }

    /// 900 events over three days, of every mix of label, protocol,
    /// dataset and host, one in seven malicious.
    fn filled(store: &mut Store) -> Vec<Known> {
        let source = store.source(b"board", "b.log").unwrap().id;
        let mut commit = Commit::default();
        let mut known = Vec::new();
        for i in 0..900u64 {
            let n = i as usize;
            let (label, level) = [
                (Some("low_severity"), "low"),
                (Some("HIGH"), "high"),
                (Some("critical_severity"), "critical"),
                (None, ""),
            ][n % 4];
            let (proto, transport, protocol) = [
                (None, Some("tcp"), "TCP"),
                (Some("dhcp"), Some("udp"), "DHCP"),
                (None, None, ""),
            ][(n / 4) % 3];
            let dataset = ["ids.alert", "sshd"][(n / 3) % 2];
            let host = ["", "gw01", "web01"][(n / 5) % 3];
            let secs = DAY0 + (i as i64 * 7_919) % (3 * 86_400);
            let threat = n.is_multiple_of(7).then_some([11, 3, 0][(n / 7) % 3]);
            let mut e = Event::new(Origin::new("b.log", i + 1), "x");
            e.timestamp = Some(at(secs));
            e.set("event.dataset", dataset);
            if let Some(label) = label {
                e.set("log.level", label);
            }
            if let Some(p) = proto {
                e.set("network.protocol", p);
            }
            if let Some(t) = transport {
                e.set("network.transport", t);
            }
            if !host.is_empty() {
                e.set("host.name", host);
            }
            let source_ip = format!("198.51.100.{}", n % 13);
            let destination = format!("10.0.0.{}", n % 17);
            e.set("source.ip", source_ip.as_str());
            e.set("destination.ip", destination.as_str());
            if let Some(c) = threat {
                let mut indicator = serde_json::json!({"type": "ip", "value": source_ip});
                if c > 0 {
                    indicator["confidence"] = c.into();
                }
                e.insert(
                    "threat.enrichments",
                    EventValue::Json(Box::new(serde_json::json!([
                        {"indicator": indicator, "matched": {"type": "indicator_match"}}
                    ]))),
                );
            }
            commit.events.push(source, i, &e);
            known.push(Known {
                secs,
                level,
                protocol,
                dataset,
                host,
                source: source_ip,
                destination,
                threat,
            });
        }
        store.commit(&mut commit).unwrap();
        known
    }

    /// `(name, n)` pairs counted from `items`, most first then by name.
    fn ranked(items: impl Iterator<Item = String>) -> Vec<(String, u64)> {
        let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
        for item in items {
            *counts.entry(item).or_default() += 1;
        }
        let mut pairs: Vec<(String, u64)> = counts.into_iter().collect();
        pairs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        pairs
    }

    #[test]
    fn every_panel_agrees_with_counting_the_events_for_any_slice() {
        let mut store = Store::in_memory().unwrap();
        let known = filled(&mut store);
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let slices = [
            (DAY0, DAY0 + 3 * 86_400, vec![], vec![], vec![], vec![]),
            (
                DAY0 + 3_600 + 17,
                DAY0 + 30_000,
                vec![],
                vec![],
                vec![],
                vec![],
            ),
            (
                DAY0,
                DAY0 + 3 * 86_400,
                s(&["high", "critical"]),
                vec![],
                vec![],
                vec![],
            ),
            (
                DAY0,
                DAY0 + 2 * 86_400,
                vec![],
                s(&["DHCP", ""]),
                s(&["ids.alert"]),
                vec![],
            ),
            (
                DAY0 - 86_400,
                DAY0 + 86_400,
                vec![],
                vec![],
                vec![],
                s(&["gw01"]),
            ),
            (
                DAY0,
                DAY0 + 3 * 86_400,
                s(&["nothing"]),
                vec![],
                vec![],
                vec![],
            ),
        ];
        for (since, until, levels, protocols, datasets, hosts) in slices {
            let slice = Slice {
                since: at(since),
                until: at(until),
                levels: levels.clone(),
                protocols: protocols.clone(),
                datasets: datasets.clone(),
                hosts: hosts.clone(),
            };
            let what = format!("{slice:?}");
            let board = store.board(&slice).unwrap();
            // Whole hours.
            let (first, end) = (
                since.div_euclid(3600) * 3600,
                (until + 3599).div_euclid(3600) * 3600,
            );
            assert_eq!(board.range, (at(first), at(end)), "{what}");
            let pick = |v: &[String], x: &str| v.is_empty() || v.iter().any(|y| y == x);
            let picked: Vec<&Known> = known
                .iter()
                .filter(|k| k.secs >= first && k.secs < end)
                .filter(|k| pick(&levels, k.level) && pick(&protocols, k.protocol))
                .filter(|k| pick(&datasets, k.dataset) && pick(&hosts, k.host))
                .collect();
            let bad: Vec<&&Known> = picked.iter().filter(|k| k.threat.is_some()).collect();
            assert_eq!(board.events, picked.len() as u64, "{what}");
            assert_eq!(board.malicious, bad.len() as u64, "{what}");
            let sources: std::collections::BTreeSet<&str> =
                bad.iter().map(|k| k.source.as_str()).collect();
            assert_eq!(board.malicious_sources, sources.len() as u64, "{what}");
            assert_eq!(
                board.by_level,
                ranked(picked.iter().map(|k| k.level.to_owned())),
                "{what}"
            );
            assert_eq!(
                board.by_protocol,
                ranked(picked.iter().map(|k| k.protocol.to_owned())),
                "{what}"
            );
            let mut top = ranked(picked.iter().map(|k| k.destination.clone()));
            top.truncate(TOP as usize);
            assert_eq!(board.top_destinations, top, "{what}");
            let mut top_bad: Vec<(String, u64, i64)> = ranked(bad.iter().map(|k| k.source.clone()))
                .into_iter()
                .map(|(ip, n)| {
                    let surest = bad
                        .iter()
                        .filter(|k| k.source == ip)
                        .filter_map(|k| k.threat)
                        .max()
                        .unwrap();
                    (ip, n, surest)
                })
                .collect();
            top_bad.truncate(TOP as usize);
            assert_eq!(board.top_malicious_sources, top_bad, "{what}");
            let heat = ranked(
                bad.iter()
                    .map(|k| format!("{}\t{:03}", k.level, k.threat.unwrap())),
            );
            let mut heat: Vec<(String, i64, u64)> = heat
                .into_iter()
                .map(|(key, n)| {
                    let (level, c) = key.split_once('\t').unwrap();
                    (level.to_owned(), c.parse().unwrap(), n)
                })
                .collect();
            heat.sort();
            assert_eq!(board.heatmap, heat, "{what}");
            assert_eq!(
                board.details.len(),
                bad.len().min(DETAILS as usize),
                "{what}"
            );
            assert!(
                board.details.windows(2).all(|w| w[0].time >= w[1].time),
                "{what}: newest first"
            );
            let bars: u64 = board.event_timeline.counts.iter().sum();
            assert_eq!(bars, picked.len() as u64, "{what}: the timeline's bars");
            // Each bar holds the events of its hours.
            let width = board.event_timeline.bucket.as_secs();
            let start = board.event_timeline.start.as_second();
            for (i, n) in board.event_timeline.counts.iter().enumerate() {
                let bar = start + i as i64 * width..start + (i as i64 + 1) * width;
                let expected = picked.iter().filter(|k| bar.contains(&k.secs)).count();
                assert_eq!(*n, expected as u64, "{what}: bar {i}");
            }
        }
    }

    #[test]
    fn alerts_are_sliced_by_the_dataset_and_protocol_of_their_first_event() {
        let mut store = Store::in_memory().unwrap();
        let source = store.source(b"alerts", "a.log").unwrap().id;
        let mut commit = Commit::default();
        for (i, (dataset, transport)) in [("ids.alert", Some("tcp")), ("sshd", None)]
            .into_iter()
            .enumerate()
        {
            let mut e = Event::new(Origin::new("a.log", i as u64 + 1), "x");
            e.timestamp = Some(at(DAY0 + 60));
            e.set("event.dataset", dataset);
            if let Some(t) = transport {
                e.set("network.transport", t);
            }
            commit.events.push(source, i as u64, &e);
        }
        let linked = |id: &str, event: i64| {
            let mut a = crate::testing::alert(id, "r", Level::High, at(DAY0 + 60), Vec::new());
            a.events = vec![source * crate::PER_SOURCE + event];
            a
        };
        commit.alerts.push(linked("on-ids", 0));
        commit.alerts.push(linked("on-sshd", 1));
        // An alert carrying its event rather than pointing at a stored one.
        let mut carried =
            crate::testing::alert("carried", "r", Level::High, at(DAY0 + 60), Vec::new());
        carried.alert.events = vec![serde_json::value::to_raw_value(
            &serde_json::json!({"event": {"dataset": "web.access"}, "network": {"protocol": "http"}}),
        )
        .unwrap()];
        commit.alerts.push(carried);
        store.commit(&mut commit).unwrap();
        let alerts = |datasets: &[&str], protocols: &[&str]| {
            let slice = Slice {
                since: at(DAY0),
                until: at(DAY0 + 3600),
                datasets: datasets.iter().map(|d| d.to_string()).collect(),
                protocols: protocols.iter().map(|p| p.to_string()).collect(),
                ..Slice::default()
            };
            store.board(&slice).unwrap().alerts
        };
        assert_eq!(alerts(&[], &[]), 3);
        assert_eq!(alerts(&["sshd"], &[]), 1);
        assert_eq!(alerts(&[], &["TCP"]), 1);
        assert_eq!(alerts(&["web.access"], &["HTTP"]), 1);
        assert_eq!(alerts(&["sshd"], &["TCP"]), 0);
        assert_eq!(alerts(&[], &[""]), 1, "no protocol is a value too");
    }

    #[test]
    fn the_hourly_counts_follow_a_prune() {
        let mut store = Store::in_memory().unwrap();
        filled(&mut store);
        let everything = Slice {
            since: at(DAY0 - 86_400),
            until: at(DAY0 + 4 * 86_400),
            ..Slice::default()
        };
        assert_eq!(store.board(&everything).unwrap().events, 900);
        store
            .prune(Timestamp::now() + SignedDuration::from_hours(1), true)
            .unwrap();
        let board = store.board(&everything).unwrap();
        assert_eq!((board.events, board.malicious), (0, 0));
        assert!(board.by_level.is_empty() && board.heatmap.is_empty());
        for table in ["event_facets", "destination_hours"] {
            let left: i64 = store
                .conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .unwrap();
            assert_eq!(left, 0, "{table}");
        }
    }

    #[test]
    fn the_choices_are_the_values_in_the_range_most_common_first() {
        let mut store = Store::in_memory().unwrap();
        filled(&mut store);
        let choices = store.choices(at(DAY0), at(DAY0 + 3 * 86_400)).unwrap();
        assert_eq!(choices.levels.len(), 3);
        let mut protocols = choices.protocols.clone();
        protocols.sort();
        assert_eq!(protocols, ["DHCP", "TCP"]);
        assert_eq!(choices.datasets.len(), 2);
        assert_eq!(choices.hosts.len(), 2, "blank hosts are no choice");
    }
}
