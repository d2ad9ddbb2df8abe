//! End to end: the real `strongroom-gateway` on loopback over real TLS, the
//! real client core with the real keychain and a real SQLite file, and the
//! `strongroom-cli` binary. Runs inside `cargo xtask test` (private D-Bus
//! session with gnome-keyring).

mod answers;
mod forgeries;
mod kills;
mod support;
mod transcripts;

use std::process::Stdio;
use std::time::Duration;
use strongroom_client::{ClientError, ClientEvent, FraudAnswerValue, net::BankHttp};
use strongroom_core::protocol::jose::SigningKey;
use strongroom_vault::{SecretKind, Vault};
use support::{Gateway, Linked, TestDevice, cli_link, json_lines, link, next_matching, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_links_through_the_device_grant_and_alerts_arrive_verified() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::start(dir.path(), &[]);
    let device = TestDevice::new("link");
    let client = device.client(&gateway);
    let account = link(&client, &gateway, "alice").await;
    let summary = support::only_account(&client);
    assert_eq!(summary.issuer, gateway.issuer);
    // The secrets went to the keychain, not to a file.
    let vault = Vault::with_service(&device.service);
    for kind in [
        SecretKind::DeviceKey,
        SecretKind::RefreshToken,
        SecretKind::PinnedKeys,
    ] {
        assert!(vault.get(account, kind).unwrap().is_some(), "{kind:?} kept");
    }
    let mut events = client.subscribe();
    let runner = tokio::spawn({
        let client = client.clone();
        async move { client.run_account(account).await }
    });
    wait_for(&mut events, 20, |e| {
        matches!(e, ClientEvent::Connected { .. }).then_some(())
    })
    .await;
    // 125.00 GBP at home, card present: over the purchase threshold only.
    let ids = gateway
        .transaction("alice", serde_json::json!({"amount_minor": 12_500}))
        .await;
    assert_eq!(ids.len(), 1, "one purchase alert");
    let seen = wait_for(&mut events, 20, |e| match e {
        ClientEvent::Alert { alert, .. } if alert.id == ids[0] => Some(alert.clone()),
        _ => None,
    })
    .await;
    assert!(seen.verified, "verified against the pinned keys: {seen:?}");
    assert_eq!(seen.kind, "purchase");
    assert_eq!(seen.amount_minor, Some(12_500));
    // ... and it is in the store, verified, after the acknowledgement.
    let stored = client.alerts(account, 10).unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].verified);
    assert_eq!(stored[0].id, ids[0]);
    runner.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_goes_both_ways_and_the_outbox_survives_a_disconnect() {
    let mut t = Linked::start("chat", true).await;
    let (gateway, client, account, events) = (&mut t.gateway, &t.client, t.account, &mut t.events);
    wait_for(events, 20, |e| {
        matches!(e, ClientEvent::Connected { .. }).then_some(())
    })
    .await;
    let (status, _) = gateway
        .bank(
            "POST",
            "/bank/v1/chat",
            Some(serde_json::json!({"customer": "alice", "author": "Ana (Demo Bank)", "body": "Hello Alice, how can we help?"})),
        )
        .await;
    assert_eq!(status, 201);
    wait_for(events, 20, |e| match e {
        ClientEvent::Message {
            from_bank: true,
            body,
            ..
        } if body.contains("how can we help") => Some(()),
        _ => None,
    })
    .await;

    // The bank goes away; the customer writes anyway.
    gateway.kill();
    let client_id = client
        .send_chat(account, "My card was declined at the station")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let queued = client.with_device(|d| d.store().outbox(account).unwrap().items.len());
    assert_eq!(queued, 1, "the message waits in the on-disk outbox");

    gateway.restart();
    let accepted = wait_for(events, 60, |e| match e {
        ClientEvent::ChatAccepted { client_id: c, .. } => Some(c.clone()),
        _ => None,
    })
    .await;
    assert_eq!(accepted, client_id);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let left = client.with_device(|d| d.store().outbox(account).unwrap().items.len());
    assert_eq!(left, 0, "the outbox drained on reconnect");
    let (_, conversation) = gateway
        .bank("GET", "/bank/v1/chat?customer=alice", None)
        .await;
    let text = conversation.to_string();
    assert_eq!(
        text.matches("My card was declined at the station").count(),
        1,
        "stored once at the bank: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fraud_answer_reaches_the_bank_bound_to_the_device_key() {
    let mut t = Linked::start("fraud", true).await;
    let (gateway, client, account, events) = (&t.gateway, &t.client, t.account, &mut t.events);
    let ids = gateway
        .transaction(
            "alice",
            serde_json::json!({"amount_minor": 49_999, "country": "US", "card_present": false, "currency": "USD", "merchant": "Gadgets Online"}),
        )
        .await;
    assert_eq!(ids.len(), 1, "one fraud check instead of separate alerts");
    let alert = wait_for(events, 20, |e| match e {
        ClientEvent::Alert { alert, .. } if alert.id == ids[0] => Some(alert.clone()),
        _ => None,
    })
    .await;
    assert_eq!(alert.kind, "fraud_check");
    assert!(alert.verified);
    client
        .answer_fraud_check(account, &ids[0], FraudAnswerValue::NotMe)
        .await
        .unwrap();
    let (_, answers) = gateway
        .bank("GET", "/bank/v1/fraud-answers?customer=alice", None)
        .await;
    let answer = answers["answers"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["alert_id"] == ids[0].as_str()))
        .cloned()
        .unwrap_or_else(|| panic!("the bank has the answer: {answers}"));
    assert_eq!(answer["answer"], "not_me");
    let (key, _) = t.credentials();
    assert_eq!(
        answer["device_jkt"],
        key.jwk().thumbprint().as_str(),
        "bound to this device's DPoP key"
    );
    // The same answer again is fine; changing it is refused.
    client
        .answer_fraud_check(account, &ids[0], FraudAnswerValue::NotMe)
        .await
        .unwrap();
    let err = client
        .answer_fraud_check(account, &ids[0], FraudAnswerValue::Me)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::AlreadyAnswered {
                answer: strongroom_store::FraudAnswer::NotMe,
                ..
            }
        ),
        "{err:?}"
    );
    let stored = client.alerts(account, 10).unwrap();
    assert_eq!(stored[0].answer, Some(strongroom_store::FraudAnswer::NotMe));
    // An alert id that is not a fraud check of this customer is refused here.
    assert!(matches!(
        client
            .answer_fraud_check(account, "no-such-alert", FraudAnswerValue::Me)
            .await,
        Err(ClientError::UnknownAlert(_))
    ));
}

