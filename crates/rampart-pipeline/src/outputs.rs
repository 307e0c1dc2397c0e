//! Where a pipeline's sinks write: JSON lines to standard output or a
//! file, and syslog to a receiving SIEM over UDP or TCP.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use rampart_detect::{Alert, Level};
use rampart_event::Event;

use crate::config::{Framing, Listen, SinkKind};

/// One sink's writer.
pub trait Output: Send {
    /// Writes one alert.
    fn alert(&mut self, alert: &Alert) -> io::Result<()>;
    /// Writes one event.
    fn event(&mut self, event: &Event) -> io::Result<()>;
    /// Hands on what is buffered.
    fn flush(&mut self) -> io::Result<()>;
}

/// Opens the writer of a sink; none for the store, which is the engine's
/// own sink (see `Router::with_store`).
pub fn open(kind: &SinkKind) -> io::Result<Option<Box<dyn Output>>> {
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
        SinkKind::Syslog { to, framing } => Box::new(Syslog::new(*to, *framing)?),
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

/// Syslog to a receiver.
struct Syslog {
    to: Listen,
    framing: Framing,
    host: String,
    udp: Option<UdpSocket>,
    tcp: Option<TcpStream>,
    record: Vec<u8>,
}

impl Syslog {
    fn new(to: Listen, framing: Framing) -> io::Result<Syslog> {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty() && h.is_ascii() && !h.contains(' '))
            .unwrap_or_else(|| "-".into());
        let udp = match to {
            Listen::Udp(addr) => {
                let local = if addr.is_ipv4() {
                    "0.0.0.0:0"
                } else {
                    "[::]:0"
                };
                let socket = UdpSocket::bind(local)?;
                socket.connect(addr)?;
                Some(socket)
            }
            Listen::Tcp(_) => None,
        };
        Ok(Syslog {
            to,
            framing,
            host,
            udp,
            tcp: None,
            record: Vec::with_capacity(1024),
        })
    }

    /// Frames `json` with the priority `pri` into `self.record`.
    fn frame(&mut self, pri: u8, kind: &str, json: &[u8]) {
        self.record.clear();
        match self.framing {
            Framing::Json => {
                let _ = write!(self.record, "<{pri}>");
            }
            Framing::Rfc5424 => {
                let now = jiff::Timestamp::now();
                let _ = write!(
                    self.record,
                    "<{pri}>1 {} {} rampart {} {kind} - ",
                    now.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"),
                    self.host,
                    std::process::id()
                );
            }
        }
        self.record.extend_from_slice(json);
    }

    fn send(&mut self) -> io::Result<()> {
        if let Some(udp) = &self.udp {
            udp.send(&self.record)?;
            return Ok(());
        }
        let Listen::Tcp(addr) = self.to else {
            return Ok(());
        };
        self.record.push(b'\n');
        // A connection that broke is made again once; a second failure is
        // the caller's to count.
        for attempt in 0..2 {
            if self.tcp.is_none() {
                let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
                stream.set_write_timeout(Some(Duration::from_secs(5)))?;
                self.tcp = Some(stream);
            }
            let Some(stream) = self.tcp.as_mut() else {
                continue;
            };
            match stream.write_all(&self.record) {
                Ok(()) => return Ok(()),
                Err(e) if attempt == 1 => {
                    self.tcp = None;
                    return Err(e);
                }
                Err(_) => self.tcp = None,
            }
        }
        Ok(())
    }
}

impl Output for Syslog {
    fn alert(&mut self, alert: &Alert) -> io::Result<()> {
        let mut json = Vec::with_capacity(1024);
        alert.write_json(&mut json)?;
        self.frame(FACILITY * 8 + severity(alert.severity), "alert", &json);
        self.send()
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        let mut json = Vec::with_capacity(512);
        event.write_json(&mut json);
        self.frame(FACILITY * 8 + 6, "event", &json);
        self.send()
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.tcp {
            Some(stream) => stream.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;

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
        let mut out =
            Syslog::new(Listen::Udp(receiver.local_addr().unwrap()), Framing::Json).unwrap();
        let event = Event::new(rampart_event::Origin::new("t.log", 1), "a line");
        out.event(&event).unwrap();
        let mut buf = [0u8; 4096];
        let n = receiver.recv(&mut buf).unwrap();
        let text = std::str::from_utf8(&buf[..n]).unwrap();
        assert!(text.starts_with("<14>{"), "{text}");
        let json: serde_json::Value = serde_json::from_str(&text[4..]).unwrap();
        assert_eq!(json["event"]["original"], "a line");
    }

    #[test]
    fn rfc5424_over_tcp_carries_the_alerts_severity_and_reconnects() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut out = Syslog::new(Listen::Tcp(addr), Framing::Rfc5424).unwrap();
        out.alert(&alert()).unwrap();
        let (first, _) = listener.accept().unwrap();
        let mut line = String::new();
        BufReader::new(&first).read_line(&mut line).unwrap();
        // user.err: 8 + 3.
        assert!(line.starts_with("<11>1 "), "{line}");
        let json = &line[line.find('{').unwrap()..];
        let parsed: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
        assert_eq!(parsed["severity"], "high");
        // The receiver drops the connection: a record or two may go into
        // the dead connection (plain TCP syslog has no acknowledgement),
        // then the writer connects again.
        drop(first);
        listener.set_nonblocking(true).unwrap();
        let second = (0..100)
            .find_map(|_| {
                let _ = out.alert(&alert());
                std::thread::sleep(Duration::from_millis(20));
                listener.accept().ok()
            })
            .map(|(s, _)| s)
            .expect("the writer connects again");
        second.set_nonblocking(false).unwrap();
        second
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut line = String::new();
        BufReader::new(&second).read_line(&mut line).unwrap();
        assert!(line.starts_with("<11>1 "), "{line}");
    }
}
