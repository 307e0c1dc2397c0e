//! The records of the sinks that write rows (SQL tables, ClickHouse): `A`
//! and an alert's JSON, or `E`, the event's id (16 hex digits, made from
//! where it came from; see `forward::Encoding::Row`) and its JSON.

/// A record read back: an alert's JSON, or an event's id and JSON.
pub enum Record<'r> {
    /// An alert's JSON.
    Alert(&'r [u8]),
    /// An event's id (16 hex digits) and JSON.
    Event(&'r str, &'r [u8]),
}

/// Reads a record back.
pub fn record(r: &[u8]) -> Result<Record<'_>, String> {
    match r.split_first() {
        Some((b'A', json)) => Ok(Record::Alert(json)),
        Some((b'E', rest)) if rest.len() > 16 => {
            let id = std::str::from_utf8(&rest[..16]).map_err(|e| e.to_string())?;
            Ok(Record::Event(id, &rest[16..]))
        }
        _ => Err("a record of no known kind".into()),
    }
}
