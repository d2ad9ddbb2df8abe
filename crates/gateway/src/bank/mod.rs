//! The bank integration API: what the bank's own systems call, with
//! `Authorization: Bearer <bank API key>`. Customers, transactions (turned
//! into alerts by the rules), custom alerts, staff chat, fraud answers,
//! pilot-feature flags, delivery status and key rotation.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::sql::{OptionalExtension, params};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use strongroom_core::protocol::alert::{AlertEvent, AlertKind, AlertSeverity};
use strongroom_core::protocol::frames::{
    ChatAuthor, ChatMessage, DeviceEvent, MAX_CHAT_BODY_BYTES,
};
use strongroom_core::protocol::jose::{MAX_JWS_BYTES, b64_encode};

use crate::crypto::{
    constant_time_eq, now_ms, now_s, random_bytes, random_token, random_uuid, sha256,
};
use crate::error::{GatewayError, Problem};
use crate::events::{
    Customer, SignedAlert, customer_by_username, enqueue, enqueue_for_customer, flags_event,
    sign_alert, store_alert,
};
use crate::rules::{AlertSettings, Transaction, alerts_for};
use crate::state::{AppState, Shared};

/// Refuses bank API calls without the bank API key.
pub async fn require_bank_key(
    State(state): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|k| sha256(k.trim().as_bytes()));
    match presented {
        Some(hash) if constant_time_eq(&hash, &state.bank_key_hash) => next.run(request).await,
        _ => {
            let mut response = Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the bank API needs Authorization: Bearer <bank API key>",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            response
        }
    }
}

pub(crate) fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|e| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("the body is not the expected JSON: {e}"),
        )
    })
}

fn invalid(detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", detail)
}

fn created(body: serde_json::Value) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
}

async fn customer(state: &Shared, username: &str) -> Result<Customer, Problem> {
    let name = username.to_owned();
    state
        .db
        .read(move |c| customer_by_username(c, &name))
        .await?
        .ok_or_else(|| Problem::not_found(format!("no customer {username:?}")))
}

/// A customer's id by username, 404 if there is none; see
/// [`customer_id`].
async fn known_customer(state: &Shared, username: &str) -> Result<i64, Problem> {
    customer_id(state, username)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no customer {username:?}")))
}

pub(crate) fn valid_username(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

pub(crate) fn valid_country(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// A new customer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    /// Sign-in name: lower-case letters, digits, `.`, `_`, `-`.
    pub username: String,
    /// Name shown in chat and to staff.
    pub display_name: String,
    /// The web banking password (hashed with Argon2id, never stored).
    pub password: String,
    /// ISO 3166-1 alpha-2 home country.
    pub home_country: String,
    /// Purchases at or above this raise an alert (default 100.00).
    #[serde(default)]
    pub purchase_threshold_minor: Option<i64>,
    /// A balance below this raises an alert (default 50.00).
    #[serde(default)]
    pub balance_low_minor: Option<i64>,
}

/// Creates a customer; `Ok(false)` if the username is taken.
///
/// # Errors
/// 422 for invalid fields, storage failures.
pub async fn create_customer(state: &Shared, new: NewCustomer) -> Result<bool, Problem> {
    if !valid_username(&new.username) {
        return Err(invalid("username: 1 to 64 of a-z, 0-9, '.', '_', '-'"));
    }
    if new.display_name.trim().is_empty() || new.display_name.len() > 128 {
        return Err(invalid("display_name: 1 to 128 bytes"));
    }
    check_shown_text("display_name", &new.display_name)?;
    if new.password.len() < 8 || new.password.len() > 1024 {
        return Err(invalid("password: 8 to 1024 bytes"));
    }
    if !valid_country(&new.home_country) {
        return Err(invalid("home_country: ISO 3166-1 alpha-2, upper case"));
    }
    if let Some(threshold) = new.purchase_threshold_minor {
        check_amount("purchase_threshold_minor", threshold, false)?;
    }
    if let Some(threshold) = new.balance_low_minor {
        check_amount("balance_low_minor", threshold, true)?;
    }
    let rng = state.rng.clone();
    let subject = new_subject(&rng);
    let password = new.password;
    // The bank's own calls wait for a slot rather than being refused.
    let permit = Arc::clone(&state.password_checks)
        .acquire_owned()
        .await
        .map_err(|e| Problem::internal(&e))?;
    let phc = tokio::task::spawn_blocking(move || {
        let phc = crate::web::hash_password(&password, &rng);
        drop(permit);
        phc
    })
    .await
    .map_err(|e| Problem::internal(&e))??;
    state
        .db
        .write(move |c| -> Result<bool, GatewayError> {
            let n = c.execute(
                "INSERT INTO customers(username, display_name, password_hash, home_country,
                    purchase_threshold_minor, balance_low_minor, created_at, subject)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
                params![
                    new.username,
                    new.display_name,
                    phc,
                    new.home_country,
                    new.purchase_threshold_minor.unwrap_or(10_000),
                    new.balance_low_minor.unwrap_or(5_000),
                    now_ms(),
                    subject
                ],
            )?;
            Ok(n == 1)
        })
        .await
        .map_err(Problem::from)
}

