//! VirusTotal's side of a [`LimitedClient`]: its API paths and its key
//! header.

use crate::service::{AskError, LimitedClient, Lookup};

use super::report::VtKind;

/// Asks the API at `base` (`https://www.virustotal.com`) with `key` about
/// `value` as `kind`, through `client` (its limit and budget).
pub fn ask(
    client: &mut LimitedClient<'_>,
    (base, key): (&str, &str),
    kind: VtKind,
    value: &str,
) -> Result<Lookup, AskError> {
    let url = format!("{}{}", base.trim_end_matches('/'), kind.path(value));
    client.get(&url, &[("x-apikey", key)])
}
