//! Rewriting log text with pseudonyms, so that each format comes out as
//! it went in and every parser and rule still reads it. What to replace is
//! learnt from the events parsed out of the text (their user, host,
//! domain, e-mail and SID fields), then every occurrence of those values
//! in the text is replaced, standing as a word of its own (not inside a
//! longer name), without regard to case, in messages, paths and command
//! lines too; addresses are found wherever they stand, by their shape.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aho_corasick::{AhoCorasick, MatchKind};
use ipnet::IpNet;
use rampart_event::{Event, ValueRef};
use regex::Regex;

use crate::ip::AddressMap;
use crate::key::Key;
use crate::names::{Kind, Names};

/// Names shorter than this are left alone: too likely to be part of
/// other words.
const SHORTEST_NAME: usize = 3;

/// Words the formats are written with. A value that is one of them (a
/// user named `user`, a program logging as `sshd`) is left alone: names
/// are replaced wherever they stand as words, and replacing these would
/// rewrite the lines' grammar and leave them unreadable; they tell
/// nothing of anyone either.
const GRAMMAR: [&str; 40] = [
    "user",
    "users",
    "sshd",
    "invalid",
    "from",
    "for",
    "port",
    "password",
    "session",
    "opened",
    "closed",
    "by",
    "the",
    "of",
    "on",
    "in",
    "and",
    "not",
    "uid",
    "gid",
    "tty",
    "auth",
    "pam",
    "failed",
    "accepted",
    "error",
    "connection",
    "disconnected",
    "received",
    "system",
    "service",
    "unknown",
    "none",
    "null",
    "nobody",
    "daemon",
    "kernel",
    "cron",
    "login",
    "localhost",
];

/// The kind of a field's value by the field's name, for names.
fn kind_of(field: &str, value: &str) -> Option<Kind> {
    let last = field.rsplit('.').next().unwrap_or(field);
    if value.to_uppercase().starts_with("S-1-5-21-") {
        return Some(Kind::Sid);
    }
    if value.contains('@') && (field.contains("email") || last == "address") {
        return Some(Kind::Email);
    }
    match field {
        "user.domain" => return Some(Kind::Realm),
        "host.name" | "host.hostname" | "observer.name" | "observer.hostname" => {
            return Some(Kind::Host)
        }
        // A name without a dot is a machine's (Windows' WorkstationName
        // lands in `source.domain`), not a DNS domain.
        "destination.domain" | "source.domain" | "server.domain" | "client.domain"
            if !value.contains('.') =>
        {
            return Some(Kind::Host)
        }
        "url.domain" | "dns.question.name" | "destination.domain" | "source.domain"
        | "server.domain" | "client.domain" => return Some(Kind::Domain),
        _ => {}
    }
    if field.ends_with("user.name") || field == "related.user" {
        return Some(Kind::User);
    }
    match last {
        "SubjectUserName" | "TargetUserName" | "AccountName" | "User" | "SamAccountName" => {
            Some(Kind::User)
        }
        "SubjectDomainName" | "TargetDomainName" | "AccountDomain" => Some(Kind::Realm),
        "Computer" | "WorkstationName" | "computer_name" | "Hostname" | "hostname" => {
            Some(Kind::Host)
        }
        "QueryName" => Some(Kind::Domain),
        _ => None,
    }
}

/// Whether `text[start..end]` stands by itself: the characters around it
/// are not `part` of it. An escape such as JSON's `\t` or `\n` before it
/// counts as a separator, though its letter is a word character.
fn stands_alone(text: &str, start: usize, end: usize, part: impl Fn(char) -> bool) -> bool {
    let mut before = text[..start].chars().rev();
    let clear_before = match before.next() {
        None => true,
        Some(c) if !part(c) => true,
        Some('t' | 'n' | 'r') => before.next() == Some('\\'),
        Some(_) => false,
    };
    clear_before && !text[end..].chars().next().is_some_and(part)
}

/// Extensions of a person's own content: documents, mail, pictures and
/// media. Only these files are renamed: the names of programs, scripts,
/// dumps and archives are what rules look for (`\\lsass.dmp`,
/// `NotLSASS.zip`) and what a reader of the logs needs.
const PERSONAL: [&str; 30] = [
    "doc", "docx", "docm", "dot", "dotx", "xls", "xlsx", "xlsm", "xlsb", "csv", "ppt", "pptx",
    "pptm", "pdf", "txt", "rtf", "odt", "ods", "odp", "md", "msg", "eml", "pst", "ost", "jpg",
    "jpeg", "png", "gif", "mp4", "mov",
];

