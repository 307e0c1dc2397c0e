//! What keeps the console safe to point at hostile logs and to leave open
//! in a browser (DESIGN §8):
//!
//! - every response carries a Content-Security-Policy that allows scripts,
//!   styles and images from rampart itself only, no inline script or
//!   style, no frames, no plugins; the browser reports what it blocked to
//!   `/csp-report`, where it is counted (a page that escapes everything
//!   causes no report);
//! - a request must name the host the server listens as (so a hostile
//!   page cannot reach a console on 127.0.0.1 through DNS rebinding);
//! - with a token (required off loopback), every request carries it: as a
//!   bearer header, or a cookie set once from `?token=`; it is compared in
//!   constant time;
//! - a request that changes something must come from the console's own
//!   origin and carry the form token of this server's run (or the token).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::App;

/// The policy every page is served under.
pub const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'; report-uri /csp-report";

/// The cookie a token given in the URL is kept in.
const COOKIE: &str = "rampart_token";

/// Violation reports kept to look at, and the longest kept.
const KEPT_REPORTS: usize = 20;
const LONGEST_REPORT: usize = 4096;

/// A secret compared in constant time.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

impl Token {
    /// A token; refused when shorter than 16 characters.
    pub fn new(secret: &str) -> Result<Token, String> {
        let secret = secret.trim();
        if secret.chars().count() < 16 {
            return Err("a token needs at least 16 characters".into());
        }
        Ok(Token(secret.to_owned()))
    }

    /// Whether `given` is the token, in time that does not depend on
    /// where they differ.
    pub fn matches(&self, given: &str) -> bool {
        self.0.as_bytes().ct_eq(given.as_bytes()).into()
    }
}

/// The server's checks and what they counted.
#[derive(Debug)]
pub struct Guard {
    token: Option<Token>,
    /// The token forms carry in this run of the server.
    form: Token,
    /// The names the server answers to (`127.0.0.1:8080`, ...); none when
    /// it listens on every address (a token is required then).
    hosts: Vec<String>,
    reports: AtomicU64,
    recent: Mutex<Vec<String>>,
}

fn random_hex() -> String {
    let mut bytes = [0u8; 24];
    // Without the system's randomness there is no safe form token.
    getrandom::fill(&mut bytes).expect("the system's random numbers");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Guard {
    /// The checks for a server bound to `bound`.
    pub fn new(token: Option<Token>, bound: SocketAddr) -> Guard {
        let port = bound.port();
        let hosts = if bound.ip().is_unspecified() {
            Vec::new()
        } else if bound.ip().is_loopback() {
            vec![
                format!("127.0.0.1:{port}"),
                format!("localhost:{port}"),
                format!("[::1]:{port}"),
            ]
        } else {
            vec![bound.to_string()]
        };
        Guard {
            token,
            form: Token(random_hex()),
            hosts,
            reports: AtomicU64::new(0),
            recent: Mutex::default(),
        }
    }

    /// The token this run's forms carry.
    pub fn form_token(&self) -> &str {
        &self.form.0
    }

    /// Whether a form's token is this run's (or the server's token).
    pub fn accepts_form(&self, given: &str) -> bool {
        self.form.matches(given) || self.token.as_ref().is_some_and(|t| t.matches(given))
    }

    /// Whether the request carries the server's token (always, when there
    /// is none).
    fn authorised(&self, headers: &HeaderMap) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        bearer.is_some_and(|b| token.matches(b))
            || cookie(headers, COOKIE).is_some_and(|c| token.matches(c))
    }

    /// Whether the request names a host the server answers to.
    fn right_host(&self, headers: &HeaderMap) -> bool {
        if self.hosts.is_empty() {
            return true;
        }
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        host.is_some_and(|h| self.hosts.iter().any(|known| known.eq_ignore_ascii_case(h)))
    }

    /// Whether a request that changes something comes from the console's
    /// own pages: its `Origin` is the host it asked (browsers send one with
    /// every such request), or, with no `Origin`, it carries the token as a
    /// header (a script, not a browser).
    fn same_origin(&self, headers: &HeaderMap) -> bool {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
            Some(origin) => host.is_some_and(|h| {
                origin
                    .strip_prefix("http://")
                    .is_some_and(|o| o.eq_ignore_ascii_case(h))
            }),
            None => headers.contains_key(header::AUTHORIZATION) && self.authorised(headers),
        }
    }
}

/// The value of the cookie `name`.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A plain-text refusal.
fn refuse(status: StatusCode, why: &'static str) -> Response {
    (status, why).into_response()
}

/// The middleware every request passes.
pub async fn check(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    match refusal(&app.guard, &request) {
        Some(refused) => {
            // The request's body is read (up to a bound) before the answer,
            // so that a client still sending it is not cut off mid-way and
            // gets the answer rather than a reset connection.
            let _ = axum::body::to_bytes(request.into_body(), DRAINED).await;
            with_headers(refused)
        }
        None => with_headers(next.run(request).await),
    }
}

/// The most of a refused request's body read before answering.
const DRAINED: usize = 64 * 1024;

