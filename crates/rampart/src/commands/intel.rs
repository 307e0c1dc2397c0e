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
use jiff::Timestamp;
use rampart_intel::vt::{not_sent_reason, Report, VtKind, CSV_HEADER};
use rampart_store::Store;

use super::vt_args::{report_of, VtArgs};
use rampart_engine::output::neutralise;

/// Arguments of `rampart intel`.
#[derive(Debug, Args)]
pub struct IntelCmdArgs {
    #[command(subcommand)]
    command: IntelCommand,
}

#[derive(Debug, Subcommand)]
enum IntelCommand {
    /// Look values up on VirusTotal (key in VT_API_KEY) within its rate limit.
    Vt(VtCmdArgs),
    /// Configure feeds refreshed by URL (every hunt and parse reads them).
    Feed {
        #[command(subcommand)]
        action: FeedAction,
    },
    /// Download the configured feeds (or those named); a feed that fails
    /// to download or read keeps its last good copy.
    Update {
        /// Only these feeds.
        names: Vec<String>,
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
struct VtCmdArgs {
    /// What the input lists.
    #[arg(long = "type", value_enum)]
    kind: KindArg,
    /// One value per line; blank lines and `#` comments are skipped.
    #[arg(long)]
    input: PathBuf,
    /// Write the CSV report here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    vt: VtArgs,
}

/// Runs the command; exit code 1 when some input was invalid or a lookup
/// failed.
pub fn run(args: &IntelCmdArgs, db: &std::path::Path) -> anyhow::Result<ExitCode> {
    match &args.command {
        IntelCommand::Vt(vt) => run_vt(vt, db),
        IntelCommand::Feed { action } => {
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
        IntelCommand::Update { names } => update(names, db),
    }
}

/// Downloads feeds; a copy replaces the last good one only when it reads
/// as a feed with at least one indicator.
fn update(names: &[String], db: &std::path::Path) -> anyhow::Result<ExitCode> {
    let mut store = Store::open(db)?;
    let all = store.feeds()?;
    let unknown: Vec<&String> = names
        .iter()
        .filter(|n| !all.iter().any(|f| &f.name == *n))
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = all.iter().map(|f| f.name.as_str()).collect();
        bail!(
            "no feed named {}; the feeds are: {}",
            unknown
                .iter()
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(", "),
            if known.is_empty() {
                "none yet (add one with `rampart intel feed add NAME URL`)".to_owned()
            } else {
                known.join(", ")
            }
        );
    }
    let feeds: Vec<_> = all
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

fn run_vt(args: &VtCmdArgs, db: &std::path::Path) -> anyhow::Result<ExitCode> {
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
    let mut store = Store::open(db)?;
    let now = Timestamp::now();
    let ttl = args.vt.ttl();
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
        match store.answer_cached(kind.as_str(), v, now, ttl)? {
            Some(answer) => {
                cached += 1;
                rows.push(Some(report_of(v, kind, &answer)));
            }
            None => {
                rows.push(None);
                to_send.push(i);
            }
        }
    }
    if args.vt.vt_dry_run {
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
    let wanted: Vec<String> = to_send.iter().map(|&i| values[i].clone()).collect();
    let sent = args.vt.look_up(&mut store, kind, &wanted, |at, report| {
        rows[to_send[at]] = Some(report);
    })?;
    for v in &sent.failed {
        if let Some(i) = values.iter().position(|x| x == v) {
            rows[i] = Some(Report::bare(v, kind, "error"));
        }
    }
    failed |= !sent.failed.is_empty();
    let sent = sent.requests;
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
            format!(
                ", {pending} left for the next run (the day's quota of {} is spent)",
                args.vt.vt_per_day
            )
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
