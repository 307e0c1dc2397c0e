//! `rampart run --config pipeline.yml`: a long-running pipeline. The file
//! is read and checked whole first (`--check` stops there and prints the
//! topology); then the sources are bound, the engine built with the
//! file's rules, intelligence and tuning, and the pipeline runs until
//! SIGTERM or SIGINT (or until every source has ended), when it drains
//! what was read, closes open correlation windows and flushes the sinks.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use rampart_engine::{Engine, Scope};
use rampart_pipeline::config::{LookupFrom, SinkKind, SourceKind, Updates};
use rampart_pipeline::delivery::Buffer;
use rampart_pipeline::file_sink::Lines;
use rampart_pipeline::metrics::{self, Metrics};
use rampart_pipeline::{outputs, Pipeline, Route, Router, RunOptions, Signals};
use rampart_store::Store;

use super::detect_args::{build_engine, DetectArgs, Purpose};
use super::intel_args::IntelArgs;
use super::run_lookups::{self, Askers};

/// Arguments of `rampart run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The pipeline file (YAML): sources, sinks, rules, intelligence.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Check the file and print the pipeline it describes, then stop.
    #[arg(long)]
    check: bool,
    /// Read what is new in every source once and end (for cron and
    /// timers): files and SQL tables are not followed; listeners, which
    /// never end, are refused.
    #[arg(long)]
    once: bool,
    #[command(flatten)]
    intel: IntelArgs,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Say nothing but problems.
    #[arg(long, short)]
    quiet: bool,
}

