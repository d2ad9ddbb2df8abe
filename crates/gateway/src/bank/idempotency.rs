//! `Idempotency-Key` on the bank API's POSTs
//! (draft-ietf-httpapi-idempotency-key-header): a bank that retries a post
//! (a timeout, a dropped connection, its own restart) gets the first
//! answer again instead of a second alert, customer or chat message.
//!
//! The key, the request's fingerprint and the answer are kept in the
//! database for [`KEEP_MS`], so a retry is recognised by whichever gateway
//! of a cluster it reaches and after a restart. A request that finds its
//! key still being worked on waits for that answer (up to [`WAIT`]), so
//! concurrent retries make one alert and all get its answer. The same key
//! with another request is refused (422); an answer the bank should retry
//! (5xx, 429) is not kept, so the retry runs again.
//!
//! A request that holds its key runs to the end, its answer stored, even
//! when the bank hangs up first (a timeout on its side): the handler and
//! the storing of its answer run in a task of their own, not in the
//! connection's. What this cannot promise: if the gateway process dies
//! after the handler's commit and before the answer is stored, the key's
//! claim lapses after [`LEASE`] and a retry then runs again (at least
//! once, never lost). Each claim carries a random owner token, so a
//! request whose lease was taken over cannot store over, or let go of,
//! the new holder's claim.

use std::time::Duration;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use strongroom_core::protocol::jose::b64_encode;

use crate::crypto::{now_ms, sha256};
use crate::error::{GatewayError, Problem};
use crate::sql::{Connection, OptionalExtension, params};
use crate::state::Shared;

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Set on an answer that was stored for an earlier request with the key.
pub const REPLAYED: &str = "idempotent-replayed";

/// How long a key and its answer are kept: a day, longer than any bank's
/// retry schedule.
pub const KEEP_MS: i64 = 24 * 60 * 60 * 1000;

/// How long a request holds its key before another may take it over (the
/// holder's gateway is presumed dead): far longer than any handler runs.
pub const LEASE: Duration = Duration::from_secs(30);

/// How long a retry waits for the first request's answer before it is
/// told 409 (and to retry later).
pub const WAIT: Duration = Duration::from_secs(10);

/// The longest key: the draft leaves it open; UUIDs and ULIDs fit easily.
pub const MAX_KEY_CHARS: usize = 255;

/// The largest answer kept; the bank API's answers are a few hundred bytes.
const MAX_STORED_BODY: usize = 256 * 1024;

/// The bank system a key belongs to: keys of different API clients never
/// meet. Put in the request's extensions by the authentication layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankClient(pub String);

/// An answer kept for a key.
#[derive(Debug, Clone)]
struct Stored {
    status: u16,
    content_type: Option<String>,
    body: String,
}

/// What the database says about a key.
enum Claim {
    /// This request holds the key (with this owner token): run it, then
    /// store its answer.
    Held(String),
    /// The key's request finished: this is its answer.
    Answered(Stored),
    /// Another request holds the key and is still running.
    Busy,
    /// The key was used for a different request.
    Mismatch,
}

/// The middleware: POSTs with an `Idempotency-Key` run once per key;
/// everything else passes through.
pub async fn idempotent_posts(
    State(state): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    // The bank API's POSTs; the Shared Signals endpoints have their own
    // rules (a poll is repeated on purpose, its answer holds customer data).
    if request.method() != Method::POST || !request.uri().path().starts_with("/bank/") {
        return next.run(request).await;
    }
    let key = match key_of(request.headers()) {
        Ok(Some(key)) => key,
        Ok(None) => return next.run(request).await,
        Err(problem) => return problem.into_response(),
    };
    let client = request
        .extensions()
        .get::<BankClient>()
        .map_or_else(|| "bank".to_owned(), |c| c.0.clone());
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, crate::server::MAX_BODY_BYTES).await else {
        return Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "request bodies are at most {} bytes",
                crate::server::MAX_BODY_BYTES
            ),
        )
        .into_response();
    };
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), ToString::to_string);
    let fingerprint = fingerprint(parts.method.as_str(), &target, &body);
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut pause = Duration::from_millis(20);
    let owner = loop {
        let claim = claim(&state, &client, &key, &fingerprint).await;
        match claim {
            Ok(Claim::Held(owner)) => break owner,
            Ok(Claim::Answered(stored)) => return replay(stored),
            Ok(Claim::Mismatch) => {
                return Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used for a different request",
                )
                .into_response();
            }
            Ok(Claim::Busy) if tokio::time::Instant::now() + pause < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(250));
            }
            Ok(Claim::Busy) => {
                let mut busy = Problem::new(
                    StatusCode::CONFLICT,
                    "idempotency_key_in_use",
                    "a request with this Idempotency-Key is still being processed; retry later",
                );
                busy.retry_after = Some(1);
                return busy.into_response();
            }
            Err(e) => return Problem::from(e).into_response(),
        }
    };
    // Detached from the connection: a bank that hangs up does not stop
    // the request half-way (committed, its answer never stored).
    let request = Request::from_parts(parts, Body::from(body));
    let held = Held { client, key, owner };
    let task = tokio::spawn(async move {
        let response = next.run(request).await;
        settle(&state, held, response).await
    });
    task.await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "an idempotent request's task failed");
        Problem::internal(&e).into_response()
    })
}

