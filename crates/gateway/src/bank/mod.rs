//! The bank integration API: what the bank's own systems call, with
//! `Authorization: Bearer <bank API key>`, each key named and scoped
//! ([`clients`]). Customers, transactions (turned
//! into alerts by the rules), custom alerts, staff chat, fraud answers,
//! pilot-feature flags, delivery status and key rotation. Every POST takes
//! an `Idempotency-Key` ([`idempotency`]). The key check and the small
//! endpoints are here; customers, alerts and chat each have
//! a module, and every body passes the checks of one.

mod alerts;
mod chat;
mod checks;
pub mod clients;
mod customers;
pub mod idempotency;
pub mod openapi;

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use strongroom_core::protocol::jose::b64_encode;
use utoipa::ToSchema;

use crate::crypto::{now_ms, now_s, random_bytes, random_token, sha256};
use crate::error::{GatewayError, Problem};
use crate::events::{enqueue, enqueue_for_customer, flags_event};
use crate::sql::params;
use crate::state::Shared;
pub use alerts::{
    AlertMade, CustomerQuery, Deliveries, Delivery, FraudAnswer, FraudAnswers, NewAlert,
    SignedAlertForward, SignedAlertSent, TransactionAlerts, get_deliveries, get_fraud_answers,
    issue_alerts, post_alert, post_signed_alert, post_transaction, record_transaction,
};
pub use chat::{
    ChatEntry, ChatSent, Conversation, StaffMessage, get_chat, post_chat, send_staff_message,
};
use checks::invalid;
pub use checks::{MAX_ALERT_TEXT_BYTES, MAX_AMOUNT_MINOR, MAX_REF_BYTES};
pub(crate) use checks::{
    check_alert_event, check_amount, check_compact_jws, check_label, check_shown_text,
    check_transaction, json, valid_country, valid_username,
};
pub use customers::{
    CustomerCreated, NewCustomer, create_customer, customer_id, customer_subject, new_subject,
    post_customer, subject_of,
};
use customers::{customer, known_customer};

/// Refuses bank API calls without a live API key holding the call's
/// scope ([`clients`]); lets the others through, named by their key.
pub async fn require_bank_key(
    State(state): State<Shared>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(clients::key_hash);
    let client = match presented {
        Some(hash) => match state.bank_keys.get(&hash) {
            Some(live) => Ok(Some(live)),
            None => {
                let asked = std::time::Instant::now();
                let looked_up = state
                    .db
                    .read({
                        let hash = hash.clone();
                        move |c| clients::authenticate_hash(c, &hash)
                    })
                    .await
                    .map_err(Problem::from);
                if let Ok(Some((name, scopes))) = &looked_up {
                    state
                        .bank_keys
                        .found(hash, name.clone(), scopes.clone(), asked);
                }
                looked_up
            }
        },
        None => Ok(None),
    };
    let (name, scopes) = match client {
        Ok(Some(client)) => client,
        Ok(None) => {
            let mut refused = Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the bank API needs Authorization: Bearer <bank API key>",
            );
            refused.www_authenticate = Some("Bearer");
            return refused.into_response();
        }
        Err(problem) => return problem.into_response(),
    };
    // This layer runs for matched routes only: a route without a scope
    // is refused rather than open to every key.
    match clients::Scope::of_route(request.method(), request.uri().path()) {
        Some(needed) if scopes.contains(&needed) => {}
        Some(needed) => return clients::insufficient_scope(needed).into_response(),
        None => {
            return Problem::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "no API key scope grants this call",
            )
            .into_response();
        }
    }
    // Every log line of this call names the key's holder; and its
    // Idempotency-Keys and event streams are theirs.
    tracing::Span::current().record("api_client", name.as_str());
    request
        .extensions_mut()
        .insert(idempotency::BankClient(name));
    request
        .extensions_mut()
        .insert(clients::ClientScopes(scopes));
    next.run(request).await
}

