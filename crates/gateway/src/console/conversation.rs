//! A conversation with one customer: reading it, replying, and marking it
//! resolved.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};

use super::calls::{call_panel, open_for};
use super::compose::compose_form;
use super::customer::{acting_on, viewing};
use super::layout::{error_page, header_bar, see_other, storage_error, when};
use super::live::live_page;
use crate::bank::send_staff_message;
use crate::calls::OpenCall;
use crate::crypto::now_ms;
use crate::error::GatewayError;
use crate::sql::params;
use crate::staff::{self, Session};
use crate::state::Shared;

/// One message as the conversation shows it.
struct ShownMessage {
    /// `customer` or `staff`.
    author_role: String,
    author: String,
    body: String,
    sent_at: i64,
}

/// The customer a conversation is with.
struct Customer<'a> {
    id: i64,
    username: &'a str,
    name: &'a str,
}

/// `GET /console/c/{customer}`: a conversation, oldest first, with the
/// reply form.
pub async fn conversation(
    State(state): State<Shared>,
    Path(customer_id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    let (session, username, name) =
        match viewing(&state, &headers, customer_id, "conversation").await {
            Ok(found) => found,
            Err(page) => return page,
        };
    let messages = state
        .db
        .read(move |c| -> Result<Vec<ShownMessage>, GatewayError> {
            let mut stmt = c.prepare(
                "SELECT author_role, author, body, sent_at FROM (
                     SELECT author_role, author, body, sent_at, id FROM chat_messages
                     WHERE customer_id = ?1 ORDER BY sent_at DESC, id DESC LIMIT 200) AS latest
                 ORDER BY sent_at, id",
            )?;
            let rows = stmt.query_map([customer_id], |r| {
                Ok(ShownMessage {
                    author_role: r.get(0)?,
                    author: r.get(1)?,
                    body: r.get(2)?,
                    sent_at: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await;
    let messages = match messages {
        Ok(m) => m,
        Err(e) => return storage_error(&e),
    };
    let calls = match open_for(&state, customer_id).await {
        Ok(calls) => calls,
        Err(e) => return storage_error(&e),
    };
    let customer = Customer {
        id: customer_id,
        username: &username,
        name: &name,
    };
    live_page(
        &format!("Agent console: {name}"),
        conversation_view(&session, &customer, &messages, &calls),
        Some(customer_id),
    )
}

fn conversation_view(
    session: &Session,
    customer: &Customer,
    messages: &[ShownMessage],
    calls: &[OpenCall],
) -> Markup {
    let id = customer.id;
    html! {
        (header_bar(session))
        h1 { (customer.name) " (" (customer.username) ")" }
        (call_panel(id, &session.csrf, calls))
        ol.chat {
            @for m in messages {
                @let from = if m.author_role == "customer" { "from-customer" } else { "from-staff" };
                li class={ "msg " (from) } {
                    span.who { (m.author) } " " span.muted { (when(m.sent_at)) }
                    p.body { (m.body) }
                }
            }
        }
        form method="post" action={ "/console/c/" (id) "/reply" } {
            label for="body" { "Reply as " (session.staff.display_name) }
            textarea id="body" name="body" rows="4" maxlength="4096" required {}
            input type="hidden" name="csrf" value=(session.csrf);
            button type="submit" { "Send" }
        }
        form method="post" action={ "/console/c/" (id) "/resolve" } {
            input type="hidden" name="csrf" value=(session.csrf);
            button type="submit" { "Mark resolved" }
        }
        p { a href={ "/console/c/" (id) "/alerts" } { "Alerts sent to this customer, and their delivery" } }
        (compose_form(id, &session.csrf))
    }
}

/// `POST /console/c/{customer}/reply`: sends the reply to every device of
/// the customer.
pub async fn reply(
    State(state): State<Shared>,
    Path(customer_id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (session, fields, username) = match acting_on(&state, &headers, &body, customer_id).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let text = fields.get("body").cloned().unwrap_or_default();
    let sent = send_staff_message(
        &state,
        customer_id,
        session.staff.display_name.clone(),
        text.replace("\r\n", "\n"),
    )
    .await;
    let id = match sent {
        Ok(id) => id,
        Err(problem) => {
            return error_page(problem.status, &format!("Not sent: {}.", problem.detail));
        }
    };
    let logged = state
        .db
        .write(move |c| {
            staff::audit(
                c,
                Some(&session.staff),
                "chat.reply",
                &format!("customer {username}, message {id}"),
            )
        })
        .await;
    if let Err(e) = logged {
        return storage_error(&e);
    }
    see_other(&format!("/console/c/{customer_id}"))
}

/// `POST /console/c/{customer}/resolve`: takes the conversation out of the
/// queue until the customer writes again.
pub async fn resolve(
    State(state): State<Shared>,
    Path(customer_id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (session, _, username) = match acting_on(&state, &headers, &body, customer_id).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let done = state
        .db
        .write(move |c| {
            c.execute(
                "INSERT INTO conversation_states (customer_id, resolved_at, resolved_by)
                 VALUES (?1, ?2, ?3)
                 ON CONFLICT (customer_id) DO UPDATE SET resolved_at = ?2, resolved_by = ?3",
                params![customer_id, now_ms(), session.staff.id],
            )?;
            staff::audit(
                c,
                Some(&session.staff),
                "chat.resolve",
                &format!("customer {username}"),
            )
        })
        .await;
    match done {
        Ok(()) => see_other("/console"),
        Err(e) => storage_error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::signed_in;
    use crate::staff::Role;

    #[test]
    fn messages_and_names_are_text() {
        let customer = Customer {
            id: 9,
            username: "x\"y",
            name: "Alice & <b>Bob</b>",
        };
        let messages = [
            ShownMessage {
                author_role: "customer".into(),
                author: "Alice & <b>Bob</b>".into(),
                body: "<script>alert(\"hi\")</script> & bye".into(),
                sent_at: 0,
            },
            ShownMessage {
                author_role: "staff".into(),
                author: "Ana".into(),
                body: "Fine.".into(),
                sent_at: 2000,
            },
        ];
        let html = conversation_view(
            &signed_in("Ana \"<i>\"", Role::Agent),
            &customer,
            &messages,
            &[],
        )
        .into_string();
        for expected in [
            "<h1>Alice &amp; &lt;b&gt;Bob&lt;/b&gt; (x&quot;y)</h1>",
            "<li class=\"msg from-customer\"><span class=\"who\">Alice &amp; &lt;b&gt;Bob&lt;/b&gt;</span> \
             <span class=\"muted\">1970-01-01 00:00:00 UTC</span>\
             <p class=\"body\">&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt; &amp; bye</p></li>",
            "<li class=\"msg from-staff\"><span class=\"who\">Ana</span>",
            "<form method=\"post\" action=\"/console/c/9/reply\"><label for=\"body\">Reply as Ana &quot;&lt;i&gt;&quot;</label>\
             <textarea id=\"body\" name=\"body\" rows=\"4\" maxlength=\"4096\" required></textarea>",
            "<form method=\"post\" action=\"/console/c/9/resolve\"><input type=\"hidden\" name=\"csrf\" value=\"csrf-token\">",
            "<a href=\"/console/c/9/alerts\">",
            "<form method=\"post\" action=\"/console/c/9/alert\">",
        ] {
            assert!(html.contains(expected), "{expected} missing from {html}");
        }
        assert!(!html.contains("<script>"), "{html}");
    }
}
