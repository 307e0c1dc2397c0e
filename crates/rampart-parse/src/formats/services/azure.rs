//! Azure Monitor resource logs as diagnostic settings export them (storage
//! accounts, Event Hub): the activity log and Entra ID's sign-in, audit and
//! risk logs. The `category` of each record says which.

use rampart_event::Event;
use serde_json::{Map, Value as Json};

use super::record::{copy, keep, outcome, put, put_ip, say, scalar, success_word, text, time};
use crate::context::FileContext;

/// The prefix the record's own keys are kept under.
pub const PREFIX: &str = "azure";

/// The dataset of a record of `category`, named as Sigma's Azure services.
fn dataset(category: &str) -> &'static str {
    match category.to_ascii_lowercase().as_str() {
        "signinlogs"
        | "noninteractiveusersigninlogs"
        | "serviceprincipalsigninlogs"
        | "managedidentitysigninlogs" => "azure.signinlogs",
        "auditlogs" => "azure.auditlogs",
        "userriskevents"
        | "riskyusers"
        | "serviceprincipalriskevents"
        | "riskyserviceprincipals" => "azure.riskdetection",
        _ => "azure.activitylogs",
    }
}

/// Fills `e` from one Azure record.
pub fn record(o: &Map<String, Json>, ctx: &FileContext, e: &mut Event) -> &'static str {
    // Some exports write `time` as "3/14/2026 9:14:02 AM"; the record's
    // own times are ISO 8601.
    e.timestamp = time(
        o,
        &[
            "time",
            "properties.createdDateTime",
            "properties.activityDateTime",
            "properties.detectedDateTime",
        ],
        ctx,
    );
    keep(PREFIX, o, e);
    e.set_static("cloud.provider", "azure");
    let dataset = dataset(text(o, "category").unwrap_or(""));
    let action = text(o, "operationName");
    put(e, "event.action", action);
    copy(
        o,
        e,
        &[
            ("cloud.account.id", "tenantId"),
            ("user_agent.original", "properties.userAgent"),
        ],
    );
    let result = scalar(o, "resultType")
        .or_else(|| scalar(o, "properties.result"))
        .or_else(|| scalar(o, "properties.status.errorCode"));
    // Sign-ins give an error code, 0 when it succeeded; the activity log a
    // phase (`Start`, `Accept`) before its outcome.
    outcome(
        e,
        result.as_deref().and_then(success_word).or_else(|| {
            result
                .as_deref()
                .filter(|r| r.bytes().all(|b| b.is_ascii_digit()))
                .map(|_| false)
        }),
    );
    let ip = text(o, "properties.ipAddress").or_else(|| text(o, "callerIpAddress"));
    put_ip(e, "source.ip", ip);
    let user = text(o, "properties.userPrincipalName")
        .or_else(|| text(o, "properties.initiatedBy.user.userPrincipalName"))
        .or_else(|| text(o, "properties.initiatedBy.app.displayName"))
        .or_else(|| {
            text(
                o,
                "identity.claims.http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
            )
        })
        .or_else(|| text(o, "properties.caller"))
        .or_else(|| text(o, "identity"));
    put(e, "user.name", user);
    say(
        e,
        action.unwrap_or("Azure operation").to_owned(),
        &[(" by ", user), (": ", text(o, "properties.riskEventType"))],
    );
    dataset
}
