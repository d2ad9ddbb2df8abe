//! The bank's own authorization server, when the gateway is a protected
//! resource beside it (protocol version 2): its metadata (RFC 8414, else
//! OpenID discovery), its signing keys, and the two ways its access tokens
//! are checked: JWT access tokens (RFC 9068) against its JWKS, and opaque
//! ones by introspection (RFC 7662), the gateway authenticated as its own
//! client. Either way the token must be for this resource (`aud`), live,
//! from that issuer, and bound to a DPoP key (`cnf.jkt`); the caller checks
//! that key against the request's proof.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ring::signature;
use serde::Deserialize;
use strongroom_core::Sensitive;
use strongroom_core::protocol::jose::{Jws, b64_decode, parse_jws};

use crate::config::BankAuthorizationServer;
use crate::error::GatewayError;

/// How long the server's metadata and keys are trusted before they are
/// fetched again at the next use.
const REFRESH_AFTER: Duration = Duration::from_secs(3600);

/// A token signed with a key id the gateway does not know makes it fetch
/// the keys again (the server rotated), but at most this often: forged
/// tokens with random key ids must not make the gateway hammer the server.
const UNKNOWN_KID_REFETCH: Duration = Duration::from_secs(10);

/// The client id the Strongroom app uses at every authorization server.
pub const STRONGROOM_CLIENT_ID: &str = "strongroom-desktop";

/// Introspection requests in flight at once.
const MAX_INTROSPECTIONS: usize = 32;

/// Clock skew allowed on `exp`, `nbf` and `iat`, seconds: servers kept in
/// time by NTP differ by far less, and every second added is a second an
/// expired token still works.
const SKEW_S: i64 = 10;

/// The largest answer read from the authorization server, in bytes.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The token is not good for this resource: 401 `invalid_token`.
    Invalid(String),
    /// The authorization server could not be asked: 503, the device keeps
    /// its link and tries again later.
    Unavailable(String),
}

/// What an accepted access token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsToken {
    /// The customer, as the configured claim names them.
    pub subject: String,
    /// The thumbprint of the DPoP key the token is bound to.
    pub jkt: String,
    /// The scopes granted, space-separated.
    pub scope: String,
    /// When the token expires, seconds since the epoch.
    pub expires_at: i64,
    /// When it was issued (`iat`), if it says.
    pub issued_at: Option<i64>,
}

/// One verification key of the server's JWK Set.
#[derive(Debug, Clone)]
enum VerifyKey {
    /// ES256: the uncompressed P-256 point.
    Ec(Vec<u8>),
    /// RS256 or PS256: modulus and exponent.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

#[derive(Debug, Clone, Deserialize)]
struct AsMetadata {
    jwks_uri: Option<String>,
    #[serde(default)]
    introspection_endpoint: Option<String>,
}

/// A JWK Set fetched from a server, cached for [`REFRESH_AFTER`], fetched
/// again for an unknown key id at most every [`UNKNOWN_KID_REFETCH`]: the
/// bank's authorization server's keys, or its signal transmitter's.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    cached: tokio::sync::Mutex<FetchedKeys>,
}

/// The keys by id, when they were fetched, and when a fetch was last
/// tried (a failed one too, so that a failing server is not asked again at
/// every request).
#[derive(Debug, Default)]
struct FetchedKeys {
    keys: Vec<(String, VerifyKey)>,
    fetched: Option<Instant>,
    attempted: Option<Instant>,
}

