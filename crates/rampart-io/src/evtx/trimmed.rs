//! An EVTX file without its zeroed tail. Windows sizes a log ahead of what
//! it holds, so many files end in chunks of zeros. The crate reads each of
//! them and tests it byte by byte, which cost a tenth of decoding the attack
//! samples. Whole zeroed chunks at the end hold nothing and the crate skips
//! them anyway, so the stream it is given ends where they begin; they are
//! found here from the end, a block of bytes at a time.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

const HEADER: u64 = 4096;
const CHUNK: u64 = 65_536;
/// Where the file header states its own size.
const BLOCK_SIZE_AT: u64 = 40;

/// A file, read and sought as if it ended at `len`.
pub struct Trimmed {
    file: File,
    len: u64,
    pos: u64,
}

impl Trimmed {
    pub fn open(path: &Path) -> io::Result<Self> {
        let mut file = File::open(path)?;
        let size = file.metadata()?.len();
        let mut len = size;
        // The crate counts chunks from the header block size the file states:
        // with any other than the usual one, the file is left whole. So is a
        // file whose last chunk is partial, for the reader to report.
        let mut block = [0; 2];
        file.seek(SeekFrom::Start(BLOCK_SIZE_AT))?;
        let usual =
            file.read_exact(&mut block).is_ok() && u64::from(u16::from_le_bytes(block)) == HEADER;
        if usual && size >= HEADER && (size - HEADER).is_multiple_of(CHUNK) {
            // A chunk in use starts with its magic: most files stop there.
            let (mut head, mut rest) = ([0; 8], Vec::new());
            while len >= HEADER + CHUNK {
                file.seek(SeekFrom::Start(len - CHUNK))?;
                file.read_exact(&mut head)?;
                if head != [0; 8] {
                    break;
                }
                rest.resize(CHUNK as usize - head.len(), 0);
                file.read_exact(&mut rest)?;
                if !is_zero(&rest) {
                    break;
                }
                len -= CHUNK;
            }
        }
        file.rewind()?;
        Ok(Trimmed { file, len, pos: 0 })
    }
}

/// Whether every byte is zero: whole blocks are folded, which vectorises,
/// and only between blocks does the test stop early.
fn is_zero(bytes: &[u8]) -> bool {
    bytes
        .chunks(4096)
        .all(|block| block.iter().fold(0, |acc, b| acc | b) == 0)
}

impl Read for Trimmed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.len.saturating_sub(self.pos)).unwrap_or(usize::MAX);
        let take = buf.len().min(left);
        let n = self.file.read(&mut buf[..take])?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Trimmed {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        self.pos = self.file.seek(SeekFrom::Start(target))?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_of(chunks: &[u8], tail: usize) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let mut header = vec![7; HEADER as usize];
        header[40..42].copy_from_slice(&(HEADER as u16).to_le_bytes());
        f.write_all(&header).unwrap();
        for &fill in chunks {
            let mut chunk = vec![0; CHUNK as usize];
            // A single byte late in the chunk: the test must see it.
            chunk[CHUNK as usize - 3] = fill;
            f.write_all(&chunk).unwrap();
        }
        f.write_all(&vec![1; tail]).unwrap();
        f
    }

    fn read_all(t: &mut Trimmed) -> Vec<u8> {
        let mut out = Vec::new();
        t.read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn zeroed_chunks_at_the_end_are_left_out_and_nothing_else() {
        let f = file_of(&[1, 0, 2, 0, 0], 0);
        let mut t = Trimmed::open(f.path()).unwrap();
        assert_eq!(t.len, HEADER + 3 * CHUNK);
        let bytes = read_all(&mut t);
        assert_eq!(bytes.len() as u64, t.len);
        assert_eq!(bytes, std::fs::read(f.path()).unwrap()[..bytes.len()]);
        assert_eq!(t.seek(SeekFrom::End(0)).unwrap(), t.len);
        assert_eq!(t.seek(SeekFrom::End(-10)).unwrap(), t.len - 10);
        assert_eq!(read_all(&mut t).len(), 10);
        assert!(t.seek(SeekFrom::Current(-(t.len as i64) - 1)).is_err());
    }

    #[test]
    fn a_file_with_a_partial_last_chunk_or_no_zeroed_tail_is_whole() {
        for (chunks, tail) in [(&[0u8, 0][..], 100), (&[1, 2][..], 0), (&[][..], 0)] {
            let f = file_of(chunks, tail);
            let size = std::fs::metadata(f.path()).unwrap().len();
            let mut t = Trimmed::open(f.path()).unwrap();
            assert_eq!(t.len, size);
            assert_eq!(read_all(&mut t).len() as u64, size);
        }
        let f = file_of(&[0, 0, 0], 0);
        assert_eq!(Trimmed::open(f.path()).unwrap().len, HEADER);
        // A header stating another size: the crate counts chunks by it.
        let f = file_of(&[1, 0, 0], 0);
        let mut bytes = std::fs::read(f.path()).unwrap();
        bytes[40] = 0x80;
        std::fs::write(f.path(), &bytes).unwrap();
        assert_eq!(Trimmed::open(f.path()).unwrap().len, bytes.len() as u64);
    }
}
