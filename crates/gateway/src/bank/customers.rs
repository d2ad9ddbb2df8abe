//! The bank's customers as the gateway knows them: creating one (with a
//! subject identifier, the audience of their alerts), and finding one by
//! username or id, with the facts that never change kept in memory.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::checks::{check_amount, check_shown_text, invalid, json, valid_country, valid_username};
use super::created;
use crate::crypto::{now_ms, random_bytes};
use crate::error::{GatewayError, Problem};
use crate::events::{Customer, customer_by_username};
use crate::sql::{OptionalExtension, params};
use crate::state::{AppState, Shared};

/// A customer by username, 404 if there is none.
pub(super) async fn customer(state: &Shared, username: &str) -> Result<Customer, Problem> {
    let name = username.to_owned();
    state
        .db
        .read(move |c| customer_by_username(c, &name))
        .await?
        .ok_or_else(|| Problem::not_found(format!("no customer {username:?}")))
}

/// A customer's id by username, 404 if there is none; see
/// [`customer_id`].
pub(super) async fn known_customer(state: &Shared, username: &str) -> Result<i64, Problem> {
    customer_id(state, username)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no customer {username:?}")))
}

/// A new customer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    /// Sign-in name: lower-case letters, digits, `.`, `_`, `-`.
    pub username: String,
    /// Name shown in chat and to staff.
    pub display_name: String,
    /// The web banking password (hashed with Argon2id, never stored), for
    /// the built-in authorization server's page. A customer of a bank that
    /// runs its own authorization server has none: it gives `idp_subject`.
    #[serde(default)]
    pub password: Option<String>,
    /// The customer's subject identifier at the bank's own identity
    /// provider (its access tokens' `sub`, or the configured claim), when
    /// the gateway is a resource server beside it.
    #[serde(default)]
    pub idp_subject: Option<String>,
    /// ISO 3166-1 alpha-2 home country.
    pub home_country: String,
    /// Purchases at or above this raise an alert (default 100.00).
    #[serde(default)]
    pub purchase_threshold_minor: Option<i64>,
    /// A balance below this raises an alert (default 50.00).
    #[serde(default)]
    pub balance_low_minor: Option<i64>,
}

/// Creates a customer; `Ok(false)` if the username is taken.
///
/// # Errors
/// 422 for invalid fields, storage failures.
pub async fn create_customer(state: &Shared, new: NewCustomer) -> Result<bool, Problem> {
    if !valid_username(&new.username) {
        return Err(invalid("username: 1 to 64 of a-z, 0-9, '.', '_', '-'"));
    }
    if new.display_name.trim().is_empty() || new.display_name.len() > 128 {
        return Err(invalid("display_name: 1 to 128 bytes"));
    }
    check_shown_text("display_name", &new.display_name)?;
    match (&new.password, &new.idp_subject) {
        (None, None) => return Err(invalid("password or idp_subject is required")),
        (Some(p), _) if p.len() < 8 || p.len() > 1024 => {
            return Err(invalid("password: 8 to 1024 bytes"));
        }
        _ => {}
    }
    if let Some(sub) = &new.idp_subject
        && (sub.is_empty() || sub.len() > 255 || sub.chars().any(char::is_control))
    {
        return Err(invalid(
            "idp_subject: 1 to 255 bytes, no control characters",
        ));
    }
    if !valid_country(&new.home_country) {
        return Err(invalid("home_country: ISO 3166-1 alpha-2, upper case"));
    }
    if let Some(threshold) = new.purchase_threshold_minor {
        check_amount("purchase_threshold_minor", threshold, false)?;
    }
    if let Some(threshold) = new.balance_low_minor {
        check_amount("balance_low_minor", threshold, true)?;
    }
    let rng = state.rng.clone();
    let subject = new_subject(&rng);
    let password = new.password;
    // The bank's own calls wait for a slot rather than being refused.
    let permit = Arc::clone(&state.password_checks)
        .acquire_owned()
        .await
        .map_err(|e| Problem::internal(&e))?;
    let phc = match password {
        // '!' is no PHC string: no password ever verifies against it.
        None => "!".to_owned(),
        Some(password) => tokio::task::spawn_blocking(move || {
            let phc = crate::passwords::hash_password(&password, &rng);
            drop(permit);
            phc
        })
        .await
        .map_err(|e| Problem::internal(&e))??,
    };
    state
        .db
        .write(move |c| -> Result<bool, GatewayError> {
            let n = c.execute(
                "INSERT INTO customers(username, display_name, password_hash, home_country,
                    purchase_threshold_minor, balance_low_minor, created_at, subject, idp_subject)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
                params![
                    new.username,
                    new.display_name,
                    phc,
                    new.home_country,
                    new.purchase_threshold_minor.unwrap_or(10_000),
                    new.balance_low_minor.unwrap_or(5_000),
                    now_ms(),
                    subject,
                    new.idp_subject
                ],
            )?;
            Ok(n == 1)
        })
        .await
        .map_err(Problem::from)
}

