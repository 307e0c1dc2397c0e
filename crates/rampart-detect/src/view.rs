//! An event prepared for evaluation against many rules: where each field
//! is, the lower-case text of the fields that rules compare ignoring case
//! (made once, shared by every rule), and the fields that route rules read
//! once.
//!
//! An event's own lookup compares names along its field list: a string
//! comparison per field, paid for every field a rule asks about, present
//! or not. A small event (a log line's dozen or two fields) is therefore
//! looked up by a short key of each name, taken once when the view is made,
//! so that a lookup compares integers and one name at most. A large event
//! (a Windows record's EventData) is indexed in a hash map on first lookup
//! (FxHash: field names are short and not attacker-chosen keys of a
//! long-lived table).
//!
//! Some Windows providers write `EventData` names with spaces (Defender's
//! `Process Name`, `Threat Name`); Sigma rules name them without
//! (`ProcessName`), as Sigma's Windows pipelines expect. The view answers
//! for such a field under its name without spaces too, and rule fields are
//! mapped without spaces (see `mapping`), so either spelling matches.

use rampart_event::{Event, ValueRef};
use rustc_hash::FxHashMap;

use std::borrow::Cow;
use std::cell::OnceCell;

use crate::atoms::{FieldScanner, Found};
use crate::pattern::string::LowerCache;

/// Events of up to this many fields are looked up by scanning their list.
const SCANNED_FIELDS: usize = 32;

/// An event with indexed fields.
#[derive(Debug)]
pub struct EventView<'e> {
    event: &'e Event,
    /// The [`name_key`] of each field of a small event.
    keys: [u64; SCANNED_FIELDS],
    /// Each field's position by name (and by its name without spaces),
    /// made once lookups are many.
    index: OnceCell<FxHashMap<Cow<'e, str>, usize>>,
    /// Each field's lower-case text, made when a rule first compares it
    /// ignoring case and then shared by every other rule.
    lower: OnceCell<Box<[LowerCache]>>,
    code: Option<i64>,
    /// The lower-case original, for keywords.
    original_lower: LowerCache,
    /// The literal scans of a rule set's fields, made as rules need them.
    scans: Option<Scans<'e>>,
}

/// The scans of one event, each made when first needed.
struct Scans<'s> {
    scanner: &'s dyn FieldScanner,
    done: Box<[OnceCell<Option<Found>>]>,
}

