//! The verification page (RFC 8628 section 3.3): the customer signs in with
//! the bank password, confirms the user code, then approves or denies what
//! the app asks for. Plain HTML, no script, strict headers; every value
//! shown is escaped by the templates (`crate::page`).

use std::collections::HashMap;
use std::sync::Arc;

use crate::sql::{OptionalExtension, params};
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use crate::crypto::now_s;
use crate::error::GatewayError;
use crate::page::page;
// Password hashing serves staff and the console too; kept reachable here.
use crate::passwords::check_password;
use crate::state::{Shared, client_ip};
use crate::user_codes::{display_user_code, normalize_user_code};

/// The page's style sheet (served from the gateway so the CSP can stay
/// `style-src 'self'`).
pub const STYLE_CSS: &str = "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}
input[type=text],input[type=password]{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin:1rem .5rem 0 0;padding:.5rem 1.2rem;font-size:1rem}
.error{color:#a40000;font-weight:600}.code{font-family:monospace;font-size:1.3rem;letter-spacing:.1rem}
ul{line-height:1.6}
textarea{width:100%;box-sizing:border-box;font:inherit;padding:.5rem}
.bar{color:#4a5560}form.inline button{margin-top:0}
.chat{list-style:none;padding:0}.msg{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .7rem;margin:.5rem 0}
.from-staff{background:#f3f6fa}.who{font-weight:600}.muted{color:#57606a;font-size:.9rem}.body{white-space:pre-wrap;margin:.3rem 0 0}
table{border-collapse:collapse;font-size:.9rem}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}";

/// `GET /device/style.css`.
pub async fn style() -> Response {
    static_asset(STYLE_CSS, "text/css; charset=utf-8", "no-store")
}

/// A file the gateway serves from its own code (a style sheet, the
/// console's script), with its type fixed (`nosniff`).
pub(crate) fn static_asset(
    body: &'static str,
    content_type: &'static str,
    cache_control: &'static str,
) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    response
}

fn sign_in_page(
    state: &Shared,
    status: StatusCode,
    user_code: &str,
    error: Option<&str>,
) -> Response {
    let csrf = state.pages.new_csrf(&state.rng);
    let bank = &state.config.bank_name;
    page(
        status,
        &format!("{bank} - link Strongroom"),
        sign_in_form(bank, user_code, &csrf, error),
    )
}

fn sign_in_form(bank: &str, user_code: &str, csrf: &str, error: Option<&str>) -> Markup {
    html! {
        h1 { (bank) ": link the Strongroom app" }
        @if let Some(error) = error {
            p.error { (error) }
        }
        p { "Sign in with your " (bank) " username and password, and enter the code the app shows." }
        form method="post" action="/device" {
            label for="user_code" { "Code from the app" }
            input type="text" id="user_code" name="user_code" value=(user_code) autocomplete="off" required;
            label for="username" { "Username" }
            input type="text" id="username" name="username" autocomplete="username" required;
            label for="password" { "Password" }
            input type="password" id="password" name="password" autocomplete="current-password" required;
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { "Sign in" }
        }
    }
}

/// `page` with a `Retry-After` of `wait`.
pub(crate) fn too_many(mut page: Response, wait: std::time::Duration) -> Response {
    if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
        page.headers_mut().insert(header::RETRY_AFTER, v);
    }
    page
}

/// `GET /device[?user_code=XXXX-XXXX]`: the sign-in form.
pub async fn show(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let code = query.get("user_code").map(String::as_str).unwrap_or("");
    let code: String = code.chars().take(16).collect();
    sign_in_page(&state, StatusCode::OK, &code, None)
}

/// The username (trimmed) and password typed into a sign-in form, or
/// `None` when either is empty or longer than a sign-in ever needs (64 and
/// 1024 bytes): the customers' page and the agent console check the same.
pub(crate) fn credentials(username: &str, password: &str) -> Option<(String, String)> {
    let username = username.trim();
    (!username.is_empty() && username.len() <= 64 && !password.is_empty() && password.len() <= 1024)
        .then(|| (username.to_owned(), password.to_owned()))
}

/// The fields of an `application/x-www-form-urlencoded` body.
pub(crate) fn form(body: &[u8]) -> HashMap<String, String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .map(|pairs| pairs.into_iter().collect())
        .unwrap_or_default()
}