fn created<T: serde::Serialize>(body: T) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
}

/// The `?customer=<username>` of a query.
fn query_customer(query: &HashMap<String, String>) -> Result<String, Problem> {
    query
        .get("customer")
        .filter(|c| !c.is_empty())
        .cloned()
        .ok_or_else(|| Problem::bad_request("?customer=<username> is required"))
}

/// The most pilot features a customer's set holds.
pub const MAX_FLAGS: usize = 64;

/// Pilot features to switch on or off.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagsUpdate {
    /// The customer's username.
    pub customer: String,
    /// Feature name to on/off; merged into the customer's current set.
    pub flags: BTreeMap<String, bool>,
}

/// A customer's pilot features after a change: the complete set.
#[derive(Debug, Serialize, ToSchema)]
pub struct Flags {
    /// Every feature the customer has, on or off.
    pub flags: BTreeMap<String, bool>,
}

/// `POST /bank/v1/flags`: merges and sends the complete set to every device.
#[utoipa::path(
    post,
    path = "/bank/v1/flags",
    tag = "operations",
    summary = "Switch pilot features for a customer",
    description = "Merges the given features into the customer's set and sends the complete \
        set to every device of theirs.",
    request_body = FlagsUpdate,
    responses(
        (status = 200, description = "The complete set", body = Flags),
        (status = 404, description = "No such customer", body = openapi::ProblemDetails,
            content_type = "application/problem+json"),
        (status = 422, description = "More than 64 features, or a name over 64 bytes", body = openapi::ProblemDetails,
            content_type = "application/problem+json"),
    ),
)]
pub async fn post_flags(State(state): State<Shared>, body: Bytes) -> Result<Response, Problem> {
    let update: FlagsUpdate = json(&body)?;
    if update.flags.keys().any(|k| k.is_empty() || k.len() > 64) || update.flags.len() > 64 {
        return Err(invalid("flags: at most 64 names of 1 to 64 bytes"));
    }
    let customer_id = known_customer(&state, &update.customer).await?;
    let (flags, committed) = state
        .db
        .write_for_customer(customer_id, move |c| {
            merge_flags(c, customer_id, &update.flags)
        })
        .await?;
    state.hub.notify_all(&committed);
    Ok(Json(Flags { flags }).into_response())
}

/// Merges `changes` into a customer's pilot flags, stores the set and puts
/// it on the stream of every device of theirs (the bank API and the
/// console's cohorts). Returns the complete set and the events to notify.
///
/// # Errors
/// 422 past [`MAX_FLAGS`] flags; storage failures.
pub fn merge_flags(
    c: &crate::sql::Connection,
    customer_id: i64,
    changes: &BTreeMap<String, bool>,
) -> Result<(BTreeMap<String, bool>, crate::events::Committed), Problem> {
    let current: String = c.query_row(
        "SELECT flags FROM customers WHERE id = ?1",
        [customer_id],
        |r| r.get(0),
    )?;
    let mut flags: BTreeMap<String, bool> = serde_json::from_str(&current).unwrap_or_default();
    flags.extend(changes.iter().map(|(k, v)| (k.clone(), *v)));
    // The complete set goes in every flags event: keep it small.
    if flags.len() > MAX_FLAGS {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("flags: a customer has at most {MAX_FLAGS} pilot features"),
        ));
    }
    let text = serde_json::to_string(&flags).unwrap_or_else(|_| "{}".into());
    c.execute(
        "UPDATE customers SET flags = ?1 WHERE id = ?2",
        params![text, customer_id],
    )?;
    let committed = enqueue_for_customer(c, customer_id, None, &flags_event(&text), None)?;
    Ok((flags, committed))
}

/// A rotation's outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rotated {
    /// The new signing key's id.
    pub kid: String,
    /// The published keys (JWK, RFC 7517), the new one first.
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
    /// How many devices the signed statement was sent to.
    pub devices: usize,
}

