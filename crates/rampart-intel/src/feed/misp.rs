//! MISP exports: the attribute CSV (`restSearch` / "CSV export") and event
//! JSON. Only attributes flagged for detection (`to_ids`) are taken; other
//! attributes and types rampart does not match are counted as ignored.

use serde_json::Value as Json;

use super::csv_table::{reader, tags};
use super::{when, Feed, FeedOptions};
use crate::indicator::{normalise, Indicator, Kind};

/// The indicators a MISP attribute of type `kind` stands for; `None` when
/// rampart does not match that type. Composite types (`ip-dst|port`,
/// `filename|sha256`, `domain|ip`) give their matchable parts.
fn attribute(kind: &str, value: &str) -> Option<Vec<Result<(Kind, String), String>>> {
    let part = |i: usize| value.split('|').nth(i).unwrap_or("");
    let one = |k: Kind, v: &str| Some(vec![normalise(k, v)]);
    match kind {
        "ip-src" | "ip-dst" => one(Kind::Ip, value),
        "ip-src|port" | "ip-dst|port" => one(Kind::Ip, part(0)),
        "domain" | "hostname" => one(Kind::Domain, value),
        "hostname|port" => one(Kind::Domain, part(0)),
        "domain|ip" => Some(vec![
            normalise(Kind::Domain, part(0)),
            normalise(Kind::Ip, part(1)),
        ]),
        "url" => one(Kind::Url, value),
        "md5" => one(Kind::Md5, value),
        "sha1" => one(Kind::Sha1, value),
        "sha256" => one(Kind::Sha256, value),
        "filename|md5" => one(Kind::Md5, part(1)),
        "filename|sha1" => one(Kind::Sha1, part(1)),
        "filename|sha256" => one(Kind::Sha256, part(1)),
        _ => None,
    }
}

/// One attribute's indicators into the feed.
struct Attr<'a> {
    at: u64,
    kind: &'a str,
    value: &'a str,
    to_ids: bool,
    tags: Vec<String>,
    first_seen: Option<jiff::Timestamp>,
    last_seen: Option<jiff::Timestamp>,
}

fn take(attr: Attr<'_>, options: &FeedOptions, feed: &mut Feed) {
    let Some(found) = attribute(attr.kind, attr.value) else {
        feed.ignore("MISP attribute type rampart does not match");
        return;
    };
    if !attr.to_ids {
        feed.ignore("MISP attribute not flagged for detection (to_ids)");
        return;
    }
    for f in found {
        match f {
            Ok((kind, value)) => {
                let mut ind = Indicator::new(kind, value, &options.source);
                ind.tags.clone_from(&attr.tags);
                ind.first_seen = attr.first_seen;
                ind.last_seen = attr.last_seen;
                feed.indicators.push(ind);
            }
            Err(why) => feed.invalid(attr.at, why),
        }
    }
}

pub fn csv(text: &str, options: &FeedOptions, feed: &mut Feed) -> Result<(), String> {
    let mut rdr = reader(text);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| format!("bad CSV header: {e}"))?
        .iter()
        .map(str::to_owned)
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (type_col, value_col) = (
        col("type").ok_or("no type column")?,
        col("value").ok_or("no value column")?,
    );
    let (ids_col, date_col, tag_col) = (col("to_ids"), col("date"), col("attribute_tag"));
    for row in rdr.records() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                feed.invalid(
                    e.position().map_or(0, |p| p.line()),
                    format!("bad CSV row: {e}"),
                );
                continue;
            }
        };
        let get = |c: Option<usize>| c.and_then(|c| row.get(c)).unwrap_or("");
        take(
            Attr {
                at: row.position().map_or(0, |p| p.line()),
                kind: get(Some(type_col)),
                value: get(Some(value_col)),
                to_ids: !matches!(get(ids_col), "0" | "false" | "False"),
                tags: tags(get(tag_col)),
                first_seen: when(get(date_col)),
                last_seen: None,
            },
            options,
            feed,
        );
    }
    Ok(())
}

fn tag_names(v: Option<&Json>) -> Vec<String> {
    v.and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("name").and_then(Json::as_str).map(str::to_owned))
        .collect()
}

fn text_of(v: Option<&Json>) -> String {
    match v {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

pub fn json(text: &str, options: &FeedOptions, feed: &mut Feed) -> Result<(), String> {
    let doc: Json = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    // One event, a list of them, or a restSearch `response`.
    let events: Vec<&Json> = match &doc {
        Json::Array(items) => items.iter().collect(),
        Json::Object(o) => match o.get("response") {
            Some(Json::Array(items)) => items.iter().collect(),
            _ => vec![&doc],
        },
        _ => return Err("not a MISP event export".into()),
    };
    let mut at = 0u64;
    for item in events {
        let event = item.get("Event").unwrap_or(item);
        let event_tags = tag_names(event.get("Tag"));
        let attrs = event
            .get("Attribute")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .chain(
                event
                    .get("Object")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .flat_map(|o| {
                        o.get("Attribute")
                            .and_then(Json::as_array)
                            .into_iter()
                            .flatten()
                    }),
            );
        for a in attrs {
            at += 1;
            let kind = text_of(a.get("type"));
            let value = text_of(a.get("value"));
            let mut tags = event_tags.clone();
            tags.extend(tag_names(a.get("Tag")));
            let to_ids = match a.get("to_ids") {
                Some(Json::Bool(b)) => *b,
                Some(Json::String(s)) => !matches!(s.as_str(), "0" | "false"),
                Some(Json::Number(n)) => n.as_u64() != Some(0),
                _ => true,
            };
            take(
                Attr {
                    at,
                    kind: &kind,
                    value: &value,
                    to_ids,
                    tags,
                    first_seen: when(&text_of(a.get("first_seen"))),
                    last_seen: when(&text_of(a.get("last_seen")))
                        .or_else(|| when(&text_of(a.get("timestamp")))),
                },
                options,
                feed,
            );
        }
    }
    Ok(())
}
