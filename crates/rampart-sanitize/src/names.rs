//! Pseudonyms for names: users, hosts, DNS domains (their public suffix
//! kept), NetBIOS and Active Directory domains, e-mail addresses and
//! Windows SIDs (their well-known RIDs kept). Each is derived from the key
//! and the value (names compared without case, as Windows compares them),
//! so one value always gets one pseudonym. Names that rules look for by
//! themselves (`root`, `Administrator`, `SYSTEM`, `NT AUTHORITY`, machine
//! accounts' `$`) are kept as they are, so that rules keep their answers.

use crate::key::Key;

/// What a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// An IPv4 or IPv6 address.
    Address,
    /// A user name.
    User,
    /// A host name (its first label; the rest as a domain).
    Host,
    /// A DNS name.
    Domain,
    /// A NetBIOS or Active Directory domain (`EXAMPLE`).
    Realm,
    /// An e-mail address.
    Email,
    /// A Windows security identifier.
    Sid,
    /// The name of a file in a user's own folders (`salaries_2025.xlsx`).
    File,
}

impl Kind {
    /// Its name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Address => "address",
            Kind::User => "user",
            Kind::Host => "host",
            Kind::Domain => "domain",
            Kind::Realm => "windows domain",
            Kind::Email => "e-mail",
            Kind::Sid => "sid",
            Kind::File => "file name",
        }
    }
}

/// Users that rules name and that say nothing of who someone is.
const KEPT_USERS: [&str; 12] = [
    "root",
    "administrator",
    "admin",
    "guest",
    "system",
    "local service",
    "network service",
    "anonymous logon",
    "defaultaccount",
    "wdagutilityaccount",
    "krbtgt",
    "-",
];

/// Domains that are Windows' own.
const KEPT_REALMS: [&str; 7] = [
    "nt authority",
    "builtin",
    "workgroup",
    "window manager",
    "font driver host",
    "nt service",
    "-",
];

/// Labels of Active Directory's DNS records that name no one.
const AD_LABELS: [&str; 5] = [
    "default-first-site-name",
    "domaindnszones",
    "forestdnszones",
    "dc",
    "gc",
];

/// Hosts that name no machine.
const KEPT_HOSTS: [&str; 3] = ["localhost", "-", "unknown"];

/// The `admin` an administrator's account name starts with (in its own
/// case), when it does.
pub fn admin_prefix(name: &str) -> Option<&str> {
    name.get(..5)
        .filter(|p| p.eq_ignore_ascii_case("admin") && name.len() > 5)
}

/// `n` bytes of a digest as lower-case hex.
fn hex(digest: &[u8; 32], n: usize) -> String {
    digest[..n].iter().map(|b| format!("{b:02x}")).collect()
}

/// The pseudonym maker of one key.
#[derive(Debug, Clone)]
pub struct Names {
    key: Key,
}

impl Names {
    /// The names of `key`.
    pub fn new(key: &Key) -> Names {
        Names { key: key.clone() }
    }

    fn tag(&self, kind: &[u8], value: &str) -> String {
        hex(
            &self.key.digest(&[kind, value.to_lowercase().as_bytes()]),
            4,
        )
    }

    /// A user's pseudonym (`u3fa9c21b`); a machine account keeps its `$`.
    pub fn user(&self, name: &str) -> String {
        if KEPT_USERS.contains(&name.to_lowercase().as_str()) || name.is_empty() {
            return name.to_owned();
        }
        match name.strip_suffix('$') {
            Some(machine) => format!("{}$", self.host(machine)),
            None => match admin_prefix(name) {
                // The role an account's name announces is kept: rules
                // look for administrators by it (`TargetUserName|startswith: Admin`).
                Some(prefix) => format!("{prefix}{}", self.tag(b"user", name)),
                None => format!("u{}", self.tag(b"user", name)),
            },
        }
    }

    /// A host's pseudonym (`h3fa9c21b`), a fully qualified one keeping
    /// the form of its domain.
    pub fn host(&self, name: &str) -> String {
        if KEPT_HOSTS.contains(&name.to_lowercase().as_str()) || name.is_empty() {
            return name.to_owned();
        }
        match name.split_once('.') {
            Some((first, rest)) if !rest.is_empty() => {
                format!("h{}.{}", self.tag(b"host", first), self.domain(rest))
            }
            _ => format!("h{}", self.tag(b"host", name)),
        }
    }

    /// A DNS name's pseudonym: each label left of the public suffix
    /// replaced (`evil.example.co.uk` → `d1a2b3c4.d5e6f7a8.co.uk`).
    pub fn domain(&self, name: &str) -> String {
        let lower = name.trim_end_matches('.').to_lowercase();
        let suffix = psl::suffix_str(&lower).unwrap_or("");
        let (labels, suffix) = match lower.strip_suffix(suffix) {
            Some(rest) if !suffix.is_empty() => (rest.trim_end_matches('.'), suffix),
            _ => (lower.as_str(), ""),
        };
        if labels.is_empty() {
            return name.to_owned();
        }
        // Each label by itself and what stands right of it, so that one
        // parent domain keeps one pseudonym under all its names.
        let parts: Vec<&str> = labels.split('.').collect();
        let mut out: Vec<String> = Vec::with_capacity(parts.len() + 1);
        for (i, label) in parts.iter().enumerate() {
            // Service labels (`_ldap._tcp`, `_msdcs`) and Active
            // Directory's own names say what is asked, not who asks; rules
            // look for them (`QueryName|startswith: '_ldap.'`).
            if label.starts_with('_') || AD_LABELS.contains(label) {
                out.push((*label).to_owned());
                continue;
            }
            let parent = parts[i + 1..].join(".");
            let digest = self.key.digest(&[
                b"domain",
                label.as_bytes(),
                parent.as_bytes(),
                suffix.as_bytes(),
            ]);
            out.push(format!("d{}", hex(&digest, 4)));
        }
        if !suffix.is_empty() {
            out.push(suffix.to_owned());
        }
        out.join(".")
    }

