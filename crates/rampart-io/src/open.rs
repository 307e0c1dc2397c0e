//! Opening an input: plain text, gzip (by content, not by name), standard
//! input. Text that starts with a UTF-16 byte-order mark (PowerShell and
//! Windows tools write exports that way) is transcoded to UTF-8 here, so every
//! parser sees UTF-8.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use encoding_rs_io::DecodeReaderBytesBuilder;
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
const UTF16_LE_BOM: &[u8] = &[0xff, 0xfe];
const UTF16_BE_BOM: &[u8] = &[0xfe, 0xff];

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
        // The decompressed text may carry a BOM of its own; without one it
        // passes through unchanged.
        let text = MultiGzDecoder::new(BufReader::new(whole));
        Ok(Box::new(DecodeReaderBytesBuilder::new().build(text)))
    } else if head.starts_with(UTF16_LE_BOM) || head.starts_with(UTF16_BE_BOM) {
        Ok(Box::new(DecodeReaderBytesBuilder::new().build(whole)))
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
    fn utf16_exports_become_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let text = "EventID,Message\n4625,Échec d'ouverture de session\n";
        for (name, bytes) in [
            ("le.csv", utf16(text, u16::to_le_bytes, [0xff, 0xfe])),
            ("be.csv", utf16(text, u16::to_be_bytes, [0xfe, 0xff])),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let mut read = String::new();
            open(&path).unwrap().read_to_string(&mut read).unwrap();
            assert_eq!(read, text, "{name}");
        }
        let path = dir.path().join("le.csv.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&utf16(text, u16::to_le_bytes, [0xff, 0xfe]))
            .unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let mut read = String::new();
        open(&path).unwrap().read_to_string(&mut read).unwrap();
        assert_eq!(read, text);
    }

    fn utf16(text: &str, order: fn(u16) -> [u8; 2], bom: [u8; 2]) -> Vec<u8> {
        let mut bytes = bom.to_vec();
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&order(unit));
        }
        bytes
    }

    #[test]
    fn evtx_is_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.evtx");
        std::fs::write(&path, b"ElfFile\0rest").unwrap();
        assert!(matches!(open(&path), Err(OpenError::Unsupported(_))));
    }
}
