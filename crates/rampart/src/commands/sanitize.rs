//! `rampart sanitize`: pseudonymised copies of logs (see `rampart_sanitize`),
//! each file written back in its own format under `--out`, with a report
//! of what was replaced by kind. A file is read twice: once parsed, to
//! learn the names its events hold, then as text, rewritten.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;
use rampart_io::{discover, open};
use rampart_parse::{parse_bytes, FileContext};
use rampart_sanitize::{Key, Sanitizer};

use super::read_args::ReadArgs;

/// Arguments of `rampart sanitize`.
#[derive(Debug, Args)]
pub struct SanitizeArgs {
    /// Log files or folders.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The folder the sanitised files are written to.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The key pseudonyms are derived from (at least 16 bytes; keep it to
    /// sanitise more logs the same way, and secret).
    #[arg(long, value_name = "FILE")]
    key_file: PathBuf,
    /// Write into an output folder that already holds files.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    read: ReadArgs,
}

/// Where a file's sanitised copy goes: its path under the folder named
/// (under that folder's name when several are), or its name for a file
/// named by itself; `.gz` dropped (copies are plain text).
fn destination(file: &Path, roots: &[PathBuf], out: &Path) -> PathBuf {
    // Under several folders, each keeps its own name, so that their
    // files cannot meet.
    let several = roots.len() > 1;
    let relative = roots
        .iter()
        .filter(|root| root.is_dir())
        .find_map(|root| {
            let inside = file.strip_prefix(root).ok()?;
            Some(match root.file_name() {
                Some(name) if several => Path::new(name).join(inside),
                _ => inside.to_path_buf(),
            })
        })
        .unwrap_or_else(|| file.file_name().map(PathBuf::from).unwrap_or_default());
    let name = relative.to_string_lossy();
    out.join(name.strip_suffix(".gz").unwrap_or(&name))
}

/// A file's text, decompressed and decoded to UTF-8; EVTX, which no
/// library writes, is refused.
fn read(path: &Path) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    open(path)
        .map_err(|e| e.to_string())?
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.starts_with(b"ElfFile\0") {
        return Err("EVTX is not written back yet (export it as JSON lines first)".into());
    }
    Ok(bytes)
}

/// Runs the command.
pub fn run(args: &SanitizeArgs) -> anyhow::Result<ExitCode> {
    let secret = std::fs::read(&args.key_file)
        .with_context(|| format!("cannot read the key file {}", args.key_file.display()))?;
    let key = Key::new(&secret).map_err(|e| anyhow::anyhow!("{}: {e}", args.key_file.display()))?;
    if args.out.is_dir() && std::fs::read_dir(&args.out)?.next().is_some() && !args.force {
        bail!(
            "{} already holds files: choose another folder or pass --force",
            args.out.display()
        );
    }
    let options = args.read.options()?;
    let (inputs, missing) = discover(&args.paths);
    for (path, why) in &missing {
        eprintln!("error: {}: {why}", path.display());
    }
    let mut sanitizer = Sanitizer::new(&key);
    // First every file's names, so that a name learnt in one file is
    // replaced in all of them; then every file rewritten.
    let mut readable = Vec::new();
    let mut skipped = 0u64;
    for input in &inputs {
        let path = &input.path;
        match read(path) {
            Ok(bytes) => {
                let ctx = FileContext::new(&path.to_string_lossy(), options.parse.clone());
                for event in &parse_bytes(&bytes, ctx, options.forced).events {
                    sanitizer.learn(event);
                }
                readable.push(path);
            }
            Err(why) => {
                eprintln!("skipped: {}: {why}", path.display());
                skipped += 1;
            }
        }
    }
    for path in &readable {
        let bytes = read(path).map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))?;
        let target = destination(path, &args.paths, &args.out);
        if let Some(folder) = target.parent() {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("cannot create {}", folder.display()))?;
        }
        let text = String::from_utf8_lossy(&bytes);
        std::fs::write(&target, sanitizer.rewrite(&text))
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    let files = readable.len();
    let by_kind: BTreeMap<&str, u64> = sanitizer
        .replaced()
        .iter()
        .map(|(kind, n)| (kind.as_str(), *n))
        .collect();
    let listed: Vec<String> = by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
    eprintln!(
        "sanitised {files} files into {} ({skipped} skipped); replaced: {}",
        args.out.display(),
        if listed.is_empty() {
            "nothing".to_owned()
        } else {
            listed.join(", ")
        }
    );
    Ok(if missing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
