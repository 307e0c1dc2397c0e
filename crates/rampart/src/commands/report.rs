//! `rampart report`: run the rules over the inputs and write an
//! investigation report (HTML, Markdown, JSON, CSV, charts) into a folder.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use rampart_detect::attack::Catalogue;
use rampart_engine::{Batch, Engine};
use rampart_event::{Event, Timestamp};
use rampart_io::{discover, Input};
use rampart_report::llm::Settings;
use rampart_report::{Cleaned, Collector, Formats, Options};
use rampart_store::EventQuery;

use super::detect_args::{build_engine, Built, DetectArgs, Purpose};
use super::intel_args::IntelArgs;
use super::read_args::ReadArgs;
use super::retro::read_events;

/// Arguments of `rampart report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Log files or folders (walked recursively), EVTX included.
    #[arg(required_unless_present = "stored")]
    paths: Vec<PathBuf>,
    /// Report on the events stored in the database (see `ingest`) instead
    /// of files, today's rules run over them; `--from`/`--to` pick events
    /// by their time.
    #[arg(long, conflicts_with = "paths")]
    stored: bool,
    /// Only stored events at or after this time (RFC 3339).
    #[arg(long, value_name = "TIME", requires = "stored")]
    from: Option<Timestamp>,
    /// Only stored events before this time (RFC 3339).
    #[arg(long, value_name = "TIME", requires = "stored")]
    to: Option<Timestamp>,
    /// The folder the report is written to (made when missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Which files: any of html, md, csv, json, comma-separated.
    #[arg(long, value_name = "LIST", default_value = "html,md,csv,json")]
    format: String,
    /// Write into a folder that already holds files.
    #[arg(long)]
    force: bool,
    /// Draw the process tree of this PID (every process that had it),
    /// besides the trees of the processes behind alerts. Repeatable.
    #[arg(long = "pid", value_name = "PID")]
    pids: Vec<i64>,
    /// An ATT&CK enterprise bundle (STIX JSON) to name techniques and
    /// tactics with, instead of the catalogue built in.
    #[arg(long, value_name = "FILE")]
    attack: Option<PathBuf>,
    /// The report's title.
    #[arg(long)]
    title: Option<String>,
    /// Have a language model write the accounts: any OpenAI-compatible
    /// chat endpoint (`http://127.0.0.1:8080/v1`). Its key comes from
    /// RAMPART_LLM_KEY or OPENAI_API_KEY (the environment or a .env file).
    /// The facts are sent; the template's account stays when it fails.
    #[arg(long, value_name = "URL")]
    llm: Option<String>,
    /// The model to ask.
    #[arg(
        long,
        value_name = "NAME",
        env = "RAMPART_LLM_MODEL",
        default_value = "gpt-4o-mini"
    )]
    llm_model: String,
    /// Seconds one request may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    llm_timeout: u64,
    /// Requests sent at most (answers from the cache are free).
    #[arg(long, value_name = "N", default_value_t = 50)]
    llm_max_requests: u32,
    /// Events of the enriched stream, from the first, that get an account
    /// of their own from the model (within the request cap).
    #[arg(long, value_name = "N", default_value_t = 0)]
    llm_events: usize,
    /// Where answers are cached, so a report over the same facts again
    /// sends nothing [default: the user's cache folder].
    #[arg(long, value_name = "FILE")]
    llm_cache: Option<PathBuf>,
    #[command(flatten)]
    detect: DetectArgs,
    #[command(flatten)]
    intel: IntelArgs,
    #[command(flatten)]
    read: ReadArgs,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

