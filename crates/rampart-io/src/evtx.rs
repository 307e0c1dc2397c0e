//! Binary Windows event logs (`.evtx`), read with the `evtx` crate: its
//! chunks are decoded on several threads, each record is rendered as JSON
//! in the evtx_dump shape and mapped by the same code as exported JSON, so a
//! rule sees the same fields whether the log was exported or not.
//!
//! A damaged chunk or record is counted and kept as a dead letter (with the
//! decoder's message) and the records around it are still read.
//!
//! On request, records carved from a file's unallocated space (cleared
//! chunks, chunk slack: what a cleared or wrapped log leaves behind) are
//! read too, marked `rampart.recovered`. A carved record whose record number
//! a live record of the file has is a stale copy and is left out, counted.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use evtx::{EvtxParser, ParserSettings};
use rampart_event::Event;
use rampart_parse::{evtx_record_text, FileContext, Output};

/// The first bytes of every EVTX file.
pub const MAGIC: &[u8] = b"ElfFile\0";

/// Whether the file at `path` starts like an EVTX file.
pub fn is_evtx(path: &Path) -> bool {
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
        .num_threads(options.threads.max(1))
        .indent(false)
        .recover_records(options.recover);
    let mut parser = EvtxParser::from_path(path)
        .map_err(|e| format!("not a readable EVTX file: {e}"))?
        .with_configuration(settings);
    let mut seen = 0u64;
    // Carved records wait for the end of the file, when every live record
    // number is known.
    let mut live = HashSet::new();
    let mut carved: Vec<(u64, Event)> = Vec::new();
    // Records come as JSON text, which is kept as `event.original` as it is
    // and read in place: fields JSON did not escape are ranges of it.
    for record in parser.records_json() {
        seen += 1;
        match record {
            Ok(record) => {
                let text: Arc<str> = Arc::from(record.data);
                match evtx_record_text(ctx, seen, &text) {
                    Some(mut event) if record.recovered => {
                        event.set("rampart.recovered", true);
                        carved.push((record.event_record_id, event));
                    }
                    Some(event) => {
                        if options.recover {
                            live.insert(record.event_record_id);
                        }
                        out.event("evtx", event);
                    }
                    None => out.unparsed(seen, "EVTX record is not a Windows event", &text),
                }
            }
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
