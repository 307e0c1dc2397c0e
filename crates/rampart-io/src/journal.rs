//! systemd's binary journal files (`*.journal`), read without libsystemd.
//!
//! A journal file is a header and a sequence of objects, each with a type
//! and a size and aligned to 8 bytes. An entry object lists the offsets of
//! the data objects that hold its fields (`NAME=value`, shared between
//! entries, possibly compressed). Walking the objects in file order gives
//! the entries in the order they were written, with no need for the hash
//! tables or entry arrays, so a file still being written, or cut short, is
//! read up to its last whole entry. Both layouts are read: the regular one
//! and the compact one (systemd 252 and later), with zstd or LZ4 fields.
//! The format is systemd's "Journal File Format" document.

use rampart_parse::formats::journal::FILE_MAGIC as MAGIC;

const INCOMPATIBLE_COMPACT: u32 = 1 << 4;

const OBJECT_DATA: u8 = 1;
const OBJECT_ENTRY: u8 = 3;

const COMPRESSED_XZ: u8 = 1;
const COMPRESSED_LZ4: u8 = 2;
const COMPRESSED_ZSTD: u8 = 4;

/// The largest field accepted after decompression.
const MAX_FIELD: usize = 64 * 1024 * 1024;
/// The most bytes of fields one entry may hold; the fields past it are
/// left out (a crafted file could point every item at one large field).
const MAX_ENTRY: usize = 64 * 1024 * 1024;
/// LZ4 expands data at most this many times.
const LZ4_MAX_RATIO: usize = 255;
/// The most fields an entry may list.
const MAX_ITEMS: u64 = 1 << 16;

