//! The delivery stream of one linked account: connect with a DPoP-bound
//! token, resume after the last stored event, store and acknowledge what
//! arrives, and reconnect with backoff after any failure.

use futures_util::{FutureExt, SinkExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use strongroom_core::AccountId;
use strongroom_core::protocol::frames::{self, ClientFrame, DeviceEvent, ServerFrame};
use strongroom_core::protocol::sync::{Arrival, Backoff, Delivery as StreamPosition};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage, client::IntoClientRequest};

use super::events::ClientEvent;
use super::inbox::checked_alert;
use super::stages::AlertStages;
use super::{Client, Linked, now_ms};
use crate::{ClientError, ErrorReport};
use strongroom_store::NewAlert;

/// How long the bank has to send `hello` after the stream opens.
const HELLO_TIMEOUT: Duration = Duration::from_secs(15);

/// A stream silent for this long is dead (the bank pings every 30 s; a
/// laptop that slept or changed networks would otherwise wait forever).
const SILENCE_LIMIT: Duration = Duration::from_secs(75);

impl Client {
    /// Keeps one account's delivery stream open until the bank revokes the
    /// link: connects, resumes after the last stored event, stores and
    /// acknowledges what arrives, drains the outbox, and reconnects with
    /// backoff and jitter after any failure.
    pub async fn run_account(&self, account: AccountId) {
        let backoff = Backoff::default();
        let mut attempt = 0u32;
        loop {
            let outcome = self.connect_once(account, &mut attempt).await;
            let error = match outcome {
                Err(ClientError::LinkRevoked) => {
                    self.lose_contact(account);
                    self.emit(ClientEvent::LinkRevoked { account });
                    return;
                }
                Err(ClientError::NotLinked(_)) => return,
                Err(err) => Some(ErrorReport::from(&err)),
                Ok(()) => None,
            };
            self.lose_contact(account);
            let delay = backoff.delay_ms(attempt, self.random_u32());
            attempt = attempt.saturating_add(1);
            self.emit(ClientEvent::Disconnected {
                account,
                error,
                retry_in_ms: delay,
            });
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
    }

    /// Runs [`Client::run_account`] for every linked account, each on its
    /// own task.
    ///
    /// # Errors
    /// A store error listing the accounts.
    pub fn run_all(&self) -> Result<Vec<tokio::task::JoinHandle<()>>, ClientError> {
        let accounts = self.accounts()?;
        Ok(accounts
            .into_iter()
            .map(|a| {
                let client = self.clone();
                tokio::spawn(async move { client.run_account(a.id).await })
            })
            .collect())
    }

    async fn connect_once(&self, account: AccountId, attempt: &mut u32) -> Result<(), ClientError> {
        let (link, linked) = self
            .blocking(move |c| Ok((c.link_of(account)?, c.linked(account)?)))
            .await?;
        if link.stream_endpoint.is_empty() {
            return Err(ClientError::BankProtocol(
                "this bank offers no Strongroom delivery stream".into(),
            ));
        }
        let token = self.access_token(account, &linked, &link).await?;
        // The proof names the https form of the stream URL (protocol 6).
        let https_url = link.stream_endpoint.replacen("wss://", "https://", 1);
        let proof = self
            .inner
            .http
            .proof(&linked.key, "GET", &https_url, Some(&token))?;
        let mut request = link
            .stream_endpoint
            .as_str()
            .into_client_request()
            .map_err(|e| ClientError::BankProtocol(format!("bad stream URL: {e}")))?;
        let headers = request.headers_mut();
        for (name, value) in [("authorization", format!("DPoP {token}")), ("dpop", proof)] {
            headers.insert(
                name,
                value
                    .parse()
                    .map_err(|_| ClientError::BankProtocol("bad header".into()))?,
            );
        }
        let config = tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(frames::MAX_FRAME_BYTES))
            .max_frame_size(Some(frames::MAX_FRAME_BYTES));
        let connector = tokio_tungstenite::Connector::Rustls(self.inner.http.tls());
        let connected = tokio::time::timeout(
            HELLO_TIMEOUT,
            tokio_tungstenite::connect_async_tls_with_config(
                request,
                Some(config),
                // TCP_NODELAY: an acknowledgement is a few bytes, and
                // Nagle would hold it until the bank's next frame.
                true,
                Some(connector),
            ),
        )
        .await
        .map_err(|_| ClientError::Network {
            url: link.stream_endpoint.clone(),
            detail: "timed out".into(),
        })?;
        let (mut ws, _) = match connected {
            Ok(ok) => ok,
            Err(tungstenite::Error::Http(response))
                if response.status() == 401
                    && response
                        .body()
                        .as_deref()
                        .is_some_and(crate::net::is_link_revoked) =>
            {
                return Err(ClientError::LinkRevoked);
            }
            Err(tungstenite::Error::Http(response)) if response.status() == 401 => {
                // The token expired or was revoked: refresh on the next try,
                // which tells a revoked link apart.
                self.forget_access(&linked).await;
                return Err(ClientError::Refused {
                    status: 401,
                    title: "Unauthorized".into(),
                    detail: "the bank refused the stream's token".into(),
                });
            }
            Err(e) => {
                return Err(ClientError::Network {
                    url: link.stream_endpoint.clone(),
                    detail: e.to_string(),
                });
            }
        };
        let stream_err = |e: tungstenite::Error| ClientError::Network {
            url: link.stream_endpoint.clone(),
            detail: e.to_string(),
        };
        // hello first.
        let hello = tokio::time::timeout(HELLO_TIMEOUT, ws.next())
            .await
            .map_err(|_| ClientError::BankProtocol("no hello from the bank".into()))?;
        let bank_acked = match hello {
            Some(Ok(WsMessage::Text(text))) => {
                match frames::decode_server_frame(text.as_bytes())? {
                    ServerFrame::Hello { acked } => acked,
                    ServerFrame::Event { .. } | ServerFrame::Contact { .. } => {
                        return Err(ClientError::BankProtocol(
                            "the bank sent an event before hello".into(),
                        ));
                    }
                }
            }
            Some(Err(e)) => return Err(stream_err(e)),
            _ => return Err(ClientError::BankProtocol("no hello from the bank".into())),
        };
        // The stored position is a counter in clear: a tampered file could
        // push it far ahead so that the bank sends nothing. Resume from the
        // lower of ours and the bank's; anything sent twice is deduplicated.
        let acked = self
            .blocking(move |c| Ok(c.with_device(|d| d.store().acked_seq(account))?))
            .await?
            .min(bank_acked);
        let mut position = StreamPosition::resume(acked);
        ws.send(WsMessage::text(frames::encode(&ClientFrame::Resume {
            after: acked,
        })))
        .await
        .map_err(stream_err)?;
        *attempt = 0;
        self.emit(ClientEvent::Connected { account });

        // The outbox drains on every (re)connect and whenever a message is
        // queued, on its own task so sending never delays receiving.
        // Aborted when this connection ends in any way, including when the
        // task running it is aborted (lock): a drainer left behind would
        // keep the store, and its keys, alive.
        let _drainer = AbortOnDrop({
            let client = self.clone();
            let linked = linked.clone();
            tokio::spawn(async move {
                let mut failures = 0u32;
                loop {
                    // A failure before any attempt was recorded (no token,
                    // keychain locked) must not turn into a busy loop.
                    if client.drain_outbox(account).await.is_err() {
                        failures = failures.saturating_add(1);
                        let delay = Backoff::default().delay_ms(failures, client.random_u32());
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                        continue;
                    }
                    failures = 0;
                    let next = client
                        .blocking(move |c| Ok(c.with_device(|d| d.store().outbox(account))?))
                        .await
                        .ok()
                        .and_then(|p| p.items.iter().map(|i| i.next_attempt_at).min());
                    let wait = next.map_or(Duration::from_secs(3600), |at| {
                        Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0).max(50))
                    });
                    tokio::select! {
                        () = linked.outbox.notified() => {}
                        () = tokio::time::sleep(wait) => {}
                    }
                }
            })
        });
        let result = self
            .serve_stream(account, &linked, &mut ws, &mut position)
            .await;
        let _ = ws.close(None).await;
        result
    }

    async fn serve_stream<S>(
        &self,
        account: AccountId,
        linked: &Arc<Linked>,
        ws: &mut tokio_tungstenite::WebSocketStream<S>,
        position: &mut StreamPosition,
    ) -> Result<(), ClientError>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        loop {
            let Ok(next) = tokio::time::timeout(SILENCE_LIMIT, ws.next()).await else {
                return Err(ClientError::Network {
                    url: "stream".into(),
                    detail: format!(
                        "nothing from the bank for {} s; reconnecting",
                        SILENCE_LIMIT.as_secs()
                    ),
                });
            };
            // The frame that woke us, and every frame already waiting
            // behind it (up to a batch): stored together off the runtime,
            // acknowledged once.
            let mut batch = Batch::default();
            let mut end = batch.take(next);
            while end.is_none() && batch.items.len() < BATCH_FRAMES {
                match ws.next().now_or_never() {
                    Some(next) => end = batch.take(next),
                    None => break,
                }
            }
            let mut stored = Ok(());
            if !batch.items.is_empty() {
                let ack;
                (stored, ack) = self.store_batch(account, linked, batch, position).await;
                if let Some(ack) = ack {
                    // What is stored is committed, whether or not the bank
                    // still hears the acknowledgement (it resends what it
                    // did not hear; the store deduplicates).
                    let sent = ws
                        .send(WsMessage::text(frames::encode(&ClientFrame::Ack {
                            seq: ack,
                        })))
                        .await;
                    self.emit(ClientEvent::Committed { account, seq: ack });
                    // On a stream that is ending anyway, its own reason
                    // (below) says more than a failed last send.
                    if end.is_none() {
                        sent.map_err(|e| ClientError::Network {
                            url: "stream".into(),
                            detail: e.to_string(),
                        })?;
                    }
                }
            }
            if let Some(StreamEnd::Malformed(_)) = &end {
                // Protocol section 6: close with 1008 and reconnect, after
                // what came before it in the burst is stored and
                // acknowledged, so that the reconnect resumes after it.
                let _ = ws
                    .close(Some(tungstenite::protocol::CloseFrame {
                        code: tungstenite::protocol::frame::coding::CloseCode::Policy,
                        reason: "malformed frame".into(),
                    }))
                    .await;
            }
            // A store failure first: it is this device's, and the most
            // serious.
            stored?;
            match end {
                None => {}
                Some(StreamEnd::Closed) => return Ok(()),
                Some(StreamEnd::Failed(err) | StreamEnd::Malformed(err)) => return Err(err),
            }
        }
    }

    /// Stores a burst of frames in order on the blocking pool (each commit
    /// waits for the disk, which must not hold an async worker and the
    /// tasks queued behind it). A run of alerts is stored in one
    /// transaction with the stream position after it (`insert_alerts`);
    /// anything else is applied on its own, and the position after it is
    /// stored once at the end. Returns the first error, if any, and the
    /// position to acknowledge: the events stored before an error stay
    /// stored and acknowledged, and nothing is acknowledged that is not
    /// stored.
    async fn store_batch(
        &self,
        account: AccountId,
        linked: &Arc<Linked>,
        batch: Batch,
        position: &mut StreamPosition,
    ) -> (Result<(), ClientError>, Option<u64>) {
        let client = self.clone();
        let linked = linked.clone();
        let moved = position.clone();
        // If this future is dropped (the stream task aborted, as at lock),
        // the blocking task stops before its next item, so it does not keep
        // the device, and its keys, for the rest of a burst.
        let joined = blocking_until_dropped(move |abandoned| {
            let mut burst = Burst {
                client: &client,
                account,
                position: moved,
                ack: None,
                stored_ack: None,
                alerts: Vec::new(),
                waiting: Vec::new(),
            };
            let mut result = Ok(());
            for item in batch.items {
                if abandoned.load(Ordering::Acquire) {
                    break;
                }
                let step = match item {
                    // Alerts wait, to be stored together with the position
                    // after them: one commit for a run of alerts.
                    Item::Event {
                        seq,
                        event: DeviceEvent::Alert { jws },
                        received,
                    } => {
                        match burst.position.arrived(seq) {
                            Arrival::AlreadyStored { ack } => burst.ack = Some(ack),
                            Arrival::Store => {
                                let alert = checked_alert(account, &linked, jws, now_ms());
                                burst.alerts.push(alert);
                                burst.waiting.push(Waiting {
                                    seq,
                                    received,
                                    verified: Instant::now(),
                                });
                            }
                        }
                        Ok(())
                    }
                    // Anything else is applied on its own, in order, after
                    // the alerts before it.
                    Item::Event { seq, event, .. } => burst.flush().and_then(|()| {
                        match burst.position.arrived(seq) {
                            Arrival::AlreadyStored { ack } => burst.ack = Some(ack),
                            Arrival::Store => {
                                client.apply(account, &linked, event)?;
                                if let Some(ack) = burst.position.stored(seq) {
                                    burst.ack = Some(ack);
                                }
                            }
                        }
                        Ok(())
                    }),
                    Item::Contact { jws, calls } => burst.flush().map(|()| {
                        client.take_contact(account, &linked, &jws, &calls);
                    }),
                };
                if let Err(err) = step {
                    result = Err(err);
                    break;
                }
            }
            if result.is_ok() && !abandoned.load(Ordering::Acquire) {
                result = burst.flush();
            }
            // The position of what was stored on its own (not with alerts).
            // A crash before this commit re-delivers events after the last
            // stored position; the store deduplicates them.
            if let Some(at) = burst.ack
                && burst.stored_ack != Some(at)
                && let Err(err) = client.with_device(|d| d.store().set_acked_seq(account, at))
            {
                return (Err(err.into()), None, burst.position);
            }
            (result, burst.ack, burst.position)
        })
        .await;
        match joined {
            Ok((result, ack, moved)) => {
                *position = moved;
                (result, ack)
            }
            // The device's own failure (a panic in the store work), never
            // the bank's.
            Err(join) => (
                Err(ClientError::Store(strongroom_store::StoreError::Io(
                    format!("storing the stream's events stopped: {join}"),
                ))),
                None,
            ),
        }
    }
}

