//! Talking to a bank over HTTPS: TLS (rustls with the ring provider only),
//! OAuth discovery (RFC 8414), the device authorization grant (RFC 8628),
//! DPoP proofs with server nonces (RFC 9449), refresh, revocation (RFC 7009)
//! and the bank's JSON requests. Only standard members are required of the
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
pub use crate::bank_url::require_secure;
use crate::bank_url::{metadata_url, origin, resource_metadata_url};

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

/// An authorization server's metadata (RFC 8414), with Strongroom's members.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    /// The issuer, exactly as the customer gave it.
    pub issuer: String,
    /// RFC 8628 device authorization endpoint.
    pub device_authorization_endpoint: String,
    /// Token endpoint.
    pub token_endpoint: String,
    /// RFC 7009 revocation endpoint.
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// The bank's alert signing keys.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// Algorithms the server accepts for DPoP proofs.
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Vec<String>,
    /// Strongroom: the `wss` delivery stream.
    #[serde(default)]
    pub strongroom_stream_endpoint: Option<String>,
    /// Strongroom: base URL of chat and fraud answers.
    #[serde(default)]
    pub strongroom_api_base: Option<String>,
    /// Strongroom: the bank's display name.
    #[serde(default)]
    pub strongroom_bank_name: Option<String>,
    /// The scopes the server offers (`offline_access` is asked for when
    /// listed).
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    /// Protocol version 2: the gateway's resource identifier (RFC 9728),
    /// named in every token request (RFC 8707); `None` when the issuer is a
    /// version 1 gateway that is its own authorization server.
    #[serde(skip)]
    pub resource: Option<String>,
    /// Who signs the alerts (their `iss`): the gateway. In version 1 the
    /// authorization server's issuer, which was the gateway.
    #[serde(skip)]
    pub alert_issuer: String,
    /// Where the alert signing keys are published: the gateway's
    /// `strongroom_alert_keys_uri`, or in version 1 the `jwks_uri`.
    #[serde(skip)]
    pub alert_keys_uri: Option<String>,
}

impl Metadata {
    /// The scopes to ask for: Strongroom's, and `offline_access` when the
    /// server lists it (an OpenID provider issues refresh tokens only then).
    pub fn request_scope(&self) -> String {
        if self.scopes_supported.iter().any(|s| s == OFFLINE_ACCESS) {
            format!("{SCOPE} {OFFLINE_ACCESS}")
        } else {
            SCOPE.to_owned()
        }
    }

    /// Whether the authorization server is another server than the
    /// gateway (protocol version 2 with the bank's own server).
    pub fn separate_authorization_server(&self) -> bool {
        self.resource.is_some() && self.issuer != self.alert_issuer
    }
}

/// A protected resource's metadata (RFC 9728), with Strongroom's members.
#[derive(Debug, Clone, Deserialize)]
struct ResourceMetadata {
    resource: String,
    #[serde(default)]
    authorization_servers: Vec<String>,
    #[serde(default)]
    strongroom_alert_issuer: Option<String>,
    #[serde(default)]
    strongroom_alert_keys_uri: Option<String>,
    #[serde(default)]
    strongroom_stream_endpoint: Option<String>,
    #[serde(default)]
    strongroom_api_base: Option<String>,
    #[serde(default)]
    strongroom_bank_name: Option<String>,
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
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
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

    /// Discovers a bank from its gateway's URL. Protocol version 2: the
    /// gateway's protected resource metadata (RFC 9728) names its
    /// authorization server, whose metadata comes next (RFC 8414, else
    /// OpenID Connect Discovery). A version 1 gateway publishes no resource
    /// metadata: its URL is its authorization server's issuer.
    ///
    /// # Errors
    /// [`ClientError::BankProtocol`] saying what is missing or does not
    /// match, or the network error.
    pub async fn discover(&self, url: &str) -> Result<Metadata, ClientError> {
        let url = url.trim_end_matches('/');
        let Some(resource) = self.resource_metadata(url).await? else {
            let mut metadata = self.authorization_server(url, false).await?;
            metadata.alert_issuer = metadata.issuer.clone();
            metadata.alert_keys_uri = metadata.jwks_uri.clone();
            return check_strongroom(metadata);
        };
        // RFC 9728 section 7.6: the first listed server is the one used;
        // the customer never chooses, so no one can steer the choice.
        let issuer = resource.authorization_servers.first().ok_or_else(|| {
            ClientError::BankProtocol(format!(
                "the bank's gateway at {url} names no authorization server"
            ))
        })?;
        let mut metadata = self.authorization_server(issuer, true).await?;
        metadata.alert_issuer = resource
            .strongroom_alert_issuer
            .clone()
            .unwrap_or_else(|| resource.resource.clone());
        metadata.alert_keys_uri = resource.strongroom_alert_keys_uri;
        metadata.strongroom_stream_endpoint = resource.strongroom_stream_endpoint;
        metadata.strongroom_api_base = resource.strongroom_api_base;
        metadata.strongroom_bank_name = resource.strongroom_bank_name;
        metadata.resource = Some(resource.resource);
        check_strongroom(metadata)
    }

