//! Windows events in every text shape rampart reads (wevtutil XML, evtx_dump
//! JSON, Winlogbeat JSON, flattened JSON, CSV exports) become one
//! [`WinRecord`] and then one kind of event, so a rule sees the same fields
//! whichever way the event was exported.
//!
//! Every `EventData` field is kept as `winlog.event_data.<Name>`; the
//! well-known ones are also mapped onto ECS (`Image` → `process.executable`,
//! `IpAddress` → `source.ip`, ...).

pub mod evtx_json;
pub mod known_ids;
mod positional;
pub mod xml;

use std::borrow::Cow;
use std::sync::Arc;

use rampart_event::{Event, Timestamp, Value};

use crate::context::FileContext;
use crate::names;
use crate::text::{basename, ip_token, uint};

/// The statistics key of Windows events.
pub const FORMAT: &str = "windows";

/// One Windows event, independent of the shape it was exported in. Text
/// may borrow from the exported record, so that fields cut from it are
/// stored as ranges of `event.original`.
#[derive(Debug, Default, Clone)]
pub struct WinRecord<'a> {
    /// The channel (log name): `Security`, `Microsoft-Windows-Sysmon/Operational`.
    pub channel: Option<Cow<'a, str>>,
    /// The provider name.
    pub provider: Option<Cow<'a, str>>,
    /// The Event ID.
    pub event_id: Option<u32>,
    /// The computer name.
    pub computer: Option<Cow<'a, str>>,
    /// The record number.
    pub record_id: Option<u64>,
    /// When the event was created.
    pub time: Option<Timestamp>,
    /// The level (1 critical ... 5 verbose).
    pub level: Option<i64>,
    /// The writing process and thread.
    pub pid: Option<u64>,
    /// The writing thread.
    pub tid: Option<u64>,
    /// The SID in `System/Security/@UserID`.
    pub user_sid: Option<Cow<'a, str>>,
    /// `EventData` / `UserData` fields in order.
    pub data: Vec<(Cow<'a, str>, Field<'a>)>,
    /// The rendered message, when the export has one.
    pub message: Option<Cow<'a, str>>,
}

/// The value of one `EventData` field.
#[derive(Debug, Clone)]
pub enum Field<'a> {
    /// Text, which is what nearly every field is.
    Text(Cow<'a, str>),
    /// A number, boolean, null or list from a typed export.
    Value(Value),
}

impl From<Value> for Field<'_> {
    fn from(v: Value) -> Self {
        match v {
            Value::Str(s) => Field::Text(Cow::Owned(s)),
            other => Field::Value(other),
        }
    }
}

impl<'a> From<&'a str> for Field<'a> {
    fn from(s: &'a str) -> Self {
        Field::Text(Cow::Borrowed(s))
    }
}

/// The dataset of a channel.
pub fn dataset_of(channel: &str) -> &'static str {
    let c = channel.to_ascii_lowercase();
    match c.as_str() {
        _ if c.starts_with("linux-sysmon") => "linux.sysmon",
        "security" => "windows.security",
        "system" => "windows.system",
        "application" => "windows.application",
        "windows powershell" => "windows.powershell",
        _ if c.contains("sysmon") => "windows.sysmon",
        _ if c.contains("powershell") => "windows.powershell",
        _ if c.contains("windows defender") => "windows.defender",
        _ if c.contains("taskscheduler") => "windows.taskscheduler",
        _ if c.contains("terminalservices") || c.contains("remotedesktop") => "windows.rdp",
        _ if c.contains("wmi-activity") => "windows.wmi",
        _ if c.contains("bits-client") => "windows.bits",
        _ if c.contains("applocker") => "windows.applocker",
        _ => "windows.event",
    }
}

fn level_name(level: i64) -> &'static str {
    match level {
        1 => "critical",
        2 => "error",
        3 => "warning",
        5 => "verbose",
        _ => "information",
    }
}

/// How an account name field is read for this kind of event.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Accounts {
    /// Logon events: the target account is the one logging on.
    Logon,
    /// Account management: the subject acts on the target account.
    Management,
    /// Everything else: the subject is the user.
    Other,
}

