//! Rate limits and sign-in limits: floods get 429 with Retry-After (the
//! bank API is exempt), and guessing passwords or user codes stops early
//! without locking the real customer out.

use ring::rand::SystemRandom;
use strongroom_core::protocol::jose::SigningKey;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_get_429_with_retry_after_and_the_bank_api_is_exempt() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 2.0).await;
    let http = Http::new(&gateway);
    // The OAuth endpoints speak RFC 6749 errors...
    let r = http
        .form("/oauth/token", &[("grant_type", "password")], None)
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "unsupported_grant_type");
    // ...and past the rate, 429 with Retry-After (the bank API is exempt).
    let mut limited = None;
    for _ in 0..20 {
        let r = http
            .form("/oauth/device_authorization", &[("client_id", "x")], None)
            .await;
        if r.status == 429 {
            limited = Some(r);
            break;
        }
    }
    let limited = limited.expect("the flood is limited");
    assert_problem(&limited, 429, "flood");
    // The messaging API shares the per-IP limit: unauthenticated requests
    // are refused before any proof is checked.
    assert_problem(
        &http.send("GET", "/v1/history", &[], b"").await,
        429,
        "the messaging API is limited per IP too",
    );
    assert!(
        limited
            .header("retry-after")
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|s| s >= 1)
    );
    for _ in 0..10 {
        let r = http
            .bank(
                "GET",
                "/bank/v1/chat?customer=alice",
                serde_json::Value::Null,
            )
            .await;
        assert_eq!(r.status, 200, "the bank API is not limited");
    }
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_sign_ins_cannot_pass_the_per_username_limit() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    let http = Http::new(&gateway);
    let mut forms = Vec::new();
    for _ in 0..12 {
        let page = http.send("GET", "/device", &[], b"").await;
        forms.push(hidden_field(&page.text(), "csrf").unwrap());
    }
    let attempts = forms.iter().map(|csrf| async {
        http.form(
            "/device",
            &[
                ("user_code", "BCDF-GHJK"),
                ("username", "bob"),
                ("password", "not-bobs-password"),
                ("csrf", csrf),
            ],
            None,
        )
        .await
    });
    let replies = futures_util::future::join_all(attempts).await;
    let checked = replies.iter().filter(|r| r.status == 401).count();
    let refused = replies.iter().filter(|r| r.status == 429).count();
    assert!(
        checked <= strongroom_gateway::limits::FREE_FAILURES,
        "at most three wrong passwords from one source are checked before delays: {checked}"
    );
    assert_eq!(checked + refused, 12);
    // The guessing source waits, told how long.
    let page = http.send("GET", "/device", &[], b"").await;
    let csrf = hidden_field(&page.text(), "csrf").unwrap();
    let right = [
        ("user_code", "BCDF-GHJK"),
        ("username", "bob"),
        ("password", "bob-demo"),
        ("csrf", csrf.as_str()),
    ];
    if checked == strongroom_gateway::limits::FREE_FAILURES {
        let r = http.form("/device", &right, None).await;
        assert_eq!(r.status, 429, "{}", r.text());
        assert!(r.header("retry-after").is_some());
    }
    // Attack (adversarial review, finding 7): five wrong passwords locked
    // the real customer out for 15 minutes. From her own address she signs
    // in (and reaches the code check: this code does not exist).
    let owner = http.from([127, 0, 0, 2]);
    let page = owner.send("GET", "/device", &[], b"").await;
    let csrf = hidden_field(&page.text(), "csrf").unwrap();
    let r = owner
        .form(
            "/device",
            &[
                ("user_code", "BCDF-GHJK"),
                ("username", "bob"),
                ("password", "bob-demo"),
                ("csrf", &csrf),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("code is not right"), "{}", r.text());
    gateway.shutdown().await;
}

/// Attack (adversarial review, finding 7): after a valid sign-in, wrong
/// user codes were never counted, so a customer (or a stolen password)
/// could guess other people's pending codes.
#[tokio::test]
async fn wrong_user_codes_are_limited_even_after_a_valid_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    let http = Http::new(&gateway);
    let linker = Linker {
        http: &http,
        issuer: gateway.issuer.clone(),
        rng: SystemRandom::new(),
    };
    let guesses = [
        "BCDF-GHJK",
        "BCDF-GHJL",
        "BCDF-GHJM",
        "BCDF-GHJN",
        "BCDF-GHJP",
    ];
    for guess in guesses {
        let r = linker.approve(guess, "bob", "bob-demo", "approve").await;
        assert_eq!(r.status, 400, "{}", r.text());
    }
    // The sixth guess is refused before it is looked up, even a right one.
    let (key, _) = SigningKey::generate("device", &linker.rng).unwrap();
    let auth = linker.device_authorization(&key).await;
    let real = auth["user_code"].as_str().unwrap();
    let r = linker.approve(real, "bob", "bob-demo", "approve").await;
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(r.text().contains("Too many wrong codes"), "{}", r.text());
    // Someone trying passwords with a code they saw spends that code.
    let (key, _) = SigningKey::generate("device", &linker.rng).unwrap();
    let auth = linker.device_authorization(&key).await;
    let seen = auth["user_code"].as_str().unwrap();
    for i in 0..strongroom_gateway::limits::MAX_CODE_FAILURES {
        let owner = http.from([127, 0, 1, u8::try_from(i).unwrap() + 1]);
        let guesser = Linker {
            http: &owner,
            issuer: gateway.issuer.clone(),
            rng: SystemRandom::new(),
        };
        let r = guesser
            .approve(seen, "alice", "not-alices", "approve")
            .await;
        assert_eq!(r.status, 401, "{}", r.text());
    }
    let elsewhere = http.from([127, 0, 2, 1]);
    let alice = Linker {
        http: &elsewhere,
        issuer: gateway.issuer.clone(),
        rng: SystemRandom::new(),
    };
    let r = alice.approve(seen, "alice", "alice-demo", "approve").await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains("tried with wrong passwords"),
        "{}",
        r.text()
    );
    gateway.shutdown().await;
}

