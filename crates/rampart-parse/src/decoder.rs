//! The per-file driver: detects the format from the first lines, then feeds
//! every line to it, retrying lines it cannot read against the other line
//! formats, and counts what nothing could read.
//!
//! A file no format reads is read as `raw` text, every line an event. A
//! line that neither its file's format nor any other reads is a parse
//! error: counted, kept as a dead letter, and, when it is text, also kept
//! as a raw event marked `unparsed` in `rampart.quality`, so that rules and
//! search still see it without the failure being hidden.

use std::borrow::Cow;
use std::sync::Arc;

use crate::context::FileContext;
use crate::detect::{detect, SAMPLE_BYTES, SAMPLE_LINES};
use crate::formats::raw::RawParser;
use crate::formats::{self, Format, Kind, LineParser, RecordDecoder};
use crate::lines::Line;
use crate::output::Output;

enum State {
    Sampling {
        lines: Vec<(u64, String)>,
        bytes: usize,
        non_blank: usize,
    },
    Lines {
        primary: Option<LineParser>,
        fallbacks: Option<Vec<LineParser>>,
        /// What keeps the text of lines nothing reads.
        raw: Option<LineParser>,
    },
    Records(RecordDecoder),
}

/// Reads one file's lines into events.
pub struct FileDecoder {
    ctx: FileContext,
    format: Option<&'static Format>,
    state: State,
    out: Output,
}

impl FileDecoder {
    /// A decoder for the file in `ctx`; `forced` skips detection.
    pub fn new(ctx: FileContext, forced: Option<&'static Format>) -> Self {
        let mut decoder = FileDecoder {
            ctx,
            format: None,
            state: State::Sampling {
                lines: Vec::new(),
                bytes: 0,
                non_blank: 0,
            },
            out: Output::default(),
        };
        if let Some(format) = forced {
            decoder.start(Some(format));
        }
        decoder
    }

    /// The file's context.
    pub fn context(&self) -> &FileContext {
        &self.ctx
    }

