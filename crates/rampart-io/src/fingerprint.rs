//! The first bytes of a file, by which a store knows it again after a
//! rename or compression, and while it grows.
//!
//! A text file's are its first bytes after decompression (so a rotated
//! `auth.log.1.gz` starts as `auth.log.1` did). An EVTX file's header
//! changes as records are added (the next record number, the chunk count,
//! a checksum), so its are the first records of its first chunk, which are
//! written once. A journal file's header changes too; its are the magic and
//! the file's own random id.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use crate::open::{open, OpenError};

/// Where an EVTX file's first chunk keeps its first record: the file header
/// (4 KiB) and the chunk's own header (512 bytes) come before.
const EVTX_FIRST_RECORD: u64 = 4096 + 512;

/// Where a journal file's header keeps the file's id.
const JOURNAL_FILE_ID: std::ops::Range<usize> = 24..40;

/// Up to `len` bytes of `path` that identify it (fewer if it is shorter).
pub fn head(path: &Path, len: usize) -> Result<Vec<u8>, OpenError> {
    let mut out = Vec::with_capacity(len);
    if crate::evtx::is_evtx(path) {
        let mut file = std::fs::File::open(path).map_err(OpenError::Io)?;
        file.seek(SeekFrom::Start(EVTX_FIRST_RECORD))
            .map_err(OpenError::Io)?;
        read_up_to(file, len, &mut out).map_err(OpenError::Io)?;
    } else {
        read_up_to(open(path)?, len, &mut out).map_err(OpenError::Io)?;
        if out.starts_with(rampart_parse::formats::journal::FILE_MAGIC)
            && out.len() >= JOURNAL_FILE_ID.end
        {
            out = [&out[..8], &out[JOURNAL_FILE_ID]].concat();
            out.truncate(len);
        }
    }
    Ok(out)
}

fn read_up_to(reader: impl Read, len: usize, out: &mut Vec<u8>) -> io::Result<()> {
    reader.take(len as u64).read_to_end(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_compressed_copy_starts_as_the_file_did() {
        let dir = tempfile::tempdir().unwrap();
        let text =
            "Mar 14 03:22:14 web01 sshd[1]: Accepted password for a from 192.0.2.1 port 1 ssh2\n"
                .repeat(100);
        let plain = dir.path().join("auth.log.1");
        std::fs::write(&plain, &text).unwrap();
        let gz = dir.path().join("auth.log.2.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let a = head(&plain, 4096).unwrap();
        assert_eq!(a.len(), 4096);
        assert_eq!(a, head(&gz, 4096).unwrap());
        // A journal that grows (its header's counts change) is known again.
        let journal = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../fixtures/linux/journal/system.journal"),
        )
        .unwrap();
        let path = dir.path().join("system.journal");
        std::fs::write(&path, &journal).unwrap();
        let before = head(&path, 4096).unwrap();
        let mut grown = journal.clone();
        grown[152..160].copy_from_slice(&12u64.to_le_bytes());
        std::fs::write(&path, &grown).unwrap();
        assert_eq!(head(&path, 4096).unwrap(), before);
        assert_eq!(&before[8..], &journal[24..40]);
        let short = dir.path().join("short.log");
        std::fs::write(&short, "one line\n").unwrap();
        assert_eq!(head(&short, 4096).unwrap(), b"one line\n");
    }
}
