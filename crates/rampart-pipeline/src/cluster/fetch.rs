//! How many messages a worker asks of the events stream at a time.
//!
//! A pull may not carry a byte limit: over replicated streams the server
//! answers one with a `409 Batch Completed` status sent before the pull's
//! last message, the client ends the pull there, and that message, counted
//! as delivered, reaches no one until its ack wait runs out. Every such
//! fetch stalled a worker for seconds (`docs/scaling.md` has the
//! measurements). So fetches are sized by count alone, from the size of
//! the messages last fetched, aiming at a few megabytes; memory stays
//! bounded because no message is larger than the server's `max_payload`,
//! and the count never exceeds [`MEMORY`] worth of such messages.

/// Messages fetched at a time, at most.
const MOST: usize = 4096;
/// Bytes a fetch aims at.
const AIM: usize = 8 << 20;
/// Bytes a fetch may hold at worst (every message as large as the server
/// takes).
const MEMORY: usize = 256 << 20;

/// How many messages the next fetch asks for.
#[derive(Debug)]
pub struct FetchSize {
    /// Messages to ask for.
    pub count: usize,
    /// Messages to ask for at most.
    most: usize,
}

impl FetchSize {
    /// The first fetch, from a server that takes messages of up to
    /// `max_payload` bytes: one message, whose size tells the next.
    pub fn new(max_payload: usize) -> FetchSize {
        FetchSize {
            count: 1,
            most: (MEMORY / max_payload.max(1)).clamp(1, MOST),
        }
    }

    /// Sizes the next fetch after one that took `messages` of `bytes` in
    /// all (nothing learnt from an empty one).
    pub fn learn(&mut self, messages: usize, bytes: usize) {
        if messages == 0 {
            return;
        }
        let size = (bytes / messages).max(1);
        self.count = (AIM / size).clamp(1, self.most);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_follows_the_size_of_the_messages() {
        let mut f = FetchSize::new(1 << 20);
        assert_eq!(f.count, 1);
        // Messages of 243 KB, as collectors send 256 events in one.
        f.learn(1, 243_000);
        assert_eq!(f.count, 34);
        // Events one to a message: as many as memory allows (256 of NATS's
        // default 1 MB payload).
        f.learn(100, 100 * 900);
        assert_eq!(f.count, 256);
        // Messages as large as the server takes: one at least.
        f.learn(1, 64 << 20);
        assert_eq!(f.count, 1);
        // An empty fetch leaves the count as it was.
        f.learn(0, 0);
        assert_eq!(f.count, 1);
    }

    #[test]
    fn no_fetch_can_hold_more_than_its_memory() {
        for max_payload in [1 << 10, 1 << 20, 8 << 20, 64 << 20, 1 << 30] {
            let mut f = FetchSize::new(max_payload);
            for size in [1, 900, 243_000, max_payload] {
                f.learn(10, 10 * size);
                assert!(f.count >= 1);
                assert!(
                    f.count * max_payload <= MEMORY.max(max_payload),
                    "{max_payload} {size}: {}",
                    f.count
                );
            }
        }
        // A server that takes larger messages gets fewer at a time.
        let mut f = FetchSize::new(8 << 20);
        f.learn(1, 500);
        assert_eq!(f.count, 32);
    }
}
