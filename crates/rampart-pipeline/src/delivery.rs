//! Delivery to a network destination, on a thread of its own: records
//! wait in the sink's buffer (in memory, or on disk where they survive a
//! restart) until the destination takes them; a failure is retried with
//! a growing pause, and said once per outage. When the buffer is full,
//! handing on a record waits: the pressure reaches the engine and the
//! sources instead of memory growing.
//!
//! Records are sent at least once: a batch that failed part way is sent
//! again whole, and records on disk that were sent but not yet marked
//! taken when the process died are sent again by the next run.

use std::collections::VecDeque;
use std::io;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::metrics::{add, SinkCounts};
use crate::queue::DiskQueue;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Records handed to the thread at a time.
const BUNDLE: usize = 256;
/// Records sent to the destination at a time, at most, unless its
/// transport says otherwise ([`Transport::batch`]).
const SEND: usize = 512;
/// The longest pause between attempts.
const MAX_PAUSE: Duration = Duration::from_secs(30);
const FIRST_PAUSE: Duration = Duration::from_millis(100);

/// Where a destination's records wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Buffer {
    /// In memory; lost if the process dies.
    Memory {
        /// Records held, at most.
        max_records: usize,
    },
    /// On disk; kept across runs.
    Disk {
        /// The folder of the queue's files.
        dir: PathBuf,
        /// Bytes held, at most.
        max_bytes: u64,
    },
    /// In memory while the destination keeps up, spilled to disk when it
    /// falls behind (more than `max_records` wait), before a store commit
    /// and at the end of the run; kept across runs like a disk buffer,
    /// without writing what is delivered at once.
    Spill {
        /// Records held in memory, at most.
        max_records: usize,
        /// The folder of the queue's files.
        dir: PathBuf,
        /// Bytes held on disk, at most.
        max_bytes: u64,
    },
}

impl Default for Buffer {
    fn default() -> Buffer {
        Buffer::Memory {
            max_records: 10_000,
        }
    }
}

/// A failed send: how many of the first records the destination is known
/// to have taken (they are not sent again), and why the rest failed.
#[derive(Debug)]
pub struct Failed {
    /// Records taken, from the first.
    pub taken: usize,
    /// What went wrong.
    pub why: io::Error,
}

impl From<io::Error> for Failed {
    /// A failure that tells nothing of what was taken.
    fn from(why: io::Error) -> Failed {
        Failed { taken: 0, why }
    }
}

/// Sends records to a destination.
pub trait Transport: Send {
    /// Sends every record of `records`, in order; on failure, says how
    /// many of the first were taken for sure.
    fn send(&mut self, records: &[Vec<u8>]) -> Result<(), Failed>;

    /// The most records one send takes.
    fn batch(&self) -> usize {
        SEND
    }
}

/// What a delivery did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    /// Records the destination took.
    pub sent: u64,
    /// Attempts that failed (each retried).
    pub failures: u64,
    /// Records still waiting at the end: on disk, for the next run; in
    /// memory, lost.
    pub left: u64,
    /// Whether the records left wait on disk.
    pub kept: bool,
}

/// The records waiting, in memory or on disk.
enum Waiting {
    Memory(VecDeque<Vec<u8>>, usize),
    Disk(Box<DiskQueue>),
    /// Memory and disk, at most one of them holding records at a time, so
    /// that the order stays: records spill to disk whole, and go to memory
    /// again once the disk is empty.
    Spill(VecDeque<Vec<u8>>, usize, Box<DiskQueue>),
}

impl Waiting {
    fn has_room(&self, more: &[Vec<u8>]) -> bool {
        let bytes = |more: &[Vec<u8>]| more.iter().map(|r| r.len() as u64 + 8).sum();
        match self {
            Waiting::Memory(q, max) => q.len() + more.len() <= *max || q.is_empty(),
            Waiting::Disk(q) => q.has_room(bytes(more)),
            Waiting::Spill(m, max, d) => {
                (d.is_empty() && m.len() + more.len() <= *max)
                    || d.has_room(bytes(more) + m.iter().map(|r| r.len() as u64 + 8).sum::<u64>())
            }
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Waiting::Memory(q, _) => q.is_empty(),
            Waiting::Disk(q) => q.is_empty(),
            Waiting::Spill(m, _, d) => m.is_empty() && d.is_empty(),
        }
    }

