//! Events to the bank, by standard: the gateway is an OpenID Shared
//! Signals Framework 1.0 transmitter. The bank's systems make streams
//! ([`streams`]); what customers do (fraud answers, chat messages,
//! scam-call reports) and what becomes of alerts (delivered to a device,
//! acknowledged by it) go to every stream that asked for them as Security Event
//! Tokens (RFC 8417, signed with the bank's alert signing key, published
//! at `/oauth/jwks`), pushed (RFC 8935, [`push`]) or polled (RFC 8936,
//! [`poll`]). Subjects are RFC 9493 `opaque` identifiers: the customer's
//! username, as the bank API names customers.
//!
//! Nothing is lost: an event is put in the outbox (`ssf_outbox`) in the
//! same transaction as what it reports, and leaves it only when the
//! receiver accepted it (push: 202) or acknowledged it (poll). A receiver
//! that is down, or a gateway that restarts, only delays it; pushes are
//! retried with a growing backoff. Gateways sharing a database share the
//! outbox: each row is leased to one of them at a time.

pub mod poll;
pub mod push;
pub mod streams;

use ring::rand::SystemRandom;
use serde_json::json;

use crate::crypto::{now_ms, now_s, random_uuid};
use crate::error::GatewayError;
use crate::sql::{Connection, params};

/// `typ` of a Security Event Token (RFC 8417 section 2.3).
pub const SET_TYP: &str = "secevent+jwt";

/// A customer answered a fraud check (or a security-detail change).
pub const FRAUD_ANSWER: &str = "urn:strongroom:secevent:fraud-answer";
/// A customer wrote to the bank in the app.
pub const CHAT_MESSAGE: &str = "urn:strongroom:secevent:chat-message";
/// A customer reported a call from someone claiming to be the bank.
pub const SCAM_CALL_REPORT: &str = "urn:strongroom:secevent:scam-call-report";
/// A device acknowledged an alert: it is stored on the device.
pub const ALERT_ACKNOWLEDGED: &str = "urn:strongroom:secevent:alert-acknowledged";
/// An alert was written to a device's stream and no acknowledgement came
/// within 2 s (or the stream ended): delivered, not yet known stored.
pub const ALERT_DELIVERED: &str = "urn:strongroom:secevent:alert-delivered";
/// SSF 1.0 section 8.1.4: the stream's verification event.
pub const VERIFICATION: &str = "https://schemas.openid.net/secevent/ssf/event-type/verification";

/// The events a stream may ask for, as listed in `events_supported`.
pub const EVENTS_SUPPORTED: [&str; 6] = [
    FRAUD_ANSWER,
    CHAT_MESSAGE,
    SCAM_CALL_REPORT,
    ALERT_DELIVERED,
    ALERT_ACKNOWLEDGED,
    VERIFICATION,
];

/// One event about a customer, as it goes in the SET's `events`.
#[derive(Debug, Clone)]
pub struct Event {
    /// Its type, one of [`EVENTS_SUPPORTED`].
    pub kind: &'static str,
    /// Its fields.
    pub fields: serde_json::Value,
}

/// Puts `event` about the customer `customer_id` in the outbox of every
/// stream that asked for it and is not disabled, inside the caller's
/// transaction: it is sent if and only if what it reports commits.
///
/// # Errors
/// Storage failures (which fail the caller's transaction: the fact and
/// its event are written together or not at all).
pub fn enqueue(c: &Connection<'_>, customer_id: i64, event: &Event) -> Result<usize, GatewayError> {
    let username: String = c.query_row(
        "SELECT username FROM customers WHERE id = ?1",
        [customer_id],
        |r| r.get(0),
    )?;
    enqueue_about(c, None, &json!({"format": "opaque", "id": username}), event)
}

/// Puts `event` about `subject` in the outbox of `stream` (or of every
/// stream that asked for it).
fn enqueue_about(
    c: &Connection<'_>,
    stream: Option<&str>,
    subject: &serde_json::Value,
    event: &Event,
) -> Result<usize, GatewayError> {
    let rows = c.query(
        "SELECT id, aud, events_requested FROM ssf_streams WHERE status <> 'disabled'",
        (),
    )?;
    let rng = SystemRandom::new();
    let now = now_ms();
    let mut queued = 0;
    for row in rows {
        let (id, aud, requested): (String, String, String) =
            (row.get(0)?, row.get(1)?, row.get(2)?);
        let wanted = match stream {
            Some(only) => only == id,
            None => requested.split_whitespace().any(|e| e == event.kind),
        };
        if !wanted {
            continue;
        }
        let jti = random_uuid(&rng);
        let claims = json!({
            "iss": "",
            "aud": aud,
            "iat": now_s(),
            "jti": jti,
            "sub_id": subject,
            "events": { event.kind: event.fields },
        });
        c.execute(
            "INSERT INTO ssf_outbox (stream_id, jti, claims, created_at, next_attempt_at)
             VALUES (?1, ?2, ?3, ?4, ?4)",
            params![id, jti, claims.to_string(), now],
        )?;
        queued += 1;
    }
    Ok(queued)
}

