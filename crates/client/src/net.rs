//! Talking to a bank over HTTPS: TLS (rustls with the ring provider only),
//! discovery (the `discovery` module: RFC 9728, RFC 8414), the device
//! authorization grant (RFC 8628), DPoP proofs with server nonces (RFC
//! 9449), refresh, revocation (RFC 7009) and the bank's JSON requests. Only standard members are required of the
//! authorization server, so linking works with any server that offers the
//! device grant and DPoP; the Strongroom members add the delivery stream.

use ring::rand::SystemRandom;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strongroom_core::protocol::dpop;
use strongroom_core::protocol::jose::{Jwk, SigningKey};

use crate::ClientError;
use crate::bank_url::origin;
pub use crate::bank_url::require_secure;

mod discovery;
pub use discovery::Metadata;

/// The OAuth client id Strongroom presents (a public client, RFC 8628).
pub const CLIENT_ID: &str = "strongroom-desktop";

/// The scopes Strongroom asks for: receiving alerts and chatting.
pub const SCOPE: &str = "alerts chat";

/// The scope that asks an OpenID provider for a refresh token (OpenID
/// Connect Core section 11); requested when the server lists it.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// The largest response body read from a bank, in bytes. A bank has no
/// reason to send more; a hostile one must not fill memory.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Builds the TLS configuration for talking to banks: the system's roots,
/// plus, for pilots and the demo bank, the certificates of an extra CA file.
///
/// # Errors
/// [`ClientError::Tls`] if the CA file cannot be read or holds no
/// certificate, or no root at all is available.
pub fn tls_config(extra_ca: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    // Unreadable system certificates are skipped, as every TLS stack does;
    // an empty store is caught below.
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = extra_ca {
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| ClientError::Tls(format!("cannot read CA file {}: {e}", path.display())))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ClientError::Tls(format!("bad CA file {}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(ClientError::Tls(format!(
                "the CA file {} holds no certificate",
                path.display()
            )));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| {
                ClientError::Tls(format!("bad CA certificate in {}: {e}", path.display()))
            })?;
        }
    }
    if roots.is_empty() {
        return Err(ClientError::Tls(
            "no trusted root certificates: install ca-certificates or pass a CA file".into(),
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The answer to a device authorization request (RFC 8628 section 3.2).
#[derive(Debug, Clone, Deserialize)]
pub struct DeviceAuthorization {
    /// Secret: redeemed at the token endpoint.
    pub device_code: String,
    /// What the customer types or confirms at the bank.
    pub user_code: String,
    /// Where the customer goes.
    #[serde(alias = "verification_url")]
    pub verification_uri: String,
    /// The same, with the code filled in.
    #[serde(default)]
    pub verification_uri_complete: Option<String>,
    /// Seconds until the codes expire.
    pub expires_in: u64,
    /// Seconds to wait between polls (5 when absent, RFC 8628).
    #[serde(default = "default_interval")]
    pub interval: u64,
}

fn default_interval() -> u64 {
    5
}

/// Tokens from the token endpoint.
#[derive(Clone, Deserialize)]
pub struct Tokens {
    /// Sent with every request, bound to the device key.
    pub access_token: String,
    /// Must be `DPoP`.
    pub token_type: String,
    /// Seconds the access token lives.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// Long-lived, kept in the keychain.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Granted scopes.
    #[serde(default)]
    pub scope: Option<String>,
    /// The customer's subject identifier at the bank: the audience every
    /// alert for this device must name (protocol section 4.2).
    #[serde(default)]
    pub strongroom_audience: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// One poll of the token endpoint during linking.
#[derive(Debug)]
pub enum Poll {
    /// The customer has not approved yet.
    Pending,
    /// Polling too fast: wait five seconds longer from now on.
    SlowDown,
    /// Approved.
    Approved(Tokens),
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct ProblemBody {
    #[serde(default, rename = "type")]
    type_: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    /// `already_answered`: the answer the fraud check has.
    #[serde(default)]
    answer: Option<String>,
    /// `already_answered`: when it was given (ms).
    #[serde(default)]
    answered_at: Option<i64>,
}

/// Whether a refusal's body is the gateway's `link_revoked` problem: the
/// device's link was ended (unlinked, or the bank ended the customer's
/// session), so refreshing the token would not help.
pub fn is_link_revoked(body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Typed {
        #[serde(rename = "type")]
        type_: String,
    }
    serde_json::from_slice::<Typed>(body)
        .is_ok_and(|p| p.type_ == "urn:strongroom:problem:link_revoked")
}

/// A response read with a size limit.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
    dpop_nonce: Option<String>,
    www_authenticate: Option<String>,
}

impl Reply {
    fn wants_nonce(&self) -> bool {
        let oauth = serde_json::from_slice::<OAuthErrorBody>(&self.body)
            .map(|e| e.error == "use_dpop_nonce")
            .unwrap_or(false);
        let header = self
            .www_authenticate
            .as_deref()
            .is_some_and(|h| h.contains("use_dpop_nonce"));
        self.dpop_nonce.is_some() && (oauth || header)
    }

    /// The error this reply stands for when it is not a success: the OAuth
    /// error, the RFC 9457 problem, or the bare status.
    pub fn error(&self, url: &str) -> ClientError {
        if self.status == 401 && is_link_revoked(&self.body) {
            return ClientError::LinkRevoked;
        }
        if let Ok(e) = serde_json::from_slice::<OAuthErrorBody>(&self.body) {
            return ClientError::OAuth {
                error: e.error,
                description: e.error_description,
            };
        }
        let problem = serde_json::from_slice::<ProblemBody>(&self.body).ok();
        if self.status == 409
            && let Some(p) = &problem
            && p.type_.as_deref() == Some("urn:strongroom:problem:already_answered")
        {
            let answer = match p.answer.as_deref() {
                Some("me") => Some(strongroom_store::FraudAnswer::ThisWasMe),
                Some("not_me") => Some(strongroom_store::FraudAnswer::NotMe),
                _ => None,
            };
            if let Some(answer) = answer {
                return ClientError::AlreadyAnswered {
                    answer,
                    answered_at: p.answered_at,
                };
            }
        }
        ClientError::Refused {
            status: self.status,
            title: problem
                .as_ref()
                .and_then(|p| p.title.clone())
                .unwrap_or_else(|| format!("HTTP {}", self.status)),
            detail: problem
                .and_then(|p| p.detail)
                .unwrap_or_else(|| format!("the bank refused the request to {url}")),
        }
    }
}

/// The bank-facing HTTP client: one per process, shared by every account.
#[derive(Clone)]
pub struct BankHttp {
    http: reqwest::Client,
    tls: Arc<rustls::ClientConfig>,
    rng: SystemRandom,
    /// The last DPoP nonce each server (origin) gave us.
    nonces: Arc<Mutex<HashMap<String, String>>>,
}

impl std::fmt::Debug for BankHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BankHttp").finish_non_exhaustive()
    }
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl BankHttp {
    /// A client trusting the system roots and `extra_ca`.
    ///
    /// # Errors
    /// [`ClientError::Tls`].
    pub fn new(extra_ca: Option<&Path>) -> Result<Self, ClientError> {
        let tls = tls_config(extra_ca)?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("strongroom/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Tls(e.to_string()))?;
        Ok(BankHttp {
            http,
            tls,
            rng: SystemRandom::new(),
            nonces: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// The TLS configuration, for the WebSocket stream.
    pub fn tls(&self) -> Arc<rustls::ClientConfig> {
        self.tls.clone()
    }

    /// A DPoP proof for one request, with the server's last nonce if any.
    ///
    /// # Errors
    /// [`ClientError::Protocol`] if signing fails.
    pub fn proof(
        &self,
        key: &SigningKey,
        method: &str,
        url: &str,
        access_token: Option<&str>,
    ) -> Result<String, ClientError> {
        let nonce = self
            .nonces
            .lock()
            .ok()
            .and_then(|n| n.get(&origin(url)).cloned());
        Ok(dpop::make_proof(
            key,
            method,
            url,
            now_s(),
            access_token,
            nonce.as_deref(),
            &self.rng,
        )?)
    }

    async fn read(&self, url: &str, response: reqwest::Response) -> Result<Reply, ClientError> {
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let dpop_nonce = header("dpop-nonce");
        let www_authenticate = header("www-authenticate");
        if let Some(nonce) = &dpop_nonce
            && let Ok(mut nonces) = self.nonces.lock()
        {
            nonces.insert(origin(url), nonce.clone());
        }
        let mut body = Vec::new();
        let mut response = response;
        while let Some(chunk) = response.chunk().await.map_err(|e| network(url, &e))? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(ClientError::BankProtocol(format!(
                    "the answer from {url} is larger than {MAX_RESPONSE_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status,
            body,
            dpop_nonce,
            www_authenticate,
        })
    }

    /// GETs a JSON document without credentials (metadata, JWKS).
    ///
    /// # Errors
    /// [`ClientError::Network`], or the bank's error.
    pub async fn get_public(&self, url: &str) -> Result<Vec<u8>, ClientError> {
        require_secure(url, "https")?;
        let response = self
            .http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| network(url, &e))?;
        let reply = self.read(url, response).await?;
        if reply.status != 200 {
            return Err(reply.error(url));
        }
        Ok(reply.body)
    }

    /// POSTs a form with a DPoP proof (token endpoint, device authorization,
    /// revocation), retrying once with the server's nonce if it asks for one.
    ///
    /// # Errors
    /// [`ClientError::Network`] or [`ClientError::Protocol`].
    pub async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        key: Option<&SigningKey>,
    ) -> Result<Reply, ClientError> {
        require_secure(url, "https")?;
        for attempt in 0..2 {
            let mut request = self
                .http
                .post(url)
                .form(form)
                .header("accept", "application/json");
            if let Some(key) = key {
                request = request.header("DPoP", self.proof(key, "POST", url, None)?);
            }
            let response = request.send().await.map_err(|e| network(url, &e))?;
            let reply = self.read(url, response).await?;
            if attempt == 0 && key.is_some() && reply.wants_nonce() {
                continue;
            }
            return Ok(reply);
        }
        Err(ClientError::BankProtocol(format!(
            "{url} keeps asking for a new DPoP nonce"
        )))
    }

    /// Sends an authorized request (`Authorization: DPoP`, proof with `ath`),
    /// retrying once with the server's nonce if it asks for one.
    ///
    /// # Errors
    /// [`ClientError::Network`] or [`ClientError::Protocol`].
    pub async fn send_authorized(
        &self,
        method: &str,
        url: &str,
        json_body: Option<&[u8]>,
        access_token: &str,
        key: &SigningKey,
    ) -> Result<Reply, ClientError> {
        require_secure(url, "https")?;
        for attempt in 0..2 {
            let proof = self.proof(key, method, url, Some(access_token))?;
            let mut request = match method {
                "POST" => self.http.post(url),
                _ => self.http.get(url),
            }
            .header("authorization", format!("DPoP {access_token}"))
            .header("DPoP", proof)
            .header("accept", "application/json");
            if let Some(body) = json_body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.to_vec());
            }
            let response = request.send().await.map_err(|e| network(url, &e))?;
            let reply = self.read(url, response).await?;
            if attempt == 0 && reply.wants_nonce() {
                continue;
            }
            return Ok(reply);
        }
        Err(ClientError::BankProtocol(format!(
            "{url} keeps asking for a new DPoP nonce"
        )))
    }

    /// Starts the device authorization grant.
    ///
    /// # Errors
    /// The bank's OAuth error, or a network error.
    pub async fn device_authorization(
        &self,
        metadata: &Metadata,
        key: &SigningKey,
    ) -> Result<DeviceAuthorization, ClientError> {
        let url = &metadata.device_authorization_endpoint;
        let scope = metadata.request_scope();
        let mut form = vec![("client_id", CLIENT_ID), ("scope", scope.as_str())];
        if let Some(resource) = &metadata.resource {
            form.push(("resource", resource));
        }
        let reply = self.post_form(url, &form, Some(key)).await?;
        if reply.status != 200 {
            return Err(reply.error(url));
        }
        let auth: DeviceAuthorization = serde_json::from_slice(&reply.body).map_err(|e| {
            ClientError::BankProtocol(format!("bad device authorization response: {e}"))
        })?;
        if let Some(complete) = &auth.verification_uri_complete {
            require_secure(complete, "https")?;
        }
        require_secure(&auth.verification_uri, "https")?;
        Ok(auth)
    }

    /// Polls the token endpoint once for a device code.
    ///
    /// # Errors
    /// [`ClientError::LinkExpired`], [`ClientError::LinkDenied`], another
    /// OAuth error, or a network error.
    pub async fn poll_token(
        &self,
        token_endpoint: &str,
        device_code: &str,
        resource: Option<&str>,
        key: &SigningKey,
    ) -> Result<Poll, ClientError> {
        let mut form = vec![
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
            ("client_id", CLIENT_ID),
        ];
        if let Some(resource) = resource {
            form.push(("resource", resource));
        }
        let reply = self.post_form(token_endpoint, &form, Some(key)).await?;
        if reply.status == 200 {
            return Ok(Poll::Approved(parse_tokens(&reply.body)?));
        }
        match reply.error(token_endpoint) {
            ClientError::OAuth { error, .. } if error == "authorization_pending" => {
                Ok(Poll::Pending)
            }
            ClientError::OAuth { error, .. } if error == "slow_down" => Ok(Poll::SlowDown),
            ClientError::OAuth { error, .. } if error == "expired_token" => {
                Err(ClientError::LinkExpired)
            }
            ClientError::OAuth { error, .. } if error == "access_denied" => {
                Err(ClientError::LinkDenied)
            }
            other => Err(other),
        }
    }

    /// Exchanges a refresh token for a new access token.
    ///
    /// # Errors
    /// [`ClientError::LinkRevoked`] when the bank no longer accepts the
    /// refresh token, or another error.
    pub async fn refresh(
        &self,
        token_endpoint: &str,
        refresh_token: &str,
        resource: Option<&str>,
        key: &SigningKey,
    ) -> Result<Tokens, ClientError> {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
        ];
        if let Some(resource) = resource {
            form.push(("resource", resource));
        }
        let reply = self.post_form(token_endpoint, &form, Some(key)).await?;
        if reply.status == 200 {
            return parse_tokens(&reply.body);
        }
        match reply.error(token_endpoint) {
            ClientError::OAuth { error, .. } if error == "invalid_grant" => {
                Err(ClientError::LinkRevoked)
            }
            other => Err(other),
        }
    }

    /// Revokes a refresh token (RFC 7009), and with it the whole grant.
    ///
    /// # Errors
    /// A network error or the server's refusal.
    pub async fn revoke(&self, endpoint: &str, refresh_token: &str) -> Result<(), ClientError> {
        let reply = self
            .post_form(
                endpoint,
                &[
                    ("token", refresh_token),
                    ("token_type_hint", "refresh_token"),
                    ("client_id", CLIENT_ID),
                ],
                None,
            )
            .await?;
        if reply.status == 200 {
            Ok(())
        } else {
            Err(reply.error(endpoint))
        }
    }

    /// Fetches a bank's alert keys: the EC P-256 keys of its JWK Set (keys
    /// of other types, which a general authorization server may also
    /// publish, are left out).
    ///
    /// # Errors
    /// [`ClientError::BankProtocol`] if the set has no usable key.
    pub async fn jwks(&self, url: &str) -> Result<Vec<Jwk>, ClientError> {
        #[derive(Deserialize)]
        struct AnySet {
            keys: Vec<serde_json::Value>,
        }
        let body = self.get_public(url).await?;
        let set: AnySet = serde_json::from_slice(&body)
            .map_err(|e| ClientError::BankProtocol(format!("bad JWK set at {url}: {e}")))?;
        let keys: Vec<Jwk> = set
            .keys
            .into_iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k).ok())
            .filter(|k| k.kty == "EC" && k.crv == "P-256" && k.use_.as_deref() != Some("enc"))
            .collect();
        if keys.is_empty() {
            return Err(ClientError::BankProtocol(format!(
                "the bank publishes no ES256 signing key at {url}"
            )));
        }
        Ok(keys)
    }
}

fn parse_tokens(body: &[u8]) -> Result<Tokens, ClientError> {
    let tokens: Tokens = serde_json::from_slice(body)
        .map_err(|e| ClientError::BankProtocol(format!("bad token response: {e}")))?;
    if !tokens.token_type.eq_ignore_ascii_case("dpop") {
        // A bearer token could be used by anyone who copies it.
        return Err(ClientError::BankProtocol(format!(
            "the bank issued a {:?} token, not a DPoP-bound one",
            tokens.token_type
        )));
    }
    Ok(tokens)
}

fn network(url: &str, err: &reqwest::Error) -> ClientError {
    // reqwest's Display of a connect error hides the cause (refused, TLS,
    // certificate); walk the chain so the customer sees it.
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    ClientError::Network {
        url: dpop::htu(url).to_owned(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_encoded_by_reqwest_as_banks_expect() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .build()
            .unwrap();
        let request = http
            .post("https://bank.example/token")
            .form(&[("scope", "alerts chat"), ("t", "a+b/c=d&é")])
            .build()
            .unwrap();
        assert_eq!(
            request.headers()["content-type"],
            "application/x-www-form-urlencoded"
        );
        assert_eq!(
            request.body().and_then(reqwest::Body::as_bytes),
            Some(&b"scope=alerts+chat&t=a%2Bb%2Fc%3Dd%26%C3%A9"[..])
        );
    }

    #[test]
    fn a_bearer_token_is_refused() {
        let body = br#"{"access_token":"a","token_type":"Bearer","expires_in":60}"#;
        assert!(matches!(
            parse_tokens(body),
            Err(ClientError::BankProtocol(_))
        ));
        let body = br#"{"access_token":"a","token_type":"DPoP","expires_in":60}"#;
        assert!(parse_tokens(body).is_ok());
    }
}
