//! Modifiers that turn a value into the form it takes inside a log:
//! `base64`, `base64offset` (the three alignments a value can have inside a
//! longer Base64 text), `utf16le`/`wide`/`utf16be`/`utf16` (applied before
//! Base64, as PowerShell's `-EncodedCommand` encodes UTF-16LE), and
//! `windash` (Windows tools take `-`, `/` and Unicode dashes alike).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Bytes as UTF-16 in the given byte order, optionally with a BOM first.
pub fn utf16(text: &str, little_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2 + 2);
    let mut push = |unit: u16| {
        out.extend_from_slice(&if little_endian {
            unit.to_le_bytes()
        } else {
            unit.to_be_bytes()
        })
    };
    if bom {
        push(0xfeff);
    }
    for unit in text.encode_utf16() {
        push(unit);
    }
    out
}

/// Plain Base64.
pub fn base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// The three Base64 forms `bytes` takes inside a longer encoded text,
/// depending on its offset modulo 3, each cut to the characters that do not
/// depend on the neighbouring bytes.
pub fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END_TRIM: [usize; 3] = [0, 3, 2];
    (0..3)
        .filter_map(|shift| {
            let mut shifted = vec![0u8; shift];
            shifted.extend_from_slice(bytes);
            let encoded = STANDARD.encode(&shifted);
            let trim = END_TRIM[(bytes.len() + shift) % 3];
            let end = encoded.len().checked_sub(trim)?;
            encoded.get(START[shift]..end).map(str::to_owned)
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// The dashes Windows command lines accept for an option's leading `-`.
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// Above this many dash positions the variants are not spelled out.
const MAX_WINDASH_POSITIONS: usize = 3;

/// Every spelling of `value` with each `-` or `/` replaced by any of the
/// accepted dashes; `None` when there are too many positions to spell out.
pub fn windash(value: &str) -> Option<Vec<String>> {
    let positions = value.chars().filter(|c| *c == '-' || *c == '/').count();
    if positions > MAX_WINDASH_POSITIONS {
        return None;
    }
    let mut variants = vec![String::with_capacity(value.len() + 4)];
    for c in value.chars() {
        if c == '-' || c == '/' {
            variants = variants
                .into_iter()
                .flat_map(|v| {
                    DASHES.iter().map(move |d| {
                        let mut next = v.clone();
                        next.push(*d);
                        next
                    })
                })
                .collect();
        } else {
            for v in &mut variants {
                v.push(c);
            }
        }
    }
    Some(variants)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_offsets_find_the_value_at_any_alignment() {
        let value = b"http://";
        let variants = base64_offsets(value);
        assert_eq!(variants.len(), 3);
        for prefix in [&b""[..], b"a", b"ab", b"abc", b"xyzw"] {
            let mut text = prefix.to_vec();
            text.extend_from_slice(value);
            text.extend_from_slice(b"tail");
            let encoded = STANDARD.encode(&text);
            assert!(
                variants.iter().any(|v| encoded.contains(v.as_str())),
                "{prefix:?}: {encoded} has none of {variants:?}"
            );
        }
        // The standard example from the Sigma specification.
        assert_eq!(
            base64_offsets(b"/bin/bash"),
            ["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]
        );
    }

    #[test]
    fn utf16_forms() {
        assert_eq!(utf16("A", true, false), [0x41, 0]);
        assert_eq!(utf16("A", false, false), [0, 0x41]);
        assert_eq!(utf16("A", true, true), [0xff, 0xfe, 0x41, 0]);
        // PowerShell -EncodedCommand of "Get" is UTF-16LE in Base64.
        assert_eq!(base64(&utf16("Get", true, false)), "RwBlAHQA");
    }

    #[test]
    fn windash_spells_every_dash() {
        let v = windash(" -enc ").unwrap();
        assert_eq!(v.len(), 5);
        assert!(v.contains(&" /enc ".to_owned()) && v.contains(&" \u{2013}enc ".to_owned()));
        assert_eq!(windash("-a -b").unwrap().len(), 25);
        assert!(windash("-a-b-c-d").is_none());
    }
}
