//! Sources: turning the paths a user names into a stream of parsed events.
//!
//! - [`discover`] walks folders, keeps rotated sets (`auth.log.2.gz`,
//!   `auth.log.1`, `auth.log`) together and oldest first;
//! - [`open`] reads plain and gzip files alike (UTF-16 exports too) and
//!   refuses binary formats it cannot read as text with a clear reason;
//! - [`evtx`] reads binary Windows event logs;
//! - [`fingerprint`] gives the first bytes by which a file is known again;
//! - [`read_files`] parses files on several threads and hands their events to
//!   the caller in input order, with bounded memory: a file that runs ahead
//!   waits once a few batches of it are queued.

mod batches;
mod discover;
pub mod evtx;
pub mod fingerprint;
pub mod journal;
mod message;
mod open;
mod parallel;
pub mod records;

pub use discover::{discover, Input, Resume};
pub use open::{open, OpenError};
pub use parallel::{
    read_files, read_files_on, read_files_with, worker_pool, FileReport, Message, ReadOptions, Work,
};
