//! The gateway as a protected resource beside a bank's own authorization
//! server (protocol version 2): a real, certified outside OpenID provider
//! (`tests/idp`, oidc-provider) on loopback TLS, configured as a bank runs
//! it (device grant, DPoP required with nonces, rotating refresh tokens,
//! resource indicators), with JWT access tokens and with opaque ones
//! (introspection). The customer links with `strongroom-cli` exactly as
//! with the built-in server; the gateway refuses every token it must.
//! Runs inside `cargo xtask test` (private D-Bus session, gnome-keyring).

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use ring::rand::SystemRandom;
use strongroom_client::ClientError;
use strongroom_client::net::{BankHttp, Metadata, Poll, Tokens};
use strongroom_core::protocol::jose::SigningKey;
use strongroom_vault::{SecretKind, Vault};
use support::idp::{BankIdp, TokenFormat, free_port, gateway_beside};
use support::{Gateway, Guard, TestDevice, json_lines, next_matching};

/// Access tokens live this long at the test IdP, so that the tests see
/// them expire and the client refresh them.
const ACCESS_TTL_S: u32 = 8;
/// Device codes live this long: long enough to approve, short enough to
/// see one expire.
const DEVICE_CODE_TTL_S: u32 = 20;

/// A gateway beside a test IdP, and a CA file that trusts both (the
/// device's `--ca`).
struct Bank {
    idp: BankIdp,
    gateway: Gateway,
    resource: String,
    _dir: tempfile::TempDir,
}

impl Bank {
    async fn start(format: TokenFormat) -> Bank {
        let port = free_port();
        let resource = format!("https://127.0.0.1:{port}");
        let idp = BankIdp::start(&resource, format, ACCESS_TTL_S, DEVICE_CODE_TTL_S);
        let dir = tempfile::tempdir().unwrap();
        let gateway = gateway_beside(&idp, dir.path(), port, &[]);
        assert_eq!(gateway.issuer, resource);
        support::idp::enrol_alice(&gateway).await;
        Bank {
            idp,
            gateway,
            resource,
            _dir: dir,
        }
    }

    fn http(&self) -> BankHttp {
        BankHttp::new(Some(&self.gateway.ca)).unwrap()
    }

    /// Links a raw device key (no app): discovery through the gateway, the
    /// device grant at the IdP, the customer's approval there, tokens.
    async fn raw_link(&self, http: &BankHttp, key: &SigningKey) -> (Metadata, Tokens) {
        let metadata = http.discover(&self.resource).await.unwrap();
        let auth = http.device_authorization(&metadata, key).await.unwrap();
        self.idp
            .approve(&auth.user_code, "alice", "alice-pass-1", true)
            .await;
        let tokens = poll(http, &metadata, &auth.device_code, key)
            .await
            .expect("tokens after approval");
        (metadata, tokens)
    }
}

/// Polls the token endpoint until the grant ends one way or the other.
async fn poll(
    http: &BankHttp,
    metadata: &Metadata,
    device_code: &str,
    key: &SigningKey,
) -> Result<Tokens, ClientError> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match http
            .poll_token(
                &metadata.token_endpoint,
                device_code,
                metadata.resource.as_deref(),
                key,
            )
            .await?
        {
            Poll::Approved(tokens) => return Ok(tokens),
            Poll::Pending | Poll::SlowDown => {}
        }
        assert!(Instant::now() < deadline, "no answer from the IdP");
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

/// `GET /v1/link` with `token`, the proof signed by `key`: the status and
/// the `WWW-Authenticate` challenge.
async fn ask_gateway(
    http: &BankHttp,
    base: &str,
    token: &str,
    key: &SigningKey,
) -> (u16, serde_json::Value) {
    let url = format!("{base}/v1/link");
    let reply = http
        .send_authorized("GET", &url, None, token, key)
        .await
        .unwrap();
    (
        reply.status,
        serde_json::from_slice(&reply.body).unwrap_or_default(),
    )
}

