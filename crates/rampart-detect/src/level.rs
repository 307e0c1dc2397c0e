//! A rule's severity: Sigma's five levels, shared by rules, alerts and the
//! passthrough of other tools' severities.

use std::fmt;

/// A rule's severity, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `informational`.
    Informational,
    /// `low`.
    Low,
    /// `medium` (also the default for a rule without a level).
    Medium,
    /// `high`.
    High,
    /// `critical`.
    Critical,
}

impl Level {
    /// Reads a Sigma level name.
    pub fn parse(text: &str) -> Option<Level> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "informational" | "info" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }

    /// The level of a rank as `level as i64` gives it (lowest 0), as
    /// stores keep it; above the highest, the highest.
    pub fn from_rank(rank: i64) -> Level {
        match rank {
            i64::MIN..=0 => Level::Informational,
            1 => Level::Low,
            2 => Level::Medium,
            3 => Level::High,
            _ => Level::Critical,
        }
    }

    /// The Sigma name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
