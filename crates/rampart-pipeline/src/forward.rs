//! Sinks that forward to another system over the network: each alert or
//! event is made into the record the receiver expects (a syslog message,
//! a Splunk HTTP Event Collector event, a webhook's JSON), and delivered
//! by a thread of its own through the sink's buffer (see `delivery`).

use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use rampart_detect::{Alert, Level};
use rampart_event::Event;

use crate::config::{Framing, Listen, WebhookFormat};
use crate::delivery::{Buffer, Delivered, Delivery, Transport};
use crate::metrics::SinkCounts;
use crate::output::Output;
use crate::transport;

/// How long the end of a run waits for a destination that is down, with
/// records in memory (lost after) or on disk (kept for the next run).
const DRAIN_MEMORY: Duration = Duration::from_secs(5);
const DRAIN_DISK: Duration = Duration::from_secs(1);

/// What records are made of alerts and events.
pub enum Encoding {
    /// A syslog message (RFC 5424, or seed 000's `<PRI>{json}`).
    Syslog {
        /// Which of the two.
        framing: Framing,
        /// This machine's name.
        host: String,
    },
    /// A Splunk HTTP Event Collector event.
    Hec {
        /// This machine's name.
        host: String,
        /// The index, when not the token's default.
        index: Option<String>,
        /// The sourcetype, when not `rampart:alert` or `rampart:event`.
        sourcetype: Option<String>,
    },
    /// A webhook's body: a chat message, or the alert's JSON.
    Webhook(WebhookFormat),
    /// A row of a SQL table: `A` and the alert's JSON, or `E`, the
    /// event's id (from where it came from) and its JSON; the transport
    /// writes the row.
    Row,
    /// A row of rampart's ClickHouse tables: `A` and the alert's row, or
    /// `E` and the event's (its id from where it came from), made here so
    /// that the transport only joins them into inserts.
    ClickHouse,
    /// A message of a stream: the alert's or the event's JSON.
    Message,
}

/// A forwarding sink.
pub struct Forward {
    encoding: Encoding,
    delivery: Option<Delivery>,
}

/// This machine's name, as syslog and Splunk want it.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty() && h.is_ascii() && !h.contains(' '))
        .unwrap_or_else(|| "-".into())
}

/// The transport of a syslog receiver.
pub fn syslog_transport(
    to: Listen,
    tls: Option<&(std::path::PathBuf, String)>,
) -> io::Result<Box<dyn Transport>> {
    Ok(match to {
        Listen::Udp(addr) => Box::new(transport::Udp::new(addr)?),
        Listen::Tcp(addr) => Box::new(transport::Tcp::new(addr)),
        Listen::Relp(addr) => Box::new(transport::Relp::new(addr)),
        Listen::Tls(addr) => {
            let Some((ca, name)) = tls else {
                return Err(io::Error::other(format!(
                    "tls://{addr}: no `ca` to trust it by"
                )));
            };
            let config = crate::tls::client(ca).map_err(io::Error::other)?;
            let name = crate::tls::name(name).map_err(io::Error::other)?;
            Box::new(transport::Tcp::tls(addr, config, name))
        }
    })
}

impl Forward {
    /// Delivers `encoding`'s records through `transport` and `buffer`.
    pub fn start(
        name: &str,
        (encoding, transport): (Encoding, Box<dyn Transport>),
        buffer: &Buffer,
        counts: Arc<SinkCounts>,
    ) -> io::Result<Forward> {
        let drain = match buffer {
            Buffer::Memory { .. } => DRAIN_MEMORY,
            Buffer::Disk { .. } | Buffer::Spill { .. } => DRAIN_DISK,
        };
        Ok(Forward {
            encoding,
            delivery: Some(Delivery::start(name, transport, buffer, (drain, counts))?),
        })
    }

