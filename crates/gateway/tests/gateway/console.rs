//! The agent console as staff use it: signing in, the queue, answering a
//! customer, alerts under four eyes, the delivery view, resolving, pilot
//! flags, the audit log and signing out. One test walks these in order,
//! because its audit-log check covers every step before it; each step is
//! named, so that a failure says which one broke.

use std::path::Path;
use std::time::Duration;

use futures_util::SinkExt;
use strongroom_core::protocol::alert::{AlertKind, VerifiedAlert};
use strongroom_core::protocol::frames::{ClientFrame, DeviceEvent, encode};
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

#[tokio::test]
async fn the_agent_console_signs_in_answers_resolves_and_audits() {
    let (dir, gateway) = demo_gateway().await;
    let http = Http::new(&gateway);
    let linker = Linker::new(&http, &gateway);
    step(
        "staff accounts come from the administration command",
        add_staff(dir.path()),
    )
    .await;
    let phone = step(
        "a customer writes a script-injection attempt",
        customer_writes(&linker),
    )
    .await;
    step(
        "wrong passwords and replayed forms are refused",
        refuse_sign_ins(&http),
    )
    .await;
    let ana = step("an agent signs in", agent_signs_in(&http)).await;
    let desk = step(
        "the queue shows Alice waiting and her text as text",
        open_conversation(&http, &ana),
    )
    .await;
    step(
        "a reply needs the session's token and reaches the device",
        reply(&http, &linker, &phone, &ana, &desk),
    )
    .await;
    let (jws, verified) = step(
        "a composed fraud check is signed only once a second staff member approves",
        four_eyes(&http, &linker, &gateway.issuer, &phone, &ana, &desk),
    )
    .await;
    let mut ws = step(
        "the delivery view shows delivered, acknowledged and answered",
        delivery_view(&http, &linker, &phone, &ana, &desk, &jws, &verified),
    )
    .await;
    step(
        "a resolved conversation leaves the queue until Alice writes again",
        resolve(&http, &linker, &phone, &ana, &desk),
    )
    .await;
    let root = step(
        "agents are refused the audit log; an admin signs in",
        audit_is_for_admins(&http, &ana),
    )
    .await;
    step(
        "pilot flags are for admins and reach the cohort's devices",
        pilot_flags(&http, &ana, &root, &desk.csrf, &mut ws),
    )
    .await;
    step(
        "the audit log lists every staff action in order",
        audit_log(&http, &root),
    )
    .await;
    step(
        "signed out, the cookie is cleared and worth nothing",
        sign_out(&http, &ana),
    )
    .await;
    gateway.shutdown().await;
}

/// A conversation open in the console: its page, and the session's form
/// token read from it.
struct Conversation {
    path: String,
    csrf: String,
}

pub(crate) async fn add_staff(dir: &Path) {
    // Staff accounts come from the administration command (the demo made
    // two of its own first).
    // With PostgreSQL the command is pointed at the same database; it runs
    // off the async runtime, as it does from the command line.
    let place = match postgres_database(dir).await {
        Some(strongroom_gateway::db::Database::Postgres(url)) => ["--database".to_owned(), url],
        _ => ["--data-dir".to_owned(), dir.display().to_string()],
    };
    for (username, name, role) in [
        ("silva", "Ana Silva", "agent"),
        ("root", "Rui Admin", "admin"),
    ] {
        let args: Vec<String> = [
            "add",
            "--username",
            username,
            "--name",
            name,
            "--role",
            role,
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(place.iter().cloned())
        .collect();
        tokio::task::spawn_blocking(move || {
            strongroom_gateway::cli::staff_command(
                &args,
                &mut &b"correct horse battery staple\n"[..],
            )
        })
        .await
        .unwrap()
        .unwrap();
    }
}

async fn customer_writes(linker: &Linker<'_>) -> Device {
    // A customer writes from the app; the body is a script-injection attempt.
    let phone = linker.link("alice").await;
    let payload = "Is my card blocked? <script>alert(1)</script>";
    let chat = serde_json::json!({"client_id": "c-1", "body": payload, "sent_at": 1}).to_string();
    let r = linker.post(&phone, "/v1/chat", chat.as_bytes()).await;
    assert_eq!(r.status, 202, "{}", r.text());
    phone
}

async fn refuse_sign_ins(http: &Http) {
    // Wrong passwords and replayed forms are refused.
    let refused = console_sign_in(http, "silva", "not the password at all").await;
    assert_eq!(refused.status, 401);
    assert!(refused.header("set-cookie").is_none());
    let replay = http
        .form(
            "/console/sign-in",
            &[
                ("username", "silva"),
                ("password", "correct horse battery staple"),
                ("csrf", "made-up"),
            ],
            None,
        )
        .await;
    assert_eq!(replay.status, 400);
}

pub(crate) async fn agent_signs_in(http: &Http) -> String {
    let signed_in = console_sign_in(http, "silva", "correct horse battery staple").await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.text());
    session_cookie(&signed_in)
}

