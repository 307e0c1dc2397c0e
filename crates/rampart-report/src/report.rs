//! From what was collected to what is written: the sorted stream walked
//! once (unified and enriched CSVs, time drift), the process forest and the
//! trees to draw, ATT&CK over the alerts, charts, the accounts, and the
//! HTML, Markdown, JSON and CSV files.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use rampart_engine::output::neutralise;

use crate::charts::{self, Chart};
use crate::collect::Collector;
use crate::facts::{self, AlertFacts};
use crate::findings::{ChartOut, Enriched, Findings, Formats, Options, TechniqueTime, TreeOut};
use crate::processes::{Activity, Anomaly};
use crate::row::Row;
use crate::text::{basename, seed_time};
use crate::tree;

/// Rows dated this many days or more outside the bulk of the data have
/// drifted (a clock a year off is the usual cause).
const DRIFT_DAYS: i64 = 365;
/// The bulk of the data: the times between these quantiles.
const BULK: (f64, f64) = (0.01, 0.99);
/// Processes behind alerts whose trees are drawn, at most (the most
/// severe alerts' first).
const MAX_ALERT_PROCESSES: usize = 50;
/// Rows of the stream shown in the HTML and Markdown reports.
const PREVIEW: usize = 200;
/// Bins of a chart over time, at most.
const MAX_BINS: usize = 60;
/// Bin widths in minutes, from the finest.
const WIDTHS: &[i64] = &[
    1, 5, 10, 15, 30, 60, 180, 360, 720, 1440, 10080, 43200, 525600,
];

/// Time bins over a span of minutes: at most [`MAX_BINS`], the finest
/// width of [`WIDTHS`] that fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bins {
    /// The first bin's start (minutes since the epoch).
    start: i64,
    /// Each bin's width in minutes.
    width: i64,
    /// How many.
    n: usize,
}

impl Bins {
    fn over(first: i64, last: i64) -> Bins {
        let span = (last - first).max(0) + 1;
        let width = WIDTHS
            .iter()
            .copied()
            .find(|w| (span + w - 1) / w <= MAX_BINS as i64)
            .unwrap_or(525_600);
        let start = first.div_euclid(width) * width;
        let n = ((last.div_euclid(width) * width - start) / width + 1) as usize;
        Bins { start, width, n }
    }

    /// The bin of `minute`, when it falls in one.
    fn of(&self, minute: i64) -> Option<usize> {
        let i = (minute - self.start).div_euclid(self.width);
        (0..self.n as i64).contains(&i).then_some(i as usize)
    }

    /// Each bin's label.
    fn labels(&self) -> Vec<String> {
        let fmt = if self.width >= 1440 {
            "%Y-%m-%d"
        } else {
            "%m-%d %H:%M"
        };
        (0..self.n)
            .map(|i| {
                let minute = self.start + i as i64 * self.width;
                jiff::Timestamp::from_second(minute * 60)
                    .unwrap_or_default()
                    .strftime(fmt)
                    .to_string()
            })
            .collect()
    }

    /// How many of `alerts` fall in each bin.
    fn alerts<'a>(&self, alerts: impl Iterator<Item = &'a AlertFacts>) -> Vec<u64> {
        let mut per = vec![0u64; self.n];
        for i in alerts.filter_map(alert_minute).filter_map(|m| self.of(m)) {
            per[i] += 1;
        }
        per
    }
}

fn minute_text(minute: i64) -> Option<String> {
    jiff::Timestamp::from_second(minute * 60)
        .ok()
        .map(seed_time)
}

