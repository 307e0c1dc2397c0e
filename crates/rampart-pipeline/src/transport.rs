//! How records reach a syslog receiver: UDP, one datagram each (no word
//! back: what the network drops is not known), or TCP, newline after each
//! record, over a connection made again when it breaks. Plain TCP says
//! nothing of what the receiver took either: records written into a
//! connection the receiver was closing are lost without an error, which
//! only an acknowledging protocol can tell.

use std::io::{self, Read, Write};
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
    acks: Option<HecAcks>,
    /// The batch whose acknowledgement has not come (a hash of it) and
    /// the ids each of its posts was given: sent again, it is taken once
    /// any of them is acknowledged.
    waiting: Option<(u64, Vec<u64>)>,
    /// Whether the collector was found to give no ackIds (said once).
    no_acks_said: bool,
}

/// Splunk's indexer acknowledgements: a batch posted on a channel is
/// answered with an `ackId`, and counts as taken only once the
/// collector's `/services/collector/ack` says the id is indexed. An id
/// not acknowledged in time (the receiver restarted and forgot it, say)
/// fails the batch, which is posted again; the ids of every post of it
/// are asked about from then on, so a slow collector is not sent more
/// copies than posts. Nothing is lost; what comes twice is at most the
/// batch in flight, posted again. A collector whose token has
/// acknowledgement off gives no ids: its batches count as taken once
/// posted, and that is said once.
#[derive(Debug, Clone)]
pub struct HecAcks {
    /// The collector's acknowledgement endpoint.
    pub url: String,
    /// The channel every request names (a GUID).
    pub channel: String,
    /// How long a batch may wait for its acknowledgement.
    pub timeout: Duration,
}

/// The longest pause between two questions about an acknowledgement.
const ACK_POLL: Duration = Duration::from_secs(1);

/// What an answer holds, at most, for reading an `ackId` in it.
const ANSWER_BYTES: u64 = 64 << 10;

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
            acks: None,
            waiting: None,
            no_acks_said: false,
        }
    }

    /// Each batch taken only once the collector acknowledges it.
    pub fn with_acks(mut self, acks: HecAcks) -> Http {
        self.headers
            .push(("X-Splunk-Request-Channel".into(), acks.channel.clone()));
        self.acks = Some(acks);
        self
    }

    /// POSTs `body` to `url`; with `answer`, the answer's text (at most
    /// [`ANSWER_BYTES`], read leniently); else nothing is read of it, and
    /// a request the server took is taken whatever its answer holds.
    fn post_to(&self, url: &str, body: &[u8], gzip: bool, answer: bool) -> io::Result<String> {
        let mut request = self.agent.post(url).set("Content-Type", "application/json");
        for (name, value) in &self.headers {
            request = request.set(name, value);
        }
        let sent = if gzip {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(body)?;
            request
                .set("Content-Encoding", "gzip")
                .send_bytes(&gz.finish()?)
        } else {
            request.send_bytes(body)
        };
        match sent {
            Ok(response) if answer => {
                let mut bytes = Vec::new();
                response
                    .into_reader()
                    .take(ANSWER_BYTES)
                    .read_to_end(&mut bytes)?;
                Ok(String::from_utf8_lossy(&bytes).into_owned())
            }
            Ok(_) => Ok(String::new()),
            Err(ureq::Error::Status(code, response)) => {
                let text = response.into_string().unwrap_or_default();
                let text: String = text.chars().take(200).collect();
                Err(io::Error::other(format!("HTTP {code}: {text}")))
            }
            Err(e) => Err(io::Error::other(e.to_string())),
        }
    }

    /// Whether the collector says any of `ids` is indexed; an error when
    /// it could not be asked.
    fn any_indexed(&self, acks: &HecAcks, ids: &[u64]) -> io::Result<bool> {
        let list: Vec<String> = ids.iter().map(u64::to_string).collect();
        let question = format!("{{\"acks\":[{}]}}", list.join(","));
        let said = self.post_to(&acks.url, question.as_bytes(), false, true)?;
        let said: serde_json::Value = serde_json::from_str(&said).unwrap_or_default();
        Ok(list
            .iter()
            .any(|id| said["acks"][id.as_str()].as_bool() == Some(true)))
    }

    /// Waits until one of `ids` is indexed, asking again through passing
    /// errors, at most the acknowledgement timeout.
    fn wait_indexed(&self, acks: &HecAcks, ids: &[u64]) -> io::Result<()> {
        let deadline = std::time::Instant::now() + acks.timeout;
        let mut pause = Duration::from_millis(20);
        let mut trouble = None;
        loop {
            match self.any_indexed(acks, ids) {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => trouble = Some(e),
            }
            if std::time::Instant::now() + pause > deadline {
                let why = trouble.map_or(String::new(), |e| format!(" (last question: {e})"));
                return Err(io::Error::other(format!(
                    "ackId {ids:?} not acknowledged within {} s{why}; the batch goes again",
                    acks.timeout.as_secs()
                )));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(ACK_POLL);
        }
    }

    /// Posts `body` (a batch) and, with acknowledgements, waits for one.
    fn post_batch(&mut self, body: &[u8]) -> io::Result<()> {
        let Some(acks) = self.acks.clone() else {
            self.post_to(&self.url, body, self.gzip, false)?;
            return Ok(());
        };
        let batch = xxhash_rust::xxh3::xxh3_64(body);
        let mut ids = match self.waiting.take() {
            Some((hash, ids)) if hash == batch => ids,
            _ => Vec::new(),
        };
        // Posted before, and perhaps indexed since.
        if !ids.is_empty() && self.any_indexed(&acks, &ids).unwrap_or(false) {
            return Ok(());
        }
        let answer = match self.post_to(&self.url, body, self.gzip, true) {
            Ok(a) => a,
            Err(e) => {
                self.waiting = (!ids.is_empty()).then_some((batch, ids));
                return Err(e);
            }
        };
        let json: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
        let Some(id) = json["ackId"].as_u64() else {
            if !self.no_acks_said {
                self.no_acks_said = true;
                eprintln!(
                    "warning: the collector at {} gives no ackId (indexer acknowledgement is off for this token): batches count as delivered once posted",
                    self.url
                );
            }
            return Ok(());
        };
        ids.push(id);
        let waited = self.wait_indexed(&acks, &ids);
        if waited.is_err() {
            self.waiting = Some((batch, ids));
        }
        waited
    }
}

