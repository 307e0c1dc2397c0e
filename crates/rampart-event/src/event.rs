//! The event type and its field access by dotted ECS name.

use std::borrow::Cow;
use std::sync::Arc;

use jiff::Timestamp;

use crate::value::{Value, ValueRef};

/// A dotted ECS field name. Parsers use `&'static str` names and pay nothing;
/// names taken from the input (JSON keys, CSV headers) are owned.
pub type FieldName = Cow<'static, str>;

/// Where an event came from: the file and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file path as the user named it (shared by all events of a file).
    pub path: Arc<str>,
    /// The 1-based line number the event starts on; 0 when not line-based.
    pub line: u64,
}

impl Origin {
    /// An origin in `path` at 1-based `line`.
    pub fn new(path: impl Into<Arc<str>>, line: u64) -> Self {
        Origin {
            path: path.into(),
            line,
        }
    }
}

/// One normalised event.
#[derive(Debug, Clone)]
pub struct Event {
    /// `@timestamp`: when the event happened, in UTC.
    pub timestamp: Option<Timestamp>,
    /// `event.original`, shared so that text fields cut from it need no copy.
    original: Arc<str>,
    /// `log.file.path` and `log.file.line`.
    pub origin: Origin,
    fields: Vec<(FieldName, Stored)>,
}

/// A field's value as the event keeps it: text that is a piece of
/// `event.original` is stored as a byte range of it, which costs no
/// allocation; everything else is an owned [`Value`].
#[derive(Debug, Clone)]
enum Stored {
    Value(Value),
    Span(u32, u32),
}

/// Names served from the dedicated members rather than the field list.
pub(crate) const TIMESTAMP: &str = "@timestamp";
pub(crate) const ORIGINAL: &str = "event.original";
pub(crate) const FILE_PATH: &str = "log.file.path";
pub(crate) const FILE_LINE: &str = "log.file.line";

impl Event {
    /// An empty event read from `origin`, keeping `original` as the raw text.
    /// Pass an `Arc<str>` to share text the caller already holds.
    pub fn new(origin: Origin, original: impl Into<Arc<str>>) -> Self {
        Event {
            timestamp: None,
            original: original.into(),
            origin,
            fields: Vec::with_capacity(24),
        }
    }

    /// `event.original`: the raw text the event was parsed from.
    pub fn original(&self) -> &str {
        &self.original
    }

    /// Appends `more` to `event.original` (records that span lines). Text
    /// fields already cut from the original stay valid: its start is unchanged.
    pub fn append_original(&mut self, more: &str) {
        let mut text = String::with_capacity(self.original.len() + more.len());
        text.push_str(&self.original);
        text.push_str(more);
        self.original = text.into();
    }

    /// Adds a field. Parsers call this with names they have not set before;
    /// use [`Event::insert`] when a name may already be present.
    pub fn set(&mut self, name: impl Into<FieldName>, value: impl Into<Value>) {
        self.fields.push((name.into(), Stored::Value(value.into())));
    }

    /// Adds a field whose text is fixed at build time, without allocating.
    pub fn set_static(&mut self, name: &'static str, value: &'static str) {
        self.fields
            .push((Cow::Borrowed(name), Stored::Value(Value::Static(value))));
    }

    /// Adds a text field unless the text is empty. Text cut from the event's
    /// own original (a parser slicing the line it was given) is not copied.
    pub fn set_str(&mut self, name: impl Into<FieldName>, value: &str) {
        if value.is_empty() {
            return;
        }
        let stored = self.stored_text(value);
        self.fields.push((name.into(), stored));
    }

    /// Text as a range of the original when it is a piece of it, else a copy.
    fn stored_text(&self, text: &str) -> Stored {
        match self.span_of(text) {
            Some((start, end)) => Stored::Span(start, end),
            None => Stored::Value(Value::Str(text.to_owned())),
        }
    }

    /// The byte range of `text` inside the original, if it is a piece of it.
    fn span_of(&self, text: &str) -> Option<(u32, u32)> {
        let base = self.original.as_ptr() as usize;
        let start = (text.as_ptr() as usize).checked_sub(base)?;
        let end = start + text.len();
        if end > self.original.len() {
            return None;
        }
        Some((u32::try_from(start).ok()?, u32::try_from(end).ok()?))
    }

