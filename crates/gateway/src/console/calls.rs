//! Call status in the console: "I am calling this customer" on a
//! customer's page, renew and end, and the list of open calls. The
//! statements themselves are made in `crate::calls`. Also the queue of
//! customers' scam-call reports.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use strongroom_core::protocol::call::CallReason;

use super::customer::acting_on;
use super::layout::{error_page, see_other, storage_error, when};
use super::session::signed_in_form;
use crate::calls::{self, OpenCall};
use crate::crypto::now_s;
use crate::error::GatewayError;
use crate::scam_reports::{self, ScamReport};
use crate::state::Shared;

/// The call controls of a customer's page: the open calls to this
/// customer (renew, end) and the form to start one.
pub(super) fn call_panel(customer_id: i64, csrf: &str, open: &[OpenCall]) -> Markup {
    html! {
        section.calls data-customer=(customer_id) {
            h2 { "Call status" }
            @if open.is_empty() {
                p.muted data-call-state="none" { "No call open: the customer's app says the bank is not calling." }
            }
            @for call in open {
                div.call data-call-id=(call.id) data-call-state="open" {
                    p {
                        strong { (call.agent) } " is calling about " (call.reason.label())
                        " since " (when(call.started_at * 1000))
                        span.muted { " (counts until " (when(call.expires_at * 1000)) " unless renewed)" }
                    }
                    form method="post" action={ "/console/c/" (customer_id) "/call/" (call.id) "/renew" } {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" { "Renew for 30 minutes" }
                    }
                    form method="post" action={ "/console/c/" (customer_id) "/call/" (call.id) "/end" } {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" class="end-call" { "Call ended" }
                    }
                }
            }
            form method="post" action={ "/console/c/" (customer_id) "/call" } {
                label for="reason" { "I am calling this customer about" }
                select id="reason" name="reason" {
                    @for r in CallReason::ALL {
                        option value=(r.name()) { (r.label()) }
                    }
                }
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" class="start-call" { "I am calling this customer" }
            }
        }
    }
}

/// The open calls of one customer, for their page.
///
/// # Errors
/// [`GatewayError::Storage`].
pub(super) async fn open_for(
    state: &Shared,
    customer_id: i64,
) -> Result<Vec<OpenCall>, GatewayError> {
    state
        .db
        .read(move |c| calls::open_calls(c, Some(customer_id), now_s()))
        .await
}

/// Which change a form asks for.
enum Change {
    Start(CallReason),
    Renew(String),
    End(String),
}

async fn change(
    state: Shared,
    headers: HeaderMap,
    body: Bytes,
    customer_id: i64,
    change: impl FnOnce(&std::collections::HashMap<String, String>) -> Option<Change>,
) -> Response {
    let (session, fields, _) = match acting_on(&state, &headers, &body, customer_id).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let Some(change) = change(&fields) else {
        return error_page(StatusCode::BAD_REQUEST, "Choose a reason from the list.");
    };
    let key = state.signing().current;
    let (issuer, rng, staff) = (state.issuer.clone(), state.rng.clone(), session.staff);
    let done = state
        .db
        .write_for_customer(customer_id, move |c| {
            // A call id from the form must belong to this page's customer.
            let belongs = |id: &str| -> Result<(), GatewayError> {
                let open = calls::open_calls(c, Some(customer_id), now_s())?;
                if open.iter().any(|call| call.id == id) {
                    Ok(())
                } else {
                    Err(GatewayError::Invalid(
                        "that call is not open for this customer (ended or expired)".into(),
                    ))
                }
            };
            match &change {
                Change::Start(reason) => {
                    calls::start(c, &key, &issuer, &staff, customer_id, *reason, &rng)
                }
                Change::Renew(id) => {
                    belongs(id)?;
                    calls::renew(c, &key, &issuer, &staff, id, &rng)
                }
                Change::End(id) => {
                    belongs(id)?;
                    calls::end(c, &key, &issuer, &staff, id, &rng)
                }
            }
        })
        .await;
    match done {
        Ok(change) => {
            state.hub.notify_all(&change.committed);
            let _ = state.console_events.send(Some(customer_id));
            see_other(&format!("/console/c/{customer_id}"))
        }
        Err(GatewayError::Invalid(why)) => error_page(StatusCode::CONFLICT, &why),
        Err(e) => storage_error(&e),
    }
}

/// `POST /console/c/{customer}/call`: starts a call status (or renews the
/// agent's open one), signed and delivered to the customer's devices.
pub async fn start_call(
    State(state): State<Shared>,
    Path(customer_id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    change(state, headers, body, customer_id, |fields| {
        let reason = fields.get("reason").map(|r| r.trim()).unwrap_or("");
        CallReason::from_name(reason).map(Change::Start)
    })
    .await
}

/// `POST /console/c/{customer}/call/{call}/renew`: 30 more minutes.
pub async fn renew_call(
    State(state): State<Shared>,
    Path((customer_id, call_id)): Path<(i64, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    change(state, headers, body, customer_id, move |_| {
        Some(Change::Renew(call_id))
    })
    .await
}

/// `POST /console/c/{customer}/call/{call}/end`: the call is over; the
/// customer's devices are told at once.
pub async fn end_call(
    State(state): State<Shared>,
    Path((customer_id, call_id)): Path<(i64, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    change(state, headers, body, customer_id, move |_| {
        Some(Change::End(call_id))
    })
    .await
}

/// The open calls over all customers, for the console's home page.
pub(super) fn open_calls_list(open: &[OpenCall]) -> Markup {
    html! {
        h2 { "Open calls" }
        @if open.is_empty() {
            p.muted { "No call status is open." }
        } @else {
            ul.open-calls {
                @for call in open {
                    li data-call-id=(call.id) {
                        a href={ "/console/c/" (call.customer_id) } { (call.customer) }
                        ": " (call.agent) ", about " (call.reason.label())
                        ", since " (when(call.started_at * 1000))
                    }
                }
            }
        }
    }
}

/// The scam-call reports waiting for a staff member, on the console's
/// home page.
pub(super) fn scam_reports_list(csrf: &str, reports: &[ScamReport]) -> Markup {
    html! {
        h2 { "Scam-call reports" }
        @if reports.is_empty() {
            p.muted { "No scam-call report is waiting." }
        } @else {
            ol.scam-reports {
                @for r in reports {
                    li data-report-id=(r.id) data-customer=(r.customer) {
                        strong { "Scam-call report" } " from "
                        a href={ "/console/c/" (r.customer_id) } { (r.customer) }
                        ": a call at " (when(r.called_at))
                        @if !r.caller_number.is_empty() { " from " (r.caller_number) }
                        " while the app said "
                        @if r.shown_status == "not_calling" { "we were not calling" } @else { "it could not check" }
                        @if !r.note.is_empty() { p.body { (r.note) } }
                        form method="post" action={ "/console/scam-reports/" (r.id) "/handled" } {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { "Handled" }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /console/scam-reports/{report}/handled`: takes a report out of the
/// queue (audited).
pub async fn scam_report_handled(
    State(state): State<Shared>,
    Path(report_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (session, _) = match signed_in_form(&state, &headers, &body).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let done = state
        .db
        .write(move |c| scam_reports::mark_handled(c, &session.staff, &report_id))
        .await;
    match done {
        Ok(_) => {
            let _ = state.console_events.send(None);
            see_other("/console")
        }
        Err(e) => storage_error(&e),
    }
}
