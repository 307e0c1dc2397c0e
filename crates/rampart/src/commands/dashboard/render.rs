//! Drawing the dashboard into any ratatui backend (the terminal, or a test
//! buffer). The overview gives the newest alerts the room a terminal has
//! left once the panels above them fit: at 80×24 every panel shows; lower
//! terminals drop the top lists, then the timelines, and a terminal of a
//! few rows keeps the header and the key line. Nothing here assumes a
//! size, so no size panics.
//!
//! Every text from the store goes through [`clean`] on its way to the
//! screen.

use jiff::{SignedDuration, Timestamp};
use rampart_detect::Level;
use rampart_store::{Status, Timeline};
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Cell, Clear, Paragraph, Row as TableRow, Sparkline, Table, TableState, Wrap,
};
use ratatui::Frame;

use super::data::{Data, Detail, Row};
use super::keys::{ALERT_HINT, HELP, HINT};
use super::model::{App, View};
use super::text::{clean, count, counted};
use super::theme::Theme;
use crate::commands::events::field;
use crate::commands::list_format::cell_time;

/// How long a note on the last thing done stays.
const NOTE_SECONDS: u64 = 5;

/// What the screen says when nothing is stored.
pub const EMPTY: &str = "no events or alerts stored yet — run rampart ingest";

/// Draws the whole screen. Scrolling an open alert past its end is undone
/// here, where its height is known.
pub fn draw(frame: &mut Frame, app: &mut App, theme: &Theme) {
    let area = frame.area();
    if area.is_empty() {
        return;
    }
    let hint = Rect {
        y: area.bottom() - 1,
        height: 1,
        ..area
    };
    draw_hint(frame, hint, app, theme);
    if area.height < 2 {
        return;
    }
    let header = Rect { height: 1, ..area };
    draw_header(frame, header, app, theme);
    let body = Rect {
        y: area.y + 1,
        height: area.height - 2,
        ..area
    };
    if body.is_empty() {
        return;
    }
    match &app.data {
        None => frame.render_widget(Paragraph::new("loading…"), body),
        Some(data) if data.is_empty() => draw_empty(frame, body, theme),
        Some(data) => match &app.view {
            View::Overview => draw_overview(frame, body, data, app.selected, theme),
            View::Alert { scroll, .. } => {
                let shown = draw_alert(frame, body, data.detail.as_ref(), *scroll, theme);
                if let View::Alert { scroll, .. } = &mut app.view {
                    *scroll = shown;
                }
            }
        },
    }
    if app.help {
        draw_help(frame, body, theme);
    }
}

/// `pairs` of key and what it does as one line.
fn keys_line<'a>(pairs: &[(&'a str, &'a str)], theme: &Theme) -> Line<'a> {
    let mut spans = Vec::new();
    for (i, (key, what)) in pairs.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(*key, theme.key()));
        spans.push(Span::raw(" "));
        spans.push(Span::styled(*what, theme.dim()));
    }
    Line::from(spans)
}

fn draw_hint(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let pairs = match app.view {
        View::Overview => HINT,
        View::Alert { .. } => ALERT_HINT,
    };
    frame.render_widget(Paragraph::new(keys_line(pairs, theme)), area);
}

/// A range as the header gives it: what the end shares with the start
/// (its year, its date) left out.
fn range_text((since, until): (Timestamp, Timestamp)) -> String {
    let from = since.strftime("%Y-%m-%d %H:%M").to_string();
    let to = until.strftime("%Y-%m-%d %H:%M").to_string();
    let to = [&from[..11], &from[..5]]
        .into_iter()
        .find_map(|same| to.strip_prefix(same))
        .unwrap_or(&to);
    format!("{from} → {to} UTC")
}

/// A level's name in a narrow column.
fn level_name(level: Level) -> &'static str {
    match level {
        Level::Informational => "info",
        other => other.as_str(),
    }
}

fn draw_header(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut spans = Vec::new();
    let fresh = app
        .note
        .as_ref()
        .filter(|n| n.at.elapsed().as_secs() < NOTE_SECONDS);
    if let Some(note) = fresh {
        let style = if note.error {
            theme.error()
        } else {
            theme.note()
        };
        spans.push(Span::styled(clean(&note.text), style));
        spans.push(Span::raw("  "));
    }
    if let (Some(period), Some(data)) = (app.period, &app.data) {
        let mut figures = format!(
            "{}  {}",
            counted(data.event_total(), "event"),
            counted(data.alert_total(), "alert")
        );
        if let Some(level) = app.min_severity {
            figures.push_str(&format!(" ≥ {}", level_name(level)));
        }
        spans.push(Span::raw(figures));
        spans.push(Span::styled(format!("  {}: ", period.label()), theme.dim()));
        spans.push(Span::raw(range_text(data.range)));
    }
    // The name first when the rest leaves room for it.
    let mut line = Line::from(spans);
    if line.width() + 9 <= usize::from(area.width) {
        line.spans
            .insert(0, Span::styled("rampart  ", theme.heading()));
    }
    frame.render_widget(Paragraph::new(line), area);
}

