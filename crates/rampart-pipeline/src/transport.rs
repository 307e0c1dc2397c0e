//! How records reach a syslog receiver: UDP, one datagram each (no word
//! back: what the network drops is not known), or TCP, newline after each
//! record, over a connection made again when it breaks. Plain TCP says
//! nothing of what the receiver took either: records written into a
//! connection the receiver was closing are lost without an error, which
//! only an acknowledging protocol can tell.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use std::sync::Arc;

use rustls::pki_types::ServerName;

use crate::delivery::{Failed, Transport};

/// How long connecting or writing may take before it counts as failed.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Datagrams to one receiver.
pub struct Udp(UdpSocket);

impl Udp {
    /// A socket sending to `to`.
    pub fn new(to: SocketAddr) -> io::Result<Udp> {
        let local = if to.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
        let socket = UdpSocket::bind(local)?;
        socket.connect(to)?;
        Ok(Udp(socket))
    }
}

impl Transport for Udp {
    fn send(&mut self, records: &[Vec<u8>]) -> Result<(), Failed> {
        for (taken, r) in records.iter().enumerate() {
            self.0.send(r).map_err(|why| Failed { taken, why })?;
        }
        Ok(())
    }
}

/// A stream to one receiver, newline after each record.
pub struct Tcp {
    to: SocketAddr,
    /// Inside TLS: the configuration and the name the receiver's
    /// certificate must hold.
    tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    stream: Option<Box<dyn Write + Send>>,
    out: Vec<u8>,
}

impl Tcp {
    /// Connects when first used.
    pub fn new(to: SocketAddr) -> Tcp {
        Tcp {
            to,
            tls: None,
            stream: None,
            out: Vec::new(),
        }
    }

    /// Inside TLS (RFC 5425), the receiver's certificate checked by
    /// `config` for `name`.
    pub fn tls(
        to: SocketAddr,
        config: Arc<rustls::ClientConfig>,
        name: ServerName<'static>,
    ) -> Tcp {
        Tcp {
            tls: Some((config, name)),
            ..Tcp::new(to)
        }
    }

    fn connect(&self) -> io::Result<Box<dyn Write + Send>> {
        let s = TcpStream::connect_timeout(&self.to, TIMEOUT)?;
        s.set_write_timeout(Some(TIMEOUT))?;
        s.set_read_timeout(Some(TIMEOUT))?;
        s.set_nodelay(true)?;
        Ok(match &self.tls {
            None => Box::new(s),
            Some((config, name)) => {
                let conn = rustls::ClientConnection::new(Arc::clone(config), name.clone())
                    .map_err(io::Error::other)?;
                let mut stream = rustls::StreamOwned::new(conn, s);
                // The handshake now, so that a receiver that is not trusted
                // is an error of the connection, not of a later write.
                while stream.conn.is_handshaking() {
                    stream.conn.complete_io(&mut stream.sock)?;
                }
                Box::new(stream)
            }
        })
    }
}

impl Transport for Tcp {
    fn send(&mut self, records: &[Vec<u8>]) -> Result<(), Failed> {
        self.out.clear();
        for r in records {
            self.out.extend_from_slice(r);
            self.out.push(b'\n');
        }
        if self.stream.is_none() {
            self.stream = Some(self.connect()?);
        }
        let Some(stream) = self.stream.as_mut() else {
            return Ok(());
        };
        let written = stream.write_all(&self.out).and_then(|()| stream.flush());
        if written.is_err() {
            self.stream = None;
        }
        Ok(written?)
    }
}

/// RELP (rsyslog's reliable event logging protocol): each record is a
/// `syslog` command the receiver answers once it has taken it, so that
/// a batch counts as sent only when every record of it was acknowledged.
/// Up to `WINDOW` commands wait for their answers at once.
pub struct Relp {
    to: SocketAddr,
    session: Option<RelpSession>,
}

/// Commands sent before their answers are waited for.
const WINDOW: usize = 128;
/// The largest answer read.
const MAX_ANSWER: usize = 64 * 1024;

struct RelpSession {
    stream: TcpStream,
    reader: io::BufReader<TcpStream>,
    txnr: u64,
}

impl Relp {
    /// Connects (and opens the session) when first used.
    pub fn new(to: SocketAddr) -> Relp {
        Relp { to, session: None }
    }
}

impl RelpSession {
    fn open(to: SocketAddr) -> io::Result<RelpSession> {
        let stream = TcpStream::connect_timeout(&to, TIMEOUT)?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_nodelay(true)?;
        let reader = io::BufReader::new(stream.try_clone()?);
        let mut session = RelpSession {
            stream,
            reader,
            txnr: 0,
        };
        let offer = b"relp_version=0\nrelp_software=rampart\ncommands=syslog";
        let nr = session.command("open", offer)?;
        session.stream.flush()?;
        session.answer(nr)?;
        Ok(session)
    }

    /// Writes one command; its transaction number.
    fn command(&mut self, name: &str, data: &[u8]) -> io::Result<u64> {
        self.txnr = if self.txnr >= 999_999_999 {
            1
        } else {
            self.txnr + 1
        };
        let mut frame = Vec::with_capacity(data.len() + 32);
        write!(frame, "{} {name} {}", self.txnr, data.len())?;
        if !data.is_empty() {
            frame.push(b' ');
            frame.extend_from_slice(data);
        }
        frame.push(b'\n');
        self.stream.write_all(&frame)?;
        Ok(self.txnr)
    }

