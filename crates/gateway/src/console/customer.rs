//! A page or form about one customer: who they are, and the audit of
//! every read of their data, made before the page is shown.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::layout::{error_page, see_other, storage_error};
use super::session::{current, signed_in_form};
use crate::error::GatewayError;
use crate::sql::OptionalExtension;
use crate::staff::{self, Session};
use crate::state::Shared;

/// A customer's name and username by row id.
async fn customer_names(state: &Shared, id: i64) -> Result<Option<(String, String)>, GatewayError> {
    state
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT username, display_name FROM customers WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })
        .await
}

/// The session and the customer of a signed-in page about a customer:
/// `(session, username, name)`, or the page to answer with. The read is
/// audited first (`customer.read`, naming `what` and the customer): a
/// page that cannot be audited is not shown.
pub(super) async fn viewing(
    state: &Shared,
    headers: &HeaderMap,
    customer_id: i64,
    what: &'static str,
) -> Result<(Session, String, String), Response> {
    let session = match current(state, headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(see_other("/console")),
        Err(e) => return Err(storage_error(&e)),
    };
    let (username, name) = match customer_names(state, customer_id).await {
        Ok(Some(found)) => found,
        Ok(None) => return Err(error_page(StatusCode::NOT_FOUND, "No such customer.")),
        Err(e) => return Err(storage_error(&e)),
    };
    let (staff, customer) = (session.staff.clone(), username.clone());
    let audited = state
        .db
        .write(move |c| {
            staff::audit(
                c,
                Some(&staff),
                "customer.read",
                &format!("{what} of {customer}"),
            )
        })
        .await;
    match audited {
        Ok(()) => Ok((session, username, name)),
        Err(e) => Err(storage_error(&e)),
    }
}

/// The session, the form's fields and the customer's username of a
/// signed-in form post about a customer, or the page to answer with.
pub(super) async fn acting_on(
    state: &Shared,
    headers: &HeaderMap,
    body: &Bytes,
    customer_id: i64,
) -> Result<(Session, HashMap<String, String>, String), Response> {
    let (session, fields) = signed_in_form(state, headers, body).await?;
    match customer_names(state, customer_id).await {
        Ok(Some((username, _))) => Ok((session, fields, username)),
        Ok(None) => Err(error_page(StatusCode::NOT_FOUND, "No such customer.")),
        Err(e) => Err(storage_error(&e)),
    }
}
