//! `rampart tree --pid N PATH...`: the process tree of a PID in the
//! terminal, parent → child with what each process did.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use rampart_detect::{CompileOptions, Loaded, RuleSet, Tuning};
use rampart_engine::{Engine, Scope};
use rampart_intel::Enrichers;
use rampart_io::discover;
use rampart_report::{tree, ProcessSink};

use super::read_args::ReadArgs;

/// Arguments of `rampart tree`.
#[derive(Debug, Args)]
pub struct TreeArgs {
    /// Log files or folders with process creation events (Sysmon 1,
    /// Security 4688, auditd execve, endpoint telemetry).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The PID whose tree to draw (every process that had it). Repeatable.
    #[arg(long = "pid", value_name = "PID", required = true)]
    pids: Vec<i64>,
    #[command(flatten)]
    read: ReadArgs,
}

/// Runs the command: exit code 1 when no process had the PID.
pub fn run(args: &TreeArgs) -> anyhow::Result<ExitCode> {
    let rules = RuleSet::build(Loaded::default(), &CompileOptions::default());
    let mut engine = Engine::new(
        rules,
        Enrichers::default(),
        Tuning::default(),
        Scope::default(),
    );
    let options = args.read.options()?;
    let (inputs, missing) = discover(&args.paths);
    for (path, why) in &missing {
        eprintln!("error: {}: {why}", path.display());
    }
    let mut sink = ProcessSink::default();
    engine.run_into(&inputs, &options, &mut sink);
    let forest = sink.forest();
    let trees = tree::choose(&forest, &args.pids, &BTreeMap::new());
    let mut out = std::io::stdout().lock();
    for t in &trees {
        writeln!(out, "# {}", t.reason)?;
        out.write_all(tree::text(&forest, t, &BTreeMap::new()).as_bytes())?;
        writeln!(out)?;
    }
    if trees.is_empty() {
        eprintln!(
            "no process with PID {} was recorded starting in {} processes read",
            args.pids
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            forest.nodes.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(if missing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
