//! Four eyes for alerts that ask a customer to act.
//!
//! A customer trusts an alert because the bank signed it. A single rogue or
//! tricked agent must not be able to make the bank sign a phishing message
//! ("call this number", "confirm this payment"): an alert of a kind that
//! asks the customer to act, composed in the agent console, is kept
//! unsigned in `pending_alerts` until a second staff member approves it.
//! Only then is it signed (with `respond_by` counted from that moment) and
//! delivered. Every proposal, approval and refusal is audited; the console
//! shows what is pending (`/console/approvals`).
//!
//! The bank API (`/bank/v1/alerts`) is the bank's own systems, authenticated
//! by the bank API key, and is not gated here: its controls are the bank's.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use strongroom_core::protocol::alert::{AlertEvent, AlertKind};

use crate::bank::issue_alerts;
use crate::console::{
    current, error_page, header_bar, live_page, see_other, signed_in_form, storage_error, when,
};
use crate::crypto::{now_ms, random_uuid};
use crate::error::GatewayError;
use crate::sql::{Connection, OptionalExtension, params};
use crate::staff::{self, Session, StaffMember};
use crate::state::Shared;

/// Whether an alert of `kind` asks the customer to act, and so needs a
/// second staff member's approval before the bank signs it: a fraud check
/// (answer it), a security or sign-in warning and a payment reminder ("if
/// this was not you, call us", "pay now": what phishing copies), and free
/// text, which can say anything.
pub fn needs_approval(kind: AlertKind) -> bool {
    matches!(
        kind,
        AlertKind::FraudCheck
            | AlertKind::SecurityDetailChanged
            | AlertKind::NewDeviceSignIn
            | AlertKind::PaymentDue
            | AlertKind::Custom
    )
}

/// An alert waiting for a second staff member.
#[derive(Debug, Clone)]
pub struct PendingAlert {
    /// Its id (not the alert's: that is made when it is signed).
    pub id: String,
    /// The customer it is for.
    pub customer_id: i64,
    /// The customer's username.
    pub username: String,
    /// What kind of alert.
    pub kind: AlertKind,
    /// Its content, as it will be signed.
    pub event: AlertEvent,
    /// Who composed it.
    pub composed_by: i64,
    /// Their display name.
    pub composer: String,
    /// When (milliseconds).
    pub composed_at: i64,
}

/// Records a proposed alert and audits it (`alert.propose`). Returns its
/// pending id.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn propose(
    conn: &Connection,
    rng: &ring::rand::SystemRandom,
    by: &StaffMember,
    customer_id: i64,
    username: &str,
    kind: AlertKind,
    event: &AlertEvent,
) -> Result<String, GatewayError> {
    let id = random_uuid(rng);
    let json = serde_json::to_string(event)
        .map_err(|e| GatewayError::Storage(format!("an alert's content: {e}")))?;
    conn.execute(
        "INSERT INTO pending_alerts (id, customer_id, kind, event, composed_by, composed_at, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending')",
        params![id, customer_id, kind.name(), json, by.id, now_ms()],
    )?;
    staff::audit(
        conn,
        Some(by),
        "alert.propose",
        &format!(
            "customer {username}, {} alert, pending approval {id}",
            kind.name()
        ),
    )?;
    Ok(id)
}

const PENDING_COLUMNS: &str = "p.id, p.customer_id, c.username, p.kind, p.event, p.composed_by, s.display_name, p.composed_at";

fn pending_from_row(r: &crate::sql::Row) -> Result<(PendingAlert, String), crate::sql::Error> {
    let kind: String = r.get(3)?;
    let event: String = r.get(4)?;
    Ok((
        PendingAlert {
            id: r.get(0)?,
            customer_id: r.get(1)?,
            username: r.get(2)?,
            // Checked below: an unknown kind or unreadable content is a
            // damaged row, reported, never signed.
            kind: AlertKind::ALL
                .into_iter()
                .find(|k| k.name() == kind)
                .unwrap_or(AlertKind::Custom),
            event: serde_json::from_str(&event).unwrap_or(AlertEvent {
                severity: strongroom_core::protocol::alert::AlertSeverity::Info,
                text: String::new(),
                account_ref: None,
                amount_minor: None,
                currency: None,
                merchant: None,
                country: None,
                respond_by: None,
                balance_minor: None,
            }),
            composed_by: r.get(5)?,
            composer: r.get(6)?,
            composed_at: r.get(7)?,
        },
        kind,
    ))
}