fn draw_empty(frame: &mut Frame, area: Rect, theme: &Theme) {
    let lines = vec![
        Line::styled(EMPTY, theme.heading()),
        Line::styled(
            "(what is stored shows here as it comes, ingest --follow included)",
            theme.dim(),
        ),
    ];
    let top = area.height.saturating_sub(2) / 2;
    let area = Rect {
        y: area.y + top,
        height: area.height - top,
        ..area
    };
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        area,
    );
}

/// A panel's frame with its title.
fn panel<'a>(title: impl Into<Line<'a>>, theme: &Theme) -> Block<'a> {
    Block::bordered()
        .title(title)
        .title_style(theme.heading())
        .border_style(theme.dim())
}

fn draw_overview(frame: &mut Frame, area: Rect, data: &Data, selected: usize, theme: &Theme) {
    let h = area.height;
    let (charts, tops) = if h >= 18 {
        ((h / 4).clamp(7, 12), (h / 4).clamp(6, 12))
    } else if h >= 11 {
        (7, 0)
    } else {
        (0, 0)
    };
    let [charts, tops, list] = Layout::vertical([
        Constraint::Length(charts),
        Constraint::Length(tops),
        Constraint::Fill(1),
    ])
    .areas(area);
    if !charts.is_empty() {
        if charts.width >= 50 {
            let [severity, timelines] =
                Layout::horizontal([Constraint::Length(24), Constraint::Fill(1)]).areas(charts);
            draw_severity(frame, severity, data, theme);
            draw_timelines(frame, timelines, data, theme);
        } else {
            draw_severity(frame, charts, data, theme);
        }
    }
    if !tops.is_empty() {
        let [rules, sources, hosts] = Layout::horizontal([
            Constraint::Percentage(44),
            Constraint::Percentage(28),
            Constraint::Percentage(28),
        ])
        .areas(tops);
        let rule_rows: Vec<(u64, Vec<Span>)> = data
            .figures
            .rules
            .iter()
            .map(|r| {
                let name = vec![
                    Span::raw(clean(&r.title)),
                    Span::styled(format!(" {}", clean(&r.rule_id)), theme.dim()),
                ];
                (r.alerts, name)
            })
            .collect();
        draw_top(frame, rules, " top rules ", rule_rows, theme);
        for (area, title, list) in [
            (sources, " top sources ", &data.figures.sources),
            (hosts, " top hosts ", &data.figures.hosts),
        ] {
            let rows = list
                .iter()
                .map(|(name, n)| (*n, vec![Span::raw(clean(name))]))
                .collect();
            draw_top(frame, area, title, rows, theme);
        }
    }
    draw_newest(frame, list, &data.newest, selected, theme);
}

