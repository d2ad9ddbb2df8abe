//! SSF 1.0 stream management: the transmitter's configuration metadata
//! (section 7), streams made, read, changed and deleted by the bank's API
//! clients (section 8.1.1, with a bank API key holding the `events`
//! scope; a client sees only its own streams, and asks only for events
//! whose data its key may read through the bank API), their status
//! (8.1.2) and verification (8.1.4).

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{EVENTS_SUPPORTED, Event, VERIFICATION, enqueue_about};
use crate::bank::clients::{ClientScopes, Scope};
use crate::bank::idempotency::BankClient;
use crate::crypto::{now_ms, random_uuid};
use crate::error::{GatewayError, Problem};
use crate::sql::{Connection, OptionalExtension, params};
use crate::state::Shared;

/// RFC 8935: push delivery.
pub const PUSH: &str = "urn:ietf:rfc:8935";
/// RFC 8936: poll delivery.
pub const POLL: &str = "urn:ietf:rfc:8936";

/// The most streams one API client may have.
pub const MAX_STREAMS: usize = 16;

/// `GET /.well-known/ssf-configuration`: the transmitter's metadata.
pub async fn configuration(State(state): State<Shared>) -> Response {
    let issuer = &state.issuer;
    Json(json!({
        "spec_version": "1_0",
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/oauth/jwks"),
        "delivery_methods_supported": [PUSH, POLL],
        "configuration_endpoint": format!("{issuer}/ssf/streams"),
        "status_endpoint": format!("{issuer}/ssf/status"),
        "verification_endpoint": format!("{issuer}/ssf/verify"),
        "authorization_schemes": [{"spec_urn": "urn:ietf:rfc:6750"}],
        "default_subjects": "ALL",
    }))
    .into_response()
}

/// A stream's delivery, as the receiver asks for it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryRequest {
    method: String,
    #[serde(default)]
    endpoint_url: Option<String>,
    #[serde(default)]
    authorization_header: Option<String>,
}

/// A stream to make or change.
#[derive(Debug, Deserialize)]
struct StreamRequest {
    #[serde(default)]
    stream_id: Option<String>,
    #[serde(default)]
    delivery: Option<DeliveryRequest>,
    #[serde(default)]
    events_requested: Option<Vec<String>>,
    #[serde(default)]
    description: Option<String>,
}

/// A stream as stored.
#[derive(Debug)]
struct Stream {
    id: String,
    aud: String,
    method: String,
    endpoint_url: Option<String>,
    events_requested: Vec<String>,
    status: String,
    description: Option<String>,
}

const STREAM_COLUMNS: &str = "id, aud, method, endpoint_url, events_requested, status, description";

fn stream_from(row: &crate::sql::Row) -> Result<Stream, crate::sql::Error> {
    Ok(Stream {
        id: row.get(0)?,
        aud: row.get(1)?,
        method: row.get(2)?,
        endpoint_url: row.get(3)?,
        events_requested: row
            .get::<_, String>(4)?
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        status: row.get(5)?,
        description: row.get(6)?,
    })
}

/// The stream's configuration as SSF shows it (the authorization header
/// is a secret of the receiver's and is not shown back).
fn shown(issuer: &str, s: &Stream) -> serde_json::Value {
    let delivered: Vec<&str> = EVENTS_SUPPORTED
        .iter()
        .copied()
        .filter(|e| s.events_requested.iter().any(|r| r == e))
        .collect();
    let mut delivery = json!({ "method": s.method });
    if let Some(url) = &s.endpoint_url {
        delivery["endpoint_url"] = json!(url);
    }
    json!({
        "stream_id": s.id,
        "iss": issuer,
        "aud": s.aud,
        "delivery": delivery,
        "events_supported": EVENTS_SUPPORTED,
        "events_requested": s.events_requested,
        "events_delivered": delivered,
        "description": s.description,
    })
}

