//! An HTTP input that speaks Splunk's HTTP Event Collector, so that
//! whatever already sends to Splunk (a forwarder, an application's HEC
//! logger) can send to rampart: `/services/collector/event` takes JSON
//! objects one after another (each `event` a line of text or an object),
//! `/services/collector/raw` takes lines, and both take gzip bodies.
//! Requests carry `Authorization: Splunk <token>`; a wrong or missing
//! token is refused as Splunk refuses it, and counted. Each event becomes
//! a line for the source's decoder (text as it is, objects as JSON), so
//! the format is found as for any other source.
//!
//! Indexer acknowledgements, as Splunk gives them: a request that names a
//! channel (`X-Splunk-Request-Channel`, or `?channel=`) is answered with an
//! `ackId`, and `/services/collector/ack` tells the sender which of its
//! ids are kept by every sink (the store's commit written, buffers
//! synced), so a sender that resends what is not acknowledged loses
//! nothing. Channels and the ids each waits on are bounded; an id pushed
//! out is never acknowledged, and its events are sent again.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::acks::AckPoint;
use crate::arrival::{Arrival, Message};
use crate::framing::Frame;

/// Channels kept at most; the one quiet longest makes room.
const MAX_CHANNELS: usize = 1_000;
/// Acknowledgement ids a channel waits on at most; the oldest makes room.
const MAX_PENDING: usize = 10_000;

/// A channel's acknowledgement ids and the tickets of their events.
struct Channel {
    next: u64,
    pending: BTreeMap<u64, u64>,
    used: Instant,
}

/// Every channel and the tickets given out.
#[derive(Default)]
struct Channels {
    by_name: HashMap<String, Channel>,
    ticket: u64,
}

impl Channels {
    /// A new id on `name` for the next ticket; the ticket and the id.
    fn give(&mut self, name: &str) -> (u64, u64) {
        if !self.by_name.contains_key(name) && self.by_name.len() >= MAX_CHANNELS {
            let quietest = self
                .by_name
                .iter()
                .min_by_key(|(_, c)| c.used)
                .map(|(n, _)| n.clone());
            if let Some(n) = quietest {
                self.by_name.remove(&n);
            }
        }
        let channel = self.by_name.entry(name.to_string()).or_insert(Channel {
            next: 0,
            pending: BTreeMap::new(),
            used: Instant::now(),
        });
        self.ticket += 1;
        let id = channel.next;
        channel.next += 1;
        channel.used = Instant::now();
        channel.pending.insert(id, self.ticket);
        if channel.pending.len() > MAX_PENDING {
            channel.pending.pop_first();
        }
        (self.ticket, id)
    }

    /// Which of `ids` on `name` are kept (those are then forgotten, as
    /// Splunk forgets an id it reported).
    fn ask(&mut self, name: &str, ids: &[u64], kept: u64) -> Vec<(u64, bool)> {
        let Some(channel) = self.by_name.get_mut(name) else {
            return ids.iter().map(|id| (*id, false)).collect();
        };
        channel.used = Instant::now();
        ids.iter()
            .map(|id| {
                let done = channel.pending.get(id).is_some_and(|t| *t <= kept);
                if done {
                    channel.pending.remove(id);
                }
                (*id, done)
            })
            .collect()
    }
}

/// The largest request body taken (after gunzipping).
pub const MAX_BODY: u64 = 16 << 20;

/// Serves HEC on `server` for source `index`, handing events to `tx`,
/// until `stop`; acknowledgements say what `acks` says is kept.
pub fn serve(
    index: usize,
    server: tiny_http::Server,
    token: String,
    (max_frame, tx): (usize, SyncSender<Arrival>),
    (stop, acks): (Arc<AtomicBool>, Arc<AckPoint>),
) {
    let mut channels = Channels::default();
    while !stop.load(Ordering::Relaxed) {
        let request = match server.recv_timeout(Duration::from_millis(100)) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(e) => {
                let _ = tx.send(Arrival::Trouble(index, e.to_string()));
                continue;
            }
        };
        let peer = request.remote_addr().copied();
        let ask = request_parts(&request, &token);
        let channel = channel_of(&request);
        if let (Ask::Ack, Some(name)) = (&ask, &channel) {
            let _ = answer_acks(request, name, &mut channels, acks.kept());
            continue;
        }
        let (mut reply, request, messages) = take(ask, request, max_frame, peer);
        // Answered once the events are handed on: a full pipeline holds
        // the sender back.
        if !messages.is_empty() {
            let arrival = match &channel {
                Some(name) => {
                    let (ticket, id) = channels.give(name);
                    reply = Reply(
                        200,
                        format!("{{\"text\":\"Success\",\"code\":0,\"ackId\":{id}}}"),
                    );
                    Arrival::Ticketed(index, messages, ticket)
                }
                None => Arrival::Messages(index, messages),
            };
            if tx.send(arrival).is_err() {
                break;
            }
        }
        let _ = reply.respond(request);
    }
    // Nothing to send back at the end: senders ask.
    acks.finished();
}

