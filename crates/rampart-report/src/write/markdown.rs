//! The Markdown twin of the report, and seed 003's `process_tree.md` and
//! `errors.md` (the latter now measured, not written by hand). Log text in
//! tables has its pipes and line breaks escaped so a row stays a row.

use std::fmt::Write;

use crate::findings::Findings;
use crate::quality;

/// A table cell: pipes escaped, lines joined, markup characters inert.
fn cell(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => s.push_str("\\|"),
            '\n' | '\r' => s.push(' '),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '`' | '*' | '_' | '[' | ']' => {
                s.push('\\');
                s.push(c);
            }
            c => s.push(c),
        }
    }
    s
}

/// The whole report.
pub fn report(f: &Findings) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", cell(&f.title));
    let _ = writeln!(
        s,
        "Made by rampart at {} from {}.\n",
        f.generated_at,
        cell(&f.inputs.join(", "))
    );
    let _ = writeln!(
        s,
        "## Summary\n\n{}\n\n(Account written by: {}.)\n",
        cell(&f.summary),
        f.summary_by
    );
    let _ = writeln!(s, "## Alerts\n");
    if f.alerts.is_empty() {
        let _ = writeln!(s, "No rule fired.\n");
    } else {
        let _ = writeln!(
            s,
            "| severity | alert | events | first seen | ATT&CK | account |"
        );
        let _ = writeln!(s, "| --- | --- | ---: | --- | --- | --- |");
        for a in &f.alerts {
            let ids: Vec<&str> = a.techniques.iter().map(|t| t.id.as_str()).collect();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                a.severity.as_str(),
                cell(&a.title),
                a.count,
                a.first_seen.as_deref().unwrap_or(""),
                ids.join(", "),
                cell(&a.summary)
            );
        }
        s.push('\n');
    }
    let _ = writeln!(s, "## ATT&CK\n");
    if f.techniques.is_empty() {
        let _ = writeln!(s, "No rule that fired names an ATT&CK technique.\n");
    } else {
        let _ = writeln!(s, "| technique | name | tactics | alerts | events |");
        let _ = writeln!(s, "| --- | --- | --- | ---: | ---: |");
        for (id, u) in &f.techniques {
            let t = u.technique.as_ref();
            let _ = writeln!(
                s,
                "| {id} | {} | {} | {} | {} |",
                cell(&t.and_then(|t| t.name.clone()).unwrap_or_default()),
                t.map(|t| t.tactics.join(", ")).unwrap_or_default(),
                u.alerts,
                u.events
            );
        }
        s.push('\n');
    }
    let _ = writeln!(s, "## Process trees\n");
    s.push_str(&trees(f));
    let _ = writeln!(s, "\n## Data quality\n");
    s.push_str(&quality_tables(f));
    let _ = writeln!(s, "\n## Charts\n");
    for c in &f.charts {
        let _ = writeln!(s, "![{}]({}.png)\n", cell(&c.title), c.name);
    }
    let _ = writeln!(
        s,
        "## Unified event stream (first {} of {})\n",
        f.preview.len(),
        f.events
    );
    let _ = writeln!(
        s,
        "| timestamp | process_id | event_type | event_details | mitre_id |"
    );
    let _ = writeln!(s, "| --- | ---: | --- | --- | --- |");
    for r in &f.preview {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            r.timestamp,
            r.process_id,
            cell(&r.event_type),
            cell(&r.event_details),
            r.mitre_id
        );
    }
    s
}

/// The process trees, as seed 003's `process_tree.md` draws them.
pub fn trees(f: &Findings) -> String {
    if f.trees.is_empty() {
        return "No process tree: no process was asked for, and no alert names a process whose start was recorded.\n".to_owned();
    }
    let mut s = String::new();
    if f.trees_left_out > 0 {
        let _ = writeln!(
            s,
            "The processes behind {} less severe alerts are not drawn; `--pid` draws any of them.\n",
            f.trees_left_out
        );
    }
    for t in &f.trees {
        if t.reason.starts_with("PID ") {
            let _ = writeln!(s, "### {}\n", cell(&t.reason));
        } else {
            let _ = writeln!(s, "### {} (tree of PID {})\n", cell(&t.reason), t.root_pid);
        }
        // Tree lines are list items; only what would break the list is escaped.
        for line in t.text.lines() {
            let _ = writeln!(s, "{}", line.replace('<', "&lt;").replace('>', "&gt;"));
        }
        s.push('\n');
    }
    s
}

fn quality_tables(f: &Findings) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| source | format | rows | events | rows with problems |"
    );
    let _ = writeln!(s, "| --- | --- | ---: | ---: | ---: |");
    for src in &f.sources {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            cell(&src.path),
            src.format.as_deref().unwrap_or(""),
            src.rows,
            src.events,
            src.rows_with_problems
        );
    }
    let _ = writeln!(s, "\n| source | problem | rows | columns | action |");
    let _ = writeln!(s, "| --- | --- | ---: | --- | --- |");
    for src in &f.sources {
        for (kind, issue) in &src.issues {
            let columns: Vec<String> = issue
                .columns
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect();
            let _ = writeln!(
                s,
                "| {} | {kind} | {} | {} | {} |",
                cell(&src.path),
                issue.rows,
                cell(&columns.join(", ")),
                quality::action(kind)
            );
        }
    }
    for src in f.sources.iter().filter(|s| !s.examples.is_empty()) {
        let _ = writeln!(
            s,
            "\nLines of {} that could not be read (first ones):\n",
            cell(&src.path)
        );
        for (line, why) in &src.examples {
            let _ = writeln!(s, "- line {line}: {}", cell(why));
        }
    }
    s
}

/// `errors.md`: the data-quality report alone.
pub fn quality(f: &Findings) -> String {
    let mut s = String::from("# Data quality issues and what was done\n\n");
    let rows: u64 = f.sources.iter().map(|s| s.rows).sum();
    let problems: u64 = f.sources.iter().map(|s| s.rows_with_problems).sum();
    let _ = writeln!(
        s,
        "Measured from the data by rampart: {rows} rows read from {} sources, {problems} with problems found inside the row; problems between rows (time drift, a child started before its parent, a reused PID) are counted below too.",
        f.sources.len()
    );
    if let Some((a, b)) = &f.bulk {
        let _ = writeln!(
            s,
            "Time drift is measured from the span of the middle 98% of times, {a} to {b}."
        );
    }
    s.push('\n');
    s.push_str(&quality_tables(f));
    s
}