/// The state of one burst being stored, on the blocking pool.
struct Burst<'a> {
    client: &'a Client,
    account: AccountId,
    position: StreamPosition,
    /// The position to acknowledge, once everything before it is stored.
    ack: Option<u64>,
    /// The position the store holds (committed with the alerts).
    stored_ack: Option<u64>,
    /// Alerts waiting to be stored together, as the store takes them.
    alerts: Vec<NewAlert>,
    /// Beside each, its number and stage times.
    waiting: Vec<Waiting>,
}

/// An alert waiting in a burst: its number, and when it was read and
/// verified (for [`Client::record_alert_stages`]).
struct Waiting {
    seq: u64,
    received: Instant,
    verified: Instant,
}

impl Burst<'_> {
    /// Stores the waiting alerts and the position after them in one
    /// transaction, then moves the position and announces the new alerts.
    /// On failure nothing of them is stored, the position does not move,
    /// and they are not announced.
    fn flush(&mut self) -> Result<(), ClientError> {
        if self.alerts.is_empty() {
            return Ok(());
        }
        let alerts = std::mem::take(&mut self.alerts);
        let waiting = std::mem::take(&mut self.waiting);
        let mut after = self.position.clone();
        let mut ack = self.ack;
        for w in &waiting {
            if let Some(at) = after.stored(w.seq) {
                ack = Some(at);
            }
        }
        let inserted = self
            .client
            .with_device(|d| d.store().insert_alerts(self.account, &alerts, ack))?;
        let committed = Instant::now();
        self.position = after;
        self.ack = ack;
        self.stored_ack = ack;
        self.client
            .note_stages(&alerts, &waiting, &inserted, committed);
        for (alert, inserted) in alerts.iter().zip(&inserted) {
            self.client.announce_alert(alert, inserted);
        }
        Ok(())
    }
}

