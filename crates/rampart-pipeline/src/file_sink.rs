//! The file sink: JSON lines or CSV appended to a file that is set aside
//! when it grows past a size or an age (always at a record's end, so no
//! record is split between two files), the oldest set-aside files removed
//! beyond a count. A set-aside file is named after the time it was set
//! aside (`alerts.jsonl` → `alerts-20261206T150812Z.jsonl`), so names
//! sort by age and never collide with the live file. CSV cells that a
//! spreadsheet would run as formulas are neutralised, and each file
//! starts with its header.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rampart_detect::Alert;
use rampart_engine::output::{alert_csv_cells, csv_line, ALERT_CSV_HEADER};
use rampart_event::Event;

use crate::output::Output;

/// When the file is set aside.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rotation {
    /// Once it holds this many bytes.
    pub bytes: Option<u64>,
    /// Once it is this old.
    pub every: Option<Duration>,
    /// Set-aside files kept, at most (none: all).
    pub keep: Option<usize>,
}

/// What a line of the file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lines {
    /// An alert or an event as JSON.
    Json,
    /// CSV rows of alerts.
    AlertCsv,
    /// CSV rows of events: each column's name and the field it reads (a
    /// template's record names and their own values, when there is one).
    EventCsv(Vec<(String, String)>),
}

/// The columns of events as CSV when no template names them.
pub const EVENT_CSV_COLUMNS: [&str; 10] = [
    "@timestamp",
    "event.dataset",
    "host.name",
    "source.ip",
    "destination.ip",
    "user.name",
    "event.action",
    "event.outcome",
    "event.code",
    "message",
];

/// A file sink's writer.
pub struct FileSink {
    file: Rotating,
    lines: Lines,
    header: Option<Vec<u8>>,
    /// Whether records come as a template's JSON.
    templated: bool,
}

impl FileSink {
    /// Appends to `path`, set aside by `rotation`; `templated` when events
    /// come as a template's records.
    pub fn open(
        path: &Path,
        lines: Lines,
        rotation: Rotation,
        templated: bool,
    ) -> io::Result<FileSink> {
        Ok(FileSink {
            file: Rotating::open(path, rotation, lines == Lines::Json)?,
            header: header(&lines),
            lines,
            templated,
        })
    }

    fn write(&mut self, line: &[u8]) -> io::Result<()> {
        self.file.record(line, self.header.as_deref())
    }
}

/// The CSV header: names from the pipeline file, not from the logs, so
/// written as they are (`@timestamp` is no formula here).
fn header(lines: &Lines) -> Option<Vec<u8>> {
    let names: Vec<&str> = match lines {
        Lines::Json => return None,
        Lines::AlertCsv => ALERT_CSV_HEADER.to_vec(),
        Lines::EventCsv(columns) => columns.iter().map(|(name, _)| name.as_str()).collect(),
    };
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    w.write_record(names).ok()?;
    w.into_inner().ok()
}

impl Output for FileSink {
    fn alert(&mut self, alert: &Alert) -> io::Result<()> {
        let line = match &self.lines {
            Lines::Json => {
                let mut json = Vec::with_capacity(1024);
                alert.write_json(&mut json)?;
                json.push(b'\n');
                json
            }
            Lines::AlertCsv => {
                let cells = alert_csv_cells(alert);
                csv_line(cells.iter().map(String::as_str))?
            }
            // A CSV of events takes no alerts (the file says which it takes).
            Lines::EventCsv(_) => return Ok(()),
        };
        self.write(&line)
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        let line = match &self.lines {
            Lines::Json => {
                let mut json = Vec::with_capacity(512);
                event.write_json(&mut json);
                json.push(b'\n');
                json
            }
            Lines::EventCsv(columns) => {
                let cells: Vec<String> = columns
                    .iter()
                    .map(|(_, field)| event.get(field).map(|v| v.to_string()).unwrap_or_default())
                    .collect();
                csv_line(cells.iter().map(String::as_str))?
            }
            Lines::AlertCsv => return Ok(()),
        };
        self.write(&line)
    }

