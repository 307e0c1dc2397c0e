//! Everything an event is enriched with on the worker threads, in one
//! place: indicators, GeoIP and ASN, and the VirusTotal answers a run has.

use std::collections::HashMap;
use std::net::IpAddr;

use rampart_event::{Event, Value};

use crate::matcher::{enrichments, Hit};
use crate::vt::Report;
use crate::{GeoIp, IntelTable};

/// What events are enriched with.
#[derive(Debug, Default)]
pub struct Enrichers {
    /// Indicators, when any are loaded.
    pub intel: Option<IntelTable>,
    /// GeoIP and ASN databases, when given.
    pub geo: Option<GeoIp>,
    /// VirusTotal answers on addresses, when asked for.
    pub vt: Option<HashMap<IpAddr, Report>>,
}

/// The address fields VirusTotal answers are attached by.
pub const VT_FIELDS: [&str; 2] = ["source.ip", "destination.ip"];

impl Enrichers {
    /// Enriches one event; returns its indicator matches.
    pub fn enrich<'t>(&'t self, event: &mut Event) -> Vec<Hit<'t>> {
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
        if !entries.is_empty() {
            event.insert(
                "threat.enrichments",
                Value::Json(Box::new(serde_json::Value::Array(entries))),
            );
        }
        hits
    }
}