    fn push(&mut self, records: Vec<Vec<u8>>) -> io::Result<()> {
        match self {
            Waiting::Memory(q, _) => {
                q.extend(records);
                Ok(())
            }
            Waiting::Disk(q) => q.push(&records),
            Waiting::Spill(m, max, d) => {
                if d.is_empty() && m.len() + records.len() <= *max {
                    m.extend(records);
                    return Ok(());
                }
                // Behind: what memory holds goes to disk first, then these.
                let held: Vec<Vec<u8>> = m.drain(..).collect();
                d.push(&held)?;
                d.push(&records)
            }
        }
    }

    /// Puts what memory holds on disk (a spill buffer), where a crash
    /// cannot lose it.
    fn spill(&mut self) -> io::Result<()> {
        if let Waiting::Spill(m, _, d) = self {
            if !m.is_empty() {
                let held: Vec<Vec<u8>> = m.drain(..).collect();
                d.push(&held)?;
            }
        }
        Ok(())
    }

    /// Sends the oldest records: how many went, or, when sending failed,
    /// how many went before it and why.
    fn send_some(&mut self, transport: &mut dyn Transport) -> Result<usize, Failed> {
        match self {
            Waiting::Memory(q, _) => send_memory(q, transport),
            Waiting::Disk(q) => send_disk(q, transport),
            Waiting::Spill(m, ..) if !m.is_empty() => send_memory(m, transport),
            Waiting::Spill(_, _, d) => send_disk(d, transport),
        }
    }

    fn left(&mut self) -> u64 {
        // A spill buffer's memory goes to disk: it waits for the next run.
        if self.spill().is_err() {
            if let Waiting::Spill(m, ..) = self {
                return m.len() as u64;
            }
        }
        match self {
            Waiting::Memory(q, _) => q.len() as u64,
            // Counted without being taken: they stay for the next run.
            Waiting::Disk(q) | Waiting::Spill(_, _, q) => {
                q.peek(usize::MAX).map_or(0, |r| r.len() as u64)
            }
        }
    }
}

/// What the delivery thread is handed: records, or a request to say once
/// everything handed before is in its buffer.
enum Handed {
    Records(Vec<Vec<u8>>),
    /// Answered once every record before it is in the buffer.
    Sync(SyncSender<()>),
    /// Answered once every record before it is delivered.
    Settle(SyncSender<()>),
}

/// Sends the oldest records of a memory queue (see `Waiting::send_some`).
fn send_memory(q: &mut VecDeque<Vec<u8>>, transport: &mut dyn Transport) -> Result<usize, Failed> {
    let n = q.len().min(transport.batch());
    let batch: Vec<Vec<u8>> = q.iter().take(n).cloned().collect();
    let sent = transport.send(&batch);
    let taken = match &sent {
        Ok(()) => n,
        Err(f) => f.taken.min(n),
    };
    q.drain(..taken);
    sent.map(|()| n)
}

/// Sends the oldest records of a disk queue, marking those taken.
fn send_disk(q: &mut DiskQueue, transport: &mut dyn Transport) -> Result<usize, Failed> {
    let batch = q.peek(transport.batch())?;
    if batch.is_empty() {
        return Ok(0);
    }
    let (records, ends): (Vec<Vec<u8>>, Vec<_>) = batch.into_iter().unzip();
    let sent = transport.send(&records);
    let taken = match &sent {
        Ok(()) => records.len(),
        Err(f) => f.taken.min(records.len()),
    };
    if taken > 0 {
        q.ack(ends[taken - 1])?;
    }
    sent.map(|()| records.len())
}

/// A destination's delivery thread, and the records not yet handed to it.
pub struct Delivery {
    bundle: Vec<Vec<u8>>,
    tx: SyncSender<Handed>,
    thread: JoinHandle<Delivered>,
}

