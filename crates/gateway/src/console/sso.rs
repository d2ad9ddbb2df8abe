//! Staff sign in through the bank's identity provider: OpenID Connect, the
//! authorization code flow with PKCE (S256), a `state` bound to the browser
//! by a cookie, a `nonce` bound into the ID token, and the issuer checked
//! in the response (RFC 9207) and in the ID token. The staff role comes
//! from a group claim: the admin group makes an admin, the staff group an
//! agent, and anyone else is refused. The first sign-in of a person makes
//! their staff account, keyed by the IdP's `sub`; every sign-in, and every
//! refusal, is audited with that `sub`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use strongroom_core::Sensitive;
use strongroom_core::protocol::jose::{b64_encode, parse_jws};

use super::layout::{error_page, storage_error};
use super::session::cookie;
use crate::bank_as::{KeySet, Refusal, discover_metadata, http_client, read_credentials};
use crate::config::StaffSsoConfig;
use crate::crypto::{now_s, random_token, sha256};
use crate::error::GatewayError;
use crate::sql::{OptionalExtension, params};
use crate::staff::{self, Role, StaffMember};
use crate::state::Shared;

/// How long a started sign-in may take at the IdP.
const PENDING_TTL: Duration = Duration::from_secs(600);
/// Sign-ins started and not finished, kept at most: a flood of starts
/// must not fill memory.
const MAX_PENDING: usize = 10_000;
/// The cookie that binds a started sign-in to the browser that started it
/// (login CSRF). `Lax`, because the IdP's redirect back is a cross-site
/// navigation.
const STATE_COOKIE: &str = "__Host-console-sso";
/// Clock skew allowed on the ID token's times, seconds.
const SKEW_S: i64 = 30;

/// A sign-in waiting for the IdP's answer.
struct Pending {
    verifier: Sensitive<String>,
    nonce: String,
    started: Instant,
}

#[derive(Debug, Clone, Deserialize)]
struct IdpMetadata {
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

/// The bank's identity provider, as the console signs staff in with it.
pub struct StaffIdp {
    issuer: String,
    client_id: String,
    secret: Sensitive<String>,
    staff_group: String,
    admin_group: String,
    groups_claim: String,
    http: reqwest::Client,
    metadata: tokio::sync::OnceCell<IdpMetadata>,
    keys: KeySet,
    pending: Mutex<HashMap<String, Pending>>,
}

impl std::fmt::Debug for StaffIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffIdp")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl StaffIdp {
    /// The IdP of `config`.
    ///
    /// # Errors
    /// [`GatewayError::Config`] for unreadable or exposed credentials, or
    /// an unreadable CA file.
    pub fn new(config: &StaffSsoConfig) -> Result<Arc<Self>, GatewayError> {
        let (client_id, secret) = read_credentials(&config.client_credentials)?;
        Ok(Arc::new(StaffIdp {
            issuer: config.issuer.clone(),
            client_id,
            secret,
            staff_group: config.staff_group.clone(),
            admin_group: config.admin_group.clone(),
            groups_claim: config.groups_claim.clone(),
            http: http_client(config.ca.as_deref())?,
            metadata: tokio::sync::OnceCell::new(),
            keys: KeySet::default(),
            pending: Mutex::new(HashMap::new()),
        }))
    }

    async fn metadata(&self) -> Result<&IdpMetadata, Refusal> {
        self.metadata
            .get_or_try_init(|| async {
                let value = discover_metadata(&self.http, &self.issuer).await?;
                serde_json::from_value(value).map_err(|e| {
                    Refusal::Unavailable(format!("the metadata of {}: {e}", self.issuer))
                })
            })
            .await
    }

    /// The role a person's groups give, if any.
    fn role(&self, claims: &serde_json::Value) -> Option<Role> {
        let groups: Vec<&str> = claims
            .get(&self.groups_claim)
            .and_then(serde_json::Value::as_array)
            .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
            .unwrap_or_default();
        if groups.contains(&self.admin_group.as_str()) {
            Some(Role::Admin)
        } else if groups.contains(&self.staff_group.as_str()) {
            Some(Role::Agent)
        } else {
            None
        }
    }
}

