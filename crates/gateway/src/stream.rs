//! The delivery stream (protocol section 6): one WebSocket per device.
//! `hello`, then the device's `resume`, then every stored event after it,
//! then live events as they commit; `ack` moves the device's acknowledged
//! number durably. Events are read from the database, woken by the hub, so
//! a stream holds no event data between wake-ups.

use std::time::Duration;

use tokio::time::Instant;

use crate::sql::params;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::http::HeaderMap;
use axum::response::Response;
use strongroom_core::protocol::frames::{
    ClientFrame, MAX_FRAME_BYTES, ServerFrame, decode_client_frame, encode,
};

use crate::acks::Ack;
use crate::auth::{DeviceAuth, authenticate};
use crate::crypto::{now_ms, now_s};
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
        .read_buffer_size(512)
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
                Ended::Revoked => (
                    close_code::POLICY,
                    "the link or the token it was opened with was revoked",
                ),
                Ended::Silent => (close_code::POLICY, "nothing heard from the device"),
                Ended::TokenExpired => (TOKEN_EXPIRED, "token expired"),
                Ended::ShuttingDown => (close_code::AWAY, "the gateway is restarting"),
                Ended::Failed => (close_code::ERROR, "the gateway failed"),
            };
            let close = Message::Close(Some(CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            }));
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, socket.send(close)).await;
        }))
}

/// The close code for a stream whose access token expired: the device
/// refreshes its token and reconnects.
pub const TOKEN_EXPIRED: u16 = 4401;

