//! A device's stream: opening it with a DPoP proof, resuming, and reading
//! its frames and events with a deadline.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use strongroom_core::protocol::frames::{
    ClientFrame, DeviceEvent, ServerFrame, decode_server_frame, encode,
};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::{Device, Linker};

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn open_stream(linker: &Linker<'_>, device: &Device, after: u64) -> (Ws, u64) {
    let url = format!("wss://{}/v1/stream", linker.http.addr);
    let mut request = url.as_str().into_client_request().unwrap();
    let proof = linker.proof(&device.key, "GET", "/v1/stream", Some(&device.access), None);
    request.headers_mut().insert(
        "authorization",
        format!("DPoP {}", device.access).parse().unwrap(),
    );
    request.headers_mut().insert("dpop", proof.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async_tls_with_config(
        request,
        None,
        false,
        Some(tokio_tungstenite::Connector::Rustls(Arc::clone(
            &linker.http.tls,
        ))),
    )
    .await
    .expect("the stream opens");
    let hello = next_frame(&mut ws).await;
    let ServerFrame::Hello { acked } = hello else {
        panic!("hello first, got {hello:?}")
    };
    ws.send(Message::text(encode(&ClientFrame::Resume { after })))
        .await
        .unwrap();
    (ws, acked)
}

pub async fn next_frame(ws: &mut Ws) -> ServerFrame {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("the stream is open")
            .expect("a valid message");
        if let Message::Text(text) = message {
            return decode_server_frame(text.as_bytes()).expect("a valid server frame");
        }
    }
}

/// The next numbered event, past any contact proofs (they come after
/// `hello` and with every keep-alive).
pub async fn next_event(ws: &mut Ws) -> (u64, DeviceEvent) {
    loop {
        match next_frame(ws).await {
            ServerFrame::Event { seq, event } => return (seq, event),
            ServerFrame::Contact { .. } => continue,
            other => panic!("expected an event, got {other:?}"),
        }
    }
}

/// The next contact proof and the call statements sent with it, past any
/// numbered events.
pub async fn next_contact(ws: &mut Ws) -> (String, Vec<String>) {
    loop {
        if let ServerFrame::Contact { jws, calls } = next_frame(ws).await {
            return (jws, calls);
        }
    }
}

pub async fn close_code(ws: &mut Ws, within: Duration) -> Option<u16> {
    tokio::time::timeout(within, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the stream closes in time")
}
