//! Linking a bank (discovery, the device grant, pinning its keys), the
//! tokens and keys each link keeps, and unlinking.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use strongroom_core::protocol::jose::SigningKey;
use strongroom_core::protocol::sync::Backoff;
use strongroom_core::protocol::verify::{AlertVerifier, PinnedKeys, TimePolicy};
use strongroom_core::text::neutralize;
use strongroom_core::{AccountId, Sensitive};
use strongroom_store::BankLink;
use strongroom_vault::SecretKind;
use tokio::sync::Notify;

use super::events::AccountSummary;
use super::{AccessToken, Client, DEVICE_KEY_ID, Linked, bank_seconds, lock, now_ms};
use crate::ClientError;
use crate::net::{BankHttp, CLIENT_ID, DeviceAuthorization, Metadata, Poll, SCOPE, Tokens};

/// How long before expiry an access token is refreshed.
const REFRESH_MARGIN: Duration = Duration::from_secs(30);

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
            .field("issuer", &self.metadata.alert_issuer)
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
            &self.metadata.alert_issuer,
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

impl Client {
    /// Starts linking the bank whose gateway is at `issuer` (its URL; for
    /// a version 1 gateway, its issuer): discovery, a fresh device key,
    /// and the device authorization request at the bank's authorization
    /// server. Show the result's user code and
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
                    pending.metadata.resource.as_deref(),
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
            .ok_or_else(|| ClientError::NoRefreshToken {
                issuer: metadata.issuer.clone(),
                client_id: CLIENT_ID.into(),
            })?;
        let keys_uri = metadata.alert_keys_uri.as_deref().ok_or_else(|| {
            ClientError::BankProtocol("the bank publishes no alert keys (jwks_uri)".into())
        })?;
        // The audience of this customer's alerts: the bank's own
        // authorization server knows nothing of it, so the gateway says
        // (protocol section 2.6); the built-in server says at once.
        let audience = match &tokens.strongroom_audience {
            Some(audience) => audience.clone(),
            None => self.link_audience(metadata, &tokens, &pending.key).await?,
        };
        // The keys are fetched once, now, over TLS, and pinned: later changes
        // come only as statements signed by a pinned key.
        let keys = http_jwks(&self.inner.http, keys_uri).await?;
        let pinned = PinnedKeys::pin(&metadata.alert_issuer, &audience, keys)?;
        let pinned_json = serde_json::to_vec(&pinned)
            .map_err(|_| ClientError::BankProtocol("the pinned keys do not serialize".into()))?;
        let bank_name = pending.bank_name();
        let now = now_ms();
        let account = self.with_device(|device| -> Result<AccountId, ClientError> {
            let account = device.add_account(&metadata.alert_issuer, &bank_name, now)?;
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
                        issuer: metadata.alert_issuer.clone(),
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
                        authorization_server: metadata
                            .separate_authorization_server()
                            .then(|| metadata.issuer.clone()),
                        resource: metadata.resource.clone(),
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
            calls: Mutex::default(),
            outbox: Notify::new(),
        });
        lock(&self.inner.linked).insert(account, linked);
        Ok(account)
    }

    pub(super) fn linked(&self, account: AccountId) -> Result<Arc<Linked>, ClientError> {
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
            calls: Mutex::default(),
            outbox: Notify::new(),
        });
        Ok(lock(&self.inner.linked)
            .entry(account)
            .or_insert(linked)
            .clone())
    }

    pub(super) fn link_of(&self, account: AccountId) -> Result<BankLink, ClientError> {
        self.with_device(|d| d.store().bank_link(account))?
            .ok_or_else(|| ClientError::NotLinked(account.to_string()))
    }

    /// A valid access token for the account, refreshed when needed.
    pub(super) async fn access_token(
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
        // The keychain is asked outside the device lock, so the stream's
        // commits do not wait for D-Bus.
        let vault = self.with_device(|d| d.vault().clone());
        let refresh = self
            .blocking(move |_| Ok(vault.get(account, SecretKind::RefreshToken)?))
            .await?
            .ok_or(ClientError::MissingAccountKey(account))?;
        let refresh = String::from_utf8(refresh.expose().clone())
            .map_err(|_| ClientError::MissingAccountKey(account))?;
        let tokens = self
            .inner
            .http
            .refresh(
                &link.token_endpoint,
                &refresh,
                link.resource.as_deref(),
                &linked.key,
            )
            .await?;
        if let Some(new_refresh) = &tokens.refresh_token
            && *new_refresh != refresh
        {
            // The bank rotated the refresh token: the old one is dead now.
            let vault = self.with_device(|d| d.vault().clone());
            let secret = Sensitive::new(new_refresh.as_bytes().to_vec());
            self.blocking(move |_| Ok(vault.put(account, SecretKind::RefreshToken, &secret)?))
                .await?;
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

    /// Asks the gateway (`GET {api_base}/link`) for the audience of the
    /// new link's alerts, with the first access token.
    async fn link_audience(
        &self,
        metadata: &crate::net::Metadata,
        tokens: &Tokens,
        key: &SigningKey,
    ) -> Result<String, ClientError> {
        #[derive(serde::Deserialize)]
        struct LinkInfo {
            strongroom_audience: String,
        }
        let base = metadata.strongroom_api_base.as_deref().ok_or_else(|| {
            ClientError::BankProtocol(
                "the bank's gateway names no API (strongroom_api_base)".into(),
            )
        })?;
        let url = format!("{base}/link");
        let reply = self
            .inner
            .http
            .send_authorized("GET", &url, None, &tokens.access_token, key)
            .await?;
        if reply.status != 200 {
            return Err(reply.error(&url));
        }
        let info: LinkInfo = serde_json::from_slice(&reply.body).map_err(|e| {
            ClientError::BankProtocol(format!("the gateway's answer at {url} is not valid: {e}"))
        })?;
        Ok(info.strongroom_audience)
    }

    pub(super) async fn forget_access(&self, linked: &Linked) {
        *linked.access.lock().await = None;
    }

    /// Unlinks an account: revokes the grant at the bank (RFC 7009), then
    /// erases the account's data by destroying its keys, whether or not the
    /// bank could be reached. Returns whether the bank confirmed revocation.
    ///
    /// # Errors
    /// [`ClientError::NotLinked`], or a keychain or store error while erasing.
    pub async fn unlink(&self, account: AccountId) -> Result<bool, ClientError> {
        let link = self.blocking(move |c| c.link_of(account)).await?;
        if link.resource.is_some() {
            // Version 2: end the link at the gateway first, so that an
            // access token the bank's server still counts as live is
            // refused there at once. Best effort: the bank's revocation
            // below ends the grant either way.
            let _ = self.post_to_bank(account, "/unlink", "").await;
        }
        let vault = self.with_device(|d| d.vault().clone());
        let refresh = self
            .blocking(move |_| Ok(vault.get(account, SecretKind::RefreshToken)?))
            .await?;
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
        // A transaction over the account's rows and five keychain deletes.
        self.blocking(move |c| c.with_device(|d| d.erase_account(account)))
            .await?;
        Ok(revoked)
    }

    /// The linked accounts.
    ///
    /// # Errors
    /// [`ClientError::Store`] when a row cannot be read.
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
}

async fn http_jwks(
    http: &BankHttp,
    url: &str,
) -> Result<Vec<strongroom_core::protocol::jose::Jwk>, ClientError> {
    http.jwks(url).await
}