    /// The record of `json` (an alert's at `level`, or an event's).
    fn make_record(&self, json: &[u8], alert: Option<&Alert>) -> io::Result<Vec<u8>> {
        let kind = if alert.is_some() { "alert" } else { "event" };
        let mut record = Vec::with_capacity(json.len() + 128);
        match &self.encoding {
            Encoding::Syslog { framing, host } => {
                let pri = FACILITY * 8 + alert.map_or(6, |a| severity(a.severity));
                match framing {
                    Framing::Json => write!(record, "<{pri}>")?,
                    Framing::Rfc5424 => write!(
                        record,
                        "<{pri}>1 {} {host} rampart {} {kind} - ",
                        jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.6fZ"),
                        std::process::id()
                    )?,
                }
                record.extend_from_slice(json);
            }
            Encoding::Hec {
                host,
                index,
                sourcetype,
            } => {
                let time = jiff::Timestamp::now().as_microsecond() as f64 / 1e6;
                let sourcetype = sourcetype
                    .clone()
                    .unwrap_or_else(|| format!("rampart:{kind}"));
                let mut head = serde_json::json!({
                    "time": time,
                    "host": host,
                    "source": "rampart",
                    "sourcetype": sourcetype,
                });
                if let Some(index) = index {
                    head["index"] = index.as_str().into();
                }
                // The event's JSON goes in as it is, not parsed again.
                let head = head.to_string();
                record.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
                record.extend_from_slice(b",\"event\":");
                record.extend_from_slice(json);
                record.push(b'}');
            }
            Encoding::Row => {
                record.push(b'A');
                record.extend_from_slice(json);
            }
            Encoding::ClickHouse => {
                let Some(alert) = alert else {
                    return Err(io::Error::other(
                        "a ClickHouse sink takes alerts and events",
                    ));
                };
                record.push(b'A');
                let now = jiff::Timestamp::now();
                rampart_clickhouse::alert_row(alert, (&[], None), now, &mut record);
            }
            Encoding::Webhook(WebhookFormat::Json) | Encoding::Message => {
                record.extend_from_slice(json)
            }
            Encoding::Webhook(WebhookFormat::Slack) => {
                let text = alert.map_or_else(String::new, chat_line);
                serde_json::to_writer(&mut record, &serde_json::json!({ "text": text }))?;
            }
        }
        Ok(record)
    }

    fn hand(&mut self, record: Vec<u8>) {
        if let Some(d) = &mut self.delivery {
            d.push(record);
        }
    }
}

/// An alert as one line of chat.
fn chat_line(a: &Alert) -> String {
    let group: Vec<String> = a.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let group = group.join(", ");
    let span = match (a.first_seen, a.last_seen) {
        (Some(first), Some(last)) if first != last => format!(", {first} to {last}"),
        (Some(t), _) | (_, Some(t)) => format!(", {t}"),
        _ => String::new(),
    };
    format!(
        "rampart: [{}] {} ({}): {group}, {} event(s){span}",
        a.severity, a.title, a.rule_id, a.count
    )
}

/// Syslog severity (RFC 5424) of an alert's level.
fn severity(level: Level) -> u8 {
    match level {
        Level::Critical => 2,
        Level::High => 3,
        Level::Medium => 4,
        Level::Low => 5,
        Level::Informational => 6,
    }
}

/// Facility `user` (1), as seed 000's `<14>` is.
const FACILITY: u8 = 1;

/// An event's id from where it came from (its file, line and text): read
/// or sent again, the same.
fn place_id(event: &Event) -> u64 {
    let mut place = Vec::with_capacity(256);
    place.extend_from_slice(event.origin.path.as_bytes());
    place.push(0);
    place.extend_from_slice(event.origin.line.to_string().as_bytes());
    place.push(0);
    place.extend_from_slice(event.original().as_bytes());
    xxhash_rust::xxh3::xxh3_64(&place)
}

impl Output for Forward {
    fn alert(&mut self, alert: &Alert) -> io::Result<()> {
        let mut json = Vec::with_capacity(1024);
        alert.write_json(&mut json)?;
        let record = self.make_record(&json, Some(alert))?;
        self.hand(record);
        Ok(())
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        if matches!(self.encoding, Encoding::ClickHouse) {
            let mut record = Vec::with_capacity(2048);
            record.push(b'E');
            // The id's bits as ClickHouse's Int64.
            let id = place_id(event) as i64;
            rampart_clickhouse::event_row(id, event, jiff::Timestamp::now(), &mut record);
            self.hand(record);
            return Ok(());
        }
        let mut json = Vec::with_capacity(512);
        event.write_json(&mut json);
        if matches!(self.encoding, Encoding::Row) {
            let mut record = format!("E{:016x}", place_id(event)).into_bytes();
            record.extend_from_slice(&json);
            self.hand(record);
            return Ok(());
        }
        self.record(&json)
    }