/// Fields that hold a file's path.
const FILE_FIELDS: [&str; 5] = [
    "file.path",
    "file.target_path",
    "TargetFilename",
    "winlog.event_data.TargetFilename",
    "ObjectName",
];

/// The file name of `path` when the file lies in a user's own folders
/// (`C:\Users\bob\...`, `/home/bob/...`) and is not one that runs.
fn own_file(path: &str) -> Option<&str> {
    let lower = path.to_lowercase().replace('\\', "/");
    let in_home = ["/users/", "/home/", "/documents and settings/"]
        .iter()
        .any(|home| lower.contains(home))
        && !lower.contains("/users/public/")
        && !lower.contains("/users/default/");
    if !in_home {
        return None;
    }
    let name = path.rsplit(['\\', '/']).next()?;
    let (stem, ext) = name.rsplit_once('.')?;
    (PERSONAL.contains(&ext.to_lowercase().as_str()) && stem.chars().count() >= SHORTEST_NAME)
        .then_some(name)
}

/// The names `event` holds that may be learnt, with their kinds: what
/// [`Sanitizer::learn`] takes, found without the sanitiser (so on any
/// thread).
pub fn candidates(event: &Event) -> Vec<(Kind, String)> {
    let mut found = Vec::new();
    for (field, value) in event.fields() {
        let ValueRef::Str(text) = value else {
            continue;
        };
        let text = text.trim();
        if FILE_FIELDS.contains(&field) {
            if let Some(name) = own_file(text) {
                found.push((Kind::File, name.to_owned()));
            }
            continue;
        }
        if text.chars().count() < SHORTEST_NAME
            || text.parse::<IpAddr>().is_ok()
            || GRAMMAR.contains(&text.to_lowercase().as_str())
        {
            continue;
        }
        match kind_of(field, text) {
            // `DOMAIN\user` (Sysmon's `User`): each part by itself, so that
            // `NT AUTHORITY\SYSTEM` stays as rules look for it.
            Some(Kind::User) if text.contains('\\') => {
                if let Some((realm, user)) = text.split_once('\\') {
                    for (kind, part) in [(Kind::Realm, realm), (Kind::User, user)] {
                        let part = part.trim();
                        if part.chars().count() >= SHORTEST_NAME
                            && !GRAMMAR.contains(&part.to_lowercase().as_str())
                        {
                            found.push((kind, part.to_owned()));
                        }
                    }
                }
            }
            Some(kind) => found.push((kind, text.to_owned())),
            None => {}
        }
    }
    found
}

/// How names are replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// Pseudonyms derived from the key (`u3fa9c21b`, `h1c2d3e4f`): the same
    /// in every run under the key.
    #[default]
    Keyed,
    /// Seed 004's readable style: `HOST01`, `user01`, `LAB`, in the order
    /// met (the same across runs only with a mapping file).
    Sequential,
}

/// Sanitises text with the pseudonyms of one key.
#[derive(Debug)]
pub struct Sanitizer {
    addresses: AddressMap,
    names: Names,
    /// Learnt names, by their lower-case text: kind, the text as first
    /// seen, and pseudonym.
    learnt: HashMap<String, (Kind, String, String)>,
    /// How new names are replaced.
    style: Style,
    /// Names given out in the sequential style, per kind.
    issued: BTreeMap<Kind, u32>,
    /// Every pseudonym in use (lower case), so that the sequential style
    /// never gives out one the user gave.
    used: HashSet<String>,
    /// Networks whose addresses the user maps, host bits kept.
    networks: Vec<(IpNet, IpNet)>,
    /// Names seen that are kept as they are.
    kept: HashSet<String>,
    /// The automaton over `learnt`, made again when it has grown.
    finder: Option<(AhoCorasick, Vec<String>)>,
    /// Distinct values replaced, by kind.
    replaced: BTreeMap<Kind, u64>,
    seen_addresses: HashMap<IpAddr, IpAddr>,
    ipv4: Regex,
    ipv6: Regex,
}

impl Sanitizer {
    /// A sanitiser of `key`, in the keyed style.
    pub fn new(key: &Key) -> Sanitizer {
        Sanitizer {
            addresses: AddressMap::new(key),
            names: Names::new(key),
            learnt: HashMap::new(),
            style: Style::Keyed,
            issued: BTreeMap::new(),
            used: HashSet::new(),
            networks: Vec::new(),
            kept: HashSet::new(),
            finder: None,
            replaced: BTreeMap::new(),
            seen_addresses: HashMap::new(),
            ipv4: Regex::new(r"(?:\d{1,3}\.){3}\d{1,3}").expect("a valid pattern"),
            // Full forms (seven colons) and compressed ones (`::`), an
            // IPv4 tail allowed: a time such as 12:11:02 is neither.
            ipv6: Regex::new(
                r"(?i)(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?(?::?\d{1,3}(?:\.\d{1,3}){3})?",
            )
            .expect("a valid pattern"),
        }
    }

