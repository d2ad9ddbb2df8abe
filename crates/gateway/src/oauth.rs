//! The OAuth 2.0 authorization server: metadata (RFC 8414), the device
//! authorization grant (RFC 8628), DPoP-bound tokens (RFC 9449), refresh,
//! revocation (RFC 7009) and the alert signing keys.

use std::collections::HashMap;

use crate::sql::{OptionalExtension, params};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use strongroom_core::protocol::alert::{AlertEvent, AlertKind, AlertSeverity};
use strongroom_core::protocol::dpop::VerifiedProof;
use strongroom_core::protocol::jose::b64_encode;

use crate::auth::{current_nonce, device_code_binding, token_endpoint_proof};
use crate::crypto::{now_ms, now_s, random_bytes, random_token, sha256};
use crate::error::OAuthError;
use crate::events::{Committed, enqueue, flags_event, sign_alert, store_alert};
use crate::state::{AppState, Shared};
use crate::user_codes::new_user_code;

/// The device code grant type URI (RFC 8628).
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The scopes this bank grants.
pub const SCOPES: [&str; 2] = ["alerts", "chat"];
/// How long a device code lives, seconds.
pub const DEVICE_CODE_TTL_S: i64 = 600;
/// The polling interval first granted, seconds.
pub const POLL_INTERVAL_S: i64 = 5;

/// Parses an `application/x-www-form-urlencoded` body; a repeated
/// parameter is an error (RFC 6749 section 3.1).
///
/// # Errors
/// `invalid_request`.
pub fn parse_form(body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| OAuthError::new("invalid_request").describe("the body is not a form"))?;
    let mut form = HashMap::new();
    for (k, v) in pairs {
        if form.insert(k, v).is_some() {
            return Err(OAuthError::new("invalid_request").describe("a parameter is repeated"));
        }
    }
    Ok(form)
}

