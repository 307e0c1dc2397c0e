//! The engine: the loop that every command reading logs drives. Files are
//! read and parsed in parallel ([`rampart_io`]), each batch is enriched and
//! run through the rules on the worker threads ([`batch`]), and the
//! consumer, in input order, deduplicates, feeds the correlations, applies
//! the config's suppressions and counts what it hands to a sink ([`run`]).
//!
//! Commands keep argument parsing and presentation; where alerts go (a
//! terminal table, JSON lines, CSV, later a network peer) is an
//! [`AlertSink`], and where everything goes when it is kept, the store, is
//! a [`Sink`] ([`StoreSink`]).

pub mod batch;
pub mod files;
pub mod output;
pub mod run;
pub mod sink;
pub mod split;
pub mod store_sink;

pub use batch::Scope;
pub use output::{AlertFormat, AlertWriter};
pub use run::{Batch, Engine, Sink, Tally, Watch};
pub use sink::{AlertSink, Background};
pub use split::{Detected, Owned, Share, ONE_PLACE, SHARES};
pub use store_sink::{StoreSink, COMMIT_EVENTS};
