//! The adversarial review's attacks on the gateway (issue 17), each as a
//! test that performs the attack and asserts the refusal. Part of the
//! gateway's one integration binary (`tests/gateway/main.rs`), so they run on
//! SQLite and, in the test command's second pass, on PostgreSQL.

use std::time::Duration;

use ring::rand::SystemRandom;
use strongroom_core::protocol::alert::AlertKind;
use strongroom_core::protocol::jose::SigningKey;
use strongroom_gateway::{Config, RunningGateway};

use crate::support::*;

/// The error of a start that must fail.
fn refusal(
    started: Result<RunningGateway, strongroom_gateway::GatewayError>,
    expected: &str,
) -> String {
    match started {
        Ok(_) => panic!("{expected}"),
        Err(e) => e.to_string(),
    }
}

/// Finding 1: a data folder once started with `--demo` kept its demo
/// accounts (published passwords) when restarted without it.
#[tokio::test]
async fn demo_accounts_do_not_survive_leaving_demo_mode() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    let addr = gateway.local_addr.to_string();
    gateway.shutdown().await;

    // The same folder, without --demo, with a real certificate (the demo's
    // own files serve as one here).
    let real = |config: &mut Config| {
        config.demo = false;
        config.cert = Some(dir.path().join("demo-server.pem"));
        config.key = Some(dir.path().join("demo-server-key.pem"));
    };
    let mut config =
        Config::from_args(["--demo", "--listen", &addr].iter().map(|s| s.to_string())).unwrap();
    config.data_dir = dir.path().to_owned();
    config.database = postgres_database(dir.path()).await;
    real(&mut config);
    let refused = refusal(
        strongroom_gateway::start(config.clone()).await,
        "a gateway without --demo refuses to start beside demo accounts",
    );
    for named in [
        "customer alice",
        "customer bob",
        "staff ana",
        "staff admin",
        "strongroom-gateway demo remove",
    ] {
        assert!(refused.contains(named), "{named:?} missing from: {refused}");
    }

    // Accounts seeded before demo data was marked are found by their
    // published password.
    let database = database_of(dir.path()).await;
    // The admin connection blocks (PostgreSQL's synchronous client): off
    // the runtime's threads.
    let unmark = database.clone();
    tokio::task::spawn_blocking(move || {
        let mut admin = strongroom_gateway::db::open_for_admin(&unmark).unwrap();
        let conn = admin.connection();
        conn.execute("UPDATE customers SET demo = 0", ()).unwrap();
        conn.execute("UPDATE staff SET demo = 0", ()).unwrap();
    })
    .await
    .unwrap();
    let refused = refusal(
        strongroom_gateway::start(config.clone()).await,
        "unmarked demo accounts are still refused",
    );
    assert!(refused.contains("staff admin"), "{refused}");

    // The command the message names removes them; then the gateway starts,
    // and nobody signs in with a demo password.
    let target = match &database {
        strongroom_gateway::db::Database::Sqlite(_) => {
            vec!["--data-dir".to_owned(), dir.path().display().to_string()]
        }
        strongroom_gateway::db::Database::Postgres(url) => {
            vec!["--database".to_owned(), url.clone()]
        }
    };
    let args: Vec<String> = std::iter::once("remove".to_owned()).chain(target).collect();
    let removed = tokio::task::spawn_blocking({
        let args = args.clone();
        move || strongroom_gateway::demo::command(&args)
    })
    .await
    .unwrap()
    .unwrap();
    assert!(removed.contains("customer alice"), "{removed}");
    let again = tokio::task::spawn_blocking(move || strongroom_gateway::demo::command(&args))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, "no demo accounts found");

    let gateway = strongroom_gateway::start(config)
        .await
        .expect("without demo accounts the gateway starts");
    // Its certificate is the demo one: trust the demo CA by hand.
    let http = Http {
        tls: client_tls(&dir.path().join("demo-ca.pem")),
        addr: gateway.local_addr,
        api_key: std::fs::read_to_string(&gateway.api_key_file)
            .unwrap()
            .trim()
            .to_owned(),
        from: None,
    };
    let admin = console_sign_in(&http, "admin", "admin-console-demo").await;
    assert_eq!(admin.status, 401, "the demo admin cannot sign in");
    let linker = Linker {
        http: &http,
        issuer: gateway.issuer.clone(),
        rng: SystemRandom::new(),
    };
    let (key, _) = SigningKey::generate("device", &linker.rng).unwrap();
    let auth = linker.device_authorization(&key).await;
    let alice = linker
        .approve(
            auth["user_code"].as_str().unwrap(),
            "alice",
            "alice-demo",
            "approve",
        )
        .await;
    assert_eq!(alice.status, 401, "alice cannot sign in: {}", alice.text());
    // The removal is in the audit log.
    let audit = tokio::task::spawn_blocking(move || {
        let mut admin = strongroom_gateway::db::open_for_admin(&database).unwrap();
        strongroom_gateway::staff::audit_entries(&admin.connection(), 10).unwrap()
    })
    .await
    .unwrap();
    assert!(audit.iter().any(|e| e.action == "demo.remove"), "{audit:?}");
    gateway.shutdown().await;
}

