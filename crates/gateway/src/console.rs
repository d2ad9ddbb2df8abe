//! The agent console: web pages for bank staff, served by the gateway.
//!
//! Staff sign in with an account made by `strongroom-gateway staff add`
//! (`staff.rs`). The session cookie is `__Host-console` (Secure, HttpOnly,
//! SameSite=Strict, path /), and every form carries the session's CSRF
//! token as well; a sign-in form carries a one-time token. Pages are plain
//! HTML under the same strict headers as the customers' verification page,
//! and every value shown is escaped: a customer's message is text, never
//! markup. The queue and conversation pages load one script of ours
//! (`/console/live.js`, `script-src 'self'`) that follows
//! `/console/events` (server-sent events), so new messages appear without
//! a reload by hand. Every action is in the audit log.
//!
//! What is here: sign-in and sign-out, the queue of open conversations
//! (newest waiting first), a conversation with its reply form, resolving
//! a conversation, composing a signed alert to the customer, each alert's
//! delivery (delivered, acknowledged and answered, with times), and for
//! admins the pilot cohorts and their flags, and the audit log, viewable
//! and exported as CSV.

use std::sync::Arc;

use crate::sql::{OptionalExtension, params};
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};

use strongroom_core::protocol::alert::{AlertEvent, AlertKind, AlertSeverity};

use crate::bank::{issue_alerts, merge_flags, send_staff_message};
use crate::crypto::{constant_time_eq, html_escape, now_ms, now_s};
use crate::error::GatewayError;
use crate::staff::{self, Role, Session};
use crate::state::{Shared, client_ip};
use crate::web::{check_password, form, page, static_asset};

/// The session cookie's name. `__Host-` makes the browser refuse it unless
/// it is Secure, has no Domain and has path /.
const COOKIE: &str = "__Host-console";

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

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The signed-in session of a request, if any (and restarts its idle
/// clock).
pub(crate) async fn current(
    state: &Shared,
    headers: &HeaderMap,
) -> Result<Option<Session>, GatewayError> {
    let Some(token) = cookie_token(headers) else {
        return Ok(None);
    };
    state
        .db
        .write(move |c| staff::session(c, &token, now_s()))
        .await
}

pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    page(
        status,
        "Agent console",
        &format!(
            "<h1>Agent console</h1><p class=\"error\">{}</p><p><a href=\"/console\">Back</a></p>",
            html_escape(message)
        ),
    )
}

pub(crate) fn storage_error(e: &GatewayError) -> Response {
    eprintln!("strongroom-gateway: console: {e}");
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on the gateway. Try again.",
    )
}

pub(crate) fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn sign_in_page(state: &Shared, status: StatusCode, error: Option<&str>) -> Response {
    let csrf = state.pages.new_csrf(&state.rng);
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", html_escape(e)))
        .unwrap_or_default();
    page(
        status,
        "Agent console: sign in",
        &format!(
            "<h1>{}: agent console</h1>{error}\
             <form method=\"post\" action=\"/console/sign-in\">\
             <label for=\"username\">Username</label>\
             <input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" required>\
             <label for=\"password\">Password</label>\
             <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">Sign in</button></form>",
            html_escape(&state.config.bank_name),
            html_escape(&csrf)
        ),
    )
}

/// The bar at the top of every signed-in page.
pub(crate) fn header_bar(session: &Session) -> String {
    let audit = if session.staff.role == Role::Admin {
        " · <a href=\"/console/flags\">Pilot flags</a> · <a href=\"/console/audit\">Audit log</a>"
    } else {
        ""
    };
    format!(
        "<p class=\"bar\">{} ({}) · <a href=\"/console\">Queue</a> · <a href=\"/console/approvals\">Approvals</a>{audit}</p>\
         <form method=\"post\" action=\"/console/sign-out\" class=\"inline\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\">Sign out</button></form>",
        html_escape(&session.staff.display_name),
        session.staff.role.as_str(),
        html_escape(&session.csrf)
    )
}

