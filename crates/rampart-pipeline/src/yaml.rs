//! YAML read into a tree whose every node knows its line and column, so
//! that a pipeline file's mistakes can be shown where they are.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Where a node starts: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

impl From<Marker> for Mark {
    fn from(m: Marker) -> Mark {
        Mark {
            line: m.line(),
            col: m.col() + 1,
        }
    }
}

/// A YAML node.
#[derive(Debug, Clone)]
pub enum Node {
    Scalar(String, Mark),
    Seq(Vec<Node>, Mark),
    /// Keys in the order written, each with where it is.
    Map(Vec<(String, Mark, Node)>, Mark),
}

impl Node {
    pub fn mark(&self) -> Mark {
        match self {
            Node::Scalar(_, m) | Node::Seq(_, m) | Node::Map(_, m) => *m,
        }
    }
}

/// A mistake at a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Where.
    pub at: Mark,
    /// What is wrong.
    pub what: String,
}

/// Builds the tree from the parser's events.
#[derive(Default)]
struct Builder {
    /// Open collections: a sequence's items, or a map's entries with the
    /// key waiting for its value.
    open: Vec<Open>,
    root: Option<Node>,
    error: Option<Located>,
}

enum Open {
    Seq(Vec<Node>, Mark),
    Map(Vec<(String, Mark, Node)>, Option<(String, Mark)>, Mark),
}

impl Builder {
    fn put(&mut self, node: Node) {
        match self.open.last_mut() {
            None => self.root = Some(node),
            Some(Open::Seq(items, _)) => items.push(node),
            Some(Open::Map(entries, key, _)) => match key.take() {
                Some((k, at)) => entries.push((k, at, node)),
                None => match node {
                    Node::Scalar(k, at) => *key = Some((k, at)),
                    other => {
                        self.error.get_or_insert(Located {
                            at: other.mark(),
                            what: "a key must be plain text".into(),
                        });
                        *key = Some((String::new(), other.mark()));
                    }
                },
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(text, ..) => self.put(Node::Scalar(text, mark.into())),
            Event::SequenceStart(..) => self.open.push(Open::Seq(Vec::new(), mark.into())),
            Event::MappingStart(..) => self.open.push(Open::Map(Vec::new(), None, mark.into())),
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.open.pop() {
                    Some(Open::Seq(items, at)) => Node::Seq(items, at),
                    Some(Open::Map(entries, _, at)) => Node::Map(entries, at),
                    None => return,
                };
                self.put(node);
            }
            Event::Alias(_) => {
                self.error.get_or_insert(Located {
                    at: mark.into(),
                    what: "aliases (*name) are not read in a pipeline file".into(),
                });
            }
            _ => {}
        }
    }
}

/// Reads one YAML document; an empty one is an empty map.
pub fn parse(text: &str) -> Result<Node, Located> {
    let mut builder = Builder::default();
    Parser::new_from_str(text)
        .load(&mut builder, false)
        .map_err(|e| Located {
            at: (*e.marker()).into(),
            what: e.info().to_string(),
        })?;
    if let Some(e) = builder.error {
        return Err(e);
    }
    Ok(builder
        .root
        .unwrap_or(Node::Map(Vec::new(), Mark { line: 1, col: 1 })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_know_their_line_and_column() {
        let tree = parse("a: 1\nb:\n  - x\n  - {c: d}\n").unwrap();
        let Node::Map(entries, _) = tree else {
            panic!("a map")
        };
        assert_eq!(entries[0].0, "a");
        assert_eq!(entries[0].1, Mark { line: 1, col: 1 });
        assert_eq!(entries[0].2.mark(), Mark { line: 1, col: 4 });
        let Node::Seq(items, _) = &entries[1].2 else {
            panic!("a list")
        };
        assert_eq!(items[0].mark(), Mark { line: 3, col: 5 });
        assert_eq!(items[1].mark().line, 4);
    }

    #[test]
    fn a_syntax_error_says_where() {
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.at.line >= 2, "{e:?}");
    }

    #[test]
    fn aliases_are_refused() {
        let e = parse("a: &x 1\nb: *x\n").unwrap_err();
        assert_eq!(e.at.line, 2);
    }
}