/// `POST /device`: checks the form token, the password and the user code,
/// then shows the consent page.
pub async fn sign_in(State(state): State<Shared>, request: Request) -> Response {
    let ip = crate::limits::source_key(client_ip(&request));
    let body = match axum::body::to_bytes(request.into_body(), 64 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return sign_in_page(
                &state,
                StatusCode::PAYLOAD_TOO_LARGE,
                "",
                Some("The form is too large."),
            );
        }
    };
    let fields = form(&body);
    let get = |name: &str| fields.get(name).map(String::as_str).unwrap_or("");
    let typed_code: String = get("user_code").chars().take(16).collect();
    if !state.pages.take_csrf(get("csrf")).await {
        return sign_in_page(
            &state,
            StatusCode::BAD_REQUEST,
            &typed_code,
            Some("This form expired or was already used. Please try again."),
        );
    }
    let Some((username, password)) = credentials(get("username"), get("password")) else {
        return sign_in_page(
            &state,
            StatusCode::BAD_REQUEST,
            &typed_code,
            Some("Enter your username and password."),
        );
    };
    // Each check holds 19 MiB for a while: at most one per CPU at a time,
    // and the rest are told to come back rather than queued.
    let Ok(permit) = Arc::clone(&state.password_checks).try_acquire_owned() else {
        let mut busy = sign_in_page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            &typed_code,
            Some("The bank is busy. Try again in a moment."),
        );
        busy.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return busy;
    };
    // Counted before hashing, so parallel attempts cannot all slip under
    // the limit; taken back on success.
    if let Err(wait) = state.sign_ins.begin(&username, &ip).await {
        return too_many(
            sign_in_page(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                &typed_code,
                Some(&format!(
                    "Too many failed sign-ins. Wait {} and try again.",
                    crate::limits::spoken(wait)
                )),
            ),
            wait,
        );
    }
    let lookup = username.clone();
    let customer = state
        .db
        .read(move |c| -> Result<Option<(i64, String)>, GatewayError> {
            Ok(c.query_row(
                "SELECT id, password_hash FROM customers WHERE username = ?1",
                [&lookup],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })
        .await;
    let customer = match customer {
        Ok(c) => c,
        Err(e) => {
            return page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Error",
                html! { p { (e) } },
            );
        }
    };
    let phc = customer.as_ref().map(|(_, h)| h.clone());
    let ok = check_password(state.dummy_hash(), permit, password, phc).await;
    let Some((customer_id, _)) = customer.filter(|_| ok) else {
        // Someone trying passwords with a code they saw spends that code.
        if let Some(code) = normalize_user_code(&typed_code) {
            state.sign_ins.code_named_in_failure(&code).await;
        }
        return sign_in_page(
            &state,
            StatusCode::UNAUTHORIZED,
            &typed_code,
            Some("The username or password is not right."),
        );
    };
    state.sign_ins.succeeded(&username, &ip).await;
    // User codes are guessable in principle (RFC 8628 section 5.1): every
    // attempt is counted per customer and per source before the code is
    // looked up (so parallel guesses cannot all slip under the limit), and
    // taken back when the code is right.
    if !state.sign_ins.code_attempt(&username, &ip).await {
        return too_many(
            sign_in_page(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                "",
                Some("Too many wrong codes. Wait 15 minutes, then start linking again in the app."),
            ),
            crate::limits::SIGN_IN_WINDOW,
        );
    }
    let Some(code) = normalize_user_code(&typed_code) else {
        return sign_in_page(
            &state,
            StatusCode::BAD_REQUEST,
            &typed_code,
            Some("That code is not right. Check the code the app shows."),
        );
    };
    if !state.sign_ins.code_usable(&code).await {
        // Not a guess of this customer's: the code was spent by someone
        // else's failed passwords.
        state.sign_ins.code_succeeded(&username, &ip).await;
        return sign_in_page(
            &state,
            StatusCode::BAD_REQUEST,
            "",
            Some(
                "That code was tried with wrong passwords too often. Start linking again in the app.",
            ),
        );
    }
    let lookup = code.clone();
    let pending = state
        .db
        .read(move |c| -> Result<Option<String>, GatewayError> {
            Ok(c.query_row(
                "SELECT scope FROM device_codes WHERE user_code = ?1 AND status = 'pending' AND expires_at >= ?2",
                params![lookup, now_s()],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
        .ok()
        .flatten();
    let Some(scope) = pending else {
        return sign_in_page(
            &state,
            StatusCode::BAD_REQUEST,
            &typed_code,
            Some("That code is not right or has expired. Check the code the app shows."),
        );
    };
    state.sign_ins.code_succeeded(&username, &ip).await;
    let decision = state
        .pages
        .new_decision(&state.rng, code.clone(), customer_id);
    let bank = &state.config.bank_name;
    page(
        StatusCode::OK,
        &format!("{bank} - allow Strongroom"),
        consent_form(bank, &display_user_code(&code), &scope, &decision),
    )
}

/// What the app asks to do, in the customer's words, one item a scope.
fn scope_item(scope: &str) -> Option<&'static str> {
    match scope {
        "alerts" => Some(
            "Receive alerts signed by the bank: transactions, balance, security events and fraud checks, and send your answers to fraud checks.",
        ),
        "chat" => Some("Send and receive chat messages with the bank's staff."),
        _ => None,
    }
}

fn consent_form(bank: &str, code: &str, scope: &str, decision: &str) -> Markup {
    html! {
        h1 { "Allow the Strongroom app to use your " (bank) " account?" }
        p { "Code " span.code { (code) } ". Only continue if this code is shown in your own Strongroom app." }
        p { "The app will be able to:" }
        ul {
            @for item in scope.split(' ').filter_map(scope_item) {
                li { (item) }
            }
        }
        p { "It will not see your password, and cannot make payments. You can unlink it at any time." }
        form method="post" action="/device/decision" {
            input type="hidden" name="decision" value=(decision);
            button type="submit" name="action" value="approve" { "Approve" }
            button type="submit" name="action" value="deny" { "Deny" }
        }
    }
}

/// `POST /device/decision`: records Approve or Deny for the user code.
pub async fn decide(State(state): State<Shared>, body: Bytes) -> Response {
    let fields = form(&body);
    let action = fields.get("action").map(String::as_str).unwrap_or("");
    let approve = match action {
        "approve" => true,
        "deny" => false,
        _ => {
            return page(
                StatusCode::BAD_REQUEST,
                "Error",
                html! { h1 { "Choose Approve or Deny." } },
            );
        }
    };
    let taken = match fields.get("decision") {
        Some(token) => state.pages.take_decision(token).await,
        None => None,
    };
    let Some(decision) = taken else {
        return page(
            StatusCode::BAD_REQUEST,
            "Expired",
            html! {
                h1 { "This page expired or was already used." }
                p { "Start again from the code in the app." }
            },
        );
    };
    let status = if approve { "approved" } else { "denied" };
    let updated = state
        .db
        .write(move |c| -> Result<usize, GatewayError> {
            Ok(c.execute(
                "UPDATE device_codes SET status = ?1, customer_id = ?2
                 WHERE user_code = ?3 AND status = 'pending' AND expires_at >= ?4",
                params![status, decision.customer_id, decision.user_code, now_s()],
            )?)
        })
        .await;
    match updated {
        Ok(1) if approve => page(
            StatusCode::OK,
            "Access approved",
            html! {
                h1 { "Access approved" }
                p { "You can go back to the Strongroom app; it finishes linking by itself." }
            },
        ),
        Ok(1) => page(
            StatusCode::OK,
            "Access denied",
            html! {
                h1 { "Access denied" }
                p { "The app was not linked. If you did not start this, tell the bank." }
            },
        ),
        Ok(_) => page(
            StatusCode::BAD_REQUEST,
            "Expired",
            html! {
                h1 { "This code has expired or was already used." }
                p { "Start again from the app." }
            },
        ),
        Err(_) => page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error",
            html! { h1 { "Something went wrong. Try again." } },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_in_form_shows_the_bank_the_code_and_the_error_as_text() {
        let html = sign_in_form(
            "<script>\"Bank\" & co",
            "\"><b>",
            "one-time",
            Some("Wait <1> & retry."),
        )
        .into_string();
        for expected in [
            "<h1>&lt;script&gt;&quot;Bank&quot; &amp; co: link the Strongroom app</h1>\
             <p class=\"error\">Wait &lt;1&gt; &amp; retry.</p>\
             <p>Sign in with your &lt;script&gt;&quot;Bank&quot; &amp; co username and password",
            "<input type=\"text\" id=\"user_code\" name=\"user_code\" value=\"&quot;&gt;&lt;b&gt;\" autocomplete=\"off\" required>",
            "<input type=\"hidden\" name=\"csrf\" value=\"one-time\"><button type=\"submit\">Sign in</button></form>",
        ] {
            assert!(html.contains(expected), "{expected} missing from {html}");
        }
        assert!(!html.contains("<script>"), "{html}");
    }

    #[test]
    fn the_consent_form_lists_what_the_app_asks_for() {
        let html = consent_form("A & <B>", "BCDF-GHJK", "alerts chat other", "t\"1").into_string();
        for expected in [
            "<h1>Allow the Strongroom app to use your A &amp; &lt;B&gt; account?</h1>",
            "<p>Code <span class=\"code\">BCDF-GHJK</span>. Only continue",
            "<ul><li>Receive alerts signed by the bank: transactions",
            "fraud checks.</li><li>Send and receive chat messages with the bank's staff.</li></ul>",
            "<form method=\"post\" action=\"/device/decision\"><input type=\"hidden\" name=\"decision\" value=\"t&quot;1\">\
             <button type=\"submit\" name=\"action\" value=\"approve\">Approve</button>\
             <button type=\"submit\" name=\"action\" value=\"deny\">Deny</button></form>",
        ] {
            assert!(html.contains(expected), "{expected} missing from {html}");
        }
    }
}
