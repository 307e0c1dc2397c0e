//! Free text as the full-text index reads it: words are runs of letters
//! and digits, matched whole and without regard to case. The SQLite store
//! asks its index for them; ClickHouse and the test of events in memory
//! look for each word between characters that are not letters or digits,
//! so that a search finds the same events wherever it runs.

/// The words of `text`, lower-cased, in order.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether `lower` (a lower-cased text) holds every one of `words` whole.
pub fn holds_words(lower: &str, words: &[String]) -> bool {
    words.iter().all(|w| {
        lower
            .split(|c: char| !c.is_alphanumeric())
            .any(|token| token == w)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_whole_runs_of_letters_and_digits_in_any_case() {
        assert_eq!(
            words("Failed  password-for root@10.0.0.1"),
            ["failed", "password", "for", "root", "10", "0", "0", "1"]
        );
        let line = "sshd[42]: Failed password for Root from 203.0.113.7".to_lowercase();
        let line = line.as_str();
        assert!(holds_words(line, &words("failed ROOT")));
        assert!(holds_words(line, &words("203.0.113")));
        assert!(!holds_words(line, &words("fail")), "inside a word");
        assert!(!holds_words(line, &words("oot")));
        assert!(holds_words(
            &"Zürich GRÖSSE größe".to_lowercase(),
            &words("Größe")
        ));
    }
}
