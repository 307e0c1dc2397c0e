//! Endpoint telemetry CSVs (process, network, file and registry events, as
//! in seed 3). Their rows carry known defects: `###CORRUPT###` values, empty
//! fields, end times before start times, a process that is its own parent,
//! duplicated rows. Defective values are not passed on as data: each is
//! counted and named in `rampart.quality`, and the rest of the row is kept.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use rampart_event::Value;

use crate::context::FileContext;
use crate::output::Output;
use crate::text::{basename, ip_token, port, uint};
use crate::timefmt;

/// The marker the telemetry writes before a corrupted value.
const CORRUPT: &str = "###CORRUPT###";
/// How many row fingerprints are kept to find duplicates.
const MAX_FINGERPRINTS: usize = 1 << 20;

/// Which telemetry table a CSV holds, by its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `process_id,parent_id,start_time,end_time,executable_path,user,command_line`
    Process,
    /// `process_id,src_ip,dst_ip,src_port,dst_port,timestamp,user`
    Network,
    /// `process_id,file_path,operation,timestamp,user`
    File,
    /// `process_id,registry_key,operation,timestamp,value_name,value_data,user`
    Registry,
}

impl Table {
    /// Recognises a header.
    pub fn of(header: &[String]) -> Option<Table> {
        let has = |c: &str| header.iter().any(|h| h == c);
        if !has("process_id") {
            return None;
        }
        if has("parent_id") && has("start_time") {
            Some(Table::Process)
        } else if has("src_ip") && has("dst_ip") {
            Some(Table::Network)
        } else if has("registry_key") {
            Some(Table::Registry)
        } else if has("file_path") {
            Some(Table::File)
        } else {
            None
        }
    }

    fn dataset(self) -> &'static str {
        match self {
            Table::Process => "endpoint.process",
            Table::Network => "endpoint.network",
            Table::File => "endpoint.file",
            Table::Registry => "endpoint.registry",
        }
    }
}

/// Reads rows of one telemetry table.
#[derive(Debug)]
pub struct EndpointRows {
    table: Table,
    header: Vec<String>,
    seen: HashSet<u64>,
}

impl EndpointRows {
    /// A reader for `table` with the file's header.
    pub fn new(table: Table, header: Vec<String>) -> Self {
        EndpointRows {
            table,
            header,
            seen: HashSet::new(),
        }
    }

    /// Builds the event of one row.
    pub fn row(
        &mut self,
        ctx: &FileContext,
        no: u64,
        text: &str,
        values: &[String],
        out: &mut Output,
    ) {
        let mut e = ctx.event(no, text);
        let dataset = self.table.dataset();
        e.set_static("event.dataset", dataset);
        e.set_static("event.kind", "event");
        let mut issues: Vec<Value> = Vec::new();
        let mut flag = |out: &mut Output, kind: &'static str, column: &str| {
            out.quality(kind);
            issues.push(Value::Str(format!("{kind}:{column}")));
        };

        let mut fingerprint = std::collections::hash_map::DefaultHasher::new();
        values.hash(&mut fingerprint);
        let fingerprint = fingerprint.finish();
        if self.seen.contains(&fingerprint) {
            flag(out, "duplicate-row", "*");
        } else if self.seen.len() < MAX_FINGERPRINTS {
            self.seen.insert(fingerprint);
        }