impl Delivery {
    /// Starts delivering to `transport` through `buffer`; `name` names the
    /// sink in what is said of outages; `drain` is how long the end of the
    /// run waits for a destination that takes nothing (one that takes
    /// records, however slowly, is given all of them).
    pub fn start(
        name: &str,
        mut transport: Box<dyn Transport>,
        buffer: &Buffer,
        (drain, counts): (Duration, Arc<SinkCounts>),
    ) -> io::Result<Delivery> {
        let mut waiting = match buffer {
            Buffer::Memory { max_records } => {
                Waiting::Memory(VecDeque::new(), (*max_records).max(1))
            }
            Buffer::Disk { dir, max_bytes } => {
                Waiting::Disk(Box::new(DiskQueue::open(dir, *max_bytes)?))
            }
            Buffer::Spill {
                max_records,
                dir,
                max_bytes,
            } => Waiting::Spill(
                VecDeque::new(),
                (*max_records).max(1),
                Box::new(DiskQueue::open(dir, *max_bytes)?),
            ),
        };
        let kept = matches!(buffer, Buffer::Disk { .. } | Buffer::Spill { .. });
        let (tx, rx) = sync_channel::<Handed>(4);
        let name = name.to_string();
        let thread = std::thread::Builder::new()
            .name(format!("rampart-deliver-{name}"))
            .spawn(move || {
                let mut done = Delivered {
                    kept,
                    ..Delivered::default()
                };
                let mut pause = FIRST_PAUSE;
                let mut next_try = Instant::now();
                let mut down = false;
                // Since when the run is ending, or the destination last took
                // records after that.
                let mut closing: Option<Instant> = None;
                let mut held: Option<Vec<Vec<u8>>> = None;
                let mut settling: Vec<SyncSender<()>> = Vec::new();
                loop {
                    if held.is_none() && waiting.is_empty() {
                        for done in settling.drain(..) {
                            let _ = done.send(());
                        }
                    }
                    // Take what comes while there is room; a bundle that
                    // does not fit waits, and so does the sender.
                    if let Some(bundle) = held.take() {
                        if waiting.has_room(&bundle) {
                            add(&counts.waiting, bundle.len() as u64);
                            if let Err(e) = waiting.push(bundle) {
                                eprintln!("sink `{name}`: cannot keep records on disk: {e}");
                            }
                        } else {
                            held = Some(bundle);
                        }
                    }
                    if held.is_none() && closing.is_none() {
                        let wait = if waiting.is_empty() {
                            Duration::from_millis(200)
                        } else {
                            next_try.saturating_duration_since(Instant::now())
                        };
                        match rx.recv_timeout(wait) {
                            Ok(Handed::Records(bundle)) => held = Some(bundle),
                            // Every bundle before it is in `waiting` (on
                            // disk, for a disk buffer) by now.
                            Ok(Handed::Sync(done)) => {
                                if let Err(e) = waiting.spill() {
                                    eprintln!("sink `{name}`: cannot keep records on disk: {e}");
                                }
                                let _ = done.send(());
                            }
                            Ok(Handed::Settle(done)) => settling.push(done),
                            Err(RecvTimeoutError::Timeout) => {}
                            Err(RecvTimeoutError::Disconnected) => closing = Some(Instant::now()),
                        }
                        if held.is_some() {
                            continue;
                        }
                    }
                    if !waiting.is_empty() && Instant::now() >= next_try {
                        match waiting.send_some(transport.as_mut()) {
                            Ok(n) => {
                                if closing.is_some() {
                                    closing = Some(Instant::now());
                                }
                                done.sent += n as u64;
                                add(&counts.delivered, n as u64);
                                counts.waiting.fetch_sub(n as u64, Ordering::Relaxed);
                                if down {
                                    eprintln!("sink `{name}`: delivering again");
                                    down = false;
                                }
                                pause = FIRST_PAUSE;
                            }
                            Err(Failed { taken, why }) => {
                                done.sent += taken as u64;
                                done.failures += 1;
                                add(&counts.delivered, taken as u64);
                                add(&counts.retries, 1);
                                counts.waiting.fetch_sub(taken as u64, Ordering::Relaxed);
                                if !down {
                                    eprintln!("sink `{name}`: cannot deliver ({why}); retrying");
                                    down = true;
                                }
                                next_try = Instant::now() + pause;
                                pause = (pause * 2).min(MAX_PAUSE);
                            }
                        }
                    } else if held.is_some() {
                        std::thread::sleep(next_try.saturating_duration_since(Instant::now()));
                    }
                    if let Some(since) = closing {
                        if held.is_none() && (waiting.is_empty() || since.elapsed() > drain) {
                            break;
                        }
                        if waiting.is_empty() {
                            continue;
                        }
                        std::thread::sleep(
                            next_try
                                .saturating_duration_since(Instant::now())
                                .min(Duration::from_millis(50)),
                        );
                    }
                }
                done.left = waiting.left();
                done
            })?;
        Ok(Delivery {
            bundle: Vec::with_capacity(BUNDLE),
            tx,
            thread,
        })
    }

