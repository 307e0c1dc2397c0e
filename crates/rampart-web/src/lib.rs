//! `rampart serve`: the web console over the store. Pages are rendered on
//! the server (maud escapes every value put into them, log lines and rule
//! texts included), charts are SVG drawn on the server, and the one
//! script, served from the binary like the style sheet, only refreshes
//! panels and submits forms: the pages need nothing beyond rampart itself.
//!
//! The server reads through a small pool of connections of its own, on
//! blocking threads, so it reads while an `ingest` or a `run` writes. The
//! overview of one filter is worked out at most once a second however
//! many browsers ask (`snapshots`).
//!
//! `security` holds what keeps log content from becoming code and other
//! sites from acting as the analyst: the headers (a strict
//! Content-Security-Policy among them), the token, the same-origin check.

mod api;
mod assets;
mod charts;
mod filters;
mod format;
mod pages;
mod readers;
mod rulebook;
mod security;
mod snapshots;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

pub use readers::Opener;
pub use rulebook::RuleInfo;
pub use security::Token;

/// What `rampart serve` was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The database.
    pub db: Opener,
    /// The token every request must carry (required unless the address
    /// is a loopback one).
    pub token: Option<Token>,
    /// Who triage steps are by when the form names no one.
    pub user: String,
    /// The rules to list and to describe alerts by.
    pub rules: Vec<RuleInfo>,
}

/// What the handlers share.
#[derive(Debug)]
struct App {
    readers: readers::Readers,
    boards: snapshots::Boards,
    guard: security::Guard,
    user: String,
    rules: rulebook::Rulebook,
}

/// A server error, with what was being done.
#[derive(Debug)]
pub struct WebError(pub String);

impl std::fmt::Display for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WebError {}

/// The routes of the console and its API.
fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(pages::overview::page))
        .route("/overview/panels", get(pages::overview::panels_fragment))
        .route("/alerts", get(pages::alerts::list))
        .route("/alerts/{id}", get(pages::alerts::one))
        .route("/alerts/{id}/triage", post(pages::alerts::triage))
        .route("/events", get(pages::events::search))
        .route("/events/{id}", get(pages::events::one))
        .route("/rules", get(pages::rules::page))
        .route("/api/overview", get(api::overview))
        .route("/api/alerts", get(api::alerts))
        .route("/api/alerts/{id}", get(api::alert))
        .route("/api/alerts/{id}/triage", post(api::triage))
        .route("/api/events", get(api::events))
        .route("/csp-report", post(security::csp_report))
        .route("/api/csp-reports", get(security::csp_reports))
        .route("/assets/{name}", get(assets::serve))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            security::check,
        ))
        .with_state(app)
}

/// Serves until SIGINT or SIGTERM; `ready` is told the address bound
/// (with port 0, the one the system chose).
pub fn serve(options: Options, ready: impl FnOnce(SocketAddr)) -> Result<(), WebError> {
    if !options.listen.ip().is_loopback() && options.token.is_none() {
        return Err(WebError(format!(
            "listening on {} needs a token (RAMPART_TOKEN or --token-file): \
             only 127.0.0.1 and ::1 are served without one",
            options.listen
        )));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(8)
        .enable_all()
        .build()
        .map_err(|e| WebError(format!("cannot start the server: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(|e| WebError(format!("cannot listen on {}: {e}", options.listen)))?;
        let bound = listener.local_addr().map_err(|e| WebError(e.to_string()))?;
        let app = Arc::new(App {
            readers: readers::Readers::new(options.db.clone()),
            boards: snapshots::Boards::default(),
            guard: security::Guard::new(options.token.clone(), bound),
            user: options.user.clone(),
            rules: rulebook::Rulebook::new(options.rules),
        });
        // Opening once creates and migrates the database before the first
        // page asks, and reports a bad path at once.
        app.readers
            .read(|_| Ok(()))
            .await
            .map_err(|e| WebError(e.0))?;
        ready(bound);
        axum::serve(listener, router(app))
            .with_graceful_shutdown(stopped())
            .await
            .map_err(|e| WebError(format!("the server stopped: {e}")))
    })
}

/// Resolves on SIGINT or SIGTERM.
async fn stopped() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
}