impl KeySet {
    /// Checks `jws`'s signature with the key its header names, from the
    /// set at `jwks_uri`: ES256 with an EC P-256 key, RS256 or PS256 with
    /// an RSA key of at least 2048 bits; a header that names its own key
    /// or critical extensions is refused.
    pub(crate) async fn verify(
        &self,
        http: &reqwest::Client,
        jwks_uri: &str,
        jws: &Jws<'_>,
    ) -> Result<(), Refusal> {
        let invalid = |why: &str| Refusal::Invalid(why.to_owned());
        let h = &jws.header;
        if h.jwk.is_some()
            || h.jku.is_some()
            || h.x5u.is_some()
            || h.x5c.is_some()
            || h.crit.is_some()
        {
            return Err(invalid(
                "the token names its own key or critical extensions",
            ));
        }
        let key = self.key(http, jwks_uri, h.kid.as_deref()).await?;
        let input = jws.signing_input.as_bytes();
        let verified = match (h.alg.as_str(), &key) {
            ("ES256", VerifyKey::Ec(point)) => {
                signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(input, &jws.signature)
            }
            ("RS256", VerifyKey::Rsa { n, e }) => signature::RsaPublicKeyComponents { n, e }
                .verify(
                    &signature::RSA_PKCS1_2048_8192_SHA256,
                    input,
                    &jws.signature,
                ),
            ("PS256", VerifyKey::Rsa { n, e }) => signature::RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PSS_2048_8192_SHA256, input, &jws.signature),
            _ => return Err(invalid("the token's algorithm does not match its key")),
        };
        verified.map_err(|_| invalid("the token's signature does not verify"))
    }

    /// The key `kid` (or the only key, when the token names none).
    async fn key(
        &self,
        http: &reqwest::Client,
        jwks_uri: &str,
        kid: Option<&str>,
    ) -> Result<VerifyKey, Refusal> {
        let find = |keys: &[(String, VerifyKey)]| match kid {
            Some(kid) => keys.iter().find(|(k, _)| k == kid).map(|(_, v)| v.clone()),
            None if keys.len() == 1 => Some(keys[0].1.clone()),
            None => None,
        };
        // Decide under the lock, fetch without it: a known key is answered
        // from the cache while a fetch is under way.
        let found = {
            let mut cached = self.cached.lock().await;
            let found = find(&cached.keys);
            let stale = cached
                .fetched
                .is_none_or(|at| at.elapsed() >= REFRESH_AFTER);
            if !stale && let Some(key) = found {
                return Ok(key);
            }
            let may_fetch = cached
                .attempted
                .is_none_or(|at| at.elapsed() >= UNKNOWN_KID_REFETCH);
            if !may_fetch {
                // Stale keys still verify until the server can be asked.
                return found.ok_or_else(|| {
                    Refusal::Invalid("signed with a key the bank does not publish".into())
                });
            }
            cached.attempted = Some(Instant::now());
            found
        };
        #[derive(Deserialize)]
        struct AnySet {
            keys: Vec<serde_json::Value>,
        }
        match get_json::<AnySet>(http, jwks_uri).await {
            Ok(set) => {
                let keys: Vec<(String, VerifyKey)> =
                    set.keys.iter().filter_map(verify_key).collect();
                let key = find(&keys);
                let mut cached = self.cached.lock().await;
                cached.keys = keys;
                cached.fetched = Some(Instant::now());
                key.ok_or_else(|| {
                    Refusal::Invalid("signed with a key the bank does not publish".into())
                })
            }
            Err(why) => found.ok_or(Refusal::Unavailable(why)),
        }
    }
}

#[derive(Debug, Default)]
struct Cached {
    metadata: Option<(AsMetadata, Instant)>,
    /// The last failed discovery: its time and why, answered again for
    /// [`UNKNOWN_KID_REFETCH`] instead of asking the server at every
    /// request.
    failed: Option<(Instant, String)>,
}

/// The gateway's introspection credentials.
#[derive(Deserialize)]
struct Credentials {
    client_id: String,
    client_secret: String,
}

/// The bank's authorization server as the gateway talks to it.
pub struct BankAs {
    issuer: String,
    resource: String,
    subject_claim: String,
    http: reqwest::Client,
    credentials: Option<(String, Sensitive<String>)>,
    cached: tokio::sync::Mutex<Cached>,
    keys: KeySet,
    introspections: tokio::sync::Semaphore,
}

impl std::fmt::Debug for BankAs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BankAs")
            .field("issuer", &self.issuer)
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

