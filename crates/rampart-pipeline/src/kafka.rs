//! Kafka, for SOCs whose logs already travel on it: a sink that produces
//! each record and counts it sent once every in-sync replica has it
//! (`acks=all`), and a source that reads topics as a member of a consumer
//! group, so that any number of `rampart run` share the partitions and a
//! restarted one goes on from its group's committed offsets.
//!
//! The source commits a batch's offsets only once every sink keeps what
//! the batch became (see `acks`): a run killed before loses nothing, and
//! the next member of the group reads again what was not committed.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message as _;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

use crate::acks::AckPoint;
use crate::arrival::{Arrival, Message};
use crate::delivery::{Failed, Transport};
use crate::framing::Frame;

/// Messages handed on at a time, at most.
const BATCH: usize = 512;
/// How long a batch gathers messages, at most.
const LINGER: Duration = Duration::from_millis(200);
/// How long a stopped source waits for the pipeline's last commit.
const SETTLE: Duration = Duration::from_secs(30);

/// Produces records to a topic.
pub struct Producer {
    rt: tokio::runtime::Runtime,
    producer: FutureProducer,
    topic: String,
}

impl Producer {
    /// Produces to `topic` on `brokers` (`host:port,...`).
    pub fn new(brokers: &str, topic: &str) -> std::io::Result<Producer> {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("acks", "all")
            .set("message.timeout.ms", "30000")
            .set("linger.ms", "5")
            .create()
            .map_err(|e| std::io::Error::other(format!("kafka {brokers}: {e}")))?;
        Ok(Producer {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
            producer,
            topic: topic.to_string(),
        })
    }
}

impl Transport for Producer {
    fn send(&mut self, records: &[Vec<u8>]) -> Result<(), Failed> {
        let Producer {
            rt,
            producer,
            topic,
        } = self;
        let mut taken = 0;
        let sent = rt.block_on(async {
            // Produced all at once, then their deliveries awaited in
            // order: what was stored before a failure stays taken.
            let mut deliveries = Vec::with_capacity(records.len());
            for r in records {
                let record = FutureRecord::<(), [u8]>::to(topic).payload(r.as_slice());
                let delivery = producer
                    .send_result(record)
                    .map_err(|(e, _)| format!("kafka: {e}"))?;
                deliveries.push(delivery);
            }
            for d in deliveries {
                match d.await {
                    Ok(Ok(_)) => taken += 1,
                    Ok(Err((e, _))) => return Err(format!("kafka: {e}")),
                    Err(_) => return Err("kafka: the delivery was cancelled".to_string()),
                }
            }
            Ok(())
        });
        sent.map_err(|why| Failed {
            taken,
            why: std::io::Error::other(why),
        })
    }
}

/// Topics read as a member of a consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The brokers (`host:port,...`).
    pub brokers: String,
    /// The topics.
    pub topics: Vec<String>,
    /// The consumer group: runs sharing it share the partitions.
    pub group: String,
    /// This member's lasting name in its group (Kafka's static
    /// membership): restarted, it takes its partitions back at once
    /// instead of after the dead member's session ran out.
    pub instance: Option<String>,
    /// Messages longer than this are cut and flagged.
    pub max_frame: usize,
}

/// Offsets to commit: the next offset of each topic's partition.
type Offsets = HashMap<(String, i32), i64>;

/// Starts Kafka source `index` on its own thread; offsets are committed
/// as `acks` allows.
pub fn start(
    index: usize,
    sub: Subscription,
    tx: SyncSender<Arrival>,
    (stop, acks): (Arc<AtomicBool>, Arc<AckPoint>),
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let mut config = ClientConfig::new();
    if let Some(name) = &sub.instance {
        config.set("group.instance.id", name);
    }
    let consumer: BaseConsumer = config
        .set("bootstrap.servers", &sub.brokers)
        .set("group.id", &sub.group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        // A member that died (killed, its machine gone) gives its
        // partitions back after ten seconds, not librdkafka's 45.
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "3000")
        .create()
        .map_err(|e| std::io::Error::other(format!("kafka {}: {e}", sub.brokers)))?;
    let topics: Vec<&str> = sub.topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topics)
        .map_err(|e| std::io::Error::other(format!("kafka: {e}")))?;
    std::thread::Builder::new()
        .name(format!("rampart-source-{index}"))
        .spawn(move || {
            let mut held = VecDeque::new();
            if let Err(why) = consume(index, &consumer, &sub, &tx, (&stop, &acks), &mut held) {
                let _ = tx.send(Arrival::Trouble(index, why));
            }
            let _ = tx.send(Arrival::Ended(index));
            // What the pipeline keeps by its end is committed; the rest is
            // left to the group's next reader.
            let deadline = Instant::now() + SETTLE;
            while !held.is_empty() && Instant::now() < deadline {
                let settled = acks.settled();
                if commit_kept(&consumer, &acks, &mut held).is_err() || settled {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            acks.finished();
        })
}

/// Commits the offsets of the held batches the pipeline keeps.
fn commit_kept(
    consumer: &BaseConsumer,
    acks: &AckPoint,
    held: &mut VecDeque<(u64, Offsets)>,
) -> Result<(), String> {
    let kept = acks.kept();
    let mut next = Offsets::new();
    while held.front().is_some_and(|(ticket, _)| *ticket <= kept) {
        if let Some((_, offsets)) = held.pop_front() {
            for (key, offset) in offsets {
                let at = next.entry(key).or_insert(offset);
                *at = (*at).max(offset);
            }
        }
    }
    if next.is_empty() {
        return Ok(());
    }
    let mut list = TopicPartitionList::new();
    for ((topic, partition), offset) in &next {
        list.add_partition_offset(topic, *partition, Offset::Offset(*offset))
            .map_err(|e| format!("commit: {e}"))?;
    }
    consumer
        .commit(&list, CommitMode::Sync)
        .map_err(|e| format!("commit: {e}"))
}

fn consume(
    index: usize,
    consumer: &BaseConsumer,
    sub: &Subscription,
    tx: &SyncSender<Arrival>,
    (stop, acks): (&AtomicBool, &AckPoint),
    held: &mut VecDeque<(u64, Offsets)>,
) -> Result<(), String> {
    let mut ticket = 0;
    let mut said = false;
    while !stop.load(Ordering::Relaxed) {
        // A commit refused (the group rebalanced away a partition) leaves
        // those messages to be read again: said, not fatal.
        if let Err(why) = commit_kept(consumer, acks, held) {
            let _ = tx.send(Arrival::Trouble(index, format!("kafka: {why}")));
        }
        let mut messages = Vec::new();
        let mut offsets = Offsets::new();
        let started = Instant::now();
        while messages.len() < BATCH && started.elapsed() < LINGER {
            let Some(polled) = consumer.poll(Duration::from_millis(50)) else {
                continue;
            };
            let m = match polled {
                Ok(m) => m,
                Err(e) => {
                    // The brokers may be down for a while: said once, and
                    // polled again.
                    if !said {
                        said = true;
                        let _ = tx.send(Arrival::Trouble(index, format!("kafka: {e}")));
                    }
                    continue;
                }
            };
            said = false;
            let mut bytes = m.payload().unwrap_or_default().to_vec();
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
            let at = offsets
                .entry((m.topic().to_string(), m.partition()))
                .or_insert(0);
            *at = (*at).max(m.offset() + 1);
        }
        if messages.is_empty() {
            continue;
        }
        ticket += 1;
        if tx.send(Arrival::Ticketed(index, messages, ticket)).is_err() {
            return Ok(());
        }
        held.push_back((ticket, offsets));
    }
    Ok(())
}
