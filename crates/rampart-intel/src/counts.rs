//! How often each source address occurs (seed 000's `ip_hit_count`): a
//! running count an event can carry as it streams past, and the run's
//! totals for the summary's top talkers.
//!
//! Memory is bounded: past `cap` distinct addresses, new ones are counted
//! only in `untracked`, and the summary says so.

use std::net::IpAddr;

use rampart_event::Event;
use rustc_hash::FxHashMap;

/// Running counts per address.
#[derive(Debug)]
pub struct IpCounts {
    counts: FxHashMap<IpAddr, u64>,
    cap: usize,
    untracked: u64,
}

/// The address an event comes from: `source.ip`, else `client.ip`.
pub fn source_ip(event: &Event) -> Option<IpAddr> {
    ["source.ip", "client.ip"]
        .iter()
        .find_map(|f| event.get_ip(f))
}

impl IpCounts {
    /// Counts for up to `cap` distinct addresses.
    pub fn new(cap: usize) -> Self {
        IpCounts {
            counts: FxHashMap::default(),
            cap,
            untracked: 0,
        }
    }

    /// Counts one sighting of `ip`; returns how many there have been so
    /// far, this one included (`None` when the address is beyond the cap).
    pub fn observe(&mut self, ip: IpAddr) -> Option<u64> {
        if let Some(n) = self.counts.get_mut(&ip) {
            *n += 1;
            return Some(*n);
        }
        if self.counts.len() >= self.cap {
            self.untracked += 1;
            return None;
        }
        self.counts.insert(ip, 1);
        Some(1)
    }

    /// The `n` most frequent addresses, most frequent first (ties by address).
    pub fn top(&self, n: usize) -> Vec<(IpAddr, u64)> {
        let mut all: Vec<(IpAddr, u64)> = self.counts.iter().map(|(ip, c)| (*ip, *c)).collect();
        all.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(n);
        all
    }

    /// How many distinct addresses are counted.
    pub fn distinct(&self) -> usize {
        self.counts.len()
    }

    /// Sightings of addresses beyond the cap.
    pub fn untracked(&self) -> u64 {
        self.untracked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_run_and_stay_within_the_cap() {
        let mut c = IpCounts::new(2);
        let a: IpAddr = "203.0.113.1".parse().unwrap();
        let b: IpAddr = "203.0.113.2".parse().unwrap();
        let d: IpAddr = "203.0.113.3".parse().unwrap();
        assert_eq!(c.observe(a), Some(1));
        assert_eq!(c.observe(b), Some(1));
        assert_eq!(c.observe(a), Some(2));
        assert_eq!(c.observe(d), None);
        assert_eq!(c.top(5), [(a, 2), (b, 1)]);
        assert_eq!((c.distinct(), c.untracked()), (2, 1));
    }
}