async fn open_conversation(http: &Http, ana: &str) -> Conversation {
    // The queue: Alice is waiting.
    let queue = console_get(http, "/console", ana).await;
    let html = queue.text();
    assert!(html.contains("data-customer=\"alice\""), "{html}");
    assert!(html.contains("waiting"));
    assert_eq!(
        queue.header("content-security-policy"),
        Some(
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
    );
    let href = html
        .split("href=\"/console/c/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to the conversation");
    let conversation = format!("/console/c/{href}");
    let page = console_get(http, &conversation, ana).await;
    let html = page.text();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script>"),
        "a customer's text is shown as text"
    );
    let csrf = hidden_field(&html, "csrf").expect("the session's form token");
    Conversation {
        path: conversation,
        csrf,
    }
}

async fn reply(http: &Http, linker: &Linker<'_>, phone: &Device, ana: &str, desk: &Conversation) {
    let Conversation {
        path: conversation,
        csrf,
    } = desk;
    // A reply without the session's token is refused; with it, it reaches
    // the customer's device.
    let forged = console_post(
        http,
        &format!("{conversation}/reply"),
        ana,
        &[("body", "forged"), ("csrf", "not-it")],
    )
    .await;
    assert_eq!(forged.status, 403);
    let sent = console_post(
        http,
        &format!("{conversation}/reply"),
        ana,
        &[("body", "No, it is fine. Ana"), ("csrf", csrf)],
    )
    .await;
    assert_eq!(sent.status, 303, "{}", sent.text());
    let history = linker
        .api(phone, &phone.key, "GET", "/v1/history", b"")
        .await;
    assert_eq!(history.status, 200, "{}", history.text());
    let text = history.text();
    assert!(
        text.contains("No, it is fine. Ana") && text.contains("Ana Silva"),
        "the device's history has the reply: {text}"
    );
    assert!(
        !console_get(http, "/console", ana)
            .await
            .text()
            .contains("<strong>waiting</strong>"),
        "answered, no longer waiting"
    );
}

async fn four_eyes(
    http: &Http,
    linker: &Linker<'_>,
    issuer: &str,
    phone: &Device,
    ana: &str,
    desk: &Conversation,
) -> (String, VerifiedAlert) {
    let Conversation {
        path: conversation,
        csrf,
    } = desk;
    // An alert composed in the console arrives signed by the bank's key,
    // and the app's verifier accepts it with the fields typed.
    let composed = console_post(
        http,
        &format!("{conversation}/alert"),
        ana,
        &[
            ("kind", "fraud_check"),
            ("severity", "critical"),
            ("text", "Did you try to pay Électro Dépôt?"),
            ("amount", "249.99"),
            ("currency", "eur"),
            ("merchant", "Électro Dépôt"),
            ("csrf", csrf),
        ],
    )
    .await;
    assert_eq!(composed.status, 303, "{}", composed.text());
    let bad_amount = console_post(
        http,
        &format!("{conversation}/alert"),
        ana,
        &[
            ("kind", "purchase"),
            ("severity", "info"),
            ("text", "x"),
            ("amount", "12.345"),
            ("csrf", csrf),
        ],
    )
    .await;
    assert_eq!(bad_amount.status, 400);

    // Four eyes (adversarial review, finding 5): a fraud check composed by
    // one agent is not signed until a second staff member approves it.
    assert_eq!(composed.header("location"), Some("/console/approvals"));
    let history = linker
        .api(phone, &phone.key, "GET", "/v1/history?limit=5", b"")
        .await
        .json();
    assert!(
        !history.to_string().contains("\"alert\""),
        "nothing is signed or sent before approval: {history}"
    );
    let approvals = console_get(http, "/console/approvals", ana).await.text();
    assert!(
        approvals.contains("fraud_check") && approvals.contains("yours: another staff member"),
        "{approvals}"
    );
    let pending_id = pending_approval_id(&approvals);
    let own = decide_approval(http, ana, &pending_id, "approve", csrf).await;
    assert_eq!(
        own.status,
        403,
        "the composer cannot approve: {}",
        own.text()
    );
    let second =
        session_cookie(&console_sign_in(http, "root", "correct horse battery staple").await);
    let second_csrf = hidden_field(
        &console_get(http, "/console/approvals", &second)
            .await
            .text(),
        "csrf",
    )
    .unwrap();
    let approved = decide_approval(http, &second, &pending_id, "approve", &second_csrf).await;
    assert_eq!(approved.status, 303, "{}", approved.text());
    let again = decide_approval(http, &second, &pending_id, "approve", &second_csrf).await;
    assert_eq!(again.status, 409, "approved once only");

    let mut verifier = pinned_verifier(http, issuer, phone).await;
    let history = linker
        .api(phone, &phone.key, "GET", "/v1/history?limit=1", b"")
        .await
        .json();
    let jws = history["events"][0]["event"]["jws"]
        .as_str()
        .expect("the newest event is the alert")
        .to_owned();
    let verified = verifier.verify(&jws, now_s()).expect("signed by the bank");
    assert_eq!(verified.kind, AlertKind::FraudCheck);
    let event = &verified.event;
    assert_eq!(event.amount_minor, Some(24_999));
    assert_eq!(event.currency.as_deref(), Some("EUR"));
    assert_eq!(event.merchant.as_deref(), Some("Électro Dépôt"));
    assert!(event.respond_by.is_some(), "a fraud check has a deadline");
    (jws, verified)
}

