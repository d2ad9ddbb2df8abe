//! The audit log, for admins: every action of staff, newest first on the
//! page and oldest first in the CSV export.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::layout::{header_bar, storage_error, when};
use super::session::admin;
use crate::page::page;
use crate::staff::{self, AuditEntry, Session};
use crate::state::Shared;

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
    page(
        StatusCode::OK,
        "Agent console: audit log",
        audit_view(&session, &entries),
    )
}

fn audit_view(session: &Session, entries: &[AuditEntry]) -> Markup {
    html! {
        (header_bar(session))
        h1 { "Audit log" }
        p { a href="/console/audit.csv" { "Export (CSV)" } }
        table.audit {
            thead { tr { th { "When" } th { "Who" } th { "Action" } th { "Detail" } } }
            tbody {
                @for e in entries {
                    tr {
                        td { (when(e.at_ms)) }
                        td { (e.staff_username) }
                        td { (e.action) }
                        td { (e.detail) }
                    }
                }
            }
        }
    }
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
    use crate::console::signed_in;
    use crate::staff::Role;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("a \"b\""), "\"a \"\"b\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
    }

    #[test]
    fn audit_lines_are_text() {
        let entries = [AuditEntry {
            id: 1,
            at_ms: 0,
            staff_username: "ana\"".into(),
            action: "chat.reply".into(),
            detail: "customer <script>x</script> & co".into(),
        }];
        let html = audit_view(&signed_in("Root", Role::Admin), &entries).into_string();
        assert!(
            html.contains(
                "<tr><td>1970-01-01 00:00:00 UTC</td><td>ana&quot;</td><td>chat.reply</td>\
                 <td>customer &lt;script&gt;x&lt;/script&gt; &amp; co</td></tr>"
            ),
            "{html}"
        );
    }
}