/// The redirect URI registered at the IdP for the console.
fn redirect_uri(state: &Shared) -> String {
    state.url("/console/oidc/callback")
}

/// `GET /console/sso`: starts a sign-in at the bank's IdP.
pub async fn start(State(state): State<Shared>) -> Response {
    let Some(idp) = state.staff_idp.as_ref() else {
        return error_page(StatusCode::NOT_FOUND, "Single sign-on is not set up here.");
    };
    let metadata = match idp.metadata().await {
        Ok(m) => m,
        Err(Refusal::Unavailable(why) | Refusal::Invalid(why)) => {
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("The bank's sign-in service cannot be reached now: {why}"),
            );
        }
    };
    let state_value = random_token(&state.rng);
    let verifier = random_token(&state.rng);
    let nonce = random_token(&state.rng);
    let challenge = b64_encode(&sha256(verifier.as_bytes()));
    if let Ok(mut pending) = idp.pending.lock() {
        pending.retain(|_, p| p.started.elapsed() < PENDING_TTL);
        // Full: the oldest unfinished sign-in goes, so that a flood of
        // starts cannot lock staff out (it can only make a very slow
        // sign-in start again).
        if pending.len() >= MAX_PENDING
            && let Some(oldest) = pending
                .iter()
                .min_by_key(|(_, p)| p.started)
                .map(|(k, _)| k.clone())
        {
            pending.remove(&oldest);
        }
        pending.insert(
            state_value.clone(),
            Pending {
                verifier: Sensitive::new(verifier),
                nonce: nonce.clone(),
                started: Instant::now(),
            },
        );
    }
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", idp.client_id.as_str()),
        ("redirect_uri", redirect_uri(&state).as_str()),
        ("scope", "openid groups"),
        ("state", state_value.as_str()),
        ("nonce", nonce.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ])
    .unwrap_or_default();
    // An endpoint may carry a query of its own (RFC 6749 section 3.1).
    let joiner = if metadata.authorization_endpoint.contains('?') {
        '&'
    } else {
        '?'
    };
    let mut response = super::layout::see_other(&format!(
        "{}{joiner}{query}",
        metadata.authorization_endpoint
    ));
    let cookie = format!(
        "{STATE_COOKIE}={state_value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={}",
        PENDING_TTL.as_secs()
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// The IdP's answer (RFC 6749 section 4.1.2, RFC 9207).
#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Why a sign-in through the IdP failed, for the page and the audit log.
struct Failed(StatusCode, String);

/// `GET /console/oidc/callback`: checks the IdP's answer, redeems the code,
/// verifies the ID token, maps the groups to a role, opens the session.
pub async fn callback(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(answer): Query<Callback>,
) -> Response {
    let Some(idp) = state.staff_idp.clone() else {
        return error_page(StatusCode::NOT_FOUND, "Single sign-on is not set up here.");
    };
    let claims = match finish(&state, &idp, &headers, answer).await {
        Ok(claims) => claims,
        Err(Failed(status, why)) => return error_page(status, &why),
    };
    let sub = claims
        .get("sub")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let role = idp.role(&claims);
    let preferred = claims
        .get("preferred_username")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    let name = claims
        .get("name")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    let issuer = idp.issuer.clone();
    let rng = state.rng.clone();
    let opened = state
        .db
        .write(move |c| -> Result<Option<staff::Session>, GatewayError> {
            let via = format!("{issuer} sub={sub}");
            let Some(role) = role else {
                c.execute(
                    "INSERT INTO audit_log (at_ms, staff_id, staff_username, action, detail)
                     VALUES (?1, NULL, ?2, 'console.sign_in_refused', ?3)",
                    params![
                        crate::crypto::now_ms(),
                        format!("sso:{}", sub.chars().take(64).collect::<String>()),
                        format!("{via}: not in the staff group")
                    ],
                )?;
                return Ok(None);
            };
            let member = sso_member(c, &sub, role, preferred.as_deref(), name.as_deref())?;
            if member.disabled_at.is_some() {
                staff::refuse_sign_in(c, &member.username, &via)?;
                return Ok(None);
            }
            staff::open_session_via(c, &rng, &member, &via).map(Some)
        })
        .await;
    match opened {
        Ok(Some(session)) => {
            super::session::signed_in(&session, "Signed in through the bank's single sign-on.")
        }
        Ok(None) => error_page(
            StatusCode::FORBIDDEN,
            "Your account at the bank does not give access to the agent console (it is not in the staff group, or it was disabled here). Ask your administrator.",
        ),
        Err(e) => storage_error(&e),
    }
}

/// The checks of the IdP's answer, the code's redemption and the ID
/// token's verification; the ID token's claims.
async fn finish(
    state: &Shared,
    idp: &StaffIdp,
    headers: &HeaderMap,
    answer: Callback,
) -> Result<serde_json::Value, Failed> {
    let refused = |why: &str| Failed(StatusCode::BAD_REQUEST, why.to_owned());
    let state_value = answer
        .state
        .as_deref()
        .ok_or_else(|| refused("The sign-in answer carries no state."))?;
    // The state must be the one this browser was given (a cookie), so that
    // nobody can sign a staff member in as someone else.
    if cookie(headers, STATE_COOKIE).as_deref() != Some(state_value) {
        return Err(refused(
            "This sign-in was not started in this browser. Start again from the console.",
        ));
    }
    let pending = idp
        .pending
        .lock()
        .ok()
        .and_then(|mut p| p.remove(state_value))
        .filter(|p| p.started.elapsed() < PENDING_TTL)
        .ok_or_else(|| refused("This sign-in expired or was already used. Start again."))?;
    let metadata = idp.metadata().await.map_err(|_| {
        Failed(
            StatusCode::SERVICE_UNAVAILABLE,
            "The bank's sign-in service cannot be reached now.".into(),
        )
    })?;
    // RFC 9207: a server that says it sends `iss` must send its own.
    match (
        &answer.iss,
        metadata.authorization_response_iss_parameter_supported,
    ) {
        (Some(iss), _) if *iss != idp.issuer => {
            return Err(refused(
                "The sign-in answer comes from another issuer (mix-up). Start again.",
            ));
        }
        (None, true) => {
            return Err(refused("The sign-in answer does not name its issuer."));
        }
        _ => {}
    }
    if let Some(error) = &answer.error {
        return Err(Failed(
            StatusCode::FORBIDDEN,
            format!(
                "The bank's sign-in service refused: {error}{}",
                answer
                    .error_description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
        ));
    }
    let code = answer
        .code
        .as_deref()
        .ok_or_else(|| refused("The sign-in answer carries no code."))?;
    let redirect = redirect_uri(state);
    let response = idp
        .http
        .post(&metadata.token_endpoint)
        .basic_auth(&idp.client_id, Some(idp.secret.expose()))
        .header("accept", "application/json")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect.as_str()),
            ("code_verifier", pending.verifier.expose().as_str()),
        ])
        .send()
        .await
        .map_err(|e| {
            Failed(
                StatusCode::BAD_GATEWAY,
                format!("The bank's sign-in service cannot be reached: {e}"),
            )
        })?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if !status.is_success() {
        return Err(Failed(
            StatusCode::FORBIDDEN,
            format!(
                "The bank's sign-in service refused the code: {}",
                body.get("error")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("unknown error")
            ),
        ));
    }
    let id_token = body
        .get("id_token")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| {
            Failed(
                StatusCode::BAD_GATEWAY,
                "The bank's sign-in service sent no ID token.".into(),
            )
        })?;
    verify_id_token(idp, &metadata.jwks_uri, id_token, &pending.nonce, now_s())
        .await
        .map_err(|why| {
            Failed(
                StatusCode::FORBIDDEN,
                format!("The ID token is not valid: {why}"),
            )
        })
}