/// `POST /bank/v1/customers`.
pub async fn post_customer(State(state): State<Shared>, body: Bytes) -> Result<Response, Problem> {
    let new: NewCustomer = json(&body)?;
    let username = new.username.clone();
    if create_customer(&state, new).await? {
        Ok(created(serde_json::json!({ "username": username })))
    } else {
        Err(Problem::new(
            StatusCode::CONFLICT,
            "customer_exists",
            format!("customer {username:?} exists"),
        ))
    }
}

/// A new customer's subject identifier: 128 random bits, hex. It is the
/// audience of every alert signed for the customer and says nothing about
/// them.
pub fn new_subject(rng: &ring::rand::SystemRandom) -> String {
    crate::crypto::hex(&random_bytes::<16>(rng))
}

/// The subject identifier of a customer (the audience of their alerts),
/// kept in [`AppState::customer_subjects`](crate::state::AppState) after
/// the first read.
///
/// # Errors
/// Storage failures; [`GatewayError::Storage`] for a customer without one
/// (every row gets one when created or migrated).
pub async fn customer_subject(state: &AppState, customer_id: i64) -> Result<String, GatewayError> {
    if let Some(subject) = state.customer_subjects.get(&customer_id) {
        return Ok(subject);
    }
    let subject = state.db.read(move |c| subject_of(c, customer_id)).await?;
    state.customer_subjects.insert(customer_id, subject.clone());
    Ok(subject)
}

/// [`customer_subject`] inside a database job.
///
/// # Errors
/// As [`customer_subject`].
pub fn subject_of(conn: &crate::sql::Connection, customer_id: i64) -> Result<String, GatewayError> {
    let subject: Option<String> = conn
        .prepare_cached("SELECT subject FROM customers WHERE id = ?1")?
        .query_row([customer_id], |r| r.get(0))
        .optional()?
        .flatten();
    subject.ok_or_else(|| {
        GatewayError::Storage(format!("customer {customer_id} has no subject identifier"))
    })
}

/// Checks, signs and delivers alerts to every device of a customer; returns
/// the signed alerts.
///
/// # Errors
/// 422 for an invalid field or an alert whose JWS would exceed
/// [`MAX_JWS_BYTES`]; storage or signing failures.
pub async fn issue_alerts(
    state: &AppState,
    customer_id: i64,
    alerts: Vec<(AlertKind, AlertEvent)>,
) -> Result<Vec<SignedAlert>, Problem> {
    let audience = customer_subject(state, customer_id).await?;
    let key = state.signing().current;
    let mut signed = Vec::with_capacity(alerts.len());
    for (kind, event) in alerts {
        check_alert_event(&event)?;
        let alert = sign_alert(&key, &state.issuer, &audience, kind, event, &state.rng)?;
        // A device refuses a larger alert, and would be sent it again after
        // every reconnect: refuse it here instead.
        if alert.jws.len() > MAX_JWS_BYTES {
            return Err(invalid(format!(
                "the signed alert would be {} bytes; alerts are at most {MAX_JWS_BYTES}",
                alert.jws.len()
            )));
        }
        signed.push(alert);
    }
    let to_store = signed.clone();
    let committed = state
        .db
        .write(move |c| -> Result<_, GatewayError> {
            let mut committed = Vec::new();
            for alert in &to_store {
                committed.extend(store_alert(c, customer_id, alert, None)?);
            }
            Ok(committed)
        })
        .await?;
    state.hub.notify_all(&committed);
    Ok(signed)
}