/// The alerts pending approval, oldest first (at most 200).
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn pending(conn: &Connection) -> Result<Vec<PendingAlert>, GatewayError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PENDING_COLUMNS} FROM pending_alerts p
         JOIN customers c ON c.id = p.customer_id JOIN staff s ON s.id = p.composed_by
         WHERE p.status = 'pending' ORDER BY p.composed_at, p.id LIMIT 200"
    ))?;
    let rows = stmt.query_map((), pending_from_row)?;
    Ok(rows
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|(p, _)| p)
        .collect())
}

/// What a staff member's decision on a pending alert came to.
#[derive(Debug)]
pub enum Decision {
    /// Claimed for signing: sign and deliver it, then [`record_signed`].
    Approved(Box<PendingAlert>),
    /// Refused; nothing will be signed.
    Refused,
    /// Not pending (unknown, or already decided by someone else).
    NotPending,
    /// The composer cannot approve their own alert.
    OwnAlert,
}

/// Approves (`approve`) or refuses a pending alert as `by`, atomically: of
/// two staff deciding at once, one wins. Approval by its composer is
/// refused (and audited, `alert.self_approval_refused`). Refusal (by
/// anyone, the composer withdrawing included) is audited here
/// (`alert.refuse`); approval is audited by [`record_signed`]
/// once the alert is signed.
///
/// # Errors
/// [`GatewayError::Storage`], or a damaged row.
pub fn decide(
    conn: &Connection,
    by: &StaffMember,
    id: &str,
    approve: bool,
) -> Result<Decision, GatewayError> {
    let found = conn
        .query_row(
            &format!(
                "SELECT {PENDING_COLUMNS} FROM pending_alerts p
                 JOIN customers c ON c.id = p.customer_id JOIN staff s ON s.id = p.composed_by
                 WHERE p.id = ?1 AND p.status = 'pending'"
            ),
            [id],
            pending_from_row,
        )
        .optional()?;
    let Some((alert, kind_text)) = found else {
        return Ok(Decision::NotPending);
    };
    if approve && alert.composed_by == by.id {
        staff::audit(
            conn,
            Some(by),
            "alert.self_approval_refused",
            &format!("pending approval {id}"),
        )?;
        return Ok(Decision::OwnAlert);
    }
    let status = if approve { "approved" } else { "refused" };
    let claimed = conn.execute(
        "UPDATE pending_alerts SET status = ?1, decided_by = ?2, decided_at = ?3
         WHERE id = ?4 AND status = 'pending'",
        params![status, by.id, now_ms(), id],
    )?;
    if claimed != 1 {
        return Ok(Decision::NotPending);
    }
    if !approve {
        staff::audit(
            conn,
            Some(by),
            "alert.refuse",
            &format!(
                "customer {}, {kind_text} alert, pending approval {id}",
                alert.username
            ),
        )?;
        return Ok(Decision::Refused);
    }
    if alert.kind.name() != kind_text || alert.event.text.is_empty() {
        return Err(GatewayError::Storage(format!(
            "pending alert {id} is damaged and was not signed"
        )));
    }
    Ok(Decision::Approved(Box::new(alert)))
}

/// Records the signed alert's id on an approved pending alert and audits
/// the approval (`alert.approve`), naming the composer and the approver.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn record_signed(
    conn: &Connection,
    by: &StaffMember,
    pending: &PendingAlert,
    alert_id: &str,
) -> Result<(), GatewayError> {
    conn.execute(
        "UPDATE pending_alerts SET alert_id = ?1 WHERE id = ?2",
        params![alert_id, pending.id],
    )?;
    staff::audit(
        conn,
        Some(by),
        "alert.approve",
        &format!(
            "customer {}, {} alert {alert_id} composed by {} (pending approval {})",
            pending.username,
            pending.kind.name(),
            pending.composer,
            pending.id
        ),
    )
}

