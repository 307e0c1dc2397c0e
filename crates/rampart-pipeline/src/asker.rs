//! The threads that ask lookup services about the values events bring
//! while they flow (a pipeline's `virustotal:` and its HTTP `lookups:`):
//! one request at a time, within the service's per-minute limit and the
//! day's quota counted in the store, each answer kept in the store's cache
//! (VirusTotal's shared with `hunt --vt` and `intel vt`) and handed to the
//! worker threads at once.

use std::collections::HashMap;
use std::fmt::Display;
use std::hash::Hash;
use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::thread::JoinHandle;

use jiff::{SignedDuration, Timestamp};
use rampart_intel::service::{AskError, LimitedClient, Lookup};
use rampart_intel::vt::{Report, VtKind};
use rampart_intel::{Answer, Fields, LiveAnswers, LiveClock};
use rampart_store::{CachedAnswer, Store};
use serde_json::Value as Json;

use crate::config::{Asking, HttpLookup, VirusTotal};

/// What the asker needs of a service.
pub trait Service: Send + 'static {
    /// What it is asked about.
    type Key: Eq + Hash + Ord + Clone + Display + FromStr + Send + Sync + 'static;
    /// What its answers become.
    type Answer: Send + Sync + 'static;
    /// Its name, in messages and in the store's counts of requests.
    fn name(&self) -> &str;
    /// What its answers are kept as in the store's cache.
    fn kind(&self) -> &str;
    /// Asks about `value`.
    fn ask(&self, client: &mut LimitedClient<'_>, value: &str) -> Result<Lookup, AskError>;
    /// The answer made of what it said (none: it had nothing).
    fn answer(&self, value: &str, said: Option<&Json>) -> Self::Answer;
}

/// VirusTotal, asked about addresses.
pub struct VtService {
    url: String,
    key: String,
}

impl std::fmt::Debug for VtService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is never printed.
        f.debug_struct("VtService")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Service for VtService {
    type Key = IpAddr;
    type Answer = Report;

    fn name(&self) -> &str {
        "virustotal"
    }

    fn kind(&self) -> &str {
        VtKind::Ip.as_str()
    }

    fn ask(&self, client: &mut LimitedClient<'_>, value: &str) -> Result<Lookup, AskError> {
        rampart_intel::vt::ask(client, (&self.url, &self.key), VtKind::Ip, value)
    }

    fn answer(&self, value: &str, said: Option<&Json>) -> Report {
        match said {
            Some(json) => Report::from_answer(value, VtKind::Ip, json),
            None => Report::bare(value, VtKind::Ip, "not_found"),
        }
    }
}

/// A JSON API, asked about one field's values.
pub struct HttpService {
    name: String,
    kind: String,
    url: String,
    header: Option<(String, String)>,
    fields: Fields,
}

