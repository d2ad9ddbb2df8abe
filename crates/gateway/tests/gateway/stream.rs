//! The device stream's life: pings that keep it open, silence that closes
//! it, and tokens that end it when they expire or are revoked.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ring::rand::SystemRandom;
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_pinged_silent_ones_closed_and_none_outlives_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start_with(dir.path(), "127.0.0.1:0", 1000.0, |c| {
        c.stream_ping_interval = Duration::from_millis(500);
        c.stream_idle_timeout = Duration::from_secs(2);
        c.access_token_ttl = 6;
    })
    .await;
    let http = Http::new(&gateway);
    let linker = Linker {
        http: &http,
        issuer: gateway.issuer.clone(),
        rng: SystemRandom::new(),
    };

    // A device that answers pings stays connected past the idle timeout,
    // until its token expires: then 4401 "token expired".
    let phone = linker.link("alice").await;
    let opened = std::time::Instant::now();
    let (mut ws, _) = open_stream(&linker, &phone, 0).await;
    let mut pings = 0;
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Ping(_))) => pings += 1,
                Some(Ok(Message::Close(frame))) => {
                    return frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                }
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the stream ends with its token");
    assert_eq!(closed, Some((4401, "token expired".to_owned())));
    assert!(pings >= 3, "pinged every 500 ms: {pings}");
    assert!(
        opened.elapsed() > Duration::from_secs(3),
        "kept open past the idle timeout while answering pings: {:?}",
        opened.elapsed()
    );

    // A device that sends nothing (not reading, so not answering pings) is
    // closed after the idle timeout.
    let laptop = linker.link("alice").await;
    let (mut ws, _) = open_stream(&linker, &laptop, 0).await;
    ws.flush().await.unwrap();
    assert_eq!(gateway.open_streams(), 1);
    // Unread, its pings are never answered; the gateway gives up on it.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(gateway.open_streams(), 0, "the silent stream was closed");
    drop(ws);
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_refresh_token_closes_the_stream_and_ends_only_that_grant() {
    let (_dir, gateway) = demo_gateway().await;
    let http = Http::new(&gateway);
    let linker = Linker::new(&http, &gateway);
    let (phone, laptop, mut ws) = phone_and_laptop(&linker).await;
    // Revoking the refresh token closes the stream and kills the tokens.
    let r = http
        .form(
            "/oauth/revoke",
            &[
                ("token", &phone.refresh),
                ("token_type_hint", "refresh_token"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the stream closes");
    assert_eq!(closed, Some(1008));
    let r = linker
        .api(&phone, &phone.key, "GET", "/v1/history", b"")
        .await;
    assert_problem(&r, 401, "a revoked token");
    let other = linker
        .api(&laptop, &laptop.key, "GET", "/v1/history", b"")
        .await;
    assert_eq!(other.status, 200, "the other device's grant is untouched");
    gateway.shutdown().await;
}
