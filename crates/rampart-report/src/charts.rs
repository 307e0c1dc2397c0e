//! Charts as SVG and PNG, drawn with plotters: bars for counts (event types,
//! top talkers), bars over time (events, alerts by severity stacked). Text
//! is set in DejaVu Sans built into the binary, so a PNG looks the same on
//! a machine without fonts.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Size of every chart, in pixels.
const SIZE: (u32, u32) = (960, 480);
/// Bars drawn at most; the rest are summed into "other".
const MAX_BARS: usize = 40;

/// Colours of the severities, lowest first.
const LEVEL_COLOURS: [RGBColor; 5] = [
    RGBColor(0x8a, 0x94, 0xa6),
    RGBColor(0x3b, 0x82, 0xc4),
    RGBColor(0xe0, 0xa1, 0x1b),
    RGBColor(0xe0, 0x62, 0x1b),
    RGBColor(0xc0, 0x1c, 0x28),
];
const BAR: RGBColor = RGBColor(0x2f, 0x6f, 0xb3);

fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is built in and known good; should it be refused, text
        // falls back to nothing drawn rather than failing the report.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}

/// One chart's data.
#[derive(Debug, Clone)]
pub enum Chart {
    /// Labelled counts.
    Bars {
        /// The caption.
        title: String,
        /// What the bars count.
        unit: String,
        /// Label and count, in the order drawn.
        bars: Vec<(String, u64)>,
    },
    /// Counts per time bin, stacked by series.
    Stacked {
        /// The caption.
        title: String,
        /// What the bars count.
        unit: String,
        /// The bins' labels.
        bins: Vec<String>,
        /// Each series: its name and one count per bin.
        series: Vec<(String, Vec<u64>)>,
    },
}

/// Draws `chart` as SVG, which it returns, and as PNG at `png` when given.
pub fn draw(chart: &Chart, png: Option<&Path>) -> Result<String, String> {
    fonts();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        paint(chart, &root).map_err(|e| format!("cannot draw the chart: {e}"))?;
        root.present()
            .map_err(|e| format!("cannot draw the chart: {e}"))?;
    }
    if let Some(path) = png {
        let root = BitMapBackend::new(path, SIZE).into_drawing_area();
        paint(chart, &root).map_err(|e| format!("cannot draw {}: {e}", path.display()))?;
        root.present()
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(svg)
}

/// At most [`MAX_BARS`] bars, the rest summed as "other".
pub fn fold(mut bars: Vec<(String, u64)>) -> Vec<(String, u64)> {
    if bars.len() > MAX_BARS {
        let rest: u64 = bars[MAX_BARS - 1..].iter().map(|b| b.1).sum();
        bars.truncate(MAX_BARS - 1);
        bars.push(("other".to_owned(), rest));
    }
    bars
}

/// A label cut to fit under a bar.
fn short(label: &str) -> String {
    let chars: Vec<char> = label.chars().collect();
    if chars.len() <= 28 {
        label.to_owned()
    } else {
        let mut s: String = chars[..27].iter().collect();
        s.push('…');
        s
    }
}

type Drawing<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn paint<DB: DrawingBackend>(chart: &Chart, root: &DrawingArea<DB, Shift>) -> Drawing<DB> {
    root.fill(&WHITE)?;
    match chart {
        Chart::Bars { title, unit, bars } => {
            let labels: Vec<String> = bars.iter().map(|(l, _)| short(l)).collect();
            let values = vec![(unit.clone(), bars.iter().map(|b| b.1).collect())];
            columns(root, title, unit, &labels, &values, 1)
        }
        Chart::Stacked {
            title,
            unit,
            bins,
            series,
        } => columns(root, title, unit, bins, series, (bins.len() / 12).max(1)),
    }
}

/// Columns over `labels` (every `step`-th one written), each series
/// stacked on those before it, a legend when there are several.
fn columns<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    unit: &str,
    labels: &[String],
    series: &[(String, Vec<u64>)],
    step: usize,
) -> Drawing<DB> {
    let n = labels.len().max(1) as u32;
    let totals: Vec<u64> = (0..labels.len())
        .map(|b| {
            series
                .iter()
                .map(|(_, v)| v.get(b).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let mut c = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(150)
        .y_label_area_size(60)
        .build_cartesian_2d((0..n).into_segmented(), 0u64..max + max / 10 + 1)?;
    c.configure_mesh()
        .disable_x_mesh()
        .y_desc(unit)
        .x_labels(n as usize)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) if (*i as usize).is_multiple_of(step) => {
                labels.get(*i as usize).cloned().unwrap_or_default()
            }
            _ => String::new(),
        })
        .x_label_style(
            ("sans-serif", 12)
                .into_font()
                .transform(FontTransform::Rotate90),
        )
        .draw()?;
    let mut base = vec![0u64; labels.len()];
    for (k, (name, values)) in series.iter().enumerate() {
        let colour = if series.len() == 1 {
            BAR
        } else {
            LEVEL_COLOURS[k % LEVEL_COLOURS.len()]
        };
        let bars: Vec<Rectangle<(SegmentValue<u32>, u64)>> = values
            .iter()
            .enumerate()
            .filter(|(_, v)| **v > 0)
            .map(|(i, v)| {
                let from = base[i];
                base[i] += v;
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i as u32), from),
                        (SegmentValue::Exact(i as u32 + 1), from + v),
                    ],
                    colour.filled(),
                );
                bar.set_margin(0, 0, 2, 2);
                bar
            })
            .collect();
        c.draw_series(bars)?
            .label(name.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled()));
    }
    if series.len() > 1 {
        c.configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_labels_stay_text_in_the_svg() {
        let chart = Chart::Bars {
            title: "types".into(),
            unit: "events".into(),
            bars: vec![("<script>alert(1)</script>&".into(), 3), ("file".into(), 5)],
        };
        let svg = draw(&chart, None).unwrap();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script"), "{svg}");
    }

    #[test]
    fn a_png_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.png");
        let chart = Chart::Stacked {
            title: "alerts".into(),
            unit: "alerts".into(),
            bins: vec!["09:00".into(), "10:00".into()],
            series: vec![("high".into(), vec![1, 2]), ("low".into(), vec![0, 4])],
        };
        draw(&chart, Some(&path)).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
    }

    #[test]
    fn many_bars_fold_into_other() {
        let bars: Vec<(String, u64)> = (0..100).map(|i| (format!("b{i}"), 1)).collect();
        let folded = fold(bars);
        assert_eq!(folded.len(), MAX_BARS);
        assert_eq!(folded.last().unwrap(), &("other".to_owned(), 61));
    }
}
