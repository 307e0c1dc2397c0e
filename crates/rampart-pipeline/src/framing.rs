//! Syslog over a stream (RFC 6587): each frame is either octet-counted
//! (`LEN SP MSG`) or ends at a newline, told apart frame by frame, since
//! senders differ. Frames longer than the bound are cut: the kept part is
//! handed on, flagged, and the rest is passed over without being held, so
//! a sender cannot make the buffer grow.

/// One message taken off the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The message, without its line end.
    pub bytes: Vec<u8>,
    /// Whether it was longer than the bound and cut.
    pub cut: bool,
}

/// What is still to be passed over of a frame that was cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    Nothing,
    Bytes(usize),
    ToNewline,
}

/// Longest octet count read: beyond it, the digits are not a count.
const MAX_COUNT_DIGITS: usize = 10;

/// Splits a byte stream into frames.
#[derive(Debug)]
pub struct Deframer {
    buf: Vec<u8>,
    skip: Skip,
    max: usize,
}

impl Deframer {
    /// Frames kept up to `max` bytes.
    pub fn new(max: usize) -> Deframer {
        Deframer {
            buf: Vec::new(),
            skip: Skip::Nothing,
            max: max.max(1),
        }
    }

    /// Bytes held for a frame not yet whole (never more than the bound
    /// and a count's digits).
    pub fn held(&self) -> usize {
        self.buf.len()
    }

    /// Takes the next bytes read; whole frames go to `out`.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<Frame>) {
        let limit = self.max + MAX_COUNT_DIGITS + 1;
        while !data.is_empty() {
            match self.skip {
                Skip::Nothing => {}
                Skip::Bytes(n) => {
                    let taken = n.min(data.len());
                    data = &data[taken..];
                    self.skip = match n - taken {
                        0 => Skip::Nothing,
                        left => Skip::Bytes(left),
                    };
                    continue;
                }
                Skip::ToNewline => {
                    match memchr::memchr(b'\n', data) {
                        Some(at) => {
                            data = &data[at + 1..];
                            self.skip = Skip::Nothing;
                        }
                        None => data = &[],
                    }
                    continue;
                }
            }
            // A full buffer always holds a whole (or cut) frame, so there
            // is room after taking frames off it.
            let taken = limit.saturating_sub(self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..taken]);
            data = &data[taken..];
            while self.progress(out) {}
        }
    }

    /// Takes one frame off the buffer if it can; whether it did.
    fn progress(&mut self, out: &mut Vec<Frame>) -> bool {
        if self.buf.is_empty() || self.skip != Skip::Nothing {
            return false;
        }
        if let Some((digits, count)) = self.count() {
            let start = digits + 1;
            let kept = count.min(self.max);
            if self.buf.len() < start + kept {
                return false;
            }
            out.push(Frame {
                bytes: trim(&self.buf[start..start + kept]).to_vec(),
                cut: count > self.max,
            });
            self.buf.drain(..start + kept);
            if count > kept {
                // What of the rest is already held is passed over now.
                let held = (count - kept).min(self.buf.len());
                self.buf.drain(..held);
                self.skip = match count - kept - held {
                    0 => Skip::Nothing,
                    n => Skip::Bytes(n),
                };
            }
            return true;
        }
        if self.buf.len() <= MAX_COUNT_DIGITS && self.buf.iter().all(u8::is_ascii_digit) {
            // Perhaps a count whose space has not come yet.
            return false;
        }
        match memchr::memchr(b'\n', &self.buf) {
            Some(at) if at <= self.max => {
                let frame = trim(&self.buf[..at]).to_vec();
                self.buf.drain(..=at);
                if !frame.is_empty() {
                    out.push(Frame {
                        bytes: frame,
                        cut: false,
                    });
                }
                true
            }
            Some(_) | None if self.buf.len() > self.max => {
                out.push(Frame {
                    bytes: self.buf[..self.max].to_vec(),
                    cut: true,
                });
                let newline = memchr::memchr(b'\n', &self.buf[self.max..]);
                match newline {
                    Some(at) => {
                        self.buf.drain(..self.max + at + 1);
                    }
                    None => {
                        self.buf.clear();
                        self.skip = Skip::ToNewline;
                    }
                }
                true
            }
            _ => false,
        }
    }

    /// An octet count at the start of the buffer: its digits and value.
    fn count(&self) -> Option<(usize, usize)> {
        let first = *self.buf.first()?;
        if !(b'1'..=b'9').contains(&first) {
            return None;
        }
        let digits = self
            .buf
            .iter()
            .take(MAX_COUNT_DIGITS + 1)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > MAX_COUNT_DIGITS || self.buf.get(digits) != Some(&b' ') {
            return None;
        }
        std::str::from_utf8(&self.buf[..digits])
            .ok()?
            .parse()
            .ok()
            .map(|n| (digits, n))
    }

    /// The end of the stream: what is left is a last frame.
    pub fn finish(&mut self, out: &mut Vec<Frame>) {
        while self.progress(out) {}
        if self.skip == Skip::Nothing {
            let rest = trim(&self.buf);
            if !rest.is_empty() {
                out.push(Frame {
                    bytes: rest[..rest.len().min(self.max)].to_vec(),
                    cut: rest.len() > self.max,
                });
            }
        }
        self.buf.clear();
        self.skip = Skip::Nothing;
    }
}

