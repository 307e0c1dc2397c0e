//! `rampart prune`: retention. What was stored more than a given time ago
//! goes (events and unreadable lines, and alerts unless `--events-only`),
//! and the file gives the space back. On ClickHouse, whole days of events
//! go by their own time, and alerts by theirs.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use rampart_event::Timestamp;

/// Arguments of `rampart prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove what was stored longer ago than this: a number and a unit,
    /// s, m, h, d or w (`30d`).
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    older_than: Duration,
    /// Keep the alerts (and their triage).
    #[arg(long)]
    events_only: bool,
}

/// Reads an age such as `30d`, `12h` or `2w`.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?} has no unit: s, m, h, d or w"))?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} does not start with a number"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(format!("{unit:?} is not a unit: s, m, h, d or w")),
    };
    n.checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is too long"))
}

/// The time `age` before now.
pub fn before_now(age: Duration) -> anyhow::Result<Timestamp> {
    let age = jiff::SignedDuration::try_from(age).context("that age is too long")?;
    Timestamp::now()
        .checked_sub(age)
        .context("that age reaches before the epoch")
}

/// Runs the command.
pub fn run(args: &PruneArgs, db: &Path) -> anyhow::Result<ExitCode> {
    let mut store = super::backend::open(db)?;
    let pruned = store.prune(before_now(args.older_than)?, args.events_only)?;
    println!(
        "removed {} events, {} unreadable lines, {} alerts; the database shrank by {:.1} MB",
        pruned.events,
        pruned.dead,
        pruned.alerts,
        pruned.freed as f64 / 1e6
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_with_their_units() {
        assert_eq!(parse_age("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_age("2w"), Ok(Duration::from_secs(1_209_600)));
        assert!(parse_age("30").is_err());
        assert!(parse_age("d").is_err());
        assert!(parse_age("3y").is_err());
        assert!(parse_age("99999999999999999999d").is_err());
    }
}
