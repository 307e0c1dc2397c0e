//! `rampart serve`: the web console over the store (see `rampart_web`).
//! Listens on 127.0.0.1 unless told otherwise; any other address needs a
//! token, from `RAMPART_TOKEN` or a file, which every request must then
//! carry.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::Args;
use rampart_detect::Loaded;
use rampart_web::{Opener, Options, RuleInfo, Token};

use super::alerts::login;
use super::rule_sources::{builtin_rules, load_rules};

/// Arguments of `rampart serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address and port to listen on; any address but 127.0.0.1 or ::1
    /// needs a token.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// A file holding the token requests must carry (at least 16
    /// characters; the file's first line).
    #[arg(long, value_name = "PATH")]
    token_file: Option<PathBuf>,
    /// Who triage steps are by when the form names no one [default: the
    /// login name].
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// Sigma rules (files or folders) to list and describe alerts by,
    /// beside the built-in pack: those the data was ingested with.
    #[arg(long, value_name = "PATH")]
    rules: Vec<PathBuf>,
}

/// The rules as the console shows them.
fn rule_infos(loaded: Loaded) -> Vec<RuleInfo> {
    let detections = loaded.rules.into_iter().map(|r| RuleInfo {
        id: r.id,
        title: r.title,
        description: r.description,
        level: r.level,
        status: r.status,
        author: r.author,
        references: r.references,
        tags: r.tags,
        kind: "detection".into(),
    });
    let correlations = loaded.correlations.into_iter().map(|c| RuleInfo {
        id: c.id,
        title: c.title,
        description: c.description,
        level: c.level,
        status: None,
        author: c.author,
        references: c.references,
        tags: c.tags,
        kind: c.kind.name().into(),
    });
    detections.chain(correlations).collect()
}

/// The token: from the file asked for, else `RAMPART_TOKEN`.
fn token(args: &ServeArgs) -> anyhow::Result<Option<Token>> {
    let secret = match &args.token_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the token file {}", path.display()))?;
            Some(text.lines().next().unwrap_or_default().to_owned())
        }
        None => std::env::var("RAMPART_TOKEN")
            .ok()
            .filter(|t| !t.is_empty()),
    };
    match secret {
        Some(secret) => match Token::new(&secret) {
            Ok(token) => Ok(Some(token)),
            Err(e) => bail!("the token: {e}"),
        },
        None => Ok(None),
    }
}

/// Runs the command.
pub fn run(args: &ServeArgs, db: &Path) -> anyhow::Result<ExitCode> {
    let mut loaded = builtin_rules();
    loaded.extend(load_rules(&args.rules)?);
    for error in &loaded.errors {
        eprintln!("warning: a rule cannot be read: {error}");
    }
    let options = Options {
        rules: rule_infos(loaded),
        listen: args.listen,
        db: {
            let db = db.to_owned();
            Opener(Arc::new(move || super::backend::connect(&db)))
        },
        token: token(args)?,
        user: args.user.clone().unwrap_or_else(login),
    };
    let with_token = options.token.is_some();
    rampart_web::serve(options, |bound| {
        let note = if with_token {
            " (requests need the token; open it once with ?token=...)"
        } else {
            ""
        };
        eprintln!(
            "serving {} on http://{bound}/{note}",
            super::backend::name(db)
        );
    })?;
    Ok(ExitCode::SUCCESS)
}