fn client_of(client: Option<Extension<BankClient>>) -> Result<String, Problem> {
    client
        .map(|Extension(c)| c.0)
        .ok_or_else(|| Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "no API client"))
}

fn invalid(detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "invalid_request", detail)
}

/// Checks a delivery: push to an https URL, or poll (whose URL is the
/// gateway's own).
fn delivery_of(
    issuer: &str,
    id: &str,
    d: DeliveryRequest,
) -> Result<(String, Option<String>, Option<String>), Problem> {
    match d.method.as_str() {
        PUSH => {
            let url = d
                .endpoint_url
                .filter(|u| u.starts_with("https://") && u.len() <= 2048)
                .ok_or_else(|| invalid("push delivery needs an https endpoint_url"))?;
            let auth = d.authorization_header.filter(|h| !h.is_empty());
            if auth
                .as_ref()
                .is_some_and(|h| h.len() > 4096 || h.contains(['\r', '\n']))
            {
                return Err(invalid(
                    "authorization_header: one line, at most 4096 bytes",
                ));
            }
            Ok((PUSH.into(), Some(url), auth))
        }
        POLL => Ok((
            POLL.into(),
            Some(format!("{issuer}/ssf/poll?stream_id={id}")),
            None,
        )),
        other => Err(invalid(format!(
            "delivery method {other:?}: {PUSH} or {POLL}"
        ))),
    }
}

/// The bank API scope that reads what an event carries: a key may not get
/// by events what its scopes keep from it through the API.
fn scope_of_event(event: &str) -> Option<Scope> {
    match event {
        super::CHAT_MESSAGE => Some(Scope::Chat),
        super::VERIFICATION => None,
        _ => Some(Scope::Answers),
    }
}

fn events_of(requested: Vec<String>, scopes: &ClientScopes) -> Result<String, Problem> {
    if let Some(unknown) = requested
        .iter()
        .find(|e| !EVENTS_SUPPORTED.contains(&e.as_str()))
    {
        return Err(invalid(format!(
            "events_requested: {unknown:?} is not supported"
        )));
    }
    for event in &requested {
        if let Some(needed) = scope_of_event(event).filter(|s| !scopes.0.contains(s)) {
            return Err(crate::bank::clients::insufficient_scope(needed));
        }
    }
    Ok(requested.join(" "))
}

/// `POST /ssf/streams`: makes a stream for the calling API client.
pub async fn create(
    State(state): State<Shared>,
    client: Option<Extension<BankClient>>,
    Extension(scopes): Extension<ClientScopes>,
    body: Bytes,
) -> Result<Response, Problem> {
    let client = client_of(client)?;
    let request: StreamRequest = parsed(&body, "the stream")?;
    let id = random_uuid(&state.rng);
    let delivery = request
        .delivery
        .ok_or_else(|| invalid("delivery is required"))?;
    let (method, url, auth) = delivery_of(&state.issuer, &id, delivery)?;
    let events = events_of(request.events_requested.unwrap_or_default(), &scopes)?;
    let description = request.description.filter(|d| d.len() <= 256);
    let (sid, aud) = (id.clone(), client.clone());
    let stream = state
        .db
        .write(move |c| -> Result<Stream, Problem> {
            let count: i64 = c.query_row(
                "SELECT COUNT(*) FROM ssf_streams WHERE client = ?1",
                [&client],
                |r| r.get(0),
            )?;
            if usize::try_from(count).unwrap_or(usize::MAX) >= MAX_STREAMS {
                return Err(invalid(format!("an API client has at most {MAX_STREAMS} streams")));
            }
            c.execute(
                "INSERT INTO ssf_streams (id, client, aud, method, endpoint_url, authorization_header,
                     events_requested, status, description, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'enabled', ?8, ?9)",
                params![sid, client, aud, method, url, auth, events, description, now_ms()],
            )?;
            owned(c, &client, &sid)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(shown(&state.issuer, &stream))).into_response())
}

