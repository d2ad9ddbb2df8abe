//! The delivery stream (protocol section 6): one WebSocket per device.
//! `hello`, then the device's `resume`, then every stored event after it,
//! then live events as they commit; `ack` moves the device's acknowledged
//! number durably. Events are read from the database, woken by the hub, so
//! a stream holds no event data between wake-ups.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::http::HeaderMap;
use axum::response::Response;
use rusqlite::params;
use strongroom_core::protocol::frames::{
    ClientFrame, MAX_FRAME_BYTES, ServerFrame, decode_client_frame, encode,
};

use crate::api::{DeviceAuth, authenticate};
use crate::error::{GatewayError, Problem};
use crate::state::Shared;

/// Events read from the database per query while catching up.
const PAGE: i64 = 256;
/// How long the device has to send `resume` after `hello`.
const RESUME_TIMEOUT: Duration = Duration::from_secs(30);

/// `GET /v1/stream`: authenticates, then upgrades with small buffers (the
/// gateway holds thousands of these) and the 64 KiB frame limit.
pub async fn upgrade(
    State(state): State<Shared>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, Problem> {
    let auth = authenticate(&state, &headers, "GET", "/v1/stream").await?;
    Ok(ws
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            let mut socket = socket;
            let outcome = run(&state, &auth, &mut socket).await;
            let (code, reason) = match outcome {
                Ended::Closed => return,
                Ended::Violation(reason) => (close_code::POLICY, reason),
                Ended::Revoked => (close_code::POLICY, "the link was revoked"),
                Ended::ShuttingDown => (close_code::AWAY, "the gateway is restarting"),
                Ended::Failed => (close_code::ERROR, "the gateway failed"),
            };
            let _ = socket
                .send(Message::Close(Some(CloseFrame {
                    code,
                    reason: Utf8Bytes::from_static(reason),
                })))
                .await;
        }))
}

/// Why a stream ended.
enum Ended {
    /// The device closed it or the connection dropped.
    Closed,
    /// The device broke the protocol: close 1008.
    Violation(&'static str),
    /// The grant was revoked.
    Revoked,
    /// The gateway is stopping.
    ShuttingDown,
    /// Storage failed.
    Failed,
}

async fn acked_seq(state: &Shared, device_id: &str) -> Result<u64, GatewayError> {
    let id = device_id.to_owned();
    state
        .db
        .read(move |c| -> Result<i64, GatewayError> {
            Ok(
                c.query_row("SELECT acked_seq FROM devices WHERE id = ?1", [id], |r| {
                    r.get(0)
                })?,
            )
        })
        .await
        .map(|v| u64::try_from(v).unwrap_or(0))
}

async fn events_after(
    state: &Shared,
    device_id: &str,
    after: u64,
) -> Result<Vec<(u64, String)>, GatewayError> {
    let id = device_id.to_owned();
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    state
        .db
        .read(move |c| -> Result<Vec<(u64, String)>, GatewayError> {
            let mut stmt = c.prepare_cached(
                "SELECT seq, body FROM events WHERE device_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![id, after, PAGE], |r| {
                Ok((u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0), r.get::<_, String>(1)?))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
}

enum Incoming {
    Frame(ClientFrame),
    Ignore,
    Closed,
    Violation(&'static str),
}

fn classify(message: Option<Result<Message, axum::Error>>) -> Incoming {
    match message {
        Some(Ok(Message::Text(text))) => match decode_client_frame(text.as_bytes()) {
            Ok(frame) => Incoming::Frame(frame),
            Err(_) => Incoming::Violation("unknown or malformed frame"),
        },
        Some(Ok(Message::Binary(_))) => Incoming::Violation("frames are JSON text"),
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Incoming::Ignore,
        Some(Ok(Message::Close(_))) | None => Incoming::Closed,
        // Oversized frames and protocol errors surface here.
        Some(Err(_)) => Incoming::Violation("frame too large or not valid WebSocket"),
    }
}

async fn run(state: &Shared, auth: &DeviceAuth, socket: &mut WebSocket) -> Ended {
    // Subscribe before the first read so no commit can slip between them.
    let mut subscription = state.hub.subscribe(&auth.device_id);
    let mut shutdown = state.shutdown.clone();
    if *shutdown.borrow() {
        return Ended::ShuttingDown;
    }
    let Ok(mut acked) = acked_seq(state, &auth.device_id).await else {
        return Ended::Failed;
    };
    if socket
        .send(Message::Text(encode(&ServerFrame::Hello { acked }).into()))
        .await
        .is_err()
    {
        return Ended::Closed;
    }
    let mut sent = loop {
        match tokio::time::timeout(RESUME_TIMEOUT, socket.recv()).await {
            Err(_) => return Ended::Violation("no resume frame"),
            Ok(message) => match classify(message) {
                Incoming::Frame(ClientFrame::Resume { after }) => break after,
                Incoming::Frame(ClientFrame::Ack { .. }) => {
                    return Ended::Violation("resume must come first");
                }
                Incoming::Ignore => continue,
                Incoming::Closed => return Ended::Closed,
                Incoming::Violation(why) => return Ended::Violation(why),
            },
        }
    };
    loop {
        // Catch up with everything committed after `sent`.
        loop {
            let Ok(page) = events_after(state, &auth.device_id, sent).await else {
                return Ended::Failed;
            };
            let full = page.len() as i64 == PAGE;
            for (seq, body) in page {
                let frame = format!(r#"{{"type":"event","seq":{seq},"event":{body}}}"#);
                if socket.send(Message::Text(frame.into())).await.is_err() {
                    return Ended::Closed;
                }
                sent = seq;
            }
            state.hub.mark_delivered(&auth.device_id, sent);
            if !full {
                break;
            }
        }
        tokio::select! {
            message = socket.recv() => match classify(message) {
                Incoming::Frame(ClientFrame::Ack { seq }) => {
                    if seq > sent {
                        return Ended::Violation("acknowledged an event not sent");
                    }
                    if seq > acked {
                        let id = auth.device_id.clone();
                        let stored = state
                            .db
                            .write(move |c| -> Result<(), GatewayError> {
                                c.prepare_cached(
                                    "UPDATE devices SET acked_seq = max(acked_seq, ?1) WHERE id = ?2",
                                )?
                                .execute(params![i64::try_from(seq).unwrap_or(0), id])?;
                                Ok(())
                            })
                            .await;
                        if stored.is_err() {
                            return Ended::Failed;
                        }
                        acked = seq;
                    }
                }
                // A second resume restarts delivery from the number given.
                Incoming::Frame(ClientFrame::Resume { after }) => sent = after,
                Incoming::Ignore => {}
                Incoming::Closed => return Ended::Closed,
                Incoming::Violation(why) => return Ended::Violation(why),
            },
            changed = subscription.signal.changed() => {
                if changed.is_err() || subscription.signal.borrow_and_update().revoked {
                    return Ended::Revoked;
                }
            }
            _ = shutdown.changed() => return Ended::ShuttingDown,
        }
    }
}
