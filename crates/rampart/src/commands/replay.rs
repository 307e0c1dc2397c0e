//! `rampart replay`: streams logs to a listener or a file in their
//! original order, at a rate or as fast as possible.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use rampart_pipeline::replay::{replay, StreamFraming, Target};

/// Arguments of `rampart replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Log files (plain or gzip), sent in the order given.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Where to: udp://HOST:PORT, tcp://HOST:PORT, nats://HOST:PORT/SUBJECT,
    /// kafka://HOST:PORT/TOPIC or a file.
    #[arg(long, value_name = "TARGET")]
    to: String,
    /// Lines a second (default: as fast as the target takes them).
    #[arg(long, value_name = "N")]
    rate: Option<f64>,
    /// How lines are framed over TCP.
    #[arg(long, value_enum, default_value_t = Framing::Newline)]
    framing: Framing,
    /// Print nothing when done.
    #[arg(long, short)]
    quiet: bool,
}

/// TCP framing, as the command line names it.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Framing {
    /// A newline after each line.
    Newline,
    /// Each line after its length and a space (RFC 6587).
    Octet,
}

/// Runs the command: 2 for a target it does not know, 1 when sending fails.
pub fn run(args: &ReplayArgs) -> anyhow::Result<ExitCode> {
    let to = match Target::parse(&args.to) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: --to {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let framing = match args.framing {
        Framing::Newline => StreamFraming::Newline,
        Framing::Octet => StreamFraming::OctetCounted,
    };
    let sent = replay(&args.files, &to, args.rate, framing).map_err(anyhow::Error::msg)?;
    if !args.quiet {
        let secs = sent.elapsed.as_secs_f64().max(1e-9);
        eprintln!(
            "sent {} lines ({:.1} MB) in {:.2} s: {:.0} lines/s",
            sent.lines,
            sent.bytes as f64 / 1e6,
            secs,
            sent.lines as f64 / secs
        );
    }
    Ok(ExitCode::SUCCESS)
}
