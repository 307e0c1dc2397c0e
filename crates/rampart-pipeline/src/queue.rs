//! A sink's disk buffer: records appended to segment files and handed on
//! from a read position that moves only once the destination took them,
//! so that records waiting for a destination that is down survive a
//! restart, or a kill, and are sent then (at least once: those sent but
//! not yet marked taken when the process died are sent again).
//!
//! A record is its length, a CRC-32 of its bytes, and the bytes. A torn
//! record at the end of the last segment (a write cut by a kill) is cut
//! off when the queue opens; a damaged one elsewhere ends its segment, and
//! what was lost is counted. The read position is written to a file of
//! its own, replaced whole (write, sync, rename).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A segment is closed past this size and a new one started.
const SEGMENT_BYTES: u64 = 8 << 20;
/// Bytes of a record's header: length and CRC.
const HEADER: u64 = 8;
/// The longest record a queue takes.
pub const MAX_RECORD: usize = 16 << 20;

/// A place in the queue: a segment and an offset in it.
pub type Position = (u64, u64);

/// Records waiting on disk, in order.
#[derive(Debug)]
pub struct DiskQueue {
    dir: PathBuf,
    /// Bytes the queue may hold, at most, before `push` refuses.
    max_bytes: u64,
    /// Segments present, oldest first.
    segments: Vec<u64>,
    writer: File,
    write_len: u64,
    /// Where the next record to hand on starts.
    read: (u64, u64),
    reader: Option<(u64, BufReader<File>, u64)>,
    /// Records damaged on disk, passed over.
    pub damaged: u64,
}

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:010}.seg"))
}

