//! Investigation reports (`rampart report`, `rampart tree`): what an
//! analyst hands to people who do not run rampart.
//!
//! The engine runs the rules over the inputs with a [`Collector`] as its
//! sink. Each event becomes a row of the unified stream in seed 003's
//! columns ([`row`]), sorted on disk so memory stays flat ([`sorter`]);
//! its quality marks are counted per source ([`quality`]); processes and
//! what they did are joined into a forest that tells reused PIDs apart
//! ([`processes`], drawn by [`tree`]); each alert keeps its facts and its
//! ATT&CK techniques from the rule's tags ([`facts`]). [`report::finish`]
//! then walks the stream once and gathers the [`findings`], draws the
//! charts ([`charts`]), writes the accounts ([`summary`], or [`llm`]) and
//! the files ([`write`]).

pub mod charts;
pub mod cleaned;
pub mod collect;
pub mod decode;
pub mod facts;
pub mod findings;
pub mod llm;
pub mod processes;
pub mod quality;
pub mod report;
pub mod row;
pub mod sorter;
pub mod summary;
pub mod text;
pub mod tree;
pub mod write;

pub use cleaned::Cleaned;
pub use collect::{Collector, ProcessSink};
pub use findings::{Findings, Formats, Options};
pub use report::finish;
