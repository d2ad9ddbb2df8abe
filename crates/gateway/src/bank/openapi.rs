//! The bank API's OpenAPI 3.1 description, generated from the handlers'
//! annotations and the request and answer types they use, served at
//! `GET /bank/v1/openapi.json` and checked in as
//! `docs/bank-api.openapi.json` (a unit test fails when the two differ;
//! `cargo xtask openapi` writes it again).
//!
//! What every call shares is added here from the code that does it rather
//! than repeated on each handler: the scope each call needs (from
//! [`Scope::of_route`]), the `Idempotency-Key` header on every POST, and
//! the problem answers of the key check, the body limit and the
//! idempotency layer.

use std::sync::OnceLock;

use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use strongroom_core::protocol::alert::AlertKind;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, Ref, RefOr, Required, ResponseBuilder, Schema, ServerBuilder,
};
use utoipa::{Modify, OpenApi, ToSchema};

use super::clients::Scope;
use super::idempotency::MAX_KEY_CHARS;
use crate::error::PROBLEM_JSON;

/// Where the checked-in copy lives, from the workspace root.
pub const CHECKED_IN: &str = "docs/bank-api.openapi.json";

/// The description's source: every bank API route and the types it takes
/// and answers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Strongroom gateway: bank integration API",
        description = "What the bank's own systems call: customers, transactions \
            (turned into alerts by the gateway's rules), custom and bank-signed alerts, \
            staff chat, fraud answers, scam-call reports, delivery states, pilot \
            features and signing-key rotation. Every call needs \
            `Authorization: Bearer <API key>` with the call's scope; every POST takes \
            an `Idempotency-Key`; every error is an RFC 9457 problem.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        super::customers::post_customer,
        super::alerts::post_transaction,
        super::alerts::post_alert,
        super::alerts::post_signed_alert,
        super::alerts::get_deliveries,
        super::alerts::get_fraud_answers,
        super::chat::post_chat,
        super::chat::get_chat,
        crate::scam_reports::get_scam_reports,
        super::post_flags,
        super::post_rotate,
    ),
    components(schemas(ProblemDetails)),
    modifiers(&Shared),
    tags(
        (name = "customers", description = "The bank's customers, as the gateway knows them"),
        (name = "alerts", description = "Alerts to customers' devices and what became of them"),
        (name = "chat", description = "Conversations between staff and customers"),
        (name = "answers", description = "What customers answered and reported"),
        (name = "operations", description = "Pilot features and key rotation"),
    ),
)]
pub struct BankApi;

/// An RFC 9457 problem, as every error of the bank API is answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDetails {
    /// `urn:strongroom:problem:<code>`, the stable code of the problem.
    #[serde(rename = "type")]
    #[schema(example = "urn:strongroom:problem:invalid_field")]
    pub kind: String,
    /// The HTTP status's reason phrase.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong with this request; never holds secrets.
    pub detail: String,
}

/// The alert kinds, by their names (the alert event URIs' last part).
pub fn alert_kind_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(AlertKind::ALL.map(AlertKind::name)))
        .description(Some("The kind of alert"))
        .into()
}

/// The severities, as the alert carries them.
pub fn severity_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(SEVERITIES))
        .description(Some("How urgent the bank says it is"))
        .into()
}

const SEVERITIES: [&str; 3] = ["info", "warning", "critical"];

/// Adds what every call shares; see the module's documentation.
struct Shared;

impl Modify for Shared {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.servers = Some(vec![
            ServerBuilder::new()
                .url("https://{gateway}")
                .description(Some("The gateway's public address (its issuer)"))
                .parameter(
                    "gateway",
                    utoipa::openapi::server::ServerVariableBuilder::new()
                        .default_value("127.0.0.1:8443"),
                )
                .build(),
        ]);
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bank_api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A bank API key (`strongroom-gateway api-key add`); the operation's \
                         security lists the scope it needs",
                    ))
                    .build(),
            ),
        );
        for (path, item) in &mut openapi.paths.paths {
            let operations = [
                (Method::GET, item.get.as_mut()),
                (Method::POST, item.post.as_mut()),
            ];
            for (method, operation) in operations {
                if let Some(operation) = operation {
                    shared_parts(path, &method, operation);
                }
            }
        }
    }
}

fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ProblemDetails")))
                .build(),
        )
        .into()
}

fn shared_parts(path: &str, method: &Method, operation: &mut Operation) {
    let scope = Scope::of_route(method, path).map_or("none", Scope::as_str);
    operation.security = Some(vec![SecurityRequirement::new("bank_api_key", [scope])]);
    let responses = &mut operation.responses.responses;
    responses.insert(
        "401".into(),
        problem("No API key, or an unknown or revoked one"),
    );
    responses.insert(
        "403".into(),
        problem("The API key lacks the scope this call needs (`insufficient_scope`)"),
    );
    if method == Method::POST {
        let parameter = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(format!(
                "A retry with the same key and request gets the first answer \
                 (`Idempotent-Replayed: true`) and changes nothing; kept 24 hours per API key. \
                 An RFC 8941 string of 1 to {MAX_KEY_CHARS} printable ASCII characters."
            )))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(MAX_KEY_CHARS + 2))
                    .examples(["\"8e03978e-40d5-43e8-bc93-6894a57f9324\""]),
            ))
            .build();
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(parameter);
        responses.insert(
            "400".into(),
            problem("A malformed `Idempotency-Key` (`invalid_idempotency_key`)"),
        );
        responses.insert(
            "409".into(),
            problem(
                "A request with this `Idempotency-Key` is still running \
                 (`idempotency_key_in_use`, with `Retry-After`)",
            ),
        );
        responses.insert(
            "413".into(),
            problem("The body is over 64 KiB (`too_large`)"),
        );
        responses.entry("422".into()).or_insert_with(|| {
            problem(
                "A malformed body or field (`invalid_body`, `invalid_field`), or an \
                 `Idempotency-Key` used for another request (`idempotency_key_reused`)",
            )
        });
        if let Some(RequestBody { required, .. }) = operation.request_body.as_mut() {
            *required = Some(Required::True);
        }
    }
}

/// The description as JSON, made once.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut text = BankApi::openapi()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
        text.push('\n');
        text
    })
}

/// `GET /bank/v1/openapi.json`: the description, to anyone (it holds no
/// secret, and integrators read it before they have a key).
pub async fn get_openapi() -> Response {
    let mut response = document().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openapi+json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use strongroom_core::protocol::alert::AlertSeverity;

    #[test]
    fn the_enums_name_what_serde_reads() {
        for kind in AlertKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
        }
        let severities = [
            AlertSeverity::Info,
            AlertSeverity::Warning,
            AlertSeverity::Critical,
        ];
        for (severity, name) in severities.into_iter().zip(SEVERITIES) {
            assert_eq!(serde_json::to_value(severity).unwrap(), name);
        }
    }

    /// The checked-in copy is the generated one: a change to the API
    /// without `cargo xtask openapi` fails here.
    #[test]
    fn the_checked_in_description_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(CHECKED_IN);
        if std::env::var_os("STRONGROOM_WRITE_OPENAPI").is_some() {
            std::fs::write(&path, document()).unwrap();
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == document(),
            "{CHECKED_IN} differs from what the code describes: run `cargo xtask openapi` \
             and review the change"
        );
    }

    #[test]
    fn every_call_names_its_scope_and_every_post_its_idempotency_key() {
        let api: serde_json::Value = serde_json::from_str(document()).unwrap();
        assert_eq!(api["openapi"], "3.1.0");
        let paths = api["paths"].as_object().unwrap();
        assert_eq!(paths.len(), 10, "{:?}", paths.keys());
        for (path, item) in paths {
            for (method, operation) in item.as_object().unwrap() {
                let scope = &operation["security"][0]["bank_api_key"][0];
                assert!(
                    Scope::ALL.iter().any(|s| scope == s.as_str()),
                    "{method} {path}: {scope}"
                );
                let has_key = operation["parameters"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|p| p["name"] == "Idempotency-Key"));
                assert_eq!(has_key, method == "post", "{method} {path}");
            }
        }
    }
}
