//! `${NAME}` and `${NAME:-default}` in a pipeline file, replaced by the
//! environment's values before the file is read, so that one file serves
//! several machines (a port, a host) without holding what differs.
//! Secrets are not read this way: they have their own `*_env` keys, so
//! that they never pass through the file's text.

use crate::yaml::{Located, Mark};

/// The text with every `${...}` replaced; `lookup` gives a variable's
/// value. A variable that is not set and has no default is an error at
/// its place; `$$` is a `$`.
pub fn expand(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, Vec<Located>> {
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let mut rest = line;
        let mut col = 1;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            col += rest[..at].chars().count();
            let after = &rest[at + 1..];
            if let Some(tail) = after.strip_prefix('$') {
                out.push('$');
                rest = tail;
                col += 2;
                continue;
            }
            let Some(body) = after.strip_prefix('{') else {
                out.push('$');
                rest = after;
                col += 1;
                continue;
            };
            let Some(end) = body.find('}') else {
                errors.push(Located {
                    at: Mark { line: n + 1, col },
                    what: "`${` without its `}`".into(),
                });
                out.push_str(&rest[at..]);
                rest = "";
                break;
            };
            let inner = &body[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (inner, None),
            };
            let valid =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            match (valid, lookup(name), default) {
                (false, ..) => errors.push(Located {
                    at: Mark { line: n + 1, col },
                    what: format!("`${{{inner}}}` does not name a variable"),
                }),
                (true, Some(value), _) => out.push_str(&value),
                (true, None, Some(default)) => out.push_str(default),
                (true, None, None) => errors.push(Located {
                    at: Mark { line: n + 1, col },
                    what: format!("{name} is not set (and `${{{name}:-default}}` gives none)"),
                }),
            }
            let used = 2 + end + 1;
            col += inner.chars().count() + 3;
            rest = &after[used - 1..];
        }
        out.push_str(rest);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "PORT").then(|| "5514".to_string())
    }

    #[test]
    fn variables_defaults_and_dollars() {
        let text = "listen: tcp://127.0.0.1:${PORT}\nhost: ${HOST:-localhost} costs $$5, $x\n";
        assert_eq!(
            expand(text, env).unwrap(),
            "listen: tcp://127.0.0.1:5514\nhost: localhost costs $5, $x\n"
        );
    }

    #[test]
    fn a_missing_variable_is_an_error_where_it_is() {
        let errors = expand("a: 1\nb: x ${NOPE} y\n", env).unwrap_err();
        assert_eq!(errors[0].at, Mark { line: 2, col: 6 });
        assert!(errors[0].what.contains("NOPE is not set"));
        assert!(expand("a: ${bad name}\n", env).is_err());
        assert!(expand("a: ${OPEN\n", env).is_err());
    }
}
