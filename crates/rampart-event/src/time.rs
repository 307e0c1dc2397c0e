//! Turning the civil times that logs print into UTC instants.
//!
//! Logs print wall-clock times, often without an offset; the user names the
//! zone they were written in (`--timezone`, default UTC). Parsers hand the
//! civil parts to [`Zone::instant`], which takes a fast path for UTC and fixed
//! offsets and asks the IANA database only for named zones.

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

/// The zone that offset-less times are read in.
#[derive(Debug, Clone)]
pub struct Zone {
    tz: TimeZone,
    /// Set when the zone has one fixed offset, so no lookup is needed.
    fixed: Option<i32>,
    name: String,
}

/// Why a zone name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownZone(pub String);

impl std::fmt::Display for UnknownZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown time zone '{}': use an IANA name such as UTC, Europe/Paris or America/New_York, or an offset such as +02:00",
            self.0
        )
    }
}

impl std::error::Error for UnknownZone {}

impl Default for Zone {
    fn default() -> Self {
        Zone::utc()
    }
}

impl Zone {
    /// Coordinated Universal Time.
    pub fn utc() -> Self {
        Zone {
            tz: TimeZone::UTC,
            fixed: Some(0),
            name: "UTC".to_owned(),
        }
    }

    /// A zone by IANA name (`Europe/Paris`), `UTC`, or fixed offset (`+02:00`).
    pub fn named(name: &str) -> Result<Self, UnknownZone> {
        if name.eq_ignore_ascii_case("utc") || name.eq_ignore_ascii_case("z") {
            return Ok(Zone::utc());
        }
        if let Some(secs) = parse_offset(name.as_bytes()) {
            // Civil offsets run from -12:00 to +14:00.
            if !(-12 * 3600..=14 * 3600).contains(&secs) {
                return Err(UnknownZone(name.to_owned()));
            }
            let offset = Offset::from_seconds(secs).map_err(|_| UnknownZone(name.to_owned()))?;
            return Ok(Zone {
                tz: TimeZone::fixed(offset),
                fixed: Some(secs),
                name: name.to_owned(),
            });
        }
        let tz = TimeZone::get(name).map_err(|_| UnknownZone(name.to_owned()))?;
        Ok(Zone {
            tz,
            fixed: None,
            name: name.to_owned(),
        })
    }

    /// The name the zone was given by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The instant of a civil time read in this zone. Ambiguous times (a DST
    /// fold) take the earlier instant; times in a DST gap move forward.
    pub fn instant(&self, civil: Civil) -> Option<Timestamp> {
        match self.fixed {
            Some(offset) => civil.instant_at_offset(offset),
            None => {
                let dt = civil.datetime()?;
                self.tz.to_ambiguous_timestamp(dt).compatible().ok()
            }
        }
    }

    /// The civil time of an instant in this zone.
    pub fn civil(&self, t: Timestamp) -> Civil {
        let dt = self.tz.to_datetime(t);
        Civil {
            year: dt.year(),
            month: dt.month() as u8,
            day: dt.day() as u8,
            hour: dt.hour() as u8,
            minute: dt.minute() as u8,
            second: dt.second() as u8,
            nanos: dt.subsec_nanosecond() as u32,
        }
    }
}

/// The parts of a wall-clock time as a log prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Civil {
    /// Year, e.g. 2025.
    pub year: i16,
    /// Month 1-12.
    pub month: u8,
    /// Day of month 1-31.
    pub day: u8,
    /// Hour 0-23.
    pub hour: u8,
    /// Minute 0-59.
    pub minute: u8,
    /// Second 0-60 (a leap second is read as 59).
    pub second: u8,
    /// Nanoseconds 0-999,999,999.
    pub nanos: u32,
}

impl Civil {
    /// A civil time from a date and a clock of (hour, minute, second, nanoseconds).
    pub fn new(year: i16, month: u8, day: u8, clock: (u8, u8, u8, u32)) -> Self {
        let (hour, minute, second, nanos) = clock;
        Civil {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
        }
    }

    fn valid(&self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second <= 60
            && self.nanos < 1_000_000_000
            && (1..=9999).contains(&self.year)
    }

    fn datetime(&self) -> Option<DateTime> {
        if !self.valid() {
            return None;
        }
        DateTime::new(
            self.year,
            self.month as i8,
            self.day as i8,
            self.hour as i8,
            self.minute as i8,
            self.second.min(59) as i8,
            self.nanos as i32,
        )
        .ok()
    }

