//! What a report says, as data: the findings every writer (HTML,
//! Markdown, JSON) and the accounts are made from, and the options a
//! report is made with.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::facts::{AlertFacts, TechniqueUse};
use crate::processes::Forest;
use crate::quality;
use crate::tree::Tree;

/// Which files to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    /// `report.html`.
    pub html: bool,
    /// `report.md`, `process_tree.md`, `errors.md`.
    pub md: bool,
    /// The unified, enriched and cleaned CSVs.
    pub csv: bool,
    /// `report.json`.
    pub json: bool,
}

impl Formats {
    /// Every format.
    pub const ALL: Formats = Formats {
        html: true,
        md: true,
        csv: true,
        json: true,
    };

    /// Reads `html,md,csv,json` (any of them, in any order).
    pub fn parse(list: &str) -> Result<Formats, String> {
        let mut f = Formats {
            html: false,
            md: false,
            csv: false,
            json: false,
        };
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "html" => f.html = true,
                "md" | "markdown" => f.md = true,
                "csv" => f.csv = true,
                "json" => f.json = true,
                other => {
                    return Err(format!(
                        "unknown report format {other:?} (html, md, csv, json)"
                    ))
                }
            }
        }
        if f == (Formats {
            html: false,
            md: false,
            csv: false,
            json: false,
        }) {
            return Err("no report format given (html, md, csv, json)".to_owned());
        }
        Ok(f)
    }
}

/// How the report is made.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where it goes (made if missing).
    pub out: PathBuf,
    /// Which files.
    pub formats: Formats,
    /// Processes whose trees to draw, besides those behind alerts.
    pub pids: Vec<i64>,
    /// What the inputs were, as the user named them.
    pub inputs: Vec<String>,
    /// The report's title.
    pub title: String,
    /// A language model to write the accounts, when one is given.
    pub llm: Option<crate::llm::Settings>,
}

/// One drawn process tree.
#[derive(Debug, Clone, Serialize)]
pub struct TreeOut {
    /// Why it is drawn.
    pub reason: String,
    /// The PID at its root.
    pub root_pid: i64,
    /// Processes in it with a problem.
    pub anomalies: usize,
    /// The tree as indented text.
    pub text: String,
    /// Which tree, for drawing it again.
    #[serde(skip)]
    pub tree: Tree,
}

/// One chart.
#[derive(Debug, Clone, Serialize)]
pub struct ChartOut {
    /// Its file name without extension.
    pub name: String,
    /// Its caption.
    pub title: String,
    /// Its SVG.
    #[serde(skip)]
    pub svg: String,
}

/// Alerts per technique per time bin.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TechniqueTime {
    /// The bins' labels.
    pub bins: Vec<String>,
    /// Each technique and its alerts per bin.
    pub rows: Vec<(String, Vec<u64>)>,
}

/// A row of the enriched stream.
#[derive(Debug, Clone, Serialize)]
pub struct Enriched {
    /// `2025-03-01 09:00:21`.
    pub timestamp: String,
    /// The PID, or empty.
    pub process_id: String,
    /// The kind.
    pub event_type: String,
    /// The facts.
    pub event_details: String,
    /// The account of the event.
    pub llm_summary: String,
    /// Technique names of the rules that matched it.
    pub mitre_technique: String,
    /// Their ids.
    pub mitre_id: String,
    /// Their tactics.
    pub mitre_tactic: String,
}

/// Everything a report says.
#[derive(Serialize)]
pub struct Findings {
    /// Its title.
    pub title: String,
    /// When it was made (RFC 3339).
    pub generated_at: String,
    /// The inputs as named.
    pub inputs: Vec<String>,
    /// Events in the unified stream.
    pub events: u64,
    /// Exact duplicates left out of it.
    pub duplicates_dropped: u64,
    /// The earliest time (seed 003's layout), drifted rows aside.
    pub first: Option<String>,
    /// The latest time, drifted rows aside.
    pub last: Option<String>,
    /// Events without a time.
    pub untimed: u64,
    /// The span of the bulk of the data (the middle 98 % of times) that
    /// time drift is measured from.
    pub bulk: Option<(String, String)>,
    /// The investigation's account.
    pub summary: String,
    /// Where it came from.
    pub summary_by: String,
    /// What was asked of a language model, when one was given.
    pub llm: Option<crate::llm::Usage>,
    /// Each source's quality.
    pub sources: Vec<quality::Source>,
    /// Events per kind, most first.
    pub event_types: Vec<(String, u64)>,
    /// The alerts, most severe first, then earliest.
    pub alerts: Vec<AlertFacts>,
    /// Alerts per level, highest first.
    pub by_severity: Vec<(String, u64)>,
    /// Techniques named by the alerts.
    pub techniques: BTreeMap<String, TechniqueUse>,
    /// Alerts per technique over time.
    pub technique_time: TechniqueTime,
    /// Process trees drawn.
    pub trees: Vec<TreeOut>,
    /// Alerts whose process's tree was not drawn (past the bound, the
    /// least severe).
    pub trees_left_out: u64,
    /// Charts drawn.
    pub charts: Vec<ChartOut>,
    /// The first rows of the enriched stream.
    pub preview: Vec<Enriched>,
    /// Files written, relative to the output folder.
    pub files: Vec<String>,
    /// The process forest the trees are drawn from.
    #[serde(skip)]
    pub forest: Forest,
    /// Alert titles per process node.
    #[serde(skip)]
    pub alerted: BTreeMap<usize, Vec<String>>,
}
