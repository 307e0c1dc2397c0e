//! Reading a pipeline file's sinks: where each writes, what it takes,
//! how its records wait.

use std::time::Duration;

use rampart_detect::Level;

use super::{
    Entries, Framing, Listen, Reader, Secret, SinkKind, SinkSpec, Take, Updates, WebhookFormat,
};
use crate::delivery::Buffer;
use crate::file_sink::{Lines, Rotation, EVENT_CSV_COLUMNS};
use crate::shape::{Sample, Shape, Transform};
use crate::yaml::Node;

/// Keys every sink may have.
const COMMON: [&str; 9] = [
    "type",
    "take",
    "min_severity",
    "updates",
    "where",
    "sample",
    "sample_by",
    "transforms",
    "template",
];

impl Reader<'_> {
    /// `{name: field, ...}`: the record's names and the event's fields.
    fn template(&mut self, node: &Node, what: &str) -> Option<Vec<(String, String)>> {
        let Node::Map(entries, _) = node else {
            self.fail(
                node.mark(),
                format!("{what}: template must map each record name to an event field"),
            );
            return None;
        };
        let mut out = Vec::new();
        for (name, _, field) in entries {
            let field = self.text(field, "template")?;
            out.push((name.clone(), field.to_string()));
        }
        Some(out)
    }

    pub(super) fn sink(&mut self, name: &str, node: &Node) -> Option<SinkSpec> {
        let what = format!("sink `{name}`");
        let kind = self.kind(
            node,
            &what,
            &[
                "stdout",
                "file",
                "store",
                "syslog",
                "hec",
                "webhook",
                "sql",
                "clickhouse",
                "nats",
                "kafka",
            ],
        )?;
        let extra: &[&str] = match kind {
            "stdout" => &[],
            "file" => &["path", "format", "rotate_bytes", "rotate_seconds", "keep"],
            "store" => &["path", "commit_events"],
            "hec" => &[
                "to",
                "token_env",
                "index",
                "sourcetype",
                "gzip",
                "ack",
                "ack_timeout_seconds",
                "channel",
                "buffer",
            ],
            "nats" => &[
                "servers",
                "stream",
                "subject",
                "replicas",
                "records_per_message",
                "buffer",
            ],
            "kafka" => &["brokers", "topic", "buffer"],
            "sql" => &[
                "database",
                "password_env",
                "table",
                "events_table",
                "buffer",
            ],
            "clickhouse" => &["database", "buffer"],
            "webhook" => &["to", "url_env", "format", "buffer"],
            _ => &["to", "framing", "buffer", "ca", "server_name"],
        };
        let known: Vec<&str> = COMMON.iter().chain(extra).copied().collect();
        let e = self.map(node, &what, &known);
        let take = match e.get("take") {
            None if kind == "store" => Take::All,
            None => Take::Alerts,
            Some(n) => match self.text(n, "take")? {
                "alerts" => Take::Alerts,
                "events" => Take::Events,
                "all" => Take::All,
                other => {
                    self.fail(
                        n.mark(),
                        format!("{what}: take `{other}`? (alerts, events or all)"),
                    );
                    return None;
                }
            },
        };
        let min_severity = match e.get("min_severity") {
            None => Level::Informational,
            Some(n) => {
                let text = self.text(n, "min_severity")?;
                match Level::parse(text) {
                    Some(level) => level,
                    None => {
                        self.fail(n.mark(), format!("{what}: `{text}` is not a severity"));
                        return None;
                    }
                }
            }
        };
        let updates = match e.get("updates") {
            None => Updates::OpenAndFinal,
            Some(n) => match self.text(n, "updates")? {
                "open_and_final" => Updates::OpenAndFinal,
                "open" => Updates::Open,
                "final" => Updates::Final,
                "every" => Updates::Every,
                other => {
                    self.fail(
                        n.mark(),
                        format!(
                            "{what}: updates `{other}`? (open_and_final, open, final or every)"
                        ),
                    );
                    return None;
                }
            },
        };
        let kind = match kind {
            "stdout" => SinkKind::Stdout,
            "hec" => {
                let url = match e.get("to") {
                    Some(n) => self.url(n, &what)?,
                    None => {
                        self.fail(
                            node.mark(),
                            format!("{what} has no `to` (the collector's URL)"),
                        );
                        return None;
                    }
                };
                let Some(token) = e.get("token_env") else {
                    self.fail(
                        node.mark(),
                        format!("{what} has no `token_env` (the variable holding the HEC token)"),
                    );
                    return None;
                };
                let token_env = self.text(token, "token_env")?.to_string();
                let optional = |r: &mut Self, key: &str| -> Option<Option<String>> {
                    match e.get(key) {
                        Some(n) => Some(Some(r.text(n, key)?.to_string())),
                        None => Some(None),
                    }
                };
                let index = optional(self, "index")?;
                let sourcetype = optional(self, "sourcetype")?;
                let gzip = match e.get("gzip") {
                    None => true,
                    Some(n) => self.flag(n, &format!("{what}: gzip"))?,
                };
                let acks = match e.get("ack") {
                    Some(n) if self.flag(n, &format!("{what}: ack"))? => {
                        let timeout = match e.get("ack_timeout_seconds") {
                            Some(n) => self.number(n, &format!("{what}: ack_timeout_seconds"))?,
                            None => 60,
                        };
                        let channel = optional(self, "channel")?;
                        Some((Duration::from_secs(timeout as u64), channel))
                    }
                    _ => None,
                };
                let buffer = self.buffer_of(&e, &what)?;
                SinkKind::Hec {
                    url,
                    token_env,
                    index,
                    sourcetype,
                    gzip,
                    acks,
                    buffer,
                }
            }
            "kafka" => {
                let brokers = match e.get("brokers") {
                    Some(n) => self.text(n, "brokers")?.to_string(),
                    None => "127.0.0.1:9092".to_string(),
                };
                let Some(n) = e.get("topic") else {
                    self.fail(node.mark(), format!("{what} has no `topic`"));
                    return None;
                };
                let topic = self.text(n, "topic")?.to_string();
                let buffer = self.buffer_of(&e, &what)?;
                SinkKind::Kafka {
                    brokers,
                    topic,
                    buffer,
                }
            }
            "nats" => {
                let servers = match e.get("servers") {
                    Some(n) => self.text(n, "servers")?.to_string(),
                    None => "nats://127.0.0.1:4222".to_string(),
                };
                let Some(n) = e.get("subject") else {
                    self.fail(node.mark(), format!("{what} has no `subject`"));
                    return None;
                };
                let subject = self.text(n, "subject")?.to_string();
                let stream = match e.get("stream") {
                    Some(n) => self.text(n, "stream")?.to_string(),
                    None => crate::nats::stream_for(&subject),
                };
                let buffer = self.buffer_of(&e, &what)?;
                let replicas = match e.get("replicas") {
                    Some(n) => self.number(n, &format!("{what}: replicas"))?,
                    None => 1,
                };
                let per_message = match e.get("records_per_message") {
                    Some(n) => self.number(n, &format!("{what}: records_per_message"))?,
                    None => 1,
                };
                if per_message > crate::nats::MAX_PER_MESSAGE {
                    self.fail(
                        node.mark(),
                        format!(
                            "{what}: records_per_message is at most {}",
                            crate::nats::MAX_PER_MESSAGE
                        ),
                    );
                    return None;
                }
                SinkKind::Nats {
                    servers,
                    stream,
                    subject,
                    replicas,
                    per_message,
                    buffer,
                }
            }
            "sql" => {
                let Some(n) = e.get("database") else {
                    self.fail(node.mark(), format!("{what} has no `database`"));
                    return None;
                };
                let url = self
                    .text(n, "database")?
                    .replacen("mariadb://", "mysql://", 1);
                if !(url.starts_with("postgres://")
                    || url.starts_with("postgresql://")
                    || url.starts_with("mysql://"))
                {
                    self.fail(
                        n.mark(),
                        format!("{what}: database `{url}`? (postgres://USER@HOST:PORT/DB or mysql://USER@HOST:PORT/DB)"),
                    );
                    return None;
                }
                let password_env = match e.get("password_env") {
                    Some(n) => Some(self.text(n, "password_env")?.to_string()),
                    None => None,
                };
                let table = match e.get("table") {
                    Some(n) => self.text(n, "table")?.to_string(),
                    None => "rampart_alerts".to_string(),
                };
                let events_table = match e.get("events_table") {
                    Some(n) => self.text(n, "events_table")?.to_string(),
                    None => "rampart_events".to_string(),
                };
                let buffer = self.buffer_of(&e, &what)?;
                SinkKind::SqlTables {
                    url,
                    password_env,
                    table,
                    events_table,
                    buffer,
                }
            }
            "clickhouse" => {
                let Some(n) = e.get("database") else {
                    self.fail(node.mark(), format!("{what} has no `database`"));
                    return None;
                };
                let url = self.text(n, "database")?.to_string();
                if !rampart_clickhouse::is_address(&url) {
                    self.fail(
                        n.mark(),
                        format!("{what}: database `{url}`? (clickhouse://HOST:PORT/DATABASE)"),
                    );
                    return None;
                }
                let buffer = self.buffer_of(&e, &what)?;
                SinkKind::ClickHouse { url, buffer }
            }
            "webhook" => {
                if take != Take::Alerts {
                    self.fail(node.mark(), format!("{what}: a webhook takes alerts only"));
                    return None;
                }
                let url = match (e.get("to"), e.get("url_env")) {
                    (Some(n), None) => Secret::Plain(self.url(n, &what)?),
                    (None, Some(n)) => Secret::Env(self.text(n, "url_env")?.to_string()),
                    _ => {
                        self.fail(
                            node.mark(),
                            format!("{what} needs `to` (its URL) or `url_env` (the variable holding it), one of them"),
                        );
                        return None;
                    }
                };
                let format = match e.get("format") {
                    None => WebhookFormat::Slack,
                    Some(n) => match self.text(n, "format")? {
                        "slack" => WebhookFormat::Slack,
                        "json" => WebhookFormat::Json,
                        other => {
                            self.fail(
                                n.mark(),
                                format!("{what}: format `{other}`? (slack or json)"),
                            );
                            return None;
                        }
                    },
                };
                let buffer = self.buffer_of(&e, &what)?;
                SinkKind::Webhook {
                    url,
                    format,
                    buffer,
                }
            }
            "store" => {
                if take != Take::All || e.get("min_severity").is_some() {
                    self.fail(
                        node.mark(),
                        format!("{what}: the store keeps everything (no `take` but all, no `min_severity`)"),
                    );
                    return None;
                }
                let path = match e.get("path") {
                    Some(n) => Some(self.base.join(self.text(n, "path")?)),
                    None => None,
                };
                let commit_events = match e.get("commit_events") {
                    Some(n) => Some(self.number(n, &format!("{what}: commit_events"))?),
                    None => None,
                };
                SinkKind::Store {
                    path,
                    commit_events,
                }
            }
            "file" => {
                let format = match e.get("format") {
                    None => "jsonl",
                    Some(n) => match self.text(n, "format")? {
                        f @ ("jsonl" | "json" | "csv") => f,
                        other => {
                            self.fail(
                                n.mark(),
                                format!("{what}: format `{other}`? (jsonl, json or csv)"),
                            );
                            return None;
                        }
                    },
                };
                let lines = match (format, take) {
                    ("csv", Take::Alerts) => Lines::AlertCsv,
                    ("csv", Take::Events) => Lines::EventCsv(
                        EVENT_CSV_COLUMNS
                            .iter()
                            .map(|c| (c.to_string(), c.to_string()))
                            .collect(),
                    ),
                    ("csv", Take::All) => {
                        self.fail(
                            node.mark(),
                            format!("{what}: a CSV file takes alerts or events, not both (their columns differ)"),
                        );
                        return None;
                    }
                    _ => Lines::Json,
                };
                let rotation = self.rotation(&e, &what)?;
                if format == "json" && rotation != Rotation::default() {
                    self.fail(
                        node.mark(),
                        format!(
                            "{what}: one JSON array is written whole; rotation needs jsonl or csv"
                        ),
                    );
                    return None;
                }
                match e.get("path") {
                    Some(n) => SinkKind::File {
                        path: self.base.join(self.text(n, "path")?),
                        array: format == "json",
                        lines,
                        rotation,
                        templated: false,
                    },
                    None => {
                        self.fail(node.mark(), format!("{what} has no `path`"));
                        return None;
                    }
                }
            }
            _ => {
                let to = match e.get("to") {
                    Some(n) => self.address(n, &format!("{what}: to"), true)?,
                    None => {
                        self.fail(node.mark(), format!("{what} has no `to` address"));
                        return None;
                    }
                };
                let framing = match e.get("framing") {
                    None => Framing::Rfc5424,
                    Some(n) => match self.text(n, "framing")? {
                        "rfc5424" => Framing::Rfc5424,
                        "json" => Framing::Json,
                        other => {
                            self.fail(
                                n.mark(),
                                format!("{what}: framing `{other}`? (rfc5424 or json)"),
                            );
                            return None;
                        }
                    },
                };
                let buffer = self.buffer_of(&e, &what)?;
                let tls = match (&to, e.get("ca")) {
                    (Listen::Tls(addr), Some(ca)) => {
                        let name = match e.get("server_name") {
                            Some(n) => self.text(n, "server_name")?.to_string(),
                            None => addr.ip().to_string(),
                        };
                        Some((self.base.join(self.text(ca, "ca")?), name))
                    }
                    (Listen::Tls(_), None) => {
                        self.fail(node.mark(), format!("{what}: tls:// needs `ca` (the PEM file the receiver is trusted by)"));
                        return None;
                    }
                    _ => None,
                };
                SinkKind::Syslog {
                    to,
                    framing,
                    buffer,
                    tls,
                }
            }
        };
        let shape = self.shape(&e, &what)?;
        let mut kind = kind;
        if let (
            SinkKind::File {
                lines, templated, ..
            },
            Some(template),
        ) = (&mut kind, &shape.template)
        {
            *templated = true;
            // A CSV of events has the template's columns.
            if let Lines::EventCsv(columns) = lines {
                columns.clone_from(template);
            }
        }
        let reshaped = shape.filter.is_some()
            || shape.sample.is_some()
            || !shape.transforms.is_empty()
            || shape.template.is_some();
        if reshaped && matches!(kind, SinkKind::Store { .. }) {
            self.fail(
                node.mark(),
                format!("{what}: the store keeps every event whole (no `where`, `sample`, `transforms` or `template`)"),
            );
            return None;
        }
        Some(SinkSpec {
            name: name.to_string(),
            take,
            min_severity,
            updates,
            kind,
            shape,
        })
    }

    /// A sink's `where`, `sample`, `sample_by`, `transforms` and `template`.
    fn shape(&mut self, e: &Entries<'_>, what: &str) -> Option<Shape> {
        let mut shape = Shape::default();
        if let Some(n) = e.get("where") {
            let text = self.text(n, "where")?;
            match rampart_store::Filter::new(text) {
                Ok(f) => shape.filter = Some(f),
                Err(err) => self.fail(n.mark(), format!("{what}: where: {err}")),
            }
        }
        if let Some(n) = e.get("sample") {
            let one_in = self.number(n, &format!("{what}: sample (one event in N)"))? as u64;
            let by = match e.get("sample_by") {
                Some(b) => Some(self.text(b, "sample_by")?.to_string()),
                None => None,
            };
            shape.sample = Some(Sample { one_in, by });
        }
        if let (Some(n), None) = (e.get("sample_by"), e.get("sample")) {
            self.fail(
                n.mark(),
                format!("{what}: sample_by needs `sample` (one event in N)"),
            );
            return None;
        }
        if let Some(n) = e.get("transforms") {
            let Node::Seq(items, _) = n else {
                self.fail(
                    n.mark(),
                    format!(
                        "{what}: transforms is a list (- drop: ..., - rename: ..., - add: ...)"
                    ),
                );
                return None;
            };
            // Every transform read, so that every mistake is said.
            let read: Vec<Option<Transform>> = items
                .iter()
                .map(|item| self.transform(item, what))
                .collect();
            shape.transforms = read.into_iter().collect::<Option<_>>()?;
        }
        if let Some(t) = e.get("template") {
            shape.template = Some(self.template(t, what)?);
        }
        Some(shape)
    }

    /// One transform: `drop: [fields]`, `rename: {from: to}` or `add:
    /// {field: text}`.
    fn transform(&mut self, node: &Node, what: &str) -> Option<Transform> {
        let Node::Map(entries, at) = node else {
            self.fail(
                node.mark(),
                format!("{what}: a transform is `drop:`, `rename:` or `add:`"),
            );
            return None;
        };
        let [(key, key_at, value)] = entries.as_slice() else {
            self.fail(
                *at,
                format!("{what}: one of `drop:`, `rename:` or `add:` per transform"),
            );
            return None;
        };
        let pairs = |r: &mut Self, what: &str| -> Option<Vec<(String, String)>> {
            let Node::Map(entries, _) = value else {
                r.fail(
                    value.mark(),
                    format!("{what} maps each field to a name or a text"),
                );
                return None;
            };
            entries
                .iter()
                .map(|(k, _, v)| Some((k.clone(), r.text(v, what)?.to_string())))
                .collect()
        };
        match key.as_str() {
            "drop" => {
                let fields = match value {
                    Node::Seq(items, _) => items
                        .iter()
                        .map(|i| self.text(i, "drop").map(str::to_string))
                        .collect::<Option<Vec<_>>>()?,
                    one => vec![self.text(one, "drop")?.to_string()],
                };
                Some(Transform::Drop(fields))
            }
            "rename" => pairs(self, "rename").map(Transform::Rename),
            "add" => pairs(self, "add").map(Transform::Add),
            other => {
                self.fail(
                    *key_at,
                    format!("{what}: `{other}`? (a transform is drop, rename or add)"),
                );
                None
            }
        }
    }

    /// A file sink's `rotate_bytes`, `rotate_seconds` and `keep`.
    fn rotation(&mut self, e: &Entries<'_>, what: &str) -> Option<Rotation> {
        let mut rotation = Rotation::default();
        if let Some(n) = e.get("rotate_bytes") {
            rotation.bytes = Some(self.number(n, &format!("{what}: rotate_bytes"))? as u64);
        }
        if let Some(n) = e.get("rotate_seconds") {
            let secs = self.number(n, &format!("{what}: rotate_seconds"))? as u64;
            rotation.every = Some(std::time::Duration::from_secs(secs));
        }
        if let Some(n) = e.get("keep") {
            rotation.keep = Some(self.number(n, &format!("{what}: keep"))?);
        }
        Some(rotation)
    }

    /// A sink's `buffer`, or the default (in memory) when it has none.
    fn buffer_of(&mut self, e: &Entries<'_>, what: &str) -> Option<Buffer> {
        match e.get("buffer") {
            None => Some(Buffer::default()),
            Some(n) => self.buffer(n, what),
        }
    }
}
