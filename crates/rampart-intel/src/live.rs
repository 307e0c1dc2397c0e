//! Answers looked up while events flow (a pipeline's `virustotal:` and its
//! HTTP `lookups:`), shared by the worker threads that enrich and the one
//! thread that asks the service, under the service's request limit.
//!
//! A batch asks for the values it holds that have no answer yet
//! and then waits, at most a set time, but only while an answer can come:
//! while the asker is free to send (the key's per-minute limit is not
//! holding it back) and its queue held nothing before this batch. An
//! attacker who sends a new address on every line therefore costs the
//! pipeline at most one wait per request the key allows, not one per
//! batch; addresses still unanswered pass on and are asked later. The
//! queue is bounded: what does not fit is counted and asked when it shows
//! up again.
//!
//! An answer holds for the cache's time to live, then is asked again;
//! stale answers are swept out as the answers grow.
//!
//! A run that must enrich every event however long it takes (seed 000's,
//! from cron) waits through the limit instead: then every batch with an
//! address still unanswered waits, up to the set time.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use crate::vt::Clock;

/// What the live answers counted.
#[derive(Debug, Default)]
pub struct LiveCounts {
    /// Values queued for a lookup.
    pub asked: AtomicU64,
    /// Values answered by a lookup (found or not found).
    pub answered: AtomicU64,
    /// Values not queued because the queue was full.
    pub queue_full: AtomicU64,
    /// Values whose lookup failed or was not sent (quota spent, key
    /// refused); asked again when they show up again.
    pub failed: AtomicU64,
    /// Time batches spent waiting for answers, in milliseconds.
    pub waited_ms: AtomicU64,
}

#[derive(Debug)]
struct Queue<K> {
    waiting: VecDeque<K>,
    /// Queued or being looked up.
    asked: HashSet<K>,
    /// The asker sleeps until its per-minute limit lets it send.
    held_back: bool,
    /// Nothing more will be looked up (the key was refused, the quota spent).
    closed: bool,
    stopped: bool,
}

/// The answers and when each came, and the size at which the stale ones
/// are next swept out.
#[derive(Debug)]
struct Known<K, A> {
    answers: HashMap<K, (Arc<A>, Instant)>,
    sweep_at: usize,
}

/// Answers held before stale ones are first swept out.
const FIRST_SWEEP: usize = 1024;

/// The answers (`A`) so far on values (`K`), and the values waiting for one.
#[derive(Debug)]
pub struct LiveAnswers<K, A> {
    /// Each answer and when it came (answers kept from earlier runs: when
    /// this run started).
    known: RwLock<Known<K, A>>,
    /// How long an answer holds; older ones are asked again.
    keep: Duration,
    queue: Mutex<Queue<K>>,
    /// Signalled when an answer comes, an address is queued, the asker is
    /// held back, or everything stops.
    changed: Condvar,
    wait: Duration,
    /// Whether batches wait through the per-minute limit too.
    through_limit: bool,
    capacity: usize,
    /// What was counted.
    pub counts: LiveCounts,
}

impl<K: Eq + Hash + Ord + Clone, A> LiveAnswers<K, A> {
    /// Answers starting from `known` (those kept from earlier runs); a
    /// batch waits at most `wait` (`through_limit`: even while the
    /// per-minute limit holds the asker back); at most `capacity`
    /// addresses queue.
    pub fn new(
        known: HashMap<K, A>,
        (wait, through_limit): (Duration, bool),
        capacity: usize,
    ) -> LiveAnswers<K, A> {
        let now = Instant::now();
        LiveAnswers {
            known: RwLock::new(Known {
                answers: known
                    .into_iter()
                    .map(|(k, v)| (k, (Arc::new(v), now)))
                    .collect(),
                sweep_at: FIRST_SWEEP,
            }),
            keep: Duration::MAX,
            queue: Mutex::new(Queue {
                waiting: VecDeque::new(),
                asked: HashSet::new(),
                held_back: false,
                closed: false,
                stopped: false,
            }),
            changed: Condvar::new(),
            wait,
            through_limit,
            capacity: capacity.max(1),
            counts: LiveCounts::default(),
        }
    }

    /// Answers hold `keep` (the cache's time to live), then are asked
    /// again; without this, they hold for the whole run.
    pub fn keeping(mut self, keep: Duration) -> Self {
        self.keep = keep;
        self
    }

    fn fresh(&self, at: Instant) -> bool {
        at.elapsed() <= self.keep
    }

    fn queue(&self) -> MutexGuard<'_, Queue<K>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The answer on `key`, if there is one.
    pub fn get(&self, key: &K) -> Option<Arc<A>> {
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        let (answer, at) = known.answers.get(key)?;
        self.fresh(*at).then(|| Arc::clone(answer))
    }

    /// Whether `key` waits for a lookup.
    #[cfg(test)]
    fn is_pending(&self, key: &K) -> bool {
        self.queue().asked.contains(key)
    }

