//! One partition as its owner works it: the work messages read from the
//! partition's subject, held by their place in the events stream, and
//! taken in that order once every event up to that place is known to be
//! shared out (the events consumer's acknowledgement floor: a worker
//! acknowledges an event only after its shares are stored). So the
//! partition's state sees its matches in input order, whichever workers
//! read the events and however often one was delivered again, and gives
//! the alerts one process gives.
//!
//! The state is saved in the cluster: the whole of it as an object (a new
//! name each time) and a head in a key-value bucket naming it, with how
//! far the partition was taken and where its unread work starts, written
//! at the revision last written, so that a worker that lost the
//! partition cannot overwrite what the new owner saved. The new owner
//! restores the state and reads the work again from where it starts.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, kv, object_store};
use futures_util::StreamExt;
use rampart_detect::{Alert, Placements, SavedState};
use rampart_engine::{Engine, Owned};
use rampart_event::Event;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use super::lease::key_of;
use super::wire::{self, Item};
use crate::snapshot::Snapshot;

/// Work messages fetched at a time.
const FETCH: usize = 256;

/// The rate a partition's saves may write its state at, at most, in
/// bytes a second: a state of 8 MB is saved every second, one of 80 MB
/// every ten (each save writes it whole).
const SAVE_RATE: f64 = 8e6;

/// What the bucket keeps of a partition.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Head {
    /// How many times the state was saved.
    pub generation: u64,
    /// The object holding the state: named by the partition, the
    /// generation and the worker that saved it, so that a worker that lost
    /// the partition without knowing yet never writes over the object of
    /// the one that took it over.
    pub object: String,
    /// Events of the events stream taken, up to this sequence.
    pub through: u64,
    /// Where in the work stream the partition's unread work starts.
    pub read_from: u64,
    /// Whether the open windows were closed at `through` (the end of the
    /// input of a run with `--once`).
    pub closed: bool,
}

/// Where a cluster keeps partitions' state.
pub struct Places {
    /// The cluster's JetStream.
    pub js: jetstream::Context,
    /// Each partition's head.
    pub heads: kv::Store,
    /// Each partition's state, whole.
    pub objects: object_store::ObjectStore,
    /// The work stream.
    pub work: jetstream::stream::Stream,
    /// The work subject's prefix (`<name>.work.`).
    pub prefix: String,
    /// This worker's name.
    pub worker: String,
}

impl Places {
    /// The head of partition `p` and its revision (0: none yet).
    pub async fn head(&self, p: usize) -> Result<(Head, u64), String> {
        match self.heads.entry(key_of(p)).await {
            Ok(Some(e)) if e.operation == kv::Operation::Put => {
                let head = serde_json::from_slice(&e.value)
                    .map_err(|err| format!("partition {p}: its head does not read: {err}"))?;
                Ok((head, e.revision))
            }
            Ok(_) => Ok((Head::default(), 0)),
            Err(e) => Err(format!("partition {p}: {e}")),
        }
    }
}

/// A partition owned by this worker.
pub struct Partition {
    index: usize,
    owned: Owned,
    snapshot: Snapshot,
    head: Head,
    revision: u64,
    /// Items not yet taken, by their place in the events stream, with the
    /// work message that brought each.
    waiting: BTreeMap<u64, (u64, Item)>,
    /// The last work message read.
    read: u64,
    reader: Option<consumer::PullConsumer>,
    /// Whether anything changed since the state was last saved.
    dirty: bool,
    /// When the state was last saved, and its size then.
    saved: (std::time::Instant, usize),
    /// Work that could not be taken, said once.
    pub trouble: Option<String>,
}

impl Partition {
    /// Takes partition `p` over: its saved state restored.
    pub async fn open(p: usize, places: &Places, engine: &Engine) -> Result<Partition, String> {
        let (head, revision) = places.head(p).await?;
        let mut owned = engine.owned();
        let mut snapshot = Snapshot::default();
        if revision > 0 && !head.object.is_empty() {
            let name = head.object.clone();
            let mut object = places
                .objects
                .get(&name)
                .await
                .map_err(|e| format!("partition {p}: state {name}: {e}"))?;
            let mut bytes = Vec::new();
            object
                .read_to_end(&mut bytes)
                .await
                .map_err(|e| format!("partition {p}: state {name}: {e}"))?;
            let saved: SavedState = postcard::from_bytes(&bytes)
                .map_err(|e| format!("partition {p}: state {name} does not read: {e}"))?;
            owned
                .restore(&saved)
                .map_err(|e| format!("partition {p}: {e}"))?;
            snapshot.apply(&saved);
        }
        // What the restore carried needs no saving again.
        let _ = owned.changes();
        Ok(Partition {
            index: p,
            owned,
            snapshot,
            read: head.read_from.saturating_sub(1),
            head,
            revision,
            waiting: BTreeMap::new(),
            reader: None,
            dirty: false,
            saved: (std::time::Instant::now(), 0),
            trouble: None,
        })
    }

    /// The partition's number.
    pub fn index(&self) -> usize {
        self.index
    }

    /// How far the events stream has been taken.
    pub fn through(&self) -> u64 {
        self.head.through
    }

    /// Whether the open windows were closed where it stands.
    pub fn closed(&self) -> bool {
        self.head.closed
    }

    /// Forgets the work reader (after a failure): the next read makes a
    /// new one from where reading stands.
    pub fn drop_reader(&mut self) {
        self.reader = None;
    }