    /// Reads the answer to command `nr`: it must be `rsp` with `200`.
    fn answer(&mut self, nr: u64) -> io::Result<()> {
        use io::BufRead;
        let mut head = Vec::new();
        // `TXNR rsp LEN`, then ` DATA` when LEN > 0, then a newline.
        for _ in 0..3 {
            let mut word = Vec::new();
            loop {
                let mut byte = [0u8; 1];
                io::Read::read_exact(&mut self.reader, &mut byte)?;
                if byte[0] == b' ' || byte[0] == b'\n' {
                    head.push((word, byte[0]));
                    break;
                }
                if word.len() > 16 {
                    return Err(io::Error::other("RELP: an answer's header is too long"));
                }
                word.push(byte[0]);
            }
            if head.last().is_some_and(|(_, end)| *end == b'\n') {
                break;
            }
        }
        let text = |w: &[u8]| String::from_utf8_lossy(w).into_owned();
        let (Some((txnr, _)), Some((command, _)), Some((len, end))) =
            (head.first(), head.get(1), head.get(2))
        else {
            return Err(io::Error::other("RELP: a short answer"));
        };
        let len: usize = text(len)
            .parse()
            .map_err(|_| io::Error::other("RELP: an answer's length is not a number"))?;
        if len > MAX_ANSWER {
            return Err(io::Error::other("RELP: an answer too long"));
        }
        let mut data = vec![0u8; len];
        io::Read::read_exact(&mut self.reader, &mut data)?;
        if *end == b' ' {
            let mut trailer = Vec::new();
            self.reader.read_until(b'\n', &mut trailer)?;
        }
        if text(command) == "serverclose" {
            return Err(io::Error::other("RELP: the receiver closed the session"));
        }
        if text(txnr) != nr.to_string() || text(command) != "rsp" {
            return Err(io::Error::other(format!(
                "RELP: answer {} {} to command {nr}",
                text(txnr),
                text(command)
            )));
        }
        if !data.starts_with(b"200") {
            return Err(io::Error::other(format!(
                "RELP: the receiver refused: {}",
                text(&data)
            )));
        }
        Ok(())
    }
}

impl Transport for Relp {
    fn send(&mut self, records: &[Vec<u8>]) -> Result<(), Failed> {
        let session = match &mut self.session {
            Some(s) => s,
            None => self.session.insert(RelpSession::open(self.to)?),
        };
        // Records answered so far: taken, whatever happens after.
        let mut taken = 0;
        let sent = (|| {
            for window in records.chunks(WINDOW) {
                let mut waiting = Vec::with_capacity(window.len());
                for r in window {
                    waiting.push(session.command("syslog", r)?);
                }
                session.stream.flush()?;
                for nr in waiting {
                    session.answer(nr)?;
                    taken += 1;
                }
            }
            Ok(())
        })();
        if sent.is_err() {
            self.session = None;
        }
        sent.map_err(|why| Failed { taken, why })
    }
}

impl Drop for Relp {
    /// Closes the session politely; the answer is not waited for long.
    fn drop(&mut self) {
        if let Some(mut s) = self.session.take() {
            let _ = s.stream.set_read_timeout(Some(Duration::from_millis(500)));
            if let Ok(nr) = s.command("close", b"") {
                let _ = s.stream.flush();
                let _ = s.answer(nr);
            }
        }
    }
}

/// How long an HTTP request may take before it counts as failed.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// HTTP POSTs to one URL: a batch as one request (records one after
/// another, as Splunk's HTTP Event Collector takes them, gzipped when
/// asked), or one request per record (a webhook).
pub struct Http {
    agent: ureq::Agent,
    url: String,
    headers: Vec<(String, String)>,
    gzip: bool,
    one_each: bool,
}

impl Http {
    /// A batch per request to `url`, with `headers` (an authorization, say).
    pub fn batches(url: String, headers: Vec<(String, String)>, gzip: bool) -> Http {
        Http::new(url, headers, gzip, false)
    }

    /// A request per record to `url`.
    pub fn each(url: String, headers: Vec<(String, String)>) -> Http {
        Http::new(url, headers, false, true)
    }

    fn new(url: String, headers: Vec<(String, String)>, gzip: bool, one_each: bool) -> Http {
        Http {
            agent: ureq::AgentBuilder::new().timeout(HTTP_TIMEOUT).build(),
            url,
            headers,
            gzip,
            one_each,
        }
    }

    fn post(&self, body: &[u8]) -> io::Result<()> {
        let mut request = self
            .agent
            .post(&self.url)
            .set("Content-Type", "application/json");
        for (name, value) in &self.headers {
            request = request.set(name, value);
        }
        let sent = if self.gzip {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(body)?;
            request
                .set("Content-Encoding", "gzip")
                .send_bytes(&gz.finish()?)
        } else {
            request.send_bytes(body)
        };
        match sent {
            Ok(_) => Ok(()),
            Err(ureq::Error::Status(code, response)) => {
                let text = response.into_string().unwrap_or_default();
                let text: String = text.chars().take(200).collect();
                Err(io::Error::other(format!("HTTP {code}: {text}")))
            }
            Err(e) => Err(io::Error::other(e.to_string())),
        }
    }
}

impl Transport for Http {
    fn send(&mut self, records: &[Vec<u8>]) -> Result<(), Failed> {
        if self.one_each {
            for (taken, r) in records.iter().enumerate() {
                self.post(r).map_err(|why| Failed { taken, why })?;
            }
            return Ok(());
        }
        let mut body = Vec::with_capacity(records.iter().map(|r| r.len() + 1).sum());
        for r in records {
            body.extend_from_slice(r);
            body.push(b'\n');
        }
        Ok(self.post(&body)?)
    }
}
