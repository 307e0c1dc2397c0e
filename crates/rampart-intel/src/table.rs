//! Indicators loaded for matching, indexed by kind: addresses in hash maps
//! (one per prefix length, longest first, so a /32 entry and the /24 around
//! it are both found and an address costs a few probes whatever the table's
//! size), domains, URLs and hashes by their normal form.
//!
//! Several sources may list the same value; each is kept (chained behind
//! the first), so every match can say which feed found it.

use std::net::IpAddr;

use ipnet::IpNet;
use rustc_hash::FxHashMap;

use crate::indicator::{Indicator, Kind};

/// No further entry in a chain.
const END: u32 = u32::MAX;

/// Address maps by prefix length, longest prefix first.
#[derive(Debug, Default)]
struct Prefixes<K> {
    by_len: Vec<(u8, FxHashMap<K, u32>)>,
}

impl<K: Copy + Eq + std::hash::Hash> Prefixes<K> {
    fn map(&mut self, len: u8) -> &mut FxHashMap<K, u32> {
        let at = match self.by_len.iter().position(|(l, _)| *l == len) {
            Some(at) => at,
            None => {
                let at = self.by_len.partition_point(|(l, _)| *l > len);
                self.by_len.insert(at, (len, FxHashMap::default()));
                at
            }
        };
        &mut self.by_len[at].1
    }
}

/// The loaded indicators.
#[derive(Debug, Default)]
pub struct IntelTable {
    indicators: Vec<Indicator>,
    /// For each indicator, the next one with the same value (`END` if none).
    next: Vec<u32>,
    v4: Prefixes<u32>,
    v6: Prefixes<u128>,
    domains: FxHashMap<String, u32>,
    urls: FxHashMap<String, u32>,
    hashes: FxHashMap<String, u32>,
    /// Whether `a.evil.example` matches an entry for `evil.example`.
    subdomains: bool,
}

fn mask4(addr: u32, len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        addr & (u32::MAX << (32 - u32::from(len)))
    }
}

fn mask6(addr: u128, len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        addr & (u128::MAX << (128 - u32::from(len)))
    }
}

/// Puts `at` at the head of the chain of `key` in `map`.
fn chain<K: Eq + std::hash::Hash>(map: &mut FxHashMap<K, u32>, key: K, at: u32, next: &mut [u32]) {
    let old = map.insert(key, at).unwrap_or(END);
    next[at as usize] = old;
}

impl IntelTable {
    /// An empty table; `subdomains` makes a domain entry match its
    /// subdomains too.
    pub fn new(subdomains: bool) -> Self {
        IntelTable {
            subdomains,
            ..IntelTable::default()
        }
    }

    /// How many indicators are loaded.
    pub fn len(&self) -> usize {
        self.indicators.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
    }

