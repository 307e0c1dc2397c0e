//! Linux audit logs: auditd's `audit.log`, the same records relayed through
//! syslog (audispd, the kernel's `audit:` lines) and Azure's auoms.
//!
//! Each record is one event, as Sigma's auditd rules expect: they test one
//! record at a time (`type: EXECVE` with `a0`, `a1`, ...). Every field is
//! kept under `auditd.log.<name>` with its value unquoted and decoded;
//! `auditd.log.sequence` ties the records of one kernel event together. The
//! interpreted system call name (`SYSCALL`, which rules test) is added from
//! the architecture's table when auditd did not write it. The fields with an
//! ECS meaning are also mapped (`process.*`, `user.*`, `file.path`,
//! `source.ip`, `event.outcome`).

mod auoms;
mod record;
mod syscalls;

use std::sync::Arc;

use rampart_event::{Event, Value};

use crate::context::FileContext;
use crate::formats::Parsed;
use crate::names;
use crate::text::{basename, ip_token, uint};

pub use record::Record;

/// The dataset of audit records.
pub const DATASET: &str = "linux.auditd";

/// Reads one line of `audit.log`.
pub fn parse_line(ctx: &FileContext, no: u64, line: &Arc<str>) -> Parsed {
    let record = record::parse(line)?;
    let mut event = ctx.event(no, Arc::clone(line));
    event.timestamp = record.time;
    event.set_static("event.dataset", DATASET);
    event.set_static("event.kind", "event");
    fill(&record, &mut event);
    Some((DATASET, event))
}

/// The record inside a syslog message (`type=...`, `node=... type=...`,
/// the kernel's `audit: type=1400 audit(...)`), if there is one.
pub fn in_message(message: &str) -> Option<Record<'_>> {
    let text = message.trim_start();
    let text = match text.strip_prefix('[') {
        Some(rest) => rest.split_once("] ").map_or(text, |(_, r)| r),
        None => text,
    };
    let text = text.strip_prefix("audit: ").unwrap_or(text);
    record::parse(text)
}

/// Sets the record's fields on `event`: every field raw, then ECS (the
/// caller sets the dataset).
fn fill(record: &Record<'_>, event: &mut Event) {
    event.set_static("event.module", "auditd");
    let auoms_execve = record.kind == "AUOMS_EXECVE";
    let cmdline = value(record, "cmdline").filter(|_| auoms_execve);
    let merged_args = cmdline.and_then(|c| auoms::arguments(c, value(record, "argc")));
    if auoms_execve {
        let types = auoms::merged_types(record, merged_args.is_some());
        event.set(
            "auditd.log.type",
            Value::List(types.into_iter().map(Value::from).collect()),
        );
    } else {
        event.set_str("auditd.log.type", &record.kind);
    }
    event.set("auditd.log.sequence", record.sequence as i64);
    if let Some(node) = record.node {
        event.set_str("auditd.log.node", node);
        event.insert_str("host.name", node);
    }
    event.insert("event.action", Value::Str(record.kind.to_ascii_lowercase()));
    let category = category(&record.kind);
    if let Some(category) = category {
        event.set_static("event.category", category);
    }
    let management = category == Some("iam");
    let mut args: Vec<String> = Vec::new();
    let mut seen_enriched_syscall = false;
    for (key, value) in &record.fields {
        if merged_args.is_some() && argument_index(key).is_some() {
            // The system call's arguments, not the program's.
            event.set_str(format!("auditd.log.syscall_{key}"), value);
            continue;
        }
        if let Some(n) = argument_index(key) {
            if args.len() <= n {
                args.resize(n + 1, String::new());
            }
            args[n].push_str(value);
            if key.contains('[') {
                continue;
            }
        }
        seen_enriched_syscall |= *key == "SYSCALL";
        event.set_str(names::prefixed("auditd.log.", key), value);
        ecs(key, value, management, event);
    }
    if !seen_enriched_syscall {
        interpret_syscall(record, event);
    }
    if let Some(merged) = merged_args {
        for (i, arg) in merged.iter().enumerate() {
            event.set(format!("auditd.log.a{i}"), arg.clone());
        }
        event.set("process.args_count", merged.len() as i64);
        event.set(
            "process.args",
            Value::List(merged.into_iter().map(Value::Str).collect()),
        );
        if let Some(line) = cmdline {
            event.insert_str("process.command_line", line);
            event.insert_str("message", line);
        }
    } else if record.kind == "EXECVE" && !args.is_empty() {
        let line = args.join(" ");
        event.set("process.args_count", args.len() as i64);
        event.set(
            "process.args",
            Value::List(args.into_iter().map(Value::Str).collect()),
        );
        event.insert("process.command_line", Value::Str(line.clone()));
        event.insert("message", Value::Str(line));
    } else if let Some(title) = value(record, "proctitle") {
        event.insert_str("message", title);
    } else {
        event.insert_str("message", record.body);
    }
}

