//! Reading a pipeline file's `lookups:`: what is joined onto events by one
//! of their fields before the rules run. A CSV table (`csv:`), a MaxMind
//! database (`mmdb:`), or an HTTP JSON API (`http:`) asked under the same
//! limits and cache as VirusTotal, so that the provider can be swapped.

use std::path::PathBuf;
use std::time::Duration;

use rampart_intel::Fields;

use super::virustotal::{Asking, ASKING_KEYS};
use super::Reader;
use crate::yaml::Node;

/// A table or service to join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The event field whose value is looked up.
    pub key: String,
    /// Where what is found goes (`{into}.{field}`).
    pub into: String,
    /// What is looked up in.
    pub from: LookupFrom,
}

/// What a lookup looks up in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupFrom {
    /// A CSV file; `column` holds the keys (the first when none).
    Csv {
        /// The file.
        path: PathBuf,
        /// The column holding the keys.
        column: Option<String>,
    },
    /// A MaxMind database.
    Mmdb {
        /// The file.
        path: PathBuf,
        /// What of a record the event takes.
        fields: Fields,
    },
    /// A JSON API asked over HTTP.
    Http(HttpLookup),
}

/// A JSON API asked about each value while events flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLookup {
    /// Its name: the cache's and the day's count's, and what
    /// `rampart.pending` says of it.
    pub name: String,
    /// The address asked, with `{value}` where the value goes.
    pub url: String,
    /// What of an answer the event takes.
    pub fields: Fields,
    /// The environment variable holding the key, when one is sent.
    pub token_env: Option<String>,
    /// The header that carries the key.
    pub token_header: String,
    /// What goes before the key in it (`Bearer `).
    pub token_prefix: String,
    /// Its limits and waits.
    pub asking: Asking,
}

const WHAT: &str = "lookup";

