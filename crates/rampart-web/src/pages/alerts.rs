//! Alerts: the list (filtered by status, level, rule, host and text,
//! sorted by time, level or size, with assignees), one alert's page (its
//! rule's metadata, ATT&CK techniques, what matched, its events and its
//! history), and triage from that page: acknowledge, assign, close, false
//! positive, reopen, each with a note, kept with who did it, as `rampart
//! alerts` does.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use rampart_detect::alert::techniques;
use rampart_detect::Level;
use rampart_store::{AlertFilter, AlertOrder, Beside, Status, Step, StoredAlert, Triage, Triaged};
use serde::Deserialize;
use serde_json::Value as Json;

use super::layout::{self, Nav};
use super::Failure;
use crate::format;
use crate::rulebook::RuleInfo;
use crate::App;

/// Alerts a list shows at most.
const PAGE: u64 = 200;

/// The list's filters, as they live in the URL.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    statuses: Vec<Status>,
    min_level: Option<Level>,
    rule: Option<String>,
    host: Option<String>,
    search: Option<String>,
    order: AlertOrder,
}

fn order_key(order: AlertOrder) -> &'static str {
    match order {
        AlertOrder::Newest => "newest",
        AlertOrder::Oldest => "oldest",
        AlertOrder::Severity => "severity",
        AlertOrder::Count => "count",
    }
}