    /// A NetBIOS or Active Directory domain's pseudonym (`D3FA9C2`).
    pub fn realm(&self, name: &str) -> String {
        if KEPT_REALMS.contains(&name.to_lowercase().as_str()) || name.is_empty() {
            return name.to_owned();
        }
        if name.contains('.') {
            return self.domain(name);
        }
        format!("D{}", self.tag(b"realm", name).to_uppercase())
    }

    /// An e-mail address's pseudonym: its user and its domain.
    pub fn email(&self, address: &str) -> String {
        match address.rsplit_once('@') {
            Some((user, domain)) => format!("{}@{}", self.user(user), self.domain(domain)),
            None => self.user(address),
        }
    }

    /// A SID's pseudonym: the domain part of `S-1-5-21-a-b-c-RID` replaced,
    /// the RID kept (500 is still the administrator); other SIDs are
    /// well-known and kept.
    pub fn sid(&self, sid: &str) -> String {
        let upper = sid.to_uppercase();
        let Some(rest) = upper.strip_prefix("S-1-5-21-") else {
            return sid.to_owned();
        };
        let parts: Vec<&str> = rest.split('-').collect();
        if parts.len() < 3 || parts.iter().any(|p| p.parse::<u32>().is_err()) {
            return sid.to_owned();
        }
        let domain = parts[..3].join("-");
        let digest = self.key.digest(&[b"sid", domain.as_bytes()]);
        let number =
            |i: usize| u32::from_be_bytes([digest[i], digest[i + 1], digest[i + 2], digest[i + 3]]);
        let mut out = format!("S-1-5-21-{}-{}-{}", number(0), number(4), number(8));
        for rid in &parts[3..] {
            out.push('-');
            out.push_str(rid);
        }
        out
    }

    /// A file name's pseudonym (`f3fa9c21b.xlsx`): its extension kept, as
    /// rules and readers go by it.
    pub fn file(&self, name: &str) -> String {
        match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => {
                format!("f{}.{ext}", self.tag(b"file", name))
            }
            _ => format!("f{}", self.tag(b"file", name)),
        }
    }

    /// The pseudonym of `value` as `kind` (addresses are not names).
    pub fn of(&self, kind: Kind, value: &str) -> String {
        match kind {
            Kind::User => self.user(value),
            Kind::Host => self.host(value),
            Kind::Domain => self.domain(value),
            Kind::Realm => self.realm(value),
            Kind::Email => self.email(value),
            Kind::Sid => self.sid(value),
            Kind::File => self.file(value),
            Kind::Address => value.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names::new(&Key::new(b"a key of some sixteen bytes").unwrap())
    }

    #[test]
    fn one_value_one_pseudonym_without_case_and_well_known_names_kept() {
        let n = names();
        assert_eq!(n.user("IEUser"), n.user("ieuser"));
        assert_ne!(n.user("IEUser"), "IEUser");
        assert_ne!(n.user("alice"), n.user("bob"));
        assert_eq!(n.user("root"), "root");
        assert_eq!(n.user("Administrator"), "Administrator");
        assert!(n.user("WS01$").ends_with('$'));
        assert_eq!(n.realm("NT AUTHORITY"), "NT AUTHORITY");
        assert!(n.realm("EXAMPLE").starts_with('D'));
        assert_eq!(n.host("localhost"), "localhost");
    }

    #[test]
    fn domains_keep_their_public_suffix_and_their_parents() {
        let n = names();
        let a = n.domain("www.evil.example.co.uk");
        let b = n.domain("mail.evil.example.co.uk");
        assert!(a.ends_with(".co.uk"), "{a}");
        assert_eq!(a.split('.').count(), 5, "{a}");
        // One parent, one pseudonym.
        assert_eq!(a.split_once('.').unwrap().1, b.split_once('.').unwrap().1);
        assert!(!a.contains("evil") && !a.contains("example"), "{a}");
        let host = n.host("WS01.lab.local");
        assert!(host.starts_with('h') && !host.contains("lab"), "{host}");
        let email = n.email("alice@corp.example.com");
        assert!(
            email.ends_with(".com") && !email.contains("alice"),
            "{email}"
        );
        // What a service lookup asks for stays; whose domain it is does not.
        let srv = n.domain("_ldap._tcp.Default-First-Site-Name._sites.dc._msdcs.THESHIRE.LOCAL.");
        assert!(
            srv.starts_with("_ldap._tcp.default-first-site-name._sites.dc._msdcs."),
            "{srv}"
        );
        assert!(!srv.contains("theshire"), "{srv}");
        assert_eq!(n.user("admin01").get(..5), Some("admin"));
        assert!(n.file("salaries_2025.xlsx").ends_with(".xlsx"));
    }

    #[test]
    fn sids_keep_their_rid_and_well_known_ones_stay() {
        let n = names();
        let a = n.sid("S-1-5-21-3623811015-3361044348-30300820-500");
        let b = n.sid("S-1-5-21-3623811015-3361044348-30300820-1013");
        assert!(a.starts_with("S-1-5-21-") && a.ends_with("-500"), "{a}");
        assert!(!a.contains("3623811015"), "{a}");
        assert_eq!(a.rsplit_once('-').unwrap().0, b.rsplit_once('-').unwrap().0);
        assert_eq!(n.sid("S-1-5-18"), "S-1-5-18");
        assert_eq!(n.sid("S-1-5-32-544"), "S-1-5-32-544");
    }
}
