//! Lines of no known format, kept whole: application logs (Hadoop, Spark,
//! OpenStack, Android, a service's own log file) carry addresses, user names
//! and keywords that rules, indicator matching and search must still see.
//!
//! A raw event has the line as `message` and `event.original`,
//! `event.dataset: raw`, and a timestamp when the line starts with one of
//! the common layouts: ISO 8601 (`2017-05-16 00:00:00.008`, with `T`, `/`
//! or `.` too), ctime (`[Sun Dec 04 04:47:44 2005]`), syslog (`Jul  1
//! 09:00:55`), Spark's `17/06/09 20:10:40`, HDFS's `081109 203615`,
//! Android's `03-17 16:13:38.811` and Proxifier's `[10.30 16:49:06]`. The
//! layouts without a year take it as syslog lines do.
//!
//! What is not a line of text (control characters other than tabs, bytes
//! that are not UTF-8: binary data, a corrupted file, another encoding) is
//! refused and stays a dead letter.

use std::sync::Arc;

use rampart_event::time::Civil;
use rampart_event::{Event, Timestamp};

use super::syslog::YearTracker;
use crate::context::FileContext;
use crate::timefmt::{ctime, digits, hms, iso8601, month};

/// The dataset of raw events.
pub const RAW: &str = "raw";

/// Reads any line of text; keeps the year across lines for the layouts
/// that have none.
#[derive(Debug, Clone)]
pub struct RawParser {
    years: YearTracker,
}

impl RawParser {
    /// A parser for the file in `ctx`.
    pub fn new(ctx: &FileContext) -> Self {
        RawParser {
            years: YearTracker::of_file(ctx),
        }
    }

    /// The line as a raw event; `None` when it is not text.
    pub fn parse(
        &mut self,
        ctx: &FileContext,
        no: u64,
        line: &Arc<str>,
    ) -> Option<(&'static str, Event)> {
        if !is_text(line) {
            return None;
        }
        let mut e = ctx.event(no, Arc::clone(line));
        e.timestamp = self.leading_time(ctx, line);
        e.set_static("event.dataset", RAW);
        e.set_static("event.kind", "event");
        e.set_str("message", line.trim_end());
        Some((RAW, e))
    }

    /// The time a line starts with, in one of the layouts above.
    fn leading_time(&mut self, ctx: &FileContext, line: &str) -> Option<Timestamp> {
        let zone = &ctx.options.zone;
        let s = line.trim_start().as_bytes();
        let s = s.strip_prefix(b"[").unwrap_or(s);
        if let Some((t, _)) = iso8601(s, zone) {
            return Some(t);
        }
        if let Some((t, _)) = ctime(s, zone) {
            return Some(t);
        }
        // Layouts whose parts are all numbers: year, month, day, clock.
        let civil = if let Some(c) = spark(s).or_else(|| hdfs(s)) {
            c
        } else {
            let (month, day, clock) = syslog(s).or_else(|| month_day(s))?;
            // An impossible date must not move the year of later lines.
            if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
                return None;
            }
            Civil::new(self.years.year_for(month), month, day, clock)
        };
        zone.instant(civil)
    }
}

/// Whether `line` is text: no control characters but tabs (and a line
/// end), and no bytes that could not be decoded (read as U+FFFD).
fn is_text(line: &str) -> bool {
    let body = line.trim_end_matches(['\r', '\n']);
    !body.bytes().any(|b| b < 0x20 && b != b'\t' || b == 0x7f) && !body.contains('\u{fffd}')
}

type Clock = (u8, u8, u8, u32);

/// `Jul  1 09:00:55`: month, day, clock.
fn syslog(s: &[u8]) -> Option<(u8, u8, Clock)> {
    let month = month(s.get(..3)?)?;
    let rest = s.get(3..)?.strip_prefix(b" ")?;
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    let day_len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if !(1..=2).contains(&day_len) {
        return None;
    }
    let day = digits(&rest[..day_len])? as u8;
    let (clock, _) = hms(rest.get(day_len..)?.strip_prefix(b" ")?)?;
    Some((month, day, clock))
}

/// `03-17 16:13:38.811` (Android) or `10.30 16:49:06` (Proxifier): month,
/// day, clock.
fn month_day(s: &[u8]) -> Option<(u8, u8, Clock)> {
    if s.len() < 14 || !matches!(s[2], b'-' | b'.') || s[5] != b' ' {
        return None;
    }
    let month = digits(&s[0..2])? as u8;
    let day = digits(&s[3..5])? as u8;
    let (clock, _) = hms(&s[6..])?;
    Some((month, day, clock))
}