impl BankAs {
    /// Sets up the client for `config`; `public_url` is the resource
    /// identifier when none is configured. Nothing is fetched yet: the
    /// server may start after the gateway.
    ///
    /// # Errors
    /// [`GatewayError::Config`] for an unreadable CA or credentials file,
    /// or credentials readable by others.
    pub fn new(
        config: &BankAuthorizationServer,
        public_url: &str,
    ) -> Result<Arc<Self>, GatewayError> {
        let http = http_client(config.ca.as_deref())?;
        let credentials = config
            .introspection_credentials
            .as_deref()
            .map(read_credentials)
            .transpose()?;
        Ok(Arc::new(BankAs {
            issuer: config.issuer.clone(),
            resource: config
                .resource
                .clone()
                .unwrap_or_else(|| public_url.to_owned()),
            subject_claim: config.subject_claim.clone(),
            http,
            credentials,
            cached: tokio::sync::Mutex::new(Cached::default()),
            keys: KeySet::default(),
            introspections: tokio::sync::Semaphore::new(MAX_INTROSPECTIONS),
        }))
    }

    /// The server's issuer identifier.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The gateway's resource identifier: the audience tokens must name.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// Checks an access token presented to the gateway: a JWT access token
    /// (three dot-separated parts) by signature, an opaque one by
    /// introspection.
    ///
    /// # Errors
    /// [`Refusal::Invalid`] for a token not good here;
    /// [`Refusal::Unavailable`] when the server cannot be asked.
    pub async fn check(&self, token: &str, now: i64) -> Result<AsToken, Refusal> {
        if token.split('.').count() == 3 {
            self.check_jwt(token, now).await
        } else {
            self.introspect(token, now).await
        }
    }

    async fn metadata(&self) -> Result<AsMetadata, Refusal> {
        let mut cached = self.cached.lock().await;
        if let Some((m, at)) = &cached.metadata
            && at.elapsed() < REFRESH_AFTER
        {
            return Ok(m.clone());
        }
        if let Some((at, why)) = &cached.failed
            && at.elapsed() < UNKNOWN_KID_REFETCH
        {
            return Err(Refusal::Unavailable(why.clone()));
        }
        match self.discover().await {
            Ok(metadata) => {
                cached.metadata = Some((metadata.clone(), Instant::now()));
                cached.failed = None;
                Ok(metadata)
            }
            Err(Refusal::Unavailable(why) | Refusal::Invalid(why)) => {
                cached.failed = Some((Instant::now(), why.clone()));
                Err(Refusal::Unavailable(why))
            }
        }
    }

    async fn discover(&self) -> Result<AsMetadata, Refusal> {
        let value = discover_metadata(&self.http, &self.issuer).await?;
        serde_json::from_value(value)
            .map_err(|e| Refusal::Unavailable(format!("the metadata of {}: {e}", self.issuer)))
    }

    async fn check_jwt(&self, token: &str, now: i64) -> Result<AsToken, Refusal> {
        let invalid = |why: &str| Refusal::Invalid(why.to_owned());
        let jws = parse_jws(token).map_err(|e| Refusal::Invalid(e.to_string()))?;
        // RFC 9068 section 4: the type tells an access token from an ID
        // token or any other JWT the same server signs.
        let typ = jws.header.typ.as_deref().unwrap_or_default();
        if !typ.eq_ignore_ascii_case("at+jwt") && !typ.eq_ignore_ascii_case("application/at+jwt") {
            return Err(invalid("the token is not a JWT access token (typ at+jwt)"));
        }
        let metadata = self.metadata().await?;
        let jwks_uri = metadata.jwks_uri.as_deref().ok_or_else(|| {
            Refusal::Unavailable("the bank's authorization server publishes no jwks_uri".into())
        })?;
        self.keys.verify(&self.http, jwks_uri, &jws).await?;
        let claims: serde_json::Value = serde_json::from_slice(&jws.payload)
            .map_err(|_| invalid("the token's claims are not JSON"))?;
        if let Some(nbf) = claims.get("nbf").and_then(serde_json::Value::as_i64)
            && nbf > now + SKEW_S
        {
            return Err(invalid("the token is not valid yet"));
        }
        if claims
            .get("iat")
            .and_then(serde_json::Value::as_i64)
            .is_some_and(|iat| iat > now + SKEW_S)
        {
            return Err(invalid("the token was issued in the future"));
        }
        self.claims(&claims, now)
    }

