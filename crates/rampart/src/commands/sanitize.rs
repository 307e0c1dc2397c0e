//! `rampart sanitize`: pseudonymised copies of logs (see `rampart_sanitize`),
//! each file written back in its own format under `--out`, with a report
//! of what was replaced by kind. A file is read twice, streamed: once
//! parsed (on the worker threads, as every command reads logs), to learn
//! the names its events hold, then as text, rewritten a block of lines at
//! a time.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;
use rampart_io::records::{self, RecordFile};
use rampart_io::{discover, open, read_files, read_files_with, Message};
use rampart_parse::formats::login::{rewrite_record, LoginFile};
use rampart_sanitize::{candidates, record_json, Key, Kind, Sanitizer, Style};

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
    /// How names are replaced: `keyed` (derived from the key, the same in
    /// every run) or `sequential` (seed 004's HOST01, user01, LAB, in the
    /// order met; the same across runs with --mapping).
    #[arg(long, value_enum, default_value_t = StyleArg::Keyed)]
    style: StyleArg,
    /// A pseudonym of your own: KIND:VALUE=PSEUDONYM, KIND one of user,
    /// host, domain, windows-domain, email, sid, file (`host:PC01=HOST01`).
    #[arg(long = "map", value_name = "KIND:VALUE=PSEUDONYM")]
    maps: Vec<String>,
    /// Addresses of one network mapped into another, host bits kept
    /// (`10.0.2.0/24=192.168.1.0/24`).
    #[arg(long = "map-net", value_name = "FROM=TO")]
    map_nets: Vec<String>,
    /// A CSV of every replacement (kind, value, pseudonym), read first when
    /// it exists and written after: it undoes the sanitising, so keep it
    /// apart from what you share (it may not be inside --out).
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    #[command(flatten)]
    read: ReadArgs,
}

/// The style names are replaced in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StyleArg {
    Keyed,
    Sequential,
}

/// A kind by its name in `--map` and the mapping file.
fn kind_named(name: &str) -> Option<Kind> {
    Some(match name {
        "user" => Kind::User,
        "host" => Kind::Host,
        "domain" => Kind::Domain,
        "windows-domain" | "windows domain" => Kind::Realm,
        "email" | "e-mail" => Kind::Email,
        "sid" => Kind::Sid,
        "file" | "file name" => Kind::File,
        _ => return None,
    })
}

/// Gives the sanitiser the mappings of `--map`, `--map-net` and the
/// mapping file.
fn given(args: &SanitizeArgs, sanitizer: &mut Sanitizer) -> anyhow::Result<()> {
    if let Some(file) = args.mapping.as_ref().filter(|f| f.exists()) {
        let mut rows = csv::Reader::from_path(file)
            .with_context(|| format!("cannot read the mapping {}", file.display()))?;
        for (i, row) in rows.records().enumerate() {
            let row = row.with_context(|| format!("{}: row {}", file.display(), i + 2))?;
            let (Some(kind), Some(value), Some(pseudonym)) =
                (row.get(0).and_then(kind_named), row.get(1), row.get(2))
            else {
                bail!(
                    "{}: row {}: expected kind,value,pseudonym",
                    file.display(),
                    i + 2
                );
            };
            sanitizer.give(kind, value, pseudonym);
        }
    }
    for map in &args.maps {
        let parsed = map.split_once(':').and_then(|(kind, rest)| {
            let (value, pseudonym) = rest.split_once('=')?;
            Some((kind_named(kind)?, value, pseudonym))
        });
        let Some((kind, value, pseudonym)) = parsed else {
            bail!("--map {map}: expected KIND:VALUE=PSEUDONYM (KIND: user, host, domain, windows-domain, email, sid, file)");
        };
        sanitizer.give(kind, value, pseudonym);
    }
    for net in &args.map_nets {
        let parsed = net
            .split_once('=')
            .and_then(|(from, to)| Some((from.trim().parse().ok()?, to.trim().parse().ok()?)));
        let Some((from, to)) = parsed else {
            bail!("--map-net {net}: expected FROM=TO, two networks such as 10.0.2.0/24=192.168.1.0/24");
        };
        sanitizer
            .give_network(from, to)
            .map_err(|e| anyhow::anyhow!("--map-net {net}: {e}"))?;
    }
    Ok(())
}