    /// The same, replacing new names in `style`.
    pub fn with_style(mut self, style: Style) -> Sanitizer {
        self.style = style;
        self
    }

    /// Learns the names `event` holds, to replace them wherever they stand.
    pub fn learn(&mut self, event: &Event) {
        for (kind, value) in candidates(event) {
            self.learn_value(kind, &value);
        }
    }

    /// Learns one name of `kind` (one of [`candidates`]).
    pub fn learn_value(&mut self, kind: Kind, text: &str) {
        // A fully qualified host's first label stands alone too (the
        // NetBIOS name, `WorkstationName`): it gets the same first label.
        if kind == Kind::Host {
            if let Some((first, rest)) = text.split_once('.') {
                if !rest.is_empty() && first.chars().count() >= SHORTEST_NAME {
                    self.learn_value(Kind::Host, first);
                }
            }
        }
        let lower = text.to_lowercase();
        if self.learnt.contains_key(&lower) || self.kept.contains(&lower) {
            return;
        }
        let keyed = self.names.of(kind, text);
        if keyed == text {
            self.kept.insert(lower);
            return;
        }
        let pseudonym = match self.style {
            Style::Keyed => keyed,
            Style::Sequential => self.next(kind, text),
        };
        self.give(kind, text, &pseudonym);
    }

    /// The next name of the sequential style for `kind` not in use.
    fn next(&mut self, kind: Kind, text: &str) -> String {
        // SIDs keep their keyed form (their RIDs carry meaning); nothing
        // numbers them.
        if matches!(kind, Kind::Sid | Kind::Address) {
            return self.names.of(kind, text);
        }
        loop {
            let name = self.numbered(kind, text);
            if !self.used.contains(&name.to_lowercase()) {
                return name;
            }
        }
    }

    /// The next numbered name of the sequential style for `kind`.
    fn numbered(&mut self, kind: Kind, text: &str) -> String {
        let n = self.issued.entry(kind).or_default();
        *n += 1;
        let n = *n;
        match kind {
            Kind::Host => format!("HOST{n:02}"),
            Kind::User => match crate::names::admin_prefix(text) {
                Some(prefix) => format!("{prefix}{n:02}"),
                None => format!("user{n:02}"),
            },
            Kind::Realm if n == 1 => "LAB".into(),
            Kind::Realm => format!("LAB{n:02}"),
            Kind::Domain => {
                let keyed = self.names.domain(text);
                let suffix = keyed.split_once('.').map_or("", |(_, rest)| rest);
                let suffix = suffix.rsplit('.').next().unwrap_or(suffix);
                format!("domain{n:02}.{suffix}")
                    .trim_end_matches('.')
                    .to_owned()
            }
            Kind::Email => format!("user{n:02}@example.org"),
            Kind::File => match text.rsplit_once('.') {
                Some((stem, ext)) if !stem.is_empty() => format!("file{n:02}.{ext}"),
                _ => format!("file{n:02}"),
            },
            Kind::Sid | Kind::Address => unreachable!("`next` does not number these"),
        }
    }

    /// Uses `pseudonym` for `value` of `kind`: a mapping the user gives,
    /// or one kept from an earlier run.
    pub fn give(&mut self, kind: Kind, value: &str, pseudonym: &str) {
        let lower = value.to_lowercase();
        if !self.learnt.contains_key(&lower) {
            *self.replaced.entry(kind).or_default() += 1;
        }
        self.used.insert(pseudonym.to_lowercase());
        self.learnt
            .insert(lower, (kind, value.to_owned(), pseudonym.to_owned()));
        self.finder = None;
    }

    /// Maps the addresses of `from` into `to`, their host bits kept
    /// (seed 004's `10.0.2.0/24 → 192.168.1.0/24`).
    pub fn give_network(&mut self, from: IpNet, to: IpNet) -> Result<(), String> {
        if from.prefix_len() != to.prefix_len() || from.addr().is_ipv4() != to.addr().is_ipv4() {
            return Err(format!(
                "{from} and {to} must be of one family and one prefix length"
            ));
        }
        self.networks.push((from.trunc(), to.trunc()));
        Ok(())
    }

    /// Every name replaced: kind, value and pseudonym, in order.
    pub fn mapping(&self) -> Vec<(Kind, String, String)> {
        let mut rows: Vec<(Kind, String, String)> = self.learnt.values().cloned().collect();
        rows.sort();
        rows
    }

