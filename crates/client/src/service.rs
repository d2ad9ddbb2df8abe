//! The connected client: linking banks, the delivery stream of each linked
//! account, the outbox, chat and fraud answers. Everything persists through
//! the store and every secret through the vault; this module only moves
//! them between the bank and the device.

use futures_util::{SinkExt, StreamExt};
use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use strongroom_core::protocol::alert::AlertSeverity;
use strongroom_core::protocol::frames::{
    self, ClientFrame, DeviceEvent, FraudAnswerRequest, FraudAnswerValue, SendChatRequest,
    ServerFrame,
};
use strongroom_core::protocol::jose::SigningKey;
use strongroom_core::protocol::sync::{Arrival, Backoff, Delivery as StreamPosition};
use strongroom_core::protocol::verify::{AlertVerifier, PinnedKeys, TimePolicy};
use strongroom_core::text::neutralize;
use strongroom_core::{AccountId, Sensitive};
use strongroom_store::{
    AlertDetails, BankLink, Delivery, Direction, FraudAnswer, Inserted, Millis, NewAlert,
    NewMessage, Severity, StoreError, Verification,
};
use strongroom_vault::SecretKind;
use tokio::sync::{Notify, broadcast};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage, client::IntoClientRequest};

use crate::net::{BankHttp, CLIENT_ID, DeviceAuthorization, Metadata, Poll, SCOPE, Tokens};
use crate::{ClientError, Device};

/// The key id the device's DPoP key carries (it never leaves the device).
const DEVICE_KEY_ID: &str = "device";

/// How long before expiry an access token is refreshed.
const REFRESH_MARGIN: Duration = Duration::from_secs(30);

/// How long the bank has to send `hello` after the stream opens.
const HELLO_TIMEOUT: Duration = Duration::from_secs(15);

/// A stream silent for this long is dead (the bank pings every 30 s; a
/// laptop that slept or changed networks would otherwise wait forever).
const SILENCE_LIMIT: Duration = Duration::from_secs(75);

/// The longest lifetime taken from a bank's `expires_in` or `interval`: a
/// hostile or broken server must not overflow the clock arithmetic.
const MAX_BANK_SECONDS: u64 = 24 * 3600;

fn bank_seconds(secs: u64) -> Duration {
    Duration::from_secs(secs.clamp(1, MAX_BANK_SECONDS))
}

/// Now, in milliseconds since the epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Something that happened, for the app's live view and the CLI's `watch`.
/// Sent only after the data is committed to the store.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientEvent {
    /// The delivery stream of an account is open.
    Connected {
        /// The account.
        account: AccountId,
    },
    /// The stream closed; the client reconnects after `retry_in_ms`.
    Disconnected {
        /// The account.
        account: AccountId,
        /// Why.
        reason: String,
        /// When the next attempt is.
        retry_in_ms: u64,
    },
    /// An alert was stored (verified, or quarantined if not).
    Alert {
        /// The account.
        account: AccountId,
        /// What it says.
        alert: AlertView,
    },
    /// A chat message was stored.
    Message {
        /// The account.
        account: AccountId,
        /// Written by bank staff (else by the customer on another device).
        from_bank: bool,
        /// The author's name.
        author: String,
        /// The text.
        body: String,
    },
    /// The bank stored a message the customer sent.
    ChatAccepted {
        /// The account.
        account: AccountId,
        /// The message's idempotency key.
        client_id: String,
    },
    /// The pilot features for this customer changed.
    Flags {
        /// The account.
        account: AccountId,
        /// The complete set switched on.
        flags: BTreeMap<String, bool>,
    },
    /// The bank's alert keys were rotated by a statement signed with a
    /// pinned key.
    KeysRotated {
        /// The account.
        account: AccountId,
        /// The new set's version.
        version: u64,
    },
    /// Every event up to `seq` is stored and acknowledged to the bank.
    Committed {
        /// The account.
        account: AccountId,
        /// The acknowledged sequence number.
        seq: u64,
    },
    /// The bank no longer accepts this device; link again.
    LinkRevoked {
        /// The account.
        account: AccountId,
    },
}

