//! Who is asking, checked in one place: the access token and DPoP proof of
//! every messaging API request and stream, and the DPoP proofs, nonces and
//! replay cache of the token and device authorization endpoints. Handlers
//! call these before they read or write anything.

use axum::http::{HeaderMap, StatusCode, header};
use strongroom_core::protocol::dpop::{VerifiedProof, verify_proof};

use crate::bank_as::Refusal;
use crate::crypto::{now_s, sha256};
use crate::error::{GatewayError, OAuthError, Problem};
use crate::events::has_scope;
use crate::sql::OptionalExtension;
use crate::state::{AppState, Shared};

/// A device that proved possession of its token's key.
#[derive(Debug, Clone)]
pub struct DeviceAuth {
    /// The device id.
    pub device_id: String,
    /// Its customer's row id.
    pub customer_id: i64,
    /// The thumbprint of the key that proved this request.
    pub jkt: String,
    /// The scopes granted.
    pub scope: String,
    /// When the access token expires, seconds since the epoch.
    pub expires_at: i64,
}

/// Checks `Authorization: DPoP <token>` and the `DPoP` proof for `method`
/// and `path`, then the device's request rate. (The client IP's rate is
/// checked before this, by the router.) The proof's `jti` is recorded only
/// once the token is known, live and bound to the proof's key.
///
/// # Errors
/// 401 for a missing, expired, revoked or foreign-key token or a bad proof;
/// 429 over the rate.
pub async fn authenticate(
    state: &Shared,
    headers: &HeaderMap,
    method: &str,
    path: &str,
) -> Result<DeviceAuth, Problem> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("DPoP "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= MAX_ACCESS_TOKEN_BYTES)
        .ok_or_else(|| {
            Problem::invalid_token("an Authorization: DPoP <access token> header is required")
        })?
        .to_owned();
    let proof = dpop_header(headers)
        .map_err(Problem::invalid_dpop_proof)?
        .ok_or_else(|| Problem::invalid_dpop_proof("a DPoP proof is required"))?;
    let now = now_s();
    let verified = verify_proof(proof, method, &state.url(path), now, Some(&token))
        .map_err(|e| Problem::invalid_dpop_proof(e.to_string()))?;
    if state.bank_as.is_some() {
        return bank_as_request(state, &token, verified, now).await;
    }
    let hash = sha256(token.as_bytes());
    let row = state
        .db
        .read(move |c| -> Result<_, GatewayError> {
            Ok(c.prepare_cached(
                "SELECT d.id, d.customer_id, d.jkt, d.scope, t.expires_at, t.revoked, d.revoked_at
                 FROM access_tokens t JOIN devices d ON d.id = t.device_id WHERE t.hash = ?1",
            )?
            .query_row([&hash], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, bool>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                ))
            })
            .optional()?)
        })
        .await?;
    let Some((device_id, customer_id, jkt, scope, expires_at, revoked, device_revoked)) = row
    else {
        return Err(Problem::invalid_token("unknown access token"));
    };
    if device_revoked.is_some() {
        return Err(Problem::link_revoked(
            "this device's link was revoked: link again",
        ));
    }
    if revoked {
        return Err(Problem::invalid_token("the access token was revoked"));
    }
    if expires_at < now {
        return Err(Problem::invalid_token("the access token expired"));
    }
    if jkt != verified.jkt {
        return Err(Problem::invalid_token(
            "the access token is bound to another key",
        ));
    }
    // Only now, with a live token bound to the proof's key, is the proof's
    // id remembered: proofs from strangers never grow the replay cache.
    if !state
        .replay
        .first_use(&verified.jkt, &verified.jti, now)
        .await?
    {
        return Err(Problem::invalid_dpop_proof("this proof was already used"));
    }
    state
        .limiter
        .take(&format!("device:{device_id}"))
        .await?
        .map_err(Problem::too_many)?;
    Ok(DeviceAuth {
        device_id,
        customer_id,
        jkt,
        scope,
        expires_at,
    })
}

/// The longest access token read: the built-in server's are 43 bytes, a
/// bank's JWT access tokens a few hundred to a few thousand.
const MAX_ACCESS_TOKEN_BYTES: usize = 8 * 1024;