/// The longest alert text, in bytes.
pub const MAX_ALERT_TEXT_BYTES: usize = 1024;
/// The longest merchant or account reference, in bytes.
pub const MAX_REF_BYTES: usize = 128;
/// The largest amount (or balance, either sign) accepted, in minor units:
/// 10^15, ten trillion in a two-decimal currency.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000;
/// The latest `respond_by` accepted: a year from now.
const MAX_RESPOND_WINDOW_S: i64 = 366 * 24 * 3600;

fn valid_currency(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// A short label (merchant, account reference, author): 1 to `max` bytes,
/// not blank, no control characters.
pub(crate) fn check_label(name: &str, value: &str, max: usize) -> Result<(), Problem> {
    if value.trim().is_empty() || value.len() > max || value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{name}: 1 to {max} bytes, not blank, no control characters"
        )));
    }
    check_shown_text(name, value)
}

/// Refuses text a customer or staff member will read that holds a
/// character able to reorder or hide what is shown (a bidirectional
/// control such as U+202E, an invisible format character): what the bank
/// signs must read as it was meant (Unicode TR#36; see
/// `strongroom_core::text`).
///
/// # Errors
/// 422 naming the field and the character.
pub(crate) fn check_shown_text(name: &str, value: &str) -> Result<(), Problem> {
    match strongroom_core::text::first_spoofing_char(value) {
        Some(c) => Err(invalid(format!(
            "{name}: U+{:04X} is not allowed: bidirectional and invisible format characters can make text read other than it is",
            c as u32
        ))),
        None => Ok(()),
    }
}

pub(crate) fn check_amount(name: &str, value: i64, negative_allowed: bool) -> Result<(), Problem> {
    let low = if negative_allowed {
        -MAX_AMOUNT_MINOR
    } else {
        0
    };
    if !(low..=MAX_AMOUNT_MINOR).contains(&value) {
        return Err(invalid(format!(
            "{name}: minor units from {low} to {MAX_AMOUNT_MINOR}"
        )));
    }
    Ok(())
}

/// Checks every member of an alert event before it is signed.
pub(crate) fn check_alert_event(event: &AlertEvent) -> Result<(), Problem> {
    if event.text.trim().is_empty()
        || event.text.len() > MAX_ALERT_TEXT_BYTES
        || event.text.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(invalid(format!(
            "text: 1 to {MAX_ALERT_TEXT_BYTES} bytes, no control characters but newlines"
        )));
    }
    check_shown_text("text", &event.text)?;
    if let Some(account_ref) = &event.account_ref {
        check_label("account_ref", account_ref, MAX_REF_BYTES)?;
    }
    if let Some(merchant) = &event.merchant {
        check_label("merchant", merchant, MAX_REF_BYTES)?;
    }
    if let Some(amount) = event.amount_minor {
        check_amount("amount_minor", amount, true)?;
    }
    if event
        .currency
        .as_deref()
        .is_some_and(|c| !valid_currency(c))
    {
        return Err(invalid("currency: ISO 4217, three upper-case letters"));
    }
    if event.country.as_deref().is_some_and(|c| !valid_country(c)) {
        return Err(invalid("country: ISO 3166-1 alpha-2, upper case"));
    }
    if let Some(respond_by) = event.respond_by
        && !(1..=now_s() + MAX_RESPOND_WINDOW_S).contains(&respond_by)
    {
        return Err(invalid(
            "respond_by: seconds since the epoch, at most a year from now",
        ));
    }
    Ok(())
}

