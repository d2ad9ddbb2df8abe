//! The gateway's one error type, and the two shapes errors take on the wire:
//! RFC 9457 problem details for the messaging and bank APIs, RFC 6749 error
//! JSON for the OAuth endpoints.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Everything that can go wrong in the gateway outside a single request's
/// input: configuration, files, storage, TLS.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The command line or a configuration file is wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// A file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What the gateway was doing.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The database failed.
    #[error("storage: {0}")]
    Storage(String),
    /// Certificates or keys for TLS could not be made or loaded.
    #[error("tls: {0}")]
    Tls(String),
    /// Data from a request cannot be stored or delivered as asked (an event
    /// over the frame limit, say): the caller's mistake, a 422.
    #[error("{0}")]
    Invalid(String),
}

impl GatewayError {
    /// An I/O error with what the gateway was doing at the time.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        GatewayError::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<crate::sql::Error> for GatewayError {
    fn from(e: crate::sql::Error) -> Self {
        GatewayError::Storage(e.to_string())
    }
}

impl From<rusqlite::Error> for GatewayError {
    fn from(e: rusqlite::Error) -> Self {
        GatewayError::Storage(e.to_string())
    }
}

/// The media type of RFC 9457 problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem: what every non-OAuth error response carries.
#[derive(Debug, Clone)]
pub struct Problem {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code; the `type` is `urn:strongroom:problem:<code>`.
    pub code: &'static str,
    /// Human-readable detail for this occurrence. Never holds secrets.
    pub detail: String,
    /// Seconds to wait, for 429 answers.
    pub retry_after: Option<u64>,
    /// `WWW-Authenticate` for 401 answers.
    pub www_authenticate: Option<&'static str>,
    /// RFC 9457 extension members (section 3.2): facts about this
    /// occurrence a client acts on, e.g. the answer a fraud check already has.
    pub extensions: Vec<(&'static str, serde_json::Value)>,
}

impl Problem {
    /// A problem with `status`, a stable `code` and a `detail`.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Problem {
            status,
            code,
            detail: detail.into(),
            retry_after: None,
            www_authenticate: None,
            extensions: Vec::new(),
        }
    }

    /// The problem with the extension member `name` (RFC 9457 section 3.2).
    #[must_use]
    pub fn with(mut self, name: &'static str, value: serde_json::Value) -> Self {
        self.extensions.push((name, value));
        self
    }

    /// 400: the request is malformed.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }

    /// 404: nothing here for this caller.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    /// 401 with the DPoP `invalid_token` challenge.
    pub fn invalid_token(detail: impl Into<String>) -> Self {
        Problem {
            www_authenticate: Some("DPoP error=\"invalid_token\", algs=\"ES256\""),
            ..Problem::new(StatusCode::UNAUTHORIZED, "invalid_token", detail)
        }
    }

    /// 401 for a device whose link was revoked (unlinked, or the bank
    /// ended the customer's session): the `invalid_token` challenge, and
    /// the problem code `link_revoked`, which tells the device to link
    /// again instead of refreshing and retrying.
    pub fn link_revoked(detail: impl Into<String>) -> Self {
        Problem {
            www_authenticate: Some("DPoP error=\"invalid_token\", algs=\"ES256\""),
            ..Problem::new(StatusCode::UNAUTHORIZED, "link_revoked", detail)
        }
    }

    /// 401 with the DPoP `invalid_dpop_proof` challenge.
    pub fn invalid_dpop_proof(detail: impl Into<String>) -> Self {
        Problem {
            www_authenticate: Some("DPoP error=\"invalid_dpop_proof\", algs=\"ES256\""),
            ..Problem::new(StatusCode::UNAUTHORIZED, "invalid_dpop_proof", detail)
        }
    }

    /// A protocol decoding failure: too large is 413, anything else 400.
    pub fn from_protocol(e: &strongroom_core::protocol::ProtocolError) -> Self {
        match e {
            strongroom_core::protocol::ProtocolError::TooLarge { .. } => {
                Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", e.to_string())
            }
            _ => Problem::new(StatusCode::BAD_REQUEST, "malformed", e.to_string()),
        }
    }

    /// 429 with `Retry-After`.
    pub fn too_many(retry_after: u64) -> Self {
        Problem {
            retry_after: Some(retry_after.max(1)),
            ..Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "too many requests; wait and try again",
            )
        }
    }

    /// 500: the gateway failed. The cause goes to the log, not the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the gateway could not complete the request",
        )
    }
}

