//! `rampart replay`: logs streamed to a listener or a file in their
//! original order, as fast as possible or at a steady rate (seed 004's
//! producer, and the load for the pipeline's benchmarks).

use std::fs::OpenOptions;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where replayed lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One datagram per line.
    Udp(String),
    /// A stream of frames.
    Tcp(String),
    /// Lines appended to a file.
    File(PathBuf),
    /// Messages published to a NATS JetStream subject (`nats://host:port/subject`).
    Nats {
        /// The servers.
        servers: String,
        /// The subject.
        subject: String,
    },
    /// Messages produced to a Kafka topic (`kafka://host:port/topic`).
    Kafka {
        /// The brokers.
        brokers: String,
        /// The topic.
        topic: String,
    },
}

impl Target {
    /// `udp://host:port`, `tcp://host:port`, or a file path.
    pub fn parse(text: &str) -> Result<Target, String> {
        match text.split_once("://") {
            Some(("udp", a)) => Ok(Target::Udp(a.to_string())),
            Some(("tcp", a)) => Ok(Target::Tcp(a.to_string())),
            Some(("nats", a)) => match a.split_once('/') {
                Some((host, subject)) if !subject.is_empty() => Ok(Target::Nats {
                    servers: format!("nats://{host}"),
                    subject: subject.to_string(),
                }),
                _ => Err(format!("`{text}` names no subject (nats://HOST:PORT/SUBJECT)")),
            },
            Some(("kafka", a)) => match a.split_once('/') {
                Some((brokers, topic)) if !topic.is_empty() => Ok(Target::Kafka {
                    brokers: brokers.to_string(),
                    topic: topic.to_string(),
                }),
                _ => Err(format!("`{text}` names no topic (kafka://HOST:PORT/TOPIC)")),
            },
            Some((scheme, _)) => Err(format!(
                "`{scheme}://` is not a target rampart replays to (udp://, tcp://, nats://, kafka:// or a file)"
            )),
            None => Ok(Target::File(PathBuf::from(text))),
        }
    }
}

/// How lines are framed over TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFraming {
    /// Each line ends with a newline.
    Newline,
    /// Each line is preceded by its length and a space (RFC 6587).
    OctetCounted,
}

/// What a replay sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sent {
    /// Lines sent.
    pub lines: u64,
    /// Bytes of them (without framing).
    pub bytes: u64,
    /// How long it took.
    pub elapsed: Duration,
}

/// Writes lines to a target.
pub(crate) enum Writer {
    /// Messages gathered, then published (NATS, Kafka) with their
    /// acknowledgements.
    Batched(Box<dyn crate::delivery::Transport>, Vec<Vec<u8>>),
    Udp(UdpSocket),
    Stream(BufWriter<Box<dyn Write>>, StreamFraming),
}

impl Writer {
    pub(crate) fn open(to: &Target, framing: StreamFraming) -> io::Result<Writer> {
        Ok(match to {
            Target::Nats { servers, subject } => Writer::Batched(
                Box::new(crate::nats::Publisher::new(
                    servers,
                    (&crate::nats::stream_for(subject), subject),
                    1,
                )?),
                Vec::new(),
            ),
            Target::Kafka { brokers, topic } => Writer::Batched(
                Box::new(crate::kafka::Producer::new(brokers, topic)?),
                Vec::new(),
            ),
            Target::Udp(a) => {
                let socket = UdpSocket::bind("0.0.0.0:0")?;
                socket.connect(a)?;
                Writer::Udp(socket)
            }
            Target::Tcp(a) => {
                let stream: Box<dyn Write> = Box::new(TcpStream::connect(a)?);
                Writer::Stream(BufWriter::with_capacity(1 << 20, stream), framing)
            }
            Target::File(path) => {
                let file: Box<dyn Write> =
                    Box::new(OpenOptions::new().create(true).append(true).open(path)?);
                Writer::Stream(
                    BufWriter::with_capacity(1 << 20, file),
                    StreamFraming::Newline,
                )
            }
        })
    }

