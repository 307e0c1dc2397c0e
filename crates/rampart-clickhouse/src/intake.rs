//! ClickHouse as the database `ingest` writes: the files read, how far
//! each was read, and the engine's open windows, kept beside the events
//! and alerts so that a run killed at any moment goes on from its last
//! commit, as it does with SQLite.
//!
//! ClickHouse has no transactions; a commit is made safe by its order.
//! The events, unreadable lines and alerts go first: their ids come from
//! where each was read, so sent again after a crash they count once (the
//! tables keep one row per id, an alert's newest version winning). Then
//! the commit's bookkeeping, how far each file was read and what changed
//! in the windows, goes as one insert into `ingest_state`, one block of
//! one unpartitioned table, which ClickHouse stores whole or not at all.
//! A crash before it leaves the bookkeeping of the commit before, and the
//! next run reads those lines again, sending the same rows.
//!
//! `ingest_state` holds one row per thing kept, its newest version
//! (`seq`, one per commit) winning: a file's start and name (`source`),
//! how much of it is stored (`progress`), what a source that is not a
//! file keeps to read on (`reading`), a correlation rule's shape
//! (`rule`), an open window (`group`) or dedup window (`dedup`), ended
//! ones marked `gone`, and a rule whose windows were all dropped
//! (`reset`: its older windows no longer count).

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::Timestamp;
use rampart_detect::saved::{SavedGroup, SavedOpen, SavedRule};
use rampart_detect::SavedState;
use rampart_event::Event;
use rampart_store::{
    head_hash, Commit, Committed, Intake, NewAlert, Source, StoreError, FINGERPRINT_BYTES,
    PER_SOURCE,
};
use serde::{Deserialize, Serialize};

use crate::client::quote;
use crate::{alert_row, event_row, ClickHouse};

/// Alert ids one query asks about, at most (its text stays well under
/// ClickHouse's 256 KiB).
const IDS_PER_QUERY: usize = 5_000;

/// A file known to the database, with the start it is known by.
#[derive(Debug, Clone)]
struct Known {
    source: Source,
    fp_len: i64,
    fp_hash: i64,
}

impl Known {
    /// File `id` at `path`, known by the start of `fp_len` bytes whose
    /// hash is `fp_hash`, with nothing read of it yet.
    fn new(id: i64, path: String, (fp_len, fp_hash): (i64, i64)) -> Known {
        Known {
            source: Source {
                id,
                path,
                events: 0,
                dead: 0,
                state: None,
            },
            fp_len,
            fp_hash,
        }
    }
}

/// What an ingest keeps in memory of the bookkeeping: the files known,
/// and the next version to write.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ledger {
    seq: u64,
    sources: Vec<Known>,
    /// The version of the alerts last written: each write's is later.
    updated: i64,
}

/// A row of `ingest_state` (read back under the names its newest version
/// is selected as: an alias may not be a column's own name).
#[derive(Serialize, Deserialize, Default)]
struct StateRow {
    kind: String,
    k1: String,
    k2: String,
    #[serde(alias = "last_text")]
    text: String,
    #[serde(alias = "last_n1")]
    n1: i64,
    #[serde(alias = "last_n2")]
    n2: i64,
    #[serde(alias = "last_gone")]
    gone: u8,
    #[serde(alias = "last_seq")]
    seq: u64,
}

/// The bookkeeping rows of one commit, written into `out`.
struct Book<'a> {
    out: &'a mut Vec<u8>,
    seq: u64,
}

impl Book<'_> {
    fn put(&mut self, kind: &str, (k1, k2): (String, String), text: String, (n1, n2): (i64, i64)) {
        self.row(kind, (k1, k2), Some(text), (n1, n2));
    }

    fn row(
        &mut self,
        kind: &str,
        (k1, k2): (String, String),
        text: Option<String>,
        (n1, n2): (i64, i64),
    ) {
        let row = StateRow {
            kind: kind.to_owned(),
            k1,
            k2,
            gone: u8::from(text.is_none()),
            text: text.unwrap_or_default(),
            n1,
            n2,
            seq: self.seq,
        };
        let _ = serde_json::to_writer(&mut *self.out, &row);
        self.out.push(b'\n');
    }

    /// The rows of what changed in the engine's state.
    fn state(&mut self, changes: &SavedState) {
        for rule in &changes.reset {
            self.put(
                "reset",
                (rule.clone(), String::new()),
                String::new(),
                (0, 0),
            );
        }
        for r in &changes.rules {
            self.put(
                "rule",
                (r.rule.clone(), String::new()),
                hex::encode(&r.parts),
                (r.shape, 0),
            );
        }
        for g in &changes.groups {
            let key = (g.rule.clone(), hex::encode(&g.key));
            self.row("group", key, g.state.as_deref().map(hex::encode), (0, 0));
        }
        for d in &changes.dedup {
            let key = (d.rule.clone(), d.group.clone());
            self.row("dedup", key, d.alert.as_deref().map(hex::encode), (0, 0));
        }
    }
}

