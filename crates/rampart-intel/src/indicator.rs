//! Indicators of compromise: what kinds rampart matches, and the one
//! normal form each is stored and compared in, so `203.0.113.7`,
//! `Evil.Example.COM.` and an upper-case hash from different feeds meet.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use jiff::Timestamp;

/// The kinds of indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// One IPv4 or IPv6 address.
    Ip,
    /// An address range.
    Cidr,
    /// A domain name (its subdomains match when asked).
    Domain,
    /// A URL.
    Url,
    /// An MD5 file hash.
    Md5,
    /// A SHA-1 file hash.
    Sha1,
    /// A SHA-256 file hash.
    Sha256,
}

impl Kind {
    /// Every kind, in a stable order.
    pub const ALL: [Kind; 7] = [
        Kind::Ip,
        Kind::Cidr,
        Kind::Domain,
        Kind::Url,
        Kind::Md5,
        Kind::Sha1,
        Kind::Sha256,
    ];

    /// The kind's name as written in files and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ip => "ip",
            Kind::Cidr => "cidr",
            Kind::Domain => "domain",
            Kind::Url => "url",
            Kind::Md5 => "md5",
            Kind::Sha1 => "sha1",
            Kind::Sha256 => "sha256",
        }
    }

    /// Whether the kind is a file hash.
    pub fn is_hash(self) -> bool {
        matches!(self, Kind::Md5 | Kind::Sha1 | Kind::Sha256)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;

    /// Reads a kind name; feed spellings (`ipv4`, `ip-dst`, `hostname`,
    /// `sha-256`, ...) are accepted too.
    fn from_str(s: &str) -> Result<Kind, String> {
        let lower = s.trim().to_ascii_lowercase();
        Ok(match lower.as_str() {
            "ip" | "ipv4" | "ipv6" | "ip-src" | "ip-dst" | "ipv4-addr" | "ipv6-addr"
            | "address" => Kind::Ip,
            "cidr" | "net" | "network" | "range" | "subnet" => Kind::Cidr,
            "domain" | "hostname" | "host" | "fqdn" | "domain-name" => Kind::Domain,
            "url" | "uri" | "link" => Kind::Url,
            "md5" => Kind::Md5,
            "sha1" | "sha-1" => Kind::Sha1,
            "sha256" | "sha-256" => Kind::Sha256,
            _ => return Err(format!("unknown indicator type '{}'", s.trim())),
        })
    }
}

/// One indicator with what is known about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// Its kind.
    pub kind: Kind,
    /// Its value in normal form (see [`normalise`]).
    pub value: String,
    /// The feed or person it came from.
    pub source: String,
    /// How sure the source is: IPsum's number of lists, a feed's 0-100, or
    /// what an analyst gave.
    pub confidence: Option<u32>,
    /// Free labels (`botnet`, `c2`, the rule that found it).
    pub tags: Vec<String>,
    /// When it was first seen, if the source says.
    pub first_seen: Option<Timestamp>,
    /// When it was last seen, if the source says.
    pub last_seen: Option<Timestamp>,
    /// When it stops counting.
    pub expires: Option<Timestamp>,
}

impl Indicator {
    /// An indicator with only a kind, a value and a source.
    pub fn new(kind: Kind, value: String, source: &str) -> Self {
        Indicator {
            kind,
            value,
            source: source.to_owned(),
            confidence: None,
            tags: Vec::new(),
            first_seen: None,
            last_seen: None,
            expires: None,
        }
    }

    /// Whether it has expired at `now`.
    pub fn expired(&self, now: Timestamp) -> bool {
        self.expires.is_some_and(|e| e <= now)
    }
}