impl std::fmt::Debug for Scans<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scans")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<'e> EventView<'e> {
    /// Prepares `event`.
    pub fn new(event: &'e Event) -> Self {
        let mut keys = [0; SCANNED_FIELDS];
        if event.len() <= SCANNED_FIELDS {
            for (key, name) in keys.iter_mut().zip(event.names()) {
                *key = name_key(name);
            }
        }
        let mut view = EventView {
            event,
            keys,
            index: OnceCell::new(),
            lower: OnceCell::new(),
            code: None,
            original_lower: LowerCache::new(),
            scans: None,
        };
        view.code = match view.get("event.code") {
            Some(ValueRef::Int(i)) => Some(i),
            Some(ValueRef::Str(s)) => s.trim().parse().ok(),
            _ => None,
        };
        view
    }

    /// Prepares `event` for the rules `scanner` was built from: their
    /// literals are then found by one scan per field.
    pub fn scanned(event: &'e Event, scanner: &'e dyn FieldScanner) -> Self {
        EventView {
            scans: Some(Scans {
                scanner,
                done: (0..scanner.fields()).map(|_| OnceCell::new()).collect(),
            }),
            ..EventView::new(event)
        }
    }

    /// What field scan `f` found in the event (made on first asking);
    /// `None` when the view has no scanner, the field is absent, or the scan
    /// has no automaton. For a list, what was found in any item.
    pub fn found(&self, f: usize) -> Option<&Found> {
        let scans = self.scans.as_ref()?;
        scans
            .done
            .get(f)?
            .get_or_init(|| {
                let value = scans.scanner.names(f).iter().find_map(|n| self.get(n))?;
                scans.scanner.scan(f, value)
            })
            .as_ref()
    }

    /// The event.
    pub fn event(&self) -> &'e Event {
        self.event
    }

    /// Where the field `name` is among the event's fields: the first of
    /// that name, or else the `EventData` field it names with spaces.
    fn position(&self, name: &str) -> Option<usize> {
        let len = self.event.len();
        if len <= SCANNED_FIELDS {
            let key = name_key(name);
            return self.keys[..len]
                .iter()
                .enumerate()
                .filter(|(_, k)| **k == key)
                .find(|(at, _)| self.event.field_at(*at).is_some_and(|(n, _)| n == name))
                .map(|(at, _)| at)
                .or_else(|| spaced_position(self.event, name));
        }
        let index = self.index.get_or_init(|| index(self.event));
        index.get(name).copied()
    }

    /// A field by dotted name (the event's dedicated members included).
    pub fn get(&self, name: &str) -> Option<ValueRef<'e>> {
        match self.position(name) {
            Some(at) => self.event.field_at(at).map(|(_, v)| v),
            None if is_member(name) => self.event.get(name),
            None => None,
        }
    }

    /// A field with the cache of its lower-case text (none for the event's
    /// dedicated members).
    pub fn get_cached(&self, name: &str) -> Option<(ValueRef<'e>, Option<&LowerCache>)> {
        match self.position(name) {
            Some(at) => {
                let (_, value) = self.event.field_at(at)?;
                let lower = self
                    .lower
                    .get_or_init(|| (0..self.event.len()).map(|_| LowerCache::new()).collect());
                Some((value, lower.get(at)))
            }
            None if name == "event.original" => Some((
                ValueRef::Str(self.event.original()),
                Some(&self.original_lower),
            )),
            None if is_member(name) => self.event.get(name).map(|v| (v, None)),
            None => None,
        }
    }

    /// A text field.
    pub fn get_str(&self, name: &str) -> Option<&'e str> {
        self.get(name).and_then(|v| v.as_str())
    }

    /// `event.original`.
    pub fn original(&self) -> &'e str {
        self.event.original()
    }

    /// The Event ID as a number.
    pub fn code(&self) -> Option<i64> {
        self.code
    }
}

/// Where Windows records keep their `EventData` fields.
const EVENT_DATA: &str = "winlog.event_data.";

/// The `EventData` field of `event` that `name` (spelt without spaces)
/// names with spaces: `winlog.event_data.ThreatName` finds `Threat Name`.
pub fn spaced_event_data<'e>(event: &'e Event, name: &str) -> Option<ValueRef<'e>> {
    let at = spaced_position(event, name)?;
    event.field_at(at).map(|(_, v)| v)
}

/// Where the field that [`spaced_event_data`] answers with is.
fn spaced_position(event: &Event, name: &str) -> Option<usize> {
    let wanted = name.strip_prefix(EVENT_DATA)?;
    event.fields().position(|(field, _)| {
        field.strip_prefix(EVENT_DATA).is_some_and(|own| {
            own.contains(' ') && own.bytes().filter(|b| *b != b' ').eq(wanted.bytes())
        })
    })
}

/// Every field's position by name (the first of a name wins, as in
/// `Event::get`), and `EventData` names with spaces also without them
/// unless the event spells that name itself.
fn index(event: &Event) -> FxHashMap<Cow<'_, str>, usize> {
    let mut index = FxHashMap::with_capacity_and_hasher(event.len() * 2, Default::default());
    let mut spaced = Vec::new();
    for (at, (name, _)) in event.fields().enumerate() {
        index.entry(Cow::Borrowed(name)).or_insert(at);
        if name.starts_with(EVENT_DATA) && name.contains(' ') {
            spaced.push((name.replace(' ', ""), at));
        }
    }
    for (name, at) in spaced {
        index.entry(Cow::Owned(name)).or_insert(at);
    }
    index
}

