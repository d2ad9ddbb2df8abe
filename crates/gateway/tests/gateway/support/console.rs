//! The agent console as staff use it: signing in through its form, the
//! session cookie, and its pages and forms.

use super::{Http, Reply, hidden_field, serde_urlencoded_encode};

/// Signs a staff member in through the console's form; returns the
/// session cookie (`__Host-console=...`).
pub async fn console_sign_in(http: &Http, username: &str, password: &str) -> Reply {
    let page = http.send("GET", "/console", &[], b"").await;
    assert_eq!(page.status, 200);
    let csrf = hidden_field(&page.text(), "csrf").expect("a form token");
    http.form(
        "/console/sign-in",
        &[
            ("username", username),
            ("password", password),
            ("csrf", &csrf),
        ],
        None,
    )
    .await
}

pub fn session_cookie(reply: &Reply) -> String {
    let set = reply.header("set-cookie").expect("a session cookie");
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(set.contains(attribute), "{attribute} missing from {set}");
    }
    set.split(';').next().unwrap().to_owned()
}

pub async fn console_get(http: &Http, path: &str, cookie: &str) -> Reply {
    http.send("GET", path, &[("cookie", cookie.to_owned())], b"")
        .await
}

pub async fn console_post(http: &Http, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Reply {
    let body = serde_urlencoded_encode(fields);
    http.send(
        "POST",
        path,
        &[
            ("cookie", cookie.to_owned()),
            (
                "content-type",
                "application/x-www-form-urlencoded".to_owned(),
            ),
        ],
        body.as_bytes(),
    )
    .await
}

/// The id of the first alert waiting on the console's approvals page.
pub fn pending_approval_id(approvals_page: &str) -> String {
    approvals_page
        .split("action=\"/console/approvals/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a pending alert's form")
        .to_owned()
}

/// Approves or refuses (`action`) a pending alert as the session `cookie`.
pub async fn decide_approval(
    http: &Http,
    cookie: &str,
    id: &str,
    action: &str,
    csrf: &str,
) -> Reply {
    console_post(
        http,
        &format!("/console/approvals/{id}"),
        cookie,
        &[("action", action), ("csrf", csrf)],
    )
    .await
}
