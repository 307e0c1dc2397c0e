//! What a pipeline joins onto events before the rules run: its lookup
//! tables (CSV files and MaxMind databases), read when the engine is
//! built (again on SIGHUP), and the services it asks while events flow
//! (VirusTotal, HTTP lookups), started once for the whole run.

use std::path::Path;
use std::sync::Arc;

use rampart_engine::Engine;
use rampart_intel::{Join, LiveLookup, LookupTable, MmdbTable};
use rampart_pipeline::asker::{Asker, HttpService, VtService};
use rampart_pipeline::config::LookupFrom;
use rampart_pipeline::metrics::{Asked, Metrics};
use rampart_pipeline::Pipeline;

/// The pipeline's tables, read; or why one cannot be.
pub fn tables(pipeline: &Pipeline) -> Result<Vec<Box<dyn Join>>, String> {
    let mut tables: Vec<Box<dyn Join>> = Vec::new();
    for l in &pipeline.lookups {
        match &l.from {
            LookupFrom::Csv { path, column } => tables.push(Box::new(LookupTable::read(
                path,
                (&l.key, column.as_deref()),
                &l.into,
            )?)),
            LookupFrom::Mmdb { path, fields } => tables.push(Box::new(MmdbTable::open(
                path,
                &l.key,
                &l.into,
                fields.clone(),
            )?)),
            LookupFrom::Http(_) => {}
        }
    }
    Ok(tables)
}

/// The services asked while events flow, and their answers.
pub struct Askers {
    vt: Option<Asker<VtService>>,
    http: Vec<Asker<HttpService>>,
    live: Vec<LiveLookup>,
}

impl Askers {
    /// Starts asking the pipeline's services, their answers kept in the
    /// database at `cache`; `metrics` counts them.
    pub fn start(pipeline: &Pipeline, cache: &Path, metrics: &Metrics) -> Result<Askers, String> {
        let vt = match &pipeline.virustotal {
            Some(config) => {
                let asker = Asker::start(VtService::new(config)?, &config.asking, cache)?;
                let _ = metrics.virustotal.set(Arc::clone(&asker.answers));
                Some(asker)
            }
            None => None,
        };
        let mut http = Vec::new();
        let mut live = Vec::new();
        for l in &pipeline.lookups {
            let LookupFrom::Http(config) = &l.from else {
                continue;
            };
            let asker = Asker::start(HttpService::new(config)?, &config.asking, cache)?;
            live.push(LiveLookup {
                name: config.name.clone(),
                key: l.key.clone(),
                into: l.into.clone(),
                answers: Arc::clone(&asker.answers),
            });
            http.push(asker);
        }
        let counted = live
            .iter()
            .map(|l| (l.name.clone(), Arc::clone(&l.answers) as Arc<dyn Asked>))
            .collect();
        let _ = metrics.lookups.set(counted);
        Ok(Askers { vt, http, live })
    }

    /// Gives `engine` the answers (a rebuilt engine too).
    pub fn attach(&self, engine: &mut Engine) {
        let enrichers = engine.enrichers_mut();
        enrichers.live_vt = self.vt.as_ref().map(|a| Arc::clone(&a.answers));
        enrichers.live_lookups = self.live.clone();
    }

    /// Stops asking (lookups under way end first).
    pub fn stop(self) {
        if let Some(vt) = self.vt {
            vt.stop();
        }
        for asker in self.http {
            asker.stop();
        }
    }
}
