//! Base64 hidden in command lines, read out for the reader of a process
//! tree: malware passes its orders encoded (`--ZG93bmxvYWQ=` is
//! `download`; PowerShell's `-enc` takes UTF-16 text). Only tokens that
//! decode to readable text are shown, so ordinary words and paths, which
//! are also made of base64's letters, do not turn into noise.

use base64::Engine as _;

/// The shortest token tried.
const SHORTEST: usize = 8;
/// Decoded texts shown per command line, at most.
const MOST: usize = 8;
/// The longest decoded text shown.
const LONGEST: usize = 200;

/// The readable texts that base64 tokens of `command_line` decode to.
pub fn hidden_text(command_line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let tokens = command_line.split(|c: char| {
        c.is_whitespace() || matches!(c, '"' | '\'' | ':' | ',' | ';' | '(' | ')')
    });
    for token in tokens {
        let token = token.trim_start_matches(['-', '/']);
        if token.len() < SHORTEST
            || !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
            || !token.len().is_multiple_of(4)
        {
            continue;
        }
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(token) else {
            continue;
        };
        if let Some(text) = readable(&bytes) {
            if !found.contains(&text) {
                found.push(text);
            }
            if found.len() == MOST {
                break;
            }
        }
    }
    found
}

/// `bytes` as text when they are readable: UTF-8, or UTF-16LE as
/// PowerShell encodes, of printable characters mostly letters and digits.
fn readable(bytes: &[u8]) -> Option<String> {
    let utf16 = bytes.len() >= 4
        && bytes.len().is_multiple_of(2)
        && bytes.iter().skip(1).step_by(2).all(|b| *b == 0);
    let text = if utf16 {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&units).ok()?
    } else {
        String::from_utf8(bytes.to_vec()).ok()?
    };
    let printable = text
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\r' | '\n'));
    let letters = text.chars().filter(|c| c.is_alphanumeric()).count();
    if text.chars().count() < 3 || !printable || letters * 2 < text.chars().count() {
        return None;
    }
    let mut text: String = text.chars().take(LONGEST).collect();
    if text.len() < bytes.len() / if utf16 { 2 } else { 1 } {
        text.push('…');
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_three_orders_and_powershell_are_read_out() {
        assert_eq!(
            hidden_text("\"C:/x/system_update.exe\" --ZG93bmxvYWQ= --bW9kaWZ5LXN5c3RlbQ=="),
            vec!["download", "modify-system"]
        );
        assert_eq!(
            hidden_text("x.exe --Y29ubmVjdA== MTkyLjE2OC4xLjEwMA==:ODA4MA=="),
            vec!["connect", "192.168.1.100", "8080"]
        );
        // `whoami` as PowerShell's -enc writes it.
        assert_eq!(
            hidden_text("powershell -enc dwBoAG8AYQBtAGkA"),
            vec!["whoami"]
        );
    }

    #[test]
    fn words_and_paths_are_not_mistaken_for_base64() {
        for line in [
            "C:/Windows/System32/explorer.exe /factory,{75dff2b7}",
            "cmd.exe /c copy abcdefgh ABCDEFGH 12345678",
            "\"C:\\Program Files\\winword.exe\"",
        ] {
            assert!(
                hidden_text(line).is_empty(),
                "{line}: {:?}",
                hidden_text(line)
            );
        }
    }
}