impl Client {
    /// Keeps the stages of the new alerts of a committed run, when a
    /// benchmark asked for them.
    fn note_stages(
        &self,
        alerts: &[NewAlert],
        waiting: &[Waiting],
        inserted: &[strongroom_store::Inserted<strongroom_store::AlertId>],
        committed: Instant,
    ) {
        let mut stages = super::lock(&self.inner.stages);
        if !stages.recording() {
            return;
        }
        for ((alert, w), inserted) in alerts.iter().zip(waiting).zip(inserted) {
            if matches!(inserted, strongroom_store::Inserted::New(_)) {
                stages.record(
                    &alert.bank_alert_id,
                    AlertStages {
                        received: w.received,
                        verified: w.verified,
                        committed,
                    },
                );
            }
        }
    }
}

/// Frames stored together at most: what a burst may hold before it is
/// committed and acknowledged.
const BATCH_FRAMES: usize = 64;

/// A frame to store, in the order it arrived.
enum Item {
    Event {
        seq: u64,
        event: DeviceEvent,
        /// When its frame was read off the socket.
        received: Instant,
    },
    Contact {
        jws: String,
        calls: Vec<String>,
    },
}

/// Why a stream ends after its batch is stored.
enum StreamEnd {
    /// The bank closed it.
    Closed,
    /// The connection failed, or the bank broke the protocol.
    Failed(ClientError),
    /// A frame that does not decode: the stream is closed with 1008.
    Malformed(ClientError),
}

