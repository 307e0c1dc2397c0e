//! CSV feeds with a header row: the header says which column holds the
//! value, and optionally its type, confidence, source, tags and times.

use super::{when, Feed, FeedOptions};
use crate::indicator::{classify, normalise, Indicator, Kind};

/// Column names that hold the indicator itself.
const VALUE: &[&str] = &[
    "indicator",
    "value",
    "ioc",
    "observable",
    "ip",
    "ip_address",
    "address",
    "domain",
    "url",
    "hash",
];
const TYPE: &[&str] = &["type", "kind", "indicator_type", "ioc_type"];
const CONFIDENCE: &[&str] = &["confidence", "score", "level"];
const SOURCE: &[&str] = &["source", "feed", "provider"];
const TAGS: &[&str] = &["tags", "labels", "tag"];
const FIRST: &[&str] = &["first_seen", "firstseen", "first"];
const LAST: &[&str] = &["last_seen", "lastseen", "last"];
const EXPIRES: &[&str] = &["expires", "expiry", "expiration", "valid_until"];

/// Whether a line looks like a header naming a value column.
pub fn is_header(line: &str) -> bool {
    line.split(',')
        .any(|c| VALUE.contains(&c.trim().trim_matches('"').to_ascii_lowercase().as_str()))
}

/// The CSV reader all CSV feeds use: flexible rows, trimmed fields.
pub fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes())
}

/// Splits a tags field (`a;b`, `a, b`, `a|b`).
pub fn tags(text: &str) -> Vec<String> {
    text.split([';', ',', '|'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

pub fn generic(text: &str, options: &FeedOptions, feed: &mut Feed) -> Result<(), String> {
    let mut rdr = reader(text);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| format!("bad CSV header: {e}"))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let col = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
    let value_col = col(VALUE).ok_or("no value column in the CSV header")?;
    let (type_col, conf_col, source_col, tags_col) =
        (col(TYPE), col(CONFIDENCE), col(SOURCE), col(TAGS));
    let (first_col, last_col, expires_col) = (col(FIRST), col(LAST), col(EXPIRES));
    for row in rdr.records() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                feed.invalid(line, format!("bad CSV row: {e}"));
                continue;
            }
        };
        let line = row.position().map_or(0, |p| p.line());
        let field = |c: Option<usize>| c.and_then(|c| row.get(c)).unwrap_or("");
        let value = field(Some(value_col));
        if value.is_empty() {
            feed.invalid(line, "empty value");
            continue;
        }
        let typed = match field(type_col) {
            "" => classify(value),
            t => t.parse::<Kind>().and_then(|k| normalise(k, value)),
        };
        let (kind, value) = match typed {
            Ok(found) => found,
            Err(why) => {
                feed.invalid(line, why);
                continue;
            }
        };
        let source = match field(source_col) {
            "" => options.source.as_str(),
            s => s,
        };
        let mut ind = Indicator::new(kind, value, source);
        match field(conf_col) {
            "" => {}
            c => match c.parse::<f64>() {
                Ok(n) if n >= 0.0 => ind.confidence = Some(n.round() as u32),
                _ => {
                    feed.invalid(line, format!("confidence '{c}' is not a number"));
                    continue;
                }
            },
        }
        ind.tags = tags(field(tags_col));
        ind.first_seen = when(field(first_col));
        ind.last_seen = when(field(last_col));
        ind.expires = when(field(expires_col));
        feed.indicators.push(ind);
    }
    Ok(())
}