/// OpenID Connect Core section 3.1.3.7: signature by the IdP's published
/// key, issuer, audience (and `azp`), expiry, issue time, nonce.
async fn verify_id_token(
    idp: &StaffIdp,
    jwks_uri: &str,
    token: &str,
    nonce: &str,
    now: i64,
) -> Result<serde_json::Value, String> {
    let jws = parse_jws(token).map_err(|e| e.to_string())?;
    idp.keys
        .verify(&idp.http, jwks_uri, &jws)
        .await
        .map_err(|r| match r {
            Refusal::Invalid(why) | Refusal::Unavailable(why) => why,
        })?;
    let claims: serde_json::Value =
        serde_json::from_slice(&jws.payload).map_err(|_| "its claims are not JSON".to_owned())?;
    let text = |name: &str| claims.get(name).and_then(serde_json::Value::as_str);
    if text("iss") != Some(idp.issuer.as_str()) {
        return Err("another issuer".into());
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(serde_json::Value::String(a)) => vec![a.as_str()],
        Some(serde_json::Value::Array(all)) => {
            all.iter().filter_map(serde_json::Value::as_str).collect()
        }
        _ => Vec::new(),
    };
    if !audiences.contains(&idp.client_id.as_str()) {
        return Err("for another client".into());
    }
    if audiences.len() > 1 && text("azp") != Some(idp.client_id.as_str()) {
        return Err("for several clients, and not authorized for this one".into());
    }
    let exp = claims
        .get("exp")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(0);
    if exp + SKEW_S <= now {
        return Err("expired".into());
    }
    if claims
        .get("iat")
        .and_then(serde_json::Value::as_i64)
        .is_none_or(|iat| iat > now + SKEW_S)
    {
        return Err("issued in the future, or not dated".into());
    }
    if text("nonce") != Some(nonce) {
        return Err("its nonce is not this sign-in's (a replayed token?)".into());
    }
    if text("sub").is_none_or(str::is_empty) {
        return Err("no subject".into());
    }
    Ok(claims)
}

