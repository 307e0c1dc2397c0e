//! NATS JetStream, the transport between machines (seed 004's producer
//! and consumer, and collectors feeding detection workers): a sink that
//! publishes each record and counts it sent once the stream has stored it
//! (the publish acknowledgement), and a source that reads a stream as a
//! durable consumer, so that any number of `rampart run` share its
//! messages and a restarted one goes on from where its consumer stood.
//! The client is async; each sink and source runs it on a small runtime
//! of its own thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use futures_util::StreamExt;

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
const FETCH: usize = 512;

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Connects to `servers`; the stream `stream` is made, taking `subject`,
/// when it is not there.
async fn context(servers: &str, stream: &str, subject: &str) -> Result<jetstream::Context, String> {
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(10))
        .connect(servers)
        .await
        .map_err(|e| format!("{servers}: {e}"))?;
    let js = jetstream::new(client);
    js.get_or_create_stream(jetstream::stream::Config {
        name: stream.to_string(),
        subjects: vec![subject.to_string()],
        ..Default::default()
    })
    .await
    .map_err(|e| format!("{servers}: stream {stream}: {e}"))?;
    Ok(js)
}

/// Publishes records to a subject of a JetStream stream.
pub struct Publisher {
    rt: tokio::runtime::Runtime,
    js: Option<jetstream::Context>,
    servers: String,
    stream: String,
    subject: String,
}

impl Publisher {
    /// Publishes to `subject`, stored by `stream` (made if missing), on
    /// `servers`; connects when first used.
    pub fn new(servers: &str, stream: &str, subject: &str) -> std::io::Result<Publisher> {
        Ok(Publisher {
            rt: runtime()?,
            js: None,
            servers: servers.to_string(),
            stream: stream.to_string(),
            subject: subject.to_string(),
        })
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
        } = self;
        let mut taken = 0;
        let sent = rt.block_on(async {
            if js.is_none() {
                *js = Some(context(servers, stream, subject).await?);
            }
            let js = js.as_ref().expect("just made");
            // Published all at once, then their acknowledgements awaited
            // in order: what was stored before a failure stays taken.
            let mut acks = Vec::with_capacity(records.len());
            for r in records {
                let ack = js
                    .publish(subject.clone(), r.clone().into())
                    .await
                    .map_err(|e| e.to_string())?;
                acks.push(ack);
            }
            for ack in acks {
                ack.await.map_err(|e| e.to_string())?;
                taken += 1;
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
}

/// Starts NATS source `index` on its own thread.
pub fn start(
    index: usize,
    sub: Subscription,
    tx: SyncSender<Arrival>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let rt = runtime()?;
    std::thread::Builder::new()
        .name(format!("rampart-source-{index}"))
        .spawn(move || {
            if let Err(why) = rt.block_on(consume(index, &sub, &tx, &stop)) {
                let _ = tx.send(Arrival::Trouble(index, why));
            }
            let _ = tx.send(Arrival::Ended(index));
        })
}

async fn consume(
    index: usize,
    sub: &Subscription,
    tx: &SyncSender<Arrival>,
    stop: &AtomicBool,
) -> Result<(), String> {
    let js = context(&sub.servers, &sub.stream, &sub.subject).await?;
    let stream = js
        .get_stream(&sub.stream)
        .await
        .map_err(|e| format!("stream {}: {e}", sub.stream))?;
    let consumer: jetstream::consumer::PullConsumer = stream
        .get_or_create_consumer(
            &sub.consumer,
            jetstream::consumer::pull::Config {
                durable_name: Some(sub.consumer.clone()),
                filter_subject: sub.subject.clone(),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| format!("consumer {}: {e}", sub.consumer))?;
    while !stop.load(Ordering::Relaxed) {
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
            let m = m.map_err(|e| format!("fetch: {e}"))?;
            let mut bytes = m.payload.to_vec();
            while bytes.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
                bytes.pop();
            }
            let cut = bytes.len() > sub.max_frame;
            bytes.truncate(sub.max_frame);
            let json = bytes.first() == Some(&b'{');
            messages.push(Message {
                frame: Frame { bytes, cut },
                peer: None,
                json,
            });
            taken.push(m);
        }
        if messages.is_empty() {
            continue;
        }
        // Handed on, then acknowledged: a run that dies before leaves them
        // for the consumer's next reader.
        if tx.send(Arrival::Messages(index, messages)).is_err() {
            return Ok(());
        }
        for m in taken {
            m.ack().await.map_err(|e| format!("ack: {e}"))?;
        }
    }
    Ok(())
}
