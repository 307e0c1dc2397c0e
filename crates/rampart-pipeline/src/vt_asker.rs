//! The thread that asks VirusTotal about the public addresses events
//! bring (a pipeline's `virustotal:`): one request at a time, within the
//! key's per-minute limit and the day's quota counted in the store, each
//! answer kept in the store's cache (shared with `hunt --vt` and `intel
//! vt`) and handed to the worker threads at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;

use jiff::{SignedDuration, Timestamp};
use rampart_intel::vt::{LiveAnswers, LiveClock, Lookup, Report, VtClient, VtError, VtKind};
use rampart_store::{CachedAnswer, Store};

use crate::config::VirusTotal;

/// The asker and the answers it fills.
pub struct Asker {
    /// The answers, for the engine's enrichment.
    pub answers: Arc<LiveAnswers>,
    thread: Option<JoinHandle<()>>,
}

impl Asker {
    /// Starts asking with the key in `config.key_env`, keeping answers in
    /// the database at `db`; answers kept there and still fresh are known
    /// from the start.
    pub fn start(config: &VirusTotal, db: &Path) -> Result<Asker, String> {
        let key = std::env::var(&config.key_env).unwrap_or_default();
        let key = key.trim().to_string();
        if key.is_empty() {
            return Err(format!(
                "virustotal: the API key is not set ({} is empty)",
                config.key_env
            ));
        }
        let mut store = Store::open(db).map_err(|e| format!("virustotal: {e}"))?;
        let ttl = SignedDuration::try_from(config.cache).unwrap_or(SignedDuration::MAX);
        let known: HashMap<IpAddr, Report> = store
            .vt_fresh("ip", Timestamp::now(), ttl)
            .map_err(|e| format!("virustotal: the answers kept: {e}"))?
            .into_iter()
            .filter_map(|(value, answer)| {
                let ip: IpAddr = value.parse().ok()?;
                Some((ip, report(&value, &answer)))
            })
            .collect();
        let answers = Arc::new(LiveAnswers::new(
            known,
            (config.wait, config.wait_through_limit),
            config.queue,
        ));
        let budget = config
            .per_day
            .saturating_sub(store.vt_used(Timestamp::now()).unwrap_or(0));
        let (url, per_minute) = (config.url.clone(), config.per_minute);
        let live = Arc::clone(&answers);
        let thread = std::thread::Builder::new()
            .name("virustotal".into())
            .spawn(move || {
                let clock = LiveClock::new(Arc::clone(&live));
                let mut client = VtClient::new(&url, &key, per_minute, budget, &clock);
                ask(&live, &mut client, &mut store, ttl);
            })
            .map_err(|e| format!("virustotal: cannot start its thread: {e}"))?;
        Ok(Asker {
            answers,
            thread: Some(thread),
        })
    }

    /// Stops asking (a lookup under way ends first).
    pub fn stop(mut self) {
        self.answers.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn report(value: &str, answer: &CachedAnswer) -> Report {
    let kept = match answer {
        CachedAnswer::Found(text) => Some(text.as_str()),
        CachedAnswer::NotFound => None,
    };
    Report::from_kept(value, VtKind::Ip, kept)
}

/// Looks each queued address up until stopped, the key refused or the
/// day's quota spent (then the queue is emptied: the addresses pass on
/// unanswered, for a later run).
fn ask(live: &LiveAnswers, client: &mut VtClient<'_>, store: &mut Store, ttl: SignedDuration) {
    while let Some(ip) = live.next() {
        let value = ip.to_string();
        // Another process (`hunt --vt`) may have asked meanwhile.
        if let Ok(Some(answer)) = store.vt_cached("ip", &value, Timestamp::now(), ttl) {
            live.answer(ip, report(&value, &answer));
            continue;
        }
        let before = client.sent();
        let result = client.lookup(VtKind::Ip, &value);
        let now = Timestamp::now();
        let kept = |store: &mut Store, answer: &CachedAnswer| {
            if let Err(e) = store.vt_put("ip", &value, answer, now) {
                eprintln!("virustotal: cannot keep the answer on {value}: {e}");
            }
        };
        if let Err(e) = store.vt_count(client.sent() - before, now) {
            eprintln!("virustotal: cannot count the requests sent: {e}");
        }
        match result {
            Ok(Lookup::Found(json)) => {
                kept(store, &CachedAnswer::Found(json.to_string()));
                live.answer(ip, Report::from_answer(&value, VtKind::Ip, &json));
            }
            Ok(Lookup::NotFound) => {
                kept(store, &CachedAnswer::NotFound);
                live.answer(ip, Report::bare(&value, VtKind::Ip, "not_found"));
            }
            Err(VtError::Failed(why)) => {
                if !live.stopped() {
                    eprintln!("virustotal: {value}: {why}; asked again when it shows up again");
                }
                live.give_up(ip);
            }
            Err(e @ (VtError::Budget | VtError::Unauthorized(_))) => {
                eprintln!("virustotal: {e}; no more lookups in this run");
                live.give_up(ip);
                // Nothing more can be sent: what is queued and what comes
                // later passes on unanswered at once.
                live.close();
                return;
            }
        }
    }
}
