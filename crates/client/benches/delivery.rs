//! `cargo xtask bench delivery`: how long a bank event takes from the bank's
//! POST to the gateway until it is committed in the client's store, on
//! loopback over real TLS, and how the gateway holds 10,000 devices.
//!
//! 1. One real device (client core, encrypted store, real keychain): p50 and
//!    p99 at 100 and 1,000 alerts/s, measured from the moment the POST is
//!    sent to the moment the client announces the alert committed.
//! 2. Fan-out: 10,000 concurrent device connections held by a load
//!    generator in this process (raw WebSocket clients with their own DPoP
//!    keys, acknowledging each event; they do not run the store), 2,000
//!    alerts/s spread over them: p99 from POST to arrival, and the gateway's
//!    resident memory per connection.
//!
//! Baseline, measured in the same run: the round trip of a bare bank API
//! request on the same TLS loopback (`GET /oauth/jwks`), so the figures can
//! be read against what the machine can do at all. Run under a private
//! D-Bus session with an unlocked keyring (xtask does this).

#[path = "../tests/support/mod.rs"]
mod support;

use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use strongroom_client::ClientEvent;
use strongroom_core::protocol::dpop;
use strongroom_core::protocol::frames::{self, ClientFrame, DeviceEvent, ServerFrame};
use strongroom_core::protocol::jose::SigningKey;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

const ONE_DEVICE_SECONDS: u64 = 5;
const FANOUT_CONNECTIONS: usize = 10_000;
const FANOUT_RATE: u64 = 2_000;
const FANOUT_SECONDS: u64 = 5;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// Posts `count` alerts at `rate` per second, open loop (a slow answer never
/// delays the next post), each with its index in the text. Returns when
/// each was sent.
async fn post_alerts(
    gateway: &support::Gateway,
    customers: Arc<Vec<String>>,
    tag: &str,
    rate: u64,
    count: usize,
    sent: Arc<Mutex<HashMap<usize, Instant>>>,
) -> usize {
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let at = start + Duration::from_micros(i as u64 * 1_000_000 / rate);
        tokio::time::sleep_until(at).await;
        let http = gateway.http.clone();
        let url = format!("{}/bank/v1/alerts", gateway.issuer);
        let key = gateway.api_key.clone();
        let customer = customers[i % customers.len()].clone();
        let body = serde_json::json!({
            "customer": customer, "kind": "custom", "severity": "info",
            "text": format!("bench {tag} {i}"),
        })
        .to_string();
        let sent = sent.clone();
        tasks.push(tokio::spawn(async move {
            sent.lock().unwrap().insert(i, Instant::now());
            let response = http
                .post(url)
                .header("authorization", format!("Bearer {key}"))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            matches!(response, Ok(r) if r.status().as_u16() == 201)
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap_or(false) {
            ok += 1;
        }
    }
    ok
}

fn index_of(text: &str, tag: &str) -> Option<usize> {
    text.strip_prefix(&format!("bench {tag} "))
        .and_then(|n| n.parse().ok())
}

async fn baseline_rtt(gateway: &support::Gateway) -> Vec<f64> {
    let url = format!("{}/oauth/jwks", gateway.issuer);
    let mut out = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        let r = gateway.http.get(&url).send().await.expect("jwks");
        let _ = r.bytes().await;
        out.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    sorted(out)
}

/// Phase 1: one real device, store and keychain included.
async fn one_device(gateway: &support::Gateway, rate: u64) -> (Vec<f64>, usize) {
    let device = support::TestDevice::new("bench");
    let client = device.client(gateway);
    let account = support::link(&client, gateway, "alice").await;
    let mut events = client.subscribe();
    let runner = tokio::spawn({
        let client = client.clone();
        async move { client.run_account(account).await }
    });
    support::wait_for(&mut events, 30, |e| {
        matches!(e, ClientEvent::Connected { .. }).then_some(())
    })
    .await;
    let count = (rate * ONE_DEVICE_SECONDS) as usize;
    let tag = format!("r{rate}");
    let sent: Arc<Mutex<HashMap<usize, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let collector = {
        let sent = sent.clone();
        let tag = tag.clone();
        tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(count);
            let deadline =
                tokio::time::Instant::now() + Duration::from_secs(ONE_DEVICE_SECONDS + 60);
            while latencies.len() < count {
                match tokio::time::timeout_at(deadline, events.recv()).await {
                    Ok(Ok(ClientEvent::Alert { alert, .. })) => {
                        let now = Instant::now();
                        if let Some(i) = index_of(&alert.text, &tag)
                            && let Some(t) = sent.lock().unwrap().get(&i)
                        {
                            latencies.push((now - *t).as_secs_f64() * 1000.0);
                        }
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(n))) => {
                        eprintln!("bench: the event channel lagged by {n}");
                    }
                    _ => break,
                }
            }
            latencies
        })
    };
    let posted = post_alerts(
        gateway,
        Arc::new(vec!["alice".to_owned()]),
        &tag,
        rate,
        count,
        sent,
    )
    .await;
    let latencies = collector.await.unwrap_or_default();
    runner.abort();
    let _ = client.unlink(account).await;
    assert_eq!(posted, count, "every post accepted");
    let received = latencies.len();
    (sorted(latencies), count - received)
}

