//! Reading a pipeline file's sources: syslog listeners, Splunk HEC,
//! files, stdin.

use std::net::ToSocketAddrs;

use super::{Listen, Reader, SourceKind, DEFAULT_MAX_FRAME};
use crate::yaml::{Mark, Node};

impl Reader<'_> {
    /// Refuses a URL that holds a password (`scheme://user:password@`):
    /// it belongs in `password_env`, not in the file.
    fn no_password(&mut self, url: &str, at: Mark, what: &str) -> Option<()> {
        let user = url.split('@').next().unwrap_or("");
        if url.contains('@') && user.matches(':').count() > 1 {
            self.fail(
                at,
                format!("{what}: the password goes in `password_env`, not in the file"),
            );
            return None;
        }
        Some(())
    }

    pub(super) fn source(&mut self, name: &str, node: &Node) -> Option<SourceKind> {
        let what = format!("source `{name}`");
        match self.kind(
            node,
            &what,
            &["syslog", "stdin", "file", "hec", "sql", "nats", "kafka"],
        )? {
            "kafka" => {
                let e = self.map(
                    node,
                    &what,
                    &[
                        "type",
                        "brokers",
                        "topics",
                        "group",
                        "instance",
                        "max_frame",
                    ],
                );
                let brokers = match e.get("brokers") {
                    Some(n) => self.text(n, "brokers")?.to_string(),
                    None => "127.0.0.1:9092".to_string(),
                };
                let topics: Vec<String> = match e.get("topics") {
                    Some(Node::Seq(items, _)) => items
                        .iter()
                        .map(|i| self.text(i, "topics").map(str::to_string))
                        .collect::<Option<_>>()?,
                    Some(one) => vec![self.text(one, "topics")?.to_string()],
                    None => {
                        self.fail(node.mark(), format!("{what} has no `topics`"));
                        return None;
                    }
                };
                let group = match e.get("group") {
                    Some(n) => self.text(n, "group")?.to_string(),
                    None => "rampart".to_string(),
                };
                let max_frame = match e.get("max_frame") {
                    Some(n) => self.number(n, &format!("{what}: max_frame"))?,
                    None => DEFAULT_MAX_FRAME,
                };
                let instance = match e.get("instance") {
                    Some(n) => Some(self.text(n, "instance")?.to_string()),
                    None => None,
                };
                Some(SourceKind::Kafka(crate::kafka::Subscription {
                    brokers,
                    topics,
                    group,
                    instance,
                    max_frame,
                }))
            }
            "nats" => {
                let e = self.map(
                    node,
                    &what,
                    &[
                        "type",
                        "servers",
                        "stream",
                        "subject",
                        "consumer",
                        "max_frame",
                        "ack_wait_seconds",
                        "replicas",
                    ],
                );
                let text = |r: &mut Self, key: &str| -> Option<Option<String>> {
                    match e.get(key) {
                        Some(n) => Some(Some(r.text(n, key)?.to_string())),
                        None => Some(None),
                    }
                };
                let servers =
                    text(self, "servers")?.unwrap_or_else(|| "nats://127.0.0.1:4222".into());
                let Some(subject) = text(self, "subject")? else {
                    self.fail(node.mark(), format!("{what} has no `subject`"));
                    return None;
                };
                let stream =
                    text(self, "stream")?.unwrap_or_else(|| crate::nats::stream_for(&subject));
                let consumer = text(self, "consumer")?.unwrap_or_else(|| "rampart".into());
                let max_frame = match e.get("max_frame") {
                    Some(n) => self.number(n, &format!("{what}: max_frame"))?,
                    None => DEFAULT_MAX_FRAME,
                };
                let ack_wait = match e.get("ack_wait_seconds") {
                    Some(n) => self.number(n, &format!("{what}: ack_wait_seconds"))? as u64,
                    None => 30,
                };
                Some(SourceKind::Nats(crate::nats::Subscription {
                    servers,
                    stream,
                    subject,
                    consumer,
                    max_frame,
                    ack_wait: std::time::Duration::from_secs(ack_wait),
                    replicas: match e.get("replicas") {
                        Some(n) => self.number(n, &format!("{what}: replicas"))?,
                        None => 1,
                    },
                }))
            }
            "sql" => {
                let e = self.map(
                    node,
                    &what,
                    &[
                        "type",
                        "database",
                        "password_env",
                        "table",
                        "order_by",
                        "look_back",
                        "poll_seconds",
                        "follow",
                        "count_hits_of",
                        "hits_as",
                    ],
                );
                let need = |r: &mut Self, key: &str| -> Option<String> {
                    match e.get(key) {
                        Some(n) => Some(r.text(n, key)?.to_string()),
                        None => {
                            r.fail(node.mark(), format!("{what} has no `{key}`"));
                            None
                        }
                    }
                };
                let database = need(self, "database")?;
                let table = need(self, "table")?;
                let order_by = need(self, "order_by")?;
                let password_env = match e.get("password_env") {
                    Some(n) => Some(self.text(n, "password_env")?.to_string()),
                    None => None,
                };
                let at = e.get("database").map_or(node.mark(), Node::mark);
                let database = if let Some(path) = database.strip_prefix("sqlite:") {
                    crate::sql::Database::Sqlite(self.base.join(path))
                } else if database.starts_with("postgres://")
                    || database.starts_with("postgresql://")
                {
                    self.no_password(&database, at, &what)?;
                    crate::sql::Database::Postgres {
                        url: database,
                        password_env,
                    }
                } else if database.starts_with("mysql://") || database.starts_with("mariadb://") {
                    self.no_password(&database, at, &what)?;
                    crate::sql::Database::Mysql {
                        url: database.replacen("mariadb://", "mysql://", 1),
                        password_env,
                    }
                } else if database.starts_with("mssql://") || database.starts_with("sqlserver://") {
                    self.no_password(&database, at, &what)?;
                    crate::sql::Database::Mssql {
                        url: database,
                        password_env,
                    }
                } else {
                    self.fail(
                        at,
                        format!("{what}: database `{database}`? (sqlite:PATH, postgres://USER@HOST:PORT/DB, mysql://USER@HOST:PORT/DB or, experimental, mssql://USER@HOST:PORT/DB)"),
                    );
                    return None;
                };
                let look_back = match e.get("look_back") {
                    Some(n) => self.number(n, &format!("{what}: look_back"))?,
                    None => 10_000,
                };
                let every = match e.get("poll_seconds") {
                    Some(n) => self.number(n, &format!("{what}: poll_seconds"))? as u64,
                    None => 5,
                };
                let follow = match e.get("follow") {
                    None => true,
                    Some(n) => self.flag(n, &format!("{what}: follow"))?,
                };
                let hit_counts = match e.get("count_hits_of") {
                    None => None,
                    Some(n) => {
                        let column = self.text(n, "count_hits_of")?.to_string();
                        let name = match e.get("hits_as") {
                            Some(n) => self.text(n, "hits_as")?.to_string(),
                            None => "ip_hit_count".to_string(),
                        };
                        Some((column, name))
                    }
                };
                Some(SourceKind::Sql {
                    database,
                    table,
                    order_by,
                    look_back,
                    every: std::time::Duration::from_secs(every),
                    follow,
                    hit_counts,
                })
            }
            "hec" => {
                let e = self.map(node, &what, &["type", "listen", "token_env", "max_frame"]);
                let listen = match e.get("listen") {
                    Some(n) => {
                        let text = self.text(n, "listen")?;
                        match text.to_socket_addrs().ok().and_then(|mut a| a.next()) {
                            Some(a) => a,
                            None => {
                                self.fail(
                                    n.mark(),
                                    format!("{what}: listen `{text}` is not host:port"),
                                );
                                return None;
                            }
                        }
                    }
                    None => {
                        self.fail(node.mark(), format!("{what} has no `listen` address"));
                        return None;
                    }
                };
                let Some(token) = e.get("token_env") else {
                    self.fail(
                        node.mark(),
                        format!("{what} has no `token_env` (the variable holding the token senders give)"),
                    );
                    return None;
                };
                let token_env = self.text(token, "token_env")?.to_string();
                let max_frame = match e.get("max_frame") {
                    Some(n) => self.number(n, &format!("{what}: max_frame"))?,
                    None => DEFAULT_MAX_FRAME,
                };
                Some(SourceKind::Hec {
                    listen,
                    token_env,
                    max_frame,
                })
            }
            "file" => {
                let e = self.map(node, &what, &["type", "paths", "follow"]);
                let paths = self.paths(e.get("paths"), &format!("{what}: paths"));
                if paths.is_empty() {
                    self.fail(node.mark(), format!("{what} has no `paths`"));
                    return None;
                }
                let follow = match e.get("follow") {
                    None => true,
                    Some(n) => match self.text(n, "follow")? {
                        "true" | "yes" => true,
                        "false" | "no" => false,
                        other => {
                            self.fail(
                                n.mark(),
                                format!("{what}: follow `{other}`? (true or false)"),
                            );
                            return None;
                        }
                    },
                };
                Some(SourceKind::File { paths, follow })
            }
            "syslog" => {
                let e = self.map(node, &what, &["type", "listen", "max_frame", "cert", "key"]);
                let listen = match e.get("listen") {
                    Some(n) => self.address(n, &format!("{what}: listen"), false)?,
                    None => {
                        self.fail(node.mark(), format!("{what} has no `listen` address"));
                        return None;
                    }
                };
                let max_frame = match e.get("max_frame") {
                    Some(n) => self.number(n, &format!("{what}: max_frame"))?,
                    None => DEFAULT_MAX_FRAME,
                };
                let tls = match (&listen, e.get("cert"), e.get("key")) {
                    (Listen::Tls(_), Some(c), Some(k)) => Some((
                        self.base.join(self.text(c, "cert")?),
                        self.base.join(self.text(k, "key")?),
                    )),
                    (Listen::Tls(_), ..) => {
                        self.fail(
                            node.mark(),
                            format!("{what}: tls:// needs `cert` and `key` (PEM files)"),
                        );
                        return None;
                    }
                    (_, None, None) => None,
                    _ => {
                        self.fail(
                            node.mark(),
                            format!("{what}: `cert` and `key` are for tls://"),
                        );
                        return None;
                    }
                };
                Some(SourceKind::Syslog {
                    listen,
                    max_frame,
                    tls,
                })
            }
            _ => {
                let e = self.map(node, &what, &["type", "format"]);
                let format = match e.get("format") {
                    None => None,
                    Some(n) => {
                        let name = self.text(n, "format")?;
                        match rampart_parse::by_name(name) {
                            Some(f) => Some(f),
                            None => {
                                self.fail(n.mark(), format!("{what}: no format is named `{name}`"));
                                return None;
                            }
                        }
                    }
                };
                Some(SourceKind::Stdin { format })
            }
        }
    }
}
