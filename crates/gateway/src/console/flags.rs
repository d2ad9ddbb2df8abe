//! Pilot flags, for admins: cohorts of customers, and the flags switched
//! on or off for each, pushed to the customers' devices.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};

use super::layout::{error_page, header_bar, see_other, storage_error};
use super::session::{admin, signed_in_form};
use crate::bank::merge_flags;
use crate::crypto::now_s;
use crate::error::GatewayError;
use crate::page::page;
use crate::sql::{OptionalExtension, params};
use crate::staff::{self, Role, Session};
use crate::state::Shared;

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
    page(
        StatusCode::OK,
        "Agent console: pilot flags",
        flags_view(&session, &list),
    )
}

fn flags_view(session: &Session, cohorts: &[CohortView]) -> Markup {
    let csrf = &session.csrf;
    html! {
        (header_bar(session))
        h1 { "Pilot flags" }
        table.audit {
            thead { tr { th { "Cohort" } th { "Customers" } th { "Flags" } } }
            tbody {
                @for (name, members, flags) in cohorts {
                    @let flags: Vec<String> = flags
                        .iter()
                        .map(|(f, on)| format!("{f} {}", if *on { "on" } else { "off" }))
                        .collect();
                    tr data-cohort=(name) {
                        td { (name) }
                        td { (members.join(", ")) }
                        td { (flags.join(", ")) }
                    }
                }
            }
        }
        h2 { "Add customers to a cohort" }
        form method="post" action="/console/flags/members" {
            label for="m-cohort" { "Cohort (made if new)" }
            input type="text" id="m-cohort" name="cohort" required maxlength="64";
            label for="m-customers" { "Customer usernames, separated by spaces" }
            input type="text" id="m-customers" name="customers" required;
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { "Add" }
        }
        h2 { "Switch a flag for a cohort" }
        form method="post" action="/console/flags/set" {
            label for="f-cohort" { "Cohort" }
            input type="text" id="f-cohort" name="cohort" required maxlength="64";
            label for="f-flag" { "Flag" }
            input type="text" id="f-flag" name="flag" required maxlength="64";
            label for="f-state" { "State" }
            select id="f-state" name="state" {
                option value="on" { "on" }
                option value="off" { "off" }
            }
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { "Switch" }
        }
    }
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
) -> Result<(Session, HashMap<String, String>), Response> {
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
            // Ascending, the order in which every batch takes customers'
            // devices (see `Db::write_for_customer`).
            ids.sort_unstable();
            ids.dedup();
            let Some(cohort_id) = cohort_id(c, &cohort, true)? else {
                return Err(GatewayError::Invalid(
                    "The cohort could not be made.".into(),
                ));
            };
            let flags: BTreeMap<String, bool> = c
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
                .prepare(
                    "SELECT customer_id FROM cohort_members WHERE cohort_id = ?1 ORDER BY customer_id",
                )?
                .query_map([cohort_id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let change = BTreeMap::from([(flag.clone(), enabled)]);
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
    flags: &BTreeMap<String, bool>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::signed_in;

    #[test]
    fn cohorts_show_as_text_with_both_forms() {
        let cohorts = vec![(
            "pilot-1".to_owned(),
            vec!["alice".to_owned(), "<b>bob</b>".to_owned()],
            vec![
                ("quick_replies".to_owned(), true),
                ("x&y".to_owned(), false),
            ],
        )];
        let html = flags_view(&signed_in("Root", Role::Admin), &cohorts).into_string();
        for expected in [
            "<tr data-cohort=\"pilot-1\"><td>pilot-1</td><td>alice, &lt;b&gt;bob&lt;/b&gt;</td>\
             <td>quick_replies on, x&amp;y off</td></tr>",
            "<form method=\"post\" action=\"/console/flags/members\"><label for=\"m-cohort\">Cohort (made if new)</label>\
             <input type=\"text\" id=\"m-cohort\" name=\"cohort\" required maxlength=\"64\">",
            "<select id=\"f-state\" name=\"state\"><option value=\"on\">on</option><option value=\"off\">off</option></select>\
             <input type=\"hidden\" name=\"csrf\" value=\"csrf-token\"><button type=\"submit\">Switch</button></form>",
        ] {
            assert!(html.contains(expected), "{expected} missing from {html}");
        }
    }
}
