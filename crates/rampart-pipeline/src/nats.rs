//! NATS JetStream, the transport between machines (seed 004's producer
//! and consumer, and collectors feeding detection workers): a sink that
//! publishes each record and counts it sent once the stream has stored it
//! (the publish acknowledgement), and a source that reads a stream as a
//! durable consumer, so that any number of `rampart run` share its
//! messages and a restarted one goes on from where its consumer stood.
//! The client is async; each sink and source runs it on a small runtime
//! of its own thread.
//!
//! The source acknowledges a message only once every sink keeps what it
//! became (its store commit written, disk buffers synced): the pipeline
//! moves an [`AckPoint`] as it commits, and the source acknowledges up to
//! it. A run killed before leaves those messages to the consumer's next
//! reader (redelivered after the consumer's ack wait): none is lost, and
//! at most what was committed but not yet acknowledged comes twice.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use futures_util::StreamExt;

use crate::acks::AckPoint;
use crate::arrival::{Arrival, Message};
use crate::delivery::{Failed, Transport};
use crate::framing::Frame;

/// The stream a subject's messages are kept in, unless a pipeline names
/// another: the subject in capitals, other characters as `_`
/// (`rampart.events` is kept in `RAMPART_EVENTS`).
pub fn stream_for(subject: &str) -> String {
    subject
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Messages fetched from a stream at a time.
const FETCH: usize = 4096;

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Connects to `servers`; the stream `stream` is made, taking `subject`
/// and kept on `replicas` servers, when it is not there.
async fn context(
    servers: &str,
    stream: &str,
    subject: &str,
    replicas: usize,
) -> Result<jetstream::Context, String> {
    // One server or several, comma-separated (the nodes of a cluster).
    let addresses = servers
        .split(',')
        .map(|a| a.trim().parse::<async_nats::ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{servers}: {e}"))?;
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(10))
        .connect(addresses)
        .await
        .map_err(|e| format!("{servers}: {e}"))?;
    let js = jetstream::new(client);
    js.get_or_create_stream(jetstream::stream::Config {
        name: stream.to_string(),
        subjects: vec![subject.to_string()],
        num_replicas: replicas,
        ..Default::default()
    })
    .await
    .map_err(|e| format!("{servers}: stream {stream}: {e}"))?;
    Ok(js)
}

/// Records one message may hold, at most: a record's place in a stream is
/// its message's sequence and its line in the message, in 16 bits.
pub const MAX_PER_MESSAGE: usize = 65_535;

/// Publishes records to a subject of a JetStream stream.
pub struct Publisher {
    rt: tokio::runtime::Runtime,
    js: Option<jetstream::Context>,
    servers: String,
    stream: String,
    subject: String,
    replicas: usize,
    /// Records per message, as its lines.
    per_message: usize,
}

impl Publisher {
    /// Publishes to `subject`, stored by `stream` (made if missing, kept
    /// on `replicas` servers), on `servers`; connects when first used.
    pub fn new(
        servers: &str,
        (stream, subject): (&str, &str),
        replicas: usize,
    ) -> std::io::Result<Publisher> {
        Ok(Publisher {
            rt: runtime()?,
            js: None,
            servers: servers.to_string(),
            stream: stream.to_string(),
            subject: subject.to_string(),
            replicas,
            per_message: 1,
        })
    }

    /// Sends up to `n` records together, as the lines of one message.
    pub fn per_message(mut self, n: usize) -> Publisher {
        self.per_message = n.clamp(1, MAX_PER_MESSAGE);
        self
    }
}

impl Transport for Publisher {
    fn send(&mut self, records: &[Vec<u8>]) -> Result<(), Failed> {
        let Publisher {
            rt,
            js,
            servers,
            stream,
            subject,
            replicas,
            per_message,
        } = self;
        let mut taken = 0;
        let sent = rt.block_on(async {
            if js.is_none() {
                *js = Some(context(servers, stream, subject, *replicas).await?);
            }
            let js = js.as_ref().expect("just made");
            // Published all at once, then their acknowledgements awaited
            // in order: what was stored before a failure stays taken.
            let mut acks = Vec::with_capacity(records.len());
            for group in records.chunks(*per_message) {
                let message = match group {
                    [one] => one.clone(),
                    many => many.join(&b'\n'),
                };
                let ack = js
                    .publish(subject.clone(), message.into())
                    .await
                    .map_err(|e| e.to_string())?;
                acks.push((ack, group.len()));
            }
            for (ack, n) in acks {
                ack.await.map_err(|e| e.to_string())?;
                taken += n;
            }
            Ok::<(), String>(())
        });
        if sent.is_err() {
            self.js = None;
        }
        sent.map_err(|why| Failed {
            taken,
            why: std::io::Error::other(why),
        })
    }
}

/// A stream read by a durable consumer.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// The servers (`nats://host:port`).
    pub servers: String,
    /// The stream (made, taking `subject`, when it is not there).
    pub stream: String,
    /// The subject its messages are published on.
    pub subject: String,
    /// The durable consumer's name: runs sharing it share the messages.
    pub consumer: String,
    /// Messages longer than this are cut and flagged.
    pub max_frame: usize,
    /// Servers the stream is kept on, when this source makes it.
    pub replicas: usize,
    /// How long a message handed on waits for its acknowledgement before
    /// the server delivers it again (to whichever reader asks: after a
    /// crash, the next run).
    pub ack_wait: Duration,
}

