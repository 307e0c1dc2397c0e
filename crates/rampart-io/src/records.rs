//! Files of records that are not lines of text: systemd journal files and
//! their export format, and the login records (`wtmp`, `btmp`, `lastlog`).
//! Each is known by its first bytes or, for the login files, which have no
//! magic, by its name and a size that is a whole number of records. Their
//! events go through the same batches as any file's.

use std::io::{BufReader, Read};
use std::path::Path;

use rampart_parse::formats::journal::{self as entries, is_export, read_export};
use rampart_parse::formats::login::{lastlog_event, utmp_event, LoginFile};
use rampart_parse::{FileContext, Output};

use crate::journal;
use crate::open::open;

/// The largest record file read (they are read whole).
const MAX_RECORD_FILE: u64 = 4 << 30;

/// A file of records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFile {
    /// A binary journal file.
    Journal,
    /// `journalctl -o export` output.
    JournalExport,
    /// A login records file.
    Login(LoginFile),
}

impl RecordFile {
    /// The name reports give the file's format.
    pub fn format_name(self) -> &'static str {
        match self {
            RecordFile::Journal => "journal",
            RecordFile::JournalExport => "journal-export",
            RecordFile::Login(LoginFile::Wtmp) => "wtmp",
            RecordFile::Login(LoginFile::Btmp) => "btmp",
            RecordFile::Login(LoginFile::Lastlog) => "lastlog",
        }
    }
}

/// The kind of record file `path` is, if it is one.
pub fn kind_of(path: &Path) -> Option<RecordFile> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let mut head = Vec::with_capacity(32);
    open(path).ok()?.take(32).read_to_end(&mut head).ok()?;
    let mut raw = [0u8; 2];
    let gzipped = std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut raw))
        .is_ok()
        && raw == [0x1f, 0x8b];
    if head.starts_with(entries::FILE_MAGIC) {
        return Some(RecordFile::Journal);
    }
    if is_export(&head) {
        return Some(RecordFile::JournalExport);
    }
    let name = path.file_name()?.to_str()?;
    let login = LoginFile::of_name(name)?;
    // A compressed copy's size says nothing; its records are checked as
    // they are read.
    (gzipped || (meta.len() > 0 && meta.len().is_multiple_of(login.record_size() as u64)))
        .then_some(RecordFile::Login(login))
}

/// Reads record file `path` of kind `kind` into `out`, handing it to
/// `send` every `batch` events; returns how many records were read.
pub fn read(
    path: &Path,
    kind: RecordFile,
    ctx: &FileContext,
    batch: usize,
    out: &mut Output,
    mut send: impl FnMut(&mut Output),
) -> Result<u64, String> {
    let format = kind.format_name();
    // Counted under the file's format, whatever dataset each event has.
    let mut push = |out: &mut Output, event| {
        out.event(format, event);
        if out.events.len() >= batch.max(1) {
            send(out);
        }
    };
    match kind {
        RecordFile::JournalExport => {
            let reader = BufReader::new(open(path).map_err(|e| e.to_string())?);
            read_export(reader, |no, text, fields| {
                push(out, entries::event(ctx, no, text, fields).1);
            })
            .map_err(|e| e.to_string())
        }
        RecordFile::Journal => {
            let bytes = read_whole(path)?;
            let mut skipped = 0;
            let result = journal::read(&bytes, &mut skipped, |entry| {
                push(
                    out,
                    entries::file_entry(ctx, entry.number, entry.realtime, entry.fields).1,
                );
            });
            for _ in 0..skipped {
                out.quality("unreadable-journal-field");
            }
            result
        }
        RecordFile::Login(login) => {
            // Record by record: lastlog is sparse, its size set by the
            // highest user id.
            let size = login.record_size();
            let mut input = open(path).map_err(|e| e.to_string())?.take(MAX_RECORD_FILE);
            let mut record = vec![0u8; size];
            let mut records = 0u64;
            loop {
                let got = read_full(&mut input, &mut record).map_err(|e| e.to_string())?;
                if got == 0 {
                    break;
                }
                if got < size {
                    return Err(format!(
                        "the last {format} record is cut short: {got} of {size} bytes"
                    ));
                }
                let i = records;
                records += 1;
                let record = &record[..];
                let event = match login {
                    LoginFile::Lastlog => lastlog_event(ctx, i, record),
                    LoginFile::Btmp => utmp_event(ctx, i + 1, record, true),
                    LoginFile::Wtmp => utmp_event(ctx, i + 1, record, false),
                };
                match event {
                    Some(e) => push(out, e),
                    None => out.skipped(),
                }
            }
            Ok(records)
        }
    }
}

/// Fills `buf` from `input` as far as it goes; how many bytes it got.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The whole file, decompressed, refused past [`MAX_RECORD_FILE`].
fn read_whole(path: &Path) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    open(path)
        .map_err(|e| e.to_string())?
        .take(MAX_RECORD_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_RECORD_FILE {
        return Err(format!("larger than {} GiB", MAX_RECORD_FILE >> 30));
    }
    Ok(bytes)
}
