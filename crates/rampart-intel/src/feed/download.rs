//! Downloading a feed by URL, with a bound on its size.

use std::io::Read;
use std::time::Duration;

/// The largest feed accepted.
pub const MAX_FEED_BYTES: u64 = 512 * 1024 * 1024;

/// The text at `url` (HTTP or HTTPS), or why it could not be had.
pub fn fetch(url: &str) -> Result<String, String> {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .user_agent(concat!("rampart/", env!("CARGO_PKG_VERSION")))
        .build();
    let response = agent.get(url).call().map_err(|e| match e {
        ureq::Error::Status(code, _) => format!("HTTP {code}"),
        ureq::Error::Transport(t) => t.to_string(),
    })?;
    let mut body = Vec::new();
    response
        .into_reader()
        .take(MAX_FEED_BYTES + 1)
        .read_to_end(&mut body)
        .map_err(|e| format!("reading the download: {e}"))?;
    if body.len() as u64 > MAX_FEED_BYTES {
        return Err(format!("larger than {MAX_FEED_BYTES} bytes"));
    }
    String::from_utf8(body).map_err(|_| "not UTF-8 text".to_owned())
}
