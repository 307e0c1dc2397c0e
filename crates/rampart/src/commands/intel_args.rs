//! The intelligence options of commands that read logs (`parse`, `hunt`):
//! feeds loaded for this run (`--intel`), and the IOC database, whose
//! active indicators every run checks when the database file exists.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use rampart_intel::{detect, parse, read_file, Enrichers, FeedOptions, GeoIp, IntelTable};
use rampart_store::Store;

/// Where indicators come from.
#[derive(Debug, Clone, Args)]
pub struct IntelArgs {
    /// An indicator feed for this run (plain list, IPsum, CSV, MISP, STIX;
    /// recognised by content). Repeatable.
    #[arg(long, value_name = "FILE")]
    intel: Vec<PathBuf>,
    /// Leave out IPsum entries on fewer than N blocklists.
    #[arg(long, value_name = "N", default_value_t = 1)]
    ipsum_min_lists: u32,
    /// Let a domain indicator match its subdomains too.
    #[arg(long)]
    intel_subdomains: bool,
    /// Do not read the database (`--db`: its indicators and suppressions),
    /// which is read whenever it exists.
    #[arg(long)]
    no_db: bool,
    /// A MaxMind City or Country database (`.mmdb`): adds `source.geo.*`
    /// and `destination.geo.*`.
    #[arg(long, value_name = "FILE", env = "RAMPART_GEOIP")]
    geoip: Option<PathBuf>,
    /// A MaxMind ASN database (`.mmdb`): adds `source.as.*` and `destination.as.*`.
    #[arg(long, value_name = "FILE", env = "RAMPART_ASN")]
    asn: Option<PathBuf>,
}

impl IntelArgs {
    /// These options with more feeds, and MaxMind databases where the
    /// command line names none (a pipeline file's).
    pub fn with_feeds(
        mut self,
        feeds: &[std::path::PathBuf],
        (geoip, asn): (Option<&PathBuf>, Option<&PathBuf>),
    ) -> IntelArgs {
        self.intel.extend_from_slice(feeds);
        self.geoip = self.geoip.or_else(|| geoip.cloned());
        self.asn = self.asn.or_else(|| asn.cloned());
        self
    }

    /// Whether the database is read (it exists and `--no-db` is not given).
    pub fn reads_db(&self, db: &std::path::Path) -> bool {
        !self.no_db && db.exists()
    }

    /// Whether the suppressions made from triage are read: from the
    /// embedded store when it exists, or from a ClickHouse server.
    pub fn reads_suppressions(&self, db: &std::path::Path) -> bool {
        self.reads_db(db) || (!self.no_db && super::backend::is_server(db))
    }

    /// The indicators and databases to enrich events with; what was loaded
    /// (and what was not, and why) is reported on `log`.
    pub fn enrichers(
        &self,
        db: &std::path::Path,
        log: &mut dyn Write,
    ) -> anyhow::Result<Enrichers> {
        let geo =
            GeoIp::open(self.geoip.as_deref(), self.asn.as_deref()).map_err(anyhow::Error::msg)?;
        Ok(Enrichers {
            intel: self.load(db, log)?,
            geo: (!geo.is_empty()).then_some(geo),
            ..Enrichers::default()
        })
    }

    /// The indicators of the feeds and the database, or `None` when there
    /// are none.
    fn load(
        &self,
        db: &std::path::Path,
        log: &mut dyn Write,
    ) -> anyhow::Result<Option<IntelTable>> {
        let mut table = IntelTable::new(self.intel_subdomains);
        let options = FeedOptions {
            ipsum_min_lists: self.ipsum_min_lists,
            ..FeedOptions::default()
        };
        for path in &self.intel {
            let feed = read_file(path, &options).map_err(anyhow::Error::msg)?;
            writeln!(
                log,
                "intel: {}: {} ({} indicators, {} invalid, {} ignored)",
                path.display(),
                feed.format.map_or("unknown", |f| f.as_str()),
                feed.indicators.len(),
                feed.invalid.len(),
                feed.ignored_total()
            )?;
            for (why, n) in &feed.ignored {
                writeln!(log, "  {n} ignored: {why}")?;
            }
            for bad in feed.invalid.iter().take(5) {
                writeln!(log, "  {}:{}: {}", path.display(), bad.line, bad.reason)?;
            }
            if feed.invalid.len() > 5 {
                writeln!(
                    log,
                    "  ... and {} more invalid entries",
                    feed.invalid.len() - 5
                )?;
            }
            for i in feed.indicators {
                table.add(i).map_err(anyhow::Error::msg)?;
            }
        }
        if self.reads_db(db) {
            let store = Store::open(db)?;
            let active = store
                .active(jiff::Timestamp::now())
                .with_context(|| format!("cannot read the IOCs of {}", db.display()))?;
            writeln!(log, "intel: {}: {} active IOCs", db.display(), active.len())?;
            for i in active {
                table.add(i).map_err(anyhow::Error::msg)?;
            }
            for stored in store.feeds()? {
                let Some(body) = &stored.body else {
                    writeln!(
                        log,
                        "intel: feed {} has no copy yet (`rampart intel update`)",
                        stored.name
                    )?;
                    continue;
                };
                let options = FeedOptions {
                    source: stored.name.clone(),
                    ..options.clone()
                };
                let feed = parse(body, detect(body), &options).map_err(anyhow::Error::msg)?;
                writeln!(
                    log,
                    "intel: feed {}: {} indicators (copy from {})",
                    stored.name,
                    feed.indicators.len(),
                    stored.fetched.as_deref().unwrap_or("?")
                )?;
                for i in feed.indicators {
                    table.add(i).map_err(anyhow::Error::msg)?;
                }
            }
        }
        Ok((!table.is_empty()).then_some(table))
    }
}
