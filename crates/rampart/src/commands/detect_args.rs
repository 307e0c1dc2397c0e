//! What `hunt` and `ingest` share: the rules to run (the built-in pack and
//! the user's), the tuning config, and building the engine from them and
//! the intelligence options.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use rampart_detect::{CompileOptions, Loaded, RuleSet, Tuning};
use rampart_engine::{Engine, Scope};
use rampart_event::time::Zone;

use super::intel_args::IntelArgs;
use super::rule_sources::{builtin_rules, load_rules};

/// Which rules run, and how they are tuned.
#[derive(Debug, Args)]
pub struct DetectArgs {
    /// More Sigma rules: a file or a folder of .yml files (repeatable).
    #[arg(long, short, value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Do not run the built-in rule pack.
    #[arg(long)]
    pub no_builtin: bool,
    /// Tuning: rules switched off, thresholds, suppressions (YAML).
    #[arg(long, value_name = "FILE", env = "RAMPART_CONFIG")]
    pub config: Option<PathBuf>,
}

/// An engine ready to run, and how long its rules took to compile.
pub struct Built {
    pub engine: Engine,
    pub compiled_in: Duration,
}

/// What the engine is built for.
pub struct Purpose {
    /// Which alerts it keeps.
    pub scope: Scope,
    /// Whether it must have something to detect with (a hunt does; an
    /// ingest also stores).
    pub must_detect: bool,
    /// Whether to say nothing of what was loaded.
    pub quiet: bool,
}

impl Purpose {
    /// An engine that keeps what it reads (`ingest`, `report`): every
    /// event and every alert, rules or none.
    pub fn keeping(quiet: bool) -> Purpose {
        Purpose {
            scope: Scope::default(),
            must_detect: false,
            quiet,
        }
    }
}

/// Loads and tunes the rules, loads the intelligence, and builds the
/// engine; a config that does not read or apply is bad usage: the reason
/// is printed and exit code 2 returned.
pub fn build_engine(
    args: &DetectArgs,
    intel: &IntelArgs,
    purpose: Purpose,
    db: &Path,
) -> anyhow::Result<Result<Built, ExitCode>> {
    let Purpose {
        scope,
        must_detect,
        quiet,
    } = purpose;
    let started = Instant::now();
    let mut loaded = if args.no_builtin {
        Loaded::default()
    } else {
        builtin_rules()
    };
    loaded.extend(load_rules(&args.rules)?);
    let bad_config = |why: String| {
        eprintln!("error: {why}");
        Ok(Err(ExitCode::from(2)))
    };
    let mut tuning = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            match Tuning::from_yaml(&text) {
                Ok(t) => t,
                Err(e) => return bad_config(format!("{}: {e}", path.display())),
            }
        }
        None => Tuning::default(),
    };
    // Groups silenced from triage (`alerts false-positive --suppress`), in
    // the embedded store or in ClickHouse.
    if intel.reads_suppressions(db) {
        let store = super::backend::connect(db).context("cannot open the database")?;
        for s in store.suppressions()? {
            tuning.suppressed_groups.push((s.rule_id, s.group));
        }
    }
    if tuning.hours_unread(&loaded) {
        eprintln!("warning: the config's business hours are read by no loaded rule");
    }
    let problems = tuning.apply(&mut loaded);
    if !problems.is_empty() {
        return bad_config(format!(
            "the config cannot be applied: {}",
            problems.join("; ")
        ));
    }
    let hour_zone = match tuning.hour_zone.as_deref().map(Zone::named) {
        Some(Ok(zone)) => zone,
        Some(Err(e)) => return bad_config(format!("business_hours.timezone in the config: {e}")),
        None => Zone::utc(),
    };
    let compile = CompileOptions {
        hour_zone,
        placeholders: tuning.placeholders.clone(),
    };
    let rules = RuleSet::build(loaded, &compile);
    let compiled_in = started.elapsed();
    let enrichers = {
        let mut log: Box<dyn Write> = if quiet {
            Box::new(std::io::sink())
        } else {
            Box::new(std::io::stderr())
        };
        intel.enrichers(db, &mut log)?
    };
    let mut engine = Engine::new(rules, enrichers, tuning, scope);
    // Indicators alone are something to hunt with: ioc-match runs on them.
    if must_detect
        && engine.rules().rules().is_empty()
        && engine.correlations() == 0
        && engine.enrichers_mut().intel.is_none()
    {
        for s in &engine.rules().skipped {
            eprintln!("skipped: {s}");
        }
        bail!("no rule could be loaded from {:?}", args.rules);
    }
    Ok(Ok(Built {
        engine,
        compiled_in,
    }))
}
