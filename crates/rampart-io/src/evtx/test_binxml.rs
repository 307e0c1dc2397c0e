//! BinXML written by hand for the tests: UTF-16 text and names written
//! inline where they are first used, as Windows writes them.

pub fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// A name offset pointing just past itself, then the name: next offset
/// and hash (6 bytes), character count, characters, NUL.
pub fn inline_name(out: &mut Vec<u8>, s: &str) {
    let at = out.len() as u32 + 4;
    out.extend(at.to_le_bytes());
    out.extend([0u8; 6]);
    out.extend((s.len() as u16).to_le_bytes());
    out.extend(utf16(s));
    out.extend([0, 0]);
}
