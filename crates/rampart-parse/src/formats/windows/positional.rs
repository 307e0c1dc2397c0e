//! Names for event data that a provider writes without names.
//!
//! Classic event sources (`ReportEvent`) write `<Data>` items in the order
//! of their message's insertion strings, with no `Name`: the reader gets one
//! unnamed list. Where the provider documents that order, the items get the
//! names its rules use (RPC Firewall's `InterfaceUuid` and `OpNum`).

use std::borrow::Cow;

use rampart_event::Value;

use super::{Field, WinRecord};

/// Provider, Event ID, and the names of its data items in order.
const NAMES: &[(&str, u32, &[&str])] = &[
    // RPC Firewall: an RPC call audited or blocked.
    (
        "RPCFW",
        3,
        &[
            "Function",
            "ProcessID",
            "ImagePath",
            "Protocol",
            "Endpoint",
            "SourceAddress",
            "InterfaceUuid",
            "OpNum",
            "SecurityID",
            "AuthenticationLevel",
            "AuthenticationService",
            "SourcePort",
        ],
    ),
    // RPC Firewall protection added to, or removed from, a process.
    ("RPCFW", 1, &["ImagePath", "ProcessID"]),
    ("RPCFW", 2, &["ImagePath", "ProcessID"]),
];

/// Replaces `rec`'s unnamed data with named fields where its provider's
/// order is known; items past the known names stay unnamed.
pub fn name(rec: &mut WinRecord<'_>) {
    let (Some(provider), Some(id)) = (rec.provider.as_deref(), rec.event_id) else {
        return;
    };
    let Some((_, _, names)) = NAMES
        .iter()
        .find(|(p, i, _)| provider.eq_ignore_ascii_case(p) && *i == id)
    else {
        return;
    };
    let Some(at) = rec.data.iter().position(|(k, _)| k == "Data") else {
        return;
    };
    let (_, data) = rec.data.remove(at);
    let items: Vec<Field<'_>> = match data {
        Field::Value(Value::List(items)) => items.into_iter().map(Field::from).collect(),
        one => vec![one],
    };
    let mut rest = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match names.get(i) {
            Some(n) => rec.data.push((Cow::Borrowed(*n), item)),
            None => rest.push(match item {
                Field::Text(t) => Value::from(t.into_owned()),
                Field::Value(v) => v,
            }),
        }
    }
    if !rest.is_empty() {
        rec.data
            .push((Cow::Borrowed("Data"), Field::Value(Value::List(rest))));
    }
}
