//! The Sigma condition grammar: `sel and not 1 of filter_*`, `all of them`,
//! parentheses, with `not` binding tighter than `and`, and `and` tighter
//! than `or`. Parsed once into a tree whose leaves are search indexes, so
//! evaluation never looks at names again.

use std::fmt;

/// A parsed condition over a rule's searches (leaves are indexes into the
/// rule's search list).
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// One search.
    Search(usize),
    /// All of these hold.
    And(Vec<Cond>),
    /// At least one holds.
    Or(Vec<Cond>),
    /// This does not hold.
    Not(Box<Cond>),
    /// At least `n` of these searches hold (`1 of sel*`, `2 of them`).
    AtLeast(usize, Vec<usize>),
    /// Every one of these searches holds (`all of filter_*`).
    All(Vec<usize>),
}

/// Why a condition could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionError(pub String);

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Open,
    Close,
    Pipe,
}

fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<Token>| {
        if !word.is_empty() {
            out.push(Token::Word(std::mem::take(word)));
        }
    };
    for c in text.chars() {
        match c {
            '(' | ')' | '|' => {
                flush(&mut word, &mut out);
                out.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    _ => Token::Pipe,
                });
            }
            c if c.is_whitespace() => flush(&mut word, &mut out),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Parses `text` against the rule's search names.
pub fn parse(text: &str, names: &[&str]) -> Result<Cond, ConditionError> {
    let tokens = tokens(text);
    if tokens.contains(&Token::Pipe) {
        return Err(ConditionError(
            "aggregations after '|' (Sigma 1 `count() by`) are not Sigma 2; write a correlation rule"
                .into(),
        ));
    }
    let mut parser = Parser {
        tokens,
        at: 0,
        names,
    };
    let cond = parser.or()?;
    match parser.tokens.get(parser.at) {
        None => Ok(cond),
        Some(t) => Err(ConditionError(format!(
            "unexpected {t:?} in condition '{text}'"
        ))),
    }
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    names: &'a [&'a str],
}

