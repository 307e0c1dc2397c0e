//! Sigma string values: wildcards (`*`, `?`, with `\` escapes), the
//! `contains`/`startswith`/`endswith` modifiers, and case-insensitive
//! matching by default (`cased` makes it exact).
//!
//! A value is lowered to the cheapest check that decides it: equality,
//! prefix, suffix or substring on the literal text; pieces found in order
//! when `*` sits inside the text; a regex only for `?` and Unicode case.

use regex::Regex;

use super::glob::Glob;
use super::wildcard::{pieces, Piece};

/// How a literal is placed in the field's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The whole text.
    Exact,
    /// At the start.
    Prefix,
    /// At the end.
    Suffix,
    /// Anywhere.
    Contains,
}

/// How case is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// Exactly (`cased`).
    Sensitive,
    /// Ignoring case, where folding ASCII letters is enough (the needle's
    /// other characters have no case): compared with the text's ASCII
    /// lower-case form, computed once per value.
    Ascii,
    /// Ignoring case with Unicode folding (the needle has non-ASCII letters).
    Unicode,
}

/// A compiled string check.
#[derive(Debug, Clone)]
pub enum StrMatch {
    /// A literal at a place; `needle` is lower-cased unless case-sensitive.
    Literal {
        /// The text to find.
        needle: String,
        /// Where it must sit.
        place: Place,
        /// How case is compared.
        case: Case,
        /// A prebuilt substring searcher for `Place::Contains` (boxed: it is
        /// large, and most values are not `contains`).
        finder: Option<Box<memchr::memmem::Finder<'static>>>,
    },
    /// Wildcards inside the text, and the longest literal piece in lower
    /// case (every match contains it, which rule pruning uses).
    Pattern(Wildcard, String),
    /// `*` alone: any value at all (a present field).
    Anything,
}

/// How a value with wildcards inside is matched.
#[derive(Debug, Clone)]
pub enum Wildcard {
    /// `*` only: its pieces found in order, in the text as `Case` says.
    Glob(Glob, Case),
    /// Anything else (`?`, letters with Unicode case): a regular expression.
    Regex(Regex),
}

impl StrMatch {
    /// Compiles a value; `place` comes from `contains`/`startswith`/`endswith`.
    pub fn new(value: &str, place: Place, cased: bool) -> Result<StrMatch, String> {
        StrMatch::from_pieces(pieces(value), place, cased)
    }

    /// Compiles a value whose `-` and `/` stand for any Windows dash.
    pub fn any_dash(value: &str, place: Place, cased: bool) -> Result<StrMatch, String> {
        let mut parts = Vec::new();
        for piece in pieces(value) {
            let Piece::Text(text) = piece else {
                parts.push(piece);
                continue;
            };
            let mut run = String::new();
            for c in text.chars() {
                if c == '-' || c == '/' {
                    if !run.is_empty() {
                        parts.push(Piece::Text(std::mem::take(&mut run)));
                    }
                    parts.push(Piece::Dash);
                } else {
                    run.push(c);
                }
            }
            if !run.is_empty() {
                parts.push(Piece::Text(run));
            }
        }
        StrMatch::from_pieces(parts, place, cased)
    }

