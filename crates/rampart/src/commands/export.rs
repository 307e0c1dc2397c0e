//! `rampart export`: stored alerts (by default, as seed 002's `export
//! --output report.csv`) or events to a file, as CSV (formula-safe), JSON or
//! JSON lines, chosen by the file's extension unless `--format` says.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use rampart_store::EventQuery;

use super::alerts::{self, FilterArgs};
use super::events::{read_query, EventOutput};
use super::list_format::ListFormat;

/// Arguments of `rampart export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export.
    #[arg(value_enum, default_value_t = What::Alerts)]
    what: What,
    /// The file to write.
    #[arg(long, short)]
    output: PathBuf,
    /// The format [default: from the file's extension: .csv, .json, .jsonl].
    #[arg(long, value_enum)]
    format: Option<FileFormat>,
    /// For events: what they must match (see `rampart events --help`).
    #[arg(long, short)]
    query: Option<String>,
    #[command(flatten)]
    filter: FilterArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum What {
    Alerts,
    Events,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FileFormat {
    Csv,
    Json,
    Jsonl,
}

fn format_of(path: &Path, said: Option<FileFormat>) -> anyhow::Result<FileFormat> {
    if let Some(format) = said {
        return Ok(format);
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    Ok(match extension.as_deref() {
        Some("csv") => FileFormat::Csv,
        Some("json") => FileFormat::Json,
        Some("jsonl" | "ndjson") => FileFormat::Jsonl,
        _ => bail!(
            "cannot tell the format of {} from its name: give --format csv, json or jsonl",
            path.display()
        ),
    })
}

/// Runs the command.
pub fn run(args: &ExportArgs, db: &Path) -> anyhow::Result<ExitCode> {
    let format = format_of(&args.output, args.format)?;
    let expr = match read_query(args.query.as_deref()) {
        Err(code) => return Ok(code),
        Ok(Some(_)) if args.what == What::Alerts => {
            bail!("--query selects events; alerts are chosen with the alert filters")
        }
        Ok(expr) => expr,
    };
    let store = super::backend::open(db)?;
    let file = File::create(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let out = BufWriter::new(file);
    let format = match format {
        FileFormat::Csv => ListFormat::Csv,
        FileFormat::Json => ListFormat::Json,
        FileFormat::Jsonl => ListFormat::Jsonl,
    };
    let written = match args.what {
        What::Alerts => {
            let found = store.alerts(&args.filter.filter(None)?)?;
            let mut out = out;
            alerts::write_list(&found, format, &mut out)?;
            std::io::Write::flush(&mut out)?;
            found.len() as u64
        }
        What::Events => {
            let query = EventQuery {
                expr,
                since: args.filter.since,
                until: args.filter.until,
                limit: args.filter.limit,
                ..EventQuery::default()
            };
            let mut output = EventOutput::new(out, format)?;
            let mut failed = None;
            store.each_event(&query, &mut |e| {
                output.write(&e).map_err(|e| failed = Some(e)).is_ok()
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
            output.finish()?
        }
    };
    eprintln!("{written} written to {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}