pub(crate) fn check_transaction(tx: &Transaction) -> Result<(), Problem> {
    check_amount("amount_minor", tx.amount_minor, false)?;
    if let Some(balance) = tx.balance_after_minor {
        check_amount("balance_after_minor", balance, true)?;
    }
    if !valid_currency(&tx.currency) {
        return Err(invalid("currency: ISO 4217, three upper-case letters"));
    }
    if !valid_country(&tx.country) {
        return Err(invalid("country: ISO 3166-1 alpha-2, upper case"));
    }
    check_label("merchant", &tx.merchant, MAX_REF_BYTES)?;
    check_label("account_ref", &tx.account_ref, MAX_REF_BYTES)?;
    Ok(())
}

/// Runs the rules on a transaction and issues the alerts it raises.
///
/// # Errors
/// 404 for an unknown customer, 422 for invalid fields.
pub async fn record_transaction(
    state: &Shared,
    tx: Transaction,
) -> Result<Vec<SignedAlert>, Problem> {
    check_transaction(&tx)?;
    let customer = customer(state, &tx.customer).await?;
    let settings = AlertSettings {
        home_country: customer.home_country.clone(),
        purchase_threshold_minor: customer.purchase_threshold_minor,
        balance_low_minor: customer.balance_low_minor,
    };
    let alerts = alerts_for(&tx, &settings, now_s());
    issue_alerts(state, customer.id, alerts).await
}

/// `POST /bank/v1/transactions`.
pub async fn post_transaction(
    State(state): State<Shared>,
    body: Bytes,
) -> Result<Response, Problem> {
    let tx: Transaction = json(&body)?;
    let alerts = record_transaction(&state, tx).await?;
    let list: Vec<_> = alerts
        .iter()
        .map(|a| serde_json::json!({ "id": a.id, "kind": a.kind.name() }))
        .collect();
    Ok(created(serde_json::json!({ "alerts": list })))
}

/// A custom alert from the bank.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAlert {
    /// The customer's username.
    pub customer: String,
    /// Any alert kind.
    pub kind: AlertKind,
    /// How urgent.
    pub severity: AlertSeverity,
    /// The text.
    pub text: String,
    /// Masked account reference.
    #[serde(default)]
    pub account_ref: Option<String>,
    /// Amount in minor units.
    #[serde(default)]
    pub amount_minor: Option<i64>,
    /// ISO 4217 code.
    #[serde(default)]
    pub currency: Option<String>,
    /// Merchant.
    #[serde(default)]
    pub merchant: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    #[serde(default)]
    pub country: Option<String>,
    /// For fraud checks: answer before (seconds since the epoch).
    #[serde(default)]
    pub respond_by: Option<i64>,
}

/// `POST /bank/v1/alerts`.
pub async fn post_alert(State(state): State<Shared>, body: Bytes) -> Result<Response, Problem> {
    let new: NewAlert = json(&body)?;
    let customer_id = known_customer(&state, &new.customer).await?;
    let respond_by = match (new.kind, new.respond_by) {
        (AlertKind::FraudCheck, None) => Some(now_s() + crate::rules::FRAUD_CHECK_WINDOW_S),
        (_, r) => r,
    };
    let event = AlertEvent {
        severity: new.severity,
        text: new.text,
        account_ref: new.account_ref,
        amount_minor: new.amount_minor,
        currency: new.currency,
        merchant: new.merchant,
        country: new.country,
        respond_by,
        balance_minor: None,
    };
    let signed = issue_alerts(&state, customer_id, vec![(new.kind, event)]).await?;
    let id = signed.first().map(|a| a.id.clone()).unwrap_or_default();
    Ok(created(
        serde_json::json!({ "id": id, "kind": new.kind.name() }),
    ))
}

/// An alert the bank signed itself (say, in its own HSM), to forward as is.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedAlertForward {
    /// The customer's username.
    pub customer: String,
    /// The compact JWS, exactly as signed.
    pub jws: String,
}

