//! The bank's API keys: named, scoped, added and revoked while the gateway
//! runs, through the administration command a bank's operator uses.

use std::path::Path;

use crate::support::*;

/// Runs `strongroom-gateway api-key ARGS` on the test gateway's database.
pub(crate) async fn api_key(dir: &Path, args: &[&str]) -> Result<String, String> {
    let place = match postgres_database(dir).await {
        Some(strongroom_gateway::db::Database::Postgres(url)) => ["--database".to_owned(), url],
        _ => ["--data-dir".to_owned(), dir.display().to_string()],
    };
    let args: Vec<String> = args.iter().map(|s| s.to_string()).chain(place).collect();
    tokio::task::spawn_blocking(move || strongroom_gateway::cli::api_key_command(&args))
        .await
        .unwrap()
        .map_err(|e| e.to_string())
}

fn with_key(http: &Http, key: &str) -> Http {
    Http {
        tls: std::sync::Arc::clone(&http.tls),
        addr: http.addr,
        api_key: key.to_owned(),
        from: http.from,
    }
}

async fn custom_alert(http: &Http) -> Reply {
    http.bank(
        "POST",
        "/bank/v1/alerts",
        serde_json::json!({"customer": "alice", "kind": "payment_due", "severity": "info", "text": "Card bill due"}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_scoped_and_a_rotation_overlaps_then_revokes() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    let initial = Http::new(&gateway);

    // The first start made one key with every scope.
    let listed = api_key(dir.path(), &["list"]).await.unwrap();
    assert_eq!(
        listed, "initial\tcustomers alerts chat answers flags keys events",
        "{listed}"
    );

    // The bank's alerting system gets a key that can only send alerts.
    let alerting = api_key(
        dir.path(),
        &["add", "--name", "core-alerts", "--scope", "alerts"],
    )
    .await
    .unwrap();
    assert!(
        alerting.starts_with("srk_") && alerting.len() > 40,
        "{alerting}"
    );
    let alerting = with_key(&initial, &alerting);
    assert_eq!(custom_alert(&alerting).await.status, 201);
    // Attack: a key leaked from the alerting system reads what customers
    // answered, or rotates the bank's signing key.
    for (method, path) in [
        ("GET", "/bank/v1/fraud-answers?customer=alice"),
        ("POST", "/bank/v1/keys/rotate"),
        ("POST", "/bank/v1/flags"),
    ] {
        let refused = alerting.bank(method, path, serde_json::Value::Null).await;
        assert_problem(
            &refused,
            403,
            &format!("{method} {path} with an alerts key"),
        );
        assert!(
            refused
                .header("www-authenticate")
                .is_some_and(|w| w.contains("insufficient_scope")),
            "{:?}",
            refused.headers
        );
    }

    // Several scopes, comma-separated; unknown scopes and taken names are
    // refused with the reason.
    let chat = api_key(
        dir.path(),
        &["add", "--name", "contact-centre", "--scope", "chat,answers"],
    )
    .await
    .unwrap();
    let chat = with_key(&initial, &chat);
    let answers = chat
        .bank(
            "GET",
            "/bank/v1/fraud-answers?customer=alice",
            serde_json::Value::Null,
        )
        .await;
    assert_eq!(answers.status, 200, "{}", answers.text());
    assert_eq!(custom_alert(&chat).await.status, 403);
    let unknown = api_key(dir.path(), &["add", "--name", "x", "--scope", "admin"]).await;
    assert!(unknown.unwrap_err().contains("no scope \"admin\""));
    let taken = api_key(
        dir.path(),
        &["add", "--name", "core-alerts", "--scope", "chat"],
    )
    .await;
    assert!(taken.unwrap_err().contains("already a key named"));

    // Rotation: the alerting system moves to a new key; both work until
    // the old one is revoked, then only the new one does.
    let next = api_key(
        dir.path(),
        &["add", "--name", "core-alerts-2027", "--scope", "alerts"],
    )
    .await
    .unwrap();
    let next = with_key(&initial, &next);
    assert_eq!(custom_alert(&next).await.status, 201);
    assert_eq!(custom_alert(&alerting).await.status, 201);
    let revoked = api_key(dir.path(), &["revoke", "--name", "core-alerts"])
        .await
        .unwrap();
    assert!(revoked.contains("revoked core-alerts"), "{revoked}");
    // A gateway believes a key it found live for `LIVE_FOR` (100 ms) before
    // it looks it up again: past that, the revocation holds.
    tokio::time::sleep(strongroom_gateway::bank::clients::LIVE_FOR).await;
    assert_problem(&custom_alert(&alerting).await, 401, "a revoked key");
    assert_eq!(custom_alert(&next).await.status, 201);

    // Revoking the initial key sticks: a restart does not bring it back,
    // even with its file gone.
    api_key(dir.path(), &["revoke", "--name", "initial"])
        .await
        .unwrap();
    tokio::time::sleep(strongroom_gateway::bank::clients::LIVE_FOR).await;
    assert_problem(
        &custom_alert(&initial).await,
        401,
        "the revoked initial key",
    );
    gateway.shutdown().await;
    std::fs::remove_file(dir.path().join("bank-api-key")).unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    assert!(
        !dir.path().join("bank-api-key").exists(),
        "no new full-scope key after the initial one was revoked"
    );
    let next = Http {
        addr: gateway.local_addr,
        ..next
    };
    assert_eq!(
        custom_alert(&next).await.status,
        201,
        "the live keys still work"
    );
    let listed = api_key(dir.path(), &["list"]).await.unwrap();
    assert_eq!(
        listed,
        "contact-centre\tchat answers\n\
         core-alerts\talerts\trevoked\n\
         core-alerts-2027\talerts\n\
         initial\tcustomers alerts chat answers flags keys events\trevoked",
        "{listed}"
    );
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_belong_to_their_api_client() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    let initial = Http::new(&gateway);
    let other = api_key(dir.path(), &["add", "--name", "cards", "--scope", "alerts"])
        .await
        .unwrap();
    let other = with_key(&initial, &other);
    let body = serde_json::json!({"customer": "alice", "kind": "payment_due", "severity": "info", "text": "Card bill due"});
    let post = |http: &Http| {
        let headers = vec![
            ("authorization", format!("Bearer {}", http.api_key)),
            ("idempotency-key", "\"2026-12-06-0001\"".to_owned()),
        ];
        let http = with_key(http, &http.api_key);
        let body = body.to_string();
        async move {
            http.send("POST", "/bank/v1/alerts", &headers, body.as_bytes())
                .await
        }
    };
    // Two systems of the bank that happen to pick the same key make two
    // alerts: neither sees the other's answer.
    let (a, b) = (post(&initial).await, post(&other).await);
    assert_eq!(
        (a.status, b.status),
        (201, 201),
        "{} {}",
        a.text(),
        b.text()
    );
    assert_ne!(a.json()["id"], b.json()["id"]);
    assert_eq!(b.header("idempotent-replayed"), None);
    gateway.shutdown().await;
}
