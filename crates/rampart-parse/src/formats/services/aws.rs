//! AWS CloudTrail records: an API call, console sign-in or service event,
//! with who made it (`userIdentity`), from where, and its error if it failed.

use rampart_event::Event;
use serde_json::{Map, Value as Json};

use super::record::{copy, keep, outcome, put, put_ip, say, text, time};
use crate::context::FileContext;

/// The dataset of CloudTrail records.
pub const DATASET: &str = "aws.cloudtrail";

/// Fills `e` from one CloudTrail record.
pub fn cloudtrail(o: &Map<String, Json>, ctx: &FileContext, e: &mut Event) -> &'static str {
    e.timestamp = time(o, &["eventTime", "@timestamp"], ctx);
    keep(DATASET, o, e);
    e.set_static("cloud.provider", "aws");
    put(e, "cloud.region", text(o, "awsRegion"));
    put(
        e,
        "cloud.account.id",
        text(o, "recipientAccountId").or_else(|| text(o, "userIdentity.accountId")),
    );
    copy(
        o,
        e,
        &[
            ("event.action", "eventName"),
            ("event.provider", "eventSource"),
            ("event.id", "eventID"),
            ("event.type", "eventType"),
            ("error.code", "errorCode"),
            ("error.message", "errorMessage"),
            ("user_agent.original", "userAgent"),
            ("user.id", "userIdentity.principalId"),
        ],
    );
    // Success is the absence of an error; a console sign-in says it itself.
    let failed = text(o, "errorCode").is_some()
        || text(o, "responseElements.ConsoleLogin") == Some("Failure");
    outcome(e, Some(!failed));
    let source = text(o, "sourceIPAddress");
    if !put_ip(e, "source.ip", source) {
        // An AWS service acting for the account (`cloudtrail.amazonaws.com`).
        put(e, "source.domain", source);
    }
    let user = text(o, "userIdentity.userName")
        .or_else(|| text(o, "userIdentity.sessionContext.sessionIssuer.userName"))
        .or_else(|| text(o, "userIdentity.invokedBy"))
        .or_else(|| text(o, "userIdentity.arn").and_then(|a| a.rsplit('/').next()));
    put(e, "user.name", user);
    let head = format!(
        "{} {}",
        text(o, "eventSource").unwrap_or("aws"),
        text(o, "eventName").unwrap_or("call")
    );
    say(
        e,
        head,
        &[(" by ", user), (" failed: ", text(o, "errorCode"))],
    );
    DATASET
}
