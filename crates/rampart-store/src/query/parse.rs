//! The event query language, read into a tree that knows nothing of SQL:
//!
//! ```text
//! source.ip=203.0.113.7 and not user.name=adm*
//! event.code in (4624, 4625) or (http.response.status_code>=500 "timed out")
//! ```
//!
//! A condition is a field, an operator (`=`, `!=`, `<`, `<=`, `>`, `>=`,
//! `in`) and a value (bare, or in double quotes with `\"` and `\\`);
//! anything else is free text, searched in the events' text. Conditions
//! and text combine with `and` (also implied between neighbours), `or`,
//! `not` and parentheses. An error says at which column it went wrong.

use std::fmt;

/// A query that does not read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// The column (1-based, in characters) where it went wrong.
    pub column: usize,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for QueryError {}

/// How a field is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`: equal, or matching a pattern with `*` and `?`, or inside a CIDR range.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `in (a, b, ...)`: equal to one of the values.
    In,
}

/// A query, read.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Both hold.
    And(Box<Expr>, Box<Expr>),
    /// Either holds.
    Or(Box<Expr>, Box<Expr>),
    /// It does not hold.
    Not(Box<Expr>),
    /// A field compared with one value (or several, for `in`).
    Cond {
        /// The dotted field name.
        field: String,
        /// The comparison.
        op: Op,
        /// The values as written.
        values: Vec<String>,
        /// Where the condition starts (for errors found later).
        column: usize,
    },
    /// Text anywhere in an event's text.
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Op(Op),
    Open,
    Close,
    Comma,
}

/// A token and the column it starts at.
type Placed = (Token, usize);

