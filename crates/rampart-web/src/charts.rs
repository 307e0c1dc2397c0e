//! Charts drawn on the server as SVG: horizontal bars for distributions and
//! top lists, columns over time, and the heatmap as a table. Labels and
//! tooltips (`<title>`) go through maud like every other value, so a log
//! line cannot become markup in a chart either; colours come from classes
//! of the style sheet (the policy allows no inline style), neutral for
//! counts and red for threats.

use maud::{html, Markup};
use rampart_store::Timeline;

use crate::format;

/// What a chart counts: its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Plain counts.
    Neutral,
    /// Threats.
    Threat,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Neutral => "bar",
            Tone::Threat => "bar threat",
        }
    }
}

/// One bar of a bar list: its label, count and where clicking it leads.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub count: u64,
    pub href: Option<String>,
}

/// Width of the charts' drawing space.
const WIDTH: f64 = 600.0;
/// Height of one bar's row.
const ROW: f64 = 26.0;
/// Room for the labels left of the bars.
const LABELS: f64 = 190.0;
/// Room for the counts right of the bars.
const COUNTS: f64 = 80.0;

/// Horizontal bars, longest first as given; `title` names the chart for
/// screen readers.
pub fn bars(title: &str, items: &[Bar], tone: Tone) -> Markup {
    let most = items.iter().map(|b| b.count).max().unwrap_or(0).max(1) as f64;
    let height = ROW * items.len() as f64;
    let room = WIDTH - LABELS - COUNTS;
    // A chart whose labels are links is a group of them, not one image.
    let role = if items.iter().any(|b| b.href.is_some()) {
        "group"
    } else {
        "img"
    };
    html! {
        svg.chart viewBox={"0 0 " (WIDTH) " " (height)} role=(role) aria-label=(title)
            preserveAspectRatio="xMinYMin meet" {
            @for (i, bar) in items.iter().enumerate() {
                @let y = ROW * i as f64;
                @let w = (bar.count as f64 / most * room).max(1.0);
                @let label = truncate(format::or_none(&bar.label), 28);
                g {
                    title { (format::or_none(&bar.label)) ": " (format::count(bar.count)) }
                    @match &bar.href {
                        Some(href) => a href=(href) {
                            text.label x=(LABELS - 8.0) y=(y + ROW * 0.68) text-anchor="end" { (label) }
                        },
                        None => text.label x=(LABELS - 8.0) y=(y + ROW * 0.68) text-anchor="end" { (label) },
                    }
                    rect class=(tone.class()) x=(LABELS) y=(y + 4.0) width=(format!("{w:.1}")) height=(ROW - 8.0) rx="2" {}
                    text.count x=(LABELS + w + 6.0) y=(y + ROW * 0.68) { (format::count(bar.count)) }
                }
            }
        }
    }
}

/// Columns of events over time with the alerts of each bar drawn over
/// them in red (on a scale of their own, so a few alerts still show).
pub fn timeline(events: &Timeline, alerts: &Timeline) -> Markup {
    // Drawn wider than the bar lists: it fills a whole row.
    const WIDTH: f64 = 1200.0;
    let height = 220.0;
    let axis = 22.0;
    let plot = height - axis;
    let n = events.counts.len().max(1);
    let step = WIDTH / n as f64;
    let most_events = events.counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let most_alerts = alerts.counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let width = |i: usize| events.bucket * i as i32;
    let start = events.start;
    let end = start + width(n);
    html! {
        svg.chart viewBox={"0 0 " (WIDTH) " " (height)} role="img"
            aria-label="Events and alerts over time" preserveAspectRatio="xMinYMin meet" {
            line.axis x1="0" y1=(plot) x2=(WIDTH) y2=(plot) {}
            @for (i, count) in events.counts.iter().enumerate() {
                @let alerts_here = alerts.counts.get(i).copied().unwrap_or(0);
                @let x = step * i as f64;
                @let h = *count as f64 / most_events * (plot - 4.0);
                @let ah = alerts_here as f64 / most_alerts * (plot - 4.0);
                g {
                    title {
                        (format::time(start + width(i))) " – " (format::count(*count)) " events, "
                        (format::count(alerts_here)) " alerts"
                    }
                    rect.hit x=(format!("{x:.1}")) y="0" width=(format!("{step:.1}")) height=(plot) {}
                    rect.bar x=(format!("{:.1}", x + 1.0)) y=(format!("{:.1}", plot - h))
                        width=(format!("{:.1}", (step - 2.0).max(1.0))) height=(format!("{h:.1}")) {}
                    @if alerts_here > 0 {
                        rect.bar.threat x=(format!("{:.1}", x + step * 0.3)) y=(format!("{:.1}", plot - ah))
                            width=(format!("{:.1}", (step * 0.4).max(1.0))) height=(format!("{ah:.1}")) {}
                    }
                }
            }
            text.tick x="0" y=(height - 6.0) { (format::time(start)) }
            text.tick x=(WIDTH) y=(height - 6.0) text-anchor="end" { (format::time(end)) }
        }
    }
}

