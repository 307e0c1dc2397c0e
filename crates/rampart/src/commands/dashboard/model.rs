//! The dashboard's state and how keys change it: the time range and
//! minimum severity asked for, which view is shown, the selected alert,
//! the last figures loaded and a note on the last thing done. Changing
//! state never touches the store: it returns the [`Effect`] the loop is to
//! carry out (load again, triage an alert, quit), so that it can be tested
//! without a terminal or a database.

use std::time::Instant;

use rampart_detect::Level;
use rampart_store::Status;

use super::data::Data;
use rampart_store::Period;

/// The next minimum severity: none, then each level up to critical, then
/// none again.
pub fn next_severity(min: Option<Level>) -> Option<Level> {
    match min {
        None => Some(Level::Low),
        Some(Level::Informational) => Some(Level::Low),
        Some(Level::Low) => Some(Level::Medium),
        Some(Level::Medium) => Some(Level::High),
        Some(Level::High) => Some(Level::Critical),
        Some(Level::Critical) => None,
    }
}

/// What the screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// The panels and the newest alerts.
    Overview,
    /// One alert with its events, scrolled down by `scroll` rows.
    Alert { id: String, scroll: u16 },
}

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave.
    Quit,
    /// Show or hide the keys.
    Help,
    /// Back from an alert (or out of the help).
    Back,
    /// Select (or scroll) this many rows down (up when negative).
    Move(i32),
    /// The first row.
    First,
    /// The last row.
    Last,
    /// Open the selected alert.
    Open,
    /// Set the selected alert's status.
    Triage(Status),
    /// Another time range.
    Range(Period),
    /// The next minimum severity.
    Severity,
}

/// What the loop is to do after a change of state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Nothing beyond drawing again.
    Redraw,
    /// Load the figures again (what they are of has changed).
    Reload,
    /// Set alert `id`'s status, then load again.
    Triage { id: String, status: Status },
    /// Leave.
    Quit,
}

/// A note on the last thing done, shown for a few seconds.
#[derive(Debug, Clone)]
pub struct Note {
    /// What to say.
    pub text: String,
    /// Whether it is a failure.
    pub error: bool,
    /// When it was said.
    pub at: Instant,
}

/// The dashboard's state.
#[derive(Debug)]
pub struct App {
    /// The time range asked for (`None` until the data's extent is known).
    pub period: Option<Period>,
    /// Only alerts of this level or above.
    pub min_severity: Option<Level>,
    /// What is shown.
    pub view: View,
    /// Whether the keys are shown over it.
    pub help: bool,
    /// The selected row of the newest alerts.
    pub selected: usize,
    /// The figures last loaded.
    pub data: Option<Data>,
    /// A note on the last thing done.
    pub note: Option<Note>,
}

impl App {
    /// A dashboard over `period` (the default when `None`) and alerts of
    /// `min_severity` or above.
    pub fn new(period: Option<Period>, min_severity: Option<Level>) -> App {
        App {
            period,
            min_severity,
            view: View::Overview,
            help: false,
            selected: 0,
            data: None,
            note: None,
        }
    }

    /// The id of the alert keys act on: the open one, else the selected row.
    pub fn target(&self) -> Option<&str> {
        match &self.view {
            View::Alert { id, .. } => Some(id),
            View::Overview => self
                .data
                .as_ref()?
                .newest
                .get(self.selected)
                .map(|row| row.alert.id.as_str()),
        }
    }

    /// Takes freshly loaded figures, keeping the same alert selected when
    /// it is still listed.
    pub fn loaded(&mut self, data: Data) {
        let before = self.target().map(str::to_owned);
        if let Some(id) = before.filter(|_| self.view == View::Overview) {
            if let Some(i) = data.newest.iter().position(|r| r.alert.id == id) {
                self.selected = i;
            }
        }
        self.selected = self.selected.min(data.newest.len().saturating_sub(1));
        self.data = Some(data);
    }