impl Parser<'_> {
    fn peek_word(&self) -> Option<&str> {
        match self.tokens.get(self.at) {
            Some(Token::Word(w)) => Some(w),
            _ => None,
        }
    }

    fn keyword(&mut self, word: &str) -> bool {
        if self
            .peek_word()
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
        {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Cond, ConditionError> {
        let mut parts = vec![self.and()?];
        while self.keyword("or") {
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Cond::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Cond, ConditionError> {
        let mut parts = vec![self.not()?];
        while self.keyword("and") {
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Cond::And(parts)
        })
    }

    fn not(&mut self) -> Result<Cond, ConditionError> {
        if self.keyword("not") {
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Cond, ConditionError> {
        match self.tokens.get(self.at).cloned() {
            Some(Token::Open) => {
                self.at += 1;
                let inner = self.or()?;
                if self.tokens.get(self.at) != Some(&Token::Close) {
                    return Err(ConditionError("missing ')'".into()));
                }
                self.at += 1;
                Ok(inner)
            }
            Some(Token::Word(word)) => {
                self.at += 1;
                let quantity = if word.eq_ignore_ascii_case("all") {
                    Some(None)
                } else {
                    word.parse::<usize>().ok().filter(|n| *n > 0).map(Some)
                };
                if let Some(quantity) = quantity {
                    if self.keyword("of") {
                        let pattern = self
                            .peek_word()
                            .ok_or_else(|| ConditionError(format!("'{word} of' needs a name")))?
                            .to_owned();
                        self.at += 1;
                        let matched = self.matching(&pattern)?;
                        return Ok(match quantity {
                            None => Cond::All(matched),
                            Some(n) => Cond::AtLeast(n, matched),
                        });
                    }
                }
                self.search(&word)
            }
            Some(t) => Err(ConditionError(format!("unexpected {t:?}"))),
            None => Err(ConditionError("condition ends too early".into())),
        }
    }

    fn search(&self, name: &str) -> Result<Cond, ConditionError> {
        self.names
            .iter()
            .position(|n| *n == name)
            .map(Cond::Search)
            .ok_or_else(|| {
                ConditionError(format!("condition names '{name}', which is not a search"))
            })
    }

    /// The searches a `x of` pattern names: `them` (all but those starting
    /// with `_`), or a name with `*` wildcards.
    fn matching(&self, pattern: &str) -> Result<Vec<usize>, ConditionError> {
        let found: Vec<usize> = self
            .names
            .iter()
            .enumerate()
            .filter(|(_, name)| {
                if pattern == "them" {
                    !name.starts_with('_')
                } else {
                    glob(pattern, name)
                }
            })
            .map(|(i, _)| i)
            .collect();
        if found.is_empty() {
            return Err(ConditionError(format!("'{pattern}' names no search")));
        }
        Ok(found)
    }
}

/// `*` matches any run of characters; everything else is literal.
fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || !name[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

impl Cond {
    /// Evaluates the condition given each search's result.
    pub fn eval(&self, search: &mut impl FnMut(usize) -> bool) -> bool {
        match self {
            Cond::Search(i) => search(*i),
            Cond::And(parts) => parts.iter().all(|p| p.eval(search)),
            Cond::Or(parts) => parts.iter().any(|p| p.eval(search)),
            Cond::Not(inner) => !inner.eval(search),
            Cond::AtLeast(n, ids) => {
                let mut hits = 0;
                for id in ids {
                    if search(*id) {
                        hits += 1;
                        if hits >= *n {
                            return true;
                        }
                    }
                }
                false
            }
            Cond::All(ids) => ids.iter().all(|id| search(*id)),
        }
    }

    /// The searches that must all hold whenever the condition holds (used to
    /// route rules: a search required by every branch).
    pub fn required(&self) -> Vec<usize> {
        match self {
            Cond::Search(i) => vec![*i],
            Cond::And(parts) => parts.iter().flat_map(Cond::required).collect(),
            Cond::Or(parts) => {
                let mut sets = parts.iter().map(Cond::required);
                let first = sets.next().unwrap_or_default();
                sets.fold(first, |acc, s| {
                    acc.into_iter().filter(|i| s.contains(i)).collect()
                })
            }
            Cond::All(ids) => ids.clone(),
            Cond::AtLeast(_, ids) if ids.len() == 1 => ids.clone(),
            Cond::Not(_) | Cond::AtLeast(..) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &[
        "selection",
        "filter_main",
        "filter_optional_a",
        "_hidden",
        "sel2",
    ];

    fn run(cond: &str, truth: &[bool]) -> bool {
        parse(cond, NAMES).unwrap().eval(&mut |i| truth[i])
    }

    #[test]
    fn precedence_is_not_and_or() {
        // not binds tightest, then and, then or.
        let c = parse("selection or sel2 and not filter_main", NAMES).unwrap();
        assert_eq!(
            c,
            Cond::Or(vec![
                Cond::Search(0),
                Cond::And(vec![Cond::Search(4), Cond::Not(Box::new(Cond::Search(1)))])
            ])
        );
        assert!(run(
            "(selection or sel2) and not filter_main",
            &[false, false, false, false, true]
        ));
        assert!(!run(
            "(selection or sel2) and not filter_main",
            &[false, true, false, false, true]
        ));
    }

    #[test]
    fn quantifiers_and_patterns() {
        let t = [true, false, false, true, true];
        assert!(run("selection and not 1 of filter_*", &t));
        assert!(!run("all of them", &t));
        assert!(run("all of sel*", &[true, false, false, false, true]));
        assert!(run("2 of them", &t));
        // `them` leaves out names that start with an underscore.
        assert_eq!(
            parse("1 of them", NAMES).unwrap(),
            Cond::AtLeast(1, vec![0, 1, 2, 4])
        );
        assert!(parse("1 of nothing_*", NAMES).is_err());
    }

    #[test]
    fn bad_conditions_say_why() {
        assert!(parse("selection and", NAMES).is_err());
        assert!(parse("(selection", NAMES).is_err());
        assert!(parse("unknown", NAMES).unwrap_err().0.contains("unknown"));
        assert!(parse("selection | count() > 5", NAMES)
            .unwrap_err()
            .0
            .contains("correlation"));
    }

    #[test]
    fn required_searches_route_rules() {
        let c = parse("selection and not filter_main", NAMES).unwrap();
        assert_eq!(c.required(), vec![0]);
        let c = parse("(selection and sel2) or (selection and filter_main)", NAMES).unwrap();
        assert_eq!(c.required(), vec![0]);
    }
}
