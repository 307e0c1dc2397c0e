//! `rampart rules`: list the rules a hunt would run, show one, validate a
//! folder of Sigma rules, and run the tests rules carry with them.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use rampart_detect::{
    builtin, load_text, rule_tests, Alert, CompileOptions, Deduper, Limits, RuleSet,
};
use rampart_event::time::Zone;
use rampart_parse::{FileContext, ParseOptions};

use super::rule_sources::{builtin_rules, load_rules};

/// Arguments of `rampart rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    action: Action,
}

/// How `list` and `validate` write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// For people.
    Table,
    /// One JSON object a line.
    Jsonl,
    /// Comma-separated, with a header.
    Csv,
}

/// Where and how `list` and `validate` write.
#[derive(Debug, Args)]
struct Output {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

impl Output {
    fn open(&self) -> anyhow::Result<Box<dyn Write>> {
        Ok(match &self.output {
            Some(path) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("cannot create {}", path.display()))?,
            )),
            None => Box::new(std::io::stdout().lock()),
        })
    }
}

/// One row of `list` or `validate` in a machine format.
fn write_row(out: &mut dyn Write, format: Format, row: &[(&str, String)]) -> anyhow::Result<()> {
    match format {
        Format::Jsonl => {
            let object: serde_json::Map<String, serde_json::Value> = row
                .iter()
                .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.as_str())))
                .collect();
            writeln!(out, "{}", serde_json::Value::Object(object))?;
        }
        Format::Csv | Format::Table => {
            out.write_all(&rampart_engine::output::csv_line(
                row.iter().map(|(_, v)| v.as_str()),
            )?)?;
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
enum Action {
    /// List the built-in rules (and those under --rules).
    List {
        /// More Sigma rules: a file or folder (repeatable).
        #[arg(long, short, value_name = "PATH")]
        rules: Vec<PathBuf>,
        #[command(flatten)]
        out: Output,
    },
    /// Show one rule by id: its metadata and where it came from.
    Show {
        /// The rule id.
        id: String,
        /// More Sigma rules to look in.
        #[arg(long, short, value_name = "PATH")]
        rules: Vec<PathBuf>,
    },
    /// Load and compile Sigma rules, reporting every rule that cannot run.
    Validate {
        /// Files or folders of Sigma rules.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The config `hunt --config` reads: its `placeholders` give rules
        /// with `%placeholders%` their values.
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
        #[command(flatten)]
        out: Output,
    },
    /// Run the tests rules carry (`rampart.tests`); the built-in pack by default.
    Test {
        /// Rule files or folders whose tests to run.
        paths: Vec<PathBuf>,
    },
}

/// Runs the command.
pub fn run(args: &RulesArgs) -> anyhow::Result<ExitCode> {
    match &args.action {
        Action::List { rules, out } => list(rules, out),
        Action::Show { id, rules } => show(id, rules),
        Action::Validate { paths, config, out } => validate(paths, config.as_deref(), out),
        Action::Test { paths } => test(paths),
    }
}

fn all_rules(extra: &[PathBuf]) -> anyhow::Result<RuleSet> {
    let mut loaded = builtin_rules();
    loaded.extend(load_rules(extra)?);
    Ok(RuleSet::build(loaded, &CompileOptions::default()))
}

/// One line of `rules list`.
struct Listed<'a> {
    id: &'a str,
    level: &'static str,
    kind: &'static str,
    title: &'a str,
    source: &'a str,
    tags: &'a [String],
}

