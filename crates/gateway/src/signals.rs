//! Signals from the bank's identity provider: the gateway is an OpenID
//! Shared Signals Framework 1.0 receiver for push delivery (RFC 8935) of
//! Security Event Tokens (RFC 8417) about its customers. Two CAEP events
//! act here: `session-revoked` ends every link the customer made through
//! the bank's authorization server at once (streams closed, access tokens
//! refused, the devices told to link again), and `credential-change`
//! becomes a signed security alert on the customer's devices that asks
//! "was this you?". Every SET is checked like every other token: the
//! transmitter's signature (its published JWKS), issuer, audience, age,
//! and its `jti` never seen before.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use strongroom_core::protocol::alert::{AlertEvent, AlertKind, AlertSeverity};
use strongroom_core::protocol::jose::parse_jws;

use crate::bank_as::{KeySet, Refusal, get_json, http_client};
use crate::config::SignalsConfig;
use crate::crypto::{now_ms, now_s, sha256};
use crate::error::GatewayError;
use crate::sql::{OptionalExtension, params};
use crate::state::Shared;

/// CAEP: the customer's session at the bank ended.
pub const SESSION_REVOKED: &str =
    "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
/// CAEP: a credential of the customer's changed.
pub const CREDENTIAL_CHANGE: &str =
    "https://schemas.openid.net/secevent/caep/event-type/credential-change";

/// A SET issued longer ago than this is refused: push delivery is
/// immediate, and an old SET replayed after its `jti` was forgotten must
/// not act again. The `jti`s are kept at least this long.
const MAX_AGE_S: i64 = 24 * 3600;

/// Clock skew allowed on `iat`, seconds.
const SKEW_S: i64 = 10;

/// The bank's signal transmitter, as the gateway trusts it.
pub struct Transmitter {
    issuer: String,
    audience: String,
    subject_issuer: String,
    http: reqwest::Client,
    jwks_uri: tokio::sync::OnceCell<String>,
    keys: KeySet,
}

impl std::fmt::Debug for Transmitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transmitter")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Transmitter {
    /// The transmitter of `config`; SETs must name `audience` (the
    /// gateway's resource identifier) and subjects in the namespace of the
    /// bank's authorization server `subject_issuer`.
    ///
    /// # Errors
    /// [`GatewayError::Config`] for an unreadable CA file.
    pub fn new(
        config: &SignalsConfig,
        audience: &str,
        subject_issuer: &str,
    ) -> Result<Arc<Self>, GatewayError> {
        Ok(Arc::new(Transmitter {
            issuer: config.transmitter.clone(),
            audience: audience.to_owned(),
            subject_issuer: subject_issuer.to_owned(),
            http: http_client(config.ca.as_deref())?,
            jwks_uri: tokio::sync::OnceCell::new(),
            keys: KeySet::default(),
        }))
    }

    /// The transmitter's `jwks_uri`, from its configuration (SSF 1.0
    /// section 7.1), whose `issuer` must be exactly the one configured.
    async fn jwks_uri(&self) -> Result<&str, Refusal> {
        self.jwks_uri
            .get_or_try_init(|| async {
                #[derive(Deserialize)]
                struct Configuration {
                    issuer: String,
                    jwks_uri: String,
                }
                let url = format!(
                    "{}/.well-known/ssf-configuration",
                    self.issuer.trim_end_matches('/')
                );
                let c: Configuration = get_json(&self.http, &url)
                    .await
                    .map_err(Refusal::Unavailable)?;
                if c.issuer != self.issuer {
                    return Err(Refusal::Unavailable(format!(
                        "the configuration at {url} is for {:?}",
                        c.issuer
                    )));
                }
                Ok(c.jwks_uri)
            })
            .await
            .map(String::as_str)
    }

    /// Verifies a SET: its type, signature, issuer, audience and age.
    async fn verify(&self, set: &str, now: i64) -> Result<serde_json::Value, PushError> {
        let jws = parse_jws(set).map_err(|e| PushError::request(e.to_string()))?;
        let typ = jws.header.typ.as_deref().unwrap_or_default();
        if !typ.eq_ignore_ascii_case("secevent+jwt")
            && !typ.eq_ignore_ascii_case("application/secevent+jwt")
        {
            return Err(PushError::request(
                "not a Security Event Token (typ secevent+jwt)",
            ));
        }
        let jwks_uri = self.jwks_uri().await.map_err(PushError::from)?;
        self.keys
            .verify(&self.http, jwks_uri, &jws)
            .await
            .map_err(|r| match r {
                Refusal::Invalid(why) => PushError::new("invalid_key", why),
                other => PushError::from(other),
            })?;
        let claims: serde_json::Value = serde_json::from_slice(&jws.payload)
            .map_err(|_| PushError::request("the SET's claims are not JSON"))?;
        if claims.get("iss").and_then(serde_json::Value::as_str) != Some(self.issuer.as_str()) {
            return Err(PushError::new(
                "invalid_issuer",
                "the SET is from another issuer",
            ));
        }
        let for_us = match claims.get("aud") {
            Some(serde_json::Value::String(a)) => *a == self.audience,
            Some(serde_json::Value::Array(all)) => {
                all.iter().any(|a| a.as_str() == Some(&self.audience))
            }
            _ => false,
        };
        if !for_us {
            return Err(PushError::new(
                "invalid_audience",
                "the SET is for another receiver",
            ));
        }
        let iat = claims
            .get("iat")
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| PushError::request("the SET has no iat"))?;
        if iat > now + SKEW_S || iat < now - MAX_AGE_S {
            return Err(PushError::request("the SET's iat is out of range"));
        }
        Ok(claims)
    }

    /// The subject identifier a SET names, in the bank's authorization
    /// server's namespace: `iss_sub` (RFC 9493) with that issuer, or
    /// `opaque`; at the top (`sub_id`, SSF 1.0) or in the event
    /// (`subject`, earlier CAEP drafts).
    fn subject(&self, claims: &serde_json::Value, event: &serde_json::Value) -> Option<String> {
        let id = claims.get("sub_id").or_else(|| event.get("subject"))?;
        let text = |name: &str| id.get(name).and_then(serde_json::Value::as_str);
        match text("format")? {
            "iss_sub" if text("iss") == Some(self.subject_issuer.as_str()) => {
                text("sub").map(str::to_owned)
            }
            "opaque" => text("id").map(str::to_owned),
            _ => None,
        }
    }
}