impl std::fmt::Debug for HttpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key (in the header's value) is never printed.
        f.debug_struct("HttpService")
            .field("name", &self.name)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Service for HttpService {
    type Key = String;
    type Answer = Answer;

    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &str {
        &self.kind
    }

    fn ask(&self, client: &mut LimitedClient<'_>, value: &str) -> Result<Lookup, AskError> {
        let url = self.url.replace("{value}", &encode(value));
        let headers: Vec<(&str, &str)> = self
            .header
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        client.get(&url, &headers)
    }

    fn answer(&self, _: &str, said: Option<&Json>) -> Answer {
        match said {
            Some(json) => Answer::of(json, &self.fields),
            None => Answer::NotFound,
        }
    }
}

/// `value` as it may stand in a URL's path or query: every byte but
/// letters, digits and `-._~` percent-encoded.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The key in the environment variable `env`, or why there is none.
fn key_from(env: &str, what: &str) -> Result<String, String> {
    let key = std::env::var(env).unwrap_or_default().trim().to_string();
    if key.is_empty() {
        return Err(format!("{what}: the API key is not set ({env} is empty)"));
    }
    Ok(key)
}

impl VtService {
    /// VirusTotal as `config` says, its key read from the environment.
    pub fn new(config: &VirusTotal) -> Result<VtService, String> {
        Ok(VtService {
            url: config.url.clone(),
            key: key_from(&config.key_env, "virustotal")?,
        })
    }
}

impl HttpService {
    /// The service of `lookup`, its key (if it sends one) read from the
    /// environment.
    pub fn new(lookup: &HttpLookup) -> Result<HttpService, String> {
        let what = format!("lookup {}", lookup.name);
        let header = match &lookup.token_env {
            Some(env) => Some((
                lookup.token_header.clone(),
                format!("{}{}", lookup.token_prefix, key_from(env, &what)?),
            )),
            None => None,
        };
        Ok(HttpService {
            name: lookup.name.clone(),
            // Answers of another address (a provider swapped) are not
            // this one's.
            kind: format!(
                "lookup:{}:{:08x}",
                lookup.name,
                xxhash_rust::xxh3::xxh3_64(lookup.url.as_bytes()) as u32
            ),
            url: lookup.url.clone(),
            header,
            fields: lookup.fields.clone(),
        })
    }
}

/// An asker and the answers it fills.
pub struct Asker<S: Service> {
    /// The answers, for the engine's enrichment.
    pub answers: Arc<LiveAnswers<S::Key, S::Answer>>,
    thread: Option<JoinHandle<()>>,
}

impl<S: Service> Asker<S> {
    /// Starts asking `service` under `asking`, keeping answers in the
    /// database at `db`; answers kept there and still fresh are known from
    /// the start.
    pub fn start(service: S, asking: &Asking, db: &Path) -> Result<Asker<S>, String> {
        let name = service.name().to_string();
        let mut store = Store::open(db).map_err(|e| format!("{name}: {e}"))?;
        let ttl = SignedDuration::try_from(asking.cache).unwrap_or(SignedDuration::MAX);
        // The cache keeps what is fresh only.
        store
            .answers_forget_stale(service.kind(), Timestamp::now(), ttl)
            .map_err(|e| format!("{name}: the answers kept: {e}"))?;
        let known: HashMap<S::Key, S::Answer> = store
            .answers_fresh(service.kind(), Timestamp::now(), ttl)
            .map_err(|e| format!("{name}: the answers kept: {e}"))?
            .into_iter()
            .filter_map(|(value, answer)| {
                let key = value.parse().ok()?;
                Some((key, kept(&service, &value, &answer)))
            })
            .collect();
        let answers = Arc::new(
            LiveAnswers::new(
                known,
                (asking.wait, asking.wait_through_limit),
                asking.queue,
            )
            .keeping(asking.cache),
        );
        let budget = asking
            .per_day
            .saturating_sub(store.requests_used(&name, Timestamp::now()).unwrap_or(0));
        let per_minute = asking.per_minute;
        let live = Arc::clone(&answers);
        let thread = std::thread::Builder::new()
            .name(format!("ask-{name}").chars().take(15).collect())
            .spawn(move || {
                let clock = LiveClock::new(Arc::clone(&live));
                let mut client = LimitedClient::new(per_minute, budget, &clock);
                ask(&service, &live, &mut client, (&mut store, ttl));
            })
            .map_err(|e| format!("{name}: cannot start its thread: {e}"))?;
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

/// The answer kept in the cache.
fn kept<S: Service>(service: &S, value: &str, answer: &CachedAnswer) -> S::Answer {
    match answer {
        CachedAnswer::Found(text) => match serde_json::from_str::<Json>(text) {
            Ok(json) => service.answer(value, Some(&json)),
            // A damaged entry reads as nothing known (it is asked again once stale).
            Err(_) => service.answer(value, None),
        },
        CachedAnswer::NotFound => service.answer(value, None),
    }
}

/// Looks each queued value up until stopped, the key refused or the day's
/// quota spent (then the queue is emptied: the values pass on unanswered,
/// for a later run).
fn ask<S: Service>(
    service: &S,
    live: &LiveAnswers<S::Key, S::Answer>,
    client: &mut LimitedClient<'_>,
    (store, ttl): (&mut Store, SignedDuration),
) {
    let name = service.name();
    while let Some(key) = live.next() {
        let value = key.to_string();
        // Another process (`hunt --vt`, another pipeline) may have asked meanwhile.
        if let Ok(Some(answer)) = store.answer_cached(service.kind(), &value, Timestamp::now(), ttl)
        {
            live.answer(key, kept(service, &value, &answer));
            continue;
        }
        let before = client.sent();
        let result = service.ask(client, &value);
        let now = Timestamp::now();
        let keep = |store: &mut Store, answer: &CachedAnswer| {
            if let Err(e) = store.answer_put(service.kind(), &value, answer, now) {
                eprintln!("{name}: cannot keep the answer on {value}: {e}");
            }
        };
        if let Err(e) = store.requests_count(name, client.sent() - before, now) {
            eprintln!("{name}: cannot count the requests sent: {e}");
        }
        match result {
            Ok(Lookup::Found(json)) => {
                keep(store, &CachedAnswer::Found(json.to_string()));
                live.answer(key, service.answer(&value, Some(&json)));
            }
            Ok(Lookup::NotFound) => {
                keep(store, &CachedAnswer::NotFound);
                live.answer(key, service.answer(&value, None));
            }
            Err(AskError::Failed(why)) => {
                if !live.stopped() {
                    eprintln!("{name}: {value}: {why}; asked again when it shows up again");
                }
                live.give_up(&key);
            }
            Err(e @ (AskError::Budget | AskError::Unauthorized(_))) => {
                eprintln!("{name}: {e}; no more lookups in this run");
                live.give_up(&key);
                // Nothing more can be sent: what is queued and what comes
                // later passes on unanswered at once.
                live.close();
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_encoded_for_the_address() {
        assert_eq!(encode("198.51.100.7"), "198.51.100.7");
        assert_eq!(encode("a b/../?x=1&y"), "a%20b%2F..%2F%3Fx%3D1%26y");
        assert_eq!(encode("é"), "%C3%A9");
    }
}