    /// Queues the values of `keys` that have no answer (the caller leaves
    /// out those that must never be sent), then waits for them as long as
    /// an answer can come (see the module's documentation), at most the
    /// set time from `started` (services asked for one batch count from
    /// one start, so their waits overlap).
    pub fn ask_and_wait(&self, keys: impl IntoIterator<Item = K>, started: Instant) {
        let mut wanted: Vec<K> = {
            let known = self.known.read().unwrap_or_else(|p| p.into_inner());
            keys.into_iter()
                .filter(|key| {
                    !known
                        .answers
                        .get(key)
                        .is_some_and(|(_, at)| self.fresh(*at))
                })
                .collect()
        };
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            return;
        }
        let mut queue = self.queue();
        if queue.closed {
            return;
        }
        let was_idle = queue.waiting.is_empty() && !queue.held_back;
        let mut queued = false;
        for key in &wanted {
            if queue.asked.contains(key) {
                continue;
            }
            if queue.waiting.len() >= self.capacity {
                self.counts.queue_full.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            queue.waiting.push_back(key.clone());
            queue.asked.insert(key.clone());
            queued = true;
            self.counts.asked.fetch_add(1, Ordering::Relaxed);
        }
        if queued {
            self.changed.notify_all();
        }
        let can_come = self.through_limit || (queued && was_idle);
        if !can_come || self.wait.is_zero() {
            return;
        }
        let deadline = started + self.wait;
        let began = Instant::now();
        loop {
            let answered_all = wanted.iter().all(|key| !queue.asked.contains(key));
            let now = Instant::now();
            let held = queue.held_back && !self.through_limit;
            if answered_all || held || queue.closed || queue.stopped || now >= deadline {
                break;
            }
            queue = self
                .changed
                .wait_timeout(queue, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        self.counts
            .waited_ms
            .fetch_add(began.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// The next value to look up, for the asker: waits until there is
    /// one, or gives none once stopped.
    pub fn next(&self) -> Option<K> {
        let mut queue = self.queue();
        loop {
            if queue.stopped {
                return None;
            }
            if let Some(key) = queue.waiting.pop_front() {
                return Some(key);
            }
            queue = self.changed.wait(queue).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// The answer on `key` came.
    pub fn answer(&self, key: K, answer: A) {
        {
            let mut known = self.known.write().unwrap_or_else(|p| p.into_inner());
            known
                .answers
                .insert(key.clone(), (Arc::new(answer), Instant::now()));
            if known.answers.len() >= known.sweep_at {
                known.answers.retain(|_, (_, at)| at.elapsed() <= self.keep);
                known.sweep_at = (known.answers.len() * 2).max(FIRST_SWEEP);
            }
        }
        self.counts.answered.fetch_add(1, Ordering::Relaxed);
        self.settle(&key);
    }

    /// The lookup of `key` failed or was not sent: it may be asked again.
    pub fn give_up(&self, key: &K) {
        self.counts.failed.fetch_add(1, Ordering::Relaxed);
        self.settle(key);
    }

    fn settle(&self, key: &K) {
        self.queue().asked.remove(key);
        self.changed.notify_all();
    }

    /// Nothing more will be looked up (the key was refused, the quota
    /// spent): what is queued is dropped, counted as failed, and nothing
    /// is queued any more.
    pub fn close(&self) {
        let mut queue = self.queue();
        let dropped = queue.waiting.len() as u64;
        queue.waiting.clear();
        queue.asked.clear();
        queue.closed = true;
        self.counts.failed.fetch_add(dropped, Ordering::Relaxed);
        self.changed.notify_all();
    }

    /// Stops the asker and every wait.
    pub fn stop(&self) {
        self.queue().stopped = true;
        self.changed.notify_all();
    }

    /// Whether everything stopped.
    pub fn stopped(&self) -> bool {
        self.queue().stopped
    }

    /// Values waiting for a lookup.
    pub fn queued(&self) -> usize {
        self.queue().waiting.len()
    }

    fn hold_back(&self, held: bool) {
        self.queue().held_back = held;
        self.changed.notify_all();
    }
}

/// The asker's clock: real time, with the waits the per-minute limit
/// imposes announced (batches stop waiting for answers that cannot come
/// yet) and cut short by a stop.
#[derive(Debug)]
pub struct LiveClock<K, A> {
    answers: Arc<LiveAnswers<K, A>>,
    start: Instant,
}

impl<K, A> LiveClock<K, A> {
    /// The clock of the asker of `answers`.
    pub fn new(answers: Arc<LiveAnswers<K, A>>) -> LiveClock<K, A> {
        LiveClock {
            answers,
            start: Instant::now(),
        }
    }
}

impl<K: Eq + Hash + Ord + Clone, A> Clock for LiveClock<K, A> {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn sleep(&self, d: Duration) {
        self.answers.hold_back(true);
        let until = Instant::now() + d;
        let mut queue = self.answers.queue();
        while !queue.stopped {
            let now = Instant::now();
            if now >= until {
                break;
            }
            queue = self
                .answers
                .changed
                .wait_timeout(queue, until - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        drop(queue);
        self.answers.hold_back(false);
    }

    fn cancelled(&self) -> bool {
        self.answers.stopped()
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::vt::{Report, VtKind};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn known_and_repeated_values_are_not_asked_again() {
        let mut known = HashMap::new();
        known.insert(ip("8.8.8.8"), Report::bare("8.8.8.8", VtKind::Ip, "CLEAN"));
        let live = LiveAnswers::new(known, (Duration::ZERO, false), 10);
        live.ask_and_wait(
            [ip("8.8.8.8"), ip("1.2.3.4"), ip("1.2.3.4")],
            Instant::now(),
        );
        live.ask_and_wait([ip("1.2.3.4")], Instant::now());
        assert_eq!(live.queued(), 1);
        assert!(live.is_pending(&ip("1.2.3.4")));
        assert_eq!(live.next(), Some(ip("1.2.3.4")));
    }

    #[test]
    fn a_batch_waits_for_the_answer_of_a_free_asker() {
        let live: Arc<LiveAnswers<IpAddr, Report>> = Arc::new(LiveAnswers::new(
            HashMap::new(),
            (Duration::from_secs(30), false),
            10,
        ));
        let asker = Arc::clone(&live);
        let thread = std::thread::spawn(move || {
            while let Some(ip) = asker.next() {
                asker.answer(ip, Report::bare(&ip.to_string(), VtKind::Ip, "CLEAN"));
            }
        });
        let started = Instant::now();
        live.ask_and_wait([ip("1.2.3.4"), ip("5.6.7.8")], Instant::now());
        assert!(live.get(&ip("1.2.3.4")).is_some() && live.get(&ip("5.6.7.8")).is_some());
        assert!(started.elapsed() < Duration::from_secs(30));
        live.stop();
        thread.join().unwrap();
    }

    #[test]
    fn a_flood_of_new_addresses_waits_once_while_the_limit_holds_the_asker_back() {
        // The asker sends one request, then its limit holds it back for
        // longer than the test runs: every later batch passes at once.
        let live: Arc<LiveAnswers<IpAddr, Report>> = Arc::new(LiveAnswers::new(
            HashMap::new(),
            (Duration::from_secs(60), false),
            1000,
        ));
        let asker = Arc::clone(&live);
        let thread = std::thread::spawn(move || {
            let clock = LiveClock::new(Arc::clone(&asker));
            let mut limit = crate::vt::RateLimit::new(1);
            while let Some(ip) = asker.next() {
                if !limit.acquire(&clock) {
                    break;
                }
                asker.answer(ip, Report::bare(&ip.to_string(), VtKind::Ip, "CLEAN"));
            }
        });
        let started = Instant::now();
        for n in 0..200u32 {
            let a = IpAddr::from([11, 0, (n >> 8) as u8, n as u8]);
            live.ask_and_wait([a], Instant::now());
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "200 batches of new addresses waited {:?}",
            started.elapsed()
        );
        assert_eq!(live.counts.answered.load(Ordering::Relaxed), 1);
        live.stop();
        thread.join().unwrap();
    }

    #[test]
    fn an_answer_older_than_the_cache_time_is_asked_again() {
        let live: LiveAnswers<IpAddr, Report> =
            LiveAnswers::new(HashMap::new(), (Duration::ZERO, false), 10)
                .keeping(Duration::from_secs(1));
        let a = ip("1.2.3.4");
        live.ask_and_wait([a], Instant::now());
        assert_eq!(live.next(), Some(a));
        live.answer(a, Report::bare("1.2.3.4", VtKind::Ip, "CLEAN"));
        assert!(live.get(&a).is_some());
        live.ask_and_wait([a], Instant::now());
        assert_eq!(live.queued(), 0, "fresh: not asked");
        std::thread::sleep(Duration::from_millis(1200));
        assert!(live.get(&a).is_none(), "stale");
        live.ask_and_wait([a], Instant::now());
        assert_eq!(live.queued(), 1, "stale: asked again");
    }

    #[test]
    fn the_queue_is_bounded_and_counts_what_did_not_fit() {
        let live: LiveAnswers<IpAddr, Report> =
            LiveAnswers::new(HashMap::new(), (Duration::ZERO, false), 3);
        live.ask_and_wait(
            (1..=10u8).map(|n| IpAddr::from([12, 0, 0, n])),
            Instant::now(),
        );
        assert_eq!(live.queued(), 3);
        assert_eq!(live.counts.queue_full.load(Ordering::Relaxed), 7);
        // What failed may be asked again.
        let first = live.next().unwrap();
        live.give_up(&first);
        live.ask_and_wait([first], Instant::now());
        assert!(live.is_pending(&first));
        // Once closed, nothing waits and nothing more is queued.
        live.close();
        assert_eq!(live.queued(), 0);
        live.ask_and_wait([first], Instant::now());
        assert!(!live.is_pending(&first));
        assert_eq!(live.counts.failed.load(Ordering::Relaxed), 4);
    }
}