fn draw_severity(frame: &mut Frame, area: Rect, data: &Data, theme: &Theme) {
    let block = panel(" alerts by severity ", theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let most = data
        .figures
        .by_severity
        .iter()
        .map(|(_, n)| *n)
        .max()
        .unwrap_or(0);
    let room = u64::from(inner.width.saturating_sub(16));
    let lines: Vec<Line> = data
        .figures
        .by_severity
        .iter()
        .map(|(level, n)| {
            let bar = if most == 0 {
                0
            } else {
                (n * room).div_ceil(most)
            };
            Line::from(vec![
                Span::styled(format!("{:<8}", level_name(*level)), theme.level(*level)),
                Span::raw(format!("{:>7} ", count(*n))),
                Span::styled("■".repeat(bar as usize), theme.level(*level)),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A bar width in words.
fn per(width: SignedDuration) -> String {
    let mins = width.as_mins();
    match mins {
        m if m % 1_440 == 0 && m > 1_440 => format!("{} days", m / 1_440),
        1_440 => "day".into(),
        m if m % 60 == 0 && m > 60 => format!("{} hours", m / 60),
        60 => "hour".into(),
        1 => "minute".into(),
        m => format!("{m} min"),
    }
}

/// `timeline` as one bar per column of `width` columns spanning `range`,
/// so that timelines of different bar widths line up in time: bars are
/// first added together, a whole number at a time, until each is at least
/// a column wide; each column then shows the bar its middle falls in.
/// Returns the columns and the width of the bars they show.
fn columns(
    timeline: &Timeline,
    (since, until): (Timestamp, Timestamp),
    width: usize,
) -> (Vec<u64>, SignedDuration) {
    if width == 0 {
        return (Vec::new(), timeline.bucket);
    }
    let bucket = timeline.bucket.as_micros().max(1);
    let (since, until) = (since.as_microsecond(), until.as_microsecond());
    let span = i128::from(until - since).max(1);
    let cols = width as i128;
    let most = timeline.counts.len().max(1) as i128;
    let merge = ((span + cols * bucket - 1) / (cols * bucket)).clamp(1, most);
    let bars: Vec<u64> = timeline
        .counts
        .chunks(merge as usize)
        .map(|c| c.iter().sum())
        .collect();
    let start = i128::from(timeline.start.as_microsecond());
    let shown = (0..cols)
        .map(|c| {
            let middle = i128::from(since) + (2 * c + 1) * span / (2 * cols);
            let bar = (middle - start).div_euclid(merge * bucket);
            usize::try_from(bar)
                .ok()
                .and_then(|b| bars.get(b))
                .copied()
                .unwrap_or(0)
        })
        .collect();
    (shown, timeline.bucket * merge as i32)
}

fn draw_timelines(frame: &mut Frame, area: Rect, data: &Data, theme: &Theme) {
    let block = panel(" over time (UTC) ", theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let axis = u16::from(inner.height >= 6);
    let [alert_caption, alert_bars, event_caption, event_bars, axis_row] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(axis),
    ])
    .areas(inner);
    let series = [
        (
            "alerts",
            &data.figures.alerts,
            alert_caption,
            alert_bars,
            theme.alert_bars(),
        ),
        (
            "events",
            &data.figures.events,
            event_caption,
            event_bars,
            theme.event_bars(),
        ),
    ];
    for (what, timeline, caption, bars, style) in series {
        let (shown, width) = columns(timeline, data.range, usize::from(bars.width));
        let most = shown.iter().max().copied().unwrap_or(0);
        let line = Line::from(vec![
            Span::styled(what, theme.heading()),
            Span::styled(
                format!(" per {}, at most {}", per(width), count(most)),
                theme.dim(),
            ),
        ]);
        frame.render_widget(Paragraph::new(line), caption);
        frame.render_widget(Sparkline::default().data(shown).style(style), bars);
    }
    if !axis_row.is_empty() {
        let (since, until) = data.range;
        let from = since.strftime("%m-%d %H:%M").to_string();
        let to = until.strftime("%m-%d %H:%M").to_string();
        let gap = usize::from(axis_row.width).saturating_sub(from.len() + to.len());
        let text = format!("{from}{}{to}", " ".repeat(gap));
        frame.render_widget(Paragraph::new(Span::styled(text, theme.dim())), axis_row);
    }
}

fn draw_top(
    frame: &mut Frame,
    area: Rect,
    title: &'static str,
    rows: Vec<(u64, Vec<Span>)>,
    theme: &Theme,
) {
    let block = panel(title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if rows.is_empty() {
        frame.render_widget(Paragraph::new(Span::styled("none", theme.dim())), inner);
        return;
    }
    let lines: Vec<Line> = rows
        .into_iter()
        .map(|(n, name)| {
            let mut spans = vec![Span::raw(format!("{:>7} ", count(n)))];
            spans.extend(name);
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A status in a narrow column.
fn status_name(status: &str) -> &str {
    match Status::parse(status) {
        Some(Status::Acknowledged) => "ack",
        Some(Status::FalsePositive) => "fp",
        _ => status,
    }
}

fn draw_newest(frame: &mut Frame, area: Rect, rows: &[Row], selected: usize, theme: &Theme) {
    let block = panel(format!(" newest alerts ({}) ", rows.len()), theme);
    if rows.is_empty() {
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let text = Span::styled("no alerts in this range", theme.dim());
        frame.render_widget(Paragraph::new(text), inner);
        return;
    }
    let header =
        TableRow::new(["time", "level", "status", "   count", "alert"]).style(theme.heading());
    let table_rows = rows.iter().map(|row| {
        let a = &row.alert;
        let done = matches!(
            Status::parse(&a.status),
            Some(Status::Closed | Status::FalsePositive)
        );
        let time = a
            .time
            .map(|t| t.strftime("%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let alert = Line::from(vec![
            Span::raw(clean(&a.title)),
            Span::styled(format!("  {}", clean(&row.about)), theme.dim()),
        ]);
        let cells = vec![
            Cell::from(time),
            Cell::from(Span::styled(
                level_name(a.severity),
                theme.level(a.severity),
            )),
            Cell::from(status_name(&a.status).to_owned()),
            Cell::from(format!("{:>8}", count(a.count))),
            Cell::from(alert),
        ];
        let row = TableRow::new(cells);
        if done {
            row.style(theme.dim())
        } else {
            row
        }
    });
    let table = Table::new(
        table_rows,
        [
            Constraint::Length(14),
            Constraint::Length(8),
            Constraint::Length(6),
            Constraint::Length(8),
            Constraint::Fill(1),
        ],
    )
    .header(header)
    .block(block)
    .row_highlight_style(theme.selected());
    let mut state = TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(table, area, &mut state);
}

/// A field of the open alert: a dim label, then its value.
fn labelled<'a>(pairs: &[(&'a str, String)], theme: &Theme) -> Line<'a> {
    let mut spans = Vec::new();
    for (i, (label, value)) in pairs.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("   "));
        }
        spans.push(Span::styled(format!("{label} "), theme.dim()));
        spans.push(Span::raw(clean(value)));
    }
    Line::from(spans)
}

/// The open alert as lines: what it is, its triage, why it fired, and its
/// events.
fn alert_lines<'a>(detail: &Detail, theme: &Theme) -> Vec<Line<'a>> {
    let (a, doc) = (&detail.alert, &detail.doc);
    let time = |key: &str| cell_time(doc[key].as_str().and_then(|t| t.parse().ok()));
    let mut lines = vec![
        Line::styled(
            clean(&a.title),
            theme.level(a.severity).patch(theme.heading()),
        ),
        labelled(
            &[
                ("severity", a.severity.as_str().to_owned()),
                ("status", a.status.clone()),
                ("assignee", a.assignee.clone().unwrap_or_else(|| "-".into())),
                ("events", count(a.count)),
            ],
            theme,
        ),
        labelled(&[("rule", a.rule_id.clone()), ("id", a.id.clone())], theme),
        labelled(
            &[
                ("fired", cell_time(a.time)),
                ("first", time("first_seen")),
                ("last", time("last_seen")),
            ],
            theme,
        ),
    ];
    if let Some(group) = doc["group"].as_object().filter(|g| !g.is_empty()) {
        let pairs: Vec<String> = group
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect();
        lines.push(labelled(&[("group", pairs.join("  "))], theme));
    }
    for technique in doc["mitre"].as_array().into_iter().flatten() {
        let name = technique["name"].as_str().unwrap_or_default();
        let id = technique["id"].as_str().unwrap_or_default();
        lines.push(labelled(&[("ATT&CK", format!("{id} {name}"))], theme));
    }
    for m in doc["matched"].as_array().into_iter().flatten() {
        let what = [
            m["search"].as_str(),
            m["field"].as_str(),
            m["value"].as_str(),
        ];
        let said: Vec<&str> = what.into_iter().flatten().collect();
        lines.push(labelled(&[("matched", said.join("  "))], theme));
    }
    if !detail.history.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("history", theme.heading()));
        for step in &detail.history {
            let mut said = format!(
                "{}  {}  {}",
                step.time.strftime("%Y-%m-%d %H:%M:%S"),
                step.user,
                step.action
            );
            if let Some(who) = &step.assignee {
                said.push_str(&format!(" to {who}"));
            }
            if let Some(note) = &step.note {
                said.push_str(&format!(": {note}"));
            }
            lines.push(Line::raw(format!("  {}", clean(&said))));
        }
    }
    let events = doc["events"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!("events ({} of {})", events.len(), count(a.count)),
        theme.heading(),
    ));
    for event in events {
        let about: Vec<String> = [
            "@timestamp",
            "event.dataset",
            "host.name",
            "source.ip",
            "user.name",
        ]
        .iter()
        .map(|name| field(event, name))
        .filter(|v| !v.is_empty())
        .collect();
        lines.push(Line::styled(
            format!("  {}", clean(&about.join("  "))),
            theme.dim(),
        ));
        let mut said = field(event, "message");
        if said.is_empty() {
            said = field(event, "event.original");
        }
        lines.push(Line::raw(format!("    {}", clean(&said))));
    }
    lines
}

