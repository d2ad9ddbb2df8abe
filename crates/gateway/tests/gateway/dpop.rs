//! DPoP on the messaging API: a token is good only with proofs from its
//! own key, each proof once, and only authenticated proofs are remembered.

use strongroom_core::protocol::jose::SigningKey;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_from_another_key_or_a_replayed_proof_is_refused() {
    let (_dir, gateway) = demo_gateway().await;
    let http = Http::new(&gateway);
    let linker = Linker::new(&http, &gateway);
    let (phone, laptop, _ws) = phone_and_laptop(&linker).await;
    // A token with a proof from another key, and a replayed proof: refused.
    let r = linker
        .api(&phone, &laptop.key, "GET", "/v1/history?limit=5", b"")
        .await;
    assert_problem(&r, 401, "another key's proof");
    assert!(
        r.header("www-authenticate")
            .is_some_and(|w| w.starts_with("DPoP"))
    );
    let proof = linker.proof(&phone.key, "GET", "/v1/history", Some(&phone.access), None);
    let headers = [
        ("authorization", format!("DPoP {}", phone.access)),
        ("dpop", proof),
    ];
    assert_eq!(
        http.send("GET", "/v1/history", &headers, b"").await.status,
        200
    );
    assert_problem(
        &http.send("GET", "/v1/history", &headers, b"").await,
        401,
        "a replayed proof",
    );
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_authenticated_proofs_are_remembered() {
    let (_dir, gateway) = demo_gateway().await;
    let http = Http::new(&gateway);
    let linker = Linker::new(&http, &gateway);
    let (phone, laptop, _ws) = phone_and_laptop(&linker).await;
    // Proofs from strangers, or for a token bound to another key, are not
    // remembered: only an authenticated proof's id enters the cache.
    let remembered = gateway.remembered_proofs();
    for _ in 0..5 {
        let (stranger, _) = SigningKey::generate("x", &linker.rng).unwrap();
        let r = http
            .send(
                "GET",
                "/v1/history",
                &[
                    ("authorization", "DPoP not-a-token".to_owned()),
                    (
                        "dpop",
                        linker.proof(&stranger, "GET", "/v1/history", Some("not-a-token"), None),
                    ),
                ],
                b"",
            )
            .await;
        assert_problem(&r, 401, "an unknown token");
        let r = linker
            .api(&phone, &laptop.key, "GET", "/v1/history", b"")
            .await;
        assert_problem(&r, 401, "another key's proof");
    }
    assert_eq!(gateway.remembered_proofs(), remembered);
    gateway.shutdown().await;
}
