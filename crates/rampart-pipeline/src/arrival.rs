//! What sources hand the pipeline's loop over their one bounded channel:
//! messages as received, events a file source has read, that a source
//! ended, or trouble it lives with.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::framing::Frame;

/// One message as received.
#[derive(Debug)]
pub struct Message {
    /// The message.
    pub frame: Frame,
    /// The sender, for network sources.
    pub peer: Option<SocketAddr>,
    /// Whether it is a JSON object sent as one (a HEC event that is not
    /// text), to be read as JSON whatever the source's other lines are.
    pub json: bool,
}

/// What a source thread hands on.
#[derive(Debug)]
pub enum Arrival {
    /// Messages of the source at this index.
    Messages(usize, Vec<Message>),
    /// Messages of a source that acknowledges them once the pipeline keeps
    /// them: their batch's ticket, told back through the batch's state.
    Ticketed(usize, Vec<Message>, u64),
    /// Events a file source read, with the store's source of their file.
    Read {
        /// The file source's index.
        source: usize,
        /// The file.
        input: Arc<rampart_io::Input>,
        /// The store's source of the file.
        place: rampart_store::Source,
        /// Its events, in order.
        events: Vec<rampart_event::Event>,
        /// Its lines nothing could read.
        dead: Vec<rampart_parse::DeadLetter>,
        /// What the source keeps to read on from after these events.
        state: Option<Vec<u8>>,
    },
    /// The source `usize` ended (its input ran out, or it was stopped).
    Ended(usize),
    /// Something went wrong that the source lives with (a connection
    /// refused, a read that failed), said once, with its reason.
    Trouble(usize, String),
}
