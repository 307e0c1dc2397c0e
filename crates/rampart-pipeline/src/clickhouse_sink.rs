//! Alerts and events into ClickHouse, in the tables of rampart's second
//! store backend (`rampart-clickhouse`), so that `rampart alerts`,
//! `events`, `export` and `stats` read them with `--db clickhouse://...`.
//! A pipeline, or each worker of a cluster, writes its share; a batch is
//! one insert per table, and a batch sent again after a failure is stored
//! once (the tables keep one row per event id and per alert id, and an
//! alert sent again as its window goes on replaces itself).

use jiff::Timestamp;
use rampart_clickhouse::{ClickHouse, Rows};

use crate::delivery::{Failed, Transport};
use crate::row_record::{record, Record};

/// The tables of one ClickHouse database.
pub struct ClickHouseTables {
    url: String,
    /// Connected (and its tables made) at the first send.
    house: Option<ClickHouse>,
    rows: Rows,
    /// Records that could not be read back, left out.
    unreadable: u64,
}

impl ClickHouseTables {
    /// The database at `url` (`clickhouse://host:port/database`).
    pub fn new(url: &str) -> ClickHouseTables {
        ClickHouseTables {
            url: url.to_owned(),
            house: None,
            rows: Rows::default(),
            unreadable: 0,
        }
    }
}

impl Transport for ClickHouseTables {
    fn send(&mut self, records: &[Vec<u8>]) -> Result<(), Failed> {
        let failed = |why: String| Failed {
            taken: 0,
            why: std::io::Error::other(why),
        };
        if self.house.is_none() {
            self.house = Some(ClickHouse::open(&self.url).map_err(|e| failed(e.0))?);
        }
        let now = Timestamp::now();
        self.rows.clear();
        for r in records {
            let read = record(r).and_then(|r| match r {
                Record::Alert(json) => self.rows.alert_json(json, now),
                Record::Event(id, json) => {
                    let id = u64::from_str_radix(id, 16).map_err(|e| e.to_string())?;
                    let json = std::str::from_utf8(json).map_err(|e| e.to_string())?;
                    // The id's bits as ClickHouse's Int64.
                    self.rows.event_json(id as i64, json, now)
                }
            });
            if let Err(why) = read {
                // Made by this process, a record always reads; one that
                // does not would be refused forever, so it is left out
                // and said.
                self.unreadable += 1;
                eprintln!(
                    "rampart: a record for {} left out ({} so far): {why}",
                    self.url, self.unreadable
                );
            }
        }
        let house = self.house.as_ref().expect("connected above");
        house.store(&self.rows).map(|_| ()).map_err(|e| failed(e.0))
    }
}