/// The channel a request names, by its header or its query.
fn channel_of(request: &tiny_http::Request) -> Option<String> {
    let header = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("X-Splunk-Request-Channel"))
        .map(|h| h.value.as_str().trim().to_string());
    let query = request.url().split_once('?').and_then(|(_, q)| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("channel="))
            .map(str::to_string)
    });
    header.or(query).filter(|c| !c.is_empty() && c.len() <= 128)
}

/// Answers `/services/collector/ack`: `{"acks": [ids]}` gives
/// `{"acks": {"id": kept, ...}}`.
fn answer_acks(
    mut request: tiny_http::Request,
    channel: &str,
    channels: &mut Channels,
    kept: u64,
) -> std::io::Result<()> {
    let mut body = Vec::new();
    let read = request.as_reader().take(1 << 20).read_to_end(&mut body);
    let ids: Option<Vec<u64>> = read.ok().and_then(|_| {
        let asked: serde_json::Value = serde_json::from_slice(&body).ok()?;
        asked["acks"]
            .as_array()?
            .iter()
            .take(MAX_PENDING)
            .map(serde_json::Value::as_u64)
            .collect()
    });
    let reply = match ids {
        Some(ids) => {
            let acks: serde_json::Map<String, serde_json::Value> = channels
                .ask(channel, &ids, kept)
                .into_iter()
                .map(|(id, done)| (id.to_string(), done.into()))
                .collect();
            Reply(200, serde_json::json!({ "acks": acks }).to_string())
        }
        None => Reply::of(400, "Invalid data format", 6),
    };
    reply.respond(request)
}

/// What a request asks, once its token is checked.
enum Ask {
    Events,
    Raw,
    /// Which acknowledgement ids are kept.
    Ack,
    Refused(u16, &'static str, u32),
}

fn request_parts(request: &tiny_http::Request, token: &str) -> Ask {
    let given = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .map(|h| h.value.as_str().to_string());
    match given {
        None => return Ask::Refused(401, "Token is required", 2),
        Some(v) if v.strip_prefix("Splunk ").map(str::trim) != Some(token) => {
            return Ask::Refused(403, "Invalid token", 4)
        }
        Some(_) => {}
    }
    if *request.method() != tiny_http::Method::Post {
        return Ask::Refused(400, "Invalid data format", 6);
    }
    let path = request.url().split('?').next().unwrap_or("");
    match path.trim_end_matches('/') {
        "/services/collector/event" | "/services/collector" | "/services/collector/event/1.0" => {
            Ask::Events
        }
        "/services/collector/raw" | "/services/collector/raw/1.0" => Ask::Raw,
        "/services/collector/ack" | "/services/collector/ack/1.0" => Ask::Ack,
        _ => Ask::Refused(404, "The requested URL was not found on this server.", 404),
    }
}

/// A reply to send.
struct Reply(u16, String);

impl Reply {
    fn of(status: u16, text: &str, code: u32) -> Reply {
        Reply(status, format!("{{\"text\":\"{text}\",\"code\":{code}}}"))
    }

    fn respond(self, request: tiny_http::Request) -> std::io::Result<()> {
        let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..])
            .expect("a valid header");
        request.respond(
            tiny_http::Response::from_string(self.1)
                .with_status_code(self.0)
                .with_header(header),
        )
    }
}

