//! What every console page shares: the bar at the top, the error page,
//! the redirect after a form, and how a time is written.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::error::GatewayError;
use crate::page::page;
use crate::staff::{Role, Session};

pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    page(
        status,
        "Agent console",
        html! {
            h1 { "Agent console" }
            p.error { (message) }
            p { a href="/console" { "Back" } }
        },
    )
}

pub(crate) fn storage_error(e: &GatewayError) -> Response {
    tracing::error!(error = %e, "the console met a storage error");
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

/// The bar at the top of every signed-in page.
pub(crate) fn header_bar(session: &Session) -> Markup {
    html! {
        p.bar {
            (session.staff.display_name) " (" (session.staff.role.as_str()) ") · "
            a href="/console" { "Queue" } " · "
            a href="/console/approvals" { "Approvals" }
            @if session.staff.role == Role::Admin {
                " · " a href="/console/flags" { "Pilot flags" }
                " · " a href="/console/audit" { "Audit log" }
            }
        }
        form method="post" action="/console/sign-out" class="inline" {
            input type="hidden" name="csrf" value=(session.csrf);
            button type="submit" { "Sign out" }
        }
    }
}

pub(crate) fn when(ms: i64) -> String {
    // UTC, to the second: the same for every agent, wherever they sit.
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| format!("{ms} ms after 1970 (out of the calendar's range)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::signed_in as session;
    use crate::page::html_of;

    #[test]
    fn dates_are_utc_to_the_second() {
        assert_eq!(when(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(when(999), "1970-01-01 00:00:00 UTC");
        assert_eq!(when(-1), "1969-12-31 23:59:59 UTC");
        assert_eq!(
            when(1_795_996_800_000 + 3_723_000),
            "2026-11-30 01:02:03 UTC"
        );
        assert_eq!(when(951_782_400_000), "2000-02-29 00:00:00 UTC");
    }

    #[test]
    fn the_bar_names_the_agent_as_text_and_shows_admins_more() {
        let agent = header_bar(&session("<script>\"Ana\" & co", Role::Agent)).into_string();
        assert!(
            agent.starts_with("<p class=\"bar\">&lt;script&gt;&quot;Ana&quot; &amp; co (agent) · "),
            "{agent}"
        );
        assert!(!agent.contains("/console/audit"), "{agent}");
        assert!(
            agent.contains("<input type=\"hidden\" name=\"csrf\" value=\"csrf-token\">"),
            "{agent}"
        );
        let admin = header_bar(&session("Root", Role::Admin)).into_string();
        assert!(
            admin.contains(" · <a href=\"/console/flags\">Pilot flags</a> · <a href=\"/console/audit\">Audit log</a></p>"),
            "{admin}"
        );
    }

    #[tokio::test]
    async fn an_error_message_is_text() {
        let html = html_of(error_page(StatusCode::BAD_REQUEST, "No customer \"<b>&\".")).await;
        assert!(
            html.contains("<p class=\"error\">No customer &quot;&lt;b&gt;&amp;&quot;.</p>"),
            "{html}"
        );
    }
}
