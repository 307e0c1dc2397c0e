//! Cleaned copies of endpoint telemetry tables (`cleaned_process_events.csv`
//! and the like, as seed 003 names them): the source's own columns, values
//! trimmed, corrupt-marked values removed, exact duplicates left out, and a
//! `quality` column naming what was wrong with each row. Cells that would
//! start a spreadsheet formula are neutralised.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use rampart_engine::output::neutralise;
use rampart_event::Event;
use rampart_parse::formats::csv_split::Splitter;

/// The marker the telemetry writes before a corrupted value.
const CORRUPT: &str = "###CORRUPT###";

/// Writers of cleaned tables, one per telemetry source.
pub struct Cleaned {
    dir: PathBuf,
    writers: HashMap<u32, Option<csv::Writer<BufWriter<File>>>>,
    splitter: Splitter,
    /// The files written.
    pub written: Vec<PathBuf>,
}

impl Cleaned {
    /// Cleaned tables go into `dir`.
    pub fn new(dir: &Path) -> Cleaned {
        Cleaned {
            dir: dir.to_owned(),
            writers: HashMap::new(),
            splitter: Splitter::new(b','),
            written: Vec::new(),
        }
    }

    /// Writes one event's row when it came from a telemetry table.
    pub fn row(&mut self, source: u32, path: &str, e: &Event, marks: &[String]) -> io::Result<()> {
        if !matches!(e.get_str("event.dataset"), Some(d) if d.starts_with("endpoint.")) {
            return Ok(());
        }
        if !self.writers.contains_key(&source) {
            let w = self.open(path)?;
            self.writers.insert(source, w);
        }
        let Some(Some(w)) = self.writers.get_mut(&source) else {
            return Ok(());
        };
        let Some(record) = self.splitter.split(e.original()) else {
            return Ok(());
        };
        let mut cells: Vec<String> = record
            .iter()
            .map(|v| {
                let v = v.trim();
                if v.starts_with(CORRUPT) {
                    String::new()
                } else {
                    neutralise(v).into_owned()
                }
            })
            .collect();
        cells.push(marks.join(" "));
        w.write_record(&cells).map_err(io::Error::other)
    }

    /// The writer of the source at `path`, after its header; `None` when
    /// its header cannot be read again.
    fn open(&mut self, path: &str) -> io::Result<Option<csv::Writer<BufWriter<File>>>> {
        let Ok(input) = rampart_io::open(Path::new(path)) else {
            return Ok(None);
        };
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let Ok(header) = reader.headers().cloned() else {
            return Ok(None);
        };
        let stem = Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = stem
            .strip_suffix(".gz")
            .unwrap_or(&stem)
            .trim_end_matches(".csv")
            .to_owned();
        let mut name = format!("cleaned_{stem}.csv");
        let mut k = 2;
        while self.written.iter().any(|w| w.ends_with(&name)) {
            name = format!("cleaned_{stem}_{k}.csv");
            k += 1;
        }
        let target = self.dir.join(&name);
        let mut w = csv::Writer::from_writer(BufWriter::new(File::create(&target)?));
        let mut columns: Vec<String> = header
            .iter()
            .map(|h| neutralise(h.trim()).into_owned())
            .collect();
        columns.push("quality".to_owned());
        w.write_record(&columns).map_err(io::Error::other)?;
        self.written.push(target);
        Ok(Some(w))
    }

    /// Flushes every table.
    pub fn finish(self) -> io::Result<Vec<PathBuf>> {
        for w in self.writers.into_values().flatten() {
            w.into_inner()
                .map_err(|e| io::Error::other(e.to_string()))?;
        }
        Ok(self.written)
    }
}
