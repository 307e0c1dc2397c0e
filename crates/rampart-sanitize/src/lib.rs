//! `rampart sanitize`: logs made safe to share and still useful. Every
//! address, user, host, domain, Windows domain, e-mail address and SID is
//! replaced by a pseudonym derived from a key (`key`): the same value
//! always gets the same pseudonym, so correlations and rules still work;
//! addresses keep their prefixes and stay private or public (`ip`); names
//! keep their shape, public suffixes and well-known RIDs, and the names
//! rules look for by themselves stay (`names`). The text is rewritten in
//! place (`rewrite`), so each format comes out as it went in.

mod ip;
mod key;
mod names;
mod records;
mod rewrite;

pub use ip::AddressMap;
pub use key::Key;
pub use names::{Kind, Names};
pub use records::to_json as record_json;
pub use rewrite::{candidates, Sanitizer, Style};
