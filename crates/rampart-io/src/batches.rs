//! The per-batch work (enrichment, rules) of one file run on rayon's pool
//! while the file's reading thread goes on reading, the results handed to
//! the consumer in file order.
//!
//! A parser may carry state from line to line (the detected format, a CSV
//! header, the year of syslog lines, records that span lines), so parsing
//! stays on the reading thread, and only the work on the batches it makes
//! spreads over the cores. Once a file's format is known to keep no such
//! state, its lines go to the pool in blocks, each parsed by a decoder of
//! its own, so that one large file keeps every core busy. At most
//! `2 × threads` batches are in flight, so memory stays bounded.

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{channel, Receiver, Sender, SyncSender};
use std::thread;

use rampart_event::Event;
use rampart_parse::{DeadLetter, FileContext, FileDecoder, FileStats, Format, Line, Output};

use crate::discover::Resume;
use crate::message::{Message, Work};

/// Batches smaller than this are worked on by the reading thread when no
/// other batch of the file is in flight.
const SMALL_BATCH: usize = 64;

/// A batch handed on, and the counts of the block it was parsed from.
type Done<T> = (u64, thread::Result<(Message<T>, FileStats)>);

/// Lines of a file, copied out of the reader's buffer to be parsed apart.
#[derive(Debug, Default)]
pub(crate) struct LineBlock {
    text: Vec<u8>,
    /// Number, start and end in `text`, and full length of each line.
    lines: Vec<(u64, usize, usize, usize)>,
}

impl LineBlock {
    /// An empty block with room for as much as `like` holds.
    pub(crate) fn like(like: &LineBlock) -> LineBlock {
        LineBlock {
            text: Vec::with_capacity(like.text.len()),
            lines: Vec::with_capacity(like.lines.len()),
        }
    }

    pub(crate) fn push(&mut self, line: Line<'_>) {
        let start = self.text.len();
        self.text.extend_from_slice(line.bytes);
        self.lines.push((line.no, start, self.text.len(), line.len));
    }

    pub(crate) fn len(&self) -> usize {
        self.lines.len()
    }

    /// Parses the block as `format` with a decoder of its own.
    fn decode(&self, ctx: FileContext, format: &'static Format) -> Output {
        let mut decoder = FileDecoder::new(ctx, Some(format));
        decoder.output().events.reserve(self.lines.len());
        for &(no, start, end, len) in &self.lines {
            decoder.feed(Line {
                no,
                bytes: &self.text[start..end],
                len,
            });
        }
        decoder.finish();
        std::mem::take(decoder.output())
    }
}

/// Where one file's batches go: to the pool and on to the consumer, in
/// order; or, with one thread, worked on and sent at once.
pub(crate) struct Batches<'s, 'scope, 'w: 'scope, T: 'scope> {
    index: usize,
    work: Work<'w, T>,
    pool: Option<&'s rayon::Scope<'scope>>,
    out: &'s SyncSender<Message<T>>,
    done_tx: Sender<Done<T>>,
    done_rx: Receiver<Done<T>>,
    /// Results that came back before their turn.
    early: BTreeMap<u64, thread::Result<(Message<T>, FileStats)>>,
    /// The counts of the blocks parsed on the pool, as they were handed on.
    block_stats: FileStats,
    started: u64,
    forwarded: u64,
    limit: u64,
    /// What is still to be passed over of what an earlier run read.
    skip: Resume,
}

impl<'s, 'scope, 'w: 'scope, T: Send + 'scope> Batches<'s, 'scope, 'w, T> {
    /// Batches of the file at `index`; `pool` is `None` to work on the
    /// reading thread.
    pub(crate) fn new(
        index: usize,
        work: Work<'w, T>,
        pool: Option<&'s rayon::Scope<'scope>>,
        threads: usize,
        out: &'s SyncSender<Message<T>>,
        skip: Resume,
    ) -> Self {
        let (done_tx, done_rx) = channel();
        Batches {
            index,
            work,
            pool,
            out,
            done_tx,
            done_rx,
            early: BTreeMap::new(),
            block_stats: FileStats::default(),
            started: 0,
            forwarded: 0,
            limit: 2 * threads.max(1) as u64,
            skip,
        }
    }