/// Makes the report from what `collector` gathered and writes it.
pub fn finish(mut collector: Collector, options: &Options) -> io::Result<Findings> {
    if let Some(e) = collector.error.take() {
        return Err(e);
    }
    let out = &options.out;
    let mut files: Vec<String> = Vec::new();
    if let Some(cleaned) = collector.cleaned.take() {
        for p in cleaned.finish()? {
            files.push(name_in(out, &p));
        }
    }
    let mut forest = std::mem::take(&mut collector.gatherer).forest();
    let mut sources = std::mem::take(&mut collector.sources);
    for s in &mut sources {
        s.finish();
    }
    for node in &forest.nodes {
        if node.anomalies.contains(&Anomaly::ChildBeforeParent) {
            sources[node.process.source as usize].add("child-before-parent", 1);
        }
    }
    for &src in &forest.reuses {
        sources[src as usize].add("pid-reused", 1);
    }

    // The bulk of the data, and the span without drifted rows.
    let counts = &collector.counts;
    let timed: u64 = counts.minutes.values().sum();
    let quantile = |q: f64| {
        let want = ((timed as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        counts.minutes.iter().find_map(|(m, n)| {
            seen += n;
            (seen >= want).then_some(*m)
        })
    };
    let bulk = quantile(BULK.0).zip(quantile(BULK.1));
    let day = |m: i64| m.div_euclid(24 * 60);
    let near = |m: i64| {
        bulk.is_none_or(|(lo, hi)| day(m) > day(lo) - DRIFT_DAYS && day(m) < day(hi) + DRIFT_DAYS)
    };
    let first_minute = counts.minutes.keys().copied().find(|m| near(*m));
    let last_minute = counts.minutes.keys().rev().copied().find(|m| near(*m));

    // Techniques of each event, by where it was read.
    let mut alerts = std::mem::take(&mut collector.alerts);
    alerts.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.first_seen.cmp(&b.first_seen))
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut asker = options.llm.clone().map(crate::llm::Asker::new);
    if let Some(asker) = asker.as_mut() {
        // One request is kept for the whole investigation's account.
        asker.reserve = 1;
        for a in &mut alerts {
            let facts = serde_json::to_value(&*a).unwrap_or_default();
            let (text, by) = asker.ask(&facts, &a.summary);
            a.summary = text;
            a.summary_by = by;
        }
    }
    let mut marked: HashMap<(&str, u64), Vec<&facts::Technique>> = HashMap::new();
    for a in &alerts {
        for (path, line) in &a.events {
            let list = marked.entry((path.as_str(), *line)).or_default();
            for t in &a.techniques {
                if !list.contains(&t) {
                    list.push(t);
                }
            }
        }
    }

    // Trees of the processes asked for and of those behind alerts.
    // The alerts are most severe first: the processes of the first
    // MAX_ALERT_PROCESSES are drawn, the rest counted.
    let mut alerted: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut processes_left_out = 0u64;
    for a in &alerts {
        if let Some(p) = &a.process {
            if let Some(node) = forest.owner(&p.actor, p.time) {
                if !alerted.contains_key(&node) && alerted.len() == MAX_ALERT_PROCESSES {
                    processes_left_out += 1;
                    continue;
                }
                let titles = alerted.entry(node).or_default();
                if !titles.contains(&a.title) {
                    titles.push(a.title.clone());
                }
            }
        }
    }
    let chosen = tree::choose(&forest, &options.pids, &alerted);
    // What the processes in them did is attached as the stream goes by.
    let mut shown: std::collections::HashSet<usize> = std::collections::HashSet::new();
    for t in &chosen {
        tree::walk(&forest, t.root, |_, step| {
            if let tree::Step::Enter(n) = step {
                shown.insert(n);
            }
        });
    }

    // One walk of the sorted stream.
    let mut unified = if options.formats.csv {
        let mut w = csv::Writer::from_writer(BufWriter::new(File::create(
            out.join("unified_events.csv"),
        )?));
        w.write_record(["timestamp", "process_id", "event_type", "event_details"])
            .map_err(io::Error::other)?;
        let mut e = csv::Writer::from_writer(BufWriter::new(File::create(
            out.join("unified_events_enriched.csv"),
        )?));
        e.write_record([
            "timestamp",
            "process_id",
            "event_type",
            "event_details",
            "llm_summary",
            "mitre_technique",
            "mitre_id",
            "mitre_tactic",
        ])
        .map_err(io::Error::other)?;
        files.push("unified_events.csv".to_owned());
        files.push("unified_events_enriched.csv".to_owned());
        Some((w, e))
    } else {
        None
    };
    let mut preview = Vec::new();
    let mut drift: Vec<u64> = vec![0; sources.len()];
    let sorter = std::mem::take(&mut collector.sorter);
    for (row_no, row) in sorter.finish()?.enumerate() {
        let row: Row = row?;
        if let Some(actor) = &row.actor {
            if let Some(node) = forest.owner(actor, row.time).filter(|n| shown.contains(n)) {
                forest.attach(
                    node,
                    Activity {
                        time: row.time,
                        kind: row.kind.clone(),
                        text: row.details.clone(),
                    },
                );
            }
        }
        if let Some(t) = row.timestamp() {
            if !near(t.as_second().div_euclid(60)) {
                drift[row.source as usize] += 1;
            }
        }
        let techniques = sources
            .get(row.source as usize)
            .and_then(|s| marked.get(&(s.path.as_str(), row.line)));
        let mut enriched = enrich(&row, techniques.map(Vec::as_slice).unwrap_or(&[]));
        if let Some(asker) = asker.as_mut().filter(|a| row_no < a.events()) {
            let facts = serde_json::to_value(&enriched).unwrap_or_default();
            enriched.llm_summary = asker.ask(&facts, &enriched.llm_summary).0;
        }
        if let Some((w, e)) = unified.as_mut() {
            let head = [
                enriched.timestamp.as_str(),
                enriched.process_id.as_str(),
                &neutralise(&enriched.event_type),
                &neutralise(&enriched.event_details),
            ];
            w.write_record(head).map_err(io::Error::other)?;
            e.write_record(head.into_iter().chain([
                &*neutralise(&enriched.llm_summary),
                &enriched.mitre_technique,
                &enriched.mitre_id,
                &enriched.mitre_tactic,
            ]))
            .map_err(io::Error::other)?;
        }
        if preview.len() < PREVIEW {
            preview.push(enriched);
        }
    }
    if let Some((w, e)) = unified {
        w.into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?
            .flush()?;
        e.into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?
            .flush()?;
    }
    for (s, n) in sources.iter_mut().zip(&drift) {
        s.add("time-drift", *n);
    }

    let trees: Vec<TreeOut> = chosen
        .into_iter()
        .map(|t| {
            let mut anomalies = 0;
            tree::walk(&forest, t.root, |_, step| {
                if let tree::Step::Enter(n) = step {
                    anomalies += usize::from(!forest.nodes[n].anomalies.is_empty());
                }
            });
            TreeOut {
                reason: t.reason.clone(),
                root_pid: forest.nodes[t.root].process.pid,
                anomalies,
                text: tree::text(&forest, &t, &alerted),
                tree: t,
            }
        })
        .collect();

    // ATT&CK over time, in the bins of the timeline.
    let techniques = facts::techniques(&alerts);
    let span = first_minute.zip(last_minute);
    let bins = span.map(|(f, l)| Bins::over(f, l));
    let mut technique_time = TechniqueTime::default();
    if let Some(bins) = bins {
        technique_time.bins = bins.labels();
        for id in techniques.keys() {
            let with = alerts
                .iter()
                .filter(|a| a.techniques.iter().any(|t| &t.id == id));
            technique_time.rows.push((id.clone(), bins.alerts(with)));
        }
    }

    let mut by_severity: Vec<(String, u64)> = Vec::new();
    for level in [
        rampart_detect::Level::Critical,
        rampart_detect::Level::High,
        rampart_detect::Level::Medium,
        rampart_detect::Level::Low,
        rampart_detect::Level::Informational,
    ] {
        let n = alerts.iter().filter(|a| a.severity == level).count() as u64;
        if n > 0 {
            by_severity.push((level.as_str().to_owned(), n));
        }
    }
    let mut event_types: Vec<(String, u64)> =
        counts.kinds.iter().map(|(k, n)| (k.clone(), *n)).collect();
    event_types.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let duplicates_dropped = sources
        .iter()
        .filter_map(|s| s.issues.get("exact-duplicate"))
        .map(|i| i.rows)
        .sum();

    let mut findings = Findings {
        title: options.title.clone(),
        generated_at: jiff::Timestamp::now().to_string(),
        inputs: options.inputs.clone(),
        events: collector.rows,
        duplicates_dropped,
        first: first_minute.and_then(minute_text),
        last: last_minute.and_then(minute_text),
        untimed: counts.untimed,
        bulk: bulk.and_then(|(a, b)| minute_text(a).zip(minute_text(b))),
        summary: String::new(),
        summary_by: "template".to_owned(),
        llm: None,
        sources,
        event_types,
        alerts,
        by_severity,
        techniques,
        technique_time,
        trees,
        charts: Vec::new(),
        preview,
        files,
        forest,
        alerted,
        trees_left_out: processes_left_out,
    };
    findings.charts = draw_charts(
        &collector.counts,
        &findings,
        span.zip(bins),
        out,
        options.formats,
    )?;
    for c in &findings.charts {
        findings.files.push(format!("{}.svg", c.name));
        if options.formats.html || options.formats.md {
            findings.files.push(format!("{}.png", c.name));
        }
    }
    findings
        .files
        .extend(crate::write::names(options).into_iter().map(str::to_owned));
    findings.summary = crate::summary::investigation(&findings);
    if let Some(mut asker) = asker {
        asker.reserve = 0;
        let facts = serde_json::json!({
            "events": findings.events,
            "first": findings.first,
            "last": findings.last,
            "alerts": findings.alerts.iter().take(20).map(|a| serde_json::json!({
                "title": a.title,
                "severity": a.severity.as_str(),
                "count": a.count,
                "first_seen": a.first_seen,
                "group": a.group,
                "techniques": a.techniques,
            })).collect::<Vec<_>>(),
            "alerts_total": findings.alerts.len(),
            "techniques": findings.techniques.keys().collect::<Vec<_>>(),
            "trees": findings.trees.iter().map(|t| &t.reason).collect::<Vec<_>>(),
            "sources": findings.sources.iter().map(|s| serde_json::json!({
                "path": s.path, "rows": s.rows, "rows_with_problems": s.rows_with_problems,
            })).collect::<Vec<_>>(),
        });
        let (text, by) = asker.ask(&facts, &findings.summary);
        findings.summary = text;
        findings.summary_by = by;
        findings.llm = Some(asker.usage);
    }
    crate::write::all(&findings, options)?;
    Ok(findings)
}

fn alert_minute(a: &AlertFacts) -> Option<i64> {
    a.first_seen
        .as_deref()
        .or(a.timestamp.as_deref())
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_second().div_euclid(60))
}

