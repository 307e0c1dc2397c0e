//! What every sink's writer does, whatever it writes to: take alerts and
//! events, hand on what it holds, and say at the end what its delivery
//! did (for sinks that deliver over the network).

use std::io;

use rampart_detect::Alert;
use rampart_event::Event;

use crate::delivery::Delivered;

/// One sink's writer.
pub trait Output: Send {
    /// Writes one alert.
    fn alert(&mut self, alert: &Alert) -> io::Result<()>;
    /// Writes one event.
    fn event(&mut self, event: &Event) -> io::Result<()>;
    /// Writes one event already made into its JSON (by a template).
    fn record(&mut self, json: &[u8]) -> io::Result<()>;
    /// Hands on what is buffered.
    fn flush(&mut self) -> io::Result<()>;
    /// Waits until what it was handed cannot be lost by a crash (on disk,
    /// for a disk buffer), before a store commit moves sources' places.
    fn sync(&mut self) {}
    /// Waits until what it was handed is at its destination (for sinks
    /// that deliver; others as [`Output::sync`]): a cluster's worker
    /// acknowledges its events only then.
    fn settle(&mut self) {
        self.sync();
    }
    /// Ends: what a delivery to a destination did, for those that have one.
    fn close(&mut self) -> Option<Delivered> {
        None
    }
}
