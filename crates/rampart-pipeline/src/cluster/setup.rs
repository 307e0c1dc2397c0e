//! A cluster's streams, consumer and buckets, made when missing, and the
//! bounds on every exchange with it: a request whose node died is never
//! answered, and a cluster that lost a node answers again once its streams
//! have elected new leaders.

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer, object_store, stream};

use super::lease;
use super::owner::Places;
use crate::config::Cluster;

/// The cluster's names for its streams, consumer and buckets.
pub struct Names {
    /// The stream collectors publish events to.
    pub events_stream: String,
    /// The workers' durable consumer of it.
    pub consumer: String,
    /// The stream of work shared out by partition.
    pub work_stream: String,
    /// Its subjects' prefix; a partition's subject ends with its number.
    pub work_prefix: String,
    /// The bucket of partitions' heads and the object store of their state.
    pub state: String,
}

impl Names {
    /// The names of `cluster`'s parts.
    pub fn of(cluster: &Cluster) -> Names {
        Names {
            events_stream: crate::nats::stream_for(&cluster.events),
            consumer: format!("{}-workers", cluster.name),
            work_stream: format!("{}_WORK", cluster.name.to_ascii_uppercase()),
            work_prefix: format!("{}.work.", cluster.name),
            state: format!("{}-state", cluster.name),
        }
    }
}

/// Connects to `cluster`'s servers.
pub async fn connect(cluster: &Cluster) -> Result<async_nats::Client, String> {
    let addresses = cluster
        .servers
        .split(',')
        .map(|a| a.trim().parse::<async_nats::ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", cluster.servers))?;
    async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(10))
        .connect(addresses)
        .await
        .map_err(|e| format!("{}: {e}", cluster.servers))
}

/// The streams, consumer and buckets of `cluster`, made when missing.
pub(super) struct Parts {
    pub(super) events: consumer::PullConsumer,
    pub(super) places: Places,
}

/// The workers' durable consumer of the events stream, both made when
/// missing.
pub(super) async fn events_consumer(
    js: &jetstream::Context,
    cluster: &Cluster,
) -> Result<consumer::PullConsumer, String> {
    let names = Names::of(cluster);
    let events = js
        .get_or_create_stream(stream::Config {
            name: names.events_stream.clone(),
            subjects: vec![cluster.events.clone()],
            num_replicas: cluster.replicas,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("stream {}: {e}", names.events_stream))?;
    events
        .get_or_create_consumer(
            &names.consumer,
            consumer::pull::Config {
                durable_name: Some(names.consumer.clone()),
                filter_subject: cluster.events.clone(),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: cluster.ack_wait,
                max_ack_pending: 65_536,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| format!("consumer {}: {e}", names.consumer))
}

pub(super) async fn parts(js: &jetstream::Context, cluster: &Cluster) -> Result<Parts, String> {
    let names = Names::of(cluster);
    let events = events_consumer(js, cluster).await?;
    let work = js
        .get_or_create_stream(stream::Config {
            name: names.work_stream.clone(),
            subjects: vec![format!("{}*", names.work_prefix)],
            num_replicas: cluster.replicas,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("stream {}: {e}", names.work_stream))?;
    let heads = lease::bucket(js, &names.state, Duration::ZERO, cluster.replicas).await?;
    let objects = match js.get_object_store(&names.state).await {
        Ok(o) => o,
        Err(_) => js
            .create_object_store(object_store::Config {
                bucket: names.state.clone(),
                num_replicas: cluster.replicas,
                ..Default::default()
            })
            .await
            .map_err(|e| format!("object store {}: {e}", names.state))?,
    };
    Ok(Parts {
        events,
        places: Places {
            js: js.clone(),
            heads,
            objects,
            work,
            prefix: names.work_prefix,
            worker: cluster.worker.clone(),
        },
    })
}

/// How long setting up waits out a cluster that does not answer (a node
/// lost, its streams electing a new leader).
const SETUP_PATIENCE: Duration = Duration::from_secs(30);

/// Does `step` until it works, or gives its last error after
/// [`SETUP_PATIENCE`].
pub async fn patiently<T, F, Fut>(mut step: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let started = Instant::now();
    loop {
        match step().await {
            Ok(t) => return Ok(t),
            Err(e) if started.elapsed() >= SETUP_PATIENCE => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// How long one exchange with the cluster may take before it counts as
/// failed: a request whose node died is never answered.
pub const REQUEST: Duration = Duration::from_secs(10);

/// `work`, failed with a timeout after [`REQUEST`].
pub async fn within<T>(
    work: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    tokio::time::timeout(REQUEST, work)
        .await
        .unwrap_or_else(|_| Err("the cluster did not answer in time".into()))
}