    pub(crate) fn line(&mut self, line: &[u8]) -> io::Result<()> {
        match self {
            Writer::Batched(_, pending) => {
                pending.push(line.to_vec());
                if pending.len() >= 4096 {
                    self.flush()?;
                }
                Ok(())
            }
            Writer::Udp(socket) => socket.send(line).map(|_| ()),
            Writer::Stream(out, StreamFraming::Newline) => {
                out.write_all(line)?;
                out.write_all(b"\n")
            }
            Writer::Stream(out, StreamFraming::OctetCounted) => {
                write!(out, "{} ", line.len())?;
                out.write_all(line)
            }
        }
    }

    pub(crate) fn flush(&mut self) -> io::Result<()> {
        match self {
            Writer::Batched(transport, pending) => {
                let batch = std::mem::take(pending);
                transport.send(&batch).map_err(|f| f.why)
            }
            Writer::Udp(_) => Ok(()),
            Writer::Stream(out, _) => out.flush(),
        }
    }
}

/// Sends every line of `files` (plain or gzip), in order, to `to`; at
/// `rate` lines a second when given. An error names the file or target.
pub fn replay(
    files: &[PathBuf],
    to: &Target,
    rate: Option<f64>,
    framing: StreamFraming,
) -> Result<Sent, String> {
    let mut out = Writer::open(to, framing).map_err(|e| format!("{to:?}: {e}"))?;
    let started = Instant::now();
    let mut sent = Sent::default();
    let pace = rate.filter(|r| *r > 0.0);
    for path in files {
        let reader = rampart_io::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut reader = BufReader::with_capacity(1 << 20, reader);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if n == 0 {
                break;
            }
            let text = trim(&line);
            if text.is_empty() {
                continue;
            }
            if let Some(rate) = pace {
                wait_turn(started, sent.lines, rate, &mut out)
                    .map_err(|e| format!("{}: {e}", describe(to)))?;
            }
            out.line(text)
                .map_err(|e| format!("{}: {e}", describe(to)))?;
            sent.lines += 1;
            sent.bytes += text.len() as u64;
        }
    }
    out.flush().map_err(|e| format!("{}: {e}", describe(to)))?;
    sent.elapsed = started.elapsed();
    Ok(sent)
}

fn describe(to: &Target) -> String {
    match to {
        Target::Nats { servers, subject } => format!("{servers}/{subject}"),
        Target::Kafka { brokers, topic } => format!("kafka://{brokers}/{topic}"),
        Target::Udp(a) => format!("udp://{a}"),
        Target::Tcp(a) => format!("tcp://{a}"),
        Target::File(p) => p.display().to_string(),
    }
}

/// Waits until line `n` is due at `rate` lines a second; what is buffered
/// goes out before a wait.
fn wait_turn(started: Instant, n: u64, rate: f64, out: &mut Writer) -> io::Result<()> {
    let due = started + Duration::from_secs_f64(n as f64 / rate);
    let now = Instant::now();
    if due > now {
        out.flush()?;
        std::thread::sleep(due - now);
    }
    Ok(())
}

fn trim(line: &[u8]) -> &[u8] {
    let end = line
        .iter()
        .rposition(|b| !matches!(b, b'\r' | b'\n'))
        .map_or(0, |at| at + 1);
    &line[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    #[test]
    fn targets_read_from_their_text() {
        assert_eq!(
            Target::parse("udp://127.0.0.1:514"),
            Ok(Target::Udp("127.0.0.1:514".into()))
        );
        assert_eq!(
            Target::parse("out/copy.log"),
            Ok(Target::File("out/copy.log".into()))
        );
        assert!(Target::parse("kafka://x:1")
            .unwrap_err()
            .contains("kafka://"));
    }

    #[test]
    fn lines_go_out_in_order_octet_counted_at_the_rate_asked() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("a.log");
        std::fs::write(&log, "one\r\ntwo\n\nthree").unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let to = Target::Tcp(listener.local_addr().unwrap().to_string());
        let reader = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut text = String::new();
            s.read_to_string(&mut text).unwrap();
            text
        });
        let sent = replay(&[log], &to, Some(20.0), StreamFraming::OctetCounted).unwrap();
        assert_eq!(sent.lines, 3);
        // Three lines at 20 a second: the third is due at 0.1 s.
        assert!(sent.elapsed >= Duration::from_millis(100), "{sent:?}");
        assert_eq!(reader.join().unwrap(), "3 one3 two5 three");
    }
}