struct LoadDevice {
    key: SigningKey,
    access_token: String,
}

/// Phase 2: many raw device connections.
async fn fanout(gateway: &support::Gateway, gateway_pid: u32) -> serde_json::Value {
    let rng = ring::rand::SystemRandom::new();
    let customers: Vec<String> = (0..FANOUT_CONNECTIONS)
        .map(|i| format!("load{i}"))
        .collect();
    // Enrol the devices through the bank's load-test switch (the web page
    // and its memory-hard password check are not what is measured here).
    eprintln!("bench: enrolling {FANOUT_CONNECTIONS} devices");
    let mut devices = Vec::with_capacity(FANOUT_CONNECTIONS);
    let mut pending = futures_util::stream::FuturesOrdered::new();
    for customer in &customers {
        let (key, _) = SigningKey::generate("load", &rng).expect("a key");
        let jkt = key.jwk().thumbprint();
        let body = serde_json::json!({"customer": customer, "jkt": jkt});
        pending.push_back(async move {
            let (status, reply) = gateway
                .bank("POST", "/bank/v1/bench/devices", Some(body))
                .await;
            assert_eq!(status, 201, "bench enrolment: {reply}");
            LoadDevice {
                key,
                access_token: reply["access_token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            }
        });
        if pending.len() >= 64
            && let Some(d) = pending.next().await
        {
            devices.push(d);
        }
    }
    while let Some(d) = pending.next().await {
        devices.push(d);
    }

    let stream_url = format!("wss://127.0.0.1:{}/v1/stream", gateway.port);
    let https_url = stream_url.replacen("wss://", "https://", 1);
    let tls = strongroom_client::net::tls_config(Some(&gateway.ca)).expect("tls");
    let rss_before = rss_kib(gateway_pid);
    let arrivals: Arc<Mutex<Vec<(usize, Instant)>>> = Arc::new(Mutex::new(Vec::new()));
    let connected = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let semaphore = Arc::new(tokio::sync::Semaphore::new(128));
    eprintln!("bench: opening {FANOUT_CONNECTIONS} connections");
    let mut tasks = Vec::with_capacity(FANOUT_CONNECTIONS);
    for device in devices {
        let permit = semaphore.clone().acquire_owned().await.expect("semaphore");
        let rng = rng.clone();
        let tls = tls.clone();
        let (stream_url, https_url) = (stream_url.clone(), https_url.clone());
        let arrivals = arrivals.clone();
        let connected = connected.clone();
        tasks.push(tokio::spawn(async move {
            let proof = dpop::make_proof(
                &device.key,
                "GET",
                &https_url,
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64),
                Some(&device.access_token),
                None,
                &rng,
            )
            .expect("a proof");
            let mut request = stream_url.as_str().into_client_request().expect("url");
            request.headers_mut().insert(
                "authorization",
                format!("DPoP {}", device.access_token)
                    .parse()
                    .expect("header"),
            );
            request
                .headers_mut()
                .insert("dpop", proof.parse().expect("header"));
            let Ok((mut ws, _)) = tokio_tungstenite::connect_async_tls_with_config(
                request,
                None,
                false,
                Some(tokio_tungstenite::Connector::Rustls(tls)),
            )
            .await
            else {
                drop(permit);
                return;
            };
            drop(permit);
            let mut hello = false;
            while let Some(Ok(message)) = ws.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                match frames::decode_server_frame(text.as_bytes()) {
                    Ok(ServerFrame::Hello { .. }) if !hello => {
                        hello = true;
                        connected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let resume = frames::encode(&ClientFrame::Resume { after: 0 });
                        if ws.send(Message::text(resume)).await.is_err() {
                            return;
                        }
                    }
                    Ok(ServerFrame::Event { seq, event }) => {
                        if let DeviceEvent::Alert { jws } = &event
                            && let Some(i) = alert_index(jws)
                        {
                            arrivals.lock().unwrap().push((i, Instant::now()));
                        }
                        let ack = frames::encode(&ClientFrame::Ack { seq });
                        if ws.send(Message::text(ack)).await.is_err() {
                            return;
                        }
                    }
                    _ => {}
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while connected.load(std::sync::atomic::Ordering::Relaxed) < FANOUT_CONNECTIONS
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let held = connected.load(std::sync::atomic::Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = rss_kib(gateway_pid);
    eprintln!("bench: {held} connections held; posting {FANOUT_RATE} alerts/s");
    let count = (FANOUT_RATE * FANOUT_SECONDS) as usize;
    let sent: Arc<Mutex<HashMap<usize, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let posted = post_alerts(
        gateway,
        Arc::new(customers),
        "fan",
        FANOUT_RATE,
        count,
        sent.clone(),
    )
    .await;
    let wait_until = Instant::now() + Duration::from_secs(30);
    while arrivals.lock().unwrap().len() < posted && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = sent.lock().unwrap();
    let latencies: Vec<f64> = arrivals
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(i, at)| sent.get(i).map(|t| (*at - *t).as_secs_f64() * 1000.0))
        .collect();
    let received = latencies.len();
    let latencies = sorted(latencies);
    for t in tasks {
        t.abort();
    }
    let kib_per_connection = if held > 0 {
        rss_after.saturating_sub(rss_before) as f64 / held as f64
    } else {
        f64::NAN
    };
    serde_json::json!({
        "connections_held": held,
        "p50_ms_fanout": percentile(&latencies, 50.0),
        "p99_ms_fanout": percentile(&latencies, 99.0),
        "fanout_alerts_posted": posted,
        "fanout_alerts_received": received,
        "gateway_rss_kib_before": rss_before,
        "gateway_rss_kib_after": rss_after,
        "gateway_kib_per_connection": kib_per_connection,
    })
}

/// The index in a bench alert's text, read from the JWS payload (the load
/// generator only measures; the real device verifies).
fn alert_index(jws: &str) -> Option<usize> {
    let jws = strongroom_core::protocol::jose::parse_jws(jws).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&jws.payload).ok()?;
    let events = claims.get("events")?.as_object()?;
    let text = events.values().next()?.get("text")?.as_str()?;
    index_of(text, "fan")
}

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let gateway = support::Gateway::start(dir.path(), &["--bench", "--rate-limit", "1000000"]);
        let pid = gateway.pid().expect("the gateway runs");
        let baseline = baseline_rtt(&gateway).await;
        let base_p50 = percentile(&baseline, 50.0);
        let base_p99 = percentile(&baseline, 99.0);
        let mut report = serde_json::json!({
            "baseline_rtt_p50_ms": base_p50,
            "baseline_rtt_p99_ms": base_p99,
        });
        for rate in [100u64, 1000] {
            eprintln!("bench: one device at {rate} alerts/s");
            let (lat, missing) = one_device(&gateway, rate).await;
            let p50 = percentile(&lat, 50.0);
            let p99 = percentile(&lat, 99.0);
            report[format!("p50_ms_{rate}_per_s")] = p50.into();
            report[format!("p99_ms_{rate}_per_s")] = p99.into();
            report[format!("missing_{rate}_per_s")] = missing.into();
            report[format!("p99_vs_baseline_rtt_{rate}_per_s")] = (p99 / base_p99).into();
        }
        let fan = fanout(&gateway, pid).await;
        if let (Some(r), Some(f)) = (report.as_object_mut(), fan.as_object()) {
            for (k, v) in f {
                r.insert(k.clone(), v.clone());
            }
        }
        let p99_1000 = report["p99_ms_1000_per_s"].as_f64().unwrap_or(f64::NAN);
        let p99_fan = report["p99_ms_fanout"].as_f64().unwrap_or(f64::NAN);
        let held = report["connections_held"].as_u64().unwrap_or(0);
        report["target_p99_ms_1000_per_s_met"] = (p99_1000 <= 50.0).into();
        report["target_fanout_met"] =
            (held >= FANOUT_CONNECTIONS as u64 && p99_fan <= 250.0).into();
        if json {
            println!("{report}");
        } else {
            println!("delivery benchmark (loopback, real TLS)");
            println!("  baseline bank API round trip: p50 {base_p50:.2} ms, p99 {base_p99:.2} ms");
            for rate in [100, 1000] {
                println!(
                    "  one device, {rate:>5} alerts/s: p50 {:.2} ms, p99 {:.2} ms ({:.1}x baseline p99), missing {}",
                    report[format!("p50_ms_{rate}_per_s")].as_f64().unwrap_or(f64::NAN),
                    report[format!("p99_ms_{rate}_per_s")].as_f64().unwrap_or(f64::NAN),
                    report[format!("p99_vs_baseline_rtt_{rate}_per_s")].as_f64().unwrap_or(f64::NAN),
                    report[format!("missing_{rate}_per_s")],
                );
            }
            println!(
                "  fan-out: {held} connections held, {FANOUT_RATE} alerts/s: p50 {:.2} ms, p99 {:.2} ms, received {}/{}",
                report["p50_ms_fanout"].as_f64().unwrap_or(f64::NAN),
                p99_fan,
                report["fanout_alerts_received"],
                report["fanout_alerts_posted"],
            );
            println!(
                "  gateway memory: {:.1} KiB per connection ({} -> {} KiB resident)",
                report["gateway_kib_per_connection"].as_f64().unwrap_or(f64::NAN),
                report["gateway_rss_kib_before"],
                report["gateway_rss_kib_after"],
            );
            println!(
                "  targets: p99 at 1,000/s <= 50 ms: {}; 10,000 held with fan-out p99 <= 250 ms: {}",
                report["target_p99_ms_1000_per_s_met"], report["target_fanout_met"]
            );
        }
    });
}
