//! VirusTotal options shared by `intel vt` and `hunt --vt`, and the loop
//! that looks a list of values up within them: cached answers first, then
//! at most the day's remaining quota, at the per-minute rate, with a
//! progress bar on a terminal.

use anyhow::bail;
use clap::Args;
use jiff::{SignedDuration, Timestamp};
use rampart_intel::service::{AskError, LimitedClient};
use rampart_intel::vt::{Lookup, Report, SystemClock, VtKind};
use rampart_store::{CachedAnswer, Store};

/// How VirusTotal is used.
#[derive(Debug, Args)]
pub struct VtArgs {
    /// Requests per minute the key allows (4 for a free key).
    #[arg(long, default_value_t = 4)]
    pub vt_per_minute: u32,
    /// Requests per UTC day the key allows (500 for a free key).
    #[arg(long, default_value_t = 500)]
    pub vt_per_day: u64,
    /// How long an answer is reused, in hours.
    #[arg(long, value_name = "HOURS", default_value_t = 168)]
    pub vt_cache_hours: i64,
    /// List what would be sent to VirusTotal, and send nothing.
    #[arg(long)]
    pub vt_dry_run: bool,
    /// The API's address (tests point it at a local server).
    #[arg(
        long,
        env = "RAMPART_VT_URL",
        default_value = "https://www.virustotal.com"
    )]
    pub vt_url: String,
}

/// What a batch of lookups did.
#[derive(Debug, Default)]
pub struct Sent {
    /// Requests sent.
    pub requests: u64,
    /// Values left for a later run (the day's quota is spent).
    pub pending: Vec<String>,
    /// Values whose lookup failed after retries.
    pub failed: Vec<String>,
}

impl VtArgs {
    /// How long answers are reused.
    pub fn ttl(&self) -> SignedDuration {
        SignedDuration::from_hours(self.vt_cache_hours.max(0))
    }

    /// Looks `values` up (none of them cached), keeping every answer in the
    /// store and calling `answered` with each report. A refused key stops
    /// with an error; a spent quota leaves the rest pending.
    pub fn look_up(
        &self,
        store: &mut Store,
        kind: VtKind,
        values: &[String],
        mut answered: impl FnMut(usize, Report),
    ) -> anyhow::Result<Sent> {
        let mut sent = Sent::default();
        if values.is_empty() {
            return Ok(sent);
        }
        let key = std::env::var("VT_API_KEY").unwrap_or_default();
        if key.trim().is_empty() {
            bail!(
                "VT_API_KEY is not set: {} values need a lookup",
                values.len()
            );
        }
        let budget = self
            .vt_per_day
            .saturating_sub(store.requests_used("virustotal", Timestamp::now())?);
        let clock = SystemClock::default();
        let mut client = LimitedClient::new(self.vt_per_minute, budget, &clock);
        let bar = crate::progress::bar(
            values.len() as u64,
            "{elapsed_precise} [{bar:30}] {pos}/{len} VirusTotal lookups ({eta} left)",
        );
        let mut outcome = Ok(());
        for (i, v) in values.iter().enumerate() {
            let before = client.sent();
            let result = rampart_intel::vt::ask(&mut client, (&self.vt_url, key.trim()), kind, v);
            store.requests_count("virustotal", client.sent() - before, Timestamp::now())?;
            match result {
                Ok(Lookup::Found(json)) => {
                    let answer = CachedAnswer::Found(json.to_string());
                    store.answer_put(kind.as_str(), v, &answer, Timestamp::now())?;
                    answered(i, Report::from_answer(v, kind, &json));
                }
                Ok(Lookup::NotFound) => {
                    store.answer_put(
                        kind.as_str(),
                        v,
                        &CachedAnswer::NotFound,
                        Timestamp::now(),
                    )?;
                    answered(i, Report::bare(v, kind, "not_found"));
                }
                Err(AskError::Budget) => {
                    sent.pending.extend(values[i..].iter().cloned());
                    break;
                }
                Err(AskError::Unauthorized(why)) => {
                    outcome = Err(format!(
                        "VirusTotal refused the API key ({why}); check VT_API_KEY"
                    ));
                    break;
                }
                Err(e @ AskError::Failed(_)) => {
                    eprintln!("{v}: {e}; left without an answer");
                    sent.failed.push(v.clone());
                }
            }
            if let Some(bar) = &bar {
                bar.inc(1);
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        sent.requests = client.sent();
        if let Err(e) = outcome {
            bail!("{e}");
        }
        Ok(sent)
    }
}

/// The report of a kept answer.
pub fn report_of(value: &str, kind: VtKind, answer: &CachedAnswer) -> Report {
    let kept = match answer {
        CachedAnswer::Found(text) => Some(text.as_str()),
        CachedAnswer::NotFound => None,
    };
    Report::from_kept(value, kind, kept)
}
