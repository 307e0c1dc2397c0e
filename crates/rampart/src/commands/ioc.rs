//! `rampart ioc`: the IOC database. Indicators added by hand or imported
//! from feeds are kept in the rampart database, and every later `hunt` or
//! `parse` checks the active ones.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use jiff::Timestamp;
use rampart_intel::{classify, normalise, read_file, FeedOptions, Indicator, Kind};
use rampart_store::{IocFilter, Store, StoredIoc};

use rampart_engine::output::neutralise;

/// Arguments of `rampart ioc`.
#[derive(Debug, Args)]
pub struct IocArgs {
    #[command(subcommand)]
    command: IocCommand,
}

#[derive(Debug, Subcommand)]
enum IocCommand {
    /// Add indicators given on the command line.
    Add(AddArgs),
    /// Remove an indicator (from every source unless --source is given).
    Remove {
        /// The indicator's value.
        value: String,
        /// Only of this type.
        #[arg(long = "type", value_name = "TYPE", value_parser = kind_name)]
        kind: Option<String>,
        /// Only from this source.
        #[arg(long)]
        source: Option<String>,
    },
    /// List stored indicators.
    List {
        #[command(flatten)]
        filter: FilterArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Import feed files (plain list, IPsum, CSV, MISP, STIX); re-importing
    /// changes nothing.
    Import {
        /// Feed files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The source name (default: the file name).
        #[arg(long)]
        source: Option<String>,
        /// Leave out IPsum entries on fewer than N blocklists.
        #[arg(long, value_name = "N", default_value_t = 1)]
        ipsum_min_lists: u32,
    },
    /// Write stored indicators as CSV (which `import` reads back) or JSON lines.
    Export {
        #[command(flatten)]
        filter: FilterArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Csv)]
        format: ListFormat,
        /// Write to this file instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Switch off indicators whose expiry has passed.
    Expire,
}

#[derive(Debug, Args)]
struct AddArgs {
    /// Values: addresses, ranges, domains, URLs, hashes.
    #[arg(required_unless_present = "from_alerts")]
    values: Vec<String>,
    /// Promote the addresses of confirmed alerts (JSON lines, as `hunt
    /// --format jsonl` writes them): each alert's group addresses, else its
    /// first event's source, tagged with the rule that found it.
    #[arg(long, value_name = "FILE")]
    from_alerts: Option<PathBuf>,
    /// Their type (default: guessed from each value).
    #[arg(long = "type", value_name = "TYPE", value_parser = kind_name)]
    kind: Option<String>,
    /// Who vouches for them (default: `manual`, or `alerts` with --from-alerts).
    #[arg(long)]
    source: Option<String>,
    /// Confidence.
    #[arg(long)]
    confidence: Option<u32>,
    /// Tags, comma-separated.
    #[arg(long, value_delimiter = ',')]
    tags: Vec<String>,
    /// When they stop counting (RFC 3339).
    #[arg(long, value_name = "TIME")]
    expires: Option<Timestamp>,
}

#[derive(Debug, Args)]
struct FilterArgs {
    /// Only this type.
    #[arg(long = "type", value_name = "TYPE", value_parser = kind_name)]
    kind: Option<String>,
    /// Only from this source.
    #[arg(long)]
    source: Option<String>,
    /// Only values containing this text.
    #[arg(long)]
    contains: Option<String>,
    /// Include inactive (expired) indicators.
    #[arg(long)]
    all: bool,
}