/// Refuses what devices would refuse on sight (protocol section 4.3 step
/// 1): over [`MAX_JWS_BYTES`], or not three non-empty base64url parts.
pub(crate) fn check_compact_jws(jws: &str) -> Result<(), Problem> {
    if jws.len() > MAX_JWS_BYTES {
        return Err(invalid(format!(
            "jws: {} bytes; alerts are at most {MAX_JWS_BYTES}",
            jws.len()
        )));
    }
    let parts: Vec<&str> = jws.split('.').collect();
    let base64url = |p: &&str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if parts.len() != 3 || !parts.iter().all(base64url) {
        return Err(invalid(
            "jws: a compact JWS, three non-empty base64url parts",
        ));
    }
    Ok(())
}

/// `POST /bank/v1/signed-alerts`: delivers a JWS the bank signed elsewhere
/// to every device of the customer, unchanged. The gateway checks only its
/// shape (the devices verify it); when its payload names an alert id and
/// kind, the alert is recorded so fraud answers and delivery status work.
pub async fn post_signed_alert(
    State(state): State<Shared>,
    body: Bytes,
) -> Result<Response, Problem> {
    let forward: SignedAlertForward = json(&body)?;
    check_compact_jws(&forward.jws)?;
    let jws = strongroom_core::protocol::jose::parse_jws(&forward.jws)
        .map_err(|e| invalid(format!("jws: {e}")))?;
    let claims: Option<strongroom_core::protocol::alert::AlertClaims> =
        serde_json::from_slice(&jws.payload).ok();
    let recorded = claims.and_then(|c| {
        let kind = c
            .events
            .keys()
            .next()
            .and_then(|uri| AlertKind::from_uri(uri))?;
        (!c.jti.is_empty() && c.jti.len() <= 128).then_some((c.jti, kind))
    });
    let customer_id = known_customer(&state, &forward.customer).await?;
    let id = recorded.as_ref().map(|(id, _)| id.clone());
    let compact = forward.jws;
    let committed = state
        .db
        .write(move |c| -> Result<_, GatewayError> {
            if let Some((id, kind)) = &recorded {
                c.execute(
                    "INSERT INTO alerts(id, customer_id, kind, jws, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT DO NOTHING",
                    params![id, customer_id, kind.name(), compact, now_ms()],
                )?;
            }
            enqueue_for_customer(
                c,
                customer_id,
                None,
                &DeviceEvent::Alert { jws: compact.clone() },
                recorded.as_ref().map(|(id, _)| id.as_str()),
            )
        })
        .await?;
    state.hub.notify_all(&committed);
    Ok(created(
        serde_json::json!({ "id": id, "devices": committed.len() }),
    ))
}

/// A staff chat message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffMessage {
    /// The customer's username.
    pub customer: String,
    /// The staff member's display name.
    pub author: String,
    /// The text.
    pub body: String,
}

/// `POST /bank/v1/chat`: a staff message to every device of the customer.
pub async fn post_chat(State(state): State<Shared>, body: Bytes) -> Result<Response, Problem> {
    let message: StaffMessage = json(&body)?;
    let customer_id = known_customer(&state, &message.customer).await?;
    let id = send_staff_message(&state, customer_id, message.author, message.body).await?;
    Ok(created(serde_json::json!({ "bank_message_id": id })))
}

