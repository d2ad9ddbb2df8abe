//! What the customer sends: chat messages through the on-disk outbox, and
//! answers to fraud checks, each a DPoP-bound request to the bank.

use ring::rand::SecureRandom;
use strongroom_core::AccountId;
use strongroom_core::protocol::frames::{
    self, FraudAnswerRequest, FraudAnswerValue, SendChatRequest,
};
use strongroom_core::protocol::sync::Backoff;
use strongroom_store::{FraudAnswer, StoreError, Verification};

use super::{Client, lock, now_ms};
use crate::ClientError;

impl Client {
    /// Queues a chat message to the bank's staff in the on-disk outbox and
    /// wakes the sender; it goes out now if the bank is reachable, else on
    /// reconnect. Returns the message's idempotency key.
    ///
    /// # Errors
    /// [`ClientError::BankProtocol`] for an empty or oversized body, or a
    /// store error.
    pub fn send_chat(&self, account: AccountId, body: &str) -> Result<String, ClientError> {
        if body.trim().is_empty() || body.len() > frames::MAX_CHAT_BODY_BYTES {
            return Err(ClientError::BankProtocol(format!(
                "a message is 1 to {} bytes",
                frames::MAX_CHAT_BODY_BYTES
            )));
        }
        let link = self.link_of(account)?;
        let client_id = self.random_id()?;
        self.with_device(|d| {
            d.store()
                .queue_outgoing(link.conversation, "You", body, &client_id, now_ms())
        })?;
        if let Some(linked) = lock(&self.inner.linked).get(&account) {
            linked.outbox.notify_one();
        }
        Ok(client_id)
    }

    /// Sends one queued batch of the outbox now. Returns how many messages
    /// the bank accepted.
    ///
    /// # Errors
    /// [`ClientError::LinkRevoked`] when the bank ended the link, a network
    /// or store error; unsent messages stay queued.
    pub async fn drain_outbox(&self, account: AccountId) -> Result<usize, ClientError> {
        let (link, linked, items) = self
            .blocking(move |c| {
                let items = c.with_device(|d| d.store().outbox(account))?.items;
                Ok((c.link_of(account)?, c.linked(account)?, items))
            })
            .await?;
        let now = now_ms();
        let mut sent = 0;
        for item in items.into_iter().filter(|i| i.next_attempt_at <= now) {
            let request = SendChatRequest {
                client_id: item.client_id.clone(),
                body: item.message.body.clone(),
                sent_at: item.message.sent_at,
            };
            let url = format!("{}/chat", link.api_base);
            let token = self.access_token(account, &linked, &link).await?;
            let result = self
                .inner
                .http
                .send_authorized(
                    "POST",
                    &url,
                    Some(frames::encode(&request).as_bytes()),
                    &token,
                    &linked.key,
                )
                .await;
            let accepted = match result {
                Ok(reply) if reply.status == 200 || reply.status == 202 => {
                    #[derive(serde::Deserialize)]
                    struct Accepted {
                        bank_message_id: String,
                    }
                    serde_json::from_slice::<Accepted>(&reply.body)
                        .ok()
                        .map(|a| a.bank_message_id)
                }
                Ok(reply) if reply.status == 401 => {
                    self.forget_access(&linked).await;
                    if crate::net::is_link_revoked(&reply.body) {
                        // The message stays queued (the outbox is never
                        // emptied behind the customer's back); the link
                        // must be made again before it can go.
                        return Err(ClientError::LinkRevoked);
                    }
                    None
                }
                _ => None,
            };
            match accepted {
                Some(bank_id) => {
                    let client_id = item.client_id.clone();
                    self.blocking(move |c| {
                        Ok(c.with_device(|d| {
                            d.store()
                                .acknowledge_outgoing(account, &client_id, &bank_id)
                        })?)
                    })
                    .await?;
                    sent += 1;
                }
                None => {
                    let delay =
                        Backoff::default().delay_ms(item.attempts.min(16), self.random_u32());
                    let (id, next) = (
                        item.message.id,
                        now + i64::try_from(delay).unwrap_or(30_000),
                    );
                    self.blocking(move |c| {
                        Ok(c.with_device(|d| d.store().record_attempt(id, next))?)
                    })
                    .await?;
                }
            }
        }
        Ok(sent)
    }

