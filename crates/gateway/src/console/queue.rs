//! The queue: the customers' open conversations, waiting ones first. It is
//! the console's home page.

use super::calls::{open_calls_list, scam_reports_list};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};

use super::layout::{header_bar, storage_error, when};
use super::live::live_page;
use super::session::{current, sign_in_page};
use crate::error::GatewayError;
use crate::staff::Session;
use crate::state::Shared;

/// A customer's conversation in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueItem {
    /// The customer's row id.
    pub customer_id: i64,
    /// The customer's username.
    pub username: String,
    /// The customer's name.
    pub display_name: String,
    /// The newest message, in milliseconds since the epoch.
    pub last_at: i64,
    /// True when the customer wrote last: they are waiting for the bank.
    pub waiting: bool,
}

/// Open conversations (never resolved, or written to by the customer since
/// they were): the waiting ones first, newest first, then the rest.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn queue(conn: &crate::sql::Connection) -> Result<Vec<QueueItem>, GatewayError> {
    let mut stmt = conn.prepare(
        "SELECT c.id, c.username, c.display_name, MAX(m.sent_at),
                MAX(CASE WHEN m.author_role = 'customer' THEN m.sent_at END),
                (SELECT author_role FROM chat_messages WHERE customer_id = c.id
                 ORDER BY sent_at DESC, id DESC LIMIT 1),
                MAX(s.resolved_at)
         FROM customers c JOIN chat_messages m ON m.customer_id = c.id
         LEFT JOIN conversation_states s ON s.customer_id = c.id
         GROUP BY c.id, c.username, c.display_name",
    )?;
    let rows = stmt.query_map((), |r| {
        let last_customer: Option<i64> = r.get(4)?;
        let last_role: String = r.get(5)?;
        let resolved: Option<i64> = r.get(6)?;
        let open = match resolved {
            None => true,
            Some(at) => last_customer.is_some_and(|c| c > at),
        };
        Ok(open.then(|| QueueItem {
            customer_id: r.get(0).unwrap_or_default(),
            username: r.get(1).unwrap_or_default(),
            display_name: r.get(2).unwrap_or_default(),
            last_at: r.get(3).unwrap_or_default(),
            waiting: last_role == "customer",
        }))
    })?;
    let mut items: Vec<QueueItem> = rows
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    items.sort_by(|a, b| b.waiting.cmp(&a.waiting).then(b.last_at.cmp(&a.last_at)));
    Ok(items)
}

/// `GET /console`: the sign-in page, or the queue.
pub async fn home(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let session = match current(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return sign_in_page(&state, StatusCode::OK, None),
        Err(e) => return storage_error(&e),
    };
    let found = state
        .db
        .read(|c| {
            Ok::<_, crate::error::GatewayError>((
                queue(c)?,
                crate::calls::open_calls(c, None, crate::crypto::now_s())?,
                crate::scam_reports::unhandled(c)?,
            ))
        })
        .await;
    let (items, calls, reports) = match found {
        Ok(found) => found,
        Err(e) => return storage_error(&e),
    };
    live_page(
        "Agent console: queue",
        html! {
            (queue_view(&session, &items))
            (scam_reports_list(&session.csrf, &reports))
            (open_calls_list(&calls))
        },
        None,
    )
}

fn queue_view(session: &Session, items: &[QueueItem]) -> Markup {
    html! {
        (header_bar(session))
        h1 { "Open conversations" }
        @if items.is_empty() {
            p { "No open conversations." }
        } @else {
            ol.queue {
                @for i in items {
                    li data-customer=(i.username) {
                        a href={ "/console/c/" (i.customer_id) } { (i.display_name) }
                        " (" (i.username) ") · "
                        @if i.waiting { strong { "waiting" } } @else { "answered" }
                        " · " (when(i.last_at))
                    }
                }
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
    fn the_queue_shows_names_as_text() {
        let items = [
            QueueItem {
                customer_id: 3,
                username: "a\"b".into(),
                display_name: "<script>alert(1)</script> & Co".into(),
                last_at: 0,
                waiting: true,
            },
            QueueItem {
                customer_id: 4,
                username: "bob".into(),
                display_name: "Bob".into(),
                last_at: 1000,
                waiting: false,
            },
        ];
        let html = queue_view(&signed_in("Ana", Role::Agent), &items).into_string();
        assert!(
            html.contains(
                "<li data-customer=\"a&quot;b\"><a href=\"/console/c/3\">&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co</a> \
                 (a&quot;b) · <strong>waiting</strong> · 1970-01-01 00:00:00 UTC</li>"
            ),
            "{html}"
        );
        assert!(
            html.contains("<li data-customer=\"bob\"><a href=\"/console/c/4\">Bob</a> (bob) · answered · 1970-01-01 00:00:01 UTC</li>"),
            "{html}"
        );
        assert!(!html.contains("<script>"), "{html}");
        let empty = queue_view(&signed_in("Ana", Role::Agent), &[]).into_string();
        assert!(empty.contains("<p>No open conversations.</p>"), "{empty}");
    }
}
