//! `rampart dashboard`: a terminal dashboard over the store. Panels of
//! alerts per severity, alerts and events over time, the rules, sources
//! and hosts with the most alerts, and the newest alerts, which open with
//! their events and are triaged from the keyboard.
//!
//! The figures are read again every `--refresh` seconds, so what an
//! `ingest --follow` stores in another process shows within that time; the
//! store's WAL lets these reads run beside its writes. A range that does
//! not move with the clock is read again only when another process has
//! committed since (the store's data version says), so a dashboard left
//! open on a large, idle store costs nothing. The loop draws, then waits
//! for a key until the next load is due. The terminal is put
//! back as it was however the dashboard ends: on return, on error (a
//! guard) and on panic (ratatui's hook).
//!
//! `model` holds the state and what keys do to it, `keys` the key map,
//! `data` the loading, `render` the drawing, `theme` the styles and `text`
//! the cleaning of what the store holds for the screen.

mod data;
mod keys;
mod model;
mod render;
#[cfg(test)]
mod tests;
mod text;
mod theme;

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use crossterm::event::{self, Event, KeyEventKind};
use rampart_detect::Level;
use rampart_event::Timestamp;
use rampart_store::{Backend, Beside, Triage};

use model::{App, Effect};
use rampart_store::Period;
use theme::Theme;

/// Arguments of `rampart dashboard`.
#[derive(Debug, Args)]
pub struct DashboardArgs {
    /// Start on what happened at or after this time (RFC 3339) [default:
    /// the last day, or all the data when the newest is older than that].
    #[arg(long, value_name = "TIME")]
    since: Option<Timestamp>,
    /// Start on what happened before this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    until: Option<Timestamp>,
    /// Start on alerts of this level or above.
    #[arg(long, value_name = "LEVEL", value_parser = level)]
    severity: Option<Level>,
    /// Seconds between loads of the figures.
    #[arg(long, value_name = "SECS", default_value_t = 1.0, value_parser = seconds)]
    refresh: f64,
}

fn level(text: &str) -> Result<Level, String> {
    Level::parse(text)
        .ok_or_else(|| "expected informational, low, medium, high or critical".to_owned())
}

fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if (0.1..=3600.0).contains(&s) => Ok(s),
        _ => Err("expected a number of seconds from 0.1 to 3600".to_owned()),
    }
}

/// Runs the command.
pub fn run(args: &DashboardArgs, db: &Path) -> anyhow::Result<ExitCode> {
    let mut store = super::backend::open(db)?;
    if !std::io::stdout().is_terminal() {
        bail!("the dashboard draws on a terminal; for output to a pipe use `rampart alerts` or `rampart stats`");
    }
    let period = (args.since.is_some() || args.until.is_some()).then_some(Period::Given {
        since: args.since,
        until: args.until,
    });
    let mut app = App::new(period, args.severity);
    let screen = Screen::enter().context("cannot set up the terminal")?;
    let refresh = Duration::from_secs_f64(args.refresh);
    let ran = run_loop(
        screen,
        store.as_mut(),
        &mut app,
        &Theme::from_env(),
        refresh,
    );
    ran.map(|()| ExitCode::SUCCESS)
}

/// The terminal in raw mode on the alternate screen; put back as it was
/// when dropped.
struct Screen(ratatui::DefaultTerminal);

impl Screen {
    fn enter() -> std::io::Result<Screen> {
        // Raw mode may be on when entering the alternate screen fails:
        // `Drop` is not run for a value never made, so put it back here.
        ratatui::try_init()
            .map(Screen)
            .inspect_err(|_| ratatui::restore())
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

fn run_loop(
    mut screen: Screen,
    store: &mut dyn Backend,
    app: &mut App,
    theme: &Theme,
    refresh: Duration,
) -> anyhow::Result<()> {
    let user = crate::commands::alerts::login();
    let mut due = Instant::now();
    // Whether something here asks for a load (the store's own version does
    // not change with this connection's writes), and the version last read.
    let (mut asked, mut seen) = (true, None);
    loop {
        if Instant::now() >= due {
            // Read before loading: a commit during the load is seen next time.
            let version = store.data_version().ok().flatten();
            let slides = app.period.is_none_or(|p| p.slides());
            if asked || slides || version.is_none() || version != seen {
                // A load that failed is tried again at the next tick.
                (asked, seen) = (!reload(store, app), version);
            }
            due = Instant::now() + refresh;
        }
        screen.0.draw(|frame| render::draw(frame, app, theme))?;
        if !event::poll(due.saturating_duration_since(Instant::now()))? {
            continue;
        }
        let Event::Key(key) = event::read()? else {
            // A resize, focus or paste: drawing again is enough.
            continue;
        };
        if key.kind == KeyEventKind::Release {
            continue;
        }
        let Some(action) = keys::action(key) else {
            continue;
        };
        match app.apply(action) {
            Effect::Quit => return Ok(()),
            Effect::Redraw => {}
            Effect::Reload => (asked, due) = (true, Instant::now()),
            Effect::Triage { id, status } => {
                let step = Triage::Set(status);
                match store.triage_beside(&id, &step, (&user, None), Beside::default()) {
                    Ok(done) => {
                        let alert = done.alert;
                        app.say(format!("{} {}", short(&alert.id), alert.status), false)
                    }
                    Err(e) => app.say(format!("cannot triage {}: {e}", short(&id)), true),
                }
                (asked, due) = (true, Instant::now());
            }
        }
    }
}

/// An alert id cut to what tells it apart in a note.
fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// Loads the figures again; a failure (a database being replaced, a disk
/// gone) is said and the last figures kept, so a passing fault does not
/// end the session. Returns whether it loaded.
fn reload(store: &dyn Backend, app: &mut App) -> bool {
    let open = match &app.view {
        model::View::Alert { id, .. } => Some(id.as_str()),
        model::View::Overview => None,
    };
    match data::load(store, app.period, app.min_severity, open, Timestamp::now()) {
        Ok((period, data)) => {
            app.period = Some(period);
            app.loaded(data);
            true
        }
        Err(e) => {
            app.say(format!("cannot read the database: {e}"), true);
            false
        }
    }
}
