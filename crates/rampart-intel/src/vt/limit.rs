//! The request limit: at most `per_minute` requests in any 60 seconds (a
//! sliding window over the times of the last requests, so bursts at a
//! minute's edge cannot double the rate), waiting on a [`Clock`] that tests
//! replace with a fake one.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Time as the limiter sees it.
pub trait Clock {
    /// Time since some fixed start.
    fn now(&self) -> Duration;
    /// Waits for `d`.
    fn sleep(&self, d: Duration);
    /// Whether waiting was called off (the run stops): no request should
    /// go out any more.
    fn cancelled(&self) -> bool {
        false
    }
}

/// The real clock.
#[derive(Debug)]
pub struct SystemClock(Instant);

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock(Instant::now())
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.0.elapsed()
    }

    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// The window the per-minute limit counts over.
const WINDOW: Duration = Duration::from_secs(60);

/// At most `per_minute` requests in any window of a minute.
#[derive(Debug)]
pub struct RateLimit {
    per_minute: usize,
    sent: VecDeque<Duration>,
}

impl RateLimit {
    /// A limit of `per_minute` requests (at least one).
    pub fn new(per_minute: u32) -> Self {
        RateLimit {
            per_minute: (per_minute as usize).max(1),
            sent: VecDeque::new(),
        }
    }

    /// How long the next request would have to wait now.
    pub fn delay(&self, now: Duration) -> Duration {
        if self.sent.len() < self.per_minute {
            return Duration::ZERO;
        }
        let oldest = self.sent[self.sent.len() - self.per_minute];
        (oldest + WINDOW).saturating_sub(now)
    }

    /// Waits until a request may go, and counts it as sent; false when
    /// the clock called the wait off (nothing counted).
    pub fn acquire(&mut self, clock: &dyn Clock) -> bool {
        loop {
            if clock.cancelled() {
                return false;
            }
            let wait = self.delay(clock.now());
            if wait.is_zero() {
                break;
            }
            clock.sleep(wait);
        }
        let now = clock.now();
        self.sent.push_back(now);
        while self.sent.len() > self.per_minute {
            self.sent.pop_front();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// A clock that only moves when slept on.
    #[derive(Default)]
    struct Fake(Cell<Duration>);

    impl Clock for Fake {
        fn now(&self) -> Duration {
            self.0.get()
        }
        fn sleep(&self, d: Duration) {
            self.0.set(self.0.get() + d);
        }
    }

    #[test]
    fn no_minute_ever_holds_more_than_the_limit() {
        let clock = Fake::default();
        let mut limit = RateLimit::new(4);
        let mut times = Vec::new();
        for i in 0..41 {
            // Some requests come after a pause of their own.
            if i % 7 == 0 {
                clock.sleep(Duration::from_secs(13));
            }
            limit.acquire(&clock);
            times.push(clock.now());
        }
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..].iter().take_while(|u| **u < *t + WINDOW).count();
            assert!(
                in_window <= 4,
                "{in_window} requests in the minute from {t:?}"
            );
        }
        // And the limit is used, not just respected: 41 requests at 4 a
        // minute need at least 9 full minutes and not much more.
        let span = *times.last().unwrap() - times[0];
        assert!(
            span >= Duration::from_secs(600) && span < Duration::from_secs(700),
            "{span:?}"
        );
    }
}
