//! Substitution values of a template instance (MS-EVEN6 §2.2.16-2.2.18):
//! the table that follows each instance, and each value written as XML text
//! the way the `evtx` crate and Windows render it.
//!
//! The types Windows event data uses are written here. A value of any other
//! type (floats, SYSTEMTIME, size_t, ANSI text, arrays, handles) makes its
//! record fall back to the crate's own rendering, so nothing is guessed.

use rampart_event::Value as Typed;

use super::bytes::{u16_at, u32_at, u64_at};

/// Most values one instance may carry.
const MAX_VALUES: usize = 4_096;

/// Value types (MS-EVEN6 §2.2.18).
pub mod kind {
    pub const NULL: u8 = 0x00;
    pub const STRING: u8 = 0x01;
    pub const INT8: u8 = 0x03;
    pub const UINT8: u8 = 0x04;
    pub const INT16: u8 = 0x05;
    pub const UINT16: u8 = 0x06;
    pub const INT32: u8 = 0x07;
    pub const UINT32: u8 = 0x08;
    pub const INT64: u8 = 0x09;
    pub const UINT64: u8 = 0x0a;
    pub const BOOL: u8 = 0x0d;
    pub const BINARY: u8 = 0x0e;
    pub const GUID: u8 = 0x0f;
    pub const FILETIME: u8 = 0x11;
    pub const SID: u8 = 0x13;
    pub const HEX_INT32: u8 = 0x14;
    pub const HEX_INT64: u8 = 0x15;
    pub const BINXML: u8 = 0x21;
    pub const STRING_ARRAY: u8 = 0x81;
}

/// One substitution value: its type and where its bytes are in the chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value {
    pub kind: u8,
    pub at: usize,
    pub len: usize,
}

/// Reads the value table at chunk offset `pos` (count, descriptors, data)
/// into `out`; returns where the data ends.
pub fn table(chunk: &[u8], pos: usize, out: &mut Vec<Value>) -> Option<usize> {
    let count = u32_at(chunk, pos)? as usize;
    if count > MAX_VALUES {
        return None;
    }
    let mut descriptor = pos + 4;
    let mut data = descriptor.checked_add(count * 4)?;
    out.clear();
    for _ in 0..count {
        let len = usize::from(u16_at(chunk, descriptor)?);
        let kind = *chunk.get(descriptor + 2)?;
        if !fits(kind, len) {
            return None;
        }
        out.push(Value {
            kind,
            at: data,
            len,
        });
        descriptor += 4;
        data += len;
    }
    (data <= chunk.len()).then_some(data)
}

/// Whether `kind` is one of MS-EVEN6's value types.
pub fn is_type(kind: u8) -> bool {
    matches!(kind, 0x00..=0x15 | 0x20 | 0x21 | 0x23 | 0x81..=0x95)
}

/// Whether a descriptor's size fits its type: one of MS-EVEN6's types,
/// fixed-size types at their size (arrays a whole number of items), UTF-16
/// text in whole units. The crate refuses, or reads askew, a record whose
/// table breaks this even in a value its template does not use; the walk
/// refuses it too, and the crate decides.
fn fits(kind: u8, len: usize) -> bool {
    let item = |base: u8| match base {
        0x03 | 0x04 => Some(1),
        0x05 | 0x06 => Some(2),
        0x07 | 0x08 | 0x0b | 0x0d | 0x14 => Some(4),
        0x09 | 0x0a | 0x0c | 0x11 | 0x15 => Some(8),
        0x0f | 0x12 => Some(16),
        _ => None,
    };
    match kind {
        kind::NULL => true,
        kind::STRING | kind::STRING_ARRAY => len.is_multiple_of(2),
        // ANSI text, size_t, binary, SIDs, handles, BinXML, and their arrays.
        0x02 | 0x10 | 0x0e | 0x13 | 0x20 | 0x21 | 0x23 | 0x82 | 0x8e | 0x90 | 0x93 => true,
        0x03..=0x15 => item(kind) == Some(len),
        0x83..=0x95 => item(kind & 0x7f).is_some_and(|n| len.is_multiple_of(n)),
        _ => false,
    }
}

impl Value {
    fn bytes<'c>(&self, chunk: &'c [u8]) -> &'c [u8] {
        &chunk[self.at..self.at + self.len]
    }

    pub fn is_null(&self) -> bool {
        self.kind == kind::NULL
    }

    /// What an optional substitution leaves out: null, and empty text,
    /// binary or BinXML.
    pub fn is_empty(&self, chunk: &[u8]) -> bool {
        match self.kind {
            kind::NULL => true,
            kind::STRING => string_units(self.bytes(chunk)) == 0,
            kind::BINARY | kind::BINXML => self.len == 0,
            _ => false,
        }
    }
}

