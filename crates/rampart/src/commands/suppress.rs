//! `rampart suppress`: the suppressions made from triage (`alerts
//! false-positive --suppress`), listed and removed. The config file's own
//! suppressions are edited in the file.

use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};

use super::alerts::describe;

/// Arguments of `rampart suppress`.
#[derive(Debug, Args)]
pub struct SuppressArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Every suppression, with its rule, group, maker and note.
    List,
    /// Removes suppressions by id: their alerts are raised again.
    Remove {
        /// Suppression ids, as `list` shows them.
        #[arg(required = true)]
        ids: Vec<i64>,
    },
}

/// Runs the command.
pub fn run(args: &SuppressArgs, db: &Path) -> anyhow::Result<ExitCode> {
    let mut store = super::backend::open(db)?;
    match &args.action {
        Action::List => {
            for s in store.suppressions()? {
                println!(
                    "{:>4}  {}  {}  {}  by {}{}",
                    s.id,
                    s.created.strftime("%Y-%m-%d %H:%M"),
                    s.rule_id,
                    describe(&s.group),
                    s.user,
                    s.note.map(|n| format!(": {n}")).unwrap_or_default()
                );
            }
        }
        Action::Remove { ids } => {
            for id in ids {
                if !store.remove_suppression(*id)? {
                    bail!("no suppression {id}");
                }
                println!("removed suppression {id}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
