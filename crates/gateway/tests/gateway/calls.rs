//! Call status as an agent and a customer's device meet it: the agent
//! opens a call status in the console, the device verifies the signed
//! statement from its stream and shows "talking to you now"; the agent
//! ends it and the next contact proof says nobody is calling; a forged or
//! replayed statement never shows a call; the customer's scam-call report
//! reaches the console's queue and the bank's API.

use strongroom_core::protocol::call::{CallStatus, CallWatch, verify_call};
use strongroom_core::protocol::frames::{DeviceEvent, ServerFrame};

use crate::console::{add_staff, agent_signs_in};
use crate::support::*;

/// The customer page's path for Alice, found from the queue after she
/// writes (the console links customers by row id).
async fn alice_page(http: &Http, linker: &Linker<'_>, phone: &Device, agent: &str) -> String {
    let chat =
        serde_json::json!({"client_id": "c-1", "body": "Is this you calling?", "sent_at": 1});
    let r = linker
        .post(phone, "/v1/chat", chat.to_string().as_bytes())
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let queue = console_get(http, "/console", agent).await.text();
    let id = queue
        .split("href=\"/console/c/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to Alice's page");
    format!("/console/c/{id}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_call_shows_verified_on_the_device_and_scam_reports_reach_the_bank() {
    let (dir, gateway) = demo_gateway().await;
    add_staff(dir.path()).await;
    let http = Http::new(&gateway);
    let linker = Linker::new(&http, &gateway);
    let phone = linker.link("alice").await;
    let (mut ws, _) = open_stream(&linker, &phone, 0).await;
    let pinned = pinned_verifier(&http, &gateway.issuer, &phone)
        .await
        .pinned()
        .clone();
    let mut watch = CallWatch::new();

    // The first contact proof came right after resume: nobody is calling.
    let (proof, calls) = next_contact(&mut ws).await;
    assert!(calls.is_empty());
    watch.apply_contact(&pinned, &proof, now_s()).unwrap();
    assert!(
        matches!(watch.status(now_s()), CallStatus::NotCalling { .. }),
        "{:?}",
        watch.status(now_s())
    );

    // Without a session, or without the session's form token, no call
    // status can be opened.
    let ana = agent_signs_in(&http).await;
    let page = alice_page(&http, &linker, &phone, &ana).await;
    let start = format!("{page}/call");
    let refused = console_post(&http, &start, "", &[("reason", "card")]).await;
    assert_eq!(refused.status, 303, "no session: back to sign-in");
    let forged = console_post(&http, &start, &ana, &[("reason", "card"), ("csrf", "x")]).await;
    assert_eq!(forged.status, 403, "a form without the session's token");
    let html = console_get(&http, &page, &ana).await.text();
    let csrf = hidden_field(&html, "csrf").unwrap();
    let free_text = console_post(
        &http,
        &start,
        &ana,
        &[("reason", "a refund"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(free_text.status, 400, "a reason comes from the list only");
    // Only a customer the console shows: no page, no call status.
    let nobody = console_post(
        &http,
        "/console/c/999999/call",
        &ana,
        &[("reason", "suspicious_payment"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(nobody.status, 404, "{}", nobody.text());

    // The agent calls: a signed statement reaches the device.
    let opened = console_post(
        &http,
        &start,
        &ana,
        &[("reason", "suspicious_payment"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(opened.status, 303, "{}", opened.text());
    let start_jws = loop {
        match next_event(&mut ws).await {
            (_, DeviceEvent::CallStatus { jws }) => break jws,
            _ => continue,
        }
    };
    watch.apply_call(&pinned, &start_jws, now_s()).unwrap();

    // A link granted chat only hears nothing about calls: with a call
    // open, its stream carries no contact proof and no re-sent statement.
    let chat_only = linker.link_with_scope("alice", "chat").await;
    let (mut chat_ws, _) = open_stream(&linker, &chat_only, 0).await;
    let heard = tokio::time::timeout(std::time::Duration::from_secs(3), async {
        loop {
            if let ServerFrame::Contact { .. } = next_frame(&mut chat_ws).await {
                return;
            }
        }
    })
    .await;
    assert!(heard.is_err(), "a chat-only link was sent a contact proof");
    match watch.status(now_s()) {
        CallStatus::TalkingNow { call } => {
            assert_eq!(
                call.agent, "Ana Silva",
                "the agent's display name, as signed"
            );
        }
        other => panic!("expected talking now, got {other:?}"),
    }
    let html = console_get(&http, &page, &ana).await.text();
    assert!(html.contains("data-call-state=\"open\""), "{html}");
    let call_id = html
        .split("data-call-id=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let home = console_get(&http, "/console", &ana).await.text();
    assert!(
        home.contains(&format!("data-call-id=\"{call_id}\"")),
        "open calls on the home page"
    );

    // Bob's device gets nothing, and Alice's statement does not verify for
    // Bob (forwarded).
    let bob = linker.link("bob").await;
    let bob_pinned = pinned_verifier(&http, &gateway.issuer, &bob)
        .await
        .pinned()
        .clone();
    assert_eq!(
        verify_call(&bob_pinned, &start_jws, now_s())
            .unwrap_err()
            .code(),
        "wrong_audience"
    );

    // The agent ends the call; the device is told, and a replayed start
    // does not bring it back.
    let ended = console_post(
        &http,
        &format!("{page}/call/{call_id}/end"),
        &ana,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(ended.status, 303, "{}", ended.text());
    let end_jws = loop {
        match next_event(&mut ws).await {
            (_, DeviceEvent::CallStatus { jws }) => break jws,
            _ => continue,
        }
    };
    watch.apply_call(&pinned, &end_jws, now_s()).unwrap();
    assert!(!matches!(
        watch.status(now_s()),
        CallStatus::TalkingNow { .. }
    ));
    assert_eq!(
        watch
            .apply_call(&pinned, &start_jws, now_s())
            .unwrap_err()
            .code(),
        "call_ended"
    );
    let again = console_post(
        &http,
        &format!("{page}/call/{call_id}/end"),
        &ana,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        again.status, 409,
        "an ended call cannot be ended or renewed again"
    );

    // The customer reports a scam call: DPoP-bound, once per report id.
    let report = serde_json::json!({
        "report_id": "r-1",
        "called_at": now_s() * 1000,
        "caller_number": "+44 20 7946 0000",
        "note": "Said he was from the fraud team and wanted my card PIN.",
        "shown_status": "not_calling",
    })
    .to_string();
    let r = linker
        .post(&phone, "/v1/scam-reports", report.as_bytes())
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let received = r.json()["received_at"].as_i64().unwrap();
    let r = linker
        .post(&phone, "/v1/scam-reports", report.as_bytes())
        .await;
    assert_eq!(
        r.json()["received_at"].as_i64(),
        Some(received),
        "idempotent"
    );
    let hostile = serde_json::json!({
        "report_id": "r-2", "called_at": 1, "shown_status": "not_calling",
        "caller_number": "+44\u{202E}0000",
    })
    .to_string();
    let r = linker
        .post(&phone, "/v1/scam-reports", hostile.as_bytes())
        .await;
    assert_problem(&r, 400, "a caller number with a bidirectional override");
    let home = console_get(&http, "/console", &ana).await.text();
    assert!(
        home.contains("data-report-id=\"r-1\"") && home.contains("Scam-call report"),
        "{home}"
    );
    let bank = http
        .bank(
            "GET",
            "/bank/v1/scam-reports?customer=alice",
            serde_json::Value::Null,
        )
        .await;
    assert_eq!(bank.status, 200, "{}", bank.text());
    let reports = bank.json()["reports"].as_array().cloned().unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["caller_number"], "+44 20 7946 0000");
    assert_eq!(reports[0]["shown_status"], "not_calling");

    // Handled, it leaves the queue; every step is in the audit log.
    let handled = console_post(
        &http,
        "/console/scam-reports/r-1/handled",
        &ana,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(handled.status, 303);
    let home = console_get(&http, "/console", &ana).await.text();
    assert!(!home.contains("data-report-id=\"r-1\""));
    let root =
        session_cookie(&console_sign_in(&http, "root", "correct horse battery staple").await);
    let audit = console_get(&http, "/console/audit.csv", &root).await.text();
    for action in ["call.start", "call.end", "scam_report.handled"] {
        assert!(audit.contains(action), "{action} is audited: {audit}");
    }
    gateway.shutdown().await;
}
