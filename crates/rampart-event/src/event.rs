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
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `@timestamp`: when the event happened, in UTC.
    pub timestamp: Option<Timestamp>,
    /// `event.original`: the raw text the event was parsed from.
    pub original: String,
    /// `log.file.path` and `log.file.line`.
    pub origin: Origin,
    fields: Vec<(FieldName, Value)>,
}

/// Names served from the dedicated members rather than the field list.
const TIMESTAMP: &str = "@timestamp";
const ORIGINAL: &str = "event.original";
const FILE_PATH: &str = "log.file.path";
const FILE_LINE: &str = "log.file.line";

impl Event {
    /// An empty event read from `origin`, keeping `original` as the raw text.
    pub fn new(origin: Origin, original: impl Into<String>) -> Self {
        Event {
            timestamp: None,
            original: original.into(),
            origin,
            fields: Vec::with_capacity(16),
        }
    }

    /// Adds a field. Parsers call this with names they have not set before;
    /// use [`Event::insert`] when a name may already be present.
    pub fn set(&mut self, name: impl Into<FieldName>, value: impl Into<Value>) {
        self.fields.push((name.into(), value.into()));
    }

    /// Adds a field whose text is fixed at build time, without allocating.
    pub fn set_static(&mut self, name: &'static str, value: &'static str) {
        self.fields
            .push((Cow::Borrowed(name), Value::Static(value)));
    }

    /// Adds a text field unless the text is empty.
    pub fn set_str(&mut self, name: impl Into<FieldName>, value: &str) {
        if !value.is_empty() {
            self.fields
                .push((name.into(), Value::Str(value.to_owned())));
        }
    }

    /// Sets a field, replacing any value it had.
    pub fn insert(&mut self, name: impl Into<FieldName>, value: impl Into<Value>) {
        let name = name.into();
        let value = value.into();
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name, value)),
        }
    }

    /// Removes a field and returns its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let at = self.fields.iter().position(|(n, _)| n == name)?;
        Some(self.fields.remove(at).1)
    }

    /// Whether a field is present (the dedicated members count).
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The value of a field by dotted name, including `@timestamp`,
    /// `event.original`, `log.file.path` and `log.file.line`.
    pub fn get(&self, name: &str) -> Option<ValueRef<'_>> {
        if let Some((_, v)) = self.fields.iter().find(|(n, _)| n == name) {
            return Some(v.as_ref());
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

    /// The text of a field, if it holds text.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| v.as_str())
    }

    /// The parser-set fields in insertion order (without the dedicated members).
    pub fn fields(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(n, v)| (n.as_ref(), v))
    }

    /// Every field, dedicated members included, as `(dotted name, value)`.
    pub fn all_fields(&self) -> Vec<(&str, ValueRef<'_>)> {
        let mut all = Vec::with_capacity(self.fields.len() + 4);
        if let Some(t) = self.timestamp {
            all.push((TIMESTAMP, ValueRef::Time(t)));
        }
        all.extend(self.fields.iter().map(|(n, v)| (n.as_ref(), v.as_ref())));
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
    fn empty_text_is_not_set() {
        let mut e = sample();
        e.set_str("host.name", "");
        assert!(!e.contains("host.name"));
    }
}