        let mut start = None;
        let mut end = None;
        let mut pid = None;
        let mut parent = None;
        for (column, raw) in self.header.iter().zip(values) {
            let value = raw.trim();
            if value.starts_with(CORRUPT) {
                flag(out, "corrupt-value", column);
                continue;
            }
            if value.is_empty() {
                flag(out, "empty-field", column);
                continue;
            }
            let time = || timefmt::any(value, &ctx.options.zone);
            match column.as_str() {
                "process_id" => match uint(value) {
                    Some(n) => {
                        pid = Some(n);
                        e.set("process.pid", n as i64);
                    }
                    None => flag(out, "invalid-number", column),
                },
                "parent_id" => match uint(value) {
                    Some(n) => {
                        parent = Some(n);
                        e.set("process.parent.pid", n as i64);
                    }
                    None => flag(out, "invalid-number", column),
                },
                "start_time" | "timestamp" => match time() {
                    Some(t) => start = Some(t),
                    None => flag(out, "unreadable-time", column),
                },
                "end_time" => match time() {
                    Some(t) => {
                        end = Some(t);
                        e.set("process.end", t);
                    }
                    None => flag(out, "unreadable-time", column),
                },
                "executable_path" => {
                    e.set_str("process.executable", value);
                    e.set_str("process.name", basename(value));
                }
                "command_line" => e.set_str("process.command_line", value),
                "user" => e.set_str("user.name", value),
                "src_ip" | "dst_ip" => match ip_token(value) {
                    Some(ip) => e.set(
                        if column == "src_ip" {
                            "source.ip"
                        } else {
                            "destination.ip"
                        },
                        ip,
                    ),
                    None => flag(out, "invalid-address", column),
                },
                "src_port" | "dst_port" => match port(value) {
                    Some(p) => e.set(
                        if column == "src_port" {
                            "source.port"
                        } else {
                            "destination.port"
                        },
                        p,
                    ),
                    None => flag(out, "invalid-number", column),
                },
                "file_path" => {
                    e.set_str("file.path", value);
                    e.set_str("file.name", basename(value));
                }
                "operation" => e.set_str("event.action", value),
                "registry_key" => e.set_str("registry.key", value),
                "value_name" => e.set_str("registry.value", value),
                "value_data" => e.set_str("registry.data.strings", value),
                other => e.insert(other.to_owned(), value),
            }
        }
        if self.table == Table::Registry {
            if let Some(key) = e.get_str("registry.key").map(str::to_owned) {
                let path = match e.get_str("registry.value") {
                    Some(v) => format!("{key}\\{v}"),
                    None => key,
                };
                e.set("registry.path", path);
            }
        }
        if let (Some(s), Some(f)) = (start, end) {
            if f < s {
                flag(out, "end-before-start", "end_time");
            }
        }
        if let (Some(p), Some(pp)) = (pid, parent) {
            if p == pp {
                flag(out, "pid-equals-parent-pid", "parent_id");
            }
        }
        e.timestamp = start;
        let (category, action) = match self.table {
            Table::Process => ("process", Some("process-started")),
            Table::Network => ("network", Some("network-connection")),
            Table::File => ("file", None),
            Table::Registry => ("registry", None),
        };
        e.set_static("event.category", category);
        if let Some(a) = action {
            e.set_static("event.action", a);
        }
        if !issues.is_empty() {
            e.set("rampart.quality", issues);
        }
        out.event(dataset, e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defects_are_counted_not_passed_on() {
        let ctx = FileContext::new("file_events.csv", ParseOptions::default());
        let header = strings(&["process_id", "file_path", "operation", "timestamp", "user"]);
        let mut rows = EndpointRows::new(Table::of(&header).unwrap(), header);
        let mut out = Output::default();
        let row = strings(&[
            "7163",
            "###CORRUPT###C:/x.ini",
            "write",
            "2025-03-01 09:53:44",
            "",
        ]);
        rows.row(&ctx, 2, "raw", &row, &mut out);
        rows.row(&ctx, 3, "raw", &row, &mut out);
        let e = &out.events[0];
        assert!(e.get("file.path").is_none());
        assert!(e.get("user.name").is_none());
        assert_eq!(
            e.get("rampart.quality").unwrap().to_string(),
            "corrupt-value:file_path,empty-field:user"
        );
        assert_eq!(out.stats.quality["corrupt-value"], 2);
        assert_eq!(out.stats.quality["duplicate-row"], 1);
    }

    #[test]
    fn impossible_process_rows_are_flagged() {
        let ctx = FileContext::new("process_events.csv", ParseOptions::default());
        let header = strings(&[
            "process_id",
            "parent_id",
            "start_time",
            "end_time",
            "executable_path",
            "user",
            "command_line",
        ]);
        let mut rows = EndpointRows::new(Table::of(&header).unwrap(), header);
        let mut out = Output::default();
        let row = strings(&[
            "15164",
            "15164",
            "2025-03-01 10:00:00",
            "2025-03-01 09:00:00",
            "C:/x/a.exe",
            "admin",
            "a.exe",
        ]);
        rows.row(&ctx, 2, "raw", &row, &mut out);
        assert_eq!(out.stats.quality["end-before-start"], 1);
        assert_eq!(out.stats.quality["pid-equals-parent-pid"], 1);
        assert_eq!(out.events[0].get_str("process.name"), Some("a.exe"));
    }
}