fn accounts_for(id: Option<u32>, category: Option<&str>) -> Accounts {
    match (id, category) {
        (
            Some(4624 | 4625 | 4634 | 4647 | 4648 | 4672 | 4768 | 4769 | 4771 | 4776 | 4778 | 4779),
            _,
        ) => Accounts::Logon,
        (_, Some("authentication")) => Accounts::Logon,
        (_, Some("iam")) => Accounts::Management,
        _ => Accounts::Other,
    }
}

/// Builds the event. `inferred` is set when channel and provider are to be
/// taken from the known-ID table (CSV exports).
pub fn build(ctx: &FileContext, no: u64, original: &Arc<str>, mut rec: WinRecord<'_>) -> Event {
    let mut e = ctx.event(no, Arc::clone(original));
    e.timestamp = rec.time;
    positional::name(&mut rec);
    let known = rec.event_id.and_then(known_ids::lookup);
    let mut inferred = Vec::new();
    if rec.channel.is_none() {
        if let Some(k) = known {
            rec.channel = Some(Cow::Borrowed(k.channel));
            inferred.push(Value::from("winlog.channel"));
            if rec.provider.is_none() {
                rec.provider = Some(Cow::Borrowed(k.provider));
                inferred.push(Value::from("winlog.provider_name"));
            }
        }
    }
    // The table's category and action hold only under the channel it names.
    // Sysmon for Linux numbers its events as Sysmon for Windows does.
    let known = known.filter(|k| {
        rec.channel.as_deref().is_some_and(|c| {
            c.eq_ignore_ascii_case(k.channel)
                || (c.eq_ignore_ascii_case("Linux-Sysmon/Operational")
                    && k.channel == "Microsoft-Windows-Sysmon/Operational")
        })
    });
    let dataset = rec.channel.as_deref().map_or("windows.event", dataset_of);
    e.set_static("event.dataset", dataset);
    e.set_static("event.kind", "event");
    e.set_static(
        "event.module",
        if dataset == "linux.sysmon" {
            "sysmon"
        } else {
            "windows"
        },
    );
    if let Some(id) = rec.event_id {
        e.set("event.code", id.to_string());
        e.set("winlog.event_id", id);
    }
    if let Some(k) = known {
        e.set_static("event.category", k.category);
        e.set_static("event.action", k.action);
        match rec.event_id {
            Some(4625 | 4771 | 4776) if k.category == "authentication" => {
                e.set_static("event.outcome", "failure")
            }
            Some(4624 | 4648 | 4768 | 4769) => e.set_static("event.outcome", "success"),
            _ => {}
        }
    }
    if let Some(c) = rec.channel.as_deref() {
        e.set_str("winlog.channel", c);
    }
    if let Some(p) = rec.provider.as_deref() {
        e.set_str("winlog.provider_name", p);
        e.set_str("event.provider", p);
    }
    if let Some(c) = rec.computer.as_deref() {
        e.set_str("winlog.computer_name", c);
        e.set_str("host.name", c);
    }
    if let Some(r) = rec.record_id {
        e.set("winlog.record_id", r as i64);
    }
    if let Some(l) = rec.level {
        e.set("log.level", level_name(l));
    }
    if let Some(p) = rec.pid {
        e.set("winlog.process.pid", p as i64);
    }
    if let Some(t) = rec.tid {
        e.set("winlog.process.thread.id", t as i64);
    }
    if let Some(sid) = rec.user_sid.as_deref() {
        e.set_str("winlog.user.identifier", sid);
    }
    if !inferred.is_empty() {
        e.set("rampart.inferred", inferred);
    }
    let accounts = accounts_for(rec.event_id, known.map(|k| k.category));
    for (name, value) in &rec.data {
        map_field(name, value, accounts, rec.event_id, &mut e);
    }
    // A name can repeat (UserData beside EventData, a CSV header twice); the
    // last value wins. `seen` is a cheap filter on name length and last byte,
    // so the search for an earlier field runs only when one may exist.
    let mut seen = 0u64;
    for (name, value) in rec.data {
        let key = name.len() * 31 + usize::from(name.as_bytes().last().copied().unwrap_or(0));
        let bit = 1u64 << (key % 64);
        let name = names::event_data(&name);
        if seen & bit != 0 {
            e.remove(&name);
        }
        seen |= bit;
        match value {
            Field::Text(text) if text.is_empty() => e.set(name, Value::Str(String::new())),
            Field::Text(text) => e.set_str(name, &text),
            Field::Value(v) => e.set(name, v),
        }
    }
    if let Some(message) = rec.message.as_deref() {
        from_message(message, &mut e);
        e.set_str("message", message.trim());
    }
    derive_names(&mut e);
    e
}

