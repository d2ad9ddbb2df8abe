//! Alerts as a forger makes them, and a genuine one with a trick in its
//! text: the device refuses the forgeries (quarantined, never stored as
//! verified) and shows the genuine one neutralised.

use std::time::Duration;

use strongroom_client::ClientEvent;
use strongroom_core::protocol::alert::{AlertClaims, AlertEvent, AlertKind, AlertSeverity};
use strongroom_core::protocol::jose::{SigningKey, b64_encode};

use crate::support::{Gateway, Linked, now_s, wait_for};

/// Reads the bank's current signing key out of the gateway's database: the
/// test plays a bank whose own key signs claims that must still be refused.
fn bank_key(gateway: &Gateway) -> SigningKey {
    let db = rusqlite::Connection::open_with_flags(
        gateway.dir.join("gateway.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let (kid, pkcs8): (String, Vec<u8>) = db
        .query_row(
            "SELECT kid, pkcs8 FROM signing_keys ORDER BY created_at DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    SigningKey::from_pkcs8(&kid, &pkcs8, &ring::rand::SystemRandom::new()).unwrap()
}

/// A customer's subject identifier (the audience of their alerts), read
/// out of the gateway's database.
fn subject(gateway: &Gateway, username: &str) -> String {
    let db = rusqlite::Connection::open_with_flags(
        gateway.dir.join("gateway.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    db.query_row(
        "SELECT subject FROM customers WHERE username = ?1",
        [username],
        |r| r.get(0),
    )
    .unwrap()
}

fn claims(iss: &str, aud: &str, jti: &str, iat: i64) -> AlertClaims {
    AlertClaims::new(
        iss,
        aud,
        jti,
        iat,
        AlertKind::Purchase,
        AlertEvent {
            severity: AlertSeverity::Warning,
            text: "Forged: 999.00 GBP at Evil Corp".into(),
            account_ref: None,
            amount_minor: Some(99_900),
            currency: Some("GBP".into()),
            merchant: Some("Evil Corp".into()),
            country: None,
            respond_by: None,
            balance_minor: None,
        },
    )
}

/// Forwards `jws` to alice's devices as the bank's own signed alert
/// (`POST /bank/v1/signed-alerts`): the status and the reply.
async fn forward_to_alice(gateway: &Gateway, jws: &str) -> (u16, serde_json::Value) {
    gateway
        .bank(
            "POST",
            "/bank/v1/signed-alerts",
            Some(serde_json::json!({"customer": "alice", "jws": jws})),
        )
        .await
}

fn unsigned(header: serde_json::Value, claims: &AlertClaims, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64_encode(header.to_string().as_bytes()),
        b64_encode(&serde_json::to_vec(claims).unwrap()),
        b64_encode(signature)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_alerts_are_quarantined_and_never_stored_as_verified() {
    let mut t = Linked::start("forged", true).await;
    let (gateway, client, account, events) = (&t.gateway, &t.client, t.account, &mut t.events);
    let genuine = gateway
        .transaction("alice", serde_json::json!({"amount_minor": 20_000}))
        .await;
    wait_for(events, 20, |e| match e {
        ClientEvent::Alert { alert, .. } if alert.id == genuine[0] => Some(()),
        _ => None,
    })
    .await;
    let genuine_jws = {
        let db = rusqlite::Connection::open_with_flags(
            gateway.dir.join("gateway.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        db.query_row("SELECT jws FROM alerts WHERE id = ?1", [&genuine[0]], |r| {
            r.get::<_, String>(0)
        })
        .unwrap()
    };
    let rng = ring::rand::SystemRandom::new();
    let bank = bank_key(gateway);
    let kid = bank.kid().to_owned();
    let (impostor, _) = SigningKey::generate(&kid, &rng).unwrap();
    let (unknown_kid, _) = SigningKey::generate("not-pinned", &rng).unwrap();
    let now = now_s();
    let iss = gateway.issuer.clone();
    let aud = subject(gateway, "alice");
    // Attack (adversarial review, finding 2): Bob's genuine, bank-signed
    // fraud check, forwarded to Alice.
    let for_bob = gateway
        .transaction(
            "bob",
            serde_json::json!({"amount_minor": 20_000, "country": "FR", "card_present": false}),
        )
        .await;
    let bobs_jws = {
        let db = rusqlite::Connection::open_with_flags(
            gateway.dir.join("gateway.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        for_bob
            .iter()
            .find_map(|id| {
                db.query_row(
                    "SELECT jws FROM alerts WHERE id = ?1 AND kind = 'fraud_check'",
                    [id],
                    |r| r.get::<_, String>(0),
                )
                .ok()
            })
            .expect("a card-not-present purchase abroad raises a fraud check")
    };
    let mut flipped = genuine_jws.clone().into_bytes();
    let last = flipped.len() - 2;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let forged: Vec<(&str, String)> = vec![
        (
            "wrong key with the pinned kid",
            impostor
                .sign("secevent+jwt", &claims(&iss, &aud, "f-1", now), false, &rng)
                .unwrap(),
        ),
        (
            "unknown kid",
            unknown_kid
                .sign("secevent+jwt", &claims(&iss, &aud, "f-2", now), false, &rng)
                .unwrap(),
        ),
        ("bad signature", flipped),
        (
            "alg none",
            unsigned(
                serde_json::json!({"alg":"none","typ":"secevent+jwt","kid":kid}),
                &claims(&iss, &aud, "f-4", now),
                // The gateway refuses an empty third part outright; a
                // forger pads it (the empty form is covered in core).
                b"none",
            ),
        ),
        (
            "alg HS256",
            unsigned(
                serde_json::json!({"alg":"HS256","typ":"secevent+jwt","kid":kid}),
                &claims(&iss, &aud, "f-5", now),
                &[7u8; 32],
            ),
        ),
        (
            "embedded jwk",
            impostor
                .sign("secevent+jwt", &claims(&iss, &aud, "f-6", now), true, &rng)
                .unwrap(),
        ),
        (
            "unknown issuer, signed by the bank's key",
            bank.sign(
                "secevent+jwt",
                &claims("https://evil.example", &aud, "f-7", now),
                false,
                &rng,
            )
            .unwrap(),
        ),
        (
            "issued an hour in the future",
            bank.sign(
                "secevent+jwt",
                &claims(&iss, &aud, "f-8", now + 3600),
                false,
                &rng,
            )
            .unwrap(),
        ),
        (
            "issued fifteen days ago",
            bank.sign(
                "secevent+jwt",
                &claims(&iss, &aud, "f-9", now - 15 * 24 * 3600),
                false,
                &rng,
            )
            .unwrap(),
        ),
        ("bob's genuine alert, forwarded to alice", bobs_jws),
        (
            "another customer's audience, signed by the bank's key",
            bank.sign(
                "secevent+jwt",
                &claims(&iss, &subject(gateway, "bob"), "f-11", now),
                false,
                &rng,
            )
            .unwrap(),
        ),
        (
            "wrong typ",
            bank.sign("JWT", &claims(&iss, &aud, "f-10", now), false, &rng)
                .unwrap(),
        ),
    ];
    for (case, jws) in &forged {
        let (status, reply) = forward_to_alice(gateway, jws).await;
        assert_eq!(status, 201, "{case}: the gateway forwards it: {reply}");
    }
    // And a replay of the genuine alert, exactly as signed.
    let (status, _) = forward_to_alice(gateway, &genuine_jws).await;
    assert_eq!(status, 201);
    // Everything was delivered and acknowledged: 1 genuine + 12 forged + the
    // replay, after the flags event of the link.
    let mut quarantined = 0;
    wait_for(events, 30, |e| {
        if let ClientEvent::Alert { alert, .. } = e {
            assert!(!alert.verified, "a forged alert passed: {alert:?}");
            quarantined += 1;
        }
        (quarantined == forged.len()).then_some(())
    })
    .await;
    let committed_target = {
        // Wait until the replay (the last event) is acknowledged too.
        let (_, deliveries) = gateway
            .bank(
                "GET",
                &format!("/bank/v1/deliveries?alert_id={}", genuine[0]),
                None,
            )
            .await;
        deliveries.to_string()
    };
    assert!(committed_target.contains("seq"), "{committed_target}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stored = client.alerts(account, 100).unwrap();
    let verified: Vec<_> = stored.iter().filter(|a| a.verified).collect();
    assert_eq!(
        verified.len(),
        1,
        "only the genuine alert, once: {stored:#?}"
    );
    assert_eq!(verified[0].id, genuine[0]);
    assert_eq!(stored.len(), 1 + forged.len(), "the replay added no row");
    for alert in stored.iter().filter(|a| !a.verified) {
        assert_eq!(alert.kind, "unverified");
        assert!(
            !alert.text.contains("Evil Corp"),
            "a quarantined alert never shows the forger's text as the bank's"
        );
    }
}

/// Attack (adversarial review, finding 9): a genuine, bank-signed alert
/// whose text held a right-to-left override showed its amount reversed.
/// The gateway now refuses such text at its inputs; a bank signing
/// elsewhere (or an older gateway) can still send it, and the device shows
/// it neutralised: verified, in the order it was signed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_alert_with_bidirectional_controls_is_shown_in_signed_order() {
    let mut t = Linked::start("bidi", true).await;
    let (gateway, client, account, events) = (&t.gateway, &t.client, t.account, &mut t.events);
    let rng = ring::rand::SystemRandom::new();
    let mut claims = claims(
        &gateway.issuer,
        &subject(gateway, "alice"),
        "bidi-1",
        now_s(),
    );
    for event in claims.events.values_mut() {
        event.text = "Refund of \u{202E}00.001\u{202C} GBP".into();
        event.merchant = Some("Shop\u{2066}X\u{2069}".into());
    }
    let jws = bank_key(gateway)
        .sign("secevent+jwt", &claims, false, &rng)
        .unwrap();
    let (status, reply) = forward_to_alice(gateway, &jws).await;
    assert_eq!(status, 201, "{reply}");
    let seen = wait_for(events, 20, |e| match e {
        ClientEvent::Alert { alert, .. } if alert.id == "bidi-1" => Some(alert.clone()),
        _ => None,
    })
    .await;
    assert!(seen.verified, "{seen:?}");
    assert_eq!(seen.text, "Refund of \u{FFFD}00.001\u{FFFD} GBP");
    assert_eq!(seen.merchant.as_deref(), Some("Shop\u{FFFD}X\u{FFFD}"));
    let stored = client.alerts(account, 10).unwrap();
    let stored = stored.iter().find(|a| a.id == "bidi-1").unwrap();
    assert!(
        !stored.text.contains('\u{202E}'),
        "the stored view is neutralised too: {stored:?}"
    );
}
