//! Source hosting audit logs: GitHub's (organisation and enterprise, API
//! and streaming exports) and Bitbucket Data Center's audit log files.

use rampart_event::{Event, Timestamp};
use serde_json::{Map, Value as Json};

use super::record::{at, copy, keep, put_ip, say, text, time};
use crate::context::FileContext;

/// Fills `e` from one GitHub audit log event.
pub fn github(o: &Map<String, Json>, ctx: &FileContext, e: &mut Event) -> &'static str {
    e.timestamp = time(o, &["@timestamp", "created_at"], ctx);
    keep("github", o, e);
    let action = text(o, "action");
    copy(
        o,
        e,
        &[
            ("event.action", "action"),
            ("event.id", "_document_id"),
            ("user.name", "actor"),
            ("user.target.name", "user"),
            ("organization.name", "org"),
            ("user_agent.original", "user_agent"),
        ],
    );
    put_ip(e, "source.ip", text(o, "actor_ip"));
    say(
        e,
        format!("GitHub {}", action.unwrap_or("event")),
        &[
            (" by ", text(o, "actor")),
            (" on ", text(o, "repo").or_else(|| text(o, "org"))),
        ],
    );
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
    copy(
        o,
        e,
        &[
            ("event.action", "auditType.action"),
            ("event.category", "auditType.category"),
            ("user.name", "author.name"),
        ],
    );
    put_ip(e, "source.ip", text(o, "source"));
    say(
        e,
        format!("Bitbucket {}", action.unwrap_or("event")),
        &[(" by ", text(o, "author.name"))],
    );
    "bitbucket.audit"
}
