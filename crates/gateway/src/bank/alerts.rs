//! Alerts from the bank: transactions run through the rules, custom
//! alerts, alerts the bank signed itself, and what became of each (its
//! delivery to every device, and the answers to fraud checks).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use strongroom_core::protocol::alert::{AlertEvent, AlertKind, AlertSeverity};
use strongroom_core::protocol::frames::DeviceEvent;
use strongroom_core::protocol::jose::MAX_JWS_BYTES;
use utoipa::{IntoParams, ToSchema};

use super::checks::{check_alert_event, check_compact_jws, check_transaction, invalid, json};
use super::customers::{customer, customer_subject, known_customer};
use super::{created, query_customer};
use crate::crypto::{now_ms, now_s};
use crate::error::{GatewayError, Problem};
use crate::events::{
    AlertPost, PostedAlerts, SignedAlert, alert_body, enqueue_for_customer, sign_alert,
};
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
    let received_us = crate::stages::received_now(state.stages.as_ref());
    issue_alerts_received(state, customer_id, alerts, received_us).await
}

/// [`issue_alerts`] for a request that reached its handler at
/// `received_us` (microseconds since the epoch), which the delivery
/// benchmark's stage times (`--bench`) start from.
///
/// # Errors
/// As [`issue_alerts`].
pub async fn issue_alerts_received(
    state: &AppState,
    customer_id: i64,
    alerts: Vec<(AlertKind, AlertEvent)>,
    received_us: u64,
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
    // Each alert's event as its streams send it, kept by the hub with the
    // commit: a stream that is keeping up sends it without reading it
    // back (with SQLite no announcement brings the body back, so before,
    // every delivery was a database read).
    let bodies = signed
        .iter()
        .map(|alert| alert_body(alert).map(Arc::<str>::from))
        .collect::<Result<Vec<_>, _>>()?;
    let alerts: Vec<(SignedAlert, Arc<str>)> =
        signed.iter().cloned().zip(bodies.iter().cloned()).collect();
    // The benchmark's stage times, when it is recording them.
    let probe = state.stages.clone().filter(|p| p.recording());
    let post = AlertPost {
        customer_id,
        alerts,
        probe: probe.clone().map(|p| (p, received_us)),
    };
    // Shared: the posts side by side in a batch are stored by one
    // statement (see `PostedAlerts`).
    let committed = state.db.write_shared::<PostedAlerts>(post).await?;
    if let Some(probe) = probe {
        for alert in &signed {
            probe.written(&alert.id);
        }
    }
    for (events, body) in committed.iter().zip(&bodies) {
        state.hub.remember_committed(events, body, true);
    }
    let committed: Vec<_> = committed.into_iter().flatten().collect();
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

/// An alert made: its id (the JWS's `jti`) and kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertMade {
    /// The alert's id, as fraud answers and delivery states name it.
    pub id: String,
    /// Its kind.
    #[schema(schema_with = super::openapi::alert_kind_schema)]
    pub kind: &'static str,
}

/// The alerts a transaction raised.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionAlerts {
    /// None, one, or several (a fraud check replaces the separate ones).
    pub alerts: Vec<AlertMade>,
}

/// `POST /bank/v1/transactions`.
#[utoipa::path(
    post,
    path = "/bank/v1/transactions",
    tag = "alerts",
    summary = "Report a card transaction",
    description = "The gateway's rules decide the alerts, with the customer's thresholds: \
        purchase, card not present, foreign, declined, low balance, deposit; a purchase that \
        is card-not-present, foreign and over the threshold raises one fraud check instead.",
    request_body = Transaction,
    responses(
        (status = 201, description = "The alerts raised, each sent to every device", body = TransactionAlerts),
        (status = 404, description = "No such customer", body = super::openapi::ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn post_transaction(
    State(state): State<Shared>,
    body: Bytes,
) -> Result<Response, Problem> {
    let tx: Transaction = json(&body)?;
    let alerts = record_transaction(&state, tx).await?;
    let alerts = alerts
        .iter()
        .map(|a| AlertMade {
            id: a.id.clone(),
            kind: a.kind.name(),
        })
        .collect();
    Ok(created(TransactionAlerts { alerts }))
}

/// A custom alert from the bank.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAlert {
    /// The customer's username.
    pub customer: String,
    /// Any alert kind.
    #[schema(schema_with = super::openapi::alert_kind_schema)]
    pub kind: AlertKind,
    /// How urgent.
    #[schema(schema_with = super::openapi::severity_schema)]
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
#[utoipa::path(
    post,
    path = "/bank/v1/alerts",
    tag = "alerts",
    summary = "Send an alert of any kind",
    description = "Signed by the gateway with the bank's key and sent to every device of the \
        customer. A fraud check without `respond_by` is answerable for 10 minutes.",
    request_body = NewAlert,
    responses(
        (status = 201, description = "Sent", body = AlertMade),
        (status = 404, description = "No such customer", body = super::openapi::ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn post_alert(State(state): State<Shared>, body: Bytes) -> Result<Response, Problem> {
    let received_us = crate::stages::received_now(state.stages.as_ref());
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
    let signed =
        issue_alerts_received(&state, customer_id, vec![(new.kind, event)], received_us).await?;
    let id = signed.first().map(|a| a.id.clone()).unwrap_or_default();
    Ok(created(AlertMade {
        id,
        kind: new.kind.name(),
    }))
}

/// An alert the bank signed itself (say, in its own HSM), to forward as is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignedAlertForward {
    /// The customer's username.
    pub customer: String,
    /// The compact JWS, exactly as signed.
    pub jws: String,
}

/// A signed alert forwarded.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedAlertSent {
    /// The alert's `jti`, when its payload named one and a known kind
    /// (then fraud answers and delivery states follow it).
    pub id: Option<String>,
    /// How many devices it was put on the stream of.
    pub devices: usize,
}

/// `POST /bank/v1/signed-alerts`: delivers a JWS the bank signed elsewhere
/// to every device of the customer, unchanged. The gateway checks only its
/// shape (the devices verify it); when its payload names an alert id and
/// kind, the alert is recorded so fraud answers and delivery status work.
#[utoipa::path(
    post,
    path = "/bank/v1/signed-alerts",
    tag = "alerts",
    summary = "Forward an alert the bank signed itself",
    description = "The compact JWS goes unchanged to every device of the customer, which \
        verifies it against the bank's published keys; the gateway checks only its shape.",
    request_body = SignedAlertForward,
    responses(
        (status = 201, description = "Forwarded", body = SignedAlertSent),
        (status = 404, description = "No such customer", body = super::openapi::ProblemDetails, content_type = "application/problem+json"),
    ),
)]
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
        .write_for_customer(customer_id, move |c| -> Result<_, GatewayError> {
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
    Ok(created(SignedAlertSent {
        id,
        devices: committed.len(),
    }))
}

/// One device's copy of an alert: device id, event number, the device's
/// acknowledged number, when it was delivered and acknowledged.
type DeliveryRow = (String, u64, u64, Option<i64>, Option<i64>);

/// One device's copy of an alert.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    /// The device.
    pub device_id: String,
    /// The alert's event number on that device's stream.
    pub seq: u64,
    /// Whether it was written to the device's stream (an acknowledgement
    /// implies it).
    pub delivered: bool,
    /// When, in milliseconds since the Unix epoch, if recorded.
    pub delivered_at_ms: Option<i64>,
    /// Whether the device acknowledged it.
    pub acked: bool,
    /// When, in milliseconds since the Unix epoch.
    pub acked_at_ms: Option<i64>,
}

