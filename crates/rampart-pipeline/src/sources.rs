//! Source threads: each reads its messages and hands them on in bundles
//! over one bounded channel, so a pipeline slower than its senders makes
//! the TCP readers wait (and their senders with them) instead of holding
//! more in memory. Every thread stops when asked and says that it ended.

use std::io::{BufRead, Read as _};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::arrival::{Arrival, Message};
use crate::config::{Listen, SourceKind};
use crate::framing::{Deframer, Frame};

/// Messages handed on at a time.
const BUNDLE: usize = 256;
/// How often a waiting thread looks whether it should stop.
const TICK: Duration = Duration::from_millis(100);
/// How long read frames may wait for more before they are handed on.
const HOLD: Duration = Duration::from_millis(5);
/// After a stop, how long a sender that keeps sending is still read.
const DRAIN: Duration = Duration::from_secs(5);
/// Connections a TCP listener serves at once; more wait in the backlog.
pub const MAX_CONNECTIONS: usize = 256;

/// The sockets a pipeline listens on, bound before anything runs, so that
/// an address in use is an error at start.
pub enum Bound {
    /// UDP, one message per datagram.
    Udp(UdpSocket),
    /// TCP, a stream of frames; inside TLS with this configuration.
    Tcp(TcpListener, Option<Arc<rustls::ServerConfig>>),
    /// Standard input.
    Stdin,
    /// Files: nothing to bind.
    Files,
    /// An HTTP server for HEC, with the token it asks for and where its
    /// indexer acknowledgements are told what is kept.
    Http(Box<tiny_http::Server>, String, Arc<crate::acks::AckPoint>),
}

impl Bound {
    /// Where a source that acknowledges what it read is told what is
    /// kept, if it is one.
    pub fn ack_point(&self) -> Option<Arc<crate::acks::AckPoint>> {
        match self {
            Bound::Http(.., acks) => Some(Arc::clone(acks)),
            _ => None,
        }
    }

    /// The address it listens on (the port the system chose for port 0).
    pub fn local(&self) -> Option<String> {
        match self {
            Bound::Udp(s) => s.local_addr().ok().map(|a| format!("udp://{a}")),
            Bound::Tcp(l, tls) => {
                let scheme = if tls.is_some() { "tls" } else { "tcp" };
                l.local_addr().ok().map(|a| format!("{scheme}://{a}"))
            }
            Bound::Http(server, ..) => server.server_addr().to_ip().map(|a| format!("http://{a}")),
            Bound::Stdin | Bound::Files => None,
        }
    }
}

/// Binds what `kind` listens on.
pub fn bind(kind: &SourceKind) -> std::io::Result<Bound> {
    Ok(match kind {
        SourceKind::Syslog {
            listen: Listen::Udp(a),
            ..
        } => Bound::Udp(UdpSocket::bind(a)?),
        SourceKind::Syslog {
            listen: Listen::Tcp(a),
            ..
        } => Bound::Tcp(TcpListener::bind(a)?, None),
        SourceKind::Syslog {
            listen: Listen::Tls(a),
            tls,
            ..
        } => {
            let Some((cert, key)) = tls else {
                return Err(std::io::Error::other(format!("tls://{a}: no certificate")));
            };
            let config = crate::tls::server(cert, key).map_err(std::io::Error::other)?;
            Bound::Tcp(TcpListener::bind(a)?, Some(config))
        }
        SourceKind::Syslog {
            listen: Listen::Relp(a),
            ..
        } => {
            return Err(std::io::Error::other(format!(
                "relp://{a}: RELP is sent to, not listened on"
            )))
        }
        SourceKind::Stdin { .. } => Bound::Stdin,
        SourceKind::File { .. }
        | SourceKind::Sql { .. }
        | SourceKind::Nats(_)
        | SourceKind::Kafka(_) => Bound::Files,
        SourceKind::Hec {
            listen, token_env, ..
        } => {
            let token = std::env::var(token_env).map_err(|_| {
                std::io::Error::other(format!(
                    "{token_env} is not set (the HEC token comes from the environment or a .env file)"
                ))
            })?;
            let server = tiny_http::Server::http(listen).map_err(std::io::Error::other)?;
            Bound::Http(Box::new(server), token, Arc::default())
        }
    })
}