fn value<'a>(record: &'a Record<'_>, key: &str) -> Option<&'a str> {
    record
        .fields
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.as_ref())
}

/// `aN` or `aN[i]` (a long argument in pieces) of an `EXECVE` record.
fn argument_index(key: &str) -> Option<usize> {
    let digits = key.strip_prefix('a')?;
    let digits = digits.split_once('[').map_or(digits, |(n, _)| n);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Adds `SYSCALL` (the name) and `ARCH` from raw numbers, as auditd's
/// enriched format would have.
fn interpret_syscall(record: &Record<'_>, event: &mut Event) {
    let (Some(arch), Some(number)) = (value(record, "arch"), value(record, "syscall")) else {
        return;
    };
    match uint(number) {
        Some(number) => {
            if let Some(name) = syscalls::name(arch, number) {
                event.set_static("auditd.log.SYSCALL", name);
            }
        }
        // auoms writes the name itself.
        None => event.set_str("auditd.log.SYSCALL", number),
    }
    if let Some(arch) = syscalls::arch_name(arch) {
        event.set_static("auditd.log.ARCH", arch);
    }
}

fn category(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "EXECVE" | "AUOMS_EXECVE" | "PROCTITLE" | "ANOM_ABEND" | "SERVICE_START"
        | "SERVICE_STOP" => "process",
        "USER_AUTH" | "USER_LOGIN" | "USER_LOGOUT" | "USER_ACCT" | "CRED_ACQ" | "CRED_DISP"
        | "CRED_REFR" | "LOGIN" | "USER_START" | "USER_END" => "authentication",
        "ADD_USER" | "DEL_USER" | "ADD_GROUP" | "DEL_GROUP" | "USER_MGMT" | "USER_CHAUTHTOK"
        | "GRP_MGMT" | "ACCT_LOCK" | "ACCT_UNLOCK" => "iam",
        "PATH" | "CWD" => "file",
        "SOCKADDR" | "NETFILTER_CFG" => "network",
        "CONFIG_CHANGE" | "DAEMON_CONFIG" | "USYS_CONFIG" => "configuration",
        "AVC" | "USER_AVC" | "SECCOMP" => "intrusion_detection",
        _ => return None,
    })
}

/// Absent values as audit writes them.
fn absent(value: &str) -> bool {
    matches!(
        value,
        "" | "?" | "(null)" | "(none)" | "unset" | "4294967295" | "-1"
    )
}