/// Stores a staff message in a customer's conversation and puts it on the
/// stream of every device of theirs (the bank API and the agent console).
/// Returns its `bank_message_id`.
///
/// # Errors
/// A [`Problem`] for an empty or oversized body or a bad author, or a
/// storage failure.
pub async fn send_staff_message(
    state: &Shared,
    customer_id: i64,
    author: String,
    body: String,
) -> Result<String, Problem> {
    if body.trim().is_empty() {
        return Err(invalid("body must not be empty"));
    }
    if body.len() > MAX_CHAT_BODY_BYTES {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "a chat message is at most 4 KiB",
        ));
    }
    check_label("author", &author, MAX_REF_BYTES)?;
    check_shown_text("body", &body)?;
    let id = format!("m-{}", random_uuid(&state.rng));
    let message_id = id.clone();
    let committed = state
        .db
        .write(move |c| -> Result<_, GatewayError> {
            let sent_at = now_ms();
            c.execute(
                "INSERT INTO chat_messages(id, customer_id, author_role, author, body, sent_at)
                 VALUES (?1, ?2, 'staff', ?3, ?4, ?5)",
                params![message_id, customer_id, author, body, sent_at],
            )?;
            crate::hub::Announcement::Conversation {
                customer: customer_id,
            }
            .announce(c);
            let event = DeviceEvent::Chat {
                message: ChatMessage {
                    bank_message_id: message_id.clone(),
                    client_id: None,
                    from: ChatAuthor::Staff,
                    author,
                    body,
                    sent_at,
                },
            };
            enqueue_for_customer(c, customer_id, None, &event, None)
        })
        .await?;
    state.hub.notify_all(&committed);
    let _ = state.console_events.send(Some(customer_id));
    Ok(id)
}

fn query_customer(query: &HashMap<String, String>) -> Result<String, Problem> {
    query
        .get("customer")
        .filter(|c| !c.is_empty())
        .cloned()
        .ok_or_else(|| Problem::bad_request("?customer=<username> is required"))
}

