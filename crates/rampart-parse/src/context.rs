//! What a parser knows about the file it reads and the user's choices.

use std::sync::Arc;

use rampart_event::time::Zone;
use rampart_event::{Event, Origin, Timestamp};

/// Choices that change how lines are read, set once per run.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// The year for syslog lines that carry none; `None` infers it from the
    /// file's modification time.
    pub year: Option<i16>,
    /// The zone that times without an offset are read in.
    pub zone: Zone,
}

/// One input file as the parsers see it.
#[derive(Debug, Clone)]
pub struct FileContext {
    /// The path as the user named it, shared by every event of the file.
    pub path: Arc<str>,
    /// The file name in lower case, without `.gz` and rotation suffixes:
    /// a hint for formats whose lines do not say what wrote them.
    pub name_hint: String,
    /// The file's modification time, for syslog year inference.
    pub modified: Option<Timestamp>,
    /// The run's options.
    pub options: ParseOptions,
}

impl FileContext {
    /// A context for `path` with the given options and no modification time.
    pub fn new(path: &str, options: ParseOptions) -> Self {
        FileContext {
            path: Arc::from(path),
            name_hint: name_hint(path),
            modified: None,
            options,
        }
    }

    /// A new event of this file starting at `line`, keeping `original`.
    /// Line parsers pass the line's shared text, so the fields they cut from
    /// it are not copied.
    pub fn event(&self, line: u64, original: impl Into<Arc<str>>) -> Event {
        Event::new(
            Origin {
                path: Arc::clone(&self.path),
                line,
            },
            original,
        )
    }
}

/// The lower-case file name without `.gz` and rotation suffixes
/// (`auth.log.2.gz` → `auth.log`).
pub fn name_hint(path: &str) -> String {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let mut name = name.to_ascii_lowercase();
    if let Some(stripped) = name.strip_suffix(".gz") {
        name = stripped.to_owned();
    }
    if let Some((stem, suffix)) = name.rsplit_once('.') {
        if !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit()) {
            name = stem.to_owned();
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_drop_rotation_and_compression() {
        assert_eq!(name_hint("/var/log/auth.log.2.gz"), "auth.log");
        assert_eq!(name_hint("logs\\Access.LOG"), "access.log");
        assert_eq!(name_hint("conn.json.gz"), "conn.json");
    }
}
