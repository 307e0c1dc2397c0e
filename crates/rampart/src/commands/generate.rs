//! `rampart generate`: realistic log streams with planted attacks, to a
//! file, standard output or a listener, with a manifest of what was
//! planted.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use rampart_pipeline::generate::{generate, generate_to, Kind, Pace, Plan};
use rampart_pipeline::replay::{StreamFraming, Target};

/// Arguments of `rampart generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What to write: auth (sshd), ufw, syslog (both), ids or endpoint
    /// (seed 001's IDS lines and antivirus records).
    #[arg(long, default_value = "syslog")]
    kind: String,
    /// Events to write.
    #[arg(long, default_value_t = 10_000)]
    events: u64,
    /// Events a second: the spacing of their times, and the pace at which
    /// they are sent to a listener.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Make the rate swing over this many seconds (between a fifth and
    /// 1.8 times the rate).
    #[arg(long, value_name = "SECONDS")]
    wave: Option<f64>,
    /// Plant an attack every this many events (0: none).
    #[arg(long, default_value_t = 1000)]
    attack_every: u64,
    /// The time of the first event (RFC 3339; default: now).
    #[arg(long)]
    start: Option<jiff::Timestamp>,
    /// The random seed: the same seed gives the same stream.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to: a file, udp://HOST:PORT or tcp://HOST:PORT (default:
    /// standard output).
    #[arg(long, value_name = "TARGET")]
    to: Option<String>,
    /// Write the planted attacks here, one JSON object per line.
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
}

/// Runs the command: 2 for a kind or target it does not know.
pub fn run(args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    let Some(kind) = Kind::parse(&args.kind) else {
        eprintln!(
            "error: --kind {}: one of auth, ufw, syslog, ids, endpoint",
            args.kind
        );
        return Ok(ExitCode::from(2));
    };
    let plan = Plan {
        kind,
        events: args.events,
        pace: Pace {
            rate: args.rate.max(1e-3),
            wave: args.wave,
        },
        start: args.start.unwrap_or_else(jiff::Timestamp::now),
        attack_every: args.attack_every,
        seed: args.seed,
    };
    let planted = match &args.to {
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let planted = generate(&plan, |_, line| out.write_all(line))?;
            out.flush()?;
            planted
        }
        Some(to) => {
            let target = match Target::parse(to) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: --to {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            generate_to(&plan, &target, StreamFraming::Newline)
                .map_err(anyhow::Error::msg)?
                .1
        }
    };
    if let Some(path) = &args.manifest {
        let mut out = std::fs::File::create(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        for p in &planted {
            serde_json::to_writer(&mut out, p)?;
            out.write_all(b"\n")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
