//! The per-batch work (enrichment, rules) of one file run on rayon's pool
//! while the file's reading thread goes on parsing, the results handed to
//! the consumer in file order.
//!
//! Parsing a file stays on one thread, since a parser carries state from
//! line to line (the detected format, a CSV header, the year of syslog
//! lines, records that span lines), but the work on the batches it makes,
//! often as costly as parsing, spreads over every core. At most
//! `2 × threads` batches are in flight, so memory stays bounded.

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{channel, Receiver, Sender, SyncSender};
use std::thread;

use rampart_event::Event;
use rampart_parse::{DeadLetter, Output};

use crate::parallel::{Message, Work};

type Done<T> = (u64, thread::Result<Message<T>>);

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
    early: BTreeMap<u64, thread::Result<Message<T>>>,
    started: u64,
    forwarded: u64,
    limit: u64,
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
            started: 0,
            forwarded: 0,
            limit: 2 * threads.max(1) as u64,
        }
    }

    /// Hands on what `out` holds, once worked on.
    pub(crate) fn send(&mut self, out: &mut Output) {
        let (events, dead) = out.take();
        if events.is_empty() && dead.is_empty() {
            return;
        }
        let Some(pool) = self.pool else {
            let _ = self.out.send(batch(self.index, self.work, events, dead));
            return;
        };
        while self.started - self.forwarded >= self.limit {
            self.forward_next();
        }
        let (seq, index, work, tx) = (self.started, self.index, self.work, self.done_tx.clone());
        self.started += 1;
        pool.spawn(move |_| {
            // A panic is carried to the reading thread, not lost in the pool.
            let done = panic::catch_unwind(AssertUnwindSafe(|| batch(index, work, events, dead)));
            let _ = tx.send((seq, done));
        });
    }

    /// Waits for every batch in flight and hands them on.
    pub(crate) fn finish(&mut self) {
        while self.forwarded < self.started {
            self.forward_next();
        }
    }

    fn forward_next(&mut self) {
        loop {
            if let Some(done) = self.early.remove(&self.forwarded) {
                self.forwarded += 1;
                let message = done.unwrap_or_else(|e| panic::resume_unwind(e));
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
