//! File sources: files and folders read, and followed, by a thread of
//! their own, as `ingest --follow` reads them. Each file is known by its
//! first bytes (a renamed or rotated file is the same file) and read on
//! from where the store left it; the store keeps how far, in the same
//! transaction as the events, so a pipeline killed at any moment goes on
//! from its last commit without losing or repeating a line. Every second
//! the files that changed (size or time) are read again from where this
//! run left them; a followed file's half-written last line waits for its
//! end.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rampart_engine::files::{is_own, own_files, place, seen_now, Seen};
use rampart_io::{discover, read_files_on, Input, Message, ReadOptions, Resume};
use rampart_store::Store;

use crate::arrival::Arrival;

/// How often followed files are looked at.
const EVERY: Duration = Duration::from_secs(1);

/// A file source's settings.
#[derive(Debug, Clone)]
pub struct Tail {
    /// Files and folders (walked recursively).
    pub paths: Vec<PathBuf>,
    /// Whether to keep reading as they grow (else read once and end).
    pub follow: bool,
    /// The store that keeps how far each file was read.
    pub db: PathBuf,
}

/// Starts file source `index` on its own thread.
pub fn start(
    index: usize,
    tail: Tail,
    tx: SyncSender<Arrival>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("rampart-source-{index}"))
        .spawn(move || {
            read(index, &tail, &tx, &stop);
            let _ = tx.send(Arrival::Ended(index));
        })
}

fn read(index: usize, tail: &Tail, tx: &SyncSender<Arrival>, stop: &AtomicBool) {
    let trouble = |why: String| {
        let _ = tx.send(Arrival::Trouble(index, why));
    };
    // A connection of its own, to learn where each file was left.
    let mut store = match Store::open(&tail.db) {
        Ok(store) => store,
        Err(e) => return trouble(format!("cannot open the database: {e}")),
    };
    let own = own_files(&tail.db);
    let options = ReadOptions {
        threads: 1,
        hold_partial_line: tail.follow,
        ..ReadOptions::default()
    };
    let mut known: HashMap<PathBuf, Seen> = HashMap::new();
    // How much of each file (by its source) this run has handed on: ahead
    // of what the store has committed.
    let mut handed: HashMap<i64, Resume> = HashMap::new();
    loop {
        let started = Instant::now();
        let (mut found, missing) = discover(&tail.paths);
        for (path, why) in missing {
            trouble(format!("{}: {why}", path.display()));
        }
        found.retain(|input| !is_own(&own, &input.path));
        let (changed, now): (Vec<Input>, Vec<Seen>) = found
            .into_iter()
            .filter_map(|input| {
                let seen = seen_now(&input.path)?;
                (known.get(&input.path) != Some(&seen)).then_some((input, seen))
            })
            .unzip();
        if !changed.is_empty() {
            for (input, seen) in changed.iter().zip(now) {
                known.insert(input.path.clone(), seen);
            }
            let mut placed = match place(&mut store, changed) {
                Ok(placed) => placed,
                Err(e) => {
                    trouble(format!("cannot place the files: {e}"));
                    return;
                }
            };
            for why in placed.unreadable.drain(..) {
                trouble(why);
            }
            for (input, source) in placed.inputs.iter_mut().zip(&placed.sources) {
                if let Some(r) = handed.get(&source.id) {
                    if r.events >= input.resume.events {
                        input.resume = *r;
                    }
                }
            }
            // The store sink places events by their input's path: each file
            // is named there with its source too, so that a new file under
            // a rotated one's name is not taken for it.
            let inputs: Vec<Arc<Input>> = placed
                .inputs
                .iter()
                .zip(&placed.sources)
                .map(|(input, source)| {
                    let mut keyed = input.clone();
                    keyed.path = PathBuf::from(format!("{}#{}", input.path.display(), source.id));
                    Arc::new(keyed)
                })
                .collect();
            read_files_on(None, &placed.inputs, &options, &|_| (), |message| {
                if let Message::Batch {
                    index: i,
                    events,
                    dead,
                    ..
                } = message
                {
                    let source = &placed.sources[i];
                    let r = handed.entry(source.id).or_insert(placed.inputs[i].resume);
                    r.events += events.len() as u64;
                    r.dead += dead.len() as u64;
                    let _ = tx.send(Arrival::Read {
                        source: index,
                        input: Arc::clone(&inputs[i]),
                        place: source.clone(),
                        events,
                        dead,
                        state: None,
                    });
                }
            });
        }
        if !tail.follow {
            return;
        }
        while started.elapsed() < EVERY {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
