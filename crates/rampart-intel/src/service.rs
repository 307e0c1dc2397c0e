//! A lookup service over HTTP (VirusTotal, or any JSON API a pipeline's
//! `lookups:` names), asked one value at a time within its per-minute
//! limit and the day's budget. 404 is an answer (not found), and so is
//! any other refusal of the value (400, 414, 422, ...); 429 waits as long
//! as the server says (`Retry-After`) or a minute; 401 and 403 stop
//! everything, since no later request can succeed; server and network
//! errors (and 408) are retried a few times, then the value is left
//! without an answer and the run goes on.

use std::time::Duration;

use serde_json::Value as Json;

use crate::vt::{Clock, RateLimit};

/// How often a value is tried on server or network errors.
const ATTEMPTS: u32 = 3;

/// Answers read at most (a service that sends more is cut off).
const MAX_ANSWER: u64 = 4 << 20;

/// What one lookup gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// The object the service has.
    Found(Json),
    /// The service has nothing on it (404).
    NotFound,
}

/// Why lookups stopped or one failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AskError {
    /// The key was refused (401/403): nothing more can be looked up.
    Unauthorized(String),
    /// The day's budget is spent.
    Budget,
    /// This value failed after retries (server or network errors).
    Failed(String),
}

impl std::fmt::Display for AskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AskError::Unauthorized(m) => write!(f, "the service refused the key ({m})"),
            AskError::Budget => f.write_str("the day's quota is spent"),
            AskError::Failed(m) => write!(f, "lookup failed: {m}"),
        }
    }
}

/// A client of one service under its limit.
pub struct LimitedClient<'c> {
    agent: ureq::Agent,
    clock: &'c dyn Clock,
    limit: RateLimit,
    /// Requests still allowed today.
    budget: u64,
    /// Requests sent by this client.
    sent: u64,
}

impl std::fmt::Debug for LimitedClient<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LimitedClient")
            .field("budget", &self.budget)
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

impl<'c> LimitedClient<'c> {
    /// A client sending at most `per_minute` requests a minute and
    /// `budget` in all.
    pub fn new(per_minute: u32, budget: u64, clock: &'c dyn Clock) -> Self {
        LimitedClient {
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

    /// GETs `url` with `headers` (the key among them, never printed).
    pub fn get(&mut self, url: &str, headers: &[(&str, &str)]) -> Result<Lookup, AskError> {
        let mut failures = 0;
        loop {
            if self.budget == 0 {
                return Err(AskError::Budget);
            }
            if !self.limit.acquire(self.clock) {
                return Err(AskError::Failed("stopped before it was sent".into()));
            }
            self.budget -= 1;
            self.sent += 1;
            let mut request = self.agent.get(url);
            for (name, value) in headers {
                request = request.set(name, value);
            }
            let retry = match request.call() {
                Ok(r) => return read(r),
                Err(ureq::Error::Status(404, _)) => return Ok(Lookup::NotFound),
                Err(ureq::Error::Status(code @ (401 | 403), _)) => {
                    return Err(AskError::Unauthorized(format!("HTTP {code}")))
                }
                Err(ureq::Error::Status(429, r)) => {
                    // Over the quota: wait as told, and do not count it as a failure.
                    let wait = r
                        .header("retry-after")
                        .and_then(|s| s.trim().parse::<u64>().ok())
                        .unwrap_or(60);
                    self.clock.sleep(Duration::from_secs(wait));
                    if self.clock.cancelled() {
                        return Err(AskError::Failed("stopped while throttled".into()));
                    }
                    continue;
                }
                // The value itself is refused (malformed, too long, ...):
                // an answer too, as asking again would spend the quota on
                // the same refusal.
                Err(ureq::Error::Status(code, _)) if (400..500).contains(&code) && code != 408 => {
                    return Ok(Lookup::NotFound)
                }
                Err(ureq::Error::Status(code, _)) => format!("HTTP {code}"),
                Err(ureq::Error::Transport(t)) => t.to_string(),
            };
            failures += 1;
            if failures >= ATTEMPTS {
                return Err(AskError::Failed(retry));
            }
            self.clock.sleep(Duration::from_secs(2u64.pow(failures)));
        }
    }
}

/// An answer's JSON, read up to [`MAX_ANSWER`] bytes.
fn read(response: ureq::Response) -> Result<Lookup, AskError> {
    use std::io::Read as _;
    let mut body = Vec::new();
    response
        .into_reader()
        .take(MAX_ANSWER + 1)
        .read_to_end(&mut body)
        .map_err(|e| AskError::Failed(format!("reading the answer: {e}")))?;
    if body.len() as u64 > MAX_ANSWER {
        return Err(AskError::Failed(format!(
            "the answer is longer than {} MiB",
            MAX_ANSWER >> 20
        )));
    }
    serde_json::from_slice(&body)
        .map(Lookup::Found)
        .map_err(|e| AskError::Failed(format!("the answer is not JSON: {e}")))
}
