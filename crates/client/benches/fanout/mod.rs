//! The load generator shared by `cargo xtask bench delivery` and
//! `cargo xtask bench gateway-pg`: posting alerts through the bank API at a
//! fixed rate (open loop) or as fast as the gateways answer (closed loop),
//! and holding thousands of raw device connections that acknowledge each
//! event, spread over one or more gateway processes. `cargo xtask bench
//! call-status` takes its single bank API alert and its percentiles.
#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use strongroom_core::protocol::dpop;
use strongroom_core::protocol::frames::{self, ClientFrame, DeviceEvent, ServerFrame};
use strongroom_core::protocol::jose::SigningKey;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::support;

pub mod cpu;
mod locks;

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

pub fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// The node alert `alert` is posted to. Device `d` streams from node
/// `d % nodes`, and alert `alert` goes to customer `alert % customers`; the
/// offset that advances every second alert sends, with two nodes, half of
/// the alerts to the node the device is not connected to, so they must
/// cross from one process to the other (posting alert `i` simply to node
/// `i % nodes` would always pick the device's own node).
fn posting_node(alert: usize, customers: usize, nodes: usize) -> usize {
    let device_node = (alert % customers) % nodes;
    (device_node + (alert / 2) % nodes) % nodes
}

/// Posts one informational alert with `text` for `customer` through the
/// bank API at `url`; whether the gateway accepted it (201).
pub async fn post_alert(
    http: &reqwest::Client,
    url: &str,
    key: &str,
    customer: &str,
    text: &str,
) -> bool {
    let body = serde_json::json!({
        "customer": customer, "kind": "custom", "severity": "info", "text": text,
    })
    .to_string();
    http.post(url)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .is_ok_and(|r| r.status().as_u16() == 201)
}

/// Posts in flight at once (and so connections to the bank API, at most).
pub const POSTS_IN_FLIGHT: usize = 64;

