//! The literals a regular expression's matches must start with, so that
//! rules whose only test is a regex (`re`) can be pruned by the field scan
//! like any other: when none of the literals is in the field, the regex
//! cannot match and is not run.
//!
//! The regex crate's own literal extractor works them out from the parsed
//! expression. Only a finite set of non-empty ASCII literals is used, and
//! the scan finds them ignoring ASCII case. For a case-insensitive regex
//! that is exact except for the two ASCII letters a non-ASCII character
//! folds to (the Kelvin sign to `k`, the long s to `s`): there, the
//! longest run of each literal without `k` or `s` is used instead. Inline
//! `(?i)` groups are spelled out by the extractor, so a folding character
//! shows up as a non-ASCII literal and the set is refused.

use regex_syntax::hir::literal::Extractor;
use regex_syntax::ParserBuilder;

/// The most literals kept for one expression.
const MAX_LITERALS: usize = 64;

/// The lower-case ASCII literals one of which starts every match of
/// `pattern` (with flags `i`, `m`, `s`); `None` when there is no such set.
pub fn necessary(pattern: &str, i: bool, m: bool, s: bool) -> Option<Vec<String>> {
    let hir = ParserBuilder::new()
        .multi_line(m)
        .dot_matches_new_line(s)
        .build()
        .parse(pattern)
        .ok()?;
    let seq = Extractor::new().extract(&hir);
    let mut out: Vec<String> = Vec::new();
    for literal in seq.literals()? {
        let bytes = literal.as_bytes();
        if !bytes.is_ascii() {
            return None;
        }
        let mut text = String::from_utf8_lossy(bytes).to_ascii_lowercase();
        if i {
            text = text
                .split(['k', 's'])
                .max_by_key(|run| run.len())
                .unwrap_or_default()
                .to_owned();
        }
        if text.is_empty() {
            return None;
        }
        if !out.contains(&text) {
            out.push(text);
        }
    }
    (!out.is_empty() && out.len() <= MAX_LITERALS).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_every_match_starts_with() {
        assert_eq!(
            necessary("foo(bar|baz)", false, false, false).unwrap(),
            ["foobar", "foobaz"]
        );
        assert_eq!(
            necessary("(?i)cmd\\.exe", false, false, false).unwrap(),
            ["cmd.exe"]
        );
        assert_eq!(necessary("Invoke-", true, false, false).unwrap(), ["invo"]);
        assert_eq!(
            necessary("powershell", true, false, false).unwrap(),
            ["power"]
        );
        assert_eq!(necessary("(?i)Desk", false, false, false), None);
        // Nothing every match must start with.
        assert_eq!(necessary(".*x", false, false, false), None);
        assert_eq!(necessary("a?", false, false, false), None);
        assert_eq!(necessary("[a-z]+abc", false, false, false), None);
        // A character folding to an ASCII letter is a spelling the scan would miss.
        assert_eq!(necessary("k", true, false, false), None);
        assert!(regex::RegexBuilder::new("k")
            .case_insensitive(true)
            .build()
            .unwrap()
            .is_match("\u{212A}"));
        assert_eq!(necessary("(", false, false, false), None);
    }
}
