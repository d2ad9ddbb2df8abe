//! The verification page (RFC 8628 section 3.3): the customer signs in with
//! the bank password, confirms the user code, then approves or denies what
//! the app asks for. Plain HTML, no script, strict headers; every value
//! shown is escaped by the templates (`crate::page`).
//!
//! The pages speak the customer's language: the first of English, German
//! and French the browser asks for (`Accept-Language`), else English; every
//! sentence is in `consent.ftl` (crate `strongroom-l10n`). OpenID Connect's
//! `ui_locales` is not honoured: the device authorization request is not
//! kept beyond its scope, and the browser that opens this page is often not
//! the device that asked.

use std::collections::HashMap;
use std::sync::Arc;

use crate::sql::{OptionalExtension, params};
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use strongroom_l10n::{Arg, Catalog, Domain, Lang};

use crate::crypto::now_s;
use crate::error::GatewayError;
use crate::page::page_in;
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

/// The language of the customer's pages: the first language with
/// catalogues in the browser's `Accept-Language` (RFC 9110 section
/// 12.5.4), by q-value and then by order; `*` accepts English. English when
/// the header names none, is missing or cannot be read.
fn customer_language(headers: &HeaderMap) -> Lang {
    // The best so far (q in thousandths): a later range must beat its q.
    let mut best: Option<(u16, Lang)> = None;
    let ranges = headers
        .get_all(header::ACCEPT_LANGUAGE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        // A browser sends a handful; a long list is not worth reading.
        .take(32);
    for item in ranges {
        let mut parts = item.split(';');
        let range = parts.next().unwrap_or("").trim();
        let mut q = Some(1000);
        for parameter in parts {
            if let Some((name, value)) = parameter.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                q = quality(value.trim());
            }
        }
        // q=0 means "not this one"; an unreadable q is ignored as a whole.
        let Some(q) = q.filter(|q| *q > 0) else {
            continue;
        };
        let lang = if range == "*" {
            Some(Lang::En)
        } else {
            range.split('-').next().and_then(Lang::from_code)
        };
        if let Some(lang) = lang
            && best.is_none_or(|(best_q, _)| q > best_q)
        {
            best = Some((q, lang));
        }
    }
    best.map_or(Lang::En, |(_, lang)| lang)
}

/// A q-value in thousandths: `0`, `0.5`, `1`, `1.000` (at most three
/// decimals, never above 1); `None` for anything else.
fn quality(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// A page of the customer's flow in `lang`. The language follows the
/// request's `Accept-Language`, so a cache must key on it (`no-store`
/// already keeps caches out; `Vary` says why for any that look).
fn customer_page(status: StatusCode, lang: Lang, title: &str, body: Markup) -> Response {
    let mut response = page_in(status, lang, title, body);
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-language"));
    response
}

/// The consent catalogue in `lang`.
fn words(lang: Lang) -> &'static Catalog {
    Catalog::get(Domain::Consent, lang)
}

fn sign_in_page(
    state: &Shared,
    lang: Lang,
    status: StatusCode,
    user_code: &str,
    error: Option<&str>,
) -> Response {
    let csrf = state.pages.new_csrf(&state.rng);
    let bank = &state.config.bank_name;
    let t = words(lang);
    customer_page(
        status,
        lang,
        &t.format("consent-sign-in-title", &[("bank", Arg::Str(bank))]),
        sign_in_form(t, bank, user_code, &csrf, error),
    )
}

/// [`sign_in_page`] with the error `id` of the consent catalogue.
fn sign_in_again(
    state: &Shared,
    lang: Lang,
    status: StatusCode,
    user_code: &str,
    id: &str,
) -> Response {
    sign_in_page(state, lang, status, user_code, Some(&words(lang).text(id)))
}

fn sign_in_form(
    t: &Catalog,
    bank: &str,
    user_code: &str,
    csrf: &str,
    error: Option<&str>,
) -> Markup {
    let bank_arg = [("bank", Arg::Str(bank))];
    html! {
        h1 { (t.format("consent-sign-in-heading", &bank_arg)) }
        @if let Some(error) = error {
            p.error { (error) }
        }
        p { (t.format("consent-sign-in-intro", &bank_arg)) }
        form method="post" action="/device" {
            label for="user_code" { (t.text("consent-code-label")) }
            input type="text" id="user_code" name="user_code" value=(user_code) autocomplete="off" required;
            label for="username" { (t.text("consent-username")) }
            input type="text" id="username" name="username" autocomplete="username" required;
            label for="password" { (t.text("consent-password")) }
            input type="password" id="password" name="password" autocomplete="current-password" required;
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { (t.text("consent-sign-in")) }
        }
    }
}