/// Finding 8: refresh tokens were never rotated, and reuse was not
/// detected (RFC 9700 section 4.14).
#[tokio::test]
async fn a_refresh_token_rotates_and_a_reused_one_revokes_the_grant() {
    let (_dir, gateway) = demo_gateway().await;
    let http = Http::new(&gateway);
    let linker = Linker::new(&http, &gateway);
    let device = linker.link("alice").await;
    let (mut ws, _) = open_stream(&linker, &device, 0).await;

    let first = refresh(&linker, &device.key, &device.refresh).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let rotated = first.json()["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(
        rotated, device.refresh,
        "every use gives a new refresh token"
    );
    assert_eq!(
        first.json()["strongroom_audience"],
        device.audience.as_str()
    );

    // The thief (or the device after a thief) presents the spent one.
    let reused = refresh(&linker, &device.key, &device.refresh).await;
    assert_eq!(reused.status, 400);
    assert_eq!(reused.json()["error"], "invalid_grant");
    assert!(
        reused.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("link the device again"),
        "{}",
        reused.text()
    );
    // The whole grant is gone: the newest refresh token too, and the stream.
    let newest = refresh(&linker, &device.key, &rotated).await;
    assert_eq!(newest.status, 400, "{}", newest.text());
    assert_eq!(
        close_code(&mut ws, Duration::from_secs(5)).await,
        Some(1008)
    );
    let api = linker
        .api(&device, &device.key, "GET", "/v1/history", b"")
        .await;
    assert_problem(&api, 401, "the grant's access token is revoked");
    gateway.shutdown().await;
}

