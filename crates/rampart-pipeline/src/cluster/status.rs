//! What `rampart cluster status` shows: the workers alive and what each
//! says of itself, each partition's owner and how far it has taken the
//! events stream, and how far behind the workers are.

use serde::Serialize;

use super::lease::{self, key_of};
use super::{connect, Names};
use crate::config::Cluster;
use rampart_engine::SHARES;

/// The state of a cluster.
#[derive(Debug, Serialize)]
pub struct Status {
    /// The workers alive, each with what it last said of itself.
    pub workers: Vec<serde_json::Value>,
    /// Each partition.
    pub partitions: Vec<PartitionStatus>,
    /// The last event published.
    pub events_published: u64,
    /// Events every worker acknowledged, up to this sequence.
    pub events_taken: u64,
    /// Events not yet handed to a worker.
    pub events_waiting: u64,
    /// Events handed to a worker and not yet acknowledged.
    pub events_in_hand: u64,
}

/// One partition.
#[derive(Debug, Serialize)]
pub struct PartitionStatus {
    /// Its number (the last holds chains and dedup windows).
    pub partition: usize,
    /// The worker holding it, if one does.
    pub owner: Option<String>,
    /// How far it has taken the events stream, by its last save.
    pub through: u64,
    /// How far behind the last event published it is.
    pub behind: u64,
}

/// Reads the status of `cluster`.
pub fn status(cluster: &Cluster) -> Result<Status, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(super::within(async {
        let js = async_nats::jetstream::new(connect(cluster).await?);
        let names = Names::of(cluster);
        let mut stream = js
            .get_stream(&names.events_stream)
            .await
            .map_err(|e| format!("stream {}: {e}", names.events_stream))?;
        let published = stream
            .info()
            .await
            .map_err(|e| format!("stream {}: {e}", names.events_stream))?
            .state
            .last_sequence;
        let mut consumer: async_nats::jetstream::consumer::PullConsumer = stream
            .get_consumer(&names.consumer)
            .await
            .map_err(|e| format!("consumer {}: {e}", names.consumer))?;
        let info = consumer
            .info()
            .await
            .map_err(|e| format!("consumer {}: {e}", names.consumer))?
            .clone();
        let bucket = |name: String| {
            let js = js.clone();
            async move {
                js.get_key_value(&name)
                    .await
                    .map_err(|e| format!("{name}: {e}"))
            }
        };
        let workers = lease::entries(&bucket(format!("{}-workers", cluster.name)).await?).await?;
        let owners = lease::entries(&bucket(format!("{}-owners", cluster.name)).await?).await?;
        let heads = lease::entries(&bucket(names.state.clone()).await?).await?;
        let partitions = (0..SHARES)
            .map(|p| {
                let key = key_of(p);
                let through = heads
                    .get(&key)
                    .and_then(|v| serde_json::from_slice::<super::owner::Head>(v).ok())
                    .map_or(0, |h| h.through);
                PartitionStatus {
                    partition: p,
                    owner: owners
                        .get(&key)
                        .map(|v| String::from_utf8_lossy(v).into_owned()),
                    through,
                    behind: published.saturating_sub(through),
                }
            })
            .collect();
        let workers = workers
            .into_iter()
            .map(|(name, said)| {
                let mut v: serde_json::Value =
                    serde_json::from_slice(&said).unwrap_or(serde_json::Value::Null);
                if let serde_json::Value::Object(o) = &mut v {
                    o.insert("worker".into(), name.into());
                }
                v
            })
            .collect();
        Ok(Status {
            workers,
            partitions,
            events_published: published,
            events_taken: info.ack_floor.stream_sequence,
            events_waiting: info.num_pending,
            events_in_hand: info.num_ack_pending as u64,
        })
    }))
}
