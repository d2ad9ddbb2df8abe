//! The HTML document every page of the gateway is (the customers'
//! verification page, the agent console), and the strict headers it is
//! sent with.
//!
//! Pages are written with maud: templates in Rust syntax, checked when the
//! gateway compiles, that escape every value spliced into them unless the
//! value is itself markup. A page here is small and filled from Rust values
//! (a session, a row of the queue), so a template is a Rust function beside
//! the handler that fills it, type-checked with it; askama's template
//! files would be a second place to keep in step by field name. Nothing
//! calls an escape function by hand, so nothing can forget to.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use strongroom_l10n::Lang;

/// An English HTML page (the staff console is in English only) with the
/// strict headers every page of the gateway sends.
pub(crate) fn page(status: StatusCode, title: &str, body: Markup) -> Response {
    page_in(status, Lang::En, title, body)
}

/// An HTML page whose text is in `lang` (its `lang` attribute and
/// `Content-Language` say so, for screen readers, hyphenation and
/// translation tools), with the strict headers every page sends.
pub(crate) fn page_in(status: StatusCode, lang: Lang, title: &str, body: Markup) -> Response {
    let html = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width";
                title { (title) }
                link rel="stylesheet" href="/device/style.css";
            }
            // One main landmark holding the page, so a screen reader's
            // "go to main content" lands on it (axe-core: landmark-one-main).
            body { main { (body) } }
        }
    };
    let mut response = (status, html.into_string()).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.code()),
    );
    response
}

/// The HTML of a page, for tests that look at what a user would see.
#[cfg(test)]
pub(crate) async fn html_of(response: Response) -> String {
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a page's body");
    String::from_utf8(body.to_vec()).expect("a page is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_title_is_text_and_the_body_is_markup() {
        let html = html_of(page(
            StatusCode::OK,
            "<b>\"Bank\" & co",
            html! { p { "kept" } },
        ))
        .await;
        assert!(
            html.contains("<title>&lt;b&gt;&quot;Bank&quot; &amp; co</title>"),
            "the title is escaped: {html}"
        );
        assert!(
            html.contains("<body><main><p>kept</p></main></body>"),
            "{html}"
        );
        assert!(html.contains("<html lang=\"en\">"), "{html}");
    }

    #[tokio::test]
    async fn a_page_says_which_language_it_is_in() {
        let response = page_in(StatusCode::OK, Lang::Fr, "t", html! {});
        assert_eq!(
            response.headers().get(header::CONTENT_LANGUAGE),
            Some(&HeaderValue::from_static("fr"))
        );
        let html = html_of(response).await;
        assert!(html.contains("<html lang=\"fr\">"), "{html}");
    }
}