    /// Says `text` for a few seconds.
    pub fn say(&mut self, text: impl Into<String>, error: bool) {
        self.note = Some(Note {
            text: text.into(),
            error,
            at: Instant::now(),
        });
    }

    /// Changes state as `action` asks; returns what the loop is to do.
    pub fn apply(&mut self, action: Action) -> Effect {
        let rows = self.data.as_ref().map_or(0, |d| d.newest.len());
        match action {
            Action::Quit => return Effect::Quit,
            Action::Help => self.help = !self.help,
            Action::Back if self.help => self.help = false,
            Action::Back => {
                if matches!(self.view, View::Alert { .. }) {
                    self.view = View::Overview;
                    return Effect::Reload;
                }
            }
            Action::Move(by) => match &mut self.view {
                View::Overview => {
                    let to = self.selected as i64 + i64::from(by);
                    self.selected = to.clamp(0, rows.saturating_sub(1) as i64) as usize;
                }
                View::Alert { scroll, .. } => {
                    *scroll = (i64::from(*scroll) + i64::from(by)).clamp(0, u16::MAX.into()) as u16;
                }
            },
            Action::First => match &mut self.view {
                View::Overview => self.selected = 0,
                View::Alert { scroll, .. } => *scroll = 0,
            },
            Action::Last => match &mut self.view {
                View::Overview => self.selected = rows.saturating_sub(1),
                // Drawing stops the scroll at the end.
                View::Alert { scroll, .. } => *scroll = u16::MAX,
            },
            Action::Open => {
                if let (View::Overview, Some(id)) = (&self.view, self.target()) {
                    self.view = View::Alert {
                        id: id.to_owned(),
                        scroll: 0,
                    };
                    return Effect::Reload;
                }
            }
            Action::Triage(status) => {
                if let Some(id) = self.target() {
                    return Effect::Triage {
                        id: id.to_owned(),
                        status,
                    };
                }
                self.say("no alert selected", true);
            }
            Action::Range(period) => {
                self.period = Some(period);
                return Effect::Reload;
            }
            Action::Severity => {
                self.min_severity = next_severity(self.min_severity);
                return Effect::Reload;
            }
        }
        Effect::Redraw
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::dashboard::data::Row;
    use jiff::{SignedDuration, Timestamp};
    use rampart_store::DAY;
    use rampart_store::{Extent, StoredAlert, Timeline};

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap()
    }

    fn extent(range: Option<(i64, i64)>) -> Extent {
        Extent {
            range: range.map(|(a, b)| (at(a), at(b))),
            stored: true,
        }
    }

    /// Figures whose newest alerts have `ids`, newest first.
    fn data(ids: &[&str]) -> Data {
        let timeline = Timeline {
            start: at(0),
            bucket: SignedDuration::from_hours(1),
            counts: Vec::new(),
        };
        let row = |id: &&str| Row {
            alert: StoredAlert {
                id: (*id).to_owned(),
                rule_id: "r".into(),
                title: "t".into(),
                severity: Level::High,
                time: None,
                count: 1,
                status: "open".into(),
                assignee: None,
                doc: "{}".into(),
            },
            about: String::new(),
        };
        Data {
            extent: extent(None),
            range: (at(0), at(1)),
            figures: rampart_store::Figures {
                by_severity: Vec::new(),
                alerts: timeline.clone(),
                events: timeline,
                rules: Vec::new(),
                sources: Vec::new(),
                hosts: Vec::new(),
            },
            newest: ids.iter().map(row).collect(),
            detail: None,
        }
    }

