//! Long-running pipelines (`rampart run`): named sources (syslog over UDP
//! and TCP, standard input) read on threads of their own, parsed per
//! source as messages come, run through the same engine as `hunt` and
//! `ingest`, and routed to named sinks (JSON lines to standard output or
//! a file, syslog to another SIEM) by what each takes: alerts, events or
//! both, from a severity up.
//!
//! The pipeline file is read whole and checked before anything starts
//! ([`config`]), its mistakes given with line and column.

pub mod acks;
pub mod arrival;
pub mod asker;
pub mod clickhouse_sink;
pub mod cluster;
pub mod config;
pub mod delivery;
pub mod file_sink;
pub mod forward;
pub mod framing;
pub mod generate;
pub mod hec;
pub mod kafka;
pub mod metrics;
pub mod nats;
pub mod output;
pub mod outputs;
pub mod queue;
pub mod replay;
pub mod route;
pub mod run;
pub mod shape;
pub mod snapshot;
pub mod sources;
pub mod sql;
mod sql_mssql;
pub mod sql_sink;
pub mod tail;
pub mod tls;
pub mod transport;
mod yaml;

pub use config::{read, Pipeline};
pub use route::{Route, Router};
pub use run::{bind, inputs, run, Rebuild, Report, RunOptions, Signals, SinkReport};
pub use yaml::{Located, Mark};