/// Finding 10: revoking an access token left the stream opened with it
/// running; and any `client_id` was accepted.
#[tokio::test]
async fn revoking_an_access_token_closes_its_stream_and_unknown_clients_are_refused() {
    let (_dir, gateway) = demo_gateway().await;
    let http = Http::new(&gateway);
    let linker = Linker::new(&http, &gateway);
    let device = linker.link("alice").await;
    let (mut ws, _) = open_stream(&linker, &device, 0).await;
    let r = http
        .form(
            "/oauth/revoke",
            &[
                ("token", &device.access),
                ("token_type_hint", "access_token"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        close_code(&mut ws, Duration::from_secs(5)).await,
        Some(1008),
        "the stream does not outlive its token"
    );
    // The grant itself lives on: a refresh gives a new access token.
    let renewed = refresh(&linker, &device.key, &device.refresh).await;
    assert_eq!(renewed.status, 200, "{}", renewed.text());

    let (key, _) = SigningKey::generate("device", &linker.rng).unwrap();
    let r = http
        .form(
            "/oauth/device_authorization",
            &[("client_id", "evil-app"), ("scope", "alerts chat")],
            Some(linker.proof(&key, "POST", "/oauth/device_authorization", None, None)),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(r.json()["error"], "invalid_client");
    let r = token_request(
        &linker,
        &key,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "whatever"),
            ("client_id", "evil-app"),
        ],
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.text());
    gateway.shutdown().await;
}

/// Finding 5: any agent could make the bank sign a free-text or fraud-check
/// alert. A refused proposal is never signed; a proposal of a kind that
/// does not ask the customer to act is signed at once, as before.
#[tokio::test]
async fn a_refused_proposal_is_never_signed() {
    let (_dir, gateway) = demo_gateway().await;
    let http = Http::new(&gateway);
    let linker = Linker::new(&http, &gateway);
    let phone = linker.link("alice").await;
    let ana = session_cookie(&console_sign_in(&http, "ana", "ana-console-demo").await);
    let admin = session_cookie(&console_sign_in(&http, "admin", "admin-console-demo").await);
    let queue = console_get(&http, "/console", &ana).await.text();
    let csrf = hidden_field(&queue, "csrf").unwrap();
    let alice_id = {
        let r = http
            .bank(
                "GET",
                "/bank/v1/fraud-answers?customer=alice",
                serde_json::json!(null),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        // The console addresses customers by row id; read it from the
        // customer's conversation link once she has written.
        let chat =
            serde_json::json!({"client_id": "c-1", "body": "hello", "sent_at": 1}).to_string();
        let sent = linker.post(&phone, "/v1/chat", chat.as_bytes()).await;
        assert_eq!(sent.status, 202, "{}", sent.text());
        let queue = console_get(&http, "/console", &ana).await.text();
        queue
            .split("href=\"/console/c/")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("alice's conversation in the queue")
            .to_owned()
    };
    let phishing = console_post(
        &http,
        &format!("/console/c/{alice_id}/alert"),
        &ana,
        &[
            ("kind", "custom"),
            ("severity", "critical"),
            ("text", "Your account is at risk: call 0800 000 000 now"),
            ("csrf", &csrf),
        ],
    )
    .await;
    assert_eq!(phishing.header("location"), Some("/console/approvals"));
    let approvals = console_get(&http, "/console/approvals", &admin)
        .await
        .text();
    assert!(approvals.contains("call 0800 000 000"), "{approvals}");
    let pending_id = pending_approval_id(&approvals);
    let admin_csrf = hidden_field(&approvals, "csrf").unwrap();
    let refused = decide_approval(&http, &admin, &pending_id, "refuse", &admin_csrf).await;
    assert_eq!(refused.status, 303, "{}", refused.text());
    let late = decide_approval(&http, &admin, &pending_id, "approve", &admin_csrf).await;
    assert_eq!(late.status, 409, "a refused alert cannot be approved later");

    // A purchase notice asks nothing of the customer: signed at once.
    let notice = console_post(
        &http,
        &format!("/console/c/{alice_id}/alert"),
        &ana,
        &[
            ("kind", "purchase"),
            ("severity", "info"),
            ("text", "Card purchase"),
            ("amount", "12.50"),
            ("csrf", &csrf),
        ],
    )
    .await;
    assert_eq!(notice.status, 303);
    assert_ne!(notice.header("location"), Some("/console/approvals"));
    let history = linker
        .api(&phone, &phone.key, "GET", "/v1/history?limit=20", b"")
        .await
        .json();
    let kinds: Vec<AlertKind> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["event"]["jws"].as_str())
        .map(|jws| {
            let payload = jws.split('.').nth(1).unwrap();
            let claims: strongroom_core::protocol::alert::AlertClaims = serde_json::from_slice(
                &strongroom_core::protocol::jose::b64_decode(payload).unwrap(),
            )
            .unwrap();
            let uri = claims.events.keys().next().unwrap().clone();
            AlertKind::from_uri(&uri).unwrap()
        })
        .collect();
    assert_eq!(
        kinds,
        [AlertKind::Purchase],
        "only the notice was signed and sent"
    );
    let csv = console_get(&http, "/console/audit.csv", &admin)
        .await
        .text();
    for action in ["alert.propose", "alert.refuse", "alert.send"] {
        assert!(csv.contains(action), "{action} audited: {csv}");
    }
    gateway.shutdown().await;
}

/// Finding 9: bidirectional and format characters were accepted in alert
/// text, chat and display names; a verified alert rendered an amount
/// reversed.
#[tokio::test]
async fn bidirectional_and_invisible_characters_are_refused_at_every_input() {
    let (_dir, gateway) = demo_gateway().await;
    let http = Http::new(&gateway);
    let linker = Linker::new(&http, &gateway);
    let phone = linker.link("alice").await;
    let reversed = "Refund of \u{202E}00.001\u{202C} GBP: call us";
    let alert = http
        .bank(
            "POST",
            "/bank/v1/alerts",
            serde_json::json!({"customer": "alice", "kind": "payment_due", "severity": "info", "text": reversed}),
        )
        .await;
    assert_problem(&alert, 422, "an alert text with U+202E");
    assert!(alert.text().contains("U+202E"), "{}", alert.text());
    let merchant = http
        .bank(
            "POST",
            "/bank/v1/transactions",
            serde_json::json!({"customer": "alice", "account_ref": "****4321", "amount_minor": 12_500,
                "currency": "GBP", "merchant": "Shop\u{2066}evil\u{2069}", "country": "GB",
                "card_present": true, "status": "approved"}),
        )
        .await;
    assert_problem(&merchant, 422, "a merchant with isolates");
    let customer = http
        .bank(
            "POST",
            "/bank/v1/customers",
            serde_json::json!({"username": "carol", "display_name": "Carol\u{200F}", "password": "carol-password-1", "home_country": "GB"}),
        )
        .await;
    assert_problem(&customer, 422, "a display name with RLM");
    let chat = serde_json::json!({"client_id": "c-1", "body": "pay \u{2067}100\u{2069} now", "sent_at": 1})
        .to_string();
    let r = linker.post(&phone, "/v1/chat", chat.as_bytes()).await;
    assert_eq!(r.status, 400, "{}", r.text());
    let staff_chat = http
        .bank(
            "POST",
            "/bank/v1/chat",
            serde_json::json!({"customer": "alice", "author": "Ana", "body": "hi \u{FEFF}there"}),
        )
        .await;
    assert_problem(&staff_chat, 422, "a staff message with a BOM");
    // Nothing reached the device: its history is empty.
    let history = linker
        .api(&phone, &phone.key, "GET", "/v1/history", b"")
        .await
        .json();
    assert_eq!(history["events"], serde_json::json!([]), "{history}");
    gateway.shutdown().await;
}
