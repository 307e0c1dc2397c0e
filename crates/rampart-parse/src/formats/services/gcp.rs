//! GCP Cloud Logging entries (`LogEntry` JSON): Cloud Audit Logs, and the
//! Google Workspace admin and login events that reach Cloud Logging.

use rampart_event::Event;
use serde_json::{Map, Value as Json};

use super::record::{at, copy, keep, outcome, put, put_ip, say, text, time};
use crate::context::FileContext;

/// The prefix the entry's own keys are kept under.
pub const PREFIX: &str = "gcp";

/// Fills `e` from one log entry.
pub fn record(o: &Map<String, Json>, ctx: &FileContext, e: &mut Event) -> &'static str {
    e.timestamp = time(o, &["timestamp", "receiveTimestamp"], ctx);
    keep(PREFIX, o, e);
    e.set_static("cloud.provider", "gcp");
    let service = text(o, "protoPayload.serviceName");
    let method = text(o, "protoPayload.methodName");
    put(e, "event.action", method);
    put(e, "event.provider", service);
    copy(
        o,
        e,
        &[
            ("event.id", "insertId"),
            ("log.level", "severity"),
            ("cloud.project.id", "resource.labels.project_id"),
            (
                "user_agent.original",
                "protoPayload.requestMetadata.callerSuppliedUserAgent",
            ),
        ],
    );
    put_ip(
        e,
        "source.ip",
        text(o, "protoPayload.requestMetadata.callerIp"),
    );
    let user = text(o, "protoPayload.authenticationInfo.principalEmail");
    put(e, "user.email", user);
    put(e, "user.name", user);
    if at(o, "protoPayload").is_some() {
        // A status code other than 0 (OK) is a failure.
        let code = at(o, "protoPayload.status.code").and_then(Json::as_i64);
        outcome(e, Some(code.unwrap_or(0) == 0));
    }
    let head = format!("{} {}", service.unwrap_or("gcp"), method.unwrap_or("entry"));
    say(e, head, &[(" by ", user)]);
    match service {
        Some("admin.googleapis.com") => "google_workspace.admin",
        Some("login.googleapis.com") => "google_workspace.login",
        _ => "gcp.audit",
    }
}