    /// The pseudonym of an address (counted once).
    fn address(&mut self, ip: IpAddr) -> IpAddr {
        if let Some(done) = self.seen_addresses.get(&ip) {
            return *done;
        }
        let given = self.networks.iter().find(|(from, _)| from.contains(&ip));
        let done = match given {
            Some((from, to)) => match (ip, to.network(), from.hostmask()) {
                (IpAddr::V4(ip), IpAddr::V4(net), IpAddr::V4(host)) => IpAddr::V4(Ipv4Addr::from(
                    u32::from(net) | (u32::from(ip) & u32::from(host)),
                )),
                (IpAddr::V6(ip), IpAddr::V6(net), IpAddr::V6(host)) => IpAddr::V6(Ipv6Addr::from(
                    u128::from(net) | (u128::from(ip) & u128::from(host)),
                )),
                _ => self.addresses.map(ip),
            },
            None => self.addresses.map(ip),
        };
        self.seen_addresses.insert(ip, done);
        *self.replaced.entry(Kind::Address).or_default() += 1;
        done
    }

    /// `text` with every address and every learnt name replaced.
    pub fn rewrite(&mut self, text: &str) -> String {
        let text = self.rewrite_addresses(text);
        self.rewrite_names(&text)
    }

    fn rewrite_addresses(&mut self, text: &str) -> String {
        let v4_done = self.replace_addresses(text, false);
        self.replace_addresses(&v4_done, true)
    }

    /// `text` with each IPv4 (or, when `v6`, IPv6) address that stands by
    /// itself replaced by its pseudonym.
    fn replace_addresses(&mut self, text: &str, v6: bool) -> String {
        let (finder, part): (&Regex, fn(char) -> bool) = if v6 {
            (&self.ipv6, |c| {
                c.is_ascii_alphanumeric() || c == ':' || c == '.'
            })
        } else {
            (&self.ipv4, |c| c.is_ascii_alphanumeric() || c == '.')
        };
        let found: Vec<(usize, usize, IpAddr)> = finder
            .find_iter(text)
            .filter(|m| stands_alone(text, m.start(), m.end(), part))
            .filter_map(|m| Some((m.start(), m.end(), m.as_str().parse().ok()?)))
            .collect();
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (start, end, ip) in found {
            out.push_str(&text[last..start]);
            out.push_str(&self.address(ip).to_string());
            last = end;
        }
        out.push_str(&text[last..]);
        out
    }

