//! Composing a signed alert to a customer from the console: the form, the
//! amount staff type, and sending (or holding for a second staff member's
//! approval).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use strongroom_core::protocol::alert::{AlertEvent, AlertKind, AlertSeverity};

use super::customer::acting_on;
use super::layout::{error_page, see_other, storage_error};
use crate::bank::issue_alerts;
use crate::crypto::now_s;
use crate::staff;
use crate::state::Shared;

/// The form that sends a signed alert to the customer.
pub(super) fn compose_form(customer_id: i64, csrf: &str) -> Markup {
    html! {
        h2 { "Send an alert" }
        form method="post" action={ "/console/c/" (customer_id) "/alert" } {
            label for="kind" { "Kind" }
            select id="kind" name="kind" {
                @for k in AlertKind::ALL {
                    option value=(k.name()) { (k.name()) }
                }
            }
            label for="severity" { "Severity" }
            select id="severity" name="severity" {
                option value="info" { "info" }
                option value="warning" { "warning" }
                option value="critical" { "critical" }
            }
            label for="text" { "Text" }
            textarea id="text" name="text" rows="2" maxlength="1024" required {}
            label for="amount" { "Amount (optional, e.g. 12.50)" }
            input type="text" id="amount" name="amount" inputmode="decimal";
            label for="currency" { "Currency" }
            input type="text" id="currency" name="currency" value="GBP" maxlength="3";
            label for="merchant" { "Merchant (optional)" }
            input type="text" id="merchant" name="merchant" maxlength="128";
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { "Sign and send" }
        }
    }
}

/// An amount typed by staff ("12", "12.5", "12.50") in minor units of a
/// two-decimal currency.
fn parse_amount(text: &str) -> Option<i64> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 2
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let cents = format!("{fraction:0<2}").parse::<i64>().ok()?;
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents)
}

/// `POST /console/c/{customer}/alert`: signs an alert with the bank's
/// current key and delivers it to every device of the customer, exactly as
/// `POST /bank/v1/alerts` does.
pub async fn compose(
    State(state): State<Shared>,
    Path(customer_id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (session, fields, username) = match acting_on(&state, &headers, &body, customer_id).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let get = |name: &str| fields.get(name).map(|v| v.trim()).unwrap_or("");
    let Some(kind) = AlertKind::ALL.into_iter().find(|k| k.name() == get("kind")) else {
        return error_page(StatusCode::BAD_REQUEST, "Choose a kind of alert.");
    };
    let severity = match get("severity") {
        "info" => AlertSeverity::Info,
        "warning" => AlertSeverity::Warning,
        "critical" => AlertSeverity::Critical,
        _ => return error_page(StatusCode::BAD_REQUEST, "Choose a severity."),
    };
    let amount_minor = match get("amount") {
        "" => None,
        typed => match parse_amount(typed) {
            Some(minor) => Some(minor),
            None => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "An amount is digits with at most two decimals, like 12.50.",
                );
            }
        },
    };
    let optional = |name: &str| Some(get(name).to_owned()).filter(|v| !v.is_empty());
    let event = AlertEvent {
        severity,
        text: get("text").replace("\r\n", "\n"),
        account_ref: None,
        amount_minor,
        currency: amount_minor.and(optional("currency").map(|c| c.to_ascii_uppercase())),
        merchant: optional("merchant"),
        country: None,
        respond_by: (kind == AlertKind::FraudCheck)
            .then(|| now_s() + crate::rules::FRAUD_CHECK_WINDOW_S),
        balance_minor: None,
    };
    if crate::approvals::needs_approval(kind) {
        // Four eyes: kept unsigned until a second staff member approves it.
        if let Err(problem) = crate::bank::check_alert_event(&event) {
            return error_page(problem.status, &format!("Not sent: {}.", problem.detail));
        }
        let rng = state.rng.clone();
        let proposed = state
            .db
            .write(move |c| {
                crate::approvals::propose(
                    c,
                    &rng,
                    &session.staff,
                    customer_id,
                    &username,
                    kind,
                    &event,
                )
            })
            .await;
        return match proposed {
            Ok(_) => see_other("/console/approvals"),
            Err(e) => storage_error(&e),
        };
    }
    let signed = match issue_alerts(&state, customer_id, vec![(kind, event)]).await {
        Ok(signed) => signed,
        Err(problem) => {
            return error_page(problem.status, &format!("Not sent: {}.", problem.detail));
        }
    };
    let id = signed.first().map(|a| a.id.clone()).unwrap_or_default();
    let logged = state
        .db
        .write(move |c| {
            staff::audit(
                c,
                Some(&session.staff),
                "alert.send",
                &format!("customer {username}, {} alert {id}", kind.name()),
            )
        })
        .await;
    if let Err(e) = logged {
        return storage_error(&e);
    }
    see_other(&format!("/console/c/{customer_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_digits_with_two_decimals_at_most() {
        assert_eq!(parse_amount("12"), Some(1200));
        assert_eq!(parse_amount("12.5"), Some(1250));
        assert_eq!(parse_amount(" 0.07 "), Some(7));
        for bad in [
            "",
            "-1",
            "1.234",
            "1,50",
            "1e3",
            ".5",
            "99999999999999999999",
        ] {
            assert_eq!(parse_amount(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_form_offers_every_kind_and_carries_the_session_token() {
        let html = compose_form(5, "a\"b").into_string();
        assert!(
            html.starts_with(
                "<h2>Send an alert</h2><form method=\"post\" action=\"/console/c/5/alert\">"
            ),
            "{html}"
        );
        for kind in AlertKind::ALL {
            let option = format!("<option value=\"{0}\">{0}</option>", kind.name());
            assert!(html.contains(&option), "{option} missing from {html}");
        }
        assert!(
            html.contains("<input type=\"text\" id=\"currency\" name=\"currency\" value=\"GBP\" maxlength=\"3\">")
                && html.contains("<input type=\"hidden\" name=\"csrf\" value=\"a&quot;b\"><button type=\"submit\">Sign and send</button></form>"),
            "{html}"
        );
    }
}
