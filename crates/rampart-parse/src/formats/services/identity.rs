//! Identity providers: Okta's System Log, OneLogin events and Duo's
//! authentication log.

use rampart_event::Event;
use serde_json::{Map, Value as Json};

use super::record::{copy, keep, outcome, put, put_ip, say, scalar, success_word, text, time};
use crate::context::FileContext;

/// Fills `e` from one Okta System Log event.
pub fn okta(o: &Map<String, Json>, ctx: &FileContext, e: &mut Event) -> &'static str {
    e.timestamp = time(o, &["published"], ctx);
    keep("okta", o, e);
    put(e, "event.action", text(o, "eventType"));
    put(e, "event.id", text(o, "uuid"));
    put(e, "log.level", text(o, "severity"));
    put(e, "user.name", text(o, "actor.alternateId"));
    put(e, "user.full_name", text(o, "actor.displayName"));
    put(e, "user.id", text(o, "actor.id"));
    put_ip(e, "source.ip", text(o, "client.ipAddress"));
    put(
        e,
        "user_agent.original",
        text(o, "client.userAgent.rawUserAgent"),
    );
    put(e, "event.reason", text(o, "outcome.reason"));
    // SUCCESS, FAILURE, DENY, ALLOW, CHALLENGE, SKIPPED, UNKNOWN.
    outcome(e, text(o, "outcome.result").and_then(success_word));
    let message = text(o, "displayMessage")
        .or_else(|| text(o, "eventType"))
        .unwrap_or("Okta event");
    e.set_str("message", message);
    "okta.system"
}

/// Fills `e` from one OneLogin event.
pub fn onelogin(o: &Map<String, Json>, ctx: &FileContext, e: &mut Event) -> &'static str {
    e.timestamp = time(o, &["created_at"], ctx);
    keep("onelogin", o, e);
    let kind = scalar(o, "event_type_id");
    if let Some(k) = &kind {
        e.set_str("event.action", k);
    }
    put(e, "event.id", scalar(o, "id").as_deref());
    put(e, "user.name", text(o, "user_name"));
    put(e, "user.id", scalar(o, "user_id").as_deref());
    put_ip(e, "source.ip", text(o, "ipaddr"));
    say(
        e,
        format!("OneLogin event {}", kind.as_deref().unwrap_or("?")),
        &[
            (" for ", text(o, "user_name")),
            (
                ": ",
                text(o, "notes").or_else(|| text(o, "error_description")),
            ),
        ],
    );
    "onelogin.events"
}

/// Fills `e` from one Duo authentication log entry.
pub fn duo(o: &Map<String, Json>, ctx: &FileContext, e: &mut Event) -> &'static str {
    e.timestamp = time(o, &["isotimestamp", "timestamp"], ctx);
    keep("duo", o, e);
    copy(
        o,
        e,
        &[
            ("event.action", "event_type"),
            ("event.id", "txid"),
            ("event.reason", "reason"),
        ],
    );
    let user = text(o, "user.name").or_else(|| text(o, "username"));
    put(e, "user.name", user);
    put_ip(
        e,
        "source.ip",
        text(o, "access_device.ip").or_else(|| text(o, "ip")),
    );
    // success, denied, failure, error, fraud.
    outcome(e, text(o, "result").and_then(success_word));
    e.set(
        "message",
        format!(
            "Duo {} {} for {}: {}",
            text(o, "event_type").unwrap_or("authentication"),
            text(o, "result").unwrap_or("?"),
            user.unwrap_or("?"),
            text(o, "reason").unwrap_or("?"),
        ),
    );
    "cisco.duo"
}
