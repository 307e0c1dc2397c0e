//! Format detection and parsers: bytes in, normalised [`Event`]s out.
//!
//! rampart reads every common security log without being told its format.
//! [`FileDecoder`] samples a file's first lines, picks a format from
//! [`FORMATS`] (the one registry of what rampart reads), and feeds it every
//! line; lines the file's format cannot read are retried against the other
//! line formats, and what nothing reads is counted and kept as a
//! [`DeadLetter`], never dropped silently.
//!
//! This crate does no I/O beyond the readers handed to it: opening files,
//! decompressing and walking folders belong to the caller.
//!
//! ```
//! use rampart_parse::{parse_text, FileContext, ParseOptions};
//! let ctx = FileContext::new("auth.log", ParseOptions { year: Some(2025), ..Default::default() });
//! let out = parse_text("Mar 14 03:22:14 web01 sshd[9841]: Failed password for root from 203.0.113.9 port 42190 ssh2\n", ctx, None);
//! let event = &out.events[0];
//! assert_eq!(event.get_str("event.outcome"), Some("failure"));
//! assert_eq!(event.get("source.ip").unwrap().to_string(), "203.0.113.9");
//! assert_eq!(event.timestamp.unwrap().to_string(), "2025-03-14T03:22:14Z");
//! ```
//!
//! [`Event`]: rampart_event::Event

mod context;
mod decoder;
mod detect;
pub mod formats;
mod lines;
mod names;
mod output;
mod text;
mod timefmt;

pub use context::{name_hint, FileContext, ParseOptions};
pub use decoder::FileDecoder;
pub use formats::{by_name, Format, FORMATS};
pub use lines::{read_lines, read_lines_held, Line, DEFAULT_MAX_LINE};
pub use output::{mark_quality, DeadLetter, FileStats, Output};

/// Parses a whole text (tests, fuzzing, small inputs) and returns everything
/// it produced.
pub fn parse_text(text: &str, ctx: FileContext, forced: Option<&'static Format>) -> Output {
    parse_bytes(text.as_bytes(), ctx, forced)
}

/// Parses a whole byte buffer, as [`parse_text`] does.
pub fn parse_bytes(bytes: &[u8], ctx: FileContext, forced: Option<&'static Format>) -> Output {
    let mut decoder = FileDecoder::new(ctx, forced);
    read_lines(bytes, DEFAULT_MAX_LINE, |line| decoder.feed(line))
        .expect("reading from memory cannot fail");
    decoder.finish();
    std::mem::take(decoder.output())
}
