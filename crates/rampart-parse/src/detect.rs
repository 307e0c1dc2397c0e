//! Recognising a file's format from its first lines.
//!
//! Structured formats announce themselves in their first bytes (`{`, `<Event`,
//! `#fields`, `Date:`). Line formats are tried on every sampled line and the
//! one that reads the most wins; a CSV header is the fallback. The choice is
//! per file, and lines the chosen format cannot read are retried per line
//! against the other line formats.

use crate::context::FileContext;
use crate::formats::{self, csv::looks_like_csv, Format, Kind};

/// How many non-blank lines detection looks at.
pub const SAMPLE_LINES: usize = 64;
/// How many bytes detection looks at, at most.
pub const SAMPLE_BYTES: usize = 256 * 1024;

fn named(name: &str) -> Option<&'static Format> {
    formats::by_name(name)
}

/// The format of a file whose first lines are `sample`; `None` if no format
/// reads any of them.
pub fn detect(sample: &[&str], ctx: &FileContext) -> Option<&'static Format> {
    let lines: Vec<&str> = sample
        .iter()
        .map(|l| l.trim_start_matches('\u{feff}'))
        .filter(|l| !l.trim().is_empty())
        .collect();
    let first = lines.first()?.trim_start();
    if first.starts_with("<?xml")
        || first.starts_with("<Events")
        || first.starts_with("<Event ")
        || first.starts_with("<Event>")
    {
        return named("windows-xml");
    }
    let array_start = first.strip_prefix('[').is_some_and(|rest| {
        let rest = rest.trim_start();
        rest.is_empty() || rest.starts_with(['{', ']'])
    });
    let record_header = first.starts_with("Record ")
        && lines
            .get(1)
            .is_some_and(|l| l.trim_start().starts_with('{'));
    if first.starts_with('{') || array_start || record_header {
        return named("json");
    }
    if first.starts_with("#separator") || first.starts_with("#fields") || first.starts_with("#path")
    {
        return named("zeek");
    }
    if first.starts_with("Date:") && lines.iter().any(|l| l.starts_with("Event Type:")) {
        return named("endpoint-av");
    }
    let shared: Vec<std::sync::Arc<str>> = lines.iter().map(|l| (*l).into()).collect();
    let mut best: Option<(&'static Format, usize)> = None;
    for format in formats::line_formats() {
        let Kind::Line(make) = format.kind else {
            continue;
        };
        let mut parser = make(ctx);
        let hits = shared
            .iter()
            .enumerate()
            .filter(|(i, l)| parser.parse(ctx, *i as u64 + 1, l).is_some())
            .count();
        if hits > best.map_or(0, |(_, h)| h) {
            best = Some((format, hits));
        }
    }
    match best {
        Some((format, hits)) if hits * 2 >= lines.len() => Some(format),
        _ if looks_like_csv(&lines) => named("csv"),
        Some((format, _)) => Some(format),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    fn name(sample: &[&str]) -> Option<&'static str> {
        let ctx = FileContext::new("x", ParseOptions::default());
        detect(sample, &ctx).map(|f| f.name)
    }

    #[test]
    fn first_bytes_and_line_votes() {
        assert_eq!(name(&["", "{\"a\":1}"]), Some("json"));
        assert_eq!(name(&["<Events>"]), Some("windows-xml"));
        assert_eq!(name(&["[", "{\"a\":1}", "]"]), Some("json"));
        assert_eq!(
            name(&[
                "[Sun Dec 04 04:47:44 2005] [error] [client 192.0.2.1] File does not exist: /x"
            ]),
            Some("web-error")
        );
        assert_eq!(name(&["2023-07-23 21:36:36,227 - ids_logger_1 - low_severity - TCP - 192.0.2.1:5 --> 192.0.2.2:6 - SYN - Port scanning"]), Some("ids"));
        assert_eq!(name(&["2025/03/14 10:01:02 [error] 1234#1234: *5 open() failed, client: 203.0.113.7, server: x"]), Some("web-error"));
        assert_eq!(name(&["#separator \\x09"]), Some("zeek"));
        assert_eq!(name(&["Mar 14 03:22:14 web01 sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2"]), Some("syslog"));
        assert_eq!(
            name(&["192.0.2.1 - - [14/Mar/2025:10:01:01 +0000] \"GET / HTTP/1.1\" 200 5"]),
            Some("web-access")
        );
        assert_eq!(
            name(&[
                "process_id,file_path,operation,timestamp,user",
                "1,C:/x,read,2025-03-01 09:00:00,bob"
            ]),
            Some("csv")
        );
        assert_eq!(name(&["complete nonsense", "more of it"]), None);
    }
}
