//! The gateway as an OAuth protected resource (RFC 9728, protocol version
//! 2): its metadata, which names the authorization server that issues its
//! tokens (the bank's own, or the built-in one); the link endpoint a device
//! reads its alerts' audience from; unlinking at the resource; and the
//! devices that first appear with a token of the bank's own server.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use strongroom_core::protocol::jose::b64_encode;

use crate::auth::{DeviceAuth, authenticate};
use crate::bank_as::AsToken;
use crate::crypto::{now_ms, random_bytes};
use crate::error::{GatewayError, Problem};
use crate::oauth::SCOPES;
use crate::sql::{OptionalExtension, params};
use crate::state::Shared;

/// The protocol version this gateway speaks (`docs/protocol.md`).
pub const PROTOCOL_VERSION: u32 = 2;

/// `GET /.well-known/oauth-protected-resource` (RFC 9728 section 3).
pub async fn metadata(State(state): State<Shared>) -> Response {
    let iss = &state.issuer;
    let stream = format!(
        "wss://{}/v1/stream",
        iss.strip_prefix("https://").unwrap_or(iss)
    );
    let authorization_server = state.bank_as.as_ref().map_or(iss.as_str(), |a| a.issuer());
    let body = serde_json::json!({
        "resource": state.resource(),
        "authorization_servers": [authorization_server],
        "bearer_methods_supported": ["header"],
        "scopes_supported": SCOPES,
        "dpop_signing_alg_values_supported": ["ES256"],
        "dpop_bound_access_tokens_required": true,
        "resource_name": state.config.bank_name,
        "strongroom_protocol_version": PROTOCOL_VERSION,
        "strongroom_alert_issuer": iss,
        "strongroom_alert_keys_uri": format!("{iss}/v1/alert-keys"),
        "strongroom_stream_endpoint": stream,
        "strongroom_api_base": format!("{iss}/v1"),
        "strongroom_bank_name": state.config.bank_name,
    });
    let mut response = (StatusCode::OK, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /v1/link`: what a device needs to know about its link that the
/// bank's authorization server does not say: the audience every alert for
/// it names (its customer's subject identifier here) and the scopes this
/// gateway honours.
///
/// # Errors
/// 401 for a bad token or proof.
pub async fn link(State(state): State<Shared>, headers: HeaderMap) -> Result<Response, Problem> {
    let auth = authenticate(&state, &headers, "GET", "/v1/link").await?;
    let audience = crate::bank::customer_subject(&state, auth.customer_id).await?;
    Ok(axum::Json(serde_json::json!({
        "strongroom_audience": audience,
        "scope": auth.scope,
    }))
    .into_response())
}

/// `POST /v1/unlink`: the device ends its link here, whoever issued its
/// tokens: the device is revoked and its stream closed, so an access token
/// it held is refused at once, even one the bank's authorization server
/// still counts as live.
///
/// # Errors
/// 401 for a bad token or proof.
pub async fn unlink(State(state): State<Shared>, headers: HeaderMap) -> Result<Response, Problem> {
    let auth = authenticate(&state, &headers, "POST", "/v1/unlink").await?;
    let device = auth.device_id.clone();
    state
        .db
        .write_for_customer(auth.customer_id, move |c| {
            // As in a refresh: the customer's devices in id order first.
            crate::events::lock_customer_devices(c, auth.customer_id)?;
            crate::oauth::revoke_device(c, &device)
        })
        .await?;
    state.hub.revoke(&auth.device_id);
    Ok(axum::Json(serde_json::json!({})).into_response())
}

/// The device that presents `token` (a token of the bank's authorization
/// server, already checked) with a proof by the key `token` is bound to:
/// found by issuer and key, or recorded at its first request and welcomed
/// like a device linked through the built-in server.
///
/// # Errors
/// 403 for a customer the bank has not enrolled here; 401 for a device
/// that was unlinked or whose key belongs to another customer.
pub(crate) async fn bank_as_device(state: &Shared, token: AsToken) -> Result<DeviceAuth, Problem> {
    let Some(bank_as) = state.bank_as.as_ref() else {
        return Err(Problem::invalid_token("unknown access token"));
    };
    let issuer = bank_as.issuer().to_owned();
    let gateway = state.issuer.clone();
    let signing = state.signing();
    let rng = state.rng.clone();
    let new_id = format!("d-{}", b64_encode(&random_bytes::<12>(&state.rng)));
    let placeholder = random_bytes::<32>(&state.rng).to_vec();
    // Only the scopes this gateway knows count.
    let scope = SCOPES
        .iter()
        .filter(|s| token.scope.split(' ').any(|t| t == **s))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let (subject, jkt, issued_at) = (token.subject.clone(), token.jkt.clone(), token.issued_at);
    let found = state
        .db
        .write(move |c| -> Result<Found, GatewayError> {
            let customer: Option<(i64, Option<i64>)> = c
                .query_row(
                    "SELECT id, idp_sessions_revoked_at FROM customers WHERE idp_subject = ?1",
                    [&subject],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((customer_id, sessions_revoked)) = customer else {
                return Ok(Found::UnknownCustomer);
            };
            // The bank revoked the customer's sessions: a token issued
            // before then (or undated) is dead, whatever key it is bound to.
            if let Some(revoked) = sessions_revoked
                && issued_at.is_none_or(|iat| iat <= revoked)
            {
                return Ok(Found::Unlinked);
            }
            let existing = |c: &crate::sql::Connection| -> Result<Option<Found>, GatewayError> {
                let row = c
                    .query_row(
                        "SELECT id, customer_id, scope, revoked_at FROM devices
                         WHERE via_issuer = ?1 AND jkt = ?2",
                        params![issuer, jkt],
                        |r| {
                            Ok((
                                r.get::<_, String>(0)?,
                                r.get::<_, i64>(1)?,
                                r.get::<_, String>(2)?,
                                r.get::<_, Option<i64>>(3)?,
                            ))
                        },
                    )
                    .optional()?;
                Ok(row.map(|(id, owner, scope, revoked)| {
                    match (owner == customer_id, revoked) {
                        (false, _) => Found::OtherCustomer,
                        (true, Some(_)) => Found::Unlinked,
                        (true, None) => Found::Device(id, customer_id, scope, Vec::new()),
                    }
                }))
            };
            if let Some(found) = existing(c)? {
                return Ok(found);
            }
            let inserted = c.execute(
                "INSERT INTO devices(id, customer_id, jkt, refresh_hash, scope, created_at, via_issuer)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                params![new_id, customer_id, jkt, placeholder, scope, now_ms(), issuer],
            )?;
            if inserted == 0 {
                // Another gateway sharing the database recorded this
                // device a moment ago: it is that device.
                return existing(c)?.ok_or_else(|| {
                    GatewayError::Storage("a device vanished while it was recorded".into())
                });
            }
            let committed = crate::oauth::welcome_device(
                c,
                &signing.current,
                &gateway,
                &rng,
                customer_id,
                &new_id,
            )?;
            Ok(Found::Device(new_id, customer_id, scope, committed))
        })
        .await?;
    match found {
        Found::UnknownCustomer => Err(Problem::new(
            StatusCode::FORBIDDEN,
            "unknown_customer",
            "the bank has not enrolled this customer for Strongroom: ask the bank to add you",
        )),
        Found::OtherCustomer => Err(Problem::invalid_token(
            "this device key is linked to another customer",
        )),
        Found::Unlinked => Err(Problem::link_revoked(
            "this device's link was ended (unlinked, or the bank ended the session): link again",
        )),
        Found::Device(device_id, customer_id, device_scope, committed) => {
            if !committed.is_empty() {
                state.hub.notify_all(&committed);
                let _ = state.links.send(customer_id);
            }
            // A token never grants more than the device was first linked
            // with, nor more than it says itself.
            let scope = device_scope
                .split(' ')
                .filter(|s| token.scope.split(' ').any(|t| t == *s))
                .collect::<Vec<_>>()
                .join(" ");
            Ok(DeviceAuth {
                device_id,
                customer_id,
                jkt: token.jkt,
                scope,
                expires_at: token.expires_at,
            })
        }
    }
}

/// What the first request of a device of the bank's server came to.
enum Found {
    UnknownCustomer,
    OtherCustomer,
    Unlinked,
    Device(String, i64, String, crate::events::Committed),
}
