//! The keys: what each does, in one table that both the key handling and
//! the help read, so the help cannot drift from what the keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::SignedDuration;
use rampart_store::Status;

use super::model::Action;
use rampart_store::{Period, DAY};

/// Rows a page moves.
const PAGE: i32 = 10;

/// The keys as the help lists them: keys, what they do.
pub const HELP: &[(&str, &str)] = &[
    ("↑ ↓  k j", "select an alert (scroll an open one)"),
    ("PgUp PgDn  Home End", "a page, the first, the last"),
    ("Enter", "open the selected alert with its events"),
    ("Esc", "back to the overview"),
    ("a", "acknowledge the alert"),
    ("c", "close the alert"),
    ("f", "mark the alert a false positive"),
    ("r", "reopen the alert"),
    ("1 2 3 4", "the last hour, day, 7 days, 30 days"),
    ("0", "all the stored data"),
    ("s", "the next minimum severity"),
    ("?", "show or hide this help"),
    ("q  Ctrl-C", "quit"),
];

/// The line always shown under the overview: the keys used most, the
/// help first so that a narrow terminal still shows it.
pub const HINT: &[(&str, &str)] = &[
    ("?", "help"),
    ("q", "quit"),
    ("⏎", "open"),
    ("a", "ack"),
    ("c", "close"),
    ("f", "fp"),
    ("r", "reopen"),
    ("0-4", "range"),
    ("s", "severity"),
];

/// The line always shown under an open alert.
pub const ALERT_HINT: &[(&str, &str)] = &[
    ("?", "help"),
    ("q", "quit"),
    ("Esc", "back"),
    ("↑↓", "scroll"),
    ("a", "ack"),
    ("c", "close"),
    ("f", "fp"),
    ("r", "reopen"),
];

/// What `key` asks for, if anything.
pub fn action(key: KeyEvent) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return matches!(key.code, KeyCode::Char('c')).then_some(Action::Quit);
    }
    let last = |hours: i64| Action::Range(Period::Last(SignedDuration::from_hours(hours)));
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Esc => Action::Back,
        KeyCode::Up | KeyCode::Char('k') => Action::Move(-1),
        KeyCode::Down | KeyCode::Char('j') => Action::Move(1),
        KeyCode::PageUp => Action::Move(-PAGE),
        KeyCode::PageDown => Action::Move(PAGE),
        KeyCode::Home => Action::First,
        KeyCode::End => Action::Last,
        KeyCode::Enter => Action::Open,
        KeyCode::Char('a') => Action::Triage(Status::Acknowledged),
        KeyCode::Char('c') => Action::Triage(Status::Closed),
        KeyCode::Char('f') => Action::Triage(Status::FalsePositive),
        KeyCode::Char('r') => Action::Triage(Status::Open),
        KeyCode::Char('1') => last(1),
        KeyCode::Char('2') => Action::Range(Period::Last(DAY)),
        KeyCode::Char('3') => last(7 * 24),
        KeyCode::Char('4') => last(30 * 24),
        KeyCode::Char('0') => Action::Range(Period::Everything),
        KeyCode::Char('s') => Action::Severity,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> Option<Action> {
        action(KeyEvent::new(code, modifiers))
    }

    #[test]
    fn keys_map_to_actions() {
        let plain = |c: char| press(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(
            press(KeyCode::Char('c'), KeyModifiers::CONTROL),
            Some(Action::Quit)
        );
        assert_eq!(plain('c'), Some(Action::Triage(Status::Closed)));
        assert_eq!(plain('f'), Some(Action::Triage(Status::FalsePositive)));
        assert_eq!(plain('r'), Some(Action::Triage(Status::Open)));
        assert_eq!(plain('2'), Some(Action::Range(Period::Last(DAY))));
        assert_eq!(plain('0'), Some(Action::Range(Period::Everything)));
        assert_eq!(
            press(KeyCode::Enter, KeyModifiers::NONE),
            Some(Action::Open)
        );
        assert_eq!(
            press(KeyCode::PageDown, KeyModifiers::NONE),
            Some(Action::Move(PAGE))
        );
        assert_eq!(plain('x'), None);
        assert_eq!(press(KeyCode::Char('a'), KeyModifiers::CONTROL), None);
    }
}