/// Starts NATS source `index` on its own thread; its messages are
/// acknowledged as `acks` allows.
pub fn start(
    index: usize,
    sub: Subscription,
    tx: SyncSender<Arrival>,
    (stop, acks): (Arc<AtomicBool>, Arc<AckPoint>),
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let rt = runtime()?;
    std::thread::Builder::new()
        .name(format!("rampart-source-{index}"))
        .spawn(move || {
            let mut held = VecDeque::new();
            let read = rt.block_on(consume(index, &sub, &tx, (&stop, &acks), &mut held));
            if let Err(why) = read {
                let _ = tx.send(Arrival::Trouble(index, why));
            }
            let _ = tx.send(Arrival::Ended(index));
            // What the pipeline keeps by its end is acknowledged; the rest
            // is left to the consumer's next reader.
            rt.block_on(async {
                let deadline = Instant::now() + SETTLE;
                while !held.is_empty() && Instant::now() < deadline {
                    let settled = acks.settled();
                    if ack_kept(&acks, &mut held, sub.ack_wait).await.is_err() || settled {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            });
            acks.finished();
        })
}

/// Messages handed on and not yet acknowledged, at most (the server
/// holds back the rest).
const MAX_ACK_PENDING: i64 = 65_536;

/// How long a stopped source waits for the pipeline's last commit.
const SETTLE: Duration = Duration::from_secs(30);

/// Messages handed on in batches, each batch with its ticket and when the
/// server last heard of it.
type Held = VecDeque<(u64, Instant, Vec<jetstream::Message>)>;

/// Acknowledges the held batches the pipeline keeps; those held for half
/// the ack wait are said to be in progress, so that a pipeline behind
/// does not have them delivered again.
async fn ack_kept(acks: &AckPoint, held: &mut Held, ack_wait: Duration) -> Result<(), String> {
    let safe = acks.kept();
    while held.front().is_some_and(|(ticket, ..)| *ticket <= safe) {
        if let Some((.., messages)) = held.pop_front() {
            // Sent together, not one round of the client's queue each.
            futures_util::future::try_join_all(messages.iter().map(|m| m.ack()))
                .await
                .map_err(|e| format!("ack: {e}"))?;
        }
    }
    for (_, heard, messages) in held.iter_mut() {
        if heard.elapsed() < ack_wait / 2 {
            break;
        }
        futures_util::future::try_join_all(
            messages
                .iter()
                .map(|m| m.ack_with(jetstream::AckKind::Progress)),
        )
        .await
        .map_err(|e| format!("ack: {e}"))?;
        *heard = Instant::now();
    }
    Ok(())
}

/// The durable consumer of `sub`, the stream made when missing.
async fn consumer_of(sub: &Subscription) -> Result<jetstream::consumer::PullConsumer, String> {
    let js = context(&sub.servers, &sub.stream, &sub.subject, sub.replicas).await?;
    let stream = js
        .get_stream(&sub.stream)
        .await
        .map_err(|e| format!("stream {}: {e}", sub.stream))?;
    stream
        .get_or_create_consumer(
            &sub.consumer,
            jetstream::consumer::pull::Config {
                durable_name: Some(sub.consumer.clone()),
                filter_subject: sub.subject.clone(),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                // Messages wait for a commit (about a second) before
                // their acknowledgement: room for many batches meanwhile.
                max_ack_pending: MAX_ACK_PENDING,
                ack_wait: sub.ack_wait,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| format!("consumer {}: {e}", sub.consumer))
}

/// One fetch: the messages as the pipeline takes them, and as the server
/// wants them acknowledged.
async fn fetch(
    consumer: &jetstream::consumer::PullConsumer,
    max_frame: usize,
) -> Result<(Vec<Message>, Vec<jetstream::Message>), String> {
    let mut batch = consumer
        .fetch()
        .max_messages(FETCH)
        .expires(Duration::from_millis(200))
        .messages()
        .await
        .map_err(|e| format!("fetch: {e}"))?;
    let mut messages = Vec::new();
    let mut taken = Vec::new();
    while let Some(m) = batch.next().await {
        // What was taken before a failure is not handed on: the server
        // delivers it again after the ack wait.
        let m = m.map_err(|e| format!("fetch: {e}"))?;
        let mut bytes = m.payload.to_vec();
        while bytes.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
            bytes.pop();
        }
        let cut = bytes.len() > max_frame;
        bytes.truncate(max_frame);
        let json = bytes.first() == Some(&b'{');
        messages.push(Message {
            frame: Frame { bytes, cut },
            peer: None,
            json,
        });
        taken.push(m);
    }
    Ok((messages, taken))
}

/// Reads until stopped. A server that goes away (a cluster node killed,
/// the network down) is said once and tried again every half second: the
/// client finds the cluster's other nodes, and what was handed on and not
/// acknowledged comes again.
async fn consume(
    index: usize,
    sub: &Subscription,
    tx: &SyncSender<Arrival>,
    (stop, acks): (&AtomicBool, &AckPoint),
    held: &mut Held,
) -> Result<(), String> {
    let mut ticket = 0;
    let mut consumer = None;
    let mut said = false;
    while !stop.load(Ordering::Relaxed) {
        let read = async {
            ack_kept(acks, held, sub.ack_wait).await?;
            if consumer.is_none() {
                consumer = Some(consumer_of(sub).await?);
            }
            match &consumer {
                Some(c) => fetch(c, sub.max_frame).await,
                None => Ok((Vec::new(), Vec::new())),
            }
        };
        let (messages, taken) = match read.await {
            Ok(read) => {
                said = false;
                read
            }
            Err(why) => {
                if !said {
                    said = true;
                    let _ = tx.send(Arrival::Trouble(index, why));
                }
                consumer = None;
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        // Handed on, and acknowledged once the pipeline keeps them.
        ticket += 1;
        if tx.send(Arrival::Ticketed(index, messages, ticket)).is_err() {
            return Ok(());
        }
        held.push_back((ticket, Instant::now(), taken));
    }
    Ok(())
}
