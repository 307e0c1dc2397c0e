//! `rampart cluster status --config worker.yml`: the workers alive and
//! what each says of itself (events, alerts, events a second, partitions
//! held), each partition's owner and how far behind it is, and the events
//! waiting for a worker.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

/// Arguments of `rampart cluster`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    what: ClusterCommand,
}

#[derive(Debug, Subcommand)]
enum ClusterCommand {
    /// Workers, partition owners, consumer lag and per-worker rates.
    Status {
        /// A worker's pipeline file, whose `cluster:` names the cluster.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the command.
pub fn run(args: &ClusterArgs) -> anyhow::Result<ExitCode> {
    let ClusterCommand::Status { config, json } = &args.what;
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("cannot read {}", config.display()))?;
    let base = config.parent().unwrap_or(Path::new("."));
    let pipeline = match rampart_pipeline::read(&text, base) {
        Ok(p) => p,
        Err(errors) => {
            for e in errors {
                eprintln!(
                    "error: {}:{}:{}: {}",
                    config.display(),
                    e.at.line,
                    e.at.col,
                    e.what
                );
            }
            return Ok(ExitCode::from(2));
        }
    };
    let Some(cluster) = &pipeline.cluster else {
        eprintln!("error: {} has no `cluster:`", config.display());
        return Ok(ExitCode::from(2));
    };
    let status = rampart_pipeline::cluster::status::status(cluster).map_err(anyhow::Error::msg)?;
    let mut out = std::io::stdout().lock();
    if *json {
        serde_json::to_writer_pretty(&mut out, &status)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "events: {} published, {} taken by every worker, {} waiting, {} in hand",
        status.events_published, status.events_taken, status.events_waiting, status.events_in_hand
    )?;
    writeln!(out, "workers ({}):", status.workers.len())?;
    for w in &status.workers {
        let field = |k: &str| w.get(k).map_or(String::from("-"), ToString::to_string);
        writeln!(
            out,
            "  {}: {} events ({} a second), {} alerts, partitions {}",
            w.get("worker").and_then(|v| v.as_str()).unwrap_or("?"),
            field("events"),
            field("events_per_second"),
            field("alerts"),
            field("partitions")
        )?;
    }
    writeln!(out, "partitions:")?;
    for p in &status.partitions {
        writeln!(
            out,
            "  {:>2}: {:<24} through {} ({} behind)",
            p.partition,
            p.owner.as_deref().unwrap_or("(no owner)"),
            p.through,
            p.behind
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
