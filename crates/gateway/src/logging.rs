//! The gateway's logs: one JSON object per line on stderr (journald keeps
//! them as they are; `jq` reads them), each line of a request carrying the
//! request's id, which the response names in `X-Request-Id` so a customer's
//! or the bank's report can be found.
//!
//! What is logged is chosen, never dumped: a request's method, path
//! (without its query, where a user code could be) and status, and the
//! gateway's own events and errors. No token, key, password, user code,
//! amount or message text is ever a field or part of a message; the
//! whole-session test scans every line for planted values.

use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::error::GatewayError;

/// Starts the JSON logs at `filter` (a level such as `info`, or
/// directives such as `info,strongroom_gateway::stream=debug`).
///
/// # Errors
/// [`GatewayError::Config`] if the filter does not parse.
pub fn init(filter: &str) -> Result<(), GatewayError> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .map_err(|e| GatewayError::Config(format!("--log-level {filter:?}: {e}")))?;
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true)
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init()
        .map_err(|e| GatewayError::Config(format!("logging: {e}")))
}

/// Gives each request an id: a span every line logged for it carries, and
/// the `X-Request-Id` header of its response. The span also names the bank
/// API key a bank API call used (`api_client`, recorded by the key check). At `debug`, one line per
/// request with its status and time; a failure (5xx) is logged at `error`
/// by the handler that met it.
pub async fn with_request_id(request: Request, next: Next) -> Response {
    let id = crate::crypto::hex(&crate::crypto::random_bytes::<8>(
        &ring::rand::SystemRandom::new(),
    ));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
        api_client = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::debug!(
            status = response.status().as_u16(),
            micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "answered"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