/// An alert as shown to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertView {
    /// The bank's id for it (what a fraud answer is bound to).
    pub id: String,
    /// The kind, for example `fraud_check`.
    pub kind: String,
    /// How urgent.
    pub severity: Severity,
    /// The text (render as text, never HTML).
    pub text: String,
    /// Amount in minor units.
    pub amount_minor: Option<i64>,
    /// Currency of the amount.
    pub currency: Option<String>,
    /// Merchant.
    pub merchant: Option<String>,
    /// Signed by a pinned key of the bank. When false, the alert is
    /// quarantined and must never be shown as the bank's.
    pub verified: bool,
    /// The key that signed it, or why verification failed.
    pub verification: String,
    /// When the bank issued it (ms).
    pub issued_at: Millis,
    /// The customer's answer, for fraud checks.
    pub answer: Option<FraudAnswer>,
    /// When the customer answered (ms).
    pub answered_at: Option<Millis>,
    /// The account's balance after this event, when the bank said.
    pub balance_minor: Option<i64>,
}

impl AlertView {
    fn new(bank_alert_id: &str, details: &AlertDetails, issued_at: Millis) -> Self {
        let (verified, verification) = match &details.verification {
            Verification::Verified { key_id } => (true, key_id.clone()),
            Verification::Failed { reason } => (false, reason.clone()),
        };
        // Every string a bank (or a forger) chose is shown with its
        // bidirectional and invisible format characters neutralised, so it
        // reads in the order it was signed (strongroom_core::text).
        let shown = |text: &str| neutralize(text).into_owned();
        AlertView {
            id: bank_alert_id.to_owned(),
            kind: details.kind.clone(),
            severity: details.severity,
            text: shown(&details.text),
            amount_minor: details.amount_minor,
            currency: details.currency.as_deref().map(shown),
            merchant: details.merchant.as_deref().map(shown),
            verified,
            verification: shown(&verification),
            issued_at,
            answer: None,
            answered_at: None,
            balance_minor: details.balance_minor,
        }
    }
}

/// A linked account as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountSummary {
    /// The account's id on this device.
    pub id: AccountId,
    /// The bank's name.
    pub bank_name: String,
    /// The bank's issuer URL.
    pub issuer: String,
    /// When it was linked (ms).
    pub linked_at: Millis,
    /// The pilot features switched on.
    pub flags: BTreeMap<String, bool>,
}

/// A link waiting for the customer's approval at the bank.
pub struct PendingLink {
    metadata: Metadata,
    authorization: DeviceAuthorization,
    key: SigningKey,
    key_pkcs8: Sensitive<Vec<u8>>,
    started: Instant,
}

impl std::fmt::Debug for PendingLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLink")
            .field("issuer", &self.metadata.issuer)
            .field("user_code", &self.authorization.user_code)
            .finish_non_exhaustive()
    }
}

impl PendingLink {
    /// The bank's name as shown: the name it gives itself, neutralised,
    /// with its issuer's host in ASCII beside it when either mixes scripts
    /// as look-alikes do (or the host when it gives no name); see
    /// [`strongroom_core::text::bank_display_name`].
    pub fn bank_name(&self) -> String {
        strongroom_core::text::bank_display_name(
            self.metadata.strongroom_bank_name.as_deref(),
            &self.metadata.issuer,
        )
    }

    /// The code the customer confirms at the bank.
    pub fn user_code(&self) -> &str {
        &self.authorization.user_code
    }

    /// Where the customer approves.
    pub fn verification_uri(&self) -> &str {
        &self.authorization.verification_uri
    }

    /// The same page with the code filled in, if the bank offers it.
    pub fn verification_uri_complete(&self) -> Option<&str> {
        self.authorization.verification_uri_complete.as_deref()
    }

    /// What the app asks the bank for, for the consent screen.
    pub fn scope(&self) -> &str {
        SCOPE
    }
}

struct AccessToken {
    token: String,
    expires: Instant,
}

/// What the client keeps in memory per linked account.
struct Linked {
    key: SigningKey,
    access: tokio::sync::Mutex<Option<AccessToken>>,
    verifier: Mutex<AlertVerifier>,
    outbox: Notify,
}

