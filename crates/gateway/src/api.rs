//! The messaging API for linked devices: chat, fraud answers and history,
//! each request authenticated by a DPoP-bound access token. A device sees only its own customer's data;
//! anything else is 404.

use std::collections::HashMap;
use strongroom_core::protocol::alert::AlertKind;

use crate::sql::{OptionalExtension, params};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use strongroom_core::protocol::frames::{
    ChatAuthor, ChatMessage, DeviceEvent, FraudAnswerValue, decode_fraud_answer, decode_send_chat,
};
use strongroom_core::protocol::jose::{b64_decode, b64_encode};

use crate::auth::{authenticate, require_scope};
use crate::crypto::{now_ms, random_uuid};
use crate::error::{GatewayError, Problem};
use crate::events::{enqueue, enqueue_for_customer, has_scope};
use crate::state::Shared;

/// `POST /v1/chat`: stores the customer's message once per client id.
pub async fn send_chat(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let auth = authenticate(&state, &headers, "POST", "/v1/chat").await?;
    require_scope(&auth, "chat")?;
    let request = decode_send_chat(&body).map_err(|e| Problem::from_protocol(&e))?;
    let message_id = format!("m-{}", random_uuid(&state.rng));
    let customer_id = auth.customer_id;
    let (id, committed) = state
        .db
        .write_for_customer(customer_id, move |c| -> Result<_, GatewayError> {
            let existing: Option<String> = c
                .query_row(
                    "SELECT id FROM chat_messages WHERE device_id = ?1 AND client_id = ?2",
                    params![auth.device_id, request.client_id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = existing {
                return Ok((id, Vec::new()));
            }
            let author: String = c.query_row(
                "SELECT display_name FROM customers WHERE id = ?1",
                [auth.customer_id],
                |r| r.get(0),
            )?;
            let sent_at = now_ms();
            c.execute(
                "INSERT INTO chat_messages(id, customer_id, device_id, client_id, author_role, author, body, sent_at)
                 VALUES (?1, ?2, ?3, ?4, 'customer', ?5, ?6, ?7)",
                params![message_id, auth.customer_id, auth.device_id, request.client_id, author, request.body, sent_at],
            )?;
            crate::transmitter::enqueue(
                c,
                auth.customer_id,
                &crate::transmitter::chat_message(&message_id, &auth.device_id, &request.body, sent_at),
            )?;
            crate::hub::Announcement::Conversation {
                customer: auth.customer_id,
            }
            .announce(c);
            // Appended to below: the sender's device, then the others.
            // All of their rows are locked first, in the order every
            // append takes them.
            crate::events::lock_customer_devices(c, auth.customer_id)?;
            let accepted = DeviceEvent::ChatAccepted {
                client_id: request.client_id.clone(),
                bank_message_id: message_id.clone(),
            };
            let seq = enqueue(c, &auth.device_id, &accepted, None)?;
            let mut committed: Vec<(String, u64)> =
                seq.map(|seq| (auth.device_id.clone(), seq)).into_iter().collect();
            let echo = DeviceEvent::Chat {
                message: ChatMessage {
                    bank_message_id: message_id.clone(),
                    client_id: Some(request.client_id),
                    from: ChatAuthor::Customer,
                    author,
                    body: request.body,
                    sent_at,
                },
            };
            committed.extend(enqueue_for_customer(
                c,
                auth.customer_id,
                Some(&auth.device_id),
                &echo,
                None,
            )?);
            Ok((message_id, committed))
        })
        .await?;
    state.hub.notify_all(&committed);
    if !committed.is_empty() {
        // Open consoles show the new message (nobody listening is fine).
        let _ = state.console_events.send(Some(customer_id));
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "bank_message_id": id })),
    )
        .into_response())
}