/// What became of an alert, per device of the customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deliveries {
    /// The alert.
    pub alert_id: String,
    /// One entry per device it was sent to, by device id.
    pub deliveries: Vec<Delivery>,
}

/// `GET /bank/v1/deliveries?alert_id=`: per device, the event number and
/// whether it was written to the stream and acknowledged.
#[utoipa::path(
    get,
    path = "/bank/v1/deliveries",
    tag = "alerts",
    summary = "What became of an alert",
    params(("alert_id" = String, Query, description = "The alert's id")),
    responses(
        (status = 200, description = "Per device", body = Deliveries),
        (status = 400, description = "No alert_id", body = super::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "No such alert", body = super::openapi::ProblemDetails, content_type = "application/problem+json"),
    ),
)]
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
                "SELECT e.device_id, e.seq, COALESCE(k.acked_seq, 0), e.delivered_at, e.acked_at
                 FROM events e LEFT JOIN device_acks k ON k.device_id = e.device_id
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
    let deliveries = rows
        .into_iter()
        .map(|(device_id, seq, acked, delivered_at, acked_at)| {
            let acked = seq <= acked;
            Delivery {
                device_id,
                seq,
                // An acknowledgement implies delivery, even if the record
                // of the delivery itself was lost.
                delivered: acked || delivered_at.is_some(),
                delivered_at_ms: delivered_at,
                acked,
                acked_at_ms: acked_at.filter(|_| acked),
            }
        })
        .collect();
    Ok(Json(Deliveries {
        alert_id,
        deliveries,
    })
    .into_response())
}

/// A customer's answer to a fraud check (or a security-detail change).
#[derive(Debug, Serialize, ToSchema)]
pub struct FraudAnswer {
    /// The alert answered.
    pub alert_id: String,
    /// `me` (it was me) or `not_me`.
    pub answer: String,
    /// When the customer answered, seconds since the Unix epoch, as the
    /// device signed it.
    pub answered_at: i64,
    /// The device that answered.
    pub device_id: String,
    /// The RFC 7638 thumbprint of the DPoP key that proved the answer.
    pub device_jkt: String,
    /// When the gateway received it, milliseconds since the Unix epoch.
    pub received_at: i64,
}

/// A customer's answers, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct FraudAnswers {
    /// The answers.
    pub answers: Vec<FraudAnswer>,
}

/// The `?customer=` of a customer's reads, as the description shows it
/// (the handlers read it with [`super::query_customer`], which also
/// refuses an empty one).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    /// The customer's username.
    pub customer: String,
}

/// `GET /bank/v1/fraud-answers?customer=`.
#[utoipa::path(
    get,
    path = "/bank/v1/fraud-answers",
    tag = "answers",
    summary = "A customer's answers to fraud checks",
    description = "Each with the device and the DPoP key thumbprint that proved it, oldest first.",
    params(CustomerQuery),
    responses(
        (status = 200, description = "The answers", body = FraudAnswers),
        (status = 400, description = "No customer", body = super::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "No such customer", body = super::openapi::ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn get_fraud_answers(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let customer_id = known_customer(&state, &query_customer(&query)?).await?;
    let answers = state
        .db
        .read(move |c| -> Result<Vec<FraudAnswer>, GatewayError> {
            let mut stmt = c.prepare(
                "SELECT f.alert_id, f.answer, f.answered_at, f.device_id, f.device_jkt, f.received_at
                 FROM fraud_answers f JOIN alerts a ON a.id = f.alert_id
                 WHERE a.customer_id = ?1 ORDER BY f.received_at",
            )?;
            let rows = stmt.query_map([customer_id], |r| {
                Ok(FraudAnswer {
                    alert_id: r.get(0)?,
                    answer: r.get(1)?,
                    answered_at: r.get(2)?,
                    device_id: r.get(3)?,
                    device_jkt: r.get(4)?,
                    received_at: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await?;
    Ok(Json(FraudAnswers { answers }).into_response())
}