impl From<GatewayError> for Problem {
    fn from(e: GatewayError) -> Self {
        match e {
            GatewayError::Invalid(detail) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", detail)
            }
            other => Problem::internal(&other),
        }
    }
}

impl From<crate::sql::Error> for Problem {
    fn from(e: crate::sql::Error) -> Self {
        Problem::internal(&e)
    }
}

/// The body of a problem response for `status` with a stable `code`.
pub fn problem_body(status: StatusCode, code: &str, detail: &str) -> String {
    problem_json(status, code, detail, &[]).to_string()
}

/// The problem document, with its extension members.
fn problem_json(
    status: StatusCode,
    code: &str,
    detail: &str,
    extensions: &[(&'static str, serde_json::Value)],
) -> serde_json::Value {
    let mut body = serde_json::json!({
        "type": format!("urn:strongroom:problem:{code}"),
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    if let Some(members) = body.as_object_mut() {
        for (name, value) in extensions {
            // The standard members are never overwritten.
            members.entry(*name).or_insert_with(|| value.clone());
        }
    }
    body
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        crate::metrics::metrics().error_answered(self.code);
        let body = problem_json(self.status, self.code, &self.detail, &self.extensions).to_string();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(challenge) = self.www_authenticate {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

/// An OAuth error (RFC 6749 section 5.2, RFC 8628 section 3.5, RFC 9449).
#[derive(Debug, Clone)]
pub struct OAuthError {
    /// HTTP status (400 unless said otherwise).
    pub status: StatusCode,
    /// The `error` code, e.g. `authorization_pending`.
    pub error: &'static str,
    /// Optional human-readable description.
    pub description: Option<String>,
    /// A fresh `DPoP-Nonce` to send along (`use_dpop_nonce`).
    pub dpop_nonce: Option<String>,
    /// Seconds to wait, for 429 answers.
    pub retry_after: Option<u64>,
}

impl OAuthError {
    /// A 400 error with `error` and no description.
    pub fn new(error: &'static str) -> Self {
        OAuthError {
            status: StatusCode::BAD_REQUEST,
            error,
            description: None,
            dpop_nonce: None,
            retry_after: None,
        }
    }

    /// The same error with a description.
    pub fn describe(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

impl From<Problem> for OAuthError {
    fn from(p: Problem) -> Self {
        OAuthError {
            status: p.status,
            error: if p.status == StatusCode::TOO_MANY_REQUESTS {
                "slow_down"
            } else if p.status.is_server_error() {
                "server_error"
            } else {
                "invalid_request"
            },
            description: Some(p.detail),
            dpop_nonce: None,
            retry_after: p.retry_after,
        }
    }
}

impl From<GatewayError> for OAuthError {
    fn from(e: GatewayError) -> Self {
        Problem::from(e).into()
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        crate::metrics::metrics().error_answered(self.error);
        let mut body = serde_json::json!({ "error": self.error });
        if let Some(description) = &self.description {
            body["error_description"] = serde_json::Value::String(description.clone());
        }
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(nonce) = self.dpop_nonce.and_then(|n| HeaderValue::from_str(&n).ok()) {
            headers.insert("dpop-nonce", nonce);
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_members_go_in_the_problem_but_never_over_its_own() {
        let p = Problem::new(StatusCode::CONFLICT, "already_answered", "answered")
            .with("answer", serde_json::json!("me"))
            .with("type", serde_json::json!("urn:evil"));
        let body = problem_json(p.status, p.code, &p.detail, &p.extensions);
        assert_eq!(body["answer"], "me");
        assert_eq!(body["type"], "urn:strongroom:problem:already_answered");
        assert_eq!(body["status"], 409);
    }
}
