//! An event prepared for evaluation against many rules: its fields in a
//! hash map (FxHash: field names are short and not attacker-chosen keys of
//! a long-lived table) (an event's own lookup scans its field list, fine for one
//! lookup, too slow for hundreds), and the fields that route rules read once.
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

/// An event with indexed fields.
#[derive(Debug)]
pub struct EventView<'e> {
    event: &'e Event,
    /// Each field's value and its lower-case text, made when a rule first
    /// compares it ignoring case and then shared by every other rule.
    fields: FxHashMap<Cow<'e, str>, (ValueRef<'e>, LowerCache)>,
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
    /// Indexes `event`.
    pub fn new(event: &'e Event) -> Self {
        let mut fields = FxHashMap::with_capacity_and_hasher(event.len() * 2, Default::default());
        let mut spaced = Vec::new();
        for (name, value) in event.fields() {
            // The first value of a name wins, as in `Event::get`.
            fields
                .entry(Cow::Borrowed(name))
                .or_insert((value, LowerCache::new()));
            if name.starts_with(EVENT_DATA) && name.contains(' ') {
                spaced.push((name.replace(' ', ""), value));
            }
        }
        // A name the event spells without spaces itself wins.
        for (name, value) in spaced {
            fields
                .entry(Cow::Owned(name))
                .or_insert((value, LowerCache::new()));
        }
        let code = match fields.get("event.code").map(|(v, _)| v) {
            Some(ValueRef::Int(i)) => Some(*i),
            Some(ValueRef::Str(s)) => s.trim().parse().ok(),
            _ => None,
        };
        EventView {
            event,
            fields,
            code,
            original_lower: LowerCache::new(),
            scans: None,
        }
    }

    /// Indexes `event` for the rules `scanner` was built from: their
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

    /// A field by dotted name (the event's dedicated members included).
    pub fn get(&self, name: &str) -> Option<ValueRef<'e>> {
        match self.fields.get(name) {
            Some((v, _)) => Some(*v),
            None if is_member(name) => self.event.get(name),
            None => None,
        }
    }

    /// A field with the cache of its lower-case text (none for the event's
    /// dedicated members).
    pub fn get_cached(&self, name: &str) -> Option<(ValueRef<'e>, Option<&LowerCache>)> {
        match self.fields.get(name) {
            Some((v, cache)) => Some((*v, Some(cache))),
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
/// For lookups outside a view; a view indexes these once.
pub fn spaced_event_data<'e>(event: &'e Event, name: &str) -> Option<ValueRef<'e>> {
    let wanted = name.strip_prefix(EVENT_DATA)?;
    event.fields().find_map(|(field, value)| {
        let own = field.strip_prefix(EVENT_DATA)?;
        (own.contains(' ') && own.bytes().filter(|b| *b != b' ').eq(wanted.bytes()))
            .then_some(value)
    })
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
        let v = EventView::new(&e);
        for name in [
            "event.code",
            "user.name",
            "event.original",
            "log.file.line",
            "log.file.path",
            "missing",
        ] {
            assert_eq!(v.get(name), e.get(name), "{name}");
        }
        assert_eq!(v.code(), Some(4688));
    }

    #[test]
    fn event_data_names_with_spaces_answer_without_them_too() {
        let mut e = Event::new(Origin::new("a.evtx", 1), "");
        e.set("winlog.event_data.Process Name", "C:\\evil.exe");
        e.set("winlog.event_data.Threat Name", "from the name with spaces");
        e.set("winlog.event_data.ThreatName", "from the event's own");
        e.set("user.full name", "not event data");
        let v = EventView::new(&e);
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
        assert_eq!(
            spaced_event_data(&e, "winlog.event_data.ProcessName").map(|v| v.to_string()),
            Some("C:\\evil.exe".to_owned())
        );
        assert!(spaced_event_data(&e, "user.fullname").is_none());
    }
}