    /// Sets a text field, replacing any value it had; like [`Event::set_str`],
    /// text cut from the original is not copied, and empty text is not set.
    pub fn insert_str(&mut self, name: impl Into<FieldName>, value: &str) {
        if value.is_empty() {
            return;
        }
        let name = name.into();
        let stored = self.stored_text(value);
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = stored,
            None => self.fields.push((name, stored)),
        }
    }

    /// Sets a field, replacing any value it had.
    pub fn insert(&mut self, name: impl Into<FieldName>, value: impl Into<Value>) {
        let name = name.into();
        let value = Stored::Value(value.into());
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name, value)),
        }
    }

    /// Removes a field and returns its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let at = self.fields.iter().position(|(n, _)| n == name)?;
        Some(match self.fields.remove(at).1 {
            Stored::Value(v) => v,
            Stored::Span(start, end) => Value::Str(self.span(start, end).to_owned()),
        })
    }

    fn span(&self, start: u32, end: u32) -> &str {
        self.original
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    fn view<'a>(&'a self, stored: &'a Stored) -> ValueRef<'a> {
        match stored {
            Stored::Value(v) => v.as_ref(),
            Stored::Span(start, end) => ValueRef::Str(self.span(*start, *end)),
        }
    }

    /// Whether a field is present (the dedicated members count).
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The value of a field by dotted name, including `@timestamp`,
    /// `event.original`, `log.file.path` and `log.file.line`.
    pub fn get(&self, name: &str) -> Option<ValueRef<'_>> {
        if let Some((_, v)) = self.fields.iter().find(|(n, _)| n == name) {
            return Some(self.view(v));
        }
        match name {
            TIMESTAMP => self.timestamp.map(ValueRef::Time),
            ORIGINAL => Some(ValueRef::Str(&self.original)),
            FILE_PATH => Some(ValueRef::Str(&self.origin.path)),
            FILE_LINE if self.origin.line > 0 => Some(ValueRef::Int(
                i64::try_from(self.origin.line).unwrap_or(i64::MAX),
            )),
            _ => None,
        }
    }

    /// An address field, typed or written as text (`"203.0.113.7"`).
    pub fn get_ip(&self, name: &str) -> Option<std::net::IpAddr> {
        match self.get(name)? {
            ValueRef::Ip(ip) => Some(ip),
            ValueRef::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The text of a field, if it holds text.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| v.as_str())
    }

    /// The position among the parser-set fields of the first named `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|(n, _)| n == name)
    }

    /// The parser-set field at `position` (see [`Event::position`]).
    pub fn field_at(&self, position: usize) -> Option<(&str, ValueRef<'_>)> {
        let (n, v) = self.fields.get(position)?;
        Some((n.as_ref(), self.view(v)))
    }

    /// The names of the parser-set fields in insertion order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(n, _)| n.as_ref())
    }

    /// The parser-set fields in insertion order (without the dedicated members).
    pub fn fields(&self) -> impl Iterator<Item = (&str, ValueRef<'_>)> {
        self.fields.iter().map(|(n, v)| (n.as_ref(), self.view(v)))
    }

    /// Every field, dedicated members included, as `(dotted name, value)`.
    pub fn all_fields(&self) -> Vec<(&str, ValueRef<'_>)> {
        let mut all = Vec::with_capacity(self.fields.len() + 4);
        if let Some(t) = self.timestamp {
            all.push((TIMESTAMP, ValueRef::Time(t)));
        }
        all.extend(self.fields());
        all.push((ORIGINAL, ValueRef::Str(&self.original)));
        all.push((FILE_PATH, ValueRef::Str(&self.origin.path)));
        if self.origin.line > 0 {
            all.push((
                FILE_LINE,
                ValueRef::Int(i64::try_from(self.origin.line).unwrap_or(i64::MAX)),
            ));
        }
        all
    }

    /// The number of parser-set fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the parser set no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl PartialEq for Event {
    /// Events are equal when they carry the same text and the same fields in
    /// the same order, however each value is stored.
    fn eq(&self, other: &Self) -> bool {
        self.timestamp == other.timestamp
            && self.original == other.original
            && self.origin == other.origin
            && self.fields.len() == other.fields.len()
            && self.fields().eq(other.fields())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Event {
        let mut e = Event::new(Origin::new("a.log", 3), "raw");
        e.set("user.name", "root");
        e.set("source.port", 22u16);
        e
    }

    #[test]
    fn dedicated_members_are_fields_too() {
        let e = sample();
        assert_eq!(e.get_str("event.original"), Some("raw"));
        assert_eq!(e.original(), "raw");
        assert_eq!(e.get_str("log.file.path"), Some("a.log"));
        assert_eq!(e.get("log.file.line").and_then(|v| v.as_i64()), Some(3));
        assert!(e.get("@timestamp").is_none());
    }

    #[test]
    fn insert_replaces_and_remove_takes() {
        let mut e = sample();
        e.insert("user.name", "alice");
        assert_eq!(e.get_str("user.name"), Some("alice"));
        assert_eq!(e.len(), 2);
        assert_eq!(e.remove("user.name"), Some(Value::from("alice")));
        assert!(!e.contains("user.name"));
    }

    #[test]
    fn fields_stay_small() {
        // A field is a name and a stored value; events hold dozens of them.
        assert!(std::mem::size_of::<(FieldName, Stored)>() <= 56);
    }

    #[test]
    fn empty_text_is_not_set() {
        let mut e = sample();
        e.set_str("host.name", "");
        assert!(!e.contains("host.name"));
    }

    #[test]
    fn text_cut_from_the_original_reads_back_and_survives_appends() {
        let original: Arc<str> = Arc::from("Mar 14 web01 sshd: Failed password for root");
        let mut e = Event::new(Origin::new("a.log", 1), Arc::clone(&original));
        let user = &original[original.len() - 4..];
        e.set_str("user.name", user);
        e.set_str("host.name", &String::from("elsewhere"));
        assert!(matches!(e.fields[0].1, Stored::Span(..)));
        assert!(matches!(e.fields[1].1, Stored::Value(_)));
        e.append_original("\nsecond line");
        assert_eq!(e.get_str("user.name"), Some("root"));
        assert_eq!(e.remove("user.name"), Some(Value::from("root")));
        let mut copy = Event::new(Origin::new("a.log", 1), e.original());
        copy.set("host.name", "elsewhere");
        assert_eq!(copy, e);
    }
}