    fn record(&mut self, json: &[u8]) -> io::Result<()> {
        match self.encoding {
            Encoding::Webhook(_) => return Err(io::Error::other("a webhook takes alerts only")),
            Encoding::Row | Encoding::ClickHouse => {
                return Err(io::Error::other(
                    "a SQL or ClickHouse sink writes events whole (no template)",
                ))
            }
            _ => {}
        }
        let record = self.make_record(json, None)?;
        self.hand(record);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(d) = &mut self.delivery {
            d.flush();
        }
        Ok(())
    }

    fn sync(&mut self) {
        if let Some(d) = &mut self.delivery {
            d.sync();
        }
    }

    fn settle(&mut self) {
        if let Some(d) = &mut self.delivery {
            d.settle();
        }
    }

    fn close(&mut self) -> Option<Delivered> {
        self.delivery.take().map(Delivery::finish)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::{TcpListener, UdpSocket};

    fn syslog(to: Listen, framing: Framing) -> Forward {
        let encoding = Encoding::Syslog {
            framing,
            host: host_name(),
        };
        let transport = syslog_transport(to, None).unwrap();
        Forward::start(
            "t",
            (encoding, transport),
            &Buffer::default(),
            Arc::default(),
        )
        .unwrap()
    }

    fn alert() -> Alert {
        let mut rule = rampart_intel::ioc_rule();
        rule.level = Level::High;
        let event = Event::new(rampart_event::Origin::new("t.log", 3), "x");
        Alert::single(&rule, Vec::new(), Vec::new(), &event)
    }

    #[test]
    fn seed_zero_framing_is_the_priority_then_the_json() {
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        receiver
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let to = Listen::Udp(receiver.local_addr().unwrap());
        let mut out = syslog(to, Framing::Json);
        let event = Event::new(rampart_event::Origin::new("t.log", 1), "a line");
        out.event(&event).unwrap();
        let done = out.close().unwrap();
        assert_eq!(done.sent, 1);
        let mut buf = [0u8; 4096];
        let n = receiver.recv(&mut buf).unwrap();
        let text = std::str::from_utf8(&buf[..n]).unwrap();
        assert!(text.starts_with("<14>{"), "{text}");
        let json: serde_json::Value = serde_json::from_str(&text[4..]).unwrap();
        assert_eq!(json["event"]["original"], "a line");
    }

    #[test]
    fn rfc5424_over_tcp_carries_the_alerts_severity_and_comes_back_after_an_outage() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut out = syslog(Listen::Tcp(addr), Framing::Rfc5424);
        out.alert(&alert()).unwrap();
        out.flush().unwrap();
        let (first, _) = listener.accept().unwrap();
        let mut line = String::new();
        BufReader::new(&first).read_line(&mut line).unwrap();
        // user.err: 8 + 3.
        assert!(line.starts_with("<11>1 "), "{line}");
        let json = &line[line.find('{').unwrap()..];
        let parsed: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
        assert_eq!(parsed["severity"], "high");
        // The receiver goes away; records wait and are retried until it
        // listens again.
        drop(first);
        drop(listener);
        for _ in 0..3 {
            out.alert(&alert()).unwrap();
            out.flush().unwrap();
            std::thread::sleep(Duration::from_millis(100));
        }
        let listener = TcpListener::bind(addr).unwrap();
        let reader = std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            let mut lines = Vec::new();
            for line in BufReader::new(s).lines() {
                lines.push(line.unwrap());
            }
            lines
        });
        let done = out.close().unwrap();
        assert!(done.failures >= 1, "{done:?}");
        assert_eq!(done.left, 0, "{done:?}");
        let lines = reader.join().unwrap();
        // A record written into the connection the receiver dropped may be
        // lost (plain TCP); every later one arrives.
        assert!(lines.len() >= 2, "{lines:?}");
        assert!(lines.iter().all(|l| l.starts_with("<11>1 ")));
    }

    /// A real HTTP server on 127.0.0.1: answers the first `refuse`
    /// requests with 503, then takes the rest; gives each request's
    /// headers and body (gunzipped).
    /// A request as the receiver saw it: its headers and body.
    type Request = (Vec<(String, String)>, String);

    fn receiver(refuse: usize) -> (String, std::sync::mpsc::Receiver<Request>) {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for (n, mut request) in server.incoming_requests().enumerate() {
                let headers: Vec<(String, String)> = request
                    .headers()
                    .iter()
                    .map(|h| (h.field.to_string(), h.value.to_string()))
                    .collect();
                let mut raw = Vec::new();
                std::io::Read::read_to_end(request.as_reader(), &mut raw).unwrap();
                let gzipped = headers
                    .iter()
                    .any(|(k, v)| k.eq_ignore_ascii_case("content-encoding") && v == "gzip");
                let body = if gzipped {
                    let mut text = String::new();
                    std::io::Read::read_to_string(
                        &mut flate2::read::GzDecoder::new(&raw[..]),
                        &mut text,
                    )
                    .unwrap();
                    text
                } else {
                    String::from_utf8(raw).unwrap()
                };
                if n < refuse {
                    let _ = request.respond(
                        tiny_http::Response::from_string(
                            "{\"text\":\"Server is busy\",\"code\":9}",
                        )
                        .with_status_code(503),
                    );
                    continue;
                }
                let _ = tx.send((headers, body));
                let _ = request.respond(tiny_http::Response::from_string(
                    "{\"text\":\"Success\",\"code\":0}",
                ));
            }
        });
        (url, rx)
    }

    #[test]
    fn hec_events_are_batched_gzipped_with_the_token_and_retried_when_busy() {
        let (url, got) = receiver(1);
        let auth = vec![("Authorization".to_string(), "Splunk 0000-token".to_string())];
        let transport = Box::new(transport::Http::batches(
            format!("{url}/services/collector/event"),
            auth,
            true,
        ));
        let encoding = Encoding::Hec {
            host: "h1".into(),
            index: Some("security".into()),
            sourcetype: None,
        };
        let mut out = Forward::start(
            "t",
            (encoding, transport),
            &Buffer::default(),
            Arc::default(),
        )
        .unwrap();
        out.alert(&alert()).unwrap();
        for line in ["one", "two"] {
            out.event(&Event::new(rampart_event::Origin::new("t.log", 1), line))
                .unwrap();
        }
        let done = out.close().unwrap();
        assert_eq!((done.sent, done.left), (3, 0), "{done:?}");
        assert!(done.failures >= 1, "the first answer was 503: {done:?}");
        let (headers, body) = got.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("authorization") && v == "Splunk 0000-token"));
        // Concatenated JSON objects, one per record.
        let records: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&body)
            .into_iter()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(records.len(), 3, "{body}");
        assert_eq!(records[0]["sourcetype"], "rampart:alert");
        assert_eq!(records[0]["index"], "security");
        assert_eq!(records[0]["event"]["severity"], "high");
        assert_eq!(records[2]["sourcetype"], "rampart:event");
        assert_eq!(records[2]["event"]["event"]["original"], "two");
    }

    #[test]
    fn a_webhook_gets_one_chat_line_per_alert() {
        let (url, got) = receiver(0);
        let transport = Box::new(transport::Http::each(url, Vec::new()));
        let encoding = Encoding::Webhook(WebhookFormat::Slack);
        let mut out = Forward::start(
            "t",
            (encoding, transport),
            &Buffer::default(),
            Arc::default(),
        )
        .unwrap();
        out.alert(&alert()).unwrap();
        assert!(out
            .event(&Event::new(rampart_event::Origin::new("t.log", 1), "x"))
            .is_err());
        out.close().unwrap();
        let (_, body) = got.recv_timeout(Duration::from_secs(5)).unwrap();
        let message: serde_json::Value = serde_json::from_str(&body).unwrap();
        let text = message["text"].as_str().unwrap();
        assert!(text.starts_with("rampart: [high] "), "{text}");
    }
}