async fn delivery_view(
    http: &Http,
    linker: &Linker<'_>,
    phone: &Device,
    ana: &str,
    desk: &Conversation,
    jws: &str,
    verified: &VerifiedAlert,
) -> Ws {
    let conversation = &desk.path;
    // The delivery view: waiting, then delivered and acknowledged by the
    // phone, then answered, each with its time.
    let deliveries = format!("{conversation}/alerts");
    let row = |html: &str| -> String {
        let at = html
            .find(&format!("data-alert=\"{}\"", verified.id))
            .expect("the alert's row");
        html[at..].split("</tr>").next().unwrap().to_owned()
    };
    let before = row(&console_get(http, &deliveries, ana).await.text());
    assert!(
        before.contains("fraud_check") && before.contains("not answered"),
        "{before}"
    );
    assert!(!before.contains("acknowledged"), "{before}");
    let (mut ws, _) = open_stream(linker, phone, 0).await;
    loop {
        let (seq, event) = next_event(&mut ws).await;
        if matches!(&event, DeviceEvent::Alert { jws: got } if *got == jws) {
            ws.send(Message::text(encode(&ClientFrame::Ack { seq })))
                .await
                .unwrap();
            break;
        }
    }
    let answer = format!(
        r#"{{"alert_id":"{}","answer":"not_me","answered_at":{}}}"#,
        verified.id,
        now_s() * 1000
    );
    let r = linker
        .api(
            phone,
            &phone.key,
            "POST",
            "/v1/fraud-answers",
            answer.as_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut after = String::new();
    for _ in 0..100 {
        after = row(&console_get(http, &deliveries, ana).await.text());
        if after.contains("acknowledged") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        after.contains("delivered 20")
            && after.contains("UTC, acknowledged 20")
            && after.contains("not_me at 20"),
        "{after}"
    );
    // Delivery is stored (not only known to the gateway that held the
    // stream): the bank API reads the same times.
    let api = http
        .bank(
            "GET",
            &format!("/bank/v1/deliveries?alert_id={}", verified.id),
            serde_json::Value::Null,
        )
        .await
        .json();
    let device = &api["deliveries"][0];
    assert_eq!(device["delivered"], true, "{api}");
    assert!(device["delivered_at_ms"].as_i64().is_some(), "{api}");
    assert!(
        device["acked_at_ms"].as_i64() >= device["delivered_at_ms"].as_i64(),
        "{api}"
    );
    ws
}

async fn resolve(http: &Http, linker: &Linker<'_>, phone: &Device, ana: &str, desk: &Conversation) {
    let Conversation {
        path: conversation,
        csrf,
    } = desk;
    // Resolved: out of the queue until Alice writes again.
    let resolved = console_post(
        http,
        &format!("{conversation}/resolve"),
        ana,
        &[("csrf", csrf)],
    )
    .await;
    assert_eq!(resolved.status, 303);
    assert!(
        !console_get(http, "/console", ana)
            .await
            .text()
            .contains("alice")
    );
    let again =
        serde_json::json!({"client_id": "c-2", "body": "One more thing", "sent_at": 2}).to_string();
    let r = linker
        .api(phone, &phone.key, "POST", "/v1/chat", again.as_bytes())
        .await;
    assert_eq!(r.status, 202);
    assert!(
        console_get(http, "/console", ana)
            .await
            .text()
            .contains("data-customer=\"alice\"")
    );
}

async fn audit_is_for_admins(http: &Http, ana: &str) -> String {
    // Agents do not see the audit log; admins see and export it.
    assert_eq!(console_get(http, "/console/audit", ana).await.status, 403);
    assert_eq!(
        console_get(http, "/console/audit.csv", ana).await.status,
        403
    );
    session_cookie(&console_sign_in(http, "root", "correct horse battery staple").await)
}

async fn pilot_flags(http: &Http, ana: &str, root: &str, csrf: &str, ws: &mut Ws) {
    // Pilot flags: admins only. A cohort's flag reaches its customers'
    // devices; a refused change keeps nothing.
    assert_eq!(console_get(http, "/console/flags", ana).await.status, 403);
    let flags_page = console_get(http, "/console/flags", root).await;
    assert_eq!(flags_page.status, 200);
    let admin_csrf = hidden_field(&flags_page.text(), "csrf").unwrap();
    let agent_try = console_post(
        http,
        "/console/flags/set",
        ana,
        &[
            ("cohort", "pilot-1"),
            ("flag", "quick_replies"),
            ("state", "on"),
            ("csrf", csrf),
        ],
    )
    .await;
    assert_eq!(agent_try.status, 403, "an agent cannot switch flags");
    let refused = console_post(
        http,
        "/console/flags/members",
        root,
        &[
            ("cohort", "pilot-1"),
            ("customers", "alice nobody"),
            ("csrf", &admin_csrf),
        ],
    )
    .await;
    assert_eq!(refused.status, 400);
    assert!(
        !console_get(http, "/console/flags", root)
            .await
            .text()
            .contains("data-cohort")
    );
    for (path, fields) in [
        (
            "/console/flags/members",
            [("cohort", "pilot-1"), ("customers", "alice"), ("state", "")],
        ),
        (
            "/console/flags/set",
            [
                ("cohort", "pilot-1"),
                ("flag", "quick_replies"),
                ("state", "on"),
            ],
        ),
    ] {
        let mut fields = fields.to_vec();
        fields.push(("csrf", &admin_csrf));
        let r = console_post(http, path, root, &fields).await;
        assert_eq!(r.status, 303, "{path}: {}", r.text());
    }
    let flags = loop {
        if let (_, DeviceEvent::Flags { flags }) = next_event(ws).await {
            break flags;
        }
    };
    assert_eq!(flags.get("quick_replies"), Some(&true), "{flags:?}");
    let listed = console_get(http, "/console/flags", root).await.text();
    assert!(
        listed.contains("quick_replies on") && listed.contains("<td>alice</td>"),
        "{listed}"
    );
}

async fn audit_log(http: &Http, root: &str) {
    let audit = console_get(http, "/console/audit", root).await;
    assert_eq!(audit.status, 200);
    let csv = console_get(http, "/console/audit.csv", root).await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    let actions: Vec<String> = csv
        .text()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(4).unwrap().trim_matches('"').to_owned())
        .collect();
    assert_eq!(
        actions,
        [
            "staff.add",
            "staff.add",
            "staff.add",
            "staff.add",
            "console.sign_in_refused",
            "console.sign_in",
            "customer.read",
            "chat.reply",
            "alert.propose",
            "alert.self_approval_refused",
            "console.sign_in",
            "alert.approve",
            "customer.read",
            "customer.read",
            "chat.resolve",
            "console.sign_in",
            "cohort.add_members",
            "flags.set",
            "audit.export"
        ],
        "every staff read of a customer's conversation or alerts is audited \
         (adversarial review, finding 6)"
    );
    let text = csv.text();
    let line = |action: &str| {
        text.lines()
            .find(|l| l.contains(action))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        line("customer.read").contains("\"silva\"")
            && line("customer.read").contains("conversation of alice"),
        "who read what: {text}"
    );
    assert!(
        line("console.sign_in_refused").contains("(not signed in)")
            && line("console.sign_in_refused").contains("from 127.0.0.1"),
        "a refused sign-in names the username tried and where from, not the admin tool: {text}"
    );
}

async fn sign_out(http: &Http, ana: &str) {
    // Signed out, the cookie is cleared and worth nothing.
    let csrf = hidden_field(&console_get(http, "/console", ana).await.text(), "csrf").unwrap();
    let out = console_post(http, "/console/sign-out", ana, &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let after = console_get(http, "/console", ana).await.text();
    assert!(
        after.contains("action=\"/console/sign-in\""),
        "back to the sign-in form"
    );
}