/// The frames read off the socket for one commit.
#[derive(Default)]
struct Batch {
    items: Vec<Item>,
}

impl Batch {
    /// Takes one message off the socket: a frame to store, nothing (pings),
    /// or the end of the stream.
    fn take(&mut self, next: Option<Result<WsMessage, tungstenite::Error>>) -> Option<StreamEnd> {
        let Some(message) = next else {
            return Some(StreamEnd::Closed);
        };
        let message = match message {
            Ok(message) => message,
            Err(e) => {
                return Some(StreamEnd::Failed(ClientError::Network {
                    url: "stream".into(),
                    detail: e.to_string(),
                }));
            }
        };
        let text = match message {
            WsMessage::Text(text) => text,
            WsMessage::Close(_) => return Some(StreamEnd::Closed),
            WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => return None,
            WsMessage::Binary(_) => {
                return Some(StreamEnd::Failed(ClientError::BankProtocol(
                    "binary frame on the stream".into(),
                )));
            }
        };
        match frames::decode_server_frame(text.as_bytes()) {
            Ok(ServerFrame::Event { seq, event }) if seq > 0 => {
                self.items.push(Item::Event {
                    seq,
                    event,
                    received: Instant::now(),
                });
                None
            }
            Ok(ServerFrame::Contact { jws, calls }) => {
                self.items.push(Item::Contact { jws, calls });
                None
            }
            Ok(_) => Some(StreamEnd::Failed(ClientError::BankProtocol(
                "unexpected frame on the stream".into(),
            ))),
            Err(err) => Some(StreamEnd::Malformed(err.into())),
        }
    }
}

