//! `rampart stats`: what the store holds: events per dataset and per day,
//! unreadable lines kept, alerts per severity and status, its size on disk
//! and bytes per event.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Runs the command.
pub fn run(db: &Path) -> anyhow::Result<ExitCode> {
    let store = super::backend::open(db)?;
    let stats = store.stats()?;
    let mut out = std::io::stdout().lock();
    let per_event = stats.bytes.checked_div(stats.events).unwrap_or(0);
    writeln!(
        out,
        "{}: {} events, {} unreadable lines, {:.1} MB on disk ({per_event} bytes per event)",
        super::backend::name(db),
        stats.events,
        stats.dead,
        stats.bytes as f64 / 1e6
    )?;
    writeln!(out, "events per dataset:")?;
    for (dataset, n) in &stats.datasets {
        writeln!(out, "  {n:>10}  {dataset}")?;
    }
    writeln!(out, "events per day (UTC, latest 14 with events):")?;
    for (day, n) in &stats.days {
        writeln!(out, "  {n:>10}  {day}")?;
    }
    writeln!(out, "alerts per severity and status:")?;
    for (level, status, n) in &stats.alerts {
        writeln!(out, "  {n:>10}  {level:<13} {status}")?;
    }
    Ok(ExitCode::SUCCESS)
}