/// Puts an approved alert back to pending when signing it failed, so it is
/// neither lost nor half-sent.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn unclaim(conn: &Connection, id: &str) -> Result<(), GatewayError> {
    conn.execute(
        "UPDATE pending_alerts SET status = 'pending', decided_by = NULL, decided_at = NULL
         WHERE id = ?1 AND status = 'approved' AND alert_id IS NULL",
        [id],
    )?;
    Ok(())
}

/// How many alerts wait for approval (for the console's bar).
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn pending_count(conn: &Connection) -> Result<i64, GatewayError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM pending_alerts WHERE status = 'pending'",
        (),
        |r| r.get(0),
    )?)
}

fn amount_text(event: &AlertEvent) -> String {
    match (event.amount_minor, &event.currency) {
        (Some(minor), Some(currency)) => format!(
            "{}.{:02} {currency}",
            minor.div_euclid(100),
            minor.rem_euclid(100)
        ),
        (Some(minor), None) => format!("{}.{:02}", minor.div_euclid(100), minor.rem_euclid(100)),
        _ => String::new(),
    }
}

/// `GET /console/approvals`: the alerts waiting for a second staff member,
/// each with Approve and Refuse (Approve is not offered on one's own).
pub async fn page(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let session = match current(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return see_other("/console"),
        Err(e) => return storage_error(&e),
    };
    let waiting = match state.db.read(pending).await {
        Ok(w) => w,
        Err(e) => return storage_error(&e),
    };
    live_page(
        "Agent console: approvals",
        approvals_view(&session, &waiting),
        None,
    )
}