/// A PROXY protocol v2 header, as a load balancer sends it, naming
/// `client` (IPv4) as the connection's source.
fn proxy_header(client: [u8; 4]) -> Vec<u8> {
    let mut header = strongroom_gateway::proxy_protocol::SIGNATURE.to_vec();
    header.extend([0x21, 0x11, 0x00, 0x0c]);
    header.extend(client);
    header.extend([127, 0, 0, 1, 0xc3, 0x50, 0x20, 0xfb]);
    header
}

/// Behind a load balancer every customer shares its address: the gateway
/// reads the PROXY header of the configured proxy only, and limits and
/// audits by the client it names. Attack: a client that sends its own
/// header to choose the address it is limited by is not believed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_load_balancer_limits_and_audit_see_the_customers_address() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start_with(dir.path(), "127.0.0.1:0", 1.0, |c| {
        c.proxy_protocol_from =
            strongroom_gateway::proxy_protocol::TrustedProxies::parse("127.0.0.40/30").unwrap();
    })
    .await;
    let http = Http::new(&gateway);
    let balancer = http.from([127, 0, 0, 41]);
    let (first, second) = (
        proxy_header([203, 0, 113, 7]),
        proxy_header([203, 0, 113, 8]),
    );
    // One request a second, bursts of two, per customer, not per balancer.
    for _ in 0..2 {
        let r = balancer
            .send_after(&first, "GET", "/device", &[], b"")
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let limited = balancer
        .send_after(&first, "GET", "/device", &[], b"")
        .await;
    assert_eq!(limited.status, 429, "the first customer's burst is spent");
    let other = balancer
        .send_after(&second, "GET", "/device", &[], b"")
        .await;
    assert_eq!(
        other.status, 200,
        "another customer behind the same balancer"
    );

    // A refused staff sign-in is audited with the client's address.
    let third = proxy_header([203, 0, 113, 9]);
    let page = balancer
        .send_after(&third, "GET", "/console", &[], b"")
        .await;
    let csrf = hidden_field(&page.text(), "csrf").expect("a form token");
    let body = serde_urlencoded_encode(&[
        ("username", "mallory"),
        ("password", "guess"),
        ("csrf", &csrf),
    ]);
    let refused = balancer
        .send_after(
            &third,
            "POST",
            "/console/sign-in",
            &[("content-type", "application/x-www-form-urlencoded".into())],
            body.as_bytes(),
        )
        .await;
    assert_eq!(refused.status, 401, "{}", refused.text());
    let database = database_of(dir.path()).await;
    let audit = tokio::task::spawn_blocking(move || {
        let mut admin = strongroom_gateway::db::open_for_admin(&database).unwrap();
        strongroom_gateway::staff::audit_entries(&admin.connection(), 10).unwrap()
    })
    .await
    .unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "console.sign_in_refused" && e.detail.contains("from 203.0.113.9")),
        "{audit:?}"
    );

    // A client outside the configured proxies cannot name its own address:
    // its header is not read, and the connection fails as garbage before
    // TLS would.
    let spoofing = http.from([127, 0, 0, 50]);
    let spoofed = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        spoofing.handshake_after(&proxy_header([198, 51, 100, 1])),
    )
    .await
    .expect("the gateway answers or closes at once");
    let Err(error) = spoofed else {
        panic!("the TLS handshake after a spoofed PROXY header must fail")
    };
    assert!(
        matches!(
            error.kind(),
            std::io::ErrorKind::InvalidData
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::UnexpectedEof
        ),
        "{error:?}"
    );
    // And the balancer's own connection without a header is refused.
    let bare = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        balancer.handshake_after(b""),
    )
    .await
    .expect("the gateway closes at once");
    assert!(bare.is_err(), "a proxy connection needs its header");
    gateway.shutdown().await;
}

/// Attack: a flood of connections (or every device reconnecting at once
/// after a restart) takes the last file descriptors, and the database can
/// no longer open its files. The gateway holds at most `--max-connections`
/// and closes the next one at once, before TLS; one that closes frees its
/// place, and the bank API keeps working throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_closed_before_tls_and_the_rest_keep_working() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start_with(dir.path(), "127.0.0.1:0", 1000.0, |c| {
        c.max_connections = Some(3);
    })
    .await;
    let http = Http::new(&gateway);
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(http.handshake_after(b"").await.expect("under the cap"));
    }
    // The third place serves the bank, as it would a device.
    let answer = http
        .bank(
            "GET",
            "/bank/v1/fraud-answers?customer=alice",
            serde_json::json!(null),
        )
        .await;
    assert_eq!(
        answer.status,
        200,
        "the bank API answers: {}",
        answer.text()
    );
    // The bank's connection frees its place once the gateway sees it
    // close, a moment after the answer.
    held.push(handshake_when_free(&http).await);
    let over = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        http.handshake_after(b""),
    )
    .await
    .expect("closed at once, not left waiting");
    assert!(over.is_err(), "a fourth connection is closed before TLS");
    // A connection that ends frees its place.
    drop(held.pop());
    held.push(handshake_when_free(&http).await);
    drop(held);
    gateway.shutdown().await;
}

/// A TLS connection as soon as the gateway has a place for it (within
/// 10 s): a place freed by a closed connection is given again once the
/// gateway has seen the close.
async fn handshake_when_free(
    http: &Http,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Ok(tls) = http.handshake_after(b"").await {
            return tls;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a closed connection's place is given again"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