    /// The gateway's resource metadata, `None` when it publishes none (a
    /// version 1 gateway answers 404).
    async fn resource_metadata(&self, url: &str) -> Result<Option<ResourceMetadata>, ClientError> {
        let at = resource_metadata_url(url)?;
        let at = at.as_str();
        let body = match self.get_public(at).await {
            Ok(body) => body,
            Err(ClientError::Refused { status: 404, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let resource: ResourceMetadata = serde_json::from_slice(&body).map_err(|e| {
            ClientError::BankProtocol(format!("the gateway's metadata at {at} is not valid: {e}"))
        })?;
        // RFC 9728 section 3.3: metadata for another resource must not be
        // used, or one server could pose as another's gateway.
        if resource.resource.trim_end_matches('/') != url {
            return Err(ClientError::BankProtocol(format!(
                "the metadata at {at} is for resource {:?}, not {url:?}",
                resource.resource
            )));
        }
        Ok(Some(resource))
    }

    /// An authorization server's metadata: RFC 8414 first, then (for a
    /// server the gateway names, which may be any OpenID provider) OpenID
    /// Connect Discovery. The document's `issuer` must be exactly the
    /// issuer asked for (RFC 8414 section 3.3, OpenID Connect Discovery
    /// section 4.3), and the server must offer the device grant and ES256
    /// DPoP proofs.
    async fn authorization_server(
        &self,
        issuer: &str,
        try_openid: bool,
    ) -> Result<Metadata, ClientError> {
        let oauth = metadata_url(issuer.trim_end_matches('/'))?;
        let mut urls = vec![oauth.to_string()];
        if try_openid {
            urls.push(format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            ));
        }
        let mut body = None;
        let mut last = None;
        for url in &urls {
            match self.get_public(url).await {
                Ok(b) => {
                    body = Some((url.clone(), b));
                    break;
                }
                Err(e @ ClientError::Refused { status: 404, .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        let Some((url, body)) = body else {
            return Err(last.unwrap_or_else(|| {
                ClientError::BankProtocol(format!("{issuer} publishes no metadata"))
            }));
        };
        #[derive(Deserialize)]
        struct Shape {
            issuer: String,
        }
        let shape: Shape = serde_json::from_slice(&body).map_err(|e| {
            ClientError::BankProtocol(format!("the metadata at {url} is not valid: {e}"))
        })?;
        // The gateway's issuer may have been typed with a trailing slash;
        // a server the gateway names must match it exactly.
        let matches = if try_openid {
            shape.issuer == issuer
        } else {
            shape.issuer.trim_end_matches('/') == issuer
        };
        if !matches {
            return Err(ClientError::BankProtocol(format!(
                "the metadata at {url} is for issuer {:?}, not {issuer:?}",
                shape.issuer
            )));
        }
        let metadata: Metadata = serde_json::from_slice(&body).map_err(|e| {
            ClientError::BankProtocol(format!(
                "the authorization server {issuer} does not offer what linking needs \
                 (the device grant, RFC 8628): {e}"
            ))
        })?;
        if !metadata
            .dpop_signing_alg_values_supported
            .iter()
            .any(|a| a == "ES256")
        {
            return Err(ClientError::BankProtocol(format!(
                "the authorization server {issuer} does not accept ES256 DPoP proofs"
            )));
        }
        for url in [
            &metadata.device_authorization_endpoint,
            &metadata.token_endpoint,
        ] {
            require_secure(url, "https")?;
        }
        if let Some(url) = &metadata.revocation_endpoint {
            require_secure(url, "https")?;
        }
        Ok(metadata)
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

/// Checks the Strongroom members every linked bank must give: https and
/// wss URLs only.
fn check_strongroom(metadata: Metadata) -> Result<Metadata, ClientError> {
    for url in [&metadata.alert_keys_uri, &metadata.strongroom_api_base]
        .into_iter()
        .flatten()
    {
        require_secure(url, "https")?;
    }
    if let Some(stream) = &metadata.strongroom_stream_endpoint {
        require_secure(stream, "wss")?;
    }
    Ok(metadata)
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