    fn from_pieces(mut parts: Vec<Piece>, place: Place, cased: bool) -> Result<StrMatch, String> {
        let (lead, trail) = match place {
            Place::Exact => (false, false),
            Place::Prefix => (false, true),
            Place::Suffix => (true, false),
            Place::Contains => (true, true),
        };
        if lead {
            parts.insert(0, Piece::Any);
        }
        if trail {
            parts.push(Piece::Any);
        }
        // Runs of `*` are one `*`.
        parts.dedup_by(|a, b| *a == Piece::Any && *b == Piece::Any);
        let literal = |t: &str| {
            if cased {
                t.to_owned()
            } else {
                t.to_lowercase()
            }
        };
        let shape: Vec<_> = parts.iter().collect();
        let found = match shape.as_slice() {
            [] => Some(lit(String::new(), Place::Exact, true)),
            [Piece::Any] => Some(StrMatch::Anything),
            [Piece::Text(t)] => Some(lit(literal(t), Place::Exact, cased)),
            [Piece::Text(t), Piece::Any] => Some(lit(literal(t), Place::Prefix, cased)),
            [Piece::Any, Piece::Text(t)] => Some(lit(literal(t), Place::Suffix, cased)),
            [Piece::Any, Piece::Text(t), Piece::Any] => {
                Some(lit(literal(t), Place::Contains, cased))
            }
            _ => None,
        };
        if let Some(found) = found {
            return Ok(found);
        }
        let longest = parts
            .iter()
            .filter_map(|p| match p {
                Piece::Text(t) => Some(t.to_lowercase()),
                _ => None,
            })
            .max_by_key(String::len)
            .unwrap_or_default();
        let text: String = parts
            .iter()
            .filter_map(|p| match p {
                Piece::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        let case = case_of(&text, cased);
        if case != Case::Unicode {
            if let Some(glob) = Glob::new(&parts, literal) {
                return Ok(StrMatch::Pattern(Wildcard::Glob(glob, case), longest));
            }
        }
        let mut re = String::from(if cased { "(?s)^" } else { "(?si)^" });
        for piece in &parts {
            match piece {
                Piece::Text(t) => re.push_str(&regex::escape(t)),
                Piece::Any => re.push_str(".*"),
                Piece::One => re.push('.'),
                Piece::Dash => re.push_str("[-/\u{2013}\u{2014}\u{2015}]"),
            }
        }
        re.push('$');
        Regex::new(&re)
            .map(|re| StrMatch::Pattern(Wildcard::Regex(re), longest))
            .map_err(|e| e.to_string())
    }

    /// Whether `text` matches.
    pub fn is_match(&self, text: &str) -> bool {
        self.is_match_in(&Haystack::new(text))
    }

    /// Whether the haystack's text matches (its lower-case form is shared
    /// by every check of the value).
    pub fn is_match_in(&self, hay: &Haystack<'_>) -> bool {
        match self {
            StrMatch::Anything => true,
            StrMatch::Pattern(Wildcard::Regex(re), _) => re.is_match(hay.raw),
            StrMatch::Pattern(Wildcard::Glob(glob, case), _) => glob.is_match(match case {
                Case::Sensitive => hay.raw,
                _ => hay.ascii_lower(),
            }),
            StrMatch::Literal {
                needle,
                place,
                case,
                finder,
            } => {
                let lowered;
                let text = match case {
                    Case::Sensitive => hay.raw,
                    Case::Ascii => hay.ascii_lower(),
                    // A needle with non-ASCII letters cannot occur in ASCII
                    // text, whatever its case: no need to fold the text.
                    Case::Unicode if hay.raw.is_ascii() => return false,
                    Case::Unicode => {
                        lowered = hay.raw.to_lowercase();
                        &lowered
                    }
                };
                match place {
                    Place::Exact => text == needle,
                    Place::Prefix => text.starts_with(needle.as_str()),
                    Place::Suffix => text.ends_with(needle.as_str()),
                    Place::Contains => match finder {
                        Some(f) => f.find(text.as_bytes()).is_some(),
                        None => memchr::memmem::find(text.as_bytes(), needle.as_bytes()).is_some(),
                    },
                }
            }
        }
    }
}

/// The ASCII lower-case form of a text, made on first use: `None` when
/// the text has no upper-case ASCII letter and serves as it is.
pub type LowerCache = std::cell::OnceCell<Option<Box<str>>>;

/// A field value's text, with its ASCII lower-case form made on first use,
/// either for this search alone or shared by every rule that reads the
/// field of the same event.
#[derive(Debug)]
pub struct Haystack<'a> {
    raw: &'a str,
    own: LowerCache,
    shared: Option<&'a LowerCache>,
}

impl<'a> Haystack<'a> {
    /// The text to search.
    pub fn new(raw: &'a str) -> Self {
        Haystack {
            raw,
            own: LowerCache::new(),
            shared: None,
        }
    }

    /// The text to search, lower-cased at most once into `cache`.
    pub fn cached(raw: &'a str, cache: &'a LowerCache) -> Self {
        Haystack {
            raw,
            own: LowerCache::new(),
            shared: Some(cache),
        }
    }