fn list(extra: &[PathBuf], output: &Output) -> anyhow::Result<ExitCode> {
    let mut set = all_rules(extra)?;
    let correlations = set.correlator(Limits::default());
    let roles = correlations.roles();
    let ioc = rampart_intel::ioc_rule();
    let correlation_rules = correlations.rules();
    let detections = set.rules().iter().enumerate().map(|(i, r)| Listed {
        id: &r.rule.id,
        level: r.rule.level.as_str(),
        kind: if roles.is_quiet(i) {
            "feeds"
        } else {
            "detection"
        },
        title: &r.rule.title,
        source: &r.rule.source.path,
        tags: &r.rule.tags,
    });
    let linked = correlation_rules.iter().map(|c| Listed {
        id: &c.id,
        level: c.level.as_str(),
        kind: "correlation",
        title: &c.title,
        source: &c.source.path,
        tags: &c.tags,
    });
    let native = Listed {
        id: &ioc.id,
        level: ioc.level.as_str(),
        kind: "native",
        title: &ioc.title,
        source: &ioc.source.path,
        tags: &ioc.tags,
    };
    let listed: Vec<Listed> = detections.chain(linked).chain([native]).collect();
    let mut out = output.open()?;
    if output.format == Format::Table {
        writeln!(out, "{:<40}  {:<13}  {:<11}  TITLE", "ID", "LEVEL", "KIND")?;
        for l in &listed {
            writeln!(
                out,
                "{:<40}  {:<13}  {:<11}  {}",
                l.id, l.level, l.kind, l.title
            )?;
        }
        writeln!(out, "\nATT&CK coverage (rules per tactic):")?;
        for (tactic, n) in coverage(listed.iter().map(|l| l.tags)) {
            writeln!(out, "  {n:>5}  {tactic}")?;
        }
    } else {
        if output.format == Format::Csv {
            let header = ["id", "level", "kind", "title", "source", "tags"];
            write_row(&mut out, Format::Csv, &header.map(|h| (h, h.to_owned())))?;
        }
        for l in &listed {
            let row = [
                ("id", l.id.to_owned()),
                ("level", l.level.to_owned()),
                ("kind", l.kind.to_owned()),
                ("title", l.title.to_owned()),
                ("source", l.source.to_owned()),
                ("tags", l.tags.join(" ")),
            ];
            write_row(&mut out, output.format, &row)?;
        }
    }
    out.flush()?;
    if !set.skipped.is_empty() {
        eprintln!(
            "{} rules could not load and are not listed (`rampart rules validate PATH` says why)",
            set.skipped.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// For each ATT&CK tactic in matrix order, how many rules cover it: by a
/// tactic tag (`attack.credential_access`) or a technique of the tactic.
fn coverage<'a>(rules: impl Iterator<Item = &'a [String]>) -> Vec<(&'static str, usize)> {
    let catalogue = rampart_detect::attack::Catalogue::embedded();
    let mut counts = vec![0usize; catalogue.tactics().len()];
    for tags in rules {
        let mut covered = vec![false; counts.len()];
        for tag in tags {
            let Some(name) = tag.strip_prefix("attack.") else {
                continue;
            };
            let shorts: Vec<&str> = match catalogue.technique(name) {
                Some(t) => t.tactics.iter().map(String::as_str).collect(),
                None => catalogue
                    .tactic(name)
                    .map(|t| t.short.as_str())
                    .into_iter()
                    .collect(),
            };
            for (i, t) in catalogue.tactics().iter().enumerate() {
                if shorts.contains(&t.short.as_str()) {
                    covered[i] = true;
                }
            }
        }
        for (n, c) in counts.iter_mut().zip(covered) {
            *n += usize::from(c);
        }
    }
    catalogue
        .tactics()
        .iter()
        .map(|t| t.name.as_str())
        .zip(counts)
        .collect()
}

fn show(id: &str, extra: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut set = all_rules(extra)?;
    let correlations = set.correlator(Limits::default());
    let mut out = std::io::stdout().lock();
    let ioc = rampart_intel::ioc_rule();
    let found = set.rules().iter().find(|r| r.rule.id == id);
    if found.is_some() || ioc.id == id {
        let (rule, route) = match found {
            Some(r) => (r.rule.as_ref(), Some(&r.route)),
            None => (&ioc, None),
        };
        writeln!(out, "id:          {}", rule.id)?;
        writeln!(out, "title:       {}", rule.title)?;
        writeln!(out, "level:       {}", rule.level)?;
        writeln!(out, "logsource:   {}", rule.logsource)?;
        writeln!(out, "tags:        {}", rule.tags.join(", "))?;
        if let Some(d) = &rule.description {
            writeln!(out, "description: {d}")?;
        }
        writeln!(
            out,
            "source:      {} (document {})",
            rule.source.path, rule.source.document
        )?;
        for (name, _) in &rule.searches {
            writeln!(out, "search:      {name}")?;
        }
        if route.is_none() {
            writeln!(
                out,
                "logic:       native: the event's addresses, domains, URLs and hashes against loaded feeds and the IOC database"
            )?;
        } else {
            writeln!(out, "condition:   {}", rule.conditions.join(" | "))?;
        }
        writeln!(out, "group:       {}", rule.group.join(", "))?;
        if let Some(why) = route.and_then(|r| r.no_source.as_ref()) {
            writeln!(out, "note:        {why}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(c) = correlations.rules().iter().find(|c| c.id == id) {
        writeln!(out, "id:          {}", c.id)?;
        writeln!(out, "title:       {}", c.title)?;
        writeln!(out, "level:       {}", c.level)?;
        writeln!(
            out,
            "correlation: {} over {}",
            c.kind.name(),
            c.rules.join(", ")
        )?;
        writeln!(out, "group-by:    {}", c.group_by.join(", "))?;
        writeln!(out, "timespan:    {} s", c.timespan.as_secs())?;
        writeln!(out, "threshold:   {}", c.threshold)?;
        writeln!(
            out,
            "source:      {} (document {})",
            c.source.path, c.source.document
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(s) = set.skipped.iter().find(|s| s.rule.as_deref() == Some(id)) {
        bail!("rule '{id}' cannot run: {s}")
    }
    bail!("no rule with id '{id}' (see `rampart rules list`)")
}

fn validate(
    paths: &[PathBuf],
    config: Option<&std::path::Path>,
    output: &Output,
) -> anyhow::Result<ExitCode> {
    let mut options = CompileOptions::default();
    if let Some(path) = config {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let tuning = rampart_detect::Tuning::from_yaml(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        options.placeholders = tuning.placeholders;
    }
    let mut out = output.open()?;
    let mut failed = false;
    if output.format == Format::Csv {
        let header = ["path", "rule", "reason"];
        write_row(&mut out, Format::Csv, &header.map(|h| (h, h.to_owned())))?;
    }
    for path in paths {
        let mut set = RuleSet::build(load_rules(std::slice::from_ref(path))?, &options);
        let correlations = set.correlator(Limits::default());
        if output.format != Format::Table {
            // One row per rule that cannot run.
            for s in &set.skipped {
                let row = [
                    ("path", s.path.to_string()),
                    ("rule", s.rule.clone().unwrap_or_default()),
                    ("reason", s.reason.clone()),
                ];
                write_row(&mut out, output.format, &row)?;
            }
            failed |= !set.skipped.is_empty();
            continue;
        }
        let no_source = set
            .rules()
            .iter()
            .filter(|r| r.route.no_source.is_some())
            .count();
        writeln!(
            out,
            "{}: {} rules and {} correlations load ({} for sources rampart does not parse yet), {} cannot run",
            path.display(),
            set.rules().len(),
            correlations.len(),
            no_source,
            set.skipped.len()
        )?;
        let mut by_folder: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for r in set.rules() {
            by_folder.entry(folder(&r.rule.source.path)).or_default().0 += 1;
        }
        for s in &set.skipped {
            by_folder.entry(folder(&s.path)).or_default().1 += 1;
        }
        if by_folder.len() > 1 {
            for (f, (ok, bad)) in &by_folder {
                writeln!(out, "  {f}: {ok} load, {bad} cannot run")?;
            }
        }
        for s in &set.skipped {
            writeln!(out, "  cannot run: {s}")?;
        }
        failed |= !set.skipped.is_empty();
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn folder(path: &str) -> String {
    Path::new(path)
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

fn test(paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut files: Vec<(String, String)> = Vec::new();
    if paths.is_empty() {
        files.extend(
            builtin::PACK
                .iter()
                .map(|(n, t)| (format!("builtin:{n}"), (*t).to_owned())),
        );
    }
    for path in paths {
        for file in yaml_files(path) {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            files.push((file.display().to_string(), text));
        }
    }
    let mut out = std::io::stdout().lock();
    let (mut passed, mut failed, mut untested) = (0, 0, Vec::new());
    for (name, text) in &files {
        let tests = rule_tests(text).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        if tests.is_empty() {
            untested.push(name.clone());
            continue;
        }
        for t in tests {
            let alerts = run_test(name, text, &t.logs, &t.rule_id)?;
            if alerts == t.alerts {
                passed += 1;
                writeln!(out, "ok    {}: {} ({} alerts)", t.rule_id, t.name, alerts)?;
            } else {
                failed += 1;
                writeln!(
                    out,
                    "FAIL  {}: {}: {} alerts, expected {}",
                    t.rule_id, t.name, alerts, t.alerts
                )?;
            }
        }
    }
    if paths.is_empty() {
        let rule = rampart_intel::ioc_rule();
        for t in rampart_intel::matcher::IOC_TESTS {
            let alerts = run_ioc_test(t)?;
            if alerts == t.alerts {
                passed += 1;
                writeln!(out, "ok    {}: {} ({} alerts)", rule.id, t.name, alerts)?;
            } else {
                failed += 1;
                writeln!(
                    out,
                    "FAIL  {}: {}: {} alerts, expected {}",
                    rule.id, t.name, alerts, t.alerts
                )?;
            }
        }
    }
    for name in &untested {
        writeln!(out, "note  {name}: carries no tests")?;
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The alerts `ioc-match` raises on a native example's logs with its feed.
fn run_ioc_test(t: &rampart_intel::matcher::NativeTest) -> anyhow::Result<u64> {
    let options = rampart_intel::FeedOptions::default();
    let feed = rampart_intel::parse(t.feed, rampart_intel::Format::Plain, &options)
        .map_err(anyhow::Error::msg)?;
    let mut table = rampart_intel::IntelTable::new(false);
    for i in feed.indicators {
        table.add(i).map_err(anyhow::Error::msg)?;
    }
    let rule = rampart_intel::ioc_rule();
    let ctx = FileContext::new("test.log", ParseOptions::default());
    let output = rampart_parse::parse_text(t.logs, ctx, None);
    if output.stats.unparsed > 0 {
        bail!(
            "ioc-match: test log lines are not understood: {:?}",
            output.stats.examples
        );
    }
    let mut dedup = Deduper::new(
        [(rule.id.clone(), rampart_intel::matcher::IOC_DEDUP)],
        Limits::default().max_alert_events,
        Limits::default().max_groups,
    );
    let mut alerts = 0;
    for mut event in output.events {
        let hits = table.matches(&event);
        rampart_intel::enrich(&mut event, &hits);
        for alert in rampart_intel::alerts(&rule, &event, &hits) {
            alerts += dedup.offer(alert).len() as u64;
        }
    }
    Ok(alerts + dedup.finish().len() as u64)
}

fn yaml_files(path: &Path) -> Vec<PathBuf> {
    if path.is_dir() {
        let mut out: Vec<PathBuf> = std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .flat_map(|e| yaml_files(&e.path()))
            .collect();
        out.sort();
        out
    } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
        vec![path.to_path_buf()]
    } else {
        Vec::new()
    }
}

/// How many alerts rule `rule_id` of the rules in `text` raises on `logs`.
fn run_test(name: &str, text: &str, logs: &str, rule_id: &str) -> anyhow::Result<u64> {
    let loaded = load_text(text, Arc::from(name));
    if let Some(e) = loaded.errors.first() {
        bail!("{e}");
    }
    let mut set = RuleSet::build(loaded, &CompileOptions::default());
    let mut correlator = set.correlator(Limits::default());
    if let Some(e) = set.skipped.first() {
        bail!("{e}");
    }
    let roles = correlator.roles();
    let ctx = FileContext::new(
        "test.log",
        ParseOptions {
            year: Some(2025),
            zone: Zone::utc(),
        },
    );
    let output = rampart_parse::parse_text(logs, ctx, None);
    if output.stats.unparsed > 0 {
        bail!(
            "{name}: {} test log lines are not understood: {:?}",
            output.stats.unparsed,
            output.stats.examples
        );
    }
    let mut dedup = Deduper::new(
        set.rules()
            .iter()
            .filter_map(|r| Some((r.rule.id.clone(), r.rule.dedup?))),
        Limits::default().max_alert_events,
        Limits::default().max_groups,
    );
    let mut alerts = Vec::new();
    for event in &output.events {
        for hit in set.matches(event) {
            if !roles.is_quiet(hit.index) {
                let single = Alert::single(&hit.rule.rule, hit.group(event), Vec::new(), event);
                alerts.extend(dedup.offer(single));
            }
            alerts.extend(correlator.observe(hit.index, event));
        }
    }
    alerts.extend(correlator.finish());
    alerts.extend(dedup.finish());
    let count = alerts.iter().filter(|a| a.rule_id == rule_id).count() as u64;
    Ok(count)
}

#[cfg(test)]
mod coverage_tests {
    use super::coverage;

    #[test]
    fn a_rule_counts_once_per_tactic_by_technique_or_tactic_tag() {
        let rules: Vec<Vec<String>> = vec![
            // Brute force, tagged both ways: one rule under Credential Access.
            vec!["attack.credential_access".into(), "attack.t1110.001".into()],
            // Valid Accounts spans four tactics.
            vec!["attack.t1078".into()],
            vec!["cve.2021-44228".into()],
        ];
        let got = coverage(rules.iter().map(Vec::as_slice));
        let n = |name: &str| got.iter().find(|(t, _)| *t == name).unwrap().1;
        assert_eq!(n("Credential Access"), 1);
        assert_eq!(n("Persistence"), 1);
        assert_eq!(n("Initial Access"), 1);
        assert_eq!(n("Impact"), 0);
        assert_eq!(got.len(), 14);
    }
}