/// `POST /bank/v1/keys/rotate`: a new signing key, announced to every
/// device in a statement signed by the current one.
#[utoipa::path(
    post,
    path = "/bank/v1/keys/rotate",
    tag = "operations",
    summary = "Rotate the alert signing key",
    description = "Makes a new signing key and announces it to every device in a statement \
        signed by the current one; the old key stays published for the alerts it signed.",
    responses((status = 200, description = "The new key", body = Rotated)),
)]
pub async fn post_rotate(State(state): State<Shared>) -> Result<Response, Problem> {
    let issuer = state.issuer.clone();
    let (signing, committed) = state
        .db
        .write_exclusive(move |c| crate::keys::rotate(c, &issuer))
        .await?;
    let kid = signing.current.kid().to_owned();
    let keys = signing.published.clone();
    state.set_signing(signing);
    state.hub.notify_all(&committed);
    let keys = keys
        .keys
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Problem::internal(&e))?;
    Ok(Json(Rotated {
        kid,
        keys,
        devices: committed.len(),
    })
    .into_response())
}

/// A load-test device.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchDevice {
    /// The customer's username.
    pub customer: String,
    /// The RFC 7638 thumbprint of the device's DPoP key.
    pub jkt: String,
}

/// `POST /bank/v1/bench/devices` (only with `--demo --bench`): enrols a
/// device without the web page, for load tests. It never exists in a real
/// deployment.
pub async fn post_bench_device(
    State(state): State<Shared>,
    body: Bytes,
) -> Result<Response, Problem> {
    let request: BenchDevice = json(&body)?;
    if request.jkt.len() != 43 {
        return Err(invalid("jkt: an RFC 7638 SHA-256 thumbprint, base64url"));
    }
    if !valid_username(&request.customer) {
        return Err(invalid("customer: 1 to 64 of a-z, 0-9, '.', '_', '-'"));
    }
    // Load-test customers are made on the fly, with no usable password
    // (`!` is not a PHC string, so no sign-in can ever match it): hashing
    // 10,000 passwords is not what a load test measures.
    let name = request.customer.clone();
    let subject = new_subject(&state.rng);
    state
        .db
        .write(move |c| -> Result<(), GatewayError> {
            c.execute(
                "INSERT INTO customers(username, display_name, password_hash, home_country, created_at, subject)
                 VALUES (?1, ?1, '!', 'GB', ?2, ?3) ON CONFLICT DO NOTHING",
                params![name, now_ms(), subject],
            )?;
            Ok(())
        })
        .await?;
    let customer = customer(&state, &request.customer).await?;
    let device_id = format!("d-{}", b64_encode(&random_bytes::<12>(&state.rng)));
    let (access, refresh) = (random_token(&state.rng), random_token(&state.rng));
    let ttl = i64::try_from(state.config.access_token_ttl).unwrap_or(900);
    let (id, a, r) = (device_id.clone(), access.clone(), refresh.clone());
    let committed = state
        .db
        .write_for_customer(customer.id, move |c| -> Result<_, GatewayError> {
            c.execute(
                "INSERT INTO devices(id, customer_id, jkt, refresh_hash, scope, created_at)
                 VALUES (?1, ?2, ?3, ?4, 'alerts chat', ?5)",
                params![id, customer.id, request.jkt, sha256(r.as_bytes()), now_ms()],
            )?;
            c.execute(
                "INSERT INTO access_tokens(hash, device_id, expires_at) VALUES (?1, ?2, ?3)",
                params![sha256(a.as_bytes()), id, now_s() + ttl],
            )?;
            let seq = enqueue(c, &id, &flags_event(&customer.flags), None)?;
            Ok(seq.map(|seq| (id, seq)).into_iter().collect::<Vec<_>>())
        })
        .await?;
    state.hub.notify_all(&committed);
    Ok(created(serde_json::json!({
        "access_token": access,
        "refresh_token": refresh,
        "device_id": device_id,
    })))
}
