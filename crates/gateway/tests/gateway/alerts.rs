//! Alerts from the bank's rules: a signed fraud check, its delivery and
//! acknowledgement per device, the customer's answer, and key rotation.

use std::time::Duration;

use futures_util::SinkExt;
use strongroom_core::protocol::alert::AlertKind;
use strongroom_core::protocol::frames::{ClientFrame, DeviceEvent, encode};
use strongroom_core::protocol::verify::TimePolicy;
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspicious_purchase_is_one_signed_fraud_check_acknowledged_per_device() {
    let (_dir, gateway) = demo_gateway().await;
    let http = Http::new(&gateway);
    let linker = Linker::new(&http, &gateway);
    let (phone, _laptop, mut ws) = phone_and_laptop(&linker).await;
    let mut verifier = pinned_verifier(&http, &gateway.issuer, &phone).await;
    let alert_id = suspicious_purchase(&http).await;
    let (seq, event) = next_event(&mut ws).await;
    let DeviceEvent::Alert { jws } = event else {
        panic!("{event:?}")
    };
    let alert = verifier
        .verify(&jws, now_s())
        .expect("the alert verifies with the pinned keys");
    assert_eq!(
        (alert.id.as_str(), alert.kind),
        (alert_id.as_str(), AlertKind::FraudCheck)
    );
    assert_eq!(
        alert.event.text,
        "Did you spend 129.99 EUR at Électro Dépôt?"
    );
    ws.send(Message::text(encode(&ClientFrame::Ack { seq })))
        .await
        .unwrap();

    // Delivery status: acknowledged by the phone, not yet by the laptop.
    let mut acked_by_phone = false;
    for _ in 0..50 {
        let d = http
            .bank(
                "GET",
                &format!("/bank/v1/deliveries?alert_id={alert_id}"),
                serde_json::Value::Null,
            )
            .await
            .json();
        let rows = d["deliveries"].as_array().unwrap().clone();
        assert_eq!(rows.len(), 2, "{d}");
        if rows.iter().any(|r| r["acked"] == true) {
            assert_eq!(rows.iter().filter(|r| r["acked"] == true).count(), 1, "{d}");
            acked_by_phone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(acked_by_phone, "the ack was recorded");
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fraud_answer_is_bound_to_its_alert_idempotent_and_final() {
    let (_dir, gateway) = demo_gateway().await;
    let http = Http::new(&gateway);
    let linker = Linker::new(&http, &gateway);
    let phone = linker.link("alice").await;
    let alert_id = suspicious_purchase(&http).await;
    // Fraud answer: bound to the alert, idempotent, a change is a conflict.
    let answer = |a: &str| format!(r#"{{"alert_id":"{alert_id}","answer":"{a}","answered_at":1}}"#);
    let r = linker
        .post(&phone, "/v1/fraud-answers", answer("not_me").as_bytes())
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = linker
        .post(&phone, "/v1/fraud-answers", answer("not_me").as_bytes())
        .await;
    assert_eq!(r.status, 200, "the same answer again");
    let r = linker
        .post(&phone, "/v1/fraud-answers", answer("me").as_bytes())
        .await;
    assert_problem(&r, 409, "a different answer");
    let r = linker
        .post(
            &phone,
            "/v1/fraud-answers",
            br#"{"alert_id":"nope","answer":"me","answered_at":1}"#,
        )
        .await;
    assert_problem(&r, 404, "an alert never sent");
    let answers = http
        .bank(
            "GET",
            "/bank/v1/fraud-answers?customer=alice",
            serde_json::Value::Null,
        )
        .await
        .json();
    assert_eq!(answers["answers"][0]["answer"], "not_me");
    assert_eq!(
        answers["answers"][0]["device_jkt"],
        phone.key.jwk().thumbprint()
    );

    // Bob's device cannot answer Alice's fraud check.
    let bobs = linker.link("bob").await;
    let r = linker
        .post(&bobs, "/v1/fraud-answers", answer("me").as_bytes())
        .await;
    assert_problem(&r, 404, "another customer's alert");

    // "Not me" after "this was me" (say from a thief's device linked to
    // the account, which answered first) is never refused: the fraud
    // report replaces the confirmation and reaches the bank.
    let second = suspicious_purchase(&http).await;
    let answer = |a: &str| format!(r#"{{"alert_id":"{second}","answer":"{a}","answered_at":2}}"#);
    let thief = linker.link("alice").await;
    let r = linker
        .post(&thief, "/v1/fraud-answers", answer("me").as_bytes())
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = linker
        .post(&phone, "/v1/fraud-answers", answer("not_me").as_bytes())
        .await;
    assert_eq!(r.status, 200, "a fraud report is taken: {}", r.text());
    let answers = http
        .bank(
            "GET",
            "/bank/v1/fraud-answers?customer=alice",
            serde_json::Value::Null,
        )
        .await
        .json();
    let latest = answers["answers"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["alert_id"] == second.as_str()))
        .cloned()
        .unwrap_or_else(|| panic!("the bank has the answer: {answers}"));
    assert_eq!(latest["answer"], "not_me", "{answers}");
    assert_eq!(latest["device_jkt"], phone.key.jwk().thumbprint());
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotation_is_signed_by_the_pinned_key_and_later_alerts_use_the_new_one() {
    let (_dir, gateway) = demo_gateway().await;
    let http = Http::new(&gateway);
    let linker = Linker::new(&http, &gateway);
    let (phone, mut ws) = streaming_phone(&linker).await;
    let mut verifier = pinned_verifier(&http, &gateway.issuer, &phone).await;
    // Key rotation: a statement signed by the pinned key, then alerts under the new key.
    let rotated = http
        .bank("POST", "/bank/v1/keys/rotate", serde_json::Value::Null)
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    let (_, event) = next_event(&mut ws).await;
    let DeviceEvent::KeyRotation { jws } = event else {
        panic!("{event:?}")
    };
    let pinned = verifier
        .pinned()
        .rotate(&jws, now_s(), TimePolicy::default())
        .expect("the rotation verifies");
    assert_eq!(pinned.version, 1);
    verifier.set_pinned(pinned);
    let r = http
        .bank("POST", "/bank/v1/alerts", serde_json::json!({"customer": "alice", "kind": "payment_due", "severity": "info", "text": "Card bill due"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let (_, event) = next_event(&mut ws).await;
    let DeviceEvent::Alert { jws } = event else {
        panic!("{event:?}")
    };
    let alert = verifier
        .verify(&jws, now_s())
        .expect("signed with the new key");
    assert_eq!(alert.key_id, "k2");
    gateway.shutdown().await;
}
