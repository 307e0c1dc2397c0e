//! The JSON API: what the pages show, for scripts and other tools. It
//! takes the pages' query parameters, and triage takes the token (the
//! server's, or the form token of this run) as a bearer header.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use rampart_store::{parse_query, Beside, EventQuery, Step, StoredAlert, Timeline};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::filters::View;
use crate::pages::alerts::{apply, Asked, ListQuery};
use crate::App;

/// Events a search returns at most.
const MOST_EVENTS: u64 = 1000;

/// An error as JSON.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn store_error(e: rampart_store::StoreError) -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, e.0)
}

fn timeline(t: &Timeline) -> Value {
    json!({
        "start": t.start.to_string(),
        "bucket_seconds": t.bucket.as_secs(),
        "counts": t.counts,
    })
}

fn pairs(list: &[(String, u64)]) -> Value {
    list.iter()
        .map(|(k, n)| json!({ "value": k, "count": n }))
        .collect()
}

/// `GET /api/overview`: the overview's figures, with the filters of `/`.
pub async fn overview(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let view = match View::parse(query.as_deref()) {
        Ok(view) => view,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let snapshot = match app.boards.get(&view, &app.readers).await {
        Ok(s) => s,
        Err(e) => return store_error(e),
    };
    let b = &snapshot.board;
    Json(json!({
        "range": { "since": b.range.0.to_string(), "until": b.range.1.to_string() },
        "stored": snapshot.extent.stored,
        "events": b.events,
        "malicious_events": b.malicious,
        "benign_events": b.events.saturating_sub(b.malicious),
        "alerts": b.alerts,
        "alerts_open": b.alerts_open,
        "malicious_sources": b.malicious_sources,
        "severity": pairs(&b.by_level),
        "protocol": pairs(&b.by_protocol),
        "events_over_time": timeline(&b.event_timeline),
        "alerts_over_time": timeline(&b.alert_timeline),
        "top_destinations": pairs(&b.top_destinations),
        "top_malicious_sources": b.top_malicious_sources.iter()
            .map(|(ip, n, c)| json!({ "value": ip, "count": n, "confidence": c }))
            .collect::<Value>(),
        "heatmap": b.heatmap.iter()
            .map(|(l, c, n)| json!({ "severity": l, "confidence": c, "count": n }))
            .collect::<Value>(),
        "details": b.details.iter().map(|e| json!({
            "id": e.id,
            "time": e.time.map(|t| t.to_string()),
            "severity": e.level,
            "protocol": e.protocol,
            "source_ip": e.source_ip,
            "destination_ip": e.destination_ip,
            "confidence": e.confidence,
            "message": e.message,
        })).collect::<Value>(),
    }))
    .into_response()
}

/// An alert as the API gives it: its JSON with its triage state.
fn alert_json(alert: &StoredAlert) -> Value {
    let mut doc: Value = serde_json::from_str(&alert.doc).unwrap_or(Value::Null);
    if let Some(map) = doc.as_object_mut() {
        map.insert("status".into(), alert.status.clone().into());
        map.insert("assignee".into(), alert.assignee.clone().into());
    }
    doc
}

fn step_json(step: &Step) -> Value {
    json!({
        "time": step.time.to_string(),
        "user": step.user,
        "action": step.action,
        "status": step.status,
        "assignee": step.assignee,
        "note": step.note,
    })
}

/// `GET /api/alerts`: the alerts of the list's filters.
pub async fn alerts(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let filter = match ListQuery::parse(query.as_deref()) {
        Ok(list) => list.filter(),
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    match app.readers.read(move |store| store.alerts(&filter)).await {
        Ok(alerts) => Json(alerts.iter().map(alert_json).collect::<Value>()).into_response(),
        Err(e) => store_error(e),
    }
}

/// `GET /api/alerts/{id}`: one alert with its history.
pub async fn alert(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let wanted = id.clone();
    let found = app
        .readers
        .read(move |store| match store.alert(&wanted)? {
            Some(alert) => {
                let history = store.history(&alert.id)?;
                Ok(Some((alert, history)))
            }
            None => Ok(None),
        })
        .await;
    match found {
        Ok(Some((alert, history))) => {
            let mut doc = alert_json(&alert);
            if let Some(map) = doc.as_object_mut() {
                map.insert(
                    "history".into(),
                    history.iter().map(step_json).collect::<Value>(),
                );
            }
            Json(doc).into_response()
        }
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no alert {id}")),
        Err(e) => store_error(e),
    }
}

/// A triage step asked through the API.
#[derive(Debug, Deserialize)]
pub struct TriageBody {
    action: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    suppress: bool,
    #[serde(default)]
    deactivate_ioc: bool,
}

/// `POST /api/alerts/{id}/triage`: `{"action": ..., "assignee": ...,
/// "note": ..., "user": ..., "suppress": false, "deactivate_ioc": false}`
/// with the token as a bearer header.
pub async fn triage(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<TriageBody>,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|b| app.guard.accepts_form(b)) {
        return error(
            StatusCode::FORBIDDEN,
            "triage needs the token as a bearer header",
        );
    }
    let asked = Asked {
        action: &body.action,
        assignee: &body.assignee,
        note: &body.note,
        user: &body.user,
        beside: Beside {
            suppress: body.suppress,
            deactivate_ioc: body.deactivate_ioc,
        },
    };
    match apply(&app, id, asked).await {
        Ok(done) => Json(alert_json(&done.alert)).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

/// `GET /api/events?q=...&since=...&until=...&limit=...`: matching
/// events, newest first.
pub async fn events(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let raw = query.unwrap_or_default();
    let mut text = String::new();
    let mut limit = 100;
    let (mut since, mut until) = (None, None);
    for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
        let time = || {
            value
                .parse::<Timestamp>()
                .map_err(|e| format!("{key}: {e}"))
        };
        let parsed = match key.as_ref() {
            "q" => {
                text = value.chars().take(2000).collect();
                Ok(())
            }
            "limit" => value
                .parse::<u64>()
                .map(|n| limit = n.clamp(1, MOST_EVENTS))
                .map_err(|e| format!("limit: {e}")),
            "since" => time().map(|t| since = Some(t)),
            "until" => time().map(|t| until = Some(t)),
            _ => Ok(()),
        };
        if let Err(e) = parsed {
            return error(StatusCode::BAD_REQUEST, e);
        }
    }
    let expr = if text.trim().is_empty() {
        None
    } else {
        match parse_query(&text) {
            Ok(expr) => Some(expr),
            Err(e) => {
                return error(StatusCode::BAD_REQUEST, format!("q: {e}"));
            }
        }
    };
    let query = EventQuery {
        expr,
        since,
        until,
        limit: Some(limit),
        as_read: false,
    };
    match app.readers.read(move |store| store.events(&query)).await {
        Ok(events) => Json(
            events
                .iter()
                .map(|e| {
                    json!({
                        "id": e.id,
                        "event": serde_json::from_str::<Value>(&e.doc).unwrap_or(Value::Null),
                    })
                })
                .collect::<Value>(),
        )
        .into_response(),
        Err(e) => store_error(e),
    }
}