/// An unreadable line's row.
#[derive(Serialize)]
struct DeadRow<'a> {
    id: i64,
    source: i64,
    line: u64,
    reason: &'a str,
    text: &'a str,
    stored: i64,
}

/// A run's row.
#[derive(Serialize)]
struct RunRow<'a> {
    id: i64,
    command: &'a str,
    paths: String,
    rules: String,
    started: i64,
    finished: i64,
    events: u64,
    dead: u64,
    alerts: u64,
    version: i64,
}

fn unhex(text: &str) -> Result<Vec<u8>, StoreError> {
    hex::decode(text).map_err(|e| StoreError(format!("ingest_state holds a bad value: {e}")))
}

impl ClickHouse {
    /// The rows of `ingest_state` of `kinds`, each key's newest version.
    fn state_rows(&self, kinds: &[&str]) -> Result<Vec<StateRow>, StoreError> {
        let kinds: Vec<String> = kinds.iter().map(|k| quote(k)).collect();
        self.client.rows(&format!(
            "SELECT kind, k1, k2, argMax(text, seq) AS last_text, argMax(n1, seq) AS last_n1,
                 argMax(n2, seq) AS last_n2, argMax(gone, seq) AS last_gone,
                 max(seq) AS last_seq
             FROM ingest_state WHERE kind IN ({}) GROUP BY kind, k1, k2
             ORDER BY kind, k1, k2",
            kinds.join(", ")
        ))
    }

    /// The bookkeeping, read once.
    fn ledger(&mut self) -> Result<&mut Ledger, StoreError> {
        if self.ledger.is_none() {
            let rows = self.state_rows(&["source", "progress", "reading"])?;
            let seq = self.count("SELECT max(seq) AS n FROM ingest_state")?;
            let mut sources: BTreeMap<i64, Known> = BTreeMap::new();
            let id_of = |row: &StateRow| {
                row.k1
                    .parse::<i64>()
                    .map_err(|_| StoreError(format!("ingest_state names source {:?}", row.k1)))
            };
            for row in rows.iter().filter(|r| r.kind == "source") {
                let id = id_of(row)?;
                sources.insert(id, Known::new(id, row.text.clone(), (row.n1, row.n2)));
            }
            for row in &rows {
                let Some(known) = sources.get_mut(&id_of(row)?).map(|k| &mut k.source) else {
                    continue;
                };
                match row.kind.as_str() {
                    "progress" => (known.events, known.dead) = (row.n1 as u64, row.n2 as u64),
                    "reading" if row.gone == 0 => known.state = Some(unhex(&row.text)?),
                    _ => {}
                }
            }
            self.ledger = Some(Ledger {
                seq: seq + 1,
                sources: sources.into_values().collect(),
                updated: 0,
            });
        }
        Ok(self.ledger.as_mut().expect("read above"))
    }

    /// Which of `ids` name stored alerts.
    fn stored_alerts(&self, ids: &[&str]) -> Result<HashSet<String>, StoreError> {
        #[derive(Deserialize)]
        struct Id {
            id: String,
        }
        let mut found = HashSet::new();
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let list: Vec<String> = chunk.iter().map(|id| quote(id)).collect();
            self.client.each(
                &format!(
                    "SELECT DISTINCT id FROM alerts WHERE id IN ({}) ORDER BY id",
                    list.join(", ")
                ),
                |row: Id| {
                    found.insert(row.id);
                    true
                },
            )?;
        }
        Ok(found)
    }
}

