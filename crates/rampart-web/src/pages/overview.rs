//! The overview, seed 001's SOC dashboard and more, in the order an
//! analyst reads it: the state of things (counts, events and alerts over
//! time), what to look at first (severities, protocols, the most targeted
//! destinations, the malicious sources, the confidence × severity
//! heatmap), then the malicious events themselves. The filters live in
//! the URL; the panels are a fragment of their own, which the page's
//! script fetches again every second (an unchanged fragment costs a
//! `304`).

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup};
use rampart_store::Period;

use super::layout::{self, Nav};
use super::Failure;
use crate::charts::{self, Bar, Tone};
use crate::filters::{Facet, View};
use crate::format;
use crate::snapshots::Snapshot;
use crate::App;

/// `GET /`: the page.
pub async fn page(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, Failure> {
    let view = View::parse(query.as_deref()).map_err(Failure::bad)?;
    let snapshot = app.boards.get(&view, &app.readers).await?;
    let main = html! {
        h1 { "Overview" }
        (filters(&view, &snapshot))
        div #panels data-live={ "/overview/panels" (view.query()) } aria-live="polite" {
            (panels(&view, &snapshot))
        }
    };
    Ok(Html(
        layout::page("Overview", Nav::Overview, main).into_string(),
    ))
}

/// `GET /overview/panels`: the panels alone, `304` when the browser has
/// them already.
pub async fn panels_fragment(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Failure> {
    let view = View::parse(query.as_deref()).map_err(Failure::bad)?;
    let snapshot = app.boards.get(&view, &app.readers).await?;
    let body = panels(&view, &snapshot).into_string();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    let tag = format!("\"{:016x}\"", hasher.finish());
    let seen = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(tag.as_str());
    let mut response = if seen {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Html(body).into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    Ok(response)
}

/// The filter form: the range, then each facet's values in the range.
fn filters(view: &View, snapshot: &Snapshot) -> Markup {
    let (since, until) = match view.range {
        Some(Period::Given { since, until }) => (since, until),
        _ => (None, None),
    };
    let date = |t: Option<jiff::Timestamp>| {
        t.map(|t| t.strftime("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    html! {
        form.filters method="get" action="/" aria-label="Filters" {
            (layout::range_field(view, "Range", "Default or dates"))
            div.field {
                label for="since" { "From" }
                input #since type="date" name="since" value=(date(since));
            }
            div.field {
                label for="until" { "To" }
                input #until type="date" name="until" value=(date(until));
            }
            @for facet in Facet::ALL {
                @let chosen = view.values(facet);
                @let offered = offered(facet, chosen, snapshot);
                @if !offered.is_empty() {
                    details.facet open[!chosen.is_empty()] {
                        summary {
                            (facet.label())
                            @if !chosen.is_empty() { " (" (chosen.len()) ")" }
                        }
                        fieldset {
                            legend.visually-hidden { (facet.label()) }
                            @for value in &offered {
                                label.check {
                                    input type="checkbox" name=(facet.key()) value=(value)
                                        checked[chosen.contains(value)];
                                    " " (format::or_none(value))
                                }
                            }
                        }
                    }
                }
            }
            div.actions {
                button type="submit" { "Apply" }
                a href="/" { "Clear filters" }
            }
        }
        p.range-note {
            "Showing " (format::time(snapshot.board.range.0)) " to "
            (format::time(snapshot.board.range.1)) " UTC"
            @if view.range.is_none() { " (" (snapshot.period.label()) ", the default)" }
            "."
        }
    }
}

/// The values a facet offers: those in the range, and those chosen even
/// when the range has none of them.
fn offered(facet: Facet, chosen: &[String], snapshot: &Snapshot) -> Vec<String> {
    let choices = &snapshot.choices;
    let mut values: Vec<String> = match facet {
        Facet::Severity => {
            let mut levels = choices.levels.clone();
            levels.sort_by_key(|l| std::cmp::Reverse(charts::rank(l)));
            levels
        }
        Facet::Protocol => choices.protocols.clone(),
        Facet::Dataset => choices.datasets.clone(),
        Facet::Host => choices.hosts.clone(),
    };
    for value in chosen {
        if !values.contains(value) {
            values.push(value.clone());
        }
    }
    values
}

/// A KPI card.
fn card(label: &str, value: u64, threat: bool, href: Option<&str>) -> Markup {
    let class = if threat && value > 0 {
        "card threat"
    } else {
        "card"
    };
    html! {
        div class=(class) {
            div.card-label { (label) }
            div.card-value {
                @match href {
                    Some(href) => a href=(href) { (format::count(value)) },
                    None => (format::count(value)),
                }
            }
        }
    }
}

/// Bars that narrow the view to their value when clicked.
fn facet_bars(view: &View, facet: Facet, counts: &[(String, u64)]) -> Vec<Bar> {
    counts
        .iter()
        .map(|(value, count)| Bar {
            label: value.clone(),
            count: *count,
            href: Some(format!("/{}", view.toggled(facet, value).query())),
        })
        .collect()
}

/// Bars that open the events of an address.
fn address_bars(field: &str, counts: impl Iterator<Item = (String, u64)>) -> Vec<Bar> {
    counts
        .map(|(ip, count)| Bar {
            href: Some(format!(
                "/events?{}",
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("q", &format!("{field}={ip}"))
                    .finish()
            )),
            label: ip,
            count,
        })
        .collect()
}

/// A panel with a heading, or its empty state.
fn panel(title: &str, empty: bool, body: Markup) -> Markup {
    html! {
        div.panel {
            h3 { (title) }
            @if empty { p.empty { "Nothing in this range and filter." } } @else { (body) }
        }
    }
}

/// Every panel.
pub fn panels(view: &View, snapshot: &Snapshot) -> Markup {
    let board = &snapshot.board;
    if !snapshot.extent.stored {
        return html! {
            div.empty-state {
                h2 { "The store is empty" }
                p { "Nothing has been stored yet. Store logs with "
                    code { "rampart ingest PATH" } " or run a pipeline with "
                    code { "rampart run" } "; this page shows them as they arrive." }
            }
        };
    }
    if board.events == 0 && board.alerts == 0 {
        return html! {
            div.empty-state {
                h2 { "Nothing matches" }
                p { "No events or alerts in this range with these filters. "
                    a href="/?range=all" { "Show all the data" } "." }
            }
        };
    }
    let benign = board.events - board.malicious.min(board.events);
    html! {
        section aria-labelledby="h-state" {
            h2 #h-state { "Overview" }
            div.kpis {
                (card("Events", board.events, false, None))
                (card("Malicious events", board.malicious, true, None))
                (card("Benign events", benign, false, None))
                (card("Open alerts", board.alerts_open, true, Some("/alerts?status=open")))
                (card("Malicious sources", board.malicious_sources, true, None))
            }
            div.panel.wide {
                h3 { "Events and alerts over time" }
                p.legend { span.key.key-events {} " events " span.key.key-alerts {} " alerts" }
                (charts::timeline(&board.event_timeline, &board.alert_timeline))
            }
        }
        section aria-labelledby="h-priority" {
            h2 #h-priority { "Prioritisation" }
            div.grid {
                (panel("Severity distribution", board.by_level.is_empty(),
                    charts::bars("Events per severity", &facet_bars(view, Facet::Severity, &sorted_levels(&board.by_level)), Tone::Neutral)))
                (panel("Protocol usage", board.by_protocol.is_empty(),
                    charts::bars("Events per protocol", &facet_bars(view, Facet::Protocol, &board.by_protocol), Tone::Neutral)))
                (panel("Top destination assets", board.top_destinations.is_empty(),
                    charts::bars("Events per destination address", &address_bars("destination.ip", board.top_destinations.iter().cloned()), Tone::Neutral)))
                (panel("Top malicious source addresses", board.top_malicious_sources.is_empty(),
                    charts::bars("Malicious events per source address", &address_bars("source.ip", board.top_malicious_sources.iter().map(|(ip, n, _)| (ip.clone(), *n))), Tone::Threat)))
                (panel("Threat confidence × severity", board.heatmap.is_empty(), charts::heatmap(&board.heatmap)))
            }
        }
        section aria-labelledby="h-investigate" {
            h2 #h-investigate { "Investigation" }
            (details(board))
        }
    }
}

/// Severity labels from the most severe down.
fn sorted_levels(counts: &[(String, u64)]) -> Vec<(String, u64)> {
    let mut sorted = counts.to_vec();
    sorted.sort_by_key(|(label, _)| std::cmp::Reverse(charts::rank(label)));
    sorted
}

/// The newest malicious events.
fn details(board: &rampart_store::Board) -> Markup {
    if board.details.is_empty() {
        return html! {
            p.empty { "No malicious events in this range: no source or destination address matched a threat indicator." }
        };
    }
    html! {
        div.table-wrap tabindex="0" role="region" aria-label="Malicious events" {
            table.data {
                caption { "Newest malicious events (" (board.details.len()) " of " (format::count(board.malicious)) ")" }
                thead { tr {
                    th scope="col" { "Time" } th scope="col" { "Severity" } th scope="col" { "Protocol" }
                    th scope="col" { "Source" } th scope="col" { "Destination" }
                    th scope="col" { "Confidence" } th scope="col" { "Description" }
                } }
                tbody {
                    @for e in &board.details {
                        tr {
                            td { a href={ "/events/" (e.id) } { (format::maybe_time(e.time)) } }
                            td { (e.level.as_deref().unwrap_or("—")) }
                            td { (e.protocol.as_deref().unwrap_or("—")) }
                            td.threat-text { (e.source_ip.as_deref().unwrap_or("—")) }
                            td { (e.destination_ip.as_deref().unwrap_or("—")) }
                            td.num { (e.confidence) }
                            td { (e.message.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}
