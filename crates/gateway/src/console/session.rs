//! Who is signed in: the session cookie, signing in and out, and the
//! checks every signed-in page and form makes first.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use maud::html;

use super::layout::{error_page, see_other, storage_error};
use crate::crypto::{constant_time_eq, now_s};
use crate::error::GatewayError;
use crate::page::page;
use crate::passwords::check_password;
use crate::staff::{self, Role, Session};
use crate::state::{Shared, client_ip};
use crate::web::form;

/// The session cookie's name. `__Host-` makes the browser refuse it unless
/// it is Secure, has no Domain and has path /.
const COOKIE: &str = "__Host-console";

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, COOKIE).filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The value of cookie `name` in a request.
pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
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

pub(super) fn sign_in_page(state: &Shared, status: StatusCode, error: Option<&str>) -> Response {
    if state.staff_idp.is_some() {
        // Staff sign in at the bank's identity provider only: the
        // gateway's local accounts are for banks without one.
        return page(
            status,
            "Agent console: sign in",
            html! {
                h1 { (state.config.bank_name) ": agent console" }
                @if let Some(error) = error {
                    p.error role="alert" { (error) }
                }
                (super::sso::button())
            },
        );
    }
    let csrf = state.pages.new_csrf(&state.rng);
    sign_in_form(status, &state.config.bank_name, &csrf, error)
}

fn sign_in_form(status: StatusCode, bank_name: &str, csrf: &str, error: Option<&str>) -> Response {
    page(
        status,
        "Agent console: sign in",
        html! {
            h1 { (bank_name) ": agent console" }
            @if let Some(error) = error {
                p.error role="alert" { (error) }
            }
            form method="post" action="/console/sign-in" {
                label for="username" { "Username" }
                input type="text" id="username" name="username" autocomplete="username" required;
                label for="password" { "Password" }
                input type="password" id="password" name="password" autocomplete="current-password" required;
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { "Sign in" }
            }
        },
    )
}

/// `POST /console/sign-in`.
pub async fn sign_in(State(state): State<Shared>, request: Request) -> Response {
    if state.staff_idp.is_some() {
        // With the bank's single sign-on, a local password signs nobody
        // in: not even an old account's, whatever form token comes with
        // it. Staff go through the bank's login and MFA.
        return error_page(
            StatusCode::NOT_FOUND,
            "Staff sign in through the bank's single sign-on here.",
        );
    }
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
    if !state.pages.take_csrf(get("csrf")).await {
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
    if let Err(wait) = state.sign_ins.begin(&limiter_key, &ip).await {
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
    let password_ok = check_password(state.dummy_hash(), permit, password, phc).await;
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
            state.sign_ins.succeeded(&limiter_key, &ip).await;
            let mut r = see_other("/console");
            set_session_cookie(&mut r, &session);
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

fn set_session_cookie(response: &mut Response, session: &Session) {
    let cookie = format!(
        "{COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}",
        session.token,
        staff::SESSION_MAX_S
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The answer that completes a sign-in through the bank's identity
/// provider: the session cookie, and a page that goes on to the console.
/// Not a redirect: the IdP's redirect here is a cross-site navigation, and
/// a browser sends no `SameSite=Strict` cookie along a redirect from it;
/// the page's own refresh is same-site.
pub(super) fn signed_in(session: &Session, message: &str) -> Response {
    let mut r = page(
        StatusCode::OK,
        "Agent console: signed in",
        html! {
            h1 { "Agent console" }
            p role="status" { (message) }
            p { a id="continue" href="/console" { "Continue to the console" } }
        },
    );
    set_session_cookie(&mut r, session);
    // The sign-in's state cookie has done its work.
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "__Host-console-sso=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0",
        ),
    );
    r.headers_mut()
        .insert("refresh", HeaderValue::from_static("0; url=/console"));
    r
}

/// A signed-in form post: the session and the form's fields, or the page
/// to answer with. The form must carry the session's CSRF token.
pub(crate) async fn signed_in_form(
    state: &Shared,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Session, HashMap<String, String>), Response> {
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

/// The signed-in admin of a request, or the page to answer with.
pub(super) async fn admin(state: &Shared, headers: &HeaderMap) -> Result<Session, Response> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::html_of;

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

    #[tokio::test]
    async fn the_sign_in_form_shows_the_bank_and_the_error_as_text() {
        let html = html_of(sign_in_form(
            StatusCode::UNAUTHORIZED,
            "<script>\"Bank\" & co",
            "one-time",
            Some("Wait <1 minute> & \"retry\"."),
        ))
        .await;
        assert!(
            html.contains("<h1>&lt;script&gt;&quot;Bank&quot; &amp; co: agent console</h1>")
                && html.contains(
                    "<p class=\"error\" role=\"alert\">Wait &lt;1 minute&gt; &amp; &quot;retry&quot;.</p>"
                )
                && html.contains("<input type=\"hidden\" name=\"csrf\" value=\"one-time\">")
                && html.contains("<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>"),
            "{html}"
        );
        assert!(!html.contains("<script"), "{html}");
    }
}
