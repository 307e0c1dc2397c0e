//! `rampart intel`: intelligence services. `intel vt` triages a list of
//! addresses, domains or hashes against VirusTotal without exceeding the
//! key's quota: answers are kept in the rampart database, so a repeated
//! run sends nothing, and values that must stay private are never sent.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use jiff::{SignedDuration, Timestamp};
use rampart_intel::vt::{
    not_sent_reason, Lookup, Report, SystemClock, VtClient, VtError, VtKind, CSV_HEADER,
};
use rampart_store::{CachedAnswer, Store};

use crate::alert_writer::neutralise;

/// Arguments of `rampart intel`.
#[derive(Debug, Args)]
pub struct IntelCmdArgs {
    #[command(subcommand)]
    command: IntelCommand,
}

#[derive(Debug, Subcommand)]
enum IntelCommand {
    /// Look values up on VirusTotal (key in VT_API_KEY) within its rate limit.
    Vt(VtArgs),
    /// Configure feeds refreshed by URL (every hunt and parse reads them).
    Feed {
        /// The rampart database.
        #[arg(
            long,
            value_name = "PATH",
            env = "RAMPART_DB",
            default_value = "rampart.db",
            global = true
        )]
        db: PathBuf,
        #[command(subcommand)]
        action: FeedAction,
    },
    /// Download the configured feeds (or those named); a feed that fails
    /// to download or read keeps its last good copy.
    Update {
        /// Only these feeds.
        names: Vec<String>,
        /// The rampart database.
        #[arg(
            long,
            value_name = "PATH",
            env = "RAMPART_DB",
            default_value = "rampart.db"
        )]
        db: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum FeedAction {
    /// Add a feed (or change its URL).
    Add {
        /// Its name: the source its indicators carry.
        name: String,
        /// Where to download it (HTTP or HTTPS).
        url: String,
    },
    /// List the feeds and the state of their copies.
    List,
    /// Remove a feed and its copy.
    Remove {
        /// Its name.
        name: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum KindArg {
    Ip,
    Domain,
    Hash,
}

#[derive(Debug, Args)]
struct VtArgs {
    /// What the input lists.
    #[arg(long = "type", value_enum)]
    kind: KindArg,
    /// One value per line; blank lines and `#` comments are skipped.
    #[arg(long)]
    input: PathBuf,
    /// Write the CSV report here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The rampart database (answers and daily usage are kept there).
    #[arg(
        long,
        value_name = "PATH",
        env = "RAMPART_DB",
        default_value = "rampart.db"
    )]
    db: PathBuf,
    /// Requests per minute the key allows (4 for a free key).
    #[arg(long, default_value_t = 4)]
    per_minute: u32,
    /// Requests per day the key allows (500 for a free key).
    #[arg(long, default_value_t = 500)]
    per_day: u64,
    /// How long an answer is reused, in hours.
    #[arg(long, value_name = "HOURS", default_value_t = 168)]
    cache_hours: i64,
    /// List what would be sent, and send nothing.
    #[arg(long)]
    dry_run: bool,
    /// The API's address (tests point it at a local server).
    #[arg(
        long,
        env = "RAMPART_VT_URL",
        default_value = "https://www.virustotal.com"
    )]
    vt_url: String,
}

