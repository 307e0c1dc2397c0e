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

/// The first token of `text` that is an IP address.
pub fn first_ip(text: &str) -> Option<IpAddr> {
    text.split(|c: char| c.is_ascii_whitespace() || c == '(' || c == '=')
        .find_map(ip_token)
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

/// Splits `text` at the first occurrence of `sep`.
pub fn split_once_str<'a>(text: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    let at = memchr::memmem::find(text.as_bytes(), sep.as_bytes())?;
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
            "198.51.100.7".parse().ok()
        );
        assert_eq!(
            first_ip("rhost=203.0.113.1 user=x"),
            "203.0.113.1".parse().ok()
        );
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