    /// Hands on one record (waits while the buffer is full).
    pub fn push(&mut self, record: Vec<u8>) {
        self.bundle.push(record);
        if self.bundle.len() >= BUNDLE {
            self.flush();
        }
    }

    /// Hands on the records gathered so far.
    pub fn flush(&mut self) {
        if !self.bundle.is_empty() {
            let bundle = std::mem::replace(&mut self.bundle, Vec::with_capacity(BUNDLE));
            // The thread takes every bundle until `finish`; should it have
            // died, `finish` carries its panic.
            let _ = self.tx.send(Handed::Records(bundle));
        }
    }

    /// Hands on what was gathered and waits until the thread has put all
    /// of it in its buffer: on disk, for a disk buffer, where a crash
    /// cannot lose it. A store commit waits for this, so that a source's
    /// checkpoint never moves past records a sink could still lose. With
    /// the buffer full (the destination down), this waits for room.
    pub fn sync(&mut self) {
        self.flush();
        let (done, wait) = sync_channel(1);
        if self.tx.send(Handed::Sync(done)).is_ok() {
            let _ = wait.recv();
        }
    }

    /// Hands on what was gathered and waits until all of it is delivered:
    /// a cluster's worker acknowledges its events only then, so that a
    /// worker killed after cannot take undelivered records with it. With
    /// the destination down, this waits until it is back.
    pub fn settle(&mut self) {
        self.flush();
        let (done, wait) = sync_channel(1);
        if self.tx.send(Handed::Settle(done)).is_ok() {
            let _ = wait.recv();
        }
    }