/// Writes every replacement to the mapping file.
fn write_mapping(file: &Path, sanitizer: &Sanitizer) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_path(file)
        .with_context(|| format!("cannot write the mapping {}", file.display()))?;
    out.write_record(["kind", "value", "pseudonym"])?;
    for (kind, value, pseudonym) in sanitizer.mapping() {
        let name = match kind {
            Kind::Realm => "windows-domain",
            Kind::Email => "email",
            other => other.as_str(),
        };
        out.write_record([name, value.as_str(), pseudonym.as_str()])?;
    }
    out.flush()?;
    Ok(())
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

/// The bytes read and rewritten at a time (then up to the end of a line).
const BLOCK: usize = 1 << 20;
/// The most of one line held; a longer one is rewritten in pieces.
const LONGEST_LINE: usize = 16 << 20;

/// Whether the file at `path` is EVTX, by its first bytes.
fn is_evtx(path: &Path) -> bool {
    let mut magic = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == b"ElfFile\0"
}

/// Writes the records of EVTX files, which no library writes, as
/// evtx_dump's JSON, one record a line, which rampart and other tools read
/// as they read the EVTX: `name.evtx` becomes `name.jsonl`. Journal files
/// and exports become `journalctl -o json` lines the same way.
fn rewrite_records(
    inputs: &[rampart_io::Input],
    args: &SanitizeArgs,
    options: &rampart_io::ReadOptions,
    sanitizer: &mut Sanitizer,
) -> anyhow::Result<()> {
    let mut writers: BTreeMap<usize, std::io::BufWriter<std::fs::File>> = BTreeMap::new();
    let mut failed: Option<anyhow::Error> = None;
    read_files(inputs, options, |message| {
        let Message::Batch { index, events, .. } = message else {
            return;
        };
        if failed.is_some() {
            return;
        }
        let written = (|| -> anyhow::Result<()> {
            let out = match writers.entry(index) {
                std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => {
                    let target = destination(&inputs[index].path, &args.paths, &args.out)
                        .with_extension("jsonl");
                    if let Some(folder) = target.parent() {
                        std::fs::create_dir_all(folder)?;
                    }
                    let file = std::fs::File::create(&target)
                        .with_context(|| format!("cannot write {}", target.display()))?;
                    v.insert(std::io::BufWriter::new(file))
                }
            };
            for event in &events {
                let line = if event.get_str("event.module") == Some("journald") {
                    journal_json(event, sanitizer)
                } else {
                    let xml = sanitizer.rewrite(event.original());
                    record_json(&xml).unwrap_or_else(|| {
                        // Not XML after all: the record's text, on one line.
                        xml.replace('\r', "&#13;").replace('\n', "&#10;")
                    })
                };
                out.write_all(line.as_bytes())?;
                out.write_all(b"\n")?;
            }
            Ok(())
        })();
        if let Err(e) = written {
            failed = Some(e);
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    for (_, mut out) in writers {
        out.flush()?;
    }
    Ok(())
}

/// A journal entry rewritten as `journalctl -o json` writes it, one
/// object a line, its fields (kept as `journald.*`) each rewritten.
fn journal_json(event: &rampart_event::Event, sanitizer: &mut Sanitizer) -> String {
    let mut entry = serde_json::Map::new();
    for (name, value) in event.fields() {
        if let Some(field) = name.strip_prefix("journald.") {
            let text = sanitizer.rewrite(&value.to_string());
            entry.insert(field.to_owned(), serde_json::Value::String(text));
        }
    }
    serde_json::Value::Object(entry).to_string()
}

/// Writes the login records at `path` to `target` with every name and
/// address in them rewritten, record by record, in the same layout.
fn rewrite_logins(
    path: &Path,
    file_kind: LoginFile,
    target: &Path,
    sanitizer: &mut Sanitizer,
) -> anyhow::Result<()> {
    if let Some(folder) = target.parent() {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
    }
    let mut input = open(path).map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))?;
    let file = std::fs::File::create(target)
        .with_context(|| format!("cannot write {}", target.display()))?;
    let mut out = std::io::BufWriter::new(file);
    // Record by record: lastlog is sparse, its size set by the highest uid.
    let mut record = vec![0u8; file_kind.record_size()];
    loop {
        match input.read_exact(&mut record) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
        rewrite_record(&mut record, file_kind, &mut |text| sanitizer.rewrite(text));
        out.write_all(&record)
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    out.flush()
        .with_context(|| format!("cannot write {}", target.display()))
}

/// Writes the file at `path` rewritten to `target`, a block of whole
/// lines at a time.
fn rewrite(path: &Path, target: &Path, sanitizer: &mut Sanitizer) -> anyhow::Result<()> {
    let mut reader = open(path).map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))?;
    let file = std::fs::File::create(target)
        .with_context(|| format!("cannot write {}", target.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let mut block = Vec::with_capacity(BLOCK * 2);
    let mut chunk = vec![0u8; BLOCK];
    loop {
        let n = reader
            .read(&mut chunk)
            .with_context(|| format!("cannot read {}", path.display()))?;
        block.extend_from_slice(&chunk[..n]);
        // Whole lines only, but for what is left at the end.
        let cut = if n == 0 {
            block.len()
        } else {
            match block.iter().rposition(|&b| b == b'\n') {
                Some(at) if block.len() >= BLOCK => at + 1,
                // A line of more than this without an end is cut.
                None if block.len() >= LONGEST_LINE => block.len(),
                _ => continue,
            }
        };
        let text = String::from_utf8_lossy(&block[..cut]);
        out.write_all(sanitizer.rewrite(&text).as_bytes())
            .with_context(|| format!("cannot write {}", target.display()))?;
        block.drain(..cut);
        if n == 0 {
            break;
        }
    }
    out.flush()
        .with_context(|| format!("cannot write {}", target.display()))
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
    if let Some(mapping) = &args.mapping {
        let folder = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        if folder(mapping).starts_with(folder(&args.out)) {
            bail!(
                "the mapping {} undoes the sanitising: keep it outside {}",
                mapping.display(),
                args.out.display()
            );
        }
    }
    let style = match args.style {
        StyleArg::Keyed => Style::Keyed,
        StyleArg::Sequential => Style::Sequential,
    };
    let mut sanitizer = Sanitizer::new(&key).with_style(style);
    given(args, &mut sanitizer)?;
    // First every file's names, so that a name learnt in one file is
    // replaced in all of them (parsed on the worker threads, which find
    // the names; the sanitiser learns them here); then every file
    // rewritten. Both stream: a file is never held whole.
    let mut readable = Vec::new();
    let mut skipped = 0u64;
    let mut records = Vec::new();
    let mut logins = Vec::new();
    for input in inputs {
        match records::kind_of(&input.path) {
            Some(RecordFile::Login(file)) => {
                logins.push((input, file));
                continue;
            }
            Some(RecordFile::Journal | RecordFile::JournalExport) => {
                records.push(input);
                continue;
            }
            None if is_evtx(&input.path) => {
                records.push(input);
                continue;
            }
            None => {}
        }
        match open(&input.path) {
            Ok(_) => readable.push(input),
            Err(why) => {
                eprintln!("skipped: {}: {why}", input.path.display());
                skipped += 1;
            }
        }
    }
    let everything: Vec<rampart_io::Input> = readable
        .iter()
        .chain(&records)
        .chain(logins.iter().map(|(input, _)| input))
        .cloned()
        .collect();
    read_files_with(
        &everything,
        &options,
        &|events: &mut [rampart_event::Event]| -> Vec<(Kind, String)> {
            events.iter().flat_map(candidates).collect()
        },
        |message| {
            if let Message::Batch { work, .. } = message {
                for (kind, value) in work {
                    sanitizer.learn_value(kind, &value);
                }
            }
        },
    );
    let readable: Vec<PathBuf> = readable.into_iter().map(|i| i.path).collect();
    for path in &readable {
        let target = destination(path, &args.paths, &args.out);
        if let Some(folder) = target.parent() {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("cannot create {}", folder.display()))?;
        }
        rewrite(path, &target, &mut sanitizer)?;
    }
    rewrite_records(&records, args, &options, &mut sanitizer)?;
    for (input, file) in &logins {
        let target = destination(&input.path, &args.paths, &args.out);
        rewrite_logins(&input.path, *file, &target, &mut sanitizer)?;
    }
    let files = readable.len() + records.len() + logins.len();
    if let Some(mapping) = &args.mapping {
        write_mapping(mapping, &sanitizer)?;
    }
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
