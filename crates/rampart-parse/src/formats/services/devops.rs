//! Source hosting audit logs: GitHub's (organisation and enterprise, API
//! and streaming exports) and Bitbucket Data Center's audit log files.

use rampart_event::{Event, Timestamp};
use serde_json::{Map, Value as Json};

use super::record::{at, keep, put, put_ip, text, time};
use crate::context::FileContext;

/// Fills `e` from one GitHub audit log event.
pub fn github(o: &Map<String, Json>, ctx: &FileContext, e: &mut Event) -> &'static str {
    e.timestamp = time(o, &["@timestamp", "created_at"], ctx);
    keep("github", o, e);
    let action = text(o, "action");
    put(e, "event.action", action);
    put(e, "event.id", text(o, "_document_id"));
    let actor = text(o, "actor");
    put(e, "user.name", actor);
    put(e, "user.target.name", text(o, "user"));
    put(e, "organization.name", text(o, "org"));
    put_ip(e, "source.ip", text(o, "actor_ip"));
    put(e, "user_agent.original", text(o, "user_agent"));
    let mut message = format!("GitHub {}", action.unwrap_or("event"));
    if let Some(a) = actor {
        message.push_str(&format!(" by {a}"));
    }
    if let Some(r) = text(o, "repo").or_else(|| text(o, "org")) {
        message.push_str(&format!(" on {r}"));
    }
    e.set("message", message);
    "github.audit"
}

/// Bitbucket writes its time as `{"epochSecond": s, "nano": n}`.
fn epoch_object(o: &Map<String, Json>) -> Option<Timestamp> {
    let t = at(o, "timestamp")?;
    let secs = t.get("epochSecond")?.as_i64()?;
    let nanos = t.get("nano").and_then(Json::as_i64).unwrap_or(0);
    Timestamp::new(secs, i32::try_from(nanos).ok()?).ok()
}

/// Fills `e` from one Bitbucket audit record.
pub fn bitbucket(o: &Map<String, Json>, ctx: &FileContext, e: &mut Event) -> &'static str {
    e.timestamp = epoch_object(o).or_else(|| time(o, &["timestamp"], ctx));
    keep("bitbucket", o, e);
    let action = text(o, "auditType.action");
    put(e, "event.action", action);
    put(e, "event.category", text(o, "auditType.category"));
    let user = text(o, "author.name");
    put(e, "user.name", user);
    put_ip(e, "source.ip", text(o, "source"));
    let mut message = format!("Bitbucket {}", action.unwrap_or("event"));
    if let Some(u) = user {
        message.push_str(&format!(" by {u}"));
    }
    e.set("message", message);
    "bitbucket.audit"
}
