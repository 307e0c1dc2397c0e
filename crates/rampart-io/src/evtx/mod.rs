//! Binary Windows event logs (`.evtx`), read with the `evtx` crate: it
//! finds the file's chunks, in record order, and the reading thread hands
//! them to rayon's pool ([`pipeline`]), where each is decoded ([`chunk`]).
//! Each record is walked with its chunk's templates ([`walk`]), which writes
//! the record's XML (kept as `event.original`, as Event Viewer shows it) and
//! notes its fields in one pass. A record the walk does not read is rendered
//! by the crate instead, as XML for `event.original` and as evtx_dump JSON
//! for its fields, which the code for exported JSON maps; either way a rule
//! sees the same fields.
//!
//! A damaged chunk or record is counted and kept as a dead letter (with the
//! decoder's message) and the records around it are still read.
//!
//! On request, records carved from a file's unallocated space (cleared
//! chunks, chunk slack: what a cleared or wrapped log leaves behind) are
//! read too, marked `rampart.recovered`. A carved record whose record number
//! a live record of the file has is a stale copy and is left out, counted.

mod bytes;
mod chunk;
mod pipeline;
mod template;
#[cfg(test)]
mod test_binxml;
#[cfg(test)]
#[path = "../../tests/common/mod.rs"]
mod test_corpora;
mod trimmed;
mod values;
pub mod walk;

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use evtx::{EvtxParser, ParserSettings};
use rampart_event::Event;
use rampart_parse::{FileContext, Output};

use chunk::Decoding;
use pipeline::Ordered;
use trimmed::Trimmed;
use walk::Walker;

/// The first bytes of every EVTX file.
pub const MAGIC: &[u8] = b"ElfFile\0";

/// Whether the file at `path` starts like an EVTX file. Only a regular file
/// is looked at: reading the start of a pipe (`<(...)`, a FIFO) would take
/// those bytes from whoever reads it next.
pub fn is_evtx(path: &Path) -> bool {
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok_and(|()| head == MAGIC)
}

/// How an EVTX file is read.
#[derive(Debug, Clone, Copy)]
pub struct EvtxOptions {
    /// Threads decoding chunks.
    pub threads: usize,
    /// Events handed on at a time.
    pub batch: usize,
    /// Whether records carved from unallocated space are read too.
    pub recover: bool,
}

/// Reads every record of the file in `ctx` into `out`, calling `flush` each
/// time `options.batch` events are ready. Returns how many records were
/// seen, or an error when the file cannot be read as EVTX at all.
pub fn read_evtx(
    path: &Path,
    ctx: &FileContext,
    options: EvtxOptions,
    out: &mut Output,
    mut flush: impl FnMut(&mut Output),
) -> Result<u64, String> {
    let settings = ParserSettings::new()
        .indent(false)
        .recover_records(options.recover);
    let file = Trimmed::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut parser = EvtxParser::from_read_seek(file)
        .map_err(|e| format!("not a readable EVTX file: {e}"))?
        .with_configuration(settings.clone());
    let mut seen = 0u64;
    // Carved records wait for the end of the file, when every live record
    // number is known.
    let mut live = HashSet::new();
    let mut carved: Vec<(u64, Event)> = Vec::new();
    // Records are decoded and their events built on the decoding threads;
    // only their numbers in the file are given here, in order.
    let decoding = Decoding {
        ctx: ctx.clone(),
        settings: Arc::new(settings),
        recover: options.recover,
    };
    let chunks = Ordered::new(parser.chunks(), options.threads, move |chunk| {
        thread_local!(static WALKER: RefCell<Walker> = RefCell::default());
        match chunk {
            Ok(mut chunk) => WALKER.with_borrow_mut(|walker| decoding.chunk(&mut chunk, walker)),
            Err(e) => vec![Err(e)],
        }
    });
    let records = chunks.flatten();
    for record in records {
        seen += 1;
        match record {
            Ok(record) => match record.event {
                Ok(mut event) if record.recovered => {
                    event.origin.line = seen;
                    event.set("rampart.recovered", true);
                    carved.push((record.id, event));
                }
                Ok(mut event) => {
                    event.origin.line = seen;
                    if options.recover {
                        live.insert(record.id);
                    }
                    out.event("evtx", event);
                }
                Err(text) => out.unparsed(seen, "EVTX record is not a Windows event", &text),
            },
            Err(e) => out.unparsed(seen, format!("damaged EVTX record: {e}"), ""),
        }
        if out.events.len() >= options.batch {
            flush(out);
        }
    }
    for (id, event) in carved {
        if live.contains(&id) {
            out.quality("evtx-carved-copy-of-live-record");
        } else {
            out.quality("evtx-record-recovered");
            out.event("evtx", event);
        }
    }
    // The reader skips a chunk cut short by truncation without a word; say so.
    const HEADER: u64 = 4096;
    const CHUNK: u64 = 65_536;
    if let Ok(meta) = std::fs::metadata(path) {
        let tail = meta.len().saturating_sub(HEADER) % CHUNK;
        if tail > 0 {
            out.unparsed(
                seen + 1,
                format!("truncated EVTX: the last chunk is cut after {tail} of {CHUNK} bytes; its records are lost"),
                "",
            );
        }
    }
    Ok(seen)
}
