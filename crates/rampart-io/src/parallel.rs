//! Parsing many files on several threads while delivering their events in
//! input order.
//!
//! Each file gets a small bounded queue. Workers take files in order; the
//! caller drains the queue of the earliest unfinished file. The earliest file
//! is therefore always running, so nothing deadlocks, and a worker that runs
//! ahead blocks once its queue is full: memory stays bounded by
//! `threads × QUEUE_DEPTH × batch` events whatever the input size.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Mutex;

use rampart_event::Timestamp;
use rampart_parse::{read_lines_held, FileContext, FileDecoder, FileStats, Format, ParseOptions};

use crate::batches::{Batches, LineBlock};
use crate::discover::{Input, Resume};
pub use crate::message::{FileReport, Message, Work};
use crate::open::open;
use crate::records;

/// How many batches of one file may wait for the consumer.
const QUEUE_DEPTH: usize = 4;

/// EVTX files at least this large have their chunks decoded on the pool.
const CHUNKS_ON_POOL_AT: u64 = 4 << 20;

/// Lines in a block parsed on the pool, in batches' worth.
const BLOCK_BATCHES: usize = 1;

/// How files are read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Year and time zone choices for the parsers.
    pub parse: ParseOptions,
    /// A format to use instead of detecting one.
    pub forced: Option<&'static Format>,
    /// Worker threads (default: the number of cores).
    pub threads: usize,
    /// Events per batch handed to the consumer (default 512: a batch of
    /// typical events stays within a core's L2 cache, which the parse
    /// benchmark shows is worth about a third of the throughput).
    pub batch: usize,
    /// The longest line kept whole (default 1 MiB).
    pub max_line: usize,
    /// Whether EVTX records carved from unallocated space are read too.
    pub recover_evtx: bool,
    /// Whether a text file's last line is left unread when it has no
    /// newline yet (files that are followed as they are written).
    pub hold_partial_line: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            parse: ParseOptions::default(),
            forced: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            batch: 512,
            max_line: rampart_parse::DEFAULT_MAX_LINE,
            recover_evtx: false,
            hold_partial_line: false,
        }
    }
}

/// Reads `inputs` and calls `consume` with their messages in input order.
pub fn read_files(inputs: &[Input], options: &ReadOptions, consume: impl FnMut(Message)) {
    read_files_with(inputs, options, &|_| (), consume);
}

/// Like [`read_files`], running `work` on each batch in the worker threads.
pub fn read_files_with<T: Send>(
    inputs: &[Input],
    options: &ReadOptions,
    work: Work<'_, T>,
    consume: impl FnMut(Message<T>),
) {
    let pool = worker_pool(options.threads);
    read_files_on(pool.as_ref(), inputs, options, work, consume);
}

/// The pool of `threads` that batch work and block parsing run on (none
/// for one thread, or when no thread can be started), so that `--threads`
/// bounds the cores used. A caller may give it more work of its own.
pub fn worker_pool(threads: usize) -> Option<rayon::ThreadPool> {
    (threads > 1)
        .then(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("rampart-work-{i}"))
                .build()
                .ok()
        })
        .flatten()
}

/// Like [`read_files_with`], on a pool of the caller's (see [`worker_pool`]).
pub fn read_files_on<T: Send>(
    pool: Option<&rayon::ThreadPool>,
    inputs: &[Input],
    options: &ReadOptions,
    work: Work<'_, T>,
    mut consume: impl FnMut(Message<T>),
) {
    let threads = options.threads.clamp(1, inputs.len().max(1));
    let mut receivers = Vec::with_capacity(inputs.len());
    let mut senders = Vec::with_capacity(inputs.len());
    for _ in inputs {
        let (tx, rx) = sync_channel(QUEUE_DEPTH);
        senders.push(Mutex::new(Some(tx)));
        receivers.push(rx);
    }
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let read = || loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= inputs.len() {
                        break;
                    }
                    let tx = senders[index].lock().ok().and_then(|mut slot| slot.take());
                    if let Some(tx) = tx {
                        read_one(index, &inputs[index], options, (work, pool), &tx);
                    }
                };
                if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
                    // No file is left waiting for a reader that is gone: the
                    // consumer sees every queue end, and the scope carries
                    // the panic on.
                    for slot in &senders {
                        let mut slot = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                        slot.take();
                    }
                    std::panic::resume_unwind(panic);
                }
            });
        }
        for rx in receivers {
            for message in rx {
                consume(message);
            }
        }
    });
}