/// The staff account of the IdP's `sub`, made at the first sign-in and
/// kept in step with the groups (the role) after that.
fn sso_member(
    c: &crate::sql::Connection,
    sub: &str,
    role: Role,
    preferred_username: Option<&str>,
    name: Option<&str>,
) -> Result<StaffMember, GatewayError> {
    let existing: Option<i64> = c
        .query_row("SELECT id FROM staff WHERE idp_subject = ?1", [sub], |r| {
            r.get(0)
        })
        .optional()?;
    let id = match existing {
        Some(id) => {
            c.execute(
                "UPDATE staff SET role = ?1 WHERE id = ?2",
                params![role.as_str(), id],
            )?;
            id
        }
        None => {
            // The username: the IdP's preferred one when it is a valid,
            // free username, else one made from the subject.
            let from_sub = format!("sso-{}", &crate::crypto::hex(&sha256(sub.as_bytes()))[..12]);
            let username = preferred_username
                .filter(|u| staff::valid_username(u))
                .filter(|u| {
                    !c.query_row(
                        "SELECT EXISTS (SELECT 1 FROM staff WHERE username = ?1)",
                        [u],
                        |r| r.get::<_, bool>(0),
                    )
                    .unwrap_or(true)
                })
                .map_or(from_sub, str::to_owned);
            let display = name
                .map(str::trim)
                .filter(|n| staff::valid_display_name(n).is_ok())
                .unwrap_or(&username)
                .to_owned();
            c.query_row(
                "INSERT INTO staff (username, display_name, role, password_hash, created_at, idp_subject)
                 VALUES (?1, ?2, ?3, '!', ?4, ?5) RETURNING id",
                params![username, display, role.as_str(), now_s(), sub],
                |r| r.get(0),
            )?
        }
    };
    staff::member(c, id)
}

/// The sign-in page's single sign-on button.
pub(super) fn button() -> maud::Markup {
    html! {
        p { a.button id="sso" href="/console/sso" { "Sign in with the bank's single sign-on" } }
    }
}
