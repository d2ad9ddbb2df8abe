//! Pages that follow changes by themselves: the wrapper that loads our one
//! script, the script, and the server-sent events it listens to.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::layout::storage_error;
use super::session::current;
use crate::page::page;
use crate::state::Shared;
use crate::web::static_asset;

/// The policy of the pages that run `live.js`: the verification page's,
/// plus our own script and its event stream.
const LIVE_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A signed-in page that follows live updates. `customer` marks the
/// conversation shown, if any.
pub(crate) fn live_page(title: &str, body: Markup, customer: Option<i64>) -> Response {
    let mut r = page(
        StatusCode::OK,
        title,
        html! {
            div id="live" data-customer=[customer] { (body) }
            p id="live-note" class="bar" hidden { "New messages: " a href="" { "reload" } }
            script src="/console/live.js" {}
        },
    );
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(LIVE_CSP),
    );
    r
}

/// `GET /console/live.js`: reloads the queue when any conversation
/// changes; on a conversation page, reloads when that conversation changes
/// and no reply is being typed, else says there is something new.
pub async fn live_js() -> Response {
    const SCRIPT: &str = r#"(() => {
  const live = document.getElementById("live");
  if (!live) return;
  const shown = live.dataset.customer;
  const events = new EventSource("/console/events");
  events.onmessage = (e) => {
    if (shown === undefined) return location.reload();
    if (e.data !== shown && e.data !== "*") return;
    const box = document.getElementById("body");
    if (!box || box.value.trim() === "") return location.reload();
    document.getElementById("live-note").hidden = false;
  };
})();
"#;
    static_asset(SCRIPT, "text/javascript; charset=utf-8", "no-cache")
}

/// `GET /console/events` (signed in): server-sent events, one per changed
/// conversation, whose data is the customer's id (`*` when some were
/// missed). Ends when the gateway shuts down; the browser reconnects by
/// itself, and a session that has ended gets 401 then.
pub async fn events(State(state): State<Shared>, headers: HeaderMap) -> Response {
    match current(&state, &headers).await {
        Ok(Some(_)) => {}
        Ok(None) => return StatusCode::UNAUTHORIZED.into_response(),
        Err(e) => return storage_error(&e),
    }
    let changes = state.console_events.subscribe();
    let shutdown = state.shutdown.clone();
    let stream = futures_util::stream::unfold(
        (changes, shutdown),
        |(mut changes, mut shutdown)| async move {
            if *shutdown.borrow() {
                return None;
            }
            let data = tokio::select! {
                changed = changes.recv() => match changed {
                    Ok(Some(customer)) => customer.to_string(),
                    Ok(None) => "*".to_owned(),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => "*".to_owned(),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                },
                _ = shutdown.changed() => return None,
            };
            let event = Event::default().data(data);
            Some((
                Ok::<_, std::convert::Infallible>(event),
                (changes, shutdown),
            ))
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::html_of;

    #[tokio::test]
    async fn a_live_page_marks_its_conversation_and_allows_our_script() {
        let shown = live_page("Queue", html! { p { "body" } }, Some(7));
        assert_eq!(
            shown.headers().get(header::CONTENT_SECURITY_POLICY),
            Some(&HeaderValue::from_static(LIVE_CSP))
        );
        let html = html_of(shown).await;
        assert!(
            html.contains(
                "<div id=\"live\" data-customer=\"7\"><p>body</p></div>\
                 <p id=\"live-note\" class=\"bar\" hidden>New messages: <a href=\"\">reload</a></p>\
                 <script src=\"/console/live.js\"></script>"
            ),
            "{html}"
        );
        let queue = html_of(live_page("Queue", html! {}, None)).await;
        assert!(queue.contains("<div id=\"live\"></div>"), "{queue}");
    }
}
