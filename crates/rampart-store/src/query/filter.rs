//! A query tested on events in memory, as they flow (a pipeline sink's
//! `where:`), with the meaning it has in a search of stored events: `=`
//! exact, or with `*` and `?` a pattern that ignores ASCII case, or with
//! `/` an address range; numbers compared as numbers; `@timestamp` as a
//! time; a field the event lacks satisfies only `!=`; free text is looked
//! for, ignoring case, in the event's message (or its original line), its
//! words whole as the store's full-text index finds them (`fail` does not
//! find `failed`).

use std::cmp::Ordering;
use std::net::IpAddr;

use ipnet::IpNet;
use jiff::Timestamp;
use rampart_event::{Event, ValueRef};

use super::parse::{parse, Expr, Op, QueryError};
use super::sql::time_of;

/// A query ready to test events.
#[derive(Debug, Clone)]
pub struct Filter {
    node: Node,
    text: String,
}

#[derive(Debug, Clone)]
enum Node {
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    /// Any of the tests holds on the field (one, or `in`'s several).
    Cond {
        field: String,
        tests: Vec<Test>,
        negate: bool,
    },
    /// Free text, lower-cased, and its words.
    Text(String, Vec<String>),
}

#[derive(Debug, Clone)]
enum Test {
    /// `@timestamp` against a time.
    Time(Op, Timestamp),
    /// Inside an address range.
    Net(IpNet),
    /// A pattern of `*` and `?`, lowercase.
    Like(Vec<char>),
    /// A number: compared as one with numbers, as its text otherwise.
    Number(Op, f64, String),
    /// Text.
    Text(Op, String),
}

impl Filter {
    /// Reads `text` as a query; an error says at which column it went wrong.
    pub fn new(text: &str) -> Result<Filter, QueryError> {
        Ok(Filter {
            node: node(&parse(text)?)?,
            text: text.to_string(),
        })
    }

    /// The query as it was written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether `event` matches.
    pub fn matches(&self, event: &Event) -> bool {
        holds(&self.node, event)
    }
}

fn node(expr: &Expr) -> Result<Node, QueryError> {
    Ok(match expr {
        Expr::And(a, b) => Node::And(Box::new(node(a)?), Box::new(node(b)?)),
        Expr::Or(a, b) => Node::Or(Box::new(node(a)?), Box::new(node(b)?)),
        Expr::Not(a) => Node::Not(Box::new(node(a)?)),
        Expr::Text(t) => Node::Text(t.to_lowercase(), super::words(t)),
        Expr::Cond {
            field,
            op,
            values,
            column,
        } => {
            let (op, negate) = match op {
                Op::Ne => (Op::Eq, true),
                Op::In => (Op::Eq, false),
                other => (*other, false),
            };
            let tests = values
                .iter()
                .map(|v| test(field, op, v))
                .collect::<Result<_, _>>()
                .map_err(|message| QueryError {
                    column: *column,
                    message: format!("{field}: {message}"),
                })?;
            Node::Cond {
                field: field.clone(),
                tests,
                negate,
            }
        }
    })
}

fn test(field: &str, op: Op, value: &str) -> Result<Test, String> {
    let wild = value.contains(['*', '?']);
    if field == "@timestamp" {
        if wild {
            return Err("a time cannot be a pattern".into());
        }
        let time = time_of(value)?;
        return Ok(Test::Time(op, time));
    }
    if op == Op::Eq && value.contains('/') {
        if let Ok(net) = value.parse::<IpNet>() {
            return Ok(Test::Net(net));
        }
    }
    if op == Op::Eq && wild {
        return Ok(Test::Like(value.to_lowercase().chars().collect()));
    }
    if let Ok(n) = value.parse::<f64>() {
        return Ok(Test::Number(op, n, value.to_string()));
    }
    Ok(Test::Text(op, value.to_string()))
}

fn holds(node: &Node, event: &Event) -> bool {
    match node {
        Node::And(a, b) => holds(a, event) && holds(b, event),
        Node::Or(a, b) => holds(a, event) || holds(b, event),
        Node::Not(a) => !holds(a, event),
        Node::Text(text, words) => {
            let within = event
                .get("message")
                .map_or_else(|| event.original().to_string(), |m| m.to_string());
            let within = within.to_lowercase();
            within.contains(text.as_str()) && super::holds_words(&within, words)
        }
        Node::Cond {
            field,
            tests,
            negate,
        } => {
            let found = match event.get(field) {
                Some(ValueRef::Null) | None => false,
                Some(value) => tests.iter().any(|t| passes(t, value)),
            };
            found != *negate
        }
    }
}

