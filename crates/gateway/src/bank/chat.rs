//! Staff chat from the bank's systems (the agent console sends through
//! the same function): a message stored in the customer's conversation and
//! put on the stream of every device of theirs, and the conversation read
//! back.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use strongroom_core::protocol::frames::{
    ChatAuthor, ChatMessage, DeviceEvent, MAX_CHAT_BODY_BYTES,
};
use utoipa::ToSchema;

use super::checks::{MAX_REF_BYTES, check_label, check_shown_text, invalid, json};
use super::customers::known_customer;
use super::{created, query_customer};
use crate::crypto::{now_ms, random_uuid};
use crate::error::{GatewayError, Problem};
use crate::events::enqueue_for_customer;
use crate::sql::params;
use crate::state::Shared;

/// A staff chat message.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffMessage {
    /// The customer's username.
    pub customer: String,
    /// The staff member's display name.
    pub author: String,
    /// The message as the agent wrote it, plain text.
    pub body: String,
}

/// A staff message sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatSent {
    /// The message's id in the conversation.
    pub bank_message_id: String,
}

/// `POST /bank/v1/chat`: a staff message to every device of the customer.
#[utoipa::path(
    post,
    path = "/bank/v1/chat",
    tag = "chat",
    summary = "Send a staff message to a customer",
    description = "Stored in the customer's conversation and sent to every device of theirs.",
    request_body = StaffMessage,
    responses(
        (status = 201, description = "Sent", body = ChatSent),
        (status = 404, description = "No such customer", body = super::openapi::ProblemDetails,
            content_type = "application/problem+json"),
    ),
)]
pub async fn post_chat(State(state): State<Shared>, body: Bytes) -> Result<Response, Problem> {
    let message: StaffMessage = json(&body)?;
    let customer_id = known_customer(&state, &message.customer).await?;
    let id = send_staff_message(&state, customer_id, message.author, message.body).await?;
    Ok(created(ChatSent {
        bank_message_id: id,
    }))
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
        .write_for_customer(customer_id, move |c| -> Result<_, GatewayError> {
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

/// One message of a conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatEntry {
    /// Its id.
    pub bank_message_id: String,
    /// The app's own id for a customer's message (its retries share it).
    pub client_id: Option<String>,
    /// `customer` or `staff`.
    pub from: String,
    /// Who wrote it, as shown.
    pub author: String,
    /// The text.
    pub body: String,
    /// When it was sent, milliseconds since the Unix epoch.
    pub sent_at: i64,
    /// The device a customer wrote from.
    pub device_id: Option<String>,
}

/// A customer's conversation, oldest first (the first 1,000 messages).
#[derive(Debug, Serialize, ToSchema)]
pub struct Conversation {
    /// The customer's username.
    pub customer: String,
    /// The messages.
    pub messages: Vec<ChatEntry>,
}

/// `GET /bank/v1/chat?customer=`: the conversation, oldest first.
#[utoipa::path(
    get,
    path = "/bank/v1/chat",
    tag = "chat",
    summary = "A customer's conversation",
    params(super::alerts::CustomerQuery),
    responses(
        (status = 200, description = "The conversation", body = Conversation),
        (status = 400, description = "No customer", body = super::openapi::ProblemDetails,
            content_type = "application/problem+json"),
        (status = 404, description = "No such customer", body = super::openapi::ProblemDetails,
            content_type = "application/problem+json"),
    ),
)]
pub async fn get_chat(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let username = query_customer(&query)?;
    let customer_id = known_customer(&state, &username).await?;
    let messages = state
        .db
        .read(move |c| -> Result<Vec<ChatEntry>, GatewayError> {
            let mut stmt = c.prepare(
                "SELECT id, client_id, author_role, author, body, sent_at, device_id FROM chat_messages
                 WHERE customer_id = ?1 ORDER BY sent_at, id LIMIT 1000",
            )?;
            let rows = stmt.query_map([customer_id], |r| {
                Ok(ChatEntry {
                    bank_message_id: r.get(0)?,
                    client_id: r.get(1)?,
                    from: r.get(2)?,
                    author: r.get(3)?,
                    body: r.get(4)?,
                    sent_at: r.get(5)?,
                    device_id: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await?;
    Ok(Json(Conversation {
        customer: username,
        messages,
    })
    .into_response())
}