/// The heatmap of malicious events by severity label (rows) and
/// confidence (columns), as a table whose cells darken with the count.
pub fn heatmap(cells: &[(String, i64, u64)]) -> Markup {
    let mut levels: Vec<&str> = cells.iter().map(|(l, _, _)| l.as_str()).collect();
    levels.sort_by_key(|l| std::cmp::Reverse(rank(l)));
    levels.dedup();
    let mut confidences: Vec<i64> = cells.iter().map(|(_, c, _)| *c).collect();
    confidences.sort_unstable();
    confidences.dedup();
    let most = cells.iter().map(|(_, _, n)| *n).max().unwrap_or(1).max(1);
    html! {
        div.heatmap-wrap tabindex="0" role="region" aria-label="Heatmap" { table.heatmap {
            caption { "Malicious events by severity and threat confidence" }
            thead { tr {
                th scope="col" { "Severity \\ confidence" }
                @for c in &confidences { th scope="col" { (c) } }
            } }
            tbody {
                @for level in &levels {
                    tr {
                        th scope="row" { (format::or_none(level)) }
                        @for c in &confidences {
                            @let n = cells.iter().find(|(l, cc, _)| l == level && cc == c).map_or(0, |x| x.2);
                            td class=(heat_class(n, most)) title={ (format::or_none(level)) ", confidence " (c) ": " (n) } {
                                @if n > 0 { (format::count(n)) }
                            }
                        }
                    }
                }
            }
        } }
    }
}

/// The class of a heatmap cell: six steps, by the share of the most.
fn heat_class(n: u64, most: u64) -> &'static str {
    if n == 0 {
        return "heat heat-0";
    }
    match n * 5 / most {
        0 => "heat heat-1",
        1 => "heat heat-2",
        2 => "heat heat-3",
        3 => "heat heat-4",
        _ => "heat heat-5",
    }
}

/// Where a severity label sorts: the common words by their weight on
/// rampart's scale, other labels after.
pub fn rank(label: &str) -> i64 {
    rampart_event::severity::from_label(label).unwrap_or(0)
}

/// At most `most` characters, with an ellipsis when cut.
fn truncate(text: &str, most: usize) -> String {
    if text.chars().count() <= most {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(most - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_tooltips_are_escaped_in_the_svg() {
        let hostile = Bar {
            label: "<script>alert(1)</script>".into(),
            count: 3,
            href: Some("/?host=%3Cx%3E".into()),
        };
        let svg = bars("t", &[hostile], Tone::Neutral).into_string();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"), "{svg}");
    }

    #[test]
    fn heat_steps_follow_the_share_of_the_most() {
        assert_eq!(heat_class(0, 10), "heat heat-0");
        assert_eq!(heat_class(1, 10), "heat heat-1");
        assert_eq!(heat_class(10, 10), "heat heat-5");
    }
}