/// Runs the command.
pub fn run(args: &ReportArgs, db: &std::path::Path) -> anyhow::Result<ExitCode> {
    let formats = match Formats::parse(&args.format) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: --format {}: {e}", args.format);
            return Ok(ExitCode::from(2));
        }
    };
    if args.out.is_dir() && std::fs::read_dir(&args.out)?.next().is_some() && !args.force {
        bail!(
            "{} already holds files: choose another folder or pass --force",
            args.out.display()
        );
    }
    let catalogue: &'static Catalogue = match &args.attack {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let catalogue = Catalogue::from_stix(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            Box::leak(Box::new(catalogue))
        }
        None => Catalogue::embedded(),
    };
    let Built { mut engine, .. } =
        match build_engine(&args.detect, &args.intel, Purpose::keeping(args.quiet), db)? {
            Ok(built) => built,
            Err(code) => return Ok(code),
        };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot make {}", args.out.display()))?;
    let options = args.read.options()?;
    let mut collector = Collector::new(catalogue, formats.csv.then(|| Cleaned::new(&args.out)));
    let missing = if args.stored {
        let query = EventQuery {
            since: args.from,
            until: args.to,
            ..EventQuery::default()
        };
        stored(&mut engine, db, query, options.threads, &mut collector)?;
        Vec::new()
    } else {
        let (inputs, missing) = discover(&args.paths);
        for (path, why) in &missing {
            eprintln!("error: {}: {why}", path.display());
        }
        engine.run_into(&inputs, &options, &mut collector);
        missing
    };
    let report = Options {
        out: args.out.clone(),
        formats,
        pids: args.pids.clone(),
        inputs: if args.stored {
            vec![format!("the events stored in {}", db.display())]
        } else {
            args.paths.iter().map(|p| p.display().to_string()).collect()
        },
        title: args
            .title
            .clone()
            .unwrap_or_else(|| "rampart investigation report".to_owned()),
        llm: args.llm.as_ref().map(|url| Settings {
            url: url.clone(),
            model: args.llm_model.clone(),
            key: ["RAMPART_LLM_KEY", "OPENAI_API_KEY"]
                .iter()
                .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty())),
            timeout: Duration::from_secs(args.llm_timeout.max(1)),
            max_requests: args.llm_max_requests,
            cache: args.llm_cache.clone().or_else(default_cache),
            events: args.llm_events,
        }),
    };
    let findings = rampart_report::finish(collector, &report)
        .with_context(|| format!("cannot write the report into {}", args.out.display()))?;
    if !args.quiet {
        eprintln!("{}", findings.summary);
        eprintln!(
            "report: {} files in {}",
            findings.files.len(),
            args.out.display()
        );
        if formats.html {
            eprintln!("  open {}", args.out.join("report.html").display());
        }
        if let Some(u) = &findings.llm {
            eprintln!(
                "model: {} requests sent, {} answers from the cache, {} failed{}",
                u.requests,
                u.cached,
                u.failed,
                u.first_failure
                    .as_deref()
                    .map(|w| format!(" (first: {w})"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(if missing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The answers' cache in the user's cache folder.
fn default_cache() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|c| c.join("rampart").join("llm-answers.jsonl"))
}

/// Runs `engine` over the stored events `query` finds, read on a thread of
/// their own, everything to `collector`.
fn stored(
    engine: &mut Engine,
    db: &Path,
    mut query: EventQuery,
    threads: usize,
    collector: &mut Collector,
) -> anyhow::Result<()> {
    query.as_read = true;
    // The events are named by the files they were read from; the batches
    // need an input to be handed on at all.
    let input = Arc::new(Input {
        path: PathBuf::from("(stored events)"),
        rotated_set: None,
        resume: Default::default(),
    });
    let (tx, rx) = sync_channel::<Vec<Event>>(8);
    let read = std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_events(db, &query, |batch| tx.send(batch).is_ok()));
        let groups = rx.into_iter().map(|events| {
            vec![Batch {
                input: Some(input.clone()),
                events,
                dead: Vec::new(),
                state: None,
            }]
        });
        let tally = engine.pass_batches(groups, threads, collector);
        engine.close(collector, tally);
        reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    let (_, (unreadable, first)) = read.context("cannot read the stored events")?;
    if unreadable > 0 {
        eprintln!(
            "warning: {unreadable} stored events could not be read back ({})",
            first.unwrap_or_default()
        );
    }
    Ok(())
}