impl Transport for Http {
    fn send(&mut self, records: &[Vec<u8>]) -> Result<(), Failed> {
        if self.one_each {
            for (taken, r) in records.iter().enumerate() {
                self.post_to(&self.url, r, self.gzip, false)
                    .map_err(|why| Failed { taken, why })?;
            }
            return Ok(());
        }
        let mut body = Vec::with_capacity(records.iter().map(|r| r.len() + 1).sum());
        for r in records {
            body.extend_from_slice(r);
            body.push(b'\n');
        }
        Ok(self.post_batch(&body)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A collector that gives each batch an ackId and says it is indexed
    /// only once `indexed` is set; it keeps the channels it was told.
    fn collector(indexed: Arc<AtomicBool>) -> (String, std::sync::mpsc::Receiver<String>) {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for (n, mut request) in server.incoming_requests().enumerate() {
                let channel = request
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("X-Splunk-Request-Channel"))
                    .map(|h| h.value.to_string())
                    .unwrap_or_default();
                let mut body = String::new();
                request.as_reader().read_to_string(&mut body).unwrap();
                let answer = if request.url().ends_with("/ack") {
                    let id = body
                        .trim_start_matches("{\"acks\":[")
                        .trim_end_matches("]}");
                    let done = indexed.load(Ordering::SeqCst);
                    format!("{{\"acks\":{{\"{id}\":{done}}}}}")
                } else {
                    let _ = tx.send(channel);
                    format!("{{\"text\":\"Success\",\"code\":0,\"ackId\":{n}}}")
                };
                let _ = request.respond(tiny_http::Response::from_string(answer));
            }
        });
        (url, rx)
    }

    fn hec(url: &str, timeout: Duration) -> Http {
        Http::batches(format!("{url}/services/collector/event"), Vec::new(), false).with_acks(
            HecAcks {
                url: format!("{url}/services/collector/ack"),
                channel: "11111111-2222-3333-4444-555555555555".into(),
                timeout,
            },
        )
    }

    #[test]
    fn a_batch_is_taken_only_once_its_ack_id_is_indexed_and_not_posted_again() {
        let indexed = Arc::new(AtomicBool::new(false));
        let (url, channels) = collector(Arc::clone(&indexed));
        let mut http = hec(&url, Duration::from_millis(300));
        let records = [b"{\"event\":\"one\"}".to_vec()];
        let failed = http.send(&records).unwrap_err();
        assert_eq!(failed.taken, 0);
        assert!(
            failed.why.to_string().contains("not acknowledged"),
            "{}",
            failed.why
        );
        // Indexed late: sent again, the batch is found indexed and is not
        // posted a second time.
        indexed.store(true, Ordering::SeqCst);
        http.send(&records).unwrap();
        assert_eq!(
            channels.try_iter().collect::<Vec<_>>(),
            ["11111111-2222-3333-4444-555555555555"]
        );
        // The next batch is posted, and taken once indexed.
        http.send(&[b"{\"event\":\"two\"}".to_vec()]).unwrap();
        assert_eq!(channels.try_iter().count(), 1);
    }

    #[test]
    fn a_collector_that_gives_no_ack_id_takes_each_batch_once() {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let (tx, posts) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                let _ = tx.send(request.url().to_string());
                let answer = tiny_http::Response::from_string("{\"text\":\"Success\",\"code\":0}");
                let _ = request.respond(answer);
            }
        });
        let mut http = hec(&url, Duration::from_secs(1));
        http.send(&[b"{}".to_vec()]).unwrap();
        http.send(&[b"{}".to_vec()]).unwrap();
        assert!(http.no_acks_said);
        let posted: Vec<String> = posts.try_iter().collect();
        assert_eq!(posted, ["/services/collector/event"; 2], "no ack was asked");
    }
}