impl Intake for ClickHouse {
    /// Known as in the SQLite store: by the longest start of `head`
    /// stored. A file met for the first time, or under a new name or a
    /// longer start, is written down at once (a file with nothing stored
    /// yet), so that its id is its own from then on.
    fn source(&mut self, head: &[u8], path: &str) -> Result<Source, StoreError> {
        let head = &head[..head.len().min(FINGERPRINT_BYTES)];
        let client = self.client.clone();
        let ledger = self.ledger()?;
        let found = ledger
            .sources
            .iter()
            .enumerate()
            .filter(|(_, k)| {
                usize::try_from(k.fp_len)
                    .ok()
                    .and_then(|len| head.get(..len))
                    .is_some_and(|start| head_hash(start) == k.fp_hash)
            })
            .max_by_key(|(_, k)| k.fp_len)
            .map(|(i, _)| i);
        let at = match found {
            Some(i) => i,
            None => {
                let id = ledger
                    .sources
                    .iter()
                    .map(|k| k.source.id)
                    .max()
                    .unwrap_or(0)
                    + 1;
                ledger.sources.push(Known::new(id, String::new(), (-1, 0)));
                ledger.sources.len() - 1
            }
        };
        let known = &mut ledger.sources[at];
        let now = (head.len() as i64, head_hash(head));
        if (known.fp_len, known.fp_hash) != now || known.source.path != path {
            (known.fp_len, known.fp_hash) = now;
            known.source.path = path.to_owned();
            let mut out = Vec::new();
            let mut book = Book {
                out: &mut out,
                seq: ledger.seq,
            };
            book.put(
                "source",
                (known.source.id.to_string(), String::new()),
                known.source.path.clone(),
                (known.fp_len, known.fp_hash),
            );
            client.insert("ingest_state", &out)?;
            ledger.seq += 1;
        }
        Ok(ledger.sources[at].source.clone())
    }

    fn saved_state(&self) -> Result<SavedState, StoreError> {
        let rows = self.state_rows(&["reset", "rule", "group", "dedup"])?;
        // Windows older than their rule's last reset no longer count.
        let reset: HashMap<&str, u64> = rows
            .iter()
            .filter(|r| r.kind == "reset")
            .map(|r| (r.k1.as_str(), r.seq))
            .collect();
        let current = |r: &StateRow| reset.get(r.k1.as_str()).is_none_or(|s| r.seq >= *s);
        let mut saved = SavedState::default();
        for row in rows.iter().filter(|r| r.gone == 0) {
            match row.kind.as_str() {
                "rule" if current(row) => saved.rules.push(SavedRule {
                    rule: row.k1.clone(),
                    shape: row.n1,
                    parts: unhex(&row.text)?,
                }),
                "group" if current(row) => saved.groups.push(SavedGroup {
                    rule: row.k1.clone(),
                    key: unhex(&row.k2)?,
                    state: Some(unhex(&row.text)?),
                }),
                "dedup" => saved.dedup.push(SavedOpen {
                    rule: row.k1.clone(),
                    group: row.k2.clone(),
                    alert: Some(unhex(&row.text)?),
                }),
                _ => {}
            }
        }
        // In the order the SQLite store gives them.
        saved.rules.sort_by(|a, b| a.rule.cmp(&b.rule));
        saved
            .groups
            .sort_by(|a, b| (&a.rule, &a.key).cmp(&(&b.rule, &b.key)));
        saved
            .dedup
            .sort_by(|a, b| (&a.rule, &a.group).cmp(&(&b.rule, &b.group)));
        Ok(saved)
    }