fn approvals_view(session: &Session, waiting: &[PendingAlert]) -> Markup {
    html! {
        (header_bar(session))
        h1 { "Alerts waiting for approval" }
        p { "Alerts that ask a customer to act are signed only when a second staff member approves them." }
        @if waiting.is_empty() {
            p { "Nothing is waiting for approval." }
        } @else {
            ol.chat {
                @for p in waiting {
                    li.msg {
                        p {
                            strong { (p.kind.name()) }
                            " (" (format!("{:?}", p.event.severity).to_lowercase()) ") for " (p.username)
                            ", composed by " (p.composer) " at " (when(p.composed_at))
                        }
                        p.body { (p.event.text) }
                        p {
                            (amount_text(&p.event))
                            @if let Some(merchant) = &p.event.merchant { " at " (merchant) }
                        }
                        form method="post" action={ "/console/approvals/" (p.id) } {
                            input type="hidden" name="csrf" value=(session.csrf);
                            @if p.composed_by == session.staff.id {
                                span.muted { "yours: another staff member must approve it" }
                            } @else {
                                button type="submit" name="action" value="approve" { "Approve, sign and send" }
                            }
                            button type="submit" name="action" value="refuse" { "Refuse" }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /console/approvals/{id}`: approve (sign and deliver) or refuse.
pub async fn decide_form(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (session, fields) = match signed_in_form(&state, &headers, &body).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let approve = match fields.get("action").map(String::as_str) {
        Some("approve") => true,
        Some("refuse") => false,
        _ => return error_page(StatusCode::BAD_REQUEST, "Choose Approve or Refuse."),
    };
    let by = session.staff.clone();
    let claim_id = id.clone();
    let decision = match state
        .db
        .write(move |c| decide(c, &by, &claim_id, approve))
        .await
    {
        Ok(d) => d,
        Err(e) => return storage_error(&e),
    };
    let pending = match decision {
        Decision::Refused => return see_other("/console/approvals"),
        Decision::NotPending => {
            return error_page(
                StatusCode::CONFLICT,
                "This alert is no longer waiting: someone decided on it already.",
            );
        }
        Decision::OwnAlert => {
            return error_page(
                StatusCode::FORBIDDEN,
                "You composed this alert: another staff member must approve it.",
            );
        }
        Decision::Approved(pending) => pending,
    };
    let mut event = pending.event.clone();
    if pending.kind == AlertKind::FraudCheck {
        // The customer's time to answer starts when the bank signs it.
        event.respond_by = Some(crate::crypto::now_s() + crate::rules::FRAUD_CHECK_WINDOW_S);
    }
    let signed = match issue_alerts(&state, pending.customer_id, vec![(pending.kind, event)]).await
    {
        Ok(signed) => signed,
        Err(problem) => {
            let back = pending.id.clone();
            let _ = state.db.write(move |c| unclaim(c, &back)).await;
            return error_page(problem.status, &format!("Not sent: {}.", problem.detail));
        }
    };
    let alert_id = signed.first().map(|a| a.id.clone()).unwrap_or_default();
    let by = session.staff.clone();
    let logged = state
        .db
        .write(move |c| record_signed(c, &by, &pending, &alert_id))
        .await;
    if let Err(e) = logged {
        return storage_error(&e);
    }
    see_other("/console/approvals")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_that_ask_the_customer_to_act_need_approval() {
        let gated: Vec<&str> = AlertKind::ALL
            .into_iter()
            .filter(|k| needs_approval(*k))
            .map(AlertKind::name)
            .collect();
        assert_eq!(
            gated,
            [
                "payment_due",
                "new_device_sign_in",
                "security_detail_changed",
                "fraud_check",
                "custom"
            ]
        );
    }

    #[test]
    fn pending_alerts_show_as_text_and_the_composer_cannot_approve() {
        let event = |text: &str, merchant: Option<&str>| AlertEvent {
            severity: strongroom_core::protocol::alert::AlertSeverity::Warning,
            text: text.into(),
            account_ref: None,
            amount_minor: Some(4_250),
            currency: Some("GBP".into()),
            merchant: merchant.map(str::to_owned),
            country: None,
            respond_by: None,
            balance_minor: None,
        };
        let waiting = [
            PendingAlert {
                id: "p\"1".into(),
                customer_id: 2,
                username: "alice&".into(),
                kind: AlertKind::Custom,
                event: event(
                    "<script>alert(\"x\")</script> call 0800",
                    Some("Café <b>&</b>"),
                ),
                composed_by: 1,
                composer: "Ana <i>".into(),
                composed_at: 0,
            },
            PendingAlert {
                id: "p2".into(),
                customer_id: 2,
                username: "alice".into(),
                kind: AlertKind::FraudCheck,
                event: event("Was this you?", None),
                composed_by: 2,
                composer: "Bo".into(),
                composed_at: 0,
            },
        ];
        let ana = crate::console::signed_in("Ana", crate::staff::Role::Agent);
        let html = approvals_view(&ana, &waiting).into_string();
        for expected in [
            "<li class=\"msg\"><p><strong>custom</strong> (warning) for alice&amp;, composed by Ana &lt;i&gt; \
             at 1970-01-01 00:00:00 UTC</p><p class=\"body\">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; call 0800</p>\
             <p>42.50 GBP at Café &lt;b&gt;&amp;&lt;/b&gt;</p>\
             <form method=\"post\" action=\"/console/approvals/p&quot;1\">\
             <input type=\"hidden\" name=\"csrf\" value=\"csrf-token\">\
             <span class=\"muted\">yours: another staff member must approve it</span>\
             <button type=\"submit\" name=\"action\" value=\"refuse\">Refuse</button></form></li>",
            "<p>42.50 GBP</p><form method=\"post\" action=\"/console/approvals/p2\">\
             <input type=\"hidden\" name=\"csrf\" value=\"csrf-token\">\
             <button type=\"submit\" name=\"action\" value=\"approve\">Approve, sign and send</button>",
        ] {
            assert!(html.contains(expected), "{expected} missing from {html}");
        }
        assert!(!html.contains("<script>"), "{html}");
        let none = approvals_view(&ana, &[]).into_string();
        assert!(
            none.contains("<p>Nothing is waiting for approval.</p>"),
            "{none}"
        );
    }
}
