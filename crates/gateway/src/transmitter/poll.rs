//! Poll delivery (RFC 8936): `POST /ssf/poll?stream_id=` with the bank API
//! key of the stream's client. The request acknowledges what the receiver
//! has (`ack`, and `setErrs` for SETs it refused: both leave the outbox)
//! and asks for more; the answer holds up to `maxEvents` SETs, oldest
//! first, each until it is acknowledged: a receiver that lost an answer
//! gets the same SETs again.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use super::sign_set;
use super::streams::{POLL, StreamQuery};
use crate::bank::idempotency::BankClient;
use crate::error::{GatewayError, Problem};
use crate::sql::{OptionalExtension, params};
use crate::state::Shared;

/// The most SETs one answer holds.
pub const MAX_EVENTS: usize = 256;
/// How long a poll without `returnImmediately` waits for a first event.
pub const LONG_POLL: Duration = Duration::from_secs(10);

/// A poll request (RFC 8936 section 2.4).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PollRequest {
    #[serde(default)]
    max_events: Option<usize>,
    #[serde(default)]
    return_immediately: Option<bool>,
    #[serde(default)]
    ack: Vec<String>,
    #[serde(default)]
    set_errs: HashMap<String, serde_json::Value>,
}

fn invalid(detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "invalid_request", detail)
}

/// `POST /ssf/poll?stream_id=`.
pub async fn poll(
    State(state): State<Shared>,
    client: Option<Extension<BankClient>>,
    Query(query): Query<StreamQuery>,
    body: Bytes,
) -> Result<Response, Problem> {
    let Some(Extension(BankClient(client))) = client else {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "no API client",
        ));
    };
    let stream = query
        .stream_id
        .ok_or_else(|| invalid("?stream_id= is required"))?;
    let request: PollRequest = if body.is_empty() {
        PollRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| invalid(format!("the poll: {e}")))?
    };
    let max = request.max_events.unwrap_or(MAX_EVENTS).min(MAX_EVENTS);
    let mut done: Vec<String> = request.ack;
    if !request.set_errs.is_empty() {
        tracing::warn!(stream = %stream, refused = request.set_errs.len(), "a poll receiver refused events");
        done.extend(request.set_errs.into_keys());
    }
    if done.len() > 4 * MAX_EVENTS {
        return Err(invalid(format!(
            "at most {} acknowledgements at once",
            4 * MAX_EVENTS
        )));
    }
    let (owner, id) = (client.clone(), stream.clone());
    let found = state
        .db
        .write(move |c| -> Result<Option<String>, GatewayError> {
            let method: Option<String> = c
                .query_row(
                    "SELECT method FROM ssf_streams WHERE id = ?1 AND client = ?2",
                    params![id, owner],
                    |r| r.get(0),
                )
                .optional()?;
            if method.is_some() {
                for jti in &done {
                    c.execute(
                        "DELETE FROM ssf_outbox WHERE stream_id = ?1 AND jti = ?2",
                        params![id, jti],
                    )?;
                }
            }
            Ok(method)
        })
        .await?;
    match found.as_deref() {
        None => return Err(Problem::not_found("no such stream")),
        Some(POLL) => {}
        Some(_) => return Err(invalid("this stream is delivered by push")),
    }
    let deadline = tokio::time::Instant::now() + LONG_POLL;
    let immediately = request.return_immediately.unwrap_or(false) || max == 0;
    loop {
        let id = stream.clone();
        let limit = i64::try_from(max + 1).unwrap_or(i64::MAX);
        let rows = state
            .db
            .read(move |c| -> Result<Vec<(String, String)>, GatewayError> {
                let rows = c.query(
                    "SELECT o.jti, o.claims FROM ssf_outbox o JOIN ssf_streams s ON s.id = o.stream_id
                     WHERE o.stream_id = ?1 AND s.status = 'enabled' ORDER BY o.id LIMIT ?2",
                    params![id, limit],
                )?;
                rows.iter()
                    .map(|r| Ok((r.get(0)?, r.get(1)?)))
                    .collect()
            })
            .await?;
        if !rows.is_empty() || immediately || tokio::time::Instant::now() >= deadline {
            let more = rows.len() > max;
            let mut sets = serde_json::Map::new();
            for (jti, claims) in rows.into_iter().take(max) {
                sets.insert(jti, json!(sign_set(&state, &claims)?));
            }
            return Ok(Json(json!({"sets": sets, "moreAvailable": more})).into_response());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
