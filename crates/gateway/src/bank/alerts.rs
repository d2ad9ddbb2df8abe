//! Alerts from the bank: transactions run through the rules, custom
//! alerts, alerts the bank signed itself, and what became of each (its
//! delivery to every device, and the answers to fraud checks).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use strongroom_core::protocol::alert::{AlertEvent, AlertKind, AlertSeverity};
use strongroom_core::protocol::frames::DeviceEvent;
use strongroom_core::protocol::jose::MAX_JWS_BYTES;

use super::checks::{check_alert_event, check_compact_jws, check_transaction, invalid, json};
use super::customers::{customer, customer_subject, known_customer};
use super::{created, query_customer};
use crate::crypto::{now_ms, now_s};
use crate::error::{GatewayError, Problem};
use crate::events::{SignedAlert, enqueue_for_customer, sign_alert, store_alert};
use crate::rules::{AlertSettings, Transaction, alerts_for};
use crate::sql::{OptionalExtension, params};
use crate::state::{AppState, Shared};

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
    /// What the customer reads, plain text.
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