/// Maps one well-known `EventData` field onto ECS.
fn map_field(name: &str, value: &Field, accounts: Accounts, id: Option<u32>, e: &mut Event) {
    let text = match value {
        Field::Text(s) => s.trim(),
        Field::Value(Value::Int(_)) => "",
        _ => return,
    };
    let number = || match value {
        Field::Value(Value::Int(i)) => Some(*i),
        _ => number_text(text),
    };
    let absent = text == "-" || (text.is_empty() && !matches!(value, Field::Value(Value::Int(_))));
    if absent {
        return;
    }
    let ip = |e: &mut Event, field: &'static str| {
        if let Some(ip) = ip_token(text) {
            e.insert(field, ip);
        }
    };
    let int = |e: &mut Event, field: &'static str| {
        if let Some(n) = number() {
            e.insert(field, n);
        }
    };
    let string = |e: &mut Event, field: &'static str| match value {
        Field::Value(Value::Int(i)) => e.insert(field, i.to_string()),
        _ => e.insert_str(field, text),
    };
    match name {
        "Image" | "NewProcessName" => string(e, "process.executable"),
        "CommandLine" => string(e, "process.command_line"),
        // In Security 4688 `ProcessId` is the creator's: the parent.
        "ProcessId" if id == Some(4688) => int(e, "process.parent.pid"),
        "ProcessId" | "NewProcessId" => int(e, "process.pid"),
        "ProcessGuid" => string(e, "process.entity_id"),
        "ParentProcessGuid" => string(e, "process.parent.entity_id"),
        "ProcessName" | "ProcessPath" => {
            if text.contains(['\\', '/']) {
                string(e, "process.executable");
            } else {
                string(e, "process.name");
            }
        }
        "ParentImage" | "ParentProcessName" => string(e, "process.parent.executable"),
        "ParentProcessId" => int(e, "process.parent.pid"),
        "ParentCommandLine" => string(e, "process.parent.command_line"),
        "CurrentDirectory" => string(e, "process.working_directory"),
        "OriginalFileName" => string(e, "process.pe.original_file_name"),
        "SourceIp" | "IpAddress" | "SourceIP" | "SourceAddress" | "ClientAddress" => {
            ip(e, "source.ip")
        }
        "SourcePort" | "IpPort" => int(e, "source.port"),
        "DestinationIp" | "DestAddress" | "DestinationIP" => ip(e, "destination.ip"),
        "DestinationPort" | "DestPort" => int(e, "destination.port"),
        "SourceHostname" | "WorkstationName" => string(e, "source.domain"),
        "DestinationHostname" => string(e, "destination.domain"),
        "Protocol" if text.chars().all(|c| c.is_ascii_alphabetic()) => {
            e.insert("network.transport", text.to_ascii_lowercase());
        }
        "TargetFilename" => string(e, "file.path"),
        "ObjectName" if text.starts_with("\\REGISTRY") => string(e, "registry.path"),
        "ObjectName" => string(e, "file.path"),
        "TargetObject" => registry(text, e),
        "Details" => string(e, "registry.data.strings"),
        "QueryName" => string(e, "dns.question.name"),
        "ServiceName" => string(e, "service.name"),
        "ServiceFileName" | "ImagePath" => string(e, "service.executable"),
        "ScriptBlockText" => string(e, "powershell.file.script_block_text"),
        "Hashes" | "Hash" => hashes(text, id, e),
        "LogonType" => int(e, "winlog.logon.type"),
        "User" | "Account" | "AccountName" | "UserName" => {
            account(text, "user.name", "user.domain", e)
        }
        "TargetUserName" => match accounts {
            Accounts::Logon => string(e, "user.name"),
            _ => string(e, "user.target.name"),
        },
        "TargetDomainName" => match accounts {
            Accounts::Logon => string(e, "user.domain"),
            _ => string(e, "user.target.domain"),
        },
        "SubjectUserName" if accounts != Accounts::Logon => string(e, "user.name"),
        "SubjectDomainName" if accounts != Accounts::Logon => string(e, "user.domain"),
        "SamAccountName" if accounts == Accounts::Management => string(e, "user.target.name"),
        _ => {}
    }
}