fn key() -> SigningKey {
    SigningKey::generate("device", &SystemRandom::new())
        .unwrap()
        .0
}

/// Runs `strongroom-cli ARGS` for `device` and asserts it succeeded; its
/// output.
fn cli_ok(device: &TestDevice, gateway: &Gateway, args: &[&str]) -> std::process::Output {
    let output = device.cli(gateway).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "strongroom-cli {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Links `device` with `strongroom-cli link`, alice approving at the IdP.
async fn cli_link_idp(bank: &Bank, device: &TestDevice) -> String {
    support::cli_link_with(device, &bank.gateway, async |code: String| {
        bank.idp.approve(&code, "alice", "alice-pass-1", true).await;
    })
    .await
}

async fn whole_journey_from_the_cli(format: TokenFormat) {
    let bank = Bank::start(format).await;
    let gateway = &bank.gateway;
    // Two servers, standard discovery: the gateway names the IdP, and no
    // longer calls itself an authorization server.
    let (status, metadata) = gateway
        .bank("GET", "/.well-known/oauth-protected-resource", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(metadata["resource"], bank.resource.as_str());
    assert_eq!(
        metadata["authorization_servers"],
        serde_json::json!([bank.idp.issuer])
    );
    assert_eq!(metadata["strongroom_protocol_version"], 2);
    let (status, _) = gateway
        .bank("GET", "/.well-known/oauth-authorization-server", None)
        .await;
    assert_eq!(status, 404, "the gateway is no authorization server now");

    // Link with the CLI; the customer approves at the bank's IdP.
    let device = TestDevice::new("idp-cli");
    let account = cli_link_idp(&bank, &device).await;
    let vault = Vault::with_service(&device.service);
    let account_id = account.parse().expect("an account id");
    let first_refresh = vault
        .get(account_id, SecretKind::RefreshToken)
        .unwrap()
        .expect("a refresh token in the keychain");

    // A verified fraud check arrives over the stream.
    let mut watch = Guard(
        device
            .cli(gateway)
            .arg("watch")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let lines = json_lines(watch.0.stdout.take().unwrap());
    next_matching(&lines, 30, |v| v["type"] == "connected");
    let ids = gateway
        .transaction(
            "alice-idp",
            serde_json::json!({"amount_minor": 80_000, "country": "BR", "card_present": false, "currency": "EUR"}),
        )
        .await;
    let id = ids[0].clone();
    // The bank writes too; the message arrives on the same stream.
    let (status, _) = gateway
        .bank(
            "POST",
            "/bank/v1/chat",
            Some(serde_json::json!({"customer": "alice-idp", "author": "Ana (Demo Bank)", "body": "Hello from the bank"})),
        )
        .await;
    assert_eq!(status, 201);
    let lines = tokio::task::spawn_blocking(move || {
        let shown = next_matching(&lines, 30, |v| {
            v["type"] == "alert" && v["alert"]["id"] == id.as_str()
        });
        assert_eq!(shown["alert"]["verified"], true, "{shown}");
        assert_eq!(shown["alert"]["kind"], "fraud_check");
        next_matching(&lines, 30, |v| {
            v.to_string().contains("Hello from the bank")
        });
        lines
    })
    .await
    .unwrap();
    // The access token expires while the stream is open: the client
    // refreshes (rotating the refresh token) and reconnects on its own.
    tokio::time::sleep(Duration::from_secs(u64::from(ACCESS_TTL_S) + 2)).await;
    let ids2 = gateway
        .transaction("alice-idp", serde_json::json!({"amount_minor": 12_500}))
        .await;
    let id2 = ids2[0].clone();
    tokio::task::spawn_blocking(move || {
        next_matching(&lines, 40, |v| {
            v["type"] == "alert" && v["alert"]["id"] == id2.as_str()
        });
    })
    .await
    .unwrap();
    watch.kill();
    let rotated = vault
        .get(account_id, SecretKind::RefreshToken)
        .unwrap()
        .expect("a refresh token");
    assert_ne!(
        rotated.expose(),
        first_refresh.expose(),
        "the IdP rotated the refresh token and the keychain keeps the newest"
    );

    // Answer the fraud check and write to the bank.
    cli_ok(&device, gateway, &["answer", &ids[0], "not-me"]);
    cli_ok(
        &device,
        gateway,
        &["chat", &account, "Please block my card"],
    );
    let (_, answers) = gateway
        .bank("GET", "/bank/v1/fraud-answers?customer=alice-idp", None)
        .await;
    assert!(
        answers.to_string().contains(&ids[0]) && answers.to_string().contains("not_me"),
        "{answers}"
    );
    let (_, conversation) = gateway
        .bank("GET", "/bank/v1/chat?customer=alice-idp", None)
        .await;
    assert!(
        conversation.to_string().contains("Please block my card"),
        "{conversation}"
    );

    // Unlink: ended at the gateway and revoked at the IdP.
    let unlink = cli_ok(&device, gateway, &["unlink", &account]);
    assert!(
        String::from_utf8_lossy(&unlink.stdout).contains("\"revoked_at_bank\":true"),
        "{}",
        String::from_utf8_lossy(&unlink.stdout)
    );
}

async fn the_gateway_refuses_what_it_must(format: TokenFormat) {
    let bank = Bank::start(format).await;
    let http = bank.http();
    let key_a = key();
    let (metadata, tokens) = bank.raw_link(&http, &key_a).await;
    assert_eq!(metadata.issuer, bank.idp.issuer);
    assert_eq!(metadata.resource.as_deref(), Some(bank.resource.as_str()));
    assert!(
        metadata.request_scope().contains("offline_access"),
        "asked for a refresh token"
    );
    let refresh = tokens.refresh_token.clone().expect("a refresh token");
    let base = &bank.resource;

    // The genuine device, with its own key: accepted, and told its
    // alerts' audience.
    let (status, body) = ask_gateway(&http, base, &tokens.access_token, &key_a).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["strongroom_audience"]
            .as_str()
            .is_some_and(|a| !a.is_empty())
    );

    // A thief with the token but not the key: another key's proof.
    let (status, body) = ask_gateway(&http, base, &tokens.access_token, &key()).await;
    assert_eq!(status, 401, "another key's proof: {body}");
    assert_eq!(body["type"], "urn:strongroom:problem:invalid_token");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("bound to another key")),
        "{body}"
    );

    // A bearer presentation, no proof.
    let bearer = bank
        .gateway
        .http
        .get(format!("{}/v1/link", bank.gateway.direct))
        .header("authorization", format!("Bearer {}", tokens.access_token))
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status().as_u16(), 401, "a bearer token");
    let challenge = bearer.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.starts_with("DPoP "), "{challenge}");
    assert!(
        challenge.contains(&format!(
            "resource_metadata=\"{}/.well-known/oauth-protected-resource\"",
            bank.resource
        )),
        "RFC 9728 section 5.1: {challenge}"
    );

    // A proof replayed: the same proof twice.
    let url = format!("{base}/v1/link");
    let proof = http
        .proof(&key_a, "GET", &url, Some(&tokens.access_token))
        .unwrap();
    let send = |proof: String| {
        bank.gateway
            .http
            .get(&url)
            .header("authorization", format!("DPoP {}", tokens.access_token))
            .header("dpop", proof)
            .send()
    };
    assert_eq!(send(proof.clone()).await.unwrap().status().as_u16(), 200);
    let replayed = send(proof).await.unwrap();
    assert_eq!(replayed.status().as_u16(), 401, "a replayed proof");
    assert!(
        replayed.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_dpop_proof")
    );

    // A token for another resource: a second gateway beside the same IdP
    // refuses the first one's token.
    let other_dir = tempfile::tempdir().unwrap();
    let other = gateway_beside(&bank.idp, other_dir.path(), free_port(), &[]);
    let other_http = BankHttp::new(Some(&other.ca)).unwrap();
    let (status, body) =
        ask_gateway(&other_http, &other.issuer, &tokens.access_token, &key_a).await;
    assert_eq!(status, 401, "a token for another audience: {body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("not for this resource")
            || body["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("not active"),
        "{body}"
    );

    // Refresh-token rotation: the new one works; the old one, presented
    // again, is refused, and the link says to link again.
    let renewed = http
        .refresh(
            &metadata.token_endpoint,
            &refresh,
            metadata.resource.as_deref(),
            &key_a,
        )
        .await
        .expect("a refresh");
    let newest = renewed
        .refresh_token
        .clone()
        .expect("a rotated refresh token");
    assert_ne!(newest, refresh);
    let reused = http
        .refresh(
            &metadata.token_endpoint,
            &refresh,
            metadata.resource.as_deref(),
            &key_a,
        )
        .await;
    assert!(
        matches!(reused, Err(ClientError::LinkRevoked)),
        "{reused:?}"
    );
    assert_eq!(
        reused.unwrap_err().code().to_string(),
        "link_revoked",
        "a reused refresh token ends the link"
    );

    // Unlinking: a fresh link, ended at the gateway, then at the IdP; the
    // gateway refuses its access token at once, though the IdP's JWT
    // would still be within its lifetime.
    let key_b = key();
    let (_, second) = bank.raw_link(&http, &key_b).await;
    let (status, _) = ask_gateway(&http, base, &second.access_token, &key_b).await;
    assert_eq!(status, 200);
    let unlinked = http
        .send_authorized(
            "POST",
            &format!("{base}/v1/unlink"),
            Some(b"{}"),
            &second.access_token,
            &key_b,
        )
        .await
        .unwrap();
    assert_eq!(unlinked.status, 200);
    let (status, body) = ask_gateway(&http, base, &second.access_token, &key_b).await;
    assert_eq!(
        status, 401,
        "the gateway refuses the unlinked device's token: {body}"
    );
    http.revoke(
        metadata
            .revocation_endpoint
            .as_deref()
            .expect("a revocation endpoint"),
        second.refresh_token.as_deref().expect("a refresh token"),
    )
    .await
    .expect("revoked at the IdP");

    // Access denied at the IdP, and a code that expires unapproved, while
    // the first token expires.
    let key_c = key();
    let denied = http.device_authorization(&metadata, &key_c).await.unwrap();
    bank.idp
        .approve(&denied.user_code, "alice", "alice-pass-1", false)
        .await;
    let outcome = poll(&http, &metadata, &denied.device_code, &key_c).await;
    assert!(
        matches!(outcome, Err(ClientError::LinkDenied)),
        "{outcome:?}"
    );
    let key_d = key();
    let unanswered = http.device_authorization(&metadata, &key_d).await.unwrap();
    tokio::time::sleep(Duration::from_secs(u64::from(DEVICE_CODE_TTL_S) + 1)).await;
    let outcome = poll(&http, &metadata, &unanswered.device_code, &key_d).await;
    assert!(
        matches!(outcome, Err(ClientError::LinkExpired)),
        "{outcome:?}"
    );
    let (status, body) = ask_gateway(&http, base, &renewed.access_token, &key_a).await;
    assert_eq!(status, 401, "an expired or revoked token: {body}");
}

