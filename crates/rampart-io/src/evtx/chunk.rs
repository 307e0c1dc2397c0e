//! One chunk's records, decoded into events.
//!
//! Every chunk is first parsed by the crate, which reads its string table
//! and refuses the chunk when that is damaged. Then most chunks are read
//! straight from their bytes: a record is a 24-byte header and its BinXML,
//! which goes to the walk. Building the crate's own model of every record
//! first (what its record iterator does) would cost a sixth of decoding for
//! nothing the walk uses. A chunk with a damaged record header, a record
//! the walk does not read or one past the walk's bounds, and every chunk
//! read for carving, goes whole to the crate's record iterator instead, so
//! its resyncing, carving, limits and rendering decide what such a chunk
//! yields; the walk is still tried record by record there.

use std::sync::Arc;

use evtx::err::EvtxError;
use evtx::{EvtxChunk, EvtxChunkData, EvtxRecord, ParserSettings};
use rampart_event::Event;
use rampart_parse::formats::windows::{self, evtx_json};
use rampart_parse::FileContext;

use super::bytes::{u32_at, u64_at};
use super::walk::{Walked, Walker};

/// Where a chunk's first record starts.
const CHUNK_HEADER: usize = 512;
/// A record's header: magic, size, record number, FILETIME.
const RECORD_HEADER: usize = 24;
/// The copy of its size that ends a record.
const SIZE_COPY: usize = 4;
const RECORD_MAGIC: &[u8] = b"\x2a\x2a\x00\x00";

/// One record as it leaves a decoding thread.
pub struct Decoded {
    pub id: u64,
    pub recovered: bool,
    /// The event (its line number not yet given), or the record's text
    /// when it is not a Windows event.
    pub event: Result<Event, String>,
}

/// How the chunks of one file are decoded.
pub struct Decoding {
    pub ctx: FileContext,
    pub settings: Arc<ParserSettings>,
    pub recover: bool,
}

impl Decoding {
    /// Every record of `chunk`, in order, each decoded or the error the
    /// crate gave for it.
    pub fn chunk(
        &self,
        chunk: &mut EvtxChunkData,
        walker: &mut Walker,
    ) -> Vec<Result<Decoded, EvtxError>> {
        walker.start_chunk();
        let number = chunk.number.unwrap_or_default();
        let mut parsed = match chunk.parse(Arc::clone(&self.settings)) {
            Ok(parsed) => parsed,
            Err(e) => {
                return vec![Err(EvtxError::FailedToParseChunk {
                    chunk_id: number,
                    source: Box::new(e),
                })]
            }
        };
        if !self.recover {
            if let Some(records) = self.straight(&parsed, walker) {
                return records;
            }
            // The walk starts the chunk over with the crate's iterator.
            walker.start_chunk();
        }
        self.through_crate(&mut parsed, walker)
    }

    /// The chunk's records as the crate's iterator finds them, each walked
    /// or rendered by the crate.
    fn through_crate(
        &self,
        parsed: &mut EvtxChunk<'_>,
        walker: &mut Walker,
    ) -> Vec<Result<Decoded, EvtxError>> {
        parsed
            .iter()
            .filter_map(|record| {
                let recovered = record.as_ref().is_ok_and(|r| r.recovered);
                let decoded = record.and_then(|r| self.record(walker, r));
                // A carved hit that fails to decode is noise, not an error.
                (!recovered || decoded.is_ok()).then_some(decoded)
            })
            .collect()
    }

    /// The chunk's records read from its bytes, or `None` at the first
    /// thing that needs the crate: see the module docs.
    fn straight(
        &self,
        chunk: &EvtxChunk<'_>,
        walker: &mut Walker,
    ) -> Option<Vec<Result<Decoded, EvtxError>>> {
        let (data, header) = (chunk.data, chunk.header);
        let live_end = (header.free_space_offset as usize).min(data.len());
        let mut records = Vec::with_capacity(
            (header.last_event_record_id)
                .saturating_sub(header.first_event_record_id)
                .saturating_add(1)
                .min(1024) as usize,
        );
        let mut at = CHUNK_HEADER;
        while at < live_end {
            if data.get(at..at + RECORD_MAGIC.len())? != RECORD_MAGIC {
                return None;
            }
            let size = u32_at(data, at + 4)? as usize;
            let id = u64_at(data, at + 8)?;
            if size < RECORD_HEADER + SIZE_COPY
                || at.checked_add(size)? > data.len()
                || !valid_filetime(u64_at(data, at + 16)?)
            {
                return None;
            }
            let walked = walker.walk(data, at + RECORD_HEADER, size - RECORD_HEADER - SIZE_COPY)?;
            records.push(Ok(Decoded {
                id,
                recovered: false,
                event: Ok(self.event(&walked)),
            }));
            if id == header.last_event_record_id {
                break;
            }
            at += size;
        }
        Some(records)
    }

    /// One record the crate read: walked, or rendered by the crate when
    /// the walk refuses it (its XML kept, its JSON mapped).
    fn record(&self, walker: &mut Walker, record: EvtxRecord<'_>) -> Result<Decoded, EvtxError> {
        let (id, recovered) = (record.event_record_id, record.recovered);
        let walked = walker.walk(
            record.chunk.data,
            record.binxml_offset as usize,
            record.binxml_size as usize,
        );
        let event = match walked {
            Some(walked) => Ok(self.event(&walked)),
            None => {
                let xml = record.clone().into_xml()?.data;
                let json = record.into_json()?.data;
                let original: Arc<str> = Arc::from(without_declaration(&xml));
                match evtx_json::record(&json, &self.ctx) {
                    Some(rec) => Ok(windows::build(&self.ctx, 0, &original, rec)),
                    None => Err(json),
                }
            }
        };
        Ok(Decoded {
            id,
            recovered,
            event,
        })
    }

