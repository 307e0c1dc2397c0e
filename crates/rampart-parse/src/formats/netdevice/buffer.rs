//! Cisco and Huawei messages as the device itself prints them, with no
//! syslog header: `show logging` output, or lines sent to a collector that
//! kept them as they came (`<189>2341: *Mar  1 18:46:11.123 UTC: %SYS-5-CONFIG_I: ...`).
//!
//! Before the message code may come a priority, a sequence number and the
//! device's clock (`*` when it was never set). Clocks without a year take
//! it as syslog lines do, from `--year` or the file's modification time.

use std::sync::Arc;

use rampart_event::time::{Civil, Zone};
use rampart_event::Timestamp;

use super::in_message;
use crate::context::FileContext;
use crate::formats::syslog::YearTracker;
use crate::formats::Parsed;
use crate::timefmt;

/// Reads one line; `None` unless it carries a device message code.
pub fn parse_line(ctx: &FileContext, no: u64, line: &Arc<str>) -> Parsed {
    let text = super::strip_priority(line.trim_end());
    let (sequence, text) = match text.split_once(": ") {
        Some((n, rest)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            (Some(n), rest)
        }
        _ => (None, text),
    };
    let (clock, message) = if text.starts_with('%') {
        ("", text)
    } else {
        let at = text.find(": %")?;
        (&text[..at], &text[at + 2..])
    };
    let time = if clock.is_empty() {
        None
    } else {
        Some(device_time(clock, ctx)?)
    };
    let mut event = ctx.event(no, Arc::clone(line));
    event.set_str("message", message);
    let dataset = in_message(message, &mut event)?;
    event.timestamp = time;
    if let Some(n) = sequence.and_then(|n| n.parse::<i64>().ok()) {
        event.set("event.sequence", n);
    }
    event.set_static("event.dataset", dataset);
    event.set_static("event.kind", "event");
    Some((dataset, event))
}

/// `*Mar  1 18:46:11.123 UTC` or `Mar 1 2024 18:46:11`: the clock a
/// device prints. A zone other than UTC/GMT is read in `--timezone`.
fn device_time(clock: &str, ctx: &FileContext) -> Option<Timestamp> {
    let clock = clock.trim_start_matches(['*', '.']);
    let mut words = clock.split_whitespace();
    let month = timefmt::month(words.next()?.as_bytes())?;
    let day: u8 = words.next()?.parse().ok()?;
    let mut next = words.next()?;
    let year = match next.parse::<i16>() {
        Ok(y) if next.len() == 4 => {
            next = words.next()?;
            Some(y)
        }
        _ => None,
    };
    let (hms, used) = timefmt::hms(next.as_bytes())?;
    if used != next.len() {
        return None;
    }
    let zone = match words.next() {
        Some("UTC" | "GMT" | "Z") => Zone::utc(),
        _ => ctx.options.zone.clone(),
    };
    let year = year.unwrap_or_else(|| YearTracker::of_file(ctx).year_for(month));
    zone.instant(Civil::new(year, month, day, hms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    fn read(line: &str) -> Option<(&'static str, rampart_event::Event)> {
        let ctx = FileContext::new(
            "router.log",
            ParseOptions {
                year: Some(2025),
                zone: Zone::utc(),
            },
        );
        parse_line(&ctx, 1, &Arc::from(line))
    }

    #[test]
    fn device_lines_with_and_without_clock() {
        let (dataset, e) = read("<189>2341: *Mar  1 18:46:11.123 UTC: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.5)").unwrap();
        assert_eq!(dataset, "cisco.ios");
        assert_eq!(e.timestamp.unwrap().to_string(), "2025-03-01T18:46:11.123Z");
        assert_eq!(e.get("event.sequence").unwrap().to_string(), "2341");
        assert_eq!(e.get("source.ip").unwrap().to_string(), "10.0.0.5");
        let (_, e) = read("Mar 1 2024 18:46:11: %PARSER-5-CFGLOG_LOGGEDCMD: User:admin  logged command:clear logging").unwrap();
        assert_eq!(e.timestamp.unwrap().to_string(), "2024-03-01T18:46:11Z");
        assert_eq!(e.get_str("cisco.command"), Some("clear logging"));
        let (_, e) = read("%LINK-3-UPDOWN: Interface Gi0/1, changed state to down").unwrap();
        assert!(e.timestamp.is_none());
        assert!(read("Mar 1 18:46:11: no code here").is_none());
        assert!(read("Mar 99 18:46:11: %SYS-5-CONFIG_I: x").is_none());
    }
}