/// Printable ASCII that XML text keeps as it is; in attributes, quotes
/// are escaped too.
const AS_IS_TEXT: [bool; 128] = as_is(false);
const AS_IS_ATTRIBUTE: [bool; 128] = as_is(true);

const fn as_is(attribute: bool) -> [bool; 128] {
    let mut table = [false; 128];
    let mut c = 0x20;
    while c < 0x80 {
        let escaped =
            matches!(c as u8, b'&' | b'<' | b'>') || (attribute && matches!(c as u8, b'"' | b'\''));
        table[c] = !escaped;
        c += 1;
    }
    table
}

/// Writes a string that is printable ASCII needing no escape up to its
/// first NUL (nearly every value) byte for byte; `false`, with nothing
/// written, for any other.
fn ascii_as_is(b: &[u8], attribute: bool, out: &mut Vec<u8>) -> bool {
    let table = if attribute {
        &AS_IS_ATTRIBUTE
    } else {
        &AS_IS_TEXT
    };
    let start = out.len();
    out.reserve(b.len() / 2);
    let mut quads = b.chunks_exact(8);
    for q in quads.by_ref() {
        let w = u64::from_le_bytes([q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7]]);
        // Four units with empty high bytes and low bytes under 0x80, all
        // of them kept as they are: written at once.
        if w & 0xff80_ff80_ff80_ff80 == 0
            && table[usize::from(q[0])]
            && table[usize::from(q[2])]
            && table[usize::from(q[4])]
            && table[usize::from(q[6])]
        {
            out.extend_from_slice(&[q[0], q[2], q[4], q[6]]);
            continue;
        }
        match units_as_is(q, table, out) {
            Some(true) => {}
            Some(false) => return true,
            None => {
                out.truncate(start);
                return false;
            }
        }
    }
    match units_as_is(quads.remainder(), table, out) {
        Some(_) => true,
        None => {
            out.truncate(start);
            false
        }
    }
}

/// Writes units one by one while they are kept as they are: `Some(true)`
/// when all were, `Some(false)` at a NUL (the end of the text), `None` at
/// one that needs the full writer.
fn units_as_is(units: &[u8], table: &[bool; 128], out: &mut Vec<u8>) -> Option<bool> {
    for u in units.chunks_exact(2) {
        match (u[0], u[1]) {
            (0, 0) => return Some(false),
            (lo, 0) if lo < 0x80 && table[usize::from(lo)] => out.push(lo),
            _ => return None,
        }
    }
    Some(true)
}

/// The strings of a string array: NUL-terminated UTF-16 strings one after
/// the other (a last one without its NUL still counts); `None` for an odd
/// size.
pub fn string_items(chunk: &[u8], v: &Value) -> Option<Vec<Value>> {
    let b = v.bytes(chunk);
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let mut items = Vec::new();
    let mut at = 0;
    while at < b.len() {
        let len = string_units(&b[at..]) * 2;
        items.push(Value {
            kind: kind::STRING,
            at: v.at + at,
            len,
        });
        at += len + 2;
    }
    Some(items)
}

/// UTF-16 code units of a string value up to its first NUL.
fn string_units(bytes: &[u8]) -> usize {
    bytes
        .chunks_exact(2)
        .position(|u| u == [0, 0])
        .unwrap_or(bytes.len() / 2)
}

/// How a written value reads as an event field.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    /// The text written, exactly (no character was escaped or replaced).
    Text,
    /// Text whose XML form differs from the value: the value itself.
    Escaped(String),
    /// A number or boolean, which a field keeps typed.
    Typed(Typed),
}