/// Reads decimal or `0x` hexadecimal numbers as Windows writes them.
fn number_text(text: &str) -> Option<i64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => uint(text).and_then(|n| i64::try_from(n).ok()),
    }
}

/// `DOMAIN\user` → `user.name` and `user.domain`.
fn account(text: &str, name: &'static str, domain: &'static str, e: &mut Event) {
    match text.split_once('\\') {
        Some((d, n)) => {
            e.insert_str(name, n);
            e.insert_str(domain, d);
        }
        None => e.insert_str(name, text),
    }
}

/// `HKLM\SOFTWARE\...\Run\Updater` → path, hive, key and value name.
fn registry(path: &str, e: &mut Event) {
    e.insert_str("registry.path", path);
    if let Some((hive, rest)) = path.split_once('\\') {
        e.insert_str("registry.hive", hive);
        if let Some((key, value)) = rest.rsplit_once('\\') {
            e.insert_str("registry.key", key);
            e.insert_str("registry.value", value);
        }
    }
}

/// `SHA256=..,MD5=..` → `process.hash.*` (process creation) or `file.hash.*`.
fn hashes(text: &str, id: Option<u32>, e: &mut Event) {
    let process = id == Some(1);
    for pair in text.split(',') {
        let Some((algo, digest)) = pair.split_once('=') else {
            continue;
        };
        let field = match (algo.trim().to_ascii_lowercase().as_str(), process) {
            ("md5", true) => "process.hash.md5",
            ("sha1", true) => "process.hash.sha1",
            ("sha256", true) => "process.hash.sha256",
            ("imphash", true) => "process.pe.imphash",
            ("md5", false) => "file.hash.md5",
            ("sha1", false) => "file.hash.sha1",
            ("sha256", false) => "file.hash.sha256",
            ("imphash", false) => "file.pe.imphash",
            _ => continue,
        };
        e.insert(field, digest.trim().to_ascii_lowercase());
    }
}

/// Takes what a rendered message names when the export has no fields:
/// `Service Name: updsvc`, `New Account: ... Account Name: x`.
fn from_message(message: &str, e: &mut Event) {
    let after = |label: &str| -> Option<String> {
        let (_, rest) = crate::text::split_once_str(message, label)?;
        let value = rest.trim_start_matches([' ', '\t']);
        let end = value
            .find(['\r', '\n', '\t'])
            .or_else(|| value.find("  "))
            .or_else(|| value.find(" Service "))
            .unwrap_or(value.len());
        // A one-line rendering separates the labels with commas.
        let value = value[..end].trim().trim_end_matches([',', ';']).trim_end();
        (!value.is_empty() && value != "-").then(|| value.to_owned())
    };
    if !e.contains("service.name") {
        if let Some(name) = after("Service Name:") {
            e.set("service.name", name);
        }
    }
    if !e.contains("user.target.name") && e.get_str("event.category") == Some("iam") {
        let target = crate::text::split_once_str(message, "New Account:")
            .map(|(_, rest)| rest)
            .and_then(|rest| {
                let sub = crate::text::split_once_str(rest, "Account Name:").map(|(_, r)| r);
                let text = sub
                    .unwrap_or(rest)
                    .trim_start_matches([' ', '\t', '\r', '\n']);
                let end = text.find(['\r', '\n', '\t', ' ']).unwrap_or(text.len());
                let value = &text[..end];
                (!value.is_empty()).then(|| value.to_owned())
            });
        if let Some(name) = target {
            e.set("user.target.name", name);
        }
    }
}

