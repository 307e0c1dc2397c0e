//! Where a pipeline's sinks write: JSON lines to standard output or a
//! file, and syslog to a receiving SIEM over UDP or TCP.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::time::Duration;

use rampart_detect::{Alert, Level};
use rampart_event::Event;

use crate::config::{Framing, Listen, SinkKind};
use crate::delivery::{Buffer, Delivered, Delivery, Transport};
use crate::metrics::SinkCounts;
use crate::transport;
use std::sync::Arc;

/// One sink's writer.
pub trait Output: Send {
    /// Writes one alert.
    fn alert(&mut self, alert: &Alert) -> io::Result<()>;
    /// Writes one event.
    fn event(&mut self, event: &Event) -> io::Result<()>;
    /// Hands on what is buffered.
    fn flush(&mut self) -> io::Result<()>;
    /// Ends: what a delivery to a destination did, for those that have one.
    fn close(&mut self) -> Option<Delivered> {
        None
    }
}

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
        SinkKind::File { path } => {
            if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(folder)?;
            }
            let file: File = OpenOptions::new().create(true).append(true).open(path)?;
            Box::new(JsonLines(BufWriter::new(file)))
        }
        SinkKind::Syslog {
            to,
            framing,
            buffer,
        } => Box::new(Syslog::new(name, *to, (*framing, buffer), counts)?),
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

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
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

/// Syslog to a receiver: each record framed here, delivered by a thread
/// of its own through the sink's buffer.
struct Syslog {
    framing: Framing,
    host: String,
    delivery: Option<Delivery>,
}

/// How long the end of a run waits for a destination that is down, with
/// records in memory (lost after) or on disk (kept for the next run).
const DRAIN_MEMORY: Duration = Duration::from_secs(5);
const DRAIN_DISK: Duration = Duration::from_secs(1);

impl Syslog {
    fn new(
        name: &str,
        to: Listen,
        (framing, buffer): (Framing, &Buffer),
        counts: Arc<SinkCounts>,
    ) -> io::Result<Syslog> {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty() && h.is_ascii() && !h.contains(' '))
            .unwrap_or_else(|| "-".into());
        let transport: Box<dyn Transport> = match to {
            Listen::Udp(addr) => Box::new(transport::Udp::new(addr)?),
            Listen::Tcp(addr) => Box::new(transport::Tcp::new(addr)),
            Listen::Relp(addr) => Box::new(transport::Relp::new(addr)),
        };
        let drain = match buffer {
            Buffer::Memory { .. } => DRAIN_MEMORY,
            Buffer::Disk { .. } => DRAIN_DISK,
        };
        Ok(Syslog {
            framing,
            host,
            delivery: Some(Delivery::start(name, transport, buffer, (drain, counts))?),
        })
    }

    /// `json` framed with the priority `pri`, handed on.
    fn send(&mut self, pri: u8, kind: &str, json: &[u8]) {
        let mut record = Vec::with_capacity(json.len() + 96);
        match self.framing {
            Framing::Json => {
                let _ = write!(record, "<{pri}>");
            }
            Framing::Rfc5424 => {
                let now = jiff::Timestamp::now();
                let _ = write!(
                    record,
                    "<{pri}>1 {} {} rampart {} {kind} - ",
                    now.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"),
                    self.host,
                    std::process::id()
                );
            }
        }
        record.extend_from_slice(json);
        if let Some(d) = &mut self.delivery {
            d.push(record);
        }
    }
}

impl Output for Syslog {
    fn alert(&mut self, alert: &Alert) -> io::Result<()> {
        let mut json = Vec::with_capacity(1024);
        alert.write_json(&mut json)?;
        self.send(FACILITY * 8 + severity(alert.severity), "alert", &json);
        Ok(())
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        let mut json = Vec::with_capacity(512);
        event.write_json(&mut json);
        self.send(FACILITY * 8 + 6, "event", &json);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(d) = &mut self.delivery {
            d.flush();
        }
        Ok(())
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
        let mut out =
            Syslog::new("t", to, (Framing::Json, &Buffer::default()), Arc::default()).unwrap();
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
        let to = Listen::Tcp(addr);
        let mut out = Syslog::new(
            "t",
            to,
            (Framing::Rfc5424, &Buffer::default()),
            Arc::default(),
        )
        .unwrap();
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
}