/// Without the line ends and NULs senders put after a message.
fn trim(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b'\r' | b'\n' | 0))
        .map_or(0, |at| at + 1);
    &bytes[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(max: usize, pieces: &[&[u8]]) -> Vec<(String, bool)> {
        let mut d = Deframer::new(max);
        let mut out = Vec::new();
        for p in pieces {
            d.push(p, &mut out);
            assert!(d.held() <= max + MAX_COUNT_DIGITS + 1, "held {}", d.held());
        }
        d.finish(&mut out);
        out.into_iter()
            .map(|f| (String::from_utf8(f.bytes).unwrap(), f.cut))
            .collect()
    }

    fn whole(texts: &[&str]) -> Vec<(String, bool)> {
        texts.iter().map(|t| (t.to_string(), false)).collect()
    }

    #[test]
    fn newline_and_octet_counted_frames_mix() {
        let stream = b"<13>one\n9 <13>two\nx\n<13>three\r\n";
        assert_eq!(
            frames(1024, &[stream]),
            whole(&["<13>one", "<13>two\nx", "<13>three"])
        );
    }

    #[test]
    fn frames_split_anywhere_come_out_the_same() {
        let stream: &[u8] = b"<13>one\n9 <13>two\n\n<13>three\n12 <14>four xx";
        let expected = frames(1024, &[stream]);
        for cut in 0..stream.len() {
            let (a, b) = stream.split_at(cut);
            assert_eq!(frames(1024, &[a, b]), expected, "split at {cut}");
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(frames(1024, &bytes), expected);
    }

    #[test]
    fn a_long_counted_frame_is_cut_and_the_rest_passed_over() {
        let mut stream = b"30 ".to_vec();
        stream.extend_from_slice(&[b'a'; 30]);
        stream.extend_from_slice(b"<13>next\n");
        assert_eq!(
            frames(10, &[&stream]),
            vec![("a".repeat(10), true), ("<13>next".into(), false)]
        );
        let pieces: Vec<&[u8]> = stream.chunks(4).collect();
        assert_eq!(
            frames(10, &pieces),
            vec![("a".repeat(10), true), ("<13>next".into(), false)]
        );
    }

    #[test]
    fn a_long_line_is_cut_and_the_rest_passed_over_to_its_end() {
        let mut stream = vec![b'b'; 100];
        stream.extend_from_slice(b"\n<13>after\n");
        let pieces: Vec<&[u8]> = stream.chunks(7).collect();
        assert_eq!(
            frames(16, &pieces),
            vec![("b".repeat(16), true), ("<13>after".into(), false)]
        );
    }

    #[test]
    fn digits_that_are_not_a_count_are_a_line() {
        assert_eq!(
            frames(1024, &[b"2024-01-01 x\n123\n"]),
            whole(&["2024-01-01 x", "123"])
        );
    }

    #[test]
    fn a_flood_with_no_newline_holds_no_more_than_the_bound() {
        let mut d = Deframer::new(64);
        let mut out = Vec::new();
        let junk = [b'z'; 4096];
        for _ in 0..1000 {
            d.push(&junk, &mut out);
            assert!(d.held() <= 64 + MAX_COUNT_DIGITS + 1);
        }
        // One cut frame, then the rest is passed over up to a newline.
        assert_eq!(out.len(), 1);
        assert!(out[0].cut);
        d.push(b"\n<13>ok\n", &mut out);
        assert_eq!(out.last().unwrap().bytes, b"<13>ok");
    }

    #[test]
    fn a_huge_count_is_cut_without_holding_it() {
        let mut d = Deframer::new(8);
        let mut out = Vec::new();
        d.push(b"999999999 ", &mut out);
        for _ in 0..100 {
            d.push(&[b'q'; 1000], &mut out);
            assert!(d.held() <= 8 + MAX_COUNT_DIGITS + 1);
        }
        assert_eq!(out.len(), 1);
        assert!(out[0].cut);
    }
}
