//! `Idempotency-Key` on the bank API: a post retried (at once, many times
//! over, or after a restart) makes one alert and gets the first answer.

use std::sync::Arc;

use crate::support::*;

/// How many alerts the gateway in `dir` has made.
async fn alerts_made(dir: &std::path::Path) -> i64 {
    let database = database_of(dir).await;
    tokio::task::spawn_blocking(move || {
        let mut admin = strongroom_gateway::db::open_for_admin(&database).unwrap();
        admin
            .connection()
            .query_row("SELECT COUNT(*) FROM alerts", (), |r| r.get(0))
            .unwrap()
    })
    .await
    .unwrap()
}

async fn post_alert(http: &Http, key: Option<&str>, text: &str) -> Reply {
    let body = serde_json::json!({"customer": "alice", "kind": "payment_due", "severity": "info", "text": text});
    let mut headers = vec![
        ("authorization", format!("Bearer {}", http.api_key)),
        ("content-type", "application/json".to_owned()),
    ];
    if let Some(key) = key {
        headers.push(("idempotency-key", key.to_owned()));
    }
    http.send(
        "POST",
        "/bank/v1/alerts",
        &headers,
        body.to_string().as_bytes(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_make_one_alert_and_all_get_its_answer() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    let http = Arc::new(Http::new(&gateway));
    let before = alerts_made(dir.path()).await;

    // Eight copies of one post at once, as a bank's retry loop after a
    // timeout might send them.
    let key = "\"4f1c7a52-9d3e-4b8a-a1f0-3c5e2d7b9a61\"";
    let copies: Vec<_> = (0..8)
        .map(|_| {
            let http = Arc::clone(&http);
            tokio::spawn(async move { post_alert(&http, Some(key), "Card bill due").await })
        })
        .collect();
    let mut replies = Vec::new();
    for copy in copies {
        replies.push(copy.await.unwrap());
    }
    for r in &replies {
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let first = replies[0].json();
    assert!(
        replies.iter().all(|r| r.json() == first),
        "every copy gets the first answer: {:?}",
        replies.iter().map(Reply::text).collect::<Vec<_>>()
    );
    let replayed = replies
        .iter()
        .filter(|r| r.header("idempotent-replayed") == Some("true"))
        .count();
    assert_eq!(
        replayed, 7,
        "one copy ran, seven were answered from the key"
    );
    assert_eq!(alerts_made(dir.path()).await, before + 1, "one alert");

    // The same key with another request is refused, and makes nothing.
    let other = post_alert(&http, Some(key), "Another text").await;
    assert_problem(&other, 422, "a key reused for another request");
    assert!(
        other.text().contains("idempotency_key_reused"),
        "{}",
        other.text()
    );
    assert_eq!(alerts_made(dir.path()).await, before + 1);

    // Without a key, every post is its own (the API's old behaviour).
    for _ in 0..2 {
        assert_eq!(post_alert(&http, None, "Card bill due").await.status, 201);
    }
    assert_eq!(alerts_made(dir.path()).await, before + 3);

    // A refusal is an answer too: the retry gets it again, marked.
    let unknown = serde_json::json!({"customer": "nobody", "kind": "payment_due", "severity": "info", "text": "x"});
    let headers = [
        ("authorization", format!("Bearer {}", http.api_key)),
        ("idempotency-key", "\"k-unknown\"".to_owned()),
    ];
    let refused = http
        .send(
            "POST",
            "/bank/v1/alerts",
            &headers,
            unknown.to_string().as_bytes(),
        )
        .await;
    assert_problem(&refused, 404, "unknown customer");
    let again = http
        .send(
            "POST",
            "/bank/v1/alerts",
            &headers,
            unknown.to_string().as_bytes(),
        )
        .await;
    assert_eq!((again.status, again.text()), (404, refused.text()));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        again.header("content-type"),
        refused.header("content-type"),
        "the problem stays problem+json"
    );

    // Malformed keys are refused before anything runs.
    for bad in ["\"\"", "\"a\\\"b\"", &"k".repeat(300)] {
        let r = post_alert(&http, Some(bad), "Card bill due").await;
        assert_problem(&r, 400, &format!("key {bad:.20}"));
    }
    assert_eq!(alerts_made(dir.path()).await, before + 3);
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_restart_gets_the_first_answer() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    let http = Http::new(&gateway);
    let first = post_alert(&http, Some("\"retry-after-restart\""), "Card bill due").await;
    assert_eq!(first.status, 201, "{}", first.text());
    let made = alerts_made(dir.path()).await;
    gateway.shutdown().await;

    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    let http = Http::new(&gateway);
    let retry = post_alert(&http, Some("\"retry-after-restart\""), "Card bill due").await;
    assert_eq!((retry.status, retry.json()), (201, first.json()));
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(alerts_made(dir.path()).await, made, "no second alert");
    gateway.shutdown().await;
}