/// `POST /v1/fraud-answers`: records the customer's answer to a fraud check
/// the bank sent them, with the key that proved it.
pub async fn fraud_answer(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let auth = authenticate(&state, &headers, "POST", "/v1/fraud-answers").await?;
    require_scope(&auth, "alerts")?;
    let request = decode_fraud_answer(&body).map_err(|e| Problem::from_protocol(&e))?;
    let answer = match request.answer {
        FraudAnswerValue::Me => "me",
        FraudAnswerValue::NotMe => "not_me",
    };
    let alert_id = request.alert_id.clone();
    let first_answer = state
        .db
        .write_for_customer(auth.customer_id, move |c| -> Result<bool, Problem> {
            let kind: Option<String> = c
                .query_row(
                    "SELECT kind FROM alerts WHERE id = ?1 AND customer_id = ?2",
                    params![request.alert_id, auth.customer_id],
                    |r| r.get(0),
                )
                .optional()?;
            if !kind.as_deref().is_some_and(AlertKind::name_asks_answer) {
                return Err(Problem::not_found("no fraud check with this id was sent to you"));
            }
            let previous: Option<(String, i64)> = c
                .query_row(
                    "SELECT answer, answered_at FROM fraud_answers WHERE alert_id = ?1",
                    [&request.alert_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            // The answer is written, and the bank's event streams hear of
            // it in the same transaction: nothing answered is lost to them.
            let record = || -> Result<(), Problem> {
                c.execute(
                    "INSERT INTO fraud_answers(alert_id, answer, answered_at, device_id, device_jkt, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(alert_id) DO UPDATE SET answer = excluded.answer,
                       answered_at = excluded.answered_at, device_id = excluded.device_id,
                       device_jkt = excluded.device_jkt, received_at = excluded.received_at",
                    params![request.alert_id, answer, request.answered_at, auth.device_id, auth.jkt, now_ms()],
                )?;
                crate::transmitter::enqueue(
                    c,
                    auth.customer_id,
                    &crate::transmitter::fraud_answer(
                        &request.alert_id,
                        answer,
                        request.answered_at,
                        &auth.device_id,
                        &auth.jkt,
                    ),
                )?;
                Ok(())
            };
            match previous {
                Some((p, _)) if p == answer => Ok(false),
                // A fraud report is never swallowed: "not me" after "this
                // was me" (given on another of the customer's devices, which
                // may be a thief's) replaces it, and the bank hears of it.
                Some(_) if answer == "not_me" => {
                    record()?;
                    Ok(true)
                }
                // "This was me" after "not me" cannot withdraw a fraud
                // report: refused, with the answer the check has, so this
                // device can show it and stop counting the check as waiting.
                Some((p, at)) => Err(Problem::new(
                    StatusCode::CONFLICT,
                    "already_answered",
                    "this fraud check was already answered differently",
                )
                .with("answer", serde_json::Value::String(p))
                .with("answered_at", serde_json::Value::from(at))),
                None => {
                    record()?;
                    Ok(true)
                }
            }
        })
        .await?;
    if first_answer {
        crate::metrics::metrics().alerts_answered.inc();
    }
    Ok((
        StatusCode::OK,
        Json(serde_json::json!({ "alert_id": alert_id, "answer": answer })),
    )
        .into_response())
}

/// The most events one history page holds.
pub const MAX_HISTORY_PAGE: u32 = 200;

/// Where a history page starts: strictly older than this (time, kind, id).
type HistoryCursor = (i64, String, String);

fn encode_cursor(cursor: &HistoryCursor) -> String {
    b64_encode(format!("{}:{}:{}", cursor.0, cursor.1, cursor.2).as_bytes())
}

fn decode_cursor(text: &str) -> Option<HistoryCursor> {
    let raw = String::from_utf8(b64_decode(text).ok()?).ok()?;
    let mut parts = raw.splitn(3, ':');
    let at = parts.next()?.parse().ok()?;
    let kind = parts.next()?;
    let id = parts.next()?;
    matches!(kind, "alert" | "chat").then(|| (at, kind.to_owned(), id.to_owned()))
}

/// One row of the history query: kind, id, time, and the columns each kind
/// needs.
struct HistoryRow {
    kind: String,
    id: String,
    at: i64,
    body: String,
    client_id: Option<String>,
    role: Option<String>,
    author: Option<String>,
}

impl HistoryRow {
    fn event(self) -> DeviceEvent {
        if self.kind == "alert" {
            return DeviceEvent::Alert { jws: self.body };
        }
        DeviceEvent::Chat {
            message: ChatMessage {
                bank_message_id: self.id,
                client_id: self.client_id,
                from: if self.role.as_deref() == Some("staff") {
                    ChatAuthor::Staff
                } else {
                    ChatAuthor::Customer
                },
                author: self.author.unwrap_or_default(),
                body: self.body,
                sent_at: self.at,
            },
        }
    }
}

/// `GET /v1/history?cursor=<next>&limit=<n>`: the customer's alerts (with
/// the `alerts` scope) and chat messages (with `chat`), newest first, each
/// as the stream's event object with its time; `next` is the cursor of the
/// following (older) page, or null after the oldest.
pub async fn history(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let auth = authenticate(&state, &headers, "GET", "/v1/history").await?;
    let limit = query
        .get("limit")
        .map(|v| {
            v.parse::<u32>()
                .map_err(|_| Problem::bad_request("limit must be an integer from 1 to 200"))
        })
        .transpose()?
        .unwrap_or(50)
        .clamp(1, MAX_HISTORY_PAGE);
    let cursor = match query.get("cursor") {
        Some(text) => decode_cursor(text)
            .ok_or_else(|| Problem::bad_request("cursor must be a `next` value from history"))?,
        None => (i64::MAX, String::new(), String::new()),
    };
    let alerts = has_scope(&auth.scope, "alerts");
    let chat = has_scope(&auth.scope, "chat");
    let customer_id = auth.customer_id;
    let mut rows = state
        .db
        .read(move |c| -> Result<Vec<HistoryRow>, GatewayError> {
            let mut stmt = c.prepare_cached(
                "SELECT k, id, at, body, client_id, role, author FROM (
                     SELECT 'alert' AS k, id, created_at AS at, jws AS body,
                            NULL AS client_id, NULL AS role, NULL AS author
                       FROM alerts WHERE customer_id = ?1 AND ?2
                     UNION ALL
                     SELECT 'chat', id, sent_at, body, client_id, author_role, author
                       FROM chat_messages WHERE customer_id = ?1 AND ?3
                 ) AS history WHERE (at, k, id) < (?4, ?5, ?6)
                 ORDER BY at DESC, k DESC, id DESC LIMIT ?7",
            )?;
            let rows = stmt.query_map(
                params![
                    customer_id,
                    alerts,
                    chat,
                    cursor.0,
                    cursor.1,
                    cursor.2,
                    i64::from(limit) + 1
                ],
                |r| {
                    Ok(HistoryRow {
                        kind: r.get(0)?,
                        id: r.get(1)?,
                        at: r.get(2)?,
                        body: r.get(3)?,
                        client_id: r.get(4)?,
                        role: r.get(5)?,
                        author: r.get(6)?,
                    })
                },
            )?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = more
        .then(|| rows.last())
        .flatten()
        .map(|r| encode_cursor(&(r.at, r.kind.clone(), r.id.clone())));
    let events: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|row| {
            let at = row.at;
            serde_json::json!({ "at": at, "event": row.event() })
        })
        .collect();
    Ok(Json(serde_json::json!({ "events": events, "next": next })).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_cursors_round_trip_and_junk_is_refused() {
        let cursor = (1_800_000_000_000, "chat".to_owned(), "m-a:b".to_owned());
        assert_eq!(decode_cursor(&encode_cursor(&cursor)), Some(cursor));
        assert_eq!(decode_cursor("%%%"), None);
        assert_eq!(decode_cursor(&b64_encode(b"12:event:x")), None);
        assert_eq!(decode_cursor(&b64_encode(b"x:chat:y")), None);
    }
}