/// A customer made.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerCreated {
    /// Their username.
    pub username: String,
}

/// `POST /bank/v1/customers`.
#[utoipa::path(
    post,
    path = "/bank/v1/customers",
    tag = "customers",
    summary = "Create a customer",
    description = "A customer who can then link the app: with a web banking password for the \
        gateway's own sign-in page, or with their subject at the bank's identity provider.",
    request_body = NewCustomer,
    responses(
        (status = 201, description = "Created", body = CustomerCreated),
        (status = 409, description = "The username, or the idp_subject, is taken", body = super::openapi::ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn post_customer(State(state): State<Shared>, body: Bytes) -> Result<Response, Problem> {
    let new: NewCustomer = json(&body)?;
    let username = new.username.clone();
    if create_customer(&state, new).await? {
        Ok(created(CustomerCreated { username }))
    } else {
        Err(Problem::new(
            StatusCode::CONFLICT,
            "customer_exists",
            format!("customer {username:?} exists, or another customer has this idp_subject"),
        ))
    }
}

/// A new customer's subject identifier: 128 random bits, hex. It is the
/// audience of every alert signed for the customer and says nothing about
/// them.
pub fn new_subject(rng: &ring::rand::SystemRandom) -> String {
    crate::crypto::hex(&random_bytes::<16>(rng))
}

/// The subject identifier of a customer (the audience of their alerts),
/// kept in [`AppState::customer_subjects`](crate::state::AppState) after
/// the first read.
///
/// # Errors
/// Storage failures; [`GatewayError::Storage`] for a customer without one
/// (every row gets one when created or migrated).
pub async fn customer_subject(state: &AppState, customer_id: i64) -> Result<String, GatewayError> {
    if let Some(subject) = state.customer_subjects.get(&customer_id) {
        return Ok(subject);
    }
    let subject = state.db.read(move |c| subject_of(c, customer_id)).await?;
    state.customer_subjects.insert(customer_id, subject.clone());
    Ok(subject)
}

/// [`customer_subject`] inside a database job.
///
/// # Errors
/// As [`customer_subject`].
pub fn subject_of(conn: &crate::sql::Connection, customer_id: i64) -> Result<String, GatewayError> {
    let subject: Option<String> = conn
        .prepare_cached("SELECT subject FROM customers WHERE id = ?1")?
        .query_row([customer_id], |r| r.get(0))
        .optional()?
        .flatten();
    subject.ok_or_else(|| {
        GatewayError::Storage(format!("customer {customer_id} has no subject identifier"))
    })
}

/// Looks up a customer's id by username, first in
/// [`AppState::customer_ids`](crate::state::AppState::customer_ids): every
/// alert the bank posts names its customer, and a database read for each
/// was one more round trip per alert.
///
/// # Errors
/// Storage failures.
pub async fn customer_id(state: &Shared, username: &str) -> Result<Option<i64>, GatewayError> {
    if let Some(id) = state.customer_ids.get(username) {
        return Ok(Some(id));
    }
    let name = username.to_owned();
    // Its subject too, in the same read: an alert for a customer not
    // remembered (most of them, at a bank's scale) needs both.
    let found = state
        .db
        .read(
            move |c| -> Result<Option<(i64, Option<String>)>, GatewayError> {
                Ok(
                    c.prepare_cached("SELECT id, subject FROM customers WHERE username = ?1")?
                        .query_row([name.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?,
                )
            },
        )
        .await?;
    let Some((id, subject)) = found else {
        return Ok(None);
    };
    state.customer_ids.insert(username.to_owned(), id);
    if let Some(subject) = subject {
        state.customer_subjects.insert(id, subject);
    }
    Ok(Some(id))
}