    /// Hands on what `out` holds, once worked on.
    pub(crate) fn send(&mut self, out: &mut Output) {
        let (mut events, mut dead) = out.take();
        pass_over(&mut events, &mut self.skip.events);
        pass_over(&mut dead, &mut self.skip.dead);
        if events.is_empty() && dead.is_empty() {
            return;
        }
        // A small batch with nothing ahead of it (a small file, say) is
        // worked on here: handing it to the pool costs more than the work.
        let small = events.len() < SMALL_BATCH && self.started == self.forwarded;
        let Some(pool) = self.pool.filter(|_| !small) else {
            let _ = self.out.send(batch(self.index, self.work, events, dead));
            return;
        };
        let (index, work) = (self.index, self.work);
        self.spawn(pool, move || {
            (batch(index, work, events, dead), FileStats::default())
        });
    }

    /// Whether blocks of lines can be parsed on the pool: not while what
    /// an earlier run read is being passed over, which needs the count of
    /// what came before.
    pub(crate) fn parallel(&self) -> bool {
        self.pool.is_some() && self.skip == Resume::default()
    }

    /// Parses `block` as `format` on the pool, works on its events and
    /// hands them on in their turn.
    pub(crate) fn send_block(
        &mut self,
        block: LineBlock,
        ctx: &FileContext,
        format: &'static Format,
    ) {
        let Some(pool) = self.pool else {
            return;
        };
        let (index, work, ctx) = (self.index, self.work, ctx.clone());
        self.spawn(pool, move || {
            let mut out = block.decode(ctx, format);
            let (events, dead) = out.take();
            (batch(index, work, events, dead), out.stats)
        });
    }

    fn spawn(
        &mut self,
        pool: &'s rayon::Scope<'scope>,
        job: impl FnOnce() -> (Message<T>, FileStats) + Send + 'scope,
    ) {
        while self.started - self.forwarded >= self.limit {
            self.forward_next();
        }
        let (seq, tx) = (self.started, self.done_tx.clone());
        self.started += 1;
        pool.spawn(move |_| {
            // A panic is carried to the reading thread, not lost in the pool.
            let done = panic::catch_unwind(AssertUnwindSafe(job));
            let _ = tx.send((seq, done));
        });
    }

    /// Waits for every batch in flight and hands them on; returns the
    /// counts of the blocks parsed on the pool.
    pub(crate) fn finish(mut self) -> FileStats {
        while self.forwarded < self.started {
            self.forward_next();
        }
        self.block_stats
    }

    fn forward_next(&mut self) {
        loop {
            if let Some(done) = self.early.remove(&self.forwarded) {
                self.forwarded += 1;
                let (message, stats) = done.unwrap_or_else(|e| panic::resume_unwind(e));
                self.block_stats.merge(&stats);
                // The consumer is gone only if reading stopped early.
                let _ = self.out.send(message);
                return;
            }
            // `self` holds a sender, so the channel never closes.
            let (seq, done) = self.done_rx.recv().expect("the reader holds a sender");
            self.early.insert(seq, done);
        }
    }
}

/// Drops the first `*left` items of `items` (all if fewer) and counts them off.
fn pass_over<I>(items: &mut Vec<I>, left: &mut u64) {
    let n = items
        .len()
        .min(usize::try_from(*left).unwrap_or(usize::MAX));
    items.drain(..n);
    *left -= n as u64;
}

fn batch<T>(
    index: usize,
    work: Work<'_, T>,
    mut events: Vec<Event>,
    dead: Vec<DeadLetter>,
) -> Message<T> {
    let work = work(&mut events);
    Message::Batch {
        index,
        events,
        dead,
        work,
    }
}