/// `process.name` from `process.executable`, and the parent's likewise.
fn derive_names(e: &mut Event) {
    if !e.contains("process.name") {
        if let Some(name) = e
            .get_str("process.executable")
            .map(|p| basename(p).to_owned())
        {
            e.set("process.name", name);
        }
    }
    if let Some(name) = e
        .get_str("process.parent.executable")
        .map(|p| basename(p).to_owned())
    {
        e.set("process.parent.name", name);
    }
}

/// A record's event data as the tests compare it: each field's name and
/// its text, or its value as debugged.
#[cfg(test)]
fn shown<'r>(rec: &'r WinRecord<'_>) -> Vec<(&'r str, String)> {
    rec.data
        .iter()
        .map(|(k, v)| {
            let shown = match v {
                Field::Text(t) => t.to_string(),
                Field::Value(v) => format!("{v:?}"),
            };
            (k.as_ref(), shown)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    fn ctx() -> FileContext {
        FileContext::new("x.csv", ParseOptions::default())
    }

    #[test]
    fn csv_style_rows_infer_channel_and_read_the_message() {
        let rec = WinRecord {
            event_id: Some(4720),
            computer: Some("WS01".into()),
            data: vec![("Account".into(), "LAB\\admin".into())],
            message: Some("A user account was created. New Account: backdoor_user".into()),
            ..Default::default()
        };
        let e = build(&ctx(), 2, &Arc::from("raw"), rec);
        assert_eq!(e.get_str("winlog.channel"), Some("Security"));
        assert_eq!(e.get_str("event.dataset"), Some("windows.security"));
        assert_eq!(e.get_str("user.target.name"), Some("backdoor_user"));
        assert_eq!(e.get_str("user.name"), Some("admin"));
        assert_eq!(e.get_str("user.domain"), Some("LAB"));
        assert!(e.get("rampart.inferred").is_some());
        let rec = WinRecord {
            event_id: Some(7045),
            message: Some("A service was installed in the system. Service Name: updsvc Service File Name: C:\\x.exe".into()),
            ..Default::default()
        };
        let e = build(&ctx(), 3, &Arc::from("raw"), rec);
        assert_eq!(e.get_str("service.name"), Some("updsvc"));
        let rec = WinRecord {
            event_id: Some(7045),
            message: Some("A service was installed in the system. Service Name: updsvc, Service File Name: C:\\x.exe".into()),
            ..Default::default()
        };
        let e = build(&ctx(), 4, &Arc::from("raw"), rec);
        assert_eq!(e.get_str("service.name"), Some("updsvc"));
    }

    #[test]
    fn an_event_id_means_nothing_under_another_channel() {
        let rec = WinRecord {
            event_id: Some(4720),
            channel: Some("Application".into()),
            ..Default::default()
        };
        let e = build(&ctx(), 1, &Arc::from("raw"), rec);
        assert!(e.get("event.action").is_none());
        assert_eq!(e.get_str("event.dataset"), Some("windows.application"));
    }

    #[test]
    fn sysmon_fields_map_onto_ecs() {
        let rec = WinRecord {
            event_id: Some(1),
            channel: Some("Microsoft-Windows-Sysmon/Operational".into()),
            data: vec![
                ("Image".into(), "C:\\Windows\\System32\\cmd.exe".into()),
                ("ProcessId".into(), "4242".into()),
                ("ParentImage".into(), "C:\\Windows\\explorer.exe".into()),
                ("Hashes".into(), "SHA256=AB,MD5=CD".into()),
                ("User".into(), "LAB\\alice".into()),
            ],
            ..Default::default()
        };
        let e = build(&ctx(), 1, &Arc::from("raw"), rec);
        assert_eq!(e.get_str("process.name"), Some("cmd.exe"));
        assert_eq!(e.get("process.pid").unwrap().as_i64(), Some(4242));
        assert_eq!(e.get_str("process.parent.name"), Some("explorer.exe"));
        assert_eq!(e.get_str("process.hash.sha256"), Some("ab"));
        assert_eq!(
            e.get_str("winlog.event_data.Image"),
            Some("C:\\Windows\\System32\\cmd.exe")
        );
        assert_eq!(e.get_str("event.action"), Some("process-created"));
    }
}
