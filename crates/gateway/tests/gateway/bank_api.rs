//! The bank integration API's input checks: every refusal is problem+json,
//! and every field an alert carries is bounded and well-formed.

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_problem_details() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    let http = Http::new(&gateway);
    assert_problem(
        &http.send("GET", "/no/such/route", &[], b"").await,
        404,
        "unknown route",
    );
    let r = http.send("DELETE", "/oauth/token", &[], b"").await;
    assert_problem(&r, 405, "wrong method");
    assert_problem(
        &http.send("POST", "/bank/v1/transactions", &[], b"{}").await,
        401,
        "no bank API key",
    );
    assert_problem(
        &http.send("GET", "/v1/history", &[], b"").await,
        401,
        "no access token",
    );
    assert_problem(
        &http
            .bank(
                "POST",
                "/bank/v1/alerts",
                serde_json::json!("x".repeat(70 * 1024)),
            )
            .await,
        413,
        "over 64 KiB",
    );
    let malformed = http
        .send(
            "POST",
            "/bank/v1/transactions",
            &[("authorization", format!("Bearer {}", http.api_key))],
            b"{not json",
        )
        .await;
    assert_problem(&malformed, 422, "malformed JSON");
    let unknown = http
        .bank("POST", "/bank/v1/transactions", serde_json::json!({"customer": "nobody", "account_ref": "x",
            "amount_minor": 1, "currency": "EUR", "merchant": "m", "country": "FR", "card_present": true,
            "status": "approved"}))
        .await;
    assert_problem(&unknown, 404, "unknown customer");
    let long_chat = http
        .bank(
            "POST",
            "/bank/v1/chat",
            serde_json::json!({"customer": "alice", "author": "Ana", "body": "x".repeat(5000)}),
        )
        .await;
    assert_problem(&long_chat, 413, "chat over 4 KiB");
    // Every alert field is bounded and well-formed: nothing can make a JWS
    // or a frame a device would refuse forever.
    let tx = |field: &str, value: serde_json::Value| {
        let mut body = serde_json::json!({"customer": "alice", "account_ref": "****4321",
            "amount_minor": 12999, "currency": "EUR", "merchant": "Shop", "country": "FR",
            "card_present": true, "status": "approved"});
        body[field] = value;
        body
    };
    for (field, value) in [
        ("merchant", serde_json::json!("m".repeat(60 * 1024))),
        ("merchant", serde_json::json!("m".repeat(129))),
        ("merchant", serde_json::json!(" ")),
        ("account_ref", serde_json::json!("a".repeat(129))),
        ("currency", serde_json::json!("eur")),
        ("currency", serde_json::json!("EURO")),
        ("country", serde_json::json!("FRA")),
        ("country", serde_json::json!("fr")),
        ("amount_minor", serde_json::json!(i64::MAX)),
        ("amount_minor", serde_json::json!(-1)),
        ("balance_after_minor", serde_json::json!(i64::MIN)),
    ] {
        let r = http
            .bank("POST", "/bank/v1/transactions", tx(field, value))
            .await;
        assert_problem(&r, 422, &format!("transaction {field}"));
    }
    let ok = http
        .bank(
            "POST",
            "/bank/v1/transactions",
            tx("merchant", serde_json::json!("m".repeat(128))),
        )
        .await;
    assert_eq!(ok.status, 201, "128 bytes is allowed: {}", ok.text());
    let alert = |field: &str, value: serde_json::Value| {
        let mut body = serde_json::json!({"customer": "alice", "kind": "custom",
            "severity": "info", "text": "Hello"});
        body[field] = value;
        body
    };
    for (field, value) in [
        ("text", serde_json::json!("t".repeat(1025))),
        ("text", serde_json::json!("")),
        ("merchant", serde_json::json!("m".repeat(60 * 1024))),
        ("account_ref", serde_json::json!("a".repeat(129))),
        ("currency", serde_json::json!("E1R")),
        ("country", serde_json::json!("F")),
        ("amount_minor", serde_json::json!(i64::MIN)),
        ("respond_by", serde_json::json!(-5)),
    ] {
        let r = http
            .bank("POST", "/bank/v1/alerts", alert(field, value))
            .await;
        assert_problem(&r, 422, &format!("custom alert {field}"));
    }
    for jws in [
        "a.b".to_owned(),
        "a.b.c.d".to_owned(),
        "a..c".to_owned(),
        "a.b.c!".to_owned(),
        "eyJhbGciOiJFUzI1NiJ9.e30.c2ln".to_owned() + &"A".repeat(17 * 1024),
    ] {
        let r = http
            .bank(
                "POST",
                "/bank/v1/signed-alerts",
                serde_json::json!({"customer": "alice", "jws": jws}),
            )
            .await;
        assert_problem(&r, 422, "a signed alert devices would refuse");
    }
    let r = http
        .bank(
            "POST",
            "/bank/v1/chat",
            serde_json::json!({"customer": "alice", "author": "A".repeat(129), "body": "hi"}),
        )
        .await;
    assert_problem(&r, 422, "a staff author over 128 bytes");
    // The merged pilot-feature set is bounded too (it goes whole in every
    // flags event).
    for round in 0..2 {
        let flags: serde_json::Map<String, serde_json::Value> = (0..40)
            .map(|i| (format!("f{round}-{i}"), serde_json::Value::Bool(true)))
            .collect();
        let r = http
            .bank(
                "POST",
                "/bank/v1/flags",
                serde_json::json!({"customer": "alice", "flags": flags}),
            )
            .await;
        if round == 0 {
            assert_eq!(r.status, 200, "{}", r.text());
        } else {
            assert_problem(&r, 422, "more than 64 pilot features");
        }
    }
    gateway.shutdown().await;
}

/// The bank API's OpenAPI description is served as checked in, and every
/// operation it describes is a route the gateway answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_serves_its_openapi_description_of_its_real_routes() {
    let (_dir, gateway) = demo_gateway().await;
    let http = Http::new(&gateway);
    let served = http.send("GET", "/bank/v1/openapi.json", &[], b"").await;
    assert_eq!(served.status, 200, "no key needed: {}", served.text());
    assert_eq!(
        served.header("content-type"),
        Some("application/openapi+json")
    );
    let checked_in = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/bank-api.openapi.json"
    ))
    .unwrap();
    assert!(served.body == checked_in, "served and checked in differ");
    let api = served.json();
    let mut operations = 0;
    for (path, item) in api["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            // An empty body: the route answers with its own refusal (400,
            // 404 or 422), never as an unknown route or method.
            let r = http.bank(&method, path, serde_json::Value::Null).await;
            assert!(
                ![404, 405].contains(&r.status) || r.text().contains("customer"),
                "{method} {path}: {} {}",
                r.status,
                r.text()
            );
            operations += 1;
        }
    }
    assert_eq!(operations, 11, "ten paths, chat with GET and POST");
    gateway.shutdown().await;
}
