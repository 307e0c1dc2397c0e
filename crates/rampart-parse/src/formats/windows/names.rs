//! Field names of `EventData` fields (`winlog.event_data.CommandLine`),
//! made once per name and thread instead of once per event.
//!
//! A Windows log uses a few hundred distinct field names, and every record
//! repeats them, so the names are interned for the life of the process.
//! The table is bounded: past [`MAX_NAMES`] names (a log with generated
//! names), further names are built per event as before.

use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;
use std::cell::RefCell;

use rampart_event::FieldName;

/// The most names one thread keeps.
const MAX_NAMES: usize = 4096;

thread_local! {
    static NAMES: RefCell<HashMap<Box<str>, &'static str>> = RefCell::new(HashMap::default());
}

/// `winlog.event_data.<name>`.
pub fn event_data(name: &str) -> FieldName {
    NAMES.with(|names| {
        let mut names = names.borrow_mut();
        if let Some(&full) = names.get(name) {
            return Cow::Borrowed(full);
        }
        let full = format!("winlog.event_data.{name}");
        if names.len() >= MAX_NAMES {
            return Cow::Owned(full);
        }
        // Bounded by MAX_NAMES per thread, so the leak is too.
        let full: &'static str = Box::leak(full.into_boxed_str());
        names.insert(name.into(), full);
        Cow::Borrowed(full)
    })
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
    }
}
