//! Line formats: plain indicator lists and IPsum.

use super::{Feed, FeedOptions};
use crate::indicator::{classify, normalise, Indicator, Kind};

/// A line without its comment: whole-line `#` comments and ` # ...` after
/// a value (a URL's `#fragment` has no space before it and stays).
fn content(line: &str) -> &str {
    let line = line.trim();
    if line.starts_with('#') {
        return "";
    }
    match line.find(" #").or_else(|| line.find("\t#")) {
        Some(at) => line[..at].trim(),
        None => line,
    }
}

/// Whether a line reads as `address<TAB or spaces>number`.
pub fn is_ipsum_line(line: &str) -> bool {
    let mut parts = line.split_whitespace();
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(ip), Some(n), None) if ip.parse::<std::net::IpAddr>().is_ok() && n.parse::<u32>().is_ok()
    )
}

/// One indicator per line, its kind guessed from its shape.
pub fn plain(text: &str, options: &FeedOptions, feed: &mut Feed) {
    for (i, line) in text.lines().enumerate() {
        let value = content(line);
        if value.is_empty() {
            continue;
        }
        match classify(value) {
            Ok((kind, value)) => feed
                .indicators
                .push(Indicator::new(kind, value, &options.source)),
            Err(why) => feed.invalid(i as u64 + 1, why),
        }
    }
}

/// IPsum: the number of blocklists an address is on becomes its confidence.
pub fn ipsum(text: &str, options: &FeedOptions, feed: &mut Feed) {
    for (i, line) in text.lines().enumerate() {
        let value = content(line);
        if value.is_empty() {
            continue;
        }
        let mut parts = value.split_whitespace();
        let (Some(ip), count) = (parts.next(), parts.next()) else {
            continue;
        };
        let lists = match count.map(str::parse::<u32>) {
            Some(Ok(n)) => n,
            None => 1,
            Some(Err(_)) => {
                feed.invalid(
                    i as u64 + 1,
                    format!("'{}' is not a number of lists", count.unwrap_or("")),
                );
                continue;
            }
        };
        match normalise(Kind::Ip, ip) {
            Ok((kind, value)) if lists >= options.ipsum_min_lists => {
                let mut ind = Indicator::new(kind, value, &options.source);
                ind.confidence = Some(lists);
                feed.indicators.push(ind);
            }
            Ok(_) => feed.ignore("on fewer lists than --ipsum-min-lists"),
            Err(why) => feed.invalid(i as u64 + 1, why),
        }
    }
}
