//! The delivery stream of one linked account: connect with a DPoP-bound
//! token, resume after the last stored event, store and acknowledge what
//! arrives, and reconnect with backoff after any failure.

use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use strongroom_core::AccountId;
use strongroom_core::protocol::frames::{self, ClientFrame, ServerFrame};
use strongroom_core::protocol::sync::{Arrival, Backoff, Delivery as StreamPosition};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage, client::IntoClientRequest};

use super::events::ClientEvent;
use super::{Client, Linked, now_ms};
use crate::{ClientError, ErrorReport};

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
        let link = self.link_of(account)?;
        if link.stream_endpoint.is_empty() {
            return Err(ClientError::BankProtocol(
                "this bank offers no Strongroom delivery stream".into(),
            ));
        }
        let linked = self.linked(account)?;
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
                false,
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
            .with_device(|d| d.store().acked_seq(account))?
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
                        .with_device(|d| d.store().outbox(account))
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
        linked: &Linked,
        ws: &mut tokio_tungstenite::WebSocketStream<S>,
        position: &mut StreamPosition,
    ) -> Result<(), ClientError>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let protocol_violation = |detail: String| ClientError::BankProtocol(detail);
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
            let Some(message) = next else {
                return Ok(());
            };
            let message = message.map_err(|e| ClientError::Network {
                url: "stream".into(),
                detail: e.to_string(),
            })?;
            let text = match message {
                WsMessage::Text(text) => text,
                WsMessage::Close(_) => return Ok(()),
                WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => continue,
                WsMessage::Binary(_) => {
                    return Err(protocol_violation("binary frame on the stream".into()));
                }
            };
            let frame = match frames::decode_server_frame(text.as_bytes()) {
                Ok(frame) => frame,
                Err(err) => {
                    // Protocol section 6: close with 1008 and reconnect.
                    let _ = ws
                        .close(Some(tungstenite::protocol::CloseFrame {
                            code: tungstenite::protocol::frame::coding::CloseCode::Policy,
                            reason: "malformed frame".into(),
                        }))
                        .await;
                    return Err(err.into());
                }
            };
            let (seq, event) = match frame {
                ServerFrame::Event { seq, event } if seq > 0 => (seq, event),
                ServerFrame::Contact { jws, calls } => {
                    self.take_contact(account, linked, &jws, &calls);
                    continue;
                }
                _ => return Err(protocol_violation("unexpected frame on the stream".into())),
            };
            let ack = match position.arrived(seq) {
                Arrival::AlreadyStored { ack } => Some(ack),
                Arrival::Store => {
                    self.apply(account, linked, event)?;
                    match position.stored(seq) {
                        Some(ack) => {
                            self.with_device(|d| d.store().set_acked_seq(account, ack))?;
                            Some(ack)
                        }
                        None => None,
                    }
                }
            };
            if let Some(ack) = ack {
                ws.send(WsMessage::text(frames::encode(&ClientFrame::Ack {
                    seq: ack,
                })))
                .await
                .map_err(|e| ClientError::Network {
                    url: "stream".into(),
                    detail: e.to_string(),
                })?;
                self.emit(ClientEvent::Committed { account, seq: ack });
            }
        }
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