fn modified(path: &std::path::Path) -> Option<Timestamp> {
    let time = std::fs::metadata(path).ok()?.modified().ok()?;
    Timestamp::try_from(time).ok()
}

/// The per-batch work and the pool it runs on (none: on the reading thread).
type Workers<'w, 'p, T> = (Work<'w, T>, Option<&'p rayon::ThreadPool>);

fn read_one<T: Send>(
    index: usize,
    input: &Input,
    options: &ReadOptions,
    work: Workers<'_, '_, T>,
    tx: &SyncSender<Message<T>>,
) {
    let path_text = input.path.display().to_string();
    let mut ctx = FileContext::new(&path_text, options.parse.clone());
    ctx.modified = modified(&input.path);
    let mut report = FileReport {
        index,
        path: input.path.clone(),
        rotated_set: input.rotated_set.clone(),
        format: None,
        stats: FileStats::default(),
        bytes: 0,
        lines: 0,
        error: None,
    };
    if crate::evtx::is_evtx(&input.path) {
        // A small file's few chunks are decoded on its reading thread: the
        // other readers keep the cores busy with other files, and handing
        // each chunk to the pool and back costs more than it gains.
        let large = std::fs::metadata(&input.path).is_ok_and(|m| m.len() >= CHUNKS_ON_POOL_AT);
        let evtx = crate::evtx::EvtxOptions {
            threads: if large { options.threads } else { 1 },
            batch: options.batch,
            recover: options.recover_evtx,
        };
        read_records(
            input,
            "evtx",
            options,
            work,
            &mut report,
            tx,
            |out, send| crate::evtx::read_evtx(&input.path, &ctx, evtx, out, send),
        );
        return;
    }
    if let Some(kind) = records::kind_of(&input.path) {
        let format = kind.format_name();
        read_records(
            input,
            format,
            options,
            work,
            &mut report,
            tx,
            |out, send| records::read(&input.path, kind, &ctx, options.batch, out, send),
        );
        return;
    }
    let reader = match open(&input.path) {
        Ok(reader) => reader,
        Err(e) => {
            report.error = Some(e.to_string());
            let _ = tx.send(Message::Done(report));
            return;
        }
    };
    let mut decoder = FileDecoder::new(ctx.clone(), options.forced);
    let (mut bytes, mut lines) = (0u64, 0u64);
    let (result, block_stats) = with_batches((index, input.resume), options, work, tx, |batches| {
        // Once the format keeps no state from line to line, lines go to
        // the pool in blocks, parsed apart.
        let mut split: Option<&'static Format> = None;
        let mut block = LineBlock::default();
        let block_lines = options.batch.max(1) * BLOCK_BATCHES;
        let result = read_lines_held(
            reader,
            options.max_line,
            options.hold_partial_line,
            |line| {
                bytes += line.len as u64 + 1;
                lines = line.no;
                if let Some(format) = split {
                    block.push(line);
                    if block.len() >= block_lines {
                        let next = LineBlock::like(&block);
                        batches.send_block(std::mem::replace(&mut block, next), &ctx, format);
                    }
                    return;
                }
                decoder.feed(line);
                if decoder.output().events.len() >= options.batch {
                    batches.send(decoder.output());
                }
                if batches.parallel() {
                    split = decoder.splittable();
                    if split.is_some() {
                        batches.send(decoder.output());
                    }
                }
            },
        );
        if let Some(format) = split.filter(|_| block.len() > 0) {
            batches.send_block(block, &ctx, format);
        }
        decoder.finish();
        batches.send(decoder.output());
        result
    });
    if let Err(e) = result {
        report.error = Some(format!("read failed after line {lines}: {e}"));
    }
    report.format = decoder.format().map(|f| f.name);
    report.stats = decoder.output().stats.clone();
    report.stats.merge(&block_stats);
    report.bytes = bytes;
    report.lines = lines;
    let _ = tx.send(Message::Done(report));
}

