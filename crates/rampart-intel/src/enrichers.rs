//! Everything an event is enriched with on the worker threads, in one
//! place: indicators, GeoIP and ASN, and the VirusTotal answers a run has.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use rampart_event::{Event, Value};

use crate::matcher::{enrichments, Hit};
use crate::vt::{is_internal, LiveAnswers, Report};
use crate::{GeoIp, IntelTable, LookupTable};

/// What events are enriched with.
#[derive(Debug, Default)]
pub struct Enrichers {
    /// Indicators, when any are loaded.
    pub intel: Option<IntelTable>,
    /// GeoIP and ASN databases, when given.
    pub geo: Option<GeoIp>,
    /// VirusTotal answers on addresses, when asked for.
    pub vt: Option<HashMap<IpAddr, Report>>,
    /// VirusTotal answers looked up while events flow (a pipeline's).
    pub live_vt: Option<Arc<LiveAnswers>>,
    /// Tables joined onto events by one of their fields (a pipeline's).
    pub lookups: Vec<LookupTable>,
}

/// The address fields VirusTotal answers are attached by.
pub const VT_FIELDS: [&str; 2] = ["source.ip", "destination.ip"];

impl Enrichers {
    /// Readies the enrichment of a batch: with live VirusTotal lookups,
    /// asks for the batch's addresses that have no answer yet and waits
    /// as long as one can come.
    pub fn prepare(&self, events: &[Event]) {
        if let Some(live) = &self.live_vt {
            live.ask_and_wait(
                events
                    .iter()
                    .flat_map(|e| VT_FIELDS.iter().filter_map(|f| e.get_ip(f))),
            );
        }
    }

    /// Enriches one event; returns its indicator matches.
    pub fn enrich<'t>(&'t self, event: &mut Event) -> Vec<Hit<'t>> {
        for table in &self.lookups {
            table.enrich(event);
        }
        if let Some(geo) = &self.geo {
            geo.enrich(event);
        }
        let hits = match &self.intel {
            Some(table) => table.matches(event),
            None => Vec::new(),
        };
        let mut entries = enrichments(&hits);
        if let Some(vt) = &self.vt {
            for field in VT_FIELDS {
                if let Some(report) = event.get_ip(field).and_then(|ip| vt.get(&ip)) {
                    entries.push(report.enrichment(field));
                }
            }
        }
        if let Some(live) = &self.live_vt {
            let mut unanswered = false;
            for field in VT_FIELDS {
                let Some(ip) = event.get_ip(field).filter(|ip| !is_internal(*ip)) else {
                    continue;
                };
                match live.get(ip) {
                    Some(report) => entries.push(report.enrichment(field)),
                    None => unanswered = true,
                }
            }
            if unanswered {
                // Enriched by a later pass (`hunt --stored`) once answered.
                event.insert("rampart.pending", Value::Static("virustotal"));
            }
        }
        if !entries.is_empty() {
            event.insert(
                "threat.enrichments",
                Value::Json(Box::new(serde_json::Value::Array(entries))),
            );
        }
        hits
    }
}
