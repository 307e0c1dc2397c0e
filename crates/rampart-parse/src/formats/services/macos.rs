//! macOS: the unified log as `log show --style ndjson` writes it, and
//! Endpoint Security events as `eslogger` writes them. The unified log
//! records no process or file creation; Endpoint Security does, and its
//! exec and create events carry what Sigma's macOS rules ask for.

use rampart_event::{Event, Value};
use serde_json::{Map, Value as Json};

use super::record::{at, basename, keep, put, text, time};
use crate::context::FileContext;

/// Fills `e` from one unified log entry.
pub fn unified(o: &Map<String, Json>, ctx: &FileContext, e: &mut Event) -> &'static str {
    e.timestamp = time(o, &["timestamp"], ctx);
    keep("macos.unifiedlog", o, e);
    let image = text(o, "processImagePath");
    put(e, "process.executable", image);
    put(e, "process.name", image.map(basename));
    if let Some(pid) = at(o, "processID").and_then(Json::as_i64) {
        e.set("process.pid", pid);
    }
    put(e, "log.level", text(o, "messageType"));
    put(e, "log.logger", text(o, "subsystem"));
    put(e, "message", text(o, "eventMessage"));
    "macos.unifiedlog"
}

/// Fills `e` from one Endpoint Security event. `event` holds one key, the
/// kind of event (`exec`, `create`, `rename`, ...).
pub fn endpoint_security(o: &Map<String, Json>, ctx: &FileContext, e: &mut Event) -> &'static str {
    e.timestamp = time(o, &["time"], ctx);
    keep("macos.es", o, e);
    let kind = at(o, "event")
        .and_then(Json::as_object)
        .and_then(|m| m.keys().next())
        .map(String::as_str)
        .unwrap_or("");
    e.set_str("event.action", kind);
    // The acting process; for an exec, its image before the exec, which
    // after a fork is its parent's.
    let actor = text(o, "process.executable.path");
    if let Some(uid) = at(o, "process.audit_token.euid").and_then(Json::as_i64) {
        e.set("user.id", uid.to_string());
    }
    match kind {
        "exec" => {
            let target = "event.exec.target";
            let image = text(o, &format!("{target}.executable.path"));
            put(e, "process.executable", image);
            put(e, "process.name", image.map(basename));
            if let Some(pid) = at(o, &format!("{target}.audit_token.pid")).and_then(Json::as_i64) {
                e.set("process.pid", pid);
            }
            let args: Vec<&str> = at(o, "event.exec.args")
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default();
            if !args.is_empty() {
                e.set("process.command_line", args.join(" "));
                e.set(
                    "process.args",
                    Value::List(args.iter().map(|a| Value::from(*a)).collect()),
                );
            }
            put(e, "process.parent.executable", actor);
            put(e, "process.parent.name", actor.map(basename));
            if let Some(ppid) = at(o, "process.ppid").and_then(Json::as_i64) {
                e.set("process.parent.pid", ppid);
            }
            put(
                e,
                "process.code_signature.signing_id",
                text(o, &format!("{target}.signing_id")),
            );
            e.set_static("event.category", "process");
            e.set(
                "message",
                format!("exec {}", args.join(" ").trim())
                    .trim_end()
                    .to_owned(),
            );
            "macos.process"
        }
        "create" | "rename" => {
            let path = created_path(o, kind);
            put(e, "process.executable", actor);
            put(e, "process.name", actor.map(basename));
            if let Some(pid) = at(o, "process.audit_token.pid").and_then(Json::as_i64) {
                e.set("process.pid", pid);
            }
            if let Some(p) = &path {
                e.set_str("file.path", p);
                e.set_str("file.name", basename(p));
            }
            e.set_static("event.category", "file");
            e.set(
                "message",
                format!("{kind} {}", path.as_deref().unwrap_or("?")),
            );
            "macos.file"
        }
        _ => {
            put(e, "process.executable", actor);
            put(e, "process.name", actor.map(basename));
            e.set("message", format!("Endpoint Security {kind}"));
            "macos.endpoint"
        }
    }
}

/// The path a create or rename event leaves behind: an existing file, or a
/// folder and a new name.
fn created_path(o: &Map<String, Json>, kind: &str) -> Option<String> {
    let base = format!("event.{kind}.destination");
    if let Some(p) = text(o, &format!("{base}.existing_file.path")) {
        return Some(p.to_owned());
    }
    let dir = text(o, &format!("{base}.new_path.dir.path"))?;
    let name = text(o, &format!("{base}.new_path.filename"))?;
    Some(format!("{}/{name}", dir.trim_end_matches('/')))
}