    /// Reads the work published so far.
    pub async fn read(&mut self, places: &Places, rules: u64) -> Result<(), String> {
        loop {
            if self.reader.is_none() {
                let config = consumer::pull::Config {
                    filter_subject: format!("{}{:02}", places.prefix, self.index),
                    deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                        start_sequence: self.read + 1,
                    },
                    ack_policy: consumer::AckPolicy::None,
                    inactive_threshold: Duration::from_secs(60),
                    ..Default::default()
                };
                let reader = places
                    .work
                    .create_consumer(config)
                    .await
                    .map_err(|e| format!("partition {}: work reader: {e}", self.index))?;
                self.reader = Some(reader);
            }
            let reader = self.reader.as_ref().expect("just made");
            let batch = reader.fetch().max_messages(FETCH).messages().await;
            let mut batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    self.reader = None;
                    return Err(format!("partition {}: work: {e}", self.index));
                }
            };
            let mut got = 0;
            let mut pending = 0;
            while let Some(m) = batch.next().await {
                let m = match m {
                    Ok(m) => m,
                    Err(e) => {
                        self.reader = None;
                        return Err(format!("partition {}: work: {e}", self.index));
                    }
                };
                let Ok(info) = m.info() else { continue };
                let at = info.stream_sequence;
                pending = info.pending;
                got += 1;
                if at <= self.read {
                    continue;
                }
                self.read = at;
                match wire::decode(&m.payload) {
                    Ok(work) if work.rules != rules => {
                        self.trouble.get_or_insert_with(|| {
                            "work from a worker running other rules is left out".into()
                        });
                    }
                    Ok(work) => {
                        for item in work.items {
                            if item.seq >= wire::place(self.head.through + 1, 0) {
                                self.waiting.entry(item.seq).or_insert((at, item));
                            }
                        }
                    }
                    Err(e) => {
                        self.trouble.get_or_insert(e);
                    }
                }
            }
            if got == 0 || pending == 0 {
                return Ok(());
            }
        }
    }

    /// Takes the waiting work up to `floor`, in order; returns the alerts.
    pub fn take(&mut self, floor: u64, pool: Option<&rayon::ThreadPool>) -> Vec<Alert> {
        if floor <= self.head.through {
            return Vec::new();
        }
        let later = self.waiting.split_off(&wire::place(floor + 1, 0));
        let ready = std::mem::replace(&mut self.waiting, later);
        self.head.through = floor;
        self.head.closed = false;
        self.dirty = true;
        let mut events = Vec::with_capacity(ready.len());
        let mut placed = Placements::default();
        let mut folded = Vec::new();
        for (_, (_, item)) in ready {
            let event = match Event::from_ecs_json(&item.event) {
                Ok(e) => e,
                Err(e) => {
                    self.trouble
                        .get_or_insert_with(|| format!("an event of the work: {e}"));
                    continue;
                }
            };
            let at = events.len();
            events.push(event);
            for c in &item.placed {
                if self.owned.accepts(c) {
                    placed.push_carried(at, c);
                } else {
                    self.trouble
                        .get_or_insert_with(|| "a placement names no correlation here".into());
                }
            }
            for bytes in &item.folded {
                match Alert::from_bytes(bytes) {
                    Ok(a) => folded.push(a),
                    Err(e) => {
                        self.trouble.get_or_insert(e);
                    }
                }
            }
        }
        self.owned.take(&events, &placed, folded, pool)
    }

    /// Closes the open windows where the partition stands (the end of the
    /// input); returns their alerts.
    pub fn close(&mut self) -> Vec<Alert> {
        self.head.closed = true;
        self.dirty = true;
        self.owned.finish()
    }

    /// Whether a save is due: the last one is older than its size allows
    /// at [`SAVE_RATE`].
    pub fn save_due(&self) -> bool {
        let (at, bytes) = self.saved;
        at.elapsed().as_secs_f64() >= bytes as f64 / SAVE_RATE
    }

    /// Saves the state when it changed; `false` when another worker took
    /// the partition over meanwhile.
    pub async fn save(&mut self, places: &Places) -> Result<bool, String> {
        if !self.dirty {
            return Ok(true);
        }
        let p = self.index;
        let changes = self.owned.changes();
        self.snapshot.apply(&changes);
        let bytes = postcard::to_stdvec(&self.snapshot.whole())
            .map_err(|e| format!("partition {p}: {e}"))?;
        let mut head = self.head.clone();
        head.generation += 1;
        head.read_from = self
            .waiting
            .values()
            .map(|(at, _)| *at)
            .min()
            .unwrap_or(self.read + 1);
        let name = format!("{}-{}-{}", key_of(p), head.generation, places.worker);
        head.object = name.clone();
        places
            .objects
            .put(name.as_str(), &mut bytes.as_slice())
            .await
            .map_err(|e| format!("partition {p}: state {name}: {e}"))?;
        let value = serde_json::to_vec(&head).expect("plain data").into();
        let written = if self.revision == 0 {
            places
                .heads
                .create(key_of(p), value)
                .await
                .map_err(|e| e.to_string())
        } else {
            places
                .heads
                .update(key_of(p), value, self.revision)
                .await
                .map_err(|e| e.to_string())
        };
        let Ok(revision) = written else {
            let _ = places.objects.delete(&name).await;
            return Ok(false);
        };
        if !self.head.object.is_empty() {
            let _ = places.objects.delete(&self.head.object).await;
        }
        // The work before where the unread starts is done with.
        if head.read_from > 1 {
            let _ = places
                .work
                .purge()
                .filter(format!("{}{p:02}", places.prefix))
                .sequence(head.read_from)
                .await;
        }
        self.head = head;
        self.revision = revision;
        self.dirty = false;
        self.saved = (std::time::Instant::now(), bytes.len());
        Ok(true)
    }
}