impl DiskQueue {
    /// Opens (creating) the queue in `dir`, holding at most `max_bytes`.
    pub fn open(dir: &Path, max_bytes: u64) -> io::Result<DiskQueue> {
        fs::create_dir_all(dir)?;
        let mut segments: Vec<u64> = fs::read_dir(dir)?
            .filter_map(|e| {
                let name = e.ok()?.file_name();
                name.to_str()?.strip_suffix(".seg")?.parse().ok()
            })
            .collect();
        segments.sort_unstable();
        let read = read_position(dir).unwrap_or((segments.first().copied().unwrap_or(0), 0));
        // Segments wholly before the read position were handed on.
        for &n in segments.iter().filter(|n| **n < read.0) {
            let _ = fs::remove_file(segment_path(dir, n));
        }
        segments.retain(|n| *n >= read.0);
        if segments.is_empty() {
            segments.push(read.0);
        }
        let last = *segments.last().unwrap_or(&read.0);
        let path = segment_path(dir, last);
        let writer = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)?;
        // A record cut short by a kill ends the last segment.
        let whole = whole_length(&path)?;
        let damaged = u64::from(whole < writer.metadata()?.len());
        if damaged > 0 {
            writer.set_len(whole)?;
        }
        Ok(DiskQueue {
            dir: dir.to_path_buf(),
            max_bytes,
            segments,
            writer,
            write_len: whole,
            read,
            reader: None,
            damaged,
        })
    }

    /// Bytes held on disk.
    pub fn bytes(&self) -> u64 {
        let full = (self.segments.len() as u64).saturating_sub(1) * SEGMENT_BYTES;
        (full + self.write_len).saturating_sub(self.read.1)
    }

    /// Whether every record was handed on.
    pub fn is_empty(&self) -> bool {
        self.read == (*self.segments.last().unwrap_or(&0), self.write_len)
    }

    /// Whether `more` bytes of records fit.
    pub fn has_room(&self, more: u64) -> bool {
        self.bytes() + more <= self.max_bytes || self.is_empty()
    }

    /// Appends `records` and syncs them to disk.
    pub fn push(&mut self, records: &[Vec<u8>]) -> io::Result<()> {
        let mut out = Vec::new();
        for r in records {
            if r.len() > MAX_RECORD {
                return Err(io::Error::other(format!(
                    "a record of {} bytes is larger than a queue takes",
                    r.len()
                )));
            }
            out.extend_from_slice(&(r.len() as u32).to_le_bytes());
            out.extend_from_slice(&crc32fast::hash(r).to_le_bytes());
            out.extend_from_slice(r);
            if self.write_len + out.len() as u64 >= SEGMENT_BYTES {
                self.writer.write_all(&out)?;
                self.writer.sync_data()?;
                out.clear();
                self.next_segment()?;
            }
        }
        if !out.is_empty() {
            self.writer.write_all(&out)?;
            self.writer.sync_data()?;
            self.write_len += out.len() as u64;
        }
        Ok(())
    }

    fn next_segment(&mut self) -> io::Result<()> {
        let n = self.segments.last().copied().unwrap_or(0) + 1;
        self.writer = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(segment_path(&self.dir, n))?;
        self.segments.push(n);
        self.write_len = 0;
        Ok(())
    }

    /// Up to `max` records from the read position, without moving it,
    /// each with where the position moves to once it is taken.
    pub fn peek(&mut self, max: usize) -> io::Result<Vec<(Vec<u8>, Position)>> {
        let mut out = Vec::new();
        let mut at = self.read;
        let last = *self.segments.last().unwrap_or(&0);
        while out.len() < max {
            if at.0 == last && at.1 >= self.write_len {
                break;
            }
            let reader = match &mut self.reader {
                Some((n, r, pos)) if *n == at.0 && *pos == at.1 => r,
                _ => {
                    let mut file = File::open(segment_path(&self.dir, at.0))?;
                    file.seek(SeekFrom::Start(at.1))?;
                    &mut self.reader.insert((at.0, BufReader::new(file), at.1)).1
                }
            };
            match read_record(reader)? {
                Some(record) => {
                    at.1 += HEADER + record.len() as u64;
                    out.push((record, at));
                    if let Some((_, _, pos)) = &mut self.reader {
                        *pos = at.1;
                    }
                }
                None if at.0 < last => {
                    // The end of a closed segment, or damage in it: on to
                    // the next.
                    if at.1 < fs::metadata(segment_path(&self.dir, at.0))?.len() {
                        self.damaged += 1;
                    }
                    let next = self.segments.iter().find(|n| **n > at.0).copied();
                    at = (next.unwrap_or(last), 0);
                    self.reader = None;
                }
                None => break,
            }
        }
        Ok(out)
    }

    /// Marks everything up to `to` (as `peek` gave it) taken: the read
    /// position moves there, durably, and segments wholly taken go.
    pub fn ack(&mut self, mut to: Position) -> io::Result<()> {
        // The end of a closed segment is the start of the next one.
        while let Some(next) = self.segments.iter().find(|n| **n > to.0).copied() {
            if to.1 < fs::metadata(segment_path(&self.dir, to.0))?.len() {
                break;
            }
            to = (next, 0);
        }
        self.read = to;
        let tmp = self.dir.join("position.tmp");
        {
            let mut f = File::create(&tmp)?;
            writeln!(f, "{} {}", to.0, to.1)?;
            f.sync_data()?;
        }
        fs::rename(&tmp, self.dir.join("position"))?;
        while self.segments.len() > 1 && self.segments[0] < to.0 {
            let n = self.segments.remove(0);
            fs::remove_file(segment_path(&self.dir, n))?;
        }
        Ok(())
    }
}

fn read_position(dir: &Path) -> Option<(u64, u64)> {
    let text = fs::read_to_string(dir.join("position")).ok()?;
    let (seg, off) = text.trim().split_once(' ')?;
    Some((seg.parse().ok()?, off.parse().ok()?))
}

/// The next whole record, or none at the end (or at a damaged record).
fn read_record(r: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut header = [0u8; HEADER as usize];
    if let Err(e) = r.read_exact(&mut header) {
        return match e.kind() {
            io::ErrorKind::UnexpectedEof => Ok(None),
            _ => Err(e),
        };
    }
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if len > MAX_RECORD {
        return Ok(None);
    }
    let mut record = vec![0u8; len];
    if let Err(e) = r.read_exact(&mut record) {
        return match e.kind() {
            io::ErrorKind::UnexpectedEof => Ok(None),
            _ => Err(e),
        };
    }
    Ok((crc32fast::hash(&record) == crc).then_some(record))
}