    /// Sends the commits' events (one insert per commit, so that the rows
    /// made at once stay those of one commit), unreadable lines and
    /// alerts, then their bookkeeping in one insert (see the module's
    /// notes). Events and unreadable lines count as sent: those of a
    /// commit a crash cut short are sent, and counted, again by the next
    /// run.
    fn commit_all(&mut self, commits: &mut [Commit]) -> Result<Committed, StoreError> {
        let now = Timestamp::now();
        let mut done = Committed::default();
        // Each alert once, as the last commit left it: rows of one
        // version would leave ClickHouse to choose between them.
        let mut last: HashMap<&str, &NewAlert> = HashMap::new();
        let mut order = Vec::new();
        for new in commits.iter().flat_map(|c| &c.alerts) {
            if last.insert(&new.alert.id, new).is_none() {
                order.push(new.alert.id.as_str());
            }
        }
        // What the stored events that alerts point at are about.
        let mut about: HashMap<i64, Option<(String, String)>> = last
            .values()
            .filter_map(|new| new.events.first().map(|id| (*id, None)))
            .collect();
        let mut rows = Vec::new();
        let mut dead = Vec::new();
        for commit in commits.iter() {
            rows.clear();
            for (id, doc) in commit.events.docs() {
                let event = Event::from_ecs_json(doc)
                    .map_err(|e| StoreError(format!("event {id} cannot be read back: {e}")))?;
                let of = event_row(id, &event, now, &mut rows);
                rows.push(b'\n');
                if let Some(slot) = about.get_mut(&id) {
                    *slot = Some(of);
                }
            }
            self.client.insert("events", &rows)?;
            done.events += commit.events.len() as u64;
            for d in &commit.dead {
                let row = DeadRow {
                    id: d.source * PER_SOURCE + d.ordinal as i64,
                    source: d.source,
                    line: d.line,
                    reason: &d.reason,
                    text: &d.text,
                    stored: now.as_microsecond(),
                };
                let _ = serde_json::to_writer(&mut dead, &row);
                dead.push(b'\n');
            }
            done.dead += commit.dead.len() as u64;
        }
        let known = self.stored_alerts(&order)?;
        let ledger = self.ledger()?;
        ledger.updated = now.as_microsecond().max(ledger.updated + 1);
        let version = Timestamp::from_microsecond(ledger.updated).unwrap_or(now);
        rows.clear();
        for id in &order {
            let new = last[id];
            let of = new
                .events
                .first()
                .and_then(|e| about.get(e).cloned().flatten());
            alert_row(&new.alert, (&new.events, of), version, &mut rows);
            rows.push(b'\n');
        }
        done.alerts = order.iter().filter(|id| !known.contains(**id)).count() as u64;
        let mut book_rows = Vec::new();
        let mut seq = ledger.seq;
        for commit in commits.iter() {
            let mut book = Book {
                out: &mut book_rows,
                seq,
            };
            book.state(&commit.state);
            for (source, (events, dead)) in &commit.progress {
                let key = (source.to_string(), String::new());
                book.put(
                    "progress",
                    key,
                    String::new(),
                    (*events as i64, *dead as i64),
                );
            }
            for (source, state) in &commit.states {
                let key = (source.to_string(), String::new());
                book.put("reading", key, hex::encode(state), (0, 0));
            }
            seq += 1;
        }
        self.client.insert("alerts", &rows)?;
        self.client.insert("dead_letters", &dead)?;
        self.client.insert_whole("ingest_state", &book_rows)?;
        let ledger = self.ledger()?;
        ledger.seq = seq;
        for commit in commits.iter_mut() {
            for (source, (events, dead)) in &commit.progress {
                if let Some(k) = ledger.sources.iter_mut().find(|k| k.source.id == *source) {
                    (k.source.events, k.source.dead) = (*events, *dead);
                }
            }
            for (source, state) in std::mem::take(&mut commit.states) {
                if let Some(k) = ledger.sources.iter_mut().find(|k| k.source.id == source) {
                    k.source.state = Some(state);
                }
            }
            commit.state = SavedState::default();
            commit.events.clear();
            commit.dead.clear();
            commit.alerts.clear();
            commit.progress.clear();
        }
        Ok(done)
    }

    fn known_alerts(&self, ids: &[&str]) -> Result<HashSet<String>, StoreError> {
        self.stored_alerts(ids)
    }

    fn start_run(
        &mut self,
        command: &str,
        paths: &[String],
        rules: &[String],
    ) -> Result<i64, StoreError> {
        let id = self.after_latest("SELECT max(id) AS n FROM runs")?;
        self.run_row(&RunRow {
            id,
            command,
            paths: serde_json::to_string(paths).unwrap_or_default(),
            rules: serde_json::to_string(rules).unwrap_or_default(),
            started: id,
            finished: 0,
            events: 0,
            dead: 0,
            alerts: 0,
            version: 0,
        })?;
        Ok(id)
    }

    /// Writes the run's row again, finished (its newest version wins).
    fn finish_run(&mut self, id: i64, stored: &Committed) -> Result<(), StoreError> {
        #[derive(Deserialize)]
        struct Started {
            command: String,
            paths: String,
            rules: String,
        }
        let rows: Vec<Started> = self.client.rows(&format!(
            "SELECT command, paths, rules FROM runs WHERE id = {id} LIMIT 1"
        ))?;
        let Some(run) = rows.into_iter().next() else {
            return Err(StoreError(format!("no run {id} to finish")));
        };
        self.run_row(&RunRow {
            id,
            command: &run.command,
            paths: run.paths,
            rules: run.rules,
            started: id,
            finished: Timestamp::now().as_microsecond(),
            events: stored.events,
            dead: stored.dead,
            alerts: stored.alerts,
            version: 1,
        })
    }
}

impl ClickHouse {
    fn run_row(&self, row: &RunRow<'_>) -> Result<(), StoreError> {
        let mut out = serde_json::to_vec(row).map_err(|e| StoreError(e.to_string()))?;
        out.push(b'\n');
        self.client.insert("runs", &out)
    }
}