/// "Too many failed sign-ins. Wait 3 seconds...": seconds up to a minute
/// and a half, whole minutes (rounded up) beyond, as `limits::spoken` says
/// it in English.
fn wait_text(t: &Catalog, wait: std::time::Duration) -> String {
    let seconds = wait.as_secs().max(1);
    if seconds <= 90 {
        t.format(
            "consent-error-too-many-sign-ins-seconds",
            &[("seconds", count(seconds))],
        )
    } else {
        t.format(
            "consent-error-too-many-sign-ins-minutes",
            &[("minutes", count(seconds.div_ceil(60)))],
        )
    }
}

/// A count as a catalogue value.
fn count(n: u64) -> Arg<'static> {
    Arg::Num(i64::try_from(n).unwrap_or(i64::MAX))
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
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let code = query.get("user_code").map(String::as_str).unwrap_or("");
    let code: String = code.chars().take(16).collect();
    sign_in_page(
        &state,
        customer_language(&headers),
        StatusCode::OK,
        &code,
        None,
    )
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
    let lang = customer_language(request.headers());
    let t = words(lang);
    let body = match axum::body::to_bytes(request.into_body(), 64 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return sign_in_again(
                &state,
                lang,
                StatusCode::PAYLOAD_TOO_LARGE,
                "",
                "consent-error-too-large",
            );
        }
    };
    let fields = form(&body);
    let get = |name: &str| fields.get(name).map(String::as_str).unwrap_or("");
    let typed_code: String = get("user_code").chars().take(16).collect();
    if !state.pages.take_csrf(get("csrf")).await {
        return sign_in_again(
            &state,
            lang,
            StatusCode::BAD_REQUEST,
            &typed_code,
            "consent-error-form-expired",
        );
    }
    let Some((username, password)) = credentials(get("username"), get("password")) else {
        return sign_in_again(
            &state,
            lang,
            StatusCode::BAD_REQUEST,
            &typed_code,
            "consent-error-credentials-missing",
        );
    };
    // Each check holds 19 MiB for a while: at most one per CPU at a time,
    // and the rest are told to come back rather than queued.
    let Ok(permit) = Arc::clone(&state.password_checks).try_acquire_owned() else {
        let mut busy = sign_in_again(
            &state,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            &typed_code,
            "consent-error-busy",
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
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                &typed_code,
                Some(&wait_text(t, wait)),
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
            // The cause is for the operators' log, not the customer's page.
            tracing::error!(error = %e, "sign-in: the customer could not be looked up");
            return error_page(lang, StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    let phc = customer.as_ref().map(|(_, h)| h.clone());
    let ok = check_password(state.dummy_hash(), permit, password, phc).await;
    let Some((customer_id, _)) = customer.filter(|_| ok) else {
        // Someone trying passwords with a code they saw spends that code.
        if let Some(code) = normalize_user_code(&typed_code) {
            state.sign_ins.code_named_in_failure(&code).await;
        }
        return sign_in_again(
            &state,
            lang,
            StatusCode::UNAUTHORIZED,
            &typed_code,
            "consent-error-wrong-password",
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
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                "",
                Some(&t.format(
                    "consent-error-too-many-codes",
                    &[(
                        "minutes",
                        count(crate::limits::SIGN_IN_WINDOW.as_secs().div_ceil(60)),
                    )],
                )),
            ),
            crate::limits::SIGN_IN_WINDOW,
        );
    }
    let Some(code) = normalize_user_code(&typed_code) else {
        return sign_in_again(
            &state,
            lang,
            StatusCode::BAD_REQUEST,
            &typed_code,
            "consent-error-code-malformed",
        );
    };
    if !state.sign_ins.code_usable(&code).await {
        // Not a guess of this customer's: the code was spent by someone
        // else's failed passwords.
        state.sign_ins.code_succeeded(&username, &ip).await;
        return sign_in_again(
            &state,
            lang,
            StatusCode::BAD_REQUEST,
            "",
            "consent-error-code-spent",
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
        return sign_in_again(
            &state,
            lang,
            StatusCode::BAD_REQUEST,
            &typed_code,
            "consent-error-code-unknown",
        );
    };
    state.sign_ins.code_succeeded(&username, &ip).await;
    let decision = state
        .pages
        .new_decision(&state.rng, code.clone(), customer_id);
    consent_page(
        lang,
        &state.config.bank_name,
        &display_user_code(&code),
        &scope,
        &decision,
    )
}

/// The consent page: what the app asks for, and Approve or Deny.
fn consent_page(lang: Lang, bank: &str, code: &str, scope: &str, decision: &str) -> Response {
    let t = words(lang);
    customer_page(
        StatusCode::OK,
        lang,
        &t.format("consent-title", &[("bank", Arg::Str(bank))]),
        consent_form(t, bank, code, scope, decision),
    )
}

/// What the app asks to do, in the customer's words, one item a scope.
fn scope_item(t: &Catalog, scope: &str) -> Option<String> {
    match scope {
        "alerts" => Some(t.text("consent-scope-alerts")),
        "chat" => Some(t.text("consent-scope-chat")),
        _ => None,
    }
}

/// The catalogue's sentence `id` with the user code set apart in it: the
/// sentence puts `{ $code }` where its language does, and the code is
/// spliced in there as an element of its own. Both halves stay text
/// (escaped), so no catalogue holds markup.
fn with_code(t: &Catalog, id: &str, code: &str) -> Markup {
    // A private-use character: never in a catalogue, never in a code.
    const HERE: &str = "\u{E000}";
    let sentence = t.format(id, &[("code", Arg::Str(HERE))]);
    match sentence.split_once(HERE) {
        Some((before, after)) => html! { (before) span.code { (code) } (after) },
        None => html! { (sentence) " " span.code { (code) } },
    }
}

fn consent_form(t: &Catalog, bank: &str, code: &str, scope: &str, decision: &str) -> Markup {
    html! {
        h1 { (t.format("consent-heading", &[("bank", Arg::Str(bank))])) }
        p { (with_code(t, "consent-code", code)) }
        p { (t.text("consent-app-can")) }
        ul {
            @for item in scope.split(' ').filter_map(|s| scope_item(t, s)) {
                li { (item) }
            }
        }
        p { (t.text("consent-app-cannot")) }
        form method="post" action="/device/decision" {
            input type="hidden" name="decision" value=(decision);
            button type="submit" name="action" value="approve" { (t.text("consent-approve")) }
            button type="submit" name="action" value="deny" { (t.text("consent-deny")) }
        }
    }
}

/// A page that ends the flow: its title, a heading and what to do next.
fn outcome_page(
    lang: Lang,
    status: StatusCode,
    title: &str,
    heading: &str,
    next: Option<&str>,
) -> Response {
    let t = words(lang);
    customer_page(
        status,
        lang,
        &t.text(title),
        html! {
            h1 { (t.text(heading)) }
            @if let Some(next) = next {
                p { (t.text(next)) }
            }
        },
    )
}

/// Something failed on the bank's side; the cause is in its log.
fn error_page(lang: Lang, status: StatusCode) -> Response {
    outcome_page(
        lang,
        status,
        "consent-error",
        "consent-error-internal",
        None,
    )
}

/// `POST /device/decision`: records Approve or Deny for the user code.
pub async fn decide(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = customer_language(&headers);
    let fields = form(&body);
    let action = fields.get("action").map(String::as_str).unwrap_or("");
    let approve = match action {
        "approve" => true,
        "deny" => false,
        _ => {
            return outcome_page(
                lang,
                StatusCode::BAD_REQUEST,
                "consent-error",
                "consent-choose",
                None,
            );
        }
    };
    let taken = match fields.get("decision") {
        Some(token) => state.pages.take_decision(token).await,
        None => None,
    };
    let Some(decision) = taken else {
        return outcome_page(
            lang,
            StatusCode::BAD_REQUEST,
            "consent-expired",
            "consent-page-expired",
            Some("consent-page-expired-next"),
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
        Ok(1) if approve => outcome_page(
            lang,
            StatusCode::OK,
            "consent-approved",
            "consent-approved",
            Some("consent-approved-next"),
        ),
        Ok(1) => outcome_page(
            lang,
            StatusCode::OK,
            "consent-denied",
            "consent-denied",
            Some("consent-denied-next"),
        ),
        Ok(_) => outcome_page(
            lang,
            StatusCode::BAD_REQUEST,
            "consent-expired",
            "consent-code-expired",
            Some("consent-code-expired-next"),
        ),
        Err(_) => error_page(lang, StatusCode::INTERNAL_SERVER_ERROR),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_in_form_shows_the_bank_the_code_and_the_error_as_text() {
        let html = sign_in_form(
            words(Lang::En),
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
        let html = consent_form(
            words(Lang::En),
            "A & <B>",
            "BCDF-GHJK",
            "alerts chat other",
            "t\"1",
        )
        .into_string();
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

    fn accepting(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_str(value).expect("a header value"),
        );
        headers
    }

    #[test]
    fn the_browser_s_first_language_we_speak_wins_by_quality_then_order() {
        for (header, expected) in [
            ("de-DE,de;q=0.9,en;q=0.5", Lang::De),
            ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", Lang::Fr),
            // Languages without catalogues are passed over.
            ("ja, it;q=0.9, fr;q=0.8", Lang::Fr),
            // The highest q wins wherever it stands; equal q, the first.
            ("en;q=0.3, de;q=0.8", Lang::De),
            ("fr;q=0.5, de;q=0.5", Lang::Fr),
            ("de;q=1.000, fr", Lang::De),
            // q=0 is a refusal; an unreadable q drops its range.
            ("de;q=0, fr;q=0.1", Lang::Fr),
            ("de;q=2, fr;q=0.1", Lang::Fr),
            ("de;q=0.5555, fr;q=0.1", Lang::Fr),
            ("DE-at;Q=0.9", Lang::De),
            ("*", Lang::En),
            ("ja", Lang::En),
            ("", Lang::En),
        ] {
            assert_eq!(customer_language(&accepting(header)), expected, "{header}");
        }
        assert_eq!(customer_language(&HeaderMap::new()), Lang::En);
    }

    #[tokio::test]
    async fn a_german_browser_gets_the_consent_page_in_german() {
        let lang = customer_language(&accepting("de-DE,de;q=0.9,en;q=0.5"));
        let response = consent_page(lang, "Demo <Bank>", "BCDF-GHJK", "alerts chat", "t1");
        assert_eq!(
            response.headers().get(header::CONTENT_LANGUAGE),
            Some(&HeaderValue::from_static("de"))
        );
        let html = crate::page::html_of(response).await;
        for expected in [
            "<html lang=\"de\">",
            "<title>Demo &lt;Bank&gt; – Strongroom zulassen</title>",
            "<h1>Darf die Strongroom-App Ihr Konto bei Demo &lt;Bank&gt; nutzen?</h1>",
            "<p>Code <span class=\"code\">BCDF-GHJK</span>. Fahren Sie nur fort, wenn",
            "<li>Chatnachrichten mit den Mitarbeitenden der Bank senden und empfangen.</li>",
            "<button type=\"submit\" name=\"action\" value=\"approve\">Zulassen</button>\
             <button type=\"submit\" name=\"action\" value=\"deny\">Ablehnen</button>",
        ] {
            assert!(html.contains(expected), "{expected} missing from {html}");
        }
        assert!(!html.contains("Approve"), "no English left: {html}");
    }

    #[tokio::test]
    async fn a_french_browser_gets_the_consent_page_in_french() {
        let lang = customer_language(&accepting("fr-FR,fr;q=0.9,en-GB;q=0.8,en;q=0.7"));
        let html =
            crate::page::html_of(consent_page(lang, "Demo Bank", "BCDF-GHJK", "alerts", "t1"))
                .await;
        for expected in [
            "<html lang=\"fr\">",
            // French typography: a no-break space before the question mark.
            "<h1>Autoriser l'application Strongroom à utiliser votre compte Demo Bank\u{a0}?</h1>",
            "<p>Code <span class=\"code\">BCDF-GHJK</span>. Ne continuez que si",
            "<li>Recevoir des alertes signées par la banque\u{a0}: opérations",
            "value=\"approve\">Autoriser</button>",
            "value=\"deny\">Refuser</button>",
        ] {
            assert!(html.contains(expected), "{expected} missing from {html}");
        }
    }

    #[test]
    fn the_code_sits_where_the_language_puts_it_and_stays_text() {
        let html = with_code(words(Lang::En), "consent-code", "<b>").into_string();
        assert!(
            html.starts_with("Code <span class=\"code\">&lt;b&gt;</span>. Only continue"),
            "{html}"
        );
    }

    #[test]
    fn waits_are_spoken_in_the_customer_s_language() {
        use std::time::Duration;
        let en = words(Lang::En);
        assert_eq!(
            wait_text(en, Duration::from_secs(1)),
            format!(
                "Too many failed sign-ins. Wait {} and try again.",
                crate::limits::spoken(Duration::from_secs(1))
            )
        );
        for s in [0, 2, 90, 91, 900] {
            let wait = Duration::from_secs(s);
            assert_eq!(
                wait_text(en, wait),
                format!(
                    "Too many failed sign-ins. Wait {} and try again.",
                    crate::limits::spoken(wait)
                ),
                "the English is what the console says too"
            );
        }
        assert_eq!(
            wait_text(words(Lang::De), Duration::from_secs(900)),
            "Zu viele fehlgeschlagene Anmeldeversuche. Warten Sie 15 Minuten und versuchen Sie \
             es dann erneut."
        );
        assert_eq!(
            wait_text(words(Lang::Fr), Duration::from_secs(1)),
            "Trop de tentatives de connexion échouées. Patientez 1 seconde puis réessayez."
        );
    }
}
