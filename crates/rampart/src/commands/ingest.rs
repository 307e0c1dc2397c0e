//! `rampart ingest`: the engine with the store as its sink. Each file is
//! known by its first bytes and read on from where the last run left it,
//! so running twice over the same files stores nothing the second time,
//! and lines appended since are picked up. Open correlation and dedup
//! windows are stored with each commit and taken up by the next run: a
//! brute force read half by one run and half by the next is one alert.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use rampart_engine::files::{is_own, own_files, place, seen_now, Placed, Seen};
use rampart_engine::{Engine, StoreSink, Tally};
use rampart_io::{discover, Input, ReadOptions};
use rampart_store::{Committed, Intake};

use super::detect_args::{build_engine, Built, DetectArgs, Purpose};
use super::intel_args::IntelArgs;
use super::read_args::ReadArgs;
use crate::summary::Summary;

/// Arguments of `rampart ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Log files or folders (walked recursively), EVTX included.
    paths: Vec<PathBuf>,
    /// A log file (as seed 002's `--log`; repeatable).
    #[arg(long, value_name = "FILE")]
    log: Vec<PathBuf>,
    /// A folder of logs (as seed 002's `--dir`; repeatable).
    #[arg(long, value_name = "DIR")]
    dir: Vec<PathBuf>,
    #[command(flatten)]
    detect: DetectArgs,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    intel: IntelArgs,
    /// Keep reading: new lines of the files and new files in the folders
    /// are stored as they come (checked every second), until stopped.
    #[arg(long, short)]
    follow: bool,
    /// After storing, remove what was stored longer ago than this (`30d`;
    /// see `rampart prune`).
    #[arg(long, value_name = "AGE", value_parser = super::prune::parse_age)]
    retention: Option<std::time::Duration>,
    /// Events stored per commit, at most (a commit also comes every
    /// second): smaller commits show sooner, larger ones store faster.
    #[arg(long, value_name = "N", default_value_t = rampart_engine::COMMIT_EVENTS)]
    commit_events: usize,
    /// Print no summary.
    #[arg(long, short)]
    quiet: bool,
}

/// Runs the command: exit code 1 when an input could not be read or the
/// store refused what was read.
pub fn run(args: &IngestArgs, db: &Path) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let paths: Vec<PathBuf> = args
        .paths
        .iter()
        .chain(&args.log)
        .chain(&args.dir)
        .cloned()
        .collect();
    if paths.is_empty() {
        eprintln!("error: name the logs to ingest: files or folders, or --log FILE / --dir DIR");
        return Ok(ExitCode::from(2));
    }
    let Built { mut engine, .. } =
        match build_engine(&args.detect, &args.intel, Purpose::keeping(args.quiet), db)? {
            Ok(built) => built,
            Err(code) => return Ok(code),
        };
    let _writing = writer_lock(db, args.quiet)?;
    let mut store = super::backend::intake(db).context("cannot open the database")?;
    let saved = store
        .saved_state()
        .context("cannot read the correlation state stored in the database")?;
    engine.restore(&saved).map_err(|e| {
        anyhow::anyhow!(
            "cannot go on from the correlation state stored in {}: {e}",
            super::backend::name(db)
        )
    })?;
    let own = own_files(db);
    let (mut found, missing) = discover(&paths);
    found.retain(|input| !is_own(&own, &input.path));
    let mut summary = Summary::default();
    for (path, why) in missing {
        summary.error(format!("{}: {why}", path.display()));
    }
    let mut options = args.read.options()?;
    // A followed file may end in half a line: it is read once whole.
    options.hold_partial_line = args.follow;
    let writing = Writing {
        options: &options,
        commit_events: args.commit_events,
    };
    if args.follow {
        return follow(&mut engine, store, (&paths, &own), &writing, args.quiet);
    }
    let placed = place_files(&mut *store, found, &mut summary)?;
    let rules: Vec<String> = engine
        .rules()
        .rules()
        .iter()
        .map(|r| r.rule.id.clone())
        .collect();
    let listed: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let run_id = store.start_run("ingest", &listed, &rules)?;
    let (mut store, committed, tally) =
        store_pass(&mut engine, store, &placed, &writing, &mut summary)?;
    store.finish_run(run_id, &committed)?;
    let pruned = match args.retention {
        Some(age) => Some(store.prune(super::prune::before_now(age)?, false)?),
        None => None,
    };
    let mut err = std::io::stderr().lock();
    if args.quiet {
        summary.print_errors(&mut err)?;
    } else {
        summary.print(started.elapsed(), &mut err)?;
        for path in &placed.duplicates {
            writeln!(
                err,
                "{}: the same file as another input (same first bytes), read once",
                path.display()
            )?;
        }
        writeln!(
            err,
            "stored in {}: {} new events, {} unreadable lines, {} new alerts ({} alerts handed on this run)",
            super::backend::name(db),
            committed.events,
            committed.dead,
            committed.alerts,
            tally.alerts()
        )?;
        if let Some(p) = pruned {
            writeln!(
                err,
                "retention: removed {} events, {} unreadable lines and {} alerts stored before it",
                p.events, p.dead, p.alerts
            )?;
        }
    }
    Ok(if summary.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Holds the database's writer lock (a lock on `<db>.lock` beside it; for
/// a server, a file named after its address in the temporary folder) for
/// as long as the returned file is open: a second ingest into the same
/// database waits for the first, and says so, rather than interleave.
pub(crate) fn writer_lock(db: &Path, quiet: bool) -> anyhow::Result<std::fs::File> {
    let path = if super::backend::is_server(db) {
        let name: String = super::backend::name(db)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        std::env::temp_dir().join(format!("rampart-{name}.lock"))
    } else {
        if let Some(folder) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("cannot create {}", folder.display()))?;
        }
        let mut name = db.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            if !quiet {
                eprintln!(
                    "another ingest is writing to {}; waiting for it to finish",
                    super::backend::name(db)
                );
            }
            file.lock()
                .with_context(|| format!("cannot lock {}", path.display()))?;
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
    Ok(file)
}

