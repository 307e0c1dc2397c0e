//! One module per subcommand.

pub mod alerts;
pub mod dashboard;
pub mod detect_args;
pub mod events;
pub mod export;
pub mod formats;
pub mod generate;
pub mod hunt;
pub mod ingest;
pub mod intel;
pub mod intel_args;
pub mod ioc;
pub mod list_format;
pub mod parse;
pub mod prune;
pub mod read_args;
pub mod replay;
pub mod retro;
pub mod rule_sources;
pub mod rules;
pub mod run;
pub mod sanitize;
pub mod serve;
pub mod stats;
pub mod suppress;
pub mod vt_args;