/// A request with a token of the bank's own authorization server: the
/// token checked there (signature or introspection), bound to the proof's
/// key, the proof never used before, then the device found or recorded.
async fn bank_as_request(
    state: &Shared,
    token: &str,
    verified: VerifiedProof,
    now: i64,
) -> Result<DeviceAuth, Problem> {
    let Some(bank_as) = state.bank_as.as_ref() else {
        return Err(Problem::invalid_token("unknown access token"));
    };
    let checked = bank_as.check(token, now).await.map_err(|r| match r {
        Refusal::Invalid(why) => Problem::invalid_token(why),
        Refusal::Unavailable(why) => {
            // The operators read why; a caller learns no internal address.
            tracing::error!(reason = %why, "the bank's authorization server is unavailable");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "authorization_server_unavailable",
                "the bank's authorization server cannot check the token now: try again later",
            )
        }
    })?;
    if checked.jkt != verified.jkt {
        return Err(Problem::invalid_token(
            "the access token is bound to another key",
        ));
    }
    if !state
        .replay
        .first_use(&verified.jkt, &verified.jti, now)
        .await?
    {
        return Err(Problem::invalid_dpop_proof("this proof was already used"));
    }
    let auth = crate::resource::bank_as_device(state, checked).await?;
    state
        .limiter
        .check(&format!("device:{}", auth.device_id))
        .map_err(Problem::too_many)?;
    Ok(auth)
}

/// Refuses a request whose link was not granted `scope`.
///
/// # Errors
/// 403 `insufficient_scope`.
pub(crate) fn require_scope(auth: &DeviceAuth, scope: &str) -> Result<(), Problem> {
    if has_scope(&auth.scope, scope) {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("this link was not granted {scope:?}"),
        ))
    }
}

/// The one `DPoP` header of a request, if there is exactly one.
pub fn dpop_header(headers: &HeaderMap) -> Result<Option<&str>, &'static str> {
    let mut values = headers.get_all("dpop").iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(v), None) => v
            .to_str()
            .map(Some)
            .map_err(|_| "the DPoP header is not text"),
        (Some(_), Some(_)) => Err("more than one DPoP header"),
    }
}

/// Verifies a DPoP proof for the token endpoint: valid, carrying this
/// server's current nonce, never seen before.
///
/// # Errors
/// `invalid_dpop_proof`, or `use_dpop_nonce` with the current nonce.
pub(crate) async fn token_endpoint_proof(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<VerifiedProof, OAuthError> {
    let now = now_s();
    let bad = |why: String| OAuthError::new("invalid_dpop_proof").describe(why);
    let proof = dpop_header(headers)
        .map_err(|e| bad(e.into()))?
        .ok_or_else(|| bad("a DPoP proof is required".into()))?;
    let verified = verify_proof(proof, "POST", &state.url("/oauth/token"), now, None)
        .map_err(|e| bad(e.to_string()))?;
    if !verified
        .nonce
        .as_deref()
        .is_some_and(|n| state.nonces.valid(n, now))
    {
        return Err(OAuthError {
            dpop_nonce: Some(state.nonces.current(now)),
            ..OAuthError::new("use_dpop_nonce")
                .describe("the proof must carry the server's DPoP-Nonce")
        });
    }
    if !state
        .replay
        .first_use(&verified.jkt, &verified.jti, now)
        .await?
    {
        return Err(bad("this proof was already used".into()));
    }
    Ok(verified)
}

/// The key a device code is bound to: the thumbprint of the DPoP proof
/// sent with the device authorization request, if one was (it binds the
/// device code to the key that will redeem it), checked and remembered
/// like any other proof.
///
/// # Errors
/// `invalid_dpop_proof`.
pub(crate) async fn device_code_binding(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<String>, OAuthError> {
    let now = now_s();
    match dpop_header(headers) {
        Err(e) => Err(OAuthError::new("invalid_dpop_proof").describe(e)),
        Ok(None) => Ok(None),
        Ok(Some(proof)) => {
            let verified = verify_proof(
                proof,
                "POST",
                &state.url("/oauth/device_authorization"),
                now,
                None,
            )
            .map_err(|e| OAuthError::new("invalid_dpop_proof").describe(e.to_string()))?;
            if !state
                .replay
                .first_use(&verified.jkt, &verified.jti, now)
                .await?
            {
                return Err(
                    OAuthError::new("invalid_dpop_proof").describe("this proof was already used")
                );
            }
            Ok(Some(verified.jkt))
        }
    }
}

/// The DPoP nonce a client's next token request must carry, sent with
/// every token response.
pub(crate) fn current_nonce(state: &AppState) -> String {
    state.nonces.current(now_s())
}
