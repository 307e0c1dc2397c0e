//! VirusTotal's side of a [`LimitedClient`]: its API paths and its key
//! header, and errors that say which key to check.

use crate::service::{AskError, LimitedClient, Lookup};
use crate::vt::Clock;

use super::report::VtKind;

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

impl From<AskError> for VtError {
    fn from(e: AskError) -> VtError {
        match e {
            AskError::Unauthorized(m) => VtError::Unauthorized(m),
            AskError::Budget => VtError::Budget,
            AskError::Failed(m) => VtError::Failed(m),
        }
    }
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
    client: LimitedClient<'c>,
}

impl std::fmt::Debug for VtClient<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is never printed.
        f.debug_struct("VtClient")
            .field("base", &self.base)
            .field("client", &self.client)
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
            client: LimitedClient::new(per_minute, budget, clock),
        }
    }

    /// Requests sent so far (each counts against the quota, retries too).
    pub fn sent(&self) -> u64 {
        self.client.sent()
    }

    /// Requests still allowed today.
    pub fn budget(&self) -> u64 {
        self.client.budget()
    }

    /// Looks one value up.
    pub fn lookup(&mut self, kind: VtKind, value: &str) -> Result<Lookup, VtError> {
        let url = format!("{}{}", self.base, kind.path(value));
        Ok(self.client.get(&url, &[("x-apikey", &self.key)])?)
    }
}