/// The ECS fields of one audit field. In account management records
/// (`management`), `acct` and `id` name the account acted on.
fn ecs(key: &str, value: &str, management: bool, event: &mut Event) {
    if absent(value) {
        return;
    }
    let int = |event: &mut Event, field: &'static str| {
        if let Some(n) = uint(value) {
            event.insert(field, n as i64);
        }
    };
    match key {
        "pid" => int(event, "process.pid"),
        "ppid" => int(event, "process.parent.pid"),
        "exe" => {
            event.insert_str("process.executable", value);
            if !event.contains("process.name") {
                event.insert_str("process.name", basename(value));
            }
        }
        "comm" => event.insert_str("process.name", value),
        "cwd" => event.insert_str("process.working_directory", value),
        "proctitle" => event.insert_str("process.title", value),
        "uid" => event.insert_str("user.id", value),
        "euid" => event.insert_str("user.effective.id", value),
        "auid" => event.insert_str("user.audit.id", value),
        "gid" => event.insert_str("group.id", value),
        "acct" | "id" if management => event.insert_str(
            if key == "id" {
                "user.target.id"
            } else {
                "user.target.name"
            },
            value,
        ),
        "UID" | "acct" | "user" => event.insert_str("user.name", value),
        "AUID" => event.insert_str("user.audit.name", value),
        "EUID" => event.insert_str("user.effective.name", value),
        "name" if !event.contains("file.path") => event.insert_str("file.path", value),
        "inode" => int(event, "file.inode"),
        "addr" | "laddr" => {
            if let Some(ip) = ip_token(value) {
                event.insert("source.ip", ip);
            }
        }
        "hostname" => event.insert_str("source.domain", value),
        "terminal" | "tty" => event.insert_str("process.tty.name", value),
        "success" => event.insert(
            "event.outcome",
            Value::Static(if value == "yes" { "success" } else { "failure" }),
        ),
        "res" => event.insert(
            "event.outcome",
            Value::Static(if matches!(value, "success" | "1") {
                "success"
            } else {
                "failure"
            }),
        ),
        "key" => {
            let keys: Vec<Value> = value
                .split([',', '\u{1}'])
                .filter(|k| !k.is_empty())
                .map(|k| Value::Str(k.to_owned()))
                .collect();
            event.insert("tags", Value::List(keys));
        }
        _ => {}
    }
}