impl ListQuery {
    /// Reads a query string; bad values are refused by name.
    pub fn parse(query: Option<&str>) -> Result<ListQuery, String> {
        let mut list = ListQuery::default();
        for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            if value.len() > 256 {
                return Err(format!("{key}: a value longer than 256 bytes"));
            }
            let text = || (!value.is_empty()).then(|| value.clone().into_owned());
            match key.as_ref() {
                "status" if value.is_empty() => {}
                "status" => {
                    let status = Status::parse(&value).ok_or_else(|| {
                        format!(
                            "status: {value:?} is not open, acknowledged, closed or false-positive"
                        )
                    })?;
                    if !list.statuses.contains(&status) && list.statuses.len() < 4 {
                        list.statuses.push(status);
                    }
                }
                "severity" if value.is_empty() => {}
                "severity" => {
                    list.min_level = Some(Level::parse(&value).ok_or_else(|| {
                        format!(
                        "severity: {value:?} is not informational, low, medium, high or critical"
                    )
                    })?)
                }
                "rule" => list.rule = text(),
                "host" => list.host = text(),
                "q" => list.search = text(),
                "order" => {
                    list.order = match value.as_ref() {
                        "" | "newest" => AlertOrder::Newest,
                        "oldest" => AlertOrder::Oldest,
                        "severity" => AlertOrder::Severity,
                        "count" => AlertOrder::Count,
                        other => {
                            return Err(format!(
                                "order: {other:?} is not newest, oldest, severity or count"
                            ))
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(list)
    }

    /// The store's filter for the list.
    pub fn filter(&self) -> AlertFilter {
        AlertFilter {
            min_severity: self.min_level,
            rules: self.rule.iter().cloned().collect(),
            statuses: self.statuses.clone(),
            host: self.host.clone(),
            search: self.search.clone(),
            order: self.order,
            limit: Some(PAGE),
            ..AlertFilter::default()
        }
    }

    /// The query string of the list sorted by `order`, `?` included.
    fn sorted(&self, order: AlertOrder) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for status in &self.statuses {
            out.append_pair("status", status.as_str());
        }
        if let Some(level) = self.min_level {
            out.append_pair("severity", level.as_str());
        }
        for (key, value) in [
            ("rule", &self.rule),
            ("host", &self.host),
            ("q", &self.search),
        ] {
            if let Some(value) = value {
                out.append_pair(key, value);
            }
        }
        out.append_pair("order", order_key(order));
        format!("?{}", out.finish())
    }
}

/// `GET /alerts`.
pub async fn list(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, Failure> {
    let asked = ListQuery::parse(query.as_deref()).map_err(Failure::bad)?;
    let filter = asked.filter();
    let alerts = app.readers.read(move |store| store.alerts(&filter)).await?;
    // A column's heading: its name, a link that sorts by it unless the
    // list is sorted by it already (which `aria-sort` tells).
    let sort = |order: AlertOrder, name: &str| {
        html! {
            @if asked.order == order { (name) }
            @else { a href={ "/alerts" (asked.sorted(order)) } { (name) } }
        }
    };
    let sorted = |orders: &[(AlertOrder, &'static str)]| {
        orders
            .iter()
            .find(|(o, _)| *o == asked.order)
            .map(|(_, how)| *how)
    };
    let main = html! {
        h1 { "Alerts" }
        form.filters method="get" action="/alerts" aria-label="Alert filters" {
            fieldset.statuses {
                legend { "Status" }
                @for status in [Status::Open, Status::Acknowledged, Status::Closed, Status::FalsePositive] {
                    label.check {
                        input type="checkbox" name="status" value=(status.as_str())
                            checked[asked.statuses.contains(&status)];
                        " " (status.as_str())
                    }
                }
            }
            div.field {
                label for="severity" { "Level at least" }
                select #severity name="severity" {
                    option value="" { "any" }
                    @for level in [Level::Low, Level::Medium, Level::High, Level::Critical] {
                        option value=(level.as_str()) selected[asked.min_level == Some(level)] { (level.as_str()) }
                    }
                }
            }
            div.field {
                label for="rule" { "Rule id" }
                input #rule type="text" name="rule" value=(asked.rule.as_deref().unwrap_or(""));
            }
            div.field {
                label for="host" { "Host" }
                input #host type="text" name="host" value=(asked.host.as_deref().unwrap_or(""));
            }
            div.field {
                label for="q" { "Text" }
                input #q type="search" name="q" value=(asked.search.as_deref().unwrap_or(""));
            }
            input type="hidden" name="order" value=(order_key(asked.order));
            div.actions {
                button type="submit" { "Apply" }
                a href="/alerts" { "Clear" }
            }
        }
        @if alerts.is_empty() {
            p.empty { "No alerts match." }
        } @else {
            p.range-note {
                (alerts.len()) " alerts"
                @if alerts.len() as u64 == PAGE { " (the first " (PAGE) "; narrow the filters to see others)" }
                "."
            }
            div.table-wrap tabindex="0" role="region" aria-label="Alerts" {
                table.data #alerts {
                    thead { tr {
                        th scope="col" aria-sort=[sorted(&[(AlertOrder::Newest, "descending"), (AlertOrder::Oldest, "ascending")])] {
                            (sort(AlertOrder::Newest, "Time")) " "
                            @if asked.order == AlertOrder::Oldest { span { "(oldest first)" } }
                            @else { a.small href={ "/alerts" (asked.sorted(AlertOrder::Oldest)) } { "oldest first" } } }
                        th scope="col" aria-sort=[sorted(&[(AlertOrder::Severity, "descending")])] { (sort(AlertOrder::Severity, "Level")) }
                        th scope="col" { "Title" }
                        th scope="col" { "Rule" }
                        th scope="col" { "Host" }
                        th scope="col" { "Source" }
                        th scope="col" aria-sort=[sorted(&[(AlertOrder::Count, "descending")])] { (sort(AlertOrder::Count, "Events")) }
                        th scope="col" { "Status" }
                        th scope="col" { "Assignee" }
                    } }
                    tbody {
                        @for a in &alerts {
                            @let group = a.group();
                            tr {
                                td { (format::maybe_time(a.time)) }
                                td { span class=(format::level_class(a.severity)) { (a.severity.as_str()) } }
                                td { a href={ "/alerts/" (a.id) } { (a.title) } }
                                td { code { (a.rule_id) } }
                                td { (field(&group, "host.name")) }
                                td { (field(&group, "source.ip")) }
                                td.num { (format::count(a.count)) }
                                td { span class={ "status status-" (a.status) } { (a.status) } }
                                td { (a.assignee.as_deref().unwrap_or("—")) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(Html(
        layout::page("Alerts", Nav::Alerts, main).into_string(),
    ))
}

/// The value of `name` in an alert's group, or a dash.
fn field<'g>(group: &'g [(String, String)], name: &str) -> &'g str {
    group
        .iter()
        .find(|(k, _)| k == name)
        .map_or("—", |(_, v)| v.as_str())
}

/// `GET /alerts/{id}`.
pub async fn one(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Html<String>, Failure> {
    let wanted = id.clone();
    let found = app
        .readers
        .read(move |store| {
            let Some(alert) = store.alert(&wanted)? else {
                return Ok(None);
            };
            let history = store.history(&alert.id)?;
            Ok(Some((alert, history)))
        })
        .await?;
    let Some((alert, history)) = found else {
        return Err(Failure::missing(format!("no alert {id}")));
    };
    let rule = app.rules.get(&alert.rule_id);
    let main = alert_page(&alert, rule, &history, app.guard.form_token(), &app.user);
    Ok(Html(
        layout::page(&alert.title, Nav::Alerts, main).into_string(),
    ))
}

/// An alert's page; `rule` is its rule when the console has it loaded.
fn alert_page(
    alert: &StoredAlert,
    rule: Option<&RuleInfo>,
    history: &[Step],
    form_token: &str,
    user: &str,
) -> Markup {
    let doc: Json = serde_json::from_str(&alert.doc).unwrap_or(Json::Null);
    let strings = |name: &str| -> Vec<String> {
        doc.get(name)
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut tags = strings("tags");
    let mut references = strings("references");
    if let Some(rule) = rule {
        if tags.is_empty() {
            tags = rule.tags.clone();
        }
        if references.is_empty() {
            references = rule.references.clone();
        }
    }
    let author = doc
        .get("author")
        .and_then(Json::as_str)
        .or_else(|| rule.and_then(|r| r.author.as_deref()));
    let found = techniques(&tags);
    let events = doc
        .get("events")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    let matched = doc
        .get("matched")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    let group = alert.group();
    let indicator = group.iter().any(|(k, _)| k == "indicator");
    html! {
        p.crumbs { a href="/alerts" { "Alerts" } " / " code { (alert.id) } }
        h1 { (alert.title) }
        div.alert-head {
            span class=(format::level_class(alert.severity)) { (alert.severity.as_str()) }
            span class={ "status status-" (alert.status) } #status { (alert.status) }
            span { "Assignee: " strong #assignee { (alert.assignee.as_deref().unwrap_or("nobody")) } }
            span { (format::count(alert.count)) " events" }
            span { "At " (format::maybe_time(alert.time)) }
        }
        div.grid {
            div.panel {
                h2 { "Rule" }
                @match rule {
                    Some(rule) => {
                        p.rule-title { strong { (rule.title) } }
                        @if let Some(d) = &rule.description { p.rule-description { (d) } }
                    },
                    None => p.muted { "This rule is not loaded in the console (start it with --rules to see its description)." },
                }
                dl {
                    dt { "Id" } dd { code { (alert.rule_id) } }
                    @if let Some(rule) = rule {
                        dt { "Level" } dd { (rule.level.as_str()) }
                        @if let Some(status) = &rule.status { dt { "Status" } dd { (status) } }
                    }
                    @if let Some(author) = author { dt { "Author" } dd { (author) } }
                    @if !group.is_empty() {
                        dt { "Group" }
                        dd { @for (k, v) in &group { code { (k) "=" (v) } " " } }
                    }
                    @if !tags.is_empty() { dt { "Tags" } dd { @for t in &tags { code { (t) } " " } } }
                }
                @if !references.is_empty() {
                    h3 { "References" }
                    ul { @for r in &references {
                        li { @if r.starts_with("https://") || r.starts_with("http://") {
                            a href=(r) rel="noreferrer noopener" { (r) }
                        } @else { (r) } }
                    } }
                }
                @if !found.is_empty() {
                    h3 { "ATT&CK techniques" }
                    ul { @for t in &found {
                        li { @match t.info {
                            Some(info) => { a href=(info.url) rel="noreferrer noopener" { (t.id) } " " (info.name) " (" (info.tactics.join(", ")) ")" },
                            None => code { (t.id) },
                        } }
                    } }
                }
            }
            div.panel {
                h2 { "Triage" }
                form.triage method="post" action={ "/alerts/" (alert.id) "/triage" } {
                    input type="hidden" name="token" value=(form_token);
                    div.field {
                        label for="action" { "Action" }
                        select #action name="action" {
                            option value="acknowledge" { "Acknowledge" }
                            option value="assign" { "Assign" }
                            option value="close" { "Close" }
                            option value="false-positive" { "False positive" }
                            option value="reopen" { "Reopen" }
                        }
                    }
                    div.field {
                        label for="assignee-input" { "Assign to (for Assign)" }
                        input #assignee-input type="text" name="assignee" maxlength="128";
                    }
                    fieldset.options {
                        legend { "With a false positive" }
                        label.check {
                            input type="checkbox" name="suppress" value="on";
                            " also silence this rule for this group"
                        }
                        @if indicator {
                            label.check {
                                input type="checkbox" name="deactivate" value="on";
                                " also switch the indicator off in the IOC database"
                            }
                        }
                    }
                    div.field {
                        label for="note" { "Note" }
                        textarea #note name="note" rows="3" maxlength="4000" {}
                    }
                    div.field {
                        label for="user" { "As" }
                        input #user type="text" name="user" value=(user) maxlength="128" required;
                    }
                    div.actions { button type="submit" { "Apply" } }
                }
                h3 { "History" }
                @if history.is_empty() { p.empty { "No triage yet." } }
                @else {
                    ol.history #history { @for step in history {
                        li {
                            (format::time(step.time)) " — " strong { (step.user) } " " (step.action)
                            @if let Some(s) = &step.status { " → " (s) }
                            @if let Some(a) = &step.assignee { " → " (a) }
                            @if let Some(n) = &step.note { br; q { (n) } }
                        }
                    } }
                }
            }
        }
        @if !matched.is_empty() {
            div.panel.wide {
                h2 { "What matched" }
                table.data { thead { tr { th scope="col" { "Search" } th scope="col" { "Field" } th scope="col" { "Value" } } }
                    tbody { @for m in &matched { tr {
                        td { (m.get("search").and_then(Json::as_str).unwrap_or("")) }
                        td { code { (m.get("field").and_then(Json::as_str).unwrap_or("")) } }
                        td { (m.get("value").and_then(Json::as_str).unwrap_or("")) }
                    } } }
                }
            }
        }
        div.panel.wide {
            h2 { "Events (" (events.len()) ")" }
            @if events.is_empty() { p.empty { "The alert holds no events." } }
            @for event in &events {
                details.event {
                    summary {
                        (event.get("@timestamp").and_then(Json::as_str).unwrap_or("—")) " "
                        (event.get("message").and_then(Json::as_str)
                            .or_else(|| event.pointer("/event/original").and_then(Json::as_str))
                            .unwrap_or(""))
                    }
                    pre { (serde_json::to_string_pretty(event).unwrap_or_default()) }
                }
            }
        }
    }
}

/// A triage form as posted.
#[derive(Debug, Deserialize)]
pub struct TriageForm {
    token: String,
    action: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    suppress: Option<String>,
    #[serde(default)]
    deactivate: Option<String>,
}

/// A triage action by its name in forms and the API, with the assignee
/// for `assign` (none to unassign).
pub fn triage_of(action: &str, assignee: &str) -> Result<Triage, String> {
    Ok(match action {
        "acknowledge" | "ack" => Triage::Set(Status::Acknowledged),
        "close" => Triage::Set(Status::Closed),
        "false-positive" | "fp" => Triage::Set(Status::FalsePositive),
        "reopen" => Triage::Set(Status::Open),
        "assign" => {
            let who = assignee.trim();
            Triage::Assign((!who.is_empty()).then(|| who.to_owned()))
        }
        other => {
            return Err(format!(
                "{other:?} is not acknowledge, assign, close, false-positive or reopen"
            ))
        }
    })
}

/// A triage step as the form or the API asks for it.
pub struct Asked<'a> {
    pub action: &'a str,
    pub assignee: &'a str,
    pub note: &'a str,
    /// Who takes it; the server's user when blank.
    pub user: &'a str,
    pub beside: Beside,
}

/// Applies `asked` to the alert `id`, its texts bounded; a step that
/// cannot be taken says why.
pub async fn apply(app: &App, id: String, asked: Asked<'_>) -> Result<Triaged, String> {
    let step = triage_of(asked.action, &bounded(asked.assignee, 128))?;
    let user = Some(bounded(asked.user, 128))
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| app.user.clone());
    let note = Some(bounded(asked.note, 4000)).filter(|n| !n.is_empty());
    let beside = asked.beside;
    app.readers
        .read(move |store| store.triage_beside(&id, &step, (&user, note.as_deref()), beside))
        .await
        .map_err(|e| e.0)
}

/// Text from a form, trimmed and bounded.
pub fn bounded(text: &str, most: usize) -> String {
    text.trim().chars().take(most).collect()
}

/// `POST /alerts/{id}/triage`: applies the step, then shows the alert.
pub async fn triage(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Form(form): Form<TriageForm>,
) -> Result<Response, Failure> {
    if !app.guard.accepts_form(&form.token) {
        return Err(Failure::forbidden(
            "this form is from an earlier run of the server: reload the page and try again",
        ));
    }
    let asked = Asked {
        action: &form.action,
        assignee: &form.assignee,
        note: &form.note,
        user: &form.user,
        beside: Beside {
            suppress: form.suppress.is_some(),
            deactivate_ioc: form.deactivate.is_some(),
        },
    };
    let done = apply(&app, id, asked).await.map_err(Failure::bad)?;
    Ok(Redirect::to(&format!("/alerts/{}", urlencode(&done.alert.id))).into_response())
}

/// A path segment with everything but unreserved characters escaped.
pub fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
