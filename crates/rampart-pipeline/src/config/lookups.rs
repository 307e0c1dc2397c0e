//! Reading a pipeline file's `lookups:`: CSV tables joined onto events by
//! one of their fields before the rules run.

use std::path::PathBuf;

use super::Reader;
use crate::yaml::Node;

/// A table to join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The CSV file.
    pub path: PathBuf,
    /// The event field whose value is looked up.
    pub key: String,
    /// The table's column holding the keys (the first when none).
    pub column: Option<String>,
    /// Where the other columns go (`{into}.{column}`).
    pub into: String,
}

impl Reader<'_> {
    pub(super) fn lookups(&mut self, node: &Node) -> Vec<Lookup> {
        let Node::Seq(items, _) = node else {
            self.fail(
                node.mark(),
                "lookups is a list of tables (- csv: FILE, key: FIELD, into: PREFIX)",
            );
            return Vec::new();
        };
        items.iter().filter_map(|item| self.lookup(item)).collect()
    }

    fn lookup(&mut self, node: &Node) -> Option<Lookup> {
        let what = "lookup";
        let e = self.map(node, what, &["csv", "key", "column", "into"]);
        let need = |r: &mut Self, key: &str| -> Option<String> {
            match e.get(key) {
                Some(n) => r.text(n, key).map(str::to_string),
                None => {
                    r.fail(node.mark(), format!("{what} has no `{key}`"));
                    None
                }
            }
        };
        let path = need(self, "csv");
        let key = need(self, "key");
        let into = need(self, "into");
        let column = match e.get("column") {
            Some(n) => Some(self.text(n, "column")?.to_string()),
            None => None,
        };
        Some(Lookup {
            path: self.base.join(path?),
            key: key?,
            column,
            into: into?,
        })
    }
}
