//! `rampart hunt`: read logs, run the rules over every event on the worker
//! threads, print the alerts, and summarise the run on stderr.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use rampart_detect::{Alert, Level, RuleSet};
use rampart_engine::{AlertFormat, AlertWriter, Background, Scope, Tally, Watch};
use rampart_event::Timestamp;
use rampart_intel::vt::{not_sent_reason, Report, VtKind};
use rampart_intel::VT_FIELDS;
use rampart_io::{discover, FileReport, Input};
use rampart_parse::DeadLetter;
use rampart_store::{EventQuery, Store};

use super::detect_args::{build_engine, Built, DetectArgs, Purpose};
use super::intel_args::IntelArgs;
use super::read_args::{DeadLetters, ReadArgs};
use super::vt_args::{report_of, Sent, VtArgs};
use crate::summary::Summary;

/// Arguments of `rampart hunt`.
#[derive(Debug, Args)]
pub struct HuntArgs {
    /// Log files or folders (walked recursively), EVTX included.
    #[arg(required_unless_present = "stored")]
    paths: Vec<PathBuf>,
    /// Hunt through the events stored in the database (see `ingest`)
    /// instead of files: today's rules and intelligence over what was
    /// stored, in the order it was read; alerts not stored yet are printed
    /// and stored, those already stored are counted. `--from`/`--to` pick
    /// events by their time.
    #[arg(long, conflicts_with_all = ["paths", "vt", "vt_dry_run"])]
    stored: bool,
    #[command(flatten)]
    detect: DetectArgs,
    /// Report only alerts of this level or above.
    #[arg(long, value_enum, default_value_t = LevelArg::Informational)]
    min_level: LevelArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    format: FormatArg,
    /// Write alerts to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Only events at or after this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    from: Option<Timestamp>,
    /// Only events before this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    to: Option<Timestamp>,
    /// Exit with code 3 when an alert of this level or above fired.
    #[arg(long, value_enum, value_name = "LEVEL")]
    fail_on: Option<LevelArg>,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    intel: IntelArgs,
    /// Look the public addresses of the alerts up on VirusTotal (key in
    /// VT_API_KEY), within the day's remaining quota; answers kept in the
    /// database enrich every event of later runs.
    #[arg(long)]
    vt: bool,
    #[command(flatten)]
    vt_args: VtArgs,
    /// List every rule that was skipped, with the reason.
    #[arg(long, short)]
    verbose: bool,
    /// Print no summary.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LevelArg {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl From<LevelArg> for Level {
    fn from(l: LevelArg) -> Level {
        match l {
            LevelArg::Informational => Level::Informational,
            LevelArg::Low => Level::Low,
            LevelArg::Medium => Level::Medium,
            LevelArg::High => Level::High,
            LevelArg::Critical => Level::Critical,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Table,
    Jsonl,
    Json,
    Csv,
    Timeline,
}

/// What hunt watches of the reading: dead letters to their file, the
/// progress bar, the run's summary.
struct HuntWatch {
    dead_out: Option<DeadLetters>,
    dead_error: Option<std::io::Error>,
    progress: Option<indicatif::ProgressBar>,
    events_read: u64,
    summary: Summary,
}

impl Watch for HuntWatch {
    fn dead(&mut self, input: &Input, dead: &[DeadLetter]) {
        if let Some(out) = self.dead_out.as_mut() {
            if let Err(e) = out.write(&input.path, dead) {
                self.dead_error.get_or_insert(e);
            }
        }
    }

    fn file_done(&mut self, report: FileReport) {
        self.events_read += report.stats.total_events();
        if let Some(bar) = &self.progress {
            bar.inc(std::fs::metadata(&report.path).map_or(0, |m| m.len()));
            bar.set_message(format!("{} events", self.events_read));
        }
        self.summary.add(report);
    }
}

/// Runs the command: exit code 1 when an input could not be read, 3 when
/// `--fail-on` is met (2 is bad usage).
pub fn run(args: &HuntArgs, db: &std::path::Path) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let scope = Scope {
        from: args.from,
        to: args.to,
        min: args.min_level.into(),
    };
    let Built {
        mut engine,
        compiled_in,
    } = match build_engine(
        &args.detect,
        &args.intel,
        Purpose {
            scope,
            must_detect: true,
            quiet: args.quiet,
        },
        db,
    )? {
        Ok(built) => built,
        Err(code) => return Ok(code),
    };
    let correlations = engine.correlations();
    let mut vt_store = None;
    let vt = args.vt || args.vt_args.vt_dry_run;
    if vt {
        let store = Store::open(db)?;
        let mut known = HashMap::new();
        for (value, answer) in store.answers_fresh("ip", Timestamp::now(), args.vt_args.ttl())? {
            if let Ok(ip) = value.parse::<IpAddr>() {
                known.insert(ip, report_of(&value, VtKind::Ip, &answer));
            }
        }
        engine.enrichers_mut().vt = Some(known);
        vt_store = Some(store);
    }
    let options = args.read.options()?;
    let format = match args.format {
        FormatArg::Table => AlertFormat::Table,
        FormatArg::Jsonl => AlertFormat::Jsonl,
        FormatArg::Json => AlertFormat::Json,
        FormatArg::Csv => AlertFormat::Csv,
        FormatArg::Timeline => AlertFormat::Timeline,
    };
    let (out, terminal): (Box<dyn Write + Send>, bool) = match &args.output {
        Some(path) => (
            Box::new(
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
            ),
            false,
        ),
        None => (
            Box::new(std::io::stdout()),
            AlertWriter::<Vec<u8>>::stdout_is_terminal(),
        ),
    };
    let writer = AlertWriter::new(BufWriter::with_capacity(1 << 16, out), format, terminal);

    if args.stored {
        let query = EventQuery {
            since: args.from,
            until: args.to,
            ..EventQuery::default()
        };
        let retro = super::retro::run(&mut engine, db, query, options.threads, writer)?;
        return retro_summary(args, &engine, (correlations, compiled_in), retro, started);
    }
    let (inputs, missing) = discover(&args.paths);
    let mut watch = HuntWatch {
        dead_out: args.read.dead_letters()?,
        dead_error: None,
        progress: progress_bar(&inputs, args.quiet),
        events_read: 0,
        summary: Summary::default(),
    };
    for (path, why) in missing {
        watch.summary.error(format!("{}: {why}", path.display()));
    }
    // VirusTotal answers go into the alerts' events before they are written.
    let mut kept: Vec<Alert> = Vec::new();
    let (tally, mut writer, written) = if vt {
        let tally = engine.run(&inputs, &options, &mut kept, &mut watch);
        (tally, writer, Ok(()))
    } else {
        // Alerts are turned into text and written on a thread of their own.
        let mut background = Background::start(writer).context("cannot start the output thread")?;
        let tally = engine.run(&inputs, &options, &mut background, &mut watch);
        let (writer, written) = background.finish();
        (tally, writer, written)
    };
    let HuntWatch {
        dead_out,
        dead_error,
        progress,
        summary,
        ..
    } = watch;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Some(e) = dead_error {
        return Err(e).context("cannot write the dead-letter file");
    }
    if let Some(out) = dead_out {
        out.finish()?;
    }
    let vt_sent = match vt_store.as_mut() {
        Some(store) => Some(vt_alerts(
            store,
            &args.vt_args,
            engine.enrichers_mut().vt.get_or_insert_with(HashMap::new),
            &mut kept,
        )?),
        None => None,
    };
    let Tally {
        per_rule,
        per_level,
        suppressed,
        talkers,
        sink_error,
    } = tally;
    if let Some(e) = sink_error.or(written.err()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e).context("cannot write alerts");
        }
    }
    match writer.write_all(&mut kept).and_then(|()| writer.finish()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(e).context("cannot write alerts")
        }
        _ => {}
    }
    let rules = engine.rules();

    if args.quiet {
        // Quiet leaves out the summary, not the problems.
        let mut err = std::io::stderr().lock();
        summary.print_errors(&mut err)?;
        if !rules.skipped.is_empty() {
            writeln!(
                err,
                "rules: {} skipped (run without -q, or with -v, to see why)",
                rules.skipped.len()
            )?;
        }
    } else {
        let mut err = std::io::stderr().lock();
        summary.print(started.elapsed(), &mut err)?;
        print_rules(rules, correlations, compiled_in, args.verbose, &mut err)?;
        let total: u64 = per_level.values().sum();
        writeln!(
            err,
            "alerts: {total} ({suppressed} suppressed by the config)"
        )?;
        for (level, n) in per_level.iter().rev() {
            writeln!(err, "  {:<14} {n:>8}", level.as_str())?;
        }
        let mut top: Vec<_> = per_rule.into_iter().collect();
        top.sort_by(|a, b| b.0 .0.cmp(&a.0 .0).then(b.1.cmp(&a.1)));
        for ((level, title), n) in top.iter().take(15) {
            writeln!(err, "  {n:>8}  {:<9} {title}", level.as_str())?;
        }
        if top.len() > 15 {
            writeln!(err, "  ... and {} more rules", top.len() - 15)?;
        }
        if let Some((cached, sent)) = &vt_sent {
            let left = match sent.pending.len() {
                0 => String::new(),
                n if args.vt_args.vt_dry_run => {
                    format!(", {n} addresses would be looked up (a dry run sends nothing)")
                }
                n => format!(", {n} addresses left for the next run (the day's quota is spent)"),
            };
            writeln!(
                err,
                "virustotal: {cached} alert addresses answered from the cache, {} requests sent{left}",
                sent.requests,
            )?;
        }
        if talkers.distinct() > 0 {
            writeln!(
                err,
                "top talkers: {} distinct source addresses{}",
                talkers.distinct(),
                match talkers.untracked() {
                    0 => String::new(),
                    n => format!(" ({n} events from further addresses not counted)"),
                }
            )?;
            for (ip, n) in talkers.top(10) {
                writeln!(err, "  {n:>8}  {ip}")?;
            }
        }
    }
    let failed = args
        .fail_on
        .map(Level::from)
        .is_some_and(|bar| per_level.iter().any(|(l, n)| *l >= bar && *n > 0));
    Ok(if summary.has_errors() {
        ExitCode::from(1)
    } else if failed {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// An alert event some of whose addresses still lack a VirusTotal entry.
struct OpenEvent {
    alert: usize,
    event: usize,
    json: serde_json::Value,
    missing: Vec<(&'static str, IpAddr)>,
}

/// Looks up the public addresses of the alerts that no kept answer covers
/// (the most severe alerts first, so the quota goes where it matters), then
/// adds the answers to the alerts' events. Returns how many addresses were
/// answered from the cache, and what was sent.
fn vt_alerts(
    store: &mut Store,
    vt: &VtArgs,
    known: &mut HashMap<IpAddr, Report>,
    alerts: &mut [Alert],
) -> anyhow::Result<(usize, Sent)> {
    alerts.sort_by_key(|a| std::cmp::Reverse(a.severity));
    // Each alert event is read once: the public addresses it holds that
    // carry no VirusTotal entry yet, kept with the parsed event.
    let mut open: Vec<OpenEvent> = Vec::new();
    let mut wanted: Vec<IpAddr> = Vec::new();
    let mut cached = HashSet::new();
    for (a, alert) in alerts.iter().enumerate() {
        for (e, event) in alert.events.iter().enumerate() {
            let Ok(json) = serde_json::from_str::<serde_json::Value>(event.get()) else {
                continue;
            };
            let mut missing = Vec::new();
            for field in VT_FIELDS {
                let (side, _) = field.split_once('.').unwrap_or((field, ""));
                let Some(ip) = json[side]["ip"]
                    .as_str()
                    .and_then(|s| s.parse::<IpAddr>().ok())
                else {
                    continue;
                };
                if not_sent_reason(VtKind::Ip, &ip.to_string()).is_some() {
                    continue;
                }
                if known.contains_key(&ip) {
                    cached.insert(ip);
                } else if !wanted.contains(&ip) {
                    wanted.push(ip);
                }
                let enriched = json["threat"]["enrichments"]
                    .as_array()
                    .is_some_and(|list| {
                        list.iter().any(|x| {
                            x["feed"]["name"] == "virustotal" && x["matched"]["field"] == field
                        })
                    });
                if !enriched {
                    missing.push((field, ip));
                }
            }
            if !missing.is_empty() {
                open.push(OpenEvent {
                    alert: a,
                    event: e,
                    json,
                    missing,
                });
            }
        }
    }
    let values: Vec<String> = wanted.iter().map(IpAddr::to_string).collect();
    if vt.vt_dry_run {
        for v in &values {
            eprintln!("virustotal: would send {v}");
        }
        let sent = Sent {
            pending: values,
            ..Sent::default()
        };
        return Ok((cached.len(), sent));
    }
    let sent = vt.look_up(store, VtKind::Ip, &values, |at, report| {
        known.insert(wanted[at], report);
    })?;
    // The alerts' events now get what was learnt.
    for OpenEvent {
        alert: a,
        event: e,
        mut json,
        missing,
    } in open
    {
        let added: Vec<serde_json::Value> = missing
            .iter()
            .filter_map(|(field, ip)| Some(known.get(ip)?.enrichment(field)))
            .collect();
        if added.is_empty() {
            continue;
        }
        if !json["threat"]["enrichments"].is_array() {
            json["threat"]["enrichments"] = serde_json::Value::Array(Vec::new());
        }
        if let Some(list) = json["threat"]["enrichments"].as_array_mut() {
            list.extend(added);
        }
        if let Ok(raw) = serde_json::value::to_raw_value(&json) {
            alerts[a].events[e] = raw;
        }
    }
    Ok((cached.len(), sent))
}

/// A progress bar over the inputs' bytes on a terminal; none when stderr is
/// not a terminal or the run is quiet.
fn progress_bar(inputs: &[rampart_io::Input], quiet: bool) -> Option<indicatif::ProgressBar> {
    if quiet {
        return None;
    }
    let total: u64 = inputs
        .iter()
        .map(|i| std::fs::metadata(&i.path).map_or(0, |m| m.len()))
        .sum();
    crate::progress::bar(
        total,
        "{elapsed_precise} [{bar:30}] {bytes}/{total_bytes} ({eta} left) {msg}",
    )
}

/// The end of a retro-hunt: what it read and found on stderr; exit code 1
/// when stored events could not be read back, 3 when `--fail-on` is met
/// by a new alert.
fn retro_summary(
    args: &HuntArgs,
    engine: &rampart_engine::Engine,
    (correlations, compiled_in): (usize, std::time::Duration),
    retro: super::retro::Retro,
    started: Instant,
) -> anyhow::Result<ExitCode> {
    let mut err = std::io::stderr().lock();
    let (unreadable, first_error) = &retro.unreadable;
    if let Some(e) = first_error {
        writeln!(
            err,
            "error: {unreadable} stored events could not be read back; {e}"
        )?;
    }
    if !args.quiet {
        print_rules(
            engine.rules(),
            correlations,
            compiled_in,
            args.verbose,
            &mut err,
        )?;
        writeln!(
            err,
            "retro-hunt over {} stored events in {:.2} s: {} alerts, {} new (printed and stored), {} already stored ({} suppressed by the config)",
            retro.events,
            started.elapsed().as_secs_f64(),
            retro.new + retro.known,
            retro.new,
            retro.known,
            retro.tally.suppressed
        )?;
    }
    let failed = args.fail_on.map(Level::from).is_some_and(|bar| {
        retro
            .tally
            .per_level
            .iter()
            .any(|(l, n)| *l >= bar && *n > 0)
    });
    Ok(if *unreadable > 0 {
        ExitCode::from(1)
    } else if failed && retro.new > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints rule loading: loaded, skipped (with reasons), and rules waiting for
/// a source rampart does not parse yet.
pub fn print_rules(
    rules: &RuleSet,
    correlations: usize,
    compiled_in: std::time::Duration,
    verbose: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let no_source = rules
        .rules()
        .iter()
        .filter(|r| r.route.no_source.is_some())
        .count();
    writeln!(
        out,
        "rules: {} detection and {correlations} correlation rules loaded in {:.2} s ({} for log sources rampart does not parse yet), {} skipped",
        rules.rules().len(),
        compiled_in.as_secs_f64(),
        no_source,
        rules.skipped.len()
    )?;
    if verbose {
        for s in &rules.skipped {
            writeln!(out, "  skipped {s}")?;
        }
    } else {
        let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
        for s in &rules.skipped {
            let reason: String = s.reason.chars().take(80).collect();
            *reasons.entry(reason).or_default() += 1;
        }
        for (reason, n) in reasons.iter().take(10) {
            writeln!(out, "  {n:>5} skipped: {reason}")?;
        }
        if !rules.skipped.is_empty() {
            writeln!(out, "  (-v lists every skipped rule with its file)")?;
        }
    }
    Ok(())
}