/// The client's stream `id`, 404 if it has none by that id.
fn owned(c: &Connection<'_>, client: &str, id: &str) -> Result<Stream, Problem> {
    read_stream(c, client, id)?.ok_or_else(|| Problem::not_found("no such stream"))
}

/// The `?stream_id=` a call needs.
fn required_id(query: StreamQuery) -> Result<String, Problem> {
    query
        .stream_id
        .ok_or_else(|| invalid("?stream_id= is required"))
}

/// A JSON request body, `what` naming it in the refusal.
fn parsed<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|e| invalid(format!("{what}: {e}")))
}

fn read_stream(c: &Connection<'_>, client: &str, id: &str) -> Result<Option<Stream>, GatewayError> {
    Ok(c.query_row(
        &format!("SELECT {STREAM_COLUMNS} FROM ssf_streams WHERE client = ?1 AND id = ?2"),
        params![client, id],
        stream_from,
    )
    .optional()?)
}

/// The `?stream_id=` of a call.
#[derive(Debug, Deserialize)]
pub struct StreamQuery {
    /// The stream.
    #[serde(default)]
    pub stream_id: Option<String>,
}

/// `GET /ssf/streams[?stream_id=]`: one of the client's streams, or all.
pub async fn get(
    State(state): State<Shared>,
    client: Option<Extension<BankClient>>,
    Query(query): Query<StreamQuery>,
) -> Result<Response, Problem> {
    let client = client_of(client)?;
    let issuer = state.issuer.clone();
    match query.stream_id {
        Some(id) => {
            let stream = state.db.read(move |c| owned(c, &client, &id)).await?;
            Ok(Json(shown(&issuer, &stream)).into_response())
        }
        None => {
            let streams = state
                .db
                .read(move |c| -> Result<Vec<Stream>, GatewayError> {
                    let rows = c.query(
                        &format!("SELECT {STREAM_COLUMNS} FROM ssf_streams WHERE client = ?1 ORDER BY created_at, id"),
                        [&client],
                    )?;
                    Ok(rows.iter().map(stream_from).collect::<Result<_, _>>()?)
                })
                .await?;
            let shown: Vec<_> = streams.iter().map(|s| shown(&issuer, s)).collect();
            Ok(Json(shown).into_response())
        }
    }
}

/// `PATCH /ssf/streams`: changes a stream's events, delivery or
/// description; what is not given stays.
pub async fn update(
    State(state): State<Shared>,
    client: Option<Extension<BankClient>>,
    Extension(scopes): Extension<ClientScopes>,
    body: Bytes,
) -> Result<Response, Problem> {
    let client = client_of(client)?;
    let request: StreamRequest = parsed(&body, "the stream")?;
    let id = request
        .stream_id
        .clone()
        .ok_or_else(|| invalid("stream_id is required"))?;
    let delivery = request
        .delivery
        .map(|d| delivery_of(&state.issuer, &id, d))
        .transpose()?;
    let events = request
        .events_requested
        .map(|e| events_of(e, &scopes))
        .transpose()?;
    let description = request.description;
    let stream = state
        .db
        .write(move |c| -> Result<Stream, Problem> {
            owned(c, &client, &id)?;
            if let Some((method, url, auth)) = delivery {
                c.execute(
                    "UPDATE ssf_streams SET method = ?1, endpoint_url = ?2, authorization_header = ?3
                     WHERE id = ?4",
                    params![method, url, auth, id],
                )?;
            }
            if let Some(events) = events {
                c.execute(
                    "UPDATE ssf_streams SET events_requested = ?1 WHERE id = ?2",
                    params![events, id],
                )?;
            }
            if let Some(description) = description.filter(|d| d.len() <= 256) {
                c.execute(
                    "UPDATE ssf_streams SET description = ?1 WHERE id = ?2",
                    params![description, id],
                )?;
            }
            owned(c, &client, &id)
        })
        .await?;
    Ok(Json(shown(&state.issuer, &stream)).into_response())
}