/// Writes `v` as XML text (attribute or element content) to `out`; `None`
/// when its type or size is not one this reader writes. `scratch` is reused
/// between calls.
pub fn write(
    chunk: &[u8],
    v: &Value,
    attribute: bool,
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) -> Option<Written> {
    let b = v.bytes(chunk);
    let fixed = |n: usize| (b.len() == n).then_some(());
    let written = match v.kind {
        kind::NULL => Written::Text,
        kind::STRING => {
            if !b.len().is_multiple_of(2) {
                return None;
            }
            if ascii_as_is(b, attribute, out) {
                return Some(Written::Text);
            }
            let units = string_units(b);
            utf16_simd::escape_xml_utf16le_into(b, units, scratch, attribute);
            out.extend_from_slice(scratch);
            if plain(&b[..units * 2], scratch) {
                Written::Text
            } else {
                let units: Vec<u16> = b[..units * 2]
                    .chunks_exact(2)
                    .map(|u| u16::from_le_bytes([u[0], u[1]]))
                    .collect();
                Written::Escaped(String::from_utf16_lossy(&units))
            }
        }
        kind::INT8 => int(out, i64::from(fixed(1).map(|()| b[0] as i8)?)),
        kind::UINT8 => int(out, i64::from(fixed(1).map(|()| b[0])?)),
        kind::INT16 => int(out, i64::from(fixed(2).and(u16_at(b, 0))? as i16)),
        kind::UINT16 => int(out, i64::from(fixed(2).and(u16_at(b, 0))?)),
        kind::INT32 => int(out, i64::from(fixed(4).and(u32_at(b, 0))? as i32)),
        kind::UINT32 => int(out, i64::from(fixed(4).and(u32_at(b, 0))?)),
        kind::INT64 => int(out, fixed(8).and(u64_at(b, 0))? as i64),
        kind::UINT64 => {
            let n = fixed(8).and(u64_at(b, 0))?;
            out.extend_from_slice(n.to_string().as_bytes());
            // Beyond i64, JSON readers see a float; so does a field.
            Written::Typed(i64::try_from(n).map_or(Typed::Float(n as f64), Typed::Int))
        }
        kind::BOOL => match fixed(4).and(u32_at(b, 0))? {
            0 => boolean(out, false),
            1 => boolean(out, true),
            _ => return None,
        },
        kind::BINARY => {
            for byte in b {
                out.extend_from_slice(&[hex_upper(byte >> 4), hex_upper(byte & 0xf)]);
            }
            Written::Text
        }
        kind::GUID => {
            fixed(16)?;
            guid(out, b);
            Written::Text
        }
        kind::FILETIME => {
            filetime(out, fixed(8).and(u64_at(b, 0))?)?;
            Written::Text
        }
        kind::SID => {
            sid(out, b)?;
            Written::Text
        }
        kind::HEX_INT32 => hex(out, u64::from(fixed(4).and(u32_at(b, 0))?)),
        kind::HEX_INT64 => hex(out, fixed(8).and(u64_at(b, 0))?),
        _ => return None,
    };
    Some(written)
}

fn int(out: &mut Vec<u8>, n: i64) -> Written {
    decimal(out, n);
    Written::Typed(Typed::Int(n))
}

/// Writes `n` in decimal without a heap allocation.
fn decimal(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn boolean(out: &mut Vec<u8>, b: bool) -> Written {
    out.extend_from_slice(if b { b"true" } else { b"false" });
    Written::Typed(Typed::Bool(b))
}

fn hex(out: &mut Vec<u8>, n: u64) -> Written {
    out.extend_from_slice(b"0x");
    let digits = (64 - n.leading_zeros()).div_ceil(4).max(1);
    for i in (0..digits).rev() {
        out.push(hex_lower((n >> (i * 4)) as u8 & 0xf));
    }
    Written::Text
}

fn hex_upper(nibble: u8) -> u8 {
    b"0123456789ABCDEF"[usize::from(nibble)]
}

fn hex_lower(nibble: u8) -> u8 {
    b"0123456789abcdef"[usize::from(nibble)]
}

/// Whether the XML text `escaped` of the UTF-16 `units` is the value
/// itself: nothing escaped, no character replaced.
fn plain(units: &[u8], escaped: &[u8]) -> bool {
    // One byte per unit: ASCII throughout and nothing escaped (an escape
    // is longer), though a replaced character is `_`.
    if escaped.len() == units.len() / 2 && memchr::memchr(b'_', escaped).is_none() {
        return true;
    }
    memchr::memchr(b'&', escaped).is_none()
        && units.chunks_exact(2).all(|u| {
            let u = u16::from_le_bytes([u[0], u[1]]);
            u >= 0x20 && !(0xd800..0xe000).contains(&u) && u < 0xfffe
        })
}

/// `{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`, lower case; the first three
/// groups are little-endian.
fn guid(out: &mut Vec<u8>, b: &[u8]) {
    const ORDER: [usize; 16] = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
    out.push(b'{');
    for (i, &at) in ORDER.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push(b'-');
        }
        out.extend_from_slice(&[hex_lower(b[at] >> 4), hex_lower(b[at] & 0xf)]);
    }
    out.push(b'}');
}

