//! How numbers, times and levels read on the pages.

use jiff::Timestamp;
use rampart_detect::Level;

/// A count with thin groups of thousands: `1 234 567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// A time to the second, in UTC: `2023-07-23 21:36:36`.
pub fn time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// A time to the second, or a dash.
pub fn maybe_time(t: Option<Timestamp>) -> String {
    t.map(time).unwrap_or_else(|| "—".into())
}

/// The class a level is shown with (`sev-high`); red is kept for high and
/// critical.
pub fn level_class(level: Level) -> &'static str {
    match level {
        Level::Informational => "sev sev-info",
        Level::Low => "sev sev-low",
        Level::Medium => "sev sev-medium",
        Level::High => "sev sev-high",
        Level::Critical => "sev sev-critical",
    }
}

/// An empty facet value as the pages show it.
pub fn or_none(value: &str) -> &str {
    if value.is_empty() {
        "(none)"
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1\u{202f}000");
        assert_eq!(count(1_234_567), "1\u{202f}234\u{202f}567");
    }
}