    /// The checks both token formats share (RFC 9068 section 4, RFC 7662
    /// section 2.2): issuer, audience, expiry, the DPoP binding, the
    /// customer.
    fn claims(&self, claims: &serde_json::Value, now: i64) -> Result<AsToken, Refusal> {
        let invalid = |why: String| Refusal::Invalid(why);
        let text = |name: &str| claims.get(name).and_then(serde_json::Value::as_str);
        if text("iss") != Some(self.issuer.as_str()) {
            return Err(invalid(format!(
                "the token was issued by {:?}, not by {:?}",
                text("iss").unwrap_or_default(),
                self.issuer
            )));
        }
        // A token the bank's server issued to another of its clients (its
        // web banking, say) is not the Strongroom app's, even for this
        // audience. RFC 9068 section 2.2 requires `client_id`; some servers
        // name the client as `azp`; a token naming neither is refused.
        let client = text("client_id").or_else(|| text("azp"));
        if client != Some(STRONGROOM_CLIENT_ID) {
            return Err(invalid(format!(
                "the token was issued to client {:?}, not to the Strongroom app",
                client.unwrap_or_default()
            )));
        }
        let audience_ok = match claims.get("aud") {
            Some(serde_json::Value::String(a)) => *a == self.resource,
            Some(serde_json::Value::Array(all)) => {
                all.iter().any(|a| a.as_str() == Some(&self.resource))
            }
            _ => false,
        };
        if !audience_ok {
            return Err(invalid(format!(
                "the token is not for this resource ({:?})",
                self.resource
            )));
        }
        let expires_at = claims
            .get("exp")
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| invalid("the token has no expiry".into()))?;
        if expires_at + SKEW_S <= now {
            return Err(invalid("the access token expired".into()));
        }
        let jkt = claims
            .get("cnf")
            .and_then(|c| c.get("jkt"))
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| {
                invalid(
                    "the token is not bound to a DPoP key (cnf.jkt): a bearer token is refused"
                        .into(),
                )
            })?;
        let subject = text(&self.subject_claim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid(format!("the token has no {:?} claim", self.subject_claim)))?;
        Ok(AsToken {
            subject: subject.to_owned(),
            jkt: jkt.to_owned(),
            scope: text("scope").unwrap_or_default().to_owned(),
            expires_at,
            issued_at: claims.get("iat").and_then(serde_json::Value::as_i64),
        })
    }

    /// RFC 7662: asks the server whether an opaque token is active, as the
    /// gateway's own client.
    async fn introspect(&self, token: &str, now: i64) -> Result<AsToken, Refusal> {
        let Some((client_id, secret)) = &self.credentials else {
            return Err(Refusal::Invalid(
                "an opaque access token, and the gateway has no introspection credentials".into(),
            ));
        };
        // Every opaque token, a forged one too, costs the bank's server a
        // request: a bounded number at once; the rest wait a moment for a
        // turn or are told to come back.
        let _slot = tokio::time::timeout(Duration::from_secs(2), self.introspections.acquire())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or_else(|| {
                Refusal::Unavailable("too many tokens are being checked at once".into())
            })?;
        let endpoint = self
            .metadata()
            .await?
            .introspection_endpoint
            .ok_or_else(|| {
                Refusal::Unavailable(
                    "the bank's authorization server offers no introspection".into(),
                )
            })?;
        let response = self
            .http
            .post(&endpoint)
            .basic_auth(client_id, Some(secret.expose()))
            .header("accept", "application/json")
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await
            .map_err(|e| Refusal::Unavailable(format!("{endpoint}: {e}")))?;
        let status = response.status();
        let body = read_limited(response).await.map_err(Refusal::Unavailable)?;
        if !status.is_success() {
            return Err(Refusal::Unavailable(format!(
                "introspection at {endpoint} answered {status}"
            )));
        }
        let claims: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| Refusal::Unavailable(format!("{endpoint}: {e}")))?;
        if claims.get("active") != Some(&serde_json::Value::Bool(true)) {
            return Err(Refusal::Invalid(
                "the bank says the access token is not active (expired or revoked)".into(),
            ));
        }
        if let Some(kind) = claims.get("token_type").and_then(serde_json::Value::as_str)
            && !kind.eq_ignore_ascii_case("dpop")
        {
            return Err(Refusal::Invalid(format!(
                "the bank says this is a {kind:?} token, not a DPoP-bound access token"
            )));
        }
        self.claims(&claims, now)
    }
}