/// A claim this request holds.
struct Held {
    client: String,
    key: String,
    owner: String,
}

/// The key of a request: an RFC 8941 string (`"..."`), or for clients that
/// send it bare, the same characters unquoted.
///
/// # Errors
/// 400 if the header is repeated, empty, too long or not printable ASCII.
fn key_of(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let invalid = || {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            format!(
                "Idempotency-Key: one quoted string of 1 to {MAX_KEY_CHARS} printable ASCII characters"
            ),
        )
    };
    if values.next().is_some() {
        return Err(invalid());
    }
    let raw = value.to_str().map_err(|_| invalid())?.trim();
    let key = raw
        .strip_prefix('"')
        .and_then(|k| k.strip_suffix('"'))
        .unwrap_or(raw);
    let printable = key
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
    if key.is_empty() || key.len() > MAX_KEY_CHARS || !printable {
        return Err(invalid());
    }
    Ok(Some(key.to_owned()))
}

/// What identifies a request: its method, target and body.
fn fingerprint(method: &str, target: &str, body: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(method.len() + target.len() + body.len() + 2);
    bytes.extend_from_slice(method.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(target.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(body);
    b64_encode(&sha256(&bytes))
}

/// Takes the key for this request, or says who has it. One write job, so
/// two requests (on any gateways of the database) never both hold it.
async fn claim(
    state: &Shared,
    client: &str,
    key: &str,
    fingerprint: &str,
) -> Result<Claim, GatewayError> {
    let (client, key, fingerprint) = (client.to_owned(), key.to_owned(), fingerprint.to_owned());
    let owner = crate::crypto::random_token(&state.rng);
    let (claim, took_over) = state
        .db
        .write_repeatable(move |c| claim_in(c, &client, &key, &fingerprint, &owner, now_ms()))
        .await?;
    // Said once it committed: the write may run more than once.
    if took_over {
        tracing::warn!(
            "an Idempotency-Key's first request never finished (its gateway stopped?); \
             its retry runs again"
        );
    }
    Ok(claim)
}

/// The claim, and whether it took the key over from a request whose lease
/// ran out.
fn claim_in(
    c: &Connection<'_>,
    client: &str,
    key: &str,
    fingerprint: &str,
    owner: &str,
    now: i64,
) -> Result<(Claim, bool), GatewayError> {
    let lease_ms = i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX);
    // Old keys go as new ones come: one indexed range delete.
    c.execute(
        "DELETE FROM idempotency_keys WHERE created_at < ?1",
        [now - KEEP_MS],
    )?;
    let inserted = c.execute(
        "INSERT INTO idempotency_keys (client, key, fingerprint, owner, created_at, lease_until)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (client, key) DO NOTHING",
        params![client, key, fingerprint, owner, now, now + lease_ms],
    )?;
    if inserted == 1 {
        return Ok((Claim::Held(owner.to_owned()), false));
    }
    let row = c
        .query_row(
            "SELECT fingerprint, lease_until, status, content_type, body
             FROM idempotency_keys WHERE client = ?1 AND key = ?2",
            params![client, key],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            },
        )
        .optional()?;
    // The row was there a moment ago; with one writer per database it
    // cannot have gone, but say busy rather than guess.
    let Some((stored_fingerprint, lease_until, status, content_type, body)) = row else {
        return Ok((Claim::Busy, false));
    };
    if stored_fingerprint != fingerprint {
        return Ok((Claim::Mismatch, false));
    }
    if let Some(status) = status {
        let stored = Stored {
            status: u16::try_from(status).unwrap_or(500),
            content_type,
            body: body.unwrap_or_default(),
        };
        return Ok((Claim::Answered(stored), false));
    }
    if lease_until < now {
        let taken = c.execute(
            "UPDATE idempotency_keys SET lease_until = ?1, owner = ?5
             WHERE client = ?2 AND key = ?3 AND status IS NULL AND lease_until = ?4",
            params![now + lease_ms, client, key, lease_until, owner],
        )?;
        if taken == 1 {
            return Ok((Claim::Held(owner.to_owned()), true));
        }
    }
    Ok((Claim::Busy, false))
}