/// Runs `work` on the blocking pool and waits for it. `work` is given a
/// flag that is set when the returned future is dropped (its task
/// aborted), to check between items and stop early: a blocking task cannot
/// be cancelled from outside, and would otherwise hold what it locked for
/// the rest of its work.
async fn blocking_until_dropped<T: Send + 'static>(
    work: impl FnOnce(&AtomicBool) -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    let abandoned = Arc::new(AtomicBool::new(false));
    let _abandon_on_drop = SetOnDrop(abandoned.clone());
    tokio::task::spawn_blocking(move || work(&abandoned)).await
}

/// Sets a flag when dropped.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64) -> Option<Result<WsMessage, tungstenite::Error>> {
        Some(Ok(WsMessage::text(frames::encode(&ServerFrame::Event {
            seq,
            event: DeviceEvent::Alert {
                jws: format!("jws-{seq}"),
            },
        }))))
    }

    /// Blocking work whose task is aborted stops at its next check instead
    /// of running to its end (as the stream's store work does when the
    /// stream task is aborted at lock).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn blocking_work_stops_when_its_task_is_aborted() {
        use std::sync::atomic::AtomicUsize;
        // 2,000 items of 5 ms: 10 s if nothing stops it.
        const ITEMS: usize = 2_000;
        let done = Arc::new(AtomicUsize::new(0));
        let (finished_tx, finished_rx) = std::sync::mpsc::channel();
        let task = {
            let done = done.clone();
            tokio::spawn(blocking_until_dropped(move |abandoned| {
                for _ in 0..ITEMS {
                    if abandoned.load(Ordering::Acquire) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                    done.fetch_add(1, Ordering::SeqCst);
                }
                let _ = finished_tx.send(());
            }))
        };
        // Aborted once the work is under way.
        while done.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        // It stops at its next check, in well under the 10 s it would take.
        tokio::task::spawn_blocking(move || finished_rx.recv_timeout(Duration::from_secs(5)))
            .await
            .unwrap()
            .expect("the blocking work ended");
        let ran = done.load(Ordering::SeqCst);
        assert!(
            ran < ITEMS / 2,
            "{ran} of {ITEMS} items ran after the abort"
        );

        // Not aborted, it runs to its end.
        let all = blocking_until_dropped(|abandoned| {
            (0..ITEMS)
                .take_while(|_| !abandoned.load(Ordering::Acquire))
                .count()
        })
        .await
        .unwrap();
        assert_eq!(all, ITEMS);
    }

    fn seqs(batch: &Batch) -> Vec<u64> {
        batch
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Event { seq, .. } => Some(*seq),
                Item::Contact { .. } => None,
            })
            .collect()
    }

    /// A burst is read in order, pings skipped; a malformed frame ends it
    /// as `Malformed` (the stream is then closed with 1008) and what came
    /// before it stays in the batch, to be stored and acknowledged.
    #[test]
    fn a_batch_keeps_what_came_before_a_malformed_frame() {
        let mut batch = Batch::default();
        assert!(batch.take(event(1)).is_none());
        assert!(
            batch
                .take(Some(Ok(WsMessage::Ping(Vec::new().into()))))
                .is_none()
        );
        assert!(batch.take(event(2)).is_none());
        let end = batch.take(Some(Ok(WsMessage::text("{\"type\":\"event\",\"seq\":"))));
        assert!(
            matches!(end, Some(StreamEnd::Malformed(_))),
            "{:?}",
            end.is_some()
        );
        assert_eq!(seqs(&batch), [1, 2]);
    }

    /// The other ways a stream ends: closed by the bank, a binary frame, a
    /// frame the device must never get (a second hello, or event 0).
    #[test]
    fn a_batch_ends_on_close_binary_and_unexpected_frames() {
        let mut batch = Batch::default();
        assert!(matches!(batch.take(None), Some(StreamEnd::Closed)));
        assert!(matches!(
            batch.take(Some(Ok(WsMessage::Close(None)))),
            Some(StreamEnd::Closed)
        ));
        assert!(matches!(
            batch.take(Some(Ok(WsMessage::Binary(vec![1, 2].into())))),
            Some(StreamEnd::Failed(ClientError::BankProtocol(_)))
        ));
        let hello = WsMessage::text(frames::encode(&ServerFrame::Hello { acked: 3 }));
        assert!(matches!(
            batch.take(Some(Ok(hello))),
            Some(StreamEnd::Failed(ClientError::BankProtocol(_)))
        ));
        // Event 0 is refused by the decoder or by the batch: either way the
        // stream ends and nothing is kept.
        assert!(matches!(
            batch.take(event(0)),
            Some(StreamEnd::Failed(_) | StreamEnd::Malformed(_))
        ));
        assert!(batch.items.is_empty());
    }
}