/// `17/06/09 20:10:40` (Spark): a two-digit year first.
fn spark(s: &[u8]) -> Option<Civil> {
    if s.len() < 17 || s[2] != b'/' || s[5] != b'/' || s[8] != b' ' {
        return None;
    }
    let year = 2000 + digits(&s[0..2])? as i16;
    let (clock, _) = hms(&s[9..])?;
    Some(Civil::new(
        year,
        digits(&s[3..5])? as u8,
        digits(&s[6..8])? as u8,
        clock,
    ))
}

/// `081109 203615` (HDFS): `yyMMdd HHmmss`.
fn hdfs(s: &[u8]) -> Option<Civil> {
    if s.len() < 14 || s[6] != b' ' || s.get(13).is_some_and(|b| b.is_ascii_digit()) {
        return None;
    }
    let d = |a: usize, b: usize| digits(&s[a..b]).map(|n| n as u8);
    let clock = (d(7, 9)?, d(9, 11)?, d(11, 13)?, 0);
    Some(Civil::new(
        2000 + i16::from(d(0, 2)?),
        d(2, 4)?,
        d(4, 6)?,
        clock,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    fn read(line: &str) -> Option<Event> {
        let ctx = FileContext::new(
            "app.log",
            ParseOptions {
                year: Some(2025),
                ..ParseOptions::default()
            },
        );
        RawParser::new(&ctx)
            .parse(&ctx, 7, &Arc::from(line))
            .map(|(_, e)| e)
    }

    fn time(line: &str) -> Option<String> {
        read(line)?.timestamp.map(|t| t.to_string())
    }

    #[test]
    fn common_layouts_give_the_time() {
        for (line, want) in [
            (
                "2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server",
                "2017-05-16T00:00:00.008Z",
            ),
            (
                "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce",
                "2015-10-18T18:01:47.978Z",
            ),
            (
                "2016-09-28 04:30:30, Info  CBS  Loaded Servicing Stack",
                "2016-09-28T04:30:30Z",
            ),
            (
                "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok",
                "2005-12-04T04:47:44Z",
            ),
            (
                "Jul  1 09:00:55 calvisitor kernel[0]: Thunderbolt",
                "2025-07-01T09:00:55Z",
            ),
            (
                "17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend",
                "2017-06-09T20:10:40Z",
            ),
            (
                "081109 203615 148 INFO dfs.DataNode$PacketResponder: block",
                "2008-11-09T20:36:15Z",
            ),
            (
                "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs",
                "2025-03-17T16:13:38.811Z",
            ),
            (
                "[10.30 16:49:06] chrome.exe - proxy.cse.cuhk.edu.hk:5070 open",
                "2025-10-30T16:49:06Z",
            ),
        ] {
            assert_eq!(time(line).as_deref(), Some(want), "{line}");
        }
    }

    #[test]
    fn other_text_is_kept_without_a_time() {
        let e = read("- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 session closed\r").unwrap();
        assert_eq!(e.timestamp, None);
        assert_eq!(e.get_str("event.dataset"), Some("raw"));
        assert_eq!(
            e.get_str("message"),
            Some("- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 session closed")
        );
        assert_eq!(e.origin.line, 7);
        // Impossible dates are no times, and leave the year alone.
        assert_eq!(time("13-45 10:00:00 not a date"), None);
        let ctx = FileContext::new(
            "app.log",
            ParseOptions {
                year: Some(2025),
                ..ParseOptions::default()
            },
        );
        let mut parser = RawParser::new(&ctx);
        let mut at = |line: &str| {
            parser
                .parse(&ctx, 1, &Arc::from(line))
                .and_then(|(_, e)| e.timestamp)
                .map(|t| t.to_string())
        };
        assert_eq!(at("99-01 10:00:00 junk"), None);
        assert_eq!(
            at("03-17 10:00:00 fine").as_deref(),
            Some("2025-03-17T10:00:00Z")
        );
    }

    #[test]
    fn binary_is_not_text() {
        assert!(read("\u{1}\u{2}ELF\u{0}").is_none());
        assert!(read("a\u{7f}b").is_none());
        assert!(read("caf\u{fffd} latin-1").is_none(), "undecodable bytes");
        assert!(read("tab\tseparated\tis text").is_some());
    }
}
