//! The reading options every command that reads logs takes (`parse`,
//! `hunt`): the syslog year, the zone of offset-less times, worker threads,
//! recovery of carved EVTX records.

use clap::Args;
use rampart_event::time::Zone;
use rampart_io::ReadOptions;
use rampart_parse::ParseOptions;

/// How logs are read.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Year of syslog lines that carry none (default: from the file's modification time).
    #[arg(long)]
    year: Option<i16>,
    /// Zone of times that carry no offset: an IANA name or an offset such as +02:00.
    #[arg(long, default_value = "UTC", env = "RAMPART_TIMEZONE")]
    timezone: String,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Also read EVTX records carved from unallocated space (what cleared or
    /// overwritten logs leave behind), marked `rampart.recovered`.
    #[arg(long)]
    recover_records: bool,
}

impl ReadArgs {
    /// The reader's options; an unknown time zone is an error.
    pub fn options(&self) -> anyhow::Result<ReadOptions> {
        let mut options = ReadOptions {
            parse: ParseOptions {
                year: self.year,
                zone: Zone::named(&self.timezone)?,
            },
            recover_evtx: self.recover_records,
            ..Default::default()
        };
        if let Some(t) = self.threads {
            options.threads = t.max(1);
        }
        Ok(options)
    }
}
