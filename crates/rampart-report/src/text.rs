//! Small text helpers every part of a report shares: times as seed 003
//! writes them, text cut to a length, a path's last part.

use rampart_event::Timestamp;

/// A time as seed 003 writes it, in UTC, to the second.
pub fn seed_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// `text` cut to at most `max` bytes at a character boundary.
pub fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The last part of a Windows or Unix path.
pub fn basename(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}
