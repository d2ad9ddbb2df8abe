//! Each alert sent to a customer and its delivery: when it reached each
//! device, when the device acknowledged it, and a fraud check's answer.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};

use super::customer::viewing;
use super::layout::{header_bar, storage_error, when};
use crate::error::GatewayError;
use crate::page::page;
use crate::staff::Session;
use crate::state::Shared;

/// One alert in the delivery view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertDelivery {
    /// The alert's id (its `jti`).
    pub id: String,
    /// Its kind's name.
    pub kind: String,
    /// When the gateway signed it, in milliseconds.
    pub sent_at: i64,
    /// Per device: its id, when a stream wrote the alert to it, and when
    /// the device acknowledged it (milliseconds).
    pub devices: Vec<(String, Option<i64>, Option<i64>)>,
    /// The fraud check's answer and when it was given (milliseconds).
    pub answer: Option<(String, i64)>,
}

/// A customer's newest alerts and their delivery, as stored by whichever
/// gateway held the device's stream. An acknowledgement implies delivery:
/// a device acknowledged but with no delivery time recorded shows the
/// acknowledgement's time for both.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn alert_deliveries(
    conn: &crate::sql::Connection,
    customer_id: i64,
) -> Result<Vec<AlertDelivery>, GatewayError> {
    let mut alerts = conn.prepare(
        "SELECT a.id, a.kind, a.created_at, f.answer, f.answered_at
         FROM alerts a LEFT JOIN fraud_answers f ON f.alert_id = a.id
         WHERE a.customer_id = ?1 ORDER BY a.created_at DESC, a.id LIMIT 50",
    )?;
    let mut per_device = conn.prepare(
        "SELECT e.device_id, e.seq, e.acked_at, COALESCE(k.acked_seq, 0), e.delivered_at
         FROM events e LEFT JOIN device_acks k ON k.device_id = e.device_id
         WHERE e.alert_id = ?1 ORDER BY e.device_id",
    )?;
    let rows = alerts.query_map([customer_id], |r| {
        let answer: Option<String> = r.get(3)?;
        let answered_at: Option<i64> = r.get(4)?;
        Ok(AlertDelivery {
            id: r.get(0)?,
            kind: r.get(1)?,
            sent_at: r.get(2)?,
            devices: Vec::new(),
            answer: answer.zip(answered_at),
        })
    })?;
    let mut out = Vec::new();
    for row in rows {
        let mut alert = row?;
        let devices = per_device.query_map([&alert.id], |r| {
            let device: String = r.get(0)?;
            let seq: i64 = r.get(1)?;
            let acked_at: Option<i64> = r.get(2)?;
            let acked_seq: i64 = r.get(3)?;
            let delivered_at: Option<i64> = r.get(4)?;
            let acked_at = acked_at.filter(|_| seq <= acked_seq);
            Ok((device, delivered_at.or(acked_at), acked_at))
        })?;
        alert.devices = devices.collect::<Result<_, _>>()?;
        out.push(alert);
    }
    Ok(out)
}

/// `GET /console/c/{customer}/alerts`: the customer's newest 50 alerts,
/// `GET /console/c/{customer}/alerts`: the customer's newest 50 alerts,
/// each with its delivery per device and its answer.
pub async fn alerts(
    State(state): State<Shared>,
    Path(customer_id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    let (session, username, name) = match viewing(&state, &headers, customer_id, "alerts").await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let found = state
        .db
        .read(move |c| alert_deliveries(c, customer_id))
        .await;
    let found = match found {
        Ok(found) => found,
        Err(e) => return storage_error(&e),
    };
    page(
        StatusCode::OK,
        &format!("Agent console: alerts for {name}"),
        deliveries_view(&session, customer_id, &username, &name, &found),
    )
}

fn deliveries_view(
    session: &Session,
    customer_id: i64,
    username: &str,
    name: &str,
    alerts: &[AlertDelivery],
) -> Markup {
    html! {
        (header_bar(session))
        h1 { "Alerts for " (name) " (" (username) ")" }
        p { a href={ "/console/c/" (customer_id) } { "Back to the conversation" } }
        table.audit {
            thead { tr { th { "Kind" } th { "Sent" } th { "Devices" } th { "Answer" } } }
            tbody {
                @for a in alerts {
                    tr data-alert=(a.id) {
                        td { (a.kind) }
                        td { (when(a.sent_at)) }
                        td { (devices_cell(&a.devices)) }
                        td.answer {
                            @if let Some((answer, at)) = &a.answer {
                                (answer) " at " (when(*at))
                            } @else if a.kind == "fraud_check" {
                                "not answered"
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Per device: the start of its id, then delivered (or waiting) and
/// acknowledged, one device a line.
fn devices_cell(devices: &[(String, Option<i64>, Option<i64>)]) -> Markup {
    html! {
        @if devices.is_empty() {
            "no device linked"
        }
        @for (n, (device, delivered, acked_at)) in devices.iter().enumerate() {
            @if n > 0 { br; }
            @let short: String = device.chars().take(8).collect();
            (short) ": "
            @if let Some(t) = delivered {
                "delivered " (when(*t))
            } @else {
                "waiting"
            }
            @if let Some(t) = acked_at {
                ", acknowledged " (when(*t))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::signed_in;
    use crate::staff::Role;

    #[test]
    fn deliveries_show_each_device_and_the_answer_as_text() {
        let alerts = [
            AlertDelivery {
                id: "al\"1".into(),
                kind: "fraud_check".into(),
                sent_at: 0,
                devices: vec![
                    ("0123456789abcdef".into(), Some(1000), Some(2000)),
                    ("<b>evil</b>".into(), None, None),
                ],
                answer: Some(("not_me <&>".into(), 3000)),
            },
            AlertDelivery {
                id: "al2".into(),
                kind: "fraud_check".into(),
                sent_at: 0,
                devices: Vec::new(),
                answer: None,
            },
            AlertDelivery {
                id: "al3".into(),
                kind: "balance".into(),
                sent_at: 0,
                devices: Vec::new(),
                answer: None,
            },
        ];
        let html = deliveries_view(
            &signed_in("Ana", Role::Agent),
            4,
            "a&b",
            "<script>alert(1)</script>",
            &alerts,
        )
        .into_string();
        for expected in [
            "<h1>Alerts for &lt;script&gt;alert(1)&lt;/script&gt; (a&amp;b)</h1>\
             <p><a href=\"/console/c/4\">Back to the conversation</a></p>",
            "<tr data-alert=\"al&quot;1\"><td>fraud_check</td><td>1970-01-01 00:00:00 UTC</td>\
             <td>01234567: delivered 1970-01-01 00:00:01 UTC, acknowledged 1970-01-01 00:00:02 UTC\
             <br>&lt;b&gt;evil&lt;: waiting</td>\
             <td class=\"answer\">not_me &lt;&amp;&gt; at 1970-01-01 00:00:03 UTC</td></tr>",
            "<tr data-alert=\"al2\"><td>fraud_check</td><td>1970-01-01 00:00:00 UTC</td>\
             <td>no device linked</td><td class=\"answer\">not answered</td></tr>",
            "<td>no device linked</td><td class=\"answer\"></td></tr>",
        ] {
            assert!(html.contains(expected), "{expected} missing from {html}");
        }
        assert!(!html.contains("<script>"), "{html}");
    }
}
