//! A Sigma string value split into literal text and wildcards: the form
//! every string check (literal, glob or regex) is compiled from.

/// One piece of a Sigma string value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// `*`: any run of characters.
    Any,
    /// `?`: one character.
    One,
    /// Any of the dashes Windows accepts (`windash` with too many dashes to
    /// spell out every variant).
    Dash,
}

/// Splits a Sigma string value into literal text and wildcards. `\*`, `\?`
/// and `\\` are literal; any other backslash stays a backslash.
pub fn pieces(value: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&next @ ('*' | '?' | '\\')) => {
                    text.push(next);
                    chars.next();
                }
                _ => text.push('\\'),
            },
            '*' | '?' => {
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                out.push(if c == '*' { Piece::Any } else { Piece::One });
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    out
}