    /// The instant of this civil time at a fixed UTC offset in seconds
    /// (positive east of Greenwich). `None` for impossible dates.
    pub fn instant_at_offset(&self, offset_secs: i32) -> Option<Timestamp> {
        if !self.valid() {
            return None;
        }
        let days = days_from_civil(i64::from(self.year), self.month, self.day);
        let secs = days * 86_400
            + i64::from(self.hour) * 3_600
            + i64::from(self.minute) * 60
            + i64::from(self.second.min(59))
            - i64::from(offset_secs);
        Timestamp::new(secs, self.nanos as i32).ok()
    }
}

/// Whether `year` is a Gregorian leap year.
pub fn is_leap(year: i16) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The number of days in a month of a year.
pub fn days_in_month(year: i16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// well-known algorithm).
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a UTC offset: `Z`, `+02:00`, `+0200`, `-05`, `+02:00:30`.
/// Returns seconds east of UTC.
pub fn parse_offset(s: &[u8]) -> Option<i32> {
    match s {
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let digits: Vec<u8> = rest.iter().copied().filter(|c| *c != b':').collect();
            if !digits.iter().all(u8::is_ascii_digit) || !matches!(digits.len(), 2 | 4 | 6) {
                return None;
            }
            let num = |i: usize| i32::from(digits[i] - b'0') * 10 + i32::from(digits[i + 1] - b'0');
            let hours = num(0);
            let minutes = if digits.len() >= 4 { num(2) } else { 0 };
            let seconds = if digits.len() == 6 { num(4) } else { 0 };
            if hours > 25 || minutes > 59 || seconds > 59 {
                return None;
            }
            let total = hours * 3600 + minutes * 60 + seconds;
            Some(if *sign == b'-' { -total } else { total })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn civil(y: i16, mo: u8, d: u8, h: u8, mi: u8, s: u8) -> Civil {
        Civil {
            year: y,
            month: mo,
            day: d,
            hour: h,
            minute: mi,
            second: s,
            nanos: 0,
        }
    }

    #[test]
    fn utc_fast_path_agrees_with_jiff() {
        let zone = Zone::utc();
        let t = zone.instant(civil(2025, 3, 14, 3, 22, 14)).unwrap();
        assert_eq!(t.to_string(), "2025-03-14T03:22:14Z");
        let t = zone.instant(civil(2024, 2, 29, 23, 59, 59)).unwrap();
        assert_eq!(t.to_string(), "2024-02-29T23:59:59Z");
        let t = zone.instant(civil(1969, 12, 31, 0, 0, 0)).unwrap();
        assert_eq!(t.to_string(), "1969-12-31T00:00:00Z");
    }

    #[test]
    fn impossible_dates_are_refused() {
        let zone = Zone::utc();
        assert!(zone.instant(civil(2025, 2, 29, 0, 0, 0)).is_none());
        assert!(zone.instant(civil(2025, 13, 1, 0, 0, 0)).is_none());
        assert!(zone.instant(civil(2025, 1, 1, 24, 0, 0)).is_none());
    }

    #[test]
    fn named_zones_apply_daylight_saving() {
        let paris = Zone::named("Europe/Paris").unwrap();
        let winter = paris.instant(civil(2025, 1, 10, 12, 0, 0)).unwrap();
        let summer = paris.instant(civil(2025, 7, 10, 12, 0, 0)).unwrap();
        assert_eq!(winter.to_string(), "2025-01-10T11:00:00Z");
        assert_eq!(summer.to_string(), "2025-07-10T10:00:00Z");
        assert_eq!(paris.civil(summer), civil(2025, 7, 10, 12, 0, 0));
    }

    #[test]
    fn offsets_parse_in_every_spelling() {
        assert_eq!(parse_offset(b"Z"), Some(0));
        assert_eq!(parse_offset(b"+02:00"), Some(7200));
        assert_eq!(parse_offset(b"-0530"), Some(-19800));
        assert_eq!(parse_offset(b"+01"), Some(3600));
        assert_eq!(parse_offset(b"+1"), None);
        let zone = Zone::named("+02:00").unwrap();
        let t = zone.instant(civil(2025, 3, 14, 12, 0, 0)).unwrap();
        assert_eq!(t.to_string(), "2025-03-14T10:00:00Z");
        assert!(Zone::named("Mars/Olympus").is_err());
    }
}
