//! The HTML report: one page that opens from a file or a mail attachment,
//! with its style inline, charts as data-URI images and process trees as
//! nested `<details>` that fold without a script. Every value from the logs
//! goes through maud's escaping, and the page's Content-Security-Policy
//! allows no script and no fetch at all, so hostile log text stays text.

use base64::Engine as _;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::findings::{Findings, TreeOut};
use crate::processes::Forest;
use crate::quality;
use crate::tree::{self, Step};

/// Alerts listed in the page at most; the JSON and Markdown twins list all.
const MAX_ALERTS: usize = 500;

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
main{max-width:1200px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:24px;margin:8px 0}h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid #d5d9de;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}
.meta{color:#57606a}.summary{background:#fff;border:1px solid #d5d9de;border-radius:6px;padding:12px 16px}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}.kpi{background:#fff;border:1px solid #d5d9de;border-radius:6px;padding:8px 14px;min-width:120px}
.kpi b{display:block;font-size:22px}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0}th,td{border:1px solid #d5d9de;padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#eef1f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
.sev{font-weight:600;padding:1px 6px;border-radius:4px;color:#fff;white-space:nowrap}
.nw{white-space:nowrap}small{font-size:12px}td.g{font-size:12px;max-width:280px}
.critical{background:#c01c28}.high{background:#a8400a}.medium{background:#8a6100}.low{background:#2b6aa3}.informational{background:#6e7781}
.tree{background:#fff;border:1px solid #d5d9de;border-radius:6px;padding:8px 12px;font:13px/1.5 ui-monospace,Consolas,monospace}
.tree details{margin-left:18px}.tree summary{cursor:pointer}.tree ul{margin:0 0 0 18px;padding:0;list-style:none}
.tree .did{color:#57606a;margin-left:18px}.flag{color:#c01c28;font-weight:600}.alert{color:#a8400a;font-weight:600}
.chain{color:#57606a}
.heat td.n{min-width:18px}
img.chart{max-width:100%;background:#fff;border:1px solid #d5d9de;border-radius:6px;margin:6px 0}
@media (max-width:640px){main{padding:8px}table{font-size:12px}}
"#;

/// The whole page.
pub fn page(f: &Findings) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (f.title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main {
                    h1 { (f.title) }
                    p.meta {
                        "Made by rampart at " (f.generated_at) " from " (f.inputs.join(", "))
                        @if let (Some(a), Some(b)) = (&f.first, &f.last) { ". Events from " (a) " to " (b) " (UTC)." }
                    }
                    (kpis(f))
                    h2 id="summary" { "Summary" }
                    div.summary {
                        p { (f.summary) }
                        p.meta { "Account written by: " (f.summary_by) }
                    }
                    (alerts(f))
                    (attack(f))
                    (trees(f))
                    (quality_section(f))
                    (charts(f))
                    (stream(f))
                    h2 id="files" { "Files" }
                    ul {
                        @for name in &f.files {
                            li { a href=(name) { (name) } }
                        }
                    }
                }
            }
        }
    }
}

fn kpis(f: &Findings) -> Markup {
    let problems: u64 = f.sources.iter().map(|s| s.rows_with_problems).sum();
    html! {
        div.kpis {
            div.kpi { b { (f.events) } "events" }
            div.kpi { b { (f.sources.len()) } "sources" }
            div.kpi { b { (f.alerts.len()) } "alerts" }
            div.kpi { b { (f.techniques.len()) } "ATT&CK techniques" }
            div.kpi { b { (f.trees.len()) } "process trees" }
            div.kpi { b { (problems) } "rows with problems" }
        }
    }
}

fn alerts(f: &Findings) -> Markup {
    html! {
        h2 id="alerts" { "Alerts" }
        @if f.alerts.is_empty() {
            p { "No rule fired." }
        } @else {
            p {
                @for (i, (level, n)) in f.by_severity.iter().enumerate() {
                    @if i > 0 { ", " }
                    span class={"sev " (level)} { (level) } " " (n)
                }
            }
            table {
                thead { tr { th { "Severity" } th { "Alert" } th { "Events" } th { "First seen" } th { "Group" } th { "ATT&CK" } th { "Account" } } }
                tbody {
                    @for a in f.alerts.iter().take(MAX_ALERTS) {
                        tr {
                            td { span class={"sev " (a.severity.as_str())} { (a.severity.as_str()) } }
                            td { (a.title) br; small.meta { (a.rule_id) } }
                            td.n { (a.count) }
                            td.nw { (a.first_seen.as_deref().unwrap_or("").replace('T', " ").trim_end_matches('Z')) }
                            td.g { @for (k, v) in &a.group { (k) "=" (v) br; } }
                            td.nw { @for t in &a.techniques { a href=(super::technique_url(&t.id)) { (t.id) } " " } }
                            td { (a.summary) }
                        }
                    }
                }
            }
            @if f.alerts.len() > MAX_ALERTS {
                p.meta { (f.alerts.len() - MAX_ALERTS) " more alerts are in report.json and report.md." }
            }
        }
    }
}

fn attack(f: &Findings) -> Markup {
    html! {
        h2 id="attack" { "ATT&CK" }
        @if f.techniques.is_empty() {
            p { "No rule that fired names an ATT&CK technique." }
        } @else {
            p.meta { "Techniques come from the tags of the rules that fired, read through the ATT&CK catalogue." }
            table {
                thead { tr { th { "Technique" } th { "Name" } th { "Tactics" } th { "Alerts" } th { "Events" } th { "Rules" } } }
                tbody {
                    @for (id, u) in &f.techniques {
                        tr {
                            td { a href=(super::technique_url(id)) { (id) } }
                            td { (u.technique.as_ref().and_then(|t| t.name.clone()).unwrap_or_default()) }
                            td { (u.technique.as_ref().map(|t| t.tactics.join(", ")).unwrap_or_default()) }
                            td.n { (u.alerts) }
                            td.n { (u.events) }
                            td { (u.rules.join("; ")) }
                        }
                    }
                }
            }
            @if !f.technique_time.bins.is_empty() {
                h3 { "Techniques over time (alerts per bin)" }
                div style="overflow-x:auto" {
                    table.heat {
                        thead { tr { th { "Technique" } @for b in &f.technique_time.bins { th { (b) } } } }
                        tbody {
                            @for (id, per) in &f.technique_time.rows {
                                @let max = per.iter().copied().max().unwrap_or(1).max(1);
                                tr {
                                    td { (id) }
                                    @for n in per {
                                        @let shade = 255 - (*n * 150 / max) as u8;
                                        td.n style=(format!("background:rgb(255,{shade},{shade})")) { @if *n > 0 { (n) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn trees(f: &Findings) -> Markup {
    html! {
        h2 id="trees" { "Process trees" }
        @if f.trees.is_empty() {
            p { "No process tree: no process was asked for, and no alert names a process whose start was recorded." }
        }
        @if f.trees_left_out > 0 {
            p.meta { "The processes behind " (f.trees_left_out) " less severe alerts are not drawn; `--pid` draws any of them." }
        }
        @for t in &f.trees {
            h3 {
                (t.reason)
                @if !t.reason.starts_with("PID ") { " — tree of PID " (t.root_pid) }
            }
            div.tree { (tree_markup(&f.forest, t, f)) }
        }
    }
}

/// One tree as nested `<details>`, its ancestors as a chain above it.
fn tree_markup(forest: &Forest, t: &TreeOut, f: &Findings) -> Markup {
    // The walk gives steps in order; markup is built as a string of
    // escaped pieces so that nesting follows Enter and Leave.
    let mut s = String::new();
    for &a in t.tree.ancestors.iter().rev() {
        s.push_str(&html! { div.chain { "↑ " (forest.describe(a)) } }.into_string());
    }
    tree::walk(forest, t.tree.root, |_, step| {
        match step {
        Step::Enter(n) => {
            let node = &forest.nodes[n];
            s.push_str("<details open><summary>");
            s.push_str(&html! {
                (forest.describe(n))
                @for a in &node.anomalies { " " span.flag { "⚠ " (a.label()) } }
                @if let Some(titles) = f.alerted.get(&n) { " " span.alert { "alert: " (titles.join("; ")) } }
                @if let Some(c) = &node.process.command_line { br; small.meta { (c) } }
                @let hidden = tree::decoded(forest, n);
                @if !hidden.is_empty() { br; small.alert { "decoded: " (hidden.join(", ")) } }
            }.into_string());
            s.push_str("</summary>");
        }
        Step::Did(a) => s.push_str(&html! { div.did { (tree::activity(a)) } }.into_string()),
        Step::MoreActivity(k) => s.push_str(&html! { div.did { "… " (k) " more activities" } }.into_string()),
        Step::Again(n) => s.push_str(
            &html! { div.flag { "↺ PID " (forest.nodes[n].process.pid) " already shown above (a loop)" } }.into_string(),
        ),
        Step::Cut(k) => s.push_str(&html! { div.meta { "… " (k) " children not shown (tree too large)" } }.into_string()),
        Step::Leave => s.push_str("</details>"),
    }
    });
    PreEscaped(s)
}

fn quality_section(f: &Findings) -> Markup {
    html! {
        h2 id="quality" { "Data quality" }
        p.meta { "Measured from the data: each count is of rows found with the problem, and the action says what the report did with them." }
        table {
            thead { tr { th { "Source" } th { "Format" } th { "Rows" } th { "Events" } th { "Rows with problems" } } }
            tbody {
                @for s in &f.sources {
                    tr {
                        td { (s.path) @if let Some(e) = &s.error { br; span.flag { (e) } } }
                        td { (s.format.as_deref().unwrap_or("")) }
                        td.n { (s.rows) }
                        td.n { (s.events) }
                        td.n { (s.rows_with_problems) }
                    }
                }
            }
        }
        table {
            thead { tr { th { "Source" } th { "Problem" } th { "Rows" } th { "Columns" } th { "Action" } } }
            tbody {
                @for s in &f.sources {
                    @for (kind, issue) in &s.issues {
                        tr {
                            td { (s.path) }
                            td { (kind) }
                            td.n { (issue.rows) }
                            td { @for (c, n) in &issue.columns { (c) " " (n) br; } }
                            td { (quality::action(kind)) }
                        }
                    }
                }
            }
        }
        @for s in f.sources.iter().filter(|s| !s.examples.is_empty()) {
            h3 { "Lines of " (s.path) " that could not be read (first ones)" }
            ul { @for (line, why) in &s.examples { li { "line " (line) ": " (why) } } }
        }
    }
}

fn charts(f: &Findings) -> Markup {
    let b64 = base64::engine::general_purpose::STANDARD;
    html! {
        h2 id="charts" { "Charts" }
        @for c in &f.charts {
            h3 { (c.title) }
            img.chart alt=(c.title) src=(format!("data:image/svg+xml;base64,{}", b64.encode(&c.svg)));
        }
    }
}

fn stream(f: &Findings) -> Markup {
    html! {
        h2 id="stream" { "Unified event stream" }
        p.meta {
            "The first " (f.preview.len()) " of " (f.events) " events in time order"
            @if f.duplicates_dropped > 0 { " (" (f.duplicates_dropped) " exact duplicates left out)" }
            "; every event is in unified_events_enriched.csv."
        }
        table {
            thead { tr { th { "Time" } th { "PID" } th { "Type" } th { "Details" } th { "ATT&CK" } th { "Account" } } }
            tbody {
                @for r in &f.preview {
                    tr {
                        td { (r.timestamp) }
                        td.n { (r.process_id) }
                        td { (r.event_type) }
                        td { (r.event_details) }
                        td { (r.mitre_id) }
                        td { (r.llm_summary) }
                    }
                }
            }
        }
    }
}
