//! Feed files: plain lists, IPsum, CSV with a header, MISP CSV and JSON
//! exports, STIX 2.1 bundles. The format is recognised from the text, each
//! entry becomes an [`Indicator`] in normal form, and every entry that is
//! not one is reported with its line (or object) and the reason, never
//! dropped in silence.

mod csv_table;
mod download;
mod lines;
mod misp;
mod stix;

use std::path::Path;

pub use download::fetch;

use crate::indicator::Indicator;

/// The feed formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One indicator per line, `#` comments.
    Plain,
    /// IPsum: `address<TAB>number of lists`.
    Ipsum,
    /// CSV with a header naming the value column (and type, confidence, ...).
    Csv,
    /// MISP attribute CSV export.
    MispCsv,
    /// MISP event JSON export.
    MispJson,
    /// STIX 2.1 bundle of indicators.
    Stix,
}

impl Format {
    /// The format's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Plain => "plain list",
            Format::Ipsum => "IPsum",
            Format::Csv => "CSV",
            Format::MispCsv => "MISP CSV",
            Format::MispJson => "MISP JSON",
            Format::Stix => "STIX 2.1",
        }
    }
}

/// How a feed is read.
#[derive(Debug, Clone)]
pub struct FeedOptions {
    /// The source name indicators are stamped with (the file name by default).
    pub source: String,
    /// IPsum entries on fewer lists than this are left out.
    pub ipsum_min_lists: u32,
}

impl Default for FeedOptions {
    fn default() -> Self {
        FeedOptions {
            source: "feed".into(),
            ipsum_min_lists: 1,
        }
    }
}

/// An entry that is not an indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The line (text formats) or the object's position from 1 (JSON).
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// What a feed holds.
#[derive(Debug, Default)]
pub struct Feed {
    /// The format it was read as.
    pub format: Option<Format>,
    /// The indicators.
    pub indicators: Vec<Indicator>,
    /// Entries that are not indicators.
    pub invalid: Vec<Invalid>,
    /// Entries left out on purpose (below `--ipsum-min-lists`, MISP
    /// attributes not meant for detection, revoked STIX indicators, types
    /// rampart does not match), with the reason and how many.
    pub ignored: Vec<(String, u64)>,
}

impl Feed {
    fn ignore(&mut self, reason: &str) {
        match self.ignored.iter_mut().find(|(r, _)| r == reason) {
            Some((_, n)) => *n += 1,
            None => self.ignored.push((reason.to_owned(), 1)),
        }
    }

    fn invalid(&mut self, line: u64, reason: impl Into<String>) {
        self.invalid.push(Invalid {
            line,
            reason: reason.into(),
        });
    }

    /// How many entries were ignored.
    pub fn ignored_total(&self) -> u64 {
        self.ignored.iter().map(|(_, n)| n).sum()
    }
}

/// The format of a feed's text.
pub fn detect(text: &str) -> Format {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let head: String = trimmed.chars().take(4096).collect();
        return if head.contains("\"Event\"") || head.contains("\"Attribute\"") {
            Format::MispJson
        } else {
            Format::Stix
        };
    }
    let mut data = trimmed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    if text.lines().take(5).any(|l| l.contains("IPsum")) {
        return Format::Ipsum;
    }
    let Some(first) = data.next() else {
        return Format::Plain;
    };
    let lower = first.to_ascii_lowercase();
    if lower.starts_with("uuid,event_id,category,type,value") {
        return Format::MispCsv;
    }
    if (first.contains(',') && csv_table::is_header(first))
        || csv_table::commented_header(trimmed).is_some()
    {
        return Format::Csv;
    }
    if lines::is_ipsum_line(first) {
        return Format::Ipsum;
    }
    Format::Plain
}

/// Reads a feed's text in `format`; `Err` when the whole text cannot be
/// read as it (JSON that does not parse).
pub fn parse(text: &str, format: Format, options: &FeedOptions) -> Result<Feed, String> {
    let text = text.trim_start_matches('\u{feff}');
    let mut feed = Feed {
        format: Some(format),
        ..Feed::default()
    };
    match format {
        Format::Plain => lines::plain(text, options, &mut feed),
        Format::Ipsum => lines::ipsum(text, options, &mut feed),
        Format::Csv => csv_table::generic(text, options, &mut feed)?,
        Format::MispCsv => misp::csv(text, options, &mut feed)?,
        Format::MispJson => misp::json(text, options, &mut feed)?,
        Format::Stix => stix::bundle(text, options, &mut feed)?,
    }
    // What has already expired is history, not a current indicator.
    let now = jiff::Timestamp::now();
    let before = feed.indicators.len();
    feed.indicators.retain(|i| !i.expired(now));
    for _ in feed.indicators.len()..before {
        feed.ignore("expired");
    }
    Ok(feed)
}

/// Reads the feed file at `path`, recognising its format; the source is the
/// file name unless `options` names one.
pub fn read_file(path: &Path, options: &FeedOptions) -> Result<Feed, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut options = options.clone();
    if options.source == FeedOptions::default().source {
        options.source = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
    }
    parse(&text, detect(&text), &options).map_err(|e| format!("{}: {e}", path.display()))
}

/// A time as feeds write it: RFC 3339, a date (midnight UTC), or Unix
/// seconds (MISP).
fn when(text: &str) -> Option<jiff::Timestamp> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Some(t);
    }
    if let Ok(d) = text.parse::<jiff::civil::Date>() {
        return d
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    if let Ok(dt) = text.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    text.parse::<i64>()
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
}