    fn rewrite_names(&mut self, text: &str) -> String {
        if self.learnt.is_empty() {
            return text.to_owned();
        }
        if self.finder.is_none() {
            let mut patterns: Vec<String> = self.learnt.keys().cloned().collect();
            patterns.sort();
            let finder = AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostLongest)
                .build(&patterns)
                .expect("names make an automaton");
            self.finder = Some((finder, patterns));
        }
        let Some((finder, patterns)) = &self.finder else {
            return text.to_owned();
        };
        let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for m in finder.find_iter(text) {
            if !stands_alone(text, m.start(), m.end(), word) {
                continue;
            }
            let Some((_, _, pseudonym)) = self.learnt.get(&patterns[m.pattern().as_usize()]) else {
                continue;
            };
            out.push_str(&text[last..m.start()]);
            out.push_str(pseudonym);
            last = m.end();
        }
        out.push_str(&text[last..]);
        out
    }

    /// Distinct values replaced so far, by kind.
    pub fn replaced(&self) -> &BTreeMap<Kind, u64> {
        &self.replaced
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::Origin;

    fn sanitizer() -> Sanitizer {
        Sanitizer::new(&Key::new(b"a key of some sixteen bytes").unwrap())
    }

    #[test]
    fn a_users_own_files_are_renamed_and_programs_kept() {
        let mut s = sanitizer();
        for path in [
            "C:\\Users\\bob\\Documents\\salaries_2025.xlsx",
            "C:\\Users\\bob\\AppData\\Local\\Temp\\payload.exe",
            "C:\\Windows\\System32\\drivers\\etc\\hosts",
            "/home/bob/notes-on-merger.txt",
        ] {
            let mut e = Event::new(Origin::new("a.log", 1), "x");
            e.set("file.path", path);
            s.learn(&e);
        }
        let out = s.rewrite(
            "cmd /c copy C:\\Users\\bob\\Documents\\salaries_2025.xlsx \\\\h\\s &              C:\\Users\\bob\\AppData\\Local\\Temp\\payload.exe & type /home/bob/notes-on-merger.txt hosts",
        );
        assert!(
            !out.contains("salaries_2025") && !out.contains("notes-on-merger"),
            "{out}"
        );
        assert!(
            out.contains(".xlsx ") && out.contains(".txt hosts"),
            "{out}"
        );
        assert!(out.contains("payload.exe"), "{out}");
        assert_eq!(s.replaced()[&Kind::File], 2);
    }

    #[test]
    fn learnt_names_and_every_address_are_replaced_where_they_stand() {
        let mut s = sanitizer();
        let mut e = Event::new(Origin::new("a.log", 1), "x");
        e.set("user.name", "alice");
        e.set("host.name", "web01");
        e.set("winlog.event_data.SubjectDomainName", "EXAMPLE");
        s.learn(&e);
        let line = "Mar 14 web01 sshd[1]: Failed password for alice from 203.0.113.7 port 22 \
                    (EXAMPLE\\Alice, /home/alice/.ssh, aliceson, 2001:db8::5)";
        let out = s.rewrite(line);
        for gone in [
            "alice",
            "Alice",
            "web01",
            "EXAMPLE",
            "203.0.113.7",
            "2001:db8::5",
        ] {
            assert!(
                !out.contains(&format!("{gone},")) && !out.contains(&format!("{gone} ")),
                "{gone} in {out}"
            );
        }
        assert!(
            out.contains("aliceson"),
            "a longer word is left alone: {out}"
        );
        assert!(out.contains("/home/u"), "{out}");
        // After an escape of JSON text, as in a message field.
        let json = s.rewrite(r#"{"message":"Account Name:\talice\n\tSource:\t203.0.113.7"}"#);
        assert!(
            !json.contains("alice") && !json.contains("203.0.113.7"),
            "{json}"
        );
        // The same value, the same pseudonym, line after line.
        assert_eq!(s.rewrite(line), out);
        let counts = s.replaced();
        assert_eq!(counts[&Kind::User], 1);
        assert_eq!(counts[&Kind::Address], 2);
    }

    #[test]
    fn seed_004s_style_and_the_mappings_a_user_gives() {
        let mut s = sanitizer().with_style(Style::Sequential);
        s.give(Kind::Host, "PC01", "HOST01");
        s.give_network(
            "10.0.2.0/24".parse().unwrap(),
            "192.168.1.0/24".parse().unwrap(),
        )
        .unwrap();
        assert!(s
            .give_network(
                "10.0.0.0/8".parse().unwrap(),
                "192.168.1.0/24".parse().unwrap()
            )
            .is_err());
        for (kind, value) in [
            (Kind::Host, "PC02"),
            (Kind::Realm, "EXAMPLE"),
            (Kind::User, "IEUser"),
            (Kind::User, "bob"),
            (Kind::User, "ieuser"),
        ] {
            s.learn_value(kind, value);
        }
        let out = s.rewrite("PC01 PC02 EXAMPLE\\IEUser bob from 10.0.2.15 to 10.0.3.4");
        assert!(
            out.starts_with("HOST01 HOST02 LAB\\user01 user02 from 192.168.1.15 to "),
            "{out}"
        );
        assert!(!out.ends_with("10.0.3.4"), "{out}");
        let mapping = s.mapping();
        assert!(mapping.contains(&(Kind::User, "IEUser".into(), "user01".into())));
        assert!(mapping.contains(&(Kind::Host, "PC01".into(), "HOST01".into())));
        assert_eq!(mapping.len(), 5);
    }

    #[test]
    fn a_domain_and_user_is_learnt_in_parts_and_well_known_ones_stay() {
        let mut s = sanitizer();
        for user in ["NT AUTHORITY\\SYSTEM", "EXAMPLE\\alice"] {
            let mut e = Event::new(Origin::new("a.log", 1), "x");
            e.set("winlog.event_data.User", user);
            s.learn(&e);
        }
        let out = s.rewrite(
            r"User: NT AUTHORITY\SYSTEM, EXAMPLE\alice; cmd /c dir \\127.0.0.1\ADMIN$ 224.0.0.252",
        );
        assert!(out.contains(r"NT AUTHORITY\SYSTEM, D"), "{out}");
        assert!(!out.contains("EXAMPLE") && !out.contains("alice"), "{out}");
        assert!(out.contains(r"\\127.0.0.1\ADMIN$ 224.0.0.252"), "{out}");
    }

    #[test]
    fn numbers_that_are_not_addresses_are_left_alone() {
        let mut s = sanitizer();
        let line = "version 10.0.19041.3996 at 12:11:02 took 1.5 s in Foo::bar, std::cout, \
                    00:1a:2b:3c:4d:5e";
        assert_eq!(s.rewrite(line), line);
    }
}