/// An authorization server's metadata: RFC 8414 section 3 first, then
/// OpenID Connect Discovery; the issuer in the document must be exactly
/// `issuer` (RFC 8414 section 3.3), or a server could speak for another.
///
/// # Errors
/// [`Refusal::Unavailable`] saying why.
pub(crate) async fn discover_metadata(
    http: &reqwest::Client,
    issuer: &str,
) -> Result<serde_json::Value, Refusal> {
    let (origin, path) = split_issuer(issuer);
    let urls = [
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
        format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        ),
    ];
    let mut last = String::new();
    for url in urls {
        match get_json::<serde_json::Value>(http, &url).await {
            Ok(m) if m.get("issuer").and_then(serde_json::Value::as_str) == Some(issuer) => {
                return Ok(m);
            }
            Ok(m) => {
                return Err(Refusal::Unavailable(format!(
                    "the metadata at {url} is for issuer {}, not {issuer:?}",
                    m.get("issuer").unwrap_or(&serde_json::Value::Null)
                )));
            }
            Err(e) => last = e,
        }
    }
    Err(Refusal::Unavailable(format!(
        "the authorization server {issuer} publishes no metadata: {last}"
    )))
}

/// An HTTPS client for the bank's servers: the system's roots and the
/// extra CA file, no redirects, short timeouts.
///
/// # Errors
/// [`GatewayError::Config`] for an unreadable CA file.
pub(crate) fn http_client(extra_ca: Option<&Path>) -> Result<reqwest::Client, GatewayError> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(crate::tls::client_config(extra_ca, true)?)
        .https_only(true)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("strongroom-gateway/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| GatewayError::Config(format!("the HTTP client: {e}")))
}

/// GETs a JSON document (metadata, a JWK Set), read with a size limit.
pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
) -> Result<T, String> {
    let response = http
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let status = response.status();
    let body = read_limited(response).await?;
    if !status.is_success() {
        return Err(format!("{url} answered {status}"));
    }
    serde_json::from_slice(&body).map_err(|e| format!("{url}: {e}"))
}

/// The JWK as a verification key, if it is one the gateway can use: EC
/// P-256, or RSA of at least 2048 bits; never an encryption key.
fn verify_key(jwk: &serde_json::Value) -> Option<(String, VerifyKey)> {
    let text = |name: &str| jwk.get(name).and_then(serde_json::Value::as_str);
    if text("use").is_some_and(|u| u != "sig") {
        return None;
    }
    let kid = text("kid").unwrap_or_default().to_owned();
    match text("kty")? {
        "EC" if text("crv") == Some("P-256") => {
            let x = b64_decode(text("x")?).ok()?;
            let y = b64_decode(text("y")?).ok()?;
            if x.len() != 32 || y.len() != 32 {
                return None;
            }
            let mut point = vec![4];
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            Some((kid, VerifyKey::Ec(point)))
        }
        "RSA" => {
            let n = b64_decode(text("n")?).ok()?;
            let e = b64_decode(text("e")?).ok()?;
            (n.len() >= 256).then_some((kid, VerifyKey::Rsa { n, e }))
        }
        _ => None,
    }
}

/// `https://host[:port]` and the path (empty or starting with `/`).
/// RFC 8414 section 3: a terminating `/` of the path is removed before the
/// well-known suffix goes in.
fn split_issuer(issuer: &str) -> (&str, &str) {
    let after = issuer.find("://").map_or(0, |i| i + 3);
    let (origin, path) = match issuer[after..].find('/') {
        Some(i) => issuer.split_at(after + i),
        None => (issuer, ""),
    };
    (origin, path.trim_end_matches('/'))
}