/// `GET /bank/v1/chat?customer=`: the conversation, oldest first.
pub async fn get_chat(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let username = query_customer(&query)?;
    let customer_id = known_customer(&state, &username).await?;
    let messages = state
        .db
        .read(move |c| -> Result<Vec<serde_json::Value>, GatewayError> {
            let mut stmt = c.prepare(
                "SELECT id, client_id, author_role, author, body, sent_at, device_id FROM chat_messages
                 WHERE customer_id = ?1 ORDER BY sent_at, id LIMIT 1000",
            )?;
            let rows = stmt.query_map([customer_id], |r| {
                Ok(serde_json::json!({
                    "bank_message_id": r.get::<_, String>(0)?,
                    "client_id": r.get::<_, Option<String>>(1)?,
                    "from": r.get::<_, String>(2)?,
                    "author": r.get::<_, String>(3)?,
                    "body": r.get::<_, String>(4)?,
                    "sent_at": r.get::<_, i64>(5)?,
                    "device_id": r.get::<_, Option<String>>(6)?,
                }))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await?;
    Ok(Json(serde_json::json!({ "customer": username, "messages": messages })).into_response())
}

/// `GET /bank/v1/fraud-answers?customer=`.
pub async fn get_fraud_answers(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let customer_id = known_customer(&state, &query_customer(&query)?).await?;
    let answers = state
        .db
        .read(move |c| -> Result<Vec<serde_json::Value>, GatewayError> {
            let mut stmt = c.prepare(
                "SELECT f.alert_id, f.answer, f.answered_at, f.device_id, f.device_jkt, f.received_at
                 FROM fraud_answers f JOIN alerts a ON a.id = f.alert_id
                 WHERE a.customer_id = ?1 ORDER BY f.received_at",
            )?;
            let rows = stmt.query_map([customer_id], |r| {
                Ok(serde_json::json!({
                    "alert_id": r.get::<_, String>(0)?,
                    "answer": r.get::<_, String>(1)?,
                    "answered_at": r.get::<_, i64>(2)?,
                    "device_id": r.get::<_, String>(3)?,
                    "device_jkt": r.get::<_, String>(4)?,
                    "received_at": r.get::<_, i64>(5)?,
                }))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await?;
    Ok(Json(serde_json::json!({ "answers": answers })).into_response())
}

/// The most pilot features a customer's set holds.
pub const MAX_FLAGS: usize = 64;

/// Pilot features to switch on or off.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagsUpdate {
    /// The customer's username.
    pub customer: String,
    /// Feature name to on/off; merged into the customer's current set.
    pub flags: BTreeMap<String, bool>,
}

/// `POST /bank/v1/flags`: merges and sends the complete set to every device.
pub async fn post_flags(State(state): State<Shared>, body: Bytes) -> Result<Response, Problem> {
    let update: FlagsUpdate = json(&body)?;
    if update.flags.keys().any(|k| k.is_empty() || k.len() > 64) || update.flags.len() > 64 {
        return Err(invalid("flags: at most 64 names of 1 to 64 bytes"));
    }
    let customer_id = known_customer(&state, &update.customer).await?;
    let (flags, committed) = state
        .db
        .write(move |c| merge_flags(c, customer_id, &update.flags))
        .await?;
    state.hub.notify_all(&committed);
    Ok(Json(serde_json::json!({ "flags": flags })).into_response())
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

/// One device's copy of an alert: device id, event number, the device's
/// acknowledged number, when it was delivered and acknowledged.
type DeliveryRow = (String, u64, u64, Option<i64>, Option<i64>);

/// `GET /bank/v1/deliveries?alert_id=`: per device, the event number and
/// whether it was written to the stream and acknowledged.
pub async fn get_deliveries(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let alert_id = query
        .get("alert_id")
        .filter(|a| !a.is_empty())
        .cloned()
        .ok_or_else(|| Problem::bad_request("?alert_id= is required"))?;
    let id = alert_id.clone();
    let rows = state
        .db
        .read(move |c| -> Result<Option<Vec<DeliveryRow>>, GatewayError> {
            let exists: Option<i64> = c
                .query_row("SELECT 1 FROM alerts WHERE id = ?1", [&id], |r| r.get(0))
                .optional()?;
            if exists.is_none() {
                return Ok(None);
            }
            let mut stmt = c.prepare(
                "SELECT e.device_id, e.seq, d.acked_seq, e.delivered_at, e.acked_at
                 FROM events e JOIN devices d ON d.id = e.device_id
                 WHERE e.alert_id = ?1 ORDER BY e.device_id",
            )?;
            let rows = stmt.query_map([&id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                    u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            })?;
            Ok(Some(rows.collect::<Result<_, _>>()?))
        })
        .await?
        .ok_or_else(|| Problem::not_found("no alert with this id"))?;
    let deliveries: Vec<_> = rows
        .into_iter()
        .map(|(device, seq, acked, delivered_at, acked_at)| {
            let acked = seq <= acked;
            serde_json::json!({
                "device_id": device,
                "seq": seq,
                // An acknowledgement implies delivery, even if the record
                // of the delivery itself was lost.
                "delivered": acked || delivered_at.is_some(),
                "delivered_at_ms": delivered_at,
                "acked": acked,
                "acked_at_ms": acked_at.filter(|_| acked),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "alert_id": alert_id, "deliveries": deliveries })).into_response())
}

/// `POST /bank/v1/keys/rotate`: a new signing key, announced to every
/// device in a statement signed by the current one.
pub async fn post_rotate(State(state): State<Shared>) -> Result<Response, Problem> {
    let issuer = state.issuer.clone();
    let (signing, committed) = state
        .db
        .write(move |c| crate::keys::rotate(c, &issuer))
        .await?;
    let kid = signing.current.kid().to_owned();
    let keys = signing.published.clone();
    state.set_signing(signing);
    state.hub.notify_all(&committed);
    Ok(
        Json(serde_json::json!({ "kid": kid, "keys": keys.keys, "devices": committed.len() }))
            .into_response(),
    )
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
        .write(move |c| -> Result<_, GatewayError> {
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

/// Looks up a customer's id by username, first in
/// [`AppState::customer_ids`](crate::state::AppState::customer_ids): every
/// alert the bank posts names its customer, and a database read for each
/// was one more round trip per alert.
///
/// # Errors
/// Storage failures.
pub async fn customer_id(state: &Shared, username: &str) -> Result<Option<i64>, GatewayError> {
    if let Some(id) = state.customer_ids.get(username) {
        return Ok(Some(id));
    }
    let name = username.to_owned();
    let id = state
        .db
        .read(move |c| Ok::<_, GatewayError>(customer_by_username(c, &name)?.map(|c| c.id)))
        .await?;
    if let Some(id) = id {
        state.customer_ids.insert(username.to_owned(), id);
    }
    Ok(id)
}