/// `DELETE /ssf/streams?stream_id=`: ends a stream; its undelivered events
/// go with it (the receiver asked for that).
pub async fn delete(
    State(state): State<Shared>,
    client: Option<Extension<BankClient>>,
    Query(query): Query<StreamQuery>,
) -> Result<Response, Problem> {
    let client = client_of(client)?;
    let id = required_id(query)?;
    state
        .db
        .write(move |c| -> Result<(), Problem> {
            owned(c, &client, &id)?;
            c.execute("DELETE FROM ssf_outbox WHERE stream_id = ?1", [&id])?;
            c.execute("DELETE FROM ssf_streams WHERE id = ?1", [&id])?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A status change.
#[derive(Debug, Deserialize)]
struct StatusRequest {
    stream_id: String,
    status: String,
    #[serde(default)]
    reason: Option<String>,
}

/// `GET /ssf/status?stream_id=`: `enabled`, `paused` (events are kept)
/// or `disabled` (events are dropped).
pub async fn get_status(
    State(state): State<Shared>,
    client: Option<Extension<BankClient>>,
    Query(query): Query<StreamQuery>,
) -> Result<Response, Problem> {
    let client = client_of(client)?;
    let id = required_id(query)?;
    let stream = state.db.read(move |c| owned(c, &client, &id)).await?;
    Ok(Json(json!({"stream_id": stream.id, "status": stream.status})).into_response())
}

/// `POST /ssf/status`: sets a stream's status. Disabling drops its queued
/// events, as SSF says a disabled stream's events are not kept.
pub async fn set_status(
    State(state): State<Shared>,
    client: Option<Extension<BankClient>>,
    body: Bytes,
) -> Result<Response, Problem> {
    let client = client_of(client)?;
    let request: StatusRequest = parsed(&body, "the status")?;
    if !["enabled", "paused", "disabled"].contains(&request.status.as_str()) {
        return Err(invalid("status: enabled, paused or disabled"));
    }
    let StatusRequest {
        stream_id,
        status,
        reason,
    } = request;
    let (id, new) = (stream_id.clone(), status.clone());
    state
        .db
        .write(move |c| -> Result<(), Problem> {
            owned(c, &client, &id)?;
            c.execute(
                "UPDATE ssf_streams SET status = ?1 WHERE id = ?2",
                params![new, id],
            )?;
            if new == "disabled" {
                c.execute("DELETE FROM ssf_outbox WHERE stream_id = ?1", [&id])?;
            }
            Ok(())
        })
        .await?;
    // The receiver's reason is for the operators: it goes in the log.
    tracing::info!(
        stream = %stream_id,
        status = %status,
        reason = %reason.unwrap_or_default().chars().take(200).collect::<String>(),
        "a stream's status was set"
    );
    Ok(Json(json!({"stream_id": stream_id, "status": status})).into_response())
}

/// A verification request.
#[derive(Debug, Deserialize)]
struct VerifyRequest {
    stream_id: String,
    #[serde(default)]
    state: Option<String>,
}

/// `POST /ssf/verify`: sends the stream a verification event carrying
/// the receiver's `state`, through its normal delivery.
pub async fn verify(
    State(state): State<Shared>,
    client: Option<Extension<BankClient>>,
    body: Bytes,
) -> Result<Response, Problem> {
    let client = client_of(client)?;
    let request: VerifyRequest = parsed(&body, "the verification")?;
    let mut fields = json!({});
    if let Some(s) = request.state.filter(|s| s.len() <= 256) {
        fields["state"] = json!(s);
    }
    let id = request.stream_id;
    state
        .db
        .write(move |c| -> Result<(), Problem> {
            owned(c, &client, &id)?;
            let subject = json!({"format": "opaque", "id": id});
            let event = Event {
                kind: VERIFICATION,
                fields,
            };
            enqueue_about(c, Some(&id), &subject, &event)?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
