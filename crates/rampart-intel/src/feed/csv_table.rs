//! CSV feeds with a header row: the header says which column holds the
//! value, and optionally its type, confidence, source, tags and times.

use super::{when, Feed, FeedOptions};
use crate::indicator::{classify, normalise, Indicator, Kind};

/// Column names that hold the indicator itself.
const VALUE: &[&str] = &[
    "indicator",
    "value",
    "ioc",
    "ioc_value",
    "dst_ip",
    "observable",
    "ip",
    "ip_address",
    "address",
    "domain",
    "url",
    "hash",
];
const TYPE: &[&str] = &["type", "kind", "indicator_type", "ioc_type"];
const CONFIDENCE: &[&str] = &["confidence", "confidence_level", "score", "level"];
const SOURCE: &[&str] = &["source", "feed", "provider"];
const TAGS: &[&str] = &["tags", "labels", "tag", "malware", "threat"];
const FIRST: &[&str] = &["first_seen", "firstseen", "first"];
const LAST: &[&str] = &["last_seen", "lastseen", "last"];
const EXPIRES: &[&str] = &["expires", "expiry", "expiration", "valid_until"];
/// A verdict column, as a scanner's report (VirusTotal's) has.
const VERDICT: &[&str] = &["verdict", "classification", "disposition"];

/// Verdicts that say the value is no threat: such a row of a report is not
/// an indicator.
fn harmless(verdict: &str) -> bool {
    matches!(
        verdict
            .to_ascii_lowercase()
            .replace([' ', '-'], "_")
            .as_str(),
        "clean"
            | "harmless"
            | "benign"
            | "undetected"
            | "not_found"
            | "notfound"
            | "safe"
            | "whitelisted"
            | "allowlisted"
            | "false_positive"
            | "unknown"
    )
}

/// A confidence as a number, or as the word a feed may use.
fn confidence(text: &str) -> Option<u32> {
    match text.to_ascii_lowercase().as_str() {
        "high" => Some(85),
        "medium" | "moderate" => Some(50),
        "low" => Some(15),
        other => other
            .parse::<f64>()
            .ok()
            .filter(|n| *n >= 0.0)
            .map(|n| n.round() as u32),
    }
}