impl Reader<'_> {
    pub(super) fn lookups(&mut self, node: &Node) -> Vec<Lookup> {
        let Node::Seq(items, _) = node else {
            self.fail(
                node.mark(),
                "lookups is a list of tables and services (- csv: FILE | mmdb: FILE | http: URL, key: FIELD, into: PREFIX)",
            );
            return Vec::new();
        };
        let mut lookups = Vec::new();
        for item in items {
            let Some(lookup) = self.lookup(item) else {
                continue;
            };
            // A service's name keys its cache and its day's count.
            if let LookupFrom::Http(h) = &lookup.from {
                let taken = lookups
                    .iter()
                    .any(|l: &Lookup| matches!(&l.from, LookupFrom::Http(o) if o.name == h.name));
                if taken || h.name == "virustotal" {
                    self.fail(
                        item.mark(),
                        format!(
                            "{WHAT}: the name `{}` is taken (name each http lookup apart)",
                            h.name
                        ),
                    );
                    continue;
                }
            }
            lookups.push(lookup);
        }
        lookups
    }

    fn lookup(&mut self, node: &Node) -> Option<Lookup> {
        let mut known = vec![
            "csv",
            "mmdb",
            "http",
            "key",
            "into",
            "column",
            "fields",
            "name",
            "token_env",
            "token_header",
            "token_prefix",
        ];
        known.extend(ASKING_KEYS);
        let e = self.map(node, WHAT, &known);
        let need = |r: &mut Self, key: &str| -> Option<String> {
            match e.get(key) {
                Some(n) => r.text(n, key).map(str::to_string),
                None => {
                    r.fail(node.mark(), format!("{WHAT} has no `{key}`"));
                    None
                }
            }
        };
        let key = need(self, "key");
        let into = need(self, "into");
        let sources: Vec<&str> = ["csv", "mmdb", "http"]
            .into_iter()
            .filter(|k| e.get(k).is_some())
            .collect();
        if sources.len() != 1 {
            self.fail(
                node.mark(),
                format!("a {WHAT} names one of `csv`, `mmdb` or `http` (this one: {sources:?})"),
            );
            return None;
        }
        let fields = match e.get("fields") {
            Some(n) => self.fields(n)?,
            None => Fields::all(),
        };
        let from = match sources[0] {
            "csv" => LookupFrom::Csv {
                path: self.base.join(need(self, "csv")?),
                column: match e.get("column") {
                    Some(n) => Some(self.text(n, "column")?.to_string()),
                    None => None,
                },
            },
            "mmdb" => LookupFrom::Mmdb {
                path: self.base.join(need(self, "mmdb")?),
                fields,
            },
            _ => {
                let url = self.url(e.get("http")?, "lookup: http")?;
                if !url.contains("{value}") {
                    self.fail(
                        node.mark(),
                        format!("{WHAT}: the http address has no `{{value}}` to put the value in: {url}"),
                    );
                    return None;
                }
                let token_header = match e.get("token_header") {
                    Some(n) => self.text(n, "token_header")?.to_string(),
                    None => "Authorization".to_string(),
                };
                let token_prefix = match e.get("token_prefix") {
                    Some(n) => self.text(n, "token_prefix")?.to_string(),
                    None if token_header.eq_ignore_ascii_case("authorization") => {
                        "Bearer ".to_string()
                    }
                    None => String::new(),
                };
                let mut asking = Asking {
                    per_minute: 60,
                    per_day: 10_000,
                    wait: Duration::from_secs(2),
                    wait_through_limit: false,
                    cache: Duration::from_secs(24 * 3600),
                    queue: 10_000,
                };
                self.asking(&e, WHAT, &mut asking)?;
                LookupFrom::Http(HttpLookup {
                    name: match e.get("name") {
                        Some(n) => self.text(n, "name")?.to_string(),
                        None => into.clone()?,
                    },
                    url,
                    fields,
                    token_env: match e.get("token_env") {
                        Some(n) => Some(self.text(n, "token_env")?.to_string()),
                        None => None,
                    },
                    token_header,
                    token_prefix,
                    asking,
                })
            }
        };
        Some(Lookup {
            key: key?,
            into: into?,
            from,
        })
    }

    /// `fields:`, a map of names to dotted paths in an answer.
    fn fields(&mut self, node: &Node) -> Option<Fields> {
        let Node::Map(entries, _) = node else {
            self.fail(
                node.mark(),
                "fields is a map of names to paths in the answer (score: data.score)",
            );
            return None;
        };
        let mut named = Vec::new();
        for (name, _, path) in entries {
            named.push((name.clone(), self.text(path, "fields")?.to_string()));
        }
        Some(Fields::named(named))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::read;
    use super::*;

    const SINKS: &str = "sources:\n  in: {type: stdin}\nsinks:\n  out: {type: stdout}\n";

    fn errors(lookups: &str) -> Vec<String> {
        match read(&format!("{SINKS}lookups:\n{lookups}"), Path::new("/p")) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.into_iter().map(|e| e.what).collect(),
        }
    }

    #[test]
    fn each_kind_reads_with_its_defaults() {
        let text = format!(
            "{SINKS}lookups:\n  - csv: a.csv\n    key: source.ip\n    into: asset\n  - http: https://api.example/x?ip={{value}}\n    key: source.ip\n    into: rep\n    token_env: K\n"
        );
        let p = read(&text, Path::new("/p")).unwrap();
        assert_eq!(p.lookups.len(), 2);
        let LookupFrom::Http(h) = &p.lookups[1].from else {
            panic!("{:?}", p.lookups[1])
        };
        assert_eq!(
            (
                h.name.as_str(),
                h.token_header.as_str(),
                h.token_prefix.as_str()
            ),
            ("rep", "Authorization", "Bearer ")
        );
        assert_eq!((h.asking.per_minute, h.asking.per_day), (60, 10_000));
    }

    #[test]
    fn names_the_cache_and_quota_go_by_are_each_a_lookup_s_own() {
        let twice = "  - http: https://a.example/{value}\n    key: source.ip\n    into: rep\n  - http: https://b.example/{value}\n    key: user.name\n    into: rep\n";
        assert!(
            errors(twice).iter().any(|e| e.contains("`rep` is taken")),
            "{:?}",
            errors(twice)
        );
        let vt = "  - http: https://a.example/{value}\n    key: source.ip\n    into: x\n    name: virustotal\n";
        assert!(errors(vt)
            .iter()
            .any(|e| e.contains("`virustotal` is taken")));
        let no_value = "  - http: https://a.example/check\n    key: source.ip\n    into: x\n";
        assert!(errors(no_value).iter().any(|e| e.contains("{value}")));
        let two = "  - http: https://a.example/{value}\n    csv: a.csv\n    key: source.ip\n    into: x\n";
        assert!(errors(two).iter().any(|e| e.contains("names one of")));
        let huge = "  - http: https://a.example/{value}\n    key: source.ip\n    into: x\n    per_minute: 99999999999\n";
        assert!(
            errors(huge).iter().any(|e| e.contains("too large")),
            "{:?}",
            errors(huge)
        );
    }
}