/// Stores the answer for the key (or lets the key go if the bank should
/// retry), then returns the answer.
async fn settle(state: &Shared, held: Held, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let retry = parts.status.is_server_error() || parts.status == StatusCode::TOO_MANY_REQUESTS;
    let body = match to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "an answer could not be read to be kept for its Idempotency-Key");
            release(state, held).await;
            return Problem::internal(&e).into_response();
        }
    };
    let Held { client, key, owner } = held;
    // An answer too large to keep (none of the bank API's is) is still
    // given; only a retry would run the request again.
    let text = std::str::from_utf8(&body)
        .ok()
        .filter(|t| t.len() <= MAX_STORED_BODY)
        .map(str::to_owned);
    match text {
        Some(text) if !retry => {
            let status = i64::from(parts.status.as_u16());
            let content_type = parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let stored = state
                .db
                .write_repeatable(move |c| -> Result<usize, GatewayError> {
                    Ok(c.execute(
                        "UPDATE idempotency_keys SET status = ?1, content_type = ?2, body = ?3
                         WHERE client = ?4 AND key = ?5 AND status IS NULL AND owner = ?6",
                        params![status, content_type, text, client, key, owner],
                    )?)
                })
                .await;
            if let Err(e) = stored {
                // The request did happen: say so, and log that a retry
                // after the lease would run it again.
                tracing::error!(error = %e, "an answer could not be kept for its Idempotency-Key");
            }
        }
        _ => release(state, Held { client, key, owner }).await,
    }
    Response::from_parts(parts, Body::from(body))
}

/// Lets a key go, so the bank's retry runs the request again.
async fn release(state: &Shared, held: Held) {
    let Held { client, key, owner } = held;
    let released = state
        .db
        .write(move |c| -> Result<usize, GatewayError> {
            Ok(c.execute(
                "DELETE FROM idempotency_keys
                 WHERE client = ?1 AND key = ?2 AND status IS NULL AND owner = ?3",
                params![client, key, owner],
            )?)
        })
        .await;
    if let Err(e) = released {
        tracing::error!(error = %e, "an Idempotency-Key could not be let go; it lapses after its lease");
    }
}

/// The stored answer again, marked as a replay.
fn replay(stored: Stored) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Bytes::from(stored.body)).into_response();
    let headers = response.headers_mut();
    if let Some(content_type) = stored
        .content_type
        .and_then(|t| HeaderValue::from_str(&t).ok())
    {
        headers.insert(header::CONTENT_TYPE, content_type);
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(IDEMPOTENCY_KEY, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn keys_are_quoted_strings_or_bare_printable_ascii() {
        assert_eq!(key_of(&headers(&[])).unwrap(), None);
        assert_eq!(
            key_of(&headers(&["\"8e03978e-40d5\""])).unwrap().as_deref(),
            Some("8e03978e-40d5")
        );
        assert_eq!(
            key_of(&headers(&["abc 1"])).unwrap().as_deref(),
            Some("abc 1")
        );
        let long = "k".repeat(MAX_KEY_CHARS + 1);
        for bad in [
            &["\"\""][..],
            &["a", "b"],
            &["\"a\\\"b\""],
            &[long.as_str()],
        ] {
            let refused = key_of(&headers(bad)).unwrap_err();
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad:?}");
        }
    }

    #[test]
    fn a_fingerprint_covers_method_target_and_body() {
        let base = fingerprint("POST", "/bank/v1/alerts", b"{}");
        assert_eq!(base, fingerprint("POST", "/bank/v1/alerts", b"{}"));
        assert_ne!(base, fingerprint("POST", "/bank/v1/chat", b"{}"));
        assert_ne!(base, fingerprint("POST", "/bank/v1/alerts", b"{ }"));
        assert_ne!(base, fingerprint("PUT", "/bank/v1/alerts", b"{}"));
    }
}
