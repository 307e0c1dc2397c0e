//! A MaxMind database (`.mmdb`) as a lookup table: any database in the
//! format, a GeoIP2 one or an organisation's own (asset owners by subnet,
//! say), joined onto events by an address field. The record of the
//! narrowest network holding the address goes into the event under a
//! prefix, every leaf or the fields named; an address the database does
//! not hold gets nothing.

use std::net::IpAddr;
use std::path::Path;

use maxminddb::Reader;
use rampart_event::Event;
use serde_json::Value as Json;

use crate::answer::{Answer, Fields};
use crate::geo::open_database;

/// One database, ready to join.
#[derive(Debug)]
pub struct MmdbTable {
    key: String,
    into: String,
    fields: Fields,
    reader: Reader<Vec<u8>>,
}

impl MmdbTable {
    /// Opens the database at `path`, joined by the event field `key`, its
    /// records going under `into`.
    pub fn open(path: &Path, key: &str, into: &str, fields: Fields) -> Result<MmdbTable, String> {
        Ok(MmdbTable {
            key: key.to_string(),
            into: into.to_string(),
            fields,
            reader: open_database(path)?,
        })
    }

    /// Adds the record of the event's address, if the database holds one.
    pub fn enrich(&self, event: &mut Event) {
        let Some(ip) = event
            .get(&self.key)
            .and_then(|v| v.to_string().trim().parse::<IpAddr>().ok())
        else {
            return;
        };
        if let Ok(Some(record)) = self.reader.lookup::<Json>(ip) {
            Answer::of(&record, &self.fields).enrich(event, &self.into);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::{Origin, Value};

    fn test_data(name: &str) -> Option<std::path::PathBuf> {
        let root = std::env::var_os("RAMPART_SHARED")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
        let path = root.join("corpora/maxmind/test-data").join(name);
        if path.exists() {
            Some(path)
        } else {
            eprintln!("skipped: ../shared/corpora absent");
            None
        }
    }

    #[test]
    fn a_record_goes_under_the_prefix_and_a_miss_adds_nothing() {
        let Some(path) = test_data("GeoIP2-City-Test.mmdb") else {
            return;
        };
        let named = Fields::named(vec![
            ("country".into(), "country.iso_code".into()),
            ("city".into(), "city.names.en".into()),
        ]);
        let table = MmdbTable::open(&path, "source.ip", "place", named).unwrap();
        let mut e = Event::new(Origin::new("t.log", 1), "line");
        e.insert("source.ip", Value::Ip("81.2.69.142".parse().unwrap()));
        table.enrich(&mut e);
        assert_eq!(e.get_str("place.country"), Some("GB"));
        assert_eq!(e.get_str("place.city"), Some("London"));
        assert_eq!(
            e.get("place.found").map(|v| v.to_string()).as_deref(),
            Some("true")
        );
        let mut miss = Event::new(Origin::new("t.log", 2), "line");
        miss.insert("source.ip", Value::Ip("10.0.0.1".parse().unwrap()));
        table.enrich(&mut miss);
        assert!(miss.fields().all(|(n, _)| !n.starts_with("place.")));

        let every = MmdbTable::open(&path, "source.ip", "place", Fields::all()).unwrap();
        let mut e = Event::new(Origin::new("t.log", 3), "line");
        e.insert("source.ip", Value::Ip("81.2.69.142".parse().unwrap()));
        every.enrich(&mut e);
        assert_eq!(e.get_str("place.country.iso_code"), Some("GB"));
    }

    #[test]
    fn a_file_that_is_not_a_database_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("assets.mmdb");
        std::fs::write(&path, "not a database").unwrap();
        let e = MmdbTable::open(&path, "source.ip", "asset", Fields::all()).unwrap_err();
        assert!(e.contains("assets.mmdb"), "{e}");
    }
}
