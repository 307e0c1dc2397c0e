//! Who owns which partition, kept in JetStream key-value buckets rather
//! than by a protocol of rampart's own. A worker takes a partition by
//! creating its key (which fails while another holds it) and keeps it by
//! updating the key at the revision it last wrote (which fails once
//! another took it over); the bucket forgets a key not written for the
//! lease's length, so the partitions of a worker that died are free again
//! after it. Workers say they are alive the same way, in a bucket of their
//! own, and each aims at its fair share of the partitions: the partitions
//! over the workers alive, rounded up.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream::{self, kv};
use futures_util::StreamExt;

use crate::config::Cluster;

/// The key of partition `p`.
pub fn key_of(p: usize) -> String {
    format!("p{p:02}")
}

/// A bucket, made when missing.
pub async fn bucket(
    js: &jetstream::Context,
    name: &str,
    max_age: Duration,
    replicas: usize,
) -> Result<kv::Store, String> {
    if let Ok(store) = js.get_key_value(name).await {
        return Ok(store);
    }
    js.create_key_value(kv::Config {
        bucket: name.to_owned(),
        history: 1,
        max_age,
        num_replicas: replicas,
        ..Default::default()
    })
    .await
    .map_err(|e| format!("bucket {name}: {e}"))
}

/// This worker's leases.
pub struct Leases {
    owners: kv::Store,
    workers: kv::Store,
    worker: String,
    /// Each partition held, with the revision its key was last written at.
    held: BTreeMap<usize, u64>,
}

impl Leases {
    /// The leases of `cluster`'s worker, its buckets made when missing.
    pub async fn open(js: &jetstream::Context, cluster: &Cluster) -> Result<Leases, String> {
        let owners = bucket(
            js,
            &format!("{}-owners", cluster.name),
            cluster.lease,
            cluster.replicas,
        )
        .await?;
        let workers = bucket(
            js,
            &format!("{}-workers", cluster.name),
            cluster.lease,
            cluster.replicas,
        )
        .await?;
        Ok(Leases {
            owners,
            workers,
            worker: cluster.worker.clone(),
            held: BTreeMap::new(),
        })
    }

    /// The partitions held.
    pub fn held(&self) -> Vec<usize> {
        self.held.keys().copied().collect()
    }

    /// Says this worker is alive, with what it says of itself (its
    /// counts, as `rampart cluster status` shows them); returns how many
    /// workers are.
    pub async fn beat(&self, said: Vec<u8>) -> Result<usize, String> {
        self.workers
            .put(&self.worker, said.into())
            .await
            .map_err(|e| format!("heartbeat: {e}"))?;
        let mut keys = self
            .workers
            .keys()
            .await
            .map_err(|e| format!("workers: {e}"))?;
        let mut alive = 0;
        while let Some(k) = keys.next().await {
            k.map_err(|e| format!("workers: {e}"))?;
            alive += 1;
        }
        Ok(alive.max(1))
    }

    /// Says this worker is gone (it stopped).
    pub async fn leave(&self) {
        let _ = self.workers.delete(&self.worker).await;
    }

    /// Writes every lease held again; returns those another took over.
    pub async fn renew(&mut self) -> Vec<usize> {
        let mut lost = Vec::new();
        for (&p, revision) in self.held.iter_mut() {
            let value = self.worker.clone().into_bytes().into();
            match self.owners.update(key_of(p), value, *revision).await {
                Ok(r) => *revision = r,
                Err(_) => lost.push(p),
            }
        }
        for p in &lost {
            self.held.remove(p);
        }
        lost
    }

    /// Tries to take partition `p`.
    pub async fn take(&mut self, p: usize) -> bool {
        let value = self.worker.clone().into_bytes().into();
        match self.owners.create(key_of(p), value).await {
            Ok(revision) => {
                self.held.insert(p, revision);
                true
            }
            Err(_) => false,
        }
    }

    /// Gives partition `p` back.
    pub async fn release(&mut self, p: usize) {
        if let Some(revision) = self.held.remove(&p) {
            let _ = self
                .owners
                .delete_expect_revision(key_of(p), Some(revision))
                .await;
        }
    }
}

/// Each live entry of a bucket, by key.
pub async fn entries(store: &kv::Store) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut keys = store.keys().await.map_err(|e| e.to_string())?;
    let mut names = Vec::new();
    while let Some(k) = keys.next().await {
        names.push(k.map_err(|e| e.to_string())?);
    }
    let mut out = BTreeMap::new();
    for k in names {
        if let Ok(Some(entry)) = store.entry(&k).await {
            if entry.operation == kv::Operation::Put {
                out.insert(k, entry.value.to_vec());
            }
        }
    }
    Ok(out)
}
