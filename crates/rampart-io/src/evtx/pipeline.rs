//! Chunks decoded on rayon's pool while the reading thread hands on the
//! ones done, in file order. At most `2 * threads` chunks are in flight,
//! so memory stays bounded however large the file is, and decoding goes on
//! while the reading thread's consumer runs rules on the events it has.

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread;

/// `job` applied to every item of `items`, in order; on the calling thread
/// when `threads` is 1.
pub struct Ordered<I: Iterator, P, F> {
    items: I,
    job: Arc<F>,
    threads: usize,
    tx: Sender<(u64, thread::Result<P>)>,
    rx: Receiver<(u64, thread::Result<P>)>,
    /// Results that came back before their turn.
    early: BTreeMap<u64, thread::Result<P>>,
    sent: u64,
    next: u64,
    exhausted: bool,
}

impl<I, P, F> Ordered<I, P, F>
where
    I: Iterator,
    I::Item: Send + 'static,
    P: Send + 'static,
    F: Fn(I::Item) -> P + Send + Sync + 'static,
{
    pub fn new(items: I, threads: usize, job: F) -> Self {
        let (tx, rx) = channel();
        Ordered {
            items,
            job: Arc::new(job),
            threads: threads.max(1),
            tx,
            rx,
            early: BTreeMap::new(),
            sent: 0,
            next: 0,
            exhausted: false,
        }
    }

    /// Starts jobs until `2 * threads` are in flight or items run out.
    fn fill(&mut self) {
        while !self.exhausted && self.sent - self.next < 2 * self.threads as u64 {
            let Some(item) = self.items.next() else {
                self.exhausted = true;
                return;
            };
            let (seq, job, tx) = (self.sent, Arc::clone(&self.job), self.tx.clone());
            self.sent += 1;
            rayon::spawn(move || {
                // A panic is carried to the reading thread, not lost in
                // the pool. The receiver is gone if reading stopped early.
                let _ = tx.send((seq, panic::catch_unwind(AssertUnwindSafe(|| job(item)))));
            });
        }
    }
}

impl<I, P, F> Iterator for Ordered<I, P, F>
where
    I: Iterator,
    I::Item: Send + 'static,
    P: Send + 'static,
    F: Fn(I::Item) -> P + Send + Sync + 'static,
{
    type Item = P;

    fn next(&mut self) -> Option<P> {
        if self.threads == 1 {
            return self.items.next().map(|item| (self.job)(item));
        }
        self.fill();
        loop {
            if let Some(done) = self.early.remove(&self.next) {
                self.next += 1;
                self.fill();
                return Some(done.unwrap_or_else(|e| panic::resume_unwind(e)));
            }
            if self.next == self.sent {
                return None;
            }
            // `self` holds a sender, so the channel never closes.
            let (seq, done) = self.rx.recv().expect("the reader holds a sender");
            self.early.insert(seq, done);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_whatever_order_jobs_end_in() {
        let slow_first = |i: u64| {
            thread::sleep(std::time::Duration::from_millis((20 - i % 20) / 4));
            i * 10
        };
        for threads in [1, 2, 4] {
            let got: Vec<u64> = Ordered::new(0..50u64, threads, slow_first).collect();
            assert_eq!(got, (0..50).map(|i| i * 10).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_panicking_job_panics_the_reader() {
        let result = panic::catch_unwind(|| {
            Ordered::new(0..8u32, 2, |i| assert!(i != 5, "job {i} failed")).count()
        });
        assert!(result.is_err());
    }
}
