//! Field names made from a prefix and a name read from the log
//! (`winlog.event_data.CommandLine`, `auditd.log.exe`), made once per name
//! and thread instead of once per event.
//!
//! A log uses a few hundred distinct field names and every record repeats
//! them, so the names are interned for the life of the process. The table is
//! bounded: past [`MAX_NAMES`] names (a log with generated names), further
//! names are built per event.

use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;
use std::cell::RefCell;

use rampart_event::FieldName;

/// The most names one thread keeps.
const MAX_NAMES: usize = 4096;

/// Names per prefix.
type Table = HashMap<&'static str, HashMap<Box<str>, &'static str>>;

thread_local! {
    static NAMES: RefCell<(Table, usize)> = RefCell::new((HashMap::default(), 0));
}

/// `<prefix><name>`; `prefix` ends with its separator (`"auditd.log."`).
pub fn prefixed(prefix: &'static str, name: &str) -> FieldName {
    NAMES.with(|names| {
        let (table, count) = &mut *names.borrow_mut();
        let names = table.entry(prefix).or_default();
        if let Some(&full) = names.get(name) {
            return Cow::Borrowed(full);
        }
        let full = format!("{prefix}{name}");
        if *count >= MAX_NAMES {
            return Cow::Owned(full);
        }
        // Bounded by MAX_NAMES per thread, so the leak is too.
        let full: &'static str = Box::leak(full.into_boxed_str());
        names.insert(name.into(), full);
        *count += 1;
        Cow::Borrowed(full)
    })
}

/// `winlog.event_data.<name>`.
pub fn event_data(name: &str) -> FieldName {
    prefixed("winlog.event_data.", name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_made_once_and_reused() {
        let a = event_data("CommandLine");
        let b = event_data("CommandLine");
        assert_eq!(a, "winlog.event_data.CommandLine");
        assert!(matches!((&a, &b), (Cow::Borrowed(x), Cow::Borrowed(y)) if std::ptr::eq(*x, *y)));
        assert_eq!(
            prefixed("auditd.log.", "CommandLine"),
            "auditd.log.CommandLine"
        );
    }
}
