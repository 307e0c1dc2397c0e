//! Parsers for the timestamp spellings that logs use.
//!
//! Hand-written because they sit on the hot path of every line: a syslog or
//! access-log time is read in a few dozen nanoseconds without allocating.

use rampart_event::time::{parse_offset, Civil, Zone};
use rampart_event::Timestamp;

/// The month number of an English abbreviation (`Jan`, `mar`, `DEC`).
pub fn month(abbr: &[u8]) -> Option<u8> {
    let [a, b, c] = abbr else { return None };
    let key = [
        a.to_ascii_lowercase(),
        b.to_ascii_lowercase(),
        c.to_ascii_lowercase(),
    ];
    Some(match &key {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

pub(crate) fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u32, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

/// Reads `HH:MM:SS` with an optional `.fraction` or `,fraction`; returns the
/// parts and the number of bytes read.
pub fn hms(s: &[u8]) -> Option<((u8, u8, u8, u32), usize)> {
    if s.len() < 8 || s[2] != b':' || s[5] != b':' {
        return None;
    }
    let h = digits(&s[0..2])? as u8;
    let m = digits(&s[3..5])? as u8;
    let sec = digits(&s[6..8])? as u8;
    let mut used = 8;
    let mut nanos = 0;
    if s.len() > 9 && (s[8] == b'.' || s[8] == b',') && s[9].is_ascii_digit() {
        let frac_len = s[9..].iter().take_while(|b| b.is_ascii_digit()).count();
        let frac = &s[9..9 + frac_len];
        let kept = &frac[..frac.len().min(9)];
        nanos = digits(kept)? * 10u32.pow(9 - kept.len() as u32);
        used = 9 + frac_len;
    }
    Some(((h, m, sec, nanos), used))
}

/// Reads `YYYY-MM-DD` (or with `/` or `.` as separators).
pub fn ymd(s: &[u8]) -> Option<(i16, u8, u8)> {
    if s.len() < 10 || !matches!(s[4], b'-' | b'/' | b'.') || s[7] != s[4] {
        return None;
    }
    Some((
        digits(&s[0..4])? as i16,
        digits(&s[5..7])? as u8,
        digits(&s[8..10])? as u8,
    ))
}

/// Reads an ISO 8601 / RFC 3339 time: `2025-03-14T10:01:02.123+01:00`,
/// `2025-03-14 10:01:02,227`, `2025/03/14 10:01:02`, `...Z`, `...+0000`.
/// A time without an offset is read in `zone`. Returns the instant and the
/// number of bytes read.
pub fn iso8601(s: &[u8], zone: &Zone) -> Option<(Timestamp, usize)> {
    let (year, month, day) = ymd(s)?;
    if s.len() < 19 || !matches!(s[10], b'T' | b't' | b' ') {
        return None;
    }
    let (clock, used) = hms(&s[11..])?;
    let civil = Civil::new(year, month, day, clock);
    let mut end = 11 + used;
    let rest = &s[end..];
    let offset_len = match rest.first() {
        Some(b'Z' | b'z') => 1,
        Some(b'+' | b'-') => {
            let n = rest[1..]
                .iter()
                .take_while(|b| b.is_ascii_digit() || **b == b':')
                .count();
            if n >= 2 {
                1 + n
            } else {
                0
            }
        }
        _ => 0,
    };
    let instant = if offset_len > 0 {
        let offset = parse_offset(&rest[..offset_len])?;
        end += offset_len;
        civil.instant_at_offset(offset)?
    } else {
        zone.instant(civil)?
    };
    Some((instant, end))
}

/// Reads the access-log time inside brackets: `14/Mar/2025:10:01:01 +0000`.
pub fn apache(s: &[u8], zone: &Zone) -> Option<Timestamp> {
    if s.len() < 20 || s[2] != b'/' || s[6] != b'/' || s[11] != b':' {
        return None;
    }
    let day = digits(&s[0..2])? as u8;
    let month = month(&s[3..6])?;
    let year = digits(&s[7..11])? as i16;
    let (clock, used) = hms(&s[12..])?;
    let civil = Civil::new(year, month, day, clock);
    let rest = s[12 + used..].trim_ascii_start();
    match parse_offset(rest) {
        Some(offset) => civil.instant_at_offset(offset),
        None => zone.instant(civil),
    }
}

/// Reads a ctime-style time: `Fri Mar 14 10:01:02.123456 2025` (Apache
/// error logs). Returns the instant and the number of bytes read.
pub fn ctime(s: &[u8], zone: &Zone) -> Option<(Timestamp, usize)> {
    if s.len() < 24 || s[3] != b' ' || s[7] != b' ' {
        return None;
    }
    let month = month(&s[4..7])?;
    let day_field = &s[8..10];
    let day = digits(day_field.trim_ascii())? as u8;
    let (clock, used) = hms(&s[11..])?;
    let year_at = 11 + used + 1;
    let year = digits(s.get(year_at..year_at + 4)?)? as i16;
    let civil = Civil::new(year, month, day, clock);
    Some((zone.instant(civil)?, year_at + 4))
}

/// Reads seconds since the epoch with an optional fraction: `1710410462.123456`.
pub fn epoch(s: &str) -> Option<Timestamp> {
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: i64 = secs.parse().ok()?;
    let nanos = if frac.is_empty() {
        0
    } else {
        let kept = &frac.as_bytes()[..frac.len().min(9)];
        digits(kept)? as i32 * 10i32.pow(9 - kept.len() as u32)
    };
    Timestamp::new(secs, nanos).ok()
}

/// Reads a time in any of the spellings above, or epoch seconds or
/// milliseconds, as generic JSON and CSV carry them.
pub fn any(s: &str, zone: &Zone) -> Option<Timestamp> {
    let s = s.trim();
    if let Some((t, _)) = iso8601(s.as_bytes(), zone) {
        return Some(t);
    }
    if let Some(t) = apache(s.as_bytes(), zone) {
        return Some(t);
    }
    if let Some((t, _)) = ctime(s.as_bytes(), zone) {
        return Some(t);
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') && !s.is_empty() {
        let whole = s.split('.').next().unwrap_or(s);
        return match whole.len() {
            9..=11 => epoch(s),
            12..=14 => {
                let ms: i64 = whole.parse().ok()?;
                Timestamp::from_millisecond(ms).ok()
            }
            _ => None,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> Zone {
        Zone::utc()
    }

    #[test]
    fn iso_spellings() {
        let z = utc();
        let t = |s: &str| iso8601(s.as_bytes(), &z).map(|(t, _)| t.to_string());
        assert_eq!(t("2025-03-14T10:01:02Z").unwrap(), "2025-03-14T10:01:02Z");
        assert_eq!(
            t("2025-03-14T10:01:02.123456+01:00").unwrap(),
            "2025-03-14T09:01:02.123456Z"
        );
        assert_eq!(
            t("2023-07-23 21:36:36,227").unwrap(),
            "2023-07-23T21:36:36.227Z"
        );
        assert_eq!(
            t("2017-03-25T16:49:58.856335-0600").unwrap(),
            "2017-03-25T22:49:58.856335Z"
        );
        assert_eq!(t("2025/03/14 10:01:02").unwrap(), "2025-03-14T10:01:02Z");
        assert!(t("2025-02-30T00:00:00Z").is_none());
    }

    #[test]
    fn iso_without_offset_uses_the_zone() {
        let z = Zone::named("America/New_York").unwrap();
        let (t, _) = iso8601(b"2025-07-01 12:00:00", &z).unwrap();
        assert_eq!(t.to_string(), "2025-07-01T16:00:00Z");
    }

    #[test]
    fn apache_and_ctime() {
        let z = utc();
        assert_eq!(
            apache(b"11/Jul/2018:08:41:28 +0300", &z)
                .unwrap()
                .to_string(),
            "2018-07-11T05:41:28Z"
        );
        let (t, used) = ctime(b"Sun Dec 04 04:47:44 2005] [error]", &z).unwrap();
        assert_eq!(t.to_string(), "2005-12-04T04:47:44Z");
        assert_eq!(used, 24);
        let (t, _) = ctime(b"Fri Mar 14 10:01:02.123456 2025", &z).unwrap();
        assert_eq!(t.to_string(), "2025-03-14T10:01:02.123456Z");
    }

    #[test]
    fn epochs_and_any() {
        let z = utc();
        assert_eq!(
            epoch("1588205199.82437").unwrap().to_string(),
            "2020-04-30T00:06:39.82437Z"
        );
        assert_eq!(
            any("1588205199000", &z).unwrap().to_string(),
            "2020-04-30T00:06:39Z"
        );
        assert_eq!(
            any(" 2025-03-01 09:05:26 ", &z).unwrap().to_string(),
            "2025-03-01T09:05:26Z"
        );
        assert!(any("yesterday", &z).is_none());
        assert!(any("42", &z).is_none());
    }
}