/// The raw OAuth flow, through the client's HTTP layer: tokens, DPoP
/// binding, revocation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_bound_to_the_device_key_and_revocation_kills_them() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::start(dir.path(), &[]);
    let http = BankHttp::new(Some(&gateway.ca)).unwrap();
    let rng = ring::rand::SystemRandom::new();
    let metadata = http.discover(&gateway.issuer).await.unwrap();
    let (key_a, _) = SigningKey::generate("a", &rng).unwrap();
    let (key_b, _) = SigningKey::generate("b", &rng).unwrap();
    let auth = http.device_authorization(&metadata, &key_a).await.unwrap();
    // Before approval: pending; polling again at once: slow down.
    assert!(matches!(
        http.poll_token(
            &metadata.token_endpoint,
            &auth.device_code,
            metadata.resource.as_deref(),
            &key_a
        )
        .await
        .unwrap(),
        strongroom_client::net::Poll::Pending
    ));
    assert!(matches!(
        http.poll_token(
            &metadata.token_endpoint,
            &auth.device_code,
            metadata.resource.as_deref(),
            &key_a
        )
        .await
        .unwrap(),
        strongroom_client::net::Poll::SlowDown
    ));
    gateway
        .approve(&auth.user_code, "bob", "bob-demo", true)
        .await;
    tokio::time::sleep(Duration::from_secs(auth.interval + 5)).await;
    let tokens = match http
        .poll_token(
            &metadata.token_endpoint,
            &auth.device_code,
            metadata.resource.as_deref(),
            &key_a,
        )
        .await
        .unwrap()
    {
        strongroom_client::net::Poll::Approved(t) => t,
        other => panic!("expected tokens, got {other:?}"),
    };
    let history = format!(
        "{}/history?before=1000&limit=10",
        metadata.strongroom_api_base.clone().unwrap()
    );
    let ok = http
        .send_authorized("GET", &history, None, &tokens.access_token, &key_a)
        .await
        .unwrap();
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    // The same token with another key's proof: refused.
    let stolen = http
        .send_authorized("GET", &history, None, &tokens.access_token, &key_b)
        .await
        .unwrap();
    assert_eq!(stolen.status, 401, "a token used from another device");
    let refresh = tokens.refresh_token.clone().unwrap();
    assert!(
        http.refresh(
            &metadata.token_endpoint,
            &refresh,
            metadata.resource.as_deref(),
            &key_b
        )
        .await
        .is_err(),
        "a refresh token used with another device's key"
    );
    // A denied link.
    let denied = http.device_authorization(&metadata, &key_b).await.unwrap();
    gateway
        .approve(&denied.user_code, "bob", "bob-demo", false)
        .await;
    tokio::time::sleep(Duration::from_secs(denied.interval)).await;
    assert!(matches!(
        http.poll_token(
            &metadata.token_endpoint,
            &denied.device_code,
            metadata.resource.as_deref(),
            &key_b
        )
        .await,
        Err(ClientError::LinkDenied)
    ));
    // Unlink: revoke the grant; both tokens die.
    http.revoke(metadata.revocation_endpoint.as_deref().unwrap(), &refresh)
        .await
        .unwrap();
    let after = http
        .send_authorized("GET", &history, None, &tokens.access_token, &key_a)
        .await
        .unwrap();
    assert_eq!(after.status, 401, "the revoked access token is refused");
    assert!(matches!(
        http.refresh(
            &metadata.token_endpoint,
            &refresh,
            metadata.resource.as_deref(),
            &key_a
        )
        .await,
        Err(ClientError::LinkRevoked)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlink_revokes_at_the_bank_and_erases_the_account_here() {
    let t = Linked::start("unlink", false).await;
    let (gateway, client, account) = (&t.gateway, &t.client, t.account);
    let vault = Vault::with_service(&t.device.service);
    let (key, refresh) = t.credentials();
    assert!(client.unlink(account).await.unwrap(), "the bank confirmed");
    assert!(client.accounts().unwrap().is_empty());
    for kind in [
        SecretKind::DeviceKey,
        SecretKind::RefreshToken,
        SecretKind::PinnedKeys,
        SecretKind::StoreKey,
    ] {
        assert!(vault.get(account, kind).unwrap().is_none(), "{kind:?} gone");
    }
    let http = BankHttp::new(Some(&gateway.ca)).unwrap();
    let metadata = http.discover(&gateway.issuer).await.unwrap();
    assert!(matches!(
        http.refresh(
            &metadata.token_endpoint,
            &refresh,
            metadata.resource.as_deref(),
            &key
        )
        .await,
        Err(ClientError::LinkRevoked)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_requests_get_problem_json_4xx() {
    let t = Linked::start("problems", false).await;
    let gateway = &t.gateway;
    // A real device's credentials, to reach past authentication.
    let (key, refresh) = t.credentials();
    let http = BankHttp::new(Some(&gateway.ca)).unwrap();
    let metadata = http.discover(&gateway.issuer).await.unwrap();
    let tokens = http
        .refresh(
            &metadata.token_endpoint,
            &refresh,
            metadata.resource.as_deref(),
            &key,
        )
        .await
        .unwrap();
    let api = metadata.strongroom_api_base.clone().unwrap();
    let big = format!(
        r#"{{"client_id":"x","body":"{}","sent_at":1}}"#,
        "a".repeat(70 * 1024)
    );
    let long_chat = format!(
        r#"{{"client_id":"x","body":"{}","sent_at":1}}"#,
        "a".repeat(5 * 1024)
    );
    let cases: Vec<(&str, String, Vec<u8>, &[u16])> = vec![
        (
            "malformed JSON",
            format!("{api}/chat"),
            b"{not json".to_vec(),
            &[400, 422],
        ),
        (
            "unknown member",
            format!("{api}/chat"),
            br#"{"client_id":"x","body":"hi","sent_at":1,"admin":true}"#.to_vec(),
            &[400, 422],
        ),
        (
            "over 64 KiB",
            format!("{api}/chat"),
            big.into_bytes(),
            &[413],
        ),
        (
            "chat over 4 KiB",
            format!("{api}/chat"),
            long_chat.into_bytes(),
            &[413, 422],
        ),
        (
            "another customer's alert",
            format!("{api}/fraud-answers"),
            br#"{"alert_id":"someone-elses","answer":"me","answered_at":1}"#.to_vec(),
            &[404],
        ),
    ];
    for (case, url, body, allowed) in cases {
        let reply = http
            .send_authorized("POST", &url, Some(&body), &tokens.access_token, &key)
            .await
            .unwrap();
        assert!(
            allowed.contains(&reply.status),
            "{case}: status {} not in {allowed:?}",
            reply.status
        );
        let problem: serde_json::Value =
            serde_json::from_slice(&reply.body).unwrap_or_else(|_| panic!("{case}: body is JSON"));
        for member in ["type", "title", "status", "detail"] {
            assert!(
                problem.get(member).is_some(),
                "{case}: problem has {member}"
            );
        }
    }
    // Content type and unknown routes, without credentials.
    for (method, path, expect) in [
        ("GET", "/no/such/route", 404),
        ("POST", "/bank/v1/transactions", 401),
        ("GET", "/v1/history", 401),
    ] {
        let url = format!("{}{path}", gateway.issuer);
        let response = match method {
            "POST" => gateway.http.post(&url).body("{}"),
            _ => gateway.http.get(&url),
        }
        .send()
        .await
        .unwrap();
        assert_eq!(response.status().as_u16(), expect, "{method} {path}");
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            content_type.starts_with("application/problem+json"),
            "{method} {path}: {content_type}"
        );
    }
}

/// The whole flow a bank's staff member runs from a shell: link, watch the
/// alerts arrive verified, answer the fraud check, unlink.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_links_watches_answers_and_unlinks() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::start(dir.path(), &[]);
    let device = TestDevice::new("cli");
    let account = cli_link(&device, &gateway, "bob").await;
    let mut watch = support::Guard(
        device
            .cli(&gateway)
            .arg("watch")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let lines = json_lines(watch.0.stdout.take().unwrap());
    next_matching(&lines, 30, |v| v["type"] == "connected");
    let ids = gateway
        .transaction(
            "bob",
            serde_json::json!({"amount_minor": 80_000, "country": "BR", "card_present": false, "currency": "EUR"}),
        )
        .await;
    let id = ids[0].clone();
    let shown = tokio::task::spawn_blocking(move || {
        next_matching(&lines, 30, |v| {
            v["type"] == "alert" && v["alert"]["id"] == id.as_str()
        })
    })
    .await
    .unwrap();
    assert_eq!(shown["alert"]["verified"], true);
    assert_eq!(shown["alert"]["kind"], "fraud_check");
    // The store admits one process: stop watching before answering.
    watch.kill();
    let answer = device
        .cli(&gateway)
        .args(["answer", &ids[0], "me"])
        .output()
        .unwrap();
    assert!(
        answer.status.success(),
        "{}",
        String::from_utf8_lossy(&answer.stderr)
    );
    let (_, answers) = gateway
        .bank("GET", "/bank/v1/fraud-answers?customer=bob", None)
        .await;
    assert!(
        answers.to_string().contains(&ids[0]) && answers.to_string().contains("\"me\""),
        "{answers}"
    );
    // A mistake gets a clear error and exit code, not a panic.
    let wrong = device
        .cli(&gateway)
        .args(["answer", &ids[0], "maybe"])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    let unlink = device
        .cli(&gateway)
        .args(["unlink", &account])
        .output()
        .unwrap();
    assert!(unlink.status.success());
    assert!(String::from_utf8_lossy(&unlink.stdout).contains("\"revoked_at_bank\":true"));
    let accounts = device.cli(&gateway).arg("accounts").output().unwrap();
    assert!(accounts.status.success());
    assert!(accounts.stdout.is_empty(), "no account left");
}

/// The stored stream position is a counter in clear; pushing it far ahead
/// in the file must not make the client skip what the bank sends next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_stream_position_cannot_hide_new_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::start(dir.path(), &[]);
    let device = TestDevice::new("position");
    let client = device.client(&gateway);
    let account = link(&client, &gateway, "alice").await;
    client.with_device(|d| d.store().set_acked_seq(account, 1 << 40).unwrap());
    let mut events = client.subscribe();
    let runner = tokio::spawn({
        let client = client.clone();
        async move { client.run_account(account).await }
    });
    let ids = gateway
        .transaction("alice", serde_json::json!({"amount_minor": 30_000}))
        .await;
    let alert = wait_for(&mut events, 20, |e| match e {
        ClientEvent::Alert { alert, .. } if alert.id == ids[0] => Some(alert.clone()),
        _ => None,
    })
    .await;
    assert!(alert.verified);
    runner.abort();
}

/// The signed transcript the app exports verifies offline, and a doctored
/// one does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_transcript_verifies_offline_and_a_doctored_one_does_not() {
    let mut t = Linked::start("transcript", true).await;
    let (gateway, client, account, events) = (&t.gateway, &t.client, t.account, &mut t.events);
    let ids = gateway
        .transaction("alice", serde_json::json!({"amount_minor": 25_000}))
        .await;
    wait_for(events, 20, |e| match e {
        ClientEvent::Alert { alert, .. } if alert.id == ids[0] => Some(()),
        _ => None,
    })
    .await;
    let transcript = client.transcript(account).unwrap();
    let bytes = serde_json::to_vec(&transcript).unwrap();
    let check = strongroom_client::app::verify_transcript(&bytes).unwrap();
    assert_eq!((check.alerts, check.failures.len()), (1, 0), "{check:?}");
    // Change one character of the signed payload: it must no longer verify.
    let mut doctored = transcript.clone();
    let jws = &doctored.alerts[0];
    let dot = jws.find('.').unwrap() + 5;
    let mut chars: Vec<char> = jws.chars().collect();
    chars[dot] = if chars[dot] == 'A' { 'B' } else { 'A' };
    doctored.alerts[0] = chars.into_iter().collect();
    let check =
        strongroom_client::app::verify_transcript(&serde_json::to_vec(&doctored).unwrap()).unwrap();
    assert_eq!((check.alerts, check.failures.len()), (1, 1));
    assert!(strongroom_client::app::verify_transcript(b"{\"not\":\"a transcript\"}").is_err());
}
