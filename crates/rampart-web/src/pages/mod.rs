//! The console's pages, rendered on the server: `layout` the frame every
//! page shares, then one module per page. Handlers return the page or a
//! [`Failure`], itself a page saying what went wrong.

pub mod alerts;
pub mod events;
pub mod layout;
pub mod overview;
pub mod rules;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::html;
use rampart_store::StoreError;

use layout::Nav;

/// A request that could not be served, and why.
#[derive(Debug)]
pub struct Failure {
    status: StatusCode,
    message: String,
}

impl Failure {
    /// A request asking for something that cannot be (a bad filter).
    pub fn bad(message: impl Into<String>) -> Failure {
        Failure {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// Nothing of that name.
    pub fn missing(message: impl Into<String>) -> Failure {
        Failure {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }

    /// A request refused (a form without this run's token).
    pub fn forbidden(message: impl Into<String>) -> Failure {
        Failure {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: format!("the store: {e}"),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = layout::page(
            "Error",
            Nav::None,
            html! {
                h1 { (self.status.canonical_reason().unwrap_or("Error")) }
                p.error role="alert" { (self.message) }
                p { a href="/" { "Back to the overview" } }
            },
        );
        (self.status, Html(body.into_string())).into_response()
    }
}
