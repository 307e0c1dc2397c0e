//! Kubernetes API server audit events (`audit.k8s.io`), one JSON object per
//! line as the log backend writes them.

use rampart_event::Event;
use serde_json::{Map, Value as Json};

use super::record::{at, copy, keep, outcome, put_ip, text, time};
use crate::context::FileContext;

/// Fills `e` from one audit event.
pub fn audit(o: &Map<String, Json>, ctx: &FileContext, e: &mut Event) -> &'static str {
    e.timestamp = time(o, &["requestReceivedTimestamp", "stageTimestamp"], ctx);
    keep("kubernetes.audit", o, e);
    e.set_static("orchestrator.type", "kubernetes");
    copy(
        o,
        e,
        &[
            ("event.action", "verb"),
            ("event.id", "auditID"),
            ("user.name", "user.username"),
            ("user_agent.original", "userAgent"),
            ("url.original", "requestURI"),
            ("orchestrator.resource.type", "objectRef.resource"),
            ("orchestrator.resource.name", "objectRef.name"),
            ("orchestrator.namespace", "objectRef.namespace"),
        ],
    );
    let (verb, user) = (text(o, "verb"), text(o, "user.username"));
    put_ip(
        e,
        "source.ip",
        at(o, "sourceIPs")
            .and_then(Json::as_array)
            .and_then(|a| a.first())
            .and_then(Json::as_str),
    );
    let resource = text(o, "objectRef.resource");
    if let Some(code) = at(o, "responseStatus.code").and_then(Json::as_i64) {
        e.set("http.response.status_code", code);
        outcome(e, Some(code < 400));
    }
    let mut what = resource.unwrap_or("").to_owned();
    if let Some(sub) = text(o, "objectRef.subresource") {
        what.push('/');
        what.push_str(sub);
    }
    e.set(
        "message",
        format!(
            "{} {} {} by {}",
            verb.unwrap_or("?"),
            what,
            text(o, "objectRef.name").unwrap_or(""),
            user.unwrap_or("?")
        ),
    );
    "kubernetes.audit"
}
