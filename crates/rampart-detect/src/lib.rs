//! Detection: Sigma rules loaded from YAML, compiled once into matchers over
//! rampart events, and evaluated event by event.
//!
//! The flow is `load` (YAML → typed [`rule::Rule`]s, with every unreadable
//! document reported) → `compile` (log source → routing, Sigma field names →
//! event fields, modifiers → value checks) → `engine` (each event is tested
//! only against the rules whose routing admits it).
pub mod alert;
pub mod atoms;
pub mod attack;
pub mod builtin;
pub mod compile;
pub mod condition;
pub mod correlate;
pub mod correlation;
pub mod dedup;
pub mod engine;
pub mod level;
pub mod load;
pub mod mapping;
pub mod passthrough;
pub mod pattern;
pub mod rule;
pub mod saved;
pub mod scan;
pub mod tuning;
pub mod view;
mod yaml;

pub use alert::Alert;
pub use compile::{CompileOptions, CompiledRule, Matched};
pub use correlate::{Correlator, Limits, Placements, RuleRoles, PARTITIONS};
pub use dedup::Deduper;
pub use engine::RuleSet;
pub use load::{load_path, load_text, rule_tests, LoadError, Loaded, RuleTest};
pub use rule::Level;
pub use saved::SavedState;
pub use tuning::Tuning;
pub use view::EventView;
