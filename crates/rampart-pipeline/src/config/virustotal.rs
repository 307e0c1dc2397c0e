//! Reading a pipeline file's `virustotal:`: addresses looked up while
//! events flow, under the key's quota, answers kept in the store's cache.

use std::time::Duration;

use super::Reader;
use crate::yaml::Node;

/// How VirusTotal is asked while events flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirusTotal {
    /// The environment variable holding the API key (never the file).
    pub key_env: String,
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
    /// The API's address.
    pub url: String,
    /// Addresses waiting for a lookup, at most.
    pub queue: usize,
}

impl Default for VirusTotal {
    fn default() -> VirusTotal {
        VirusTotal {
            key_env: "VT_API_KEY".into(),
            per_minute: 4,
            per_day: 500,
            wait: Duration::from_secs(2),
            wait_through_limit: false,
            cache: Duration::from_secs(168 * 3600),
            url: "https://www.virustotal.com".into(),
            queue: 10_000,
        }
    }
}

impl Reader<'_> {
    pub(super) fn virustotal(&mut self, node: &Node) -> Option<VirusTotal> {
        let what = "virustotal";
        let e = self.map(
            node,
            what,
            &[
                "key_env",
                "per_minute",
                "per_day",
                "wait_ms",
                "wait_through_limit",
                "cache_hours",
                "url",
                "queue",
            ],
        );
        let mut vt = VirusTotal::default();
        if let Some(n) = e.get("key_env") {
            vt.key_env = self.text(n, "virustotal: key_env")?.to_string();
        }
        if let Some(n) = e.get("per_minute") {
            vt.per_minute = u32::try_from(self.number(n, "virustotal: per_minute")?).ok()?;
        }
        if let Some(n) = e.get("per_day") {
            vt.per_day = self.number(n, "virustotal: per_day")? as u64;
        }
        if let Some(n) = e.get("wait_ms") {
            // 0 is allowed: never wait, enrich what the cache has.
            match self.text(n, "virustotal: wait_ms")?.parse::<u64>() {
                Ok(ms) => vt.wait = Duration::from_millis(ms),
                Err(_) => {
                    self.fail(n.mark(), "virustotal: wait_ms is a number of milliseconds");
                    return None;
                }
            }
        }
        if let Some(n) = e.get("wait_through_limit") {
            vt.wait_through_limit = self.flag(n, "virustotal: wait_through_limit")?;
        }
        if let Some(n) = e.get("cache_hours") {
            vt.cache =
                Duration::from_secs(self.number(n, "virustotal: cache_hours")? as u64 * 3600);
        }
        if let Some(n) = e.get("url") {
            vt.url = self.url(n, "virustotal: url")?;
        }
        if let Some(n) = e.get("queue") {
            vt.queue = self.number(n, "virustotal: queue")?;
        }
        Some(vt)
    }
}