    fn record(&mut self, json: &[u8]) -> io::Result<()> {
        let line = match &self.lines {
            Lines::EventCsv(columns) => {
                let record: serde_json::Value =
                    serde_json::from_slice(json).map_err(io::Error::other)?;
                // A template's record by its names; a transformed event by
                // the columns' dotted paths.
                let cells: Vec<String> = columns
                    .iter()
                    .map(|(name, field)| {
                        let value = if self.templated {
                            record.get(name)
                        } else {
                            field.split('.').try_fold(&record, |v, key| v.get(key))
                        };
                        match value {
                            None | Some(serde_json::Value::Null) => String::new(),
                            Some(serde_json::Value::String(s)) => s.clone(),
                            Some(other) => other.to_string(),
                        }
                    })
                    .collect();
                csv_line(cells.iter().map(String::as_str))?
            }
            Lines::AlertCsv => return Ok(()),
            Lines::Json => {
                let mut line = json.to_vec();
                line.push(b'\n');
                line
            }
        };
        self.write(&line)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Cuts a record that a killed run left half written off the end of the
/// file at `path`: what follows its last newline. That record was never
/// acknowledged, so its source gives it again.
fn drop_torn_tail(path: &Path) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    // A pipe or a device (`/dev/stdout`) has no tail to cut.
    if !meta.is_file() || meta.len() == 0 {
        return Ok(());
    }
    let len = meta.len();
    let mut end = len;
    let mut chunk = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let piece = &mut chunk[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(piece)?;
        if let Some(at) = piece.iter().rposition(|&b| b == b'\n') {
            let keep = start + at as u64 + 1;
            if keep < len {
                file.set_len(keep)?;
            }
            return Ok(());
        }
        end = start;
    }
    // Not one whole record.
    file.set_len(0)
}

/// A file appended to and set aside by its rotation.
struct Rotating {
    path: PathBuf,
    out: BufWriter<File>,
    size: u64,
    opened: SystemTime,
    rotation: Rotation,
}

impl Rotating {
    /// `trim_torn` for files of one record a line (JSON lines), whose last
    /// newline ends the last whole record; a CSV cell may hold newlines.
    fn open(path: &Path, rotation: Rotation, trim_torn: bool) -> io::Result<Rotating> {
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)?;
        }
        if trim_torn {
            drop_torn_tail(path)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let meta = file.metadata()?;
        // A file left by an earlier run keeps its age.
        let opened = meta
            .created()
            .or_else(|_| meta.modified())
            .unwrap_or_else(|_| SystemTime::now());
        Ok(Rotating {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
            size: meta.len(),
            opened: if meta.len() == 0 {
                SystemTime::now()
            } else {
                opened
            },
            rotation,
        })
    }

