//! Alerts and events into ClickHouse, in the tables of rampart's second
//! store backend (`rampart-clickhouse`), so that `rampart alerts`,
//! `events`, `export`, `stats`, `dashboard` and `serve` read them with
//! `--db clickhouse://...`. A pipeline, or each worker of a cluster,
//! writes its share. The rows are made as records are handed to the sink
//! (`forward::Encoding::ClickHouse`); a batch of them is one insert per
//! table, and a batch sent again after a failure is stored once (the
//! tables keep one row per event id and per alert id, and an alert sent
//! again as its window goes on replaces itself).

use rampart_clickhouse::ClickHouse;

use crate::delivery::{Failed, Transport};

/// Records a ClickHouse insert takes at most: large inserts are what
/// ClickHouse does best (each makes a part on disk that merges later).
const BATCH: usize = 10_000;

/// The tables of one ClickHouse database.
pub struct ClickHouseTables {
    url: String,
    /// Connected (and its tables made) at the first send.
    house: Option<ClickHouse>,
    events: Vec<u8>,
    alerts: Vec<u8>,
}

impl ClickHouseTables {
    /// The database at `url` (`clickhouse://host:port/database`).
    pub fn new(url: &str) -> ClickHouseTables {
        ClickHouseTables {
            url: url.to_owned(),
            house: None,
            events: Vec::new(),
            alerts: Vec::new(),
        }
    }
}

impl Transport for ClickHouseTables {
    fn send(&mut self, records: &[Vec<u8>]) -> Result<(), Failed> {
        let failed = |why: String| Failed {
            taken: 0,
            why: std::io::Error::other(why),
        };
        let house = match &self.house {
            Some(house) => house,
            None => self
                .house
                .insert(ClickHouse::open(&self.url).map_err(|e| failed(e.0))?),
        };
        self.events.clear();
        self.alerts.clear();
        for r in records {
            let (table, row) = match r.split_first() {
                Some((b'E', row)) => (&mut self.events, row),
                Some((b'A', row)) => (&mut self.alerts, row),
                _ => continue,
            };
            table.extend_from_slice(row);
            table.push(b'\n');
        }
        house
            .store_lines(&self.events, &self.alerts)
            .map_err(|e| failed(e.0))
    }

    fn batch(&self) -> usize {
        BATCH
    }
}
