//! What is looked up and what comes back: the kinds VirusTotal knows, the
//! values that must never be sent, and a report row with the VT Bulk
//! Enricher's columns and verdicts.

use std::net::IpAddr;

use serde_json::Value as Json;

/// What a value is looked up as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VtKind {
    /// An IP address.
    Ip,
    /// A domain.
    Domain,
    /// A file hash (MD5, SHA-1 or SHA-256).
    Hash,
}

impl VtKind {
    /// The name used in reports and the cache.
    pub fn as_str(self) -> &'static str {
        match self {
            VtKind::Ip => "ip",
            VtKind::Domain => "domain",
            VtKind::Hash => "hash",
        }
    }

    /// The API path of a value.
    pub fn path(self, value: &str) -> String {
        match self {
            VtKind::Ip => format!("/api/v3/ip_addresses/{value}"),
            VtKind::Domain => format!("/api/v3/domains/{value}"),
            VtKind::Hash => format!("/api/v3/files/{value}"),
        }
    }

    /// The normal form of `text` as this kind, or why it is not one.
    pub fn normalise(self, text: &str) -> Result<String, String> {
        use crate::indicator::{classify, normalise, Kind};
        let text = text.trim();
        match self {
            VtKind::Ip => normalise(Kind::Ip, text).and_then(|(k, v)| match k {
                Kind::Ip => Ok(v),
                _ => Err(format!("'{text}' is a range, not an address")),
            }),
            VtKind::Domain => normalise(Kind::Domain, text).map(|(_, v)| v),
            VtKind::Hash => match classify(text) {
                Ok((k, v)) if k.is_hash() => Ok(v),
                _ => Err(format!("'{text}' is not an MD5, SHA-1 or SHA-256 hash")),
            },
        }
    }
}

/// Whether `ip` is private, loopback, link-local, multicast, reserved or
/// in a documentation range: an address that never leaves the machine.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let [o1, o2, o3, _] = a.octets();
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_multicast()
                || a.is_broadcast()
                || a.is_unspecified()
                || o1 == 0
                || o1 >= 240
                || (o1 == 100 && (64..128).contains(&o2))
                || (o1 == 192 && o2 == 0 && o3 == 0)
                || (o1 == 192 && o2 == 0 && o3 == 2)
                || (o1 == 198 && (o2 == 18 || o2 == 19))
                || (o1 == 198 && o2 == 51 && o3 == 100)
                || (o1 == 203 && o2 == 0 && o3 == 113)
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || a.to_ipv4_mapped()
                    .is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

/// Why a value must not leave the machine, if it must not: addresses that
/// are private, loopback, link-local, multicast, reserved or documentation
/// ranges, and internal domain names.
pub fn not_sent_reason(kind: VtKind, value: &str) -> Option<&'static str> {
    match kind {
        VtKind::Ip => {
            let ip: IpAddr = value.parse().ok()?;
            is_internal(ip).then_some("private, reserved or special-use address")
        }
        VtKind::Domain => {
            const INTERNAL: &[&str] = &[
                ".local",
                ".localhost",
                ".internal",
                ".intranet",
                ".lan",
                ".home",
                ".corp",
                ".localdomain",
                ".home.arpa",
                ".test",
                ".invalid",
                ".example",
            ];
            let d = value.to_ascii_lowercase();
            (!d.contains('.') || INTERNAL.iter().any(|s| d.ends_with(s)))
                .then_some("internal or reserved domain name")
        }
        VtKind::Hash => None,
    }
}

/// The report's columns (the VT Bulk Enricher's).
pub const CSV_HEADER: [&str; 9] = [
    "ioc",
    "type",
    "verdict",
    "detections",
    "total_engines",
    "malware_family",
    "first_seen",
    "last_seen",
    "tags",
];

/// One value's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The value.
    pub ioc: String,
    /// Its kind.
    pub kind: VtKind,
    /// `CLEAN`, `SUSPICIOUS`, `MALICIOUS`, `not_found`, or `not_sent`.
    pub verdict: String,
    /// Engines calling it malicious.
    pub detections: Option<u64>,
    /// Engines that looked.
    pub total_engines: Option<u64>,
    /// The suggested threat label (hashes) or network (addresses).
    pub malware_family: Option<String>,
    /// First submission (hashes), as RFC 3339.
    pub first_seen: Option<String>,
    /// Last submission or analysis, as RFC 3339.
    pub last_seen: Option<String>,
    /// VirusTotal's tags.
    pub tags: Vec<String>,
    /// The analysis counts and network facts seed 000 adds to events.
    pub details: Json,
}

fn epoch(v: &Json) -> Option<String> {
    let s = v.as_i64()?;
    jiff::Timestamp::from_second(s).ok().map(|t| t.to_string())
}

impl Report {
    /// A row for a value that got no answer of its own.
    pub fn bare(ioc: &str, kind: VtKind, verdict: &str) -> Report {
        Report {
            ioc: ioc.to_owned(),
            kind,
            verdict: verdict.to_owned(),
            detections: None,
            total_engines: None,
            malware_family: None,
            first_seen: None,
            last_seen: None,
            tags: Vec::new(),
            details: Json::Null,
        }
    }

    /// The row of an answer kept from an earlier lookup: VirusTotal's
    /// object as JSON text, or none when it had nothing.
    pub fn from_kept(ioc: &str, kind: VtKind, kept: Option<&str>) -> Report {
        match kept {
            Some(text) => match serde_json::from_str(text) {
                Ok(json) => Report::from_answer(ioc, kind, &json),
                Err(_) => Report::bare(ioc, kind, "error"),
            },
            None => Report::bare(ioc, kind, "not_found"),
        }
    }