/// Mix-up (RFC 8414 section 3.3): a gateway that names an authorization
/// server whose metadata speaks for another issuer is refused before any
/// request reaches that server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_for_another_issuer_is_refused() {
    // A built-in authorization server that calls itself
    // https://localhost:PORT, named by its address instead.
    let liar_port = free_port();
    let liar_dir = tempfile::tempdir().unwrap();
    let liar = Gateway::start_at(
        liar_dir.path(),
        &format!("127.0.0.1:{liar_port}"),
        &["--public-url", &format!("https://localhost:{liar_port}")],
    );
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::start(
        dir.path(),
        &[
            "--authorization-server",
            &format!("https://127.0.0.1:{liar_port}"),
            "--authorization-server-ca",
            &liar.ca.to_string_lossy(),
        ],
    );
    let both = dir.path().join("both-cas.pem");
    let pem =
        std::fs::read_to_string(&gateway.ca).unwrap() + &std::fs::read_to_string(&liar.ca).unwrap();
    std::fs::write(&both, pem).unwrap();
    let http = BankHttp::new(Some(&both)).unwrap();
    let err = http.discover(&gateway.issuer).await.unwrap_err();
    assert!(
        matches!(&err, ClientError::BankProtocol(m) if m.contains("is for issuer")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_links_and_uses_the_app_through_the_banks_idp_with_jwt_access_tokens() {
    whole_journey_from_the_cli(TokenFormat::Jwt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_links_and_uses_the_app_through_the_banks_idp_with_opaque_access_tokens() {
    whole_journey_from_the_cli(TokenFormat::Opaque).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_refuses_foreign_stolen_replayed_and_dead_jwt_access_tokens() {
    the_gateway_refuses_what_it_must(TokenFormat::Jwt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_refuses_foreign_stolen_replayed_and_dead_opaque_access_tokens() {
    the_gateway_refuses_what_it_must(TokenFormat::Opaque).await;
}

/// A Security Event Token from the bank's transmitter (or whoever holds
/// `key`) about alice.
fn set(
    bank: &Bank,
    key: &SigningKey,
    audience: &str,
    event: &str,
    body: serde_json::Value,
) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "iss": bank.idp.issuer,
        "aud": audience,
        "iat": now,
        "jti": format!("set-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()),
        "sub_id": {"format": "iss_sub", "iss": bank.idp.issuer, "sub": "idp-alice"},
        "events": { event: body },
    });
    key.sign("secevent+jwt", &claims, false, &SystemRandom::new())
        .unwrap()
}

/// Pushes a SET to the gateway (RFC 8935): the status and the body.
async fn push(bank: &Bank, set: &str) -> (u16, serde_json::Value) {
    let response = bank
        .gateway
        .http
        .post(format!("{}/ssf/events", bank.gateway.direct))
        .header("content-type", "application/secevent+jwt")
        .body(set.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// The bank's identity provider tells the gateway (SSF push) that alice's
/// password changed: her device gets a verified alert that asks whether
/// it was her, and her answer reaches the bank. Forged, replayed and
/// misaddressed SETs change nothing. Then the bank revokes her session:
/// her device's stream is cut off within a second, its token is refused,
/// and the device is told to link again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_banks_signals_cut_off_a_revoked_session_and_ask_about_a_password_change() {
    const CHANGE: &str = "https://schemas.openid.net/secevent/caep/event-type/credential-change";
    const REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
    let bank = Bank::start(TokenFormat::Jwt).await;
    let device = TestDevice::new("idp-signals");
    let account = cli_link_idp(&bank, &device).await;
    let (mut watch, lines) = support::watch(&device, &bank.gateway);
    next_matching(&lines, 30, |v| v["type"] == "connected");

    // Refused, each with its RFC 8935 error, and acting on nothing.
    let transmitter = &bank.idp.transmitter;
    let change = serde_json::json!({"credential_type": "password", "change_type": "update", "event_timestamp": 1_699_920_000 + 14 * 3600 + 2 * 60});
    let (forger, _) = SigningKey::generate("ssf-1", &SystemRandom::new()).unwrap();
    let forged = set(&bank, &forger, &bank.resource, CHANGE, change.clone());
    let (status, body) = push(&bank, &forged).await;
    assert_eq!(
        (status, body["err"].as_str()),
        (400, Some("invalid_key")),
        "a forged SET: {body}"
    );
    let elsewhere = set(
        &bank,
        transmitter,
        "https://other-receiver.example",
        CHANGE,
        change.clone(),
    );
    let (status, body) = push(&bank, &elsewhere).await;
    assert_eq!(
        (status, body["err"].as_str()),
        (400, Some("invalid_audience")),
        "{body}"
    );

    // The genuine one, once.
    let genuine = set(&bank, transmitter, &bank.resource, CHANGE, change.clone());
    let (status, body) = push(&bank, &genuine).await;
    assert_eq!(status, 202, "{body}");
    let (status, body) = push(&bank, &genuine).await;
    assert_eq!(
        (status, body["err"].as_str()),
        (400, Some("invalid_request")),
        "a replayed SET: {body}"
    );
    let (alert, lines) = tokio::task::spawn_blocking(move || {
        let alert = next_matching(&lines, 30, |v| v["type"] == "alert");
        (alert, lines)
    })
    .await
    .unwrap();
    assert_eq!(alert["alert"]["verified"], true, "{alert}");
    assert_eq!(alert["alert"]["kind"], "security_detail_changed");
    let text = alert["alert"]["text"].as_str().unwrap_or_default();
    assert!(text.contains("password was changed at 14:02 UTC"), "{text}");
    let alert_id = alert["alert"]["id"].as_str().unwrap().to_owned();
    watch.kill();
    drop(lines);
    cli_ok(&device, &bank.gateway, &["answer", &alert_id, "not-me"]);
    let (_, answers) = bank
        .gateway
        .bank("GET", "/bank/v1/fraud-answers?customer=alice-idp", None)
        .await;
    assert!(answers.to_string().contains(&alert_id), "{answers}");
    let listed = device
        .cli(&bank.gateway)
        .args(["alerts", "--limit", "100"])
        .output()
        .unwrap();
    let security_alerts = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|l| l.contains("\"security_detail_changed\""))
        .count();
    assert_eq!(
        security_alerts, 1,
        "one alert for the genuine SET, none for the refused or replayed ones"
    );

    // A link made before the revocation whose key the gateway never saw
    // (a scammer's, say, not used yet) dies with the session too.
    let http = bank.http();
    let unseen = key();
    let (_, early) = bank.raw_link(&http, &unseen).await;

    // The bank ends alice's session.
    let (mut watch, lines) = support::watch(&device, &bank.gateway);
    next_matching(&lines, 30, |v| v["type"] == "connected");
    let revoked = set(
        &bank,
        transmitter,
        &bank.resource,
        REVOKED,
        serde_json::json!({"event_timestamp": 1_700_000_000}),
    );
    let pushed = Instant::now();
    let (status, body) = push(&bank, &revoked).await;
    assert_eq!(status, 202, "{body}");
    let lines = tokio::task::spawn_blocking(move || {
        next_matching(&lines, 5, |v| v["type"] == "disconnected");
        let cut_off = pushed.elapsed();
        assert!(
            cut_off < Duration::from_secs(1),
            "cut off after {cut_off:?}"
        );
        eprintln!("the revoked session's stream was cut off {cut_off:?} after the push");
        next_matching(&lines, 20, |v| v["type"] == "link_revoked");
        lines
    })
    .await
    .unwrap();
    drop(lines);
    watch.kill();
    let (status, body) = ask_gateway(&http, &bank.resource, &early.access_token, &unseen).await;
    assert_eq!(status, 401, "a token issued before the revocation: {body}");
    assert_eq!(
        body["type"], "urn:strongroom:problem:link_revoked",
        "{body}"
    );
    // Its next request is refused with the same answer.
    let chat = device
        .cli(&bank.gateway)
        .args(["chat", &account, "hello?"])
        .output()
        .unwrap();
    assert_eq!(
        chat.status.code(),
        Some(7),
        "a revoked link says to link again: {}",
        String::from_utf8_lossy(&chat.stderr)
    );
    assert!(
        String::from_utf8_lossy(&chat.stderr).contains("link the account again"),
        "{}",
        String::from_utf8_lossy(&chat.stderr)
    );
}