/// Signs an outbox row's claims as a SET of `issuer` with the current
/// alert signing key (the receiver checks it against `/oauth/jwks`).
///
/// # Errors
/// [`GatewayError::Storage`] if the stored claims are not JSON or do not
/// sign.
pub fn sign_set(state: &crate::state::AppState, claims: &str) -> Result<String, GatewayError> {
    let mut claims: serde_json::Value = serde_json::from_str(claims)
        .map_err(|e| GatewayError::Storage(format!("an outbox event is not JSON: {e}")))?;
    // The issuer is set when signing, so a gateway whose public URL
    // changed signs its queued events with the name it now has.
    claims["iss"] = serde_json::Value::String(state.issuer.clone());
    state
        .signing()
        .current
        .sign(SET_TYP, &claims, false, &state.rng)
        .map_err(|e| GatewayError::Storage(format!("signing an event: {e}")))
}

/// A fraud answer, for the streams.
pub fn fraud_answer(
    alert_id: &str,
    answer: &str,
    answered_at: i64,
    device_id: &str,
    jkt: &str,
) -> Event {
    Event {
        kind: FRAUD_ANSWER,
        fields: json!({
            "alert_id": alert_id,
            "answer": answer,
            "answered_at": answered_at,
            "device_id": device_id,
            "device_jkt": jkt,
        }),
    }
}

/// A customer's chat message, for the streams.
pub fn chat_message(bank_message_id: &str, device_id: &str, body: &str, sent_at: i64) -> Event {
    Event {
        kind: CHAT_MESSAGE,
        fields: json!({
            "bank_message_id": bank_message_id,
            "device_id": device_id,
            "body": body,
            "sent_at": sent_at,
        }),
    }
}

/// A scam-call report, for the streams.
pub fn scam_call_report(
    report_id: &str,
    called_at: i64,
    caller_number: &str,
    note: &str,
    shown_status: &str,
    received_at: i64,
) -> Event {
    Event {
        kind: SCAM_CALL_REPORT,
        fields: json!({
            "report_id": report_id,
            "called_at": called_at,
            "caller_number": caller_number,
            "note": note,
            "shown_status": shown_status,
            "received_at": received_at,
        }),
    }
}

/// Whether any stream that is not disabled asked for `kind`: hot paths
/// (acknowledgements) look for the events to send only then.
///
/// # Errors
/// Storage failures.
pub fn wanted(c: &Connection<'_>, kind: &str) -> Result<bool, GatewayError> {
    let rows = c.query(
        "SELECT events_requested FROM ssf_streams WHERE status <> 'disabled'",
        (),
    )?;
    for row in rows {
        let requested: String = row.get(0)?;
        if requested.split_whitespace().any(|e| e == kind) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// An alert acknowledged by a device, for the streams; its delivery time
/// too (an acknowledgement implies the delivery).
pub fn alert_acknowledged(
    alert_id: &str,
    device_id: &str,
    seq: i64,
    delivered_at_ms: Option<i64>,
    at_ms: i64,
) -> Event {
    Event {
        kind: ALERT_ACKNOWLEDGED,
        fields: json!({
            "alert_id": alert_id,
            "device_id": device_id,
            "seq": seq,
            "delivered_at_ms": delivered_at_ms,
            "acknowledged_at_ms": at_ms,
        }),
    }
}

/// Puts an `alert-delivered` event for each alert of `device_id`'s events
/// `after`+1..=`upto` whose delivery is not yet recorded, before the
/// stream records it at `at` (looked for only when a stream asked).
///
/// # Errors
/// Storage failures.
pub fn announce_delivered(
    c: &Connection<'_>,
    device_id: &str,
    after: i64,
    upto: i64,
    at: i64,
) -> Result<(), GatewayError> {
    if !wanted(c, ALERT_DELIVERED)? {
        return Ok(());
    }
    let rows = c.query(
        "SELECT e.alert_id, e.seq, al.customer_id FROM events e
         JOIN alerts al ON al.id = e.alert_id
         WHERE e.device_id = ?1 AND e.seq > ?2 AND e.seq <= ?3 AND e.delivered_at IS NULL
         ORDER BY e.seq",
        params![device_id, after, upto],
    )?;
    for row in rows {
        let (alert_id, seq, customer_id): (String, i64, i64) =
            (row.get(0)?, row.get(1)?, row.get(2)?);
        let event = Event {
            kind: ALERT_DELIVERED,
            fields: json!({
                "alert_id": alert_id,
                "device_id": device_id,
                "seq": seq,
                "delivered_at_ms": at,
            }),
        };
        enqueue(c, customer_id, &event)?;
    }
    Ok(())
}