/// Posts the alerts numbered `indices` at `rate` per second, open loop (a
/// slow answer never delays the next post), each with its number in the
/// text, to the bank API
/// to one of `targets` (see [`posting_node`]). Records when each was sent; returns how
/// many were accepted.
pub async fn post_alerts(
    targets: &[&support::Gateway],
    customers: Arc<Vec<String>>,
    tag: &str,
    rate: u64,
    indices: std::ops::Range<usize>,
    sent: Arc<Mutex<HashMap<usize, Instant>>>,
    answered: Option<Arc<Mutex<HashMap<usize, Instant>>>>,
) -> usize {
    let start = tokio::time::Instant::now();
    let first = indices.start;
    // As a bank's integration would, with a bounded connection pool: a post
    // waits for a free connection rather than opening one more (during a
    // reconnect storm, unbounded posts took the gateway's last connection
    // places from the devices). The wait counts: posts are timed from when
    // they were due.
    let slots = Arc::new(tokio::sync::Semaphore::new(POSTS_IN_FLIGHT));
    let mut tasks = Vec::with_capacity(indices.len());
    for i in indices {
        let at = start + Duration::from_micros((i - first) as u64 * 1_000_000 / rate);
        tokio::time::sleep_until(at).await;
        let gateway = targets[posting_node(i, customers.len(), targets.len())];
        let http = gateway.http.clone();
        let url = format!("{}/bank/v1/alerts", gateway.direct);
        let key = gateway.api_key.clone();
        let customer = customers[i % customers.len()].clone();
        let text = format!("bench {tag} {i}");
        // The time the post was due, not when its task ran: the load
        // generator's own lag counts against the figure (no coordinated
        // omission).
        sent.lock().unwrap().insert(i, at.into_std());
        let answered = answered.clone();
        let slots = Arc::clone(&slots);
        tasks.push(tokio::spawn(async move {
            let Ok(_slot) = slots.acquire_owned().await else {
                return false;
            };
            let ok = post_alert(&http, &url, &key, &customer, &text).await;
            // The gateway answers once the alert is stored: the end of the
            // breakdown's first stage.
            if let Some(answered) = answered {
                answered.lock().unwrap().insert(i, Instant::now());
            }
            ok
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

pub fn index_of(text: &str, tag: &str) -> Option<usize> {
    text.strip_prefix(&format!("bench {tag} "))
        .and_then(|n| n.parse().ok())
}

pub struct LoadDevice {
    pub key: SigningKey,
    pub access_token: String,
}

/// Enrols one device for each of `customers` through the bank's load-test
/// switch (the web page and its memory-hard password check are not what is
/// measured here), 64 at a time.
pub async fn enrol(gateway: &support::Gateway, customers: &[String]) -> Vec<LoadDevice> {
    let rng = ring::rand::SystemRandom::new();
    eprintln!("bench: enrolling {} devices", customers.len());
    let mut devices = Vec::with_capacity(customers.len());
    let mut pending = futures_util::stream::FuturesOrdered::new();
    for customer in customers {
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
    devices
}

/// Many raw device connections, spread over `nodes` (device `i` streams
/// from node `i % nodes.len()`, all enrolled through the first), then
/// `rate` alerts/s for `seconds`, half of them posted to a node other than
/// the device's (see [`posting_node`]): p50 and p99
/// from POST to arrival, and the first node's resident memory per
/// connection. With `saturate_seconds` > 0, then as many alerts as the
/// nodes take for that long (`concurrency` posts in flight, closed loop):
/// `alerts_per_s`, delivered to their devices per second.
pub async fn fanout(
    nodes: &[&support::Gateway],
    connections: usize,
    rate: u64,
    seconds: u64,
    saturate_seconds: u64,
    postgres: Option<&str>,
) -> serde_json::Value {
    let gateway = nodes[0];
    let gateway_pid = gateway.pid().expect("the gateway runs");
    let rng = ring::rand::SystemRandom::new();
    let customers: Vec<String> = (0..connections).map(|i| format!("load{i}")).collect();
    let devices = enrol(gateway, &customers).await;

    // Every node checks DPoP proofs against the one issuer URL, whichever
    // node a device connects to.
    let https_url = format!("{}/v1/stream", gateway.issuer);
    let tls = strongroom_client::net::tls_config(Some(&gateway.ca)).expect("tls");
    let rss_before = rss_kib(gateway_pid);
    let arrivals: Arc<Mutex<Vec<(usize, Instant)>>> = Arc::new(Mutex::new(Vec::new()));
    let connected = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let semaphore = Arc::new(tokio::sync::Semaphore::new(128));
    eprintln!("bench: opening {connections} connections");
    let mut tasks = Vec::with_capacity(connections);
    for (n, device) in devices.into_iter().enumerate() {
        let permit = semaphore.clone().acquire_owned().await.expect("semaphore");
        let rng = rng.clone();
        let tls = tls.clone();
        let stream_url = format!("wss://127.0.0.1:{}/v1/stream", nodes[n % nodes.len()].port);
        let https_url = https_url.clone();
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
    while connected.load(std::sync::atomic::Ordering::Relaxed) < connections
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let held = connected.load(std::sync::atomic::Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = rss_kib(gateway_pid);
    eprintln!("bench: {held} connections held; posting {rate} alerts/s");
    let count = (rate * seconds) as usize;
    let sent: Arc<Mutex<HashMap<usize, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let customers = Arc::new(customers);
    // The fixed-rate phase's lock waits, when the nodes share PostgreSQL.
    let sampler = postgres.map(|url| locks::LockSampler::start(url, seconds));
    let posted = post_alerts(
        nodes,
        customers.clone(),
        "fan",
        rate,
        0..count,
        sent.clone(),
        None,
    )
    .await;
    let waits = sampler.map(locks::LockSampler::finish);
    let wait_until = Instant::now() + Duration::from_secs(30);
    while arrivals.lock().unwrap().len() < posted && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let latencies: Vec<f64> = {
        let sent = sent.lock().unwrap();
        arrivals
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(i, at)| sent.get(i).map(|t| (*at - *t).as_secs_f64() * 1000.0))
            .collect()
    };
    let received = latencies.len();
    let latencies = sorted(latencies);
    // The CPU the saturated phase cost per alert delivered: what a
    // capacity plan divides by (docs/scale.md).
    let gateway_pids: Vec<u32> = nodes.iter().filter_map(|g| g.pid()).collect();
    let cpu_before = cpu::CpuTicks::now(&gateway_pids);
    let wal_before = postgres.and_then(cpu::wal_and_transactions);
    let (alerts_per_s, delivered) = if saturate_seconds > 0 {
        saturate(nodes, &customers, &arrivals, saturate_seconds, 64).await
    } else {
        (f64::NAN, 0)
    };
    let cpu_ms_per_alert = (delivered > 0)
        .then(|| cpu::CpuTicks::now(&gateway_pids).ms_per_alert_since(&cpu_before, delivered));
    let (wal_bytes_per_alert, transactions_per_alert) =
        match (wal_before, postgres.and_then(cpu::wal_and_transactions)) {
            (Some(before), Some(after)) if delivered > 0 => (
                Some(after.0.saturating_sub(before.0) as f64 / delivered as f64),
                Some(after.1.saturating_sub(before.1) as f64 / delivered as f64),
            ),
            _ => (None, None),
        };
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
        "alerts_per_s": alerts_per_s,
        "cpu_ms_per_alert": cpu_ms_per_alert,
        "wal_bytes_per_alert": wal_bytes_per_alert,
        "transactions_per_alert": transactions_per_alert,
        "lock_wait_ms_per_alert": waits.as_ref().map(|w| w.lock_ms / posted.max(1) as f64),
        "lwlock_wait_ms_per_alert": waits.as_ref().map(|w| w.lwlock_ms / posted.max(1) as f64),
        "lock_waits_ms": waits.map(|w| {
            w.by_event
                .into_iter()
                .map(|(event, ms)| (event, serde_json::json!(ms)))
                .collect::<serde_json::Map<_, _>>()
        }),
    })
}

/// Indices of the closed-loop phase's alerts start here, above any the
/// open-loop phase used.
const SATURATION_BASE: usize = 10_000_000;

/// Posts alerts with `concurrency` requests in flight for `seconds`, spread
/// over the nodes as [`posting_node`] says, then waits for their arrival: alerts delivered per
/// second, from the first post to the last arrival, and how many arrived.
async fn saturate(
    nodes: &[&support::Gateway],
    customers: &Arc<Vec<String>>,
    arrivals: &Arc<Mutex<Vec<(usize, Instant)>>>,
    seconds: u64,
    concurrency: usize,
) -> (f64, usize) {
    eprintln!(
        "bench: as many alerts as the gateways take for {seconds} s ({concurrency} in flight)"
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let stop = started + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let next = next.clone();
        let customers = customers.clone();
        let targets: Vec<(reqwest::Client, String, String)> = nodes
            .iter()
            .map(|g| {
                (
                    g.http.clone(),
                    format!("{}/bank/v1/alerts", g.direct),
                    g.api_key.clone(),
                )
            })
            .collect();
        workers.push(tokio::spawn(async move {
            let mut accepted = Vec::new();
            while Instant::now() < stop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let (http, url, key) = &targets[posting_node(i, customers.len(), targets.len())];
                let customer = &customers[i % customers.len()];
                let text = format!("bench fan {}", SATURATION_BASE + i);
                if post_alert(http, url, key, customer, &text).await {
                    accepted.push(SATURATION_BASE + i);
                }
            }
            accepted
        }));
    }
    let mut accepted = std::collections::HashSet::new();
    for w in workers {
        accepted.extend(w.await.unwrap_or_default());
    }
    let arrived = |arrivals: &Mutex<Vec<(usize, Instant)>>| -> Vec<Instant> {
        arrivals
            .lock()
            .unwrap()
            .iter()
            .filter(|(i, _)| accepted.contains(i))
            .map(|(_, at)| *at)
            .collect()
    };
    let wait_until = Instant::now() + Duration::from_secs(60);
    while arrived(arrivals).len() < accepted.len() && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let times = arrived(arrivals);
    let last = times.iter().max().copied().unwrap_or(started);
    eprintln!(
        "bench: {} accepted, {} delivered in {:.1} s",
        accepted.len(),
        times.len(),
        (last - started).as_secs_f64()
    );
    (
        times.len() as f64 / (last - started).as_secs_f64().max(1e-9),
        times.len(),
    )
}

/// The index in a bench alert's text, read from the JWS payload (the load
/// generator only measures; the real device verifies).
pub fn alert_index(jws: &str) -> Option<usize> {
    let jws = strongroom_core::protocol::jose::parse_jws(jws).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&jws.payload).ok()?;
    let events = claims.get("events")?.as_object()?;
    let text = events.values().next()?.get("text")?.as_str()?;
    index_of(text, "fan")
}
