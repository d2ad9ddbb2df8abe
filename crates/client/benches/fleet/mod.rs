//! A fleet of raw device connections that behave as the client does when
//! its gateway goes away: each reconnects with the client's own backoff and
//! jitter (`Backoff::default()`), a fresh DPoP proof and the client's hello
//! timeout, and resumes from the lower of its own position and the one the
//! gateway's `hello` names, as the client does. Every alert it receives is
//! recorded, and the checks a store would make are counted: an event sent
//! again (at or below what the device already has, which the store skips)
//! and an alert that arrived under two numbers (stored twice: a gateway
//! bug).
//!
//! Connections spread over loopback source addresses (127.0.0.1, .2, ...;
//! [`PER_SOURCE`] each), since one source address has about 28,000
//! ephemeral ports towards one gateway port.

use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use strongroom_core::protocol::dpop;
use strongroom_core::protocol::frames::{self, ClientFrame, DeviceEvent, ServerFrame};
use strongroom_core::protocol::sync::Backoff;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::fanout::{LoadDevice, alert_index};

/// Connections per loopback source address: a quarter of the about 28,000
/// ephemeral ports, so that the ports of failed attempts (in TIME_WAIT for a
/// minute) never run out during a reconnect storm (with 20,000 per address
/// they did, and the devices that could not bind waited through their
/// longest backoffs).
pub const PER_SOURCE: usize = 7_000;

/// The client's own limit for the gateway's `hello` (see
/// `crates/client/src/service/stream.rs`).
const HELLO_TIMEOUT: Duration = Duration::from_secs(15);

/// What the whole fleet saw, shared by its devices.
#[derive(Default)]
pub struct Seen {
    /// `hello`s received, over all connections and reconnections.
    pub hellos: AtomicUsize,
    /// Devices whose latest connection is up (`hello` received).
    pub up: AtomicUsize,
    /// Connection attempts that failed or timed out (each is retried).
    pub failed_attempts: AtomicUsize,
    /// Of those, attempts that failed here, before reaching the gateway
    /// (no local port to bind): the load generator's own limit.
    pub local_failures: AtomicUsize,
    /// Events sent again at or below what the device had (skipped, as the
    /// store skips them).
    pub resent: AtomicU64,
    /// Alerts received under a second, different number: stored twice.
    pub doubled: AtomicU64,
    /// Every alert received the first time: (bench index, when).
    pub arrivals: Mutex<Vec<(usize, Instant)>>,
    /// Set to stop reconnecting (the benchmark is over).
    pub stop: AtomicBool,
}

/// Where the fleet connects.
#[derive(Clone)]
pub struct Target {
    /// `127.0.0.1:PORT` of the gateway.
    pub port: u16,
    /// The https form of the stream URL the DPoP proofs name.
    pub https_url: String,
    /// The TLS client configuration that trusts the gateway.
    pub tls: Arc<rustls::ClientConfig>,
}

