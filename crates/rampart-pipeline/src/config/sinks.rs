//! Reading a pipeline file's sinks: where each writes, what it takes,
//! how its records wait.

use rampart_detect::Level;

use super::{Framing, Listen, Reader, Secret, SinkKind, SinkSpec, Take, WebhookFormat};
use crate::delivery::Buffer;
use crate::yaml::Node;

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
                "stdout", "file", "store", "syslog", "hec", "webhook", "sql", "nats",
            ],
        )?;
        let e = self.map(
            node,
            &what,
            match kind {
                "stdout" => &["type", "take", "min_severity", "template"],
                "file" => &["type", "take", "min_severity", "template", "path", "format"],
                "store" => &[
                    "type",
                    "take",
                    "min_severity",
                    "template",
                    "path",
                    "commit_events",
                ],
                "hec" => &[
                    "type",
                    "take",
                    "min_severity",
                    "template",
                    "to",
                    "token_env",
                    "index",
                    "sourcetype",
                    "gzip",
                    "buffer",
                ],
                "nats" => &[
                    "type",
                    "take",
                    "min_severity",
                    "template",
                    "servers",
                    "stream",
                    "subject",
                    "buffer",
                ],
                "sql" => &[
                    "type",
                    "take",
                    "min_severity",
                    "template",
                    "database",
                    "password_env",
                    "table",
                    "events_table",
                    "buffer",
                ],
                "webhook" => &[
                    "type",
                    "take",
                    "min_severity",
                    "template",
                    "to",
                    "url_env",
                    "format",
                    "buffer",
                ],
                _ => &[
                    "type",
                    "take",
                    "min_severity",
                    "template",
                    "to",
                    "framing",
                    "buffer",
                    "ca",
                    "server_name",
                ],
            },
        );
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
                let buffer = match e.get("buffer") {
                    None => Buffer::default(),
                    Some(n) => self.buffer(n, &what)?,
                };
                SinkKind::Hec {
                    url,
                    token_env,
                    index,
                    sourcetype,
                    gzip,
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
                let buffer = match e.get("buffer") {
                    None => Buffer::default(),
                    Some(n) => self.buffer(n, &what)?,
                };
                SinkKind::Nats {
                    servers,
                    stream,
                    subject,
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
                let buffer = match e.get("buffer") {
                    None => Buffer::default(),
                    Some(n) => self.buffer(n, &what)?,
                };
                SinkKind::SqlTables {
                    url,
                    password_env,
                    table,
                    events_table,
                    buffer,
                }
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
                let buffer = match e.get("buffer") {
                    None => Buffer::default(),
                    Some(n) => self.buffer(n, &what)?,
                };
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
                let array = match e.get("format") {
                    None => false,
                    Some(n) => match self.text(n, "format")? {
                        "jsonl" => false,
                        "json" => true,
                        other => {
                            self.fail(
                                n.mark(),
                                format!("{what}: format `{other}`? (jsonl or json)"),
                            );
                            return None;
                        }
                    },
                };
                match e.get("path") {
                    Some(n) => SinkKind::File {
                        path: self.base.join(self.text(n, "path")?),
                        array,
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
                let buffer = match e.get("buffer") {
                    None => Buffer::default(),
                    Some(n) => self.buffer(n, &what)?,
                };
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
        let template = match node {
            Node::Map(entries, _) => match entries.iter().find(|(k, ..)| k == "template") {
                Some((_, _, t)) => Some(self.template(t, &what)?),
                None => None,
            },
            _ => None,
        };
        if template.is_some() && matches!(kind, SinkKind::Store { .. }) {
            self.fail(
                node.mark(),
                format!("{what}: the store keeps events whole (no `template`)"),
            );
            return None;
        }
        Some(SinkSpec {
            name: name.to_string(),
            take,
            min_severity,
            kind,
            template,
        })
    }
}