/// Reads the body of `request` into messages; the reply and the messages.
fn take(
    ask: Ask,
    mut request: tiny_http::Request,
    max_frame: usize,
    peer: Option<SocketAddr>,
) -> (Reply, tiny_http::Request, Vec<Message>) {
    let ask = match ask {
        Ask::Refused(status, text, code) => {
            return (Reply::of(status, text, code), request, Vec::new())
        }
        Ask::Ack => {
            return (
                Reply::of(400, "Data channel is missing", 10),
                request,
                Vec::new(),
            )
        }
        ask => ask,
    };
    let gzipped = request.headers().iter().any(|h| {
        h.field.equiv("Content-Encoding") && h.value.as_str().eq_ignore_ascii_case("gzip")
    });
    let mut body = Vec::new();
    let read = if gzipped {
        flate2::read::GzDecoder::new(request.as_reader())
            .take(MAX_BODY + 1)
            .read_to_end(&mut body)
    } else {
        request
            .as_reader()
            .take(MAX_BODY + 1)
            .read_to_end(&mut body)
    };
    if read.is_err() {
        return (
            Reply::of(400, "Invalid data format", 6),
            request,
            Vec::new(),
        );
    }
    if body.len() as u64 > MAX_BODY {
        return (Reply::of(413, "Content too large", 27), request, Vec::new());
    }
    let lines = match ask {
        Ask::Raw => Ok(body
            .split(|b| *b == b'\n')
            .map(|l| (l.strip_suffix(b"\r").unwrap_or(l).to_vec(), false))
            .filter(|(l, _)| !l.is_empty())
            .collect()),
        _ => events(&body),
    };
    let lines: Vec<(Vec<u8>, bool)> = match lines {
        Ok(lines) if !lines.is_empty() => lines,
        Ok(_) => return (Reply::of(400, "No data", 5), request, Vec::new()),
        Err(()) => {
            return (
                Reply::of(400, "Invalid data format", 6),
                request,
                Vec::new(),
            )
        }
    };
    let messages = lines
        .into_iter()
        .map(|(mut bytes, json)| {
            let cut = bytes.len() > max_frame;
            bytes.truncate(max_frame);
            Message {
                frame: Frame { bytes, cut },
                peer,
                json,
            }
        })
        .collect();
    (Reply::of(200, "Success", 0), request, messages)
}

/// The `event` of each object of a HEC body: text as it is, anything else
/// as its JSON (and said to be JSON).
fn events(body: &[u8]) -> Result<Vec<(Vec<u8>, bool)>, ()> {
    let mut out = Vec::new();
    for object in serde_json::Deserializer::from_slice(body).into_iter::<serde_json::Value>() {
        let object = object.map_err(|_| ())?;
        match object.get("event") {
            Some(serde_json::Value::String(text)) => out.push((text.as_bytes().to_vec(), false)),
            Some(serde_json::Value::Null) | None => return Err(()),
            Some(other) => out.push((other.to_string().into_bytes(), true)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_bodies_give_text_as_it_is_and_objects_as_json() {
        let body = br#"{"event": "Mar 14 03:22:14 web01 sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2", "sourcetype": "linux_secure"}
{"time": 1, "event": {"EventID": 4625, "Computer": "dc1"}}"#;
        let lines = events(body).unwrap();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].0.starts_with(b"Mar 14"));
        assert!(!lines[0].1 && lines[1].1);
        let json: serde_json::Value = serde_json::from_slice(&lines[1].0).unwrap();
        assert_eq!(json["EventID"], 4625);
        assert!(events(br#"{"event": "a"} {"nope": 1}"#).is_err());
        assert!(events(b"{\"event\": \"a\"} garbage").is_err());
    }

    #[test]
    fn a_flood_of_channels_and_ids_stays_bounded() {
        let mut c = Channels::default();
        for n in 0..(MAX_CHANNELS + 500) {
            c.give(&format!("chan-{n}"));
        }
        assert_eq!(c.by_name.len(), MAX_CHANNELS);
        // The quietest channels made room: the first ones are gone.
        assert!(!c.by_name.contains_key("chan-0"));
        for _ in 0..(MAX_PENDING + 10) {
            c.give("hot");
        }
        let hot = &c.by_name["hot"];
        assert_eq!(hot.pending.len(), MAX_PENDING);
        // The oldest ids were pushed out: never said kept, so resent.
        let kept = c.ticket;
        assert_eq!(
            c.ask("hot", &[0, 9, 10], kept),
            [(0, false), (9, false), (10, true)]
        );
        assert_eq!(c.ask("hot", &[10], kept), [(10, false)]);
        assert_eq!(c.ask("nobody", &[1], kept), [(1, false)]);
    }
}