/// Runs device `n` until [`Seen::stop`]: connects, resumes, acknowledges,
/// and after any loss of the connection waits as the client would and
/// connects again.
pub async fn hold(n: usize, device: LoadDevice, target: Target, seen: Arc<Seen>) {
    let backoff = Backoff::default();
    let source = Ipv4Addr::new(127, 0, 0, 1 + u8::try_from(n / PER_SOURCE).unwrap_or(254));
    let mut state = DeviceState::default();
    let mut attempt = 0u32;
    let rng = ring::rand::SystemRandom::new();
    while !seen.stop.load(Ordering::Relaxed) {
        let outcome = tokio::time::timeout(
            HELLO_TIMEOUT,
            connect(&device, &target, source, &rng, &seen),
        )
        .await;
        match outcome {
            Ok(Some(ws)) => {
                attempt = 0;
                serve(ws, &mut state, &seen).await;
            }
            _ => {
                seen.failed_attempts.fetch_add(1, Ordering::Relaxed);
            }
        }
        if seen.stop.load(Ordering::Relaxed) {
            return;
        }
        let mut random = [0u8; 4];
        let _ = ring::rand::SecureRandom::fill(&rng, &mut random);
        let delay = backoff.delay_ms(attempt, u32::from_le_bytes(random));
        attempt = attempt.saturating_add(1);
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
}

/// What one device keeps between its connections, as its store would.
#[derive(Default)]
struct DeviceState {
    /// The highest number received (and acknowledged).
    position: u64,
    /// The number each alert arrived under, by bench index.
    alerts: HashMap<usize, u64>,
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the stream from `source` with a fresh proof; `None` on any
/// failure (refused, reset, handshake).
async fn connect(
    device: &LoadDevice,
    target: &Target,
    source: Ipv4Addr,
    rng: &ring::rand::SystemRandom,
    seen: &Seen,
) -> Option<Ws> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let proof = dpop::make_proof(
        &device.key,
        "GET",
        &target.https_url,
        now,
        Some(&device.access_token),
        None,
        rng,
    )
    .ok()?;
    let url = format!("wss://127.0.0.1:{}/v1/stream", target.port);
    let mut request = url.as_str().into_client_request().ok()?;
    let headers = request.headers_mut();
    headers.insert(
        "authorization",
        format!("DPoP {}", device.access_token).parse().ok()?,
    );
    headers.insert("dpop", proof.parse().ok()?);
    let socket = tokio::net::TcpSocket::new_v4().ok()?;
    // Ports of closed attempts in TIME_WAIT may be bound again.
    let _ = socket.set_reuseaddr(true);
    if socket.bind(SocketAddr::from((source, 0))).is_err() {
        seen.local_failures.fetch_add(1, Ordering::Relaxed);
        return None;
    }
    let tcp = socket
        .connect(SocketAddr::from(([127, 0, 0, 1], target.port)))
        .await
        .ok()?;
    tcp.set_nodelay(true).ok()?;
    // Small buffers: the load generator holds as many connections as the
    // gateway, on the same machine.
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::client_async_tls_with_config(
        request,
        tcp,
        Some(config),
        Some(tokio_tungstenite::Connector::Rustls(target.tls.clone())),
    )
    .await
    .ok()?;
    Some(ws)
}

/// Serves one connection until it ends: `hello`, `resume` from the lower
/// of the device's position and the gateway's, then every event
/// acknowledged.
async fn serve(mut ws: Ws, state: &mut DeviceState, seen: &Seen) {
    let mut up = false;
    while let Some(Ok(message)) = ws.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        match frames::decode_server_frame(text.as_bytes()) {
            Ok(ServerFrame::Hello { acked }) if !up => {
                let after = state.position.min(acked);
                let resume = frames::encode(&ClientFrame::Resume { after });
                if ws.send(Message::text(resume)).await.is_err() {
                    break;
                }
                up = true;
                seen.hellos.fetch_add(1, Ordering::Relaxed);
                seen.up.fetch_add(1, Ordering::Relaxed);
            }
            Ok(ServerFrame::Event { seq, event }) => {
                if seq <= state.position {
                    seen.resent.fetch_add(1, Ordering::Relaxed);
                } else {
                    state.position = seq;
                    if let DeviceEvent::Alert { jws } = &event
                        && let Some(i) = alert_index(jws)
                    {
                        match state.alerts.insert(i, seq) {
                            None => seen.arrivals.lock().unwrap().push((i, Instant::now())),
                            Some(before) if before != seq => {
                                seen.doubled.fetch_add(1, Ordering::Relaxed);
                            }
                            Some(_) => {}
                        }
                    }
                }
                let ack = frames::encode(&ClientFrame::Ack { seq });
                if ws.send(Message::text(ack)).await.is_err() {
                    break;
                }
            }
            _ => {}
        }
        if seen.stop.load(Ordering::Relaxed) {
            break;
        }
    }
    if up {
        seen.up.fetch_sub(1, Ordering::Relaxed);
    }
}
