//! Small, allocation-free scanning helpers shared by the line parsers.

use std::net::IpAddr;

/// Parses an IP address token, tolerating surrounding brackets and a trailing
/// `:`, `,`, `;` or `.` as logs print them (`[203.0.113.5]`, `203.0.113.5:`).
pub fn ip_token(token: &str) -> Option<IpAddr> {
    let token = token
        .trim_start_matches('[')
        .trim_end_matches([']', ':', ',', ';', '.', ')']);
    let first = *token.as_bytes().first()?;
    if !(first.is_ascii_hexdigit() || first == b':') || token.len() < 2 {
        return None;
    }
    if !token.contains(['.', ':']) {
        return None;
    }
    token.parse().ok()
}

/// The first token of `text` that is an IP address, and the text after it.
pub fn first_ip(text: &str) -> Option<(IpAddr, &str)> {
    let separator = |b: u8| b.is_ascii_whitespace() || b == b'(' || b == b'=';
    let bytes = text.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        let end = bytes[start..]
            .iter()
            .position(|&b| separator(b))
            .map_or(bytes.len(), |n| start + n);
        if let Some(ip) = ip_token(&text[start..end]) {
            return Some((ip, &text[end..]));
        }
        start = end + 1;
    }
    None
}

/// Parses a decimal unsigned number made only of ASCII digits.
pub fn uint(s: &str) -> Option<u64> {
    let bytes = s.as_bytes();
    if bytes.is_empty() || bytes.len() > 19 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(b - b'0');
    }
    Some(n)
}

/// Parses a port number (0-65535).
pub fn port(s: &str) -> Option<u16> {
    uint(s).and_then(|n| u16::try_from(n).ok())
}

/// The last component of a Windows or Unix path.
pub fn basename(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// The position of the first `needle` in `haystack`. Log lines are short,
/// so finding the needle's first byte with memchr and comparing the rest
/// beats building a substring searcher for every call.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut from = 0;
    while let Some(i) = memchr::memchr(first, haystack.get(from..)?) {
        let at = from + i;
        if haystack[at + 1..].starts_with(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The position of the last `needle` in `haystack`.
pub fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut to = haystack.len();
    while let Some(at) = memchr::memrchr(first, &haystack[..to]) {
        if haystack[at + 1..].starts_with(rest) {
            return Some(at);
        }
        to = at;
    }
    None
}

/// The position of the first `byte` in a short piece of text: a plain loop,
/// cheaper than a vectorised search over the few bytes of a log token.
pub fn position(text: &str, byte: u8) -> Option<usize> {
    text.bytes().position(|b| b == byte)
}

/// The words of `text` between single spaces (empty words included, as
/// `split(' ')` gives them), with a byte loop: words in log lines are a few
/// bytes long, too short for a vectorised search to pay off.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.bytes().position(|b| b == b' ') {
            Some(end) => {
                rest = Some(&current[end + 1..]);
                Some(&current[..end])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// Splits `text` at the first occurrence of `sep`.
pub fn split_once_str<'a>(text: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    let at = find(text.as_bytes(), sep.as_bytes())?;
    Some((&text[..at], &text[at + sep.len()..]))
}

/// The value after `key` up to the next space (`rhost=` in PAM lines).
pub fn value_after<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let (_, rest) = split_once_str(text, key)?;
    let end = rest.find(' ').unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Lower-cases ASCII and turns spaces, slashes and dashes into underscores:
/// `File/Process` → `file_process`, for field names built from labels.
pub fn snake(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for c in label.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_tokens_tolerate_log_punctuation() {
        assert_eq!(ip_token("[203.0.113.5]"), "203.0.113.5".parse().ok());
        assert_eq!(ip_token("203.0.113.5:"), "203.0.113.5".parse().ok());
        assert_eq!(ip_token("2001:db8::1"), "2001:db8::1".parse().ok());
        assert_eq!(ip_token("port"), None);
        assert_eq!(ip_token("22"), None);
        assert_eq!(
            first_ip("Received disconnect from 198.51.100.7: 11: Bye"),
            Some(("198.51.100.7".parse().unwrap(), " 11: Bye"))
        );
        assert_eq!(
            first_ip("rhost=203.0.113.1 user=x"),
            Some(("203.0.113.1".parse().unwrap(), " user=x"))
        );
        assert_eq!(first_ip("no address here"), None);
        assert_eq!(find(b"a=b SRC=1", b"SRC="), Some(4));
        assert_eq!(find(b"SR SRC", b"SRC="), None);
        assert_eq!(find(b"abc", b""), None);
        assert!(words("a  b ").eq("a  b ".split(' ')));
        assert_eq!(rfind(b"x from a from b", b" from "), Some(8));
        assert_eq!(rfind(b"from", b" from "), None);
        assert_eq!(position("ab[c", b'['), Some(2));
        assert!(words("").eq("".split(' ')));
    }

    #[test]
    fn numbers_and_names() {
        assert_eq!(uint("0042"), Some(42));
        assert_eq!(uint("4x"), None);
        assert_eq!(port("65536"), None);
        assert_eq!(basename("C:\\Windows\\System32\\cmd.exe"), "cmd.exe");
        assert_eq!(snake("File/Process"), "file_process");
        assert_eq!(snake(" Malware Found "), "malware_found");
    }
}
