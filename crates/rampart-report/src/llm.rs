//! Accounts written by a language model, when the user asks for one: the
//! facts a template would be filled with are sent to any OpenAI-compatible
//! chat endpoint and its answer is used instead of the template's. Every
//! request has a timeout, the run has a cap on requests, and answers are
//! kept in a cache keyed by what was sent, so a second report over the
//! same facts sends nothing. When the endpoint fails, hangs or answers
//! something that is not an answer, the template's text stays and the
//! report says why. The answer is untrusted text like the logs are: it is
//! escaped wherever it is shown.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value as Json};

/// The longest answer taken; longer ones are refused as not an answer.
const MAX_ANSWER: usize = 4_000;
/// Failures in a row after which no more requests are sent.
const GIVE_UP_AFTER: u32 = 2;

const SYSTEM: &str = "You are a security analyst's assistant. From the JSON facts given, write a short plain-language account (two or three sentences) for a reader who does not run the tool. Use only the facts given; do not invent hosts, users, addresses or techniques.";

/// How to reach the model.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The endpoint: a base URL (`http://host/v1`) or the full
    /// `.../chat/completions`.
    pub url: String,
    /// The model's name.
    pub model: String,
    /// The API key, when the endpoint wants one.
    pub key: Option<String>,
    /// How long one request may take.
    pub timeout: Duration,
    /// Requests sent at most in one run.
    pub max_requests: u32,
    /// Where answers are cached (JSON lines), when they are.
    pub cache: Option<PathBuf>,
    /// Events of the stream, from the first, that get an account of their
    /// own from the model.
    pub events: usize,
}

/// What a run did with the model.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Usage {
    /// Requests sent.
    pub requests: u32,
    /// Answers taken from the cache.
    pub cached: u32,
    /// Requests that failed.
    pub failed: u32,
    /// The first failure's reason.
    pub first_failure: Option<String>,
}

/// Asks the model, under the run's cap, with the cache.
pub struct Asker {
    settings: Settings,
    agent: ureq::Agent,
    cache: HashMap<String, String>,
    failures_in_a_row: u32,
    /// Requests of the cap kept back for what is asked later.
    pub reserve: u32,
    /// What was done.
    pub usage: Usage,
}

impl Asker {
    /// An asker with `settings`, its cache read.
    pub fn new(settings: Settings) -> Asker {
        let mut cache = HashMap::new();
        if let Some(file) = settings.cache.as_ref().and_then(|p| File::open(p).ok()) {
            for line in BufReader::new(file).lines().map_while(Result::ok) {
                if let Ok(entry) = serde_json::from_str::<Json>(&line) {
                    if let (Some(k), Some(a)) = (entry["key"].as_str(), entry["answer"].as_str()) {
                        cache.insert(k.to_owned(), a.to_owned());
                    }
                }
            }
        }
        let agent = ureq::AgentBuilder::new().timeout(settings.timeout).build();
        Asker {
            settings,
            agent,
            cache,
            failures_in_a_row: 0,
            reserve: 0,
            usage: Usage::default(),
        }
    }

    /// Events of the stream that get an account of their own.
    pub fn events(&self) -> usize {
        self.settings.events
    }

    /// The model's account of `facts`, or why the template stays: the text
    /// and who wrote it (`llm`, `llm (cached)`, or `template (...)`).
    pub fn ask(&mut self, facts: &Json, template: &str) -> (String, String) {
        let prompt = json!({ "facts": facts, "template_account": template }).to_string();
        let key = format!(
            "{:032x}",
            xxhash_rust::xxh3::xxh3_128(format!("{}\n{}", self.settings.model, prompt).as_bytes())
        );
        if let Some(answer) = self.cache.get(&key) {
            self.usage.cached += 1;
            return (answer.clone(), "llm (cached)".to_owned());
        }
        if self.failures_in_a_row >= GIVE_UP_AFTER {
            return (
                template.to_owned(),
                "template (the model was not asked: earlier requests failed)".to_owned(),
            );
        }
        if self.usage.requests + self.reserve >= self.settings.max_requests {
            return (
                template.to_owned(),
                format!(
                    "template (the cap of {} requests was reached)",
                    self.settings.max_requests
                ),
            );
        }
        self.usage.requests += 1;
        match self.send(&prompt) {
            Ok(answer) => {
                self.failures_in_a_row = 0;
                self.remember(&key, &answer);
                (answer, "llm".to_owned())
            }
            Err(why) => {
                self.failures_in_a_row += 1;
                self.usage.failed += 1;
                self.usage.first_failure.get_or_insert_with(|| why.clone());
                (
                    template.to_owned(),
                    format!("template (the model failed: {why})"),
                )
            }
        }
    }

    fn send(&self, prompt: &str) -> Result<String, String> {
        let url = if self
            .settings
            .url
            .trim_end_matches('/')
            .ends_with("/chat/completions")
        {
            self.settings.url.clone()
        } else {
            format!(
                "{}/chat/completions",
                self.settings.url.trim_end_matches('/')
            )
        };
        let body = json!({
            "model": self.settings.model,
            "temperature": 0,
            "messages": [
                { "role": "system", "content": SYSTEM },
                { "role": "user", "content": prompt },
            ],
        });
        let mut request = self
            .agent
            .post(&url)
            .set("Content-Type", "application/json");
        if let Some(key) = &self.settings.key {
            request = request.set("Authorization", &format!("Bearer {key}"));
        }
        let response = request
            .send_string(&body.to_string())
            .map_err(|e| match e {
                ureq::Error::Status(code, _) => format!("HTTP {code}"),
                ureq::Error::Transport(t) => t.kind().to_string(),
            })?;
        let text = response
            .into_string()
            .map_err(|e| format!("cannot read the answer: {e}"))?;
        let answer: Json =
            serde_json::from_str(&text).map_err(|_| "the answer is not JSON".to_owned())?;
        let content = answer["choices"][0]["message"]["content"]
            .as_str()
            .ok_or("the answer has no choices[0].message.content")?;
        let clean: String = content
            .chars()
            .filter(|c| !c.is_control() || *c == '\n')
            .collect();
        let clean = clean.trim();
        if clean.is_empty() {
            return Err("the answer is empty".to_owned());
        }
        if clean.len() > MAX_ANSWER {
            return Err(format!("the answer is longer than {MAX_ANSWER} bytes"));
        }
        Ok(clean.to_owned())
    }

    fn remember(&mut self, key: &str, answer: &str) {
        self.cache.insert(key.to_owned(), answer.to_owned());
        let Some(path) = &self.settings.cache else {
            return;
        };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        // A cache that cannot be written costs the next run a request,
        // nothing more.
        if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(f, "{}", json!({ "key": key, "answer": answer }));
        }
    }
}