fn tokens(text: &str) -> Result<Vec<Placed>, QueryError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push((Token::Open, column));
                i += 1;
            }
            ')' => {
                out.push((Token::Close, column));
                i += 1;
            }
            ',' => {
                out.push((Token::Comma, column));
                i += 1;
            }
            '=' | '!' | '<' | '>' => {
                let next = chars.get(i + 1) == Some(&'=');
                let op = match (c, next) {
                    ('=', _) => Op::Eq,
                    ('!', true) => Op::Ne,
                    ('<', true) => Op::Le,
                    ('<', false) => Op::Lt,
                    ('>', true) => Op::Ge,
                    ('>', false) => Op::Gt,
                    _ => {
                        return Err(QueryError {
                            column,
                            message: "`!` must be followed by `=`".into(),
                        })
                    }
                };
                out.push((Token::Op(op), column));
                i += if next && c != '=' { 2 } else { 1 };
            }
            '"' => {
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(QueryError {
                                column,
                                message: "this quote is never closed".into(),
                            })
                        }
                        Some('"') => break,
                        Some('\\') if matches!(chars.get(i + 1), Some('"' | '\\')) => {
                            value.push(chars[i + 1]);
                            i += 2;
                        }
                        Some(&other) => {
                            value.push(other);
                            i += 1;
                        }
                    }
                }
                i += 1;
                out.push((Token::Quoted(value), column));
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(chars[i], '(' | ')' | ',' | '=' | '!' | '<' | '>' | '"')
                {
                    i += 1;
                }
                out.push((Token::Word(chars[start..i].iter().collect()), column));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Placed>,
    at: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    fn column(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(_, c)| *c)
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, QueryError> {
        Err(QueryError {
            column: self.column(),
            message: message.into(),
        })
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.at += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.unary()?;
        loop {
            if self.keyword("and") {
                self.at += 1;
            } else if self.peek().is_none()
                || self.keyword("or")
                || self.peek() == Some(&Token::Close)
            {
                return Ok(left);
            }
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        if self.keyword("not") {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, QueryError> {
        let column = self.column();
        let Some(token) = self.peek().cloned() else {
            return self.error("the query ends where a condition or text was expected");
        };
        self.at += 1;
        match token {
            Token::Open => {
                let inner = self.or()?;
                if self.peek() != Some(&Token::Close) {
                    return self.error("expected `)`");
                }
                self.at += 1;
                Ok(inner)
            }
            Token::Word(word) => match self.peek() {
                Some(Token::Op(op)) => {
                    let op = *op;
                    self.at += 1;
                    let value = self.value()?;
                    Ok(Expr::Cond {
                        field: word,
                        op,
                        values: vec![value],
                        column,
                    })
                }
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("in") => {
                    self.at += 1;
                    let values = self.list()?;
                    Ok(Expr::Cond {
                        field: word,
                        op: Op::In,
                        values,
                        column,
                    })
                }
                _ => Ok(Expr::Text(word)),
            },
            Token::Quoted(text) => Ok(Expr::Text(text)),
            Token::Close => Err(QueryError {
                column,
                message: "`)` without its `(`".into(),
            }),
            Token::Comma | Token::Op(_) => Err(QueryError {
                column,
                message: "expected a field, text or `(`".into(),
            }),
        }
    }

    fn value(&mut self) -> Result<String, QueryError> {
        match self.peek().cloned() {
            Some(Token::Word(w)) | Some(Token::Quoted(w)) => {
                self.at += 1;
                Ok(w)
            }
            _ => self.error("expected a value"),
        }
    }

    fn list(&mut self) -> Result<Vec<String>, QueryError> {
        if self.peek() != Some(&Token::Open) {
            return self.error("expected `(` and a list of values after `in`");
        }
        self.at += 1;
        let mut values = vec![self.value()?];
        loop {
            match self.peek() {
                Some(Token::Comma) => {
                    self.at += 1;
                    values.push(self.value()?);
                }
                Some(Token::Close) => {
                    self.at += 1;
                    return Ok(values);
                }
                _ => return self.error("expected `,` or `)` in the list of values"),
            }
        }
    }
}

/// Reads `text` as a query.
pub fn parse(text: &str) -> Result<Expr, QueryError> {
    let tokens = tokens(text)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        end: text.chars().count() + 1,
    };
    let expr = parser.or()?;
    if parser.peek().is_some() {
        return parser.error("unexpected here (an unopened `)`?)");
    }
    Ok(expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(field: &str, op: Op, values: &[&str], column: usize) -> Expr {
        Expr::Cond {
            field: field.into(),
            op,
            values: values.iter().map(|v| v.to_string()).collect(),
            column,
        }
    }

    #[test]
    fn conditions_text_and_their_combinations_read_as_written() {
        let q = parse(r#"source.ip=203.0.113.7 and not user.name = "adm \"x\"*" or event.code in (4624, 4625) failed"#).unwrap();
        let expected = Expr::Or(
            Box::new(Expr::And(
                Box::new(cond("source.ip", Op::Eq, &["203.0.113.7"], 1)),
                Box::new(Expr::Not(Box::new(cond(
                    "user.name",
                    Op::Eq,
                    &["adm \"x\"*"],
                    31,
                )))),
            )),
            Box::new(Expr::And(
                Box::new(cond("event.code", Op::In, &["4624", "4625"], 59)),
                Box::new(Expr::Text("failed".into())),
            )),
        );
        assert_eq!(q, expected);
        assert_eq!(
            parse("a>=1 b<2 c!=x (d>3)").unwrap(),
            Expr::And(
                Box::new(Expr::And(
                    Box::new(Expr::And(
                        Box::new(cond("a", Op::Ge, &["1"], 1)),
                        Box::new(cond("b", Op::Lt, &["2"], 6)),
                    )),
                    Box::new(cond("c", Op::Ne, &["x"], 10)),
                )),
                Box::new(cond("d", Op::Gt, &["3"], 16)),
            )
        );
    }

    #[test]
    fn errors_point_at_the_column() {
        let at = |q: &str| parse(q).unwrap_err().column;
        assert_eq!(at("source.ip="), 11, "a value is missing at the end");
        assert_eq!(at("(a=1 or b=2"), 12, "the `)` is missing");
        assert_eq!(at("a=1 )"), 5);
        assert_eq!(at("a in 1, 2"), 6);
        assert_eq!(at("x = \"open"), 5);
        assert_eq!(at("a ! b"), 3);
        assert_eq!(at("= 3"), 1);
        assert_eq!(at(""), 1);
    }
}