/// Runs the command; exit code 1 when some input was invalid or a lookup
/// failed.
pub fn run(args: &IntelCmdArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        IntelCommand::Vt(vt) => run_vt(vt),
        IntelCommand::Feed { db, action } => {
            let mut store = Store::open(db)?;
            match action {
                FeedAction::Add { name, url } => {
                    if !(url.starts_with("http://") || url.starts_with("https://")) {
                        bail!("'{url}' is not an HTTP or HTTPS address");
                    }
                    store.feed_add(name, url)?;
                    eprintln!("feed {name} added; `rampart intel update` downloads it");
                }
                FeedAction::List => {
                    let mut out = std::io::stdout().lock();
                    for f in store.feeds()? {
                        let state = match (&f.fetched, &f.last_error) {
                            (_, Some(e)) => format!("last update failed: {e}"),
                            (Some(t), None) => format!("updated {t}"),
                            (None, None) => "never downloaded".to_owned(),
                        };
                        writeln!(out, "{}\t{}\t{state}", f.name, f.url)?;
                    }
                }
                FeedAction::Remove { name } => {
                    if !store.feed_remove(name)? {
                        bail!("no feed named '{name}'");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        IntelCommand::Update { names, db } => update(names, db),
    }
}

/// Downloads feeds; a copy replaces the last good one only when it reads
/// as a feed with at least one indicator.
fn update(names: &[String], db: &std::path::Path) -> anyhow::Result<ExitCode> {
    let mut store = Store::open(db)?;
    let feeds: Vec<_> = store
        .feeds()?
        .into_iter()
        .filter(|f| names.is_empty() || names.contains(&f.name))
        .collect();
    if feeds.is_empty() {
        bail!("no feeds to update: add one with `rampart intel feed add NAME URL`");
    }
    let mut failed = false;
    for f in feeds {
        let options = rampart_intel::FeedOptions {
            source: f.name.clone(),
            ..rampart_intel::FeedOptions::default()
        };
        let got = rampart_intel::feed::fetch(&f.url).and_then(|body| {
            let format = rampart_intel::detect(&body);
            let feed = rampart_intel::parse(&body, format, &options)?;
            if feed.indicators.is_empty() {
                return Err(format!(
                    "no indicator in the download ({} invalid entries)",
                    feed.invalid.len()
                ));
            }
            Ok((body, format, feed.indicators.len()))
        });
        let now = Timestamp::now();
        match got {
            Ok((body, format, n)) => {
                store.feed_refreshed(&f.name, &body, now)?;
                eprintln!("{}: {n} indicators ({})", f.name, format.as_str());
            }
            Err(why) => {
                store.feed_failed(&f.name, &why, now)?;
                failed = true;
                match &f.fetched {
                    Some(t) => eprintln!("{}: {why}; keeping the copy from {t}", f.name),
                    None => eprintln!("{}: {why}; no copy yet", f.name),
                }
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn run_vt(args: &VtArgs) -> anyhow::Result<ExitCode> {
    let kind = match args.kind {
        KindArg::Ip => VtKind::Ip,
        KindArg::Domain => VtKind::Domain,
        KindArg::Hash => VtKind::Hash,
    };
    let text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let mut failed = false;
    let mut values: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for (no, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match kind.normalise(line) {
            Ok(v) if seen.insert(v.clone()) => values.push(v),
            Ok(_) => {}
            Err(why) => {
                eprintln!("{}:{}: {why}", args.input.display(), no + 1);
                failed = true;
            }
        }
    }
    let mut store = Store::open(&args.db)?;
    let now = Timestamp::now();
    let ttl = SignedDuration::from_hours(args.cache_hours.max(0));
    // What each value gets: a row now (not sent, cached), or a lookup.
    let mut rows: Vec<Option<Report>> = Vec::with_capacity(values.len());
    let mut to_send: Vec<usize> = Vec::new();
    let (mut private, mut cached) = (0, 0);
    for (i, v) in values.iter().enumerate() {
        if not_sent_reason(kind, v).is_some() {
            private += 1;
            rows.push(Some(Report::bare(v, kind, "not_sent")));
            continue;
        }
        match store.vt_cached(kind.as_str(), v, now, ttl)? {
            Some(answer) => {
                cached += 1;
                rows.push(Some(row_of(v, kind, &answer)));
            }
            None => {
                rows.push(None);
                to_send.push(i);
            }
        }
    }
    if args.dry_run {
        let mut out = std::io::stdout().lock();
        for &i in &to_send {
            writeln!(out, "{}", values[i])?;
        }
        eprintln!(
            "dry run: {} would be sent; {cached} answered from the cache; {private} never sent (private or internal)",
            to_send.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let used = store.vt_used(now)?;
    let budget = args.per_day.saturating_sub(used);
    let mut sent = 0;
    if !to_send.is_empty() {
        let key = std::env::var("VT_API_KEY").unwrap_or_default();
        if key.trim().is_empty() {
            bail!(
                "VT_API_KEY is not set: {} values need a lookup",
                to_send.len()
            );
        }
        let clock = SystemClock::default();
        let mut client = VtClient::new(&args.vt_url, key.trim(), args.per_minute, budget, &clock);
        let bar = progress(to_send.len() as u64);
        for &i in &to_send {
            let v = &values[i];
            let before = client.sent();
            let result = client.lookup(kind, v);
            store.vt_count(client.sent() - before, Timestamp::now())?;
            match result {
                Ok(Lookup::Found(json)) => {
                    let answer = CachedAnswer::Found(json.to_string());
                    store.vt_put(kind.as_str(), v, &answer, Timestamp::now())?;
                    rows[i] = Some(row_of(v, kind, &answer));
                }
                Ok(Lookup::NotFound) => {
                    store.vt_put(kind.as_str(), v, &CachedAnswer::NotFound, Timestamp::now())?;
                    rows[i] = Some(Report::bare(v, kind, "not_found"));
                }
                Err(VtError::Budget) => break,
                Err(e @ VtError::Unauthorized(_)) => {
                    if let Some(bar) = &bar {
                        bar.finish_and_clear();
                    }
                    bail!("{e}");
                }
                Err(e @ VtError::Failed(_)) => {
                    eprintln!("{v}: {e}; left without an answer");
                    rows[i] = Some(Report::bare(v, kind, "error"));
                    failed = true;
                }
            }
            if let Some(bar) = &bar {
                bar.inc(1);
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        sent = client.sent();
    }
    let pending = rows.iter().filter(|r| r.is_none()).count();
    let rows: Vec<Report> = rows
        .into_iter()
        .zip(&values)
        .map(|(r, v)| r.unwrap_or_else(|| Report::bare(v, kind, "pending")))
        .collect();
    match &args.output {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            write_csv(&rows, BufWriter::new(file))?;
        }
        None => write_csv(&rows, std::io::stdout().lock())?,
    }
    eprintln!(
        "{} values: {cached} from the cache, {sent} requests sent, {private} never sent (private or internal){}",
        values.len(),
        if pending > 0 {
            format!(", {pending} left for the next run (the day's quota of {} is spent)", args.per_day)
        } else {
            String::new()
        }
    );
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn row_of(value: &str, kind: VtKind, answer: &CachedAnswer) -> Report {
    match answer {
        CachedAnswer::Found(text) => match serde_json::from_str(text) {
            Ok(json) => Report::from_answer(value, kind, &json),
            Err(_) => Report::bare(value, kind, "error"),
        },
        CachedAnswer::NotFound => Report::bare(value, kind, "not_found"),
    }
}

fn write_csv(rows: &[Report], out: impl Write) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_HEADER)?;
    for r in rows {
        let cells = r.cells();
        w.write_record(cells.iter().map(|c| neutralise(c).into_owned()))?;
    }
    w.flush()?;
    Ok(())
}

/// A progress bar with the time left, on a terminal.
fn progress(total: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    let style = indicatif::ProgressStyle::with_template(
        "{elapsed_precise} [{bar:30}] {pos}/{len} lookups ({eta} left)",
    )
    .ok()?
    .progress_chars("=> ");
    bar.set_style(style);
    Some(bar)
}
