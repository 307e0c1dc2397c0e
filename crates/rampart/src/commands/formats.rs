//! `rampart formats`: the registry of input formats, for `--input-format`.

use std::io::Write;
use std::process::ExitCode;

/// Prints every format name with what it reads.
pub fn run() -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    for format in rampart_parse::FORMATS {
        writeln!(out, "{:<18} {}", format.name, format.description)?;
    }
    Ok(ExitCode::SUCCESS)
}
