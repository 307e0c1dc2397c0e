//! Text from the store made safe and short for the screen. Log content is
//! written by attackers: a value holding an escape sequence must not reach
//! the terminal raw, where it could clear the screen, move the cursor to
//! forge a line, or set the window title. Every control character becomes
//! a visible stand-in (its Unicode control picture where it has one), so an
//! analyst sees that something was hidden there; so do the invisible
//! characters that reorder text (bidirectional overrides).

/// `text` with every control and bidirectional formatting character made
/// visible, and line breaks and tabs turned into spaces.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => ' ',
            // C0 controls have pictures at U+2400 on.
            '\0'..='\x1f' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
            '\x7f' => '\u{2421}',
            '\u{80}'..='\u{9f}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}' => '\u{fffd}',
            c => c,
        })
        .collect()
}

/// `n` with thousands separated, as figures are read at a glance.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// `n` of `what` (a noun taking an s), as in "1 alert", "2 alerts".
pub fn counted(n: u64, what: &str) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{} {what}{s}", count(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_reordering_characters_are_made_visible() {
        assert_eq!(clean("a\x1b[2Jb"), "a\u{241b}[2Jb");
        assert_eq!(clean("x\x07\x7f\u{9b}31m"), "x\u{2407}\u{2421}\u{fffd}31m");
        assert_eq!(clean("evil\u{202e}txt.exe"), "evil\u{fffd}txt.exe");
        assert_eq!(clean("two\nlines\tand\r"), "two lines and ");
        assert_eq!(clean("plain ünïcode 日本"), "plain ünïcode 日本");
        assert!(
            clean(&(0..0x2100).filter_map(char::from_u32).collect::<String>())
                .chars()
                .all(|c| !c.is_control())
        );
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(12_345_678), "12,345,678");
        assert_eq!(counted(1, "alert"), "1 alert");
        assert_eq!(counted(1_000, "event"), "1,000 events");
    }
}