    /// The format in use: detected or forced; `None` while sampling or when
    /// nothing matched.
    pub fn format(&self) -> Option<&'static Format> {
        self.format
    }

    /// The format of a file whose remaining lines can be read apart, in
    /// blocks by decoders of their own: one whose parser keeps no state
    /// from line to line, once detected. `None` while sampling, for record
    /// formats, and for syslog and raw (which carry the year across lines).
    pub fn splittable(&self) -> Option<&'static Format> {
        match &self.state {
            State::Lines {
                primary: Some(LineParser::Plain(_)),
                ..
            } => self.format,
            _ => None,
        }
    }

    /// What has been produced so far; take events out as they come.
    pub fn output(&mut self) -> &mut Output {
        &mut self.out
    }

    fn start(&mut self, format: Option<&'static Format>) {
        self.format = format;
        self.state = match format.map(|f| f.kind) {
            Some(Kind::Records(make)) => State::Records(make()),
            Some(Kind::Line(make)) => State::Lines {
                primary: Some(make(&self.ctx)),
                fallbacks: None,
                raw: None,
            },
            None => State::Lines {
                primary: None,
                fallbacks: None,
                raw: None,
            },
        };
    }

    /// Feeds one line as read from the file.
    pub fn feed(&mut self, line: Line<'_>) {
        if line.is_cut() {
            self.finish_sampling();
            let text = String::from_utf8_lossy(&line.bytes[..line.bytes.len().min(4096)]);
            self.out.unparsed_part(
                line.no,
                format!("line too long ({} bytes)", line.len),
                &text,
                line.len,
            );
            return;
        }
        let mut text = match std::str::from_utf8(line.bytes) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                self.out.quality("invalid-utf8");
                String::from_utf8_lossy(line.bytes)
            }
        };
        if line.no == 1 {
            if let Some(rest) = text.strip_prefix('\u{feff}') {
                text = Cow::Owned(rest.to_owned());
            }
        }
        if let State::Sampling {
            lines,
            bytes,
            non_blank,
        } = &mut self.state
        {
            *bytes += text.len();
            if !text.trim().is_empty() {
                *non_blank += 1;
            }
            lines.push((line.no, text.into_owned()));
            if *non_blank >= SAMPLE_LINES || *bytes >= SAMPLE_BYTES {
                self.finish_sampling();
            }
            return;
        }
        self.process(line.no, &text);
    }

    fn finish_sampling(&mut self) {
        let State::Sampling { lines, .. } = &mut self.state else {
            return;
        };
        let lines = std::mem::take(lines);
        let sample: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
        let text = sample.iter().any(|l| !l.trim().is_empty());
        let format = detect(&sample, &self.ctx).or(text.then_some(&formats::RAW));
        self.start(format);
        for (no, text) in &lines {
            self.process(*no, text);
        }
    }

    fn process(&mut self, no: u64, text: &str) {
        let ctx = &self.ctx;
        match &mut self.state {
            State::Records(decoder) => decoder.feed(ctx, no, text, &mut self.out),
            State::Lines {
                primary,
                fallbacks,
                raw,
            } => {
                if text.trim().is_empty() {
                    self.out.skipped();
                    return;
                }
                let line: Arc<str> = Arc::from(text);
                // A raw file's lines meet the line formats first: a log whose
                // first lines are of no known format may turn into one later.
                let raw_file = self.format.is_some_and(|f| f.name == formats::RAW.name);
                if !raw_file && read_with(primary.as_mut(), ctx, no, &line, &mut self.out) {
                    return;
                }
                let own = self.format.map(|f| f.name);
                let fallbacks = fallbacks.get_or_insert_with(|| {
                    formats::line_formats()
                        .filter(|f| Some(f.name) != own)
                        .filter_map(|f| match f.kind {
                            Kind::Line(make) => Some(make(ctx)),
                            Kind::Records(_) => None,
                        })
                        .collect()
                });
                for parser in fallbacks.iter_mut() {
                    if read_with(Some(parser), ctx, no, &line, &mut self.out) {
                        return;
                    }
                }
                if raw_file && read_with(primary.as_mut(), ctx, no, &line, &mut self.out) {
                    return;
                }
                let reason = match self.format {
                    Some(f) if f.name == formats::RAW.name => "not text".to_owned(),
                    Some(f) => format!("not {} or any other known line format", f.name),
                    None => "no known format".to_owned(),
                };
                self.out.unparsed(no, reason, text);
                if self.format.is_some_and(|f| f.name != formats::RAW.name) {
                    let raw = raw.get_or_insert_with(|| LineParser::Raw(RawParser::new(ctx)));
                    if let Some((_, event)) = raw.parse(ctx, no, &line) {
                        self.out.kept_unparsed(event);
                    }
                }
            }
            State::Sampling { .. } => unreachable!("sampling ends before lines are processed"),
        }
    }

    /// A stream gone quiet (a listener between messages): the format is
    /// found from the lines sampled so far, which are read now rather
    /// than wait for more.
    pub fn settle(&mut self) {
        self.finish_sampling();
    }

    /// Ends the input: detects if still sampling and flushes open records.
    pub fn finish(&mut self) {
        self.finish_sampling();
        if let State::Records(decoder) = &mut self.state {
            decoder.finish(&self.ctx, &mut self.out);
        }
    }
}

/// Reads `line` with `parser` into `out`; false when it is not in its format.
fn read_with(
    parser: Option<&mut LineParser>,
    ctx: &FileContext,
    no: u64,
    line: &Arc<str>,
    out: &mut Output,
) -> bool {
    let Some((key, event)) = parser.and_then(|p| p.parse(ctx, no, line)) else {
        return false;
    };
    count_marks(out, &event, no, line);
    out.event(key, event);
    true
}

/// Counts the data-quality marks a line parser put on `event`; a line whose
/// message was malformed is also a parse error, kept as a dead letter.
fn count_marks(out: &mut Output, event: &rampart_event::Event, no: u64, text: &str) {
    for mark in crate::output::quality_marks(event) {
        out.quality(mark);
        if mark == crate::output::MALFORMED {
            let dataset = event.get_str("event.dataset").unwrap_or("its format");
            out.unparsed(
                no,
                format!("a {dataset} line whose message is malformed"),
                text,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{parse_text, FileContext, ParseOptions};

    #[test]
    fn a_raw_file_still_reads_known_lines_that_come_later() {
        let mut text: String = (0..80)
            .map(|i| format!("worker {i} started its queue\n"))
            .collect();
        text.push_str("Mar 14 03:22:14 web01 sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2\n");
        let ctx = FileContext::new("app.log", ParseOptions::default());
        let out = parse_text(&text, ctx, None);
        assert_eq!(out.stats.events.get("raw"), Some(&80));
        assert_eq!(out.stats.events.get("linux.auth"), Some(&1));
        assert_eq!(out.stats.unparsed, 0);
    }
}
