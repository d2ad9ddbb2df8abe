//! Scam-call reports: a customer whose app said the bank was not calling
//! (or could not check) reports the caller who claimed to be the bank. The
//! report arrives as a DPoP-bound request from the enrolled device, waits
//! in the console's queue until a staff member marks it handled, and the
//! bank reads reports through its API.

use std::collections::HashMap;

use crate::sql::{Connection, OptionalExtension, params};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use strongroom_core::protocol::frames::decode_scam_report;

use crate::auth::{authenticate, require_scope};
use crate::crypto::now_ms;
use crate::error::{GatewayError, Problem};
use crate::state::Shared;

/// One report, as the console and the bank API show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ScamReport {
    /// The device's id for it.
    pub id: String,
    /// The customer's row id (not shown to the bank).
    #[serde(skip)]
    pub customer_id: i64,
    /// Their username.
    pub customer: String,
    /// When the call came (ms).
    pub called_at: i64,
    /// The number shown to the customer (empty when not given).
    pub caller_number: String,
    /// The customer's words (empty when none).
    pub note: String,
    /// `not_calling` or `cant_check`: what the app showed.
    pub shown_status: String,
    /// When the gateway received it (ms).
    pub received_at: i64,
    /// When a staff member marked it handled (ms), if one has.
    pub handled_at: Option<i64>,
}

/// `POST /v1/scam-reports`: stores the report once per report id (a
/// repeat answers as the first did) and wakes the consoles.
pub async fn report(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let auth = authenticate(&state, &headers, "POST", "/v1/scam-reports").await?;
    require_scope(&auth, "alerts")?;
    let request = decode_scam_report(&body).map_err(|e| Problem::from_protocol(&e))?;
    let customer_id = auth.customer_id;
    let received_at = state
        .db
        .write_for_customer(customer_id, move |c| -> Result<i64, Problem> {
            // Scoped to the customer: another customer's report id is not
            // this one's to look up.
            let existing: Option<i64> = c
                .query_row(
                    "SELECT received_at FROM scam_reports WHERE id = ?1 AND customer_id = ?2",
                    params![request.report_id, customer_id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(at) = existing {
                return Ok(at);
            }
            let now = now_ms();
            let caller_number = request.caller_number.unwrap_or_default();
            let note = request.note.unwrap_or_default();
            let inserted = c.execute(
                "INSERT INTO scam_reports (id, customer_id, device_id, device_jkt, called_at,
                     caller_number, note, shown_status, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (id) DO NOTHING",
                params![
                    request.report_id,
                    customer_id,
                    auth.device_id,
                    auth.jkt,
                    request.called_at,
                    caller_number,
                    note,
                    request.shown_status.name(),
                    now
                ],
            )?;
            if inserted == 0 {
                // The id is another customer's: ask for a new one.
                return Err(Problem::new(
                    StatusCode::CONFLICT,
                    "report_id_taken",
                    "choose another report id",
                ));
            }
            // The bank's event streams hear of it in the same transaction.
            crate::transmitter::enqueue(
                c,
                customer_id,
                &crate::transmitter::scam_call_report(
                    &request.report_id,
                    request.called_at,
                    &caller_number,
                    &note,
                    request.shown_status.name(),
                    now,
                ),
            )?;
            Ok(now)
        })
        .await?;
    let _ = state.console_events.send(Some(customer_id));
    Ok((
        StatusCode::OK,
        Json(serde_json::json!({ "received_at": received_at })),
    )
        .into_response())
}

fn report_from_row(r: &crate::sql::Row) -> Result<ScamReport, crate::sql::Error> {
    Ok(ScamReport {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        customer: r.get(2)?,
        called_at: r.get(3)?,
        caller_number: r.get(4)?,
        note: r.get(5)?,
        shown_status: r.get(6)?,
        received_at: r.get(7)?,
        handled_at: r.get(8)?,
    })
}

const REPORTS: &str = "SELECT s.id, s.customer_id, u.username, s.called_at, s.caller_number,
        s.note, s.shown_status, s.received_at, s.handled_at
     FROM scam_reports s JOIN customers u ON u.id = s.customer_id";

/// The reports no staff member has handled yet, oldest first.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn unhandled(conn: &Connection) -> Result<Vec<ScamReport>, GatewayError> {
    let mut stmt = conn.prepare_cached(&format!(
        "{REPORTS} WHERE s.handled_at IS NULL ORDER BY s.received_at LIMIT 200"
    ))?;
    let rows = stmt.query_map((), report_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Marks a report handled by `staff` (audited `scam_report.handled`).
/// Returns whether it was waiting.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn mark_handled(
    conn: &Connection,
    staff: &crate::staff::StaffMember,
    id: &str,
) -> Result<bool, GatewayError> {
    let changed = conn.execute(
        "UPDATE scam_reports SET handled_by = ?2, handled_at = ?3 WHERE id = ?1 AND handled_at IS NULL",
        params![id, staff.id, now_ms()],
    )?;
    if changed > 0 {
        crate::staff::audit(
            conn,
            Some(staff),
            "scam_report.handled",
            &format!("report {id}"),
        )?;
    }
    Ok(changed > 0)
}

/// Scam-call reports, oldest first.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ScamReports {
    /// The reports.
    pub reports: Vec<ScamReport>,
}

/// `GET /bank/v1/scam-reports[?customer=]`: every report (of one
/// customer), oldest first.
#[utoipa::path(
    get,
    path = "/bank/v1/scam-reports",
    tag = "answers",
    summary = "Customers' reports of calls from someone claiming to be the bank",
    description = "Every report, handled or not, oldest first; of one customer with ?customer=.",
    params(("customer" = Option<String>, Query, description = "Only this customer's reports")),
    responses(
        (status = 200, description = "The reports", body = ScamReports),
        (status = 404, description = "No such customer", body = crate::bank::openapi::ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn get_scam_reports(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let customer = match query.get("customer").filter(|c| !c.is_empty()) {
        Some(username) => Some(
            crate::bank::customer_id(&state, username)
                .await?
                .ok_or_else(|| Problem::not_found(format!("no customer {username:?}")))?,
        ),
        None => None,
    };
    let reports = state
        .db
        .read(move |c| -> Result<Vec<ScamReport>, GatewayError> {
            let rows = match customer {
                Some(id) => c
                    .prepare_cached(&format!(
                        "{REPORTS} WHERE s.customer_id = ?1 ORDER BY s.received_at"
                    ))?
                    .query_map([id], report_from_row)?
                    .collect::<Result<Vec<_>, _>>()?,
                None => c
                    .prepare_cached(&format!("{REPORTS} ORDER BY s.received_at"))?
                    .query_map((), report_from_row)?
                    .collect::<Result<Vec<_>, _>>()?,
            };
            Ok(rows)
        })
        .await?;
    Ok(Json(ScamReports { reports }).into_response())
}