/// The header of a feed that writes it as a comment, as abuse.ch's do
/// (`# first_seen_utc,dst_ip,dst_port,...`), uncommented: the last comment
/// line before the data that names a value column.
pub fn commented_header(text: &str) -> Option<&str> {
    text.lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with('#'))
        .filter_map(|l| l.strip_prefix('#'))
        .map(str::trim)
        .filter(|l| l.contains(',') && is_header(l))
        .last()
}

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
    // A commented header goes first; the other comment lines go. Line numbers
    // then count from the header.
    // ThreatFox also writes `", "` between quoted fields, where a CSV reader
    // would take the quotes after the space as text: the spaces go.
    let uncommented;
    let text = match commented_header(text) {
        Some(header) => {
            let data = text
                .lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .map(|l| l.replace("\", \"", "\",\""))
                .collect::<Vec<_>>()
                .join("\n");
            uncommented = format!("{header}\n{data}");
            uncommented.as_str()
        }
        None => text,
    };
    let mut rdr = reader(text);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| format!("bad CSV header: {e}"))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    // The first of `names` the header has: `tags` before `threat`.
    let col = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| header.iter().position(|h| h == n))
    };
    let value_col = col(VALUE).ok_or("no value column in the CSV header")?;
    let (type_col, conf_col, source_col, tags_col) =
        (col(TYPE), col(CONFIDENCE), col(SOURCE), col(TAGS));
    let (first_col, last_col, expires_col) = (col(FIRST), col(LAST), col(EXPIRES));
    let verdict_col = col(VERDICT);
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
        let verdict = field(verdict_col);
        if harmless(verdict) {
            feed.invalid(line, format!("verdict '{verdict}': not a threat"));
            continue;
        }
        let typed = match field(type_col) {
            "" => classify(value),
            // ThreatFox's `ip:port`: the address is the indicator.
            "ip:port" => {
                let address = value.rsplit_once(':').map_or(value, |(a, _)| a);
                normalise(Kind::Ip, address)
            }
            t => t
                .trim_end_matches("_hash")
                .parse::<Kind>()
                .and_then(|k| normalise(k, value)),
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
        // A confidence that is neither a number nor a word for one leaves
        // the indicator without one rather than losing it.
        ind.confidence = confidence(field(conf_col));
        ind.tags = tags(field(tags_col));
        if !verdict.is_empty() {
            ind.tags.push(verdict.to_ascii_lowercase());
        }
        ind.first_seen = when(field(first_col));
        ind.last_seen = when(field(last_col));
        ind.expires = when(field(expires_col));
        feed.indicators.push(ind);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{parse, FeedOptions, Format};

    /// A scanner's report lists harmless values too; only the threats are
    /// indicators, each tagged with its verdict.
    #[test]
    fn a_report_s_harmless_verdicts_are_not_indicators() {
        let report = "ioc,type,verdict,detections\n185.220.101.45,ip,MALICIOUS,72\n8.8.8.8,ip,CLEAN,0\n45.33.32.156,ip,SUSPICIOUS,3\n192.168.1.1,ip,not_found,\n";
        let feed = parse(report, Format::Csv, &FeedOptions::default()).unwrap();
        let values: Vec<&str> = feed.indicators.iter().map(|i| i.value.as_str()).collect();
        assert_eq!(values, ["185.220.101.45", "45.33.32.156"]);
        assert_eq!(feed.indicators[0].tags, ["malicious"]);
        let reasons: Vec<&str> = feed.invalid.iter().map(|i| i.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "verdict 'CLEAN': not a threat",
                "verdict 'not_found': not a threat"
            ]
        );
    }

    #[test]
    fn a_header_written_as_a_comment_is_read() {
        let feodo = "################################################################\n# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)            #\n################################################################\n#\n# first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware\n\"2021-01-17 07:44:46\",\"51.77.119.188\",\"447\",\"online\",\"2025-03-14\",\"Dridex\"\n\"2021-02-02 10:00:00\",\"203.0.113.80\",\"443\",\"offline\",\"2025-03-01\",\"QakBot\"\n# Number of entries: 2\n";
        assert_eq!(super::super::detect(feodo), Format::Csv);
        let feed = parse(feodo, Format::Csv, &FeedOptions::default()).unwrap();
        let values: Vec<&str> = feed.indicators.iter().map(|i| i.value.as_str()).collect();
        assert_eq!(values, ["51.77.119.188", "203.0.113.80"]);
        assert_eq!(feed.indicators[0].tags, ["Dridex"]);
        assert!(feed.invalid.is_empty(), "{:?}", feed.invalid);
    }

    #[test]
    fn threatfox_exports_are_read() {
        let sha = "a".repeat(64);
        let export = format!(
            "################################################################\n# ThreatFox IOCs: CSV export                                   #\n################################################################\n#\n# \"first_seen_utc\",\"ioc_id\",\"ioc_value\",\"ioc_type\",\"threat_type\",\"malware_printable\",\"confidence_level\",\"tags\"\n\"2024-05-01 10:00:00\", \"1234\", \"203.0.113.9:443\", \"ip:port\", \"botnet_cc\", \"Cobalt Strike\", \"100\", \"CobaltStrike\"\n\"2024-05-01 10:00:00\", \"1235\", \"evil.example.com\", \"domain\", \"botnet_cc\", \"Cobalt Strike\", \"75\", \"\"\n\"2024-05-01 10:00:00\", \"1236\", \"{sha}\", \"sha256_hash\", \"payload\", \"Mirai\", \"50\", \"elf,mirai\"\n"
        );
        let feed = parse(
            &export,
            super::super::detect(&export),
            &FeedOptions::default(),
        )
        .unwrap();
        assert!(feed.invalid.is_empty(), "{:?}", feed.invalid);
        let values: Vec<&str> = feed.indicators.iter().map(|i| i.value.as_str()).collect();
        assert_eq!(values, ["203.0.113.9", "evil.example.com", sha.as_str()]);
        assert_eq!(feed.indicators[0].confidence, Some(100));
        assert_eq!(feed.indicators[2].tags, ["elf", "mirai"]);
    }

    #[test]
    fn confidence_words_are_read_and_other_text_keeps_the_indicator() {
        let csv = "indicator,confidence\n203.0.113.1,High\n203.0.113.2,low\n203.0.113.3,very\n203.0.113.4,70\n";
        let feed = parse(csv, Format::Csv, &FeedOptions::default()).unwrap();
        let confidences: Vec<Option<u32>> = feed.indicators.iter().map(|i| i.confidence).collect();
        assert_eq!(confidences, [Some(85), Some(15), None, Some(70)]);
    }
}