    /// The text as it is.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The text with ASCII letters in lower case.
    pub fn ascii_lower(&self) -> &str {
        let cache = self.shared.unwrap_or(&self.own);
        let lower = cache.get_or_init(|| {
            self.raw
                .bytes()
                .any(|b| b.is_ascii_uppercase())
                .then(|| self.raw.to_ascii_lowercase().into_boxed_str())
        });
        lower.as_deref().unwrap_or(self.raw)
    }
}

/// Whether ASCII case folding is the whole story for `needle`: its
/// characters beyond ASCII (the Unicode dashes of `windash`, say) have no
/// upper and lower case, so a byte comparison that ignores ASCII case is exact.
fn caseless_beyond_ascii(needle: &str) -> bool {
    needle.is_ascii()
        || needle
            .chars()
            .filter(|c| !c.is_ascii())
            .all(|c| !c.is_lowercase() && !c.is_uppercase())
}

/// How the literal text of a value is compared.
fn case_of(text: &str, cased: bool) -> Case {
    if cased {
        Case::Sensitive
    } else if caseless_beyond_ascii(text) {
        Case::Ascii
    } else {
        Case::Unicode
    }
}

fn lit(needle: String, place: Place, cased: bool) -> StrMatch {
    let case = case_of(&needle, cased);
    let finder = (place == Place::Contains && !needle.is_empty())
        .then(|| Box::new(memchr::memmem::Finder::new(needle.as_bytes()).into_owned()));
    StrMatch::Literal {
        needle,
        place,
        case,
        finder,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(value: &str, place: Place, cased: bool, text: &str) -> bool {
        StrMatch::new(value, place, cased).unwrap().is_match(text)
    }

    #[test]
    fn case_insensitive_by_default() {
        assert!(m(
            "\\cmd.exe",
            Place::Suffix,
            false,
            "C:\\Windows\\System32\\CMD.EXE"
        ));
        assert!(!m(
            "\\cmd.exe",
            Place::Suffix,
            true,
            "C:\\Windows\\System32\\CMD.EXE"
        ));
        assert!(m("ÄRGER", Place::Exact, false, "ärger"));
        assert!(m(
            "-EncodedCommand",
            Place::Contains,
            false,
            "powershell -encodedcommand AAA"
        ));
    }

    #[test]
    fn wildcards_and_escapes() {
        // `\\*` is a backslash and then a wildcard; `\*` alone is a literal star.
        assert!(m(
            "C:\\Users\\\\*\\AppData\\\\*.exe",
            Place::Exact,
            false,
            "c:\\users\\bob\\appdata\\x.EXE"
        ));
        assert!(!m("C:\\Users\\*", Place::Exact, false, "c:\\users\\bob"));
        assert!(m("C:\\Users\\*", Place::Exact, false, "c:\\users*"));
        assert!(m("a?c", Place::Exact, false, "abc"));
        assert!(!m("a?c", Place::Exact, false, "abbc"));
        assert!(m("100\\*", Place::Exact, false, "100*"));
        assert!(!m("100\\*", Place::Exact, false, "1000"));
        assert!(m("*", Place::Exact, false, ""));
        assert!(m("", Place::Exact, false, ""));
        assert!(!m("", Place::Exact, false, "x"));
        // A lone backslash before an ordinary character is kept.
        assert_eq!(
            pieces("C:\\Windows"),
            vec![Piece::Text("C:\\Windows".into())]
        );
    }

    #[test]
    fn literal_shapes_avoid_regex() {
        for (value, place) in [
            ("abc*", Place::Exact),
            ("*abc", Place::Exact),
            ("*abc*", Place::Exact),
            ("abc", Place::Contains),
        ] {
            assert!(matches!(
                StrMatch::new(value, place, false).unwrap(),
                StrMatch::Literal { .. }
            ));
        }
        assert!(matches!(
            StrMatch::new("a*b", Place::Exact, false).unwrap(),
            StrMatch::Pattern(..)
        ));
    }

    #[test]
    fn any_dash_accepts_every_windows_dash() {
        let m = StrMatch::any_dash("-a -b -c -d", Place::Contains, false).unwrap();
        assert!(m.is_match("x /A \u{2013}b -C \u{2015}d y"));
        assert!(!m.is_match("x a b c d"));
    }

    #[test]
    fn insensitive_search_agrees_with_lowercasing() {
        let texts = [
            "",
            "a",
            "xAbCx",
            "abcabc",
            "ab",
            "ABC",
            "zzzzabd abc",
            "É-ABC",
        ];
        for text in texts {
            for needle in ["a", "abc", "bca", "abd", "é-a"] {
                for (place, expect) in [
                    (Place::Contains, text.to_lowercase().contains(needle)),
                    (Place::Prefix, text.to_lowercase().starts_with(needle)),
                    (Place::Suffix, text.to_lowercase().ends_with(needle)),
                    (Place::Exact, text.to_lowercase() == needle),
                ] {
                    assert_eq!(
                        m(needle, place, false, text),
                        expect,
                        "{text} / {needle} / {place:?}"
                    );
                }
            }
        }
    }
}
