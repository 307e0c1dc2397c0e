//! Everything an event is enriched with on the worker threads, in one
//! place: lookup tables and services, indicators, GeoIP and ASN, and the
//! VirusTotal answers a run has.

use std::collections::HashMap;
use std::fmt::Debug;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use rampart_event::{Event, Value};

use crate::answer::Answer;
use crate::live::LiveAnswers;
use crate::matcher::{enrichments, Hit};
use crate::vt::{is_internal, Report, VtAnswers};
use crate::{GeoIp, IntelTable, LookupTable, MmdbTable};

/// A table joined onto events by one of their fields.
pub trait Join: Debug + Send + Sync {
    /// Adds what the table holds on the event's key value.
    fn enrich(&self, event: &mut Event);
}

impl Join for LookupTable {
    fn enrich(&self, event: &mut Event) {
        LookupTable::enrich(self, event);
    }
}

impl Join for MmdbTable {
    fn enrich(&self, event: &mut Event) {
        MmdbTable::enrich(self, event);
    }
}

/// A service asked about one event field's values while events flow (a
/// pipeline's HTTP lookup), and its answers so far.
#[derive(Debug, Clone)]
pub struct LiveLookup {
    /// The lookup's name (in metrics).
    pub name: String,
    /// The event field whose value is asked about.
    pub key: String,
    /// Where the answer's fields go (`{into}.{field}`).
    pub into: String,
    /// The answers, filled by the thread that asks.
    pub answers: Arc<LiveAnswers<String, Answer>>,
}

/// Values longer than this are not sent (a field of a log line is
/// attacker-controlled, and an address carries it whole).
const MAX_VALUE: usize = 256;

impl LiveLookup {
    /// The value `event` asks about, if it has one that may be sent.
    fn value(&self, event: &Event) -> Option<String> {
        let value = event.get(&self.key)?.to_string();
        (!value.is_empty() && value.len() <= MAX_VALUE).then_some(value)
    }
}

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
    pub live_vt: Option<Arc<VtAnswers>>,
    /// Tables joined onto events by one of their fields (a pipeline's).
    pub lookups: Vec<Box<dyn Join>>,
    /// Services asked while events flow (a pipeline's), after the tables.
    pub live_lookups: Vec<LiveLookup>,
}

/// The address fields VirusTotal answers are attached by.
pub const VT_FIELDS: [&str; 2] = ["source.ip", "destination.ip"];

impl Enrichers {
    /// Readies the enrichment of a batch: joins the tables onto every
    /// event (so that a lookup may be keyed by a field a table adds), then,
    /// with live lookups, asks for the batch's values that have no answer
    /// yet and waits as long as one can come, at most the longest wait of
    /// any service from now (the services wait side by side, not one after
    /// another). Addresses that never leave the machine are not sent to
    /// VirusTotal.
    pub fn prepare(&self, events: &mut [Event]) {
        if !self.lookups.is_empty() {
            for event in events.iter_mut() {
                for table in &self.lookups {
                    table.enrich(event);
                }
            }
        }
        let started = Instant::now();
        if let Some(live) = &self.live_vt {
            live.ask_and_wait(
                events.iter().flat_map(|e| {
                    VT_FIELDS
                        .iter()
                        .filter_map(|f| e.get_ip(f))
                        .filter(|ip| !is_internal(*ip))
                }),
                started,
            );
        }
        for lookup in &self.live_lookups {
            lookup
                .answers
                .ask_and_wait(events.iter().filter_map(|e| lookup.value(e)), started);
        }
    }

    /// Enriches one event; returns its indicator matches.
    pub fn enrich<'t>(&'t self, event: &mut Event) -> Vec<Hit<'t>> {
        for lookup in &self.live_lookups {
            let Some(value) = lookup.value(event) else {
                continue;
            };
            match lookup.answers.get(&value) {
                Some(answer) => answer.enrich(event, &lookup.into),
                // Still waiting: said under the lookup's own prefix.
                None => event.insert(format!("{}.pending", lookup.into), Value::Bool(true)),
            }
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
                match live.get(&ip) {
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
