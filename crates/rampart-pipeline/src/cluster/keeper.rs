//! The leases, kept on a thread of their own with a connection of its
//! own: a worker busy with a large batch (or slowed by a loaded machine)
//! still says it is alive and renews its partitions on time, so that its
//! partitions do not move while it works them; and the events it holds
//! are said to be in progress, so that the server does not hand them to
//! another worker meanwhile. Only a worker that died (or lost the network)
//! loses its partitions.
//!
//! The loop that works the partitions and this thread meet in [`Shared`]:
//! the keeper takes free partitions while the worker holds fewer than its
//! share and tells which it took or lost; the loop opens and drops them,
//! and gives back (after saving) what is above its share.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rampart_engine::SHARES;

use tokio::time::timeout;

use super::lease::Leases;
use super::{connect, REQUEST};
use crate::config::Cluster;

/// What the keeper and the loop share.
#[derive(Debug, Default)]
pub struct Shared {
    /// Partitions taken since the loop last looked, to open.
    pub taken: Vec<usize>,
    /// Partitions lost since the loop last looked, to drop unsaved.
    pub lost: Vec<usize>,
    /// Partitions the loop saved and gives back.
    pub give_back: Vec<usize>,
    /// Whether to take every free partition (the end of a bounded input).
    pub greedy: bool,
    /// Workers alive, as last seen.
    pub alive: usize,
    /// What the worker says of itself, for `rampart cluster status`.
    pub said: Vec<u8>,
    /// The reply subjects of the events in hand, and when they came.
    pub in_hand: Option<(Instant, Vec<String>)>,
    /// The last trouble with the cluster, to be said.
    pub trouble: Option<String>,
}

/// The keeper's thread.
pub struct Keeper {
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Keeper {
    /// Starts keeping `cluster`'s leases for this worker.
    pub fn start(cluster: &Cluster) -> Result<Keeper, String> {
        let shared = Arc::new(Mutex::new(Shared {
            alive: 1,
            ..Shared::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        // Connected before the thread starts, so that a cluster that
        // cannot be reached is an error of the run.
        let (client, leases) = rt.block_on(async {
            let client = connect(cluster).await?;
            let js = async_nats::jetstream::new(client.clone());
            let leases = super::patiently(|| Leases::open(&js, cluster)).await?;
            Ok::<_, String>((client, leases))
        })?;
        let (cluster, shared_, stop_) = (cluster.clone(), Arc::clone(&shared), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("rampart-leases".into())
            .spawn(move || {
                rt.block_on(keep(&cluster, (client, leases), &shared_, &stop_));
            })
            .map_err(|e| e.to_string())?;
        Ok(Keeper {
            shared,
            stop,
            thread: Some(thread),
        })
    }

    /// What is shared with the keeper.
    pub fn shared(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stops keeping: every lease given back, the worker said gone.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// How often the keeper looks at what the loop asks.
const TICK: Duration = Duration::from_millis(50);

async fn keep(
    cluster: &Cluster,
    (client, mut leases): (async_nats::Client, Leases),
    shared: &Mutex<Shared>,
    stop: &AtomicBool,
) {
    let lock = || shared.lock().unwrap_or_else(|p| p.into_inner());
    let beat_every = (cluster.lease / 4).max(Duration::from_millis(100));
    let progress_every = (cluster.ack_wait / 3).max(Duration::from_millis(100));
    let mut beaten: Option<Instant> = None;
    let mut progressed = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let (give_back, said, greedy, in_hand) = {
            let mut s = lock();
            (
                std::mem::take(&mut s.give_back),
                s.said.clone(),
                s.greedy,
                s.in_hand.clone(),
            )
        };
        for p in give_back {
            let _ = timeout(REQUEST, leases.release(p)).await;
        }
        if beaten.is_none_or(|b| b.elapsed() >= beat_every) {
            beaten = Some(Instant::now());
            match super::within(leases.beat(said)).await {
                Ok(alive) => lock().alive = alive,
                Err(e) => lock().trouble = Some(e),
            }
            let lost = timeout(REQUEST, leases.renew()).await.unwrap_or_default();
            if !lost.is_empty() {
                lock().lost.extend(lost);
            }
            let share = if greedy {
                SHARES
            } else {
                SHARES.div_ceil(lock().alive)
            };
            let held: BTreeSet<usize> = leases.held().into_iter().collect();
            let mut count = held.len();
            for p in (0..SHARES).filter(|p| !held.contains(p)) {
                if count >= share {
                    break;
                }
                if timeout(REQUEST, leases.take(p)).await.unwrap_or(false) {
                    count += 1;
                    lock().taken.push(p);
                }
            }
        }
        // Events in hand for long are said to be in progress.
        if let Some((since, replies)) = in_hand {
            if since.elapsed() >= progress_every && progressed.elapsed() >= progress_every {
                progressed = Instant::now();
                for reply in replies {
                    let _ = timeout(REQUEST, client.publish(reply, "+WPI".into())).await;
                }
            }
        }
        tokio::time::sleep(TICK).await;
    }
    for p in leases.held() {
        let _ = timeout(REQUEST, leases.release(p)).await;
    }
    let _ = timeout(REQUEST, leases.leave()).await;
}
