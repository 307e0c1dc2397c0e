//! Azure's auoms merges the records of one `execve` (`SYSCALL`, `CWD`,
//! `PATH`, `EXECVE`) into a single `AUOMS_EXECVE` record. Its `a0`-`a3` are
//! the system call's arguments (pointers), and the program's arguments come
//! as `cmdline`: each argument quoted as bash would need it to see the same
//! argument (plain, `"..."`, `'...'` or `$'...'`), joined by spaces.
//!
//! For Sigma's auditd rules, which test one record type at a time
//! (`type: EXECVE` with `a0`, `a1`, ...), such a record stands for the
//! records it merges: its `type` lists them, and when `cmdline` splits into
//! as many words as `argc` says, the words become `a0`, `a1`, ... as in an
//! `EXECVE` record, and the pointers move to `syscall_a0`-`syscall_a3`.

use std::iter::Peekable;
use std::str::Bytes;

use super::Record;

/// The record types an `AUOMS_EXECVE` record stands for, its own first;
/// `EXECVE` only when its arguments are known.
pub fn merged_types(record: &Record<'_>, arguments: bool) -> Vec<&'static str> {
    let has = |key: &str| record.fields.iter().any(|(k, _)| *k == key);
    let mut types = vec!["AUOMS_EXECVE", "SYSCALL"];
    if arguments {
        types.push("EXECVE");
    }
    if has("cwd") {
        types.push("CWD");
    }
    if has("name") {
        types.push("PATH");
    }
    types
}

/// The program's arguments: `cmdline` split as bash splits words, when
/// there are as many as `argc` says (or `argc` is absent).
pub fn arguments(cmdline: &str, argc: Option<&str>) -> Option<Vec<String>> {
    let words = words(cmdline)?;
    match argc.map(str::parse::<usize>) {
        Some(Ok(n)) if n != words.len() => None,
        Some(Err(_)) => None,
        _ => Some(words),
    }
}

/// Bash words: blanks separate them; `'...'` is literal; in `"..."` a
/// backslash escapes `"`, `\`, `$` and `` ` ``; `$'...'` takes C escapes;
/// elsewhere a backslash escapes the next character. `None` when a quote is
/// left open.
fn words(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Vec<u8> = Vec::new();
    let mut in_word = false;
    let mut bytes = text.bytes().peekable();
    while let Some(b) = bytes.next() {
        match b {
            b' ' | b'\t' => {
                if in_word {
                    words.push(String::from_utf8_lossy(&word).into_owned());
                    word.clear();
                    in_word = false;
                }
                continue;
            }
            b'\'' => loop {
                match bytes.next()? {
                    b'\'' => break,
                    c => word.push(c),
                }
            },
            b'"' => loop {
                match bytes.next()? {
                    b'"' => break,
                    b'\\' => match bytes.next()? {
                        c @ (b'"' | b'\\' | b'$' | b'`') => word.push(c),
                        c => word.extend([b'\\', c]),
                    },
                    c => word.push(c),
                }
            },
            b'$' if bytes.peek() == Some(&b'\'') => {
                bytes.next();
                loop {
                    match bytes.next()? {
                        b'\'' => break,
                        b'\\' => c_escape(&mut bytes, &mut word)?,
                        c => word.push(c),
                    }
                }
            }
            b'\\' => word.push(bytes.next()?),
            c => word.push(c),
        }
        in_word = true;
    }
    if in_word {
        words.push(String::from_utf8_lossy(&word).into_owned());
    }
    Some(words)
}

/// One escape of `$'...'`, after its backslash.
fn c_escape(bytes: &mut Peekable<Bytes<'_>>, word: &mut Vec<u8>) -> Option<()> {
    let c = bytes.next()?;
    let simple = match c {
        b'a' => Some(0x07),
        b'b' => Some(0x08),
        b'e' | b'E' => Some(0x1b),
        b'f' => Some(0x0c),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(0x0b),
        b'\\' | b'\'' | b'"' | b'?' => Some(c),
        _ => None,
    };
    if let Some(byte) = simple {
        word.push(byte);
        return Some(());
    }
    let (radix, max_digits, first) = match c {
        b'x' => (16, 2, None),
        b'0'..=b'7' => (8, 3, Some(c)),
        other => {
            word.extend([b'\\', other]);
            return Some(());
        }
    };
    let mut value: u32 = 0;
    let mut digits = 0;
    if let Some(d) = first {
        value = u32::from(d - b'0');
        digits = 1;
    }
    while digits < max_digits {
        let Some(d) = bytes.peek().and_then(|&d| char::from(d).to_digit(radix)) else {
            break;
        };
        bytes.next();
        value = value * radix + d;
        digits += 1;
    }
    if digits == 0 {
        word.extend([b'\\', c]);
    } else {
        word.push(value as u8);
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bash_words_are_split_as_bash_splits_them() {
        let w = |s: &str| words(s).unwrap();
        assert_eq!(
            w(r#"bash -c "{echo,YmFz}|{base64,-d}|{bash,-i}""#),
            ["bash", "-c", "{echo,YmFz}|{base64,-d}|{bash,-i}"]
        );
        assert_eq!(w("ls  -la\t/tmp"), ["ls", "-la", "/tmp"]);
        assert_eq!(
            w(r#"echo "say \"hi\" \$HOME \n" 'it'"s" ''"#),
            ["echo", r#"say "hi" $HOME \n"#, "its", ""]
        );
        assert_eq!(
            w(r"printf $'a\tb\x41\101\'' x\ y"),
            ["printf", "a\tbAA'", "x y"]
        );
        assert_eq!(w("a <2...3> b"), ["a", "<2...3>", "b"]);
        assert!(words(r#"echo "open"#).is_none());
        assert!(words("echo 'open").is_none());
        assert!(words("trailing\\").is_none());
    }

    #[test]
    fn arguments_count_must_agree_with_argc() {
        assert_eq!(arguments("base64 -d", Some("2")).unwrap(), ["base64", "-d"]);
        assert!(arguments("base64 -d", Some("3")).is_none());
        assert!(arguments("base64 -d", Some("x")).is_none());
        assert_eq!(arguments("id", None).unwrap(), ["id"]);
    }
}