fn ordered(op: Op, ord: Option<Ordering>) -> bool {
    let Some(ord) = ord else {
        return false;
    };
    match op {
        Op::Eq | Op::In => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
    }
}

fn passes(test: &Test, value: ValueRef<'_>) -> bool {
    match test {
        Test::Time(op, t) => match value {
            ValueRef::Time(v) => ordered(*op, Some(v.cmp(t))),
            other => other
                .to_string()
                .parse::<Timestamp>()
                .is_ok_and(|v| ordered(*op, Some(v.cmp(t)))),
        },
        Test::Net(net) => match value {
            ValueRef::Ip(ip) => net.contains(&ip),
            other => other
                .to_string()
                .parse::<IpAddr>()
                .is_ok_and(|ip| net.contains(&ip)),
        },
        Test::Like(pattern) => {
            let text: Vec<char> = value.to_string().to_lowercase().chars().collect();
            like(pattern, &text)
        }
        Test::Number(op, n, text) => match value {
            ValueRef::Int(i) => ordered(*op, (i as f64).partial_cmp(n)),
            ValueRef::Float(x) => ordered(*op, x.partial_cmp(n)),
            // Text that reads as the number only equals it, as in a search.
            other => *op == Op::Eq && other.to_string() == *text,
        },
        Test::Text(op, text) => {
            let s = value.to_string();
            ordered(*op, Some(s.as_str().cmp(text.as_str())))
        }
    }
}

/// Whether `text` matches `pattern` (`*` any run of characters, `?` one),
/// both lowercase: the greedy walk that goes back to the last `*`.
fn like(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::{Origin, Value};

    fn event() -> Event {
        let mut e = Event::new(
            Origin::new("auth.log", 3),
            "Failed password for root from 203.0.113.7 port 2222 ssh2",
        );
        e.timestamp = Some("2025-03-14T11:00:00Z".parse().unwrap());
        e.insert("event.dataset", Value::Static("linux.auth"));
        e.insert("source.ip", Value::Ip("203.0.113.7".parse().unwrap()));
        e.insert("source.port", Value::Int(2222));
        e.insert("user.name", Value::Str("Administrator".into()));
        e
    }

    fn yes(query: &str) -> bool {
        Filter::new(query).unwrap().matches(&event())
    }

    #[test]
    fn conditions_mean_what_they_mean_in_a_search() {
        assert!(yes("event.dataset=linux.auth"));
        assert!(!yes("event.dataset=linux"));
        assert!(yes("source.ip=203.0.113.0/24"));
        assert!(!yes("source.ip=10.0.0.0/8"));
        assert!(yes("user.name=adm*"), "patterns ignore case");
        assert!(!yes("user.name=administrator"), "= alone is exact");
        assert!(yes("user.name=?dministrato?"));
        assert!(yes("source.port>=2000 and source.port<3000"));
        assert!(yes("source.port in (22, 2222)"));
        assert!(!yes("source.port in (22, 23)"));
        assert!(yes("@timestamp>=2025-03-14 and @timestamp<2025-03-15"));
        assert!(yes("\"FAILED PASSWORD\""), "free text ignores case");
        assert!(!yes("fail"), "free text's words are whole, as in the store");
        assert!(yes("203.0.113"));
        assert!(yes("not process.name=sshd"));
        assert!(yes("process.name!=sshd"), "a missing field satisfies !=");
        assert!(!yes("process.name=*"), "and nothing else");
        assert!(yes(
            "(user.name=root or source.port=2222) and not \"accepted\""
        ));
    }

    #[test]
    fn a_bad_value_is_refused_with_its_column() {
        let e = Filter::new("source.port>1 and @timestamp>yesterday").unwrap_err();
        assert_eq!(e.column, 19);
        assert!(e.message.contains("@timestamp"), "{e}");
    }

    #[test]
    fn patterns_backtrack_without_blowing_up() {
        let pattern: Vec<char> = "*a*a*a*a*a*b".chars().collect();
        let text: Vec<char> = "a".repeat(10_000).chars().collect();
        assert!(!like(&pattern, &text));
        assert!(like(&['*'], &[]));
        assert!(like(
            &"a*c".chars().collect::<Vec<_>>(),
            &"abbbc".chars().collect::<Vec<_>>()
        ));
    }
}