/// `S-revision-authority-sub...`: the authority is 48-bit big-endian, the
/// sub-authorities 32-bit little-endian.
fn sid(out: &mut Vec<u8>, b: &[u8]) -> Option<()> {
    let [revision, count] = *b.first_chunk::<2>()?;
    let authority = b
        .get(2..8)?
        .iter()
        .fold(0u64, |a, x| a << 8 | u64::from(*x));
    let subs = b.get(8..8 + usize::from(count) * 4)?;
    out.extend_from_slice(b"S-");
    decimal(out, i64::from(revision));
    out.push(b'-');
    decimal(out, authority as i64);
    for s in subs.chunks_exact(4) {
        out.push(b'-');
        decimal(out, i64::from(u32::from_le_bytes([s[0], s[1], s[2], s[3]])));
    }
    Some(())
}

/// 100 ns ticks since 1601 as `YYYY-MM-DDTHH:MM:SS.fffffffZ`; `None`
/// past the year 9999.
fn filetime(out: &mut Vec<u8>, ticks: u64) -> Option<()> {
    let seconds = ticks / 10_000_000;
    let (days, of_day) = (seconds / 86_400, seconds % 86_400);
    // Days since 1601-01-01, which starts a 400-year cycle.
    let (cycles, mut day) = (days / 146_097, days % 146_097);
    let mut year = 1601 + cycles * 400;
    let century = (day / 36_524).min(3);
    day -= century * 36_524;
    year += century * 100;
    let quad = day / 1_461;
    day -= quad * 1_461;
    year += quad * 4;
    let rest = (day / 365).min(3);
    day -= rest * 365;
    year += rest;
    if year > 9999 {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let months = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let mut month = 0;
    while day >= months[month] {
        day -= months[month];
        month += 1;
    }
    let mut text = *b"0000-00-00T00:00:00.0000000Z";
    digits(&mut text[0..4], year);
    digits(&mut text[5..7], month as u64 + 1);
    digits(&mut text[8..10], day + 1);
    digits(&mut text[11..13], of_day / 3600);
    digits(&mut text[14..16], of_day / 60 % 60);
    digits(&mut text[17..19], of_day % 60);
    digits(&mut text[20..27], ticks % 10_000_000);
    out.extend_from_slice(&text);
    Some(())
}

/// Fills `slot` with the last digits of `n`, zero-padded.
fn digits(slot: &mut [u8], mut n: u64) {
    for d in slot.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(kind: u8, bytes: &[u8]) -> Option<(String, Written)> {
        let v = Value {
            kind,
            at: 0,
            len: bytes.len(),
        };
        let mut out = Vec::new();
        let w = write(bytes, &v, false, &mut out, &mut Vec::new())?;
        Some((String::from_utf8(out).unwrap(), w))
    }

    #[test]
    fn values_are_written_as_windows_renders_them() {
        let guid = [
            0x8a, 0x95, 0xcd, 0x11, 0x07, 0xc5, 0xf3, 0x4e, 0xb3, 0xf2, 0x5f, 0xd9, 0xdf, 0xbd,
            0x2c, 0x78,
        ];
        assert_eq!(
            text_of(kind::GUID, &guid).unwrap().0,
            "{11cd958a-c507-4ef3-b3f2-5fd9dfbd2c78}"
        );
        let system = [1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0];
        assert_eq!(text_of(kind::SID, &system).unwrap().0, "S-1-5-18");
        assert_eq!(
            text_of(kind::HEX_INT64, &0x8000_0000_0000_0000u64.to_le_bytes())
                .unwrap()
                .0,
            "0x8000000000000000"
        );
        assert_eq!(
            text_of(kind::UINT16, &4624u16.to_le_bytes()).unwrap(),
            ("4624".into(), Written::Typed(Typed::Int(4624)))
        );
        // 2019-07-18T20:40:00.7306760Z
        let ticks: u64 = (1_563_482_400 + 11_644_473_600) * 10_000_000 + 7_306_760;
        assert_eq!(
            text_of(kind::FILETIME, &ticks.to_le_bytes()).unwrap().0,
            "2019-07-18T20:40:00.7306760Z"
        );
        assert_eq!(text_of(kind::BINARY, &[0x00, 0xaf]).unwrap().0, "00AF");
        assert_eq!(text_of(kind::HEX_INT32, &[0; 4]).unwrap().0, "0x0");
        assert_eq!(
            text_of(kind::HEX_INT32, &[0xab, 0x0f, 0, 0]).unwrap().0,
            "0xfab"
        );
        // Leap days, the turn of centuries and the first tick of 1601.
        for (unix, text) in [
            (951_782_400_i64, "2000-02-29T00:00:00.0000000Z"),
            (4_107_542_399, "2100-02-28T23:59:59.0000000Z"),
            (-11_644_473_600, "1601-01-01T00:00:00.0000000Z"),
            (1_704_067_199, "2023-12-31T23:59:59.0000000Z"),
        ] {
            let ticks = (unix + 11_644_473_600) as u64 * 10_000_000;
            assert_eq!(
                text_of(kind::FILETIME, &ticks.to_le_bytes()).unwrap().0,
                text
            );
        }
        assert_eq!(text_of(kind::BOOL, &[1, 0, 0, 0]).unwrap().0, "true");
        assert_eq!(
            text_of(kind::INT64, &i64::MIN.to_le_bytes()).unwrap().0,
            i64::MIN.to_string()
        );
        assert_eq!(text_of(kind::INT8, &[0]).unwrap().0, "0");
    }

    #[test]
    fn times_are_the_calendar_dates_jiff_gives() {
        let mut ticks: u64 = 0;
        for _ in 0..20_000 {
            // A walk over 1601-9999 in uneven steps.
            ticks = ticks
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407)
                % 2_650_467_743_990_000_000;
            let (text, _) = text_of(kind::FILETIME, &ticks.to_le_bytes()).unwrap();
            let unix = (ticks / 10_000_000) as i64 - 11_644_473_600;
            let expected = jiff::Timestamp::from_second(unix)
                .unwrap()
                .strftime("%Y-%m-%dT%H:%M:%S")
                .to_string();
            assert_eq!(text, format!("{expected}.{:07}Z", ticks % 10_000_000));
        }
    }

    #[test]
    fn text_is_escaped_and_cut_at_its_first_nul() {
        let utf16: Vec<u8> = "a&b\0junk"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let (text, w) = text_of(kind::STRING, &utf16).unwrap();
        assert_eq!(text, "a&amp;b");
        assert_eq!(w, Written::Escaped("a&b".into()));
        // Either side of the four-units-at-a-time path.
        for text in [
            "C:\\x y",
            "abcdefghij",
            "abc\0defgh",
            "abcdefg\0h",
            "ab<cdefg",
            "abcdefgh\u{e9}",
            "",
        ] {
            let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
            let (xml, w) = text_of(kind::STRING, &utf16).unwrap();
            let value = text.split('\0').next().unwrap();
            assert_eq!(xml, value.replace('<', "&lt;"), "{text:?}");
            let expected = if value.contains('<') {
                Written::Escaped(value.into())
            } else {
                Written::Text
            };
            assert_eq!(w, expected, "{text:?}");
        }
    }

    #[test]
    fn odd_sizes_and_unwritten_types_are_refused() {
        assert!(text_of(kind::UINT32, &[1, 2]).is_none());
        assert!(text_of(kind::STRING, &[b'a', 0, b'b']).is_none());
        assert!(text_of(0x0b, &[0; 4]).is_none()); // float
        assert!(text_of(kind::BOOL, &[2, 0, 0, 0]).is_none());
        assert!(text_of(kind::SID, &[1, 3, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]).is_none());
    }

    #[test]
    fn a_string_array_is_its_nul_terminated_strings() {
        let bytes: Vec<u8> = "ab\0\0cd"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let v = Value {
            kind: kind::STRING_ARRAY,
            at: 0,
            len: bytes.len(),
        };
        let items = string_items(&bytes, &v).unwrap();
        let texts: Vec<String> = items
            .iter()
            .map(|i| {
                let mut out = Vec::new();
                write(&bytes, i, false, &mut out, &mut Vec::new()).unwrap();
                String::from_utf8(out).unwrap()
            })
            .collect();
        // The last string counts without its NUL.
        assert_eq!(texts, ["ab", "", "cd"]);
        assert!(string_items(&bytes[..5], &Value { len: 5, ..v }).is_none());
    }

    #[test]
    fn a_table_that_runs_past_the_chunk_is_refused() {
        let mut chunk = 2u32.to_le_bytes().to_vec();
        chunk.extend([4, 0, kind::UINT32, 0, 2, 0, kind::UINT16, 0]);
        chunk.extend([1, 0, 0, 0, 7, 0]);
        let mut values = Vec::new();
        assert_eq!(table(&chunk, 0, &mut values), Some(chunk.len()));
        assert_eq!(values[1].at, 16);
        assert!(table(&chunk[..chunk.len() - 1], 0, &mut values).is_none());
    }
}