    /// The row of an answer (`data.attributes` of a v3 object).
    pub fn from_answer(ioc: &str, kind: VtKind, answer: &Json) -> Report {
        let attrs = &answer["data"]["attributes"];
        let stats = &attrs["last_analysis_stats"];
        let count = |k: &str| stats[k].as_u64().unwrap_or(0);
        let malicious = count("malicious");
        let total: u64 = stats
            .as_object()
            .map_or(0, |o| o.values().filter_map(Json::as_u64).sum());
        // Hashes: 1-5 engines is suspicious; addresses and domains: 1-3.
        let bar = if kind == VtKind::Hash { 6 } else { 4 };
        let verdict = match malicious {
            0 => "CLEAN",
            n if n >= bar => "MALICIOUS",
            _ => "SUSPICIOUS",
        };
        let family = match kind {
            VtKind::Hash => attrs["popular_threat_classification"]["suggested_threat_label"]
                .as_str()
                .map(str::to_owned),
            _ => attrs["network"].as_str().map(str::to_owned),
        };
        let (first_seen, last_seen) = match kind {
            VtKind::Hash => (
                epoch(&attrs["first_submission_date"]),
                epoch(&attrs["last_submission_date"]),
            ),
            _ => (None, epoch(&attrs["last_analysis_date"])),
        };
        let details = serde_json::json!({
            "malicious": malicious,
            "harmless": count("harmless"),
            "suspicious": count("suspicious"),
            "undetected": count("undetected"),
            "asn": attrs["asn"],
            "as_owner": attrs["as_owner"],
            "country": attrs["country"],
            "network": attrs["network"],
            "regional_internet_registry": attrs["regional_internet_registry"],
            "last_analysis_date": epoch(&attrs["last_analysis_date"]),
            "last_modification_date": attrs["last_modification_date"],
        });
        Report {
            ioc: ioc.to_owned(),
            kind,
            verdict: verdict.to_owned(),
            detections: Some(malicious),
            total_engines: Some(total),
            malware_family: family,
            first_seen,
            last_seen,
            tags: attrs["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect(),
            details,
        }
    }

    /// The `threat.enrichments` entry of this answer for the event field
    /// that holds the value: the verdict and seed 000's fields.
    pub fn enrichment(&self, field: &str) -> Json {
        let mut vt = match &self.details {
            Json::Object(o) => Json::Object(o.clone()),
            _ => serde_json::json!({}),
        };
        vt["verdict"] = Json::String(self.verdict.clone());
        serde_json::json!({
            "indicator": {"type": self.kind.as_str(), "value": self.ioc, "provider": "virustotal"},
            "feed": {"name": "virustotal"},
            "matched": {"atomic": self.ioc, "field": field, "type": "enrichment"},
            "virustotal": vt,
        })
    }

    /// The CSV cells, in [`CSV_HEADER`]'s order.
    pub fn cells(&self) -> [String; 9] {
        let n = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
        [
            self.ioc.clone(),
            self.kind.as_str().to_owned(),
            self.verdict.clone(),
            n(self.detections),
            n(self.total_engines),
            self.malware_family.clone().unwrap_or_default(),
            self.first_seen.clone().unwrap_or_default(),
            self.last_seen.clone().unwrap_or_default(),
            self.tags.join(";"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(malicious: u64) -> Json {
        json!({"data": {"attributes": {"last_analysis_stats": {
            "malicious": malicious, "suspicious": 1, "harmless": 60, "undetected": 20, "timeout": 0
        }, "network": "203.0.113.0/24", "tags": ["tor"]}}})
    }

    #[test]
    fn verdicts_follow_the_bulk_enrichers_bars() {
        let v = |kind, n| Report::from_answer("x", kind, &answer(n)).verdict;
        assert_eq!(v(VtKind::Ip, 0), "CLEAN");
        assert_eq!(v(VtKind::Ip, 3), "SUSPICIOUS");
        assert_eq!(v(VtKind::Ip, 4), "MALICIOUS");
        assert_eq!(v(VtKind::Domain, 4), "MALICIOUS");
        assert_eq!(v(VtKind::Hash, 5), "SUSPICIOUS");
        assert_eq!(v(VtKind::Hash, 6), "MALICIOUS");
        let r = Report::from_answer("185.220.101.45", VtKind::Ip, &answer(72));
        assert_eq!(r.total_engines, Some(72 + 1 + 60 + 20));
        assert_eq!(r.malware_family.as_deref(), Some("203.0.113.0/24"));
        assert_eq!(r.cells()[8], "tor");
    }

    #[test]
    fn internal_values_are_never_sent() {
        for ip in [
            "10.1.2.3",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "224.0.0.1",
            "100.64.0.1",
            "240.0.0.1",
            "198.51.100.7",
            "::1",
            "fe80::1",
            "fd00::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(not_sent_reason(VtKind::Ip, ip).is_some(), "{ip}");
        }
        for ip in ["185.220.101.45", "8.8.8.8", "2a00:1450::1"] {
            assert!(not_sent_reason(VtKind::Ip, ip).is_none(), "{ip}");
        }
        for d in ["fileserver", "dc01.corp", "printer.local", "x.home.arpa"] {
            assert!(not_sent_reason(VtKind::Domain, d).is_some(), "{d}");
        }
        assert!(not_sent_reason(VtKind::Domain, "example.com").is_none());
    }
}