    /// Hands on the rest, waits for the thread (which delivers while the
    /// destination takes records, and tries for its `drain` time more if
    /// it takes none) and says what it did.
    pub fn finish(mut self) -> Delivered {
        self.flush();
        let Delivery { tx, thread, .. } = self;
        drop(tx);
        thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Takes records into a shared list; fails while `down` says so.
    struct Flaky {
        got: Got,
        slow: Duration,
        down: Arc<Mutex<bool>>,
    }

    impl Transport for Flaky {
        fn send(&mut self, records: &[Vec<u8>]) -> Result<(), Failed> {
            std::thread::sleep(self.slow);
            if *self.down.lock().unwrap() {
                return Err(io::Error::other("refused").into());
            }
            self.got.lock().unwrap().extend_from_slice(records);
            Ok(())
        }
    }

    type Got = Arc<Mutex<Vec<Vec<u8>>>>;

    fn flaky(down: bool) -> (Flaky, Got, Arc<Mutex<bool>>) {
        let got = Arc::new(Mutex::new(Vec::new()));
        let flag = Arc::new(Mutex::new(down));
        (
            Flaky {
                got: Arc::clone(&got),
                slow: Duration::ZERO,
                down: Arc::clone(&flag),
            },
            got,
            flag,
        )
    }

    fn record(i: usize) -> Vec<u8> {
        format!("r{i}").into_bytes()
    }

    /// A delivery through `buffer` to a destination that is down (given
    /// no time to drain) or up (ten seconds), `records` pushed into it.
    fn pushed(buffer: &Buffer, down: bool, records: std::ops::Range<usize>) -> (Delivery, Got) {
        let (t, got, _) = flaky(down);
        let drain = if down {
            Duration::ZERO
        } else {
            Duration::from_secs(10)
        };
        let mut d = Delivery::start("t", Box::new(t), buffer, (drain, Arc::default())).unwrap();
        for i in records {
            d.push(record(i));
        }
        (d, got)
    }

    #[test]
    fn an_outage_is_waited_out_and_every_record_arrives_in_order() {
        let (t, got, down) = flaky(true);
        let mut d = Delivery::start(
            "t",
            Box::new(t),
            &Buffer::default(),
            (Duration::from_secs(10), Arc::default()),
        )
        .unwrap();
        for i in 0..2000 {
            d.push(record(i));
        }
        d.flush();
        std::thread::sleep(Duration::from_millis(300));
        *down.lock().unwrap() = false;
        let done = d.finish();
        assert_eq!(done.sent, 2000);
        assert!(done.failures >= 1);
        assert_eq!(done.left, 0);
        let got = got.lock().unwrap();
        assert_eq!(*got, (0..2000).map(record).collect::<Vec<_>>());
    }

    #[test]
    fn a_full_memory_buffer_holds_the_sender_back() {
        let (t, _, _) = flaky(true);
        let buffer = Buffer::Memory { max_records: 300 };
        let mut d =
            Delivery::start("t", Box::new(t), &buffer, (Duration::ZERO, Arc::default())).unwrap();
        let started = Instant::now();
        let pushing = std::thread::spawn(move || {
            for i in 0..(BUNDLE * 20) {
                d.push(record(i));
            }
            d
        });
        std::thread::sleep(Duration::from_millis(500));
        // The pusher is stuck: the buffer holds 300 and the channel 4
        // bundles; 20 bundles cannot all have gone in.
        assert!(!pushing.is_finished(), "{:?}", started.elapsed());
        drop(pushing);
    }

    /// A disk buffer in `dir`, large enough for any test.
    fn on_disk(dir: &std::path::Path) -> Buffer {
        Buffer::Disk {
            dir: dir.to_path_buf(),
            max_bytes: 1 << 30,
        }
    }

    #[test]
    fn the_end_waits_for_a_slow_destination_while_it_takes_records() {
        let dir = tempfile::tempdir().unwrap();
        let buffer = on_disk(dir.path());
        // Each send takes longer than the run's end waits for one that
        // takes nothing: every record still arrives.
        let (mut t, got, _) = flaky(false);
        t.slow = Duration::from_millis(60);
        let drain = Duration::from_millis(20);
        let mut d = Delivery::start("t", Box::new(t), &buffer, (drain, Arc::default())).unwrap();
        for i in 0..(SEND * 4) {
            d.push(record(i));
        }
        let done = d.finish();
        assert_eq!((done.sent, done.left), (SEND as u64 * 4, 0));
        assert_eq!(got.lock().unwrap().len(), SEND * 4);
    }

    #[test]
    fn records_on_disk_wait_for_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let buffer = on_disk(dir.path());
        let first = pushed(&buffer, true, 0..1000).0.finish();
        assert_eq!(first.sent, 0);
        assert_eq!(first.left, 1000);
        assert!(first.kept);
        // The next run, the destination up: the records kept go first.
        let (d, got) = pushed(&buffer, false, 1000..1100);
        let second = d.finish();
        assert_eq!(second.sent, 1100);
        assert_eq!(
            *got.lock().unwrap(),
            (0..1100).map(record).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_spill_buffer_keeps_memory_and_disk_in_order_and_its_memory_survives_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let buffer = Buffer::Spill {
            max_records: 100,
            dir: dir.path().to_path_buf(),
            max_bytes: 1 << 30,
        };
        // Down: 50 fit in memory; 1,000 more spill all of it to disk.
        let first = pushed(&buffer, true, 0..1050).0.finish();
        assert_eq!((first.sent, first.left, first.kept), (0, 1050, true));
        // Up, in a later run: everything, in order, then what comes next
        // (through memory again).
        let (mut d, got) = pushed(&buffer, false, 1050..1100);
        d.sync();
        let second = d.finish();
        assert_eq!(second.sent, 1100);
        assert_eq!(
            *got.lock().unwrap(),
            (0..1100).map(record).collect::<Vec<_>>()
        );
    }
}
