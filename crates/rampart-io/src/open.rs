//! Opening an input: plain text, gzip (by content, not by name), standard input.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

/// Why a file could not be opened for reading.
#[derive(Debug)]
pub enum OpenError {
    /// The operating system refused (missing, unreadable, a folder).
    Io(io::Error),
    /// The file is in a binary format this build does not read yet.
    Unsupported(&'static str),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Io(e) => write!(f, "{e}"),
            OpenError::Unsupported(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for OpenError {}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const EVTX_MAGIC: &[u8] = b"ElfFile\0";

/// Opens `path` (`-` is standard input) for reading, decompressing gzip.
pub fn open(path: &Path) -> Result<Box<dyn Read + Send>, OpenError> {
    let mut reader: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).map_err(OpenError::Io)?)
    };
    let mut head = [0u8; 8];
    let mut got = 0;
    while got < head.len() {
        match reader.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(OpenError::Io(e)),
        }
    }
    let head = &head[..got];
    if head.starts_with(EVTX_MAGIC) {
        return Err(OpenError::Unsupported(
            "binary EVTX is not read by this version; export it with wevtutil or evtx_dump to XML/JSON",
        ));
    }
    let whole = io::Cursor::new(head.to_vec()).chain(reader);
    if head.starts_with(GZIP_MAGIC) {
        Ok(Box::new(MultiGzDecoder::new(BufReader::new(whole))))
    } else {
        Ok(Box::new(whole))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_is_read_by_content_and_truncation_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.txt");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"line one\nline two\n").unwrap();
        let bytes = gz.finish().unwrap();
        std::fs::write(&path, &bytes).unwrap();
        let mut text = String::new();
        open(&path).unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "line one\nline two\n");

        std::fs::write(&path, &bytes[..bytes.len() - 6]).unwrap();
        let mut text = String::new();
        assert!(open(&path).unwrap().read_to_string(&mut text).is_err());
    }

    #[test]
    fn evtx_is_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.evtx");
        std::fs::write(&path, b"ElfFile\0rest").unwrap();
        assert!(matches!(open(&path), Err(OpenError::Unsupported(_))));
    }
}