/// Runs `read` with the file's batches, worked on the pool when there is
/// one, and every batch handed on before returning; returns what `read`
/// returned and the counts of the blocks parsed on the pool.
fn with_batches<'w, T: Send, R>(
    (index, resume): (usize, Resume),
    options: &ReadOptions,
    (work, pool): Workers<'w, '_, T>,
    tx: &SyncSender<Message<T>>,
    read: impl FnOnce(&mut Batches<'_, '_, 'w, T>) -> R,
) -> (R, FileStats) {
    let Some(pool) = pool else {
        let mut batches = Batches::new(index, work, None, 1, tx, resume);
        let result = read(&mut batches);
        return (result, batches.finish());
    };
    pool.in_place_scope(|scope| {
        let mut batches = Batches::new(index, work, Some(scope), options.threads, tx, resume);
        let result = read(&mut batches);
        (result, batches.finish())
    })
}

/// Reads a file of records (EVTX, journal, login records) with `read`,
/// which fills an output and hands it to its second argument whenever a
/// batch is full; then reports the file: how many records, or why
/// reading stopped.
fn read_records<T: Send>(
    input: &Input,
    format: &'static str,
    options: &ReadOptions,
    work: Workers<'_, '_, T>,
    report: &mut FileReport,
    tx: &SyncSender<Message<T>>,
    read: impl FnOnce(
        &mut rampart_parse::Output,
        &mut dyn FnMut(&mut rampart_parse::Output),
    ) -> Result<u64, String>,
) {
    let mut out = rampart_parse::Output::default();
    let (result, _) = with_batches((report.index, input.resume), options, work, tx, |batches| {
        let result = read(&mut out, &mut |o| batches.send(o));
        batches.send(&mut out);
        result
    });
    match result {
        Ok(records) => report.lines = records,
        Err(e) => report.error = Some(e),
    }
    report.format = Some(format);
    report.stats = out.stats;
    report.bytes = std::fs::metadata(&input.path).map_or(0, |m| m.len());
    let _ = tx.send(Message::Done(report.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::Event;

    #[test]
    fn events_arrive_in_input_order_with_one_report_per_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut inputs = Vec::new();
        for f in 0..6 {
            let path = dir.path().join(format!("f{f}.log"));
            let text: String = (0..500)
                .map(|i| format!("Mar 14 03:22:{:02} h sshd[{f}]: Failed password for root from 192.0.2.{f} port {i} ssh2\n", i % 60))
                .collect();
            std::fs::write(&path, text).unwrap();
            inputs.push(Input {
                resume: Resume::default(),
                path,
                rotated_set: None,
            });
        }
        inputs.push(Input {
            resume: Resume::default(),
            path: dir.path().join("missing"),
            rotated_set: None,
        });
        let options = ReadOptions {
            threads: 3,
            batch: 64,
            ..Default::default()
        };
        let mut seen = Vec::new();
        let mut reports = Vec::new();
        read_files(&inputs, &options, |m| match m {
            Message::Batch { index, events, .. } => {
                seen.extend(events.iter().map(|e| (index, e.origin.line)));
            }
            Message::Done(r) => reports.push(r),
        });
        let expected: Vec<(usize, u64)> = (0..6)
            .flat_map(|f| (1..=500).map(move |l| (f, l)))
            .collect();
        assert_eq!(seen, expected);
        assert_eq!(reports.len(), 7);
        assert_eq!(reports[0].format, Some("syslog"));
        assert!(reports[6].error.is_some());
    }

    #[test]
    fn work_done_on_the_pool_comes_back_with_its_batch_in_file_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.log");
        let text: String = (0..20_000)
            .map(|i| format!("Mar 14 03:22:{:02} h sshd[1]: Failed password for root from 192.0.2.1 port {i} ssh2\n", i % 60))
            .collect();
        std::fs::write(&path, text).unwrap();
        let inputs = [Input {
            resume: Resume::default(),
            path,
            rotated_set: None,
        }];
        // The work slows down early batches, so later ones finish first.
        let work = |events: &mut [Event]| {
            let first = events.first().map_or(0, |e| e.origin.line);
            std::thread::sleep(std::time::Duration::from_micros(
                2_000u64.saturating_sub(first / 10),
            ));
            events.iter().map(|e| e.origin.line).collect::<Vec<u64>>()
        };
        for threads in [1, 2, 4] {
            let options = ReadOptions {
                threads,
                batch: 256,
                ..Default::default()
            };
            let mut lines = Vec::new();
            read_files_with(&inputs, &options, &work, |m| {
                if let Message::Batch { events, work, .. } = m {
                    let own: Vec<u64> = events.iter().map(|e| e.origin.line).collect();
                    assert_eq!(work, own, "the work is its own batch's");
                    lines.extend(own);
                }
            });
            assert_eq!(
                lines,
                (1..=20_000).collect::<Vec<u64>>(),
                "{threads} threads"
            );
        }
    }

    #[test]
    fn a_large_file_parsed_in_blocks_on_the_pool_reads_as_on_one_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        let text: String = (0..30_000)
            .map(|i| match i % 997 {
                // Junk among the lines: raw events and dead letters.
                0 => "not an access line at all\n".to_owned(),
                1 => "\u{1}\u{2} binary\n".to_owned(),
                _ => format!("192.0.2.{} - - [14/Mar/2025:10:01:{:02} +0000] \"GET /p{i} HTTP/1.1\" 200 {i}\n", i % 250, i % 60),
            })
            .collect();
        std::fs::write(&path, text).unwrap();
        let inputs = [Input {
            resume: Resume::default(),
            path,
            rotated_set: None,
        }];
        let read = |threads: usize| {
            let options = ReadOptions {
                threads,
                batch: 128,
                ..Default::default()
            };
            let (mut events, mut dead, mut reports) = (Vec::new(), Vec::new(), Vec::new());
            read_files(&inputs, &options, |m| match m {
                Message::Batch {
                    events: e, dead: d, ..
                } => {
                    events.extend(e.iter().map(|e| {
                        (
                            e.origin.line,
                            e.get_str("event.dataset").map(str::to_owned),
                            e.timestamp,
                        )
                    }));
                    dead.extend(d.into_iter().map(|d| d.line));
                }
                Message::Done(r) => reports.push((r.format, r.stats, r.lines)),
            });
            (events, dead, reports)
        };
        let one = read(1);
        assert_eq!(one.0.len(), 30_000 - 31, "every text line is an event");
        assert_eq!(one.1.len(), 31 * 2, "junk lines are dead letters");
        assert_eq!(one.2[0].0, Some("web-access"));
        for threads in [2, 4] {
            assert_eq!(read(threads), one, "{threads} threads");
        }
    }

    #[test]
    fn a_panic_in_the_work_reaches_the_caller_instead_of_hanging_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut inputs = Vec::new();
        for f in 0..4 {
            let path = dir.path().join(format!("f{f}.log"));
            let text: String = (0..2000)
                .map(|i| format!("192.0.2.{f} - - [14/Mar/2025:10:01:{:02} +0000] \"GET /{i} HTTP/1.1\" 200 5\n", i % 60))
                .collect();
            std::fs::write(&path, text).unwrap();
            inputs.push(Input {
                resume: Resume::default(),
                path,
                rotated_set: None,
            });
        }
        for threads in [1, 2] {
            let options = ReadOptions {
                threads,
                batch: 64,
                ..Default::default()
            };
            let work = |events: &mut [Event]| {
                assert!(
                    events.iter().all(|e| e.origin.line < 1500),
                    "a rule fails on line 1500"
                );
            };
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                read_files_with(&inputs, &options, &work, |_| {});
            }));
            assert!(outcome.is_err(), "{threads} threads");
        }
    }
}