fn name_in(out: &Path, path: &Path) -> String {
    path.strip_prefix(out).unwrap_or(path).display().to_string()
}

/// One row of the enriched stream.
fn enrich(row: &Row, techniques: &[&facts::Technique]) -> Enriched {
    let join = |f: &dyn Fn(&facts::Technique) -> String| {
        techniques
            .iter()
            .map(|t| f(t))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut tactics: Vec<String> = techniques.iter().flat_map(|t| t.tactics.clone()).collect();
    tactics.sort();
    tactics.dedup();
    Enriched {
        timestamp: row.time_text(),
        process_id: row.pid.map(|p| p.to_string()).unwrap_or_default(),
        event_type: row.kind.clone(),
        event_details: row.details.clone(),
        llm_summary: row.summary.clone(),
        mitre_technique: join(&|t| t.name.clone().unwrap_or_default()),
        mitre_id: join(&|t| t.id.clone()),
        mitre_tactic: tactics.join("; "),
    }
}

fn draw_charts(
    counts: &crate::collect::Counts,
    f: &Findings,
    span: Option<((i64, i64), Bins)>,
    out: &Path,
    formats: Formats,
) -> io::Result<Vec<ChartOut>> {
    let mut charts: Vec<(String, Chart)> = Vec::new();
    charts.push((
        "event_type_distribution".to_owned(),
        Chart::Bars {
            title: "Events by type".to_owned(),
            unit: "events".to_owned(),
            bars: charts::fold(f.event_types.clone()),
        },
    ));
    if let Some(((first, last), bins)) = span {
        let mut per = vec![0u64; bins.n];
        for (m, c) in counts.minutes.range(first..=last) {
            if let Some(i) = bins.of(*m) {
                per[i] += c;
            }
        }
        charts.push((
            "event_timeline".to_owned(),
            Chart::Stacked {
                title: format!("Events over time ({} per bar)", width_text(bins.width)),
                unit: "events".to_owned(),
                bins: bins.labels(),
                series: vec![("events".to_owned(), per)],
            },
        ));
        if !f.alerts.is_empty() {
            let series = f
                .by_severity
                .iter()
                .rev()
                .map(|(level, _)| {
                    let of_level = f.alerts.iter().filter(|a| a.severity.as_str() == level);
                    (level.clone(), bins.alerts(of_level))
                })
                .collect();
            charts.push((
                "alerts_by_severity".to_owned(),
                Chart::Stacked {
                    unit: "alerts".to_owned(),
                    title: format!(
                        "Alerts by severity over time ({} per bar)",
                        width_text(bins.width)
                    ),
                    bins: bins.labels(),
                    series,
                },
            ));
        }
    }
    fn top<K: Clone + Ord>(map: &HashMap<K, u64>) -> Vec<(K, u64)> {
        let mut v: Vec<(K, u64)> = map.iter().map(|(k, n)| (k.clone(), *n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(10);
        v
    }
    if !counts.processes.is_empty() {
        let bars = top(&counts.processes)
            .into_iter()
            .map(|(pid, n)| {
                // Named by the image of the first process that had the PID.
                let name = f
                    .forest
                    .instances(pid)
                    .first()
                    .and_then(|&i| f.forest.nodes[i].process.executable.clone());
                let label = match name {
                    Some(exe) => format!("PID {pid} ({})", basename(&exe)),
                    None => format!("PID {pid}"),
                };
                (label, n)
            })
            .collect();
        charts.push((
            "top_talkers".to_owned(),
            Chart::Bars {
                title: "Top processes by events".to_owned(),
                unit: "events".to_owned(),
                bars,
            },
        ));
    }
    if !counts.addresses.is_empty() {
        charts.push((
            "top_addresses".to_owned(),
            Chart::Bars {
                title: "Top source addresses by events".to_owned(),
                unit: "events".to_owned(),
                bars: top(&counts.addresses)
                    .into_iter()
                    .map(|(ip, n)| (ip.to_string(), n))
                    .collect(),
            },
        ));
    }
    let mut drawn = Vec::new();
    for (name, chart) in charts {
        let png = (formats.html || formats.md).then(|| out.join(format!("{name}.png")));
        let svg = charts::draw(&chart, png.as_deref()).map_err(io::Error::other)?;
        std::fs::write(out.join(format!("{name}.svg")), &svg)?;
        let title = match &chart {
            Chart::Bars { title, .. } | Chart::Stacked { title, .. } => title.clone(),
        };
        drawn.push(ChartOut { name, title, svg });
    }
    Ok(drawn)
}

fn width_text(minutes: i64) -> String {
    match minutes {
        m if m % 1440 == 0 => format!("{} day{}", m / 1440, if m == 1440 { "" } else { "s" }),
        m if m % 60 == 0 => format!("{} hour{}", m / 60, if m == 60 { "" } else { "s" }),
        m => format!("{m} minute{}", if m == 1 { "" } else { "s" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_fit_the_span() {
        assert_eq!(
            Bins::over(0, 59),
            Bins {
                start: 0,
                width: 1,
                n: 60
            }
        );
        let b = Bins::over(0, 120);
        assert_eq!((b.width, b.n), (5, 25));
        assert_eq!((b.of(119), b.of(125), b.of(-1)), (Some(23), None, None));
        let b = Bins::over(100, 100 + 3 * 1440);
        assert!(b.n <= MAX_BINS && b.width == 180, "{b:?}");
        assert!(Formats::parse("html,csv").unwrap().csv);
        assert!(Formats::parse("pdf").is_err());
    }
}