/// The answer to a request the checks refuse; `None` for one they let
/// through.
fn refusal(guard: &Guard, request: &Request) -> Option<Response> {
    let headers = request.headers();
    if !guard.right_host(headers) {
        return Some(refuse(
            StatusCode::MISDIRECTED_REQUEST,
            "this console answers to the address it listens on only",
        ));
    }
    let report = request.uri().path() == "/csp-report";
    if !report && !guard.authorised(headers) {
        if let Some(given) = token_in_query(request.uri().query()) {
            if request.method() == Method::GET
                && guard.token.as_ref().is_some_and(|t| t.matches(&given))
            {
                return Some(remember_token(&given, request.uri().path()));
            }
        }
        return Some(refuse(
            StatusCode::UNAUTHORIZED,
            "this console needs its token: open it once with ?token=...",
        ));
    }
    let changes = !matches!(*request.method(), Method::GET | Method::HEAD);
    if changes && !report && !guard.same_origin(headers) {
        return Some(refuse(
            StatusCode::FORBIDDEN,
            "a change must come from the console's own pages",
        ));
    }
    None
}

/// The `token` of a query string.
fn token_in_query(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

/// Keeps a token given in the URL in a cookie and sends the browser on to
/// the same page without it (so it leaves the address bar and history).
fn remember_token(token: &str, path: &str) -> Response {
    let path = if path.starts_with('/') && !path.starts_with("//") {
        path
    } else {
        "/"
    };
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SEE_OTHER;
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(path) {
        headers.insert(header::LOCATION, location);
    }
    if let Ok(cookie) = HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
    )) {
        headers.insert(header::SET_COOKIE, cookie);
    }
    response
}

/// Adds the security headers.
fn with_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Counts a violation report the browser sends, keeping the last few.
pub async fn csp_report(State(app): State<Arc<App>>, body: Bytes) -> StatusCode {
    let guard = &app.guard;
    guard.reports.fetch_add(1, Ordering::Relaxed);
    let text = String::from_utf8_lossy(&body[..body.len().min(LONGEST_REPORT)]).into_owned();
    if let Ok(mut recent) = guard.recent.lock() {
        if recent.len() >= KEPT_REPORTS {
            recent.remove(0);
        }
        recent.push(text);
    }
    StatusCode::NO_CONTENT
}

/// The violation reports received: how many, and the last few.
pub async fn csp_reports(State(app): State<Arc<App>>) -> axum::Json<serde_json::Value> {
    let guard = &app.guard;
    let recent = guard.recent.lock().map(|r| r.clone()).unwrap_or_default();
    axum::Json(serde_json::json!({
        "count": guard.reports.load(Ordering::Relaxed),
        "recent": recent,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn a_token_matches_itself_only_and_must_be_long() {
        let token = Token::new("0123456789abcdef").unwrap();
        assert!(token.matches("0123456789abcdef"));
        assert!(!token.matches("0123456789abcdeF"));
        assert!(!token.matches("0123456789abcde"));
        assert!(!token.matches(""));
        assert!(Token::new("short").is_err());
    }

    #[test]
    fn a_loopback_server_answers_to_its_own_names_only() {
        let guard = Guard::new(None, "127.0.0.1:8080".parse().unwrap());
        assert!(guard.right_host(&headers(&[(header::HOST, "127.0.0.1:8080")])));
        assert!(guard.right_host(&headers(&[(header::HOST, "localhost:8080")])));
        assert!(!guard.right_host(&headers(&[(header::HOST, "evil.example:8080")])));
        assert!(!guard.right_host(&HeaderMap::new()));
        assert!(guard.authorised(&HeaderMap::new()), "no token, no check");
    }

    #[test]
    fn with_a_token_a_request_carries_it_as_a_header_or_a_cookie() {
        let token = Token::new("0123456789abcdef").unwrap();
        let guard = Guard::new(Some(token), "0.0.0.0:8080".parse().unwrap());
        assert!(!guard.authorised(&HeaderMap::new()));
        assert!(guard.authorised(&headers(&[(
            header::AUTHORIZATION,
            "Bearer 0123456789abcdef"
        )])));
        assert!(guard.authorised(&headers(&[(
            header::COOKIE,
            "a=b; rampart_token=0123456789abcdef"
        )])));
        assert!(!guard.authorised(&headers(&[(header::COOKIE, "rampart_token=wrong")])));
    }

    #[test]
    fn a_change_must_come_from_the_same_origin() {
        let guard = Guard::new(None, "127.0.0.1:8080".parse().unwrap());
        let host = (header::HOST, "127.0.0.1:8080");
        assert!(guard.same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://127.0.0.1:8080")
        ])));
        assert!(!guard.same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://evil.example")
        ])));
        assert!(!guard.same_origin(&headers(&[host.clone(), (header::ORIGIN, "null")])));
        assert!(
            !guard.same_origin(&headers(&[host])),
            "no origin and no token"
        );
        assert!(guard.accepts_form(guard.form_token()));
        assert!(!guard.accepts_form("guess"));
    }
}