/// How much of the segment at `path` is whole records.
fn whole_length(path: &Path) -> io::Result<u64> {
    let mut r = BufReader::new(File::open(path)?);
    let mut whole = 0;
    while let Some(record) = read_record(&mut r)? {
        whole += HEADER + record.len() as u64;
    }
    Ok(whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(from: usize, n: usize) -> Vec<Vec<u8>> {
        (from..from + n)
            .map(|i| format!("record {i} {}", "x".repeat(i % 50)).into_bytes())
            .collect()
    }

    fn drain(q: &mut DiskQueue) -> Vec<Vec<u8>> {
        let mut all = Vec::new();
        loop {
            let got = q.peek(100).unwrap();
            let Some((_, to)) = got.last() else {
                return all;
            };
            q.ack(*to).unwrap();
            all.extend(got.into_iter().map(|(r, _)| r));
        }
    }

    fn records_of(got: Vec<(Vec<u8>, Position)>) -> Vec<Vec<u8>> {
        got.into_iter().map(|(r, _)| r).collect()
    }

    #[test]
    fn records_come_back_in_order_across_segments_and_reopenings() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = DiskQueue::open(dir.path(), u64::MAX).unwrap();
        // Large records: several segments.
        let big: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 1 << 20]).collect();
        q.push(&big[..20]).unwrap();
        let first = q.peek(5).unwrap();
        q.ack(first[4].1).unwrap();
        assert_eq!(records_of(first), big[..5]);
        drop(q);
        let mut q = DiskQueue::open(dir.path(), u64::MAX).unwrap();
        q.push(&big[20..]).unwrap();
        assert_eq!(drain(&mut q), big[5..]);
        assert!(q.is_empty());
        // Taken segments are gone.
        let left = fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension() == Some("seg".as_ref()))
            .count();
        assert_eq!(left, 1);
    }

    #[test]
    fn what_was_peeked_but_not_taken_comes_again_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = DiskQueue::open(dir.path(), u64::MAX).unwrap();
        q.push(&records(0, 10)).unwrap();
        let got = q.peek(4).unwrap();
        assert_eq!(got.len(), 4);
        // Only the first two are marked taken.
        q.ack(got[1].1).unwrap();
        drop(q);
        let mut q = DiskQueue::open(dir.path(), u64::MAX).unwrap();
        assert_eq!(drain(&mut q), records(2, 8));
    }

    #[test]
    fn a_torn_last_record_is_cut_off_and_the_queue_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = DiskQueue::open(dir.path(), u64::MAX).unwrap();
        q.push(&records(0, 3)).unwrap();
        drop(q);
        let seg = segment_path(dir.path(), 0);
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        // Half a record: a header promising more bytes than follow.
        f.write_all(&100u32.to_le_bytes()).unwrap();
        f.write_all(b"\x01\x02\x03\x04short").unwrap();
        drop(f);
        let mut q = DiskQueue::open(dir.path(), u64::MAX).unwrap();
        q.push(&records(3, 2)).unwrap();
        assert_eq!(drain(&mut q), records(0, 5));
    }

    #[test]
    fn a_full_queue_says_so_until_records_are_taken() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = DiskQueue::open(dir.path(), 1000).unwrap();
        assert!(q.has_room(900));
        q.push(&[vec![7u8; 900]]).unwrap();
        assert!(!q.has_room(200));
        let got = q.peek(1).unwrap();
        q.ack(got[0].1).unwrap();
        assert!(q.has_room(200));
    }

    #[test]
    fn a_damaged_record_in_a_closed_segment_is_counted_and_passed_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = DiskQueue::open(dir.path(), u64::MAX).unwrap();
        let big: Vec<Vec<u8>> = (0..12u8).map(|i| vec![i; 1 << 20]).collect();
        q.push(&big).unwrap();
        drop(q);
        // Flip a byte inside the first segment's third record.
        let seg = segment_path(dir.path(), 0);
        let mut bytes = fs::read(&seg).unwrap();
        let at = 2 * (HEADER as usize + (1 << 20)) + 100;
        bytes[at] ^= 0xff;
        fs::write(&seg, bytes).unwrap();
        let mut q = DiskQueue::open(dir.path(), u64::MAX).unwrap();
        let got = drain(&mut q);
        assert_eq!(got[..2], big[..2]);
        assert_eq!(q.damaged, 1);
        // The records of the next segments all come.
        assert!(got.ends_with(&big[8..]), "{}", got.len());
    }
}