/// How long the close frame may take to go out.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a stream ended.
enum Ended {
    /// The device closed it or the connection dropped.
    Closed,
    /// The device broke the protocol: close 1008.
    Violation(&'static str),
    /// The grant was revoked.
    Revoked,
    /// The device sent nothing (not even a pong) for the idle timeout.
    Silent,
    /// The access token that opened the stream expired: close 4401.
    TokenExpired,
    /// The gateway is stopping.
    ShuttingDown,
    /// Storage failed.
    Failed,
}

/// What the stream needs of its device row when it starts.
struct DeviceRow {
    acked_seq: u64,
    last_seq: u64,
    revoked: bool,
}

async fn device_row(state: &Shared, device_id: &str) -> Result<DeviceRow, GatewayError> {
    let id = device_id.to_owned();
    state
        .db
        .read(move |c| -> Result<DeviceRow, GatewayError> {
            Ok(c.query_row(
                "SELECT COALESCE((SELECT acked_seq FROM device_acks WHERE device_id = ?1), 0),
                        last_seq, revoked_at
                 FROM devices WHERE id = ?1",
                [id],
                |r| {
                    Ok(DeviceRow {
                        acked_seq: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                        last_seq: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                        revoked: r.get::<_, Option<i64>>(2)?.is_some(),
                    })
                },
            )?)
        })
        .await
}

async fn events_after(
    state: &Shared,
    device_id: &str,
    after: u64,
) -> Result<Vec<(u64, String, bool)>, GatewayError> {
    let id = device_id.to_owned();
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    state
        .db
        .read(move |c| -> Result<Vec<(u64, String, bool)>, GatewayError> {
            let mut stmt = c.prepare_cached(
                "SELECT seq, body, alert_id IS NOT NULL FROM events
                 WHERE device_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![id, after, PAGE], |r| {
                Ok((
                    u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
}

/// How long alerts sent but not acknowledged wait before their delivery
/// is recorded on its own (an acknowledgement records it with no write of
/// its own).
const RECORD_DELIVERY_AFTER: Duration = Duration::from_secs(2);

/// The most unacknowledged alert frames a stream times for the delivery
/// metric (a device that stops acknowledging costs no more memory).
const MAX_TIMED_IN_FLIGHT: usize = 1024;

/// Alerts written to the stream whose delivery is not yet in the
/// database: numbers `after`+1..=`upto`, first sent at `at` (ms), and when
/// that was. Recorded with the acknowledgement that covers them, or on
/// their own after [`RECORD_DELIVERY_AFTER`], or when the stream ends.
struct Unrecorded {
    state: Shared,
    device_id: String,
    range: Option<(u64, u64, i64, Instant)>,
}

impl Unrecorded {
    fn sent(&mut self, after: u64, upto: u64) {
        self.range = Some(match self.range {
            Some((first, _, at, when)) => (first, upto, at, when),
            None => (after, upto, now_ms(), Instant::now()),
        });
    }

    /// When the first unrecorded alert was sent (ms), or now.
    fn first_sent_at(&self) -> i64 {
        self.range.map_or_else(now_ms, |(_, _, at, _)| at)
    }

    fn acked(&mut self, seq: u64) {
        if let Some((_, upto, at, when)) = self.range {
            self.range = (upto > seq).then_some((seq, upto, at, when));
        }
    }

    fn due(&self) -> Instant {
        self.range.map_or_else(Instant::now, |(.., when)| when) + RECORD_DELIVERY_AFTER
    }

    /// Writes the delivery time now. Not awaited: the stream goes on, and a
    /// failed record costs only the console's "delivered" (an
    /// acknowledgement still implies it).
    fn record(&mut self) {
        let Some((after, upto, at, _)) = self.range.take() else {
            return;
        };
        let id = self.device_id.clone();
        let (after, upto) = (
            i64::try_from(after).unwrap_or(i64::MAX),
            i64::try_from(upto).unwrap_or(i64::MAX),
        );
        let db = std::sync::Arc::clone(&self.state.db);
        tokio::spawn(async move {
            let _ = db
                .write(move |c| -> Result<usize, GatewayError> {
                    crate::transmitter::announce_delivered(c, &id, after, upto, at)?;
                    Ok(c.execute(
                        // "Is an alert" as in `acks::pg_define_record_acks`: by key, not
                        // by `events_alert`, whatever the statistics say.
                        "UPDATE events SET delivered_at = ?1 WHERE device_id = ?2
                         AND seq > ?3 AND seq <= ?4 AND COALESCE(alert_id, '') <> ''
                         AND delivered_at IS NULL",
                        params![at, id, after, upto],
                    )?)
                })
                .await;
        });
    }
}

impl Drop for Unrecorded {
    fn drop(&mut self) {
        self.record();
    }
}

pub(crate) enum Incoming {
    Frame(ClientFrame),
    Ignore,
    Closed,
    Violation(&'static str),
}

pub(crate) fn classify(message: Option<Result<Message, axum::Error>>) -> Incoming {
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

/// The timers of one stream: pings, the idle limit and the token's expiry.
/// Three instants, so 10,000 streams cost nothing worth counting; one sleep
/// at a time is armed, until the earliest.
struct Liveness {
    ping_every: Duration,
    idle_after: Duration,
    next_ping: Instant,
    last_heard: Instant,
    token_expires: Instant,
}

/// What the earliest deadline means.
enum Due {
    Ping,
    Silent,
    TokenExpired,
}

impl Liveness {
    fn new(state: &Shared, auth: &DeviceAuth) -> Self {
        let now = Instant::now();
        let left = u64::try_from(auth.expires_at.saturating_sub(now_s())).unwrap_or(0);
        Liveness {
            ping_every: state.config.stream_ping_interval,
            idle_after: state.config.stream_idle_timeout,
            next_ping: now + state.config.stream_ping_interval,
            last_heard: now,
            token_expires: now + Duration::from_secs(left),
        }
    }

    fn heard(&mut self) {
        self.last_heard = Instant::now();
    }

    fn next(&self) -> (Instant, Due) {
        let silent = self.last_heard + self.idle_after;
        let mut due = (self.next_ping, Due::Ping);
        if silent <= due.0 {
            due = (silent, Due::Silent);
        }
        if self.token_expires <= due.0 {
            due = (self.token_expires, Due::TokenExpired);
        }
        due
    }
}

/// Sends one message, giving up (as if the connection dropped) when the
/// device does not take it within the idle timeout.
async fn send(socket: &mut WebSocket, message: Message, within: Duration) -> bool {
    matches!(
        tokio::time::timeout(within, socket.send(message)).await,
        Ok(Ok(()))
    )
}

/// Sends a fresh contact proof for the device's customer, if its link was
/// granted `alerts` (which call statements need). A proof that
/// cannot be made (the database is briefly unavailable) is skipped, not
/// fatal: the device then shows "can't check" after a minute, which is the
/// honest answer.
async fn send_contact(
    state: &Shared,
    auth: &DeviceAuth,
    socket: &mut WebSocket,
    within: Duration,
) -> bool {
    // A proof (and the statements re-sent with it) goes only where call
    // statements go: the scope is theirs, named in one place.
    let statements_scope = crate::events::required_scope(
        &strongroom_core::protocol::frames::DeviceEvent::CallStatus { jws: String::new() },
    );
    if !crate::events::has_scope(&auth.scope, statements_scope) {
        return true;
    }
    let key = state.signing().current;
    let (issuer, rng, customer) = (state.issuer.clone(), state.rng.clone(), auth.customer_id);
    let proof = state
        .db
        .read(move |c| crate::calls::contact_proof(c, &key, &issuer, customer, &rng))
        .await;
    match proof {
        Ok((jws, calls)) => {
            let frame = encode(&ServerFrame::Contact { jws, calls });
            send(socket, Message::Text(frame.into()), within).await
        }
        Err(e) => {
            tracing::error!(error = %e, "no contact proof for a stream");
            true
        }
    }
}

async fn run(state: &Shared, auth: &DeviceAuth, socket: &mut WebSocket) -> Ended {
    // Subscribe before the first read so no commit or revocation can slip
    // between them.
    let mut subscription = state.hub.subscribe(&auth.device_id);
    let mut shutdown = state.shutdown.clone();
    if *shutdown.borrow() {
        return Ended::ShuttingDown;
    }
    let mut live = Liveness::new(state, auth);
    // Read after subscribing: a revocation between `authenticate` and the
    // subscription did not wake us, but it is in the row.
    let Ok(device) = device_row(state, &auth.device_id).await else {
        return Ended::Failed;
    };
    if device.revoked {
        return Ended::Revoked;
    }
    let mut acked = device.acked_seq;
    // The highest number that exists for this device: `resume` and `ack`
    // cannot go past it.
    let last_seq = |subscription: &crate::hub::Subscription| {
        device.last_seq.max(subscription.signal.borrow().last_seq)
    };
    let idle = live.idle_after;
    if !send(
        socket,
        Message::Text(encode(&ServerFrame::Hello { acked }).into()),
        idle,
    )
    .await
    {
        return Ended::Closed;
    }
    let mut sent = loop {
        match tokio::time::timeout(RESUME_TIMEOUT, socket.recv()).await {
            Err(_) => return Ended::Violation("no resume frame"),
            Ok(message) => match classify(message) {
                Incoming::Frame(ClientFrame::Resume { after }) => {
                    break after.min(last_seq(&subscription));
                }
                Incoming::Frame(ClientFrame::Ack { .. }) => {
                    return Ended::Violation("resume must come first");
                }
                Incoming::Ignore => continue,
                Incoming::Closed => return Ended::Closed,
                Incoming::Violation(why) => return Ended::Violation(why),
            },
        }
    };
    live.heard();
    // A contact proof at once, so the device can say "not calling you"
    // (or who is) without waiting for the first keep-alive.
    if !send_contact(state, auth, socket, idle).await {
        return Ended::Closed;
    }
    let mut unrecorded = Unrecorded {
        state: state.clone(),
        device_id: auth.device_id.clone(),
        range: None,
    };
    // Whether something may have been committed past `sent`: at first, and
    // after a wake-up or a resume. An acknowledgement or a ping changes
    // nothing to send, and catching up after each one read the database
    // for nothing (once per acknowledged event).
    let mut catch_up = true;
    // Alert frames written and not yet acknowledged, with when, for the
    // delivery time metric.
    let mut in_flight: std::collections::VecDeque<(u64, Instant)> = Default::default();
    loop {
        // Catch up with everything committed after `sent`: from what the hub
        // kept of the newest events while they follow on without a gap and
        // reach the newest known, else from the database.
        while std::mem::take(&mut catch_up) {
            let known = subscription.signal.borrow().last_seq;
            let (page, full) = match state.hub.recent_after(&auth.device_id, sent) {
                Some(run) => {
                    let upto = run.last().map_or(sent, |e| e.seq);
                    let page: Vec<(u64, String, bool)> = run
                        .into_iter()
                        .map(|e| (e.seq, e.body.to_string(), e.alert))
                        .collect();
                    (page, upto < known)
                }
                None => {
                    let Ok(page) = events_after(state, &auth.device_id, sent).await else {
                        return Ended::Failed;
                    };
                    let full = page.len() as i64 == PAGE;
                    (page, full)
                }
            };
            let before = sent;
            let mut alerts = false;
            for (seq, body, alert) in page {
                let frame = format!(r#"{{"type":"event","seq":{seq},"event":{body}}}"#);
                if !send(socket, Message::Text(frame.into()), idle).await {
                    return Ended::Closed;
                }
                sent = seq;
                alerts |= alert;
                if alert {
                    if let Some(stages) = state.stages.as_ref().filter(|p| p.recording()) {
                        stages.sent(&auth.device_id, seq);
                    }
                    crate::metrics::metrics().alerts_delivered.inc();
                    if in_flight.len() < MAX_TIMED_IN_FLIGHT {
                        in_flight.push_back((seq, Instant::now()));
                    }
                }
            }
            if alerts {
                unrecorded.sent(before, sent);
            }
            catch_up = full;
        }
        let (deadline, due) = live.next();
        tokio::select! {
            message = socket.recv() => {
                live.heard();
                match classify(message) {
                    Incoming::Frame(ClientFrame::Ack { seq }) => {
                        // `sent` never passes the device's last number, so
                        // this also refuses numbers that do not exist.
                        if seq > sent {
                            return Ended::Violation("acknowledged an event not sent");
                        }
                        if seq > acked {
                            let ack = Ack {
                                device_id: auth.device_id.clone(),
                                previous: i64::try_from(acked).unwrap_or(0),
                                seq: i64::try_from(seq).unwrap_or(0),
                                delivered_at: unrecorded.first_sent_at(),
                            };
                            let stored = state.db.write_coalesced(&state.acks, ack).await;
                            if stored.is_err() {
                                return Ended::Failed;
                            }
                            let metrics = crate::metrics::metrics();
                            metrics.events_acknowledged.inc_by(seq - acked);
                            metrics.acknowledgements.inc();
                            while let Some((_, at)) = in_flight.front().filter(|(s, _)| *s <= seq) {
                                metrics.delivered_in(at.elapsed());
                                in_flight.pop_front();
                            }
                            acked = seq;
                            unrecorded.acked(seq);
                        }
                    }
                    // A second resume restarts delivery from the number
                    // given, never past the last one that exists.
                    Incoming::Frame(ClientFrame::Resume { after }) => {
                        sent = after.min(last_seq(&subscription));
                        catch_up = true;
                    }
                    Incoming::Ignore => {}
                    Incoming::Closed => return Ended::Closed,
                    Incoming::Violation(why) => return Ended::Violation(why),
                }
            },
            changed = subscription.signal.changed() => {
                if changed.is_err() || subscription.signal.borrow_and_update().revoked {
                    return Ended::Revoked;
                }
                catch_up = true;
            }
            // A device that does not acknowledge what it was sent (it cannot
            // store it, say) still shows it delivered, a moment later.
            () = tokio::time::sleep_until(unrecorded.due()), if unrecorded.range.is_some() => {
                unrecorded.record();
            }
            () = tokio::time::sleep_until(deadline) => match due {
                Due::Ping => {
                    if !send(socket, Message::Ping(Bytes::new()), idle).await
                        || !send_contact(state, auth, socket, idle).await
                    {
                        return Ended::Closed;
                    }
                    live.next_ping = Instant::now() + live.ping_every;
                }
                Due::Silent => return Ended::Silent,
                Due::TokenExpired => return Ended::TokenExpired,
            },
            _ = shutdown.changed() => return Ended::ShuttingDown,
        }
    }
}
