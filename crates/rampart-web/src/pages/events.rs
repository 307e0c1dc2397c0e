//! Event search: the query language of `rampart events` in a search box
//! (a query that does not read is shown with a mark under the column where
//! it went wrong), the newest matching events with a histogram of when
//! they happened and the top values of the common fields (a click narrows
//! the search to one), both counted over the newest [`SAMPLE`] matches so
//! that a search matching millions answers as fast as a narrow one, and each event's page with its whole ECS document and
//! its original line.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::Html;
use jiff::Timestamp;
use maud::{html, Markup};
use rampart_store::{bucket_for, parse_query, EventQuery, StoredEvent, Timeline};
use serde_json::Value as Json;

use super::layout::{self, Nav};
use super::Failure;
use crate::charts;
use crate::filters::View;
use crate::format;
use crate::App;

/// Events a search lists.
const PAGE: usize = 100;
/// The newest matches the histogram and the top values are drawn from: a
/// search matching millions of events answers in the time of this many.
const SAMPLE: usize = 2000;
/// Values shown per field.
const TOP_VALUES: usize = 8;
/// The fields whose top values are shown: those the store keeps as
/// columns, the ones searches filter on most.
const FACETS: [&str; 6] = rampart_store::TEXT_COLUMNS;

/// A field's top values (`None` for events without it) and their counts.
type TopValues = Vec<(Option<String>, u64)>;

/// What a search found.
struct Found {
    /// The newest matches, at most [`PAGE`].
    events: Vec<StoredEvent>,
    /// Matches read for the histogram and the top values, and whether
    /// there may be more.
    sampled: usize,
    more: bool,
    timeline: Option<Timeline>,
    facets: Vec<(&'static str, TopValues)>,
    range: Option<(Timestamp, Timestamp)>,
}

/// The histogram over `range` and the top values of [`FACETS`] of the
/// newest matches, and the first page of them.
fn summarise(mut matches: Vec<StoredEvent>, range: Option<(Timestamp, Timestamp)>) -> Found {
    let timeline = range.map(|(since, until)| {
        let width = bucket_for(until.duration_since(since));
        let w = (width.as_micros() as i64).max(1);
        let start = since.as_microsecond().div_euclid(w) * w;
        let bars = ((until.as_microsecond() - start + w - 1) / w).max(1) as usize;
        let mut counts = vec![0u64; bars];
        for t in matches.iter().filter_map(|e| e.time) {
            let bar = (t.as_microsecond() - start).div_euclid(w);
            if let Some(slot) = usize::try_from(bar).ok().and_then(|b| counts.get_mut(b)) {
                *slot += 1;
            }
        }
        Timeline {
            start: Timestamp::from_microsecond(start).unwrap_or(since),
            bucket: width,
            counts,
        }
    });
    let docs: Vec<Json> = matches
        .iter()
        .map(|e| serde_json::from_str(&e.doc).unwrap_or(Json::Null))
        .collect();
    let facets = FACETS
        .iter()
        .filter_map(|field| {
            let pointer = format!("/{}", field.replace('.', "/"));
            let mut counts: HashMap<Option<String>, u64> = HashMap::new();
            for doc in &docs {
                let value = doc.pointer(&pointer).map(|v| match v {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                });
                *counts.entry(value).or_default() += 1;
            }
            if counts.keys().all(Option::is_none) {
                return None;
            }
            let mut top: TopValues = counts.into_iter().collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            top.truncate(TOP_VALUES);
            Some((*field, top))
        })
        .collect();
    let sampled = matches.len();
    matches.truncate(PAGE);
    Found {
        events: matches,
        sampled,
        more: sampled == SAMPLE,
        timeline,
        facets,
        range,
    }
}

/// `GET /events`.
pub async fn search(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, Failure> {
    let raw = query.unwrap_or_default();
    let text: String = form_urlencoded::parse(raw.as_bytes())
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.chars().take(2000).collect())
        .unwrap_or_default();
    // The range is read as the overview reads it.
    let view = View::parse(Some(&raw)).map_err(Failure::bad)?;
    let parsed = if text.trim().is_empty() {
        Ok(None)
    } else {
        parse_query(&text).map(Some)
    };
    let found = match &parsed {
        Err(_) => None,
        Ok(expr) => {
            let expr = expr.clone();
            let view = view.clone();
            let sample = app
                .readers
                .read(move |store| {
                    let extent = store.extent()?;
                    let range = extent
                        .range
                        .map(|_| view.slice(&extent, Timestamp::now()))
                        .map(|s| (s.since, s.until));
                    let query = EventQuery {
                        expr,
                        since: range.map(|r| r.0),
                        until: range.map(|r| r.1),
                        limit: Some(SAMPLE as u64),
                        as_read: false,
                    };
                    Ok((store.events(&query)?, range))
                })
                .await?;
            Some(summarise(sample.0, sample.1))
        }
    };
    let main = html! {
        h1 { "Events" }
        form.search method="get" action="/events" role="search" {
            div.field.grow {
                label for="q" { "Query" }
                input #q type="search" name="q" value=(text) spellcheck="false"
                    placeholder="source.ip=203.0.113.7 and not user.name=adm*  \"failed password\""
                    aria-describedby="q-help";
            }
            (layout::range_field(&view, "Range", "Default"))
            div.actions { button type="submit" { "Search" } }
            p #q-help .help {
                "Fields compared with = != < <= > >= or in (…); other words are searched in the text; "
                "combine with and, or, not and parentheses."
            }
        }
        @if let Err(e) = &parsed {
            div.query-error role="alert" {
                p { "The query does not read at column " (e.column) ": " (e.message) }
                pre { (text) "\n" (" ".repeat(e.column.saturating_sub(1))) "^" }
            }
        }
        @if let Some(found) = &found { (results(&text, found)) }
    };
    Ok(Html(
        layout::page("Events", Nav::Events, main).into_string(),
    ))
}