impl FilterArgs {
    fn filter(&self) -> anyhow::Result<IocFilter> {
        Ok(IocFilter {
            kind: kind_arg(self.kind.as_deref())?,
            source: self.source.clone(),
            contains: self.contains.clone(),
            all: self.all,
            at: Some(rampart_event::Timestamp::now()),
        })
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ListFormat {
    Table,
    Csv,
    Jsonl,
}

/// A type `--type` takes; anything else is bad usage (exit code 2).
fn kind_name(kind: &str) -> Result<String, String> {
    kind.parse::<Kind>().map(|_| kind.to_owned())
}

fn kind_arg(kind: Option<&str>) -> anyhow::Result<Option<Kind>> {
    kind.map(|k| k.parse::<Kind>().map_err(anyhow::Error::msg))
        .transpose()
}

fn report(what: &str, counts: rampart_store::ImportCounts, invalid: usize, ignored: u64) {
    eprintln!(
        "{what}: {} added, {} updated, {} unchanged, {invalid} invalid, {ignored} ignored",
        counts.added, counts.updated, counts.unchanged
    );
}

/// Runs the command; exit code 1 when some input was invalid.
pub fn run(args: &IocArgs, db: &std::path::Path) -> anyhow::Result<ExitCode> {
    let mut store = Store::open(db)?;
    let now = Timestamp::now();
    match &args.command {
        IocCommand::Add(add) => {
            let kind = kind_arg(add.kind.as_deref())?;
            let mut indicators = Vec::new();
            let mut invalid = 0;
            if let Some(path) = &add.from_alerts {
                let source = add.source.as_deref().unwrap_or("alerts");
                let (found, bad) = from_alerts(path, source)?;
                indicators.extend(found);
                invalid += bad;
            }
            let source = add.source.as_deref().unwrap_or("manual");
            for v in &add.values {
                let found = match kind {
                    Some(k) => normalise(k, v),
                    None => classify(v),
                };
                match found {
                    Ok((kind, value)) => indicators.push(Indicator::new(kind, value, source)),
                    Err(why) => {
                        eprintln!("invalid: {why}");
                        invalid += 1;
                    }
                }
            }
            for i in &mut indicators {
                i.confidence = i.confidence.or(add.confidence);
                i.tags.extend(add.tags.iter().cloned());
                i.expires = add.expires;
            }
            let counts = store.import(&indicators, now)?;
            report("add", counts, invalid, 0);
            return Ok(if invalid > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            });
        }
        IocCommand::Remove {
            value,
            kind,
            source,
        } => {
            let kind = kind_arg(kind.as_deref())?;
            let value = match kind {
                Some(k) => normalise(k, value).map(|(_, v)| v),
                None => classify(value).map(|(_, v)| v),
            }
            .unwrap_or_else(|_| value.clone());
            let n = store.remove(&value, kind, source.as_deref())?;
            eprintln!("removed {n}");
            if n == 0 {
                return Ok(ExitCode::from(1));
            }
        }
        IocCommand::List { filter, format } => {
            let rows = store.list(&filter.filter()?)?;
            write_rows(&rows, *format, &mut std::io::stdout().lock())?;
        }
        IocCommand::Import {
            files,
            source,
            ipsum_min_lists,
        } => {
            let mut bad = false;
            for path in files {
                let mut options = FeedOptions {
                    ipsum_min_lists: *ipsum_min_lists,
                    ..FeedOptions::default()
                };
                if let Some(s) = source {
                    options.source.clone_from(s);
                }
                let feed = read_file(path, &options).map_err(anyhow::Error::msg)?;
                for i in &feed.invalid {
                    eprintln!("{}:{}: {}", path.display(), i.line, i.reason);
                }
                let counts = store.import(&feed.indicators, now)?;
                report(
                    &format!(
                        "{} ({})",
                        path.display(),
                        feed.format.map_or("unknown", |f| f.as_str())
                    ),
                    counts,
                    feed.invalid.len(),
                    feed.ignored_total(),
                );
                for (why, n) in &feed.ignored {
                    eprintln!("  {n} ignored: {why}");
                }
                bad |= !feed.invalid.is_empty();
            }
            if bad {
                return Ok(ExitCode::from(1));
            }
        }
        IocCommand::Export {
            filter,
            format,
            output,
        } => {
            let rows = store.list(&filter.filter()?)?;
            match output {
                Some(path) => {
                    let file = File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?;
                    let mut out = BufWriter::new(file);
                    write_rows(&rows, *format, &mut out)?;
                    out.flush()?;
                }
                None => write_rows(&rows, *format, &mut std::io::stdout().lock())?,
            }
            eprintln!("exported {}", rows.len());
        }
        IocCommand::Expire => {
            let n = store.expire(now)?;
            eprintln!("expired {n}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The addresses of the alerts in a JSON-lines file, tagged with their
/// rule; and how many lines were not alerts.
fn from_alerts(path: &std::path::Path, source: &str) -> anyhow::Result<(Vec<Indicator>, usize)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out: Vec<Indicator> = Vec::new();
    let mut bad = 0;
    for (no, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let alert: serde_json::Value = match serde_json::from_str(line) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("{}:{}: not an alert: {e}", path.display(), no + 1);
                bad += 1;
                continue;
            }
        };
        let Some(rule) = alert["rule_id"].as_str() else {
            eprintln!("{}:{}: not an alert: no rule_id", path.display(), no + 1);
            bad += 1;
            continue;
        };
        let mut addresses: Vec<std::net::IpAddr> = alert["group"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(_, v)| v.as_str()?.parse().ok())
            .collect();
        if addresses.is_empty() {
            addresses.extend(
                alert["events"][0]["source"]["ip"]
                    .as_str()
                    .and_then(|s| s.parse::<std::net::IpAddr>().ok()),
            );
        }
        for ip in addresses {
            let value = ip.to_string();
            match out.iter_mut().find(|i| i.value == value) {
                Some(known) if !known.tags.iter().any(|t| t == rule) => {
                    known.tags.push(rule.to_owned());
                }
                Some(_) => {}
                None => {
                    let mut i = Indicator::new(Kind::Ip, value, source);
                    i.tags.push(rule.to_owned());
                    out.push(i);
                }
            }
        }
    }
    Ok((out, bad))
}

fn time(t: Option<Timestamp>) -> String {
    t.map(|t| t.to_string()).unwrap_or_default()
}

fn write_rows(rows: &[StoredIoc], format: ListFormat, out: &mut dyn Write) -> anyhow::Result<()> {
    match format {
        ListFormat::Table => {
            writeln!(
                out,
                "{:<8} {:<44} {:<20} {:>5}  {:<8} tags",
                "type", "value", "source", "conf", "active"
            )?;
            for r in rows {
                let i = &r.indicator;
                writeln!(
                    out,
                    "{:<8} {:<44} {:<20} {:>5}  {:<8} {}",
                    i.kind.as_str(),
                    i.value,
                    i.source,
                    i.confidence.map(|c| c.to_string()).unwrap_or_default(),
                    if r.active { "yes" } else { "no" },
                    i.tags.join(",")
                )?;
            }
        }
        ListFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "indicator",
                "type",
                "confidence",
                "source",
                "tags",
                "first_seen",
                "last_seen",
                "expires",
                "active",
            ])?;
            for r in rows {
                let i = &r.indicator;
                let tags = i.tags.join(";");
                w.write_record([
                    neutralise(&i.value).as_ref(),
                    i.kind.as_str(),
                    &i.confidence.map(|c| c.to_string()).unwrap_or_default(),
                    neutralise(&i.source).as_ref(),
                    neutralise(&tags).as_ref(),
                    &time(i.first_seen),
                    &time(i.last_seen),
                    &time(i.expires),
                    if r.active { "true" } else { "false" },
                ])?;
            }
            w.flush()?;
        }
        ListFormat::Jsonl => {
            for r in rows {
                let i = &r.indicator;
                let line = serde_json::json!({
                    "type": i.kind.as_str(),
                    "value": i.value,
                    "source": i.source,
                    "confidence": i.confidence,
                    "tags": i.tags,
                    "first_seen": i.first_seen.map(|t| t.to_string()),
                    "last_seen": i.last_seen.map(|t| t.to_string()),
                    "expires": i.expires.map(|t| t.to_string()),
                    "active": r.active,
                    "added": r.added,
                    "updated": r.updated,
                });
                writeln!(out, "{line}")?;
            }
        }
    }
    Ok(())
}