pub(crate) fn when(ms: i64) -> String {
    // UTC, to the second: the same for every agent, wherever they sit.
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a calendar date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The policy of the pages that run `live.js`: the verification page's,
/// plus our own script and its event stream.
const LIVE_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A signed-in page that follows live updates. `customer` marks the
/// conversation shown, if any.
pub(crate) fn live_page(title: &str, body: &str, customer: Option<i64>) -> Response {
    let marker = customer.map_or(String::new(), |c| format!(" data-customer=\"{c}\""));
    let mut r = page(
        StatusCode::OK,
        title,
        &format!(
            "<div id=\"live\"{marker}>{body}</div>\
             <p id=\"live-note\" class=\"bar\" hidden>New messages: <a href=\"\">reload</a></p>\
             <script src=\"/console/live.js\"></script>"
        ),
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

/// `GET /console`: the sign-in page, or the queue.
pub async fn home(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let session = match current(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return sign_in_page(&state, StatusCode::OK, None),
        Err(e) => return storage_error(&e),
    };
    let items = match state.db.read(queue).await {
        Ok(items) => items,
        Err(e) => return storage_error(&e),
    };
    let rows: String = items
        .iter()
        .map(|i| {
            format!(
                "<li data-customer=\"{}\"><a href=\"/console/c/{}\">{}</a> ({}) · {} · {}</li>",
                html_escape(&i.username),
                i.customer_id,
                html_escape(&i.display_name),
                html_escape(&i.username),
                if i.waiting {
                    "<strong>waiting</strong>"
                } else {
                    "answered"
                },
                when(i.last_at)
            )
        })
        .collect();
    let list = if items.is_empty() {
        "<p>No open conversations.</p>".to_owned()
    } else {
        format!("<ol class=\"queue\">{rows}</ol>")
    };
    live_page(
        "Agent console: queue",
        &format!("{}<h1>Open conversations</h1>{list}", header_bar(&session)),
        None,
    )
}

/// `POST /console/sign-in`.
pub async fn sign_in(State(state): State<Shared>, request: Request) -> Response {
    let address = client_ip(&request).to_string();
    let ip = crate::limits::source_key(client_ip(&request));
    let Ok(body) = axum::body::to_bytes(request.into_body(), 16 * 1024).await else {
        return sign_in_page(
            &state,
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("The form is too large."),
        );
    };
    let fields = form(&body);
    let get = |name: &str| fields.get(name).map(String::as_str).unwrap_or("");
    if !state.pages.take_csrf(get("csrf")) {
        return sign_in_page(
            &state,
            StatusCode::BAD_REQUEST,
            Some("This form expired or was already used. Please try again."),
        );
    }
    let Some((username, password)) = crate::web::credentials(get("username"), get("password"))
    else {
        return sign_in_page(
            &state,
            StatusCode::BAD_REQUEST,
            Some("Enter your username and password."),
        );
    };
    let Ok(permit) = Arc::clone(&state.password_checks).try_acquire_owned() else {
        return sign_in_page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            Some("The gateway is busy. Try again in a moment."),
        );
    };
    // Staff and customers share the failed-attempt limiter, apart.
    let limiter_key = format!("staff:{username}");
    if let Err(wait) = state.sign_ins.begin(&limiter_key, &ip) {
        return crate::web::too_many(
            sign_in_page(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                Some(&format!(
                    "Too many failed sign-ins. Wait {} and try again.",
                    crate::limits::spoken(wait)
                )),
            ),
            wait,
        );
    }
    let lookup = username.clone();
    let candidate = match state
        .db
        .read(move |c| staff::sign_in_candidate(c, &lookup))
        .await
    {
        Ok(found) => found,
        Err(e) => return storage_error(&e),
    };
    let phc = candidate.as_ref().map(|(_, h)| h.clone());
    let password_ok = check_password(&state, permit, password, phc).await;
    let member = candidate
        .map(|(m, _)| m)
        .filter(|m| password_ok && m.disabled_at.is_none());
    let rng = state.rng.clone();
    let source = address;
    let opened = state
        .db
        .write(move |c| match member {
            Some(m) => staff::open_session(c, &rng, &m).map(Some),
            None => staff::refuse_sign_in(c, &username, &source).map(|()| None),
        })
        .await;
    match opened {
        Ok(Some(session)) => {
            state.sign_ins.succeeded(&limiter_key, &ip);
            let mut r = see_other("/console");
            let cookie = format!(
                "{COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}",
                session.token,
                staff::SESSION_MAX_S
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Ok(None) => sign_in_page(
            &state,
            StatusCode::UNAUTHORIZED,
            Some("The username or password is not right."),
        ),
        Err(e) => storage_error(&e),
    }
}

/// A signed-in form post: the session and the form's fields, or the page
/// to answer with. The form must carry the session's CSRF token.
pub(crate) async fn signed_in_form(
    state: &Shared,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Session, std::collections::HashMap<String, String>), Response> {
    let session = match current(state, headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(see_other("/console")),
        Err(e) => return Err(storage_error(&e)),
    };
    let fields = form(body);
    let csrf = fields.get("csrf").map(String::as_str).unwrap_or("");
    if !constant_time_eq(csrf.as_bytes(), session.csrf.as_bytes()) {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "This form did not come from your console session. Reload the page and try again.",
        ));
    }
    Ok((session, fields))
}

/// `POST /console/sign-out`.
pub async fn sign_out(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let (session, _) = match signed_in_form(&state, &headers, &body).await {
        Ok(ok) => ok,
        Err(page) => return page,
    };
    if let Err(e) = state.db.write(move |c| staff::sign_out(c, &session)).await {
        return storage_error(&e);
    }
    let mut r = see_other("/console");
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "__Host-console=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    r
}

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
async fn viewing(
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
async fn acting_on(
    state: &Shared,
    headers: &HeaderMap,
    body: &Bytes,
    customer_id: i64,
) -> Result<(Session, std::collections::HashMap<String, String>, String), Response> {
    let (session, fields) = signed_in_form(state, headers, body).await?;
    match customer_names(state, customer_id).await {
        Ok(Some((username, _))) => Ok((session, fields, username)),
        Ok(None) => Err(error_page(StatusCode::NOT_FOUND, "No such customer.")),
        Err(e) => Err(storage_error(&e)),
    }
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
        .read(
            move |c| -> Result<Vec<(String, String, String, i64)>, GatewayError> {
                let mut stmt = c.prepare(
                    "SELECT author_role, author, body, sent_at FROM (
                     SELECT author_role, author, body, sent_at, id FROM chat_messages
                     WHERE customer_id = ?1 ORDER BY sent_at DESC, id DESC LIMIT 200) AS latest
                 ORDER BY sent_at, id",
                )?;
                let rows = stmt.query_map([customer_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?;
                Ok(rows.collect::<Result<_, _>>()?)
            },
        )
        .await;
    let messages = match messages {
        Ok(m) => m,
        Err(e) => return storage_error(&e),
    };
    let list: String = messages
        .iter()
        .map(|(role, author, body, at)| {
            format!(
                "<li class=\"msg {}\"><span class=\"who\">{}</span> <span class=\"muted\">{}</span><p class=\"body\">{}</p></li>",
                if role == "customer" { "from-customer" } else { "from-staff" },
                html_escape(author),
                when(*at),
                html_escape(body)
            )
        })
        .collect();
    let csrf = html_escape(&session.csrf);
    live_page(
        &format!("Agent console: {name}"),
        &format!(
            "{}<h1>{} ({})</h1><ol class=\"chat\">{list}</ol>\
             <form method=\"post\" action=\"/console/c/{customer_id}/reply\">\
             <label for=\"body\">Reply as {}</label>\
             <textarea id=\"body\" name=\"body\" rows=\"4\" maxlength=\"4096\" required></textarea>\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\">Send</button></form>\
             <form method=\"post\" action=\"/console/c/{customer_id}/resolve\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\">Mark resolved</button></form>\
             <p><a href=\"/console/c/{customer_id}/alerts\">Alerts sent to this customer, and their delivery</a></p>{}",
            header_bar(&session),
            html_escape(&name),
            html_escape(&username),
            html_escape(&session.staff.display_name),
            compose_form(customer_id, &session.csrf),
        ),
        Some(customer_id),
    )
}

/// The form that sends a signed alert to the customer.
fn compose_form(customer_id: i64, csrf: &str) -> String {
    let kinds: String = AlertKind::ALL
        .iter()
        .map(|k| format!("<option value=\"{0}\">{0}</option>", k.name()))
        .collect();
    format!(
        "<h2>Send an alert</h2>\
         <form method=\"post\" action=\"/console/c/{customer_id}/alert\">\
         <label for=\"kind\">Kind</label><select id=\"kind\" name=\"kind\">{kinds}</select>\
         <label for=\"severity\">Severity</label><select id=\"severity\" name=\"severity\">\
         <option value=\"info\">info</option><option value=\"warning\">warning</option>\
         <option value=\"critical\">critical</option></select>\
         <label for=\"text\">Text</label><textarea id=\"text\" name=\"text\" rows=\"2\" maxlength=\"1024\" required></textarea>\
         <label for=\"amount\">Amount (optional, e.g. 12.50)</label><input type=\"text\" id=\"amount\" name=\"amount\" inputmode=\"decimal\">\
         <label for=\"currency\">Currency</label><input type=\"text\" id=\"currency\" name=\"currency\" value=\"GBP\" maxlength=\"3\">\
         <label for=\"merchant\">Merchant (optional)</label><input type=\"text\" id=\"merchant\" name=\"merchant\" maxlength=\"128\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\">Sign and send</button></form>",
        html_escape(csrf)
    )
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
        "SELECT e.device_id, e.seq, e.acked_at, d.acked_seq, e.delivered_at
         FROM events e JOIN devices d ON d.id = e.device_id
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
    let rows: String = found
        .iter()
        .map(|a| {
            let devices: String = if a.devices.is_empty() {
                "no device linked".to_owned()
            } else {
                a.devices
                    .iter()
                    .map(|(device, delivered, acked_at)| {
                        let short: String = device.chars().take(8).collect();
                        format!(
                            "{}: {}{}",
                            html_escape(&short),
                            delivered
                                .map(|t| format!("delivered {}", when(t)))
                                .unwrap_or_else(|| "waiting".to_owned()),
                            acked_at
                                .map(|t| format!(", acknowledged {}", when(t)))
                                .unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let answer = match &a.answer {
                Some((answer, at)) => format!("{} at {}", html_escape(answer), when(*at)),
                None if a.kind == "fraud_check" => "not answered".to_owned(),
                None => String::new(),
            };
            format!(
                "<tr data-alert=\"{}\"><td>{}</td><td>{}</td><td>{devices}</td><td class=\"answer\">{answer}</td></tr>",
                html_escape(&a.id),
                html_escape(&a.kind),
                when(a.sent_at),
            )
        })
        .collect();
    page(
        StatusCode::OK,
        &format!("Agent console: alerts for {name}"),
        &format!(
            "{}<h1>Alerts for {} ({})</h1><p><a href=\"/console/c/{customer_id}\">Back to the conversation</a></p>\
             <table class=\"audit\"><thead><tr><th>Kind</th><th>Sent</th><th>Devices</th><th>Answer</th></tr></thead>\
             <tbody>{rows}</tbody></table>",
            header_bar(&session),
            html_escape(&name),
            html_escape(&username),
        ),
    )
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

/// The signed-in admin of a request, or the page to answer with.
async fn admin(state: &Shared, headers: &HeaderMap) -> Result<Session, Response> {
    match current(state, headers).await {
        Ok(Some(s)) if s.staff.role == Role::Admin => Ok(s),
        Ok(Some(_)) => Err(error_page(
            StatusCode::FORBIDDEN,
            "Only an admin can see the audit log.",
        )),
        Ok(None) => Err(see_other("/console")),
        Err(e) => Err(storage_error(&e)),
    }
}

/// A cohort as the flags page shows it: name, member usernames, flags.
type CohortView = (String, Vec<String>, Vec<(String, bool)>);

fn cohorts(conn: &crate::sql::Connection) -> Result<Vec<CohortView>, GatewayError> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare("SELECT id, name FROM cohorts ORDER BY name")?;
    let list: Vec<(i64, String)> = stmt
        .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut members = conn.prepare(
        "SELECT c.username FROM cohort_members m JOIN customers c ON c.id = m.customer_id
         WHERE m.cohort_id = ?1 ORDER BY c.username",
    )?;
    let mut flags =
        conn.prepare("SELECT flag, enabled FROM cohort_flags WHERE cohort_id = ?1 ORDER BY flag")?;
    for (id, name) in list {
        let m = members
            .query_map([id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let f = flags
            .query_map([id], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)))?
            .collect::<Result<_, _>>()?;
        out.push((name, m, f));
    }
    Ok(out)
}

/// `GET /console/flags` (admins): the pilot cohorts, their members and
/// flags, with the forms that change them.
pub async fn flags_page(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let session = match admin(&state, &headers).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    let list = match state.db.read(cohorts).await {
        Ok(list) => list,
        Err(e) => return storage_error(&e),
    };
    let csrf = html_escape(&session.csrf);
    let rows: String = list
        .iter()
        .map(|(name, members, flags)| {
            let flags: Vec<String> = flags
                .iter()
                .map(|(f, on)| format!("{} {}", html_escape(f), if *on { "on" } else { "off" }))
                .collect();
            format!(
                "<tr data-cohort=\"{0}\"><td>{0}</td><td>{1}</td><td>{2}</td></tr>",
                html_escape(name),
                html_escape(&members.join(", ")),
                flags.join(", ")
            )
        })
        .collect();
    page(
        StatusCode::OK,
        "Agent console: pilot flags",
        &format!(
            "{}<h1>Pilot flags</h1>\
             <table class=\"audit\"><thead><tr><th>Cohort</th><th>Customers</th><th>Flags</th></tr></thead>\
             <tbody>{rows}</tbody></table>\
             <h2>Add customers to a cohort</h2>\
             <form method=\"post\" action=\"/console/flags/members\">\
             <label for=\"m-cohort\">Cohort (made if new)</label><input type=\"text\" id=\"m-cohort\" name=\"cohort\" required maxlength=\"64\">\
             <label for=\"m-customers\">Customer usernames, separated by spaces</label><input type=\"text\" id=\"m-customers\" name=\"customers\" required>\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\">Add</button></form>\
             <h2>Switch a flag for a cohort</h2>\
             <form method=\"post\" action=\"/console/flags/set\">\
             <label for=\"f-cohort\">Cohort</label><input type=\"text\" id=\"f-cohort\" name=\"cohort\" required maxlength=\"64\">\
             <label for=\"f-flag\">Flag</label><input type=\"text\" id=\"f-flag\" name=\"flag\" required maxlength=\"64\">\
             <label for=\"f-state\">State</label><select id=\"f-state\" name=\"state\"><option value=\"on\">on</option><option value=\"off\">off</option></select>\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\">Switch</button></form>",
            header_bar(&session)
        ),
    )
}

/// A cohort or flag name: 1 to 64 letters, digits, '-', '_' or '.'.
fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A signed-in admin's form post, or the page to answer with.
async fn admin_form(
    state: &Shared,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Session, std::collections::HashMap<String, String>), Response> {
    let (session, fields) = signed_in_form(state, headers, body).await?;
    if session.staff.role != Role::Admin {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "Only an admin can change pilot flags.",
        ));
    }
    Ok((session, fields))
}

fn cohort_id(
    c: &crate::sql::Connection,
    name: &str,
    create: bool,
) -> Result<Option<i64>, GatewayError> {
    if create {
        c.execute(
            "INSERT INTO cohorts (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            params![name, now_s()],
        )?;
    }
    Ok(
        c.query_row("SELECT id FROM cohorts WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()?,
    )
}

/// `POST /console/flags/members` (admins): adds customers to a cohort (made
/// if new); each receives the cohort's flags at once.
pub async fn add_members(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let (session, fields) = match admin_form(&state, &headers, &body).await {
        Ok(ok) => ok,
        Err(page) => return page,
    };
    let cohort = fields
        .get("cohort")
        .map(|v| v.trim().to_owned())
        .unwrap_or_default();
    let usernames: Vec<String> = fields
        .get("customers")
        .map(|v| v.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    if !valid_name(&cohort) || usernames.is_empty() || usernames.len() > 1000 {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Name a cohort (letters, digits, '-', '_', '.') and at least one customer.",
        );
    }
    let outcome = state
        .db
        .write(move |c| -> Result<crate::events::Committed, GatewayError> {
            let mut ids = Vec::new();
            for username in &usernames {
                match crate::events::customer_by_username(c, username)? {
                    Some(customer) => ids.push(customer.id),
                    None => {
                        return Err(GatewayError::Invalid(format!("No customer {username:?}.")));
                    }
                }
            }
            let Some(cohort_id) = cohort_id(c, &cohort, true)? else {
                return Err(GatewayError::Invalid(
                    "The cohort could not be made.".into(),
                ));
            };
            let flags: std::collections::BTreeMap<String, bool> = c
                .prepare("SELECT flag, enabled FROM cohort_flags WHERE cohort_id = ?1")?
                .query_map([cohort_id], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)))?
                .collect::<Result<_, _>>()?;
            for &id in &ids {
                c.execute(
                    "INSERT INTO cohort_members (cohort_id, customer_id) VALUES (?1, ?2)
                     ON CONFLICT DO NOTHING",
                    params![cohort_id, id],
                )?;
            }
            let committed = apply_flags(c, &ids, &flags)?;
            staff::audit(
                c,
                Some(&session.staff),
                "cohort.add_members",
                &format!("{cohort}: {}", usernames.join(" ")),
            )?;
            Ok(committed)
        })
        .await;
    flags_outcome(&state, outcome)
}

/// `POST /console/flags/set` (admins): switches a flag on or off for every
/// customer of a cohort, and remembers it for customers who join later.
pub async fn set_flag(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let (session, fields) = match admin_form(&state, &headers, &body).await {
        Ok(ok) => ok,
        Err(page) => return page,
    };
    let get = |name: &str| {
        fields
            .get(name)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let (cohort, flag) = (get("cohort"), get("flag"));
    let enabled = match get("state").as_str() {
        "on" => true,
        "off" => false,
        _ => return error_page(StatusCode::BAD_REQUEST, "A flag is switched on or off."),
    };
    if !valid_name(&cohort) || !valid_name(&flag) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Cohort and flag names are 1 to 64 letters, digits, '-', '_' or '.'.",
        );
    }
    let outcome = state
        .db
        .write(move |c| -> Result<crate::events::Committed, GatewayError> {
            let Some(cohort_id) = cohort_id(c, &cohort, false)? else {
                return Err(GatewayError::Invalid(format!("No cohort {cohort:?}.")));
            };
            c.execute(
                "INSERT INTO cohort_flags (cohort_id, flag, enabled) VALUES (?1, ?2, ?3)
                 ON CONFLICT (cohort_id, flag) DO UPDATE SET enabled = ?3",
                params![cohort_id, flag, enabled],
            )?;
            let members: Vec<i64> = c
                .prepare("SELECT customer_id FROM cohort_members WHERE cohort_id = ?1")?
                .query_map([cohort_id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let change = std::collections::BTreeMap::from([(flag.clone(), enabled)]);
            let committed = apply_flags(c, &members, &change)?;
            staff::audit(
                c,
                Some(&session.staff),
                "flags.set",
                &format!(
                    "{flag} {} for cohort {cohort}",
                    if enabled { "on" } else { "off" }
                ),
            )?;
            Ok(committed)
        })
        .await;
    flags_outcome(&state, outcome)
}

/// Merges `flags` into each customer's set (and onto their devices). A
/// refusal is an error, so the write job keeps nothing of the change.
fn apply_flags(
    c: &crate::sql::Connection,
    customers: &[i64],
    flags: &std::collections::BTreeMap<String, bool>,
) -> Result<crate::events::Committed, GatewayError> {
    let mut committed = Vec::new();
    if flags.is_empty() {
        return Ok(committed);
    }
    for &id in customers {
        let (_, events) =
            merge_flags(c, id, flags).map_err(|problem| GatewayError::Invalid(problem.detail))?;
        committed.extend(events);
    }
    Ok(committed)
}

/// The answer to a flags change: back to the page once it is committed
/// (and the devices are told), or why it was refused. A refusal is an error
/// of the write job, so nothing of the change is kept.
fn flags_outcome(
    state: &Shared,
    outcome: Result<crate::events::Committed, GatewayError>,
) -> Response {
    match outcome {
        Ok(committed) => {
            state.hub.notify_all(&committed);
            see_other("/console/flags")
        }
        Err(GatewayError::Invalid(why)) => error_page(StatusCode::BAD_REQUEST, &why),
        Err(e) => storage_error(&e),
    }
}

/// How many audit lines a page shows and an export holds.
const AUDIT_LINES: usize = 10_000;

/// `GET /console/audit` (admins): the audit log, newest first.
pub async fn audit_page(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let session = match admin(&state, &headers).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    let entries = match state
        .db
        .read(|c| staff::audit_entries(c, AUDIT_LINES))
        .await
    {
        Ok(e) => e,
        Err(e) => return storage_error(&e),
    };
    let rows: String = entries
        .iter()
        .map(|e| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                when(e.at_ms),
                html_escape(&e.staff_username),
                html_escape(&e.action),
                html_escape(&e.detail)
            )
        })
        .collect();
    page(
        StatusCode::OK,
        "Agent console: audit log",
        &format!(
            "{}<h1>Audit log</h1><p><a href=\"/console/audit.csv\">Export (CSV)</a></p>\
             <table class=\"audit\"><thead><tr><th>When</th><th>Who</th><th>Action</th><th>Detail</th></tr></thead>\
             <tbody>{rows}</tbody></table>",
            header_bar(&session)
        ),
    )
}

/// One CSV field: quoted, quotes doubled, and a leading `=`, `+`, `-` or
/// `@` defused so a spreadsheet does not run it as a formula.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// `GET /console/audit.csv` (admins): the audit log as CSV, oldest first.
pub async fn audit_csv(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let session = match admin(&state, &headers).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    let entries = state
        .db
        .write(move |c| {
            staff::audit(c, Some(&session.staff), "audit.export", "")?;
            staff::audit_entries(c, AUDIT_LINES)
        })
        .await;
    let entries = match entries {
        Ok(e) => e,
        Err(e) => return storage_error(&e),
    };
    let mut csv = String::from("id,at_ms,at,who,action,detail\r\n");
    for e in entries.iter().rev() {
        csv.push_str(&format!(
            "{},{},{},{},{},{}\r\n",
            e.id,
            e.at_ms,
            csv_field(&when(e.at_ms)),
            csv_field(&e.staff_username),
            csv_field(&e.action),
            csv_field(&e.detail)
        ));
    }
    let mut r = (StatusCode::OK, csv).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"strongroom-audit.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_csv_fields() {
        assert_eq!(when(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(
            when(1_795_996_800_000 + 3_723_000),
            "2026-11-30 01:02:03 UTC"
        );
        assert_eq!(csv_field("a \"b\""), "\"a \"\"b\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
    }

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
    fn the_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; __Host-console=tok; b=2"),
        );
        assert_eq!(cookie_token(&headers).as_deref(), Some("tok"));
        headers.insert(header::COOKIE, HeaderValue::from_static("console=tok"));
        assert_eq!(cookie_token(&headers), None);
    }
}