/// Draws the open alert scrolled down `scroll` rows, or as far as it
/// goes; returns how far it is scrolled.
fn draw_alert(
    frame: &mut Frame,
    area: Rect,
    detail: Option<&Detail>,
    scroll: u16,
    theme: &Theme,
) -> u16 {
    let block = panel(" alert ", theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(detail) = detail else {
        let gone = Span::styled("this alert is no longer stored", theme.dim());
        frame.render_widget(Paragraph::new(gone), inner);
        return 0;
    };
    let text = Paragraph::new(alert_lines(detail, theme)).wrap(Wrap { trim: false });
    let rows = text.line_count(inner.width);
    let most = u16::try_from(rows.saturating_sub(usize::from(inner.height))).unwrap_or(u16::MAX);
    let scroll = scroll.min(most);
    frame.render_widget(text.scroll((scroll, 0)), inner);
    scroll
}

fn draw_help(frame: &mut Frame, body: Rect, theme: &Theme) {
    let width = body.width.min(64);
    let height = body.height.min(HELP.len() as u16 + 4);
    let area = Rect {
        x: body.x + (body.width - width) / 2,
        y: body.y + (body.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, area);
    let block = panel(" keys ", theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines: Vec<Line> = HELP
        .iter()
        .map(|(key, what)| {
            Line::from(vec![
                Span::styled(format!("{key:<22}"), theme.key()),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "figures refresh by themselves; times are UTC",
        theme.dim(),
    ));
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline(start_min: i64, bucket_min: i64, counts: &[u64]) -> Timeline {
        Timeline {
            start: Timestamp::from_second(start_min * 60).unwrap(),
            bucket: SignedDuration::from_mins(bucket_min),
            counts: counts.to_vec(),
        }
    }

    fn range(from_min: i64, to_min: i64) -> (Timestamp, Timestamp) {
        let at = |m: i64| Timestamp::from_second(m * 60).unwrap();
        (at(from_min), at(to_min))
    }

    #[test]
    fn timelines_of_any_bar_width_line_up_over_the_columns() {
        // Two hourly bars over 02:00-04:00 take half the columns each.
        let hours = timeline(120, 60, &[1, 21]);
        let (shown, width) = columns(&hours, range(120, 240), 6);
        assert_eq!((shown, width.as_mins()), (vec![1, 1, 1, 21, 21, 21], 60));
        // 60 two-minute bars in 20 columns: three to a column, added up.
        let minutes = timeline(120, 2, &[1; 60]);
        let (shown, width) = columns(&minutes, range(120, 240), 20);
        assert_eq!((shown, width.as_mins()), (vec![3; 20], 6));
        // A range that starts within a bar: the columns before 11:00 show
        // the hour from 10:00, the others the hour from 11:00.
        let hours = timeline(600, 60, &[5, 7]);
        let (shown, _) = columns(&hours, range(617, 677), 6);
        assert_eq!(shown, vec![5, 5, 5, 5, 7, 7]);
        // Nothing to draw on, or nothing to draw.
        assert_eq!(columns(&hours, range(617, 677), 0).0, Vec::<u64>::new());
        assert_eq!(columns(&timeline(0, 1, &[]), range(0, 10), 3).0, vec![0; 3]);
    }

    #[test]
    fn a_range_leaves_out_what_its_end_shares_with_its_start() {
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        let said = |a, b| range_text((at(a), at(b)));
        assert_eq!(
            said("2025-03-14T02:00:00Z", "2025-03-14T04:00:00Z"),
            "2025-03-14 02:00 → 04:00 UTC"
        );
        assert_eq!(
            said("2025-03-01T00:00:00Z", "2025-03-31T00:00:00Z"),
            "2025-03-01 00:00 → 03-31 00:00 UTC"
        );
        assert_eq!(
            said("2024-12-31T23:00:00Z", "2025-01-01T01:00:00Z"),
            "2024-12-31 23:00 → 2025-01-01 01:00 UTC"
        );
    }

    #[test]
    fn bar_widths_are_said_in_words() {
        let said: Vec<String> = [1, 2, 30, 60, 180, 1_440, 10_080]
            .into_iter()
            .map(|m| per(SignedDuration::from_mins(m)))
            .collect();
        assert_eq!(
            said,
            ["minute", "2 min", "30 min", "hour", "3 hours", "day", "7 days"]
        );
    }
}