    #[test]
    fn the_default_range_is_the_last_day_unless_the_data_is_older() {
        let now = at(1_800_000_000);
        let day = 86_400;
        let old = extent(Some((1_000, 2_000)));
        assert_eq!(Period::default_for(&old, now), Period::Everything);
        assert_eq!(Period::Everything.bounds(&old, now), (at(1_000), at(2_000)));
        let recent = extent(Some((1_000, 1_800_000_000 - day + 1)));
        assert_eq!(Period::default_for(&recent, now), Period::Last(DAY));
        assert_eq!(Period::default_for(&extent(None), now), Period::Last(DAY));
        assert_eq!(
            Period::Last(DAY).bounds(&old, now),
            (at(1_800_000_000 - day), now)
        );
        // A range given on one side runs to now, or to data in the future.
        let given = Period::Given {
            since: Some(at(1_500)),
            until: None,
        };
        assert_eq!(given.bounds(&old, now), (at(1_500), now));
        let future = extent(Some((1_000, 1_900_000_000)));
        assert_eq!(given.bounds(&future, now), (at(1_500), at(1_900_000_000)));
        let until = Period::Given {
            since: None,
            until: Some(at(1_500)),
        };
        assert_eq!(until.bounds(&old, now), (at(1_000), at(1_500)));
        assert!(Period::Last(DAY).slides() && given.slides());
        assert!(!Period::Everything.slides() && !until.slides());
        let labels: Vec<String> = [1, 24, 7 * 24, 30 * 24, 5]
            .map(|h| Period::Last(SignedDuration::from_hours(h)).label())
            .into();
        assert_eq!(
            labels,
            [
                "last hour",
                "last day",
                "last 7 days",
                "last 30 days",
                "last 5 hours"
            ]
        );
    }

    #[test]
    fn the_minimum_severity_cycles_through_every_level_and_back() {
        let mut seen = vec![None];
        let mut level = next_severity(None);
        while level.is_some() {
            seen.push(level);
            level = next_severity(level);
        }
        assert_eq!(
            seen,
            [
                None,
                Some(Level::Low),
                Some(Level::Medium),
                Some(Level::High),
                Some(Level::Critical)
            ]
        );
    }

    #[test]
    fn keys_act_on_the_selected_alert_or_the_open_one() {
        let mut app = App::new(None, None);
        assert_eq!(app.apply(Action::Open), Effect::Redraw, "nothing loaded");
        assert_eq!(app.apply(Action::Triage(Status::Closed)), Effect::Redraw);
        assert!(app.note.as_ref().is_some_and(|n| n.error));

        app.loaded(data(&["a", "b", "c"]));
        app.apply(Action::Move(5));
        assert_eq!(app.selected, 2, "stops at the last row");
        app.apply(Action::Move(-1));
        assert_eq!(
            app.apply(Action::Triage(Status::Acknowledged)),
            Effect::Triage {
                id: "b".into(),
                status: Status::Acknowledged
            }
        );
        // A new alert arrives on top: the same alert stays selected.
        app.loaded(data(&["new", "a", "b", "c"]));
        assert_eq!(app.target(), Some("b"));
        // It goes: the selection stays in the list.
        app.apply(Action::Last);
        app.loaded(data(&["new"]));
        assert_eq!(app.target(), Some("new"));

        assert_eq!(app.apply(Action::Open), Effect::Reload);
        assert_eq!(
            app.view,
            View::Alert {
                id: "new".into(),
                scroll: 0
            }
        );
        app.loaded(data(&["other"]));
        assert_eq!(app.target(), Some("new"), "the open alert, not the list's");
        app.apply(Action::Move(3));
        app.apply(Action::Move(-1));
        assert_eq!(
            app.view,
            View::Alert {
                id: "new".into(),
                scroll: 2
            }
        );
        app.apply(Action::Help);
        assert_eq!(app.apply(Action::Back), Effect::Redraw, "closes the help");
        assert!(!app.help);
        assert_eq!(app.apply(Action::Back), Effect::Reload);
        assert_eq!(app.view, View::Overview);
        assert_eq!(app.apply(Action::Severity), Effect::Reload);
        assert_eq!(app.min_severity, Some(Level::Low));
        assert_eq!(app.apply(Action::Range(Period::Everything)), Effect::Reload);
        assert_eq!(app.period, Some(Period::Everything));
        assert_eq!(app.apply(Action::Quit), Effect::Quit);
    }
}
