//! Chat from the app: one message per client id, however often it is sent,
//! accepted on the sender's stream and stored once for the bank.

use strongroom_core::protocol::frames::DeviceEvent;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_is_idempotent_per_client_id_and_accepted_on_the_stream() {
    let (_dir, gateway) = demo_gateway().await;
    let http = Http::new(&gateway);
    let linker = Linker::new(&http, &gateway);
    let (phone, mut ws) = streaming_phone(&linker).await;
    // Chat: idempotent per client id; accepted on the stream.
    let chat = br#"{"client_id":"c-1","body":"Hello bank","sent_at":1}"#;
    let first = linker.post(&phone, "/v1/chat", chat).await;
    assert_eq!(first.status, 202, "{}", first.text());
    let again = linker.post(&phone, "/v1/chat", chat).await;
    assert_eq!(
        again.json()["bank_message_id"],
        first.json()["bank_message_id"]
    );
    let (_, event) = next_event(&mut ws).await;
    assert!(
        matches!(event, DeviceEvent::ChatAccepted { ref client_id, .. } if client_id == "c-1"),
        "{event:?}"
    );
    let convo = http
        .bank(
            "GET",
            "/bank/v1/chat?customer=alice",
            serde_json::Value::Null,
        )
        .await
        .json();
    assert_eq!(
        convo["messages"].as_array().unwrap().len(),
        1,
        "stored once: {convo}"
    );
    gateway.shutdown().await;
}
