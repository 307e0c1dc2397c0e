//! Kubernetes API server audit events (`audit.k8s.io`), one JSON object per
//! line as the log backend writes them.

use rampart_event::Event;
use serde_json::{Map, Value as Json};

use super::record::{at, keep, outcome, put, put_ip, text, time};
use crate::context::FileContext;

/// Fills `e` from one audit event.
pub fn audit(o: &Map<String, Json>, ctx: &FileContext, e: &mut Event) -> &'static str {
    e.timestamp = time(o, &["requestReceivedTimestamp", "stageTimestamp"], ctx);
    keep("kubernetes.audit", o, e);
    e.set_static("orchestrator.type", "kubernetes");
    let verb = text(o, "verb");
    put(e, "event.action", verb);
    put(e, "event.id", text(o, "auditID"));
    let user = text(o, "user.username");
    put(e, "user.name", user);
    put_ip(
        e,
        "source.ip",
        at(o, "sourceIPs")
            .and_then(Json::as_array)
            .and_then(|a| a.first())
            .and_then(Json::as_str),
    );
    put(e, "user_agent.original", text(o, "userAgent"));
    put(e, "url.original", text(o, "requestURI"));
    let resource = text(o, "objectRef.resource");
    put(e, "orchestrator.resource.type", resource);
    put(e, "orchestrator.resource.name", text(o, "objectRef.name"));
    put(e, "orchestrator.namespace", text(o, "objectRef.namespace"));
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