struct Inner {
    device: Mutex<Device>,
    http: BankHttp,
    events: broadcast::Sender<ClientEvent>,
    linked: Mutex<HashMap<AccountId, Arc<Linked>>>,
    rng: SystemRandom,
}

/// The connected client. Cheap to clone; every clone is the same client.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

fn severity(s: AlertSeverity) -> Severity {
    match s {
        AlertSeverity::Info => Severity::Info,
        AlertSeverity::Warning => Severity::Warning,
        AlertSeverity::Critical => Severity::Critical,
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the store half-written
    // (SQLite transactions), so the data is still good to use.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Client {
    /// A client over an opened device, talking to banks through `http`.
    pub fn new(device: Device, http: BankHttp) -> Self {
        let (events, _) = broadcast::channel(4096);
        Client {
            inner: Arc::new(Inner {
                device: Mutex::new(device),
                http,
                events,
                linked: Mutex::new(HashMap::new()),
                rng: SystemRandom::new(),
            }),
        }
    }

    /// Live events, each sent after its data is committed.
    pub fn subscribe(&self) -> broadcast::Receiver<ClientEvent> {
        self.inner.events.subscribe()
    }

    fn emit(&self, event: ClientEvent) {
        // No subscriber is fine: everything is in the store anyway.
        let _ = self.inner.events.send(event);
    }

    /// Runs `f` with the device (store and vault), blocking this thread
    /// briefly: every store call is one short SQLite transaction.
    pub fn with_device<T>(&self, f: impl FnOnce(&mut Device) -> T) -> T {
        f(&mut lock(&self.inner.device))
    }

    // ---- linking --------------------------------------------------------

    /// Starts linking the bank at `issuer`: discovery, a fresh device key,
    /// and the device authorization request. Show the result's user code and
    /// verification link, then call [`Client::finish_link`].
    ///
    /// # Errors
    /// [`ClientError::BankProtocol`] if the bank does not offer what
    /// Strongroom needs, a network error, or the bank's OAuth error.
    pub async fn start_link(&self, issuer: &str) -> Result<PendingLink, ClientError> {
        let metadata = self.inner.http.discover(issuer).await?;
        let (key, key_pkcs8) = SigningKey::generate(DEVICE_KEY_ID, &self.inner.rng)?;
        let authorization = self
            .inner
            .http
            .device_authorization(&metadata, &key)
            .await?;
        Ok(PendingLink {
            metadata,
            authorization,
            key,
            key_pkcs8,
            started: Instant::now(),
        })
    }

    /// Waits for the customer's approval (polling as RFC 8628 says), then
    /// pins the bank's keys and records the account: the secrets in the
    /// keychain, the link in the store.
    ///
    /// # Errors
    /// [`ClientError::LinkExpired`], [`ClientError::LinkDenied`], or any
    /// error of the steps; nothing is recorded unless all of them succeed.
    pub async fn finish_link(&self, pending: PendingLink) -> Result<AccountId, ClientError> {
        let http = &self.inner.http;
        let mut interval = bank_seconds(pending.authorization.interval);
        let deadline = pending.started + bank_seconds(pending.authorization.expires_in);
        let mut retry = 0u32;
        let tokens = loop {
            tokio::time::sleep(interval).await;
            if Instant::now() > deadline {
                return Err(ClientError::LinkExpired);
            }
            match http
                .poll_token(
                    &pending.metadata.token_endpoint,
                    &pending.authorization.device_code,
                    &pending.key,
                )
                .await
            {
                Ok(Poll::Pending) => retry = 0,
                Ok(Poll::SlowDown) => {
                    interval = (interval + Duration::from_secs(5)).min(bank_seconds(u64::MAX));
                }
                Ok(Poll::Approved(tokens)) => break tokens,
                // The customer may already have approved: a network blip, a
                // busy server (429) or a server error is not a reason to
                // give up the link. Wait longer and poll again.
                Err(ClientError::Network { .. }) => retry += 1,
                Err(ClientError::Refused { status, .. }) if status == 429 || status >= 500 => {
                    retry += 1;
                }
                Err(other) => return Err(other),
            }
            if retry > 0 {
                let extra = Backoff::default().delay_ms(retry, self.random_u32());
                tokio::time::sleep(Duration::from_millis(extra)).await;
            }
        };
        self.record_link(pending, tokens).await
    }

    async fn record_link(
        &self,
        pending: PendingLink,
        tokens: Tokens,
    ) -> Result<AccountId, ClientError> {
        let metadata = &pending.metadata;
        let refresh = tokens
            .refresh_token
            .clone()
            .ok_or_else(|| ClientError::BankProtocol("the bank issued no refresh token".into()))?;
        let jwks_uri = metadata.jwks_uri.as_deref().ok_or_else(|| {
            ClientError::BankProtocol("the bank publishes no alert keys (jwks_uri)".into())
        })?;
        // The keys are fetched once, now, over TLS, and pinned: later changes
        // come only as statements signed by a pinned key.
        let audience = tokens.strongroom_audience.as_deref().ok_or_else(|| {
            ClientError::BankProtocol(
                "the bank named no audience for its alerts (strongroom_audience)".into(),
            )
        })?;
        let keys = http_jwks(&self.inner.http, jwks_uri).await?;
        let pinned = PinnedKeys::pin(&metadata.issuer, audience, keys)?;
        let pinned_json = serde_json::to_vec(&pinned)
            .map_err(|_| ClientError::BankProtocol("the pinned keys do not serialize".into()))?;
        let bank_name = pending.bank_name();
        let now = now_ms();
        let account = self.with_device(|device| -> Result<AccountId, ClientError> {
            let account = device.add_account(&metadata.issuer, &bank_name, now)?;
            let result = (|| -> Result<(), ClientError> {
                let vault = device.vault();
                vault.put(account, SecretKind::DeviceKey, &pending.key_pkcs8)?;
                vault.put(
                    account,
                    SecretKind::RefreshToken,
                    &Sensitive::new(refresh.as_bytes().to_vec()),
                )?;
                vault.put(
                    account,
                    SecretKind::PinnedKeys,
                    &Sensitive::new(pinned_json),
                )?;
                let store = device.store();
                let conversation = store.add_conversation(account, &bank_name, now)?;
                store.set_bank_link(
                    account,
                    &BankLink {
                        issuer: metadata.issuer.clone(),
                        bank_name: bank_name.clone(),
                        client_id: CLIENT_ID.into(),
                        scope: tokens.scope.clone().unwrap_or_else(|| SCOPE.into()),
                        token_endpoint: metadata.token_endpoint.clone(),
                        revocation_endpoint: metadata
                            .revocation_endpoint
                            .clone()
                            .unwrap_or_default(),
                        stream_endpoint: metadata
                            .strongroom_stream_endpoint
                            .clone()
                            .unwrap_or_default(),
                        api_base: metadata.strongroom_api_base.clone().unwrap_or_default(),
                        conversation,
                        flags: BTreeMap::new(),
                        // The start of the chain of keys a transcript
                        // carries: what this device pinned from the bank's
                        // JWKS over TLS, now.
                        link_keys: Some(pinned.clone()),
                        key_rotations: Vec::new(),
                    },
                )?;
                Ok(())
            })();
            if let Err(err) = result {
                // Half a link is no link: remove what was written.
                let _ = device.erase_account(account);
                return Err(err);
            }
            Ok(account)
        })?;
        let linked = Arc::new(Linked {
            key: pending.key,
            access: tokio::sync::Mutex::new(Some(AccessToken {
                token: tokens.access_token.clone(),
                expires: Instant::now() + bank_seconds(tokens.expires_in.unwrap_or(300)),
            })),
            verifier: Mutex::new(AlertVerifier::new(pinned, TimePolicy::default())),
            outbox: Notify::new(),
        });
        lock(&self.inner.linked).insert(account, linked);
        Ok(account)
    }

    fn linked(&self, account: AccountId) -> Result<Arc<Linked>, ClientError> {
        if let Some(l) = lock(&self.inner.linked).get(&account) {
            return Ok(l.clone());
        }
        // First use since start: load the device key and pinned keys from
        // the keychain.
        let (pkcs8, pinned) = self.with_device(|device| -> Result<_, ClientError> {
            if device.store().bank_link(account)?.is_none() {
                return Err(ClientError::NotLinked(account.to_string()));
            }
            let vault = device.vault();
            let pkcs8 = vault
                .get(account, SecretKind::DeviceKey)?
                .ok_or(ClientError::MissingAccountKey(account))?;
            let pinned = vault
                .get(account, SecretKind::PinnedKeys)?
                .ok_or(ClientError::MissingAccountKey(account))?;
            Ok((pkcs8, pinned))
        })?;
        let key = SigningKey::from_pkcs8(DEVICE_KEY_ID, pkcs8.expose(), &self.inner.rng)?;
        let pinned: PinnedKeys = serde_json::from_slice(pinned.expose())
            .map_err(|_| ClientError::MissingAccountKey(account))?;
        let linked = Arc::new(Linked {
            key,
            access: tokio::sync::Mutex::new(None),
            verifier: Mutex::new(AlertVerifier::new(pinned, TimePolicy::default())),
            outbox: Notify::new(),
        });
        Ok(lock(&self.inner.linked)
            .entry(account)
            .or_insert(linked)
            .clone())
    }

    fn link_of(&self, account: AccountId) -> Result<BankLink, ClientError> {
        self.with_device(|d| d.store().bank_link(account))?
            .ok_or_else(|| ClientError::NotLinked(account.to_string()))
    }

    /// A valid access token for the account, refreshed when needed.
    async fn access_token(
        &self,
        account: AccountId,
        linked: &Linked,
        link: &BankLink,
    ) -> Result<String, ClientError> {
        let mut access = linked.access.lock().await;
        if let Some(token) = access.as_ref()
            && token.expires > Instant::now() + REFRESH_MARGIN
        {
            return Ok(token.token.clone());
        }
        let refresh = self
            .with_device(|d| d.vault().get(account, SecretKind::RefreshToken))?
            .ok_or(ClientError::MissingAccountKey(account))?;
        let refresh = String::from_utf8(refresh.expose().clone())
            .map_err(|_| ClientError::MissingAccountKey(account))?;
        let tokens = self
            .inner
            .http
            .refresh(&link.token_endpoint, &refresh, &linked.key)
            .await?;
        if let Some(new_refresh) = &tokens.refresh_token
            && *new_refresh != refresh
        {
            // The bank rotated the refresh token: the old one is dead now.
            self.with_device(|d| {
                d.vault().put(
                    account,
                    SecretKind::RefreshToken,
                    &Sensitive::new(new_refresh.as_bytes().to_vec()),
                )
            })?;
        }
        if let Some(audience) = &tokens.strongroom_audience {
            self.learn_audience(account, linked, audience)?;
        }
        *access = Some(AccessToken {
            token: tokens.access_token.clone(),
            expires: Instant::now() + bank_seconds(tokens.expires_in.unwrap_or(300)),
        });
        Ok(tokens.access_token)
    }

    /// A link made before alerts named their audience learns it from the
    /// bank's token endpoint (over the same TLS as at link time) and keeps
    /// it with the pinned keys; a link that knows its audience already
    /// refuses to be told another one.
    fn learn_audience(
        &self,
        account: AccountId,
        linked: &Linked,
        audience: &str,
    ) -> Result<(), ClientError> {
        let mut verifier = lock(&linked.verifier);
        let mut pinned = verifier.pinned().clone();
        if !pinned.learn_audience(audience)? {
            return Ok(());
        }
        let json = serde_json::to_vec(&pinned)
            .map_err(|_| ClientError::BankProtocol("the pinned keys do not serialize".into()))?;
        self.with_device(|d| {
            d.vault()
                .put(account, SecretKind::PinnedKeys, &Sensitive::new(json))
        })?;
        verifier.set_pinned(pinned);
        Ok(())
    }

    async fn forget_access(&self, linked: &Linked) {
        *linked.access.lock().await = None;
    }

    /// Unlinks an account: revokes the grant at the bank (RFC 7009), then
    /// erases the account's data by destroying its keys, whether or not the
    /// bank could be reached. Returns whether the bank confirmed revocation.
    ///
    /// # Errors
    /// [`ClientError::NotLinked`], or a keychain or store error while erasing.
    pub async fn unlink(&self, account: AccountId) -> Result<bool, ClientError> {
        let link = self.link_of(account)?;
        let refresh = self.with_device(|d| d.vault().get(account, SecretKind::RefreshToken))?;
        let mut revoked = false;
        if let Some(refresh) = refresh
            && !link.revocation_endpoint.is_empty()
            && let Ok(refresh) = String::from_utf8(refresh.expose().clone())
        {
            revoked = self
                .inner
                .http
                .revoke(&link.revocation_endpoint, &refresh)
                .await
                .is_ok();
        }
        lock(&self.inner.linked).remove(&account);
        self.with_device(|d| d.erase_account(account))?;
        Ok(revoked)
    }

    // ---- reading --------------------------------------------------------

    /// The linked accounts.
    ///
    /// # Errors
    /// A store error.
    pub fn accounts(&self) -> Result<Vec<AccountSummary>, ClientError> {
        self.with_device(|d| {
            let mut out = Vec::new();
            for id in d.store().account_ids()? {
                let Ok(Some(link)) = d.store().bank_link(id) else {
                    continue;
                };
                let linked_at = d.store().account(id).map_or(0, |a| a.linked_at);
                out.push(AccountSummary {
                    id,
                    bank_name: neutralize(&link.bank_name).into_owned(),
                    issuer: link.issuer,
                    linked_at,
                    flags: link.flags,
                });
            }
            Ok(out)
        })
    }

    /// The latest alerts of an account, newest first.
    ///
    /// # Errors
    /// A store error.
    pub fn alerts(&self, account: AccountId, limit: usize) -> Result<Vec<AlertView>, ClientError> {
        self.with_device(|d| {
            let page = d.store().alerts(account, limit)?;
            Ok(page
                .items
                .iter()
                .map(|a| {
                    // A quarantined alert is named by the fingerprint of its
                    // bytes, never by the id its (unverified) payload claims.
                    let id = match a.details.verification {
                        Verification::Verified { .. } => alert_jti(&a.raw_jws),
                        Verification::Failed { .. } => quarantine_id(&a.raw_jws),
                    };
                    let mut view = AlertView::new(&id, &a.details, a.issued_at);
                    view.answer = a.answer.map(|(answer, _)| answer);
                    view.answered_at = a.answer.map(|(_, at)| at);
                    view
                })
                .collect())
        })
    }

    // ---- sending --------------------------------------------------------

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
        let mut id = [0u8; 16];
        self.inner
            .rng
            .fill(&mut id)
            .map_err(|_| StoreError::Random)?;
        let client_id = strongroom_core::protocol::jose::b64_encode(&id);
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
    /// A network or store error; unsent messages stay queued.
    pub async fn drain_outbox(&self, account: AccountId) -> Result<usize, ClientError> {
        let link = self.link_of(account)?;
        let linked = self.linked(account)?;
        let items = self.with_device(|d| d.store().outbox(account))?.items;
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
                    None
                }
                _ => None,
            };
            match accepted {
                Some(bank_id) => {
                    self.with_device(|d| {
                        d.store()
                            .acknowledge_outgoing(account, &item.client_id, &bank_id)
                    })?;
                    sent += 1;
                }
                None => {
                    let delay =
                        Backoff::default().delay_ms(item.attempts.min(16), self.random_u32());
                    self.with_device(|d| {
                        d.store().record_attempt(
                            item.message.id,
                            now + i64::try_from(delay).unwrap_or(30_000),
                        )
                    })?;
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
        let link = self.link_of(account)?;
        let linked = self.linked(account)?;
        let stored = self.with_device(|d| -> Result<_, ClientError> {
            let id = d
                .store()
                .find_alert(account, alert_id)?
                .ok_or_else(|| ClientError::UnknownAlert(alert_id.to_owned()))?;
            let alert = d.store().alert(id)?;
            let verified = matches!(alert.details.verification, Verification::Verified { .. });
            if alert.details.kind != "fraud_check" || !verified {
                return Err(ClientError::UnknownAlert(alert_id.to_owned()));
            }
            Ok(id)
        })?;
        let now = now_ms();
        let request = FraudAnswerRequest {
            alert_id: alert_id.to_owned(),
            answer,
            answered_at: now,
        };
        let url = format!("{}/fraud-answers", link.api_base);
        let body = frames::encode(&request);
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
            reply = Some(r);
            if reply.as_ref().is_some_and(|r| r.status != 401) {
                break;
            }
        }
        let reply = reply.ok_or_else(|| ClientError::BankProtocol("no reply".into()))?;
        if reply.status != 200 {
            return Err(reply.error(&url));
        }
        let value = match answer {
            FraudAnswerValue::Me => FraudAnswer::ThisWasMe,
            FraudAnswerValue::NotMe => FraudAnswer::NotMe,
        };
        self.with_device(|d| d.store().answer_fraud_check(stored, value, now))?;
        Ok(())
    }

    fn random_u32(&self) -> u32 {
        let mut b = [0u8; 4];
        // A failed random source only makes the jitter less random.
        let _ = self.inner.rng.fill(&mut b);
        u32::from_le_bytes(b)
    }

    // ---- the delivery stream ---------------------------------------------

    /// Keeps one account's delivery stream open until the bank revokes the
    /// link: connects, resumes after the last stored event, stores and
    /// acknowledges what arrives, drains the outbox, and reconnects with
    /// backoff and jitter after any failure.
    pub async fn run_account(&self, account: AccountId) {
        let backoff = Backoff::default();
        let mut attempt = 0u32;
        loop {
            let outcome = self.connect_once(account, &mut attempt).await;
            let reason = match outcome {
                Err(ClientError::LinkRevoked) => {
                    self.emit(ClientEvent::LinkRevoked { account });
                    return;
                }
                Err(ClientError::NotLinked(_)) => return,
                Err(err) => err.to_string(),
                Ok(()) => "the bank closed the stream".to_owned(),
            };
            let delay = backoff.delay_ms(attempt, self.random_u32());
            attempt = attempt.saturating_add(1);
            self.emit(ClientEvent::Disconnected {
                account,
                reason,
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
                    ServerFrame::Event { .. } => {
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

    /// Stores one event (committed before this returns) and announces it.
    fn apply(
        &self,
        account: AccountId,
        linked: &Linked,
        event: DeviceEvent,
    ) -> Result<(), ClientError> {
        let now = now_ms();
        match event {
            DeviceEvent::Alert { jws } => {
                let checked = lock(&linked.verifier).check(&jws, now / 1000);
                let (bank_alert_id, details, issued_at) = match checked {
                    Ok(alert) => (
                        alert.id.clone(),
                        AlertDetails {
                            kind: alert.kind.name().to_owned(),
                            severity: severity(alert.event.severity),
                            amount_minor: alert.event.amount_minor,
                            currency: alert.event.currency.clone(),
                            merchant: alert.event.merchant.clone(),
                            account_ref: alert.event.account_ref.clone(),
                            text: alert.event.text.clone(),
                            verification: Verification::Verified {
                                key_id: alert.key_id.clone(),
                            },
                            balance_minor: alert.event.balance_minor,
                        },
                        alert.issued_at.saturating_mul(1000),
                    ),
                    Err(err) => quarantined(&jws, &err, now),
                };
                let inserted = self.with_device(|d| {
                    d.store().insert_alert(&NewAlert {
                        account,
                        bank_alert_id: bank_alert_id.clone(),
                        details: details.clone(),
                        raw_jws: jws,
                        issued_at,
                        received_at: now,
                    })
                })?;
                if let Inserted::New(_) = inserted {
                    self.emit(ClientEvent::Alert {
                        account,
                        alert: AlertView::new(&bank_alert_id, &details, issued_at),
                    });
                }
            }
            DeviceEvent::Chat { message } => {
                let link = self.link_of(account)?;
                let from_bank = message.from == frames::ChatAuthor::Staff;
                let inserted = self.with_device(|d| {
                    d.store().insert_messages(&[NewMessage {
                        conversation: link.conversation,
                        direction: if from_bank {
                            Direction::Incoming
                        } else {
                            Direction::Outgoing
                        },
                        author: neutralize(&message.author).into_owned(),
                        body: neutralize(&message.body).into_owned(),
                        sent_at: message.sent_at,
                        received_at: Some(now),
                        delivery: Delivery::Delivered,
                        client_id: message.client_id.clone(),
                        bank_message_id: Some(message.bank_message_id.clone()),
                    }])
                })?;
                if matches!(inserted.first(), Some(Inserted::New(_))) {
                    self.emit(ClientEvent::Message {
                        account,
                        from_bank,
                        author: message.author,
                        body: message.body,
                    });
                }
            }
            DeviceEvent::ChatAccepted {
                client_id,
                bank_message_id,
            } => {
                match self.with_device(|d| {
                    d.store()
                        .acknowledge_outgoing(account, &client_id, &bank_message_id)
                }) {
                    // Sent from another device, or already erased: nothing
                    // of ours to mark.
                    Ok(_) | Err(StoreError::NotFound { .. }) => {}
                    Err(other) => return Err(other.into()),
                }
                self.emit(ClientEvent::ChatAccepted { account, client_id });
            }
            DeviceEvent::Flags { flags } => {
                let mut link = self.link_of(account)?;
                link.flags = flags.clone();
                self.with_device(|d| d.store().set_bank_link(account, &link))?;
                self.emit(ClientEvent::Flags { account, flags });
            }
            DeviceEvent::KeyRotation { jws } => {
                let current = lock(&linked.verifier).pinned().clone();
                // A redelivered statement (already applied) or a refused one
                // (forged, stale) leaves the pinned keys as they are.
                if let Ok(next) = current.rotate(&jws, now / 1000, TimePolicy::default()) {
                    {
                        let json = serde_json::to_vec(&next).map_err(|_| {
                            ClientError::BankProtocol("the pinned keys do not serialize".into())
                        })?;
                        // The statement joins the chain a transcript carries
                        // before the keychain moves on: a crash in between
                        // leaves the statement to be applied again on
                        // redelivery, never a chain that skips it.
                        let mut link = self.link_of(account)?;
                        if link.link_keys.is_none() {
                            link.link_keys = Some(current.clone());
                        }
                        if !link.key_rotations.contains(&jws) {
                            link.key_rotations.push(jws.clone());
                        }
                        self.with_device(|d| d.store().set_bank_link(account, &link))?;
                        // Keychain first: the stream position only moves
                        // past the statement once the new keys are kept.
                        self.with_device(|d| {
                            d.vault()
                                .put(account, SecretKind::PinnedKeys, &Sensitive::new(json))
                        })?;
                        let version = next.version;
                        lock(&linked.verifier).set_pinned(next);
                        self.emit(ClientEvent::KeysRotated { account, version });
                    }
                }
            }
        }
        Ok(())
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn http_jwks(
    http: &BankHttp,
    url: &str,
) -> Result<Vec<strongroom_core::protocol::jose::Jwk>, ClientError> {
    http.jwks(url).await
}

/// The `jti` of a stored alert's JWS, read without trusting it (it was
/// checked when it arrived; this is only to name it).
pub(crate) fn alert_jti(jws: &str) -> String {
    strongroom_core::protocol::jose::parse_jws(jws)
        .ok()
        .and_then(|j| serde_json::from_slice::<serde_json::Value>(&j.payload).ok())
        .and_then(|v| v.get("jti").and_then(|j| j.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// The id a quarantined alert is stored and shown under: a fingerprint of
/// its exact bytes.
fn quarantine_id(jws: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, jws.as_bytes());
    format!(
        "quarantine:{}",
        strongroom_core::protocol::jose::b64_encode(digest.as_ref())
    )
}

/// What a quarantined alert is stored as: never the bank's claims as if
/// they were true, only a warning with the reason and a fingerprint of the
/// exact bytes (so a forged copy of a real alert's id cannot block the real
/// one from being stored).
fn quarantined(
    jws: &str,
    err: &strongroom_core::protocol::ProtocolError,
    now: Millis,
) -> (String, AlertDetails, Millis) {
    let id = quarantine_id(jws);
    let details = AlertDetails {
        kind: "unverified".into(),
        severity: Severity::Warning,
        amount_minor: None,
        currency: None,
        merchant: None,
        account_ref: None,
        text: "An alert that claims to be from your bank failed verification and was quarantined."
            .into(),
        verification: Verification::Failed {
            reason: format!("{} ({})", err, err.code()),
        },
        balance_minor: None,
    };
    (id, details, now)
}
