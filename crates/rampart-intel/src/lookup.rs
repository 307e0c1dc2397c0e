//! Lookup tables: a CSV of what an organisation knows about its own
//! things (asset owners and criticality by address or subnet, users'
//! departments, known scanners), joined onto events by one field. A key
//! may be an address range (`10.20.0.0/16`): an address not listed itself
//! takes the row of the narrowest range that holds it. The row's other
//! columns go into the event under a prefix (`asset.owner`), before rules
//! run, so rules and routes can use them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use ipnet::IpNet;
use rampart_event::{Event, Value};

/// One table, ready to join.
#[derive(Debug, Clone)]
pub struct LookupTable {
    /// The event field whose value is looked up.
    key: String,
    /// Where the columns go: `{into}.{column}`.
    into: String,
    /// The columns other than the key, in the file's order.
    columns: Vec<String>,
    exact: HashMap<String, Vec<String>>,
    /// Ranges, narrowest first.
    ranges: Vec<(IpNet, Vec<String>)>,
}

impl LookupTable {
    /// Reads the CSV at `path` (a header, then rows); `key_column` names
    /// the column matched against the event's `key` field (the first when
    /// none). A row of the wrong length, or a file without the column, is
    /// an error naming the file and line.
    pub fn read(
        path: &Path,
        (key, key_column): (&str, Option<&str>),
        into: &str,
    ) -> Result<LookupTable, String> {
        let name = path.display();
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(|e| format!("{name}: {e}"))?;
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| format!("{name}:1: {e}"))?
            .iter()
            .map(str::to_string)
            .collect();
        let at = match key_column {
            None => 0,
            Some(c) => header.iter().position(|h| h == c).ok_or_else(|| {
                format!("{name}:1: no column `{c}` (columns: {})", header.join(", "))
            })?,
        };
        if header.len() < 2 {
            return Err(format!(
                "{name}:1: a lookup table needs a key and at least one more column"
            ));
        }
        let columns: Vec<String> = header
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != at)
            .map(|(_, h)| h.clone())
            .collect();
        let mut table = LookupTable {
            key: key.to_string(),
            into: into.to_string(),
            columns,
            exact: HashMap::new(),
            ranges: Vec::new(),
        };
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, csv::Position::line);
                format!("{name}:{line}: {e}")
            })?;
            let cells: Vec<String> = record.iter().map(str::to_string).collect();
            let key_cell = cells[at].clone();
            let rest: Vec<String> = cells
                .into_iter()
                .enumerate()
                .filter(|(i, _)| *i != at)
                .map(|(_, c)| c)
                .collect();
            match key_cell
                .contains('/')
                .then(|| key_cell.parse::<IpNet>().ok())
                .flatten()
            {
                Some(net) => table.ranges.push((net.trunc(), rest)),
                None => {
                    table.exact.insert(key_cell, rest);
                }
            }
        }
        table
            .ranges
            .sort_by_key(|(net, _)| std::cmp::Reverse(net.prefix_len()));
        Ok(table)
    }

    /// Rows the table holds.
    pub fn len(&self) -> usize {
        self.exact.len() + self.ranges.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The row for `value`: its own, or the narrowest range holding it.
    fn row(&self, value: &str) -> Option<&[String]> {
        if let Some(row) = self.exact.get(value) {
            return Some(row);
        }
        let ip: IpAddr = value.parse().ok()?;
        self.ranges
            .iter()
            .find(|(net, _)| net.contains(&ip))
            .map(|(_, row)| row.as_slice())
    }

    /// Adds the row of the event's key value, if the table has one (empty
    /// cells are left out).
    pub fn enrich(&self, event: &mut Event) {
        let Some(value) = event.get(&self.key).map(|v| v.to_string()) else {
            return;
        };
        let Some(row) = self.row(&value) else {
            return;
        };
        let fields: Vec<(String, String)> = self
            .columns
            .iter()
            .zip(row)
            .filter(|(_, cell)| !cell.is_empty())
            .map(|(column, cell)| (format!("{}.{column}", self.into), cell.clone()))
            .collect();
        for (name, cell) in fields {
            event.insert(name, Value::Str(cell));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::Origin;

    fn table(text: &str, column: Option<&str>) -> Result<LookupTable, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("assets.csv");
        std::fs::write(&path, text).unwrap();
        LookupTable::read(&path, ("source.ip", column), "asset")
    }

    fn joined(t: &LookupTable, ip: &str) -> Vec<(String, String)> {
        let mut e = Event::new(Origin::new("t.log", 1), "line");
        e.insert("source.ip", Value::Ip(ip.parse().unwrap()));
        t.enrich(&mut e);
        e.fields()
            .filter(|(n, _)| n.starts_with("asset."))
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_address_takes_its_own_row_else_the_narrowest_range() {
        let t = table(
            "owner,address,criticality\nit,10.0.0.0/8,low\ndc team,10.20.0.0/16,high\nalice,10.20.3.4,\n",
            Some("address"),
        )
        .unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(
            joined(&t, "10.20.3.4"),
            [("asset.owner".to_string(), "alice".to_string())]
        );
        assert_eq!(
            joined(&t, "10.20.9.9"),
            [
                ("asset.owner".to_string(), "dc team".to_string()),
                ("asset.criticality".to_string(), "high".to_string())
            ]
        );
        assert_eq!(joined(&t, "10.1.1.1")[0].1, "it");
        assert!(joined(&t, "192.0.2.1").is_empty());
    }

    #[test]
    fn a_bad_table_is_refused_with_its_file_and_line() {
        let e = table("ip,owner\n10.0.0.1,a\n10.0.0.2,b,extra\n", None).unwrap_err();
        assert!(e.contains("assets.csv:3"), "{e}");
        let e = table("ip,owner\n", Some("address")).unwrap_err();
        assert!(e.contains("no column `address`"), "{e}");
    }
}
