//! Events counted per hour, destination address, dataset and host
//! (`destination_hours`), kept as events are stored and pruned, so that a
//! dashboard's most targeted destinations add up a day's counts instead of
//! reading a day's events.
//!
//! An hour keeps at most [`MOST_PER_HOUR`] rows: a destination first seen
//! in an hour that already holds that many is counted in the hour's row of
//! no address (`''`), which no top list shows. Real networks have far
//! fewer assets than that; a flood of made-up destinations (every event a
//! new address, where no address stands out anyway) cannot grow the table
//! past that bound.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{params, Transaction};

use crate::StoreError;

/// Rows an hour keeps before new destinations count as none.
pub(crate) const MOST_PER_HOUR: i64 = 4096;

/// A row's key: hour, destination, dataset, host.
pub(crate) type Key = (i64, String, String, String);

/// Adds `delta` events to each row (fewer, for negative counts).
pub(crate) fn count(tx: &Transaction<'_>, delta: &HashMap<Key, i64>) -> Result<(), StoreError> {
    let mut by_hour: BTreeMap<i64, Vec<(&Key, i64)>> = BTreeMap::new();
    for (key, n) in delta {
        if *n != 0 {
            by_hour.entry(key.0).or_default().push((key, *n));
        }
    }
    let mut rows = tx.prepare_cached("SELECT count(*) FROM destination_hours WHERE hour = ?1")?;
    let mut update = tx.prepare_cached(
        "UPDATE destination_hours SET n = n + ?5
         WHERE hour = ?1 AND destination_ip = ?2 AND dataset = ?3 AND host = ?4",
    )?;
    // Adds to a row or makes it, in one statement; says whether it made it
    // (a row kept has a positive count, so only a new one holds just `n`).
    let mut upsert = tx.prepare_cached(
        "INSERT INTO destination_hours (hour, destination_ip, dataset, host, n)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (hour, destination_ip, dataset, host) DO UPDATE SET n = n + excluded.n
         RETURNING n = ?5",
    )?;
    let mut removed = false;
    for (hour, entries) in by_hour {
        let mut held: i64 = rows.query_row([hour], |r| r.get(0))?;
        // What goes to no address, per dataset and host, added at the end.
        let mut none: HashMap<(&str, &str), i64> = HashMap::new();
        for ((_, ip, dataset, host), n) in entries {
            if n > 0 && held < MOST_PER_HOUR {
                let made: bool =
                    upsert.query_row(params![hour, ip, dataset, host, n], |r| r.get(0))?;
                held += i64::from(made);
                continue;
            }
            if update.execute(params![hour, ip, dataset, host, n])? > 0 {
                removed |= n < 0;
                continue;
            }
            // New past the bound, or (taken away) counted under no address
            // when it was stored.
            *none.entry((dataset, host)).or_default() += n;
            removed |= n < 0;
        }
        for ((dataset, host), n) in none {
            if n > 0 {
                upsert.query_row(params![hour, "", dataset, host, n], |_| Ok(()))?;
            } else {
                update.execute(params![hour, "", dataset, host, n])?;
            }
        }
    }
    if removed {
        tx.execute("DELETE FROM destination_hours WHERE n <= 0", [])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    fn rows(store: &Store) -> Vec<(i64, String, i64)> {
        store
            .rows(
                "SELECT hour, destination_ip, sum(n) FROM destination_hours
                 GROUP BY hour, destination_ip ORDER BY hour, destination_ip",
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
    }

    fn key(hour: i64, ip: &str) -> Key {
        (hour, ip.into(), "ids.alert".into(), String::new())
    }

    #[test]
    fn a_flood_of_new_destinations_stops_at_the_bound_and_counts_as_none() {
        let mut store = Store::in_memory().unwrap();
        let tx = store.conn.transaction().unwrap();
        let flood: HashMap<Key, i64> = (0..MOST_PER_HOUR + 500)
            .map(|i| {
                (
                    key(7, &format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255)),
                    1,
                )
            })
            .collect();
        count(&tx, &flood).unwrap();
        // A known destination still counts as itself after the bound.
        let known = flood.keys().next().unwrap().clone();
        let again: HashMap<Key, i64> = [(known.clone(), 2), (key(7, "192.0.2.1"), 3)].into();
        count(&tx, &again).unwrap();
        tx.commit().unwrap();
        let kept = rows(&store);
        assert_eq!(
            kept.len() as i64,
            MOST_PER_HOUR + 1,
            "the bound, and the row of none"
        );
        let total: i64 = kept.iter().map(|r| r.2).sum();
        assert_eq!(total, MOST_PER_HOUR + 500 + 5, "every event counted once");
        let none = kept.iter().find(|r| r.1.is_empty()).unwrap().2;
        let known_n = kept.iter().find(|r| r.1 == known.1).map(|r| r.2);
        // Which 500 went to none depends on the map's order: the known one
        // has its 3 when it was held, or none took them; the new one
        // always goes to none.
        match known_n {
            Some(n) => assert_eq!((n, none), (3, 503)),
            None => assert_eq!(none, 505),
        }
    }

    #[test]
    fn taking_away_finds_the_row_an_event_was_counted_in() {
        let mut store = Store::in_memory().unwrap();
        let tx = store.conn.transaction().unwrap();
        count(
            &tx,
            &[(key(1, "10.0.0.1"), 2), (key(2, "10.0.0.1"), 1)].into(),
        )
        .unwrap();
        count(
            &tx,
            &[(key(1, "10.0.0.1"), -2), (key(2, "10.0.0.9"), -1)].into(),
        )
        .unwrap();
        tx.commit().unwrap();
        // Hour 1's row is gone; 10.0.0.9 was never held, so none took it
        // (and went negative, then away).
        assert_eq!(rows(&store), [(2, "10.0.0.1".to_owned(), 1)]);
    }
}