/// The normal form of `text` as an indicator of `kind`, or why it is not
/// one: addresses written canonically, ranges as their network (a /32 is an
/// address), domains in lower case without a trailing dot, hashes in lower
/// case, URLs as written (with a lower-case scheme and host).
pub fn normalise(kind: Kind, text: &str) -> Result<(Kind, String), String> {
    let text = text.trim();
    match kind {
        Kind::Ip | Kind::Cidr => {
            if let Ok(ip) = IpAddr::from_str(text) {
                return Ok((Kind::Ip, ip.to_string()));
            }
            let net = IpNet::from_str(text)
                .map_err(|_| format!("'{text}' is not an address or range"))?;
            let net = net.trunc();
            // A range wider than a /8 (a /32 in IPv6) is a mistake, not an
            // indicator: 0.0.0.0/0 would flag every event critical.
            let widest = if net.max_prefix_len() == 32 { 8 } else { 32 };
            if net.prefix_len() < widest {
                return Err(format!(
                    "'{text}' is a range wider than /{widest}: too broad to be an indicator"
                ));
            }
            if net.prefix_len() == net.max_prefix_len() {
                Ok((Kind::Ip, net.addr().to_string()))
            } else {
                Ok((Kind::Cidr, net.to_string()))
            }
        }
        Kind::Domain => domain(text).map(|d| (Kind::Domain, d)),
        Kind::Url => url(text).map(|u| (Kind::Url, u)),
        Kind::Md5 | Kind::Sha1 | Kind::Sha256 => {
            let want = match kind {
                Kind::Md5 => 32,
                Kind::Sha1 => 40,
                _ => 64,
            };
            if text.len() == want && text.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok((kind, text.to_ascii_lowercase()))
            } else {
                Err(format!("'{text}' is not a {kind} hash ({want} hex digits)"))
            }
        }
    }
}

/// The kind of a bare value, guessed from its shape (plain lists carry no
/// type column).
pub fn classify(text: &str) -> Result<(Kind, String), String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty value".into());
    }
    if text.bytes().all(|b| b.is_ascii_hexdigit()) {
        match text.len() {
            32 => return normalise(Kind::Md5, text),
            40 => return normalise(Kind::Sha1, text),
            64 => return normalise(Kind::Sha256, text),
            _ => {}
        }
    }
    if text.contains("://") {
        return normalise(Kind::Url, text);
    }
    if IpAddr::from_str(text).is_ok() || IpNet::from_str(text).is_ok() {
        return normalise(Kind::Ip, text);
    }
    // Digits and dots that are not an address are a bad address, not a domain.
    if text
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'/')
    {
        return Err(format!("'{text}' is not a valid address"));
    }
    normalise(Kind::Domain, text)
        .map_err(|_| format!("'{text}' is not an IP, range, domain, URL or hash"))
}

fn domain(text: &str) -> Result<String, String> {
    let d = text.trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if d.len() <= 253 && d.contains('.') && d.split('.').all(label_ok) {
        Ok(d)
    } else {
        Err(format!("'{text}' is not a domain name"))
    }
}

fn url(text: &str) -> Result<String, String> {
    let (scheme, rest) = text
        .split_once("://")
        .ok_or_else(|| format!("'{text}' is not a URL"))?;
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return Err(format!("'{text}' is not a URL"));
    }
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, path) = rest.split_at(host_end);
    if host.is_empty() || text.chars().any(char::is_whitespace) {
        return Err(format!("'{text}' is not a URL"));
    }
    Ok(format!(
        "{}://{}{}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase(),
        path
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_take_one_normal_form() {
        assert_eq!(
            classify(" 203.0.113.7 ").unwrap(),
            (Kind::Ip, "203.0.113.7".into())
        );
        assert_eq!(
            classify("2001:DB8::1").unwrap(),
            (Kind::Ip, "2001:db8::1".into())
        );
        assert_eq!(
            classify("198.51.100.77/24").unwrap(),
            (Kind::Cidr, "198.51.100.0/24".into())
        );
        assert_eq!(
            classify("192.0.2.1/32").unwrap(),
            (Kind::Ip, "192.0.2.1".into())
        );
        for broad in ["0.0.0.0/0", "10.0.0.0/7", "::/0", "2001::/16"] {
            let why = classify(broad).unwrap_err();
            assert!(why.contains("too broad"), "{broad}: {why}");
        }
        assert!(classify("10.0.0.0/8").is_ok());
        assert_eq!(
            classify("Evil.Example.COM.").unwrap(),
            (Kind::Domain, "evil.example.com".into())
        );
        assert_eq!(
            classify("HTTP://Bad.Example.net/Path?Q=1").unwrap(),
            (Kind::Url, "http://bad.example.net/Path?Q=1".into())
        );
        assert_eq!(classify(&"AB".repeat(16)).unwrap().0, Kind::Md5);
        assert_eq!(classify(&"ab".repeat(20)).unwrap().0, Kind::Sha1);
        assert_eq!(
            classify(&"Cd".repeat(32)).unwrap(),
            (Kind::Sha256, "cd".repeat(32))
        );
        assert!(classify("999.1.1.1").is_err());
        assert!(classify("not an indicator").is_err());
        assert!(
            classify("localhost").is_err(),
            "a bare name is not a domain"
        );
        assert_eq!("ip-dst".parse::<Kind>().unwrap(), Kind::Ip);
        assert!(normalise(Kind::Md5, "abc").is_err());
    }
}
