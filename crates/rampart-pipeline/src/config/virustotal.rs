//! Reading a pipeline file's `virustotal:`: addresses looked up while
//! events flow, under the key's quota, answers kept in the store's cache;
//! and the limits and waits an HTTP lookup shares with it.

use std::time::Duration;

use super::{Entries, Reader};
use crate::yaml::Node;

/// How a service is asked while events flow (VirusTotal, or an HTTP
/// lookup): its limits, how long batches wait for answers, how long an
/// answer is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asking {
    /// Requests a minute the key allows.
    pub per_minute: u32,
    /// Requests a UTC day the key allows (counted in the store across runs).
    pub per_day: u64,
    /// How long a batch waits for answers, at most, while one can come.
    pub wait: Duration,
    /// Whether batches wait through the per-minute limit too (a run from
    /// cron that must enrich everything, as seed 000 did).
    pub wait_through_limit: bool,
    /// How long a kept answer is reused.
    pub cache: Duration,
    /// Values waiting for a lookup, at most.
    pub queue: usize,
}

/// The keys [`Reader::asking`] reads.
pub(super) const ASKING_KEYS: [&str; 6] = [
    "per_minute",
    "per_day",
    "wait_ms",
    "wait_through_limit",
    "cache_hours",
    "queue",
];

/// How VirusTotal is asked while events flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirusTotal {
    /// The environment variable holding the API key (never the file).
    pub key_env: String,
    /// The API's address.
    pub url: String,
    /// Its limits and waits.
    pub asking: Asking,
}

impl Default for VirusTotal {
    fn default() -> VirusTotal {
        VirusTotal {
            key_env: "VT_API_KEY".into(),
            url: "https://www.virustotal.com".into(),
            asking: Asking {
                per_minute: 4,
                per_day: 500,
                wait: Duration::from_secs(2),
                wait_through_limit: false,
                cache: Duration::from_secs(168 * 3600),
                queue: 10_000,
            },
        }
    }
}

impl Reader<'_> {
    pub(super) fn virustotal(&mut self, node: &Node) -> Option<VirusTotal> {
        let what = "virustotal";
        let mut known = vec!["key_env", "url"];
        known.extend(ASKING_KEYS);
        let e = self.map(node, what, &known);
        let mut vt = VirusTotal::default();
        if let Some(n) = e.get("key_env") {
            vt.key_env = self.text(n, "virustotal: key_env")?.to_string();
        }
        if let Some(n) = e.get("url") {
            vt.url = self.url(n, "virustotal: url")?;
        }
        self.asking(&e, what, &mut vt.asking)?;
        Some(vt)
    }

    /// Reads the limits and waits of `what` (see [`ASKING_KEYS`]) into
    /// `asking`, whose values are the defaults.
    pub(super) fn asking(
        &mut self,
        e: &Entries<'_>,
        what: &str,
        asking: &mut Asking,
    ) -> Option<()> {
        if let Some(n) = e.get("per_minute") {
            let Ok(per_minute) = u32::try_from(self.number(n, &format!("{what}: per_minute"))?)
            else {
                self.fail(n.mark(), format!("{what}: per_minute is too large"));
                return None;
            };
            asking.per_minute = per_minute;
        }
        if let Some(n) = e.get("per_day") {
            asking.per_day = self.number(n, &format!("{what}: per_day"))? as u64;
        }
        if let Some(n) = e.get("wait_ms") {
            // 0 is allowed: never wait, enrich what the cache has.
            match self.text(n, &format!("{what}: wait_ms"))?.parse::<u64>() {
                Ok(ms) => asking.wait = Duration::from_millis(ms),
                Err(_) => {
                    self.fail(
                        n.mark(),
                        format!("{what}: wait_ms is a number of milliseconds"),
                    );
                    return None;
                }
            }
        }
        if let Some(n) = e.get("wait_through_limit") {
            asking.wait_through_limit = self.flag(n, &format!("{what}: wait_through_limit"))?;
        }
        if let Some(n) = e.get("cache_hours") {
            asking.cache =
                Duration::from_secs(self.number(n, &format!("{what}: cache_hours"))? as u64 * 3600);
        }
        if let Some(n) = e.get("queue") {
            asking.queue = self.number(n, &format!("{what}: queue"))?;
        }
        Some(())
    }
}
