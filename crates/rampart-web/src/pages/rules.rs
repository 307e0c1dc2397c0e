//! Rules and ATT&CK coverage: the loaded rules with their level, status
//! and alerts over the chosen range (rules that raised alerts but are not
//! loaded here are listed too), and the ATT&CK matrix, tactics by
//! techniques, each technique shaded by how many rules cover it and marked
//! by the alerts they raised, as the ATT&CK Navigator shows coverage.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::Html;
use jiff::Timestamp;
use maud::{html, Markup};

use super::layout::{self, Nav};
use super::Failure;
use crate::filters::View;
use crate::format;
use crate::rulebook::{matrix, Coverage};
use crate::App;

/// `GET /rules`.
pub async fn page(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, Failure> {
    let view = View::parse(query.as_deref()).map_err(Failure::bad)?;
    let wanted = view.clone();
    let (range, period, alerts) = app
        .readers
        .read(move |store| {
            store.snapshot(|store| {
                let extent = store.extent()?;
                let now = Timestamp::now();
                let period = wanted.period(&extent, now);
                let (since, until) = period.bounds(&extent, now);
                Ok(((since, until), period, store.alerts_by_rule(since, until)?))
            })
        })
        .await?;
    let fired: HashMap<&str, u64> = alerts.iter().map(|(r, n)| (r.as_str(), *n)).collect();
    let book = &app.rules;
    let unknown: Vec<&(String, u64)> = alerts
        .iter()
        .filter(|(id, _)| book.get(id).is_none())
        .collect();
    let covered = book.coverage(&alerts);
    let main = html! {
        h1 { "Rules and ATT&CK coverage" }
        form.filters method="get" action="/rules" aria-label="Range" {
            (layout::range_field(&view, "Alerts over", "Default"))
            div.actions { button type="submit" { "Apply" } }
        }
        p.range-note {
            (book.rules().len()) " rules loaded; alerts from " (format::time(range.0)) " to "
            (format::time(range.1)) " UTC (" (period.label()) ")."
        }
        h2 { "ATT&CK matrix" }
        p.legend {
            "Shade: rules covering the technique (a sub-technique counts for its parent). "
            span.threat-text { "Red count" } ": alerts those rules raised."
        }
        (matrix_table(&covered))
        h2 { "Rules" }
        div.table-wrap tabindex="0" role="region" aria-label="Rules" {
            table.data #rules {
                thead { tr {
                    th scope="col" { "Title" } th scope="col" { "Id" } th scope="col" { "Level" }
                    th scope="col" { "Status" } th scope="col" { "Kind" } th scope="col" { "Alerts" }
                } }
                tbody {
                    @for rule in book.rules() {
                        @let n = fired.get(rule.id.as_str()).copied().unwrap_or(0);
                        tr {
                            td { (rule.title) }
                            td { code { (rule.id) } }
                            td { span class=(format::level_class(rule.level)) { (rule.level.as_str()) } }
                            td { (rule.status.as_deref().unwrap_or("—")) }
                            td { (rule.kind) }
                            td.num { @if n > 0 { a href={ "/alerts?rule=" (form_urlencoded::byte_serialize(rule.id.as_bytes()).collect::<String>()) } { (format::count(n)) } } @else { "0" } }
                        }
                    }
                    @for (id, n) in &unknown {
                        tr {
                            td.muted { "(not loaded here)" }
                            td { code { (id) } }
                            td { "—" } td { "—" } td { "—" }
                            td.num { a href={ "/alerts?rule=" (form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()) } { (format::count(*n)) } }
                        }
                    }
                }
            }
        }
    };
    Ok(Html(layout::page("Rules", Nav::Rules, main).into_string()))
}

/// The class of a technique's cell by how many rules cover it.
fn shade(rules: u64) -> &'static str {
    match rules {
        0 => "tech tech-0",
        1 => "tech tech-1",
        2..=4 => "tech tech-2",
        _ => "tech tech-3",
    }
}

/// Tactics as columns, their techniques down each.
fn matrix_table(covered: &std::collections::BTreeMap<String, Coverage>) -> Markup {
    let matrix = matrix();
    html! {
        div.matrix-wrap tabindex="0" role="region" aria-label="ATT&CK matrix" {
            div.matrix #attack-matrix {
                @for (tactic, techniques) in &matrix {
                    @let done = techniques.iter().filter(|(id, _)| covered.contains_key(id)).count();
                    section.tactic aria-label=(tactic) {
                        h3 { (tactic) br; span.muted { (done) " of " (techniques.len()) } }
                        ul {
                            @for (id, name) in techniques {
                                @let c = covered.get(id).cloned().unwrap_or_default();
                                li class=(shade(c.rules)) title={ (id) " " (name) ": " (c.rules) " rules, " (c.alerts) " alerts" } {
                                    span.tech-name { (name) }
                                    @if c.alerts > 0 { " " span.threat-text { (format::count(c.alerts)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
