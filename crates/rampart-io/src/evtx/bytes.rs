//! Bounds-checked little-endian reads from a chunk: every offset in a
//! record is attacker-controlled, so a read past the end is `None`, never a
//! panic.

pub fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

pub fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

pub fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// UTF-16LE text (an element or attribute name, literal template text);
/// `None` when it is not valid UTF-16.
pub fn utf16_name(bytes: &[u8]) -> Option<Box<str>> {
    if bytes.chunks_exact(2).all(|u| u[1] == 0 && u[0] < 0x80) {
        let ascii: Vec<u8> = bytes.iter().step_by(2).copied().collect();
        return String::from_utf8(ascii).ok().map(String::into_boxed_str);
    }
    let units = bytes
        .chunks_exact(2)
        .map(|u| u16::from_le_bytes([u[0], u[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
        .map(String::into_boxed_str)
}