/// One entry: its time (microseconds since the epoch), its position among
/// the file's entries (1-based), and its fields.
#[derive(Debug)]
pub struct Entry {
    /// `__REALTIME_TIMESTAMP`.
    pub realtime: u64,
    /// The entry's number in the file, from 1.
    pub number: u64,
    /// `NAME=value` fields, values as text.
    pub fields: Vec<(String, String)>,
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Reads the entries of journal file `bytes`, handing each to `entry`.
/// Returns how many were read; an error names the offset the file stops
/// making sense at (entries before it were handed on). Fields that cannot
/// be read (XZ-compressed, damaged, not `NAME=value`, past the entry's
/// bound) are left out of their entry, counted in `skipped_fields`.
pub fn read(
    bytes: &[u8],
    skipped_fields: &mut u64,
    mut entry: impl FnMut(Entry),
) -> Result<u64, String> {
    if bytes.get(..8) != Some(&MAGIC[..]) {
        return Err("not a journal file".into());
    }
    let incompatible = u32_at(bytes, 12).ok_or("header cut off")?;
    let compact = incompatible & INCOMPATIBLE_COMPACT != 0;
    let header_size = u64_at(bytes, 88).ok_or("header cut off")?;
    let tail = u64_at(bytes, 136).ok_or("header cut off")?;
    let end = usize::try_from(tail)
        .unwrap_or(usize::MAX)
        .min(bytes.len().saturating_sub(16));
    let mut at = usize::try_from(header_size).map_err(|_| "header size out of range")?;
    let mut count = 0u64;
    while at <= end {
        let kind = bytes[at];
        let size = u64_at(bytes, at + 8).ok_or("object header cut off")?;
        let Some(size) = usize::try_from(size).ok().filter(|s| *s >= 16) else {
            // An unused tail (a file still being written) ends the objects.
            break;
        };
        let Some(object) = bytes.get(at..at.saturating_add(size)) else {
            return Err(format!(
                "object at offset {at} runs past the end of the file"
            ));
        };
        if kind == OBJECT_ENTRY {
            count += 1;
            let fields = entry_fields(bytes, object, compact, skipped_fields)
                .map_err(|e| format!("entry at offset {at}: {e}"))?;
            entry(Entry {
                realtime: u64_at(object, 24).unwrap_or(0),
                number: count,
                fields,
            });
        }
        at = at.saturating_add(size.div_ceil(8) * 8);
    }
    Ok(count)
}

/// The fields of one entry object.
fn entry_fields(
    file: &[u8],
    entry: &[u8],
    compact: bool,
    skipped: &mut u64,
) -> Result<Vec<(String, String)>, String> {
    let item = if compact { 4 } else { 16 };
    let items = (entry.len().saturating_sub(64) / item) as u64;
    if items > MAX_ITEMS {
        return Err(format!("{items} fields"));
    }
    let mut fields = Vec::with_capacity(items as usize);
    let mut bytes = 0usize;
    for i in 0..items as usize {
        let pos = 64 + i * item;
        let offset = if compact {
            u32_at(entry, pos).map(u64::from)
        } else {
            u64_at(entry, pos)
        }
        .ok_or("item cut off")?;
        let payload = data_payload(file, offset, compact).filter(|p| bytes + p.len() <= MAX_ENTRY);
        let text = payload.as_deref().map(String::from_utf8_lossy);
        match text.as_deref().and_then(|t| t.split_once('=')) {
            Some((name, value)) => {
                bytes += name.len() + value.len();
                fields.push((name.to_owned(), value.to_owned()));
            }
            // Unreadable, past the entry's bound, or no `NAME=`.
            None => *skipped += 1,
        }
    }
    Ok(fields)
}

/// The payload of the data object at `offset`, decompressed; `None` when
/// it cannot be read.
fn data_payload(file: &[u8], offset: u64, compact: bool) -> Option<Vec<u8>> {
    let at = usize::try_from(offset).ok()?;
    if *file.get(at)? != OBJECT_DATA {
        return None;
    }
    let flags = *file.get(at + 1)?;
    let size = usize::try_from(u64_at(file, at + 8)?).ok()?;
    let start = if compact { 72 } else { 64 };
    let raw = file.get(at + start..at.checked_add(size)?)?;
    match flags & (COMPRESSED_XZ | COMPRESSED_LZ4 | COMPRESSED_ZSTD) {
        0 => Some(raw.to_vec()),
        COMPRESSED_ZSTD => {
            let mut out = Vec::new();
            let decoder = zstd::stream::read::Decoder::new(raw).ok()?;
            std::io::Read::read_to_end(
                &mut std::io::Read::take(decoder, MAX_FIELD as u64),
                &mut out,
            )
            .ok()?;
            Some(out)
        }
        COMPRESSED_LZ4 => {
            // The uncompressed size, then an LZ4 block.
            let size = usize::try_from(u64_at(raw, 0)?).ok()?;
            if size > MAX_FIELD || size > raw.len().saturating_mul(LZ4_MAX_RATIO) {
                return None;
            }
            lz4_flex::block::decompress(raw.get(8..)?, size).ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A regular-layout file with one entry of two fields, one of them
    /// LZ4-compressed.
    fn file() -> Vec<u8> {
        let mut b = vec![0u8; 272];
        b[..8].copy_from_slice(MAGIC);
        b[88..96].copy_from_slice(&272u64.to_le_bytes());
        let data = |flags: u8, payload: &[u8]| {
            let mut o = vec![0u8; 64];
            o[0] = OBJECT_DATA;
            o[1] = flags;
            o.extend_from_slice(payload);
            let size = o.len() as u64;
            o[8..16].copy_from_slice(&size.to_le_bytes());
            while !o.len().is_multiple_of(8) {
                o.push(0);
            }
            o
        };
        let first = data(0, b"MESSAGE=hello");
        let mut packed = (16u64).to_le_bytes().to_vec();
        packed.extend(lz4_flex::block::compress(b"_HOSTNAME=web01."));
        let second = data(COMPRESSED_LZ4, &packed);
        let d1 = b.len() as u64;
        b.extend(&first);
        let d2 = b.len() as u64;
        b.extend(&second);
        let e_at = b.len() as u64;
        let mut e = vec![0u8; 64];
        e[0] = OBJECT_ENTRY;
        e[24..32].copy_from_slice(&1_773_479_112_000_000u64.to_le_bytes());
        for d in [d1, d2] {
            e.extend(d.to_le_bytes());
            e.extend(0u64.to_le_bytes());
        }
        let size = e.len() as u64;
        e[8..16].copy_from_slice(&size.to_le_bytes());
        b.extend(&e);
        b[136..144].copy_from_slice(&e_at.to_le_bytes());
        b
    }

    #[test]
    fn entries_with_plain_and_compressed_fields() {
        let bytes = file();
        let mut entries = Vec::new();
        let mut skipped = 0;
        assert_eq!(read(&bytes, &mut skipped, |e| entries.push(e)), Ok(1));
        assert_eq!(skipped, 0);
        assert_eq!(entries[0].realtime, 1_773_479_112_000_000);
        assert_eq!(
            entries[0].fields,
            [
                ("MESSAGE".to_owned(), "hello".to_owned()),
                ("_HOSTNAME".to_owned(), "web01.".to_owned())
            ]
        );
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        let bytes = file();
        // Cut anywhere: an error or fewer entries, never a panic.
        for cut in 0..bytes.len() {
            let _ = read(&bytes[..cut], &mut 0, |_| {});
        }
        // A data offset pointing anywhere: the field is skipped.
        let mut bad = bytes.clone();
        let e_at = bad.len() - 96;
        bad[e_at + 64..e_at + 72].copy_from_slice(&5u64.to_le_bytes());
        let mut skipped = 0;
        let mut fields = 0;
        read(&bad, &mut skipped, |e| fields = e.fields.len()).unwrap();
        assert_eq!((skipped, fields), (1, 1));
        // A huge object size.
        let mut huge = bytes;
        huge[272 + 8..272 + 16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(read(&huge, &mut 0, |_| {}).is_err());
    }
}
