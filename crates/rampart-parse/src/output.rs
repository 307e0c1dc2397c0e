//! What a decoder produces from one file: events, dead letters, counts.

use std::collections::BTreeMap;

use rampart_event::Event;

/// How many example lines of each problem the summary keeps per file.
const MAX_EXAMPLES: usize = 5;

/// A line (or record) that parsed as nothing, kept for the dead-letter file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// 1-based line number where the unreadable text starts.
    pub line: u64,
    /// Why it was refused.
    pub reason: String,
    /// The text itself (lossily decoded; cut to 64 KiB).
    pub text: String,
    /// How long the text was before it was cut, in bytes.
    pub bytes: usize,
}

/// Counts for one file, merged into the run's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileStats {
    /// Events per format name (`syslog`, `apache-access`, ...).
    pub events: BTreeMap<&'static str, u64>,
    /// Lines or records that parsed as nothing.
    pub unparsed: u64,
    /// Lines that were blank or framing (headers, comments): not events, not errors.
    pub skipped: u64,
    /// Data-quality problems per kind (`corrupt-value`, `empty-field`, ...),
    /// found in events that were still produced.
    pub quality: BTreeMap<&'static str, u64>,
    /// The first few unparsed lines, as `(line, reason)`.
    pub examples: Vec<(u64, String)>,
}

impl FileStats {
    /// Adds another file's (or chunk's) counts to these.
    pub fn merge(&mut self, other: &FileStats) {
        for (k, v) in &other.events {
            *self.events.entry(k).or_default() += v;
        }
        for (k, v) in &other.quality {
            *self.quality.entry(k).or_default() += v;
        }
        self.unparsed += other.unparsed;
        self.skipped += other.skipped;
        for ex in &other.examples {
            if self.examples.len() < MAX_EXAMPLES {
                self.examples.push(ex.clone());
            }
        }
    }

    /// The total number of events.
    pub fn total_events(&self) -> u64 {
        self.events.values().sum()
    }
}

/// The data-quality marks line parsers put on events, which the decoder
/// counts for the summary (a line parser has no `Output` to count into).
pub const QUALITY_MARKS: &[&str] = &[
    "bad-entity",
    "cut-event",
    "unreadable-time",
    "unreadable-address",
    MALFORMED,
];

/// The mark of a line of a known format whose message its parser could not
/// read whole (an sshd login without its user or address): the event keeps
/// what was read, and the line also counts as a parse error.
pub const MALFORMED: &str = "malformed-message";

/// Names a problem with the event's data in `rampart.quality` (the event is
/// kept): one of [`QUALITY_MARKS`].
pub fn mark_quality(event: &mut Event, kind: &'static str) {
    let mut marks: Vec<rampart_event::Value> = match event.remove("rampart.quality") {
        Some(rampart_event::Value::List(items)) => items,
        Some(one) => vec![one],
        None => Vec::new(),
    };
    if !marks.iter().any(|m| m.as_ref().as_str() == Some(kind)) {
        marks.push(kind.into());
    }
    event.set("rampart.quality", marks);
}

/// The marks of `event`, as the static names the counts use.
pub fn quality_marks(event: &Event) -> Vec<&'static str> {
    let named = |name: Option<&str>| QUALITY_MARKS.iter().copied().find(|k| Some(*k) == name);
    match event.get("rampart.quality") {
        Some(rampart_event::ValueRef::List(items)) => items
            .iter()
            .filter_map(|item| named(item.as_ref().as_str()))
            .collect(),
        Some(one) => named(one.as_str()).into_iter().collect(),
        None => Vec::new(),
    }
}

/// The collector a decoder writes into.
#[derive(Debug, Default)]
pub struct Output {
    /// Events in input order.
    pub events: Vec<Event>,
    /// Refused lines in input order.
    pub dead: Vec<DeadLetter>,
    /// Counts.
    pub stats: FileStats,
}

/// The longest piece of a refused line that is kept.
const MAX_DEAD_TEXT: usize = 64 * 1024;

impl Output {
    /// Records an event produced by the format `format`.
    pub fn event(&mut self, format: &'static str, event: Event) {
        *self.stats.events.entry(format).or_default() += 1;
        self.events.push(event);
    }

    /// Keeps the event made of a line that parsed as nothing (already
    /// counted by `unparsed`), marked `unparsed` in `rampart.quality`: it is
    /// not counted as an event of any format.
    pub fn kept_unparsed(&mut self, mut event: Event) {
        mark_quality(&mut event, "unparsed");
        self.events.push(event);
    }

    /// Records a line that parsed as nothing.
    pub fn unparsed(&mut self, line: u64, reason: impl Into<String>, text: &str) {
        self.unparsed_part(line, reason, text, text.len());
    }

    /// Records a line that parsed as nothing, of which only `text` was
    /// read: it was `bytes` long.
    pub fn unparsed_part(
        &mut self,
        line: u64,
        reason: impl Into<String>,
        text: &str,
        bytes: usize,
    ) {
        let reason = reason.into();
        self.stats.unparsed += 1;
        if self.stats.examples.len() < MAX_EXAMPLES {
            self.stats.examples.push((line, reason.clone()));
        }
        let mut cut = text.len().min(MAX_DEAD_TEXT);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        self.dead.push(DeadLetter {
            line,
            reason,
            bytes: bytes.max(text.len()),
            text: text[..cut].to_owned(),
        });
    }

    /// Counts a blank or framing line.
    pub fn skipped(&mut self) {
        self.stats.skipped += 1;
    }

    /// Counts a data-quality problem of the given kind.
    pub fn quality(&mut self, kind: &'static str) {
        *self.stats.quality.entry(kind).or_default() += 1;
    }

    /// Moves the events and dead letters out, keeping the counts. The next
    /// batch starts with room for as many events as this one had, so batches
    /// do not grow their buffer step by step.
    pub fn take(&mut self) -> (Vec<Event>, Vec<DeadLetter>) {
        let room = self.events.len();
        (
            std::mem::replace(&mut self.events, Vec::with_capacity(room)),
            std::mem::take(&mut self.dead),
        )
    }
}