    /// Adds an indicator (whose value is in normal form); one that cannot
    /// be indexed (a value of the wrong shape) is refused with the reason.
    pub fn add(&mut self, indicator: Indicator) -> Result<(), String> {
        let at = u32::try_from(self.indicators.len()).map_err(|_| "too many indicators")?;
        self.next.push(END);
        match indicator.kind {
            Kind::Ip | Kind::Cidr => {
                let net: IpNet = match indicator.value.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => indicator
                        .value
                        .parse()
                        .map_err(|_| format!("'{}' is not an address", indicator.value))?,
                };
                let len = net.prefix_len();
                match net.network() {
                    IpAddr::V4(a) => {
                        chain(self.v4.map(len), mask4(a.into(), len), at, &mut self.next)
                    }
                    IpAddr::V6(a) => {
                        chain(self.v6.map(len), mask6(a.into(), len), at, &mut self.next)
                    }
                }
            }
            Kind::Domain => chain(
                &mut self.domains,
                indicator.value.clone(),
                at,
                &mut self.next,
            ),
            Kind::Url => chain(&mut self.urls, indicator.value.clone(), at, &mut self.next),
            Kind::Md5 | Kind::Sha1 | Kind::Sha256 => chain(
                &mut self.hashes,
                indicator.value.clone(),
                at,
                &mut self.next,
            ),
        }
        self.indicators.push(indicator);
        Ok(())
    }

    fn walk<'t>(&'t self, head: Option<u32>, each: &mut impl FnMut(&'t Indicator)) {
        let mut at = head.unwrap_or(END);
        while at != END {
            each(&self.indicators[at as usize]);
            at = self.next[at as usize];
        }
    }

    /// Calls `each` for every indicator covering `ip`: the address itself,
    /// then the ranges around it from the narrowest.
    pub fn each_ip<'t>(&'t self, ip: IpAddr, mut each: impl FnMut(&'t Indicator)) {
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                for (len, map) in &self.v4.by_len {
                    self.walk(map.get(&mask4(a, *len)).copied(), &mut each);
                }
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                for (len, map) in &self.v6.by_len {
                    self.walk(map.get(&mask6(a, *len)).copied(), &mut each);
                }
            }
        }
    }

    /// The most specific indicator covering `ip` (the newest source of it).
    pub fn first_ip(&self, ip: IpAddr) -> Option<&Indicator> {
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                self.v4
                    .by_len
                    .iter()
                    .find_map(|(len, map)| map.get(&mask4(a, *len)))
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                self.v6
                    .by_len
                    .iter()
                    .find_map(|(len, map)| map.get(&mask6(a, *len)))
            }
        }
        .map(|&at| &self.indicators[at as usize])
    }

    /// Calls `each` for every indicator of the domain `name` (and of its
    /// parent domains, when subdomains match).
    pub fn each_domain<'t>(&'t self, name: &str, mut each: impl FnMut(&'t Indicator)) {
        let name = name.trim_end_matches('.');
        let lower;
        let name = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = name.to_ascii_lowercase();
            lower.as_str()
        } else {
            name
        };
        self.walk(self.domains.get(name).copied(), &mut each);
        if self.subdomains {
            let mut rest = name;
            while let Some((_, parent)) = rest.split_once('.') {
                if !parent.contains('.') {
                    break;
                }
                self.walk(self.domains.get(parent).copied(), &mut each);
                rest = parent;
            }
        }
    }

    /// Calls `each` for every indicator of the URL `url` (normal form).
    pub fn each_url<'t>(&'t self, url: &str, mut each: impl FnMut(&'t Indicator)) {
        self.walk(self.urls.get(url).copied(), &mut each);
    }

    /// Calls `each` for every indicator of the file hash `hash`.
    pub fn each_hash<'t>(&'t self, hash: &str, mut each: impl FnMut(&'t Indicator)) {
        let lower;
        let hash = if hash.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = hash.to_ascii_lowercase();
            lower.as_str()
        } else {
            hash
        };
        self.walk(self.hashes.get(hash).copied(), &mut each);
    }

    /// Whether any domain, URL or hash indicator is loaded (events need not
    /// be searched for them otherwise).
    pub fn has_names(&self) -> bool {
        !(self.domains.is_empty() && self.urls.is_empty() && self.hashes.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicator::classify;

    fn table(values: &[(&str, &str)], subdomains: bool) -> IntelTable {
        let mut t = IntelTable::new(subdomains);
        for (value, source) in values {
            let (kind, value) = classify(value).unwrap();
            t.add(Indicator::new(kind, value, source)).unwrap();
        }
        t
    }

    fn sources_ip(t: &IntelTable, ip: &str) -> Vec<String> {
        let mut out = Vec::new();
        t.each_ip(ip.parse().unwrap(), |i| {
            out.push(format!("{}@{}", i.value, i.source))
        });
        out
    }

    #[test]
    fn addresses_match_exactly_and_by_range_narrowest_first() {
        let t = table(
            &[
                ("203.0.113.7", "a"),
                ("203.0.113.0/24", "b"),
                ("203.0.0.0/16", "c"),
                ("203.0.113.7", "d"),
                ("2001:db8::/32", "e"),
            ],
            false,
        );
        assert_eq!(
            sources_ip(&t, "203.0.113.7"),
            [
                "203.0.113.7@d",
                "203.0.113.7@a",
                "203.0.113.0/24@b",
                "203.0.0.0/16@c"
            ]
        );
        assert_eq!(sources_ip(&t, "203.0.114.1"), ["203.0.0.0/16@c"]);
        assert!(sources_ip(&t, "198.51.100.1").is_empty());
        assert_eq!(sources_ip(&t, "2001:db8:1::5"), ["2001:db8::/32@e"]);
        assert!(sources_ip(&t, "2001:db9::1").is_empty());
        assert_eq!(
            t.first_ip("203.0.113.7".parse().unwrap()).unwrap().source,
            "d"
        );
    }

    #[test]
    fn domains_match_their_subdomains_only_when_asked() {
        let strict = table(&[("evil.example", "x")], false);
        let wide = table(&[("evil.example", "x")], true);
        let count = |t: &IntelTable, name: &str| {
            let mut n = 0;
            t.each_domain(name, |_| n += 1);
            n
        };
        assert_eq!(count(&strict, "EVIL.example."), 1);
        assert_eq!(count(&strict, "a.evil.example"), 0);
        assert_eq!(count(&wide, "a.b.evil.example"), 1);
        assert_eq!(count(&wide, "notevil.example"), 0);
        assert_eq!(count(&wide, "example"), 0);
    }
}