    fn event(&self, walked: &Walked) -> Event {
        let original: Arc<str> = Arc::from(walked.xml.as_str());
        let rec = walked.record(&original);
        windows::build(&self.ctx, 0, &original, rec)
    }
}

/// Whether a record header's FILETIME is an instant the crate accepts; it
/// refuses the record otherwise, and the straight read must not differ.
fn valid_filetime(filetime: u64) -> bool {
    const TICKS_PER_SEC: u64 = 10_000_000;
    const WINDOWS_TO_UNIX_SECS: i64 = 11_644_473_600;
    let secs = (filetime / TICKS_PER_SEC) as i64 - WINDOWS_TO_UNIX_SECS;
    let nanos = ((filetime % TICKS_PER_SEC) * 100) as i32;
    jiff::Timestamp::new(secs, nanos).is_ok()
}

/// The crate's XML starts with an XML declaration, which the walked XML
/// does not have.
fn without_declaration(xml: &str) -> &str {
    xml.strip_prefix("<?xml")
        .and_then(|rest| rest.split_once("?>"))
        .map_or(xml, |(_, body)| body.trim_start())
}

#[cfg(test)]
mod tests {

    use evtx::EvtxParser;
    use rampart_event::time::Zone;
    use rampart_parse::ParseOptions;

    use super::*;

    use crate::evtx::test_corpora::corpora;

    fn decoding() -> Decoding {
        Decoding {
            ctx: FileContext::new(
                "x.evtx",
                ParseOptions {
                    year: None,
                    zone: Zone::utc(),
                },
            ),
            settings: Arc::new(ParserSettings::new().indent(false)),
            recover: false,
        }
    }

    /// Every chunk of every EVTX file of the corpus.
    fn corpus_chunks(root: &std::path::Path) -> Vec<EvtxChunkData> {
        let mut chunks = Vec::new();
        for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
            let Ok(entry) = entry else { continue };
            if entry.path().extension().is_none_or(|e| e != "evtx") {
                continue;
            }
            if let Ok(mut parser) = EvtxParser::from_path(entry.path()) {
                chunks.extend(parser.chunks().flatten());
            }
        }
        chunks
    }

    /// What a chunk's records came to: numbers and originals, or errors.
    fn summary(records: Vec<Result<Decoded, EvtxError>>) -> Vec<String> {
        records
            .into_iter()
            .map(|r| match r {
                Ok(d) => match d.event {
                    Ok(e) => format!("{} {}", d.id, e.original()),
                    Err(text) => format!("{} not an event: {text}", d.id),
                },
                Err(e) => format!("error: {e:?}"),
            })
            .collect()
    }

    /// The straight read is what decodes real logs; the integration tests
    /// hold what it yields to the crate's iterator, this that it is taken.
    #[test]
    fn nearly_every_corpus_chunk_is_read_straight() {
        let Some(root) = corpora() else {
            return;
        };
        let decoding = decoding();
        let (mut chunks, mut straight, mut records) = (0, 0, 0);
        let mut walker = Walker::default();
        for mut chunk in corpus_chunks(&root) {
            chunks += 1;
            walker.start_chunk();
            let Ok(parsed) = chunk.parse(Arc::clone(&decoding.settings)) else {
                continue;
            };
            if let Some(read) = decoding.straight(&parsed, &mut walker) {
                straight += 1;
                records += read.len();
            }
        }
        println!("{straight} of {chunks} chunks read straight, {records} records");
        assert!(records > 7000);
        assert!(straight * 100 >= chunks * 95, "{straight} of {chunks}");
    }

    /// Damaged chunks: whatever the straight read accepts, it reads as the
    /// crate's iterator does.
    #[test]
    fn a_damaged_chunk_is_read_straight_only_as_the_crate_reads_it() {
        let Some(root) = corpora() else {
            return;
        };
        let decoding = decoding();
        let mut walker = Walker::default();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |below: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % below as u64) as usize
        };
        let (mut compared, mut differ) = (0, Vec::new());
        for chunk in corpus_chunks(&root).iter().step_by(3) {
            for _ in 0..20 {
                let mut data = chunk.data.clone();
                for _ in 0..1 + next(8) {
                    let at = 512 + next(data.len() - 512);
                    data[at] = next(256) as u8;
                }
                let Ok(mut damaged) = EvtxChunkData::new(data, false) else {
                    continue;
                };
                let Ok(mut parsed) = damaged.parse(Arc::clone(&decoding.settings)) else {
                    continue;
                };
                walker.start_chunk();
                let Some(straight) = decoding.straight(&parsed, &mut walker) else {
                    continue;
                };
                walker.start_chunk();
                let by_crate = decoding.through_crate(&mut parsed, &mut walker);
                compared += 1;
                let (straight, by_crate) = (summary(straight), summary(by_crate));
                if straight != by_crate {
                    differ.push((straight, by_crate));
                }
            }
        }
        println!(
            "{compared} damaged chunks read straight, {} differ",
            differ.len()
        );
        assert!(compared > 500, "{compared}");
        if let Some((straight, by_crate)) = differ.first() {
            let first = straight.iter().zip(by_crate).position(|(a, b)| a != b);
            panic!(
                "{} of {compared} differ; first: {} against {} records, at {first:?}: {:?} / {:?}",
                differ.len(),
                straight.len(),
                by_crate.len(),
                first.map(|i| &straight[i][..straight[i].len().min(300)]),
                first.map(|i| &by_crate[i][..by_crate[i].len().min(300)]),
            );
        }
    }
}
