//! STIX 2.1 bundles: `indicator` objects with STIX patterns. Each
//! comparison `[type:property = 'value']` of an address, domain, URL or
//! file hash is an indicator; a pattern that joins observables with `AND`
//! or `FOLLOWEDBY` describes more than one value and is not reduced to one.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value as Json;

use super::{when, Feed, FeedOptions};
use crate::indicator::{normalise, Indicator, Kind};

fn comparison() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"([a-z0-9-]+):([A-Za-z0-9_.\-']+)\s*=\s*'((?:[^'\\]|\\.)*)'")
            .expect("the comparison pattern is valid")
    })
}

/// The kind a STIX object path stands for.
fn kind_of(object: &str, property: &str) -> Option<Kind> {
    let hash = |p: &str| {
        let name = p
            .strip_prefix("hashes.")?
            .trim_matches('\'')
            .to_ascii_uppercase();
        match name.as_str() {
            "MD5" => Some(Kind::Md5),
            "SHA-1" | "SHA1" => Some(Kind::Sha1),
            "SHA-256" | "SHA256" => Some(Kind::Sha256),
            _ => None,
        }
    };
    match (object, property) {
        ("ipv4-addr" | "ipv6-addr", "value") => Some(Kind::Ip),
        ("domain-name", "value") => Some(Kind::Domain),
        ("url", "value") => Some(Kind::Url),
        ("file", p) => hash(p),
        _ => None,
    }
}

pub fn bundle(text: &str, options: &FeedOptions, feed: &mut Feed) -> Result<(), String> {
    let doc: Json = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let objects: Vec<&Json> = match &doc {
        Json::Array(items) => items.iter().collect(),
        Json::Object(o) => match o.get("objects") {
            Some(Json::Array(items)) => items.iter().collect(),
            _ => vec![&doc],
        },
        _ => return Err("not a STIX bundle".into()),
    };
    for (i, object) in objects.into_iter().enumerate() {
        let at = i as u64 + 1;
        if object.get("type").and_then(Json::as_str) != Some("indicator") {
            feed.ignore("STIX object that is not an indicator");
            continue;
        }
        if object.get("revoked").and_then(Json::as_bool) == Some(true) {
            feed.ignore("revoked STIX indicator");
            continue;
        }
        if object
            .get("pattern_type")
            .and_then(Json::as_str)
            .is_some_and(|t| t != "stix")
        {
            feed.ignore("STIX indicator whose pattern is not a STIX pattern");
            continue;
        }
        let Some(pattern) = object.get("pattern").and_then(Json::as_str) else {
            feed.invalid(at, "STIX indicator without a pattern");
            continue;
        };
        if pattern.contains(" AND ") || pattern.contains("FOLLOWEDBY") {
            feed.ignore("STIX pattern joining observables with AND or FOLLOWEDBY");
            continue;
        }
        let text = |k: &str| object.get(k).and_then(Json::as_str).unwrap_or("");
        let confidence = object
            .get("confidence")
            .and_then(Json::as_u64)
            .and_then(|c| u32::try_from(c).ok());
        let labels: Vec<String> = object
            .get("labels")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(|l| l.as_str().map(str::to_owned))
            .collect();
        let mut found = 0;
        for c in comparison().captures_iter(pattern) {
            let Some(kind) = kind_of(&c[1], &c[2]) else {
                continue;
            };
            found += 1;
            let value = c[3].replace("\\'", "'").replace("\\\\", "\\");
            match normalise(kind, &value) {
                Ok((kind, value)) => {
                    let mut ind = Indicator::new(kind, value, &options.source);
                    ind.confidence = confidence;
                    ind.tags.clone_from(&labels);
                    ind.first_seen = when(text("valid_from"));
                    ind.expires = when(text("valid_until"));
                    feed.indicators.push(ind);
                }
                Err(why) => feed.invalid(at, why),
            }
        }
        if found == 0 {
            feed.ignore("STIX pattern on observables rampart does not match");
        }
    }
    Ok(())
}
