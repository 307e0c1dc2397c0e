//! Where a pipeline's sinks write: JSON lines to standard output or a
//! file here, and forwarding sinks (syslog, Splunk HEC, webhooks; see
//! `forward`).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::sync::Arc;

use rampart_detect::Alert;
use rampart_event::Event;

use crate::config::{Secret, SinkKind};
use crate::file_sink::FileSink;
use crate::forward::{host_name, syslog_transport, Encoding, Forward};
use crate::metrics::SinkCounts;
use crate::output::Output;
use crate::transport;

/// Opens the writer of a sink; none for the store, which is the engine's
/// own sink (see `Router::with_store`).
pub fn open(
    name: &str,
    kind: &SinkKind,
    counts: Arc<SinkCounts>,
) -> io::Result<Option<Box<dyn Output>>> {
    Ok(Some(match kind {
        SinkKind::Store { .. } => return Ok(None),
        SinkKind::Stdout => Box::new(JsonLines(BufWriter::new(io::stdout()))),
        SinkKind::File {
            path, array: true, ..
        } => {
            if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(folder)?;
            }
            Box::new(JsonArray {
                out: BufWriter::new(File::create(path)?),
                written: 0,
            })
        }
        SinkKind::File {
            path,
            lines,
            rotation,
            templated,
            ..
        } => Box::new(FileSink::open(path, lines.clone(), *rotation, *templated)?),
        SinkKind::Syslog {
            to,
            framing,
            buffer,
            tls,
        } => {
            let encoding = Encoding::Syslog {
                framing: *framing,
                host: host_name(),
            };
            let transport = syslog_transport(*to, tls.as_ref())?;
            Box::new(Forward::start(name, (encoding, transport), buffer, counts)?)
        }
        SinkKind::Hec {
            url,
            token_env,
            index,
            sourcetype,
            gzip,
            acks,
            buffer,
        } => {
            let token = std::env::var(token_env).map_err(|_| {
                io::Error::other(format!(
                    "{token_env} is not set (the HEC token comes from the environment or a .env file)"
                ))
            })?;
            let encoding = Encoding::Hec {
                host: host_name(),
                index: index.clone(),
                sourcetype: sourcetype.clone(),
            };
            let auth = vec![("Authorization".to_string(), format!("Splunk {token}"))];
            let endpoint = format!("{url}/services/collector/event");
            let mut http = transport::Http::batches(endpoint, auth, *gzip);
            if let Some((timeout, channel)) = acks {
                http = http.with_acks(transport::HecAcks {
                    url: format!("{url}/services/collector/ack"),
                    channel: channel.clone().unwrap_or_else(|| channel_for(name)),
                    timeout: *timeout,
                });
            }
            let transport = Box::new(http);
            Box::new(Forward::start(name, (encoding, transport), buffer, counts)?)
        }
        SinkKind::Kafka {
            brokers,
            topic,
            buffer,
        } => {
            let transport = Box::new(crate::kafka::Producer::new(brokers, topic)?);
            Box::new(Forward::start(
                name,
                (Encoding::Message, transport),
                buffer,
                counts,
            )?)
        }
        SinkKind::Nats {
            servers,
            stream,
            subject,
            replicas,
            per_message,
            buffer,
        } => {
            let transport = Box::new(
                crate::nats::Publisher::new(servers, (stream, subject), *replicas)?
                    .per_message(*per_message),
            );
            Box::new(Forward::start(
                name,
                (Encoding::Message, transport),
                buffer,
                counts,
            )?)
        }
        SinkKind::SqlTables {
            url,
            password_env,
            table,
            events_table,
            buffer,
        } => {
            let password =
                crate::sql::password(password_env.as_deref()).map_err(io::Error::other)?;
            let transport: Box<dyn crate::delivery::Transport> = if url.starts_with("mysql://") {
                Box::new(
                    crate::sql_sink::MysqlTables::new(url, password, (table, events_table))
                        .map_err(io::Error::other)?,
                )
            } else {
                Box::new(
                    crate::sql_sink::PostgresTables::new(url, password, (table, events_table))
                        .map_err(io::Error::other)?,
                )
            };
            Box::new(Forward::start(
                name,
                (Encoding::Row, transport),
                buffer,
                counts,
            )?)
        }
        SinkKind::ClickHouse { url, buffer } => Box::new(Forward::start(
            name,
            (
                Encoding::ClickHouse,
                Box::new(crate::clickhouse_sink::ClickHouseTables::new(url)),
            ),
            buffer,
            counts,
        )?),
        SinkKind::Webhook {
            url,
            format,
            buffer,
        } => {
            let url = match url {
                Secret::Plain(u) => u.clone(),
                Secret::Env(var) => std::env::var(var).map_err(|_| {
                    io::Error::other(format!(
                        "{var} is not set (the webhook's URL comes from the environment or a .env file)"
                    ))
                })?,
            };
            let transport = Box::new(transport::Http::each(url, Vec::new()));
            let encoding = Encoding::Webhook(*format);
            Box::new(Forward::start(name, (encoding, transport), buffer, counts)?)
        }
    }))
}

/// One JSON object per line.
struct JsonLines<W: Write>(W);

impl<W: Write + Send> Output for JsonLines<W> {
    fn alert(&mut self, alert: &Alert) -> io::Result<()> {
        alert.write_json(&mut self.0)?;
        self.0.write_all(b"\n")
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        let mut json = Vec::with_capacity(512);
        event.write_json(&mut json);
        json.push(b'\n');
        self.0.write_all(&json)
    }

    fn record(&mut self, json: &[u8]) -> io::Result<()> {
        self.0.write_all(json)?;
        self.0.write_all(b"\n")
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// One JSON array, its `]` written when the run ends.
struct JsonArray<W: Write> {
    out: W,
    written: u64,
}

impl<W: Write> JsonArray<W> {
    fn next(&mut self) -> io::Result<()> {
        self.out
            .write_all(if self.written == 0 { b"[\n" } else { b",\n" })?;
        self.written += 1;
        Ok(())
    }
}

impl<W: Write + Send> Output for JsonArray<W> {
    fn alert(&mut self, alert: &Alert) -> io::Result<()> {
        self.next()?;
        alert.write_json(&mut self.out)
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        let mut json = Vec::with_capacity(512);
        event.write_json(&mut json);
        self.record(&json)
    }

    fn record(&mut self, json: &[u8]) -> io::Result<()> {
        self.next()?;
        self.out.write_all(json)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn close(&mut self) -> Option<crate::delivery::Delivered> {
        let end: &[u8] = if self.written == 0 { b"[]\n" } else { b"\n]\n" };
        let _ = self.out.write_all(end).and_then(|()| self.out.flush());
        None
    }
}

/// A channel for the sink `name` of this run, as Splunk wants one (a GUID
/// in form): made of the host, the sink, the process and the time.
fn channel_for(name: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let seed = format!("{}/{name}/{}/{now}", host_name(), std::process::id());
    let h = xxhash_rust::xxh3::xxh3_128(seed.as_bytes());
    let hex = format!("{h:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