    /// Appends one record (whole lines), after setting the file aside if
    /// it is due, and after `header` when the file is new.
    fn record(&mut self, line: &[u8], header: Option<&[u8]>) -> io::Result<()> {
        let too_big = self
            .rotation
            .bytes
            .is_some_and(|max| self.size > 0 && self.size + line.len() as u64 > max);
        let too_old = self.rotation.every.is_some_and(|every| {
            self.size > 0 && self.opened.elapsed().is_ok_and(|age| age >= every)
        });
        if too_big || too_old {
            self.rotate()?;
        }
        if self.size == 0 {
            if let Some(h) = header {
                self.out.write_all(h)?;
                self.size += h.len() as u64;
            }
        }
        self.out.write_all(line)?;
        self.size += line.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Sets the file aside under its time, starts a new one, and removes
    /// the oldest set-aside files beyond `keep`.
    fn rotate(&mut self) -> io::Result<()> {
        self.out.flush()?;
        let stamp = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%SZ")
            .to_string();
        let (stem, ext) = parts(&self.path);
        let folder = self.path.parent().unwrap_or(Path::new(""));
        let mut aside = folder.join(format!("{stem}-{stamp}{ext}"));
        let mut n = 1;
        while aside.exists() {
            aside = folder.join(format!("{stem}-{stamp}-{n}{ext}"));
            n += 1;
        }
        std::fs::rename(&self.path, &aside)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.out = BufWriter::new(file);
        self.size = 0;
        self.opened = SystemTime::now();
        if let Some(keep) = self.rotation.keep {
            let mut old = set_aside(&self.path)?;
            old.sort();
            let extra = old.len().saturating_sub(keep);
            for path in &old[..extra] {
                std::fs::remove_file(path)?;
            }
        }
        Ok(())
    }
}

/// A file name's stem and its extension with the dot (`alerts`, `.jsonl`).
fn parts(path: &Path) -> (String, String) {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (stem, ext)
}

/// The set-aside files of `path`: `{stem}-{time}[-n]{ext}` beside it.
fn set_aside(path: &Path) -> io::Result<Vec<PathBuf>> {
    let (stem, ext) = parts(path);
    let folder = match path.parent() {
        Some(f) if !f.as_os_str().is_empty() => f.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prefix = format!("{stem}-");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&folder)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let Some(middle) = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(ext.as_str()))
        else {
            continue;
        };
        // A time as rotation writes it, and perhaps a counter.
        let time = middle.split('-').next().unwrap_or("");
        if time.len() == 16 && time.ends_with('Z') && time.as_bytes()[8] == b'T' {
            out.push(folder.join(name));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::{Origin, Value};

    fn event(n: u64) -> Event {
        let mut e = Event::new(Origin::new("t.log", n), format!("line {n}"));
        e.insert("source.ip", Value::Str(format!("=cmd|' /C calc'!A{n}")));
        e.insert("message", Value::Str(format!("message {n}")));
        e
    }

    #[test]
    fn a_file_is_set_aside_at_its_size_with_whole_records_and_the_oldest_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let rotation = Rotation {
            bytes: Some(2_000),
            every: None,
            keep: Some(3),
        };
        let mut sink = FileSink::open(&path, Lines::Json, rotation, false).unwrap();
        let mut written = 0;
        for n in 1..=200 {
            sink.event(&event(n)).unwrap();
            written += 1;
        }
        sink.flush().unwrap();
        let aside = set_aside(&path).unwrap();
        assert_eq!(aside.len(), 3, "{aside:?}");
        let mut lines = 0;
        for file in aside.iter().chain([&path]) {
            let text = std::fs::read_to_string(file).unwrap();
            assert!(
                text.len() <= 2_000,
                "{}: {} bytes",
                file.display(),
                text.len()
            );
            for line in text.lines() {
                serde_json::from_str::<serde_json::Value>(line).unwrap();
                lines += 1;
            }
        }
        // The newest lines are kept; the oldest files went.
        assert!(lines < written);
        let last = std::fs::read_to_string(&path).unwrap();
        assert!(last.lines().last().unwrap().contains("line 200"));
    }

    #[test]
    fn a_record_torn_by_a_killed_run_is_cut_before_the_next_run_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        // A killed run's last record, half written, long enough to span
        // chunks of the backward search.
        let torn = format!("{{\"message\":\"{}", "x".repeat(100_000));
        std::fs::write(&path, format!("{{\"n\":1}}\n{{\"n\":2}}\n{torn}")).unwrap();
        let mut sink = FileSink::open(&path, Lines::Json, Rotation::default(), false).unwrap();
        sink.event(&event(3)).unwrap();
        sink.flush().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{}", &text[..200.min(text.len())]);
        for line in lines {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
        // A file of one torn record holds no whole one.
        std::fs::write(&path, "{\"cut").unwrap();
        drop(FileSink::open(&path, Lines::Json, Rotation::default(), false).unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"");
    }

    #[test]
    fn csv_files_start_with_their_header_and_neutralise_formulas() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.csv");
        let columns: Vec<(String, String)> = EVENT_CSV_COLUMNS
            .iter()
            .map(|c| (c.to_string(), c.to_string()))
            .collect();
        let rotation = Rotation {
            bytes: Some(400),
            ..Rotation::default()
        };
        let mut sink = FileSink::open(&path, Lines::EventCsv(columns), rotation, false).unwrap();
        for n in 1..=20 {
            sink.event(&event(n)).unwrap();
        }
        sink.flush().unwrap();
        let mut files = set_aside(&path).unwrap();
        assert!(files.len() > 1);
        files.push(path);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(text.starts_with("@timestamp,event.dataset,"), "{text}");
            for row in text.lines().skip(1) {
                assert!(row.contains(",'=cmd|"), "{row}");
            }
        }
    }
}