/// The query narrowed to `field` being `value`.
fn narrowed(text: &str, field: &str, value: &str) -> String {
    let quoted = format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""));
    let condition = format!("{field}={quoted}");
    let query = if text.trim().is_empty() {
        condition
    } else {
        format!("({}) and {condition}", text.trim())
    };
    format!(
        "/events?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &query)
            .finish()
    )
}

fn results(text: &str, found: &Found) -> Markup {
    html! {
        @if let Some((since, until)) = found.range {
            p.range-note { "From " (format::time(since)) " to " (format::time(until)) " UTC." }
        }
        @if found.more {
            p.range-note { "The histogram and the top values count the newest "
                (format::count(found.sampled as u64)) " matches; narrow the search or the range to count them all." }
        }
        @if let Some(timeline) = &found.timeline {
            div.panel.wide {
                h2 { "When" }
                (charts::timeline(timeline, &Timeline { counts: Vec::new(), ..timeline.clone() }))
            }
        }
        div.search-results {
            @if !found.facets.is_empty() {
                aside.facets aria-label="Top values" {
                    @for (field, values) in &found.facets {
                        div.facet-list {
                            h3 { code { (field) } }
                            ul { @for (value, n) in values {
                                li { @match value {
                                    Some(v) => { a href=(narrowed(text, field, v)) { (v) } " " span.n { (format::count(*n)) } },
                                    None => { span.muted { "(none)" } " " span.n { (format::count(*n)) } },
                                } }
                            } }
                        }
                    }
                }
            }
            div.grow {
                @if found.events.is_empty() {
                    p.empty { "No events match." }
                } @else {
                    div.table-wrap tabindex="0" role="region" aria-label="Matching events" {
                        table.data #events {
                            caption { "Newest " (found.events.len()) " matching events" }
                            thead { tr { th scope="col" { "Time" } th scope="col" { "Dataset" } th scope="col" { "Host" } th scope="col" { "Message" } } }
                            tbody { @for e in &found.events {
                                @let doc: Json = serde_json::from_str(&e.doc).unwrap_or(Json::Null);
                                tr {
                                    td { a href={ "/events/" (e.id) } { (format::maybe_time(e.time)) } }
                                    td { (doc.pointer("/event/dataset").and_then(Json::as_str).unwrap_or("—")) }
                                    td { (doc.pointer("/host/name").and_then(Json::as_str).unwrap_or("—")) }
                                    td.message { (message(&doc)) }
                                }
                            } }
                        }
                    }
                }
            }
        }
    }
}

/// An event's message, or its original line.
fn message(doc: &Json) -> &str {
    doc.get("message")
        .and_then(Json::as_str)
        .or_else(|| doc.pointer("/event/original").and_then(Json::as_str))
        .unwrap_or("")
}

/// `GET /events/{id}`.
pub async fn one(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
) -> Result<Html<String>, Failure> {
    let found = app.readers.read(move |store| store.event(id)).await?;
    let Some(event) = found else {
        return Err(Failure::missing(format!("no event {id}")));
    };
    let doc: Json = serde_json::from_str(&event.doc).unwrap_or(Json::Null);
    let original = doc.pointer("/event/original").and_then(Json::as_str);
    let main = html! {
        p.crumbs { a href="/events" { "Events" } " / " (event.id) }
        h1 { "Event " (event.id) }
        p { "At " (format::maybe_time(event.time)) " UTC" }
        @if let Some(line) = original {
            h2 { "Original line" }
            pre.original { (line) }
        }
        h2 { "Document (ECS)" }
        pre.doc { (serde_json::to_string_pretty(&doc).unwrap_or_default()) }
    };
    Ok(Html(layout::page("Event", Nav::Events, main).into_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrowing_quotes_the_value_and_keeps_the_query() {
        let url = narrowed("failed", "user.name", "a\"b");
        let q: String = form_urlencoded::parse(url.trim_start_matches("/events?").as_bytes())
            .find(|(k, _)| k == "q")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        assert_eq!(q, "(failed) and user.name=\"a\\\"b\"");
        assert!(parse_query(&q).is_ok());
    }
}