/// Sets the fields of a record relayed by syslog on the event of its line:
/// the process fields are the audited process's, so the relaying program
/// moves to `log.syslog.appname`.
pub fn fill_from_syslog(record: &Record<'_>, event: &mut Event) {
    if let Some(program) = event.remove("process.name") {
        event.set("log.syslog.appname", program);
    }
    event.remove("process.pid");
    if let Some(t) = record.time {
        event.timestamp = Some(t);
    }
    fill(record, event);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    fn event(line: &str) -> Event {
        let ctx = FileContext::new("audit.log", ParseOptions::default());
        parse_line(&ctx, 1, &Arc::from(line)).unwrap().1
    }

    #[test]
    fn syscall_record_maps_process_and_user() {
        let e = event(
            r#"type=SYSCALL msg=audit(1604996384.965:93777): arch=c000003e syscall=59 success=yes exit=0 a0=558e25052c70 ppid=29002 pid=2168 auid=1000 uid=1000 gid=1000 euid=0 tty=pts0 ses=104 comm="dd" exe="/bin/dd" key="exec_watch""#,
        );
        assert_eq!(e.get_str("auditd.log.SYSCALL"), Some("execve"));
        assert_eq!(e.get_str("auditd.log.ARCH"), Some("x86_64"));
        assert_eq!(e.get_str("auditd.log.type"), Some("SYSCALL"));
        assert_eq!(e.get_str("process.executable"), Some("/bin/dd"));
        assert_eq!(e.get_str("process.name"), Some("dd"));
        assert_eq!(e.get("process.pid").unwrap().to_string(), "2168");
        assert_eq!(e.get("process.parent.pid").unwrap().to_string(), "29002");
        assert_eq!(e.get_str("user.id"), Some("1000"));
        assert_eq!(e.get_str("user.effective.id"), Some("0"));
        assert_eq!(e.get_str("event.outcome"), Some("success"));
        assert_eq!(e.get("tags").unwrap().to_string(), "exec_watch");
        assert_eq!(e.timestamp.unwrap().to_string(), "2020-11-10T08:19:44.965Z");
    }

    #[test]
    fn execve_arguments_become_the_command_line() {
        let e = event(
            r#"type=EXECVE msg=audit(1604996384.965:93777): argc=4 a0="dd" a1="if=/dev/zero" a2="bs=1" a3_len=6 a3[0]=636F75 a3[1]=6E74"#,
        );
        assert_eq!(
            e.get_str("process.command_line"),
            Some("dd if=/dev/zero bs=1 count")
        );
        assert_eq!(e.get_str("message"), Some("dd if=/dev/zero bs=1 count"));
        assert_eq!(e.get_str("auditd.log.a1"), Some("if=/dev/zero"));
        assert_eq!(e.get("process.args_count").unwrap().to_string(), "4");
        assert_eq!(e.get_str("event.category"), Some("process"));
    }

    #[test]
    fn auoms_execve_records_stand_for_the_records_they_merge() {
        let e = event(
            r#"type=AUOMS_EXECVE audit(1652292622.1:84140): syscall=execve success=yes exit=0 a0=7fcd3bdfb8e0 a1=7fcd3027b7b0 a2=7ffccab2a7d8 a3=b ppid=17790 pid=17791 comm="bash" exe="/usr/bin/bash" cwd="/" name="/usr/bin/bash" argc=3 cmdline="bash -c "{echo,aWQ=}|{base64,-d}|{bash,-i}"" redactors= containerid="#,
        );
        assert_eq!(
            e.get("auditd.log.type").unwrap().to_string(),
            "AUOMS_EXECVE,SYSCALL,EXECVE,CWD,PATH"
        );
        assert_eq!(e.get_str("auditd.log.a0"), Some("bash"));
        assert_eq!(
            e.get_str("auditd.log.a2"),
            Some("{echo,aWQ=}|{base64,-d}|{bash,-i}")
        );
        assert_eq!(e.get_str("auditd.log.syscall_a0"), Some("7fcd3bdfb8e0"));
        assert_eq!(e.get("process.args_count").unwrap().to_string(), "3");
        assert_eq!(
            e.get_str("process.command_line"),
            Some(r#"bash -c "{echo,aWQ=}|{base64,-d}|{bash,-i}""#)
        );
        // Without its arguments (a failed exec writes none), the record is
        // no EXECVE and its pointers keep their names.
        let e = event(
            r#"type=AUOMS_EXECVE audit(1652292622.1:84141): syscall=execve success=no exit=-2 a0=7fcd3bdfb8e0 comm="java" proctitle=/usr/bin/java -cp x redactors= containerid="#,
        );
        assert_eq!(
            e.get("auditd.log.type").unwrap().to_string(),
            "AUOMS_EXECVE,SYSCALL"
        );
        assert_eq!(e.get_str("auditd.log.a0"), Some("7fcd3bdfb8e0"));
        assert!(e.get("process.args").is_none());
    }

    #[test]
    fn user_records_give_account_address_and_outcome() {
        let e = event("node=bastion type=USER_LOGIN msg=audit(1700000000.100:42): pid=5 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=\"admin\" exe=\"/usr/sbin/sshd\" hostname=? addr=203.0.113.9 terminal=sshd res=failed'");
        assert_eq!(e.get_str("user.name"), Some("admin"));
        assert_eq!(e.get("source.ip").unwrap().to_string(), "203.0.113.9");
        assert_eq!(e.get_str("event.outcome"), Some("failure"));
        assert_eq!(e.get_str("host.name"), Some("bastion"));
        assert!(e.get("user.audit.id").is_none());
        assert_eq!(e.get_str("event.category"), Some("authentication"));
    }

    #[test]
    fn syslog_relayed_records_are_found() {
        for msg in [
            "type=SYSCALL msg=audit(1.0:1): arch=c000003e syscall=133",
            "node=h type=SYSCALL msg=audit(1.0:1): arch=c000003e syscall=133",
            "audit: type=1300 audit(1.0:1): arch=c000003e syscall=133",
            "[   12.345678] audit: type=1300 audit(1.0:1): arch=c000003e syscall=133",
        ] {
            let r = in_message(msg).unwrap_or_else(|| panic!("{msg}"));
            assert_eq!(r.kind, "SYSCALL");
        }
        assert!(in_message("Accepted password for root").is_none());
    }
}
