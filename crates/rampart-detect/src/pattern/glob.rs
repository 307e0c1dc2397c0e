//! Wildcard values made of literal text and `*` only (the common kind:
//! `*\AppData\*.exe`, `cmd*/c*`), matched by finding their pieces in order
//! with `memchr`'s substring search instead of running a regular
//! expression over the text.
//!
//! A piece is found at its earliest end, which is all the next piece needs:
//! if the pieces can be placed in order at all, they can be placed this way.
//! Windows dashes (`windash` values with many dashes) are spelled out per
//! piece, up to [`MAX_SPELLINGS`]; `?` and more spellings are left to the
//! regular expression.

use memchr::memmem::Finder;

use super::wildcard::Piece;

/// The most spellings one piece may have.
const MAX_SPELLINGS: usize = 25;

/// The dashes a Windows command line accepts for `-`.
const DASHES: [&str; 5] = ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"];

/// A `*`-only wildcard value.
#[derive(Debug, Clone)]
pub struct Glob {
    /// The pieces between `*`s, each with its spellings.
    pieces: Vec<Vec<Finder<'static>>>,
    /// Whether the first piece must start the text.
    start: bool,
    /// Whether the last piece must end it.
    end: bool,
}

impl Glob {
    /// The glob of `parts` (the place's leading and trailing `*` included),
    /// with literal text passed through `fold` (lower-casing, when case is
    /// ignored); `None` when a part is `?` or a piece has too many spellings.
    pub fn new(parts: &[Piece], fold: impl Fn(&str) -> String) -> Option<Glob> {
        let start = !matches!(parts.first(), Some(Piece::Any));
        let end = !matches!(parts.last(), Some(Piece::Any));
        let mut pieces = Vec::new();
        let mut spellings = vec![String::new()];
        for part in parts {
            match part {
                Piece::Any => {
                    if spellings.iter().any(|s| !s.is_empty()) {
                        pieces.push(std::mem::replace(&mut spellings, vec![String::new()]));
                    }
                }
                Piece::Text(text) => {
                    let text = fold(text);
                    for s in &mut spellings {
                        s.push_str(&text);
                    }
                }
                Piece::Dash => {
                    if spellings.len() * DASHES.len() > MAX_SPELLINGS {
                        return None;
                    }
                    spellings = spellings
                        .iter()
                        .flat_map(|s| DASHES.iter().map(move |d| format!("{s}{d}")))
                        .collect();
                }
                Piece::One => return None,
            }
        }
        if spellings.iter().any(|s| !s.is_empty()) {
            pieces.push(spellings);
        }
        let pieces = pieces
            .into_iter()
            .map(|spellings| {
                spellings
                    .iter()
                    .map(|s| Finder::new(s.as_bytes()).into_owned())
                    .collect()
            })
            .collect();
        Some(Glob { pieces, start, end })
    }

    /// Whether `text` matches.
    pub fn is_match(&self, text: &str) -> bool {
        let text = text.as_bytes();
        let last = self.pieces.len().saturating_sub(1);
        let mut at = 0;
        for (k, spellings) in self.pieces.iter().enumerate() {
            let mut needles = spellings.iter().map(Finder::needle);
            let first = k == 0 && self.start;
            if k == last && self.end {
                // The last piece ends the text, after what came before.
                return needles.any(|n| {
                    text.len() >= at + n.len()
                        && text.ends_with(n)
                        && (!first || text.len() == n.len())
                });
            }
            let found = if first {
                needles
                    .filter(|n| text.starts_with(n))
                    .map(<[u8]>::len)
                    .min()
            } else {
                spellings
                    .iter()
                    .filter_map(|f| f.find(&text[at..]).map(|p| at + p + f.needle().len()))
                    .min()
            };
            match found {
                Some(end) => at = end,
                None => return false,
            }
        }
        // No pieces: the value was `*` runs only, or the text must be empty.
        !self.pieces.is_empty() || !self.start || !self.end || text.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::wildcard::pieces;

    /// What a regular expression of the same value decides.
    fn regex_of(value: &str) -> regex::Regex {
        let mut re = String::from("(?s)^");
        for p in pieces(value) {
            match p {
                Piece::Text(t) => re.push_str(&regex::escape(&t)),
                Piece::Any => re.push_str(".*"),
                Piece::One => re.push('.'),
                Piece::Dash => re.push_str("[-/\u{2013}\u{2014}\u{2015}]"),
            }
        }
        re.push('$');
        regex::Regex::new(&re).unwrap()
    }

    #[test]
    fn decides_as_the_regular_expression_does() {
        let values = [
            "a*b",
            "*a*b*",
            "a*",
            "*a",
            "ab*ab",
            "*ab*ab",
            "a*b*c",
            "*",
            "**",
            "",
            "aa*aa",
            "*\\appdata\\*.exe",
            "cmd*/c*",
            "x*x*x",
        ];
        let texts = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            "aab",
            "abab",
            "abb",
            "aabb",
            "acb",
            "abc",
            "aaa",
            "aaaa",
            "aaaaa",
            "c:\\users\\x\\appdata\\roaming\\evil.exe",
            "cmd.exe /c whoami",
            "xx",
            "xxx",
            "x",
            "é*a",
            "aéb",
        ];
        for value in values {
            let glob = Glob::new(&pieces(value), str::to_owned).unwrap();
            let re = regex_of(value);
            for text in texts {
                assert_eq!(
                    glob.is_match(text),
                    re.is_match(text),
                    "{value:?} on {text:?}"
                );
            }
        }
    }

    #[test]
    fn dashes_are_spelled_out_and_question_marks_refused() {
        let parts = vec![
            Piece::Any,
            Piece::Dash,
            Piece::Text("enc".into()),
            Piece::Any,
            Piece::Dash,
            Piece::Text("w".into()),
            Piece::Any,
        ];
        let glob = Glob::new(&parts, str::to_owned).unwrap();
        assert!(glob.is_match("powershell \u{2013}enc abc /w hidden"));
        assert!(!glob.is_match("powershell enc abc w hidden"));
        let many = [Piece::Dash, Piece::Dash, Piece::Dash];
        assert!(Glob::new(&many, str::to_owned).is_none());
        assert!(Glob::new(&pieces("a?b"), str::to_owned).is_none());
    }
}
