//! How the dashboard marks things: colours on a terminal, or, when
//! `NO_COLOR` is set (https://no-color.org), only bold, dim and reverse,
//! so that severity and selection still stand out without a colour cell.
//! Every style the screen uses comes from here.

use rampart_detect::Level;
use ratatui::style::{Color, Modifier, Style};

/// The styles of one screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    color: bool,
}

impl Theme {
    /// Colours unless `NO_COLOR` is set to anything but nothing.
    pub fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme::new(!no_color)
    }

    /// Colours or none.
    pub fn new(color: bool) -> Theme {
        Theme { color }
    }

    fn pick(&self, color: Style, plain: Style) -> Style {
        if self.color {
            color
        } else {
            plain
        }
    }

    /// An alert level's mark.
    pub fn level(&self, level: Level) -> Style {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        match level {
            Level::Critical => self.pick(
                Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
                bold.add_modifier(Modifier::UNDERLINED),
            ),
            Level::High => self.pick(
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
                bold,
            ),
            Level::Medium => self.pick(Style::new().fg(Color::Yellow), Style::new()),
            Level::Low => self.pick(Style::new().fg(Color::Cyan), Style::new()),
            Level::Informational => self.dim(),
        }
    }

    /// Headings and panel titles.
    pub fn heading(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// What matters less: labels, closed alerts.
    pub fn dim(&self) -> Style {
        self.pick(
            Style::new().fg(Color::DarkGray),
            Style::new().add_modifier(Modifier::DIM),
        )
    }

    /// The selected row.
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// Bars of the alert timeline.
    pub fn alert_bars(&self) -> Style {
        self.pick(Style::new().fg(Color::Red), Style::new())
    }

    /// Bars of the event timeline.
    pub fn event_bars(&self) -> Style {
        self.pick(Style::new().fg(Color::Blue), Style::new())
    }

    /// A key in the hint line and the help.
    pub fn key(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    /// A note on what was just done.
    pub fn note(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Green),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    /// A failure.
    pub fn error(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        )
    }
}