/// Starts source `index` on its own thread.
pub fn start(
    index: usize,
    bound: Bound,
    max_frame: usize,
    tx: SyncSender<Arrival>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("rampart-source-{index}"))
        .spawn(move || {
            match bound {
                Bound::Udp(socket) => udp(index, &socket, max_frame, &tx, &stop),
                Bound::Tcp(listener, tls) => tcp(index, (&listener, tls), max_frame, &tx, &stop),
                Bound::Stdin => stdin(index, max_frame, &tx, &stop),
                // File sources are started by `tail::start`.
                Bound::Files => {}
                Bound::Http(server, token, acks) => {
                    crate::hec::serve(
                        index,
                        *server,
                        token,
                        (max_frame, tx.clone()),
                        (Arc::clone(&stop), acks),
                    );
                }
            }
            let _ = tx.send(Arrival::Ended(index));
        })
}

fn udp(index: usize, socket: &UdpSocket, max: usize, tx: &SyncSender<Arrival>, stop: &AtomicBool) {
    if let Err(e) = socket.set_read_timeout(Some(TICK)) {
        let _ = tx.send(Arrival::Trouble(index, e.to_string()));
        return;
    }
    let mut buf = vec![0u8; 65_536];
    let mut bundle = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        match socket.recv_from(&mut buf) {
            Ok((n, peer)) => {
                bundle.extend(datagram(&buf[..n], peer, max));
                if bundle.len() < BUNDLE {
                    // More may be waiting: take them before handing on.
                    let _ = socket.set_nonblocking(true);
                    continue;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => {
                let _ = tx.send(Arrival::Trouble(index, e.to_string()));
            }
        }
        let _ = socket.set_nonblocking(false);
        if !bundle.is_empty()
            && tx
                .send(Arrival::Messages(index, std::mem::take(&mut bundle)))
                .is_err()
        {
            return;
        }
    }
    // Stopped: what the system already holds for the socket is read too.
    let _ = socket.set_nonblocking(true);
    while let Ok((n, peer)) = socket.recv_from(&mut buf) {
        bundle.extend(datagram(&buf[..n], peer, max));
        if bundle.len() >= BUNDLE
            && tx
                .send(Arrival::Messages(index, std::mem::take(&mut bundle)))
                .is_err()
        {
            return;
        }
    }
    if !bundle.is_empty() {
        let _ = tx.send(Arrival::Messages(index, bundle));
    }
}

/// A datagram as a message, cut to `max`; none when it is empty.
fn datagram(bytes: &[u8], peer: SocketAddr, max: usize) -> Option<Message> {
    let end = trim_end(bytes);
    (end > 0).then(|| Message {
        frame: Frame {
            bytes: bytes[..end.min(max)].to_vec(),
            cut: end > max,
        },
        peer: Some(peer),
        json: false,
    })
}

fn trim_end(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .rposition(|b| !matches!(b, b'\r' | b'\n' | 0))
        .map_or(0, |at| at + 1)
}

fn tcp(
    index: usize,
    (listener, tls): (&TcpListener, Option<Arc<rustls::ServerConfig>>),
    max: usize,
    tx: &SyncSender<Arrival>,
    stop: &Arc<AtomicBool>,
) {
    if let Err(e) = listener.set_nonblocking(true) {
        let _ = tx.send(Arrival::Trouble(index, e.to_string()));
        return;
    }
    let open = Arc::new(AtomicUsize::new(0));
    let mut readers: Vec<JoinHandle<()>> = Vec::new();
    let serve = |stream: TcpStream, peer: SocketAddr, readers: &mut Vec<JoinHandle<()>>| {
        open.fetch_add(1, Ordering::Relaxed);
        let (to, halt, count) = (tx.clone(), Arc::clone(stop), Arc::clone(&open));
        let tls = tls.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("rampart-source-{index}-conn"))
            .spawn(move || {
                connection(index, (stream, tls), peer, max, &to, &halt);
                count.fetch_sub(1, Ordering::Relaxed);
            });
        match spawned {
            Ok(reader) => readers.push(reader),
            Err(e) => {
                open.fetch_sub(1, Ordering::Relaxed);
                let _ = tx.send(Arrival::Trouble(index, e.to_string()));
            }
        }
    };
    while !stop.load(Ordering::Relaxed) {
        readers.retain(|r| !r.is_finished());
        if open.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
            std::thread::sleep(TICK);
            continue;
        }
        match listener.accept() {
            Ok((stream, peer)) => serve(stream, peer, &mut readers),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(TICK / 4),
            Err(e) => {
                let _ = tx.send(Arrival::Trouble(index, e.to_string()));
                std::thread::sleep(TICK);
            }
        }
    }
    // Stopped: senders that connected before the stop, still waiting to
    // be taken, are read too.
    while let Ok((stream, peer)) = listener.accept() {
        serve(stream, peer, &mut readers);
    }
    // What the connections have read is handed on before the source ends.
    for reader in readers {
        let _ = reader.join();
    }
}

