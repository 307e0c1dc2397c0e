//! The Microsoft 365 unified audit log: records from the Management
//! Activity API (JSON), and Purview's CSV export, whose `AuditData` column
//! holds the same record as JSON.

use rampart_event::time::Zone;
use rampart_event::{Event, Value};
use serde_json::{Map, Value as Json};

use super::record::{address, at, copy, keep, outcome, put, say, success_word, text};
use crate::context::FileContext;
use crate::output::{mark_quality, Output, MALFORMED};

/// The dataset of unified audit records.
pub const DATASET: &str = "m365.audit";

/// Fills `e` from one audit record.
pub fn record(o: &Map<String, Json>, _ctx: &FileContext, e: &mut Event) -> &'static str {
    // `CreationTime` has no zone and is UTC, whatever the reader's zone.
    e.timestamp = text(o, "CreationTime").and_then(|t| crate::timefmt::any(t, &Zone::utc()));
    keep(DATASET, o, e);
    // `ExtendedProperties` and friends are name/value lists: each value is
    // also kept under its name (`...ExtendedProperties.RequestType`).
    for list in ["ExtendedProperties", "DeviceProperties", "Parameters"] {
        let Some(items) = at(o, list).and_then(Json::as_array) else {
            continue;
        };
        for item in items {
            let name = item.get("Name").and_then(Json::as_str);
            if let (Some(name), Some(value)) = (name, item.get("Value")) {
                e.insert(format!("{DATASET}.{list}.{name}"), Value::from(value));
            }
        }
    }
    e.set_static("cloud.provider", "azure");
    let action = text(o, "Operation");
    put(e, "event.action", action);
    copy(
        o,
        e,
        &[
            ("event.provider", "Workload"),
            ("event.id", "Id"),
            ("cloud.account.id", "OrganizationId"),
        ],
    );
    let user = text(o, "UserId");
    put(e, "user.name", user);
    if let Some(ip) = text(o, "ClientIP")
        .or_else(|| text(o, "ActorIpAddress"))
        .or_else(|| text(o, "ClientIPAddress"))
        .and_then(address)
    {
        e.set("source.ip", ip);
    }
    outcome(e, text(o, "ResultStatus").and_then(success_word));
    let head = format!(
        "{} {}",
        text(o, "Workload").unwrap_or("Microsoft 365"),
        action.unwrap_or("operation")
    );
    say(e, head, &[(" by ", user)]);
    DATASET
}

/// Whether a CSV header is a unified audit log export (an `AuditData`
/// column beside the record's operation).
pub fn is_m365_csv(header: &[String]) -> Option<usize> {
    let at = header.iter().position(|h| h.trim() == "AuditData")?;
    header
        .iter()
        .any(|h| matches!(h.trim(), "Operations" | "Operation"))
        .then_some(at)
}

/// The event of one exported row: its `AuditData` record, or, when that
/// does not read, the row's columns marked as a parse error.
pub(crate) fn csv_row(
    ctx: &FileContext,
    no: u64,
    text: &str,
    header: &[String],
    values: &[String],
    audit: usize,
    out: &mut Output,
) {
    if let Ok(Json::Object(o)) = serde_json::from_str::<Json>(&values[audit]) {
        let (dataset, e) = super::event(super::Service::M365, ctx, no, text, &o);
        out.event(dataset, e);
        return;
    }
    let mut e = ctx.event(no, text);
    for (name, value) in header.iter().zip(values) {
        if !value.is_empty() && name.trim() != "AuditData" {
            e.insert(format!("{DATASET}.{}", name.trim()), value.as_str());
        }
    }
    e.set_static("event.dataset", DATASET);
    e.set_static("event.kind", "event");
    mark_quality(&mut e, MALFORMED);
    out.quality(MALFORMED);
    out.unparsed(
        no,
        "an m365.audit row whose AuditData is not a JSON object",
        text,
    );
    out.event(DATASET, e);
}
