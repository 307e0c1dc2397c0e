//! What reading hands its consumer: batches of events with the work done on
//! them, and a report per finished file.

use std::path::PathBuf;

use rampart_event::Event;
use rampart_parse::{DeadLetter, FileStats};

/// What happened to one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The file's position among the inputs.
    pub index: usize,
    /// The file.
    pub path: PathBuf,
    /// The rotated set it belongs to, if any.
    pub rotated_set: Option<String>,
    /// The format used, when one was found.
    pub format: Option<&'static str>,
    /// Events, unparsed lines and quality counts.
    pub stats: FileStats,
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// Lines read.
    pub lines: u64,
    /// Why the file could not be read, or stopped being read.
    pub error: Option<String>,
}

/// What the consumer receives, in input order. `T` is what the per-batch
/// work (run on the worker threads) made of the batch.
#[derive(Debug)]
pub enum Message<T = ()> {
    /// Events and refused lines of the file at `index`, in file order.
    Batch {
        /// The file's position among the inputs.
        index: usize,
        /// Parsed events.
        events: Vec<Event>,
        /// Lines nothing could read.
        dead: Vec<DeadLetter>,
        /// The work's result for these events.
        work: T,
    },
    /// The file is finished.
    Done(FileReport),
}

/// Per-batch work done on the worker threads (enrichment and rule
/// evaluation, say), so the consumer only collects results. The work may
/// add fields to the events before they are handed on.
pub type Work<'a, T> = &'a (dyn Fn(&mut [Event]) -> T + Sync);