/// Places `found` (see [`place`]), the files that could not be read
/// going to `summary`.
fn place_files(
    store: &mut dyn Intake,
    found: Vec<Input>,
    summary: &mut Summary,
) -> anyhow::Result<Placed> {
    let mut placed = place(store, found)?;
    for why in placed.unreadable.drain(..) {
        summary.error(why);
    }
    Ok(placed)
}

/// How a pass reads and commits.
struct Writing<'a> {
    options: &'a ReadOptions,
    commit_events: usize,
}

/// Reads `placed` into `store` through `engine`, the files' reports into
/// `summary`, leaving correlations and dedup windows open (and stored) for
/// the next pass or run. Gives the store back with what was stored.
fn store_pass(
    engine: &mut Engine,
    store: Box<dyn Intake>,
    placed: &Placed,
    writing: &Writing<'_>,
    summary: &mut Summary,
) -> anyhow::Result<(Box<dyn Intake>, Committed, Tally)> {
    let mut sink = StoreSink::start(store, &placed.inputs, &placed.sources)
        .context("cannot start the thread that writes to the database")?
        .commit_every(writing.commit_events);
    let tally = engine.pass(&placed.inputs, writing.options, &mut sink);
    let ((store, committed, error), reports) = sink.finish();
    for report in reports {
        summary.add(report);
    }
    match error {
        Some(e) => Err(e).context("cannot store what was read"),
        None => Ok((store, committed, tally)),
    }
}

/// `ingest --follow`: a pass over the files that changed, every second,
/// with the same engine, so correlations and deduplication run on across
/// passes. Each pass commits what it read; a stop at any moment (the
/// process killed) leaves the store as of the last commit, and the next
/// run reads on from there.
fn follow(
    engine: &mut Engine,
    mut store: Box<dyn Intake>,
    (paths, own): (&[PathBuf], &[PathBuf]),
    writing: &Writing<'_>,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    let mut known: HashMap<PathBuf, Seen> = HashMap::new();
    loop {
        let started = Instant::now();
        let (mut found, _) = discover(paths);
        found.retain(|input| !is_own(own, &input.path));
        // What each file is now, taken before it is read: lines appended
        // while it is read are read by the next pass.
        let now: Vec<Option<Seen>> = found.iter().map(|i| seen_now(&i.path)).collect();
        let (changed, now): (Vec<Input>, Vec<Option<Seen>>) = found
            .into_iter()
            .zip(now)
            .filter(|(input, seen)| seen.is_some() && known.get(&input.path) != seen.as_ref())
            .unzip();
        if !changed.is_empty() {
            let mut summary = Summary::default();
            for (input, seen) in changed.iter().zip(&now) {
                if let Some(seen) = seen {
                    known.insert(input.path.clone(), *seen);
                }
            }
            let placed = place_files(&mut *store, changed, &mut summary)?;
            let (back, stored, _) = store_pass(engine, store, &placed, writing, &mut summary)?;
            store = back;
            if !quiet && stored.events + stored.dead + stored.alerts > 0 {
                eprintln!(
                    "{}  {} new events, {} unreadable lines, {} new alerts",
                    jiff::Timestamp::now().strftime("%H:%M:%S"),
                    stored.events,
                    stored.dead,
                    stored.alerts
                );
            }
            let mut err = std::io::stderr().lock();
            summary.print_errors(&mut err)?;
        }
        std::thread::sleep(Duration::from_secs(1).saturating_sub(started.elapsed()));
    }
}
