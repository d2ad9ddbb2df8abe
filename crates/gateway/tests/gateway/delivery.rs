//! What a device is given: its customer's history in pages, newest first,
//! and live events, both as far as the device's granted scope reaches.

use std::time::Duration;

use futures_util::SinkExt;
use ring::rand::SystemRandom;
use strongroom_core::protocol::frames::{ClientFrame, DeviceEvent, encode};
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_comes_newest_first_in_pages_and_refuses_a_made_up_cursor() {
    let (_dir, gateway) = demo_gateway().await;
    let http = Http::new(&gateway);
    let linker = Linker::new(&http, &gateway);
    let (phone, _laptop, _ws) = phone_and_laptop(&linker).await;
    let alert_id = suspicious_purchase(&http).await;
    // History: the customer's alerts, newest first, in pages.
    let history = linker
        .api(&phone, &phone.key, "GET", "/v1/history?limit=1", b"")
        .await
        .json();
    let events = history["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{history}");
    assert_eq!(events[0]["event"]["type"], "alert", "{history}");
    assert_eq!(
        jti_of(events[0]["event"]["jws"].as_str().unwrap()),
        alert_id,
        "the newest first: {history}"
    );
    let cursor = history["next"].as_str().expect("a next page").to_owned();
    let older = linker
        .api(
            &phone,
            &phone.key,
            "GET",
            &format!("/v1/history?limit=200&cursor={cursor}"),
            b"",
        )
        .await
        .json();
    assert_eq!(older["events"].as_array().unwrap().len(), 1, "{older}");
    assert!(older["next"].is_null(), "{older}");
    assert_problem(
        &linker
            .api(&phone, &phone.key, "GET", "/v1/history?cursor=junk", b"")
            .await,
        400,
        "a cursor history never gave",
    );
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_follows_the_granted_scope_and_history_serves_new_devices() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    let http = Http::new(&gateway);
    let linker = Linker {
        http: &http,
        issuer: gateway.issuer.clone(),
        rng: SystemRandom::new(),
    };
    // Earlier traffic, before any device of Bob's exists.
    let r = http
        .bank("POST", "/bank/v1/alerts", serde_json::json!({"customer": "bob", "kind": "payment_due", "severity": "info", "text": "Bill due"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let early_alert = r.json()["id"].as_str().unwrap().to_owned();
    let r = http
        .bank(
            "POST",
            "/bank/v1/chat",
            serde_json::json!({"customer": "bob", "author": "Ana", "body": "Welcome"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());

    let alerts_only = linker.link_with_scope("bob", "alerts").await;
    let chat_only = linker.link_with_scope("bob", "chat").await;
    let both = linker.link("bob").await;

    // History for a brand-new device: the customer's earlier alerts and
    // chat, newest first, as far as its scope reaches.
    let kinds = |h: &serde_json::Value| -> Vec<String> {
        h["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"]["type"].as_str().unwrap().to_owned())
            .collect()
    };
    let h = linker
        .api(&both, &both.key, "GET", "/v1/history", b"")
        .await
        .json();
    // Bob's alerts: the payment reminder, then a new-device alert for each
    // of the second and third links; the chat came after the reminder.
    assert_eq!(kinds(&h), ["alert", "alert", "chat", "alert"], "{h}");
    assert_eq!(h["events"][2]["event"]["message"]["body"], "Welcome");
    assert_eq!(h["events"][2]["event"]["message"]["from"], "staff");
    assert_eq!(
        jti_of(h["events"][3]["event"]["jws"].as_str().unwrap()),
        early_alert
    );
    let at: Vec<i64> = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["at"].as_i64().unwrap())
        .collect();
    assert!(at.windows(2).all(|w| w[0] >= w[1]), "newest first: {at:?}");
    let h = linker
        .api(&alerts_only, &alerts_only.key, "GET", "/v1/history", b"")
        .await
        .json();
    assert_eq!(kinds(&h), ["alert", "alert", "alert"], "{h}");
    let h = linker
        .api(&chat_only, &chat_only.key, "GET", "/v1/history", b"")
        .await
        .json();
    assert_eq!(kinds(&h), ["chat"], "{h}");
    // Walking the pages one by one visits every item once.
    let mut cursor: Option<String> = None;
    let mut walked = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/history?limit=1&cursor={c}"),
            None => "/v1/history?limit=1".to_owned(),
        };
        let page = linker.api(&both, &both.key, "GET", &path, b"").await.json();
        walked += page["events"].as_array().unwrap().len();
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(walked, 4);

    // Live delivery follows the scope too, and so does sending chat.
    let (mut a_ws, _) = open_stream(&linker, &alerts_only, 0).await;
    let (mut c_ws, _) = open_stream(&linker, &chat_only, 0).await;
    let r = http
        .bank(
            "POST",
            "/bank/v1/chat",
            serde_json::json!({"customer": "bob", "author": "Ana", "body": "Anything else?"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = http
        .bank("POST", "/bank/v1/alerts", serde_json::json!({"customer": "bob", "kind": "custom", "severity": "info", "text": "Later"}))
        .await;
    assert_eq!(r.status, 201);
    let later = r.json()["id"].as_str().unwrap().to_owned();
    let mut seen = Vec::new();
    loop {
        let (_, event) = next_event(&mut a_ws).await;
        assert!(
            !matches!(
                event,
                DeviceEvent::Chat { .. } | DeviceEvent::ChatAccepted { .. }
            ),
            "{event:?}"
        );
        if let DeviceEvent::Alert { jws } = &event
            && jti_of(jws) == later
        {
            break;
        }
        seen.push(event);
    }
    loop {
        let (_, event) = next_event(&mut c_ws).await;
        assert!(
            matches!(event, DeviceEvent::Chat { .. }),
            "only chat: {event:?}"
        );
        if let DeviceEvent::Chat { message } = &event
            && message.body == "Anything else?"
        {
            break;
        }
    }
    let r = linker
        .post(
            &alerts_only,
            "/v1/chat",
            br#"{"client_id":"c","body":"hi","sent_at":1}"#,
        )
        .await;
    assert_problem(&r, 403, "chat without the chat scope");
    let r = linker
        .post(
            &chat_only,
            "/v1/chat",
            br#"{"client_id":"c","body":"hi","sent_at":1}"#,
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text());

    // `resume` past the last event is clamped: the next event still comes,
    // and acknowledging a number that does not exist closes with 1008.
    drop(a_ws);
    let (mut ws, _) = open_stream(&linker, &alerts_only, 1_000_000).await;
    let r = http
        .bank("POST", "/bank/v1/alerts", serde_json::json!({"customer": "bob", "kind": "custom", "severity": "info", "text": "After resume"}))
        .await;
    assert_eq!(r.status, 201);
    let newest = r.json()["id"].as_str().unwrap().to_owned();
    let (seq, event) = next_event(&mut ws).await;
    let DeviceEvent::Alert { jws } = event else {
        panic!("{event:?}")
    };
    assert_eq!(jti_of(&jws), newest);
    ws.send(Message::text(encode(&ClientFrame::Ack { seq: seq + 1000 })))
        .await
        .unwrap();
    assert_eq!(
        close_code(&mut ws, Duration::from_secs(5)).await,
        Some(1008)
    );
    gateway.shutdown().await;
}