async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(format!("an answer larger than {MAX_ANSWER_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads client credentials (introspection, staff sign-in), refusing a
/// file that anyone but the service's user could read: it holds a client
/// secret.
pub(crate) fn read_credentials(path: &Path) -> Result<(String, Sensitive<String>), GatewayError> {
    let bad = |why: String| GatewayError::Config(format!("{}: {why}", path.display()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| bad(e.to_string()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(bad(format!(
                "the client credentials are readable by others (mode {:o}): chmod 600",
                mode & 0o777
            )));
        }
    }
    let text = Sensitive::new(std::fs::read(path).map_err(|e| bad(e.to_string()))?);
    let credentials: Credentials = serde_json::from_slice(text.expose())
        .map_err(|_| bad("expected {\"client_id\": ..., \"client_secret\": ...}".into()))?;
    if credentials.client_id.is_empty() || credentials.client_secret.is_empty() {
        return Err(bad("client_id and client_secret must not be empty".into()));
    }
    Ok((
        credentials.client_id,
        Sensitive::new(credentials.client_secret),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank_as() -> Arc<BankAs> {
        let config = BankAuthorizationServer {
            issuer: "https://idp.bank.example".into(),
            resource: None,
            introspection_credentials: None,
            ca: None,
            subject_claim: "sub".into(),
        };
        BankAs::new(&config, "https://gateway.bank.example").unwrap()
    }

    /// The claim checks both token formats share, each refusal by itself.
    #[test]
    fn only_a_live_dpop_bound_token_of_the_app_for_this_gateway_passes() {
        let server = bank_as();
        let now = 1_800_000_000;
        let good = serde_json::json!({
            "iss": "https://idp.bank.example", "aud": ["https://gateway.bank.example"],
            "exp": now + 60, "sub": "idp-alice", "scope": "alerts chat",
            "client_id": "strongroom-desktop", "cnf": {"jkt": "thumb"},
        });
        let token = server.claims(&good, now).expect("a good token passes");
        assert_eq!(
            (
                token.subject.as_str(),
                token.jkt.as_str(),
                token.scope.as_str()
            ),
            ("idp-alice", "thumb", "alerts chat")
        );
        for (field, value, why) in [
            (
                "iss",
                serde_json::json!("https://other-idp.example"),
                "issued by",
            ),
            (
                "aud",
                serde_json::json!("https://other-gateway.example"),
                "not for this resource",
            ),
            ("exp", serde_json::json!(now - 60), "expired"),
            ("client_id", serde_json::json!("bank-web"), "to client"),
            ("cnf", serde_json::json!({}), "bearer"),
            ("sub", serde_json::json!(""), "no \"sub\""),
            ("client_id", serde_json::Value::Null, "to client"),
        ] {
            let mut bad = good.clone();
            bad[field] = value;
            match server.claims(&bad, now) {
                Err(Refusal::Invalid(message)) => {
                    assert!(message.contains(why), "{field}: {message}");
                }
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn issuers_split_into_origin_and_path() {
        assert_eq!(split_issuer("https://idp.bank"), ("https://idp.bank", ""));
        assert_eq!(
            split_issuer("https://tenant.idp.example/"),
            ("https://tenant.idp.example", "")
        );
        assert_eq!(
            split_issuer("https://idp.bank:8443/realms/retail"),
            ("https://idp.bank:8443", "/realms/retail")
        );
    }

    #[test]
    fn only_signing_keys_of_known_types_are_kept() {
        let ec = serde_json::json!({"kty": "EC", "crv": "P-256", "kid": "a",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        assert!(matches!(verify_key(&ec), Some((k, VerifyKey::Ec(_))) if k == "a"));
        let enc = serde_json::json!({"kty": "EC", "crv": "P-256", "use": "enc",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        assert!(
            verify_key(&enc).is_none(),
            "an encryption key is not a signing key"
        );
        let short_rsa = serde_json::json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"});
        assert!(verify_key(&short_rsa).is_none(), "RSA below 2048 bits");
        let hmac = serde_json::json!({"kty": "oct", "k": "c2VjcmV0"});
        assert!(verify_key(&hmac).is_none(), "no shared-secret keys");
    }
}