/// A short key of a field name: its length with its first and last eight
/// bytes. Names of one event rarely share one, and a shared key only costs
/// a comparison of the names.
fn name_key(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let n = bytes.len();
    let (head, tail) = match (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
        (Some(head), Some(tail)) => (u64::from_le_bytes(*head), u64::from_le_bytes(*tail)),
        _ => (bytes.iter().fold(0, |w, b| (w << 8) | u64::from(*b)), 0),
    };
    head ^ tail.rotate_left(29) ^ ((n as u64) << 58)
}

/// Names an event serves from its dedicated members, not its field list.
fn is_member(name: &str) -> bool {
    matches!(
        name,
        "@timestamp" | "event.original" | "log.file.path" | "log.file.line"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::Origin;

    #[test]
    fn lookups_agree_with_the_event() {
        let mut e = Event::new(Origin::new("a.log", 4), "raw text");
        e.set("event.code", "4688");
        e.set("user.name", "root");
        e.set("user.name", "second");
        // Scanned as it is; indexed once it has many fields.
        for indexed in [false, true] {
            if indexed {
                pad(&mut e);
            }
            let v = EventView::new(&e);
            for name in [
                "event.code",
                "user.name",
                "event.original",
                "log.file.line",
                "log.file.path",
                "missing",
            ] {
                assert_eq!(v.get(name), e.get(name), "{name}, indexed: {indexed}");
            }
            assert_eq!(v.index.get().is_some(), indexed);
            assert_eq!(v.code(), Some(4688));
        }
    }

    #[test]
    fn names_sharing_a_key_are_told_apart() {
        // Same length, same first and last eight bytes: the same key.
        let (one, two) = ("prefix00.one.suffix00", "prefix00.two.suffix00");
        assert_eq!(name_key(one), name_key(two));
        let mut e = Event::new(Origin::new("a.log", 1), "");
        e.set(one, "first");
        e.set(two, "second");
        let v = EventView::new(&e);
        assert_eq!(v.get_str(one), Some("first"));
        assert_eq!(v.get_str(two), Some("second"));
        assert_eq!(v.get_str("prefix00.six.suffix00"), None);
        assert_ne!(name_key("source.ip"), name_key("source.port"));
    }

    /// Gives `e` more fields than are scanned.
    fn pad(e: &mut Event) {
        for i in 0..=SCANNED_FIELDS {
            e.set(format!("filler.f{i}"), "x");
        }
    }

    #[test]
    fn event_data_names_with_spaces_answer_without_them_too() {
        let mut e = Event::new(Origin::new("a.evtx", 1), "");
        e.set("winlog.event_data.Process Name", "C:\\evil.exe");
        e.set("winlog.event_data.Threat Name", "from the name with spaces");
        e.set("winlog.event_data.ThreatName", "from the event's own");
        e.set("user.full name", "not event data");
        spelt_without_spaces(&EventView::new(&e));
        let scanned = e.clone();
        pad(&mut e);
        let v = EventView::new(&e);
        spelt_without_spaces(&v);
        assert!(v.index.get().is_some(), "a large event is indexed");
        let e = scanned;
        assert_eq!(
            spaced_event_data(&e, "winlog.event_data.ProcessName").map(|v| v.to_string()),
            Some("C:\\evil.exe".to_owned())
        );
        assert!(spaced_event_data(&e, "user.fullname").is_none());
    }

    /// The spellings of `event_data_names_with_spaces_answer_without_them_too`.
    fn spelt_without_spaces(v: &EventView<'_>) {
        assert_eq!(
            v.get_str("winlog.event_data.ProcessName"),
            Some("C:\\evil.exe")
        );
        assert_eq!(
            v.get_str("winlog.event_data.Process Name"),
            Some("C:\\evil.exe")
        );
        assert_eq!(
            v.get_str("winlog.event_data.ThreatName"),
            Some("from the event's own")
        );
        assert_eq!(v.get("user.fullname"), None);
        let (value, lower) = v.get_cached("winlog.event_data.ProcessName").unwrap();
        assert_eq!(value.as_str(), Some("C:\\evil.exe"));
        assert!(lower.is_some(), "a field's lower-case text is cached");
    }
}
