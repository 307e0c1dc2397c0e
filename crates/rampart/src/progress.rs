//! Progress bars for long work, shown only when stderr is a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `total` units drawn with `template` (indicatif's syntax), or
/// none when stderr is not a terminal.
pub fn bar(total: u64, template: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let style = ProgressStyle::with_template(template)
        .ok()?
        .progress_chars("=> ");
    let bar = ProgressBar::new(total);
    bar.set_style(style);
    Some(bar)
}