/// An RFC 8935 section 2.3 error: 400 with `err` and `description`.
#[derive(Debug)]
struct PushError {
    status: StatusCode,
    err: &'static str,
    description: String,
}

impl PushError {
    fn new(err: &'static str, description: impl Into<String>) -> Self {
        PushError {
            status: StatusCode::BAD_REQUEST,
            err,
            description: description.into(),
        }
    }

    fn request(description: impl Into<String>) -> Self {
        PushError::new("invalid_request", description)
    }
}

impl From<Refusal> for PushError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Invalid(why) => PushError::request(why),
            // Not the transmitter's fault: it should push again later.
            Refusal::Unavailable(why) => PushError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                err: "temporarily_unavailable",
                description: why,
            },
        }
    }
}

impl From<GatewayError> for PushError {
    fn from(e: GatewayError) -> Self {
        PushError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            err: "temporarily_unavailable",
            description: e.to_string(),
        }
    }
}

impl IntoResponse for PushError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "err": self.err, "description": self.description });
        (self.status, axum::Json(body)).into_response()
    }
}

/// What one SET came to.
enum Outcome {
    Replayed,
    UnknownCustomer,
    /// The customer, and the devices whose links ended.
    Done(i64, Vec<String>),
}

/// `POST /ssf/events` (RFC 8935): one SET, `application/secevent+jwt`.
/// 202 once it is acted on; 400 with an RFC 8935 error otherwise.
pub async fn push(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    match receive(&state, &headers, &body).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn receive(state: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<(), PushError> {
    let Some(transmitter) = state.signals.as_ref() else {
        return Err(PushError::new(
            "access_denied",
            "this gateway receives no signals",
        ));
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.starts_with("application/secevent+jwt") {
        return Err(PushError::request(
            "the body must be application/secevent+jwt",
        ));
    }
    let set = std::str::from_utf8(body)
        .map_err(|_| PushError::request("the SET is not text"))?
        .trim();
    let now = now_s();
    let claims = transmitter.verify(set, now).await?;
    let jti = claims
        .get("jti")
        .and_then(serde_json::Value::as_str)
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or_else(|| PushError::request("the SET has no jti"))?
        .to_owned();
    let events = claims
        .get("events")
        .and_then(serde_json::Value::as_object)
        .filter(|e| e.len() == 1)
        .ok_or_else(|| PushError::request("a SET carries exactly one event (SSF 1.0)"))?;
    let (event_type, event) = events
        .iter()
        .next()
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap_or_default();
    let subject = transmitter
        .subject(&claims, &event)
        .ok_or_else(|| PushError::request("no subject this gateway can map (iss_sub of the bank's authorization server, or opaque)"))?;
    let bank_as = state
        .bank_as
        .as_ref()
        .map(|a| a.issuer().to_owned())
        .unwrap_or_default();
    let issuer = transmitter.issuer.clone();
    let jti_for_retry = jti.clone();
    let kind = event_type.clone();
    let outcome = state
        .db
        .write(move |c| -> Result<Outcome, GatewayError> {
            // A replayed SET acts once: its jti is recorded in the same
            // transaction as what it did.
            let fresh = c.execute(
                "INSERT INTO received_sets(hash, issuer, received_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                params![sha256(format!("{issuer}\n{jti}").as_bytes()), issuer, now_ms()],
            )?;
            c.execute(
                "DELETE FROM received_sets WHERE received_at < ?1",
                [now_ms() - 2 * MAX_AGE_S * 1000],
            )?;
            if fresh == 0 {
                return Ok(Outcome::Replayed);
            }
            let customer: Option<i64> = c
                .query_row(
                    "SELECT id FROM customers WHERE idp_subject = ?1",
                    [&subject],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(customer_id) = customer else {
                return Ok(Outcome::UnknownCustomer);
            };
            let mut revoked = Vec::new();
            if kind == SESSION_REVOKED {
                // Tokens issued before now are dead, whichever device key
                // they are bound to: one the gateway has not seen yet (a
                // link a scammer made, not used so far) included.
                c.execute(
                    "UPDATE customers SET idp_sessions_revoked_at = ?1 WHERE id = ?2",
                    params![now_s(), customer_id],
                )?;
                let mut statement = c.prepare_cached(
                    "SELECT id FROM devices WHERE customer_id = ?1 AND via_issuer = ?2 AND revoked_at IS NULL",
                )?;
                revoked = statement
                    .query_map(params![customer_id, bank_as], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()?;
                for id in &revoked {
                    crate::oauth::revoke_device(c, id)?;
                }
            }
            Ok(Outcome::Done(customer_id, revoked))
        })
        .await?;
    let (customer_id, revoked) = match outcome {
        Outcome::Replayed => return Err(PushError::request("this SET was already received (jti)")),
        // Acknowledged all the same: the bank may tell of customers who
        // never enrolled for Strongroom, and pushing again would not help.
        Outcome::UnknownCustomer => return Ok(()),
        Outcome::Done(id, revoked) => (id, revoked),
    };
    for device in &revoked {
        state.hub.revoke(device);
    }
    if event_type == CREDENTIAL_CHANGE {
        let at = event
            .get("event_timestamp")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(now);
        let credential = event
            .get("credential_type")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("password");
        let text = format!(
            "Your {} was changed at {} UTC. Was this you? If not, answer below and call the bank.",
            credential_words(credential),
            clock_time(at)
        );
        let alert = AlertEvent {
            severity: AlertSeverity::Warning,
            text,
            account_ref: None,
            amount_minor: None,
            currency: None,
            merchant: None,
            country: None,
            respond_by: Some(now + crate::rules::FRAUD_CHECK_WINDOW_S),
            balance_minor: None,
        };
        if let Err(problem) = crate::bank::issue_alerts(
            state,
            customer_id,
            vec![(AlertKind::SecurityDetailChanged, alert)],
        )
        .await
        {
            // Not acted on: forget the jti, so that the transmitter's next
            // push of this SET is not refused as a replay.
            let hash = sha256(format!("{}\n{jti_for_retry}", transmitter.issuer).as_bytes());
            let _ = state
                .db
                .write(move |c| {
                    c.execute("DELETE FROM received_sets WHERE hash = ?1", [&hash])
                        .map_err(GatewayError::from)
                })
                .await;
            return Err(PushError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                err: "temporarily_unavailable",
                description: problem.detail,
            });
        }
    }
    Ok(())
}

/// The customer's words for a CAEP `credential_type`.
fn credential_words(credential_type: &str) -> &'static str {
    match credential_type {
        "pin" => "PIN",
        "x509" => "certificate",
        "fido2-platform" | "fido2-roaming" | "fido-u2f" => "security key",
        "verifiable-credential" | "phone-voice" | "phone-sms" | "app" => "sign-in method",
        _ => "password",
    }
}

/// `HH:MM` of a time in seconds since the epoch, in UTC.
fn clock_time(at: i64) -> String {
    let minutes = at.rem_euclid(86_400) / 60;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_credentials_read_as_a_customer_reads_them() {
        assert_eq!(clock_time(14 * 3600 + 2 * 60 + 59), "14:02");
        assert_eq!(clock_time(86_400 * 365 + 5 * 60), "00:05");
        assert_eq!(credential_words("pin"), "PIN");
        assert_eq!(credential_words("something-new"), "password");
    }
}
