//! The HTTP side: one GET per value, within the limit and the day's
//! budget. 404 is an answer (not found); 429 waits as long as the server
//! says (`Retry-After`) or a minute; 401 and 403 stop everything, since no
//! later request can succeed; server and network errors are retried a few
//! times, then the value is left without an answer and the run goes on.

use std::time::Duration;

use serde_json::Value as Json;

use super::limit::{Clock, RateLimit};
use super::report::VtKind;

/// How often a value is tried on server or network errors.
const ATTEMPTS: u32 = 3;

/// What one lookup gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// The object VirusTotal has.
    Found(Json),
    /// VirusTotal has nothing on it (404).
    NotFound,
}

/// Why lookups stopped or one failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VtError {
    /// The key was refused (401/403): nothing more can be looked up.
    Unauthorized(String),
    /// The day's budget is spent.
    Budget,
    /// This value failed after retries (server or network errors).
    Failed(String),
}

impl std::fmt::Display for VtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VtError::Unauthorized(m) => {
                write!(f, "VirusTotal refused the API key ({m}); check VT_API_KEY")
            }
            VtError::Budget => f.write_str("the day's VirusTotal quota is spent"),
            VtError::Failed(m) => write!(f, "lookup failed: {m}"),
        }
    }
}

/// A VirusTotal client under a limit.
pub struct VtClient<'c> {
    base: String,
    key: String,
    agent: ureq::Agent,
    clock: &'c dyn Clock,
    limit: RateLimit,
    /// Requests still allowed today.
    budget: u64,
    /// Requests sent by this client.
    sent: u64,
}

impl std::fmt::Debug for VtClient<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is never printed.
        f.debug_struct("VtClient")
            .field("base", &self.base)
            .field("budget", &self.budget)
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

impl<'c> VtClient<'c> {
    /// A client of the API at `base` (`https://www.virustotal.com`), sending
    /// at most `per_minute` requests a minute and `budget` in all.
    pub fn new(base: &str, key: &str, per_minute: u32, budget: u64, clock: &'c dyn Clock) -> Self {
        VtClient {
            base: base.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .user_agent(concat!("rampart/", env!("CARGO_PKG_VERSION")))
                .build(),
            clock,
            limit: RateLimit::new(per_minute),
            budget,
            sent: 0,
        }
    }

    /// Requests sent so far (each counts against the quota, retries too).
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Requests still allowed today.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// Looks one value up.
    pub fn lookup(&mut self, kind: VtKind, value: &str) -> Result<Lookup, VtError> {
        let url = format!("{}{}", self.base, kind.path(value));
        let mut failures = 0;
        loop {
            if self.budget == 0 {
                return Err(VtError::Budget);
            }
            if !self.limit.acquire(self.clock) {
                return Err(VtError::Failed("stopped before it was sent".into()));
            }
            self.budget -= 1;
            self.sent += 1;
            let response = self.agent.get(&url).set("x-apikey", &self.key).call();
            let retry = match response {
                Ok(r) => {
                    let body = r
                        .into_string()
                        .map_err(|e| VtError::Failed(format!("reading the answer: {e}")))?;
                    return serde_json::from_str(&body)
                        .map(Lookup::Found)
                        .map_err(|e| VtError::Failed(format!("the answer is not JSON: {e}")));
                }
                Err(ureq::Error::Status(404, _)) => return Ok(Lookup::NotFound),
                Err(ureq::Error::Status(code @ (401 | 403), _)) => {
                    return Err(VtError::Unauthorized(format!("HTTP {code}")))
                }
                Err(ureq::Error::Status(429, r)) => {
                    // Over the quota: wait as told, and do not count it as a failure.
                    let wait = r
                        .header("retry-after")
                        .and_then(|s| s.trim().parse::<u64>().ok())
                        .unwrap_or(60);
                    self.clock.sleep(Duration::from_secs(wait));
                    if self.clock.cancelled() {
                        return Err(VtError::Failed("stopped while throttled".into()));
                    }
                    continue;
                }
                Err(ureq::Error::Status(code, _)) => format!("HTTP {code}"),
                Err(ureq::Error::Transport(t)) => t.to_string(),
            };
            failures += 1;
            if failures >= ATTEMPTS {
                return Err(VtError::Failed(retry));
            }
            self.clock.sleep(Duration::from_secs(2u64.pow(failures)));
        }
    }
}
