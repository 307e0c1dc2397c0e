//! Audit logs of cloud platforms, identity providers and developer
//! services, exported as JSON: AWS CloudTrail, Azure Monitor and Entra ID,
//! GCP Cloud Audit Logs, the Microsoft 365 unified audit log, Okta, OneLogin,
//! Duo, GitHub, Bitbucket, Kubernetes, OpenCanary and macOS (unified log and
//! Endpoint Security).
//!
//! Each record is recognised by the keys its service always writes, never by
//! one key alone, so a generic JSON log that happens to have an `eventName`
//! stays generic. The record's own keys are kept, flattened, under the
//! service's prefix (`aws.cloudtrail.eventName`), where the Sigma field map
//! finds them under the names the rules use; the ECS fields an analyst
//! searches by (`user.name`, `source.ip`, `event.action`, `event.outcome`)
//! are filled beside them.

mod aws;
mod azure;
mod devops;
mod gcp;
mod identity;
mod kubernetes;
mod m365;
mod macos;
mod opencanary;
mod record;

use rampart_event::Event;
use serde_json::{Map, Value as Json};

use crate::context::FileContext;

pub(crate) use m365::csv_row as m365_csv_row;
pub use m365::is_m365_csv;

/// A service whose exported records rampart reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// AWS CloudTrail.
    CloudTrail,
    /// Azure Monitor activity log and Entra ID sign-in, audit and risk logs.
    Azure,
    /// GCP Cloud Audit Logs (and Workspace events routed through them).
    Gcp,
    /// Microsoft 365 unified audit log.
    M365,
    /// Okta System Log.
    Okta,
    /// OneLogin events.
    OneLogin,
    /// Duo authentication logs.
    Duo,
    /// GitHub audit log.
    GitHub,
    /// Bitbucket Data Center audit log.
    Bitbucket,
    /// Kubernetes API server audit events.
    Kubernetes,
    /// OpenCanary honeypot alerts.
    OpenCanary,
    /// macOS unified log (`log show --style ndjson`).
    MacUnified,
    /// macOS Endpoint Security events (`eslogger`).
    MacEndpointSecurity,
}

fn has_all(o: &Map<String, Json>, keys: &[&str]) -> bool {
    keys.iter().all(|k| o.contains_key(*k))
}

/// The service that wrote `o`, if one did.
pub fn recognise(o: &Map<String, Json>) -> Option<Service> {
    let object = |k: &str| o.get(k).is_some_and(Json::is_object);
    // CloudTrail's own files have `eventTime`; shippers (Logstash, Filebeat)
    // may leave only their `@timestamp`.
    let service = if has_all(o, &["eventVersion", "eventSource", "eventName"])
        && (o.contains_key("eventTime") || o.contains_key("@timestamp"))
        && (object("userIdentity") || o.contains_key("awsRegion"))
    {
        Service::CloudTrail
    } else if has_all(o, &["time", "operationName"])
        && (o.contains_key("resourceId") || o.contains_key("category"))
    {
        Service::Azure
    } else if (object("protoPayload") || object("jsonPayload"))
        && has_all(o, &["logName", "timestamp"])
    {
        Service::Gcp
    } else if has_all(o, &["CreationTime", "Operation", "RecordType", "Workload"]) {
        Service::M365
    } else if has_all(o, &["eventType", "published", "uuid"]) && object("actor") {
        Service::Okta
    } else if has_all(o, &["event_type_id", "created_at"]) {
        Service::OneLogin
    } else if has_all(o, &["txid", "result"]) && (object("access_device") || object("user")) {
        Service::Duo
    } else if has_all(o, &["action", "actor"])
        && (o.contains_key("@timestamp") || o.contains_key("created_at"))
        && (o.contains_key("org") || o.contains_key("_document_id") || o.contains_key("business"))
    {
        Service::GitHub
    } else if object("auditType") && o.contains_key("timestamp") {
        Service::Bitbucket
    } else if o.get("kind").and_then(Json::as_str) == Some("Event")
        && o.get("apiVersion")
            .and_then(Json::as_str)
            .is_some_and(|v| v.starts_with("audit.k8s.io/"))
    {
        Service::Kubernetes
    } else if has_all(o, &["logtype", "node_id", "src_host"]) {
        Service::OpenCanary
    } else if has_all(o, &["eventMessage", "timestamp"])
        && (o.contains_key("traceID") || o.contains_key("machTimestamp"))
    {
        Service::MacUnified
    } else if has_all(o, &["event_type", "mach_time", "seq_num"]) && object("event") {
        Service::MacEndpointSecurity
    } else {
        return None;
    };
    Some(service)
}

/// The dataset and event of one record of `service`; `original` is the
/// record's text.
pub fn event(
    service: Service,
    ctx: &FileContext,
    no: u64,
    original: &str,
    o: &Map<String, Json>,
) -> (&'static str, Event) {
    let mut e = ctx.event(no, original);
    let dataset = match service {
        Service::CloudTrail => aws::cloudtrail(o, ctx, &mut e),
        Service::Azure => azure::record(o, ctx, &mut e),
        Service::Gcp => gcp::record(o, ctx, &mut e),
        Service::M365 => m365::record(o, ctx, &mut e),
        Service::Okta => identity::okta(o, ctx, &mut e),
        Service::OneLogin => identity::onelogin(o, ctx, &mut e),
        Service::Duo => identity::duo(o, ctx, &mut e),
        Service::GitHub => devops::github(o, ctx, &mut e),
        Service::Bitbucket => devops::bitbucket(o, ctx, &mut e),
        Service::Kubernetes => kubernetes::audit(o, ctx, &mut e),
        Service::OpenCanary => opencanary::alert(o, ctx, &mut e),
        Service::MacUnified => macos::unified(o, ctx, &mut e),
        Service::MacEndpointSecurity => macos::endpoint_security(o, ctx, &mut e),
    };
    e.set_static("event.dataset", dataset);
    if !e.contains("event.kind") {
        e.set_static("event.kind", "event");
    }
    (dataset, e)
}

/// The records a wrapper object holds: CloudTrail's `{"Records": [...]}`
/// files and Azure Event Hub's `{"records": [...]}` bodies.
pub fn unwrap(o: &Map<String, Json>) -> Option<&Vec<Json>> {
    if o.len() != 1 {
        return None;
    }
    let items = o.get("Records").or_else(|| o.get("records"))?.as_array()?;
    items.iter().all(Json::is_object).then_some(items)
}