/// One TCP sender, read until it closes or the pipeline stops.
fn connection(
    index: usize,
    (stream, tls): (TcpStream, Option<Arc<rustls::ServerConfig>>),
    peer: SocketAddr,
    max: usize,
    tx: &SyncSender<Arrival>,
    stop: &AtomicBool,
) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(TICK));
    // Inside TLS, the handshake happens with the first read; one that
    // fails (a scanner, a client trusting another certificate) ends this
    // connection only.
    let mut stream: Box<dyn std::io::Read> = match tls {
        None => Box::new(stream),
        Some(config) => match rustls::ServerConnection::new(config) {
            Ok(conn) => Box::new(rustls::StreamOwned::new(conn, stream)),
            Err(_) => return,
        },
    };
    let mut deframer = Deframer::new(max);
    let mut frames = Vec::new();
    let mut buf = vec![0u8; 65_536];
    let hand_on = |frames: &mut Vec<Frame>| {
        if frames.is_empty() {
            return true;
        }
        let messages = frames
            .drain(..)
            .map(|frame| Message {
                frame,
                peer: Some(peer),
                json: false,
            })
            .collect();
        tx.send(Arrival::Messages(index, messages)).is_ok()
    };
    // Once stopped, what the sender already sent is still read, until it
    // goes quiet for a moment (or for `DRAIN` at most, if it never does).
    let mut stopping: Option<Instant> = None;
    let mut held = Instant::now();
    loop {
        if stopping.is_none() && stop.load(Ordering::Relaxed) {
            stopping = Some(Instant::now());
        }
        if stopping.is_some_and(|t| t.elapsed() > DRAIN) {
            break;
        }
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                deframer.push(&buf[..n], &mut frames);
                // A bundle goes on when full, or when its first frame has
                // waited `HOLD`: a sender of one line now and then is not
                // held back until it has sent a bundle's worth.
                if frames.len() >= BUNDLE || (!frames.is_empty() && held.elapsed() >= HOLD) {
                    if !hand_on(&mut frames) {
                        return;
                    }
                    held = Instant::now();
                }
                if frames.is_empty() {
                    held = Instant::now();
                }
                continue;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if stopping.is_some() {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
        // Quiet for a moment: what is whole is handed on now.
        if !hand_on(&mut frames) {
            return;
        }
    }
    deframer.finish(&mut frames);
    hand_on(&mut frames);
}

fn stdin(index: usize, max: usize, tx: &SyncSender<Arrival>, stop: &AtomicBool) {
    let mut input = std::io::BufReader::with_capacity(1 << 16, std::io::stdin());
    let mut bundle = Vec::new();
    let mut line = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        line.clear();
        // A line is read whole up to the bound, the rest passed over.
        let read = (&mut input)
            .take(max as u64 + 1)
            .read_until(b'\n', &mut line);
        match read {
            Ok(0) => break,
            Ok(_) => {
                let cut = line.len() > max && line.last() != Some(&b'\n');
                if cut {
                    let mut rest = Vec::new();
                    let _ = input.read_until(b'\n', &mut rest);
                }
                let end = trim_end(&line).min(max);
                if end > 0 {
                    bundle.push(Message {
                        frame: Frame {
                            bytes: line[..end].to_vec(),
                            cut,
                        },
                        peer: None,
                        json: false,
                    });
                }
                if bundle.len() >= BUNDLE
                    && tx
                        .send(Arrival::Messages(index, std::mem::take(&mut bundle)))
                        .is_err()
                {
                    return;
                }
                if input.buffer().is_empty() && !bundle.is_empty() {
                    // Nothing more waiting: hand on what was read.
                    if tx
                        .send(Arrival::Messages(index, std::mem::take(&mut bundle)))
                        .is_err()
                    {
                        return;
                    }
                }
            }
            Err(e) => {
                let _ = tx.send(Arrival::Trouble(index, format!("stdin: {e}")));
                break;
            }
        }
    }
    if !bundle.is_empty() {
        let _ = tx.send(Arrival::Messages(index, bundle));
    }
}
