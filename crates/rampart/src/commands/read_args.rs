//! The reading options every command that reads logs takes (`parse`,
//! `hunt`): the syslog year, the zone of offset-less times, worker threads,
//! recovery of carved EVTX records, a forced input format, and the file
//! that keeps the lines no format understood.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use rampart_event::time::Zone;
use rampart_io::ReadOptions;
use rampart_parse::{DeadLetter, ParseOptions};

/// How logs are read.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Year of syslog lines that carry none (default: from the file's modification time).
    #[arg(long)]
    year: Option<i16>,
    /// Zone of times that carry no offset: an IANA name or an offset such as +02:00.
    #[arg(
        long,
        default_value = "UTC",
        env = "RAMPART_TIMEZONE",
        allow_hyphen_values = true,
        value_parser = zone_name
    )]
    timezone: String,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Also read EVTX records carved from unallocated space (what cleared or
    /// overwritten logs leave behind), marked `rampart.recovered`.
    #[arg(long)]
    recover_records: bool,
    /// Read every file as this format instead of detecting it (see `rampart formats`).
    #[arg(long, value_name = "FORMAT", value_parser = format_name)]
    input_format: Option<String>,
    /// Write lines that parse as nothing to this file (JSON lines).
    #[arg(long, value_name = "FILE")]
    dead_letter: Option<PathBuf>,
}

/// A zone `--timezone` takes; anything else is bad usage (exit code 2).
fn zone_name(name: &str) -> Result<String, String> {
    Zone::named(name)
        .map(|_| name.to_owned())
        .map_err(|e| e.to_string())
}

/// A format `--input-format` takes.
fn format_name(name: &str) -> Result<String, String> {
    match rampart_parse::by_name(name) {
        Some(_) => Ok(name.to_owned()),
        None => Err(format!(
            "unknown input format '{name}': run `rampart formats` to list them"
        )),
    }
}

impl ReadArgs {
    /// The reader's options; an unknown time zone or input format is an error.
    pub fn options(&self) -> anyhow::Result<ReadOptions> {
        // The name was checked when the arguments were read.
        let forced = self
            .input_format
            .as_deref()
            .and_then(rampart_parse::by_name);
        let mut options = ReadOptions {
            parse: ParseOptions {
                year: self.year,
                zone: Zone::named(&self.timezone)?,
            },
            recover_evtx: self.recover_records,
            forced,
            ..Default::default()
        };
        if let Some(t) = self.threads {
            options.threads = t.max(1);
        }
        Ok(options)
    }

    /// The dead-letter file, created, when one was asked for.
    pub fn dead_letters(&self) -> anyhow::Result<Option<DeadLetters>> {
        let Some(path) = &self.dead_letter else {
            return Ok(None);
        };
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Some(DeadLetters {
            out: BufWriter::new(file),
        }))
    }
}

/// The lines no format understood, one JSON object each: file, line,
/// reason and text.
pub struct DeadLetters {
    out: BufWriter<File>,
}

impl DeadLetters {
    /// Writes the dead letters of one batch of `path`.
    pub fn write(&mut self, path: &Path, dead: &[DeadLetter]) -> std::io::Result<()> {
        let path = path.display().to_string();
        for d in dead {
            let record = serde_json::json!({"path": path, "line": d.line, "reason": d.reason, "text": d.text, "bytes": d.bytes, "cut": d.bytes > d.text.len()});
            writeln!(self.out, "{record}")?;
        }
        Ok(())
    }

    /// Flushes the file.
    pub fn finish(mut self) -> anyhow::Result<()> {
        self.out
            .flush()
            .context("cannot write the dead-letter file")
    }
}
