//! What the stage without state sends the owner of a partition: for each
//! event that matters to the partition, its place in the events stream,
//! the event as it was enriched, its matches placed in the partition's
//! correlations and its alerts that fold over a dedup window. Encoded
//! with postcard and compressed with LZ4: the work stream holds every
//! correlated event again, and a replicated stream copies each byte to
//! every node, so its bytes are what a replicated cluster's servers spend
//! their time on. Every worker must run the same rules, which the
//! messages name by a hash.

use rampart_detect::correlate::Carried;
use serde::{Deserialize, Serialize};

/// One message to one partition.
#[derive(Debug, Serialize, Deserialize)]
pub struct Work {
    /// A hash of the rules the sender runs.
    pub rules: u64,
    /// The events, in their order in the events stream.
    pub items: Vec<Item>,
}

/// An event's place in the events stream: its message's sequence, then
/// its line in the message (a collector may send several events a
/// message).
pub fn place(seq: u64, line: usize) -> u64 {
    (seq << 16) | line as u64
}

/// What one event brings to one partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Item {
    /// The event's place in the events stream ([`place`]).
    pub seq: u64,
    /// The event as nested ECS JSON, enriched.
    pub event: String,
    /// Its matches placed in the partition's correlations.
    pub placed: Vec<Carried>,
    /// Its alerts that fold over a dedup window, as bytes.
    pub folded: Vec<Vec<u8>>,
}

impl Item {
    /// About how many bytes it takes encoded.
    pub fn weight(&self) -> usize {
        self.event.len()
            + self.folded.iter().map(Vec::len).sum::<usize>()
            + self
                .placed
                .iter()
                .map(|p| 16 + p.key.len() + p.value.as_ref().map_or(0, String::len))
                .sum::<usize>()
    }
}

/// The bytes of `work`.
pub fn encode(work: &Work) -> Vec<u8> {
    let plain = postcard::to_stdvec(work).expect("plain data encodes");
    lz4_flex::compress_prepend_size(&plain)
}

/// The largest a work message may be once decompressed: a message is
/// begun anew past 512 KiB, so only one very large event makes one
/// larger, and a size past this is damage (or a hostile peer), not an
/// allocation to make.
const MOST_PLAIN: usize = 64 << 20;

/// The work `bytes` hold, or why they do not.
pub fn decode(bytes: &[u8]) -> Result<Work, String> {
    let broken = |e: String| format!("a work message does not decompress: {e}");
    let (size, body) =
        lz4_flex::block::uncompressed_size(bytes).map_err(|e| broken(e.to_string()))?;
    if size > MOST_PLAIN {
        return Err(broken(format!("it claims {size} bytes")));
    }
    let plain = lz4_flex::decompress(body, size).map_err(|e| broken(e.to_string()))?;
    postcard::from_bytes(&plain).map_err(|e| format!("a work message does not read: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_reads_back_as_written_and_damage_is_an_error() {
        let work = Work {
            rules: 7,
            items: vec![Item {
                seq: 42,
                event: r#"{"message":"x"}"#.into(),
                placed: vec![Carried {
                    rule: 1,
                    running: 0,
                    member: 0,
                    partition: 3,
                    key: "9:203.0.113.7".into(),
                    value: Some("root".into()),
                }],
                folded: vec![vec![1, 2, 3]],
            }],
        };
        let bytes = encode(&work);
        let back = decode(&bytes).unwrap();
        assert_eq!(back.rules, 7);
        assert_eq!(back.items[0].seq, 42);
        assert_eq!(back.items[0].placed, work.items[0].placed);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        // A size no message has is refused before anything is made of it.
        let mut huge = bytes.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&huge).unwrap_err().contains("claims"));
    }
}
