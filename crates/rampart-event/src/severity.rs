//! rampart's numeric severity scale for `event.severity`.
//!
//! ECS leaves the meaning of `event.severity` to the source; rampart puts every
//! source on one scale so that a rule or a dashboard can compare a Suricata
//! alert with a generator IDS line. The steps follow the risk scores that
//! Elastic's detection rules use for the same four words. A source's own label
//! stays in `log.level`.

/// Low severity.
pub const LOW: i64 = 21;
/// Medium severity.
pub const MEDIUM: i64 = 47;
/// High severity.
pub const HIGH: i64 = 73;
/// Critical severity.
pub const CRITICAL: i64 = 99;

/// The scale value for a severity word such as `high`, `high_severity`,
/// `MEDIUM` or `crit`; `None` for words that name no severity.
pub fn from_label(label: &str) -> Option<i64> {
    let word = label.trim().split(['_', '-', ' ']).next()?;
    let word = word.to_ascii_lowercase();
    match word.as_str() {
        "low" | "info" | "informational" | "notice" => Some(LOW),
        "medium" | "moderate" | "warn" | "warning" => Some(MEDIUM),
        "high" | "error" | "err" => Some(HIGH),
        "critical" | "crit" | "alert" | "emerg" | "emergency" | "fatal" => Some(CRITICAL),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_map_onto_the_scale() {
        assert_eq!(from_label("low_severity"), Some(LOW));
        assert_eq!(from_label("HIGH"), Some(HIGH));
        assert_eq!(from_label("crit"), Some(CRITICAL));
        assert_eq!(from_label("banana"), None);
    }
}