/// Runs the command: 2 for a pipeline file that does not read, 1 when it
/// cannot start.
pub fn run(args: &RunArgs, db: &Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("cannot read {}", args.config.display()))?;
    let base = args.config.parent().unwrap_or(Path::new("."));
    // Secrets may sit in a `.env` beside the pipeline file too.
    let _ = dotenvy::from_path(base.join(".env"));
    let mut pipeline = match rampart_pipeline::read(&text, base) {
        Ok(p) => p,
        Err(errors) => {
            for e in errors {
                eprintln!(
                    "error: {}:{}:{}: {}",
                    args.config.display(),
                    e.at.line,
                    e.at.col,
                    e.what
                );
            }
            return Ok(ExitCode::from(2));
        }
    };
    if args.once {
        for source in &mut pipeline.sources {
            match &mut source.kind {
                SourceKind::File { follow, .. } | SourceKind::Sql { follow, .. } => *follow = false,
                SourceKind::Stdin { .. } => {}
                _ => {
                    eprintln!(
                        "error: --once: source `{}` listens and never ends (run it without --once)",
                        source.name
                    );
                    return Ok(ExitCode::from(2));
                }
            }
        }
    }
    let mut engine = match engine_for(&pipeline, args, db)? {
        Ok(engine) => engine,
        Err(code) => return Ok(code),
    };
    if args.check {
        print_topology(
            &pipeline,
            engine.rules().rules().len(),
            engine.correlations(),
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    // Watched before anything is bound: a stop that comes as soon as the
    // sources listen is a stop, not a kill.
    let signals = Signals {
        stop: Arc::new(AtomicBool::new(false)),
        reload: Arc::new(AtomicBool::new(false)),
    };
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&signals.stop))
            .context("cannot watch for SIGTERM and SIGINT")?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&signals.reload))
        .context("cannot watch for SIGHUP")?;
    // The store, when a sink is one: locked for writing as `ingest` locks
    // it, each source known by its name and address, the engine going on
    // from the windows it left open.
    let store = pipeline.sinks.iter().find_map(|s| match &s.kind {
        SinkKind::Store {
            path,
            commit_events,
        } => Some((
            path.clone().unwrap_or_else(|| db.to_path_buf()),
            commit_events.unwrap_or(rampart_engine::COMMIT_EVENTS),
        )),
        _ => None,
    });
    let store_db = store.as_ref().map(|(path, _)| path.clone());
    let store_sink = match &store {
        Some((path, every)) => Some(open_store(
            &pipeline,
            path,
            &mut engine,
            (*every, args.quiet),
        )?),
        None => None,
    };
    let bound = rampart_pipeline::bind(&pipeline).map_err(anyhow::Error::msg)?;
    for (spec, b) in pipeline.sources.iter().zip(&bound) {
        if let Some(address) = b.local() {
            let line =
                serde_json::json!({"rampart": "run", "source": spec.name, "listening": address});
            eprintln!("{line}");
        }
    }
    let source_names: Vec<String> = pipeline.sources.iter().map(|s| s.name.clone()).collect();
    let sink_names: Vec<String> = pipeline.sinks.iter().map(|s| s.name.clone()).collect();
    let metrics = Arc::new(Metrics::new(&source_names, &sink_names));
    // VirusTotal and HTTP lookups, asked while events flow, their answers
    // kept in the store's cache (the store sink's database, else `--db`).
    let askers = Askers::start(&pipeline, store_db.as_deref().unwrap_or(db), &metrics)
        .map_err(anyhow::Error::msg)?;
    askers.attach(&mut engine);
    if let Some(at) = pipeline.metrics {
        let local = metrics::serve(Arc::clone(&metrics), at)
            .with_context(|| format!("cannot serve the metrics on {at}"))?;
        let line =
            serde_json::json!({"rampart": "run", "metrics": format!("http://{local}/metrics")});
        eprintln!("{line}");
    }
    let mut routes = Vec::new();
    for sink in &pipeline.sinks {
        let counts = metrics.sink(&sink.name);
        let out = outputs::open(&sink.name, &sink.kind, Arc::clone(&counts))
            .with_context(|| format!("sink `{}` cannot open", sink.name))?;
        if let Some(out) = out {
            let name = sink.name.clone();
            let route = Route::new(name, (sink.take, sink.min_severity), out, counts);
            routes.push(
                route
                    .with_shape(sink.shape.clone())
                    .with_updates(sink.updates),
            );
        }
    }
    let mut log = |line: String| eprintln!("{line}");
    let mut router = Router::new(routes, Arc::clone(&metrics), &mut log);
    if let Some(path) = &pipeline.dead_letters {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        router = router.with_dead_letters(file);
    }
    let _lock = match store_sink {
        Some((sink, lock)) => {
            router = router.with_store(sink);
            Some(lock)
        }
        None => None,
    };
    if !args.quiet {
        eprintln!(
            "running {} source(s) into {} sink(s); SIGTERM or Ctrl-C stops",
            pipeline.sources.len(),
            pipeline.sinks.len()
        );
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    if let Some(cluster) = &pipeline.cluster {
        return work_in(
            cluster,
            &mut engine,
            &mut router,
            (&signals, threads, args.once),
        );
    }
    // SIGHUP: the file's rules, intelligence and tuning read again.
    let mut rebuild = || {
        let text = std::fs::read_to_string(&args.config)
            .map_err(|e| format!("cannot read {}: {e}", args.config.display()))?;
        let again = rampart_pipeline::read(&text, base).map_err(|errors| {
            let first = &errors[0];
            format!(
                "{}:{}:{}: {}",
                args.config.display(),
                first.at.line,
                first.at.col,
                first.what
            )
        })?;
        match engine_for(&again, args, db) {
            Ok(Ok(mut engine)) => {
                askers.attach(&mut engine);
                Ok(engine)
            }
            Ok(Err(_)) => Err("the rules or the tuning do not load (said above)".to_string()),
            Err(e) => Err(format!("{e:#}")),
        }
    };
    let report = rampart_pipeline::run(
        &pipeline,
        bound,
        &mut engine,
        &mut router,
        &signals,
        RunOptions {
            threads,
            rebuild: &mut rebuild,
            metrics,
            store: store_db,
        },
    )
    .map_err(anyhow::Error::msg)?;
    askers.stop();
    let mut kept = true;
    let stored = match router.take_store() {
        Some(sink) => {
            let ((_, committed, error), _) = sink.finish();
            if let Some(e) = error {
                eprintln!("error: the store refused what was read: {e}");
                kept = false;
            }
            Some(committed)
        }
        None => None,
    };
    // NATS sources acknowledge what was kept (left for the consumer's
    // next reader otherwise).
    router.settle(kept);
    // Its health as one structured line.
    let mut sinks: Vec<serde_json::Value> = report
        .sinks
        .iter()
        .map(|r| {
            let mut line =
                serde_json::json!({"sink": r.name, "written": r.written, "failed": r.failed});
            if let Some(d) = &r.delivered {
                line["delivered"] = d.sent.into();
                line["attempts_failed"] = d.failures.into();
                line[if d.kept { "waiting_on_disk" } else { "lost" }] = d.left.into();
            }
            line
        })
        .collect();
    if let Some(c) = &stored {
        sinks.push(serde_json::json!({
            "sink": "store", "events": c.events, "unreadable": c.dead, "alerts": c.alerts
        }));
    }
    let line = serde_json::json!({
        "rampart": "run",
        "state": "stopped",
        "events": report.events,
        "unreadable": report.dead,
        "alerts": report.alerts,
        "sinks": sinks,
    });
    eprintln!("{line}");
    // Records refused, or lost from memory at the end, fail the run; so
    // does a source that could not be read in a run that reads once (from
    // cron, where only the exit status is looked at).
    let failed = report
        .sinks
        .iter()
        .any(|r| r.failed > 0 || r.delivered.as_ref().is_some_and(|d| !d.kept && d.left > 0))
        || (args.once && report.troubles > 0);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs as a worker of `cluster` until stopped (or, with `--once`, until
/// the input published so far is taken whole); says what it did as one
/// JSON line.
fn work_in(
    cluster: &rampart_pipeline::config::Cluster,
    engine: &mut Engine,
    router: &mut Router<'_>,
    (signals, threads, once): (&Signals, usize, bool),
) -> anyhow::Result<ExitCode> {
    let options = rampart_pipeline::cluster::WorkOptions { threads, once };
    let report = rampart_pipeline::cluster::work(cluster, engine, router, &signals.stop, options)
        .map_err(anyhow::Error::msg)?;
    router.flush();
    for route in router.routes.iter_mut() {
        route.out.close();
    }
    let line = serde_json::json!({
        "rampart": "run",
        "state": "stopped",
        "worker": cluster.worker,
        "events": report.events,
        "unreadable": report.unreadable,
        "alerts": report.alerts,
        "partitions_taken": report.taken_over,
    });
    eprintln!("{line}");
    Ok(ExitCode::SUCCESS)
}

/// The engine of `pipeline`: its rules (beside the built-in pack unless
/// it says not), intelligence and tuning; a rule set or tuning that does
/// not load is bad usage (said, and its exit code given).
fn engine_for(
    pipeline: &Pipeline,
    args: &RunArgs,
    db: &Path,
) -> anyhow::Result<Result<Engine, ExitCode>> {
    let detect = DetectArgs {
        rules: pipeline.rules.clone(),
        no_builtin: !pipeline.builtin,
        config: pipeline.tuning.clone(),
    };
    let intel = IntelArgs::with_feeds(
        args.intel.clone(),
        &pipeline.intel,
        (pipeline.geoip.as_ref(), pipeline.asn.as_ref()),
    );
    let purpose = Purpose {
        scope: Scope::default(),
        must_detect: false,
        quiet: args.quiet,
    };
    let tables = match run_lookups::tables(pipeline) {
        Ok(tables) => tables,
        Err(e) => {
            eprintln!("error: lookup: {e}");
            return Ok(Err(ExitCode::from(2)));
        }
    };
    Ok(build_engine(&detect, &intel, purpose, db)?.map(|built| {
        let mut engine = built.engine;
        engine.enrichers_mut().lookups = tables;
        engine
    }))
}

/// The store sink: the database opened and locked for writing, each
/// source known by its name and address (its events numbered on from
/// those stored before), and the engine given the windows left open.
fn open_store(
    pipeline: &Pipeline,
    path: &Path,
    engine: &mut Engine,
    (commit_events, quiet): (usize, bool),
) -> anyhow::Result<(rampart_engine::StoreSink, std::fs::File)> {
    let lock = super::ingest::writer_lock(path, quiet)?;
    let mut store = Store::open(path).context("cannot open the database")?;
    let saved = store
        .saved_state()
        .context("cannot read the correlation state stored in the database")?;
    engine.restore(&saved).map_err(|e| {
        anyhow::anyhow!(
            "cannot go on from the correlation state stored in {}: {e}",
            path.display()
        )
    })?;
    let mut inputs = Vec::new();
    let mut sources = Vec::new();
    for (spec, input) in pipeline
        .sources
        .iter()
        .zip(rampart_pipeline::inputs(pipeline))
    {
        // File and SQL sources place themselves with the store.
        if matches!(spec.kind, SourceKind::File { .. } | SourceKind::Sql { .. }) {
            continue;
        }
        let label = input.path.display().to_string();
        let key = format!("rampart run source {} {label}", spec.name);
        sources.push(store.source(key.as_bytes(), &label)?);
        inputs.push(input);
    }
    let sink = rampart_engine::StoreSink::start(Box::new(store), &inputs, &sources)
        .context("cannot start the thread that writes to the database")?
        .commit_every(commit_events);
    Ok((sink, lock))
}

fn print_topology(p: &Pipeline, rules: usize, correlations: usize) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if let Some(c) = &p.cluster {
        writeln!(
            out,
            "cluster {}: worker {} on {}, events from {} ({} replicas, lease {} s, ack wait {} s)",
            c.name,
            c.worker,
            c.servers,
            c.events,
            c.replicas,
            c.lease.as_secs(),
            c.ack_wait.as_secs()
        )?;
    }
    writeln!(out, "sources:")?;
    for s in &p.sources {
        let what = match &s.kind {
            SourceKind::Syslog {
                listen, max_frame, ..
            } => {
                format!("syslog on {listen} (frames up to {max_frame} bytes)")
            }
            SourceKind::Stdin { format } => format!(
                "stdin ({})",
                format.map_or("format found from the first lines", |f| f.name)
            ),
            SourceKind::Hec {
                listen, token_env, ..
            } => format!("Splunk HEC on http://{listen} (token in {token_env})"),
            SourceKind::Nats(sub) => format!(
                "NATS stream {} ({}) on {}, durable consumer {}",
                sub.stream, sub.subject, sub.servers, sub.consumer
            ),
            SourceKind::Kafka(sub) => format!(
                "Kafka topics {} on {}, consumer group {}",
                sub.topics.join(", "),
                sub.brokers,
                sub.group
            ),
            SourceKind::Sql {
                database,
                table,
                order_by,
                look_back,
                every,
                follow,
                ..
            } => format!(
                "table {table} of {database} by {order_by} (looking back {look_back} rows; {})",
                if *follow {
                    format!("polled every {} s", every.as_secs())
                } else {
                    "read once".to_string()
                }
            ),
            SourceKind::File { paths, follow } => {
                let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                let how = if *follow { "followed" } else { "read once" };
                format!("files {} ({how})", paths.join(", "))
            }
        };
        writeln!(out, "  {}: {what}", s.name)?;
    }
    writeln!(
        out,
        "engine: {rules} detection rules, {correlations} correlations"
    )?;
    for l in &p.lookups {
        let from = match &l.from {
            LookupFrom::Csv { path, .. } | LookupFrom::Mmdb { path, .. } => {
                path.display().to_string()
            }
            LookupFrom::Http(h) => format!(
                "{} ({}: {} a minute, {} a day)",
                h.url, h.name, h.asking.per_minute, h.asking.per_day
            ),
        };
        writeln!(out, "  lookup: {from} by {}, into {}.*", l.key, l.into)?;
    }
    writeln!(out, "sinks:")?;
    for s in &p.sinks {
        let what = match &s.kind {
            SinkKind::Stdout => "JSON lines to stdout".to_string(),
            SinkKind::File {
                path,
                array,
                lines,
                rotation,
                ..
            } => {
                let what = match (array, lines) {
                    (true, _) => "a JSON array",
                    (false, Lines::Json) => "JSON lines",
                    (false, _) => "CSV",
                };
                let mut aside = Vec::new();
                if let Some(bytes) = rotation.bytes {
                    aside.push(format!("at {bytes} bytes"));
                }
                if let Some(every) = rotation.every {
                    aside.push(format!("every {} s", every.as_secs()));
                }
                let aside = if aside.is_empty() {
                    String::new()
                } else {
                    let keep = rotation
                        .keep
                        .map_or(String::new(), |k| format!(", {k} kept"));
                    format!(" (set aside {}{keep})", aside.join(" or "))
                };
                format!("{what} to {}{aside}", path.display())
            }
            SinkKind::Hec {
                url, index, acks, ..
            } => format!(
                "Splunk HEC at {url}{}{}",
                index
                    .as_ref()
                    .map_or(String::new(), |i| format!(" (index {i})")),
                acks.as_ref().map_or(String::new(), |(timeout, _)| format!(
                    ", each batch acknowledged within {} s",
                    timeout.as_secs()
                ))
            ),
            SinkKind::SqlTables { url, table, .. } => format!("the table {table} of {url}"),
            SinkKind::ClickHouse { url, .. } => {
                format!(
                    "ClickHouse {}",
                    super::backend::name(std::path::Path::new(url))
                )
            }
            SinkKind::Nats {
                servers,
                stream,
                subject,
                ..
            } => format!("NATS stream {stream} ({subject}) on {servers}"),
            SinkKind::Kafka { brokers, topic, .. } => format!("Kafka topic {topic} on {brokers}"),
            SinkKind::Webhook { url, format, .. } => match url {
                rampart_pipeline::config::Secret::Plain(u) => format!("webhook {u} ({format:?})"),
                rampart_pipeline::config::Secret::Env(v) => {
                    format!("webhook at the URL in {v} ({format:?})")
                }
            },
            SinkKind::Store { path, .. } => match path {
                Some(p) => format!("the database {}", p.display()),
                None => "the database (--db)".to_string(),
            },
            SinkKind::Syslog {
                to,
                framing,
                buffer,
                ..
            } => {
                let waits = match buffer {
                    Buffer::Memory { max_records } => {
                        format!("up to {max_records} records wait in memory")
                    }
                    Buffer::Disk { dir, max_bytes } => {
                        format!("up to {max_bytes} bytes wait on disk in {}", dir.display())
                    }
                    Buffer::Spill {
                        max_records,
                        dir,
                        max_bytes,
                    } => format!(
                        "up to {max_records} records wait in memory, then up to {max_bytes} bytes on disk in {}",
                        dir.display()
                    ),
                };
                format!("syslog to {to} ({framing:?}; {waits})")
            }
        };
        let take = match (s.take.alerts(), s.take.events()) {
            (true, true) => "alerts and events",
            (true, false) => "alerts",
            _ => "events",
        };
        writeln!(
            out,
            "  {}: {what}; takes {take}, alerts from {}",
            s.name, s.min_severity
        )?;
        let shape = &s.shape;
        let mut how = Vec::new();
        if let Some(f) = &shape.filter {
            how.push(format!("events where {}", f.text()));
        }
        if let Some(sample) = &shape.sample {
            let by = sample
                .by
                .as_ref()
                .map_or(String::new(), |f| format!(" by {f}"));
            how.push(format!("one event in {}{by}", sample.one_in));
        }
        if !shape.transforms.is_empty() {
            how.push(format!("{} transforms", shape.transforms.len()));
        }
        if let Some(t) = &shape.template {
            how.push(format!("events as a record of {} fields", t.len()));
        }
        if s.updates != Updates::OpenAndFinal {
            how.push(format!("correlation alerts: {:?}", s.updates));
        }
        if !how.is_empty() {
            writeln!(out, "    {}", how.join("; "))?;
        }
    }
    if let Some(vt) = &p.virustotal {
        writeln!(
            out,
            "virustotal: {} a minute, {} a day, key in {}, batches wait up to {} ms",
            vt.asking.per_minute,
            vt.asking.per_day,
            vt.key_env,
            vt.asking.wait.as_millis()
        )?;
    }
    Ok(())
}
