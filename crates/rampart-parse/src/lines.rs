//! Splitting a byte stream into lines with a bound on line length.
//!
//! Lines are handed out as slices of one reusable buffer (no allocation per
//! line). A line longer than the bound is not buffered whole: its first bytes
//! are kept and the callback learns its full length, so a 100 MB line costs
//! at most the bound in memory.

use std::io::{self, ErrorKind, Read};

/// The default longest line kept whole: a CloudTrail log file is one line
/// of JSON, often several MiB, and as long as the JSON reader takes.
pub const DEFAULT_MAX_LINE: usize = 16 * 1024 * 1024;
/// The read buffer's size once a file has shown it is large; it starts at
/// `FIRST_READ_SIZE` and doubles while reads fill it, so that thousands of
/// small files do not each zero a large buffer.
const READ_SIZE: usize = 256 * 1024;
const FIRST_READ_SIZE: usize = 8 * 1024;

/// One line: its 1-based number, its bytes (without `\n` or `\r\n`), and its
/// full length (larger than `bytes.len()` when the line was cut).
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// 1-based line number.
    pub no: u64,
    /// The bytes kept.
    pub bytes: &'a [u8],
    /// The line's full length in bytes.
    pub len: usize,
}

impl Line<'_> {
    /// Whether the line was longer than the bound and was cut.
    pub fn is_cut(&self) -> bool {
        self.len > self.bytes.len()
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Calls `f` for every line of `reader`. On a read error (a truncated gzip,
/// say) the lines before it have been delivered and the error is returned.
/// Returns the number of bytes read.
pub fn read_lines<R: Read>(reader: R, max_line: usize, f: impl FnMut(Line<'_>)) -> io::Result<u64> {
    read_lines_held(reader, max_line, false, f)
}

/// [`read_lines`], except that with `hold_last` a last line without its
/// newline is not delivered: a file still being written (one that is
/// followed) may end in half a line, which is read once it is whole.
pub fn read_lines_held<R: Read>(
    mut reader: R,
    max_line: usize,
    hold_last: bool,
    mut f: impl FnMut(Line<'_>),
) -> io::Result<u64> {
    let max_line = max_line.max(1);
    let mut buf = vec![0u8; FIRST_READ_SIZE];
    let (mut start, mut end) = (0usize, 0usize);
    let mut no = 0u64;
    let mut total = 0u64;
    // A line that outgrew the bound: the kept prefix and the length so far.
    let mut long: Option<(Vec<u8>, usize)> = None;
    loop {
        while let Some(pos) = memchr::memchr(b'\n', &buf[start..end]) {
            let line = &buf[start..start + pos];
            no += 1;
            match long.take() {
                Some((mut kept, len)) => {
                    let room = max_line.saturating_sub(kept.len());
                    kept.extend_from_slice(&line[..line.len().min(room)]);
                    f(Line {
                        no,
                        bytes: &kept,
                        len: len + line.len(),
                    });
                }
                None if line.len() > max_line => {
                    f(Line {
                        no,
                        bytes: &line[..max_line],
                        len: line.len(),
                    });
                }
                None => {
                    let bytes = trim_cr(line);
                    f(Line {
                        no,
                        bytes,
                        len: bytes.len(),
                    });
                }
            }
            start += pos + 1;
        }
        if long.is_some() || end - start > max_line {
            let (kept, len) = long.get_or_insert_with(|| (Vec::new(), 0));
            let room = max_line.saturating_sub(kept.len());
            kept.extend_from_slice(&buf[start..start + (end - start).min(room)]);
            *len += end - start;
            start = end;
        }
        buf.copy_within(start..end, 0);
        end -= start;
        start = 0;
        if end == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = loop {
            match reader.read(&mut buf[end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    flush_last(&mut no, &buf[..end], long.take(), max_line, &mut f);
                    return Err(e);
                }
            }
        };
        if n == 0 {
            if hold_last {
                return Ok(total);
            }
            break;
        }
        end += n;
        total += n as u64;
        if end == buf.len() && buf.len() < READ_SIZE {
            buf.resize((buf.len() * 2).min(READ_SIZE), 0);
        }
    }
    flush_last(&mut no, &buf[..end], long.take(), max_line, &mut f);
    Ok(total)
}

/// Delivers a last line that has no newline.
fn flush_last(
    no: &mut u64,
    rest: &[u8],
    long: Option<(Vec<u8>, usize)>,
    max_line: usize,
    f: &mut impl FnMut(Line<'_>),
) {
    match long {
        Some((mut kept, len)) => {
            let room = max_line.saturating_sub(kept.len());
            kept.extend_from_slice(&rest[..rest.len().min(room)]);
            *no += 1;
            f(Line {
                no: *no,
                bytes: &kept,
                len: len + rest.len(),
            });
        }
        None if !rest.is_empty() => {
            *no += 1;
            let bytes = if rest.len() > max_line {
                &rest[..max_line]
            } else {
                trim_cr(rest)
            };
            let len = if rest.len() > max_line {
                rest.len()
            } else {
                bytes.len()
            };
            f(Line {
                no: *no,
                bytes,
                len,
            });
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], max: usize) -> Vec<(u64, Vec<u8>, usize)> {
        let mut lines = Vec::new();
        read_lines(input, max, |l| lines.push((l.no, l.bytes.to_vec(), l.len))).unwrap();
        lines
    }

    #[test]
    fn splits_on_lf_and_crlf_and_keeps_a_last_line() {
        let lines = collect(b"a\r\nbb\n\nccc", 100);
        assert!(
            lines.iter().all(|(_, b, len)| b.len() == *len),
            "CRLF lines are not cut lines"
        );
        let got: Vec<_> = lines
            .iter()
            .map(|(n, b, _)| (*n, String::from_utf8_lossy(b).into_owned()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "a".into()),
                (2, "bb".into()),
                (3, "".into()),
                (4, "ccc".into())
            ]
        );
    }

    #[test]
    fn a_last_line_without_its_newline_can_be_held_back() {
        let mut lines = Vec::new();
        read_lines_held(&b"a\nbb\nccc"[..], 100, true, |l| {
            lines.push(l.bytes.to_vec())
        })
        .unwrap();
        assert_eq!(lines, [b"a".to_vec(), b"bb".to_vec()]);
        let mut long = Vec::new();
        let text = [b"a\n".as_slice(), &[b'x'; 5000]].concat();
        read_lines_held(&text[..], 100, true, |l| long.push(l.len)).unwrap();
        assert_eq!(long, [1], "a cut line without its newline is held too");
    }

    #[test]
    fn long_lines_are_cut_but_counted_whole() {
        let mut input = vec![b'x'; 3 * READ_SIZE];
        input.extend_from_slice(b"\nshort\n");
        let lines = collect(&input, 1000);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].1.len(), 1000);
        assert_eq!(lines[0].2, 3 * READ_SIZE);
        assert_eq!(lines[1].1, b"short");
    }
}
