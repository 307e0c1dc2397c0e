//! `rampart parse`: read logs, print normalised events, summarise on stderr.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use rampart_io::{discover, read_files_with, Message};

use super::intel_args::IntelArgs;
use super::read_args::ReadArgs;
use crate::summary::Summary;
use crate::writer::{EventWriter, OutputFormat};

/// Arguments of `rampart parse`.
#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Log files or folders (walked recursively); `-` reads standard input.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    format: Format,
    /// Write events to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    intel: IntelArgs,
    /// Add `rampart.ip_hit_count`: how many events so far came from the
    /// event's source address.
    #[arg(long)]
    count_ips: bool,
    /// Show the detected format of each file.
    #[arg(long, short)]
    verbose: bool,
    /// Print no summary.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Jsonl,
    Json,
    Table,
}

/// Runs the command; the exit code is 1 when a file could not be read.
pub fn run(args: &ParseArgs, db: &std::path::Path) -> anyhow::Result<ExitCode> {
    let options = args.read.options()?;

    let started = Instant::now();
    let enrichers = {
        let mut log: Box<dyn Write> = if args.quiet {
            Box::new(std::io::sink())
        } else {
            Box::new(std::io::stderr())
        };
        args.intel.enrichers(db, &mut log)?
    };
    let (inputs, missing) = discover(&args.paths);
    let mut summary = Summary::default();
    for (path, why) in missing {
        summary.error(format!("{}: {why}", path.display()));
    }
    let sink: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let format = match args.format {
        Format::Jsonl => OutputFormat::Jsonl,
        Format::Json => OutputFormat::Json,
        Format::Table => OutputFormat::Table,
    };
    let mut writer = EventWriter::new(BufWriter::with_capacity(1 << 16, sink), format);
    let mut dead_out = args.read.dead_letters()?;
    let mut write_error = None;
    let mut counts = args
        .count_ips
        .then(|| rampart_intel::IpCounts::new(rampart_engine::run::MAX_COUNTED_ADDRESSES));
    let work = |events: &mut [rampart_event::Event]| {
        enrichers.prepare(events);
        for event in events {
            enrichers.enrich(event);
        }
    };
    read_files_with(&inputs, &options, &work, |message| match message {
        Message::Batch {
            index,
            mut events,
            dead,
            work: (),
        } => {
            if write_error.is_some() {
                return;
            }
            if let Some(counts) = counts.as_mut() {
                for event in &mut events {
                    if let Some(n) =
                        rampart_intel::source_ip(event).and_then(|ip| counts.observe(ip))
                    {
                        event.set("rampart.ip_hit_count", n as i64);
                    }
                }
            }
            for event in &events {
                if let Err(e) = writer.write(event) {
                    write_error = Some(e);
                    return;
                }
            }
            if let Some(out) = dead_out.as_mut() {
                if let Err(e) = out.write(&inputs[index].path, &dead) {
                    write_error = Some(e);
                }
            }
        }
        Message::Done(report) => {
            if args.verbose {
                let set = report
                    .rotated_set
                    .as_deref()
                    .map(|s| format!(" (rotated set {s})"))
                    .unwrap_or_default();
                eprintln!(
                    "{}: {}{set}, {} events, {} unparsed",
                    report.path.display(),
                    report.format.unwrap_or("format not recognised"),
                    report.stats.total_events(),
                    report.stats.unparsed
                );
            }
            summary.add(report);
        }
    });
    if let Some(e) = write_error {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e).context("cannot write events");
        }
        return Ok(ExitCode::SUCCESS);
    }
    match writer.finish() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other.context("cannot write events")?,
    }
    if let Some(out) = dead_out {
        out.finish()?;
    }
    if args.quiet {
        summary.print_errors(&mut std::io::stderr().lock())?;
    } else {
        summary.print(started.elapsed(), &mut std::io::stderr().lock())?;
    }
    Ok(if summary.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
