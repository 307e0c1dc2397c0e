//! The `rampart` binary: command-line parsing and dispatch only; the work
//! lives in the library crates.

mod commands;
mod progress;
mod summary;
mod writer;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: events are built from many small allocations, and the parse
/// benchmark runs 1.5-2x faster with it than with the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// rampart: a fast, single-binary security log pipeline and SIEM.
#[derive(Debug, Parser)]
#[command(name = "rampart", version, about, max_term_width = 100)]
struct Cli {
    /// The rampart database: events, alerts, IOCs, feeds, VirusTotal
    /// answers [default: $XDG_DATA_HOME/rampart/rampart.db, that is
    /// ~/.local/share/rampart/rampart.db]
    #[arg(long, value_name = "PATH", env = "RAMPART_DB", global = true)]
    db: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print normalised events (ECS) from logs of any supported format.
    Parse(commands::parse::ParseArgs),
    /// Run Sigma rules over logs and print the alerts.
    Hunt(commands::hunt::HuntArgs),
    /// Store events and alerts from logs in the database; a second run over
    /// the same files adds only what is new.
    Ingest(commands::ingest::IngestArgs),
    /// List, show and triage the stored alerts.
    Alerts(commands::alerts::AlertsArgs),
    /// A terminal dashboard over the stored alerts and events, refreshed as
    /// they are stored; alerts open with their events and are triaged there.
    Dashboard(commands::dashboard::DashboardArgs),
    /// The web console: the SOC overview, alert triage, event search, in
    /// the browser.
    Serve(commands::serve::ServeArgs),
    /// Search the stored events by field and text, or count them by field.
    Events(commands::events::EventsArgs),
    /// Write stored alerts (or events) to a CSV, JSON or JSON-lines file.
    Export(commands::export::ExportArgs),
    /// Remove what was stored long ago, and give the space back.
    Prune(commands::prune::PruneArgs),
    /// What the database holds: events per dataset and day, alerts, size.
    Stats,
    /// List and remove the suppressions made from triage.
    Suppress(commands::suppress::SuppressArgs),
    /// Run a pipeline: listen, parse, enrich, detect and forward, until
    /// stopped.
    ///
    /// Sources: files and folders, stdin, syslog (UDP, TCP, TLS), Splunk
    /// HEC, SQL tables (SQLite, PostgreSQL, MySQL/MariaDB; SQL Server is
    /// experimental), NATS JetStream, Kafka. The pipeline file's format is
    /// in the README.
    Run(commands::run::RunArgs),
    /// The workers of a cluster: who holds which partition, how far
    /// behind they are.
    Cluster(commands::cluster::ClusterArgs),
    /// Pseudonymise logs so they can be shared: addresses, users, hosts,
    /// domains and SIDs replaced the same way under one key, each file
    /// written back in its own format.
    Sanitize(commands::sanitize::SanitizeArgs),
    /// An investigation report of logs: the unified event stream, data
    /// quality measured from the data, process trees, ATT&CK from the rules
    /// that fired, accounts and charts, as HTML, Markdown, JSON and CSV.
    Report(commands::report::ReportArgs),
    /// A process tree in the terminal: parent to child, with what each
    /// process did.
    Tree(commands::tree::TreeArgs),
    /// Write realistic logs with planted attacks (and a manifest of them).
    Generate(commands::generate::GenerateArgs),
    /// Stream logs to a listener or a file in their order, at a rate.
    Replay(commands::replay::ReplayArgs),
    /// List, show, validate and test detection rules.
    Rules(commands::rules::RulesArgs),
    /// The IOC database: add, remove, list, import, export, expire.
    Ioc(commands::ioc::IocArgs),
    /// Intelligence services: VirusTotal lookups under the rate limit.
    Intel(commands::intel::IntelCmdArgs),
    /// List the input formats rampart reads.
    Formats,
}

/// Where the database lives when neither `--db` nor `RAMPART_DB` says: the
/// user's data folder, so that running from another folder finds the same
/// one.
fn default_db() -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    match data {
        Some(data) => data.join("rampart").join("rampart.db"),
        None => PathBuf::from("rampart.db"),
    }
}

/// Whether `e` comes from writing to a pipe whose reader has gone.
fn is_closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn main() -> ExitCode {
    rampart_pipeline::tls::use_one_provider();
    // Secrets (VT_API_KEY, a HEC token) from a `.env` file in the current
    // folder, when there is one; the environment's own values win.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let db = cli.db.unwrap_or_else(|| {
        let db = default_db();
        // Earlier releases kept the database in the current folder.
        let old = std::path::Path::new("rampart.db");
        if old.is_file() && !db.exists() {
            eprintln!(
                "note: ./rampart.db is no longer read by default; move it to {} or pass --db rampart.db",
                db.display()
            );
        }
        db
    });
    let db = db.as_path();
    let result = match cli.command {
        Command::Parse(args) => commands::parse::run(&args, db),
        Command::Hunt(args) => commands::hunt::run(&args, db),
        Command::Ingest(args) => commands::ingest::run(&args, db),
        Command::Alerts(args) => commands::alerts::run(&args, db),
        Command::Dashboard(args) => commands::dashboard::run(&args, db),
        Command::Serve(args) => commands::serve::run(&args, db),
        Command::Events(args) => commands::events::run(&args, db),
        Command::Export(args) => commands::export::run(&args, db),
        Command::Prune(args) => commands::prune::run(&args, db),
        Command::Stats => commands::stats::run(db),
        Command::Suppress(args) => commands::suppress::run(&args, db),
        Command::Run(args) => commands::run::run(&args, db),
        Command::Cluster(args) => commands::cluster::run(&args),
        Command::Sanitize(args) => commands::sanitize::run(&args),
        Command::Report(args) => commands::report::run(&args, db),
        Command::Tree(args) => commands::tree::run(&args),
        Command::Generate(args) => commands::generate::run(&args),
        Command::Replay(args) => commands::replay::run(&args),
        Command::Rules(args) => commands::rules::run(&args),
        Command::Ioc(args) => commands::ioc::run(&args, db),
        Command::Intel(args) => commands::intel::run(&args, db),
        Command::Formats => commands::formats::run(),
    };
    match result {
        Ok(code) => code,
        // A reader that stopped early (`| head`) has what it wanted.
        Err(e) if is_closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
