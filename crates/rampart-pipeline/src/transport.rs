//! How records reach a syslog receiver: UDP, one datagram each (no word
//! back: what the network drops is not known), or TCP, newline after each
//! record, over a connection made again when it breaks. Plain TCP says
//! nothing of what the receiver took either: records written into a
//! connection the receiver was closing are lost without an error, which
//! only an acknowledging protocol can tell.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use crate::delivery::Transport;

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
    fn send(&mut self, records: &[Vec<u8>]) -> io::Result<()> {
        for r in records {
            self.0.send(r)?;
        }
        Ok(())
    }
}

/// A stream to one receiver, newline after each record.
pub struct Tcp {
    to: SocketAddr,
    stream: Option<TcpStream>,
    out: Vec<u8>,
}

impl Tcp {
    /// Connects when first used.
    pub fn new(to: SocketAddr) -> Tcp {
        Tcp {
            to,
            stream: None,
            out: Vec::new(),
        }
    }
}

impl Transport for Tcp {
    fn send(&mut self, records: &[Vec<u8>]) -> io::Result<()> {
        self.out.clear();
        for r in records {
            self.out.extend_from_slice(r);
            self.out.push(b'\n');
        }
        let stream = match &mut self.stream {
            Some(s) => s,
            None => {
                let s = TcpStream::connect_timeout(&self.to, TIMEOUT)?;
                s.set_write_timeout(Some(TIMEOUT))?;
                s.set_nodelay(true)?;
                self.stream.insert(s)
            }
        };
        let written = stream.write_all(&self.out).and_then(|()| stream.flush());
        if written.is_err() {
            self.stream = None;
        }
        written
    }
}