fn required<'a>(form: &'a HashMap<String, String>, name: &str) -> Result<&'a str, OAuthError> {
    form.get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty() && v.len() <= 4096)
        .ok_or_else(|| OAuthError::new("invalid_request").describe(format!("{name} is required")))
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /.well-known/oauth-authorization-server`.
pub async fn metadata(State(state): State<Shared>) -> Response {
    let iss = &state.issuer;
    let stream = format!(
        "wss://{}/v1/stream",
        iss.strip_prefix("https://").unwrap_or(iss)
    );
    json_response(
        StatusCode::OK,
        serde_json::json!({
            "issuer": iss,
            "device_authorization_endpoint": format!("{iss}/oauth/device_authorization"),
            "token_endpoint": format!("{iss}/oauth/token"),
            "revocation_endpoint": format!("{iss}/oauth/revoke"),
            "jwks_uri": format!("{iss}/oauth/jwks"),
            "grant_types_supported": [DEVICE_CODE_GRANT, "refresh_token"],
            "response_types_supported": [],
            "dpop_signing_alg_values_supported": ["ES256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "revocation_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": SCOPES,
            "strongroom_stream_endpoint": stream,
            "strongroom_api_base": format!("{iss}/v1"),
            "strongroom_bank_name": state.config.bank_name,
        }),
    )
}

/// `GET /oauth/jwks`: the published alert signing keys.
pub async fn jwks(State(state): State<Shared>) -> Response {
    let set = state.signing().published;
    json_response(
        StatusCode::OK,
        serde_json::to_value(set).unwrap_or_default(),
    )
}

/// The clients the built-in authorization server knows: the Strongroom
/// desktop app, a public client (RFC 6749 section 2.1). Any other
/// `client_id` is refused, so nothing else can pose as the app at the
/// device grant.
pub const CLIENTS: &[&str] = &["strongroom-desktop"];

/// The request's `client_id`, if it is one of [`CLIENTS`]; otherwise
/// `invalid_client` with 401 (RFC 6749 section 5.2).
fn known_client(form: &HashMap<String, String>) -> Result<String, OAuthError> {
    let client_id = required(form, "client_id")?;
    if !CLIENTS.contains(&client_id) {
        let mut error = OAuthError::new("invalid_client").describe("unknown client_id");
        error.status = StatusCode::UNAUTHORIZED;
        return Err(error);
    }
    Ok(client_id.to_owned())
}

/// RFC 8707: a client may name the resource it wants a token for; this
/// server issues tokens for one resource only, the gateway itself, and
/// refuses any other with `invalid_target`.
fn check_resource(state: &AppState, form: &HashMap<String, String>) -> Result<(), OAuthError> {
    match form.get("resource") {
        Some(r) if r.trim_end_matches('/') != state.resource() => {
            Err(OAuthError::new("invalid_target")
                .describe("this server issues tokens only for its own gateway"))
        }
        _ => Ok(()),
    }
}

/// `POST /oauth/device_authorization` (RFC 8628 section 3.1).
pub async fn device_authorization(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let form = parse_form(&body)?;
    let client_id = known_client(&form)?;
    check_resource(&state, &form)?;
    let requested = form
        .get("scope")
        .map(String::as_str)
        .unwrap_or("alerts chat");
    let mut scopes: Vec<&str> = Vec::new();
    for scope in requested.split(' ').filter(|s| !s.is_empty()) {
        if !SCOPES.contains(&scope) {
            return Err(
                OAuthError::new("invalid_scope").describe(format!("unknown scope {scope:?}"))
            );
        }
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        scopes = SCOPES.to_vec();
    }
    let scope = SCOPES
        .iter()
        .filter(|s| scopes.contains(s))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let jkt = device_code_binding(&state, &headers).await?;
    let device_code = random_token(&state.rng);
    let code_hash = sha256(device_code.as_bytes());
    let mut user_code = new_user_code(&state.rng);
    for _ in 0..5 {
        let stored = user_code.replace('-', "");
        let (hash, client, sc, key) = (
            code_hash.clone(),
            client_id.clone(),
            scope.clone(),
            jkt.clone(),
        );
        let inserted = state
            .db
            .write(move |c| -> Result<bool, OAuthError> {
                let now = now_s();
                c.execute(
                    "DELETE FROM device_codes WHERE expires_at < ?1 AND status != 'redeemed'",
                    [now - 3600],
                )
                .map_err(crate::error::GatewayError::from)?;
                let n = c
                    .execute(
                        "INSERT INTO device_codes(hash, user_code, client_id, scope, jkt,
                            expires_at, interval_s, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending')
                         ON CONFLICT DO NOTHING",
                        params![hash, stored, client, sc, key, now + DEVICE_CODE_TTL_S, POLL_INTERVAL_S],
                    )
                    .map_err(crate::error::GatewayError::from)?;
                Ok(n == 1)
            })
            .await?;
        if inserted {
            let verification_uri = state.url("/device");
            return Ok(json_response(
                StatusCode::OK,
                serde_json::json!({
                    "device_code": device_code,
                    "user_code": user_code,
                    "verification_uri": verification_uri,
                    "verification_uri_complete": format!("{verification_uri}?user_code={user_code}"),
                    "expires_in": DEVICE_CODE_TTL_S,
                    "interval": POLL_INTERVAL_S,
                }),
            ));
        }
        user_code = new_user_code(&state.rng);
    }
    Err(OAuthError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        ..OAuthError::new("temporarily_unavailable")
    })
}

/// What a device code poll comes to.
enum Poll {
    Error(&'static str, &'static str),
    Issued {
        access_token: String,
        refresh_token: String,
        scope: String,
        customer_id: i64,
        audience: String,
        committed: Committed,
    },
}

/// The token endpoint's answer. `strongroom_audience` is the customer's
/// subject identifier: every alert for this customer names it as `aud`, and
/// the device refuses alerts that name another (protocol section 4.2).
fn token_response(
    state: &AppState,
    access: &str,
    refresh: &str,
    scope: &str,
    audience: &str,
) -> Response {
    let mut response = json_response(
        StatusCode::OK,
        serde_json::json!({
            "access_token": access,
            "token_type": "DPoP",
            "expires_in": state.config.access_token_ttl,
            "refresh_token": refresh,
            "scope": scope,
            "strongroom_audience": audience,
        }),
    );
    if let Ok(nonce) = HeaderValue::from_str(&current_nonce(state)) {
        response.headers_mut().insert("dpop-nonce", nonce);
    }
    response
}

fn insert_access_token(
    c: &crate::sql::Connection,
    device_id: &str,
    token: &str,
    ttl: u64,
) -> Result<(), crate::error::GatewayError> {
    c.prepare_cached("INSERT INTO access_tokens(hash, device_id, expires_at) VALUES (?1, ?2, ?3)")?
        .execute(params![
            sha256(token.as_bytes()),
            device_id,
            now_s() + i64::try_from(ttl).unwrap_or(i64::MAX / 2)
        ])?;
    Ok(())
}

/// `POST /oauth/token`: the device code and refresh token grants.
pub async fn token(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let form = parse_form(&body)?;
    let grant_type = required(&form, "grant_type")?.to_owned();
    if grant_type != DEVICE_CODE_GRANT && grant_type != "refresh_token" {
        return Err(OAuthError::new("unsupported_grant_type"));
    }
    let client_id = known_client(&form)?;
    check_resource(&state, &form)?;
    let proof = token_endpoint_proof(&state, &headers).await?;
    if grant_type == "refresh_token" {
        return refresh(&state, &form, proof).await;
    }
    let code_hash = sha256(required(&form, "device_code")?.as_bytes());
    let signing = state.signing();
    let issuer = state.issuer.clone();
    let ttl = state.config.access_token_ttl;
    let (access, refresh_token) = (random_token(&state.rng), random_token(&state.rng));
    let device_id = format!("d-{}", b64_encode(&random_bytes::<12>(&state.rng)));
    let rng = state.rng.clone();
    let outcome = state
        .db
        .write(move |c| -> Result<Poll, crate::error::GatewayError> {
            let row = c
                .query_row(
                    "SELECT client_id, scope, jkt, expires_at, interval_s, last_poll_ms, status, customer_id
                     FROM device_codes WHERE hash = ?1",
                    [&code_hash],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, Option<String>>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, i64>(4)?,
                            r.get::<_, Option<i64>>(5)?,
                            r.get::<_, String>(6)?,
                            r.get::<_, Option<i64>>(7)?,
                        ))
                    },
                )
                .optional()?;
            let Some((client, scope, bound_jkt, expires_at, interval, last_poll, status, customer)) = row
            else {
                return Ok(Poll::Error("invalid_grant", "unknown device code"));
            };
            if client != client_id {
                return Ok(Poll::Error("invalid_grant", "the device code belongs to another client"));
            }
            if bound_jkt.as_deref().is_some_and(|k| k != proof.jkt) {
                return Ok(Poll::Error("invalid_grant", "the device code is bound to another key"));
            }
            if status == "redeemed" {
                return Ok(Poll::Error("invalid_grant", "the device code was already used"));
            }
            if now_s() > expires_at {
                return Ok(Poll::Error("expired_token", "the device code expired"));
            }
            let now = now_ms();
            // A second of tolerance for timer jitter on a client that waits
            // exactly the interval.
            if last_poll.is_some_and(|last| now - last < (interval - 1) * 1000) {
                c.execute(
                    "UPDATE device_codes SET last_poll_ms = ?1, interval_s = interval_s + 5 WHERE hash = ?2",
                    params![now, code_hash],
                )?;
                return Ok(Poll::Error("slow_down", "poll less often: the interval grew by 5 seconds"));
            }
            c.execute(
                "UPDATE device_codes SET last_poll_ms = ?1 WHERE hash = ?2",
                params![now, code_hash],
            )?;
            match (status.as_str(), customer) {
                ("denied", _) => Ok(Poll::Error("access_denied", "the customer denied the request")),
                ("approved", Some(customer_id)) => {
                    c.execute(
                        "INSERT INTO devices(id, customer_id, jkt, refresh_hash, scope, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![device_id, customer_id, proof.jkt, sha256(refresh_token.as_bytes()), scope, now],
                    )?;
                    insert_access_token(c, &device_id, &access, ttl)?;
                    c.execute(
                        "UPDATE device_codes SET status = 'redeemed', device_id = ?1 WHERE hash = ?2",
                        params![device_id, code_hash],
                    )?;
                    let committed =
                        welcome_device(c, &signing.current, &issuer, &rng, customer_id, &device_id)?;
                    Ok(Poll::Issued {
                        access_token: access,
                        refresh_token,
                        scope,
                        customer_id,
                        audience: crate::bank::subject_of(c, customer_id)?,
                        committed,
                    })
                }
                _ => Ok(Poll::Error("authorization_pending", "the customer has not answered yet")),
            }
        })
        .await?;
    match outcome {
        Poll::Error(error, description) => Err(OAuthError::new(error).describe(description)),
        Poll::Issued {
            access_token,
            refresh_token,
            scope,
            customer_id,
            audience,
            committed,
        } => {
            state.hub.notify_all(&committed);
            let _ = state.links.send(customer_id);
            Ok(token_response(
                &state,
                &access_token,
                &refresh_token,
                &scope,
                &audience,
            ))
        }
    }
}

/// What a newly linked device is sent first: its customer's pilot flags
/// and, when the customer has other devices, a signed warning to every
/// device that a new one was linked. Returns what was committed, for the
/// streams to be woken.
///
/// # Errors
/// Storage or signing failures.
pub(crate) fn welcome_device(
    c: &crate::sql::Connection,
    key: &strongroom_core::protocol::jose::SigningKey,
    issuer: &str,
    rng: &ring::rand::SystemRandom,
    customer_id: i64,
    device_id: &str,
) -> Result<Committed, crate::error::GatewayError> {
    let flags: String = c.query_row(
        "SELECT flags FROM customers WHERE id = ?1",
        [customer_id],
        |r| r.get(0),
    )?;
    let mut committed = Vec::new();
    if let Some(seq) = enqueue(c, device_id, &flags_event(&flags), None)? {
        committed.push((device_id.to_owned(), seq));
    }
    let others: i64 = c.query_row(
        "SELECT count(*) FROM devices WHERE customer_id = ?1 AND id != ?2 AND revoked_at IS NULL",
        params![customer_id, device_id],
        |r| r.get(0),
    )?;
    if others > 0 {
        let alert = sign_alert(
            key,
            issuer,
            &crate::bank::subject_of(c, customer_id)?,
            AlertKind::NewDeviceSignIn,
            AlertEvent {
                severity: AlertSeverity::Warning,
                text:
                    "A new device was linked to your account. If this was not you, call the bank."
                        .into(),
                account_ref: None,
                amount_minor: None,
                currency: None,
                merchant: None,
                country: None,
                respond_by: None,
                balance_minor: None,
            },
            rng,
        )?;
        let body = crate::events::alert_body(&alert)?;
        committed.extend(store_alert(c, customer_id, &alert, &body, Some(device_id))?);
    }
    Ok(committed)
}

/// How long a spent refresh token is remembered (reuse detection), in ms.
const SPENT_REFRESH_KEPT_MS: i64 = 90 * 24 * 3600 * 1000;

/// What a refresh request came to.
enum Refreshed {
    /// New tokens: access, refresh, scope, audience.
    Issued(String, String, String, String),
    /// A spent refresh token was presented again: the grant is revoked.
    Reused(String),
    /// Unknown or revoked token, or a proof from another key.
    Refused,
}

/// The refresh grant. Every use rotates the refresh token (RFC 9700
/// section 4.14): the presented one is spent, and presenting a spent one
/// again revokes the whole grant, whoever presents it, and closes its
/// stream. The device then has to link again.
async fn refresh(
    state: &Shared,
    form: &HashMap<String, String>,
    proof: VerifiedProof,
) -> Result<Response, OAuthError> {
    let presented = sha256(required(form, "refresh_token")?.as_bytes());
    let access = random_token(&state.rng);
    let new_refresh = random_token(&state.rng);
    let ttl = state.config.access_token_ttl;
    let customer = customer_of_token(
        state,
        &presented,
        "SELECT d.customer_id FROM spent_refresh_tokens s JOIN devices d ON d.id = s.device_id
         WHERE s.hash = ?1",
    )
    .await?;
    let outcome = state
        .db
        .write_for(customer, move |c| -> Result<Refreshed, crate::error::GatewayError> {
            // The customer's devices in id order before this one's row,
            // as every write that takes several of them does.
            if let Some(customer) = customer {
                crate::events::lock_customer_devices(c, customer)?;
            }
            let row = c
                .query_row(
                    "SELECT d.id, d.jkt, d.scope, d.customer_id FROM devices d
                     WHERE d.refresh_hash = ?1 AND d.revoked_at IS NULL",
                    [&presented],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                        ))
                    },
                )
                .optional()?;
            match row {
                Some((device_id, jkt, scope, customer_id)) if jkt == proof.jkt => {
                    c.execute(
                        "DELETE FROM access_tokens WHERE device_id = ?1 AND expires_at < ?2",
                        params![device_id, now_s() - 86_400],
                    )?;
                    // Spent tokens are remembered for 90 days: one row per
                    // refresh would otherwise grow without end. An older
                    // one presented again is still refused, only without
                    // revoking the grant.
                    c.execute(
                        "DELETE FROM spent_refresh_tokens WHERE device_id = ?1 AND spent_at < ?2",
                        params![device_id, now_ms() - SPENT_REFRESH_KEPT_MS],
                    )?;
                    c.execute(
                        "INSERT INTO spent_refresh_tokens(hash, device_id, spent_at) VALUES (?1, ?2, ?3)",
                        params![presented, device_id, now_ms()],
                    )?;
                    c.execute(
                        "UPDATE devices SET refresh_hash = ?1 WHERE id = ?2",
                        params![sha256(new_refresh.as_bytes()), device_id],
                    )?;
                    insert_access_token(c, &device_id, &access, ttl)?;
                    let audience = crate::bank::subject_of(c, customer_id)?;
                    Ok(Refreshed::Issued(access, new_refresh, scope, audience))
                }
                Some(_) => Ok(Refreshed::Refused),
                None => {
                    let spent: Option<String> = c
                        .query_row(
                            "SELECT device_id FROM spent_refresh_tokens WHERE hash = ?1",
                            [&presented],
                            |r| r.get(0),
                        )
                        .optional()?;
                    let Some(device_id) = spent else {
                        return Ok(Refreshed::Refused);
                    };
                    revoke_device(c, &device_id)?;
                    Ok(Refreshed::Reused(device_id))
                }
            }
        })
        .await?;
    match outcome {
        Refreshed::Issued(access, refresh, scope, audience) => {
            Ok(token_response(state, &access, &refresh, &scope, &audience))
        }
        Refreshed::Reused(device) => {
            state.hub.revoke(&device);
            Err(OAuthError::new("invalid_grant").describe(
                "this refresh token was already used: the grant is revoked, link the device again",
            ))
        }
        Refreshed::Refused => Err(OAuthError::new("invalid_grant")
            .describe("unknown or revoked refresh token, or a proof from another key")),
    }
}

/// The customer whose device holds the refresh token hashed `hash`, or
/// the one `other` (a query of `?1`, the hash) finds: read before a write
/// that changes that device's row, so that its batch runs the write in
/// customer order (see `Db::write_for_customer`) and it cannot deadlock
/// with another gateway's batch over that customer's devices. A device's
/// customer never changes, so the read cannot go stale.
async fn customer_of_token(
    state: &Shared,
    hash: &[u8],
    other: &'static str,
) -> Result<Option<i64>, crate::error::GatewayError> {
    let hash = hash.to_vec();
    state
        .db
        .read(
            move |c| -> Result<Option<i64>, crate::error::GatewayError> {
                let held = c
                    .query_row(
                        "SELECT customer_id FROM devices WHERE refresh_hash = ?1",
                        [&hash],
                        |r| r.get(0),
                    )
                    .optional()?;
                match held {
                    Some(customer) => Ok(Some(customer)),
                    None => Ok(c.query_row(other, [&hash], |r| r.get(0)).optional()?),
                }
            },
        )
        .await
}

/// Revokes a device's grant: the device, its access tokens, its stream on
/// every gateway (announced). Does nothing to a device already revoked.
pub(crate) fn revoke_device(
    c: &crate::sql::Connection,
    device_id: &str,
) -> Result<(), crate::error::GatewayError> {
    c.execute(
        "UPDATE devices SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
        params![now_ms(), device_id],
    )?;
    c.execute(
        "UPDATE access_tokens SET revoked = 1 WHERE device_id = ?1",
        [device_id],
    )?;
    crate::hub::Announcement::Revoked {
        device: device_id.to_owned(),
    }
    .announce(c);
    Ok(())
}

/// `POST /oauth/revoke` (RFC 7009): a refresh token revokes the whole grant
/// and closes the device's stream; an access token revokes itself and
/// closes the stream opened with it.
pub async fn revoke(State(state): State<Shared>, body: Bytes) -> Result<Response, OAuthError> {
    let form = parse_form(&body)?;
    let hash = sha256(required(&form, "token")?.as_bytes());
    let customer = customer_of_token(
        &state,
        &hash,
        "SELECT d.customer_id FROM access_tokens t JOIN devices d ON d.id = t.device_id
         WHERE t.hash = ?1",
    )
    .await?;
    let revoked_device = state
        .db
        .write_for(customer, move |c| -> Result<Option<String>, crate::error::GatewayError> {
            // As in `refresh`.
            if let Some(customer) = customer {
                crate::events::lock_customer_devices(c, customer)?;
            }
            let device: Option<String> = c
                .query_row(
                    "UPDATE devices SET revoked_at = ?1 WHERE refresh_hash = ?2 AND revoked_at IS NULL RETURNING id",
                    params![now_ms(), hash],
                    |r| r.get(0),
                )
                .optional()?;
            match device {
                Some(id) => {
                    revoke_device(c, &id)?;
                    Ok(Some(id))
                }
                None => {
                    // An access token: a stream opened with it must not
                    // outlive it. Its device's stream is closed (on every
                    // gateway); the device reconnects with a fresh token
                    // if its grant is still alive.
                    let device: Option<String> = c
                        .query_row(
                            "UPDATE access_tokens SET revoked = 1 WHERE hash = ?1 AND revoked = 0 RETURNING device_id",
                            [&hash],
                            |r| r.get(0),
                        )
                        .optional()?;
                    if let Some(id) = &device {
                        crate::hub::Announcement::Revoked { device: id.clone() }.announce(c);
                    }
                    Ok(device)
                }
            }
        })
        .await?;
    if let Some(device) = revoked_device {
        state.hub.revoke(&device);
    }
    Ok(json_response(StatusCode::OK, serde_json::json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_refuse_repeated_parameters() {
        assert!(parse_form(b"a=1&b=2").is_ok());
        assert_eq!(parse_form(b"a=1&a=2").unwrap_err().error, "invalid_request");
    }
}