    /// Answers a fraud check: a DPoP-bound request naming the alert's id, so
    /// the bank knows the answer came from this enrolled device. Recorded in
    /// the store once the bank has accepted it.
    ///
    /// # Errors
    /// [`ClientError::UnknownAlert`] if no fraud check has this id, or the
    /// bank's refusal (for example 409 after a different earlier answer).
    pub async fn answer_fraud_check(
        &self,
        account: AccountId,
        alert_id: &str,
        answer: FraudAnswerValue,
    ) -> Result<(), ClientError> {
        let wanted = alert_id.to_owned();
        let stored = self
            .blocking(move |c| {
                c.with_device(|d| -> Result<_, ClientError> {
                    let id = d
                        .store()
                        .find_alert(account, &wanted)?
                        .ok_or_else(|| ClientError::UnknownAlert(wanted.clone()))?;
                    let alert = d.store().alert(id)?;
                    let verified =
                        matches!(alert.details.verification, Verification::Verified { .. });
                    if !strongroom_core::protocol::alert::AlertKind::name_asks_answer(
                        &alert.details.kind,
                    ) || !verified
                    {
                        return Err(ClientError::UnknownAlert(wanted));
                    }
                    Ok(id)
                })
            })
            .await?;
        let now = now_ms();
        let request = FraudAnswerRequest {
            alert_id: alert_id.to_owned(),
            answer,
            answered_at: now,
        };
        match self
            .post_to_bank(account, "/fraud-answers", &frames::encode(&request))
            .await
        {
            Ok(_) => {}
            // Another of the customer's devices answered first: the bank's
            // answer is the answer, here too, so this device stops asking.
            Err(ClientError::AlreadyAnswered {
                answer,
                answered_at,
            }) => {
                let at = answered_at.unwrap_or(now);
                self.blocking(move |c| {
                    Ok(c.with_device(|d| d.store().answer_fraud_check(stored, answer, at))?)
                })
                .await?;
                return Err(ClientError::AlreadyAnswered {
                    answer,
                    answered_at,
                });
            }
            Err(e) => return Err(e),
        }
        let value = match answer {
            FraudAnswerValue::Me => FraudAnswer::ThisWasMe,
            FraudAnswerValue::NotMe => FraudAnswer::NotMe,
        };
        self.blocking(move |c| {
            Ok(c.with_device(|d| d.store().answer_fraud_check(stored, value, now))?)
        })
        .await
    }

    /// A random id for an idempotency key (16 bytes, base64url).
    pub(super) fn random_id(&self) -> Result<String, ClientError> {
        let mut id = [0u8; 16];
        self.inner
            .rng
            .fill(&mut id)
            .map_err(|_| StoreError::Random)?;
        Ok(strongroom_core::protocol::jose::b64_encode(&id))
    }

    /// A DPoP-bound `POST` of `body` to `path` under the account's messaging
    /// API, with one retry on a fresh access token after a 401. Any answer
    /// but 200 is the bank's error.
    pub(super) async fn post_to_bank(
        &self,
        account: AccountId,
        path: &str,
        body: &str,
    ) -> Result<crate::net::Reply, ClientError> {
        let (link, linked) = self
            .blocking(move |c| Ok((c.link_of(account)?, c.linked(account)?)))
            .await?;
        let url = format!("{}{path}", link.api_base);
        let mut reply = None;
        for _ in 0..2 {
            let token = self.access_token(account, &linked, &link).await?;
            let r = self
                .inner
                .http
                .send_authorized("POST", &url, Some(body.as_bytes()), &token, &linked.key)
                .await?;
            if r.status == 401 {
                self.forget_access(&linked).await;
            }
            let retry = r.status == 401;
            reply = Some(r);
            if !retry {
                break;
            }
        }
        let reply = reply.ok_or_else(|| ClientError::BankProtocol("no reply".into()))?;
        if reply.status != 200 {
            return Err(reply.error(&url));
        }
        Ok(reply)
    }
}
