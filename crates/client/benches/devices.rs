//! `cargo xtask bench devices`: one gateway process holding as many device
//! connections as the machine lets it, up to 100,000 (issue 23, section 2),
//! over real TLS on loopback.
//!
//! 1. Holding: the devices (raw WebSocket clients with their own DPoP keys,
//!    see `fleet`) connect from several loopback source addresses; the
//!    gateway's resident memory before and after, per connection
//!    (`gateway_kib_per_connection`, target at most 10 KiB).
//! 2. Fan-out: 2,000 alerts/s for 5 s, each to one customer's device, timed
//!    from when each post was due to its arrival (`p99_ms_fanout`, target at
//!    most 250 ms), every alert delivered.
//! 3. Reconnect storm: the gateway is SIGKILLed and started again on the
//!    same data; every device reconnects with the client's backoff and
//!    jitter and resumes, while alerts keep coming at 2,000/s. The time
//!    from the new process being ready until every device is back
//!    (`reconnect_all_s`), and whether any alert was lost or stored twice.
//!
//! The count is capped by the open-file limits of the gateway and of this
//! process (each connection is a descriptor on both sides), raised to
//! their hard limits first; the report says which limit capped it. Baseline,
//! measured in the same run: the gateway's resident memory with no
//! connection, and the bare bank API round trip.

mod fanout;
mod fleet;
#[path = "../tests/support/mod.rs"]
mod support;

use fanout::{percentile, post_alerts, sorted};
use fleet::{Seen, Target};

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TARGET_CONNECTIONS: usize = 100_000;
const RATE: u64 = 2_000;
const SECONDS: u64 = 5;
/// Descriptors kept for everything but the device connections: this
/// process's own files, and the bank API posts' connections within the
/// gateway's cap.
const SPARE_FDS: usize = 600;

/// The soft open-file limit of process `pid`.
fn fd_limit(pid: u32) -> usize {
    std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3)?.parse().ok())
        })
        .unwrap_or(1024)
}

/// Waits until `done` holds or `limit` passes; whether it held.
async fn wait_until(limit: Duration, done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    true
}

/// Posts `RATE` alerts/s for `SECONDS` tagged `fan` from `first` on, and
/// waits at most `wait` for them: (p50, p99 from when each post was due,
/// posted, arrived).
async fn fan_out(
    gateway: &support::Gateway,
    customers: &Arc<Vec<String>>,
    seen: &Arc<Seen>,
    first: usize,
    wait: Duration,
) -> (f64, f64, usize, usize) {
    let count = (RATE * SECONDS) as usize;
    let sent: Arc<Mutex<HashMap<usize, Instant>>> = Arc::default();
    let posted = post_alerts(
        &[gateway],
        customers.clone(),
        "fan",
        RATE,
        first..first + count,
        sent.clone(),
        None,
    )
    .await;
    let in_range = |i: usize| (first..first + count).contains(&i);
    let arrived = || {
        seen.arrivals
            .lock()
            .unwrap()
            .iter()
            .filter(|(i, _)| in_range(*i))
            .count()
    };
    wait_until(wait, || arrived() >= posted).await;
    let sent = sent.lock().unwrap();
    let latencies = sorted(
        seen.arrivals
            .lock()
            .unwrap()
            .iter()
            .filter(|(i, _)| in_range(*i))
            .filter_map(|(i, at)| sent.get(i).map(|t| (*at - *t).as_secs_f64() * 1e3))
            .collect(),
    );
    (
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        posted,
        latencies.len(),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let json = args.iter().any(|a| a == "--json");
    // `--connections N`: fewer, for a quick look or a profile.
    let wanted = args
        .iter()
        .position(|a| a == "--connections")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(TARGET_CONNECTIONS);
    // Raised to the hard limit, as the gateway raises its own.
    let own_limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        // Its metrics say why connections were refused in the storm.
        let admin = format!("127.0.0.1:{}", support::idp::free_port());
        // As its systemd unit runs it (`MALLOC_ARENA_MAX=2`).
        let mut gateway = support::Gateway::start_with_env(
            dir.path(),
            &[
                "--bench",
                "--rate-limit",
                "1000000",
                // Tokens outlive the run (a device whose token expired
                // would refresh; that is not what is measured).
                "--access-token-ttl",
                "7200",
                "--admin-listen",
                &admin,
            ],
            &[("MALLOC_ARENA_MAX", "2")],
        );
        let gateway_limit = fd_limit(gateway.pid().expect("the gateway runs"));
        // The gateway keeps 1,024 descriptors from its cap for its database
        // and files (`connections::RESERVED_FDS`); the bank API posts need
        // connections of their own within the cap.
        let gateway_cap = gateway_limit.saturating_sub(1_024);
        let connections = wanted
            .min(own_limit.saturating_sub(SPARE_FDS))
            .min(gateway_cap.saturating_sub(SPARE_FDS));
        let capped_by = if connections == wanted {
            if wanted < TARGET_CONNECTIONS {
                "--connections".to_owned()
            } else {
                "nothing".to_owned()
            }
        } else {
            format!(
                "the open-file limits (this process {own_limit}, the gateway {gateway_limit}; \
                 100,000 connections need about 100,400 on both: `ulimit -Hn`, LimitNOFILE=)"
            )
        };
        eprintln!("bench: {connections} connections (capped by {capped_by})");
        let customers: Arc<Vec<String>> =
            Arc::new((0..connections).map(|i| format!("load{i}")).collect());
        let devices = fanout::enrol(&gateway, &customers).await;
        let target = Target {
            port: gateway.port,
            https_url: format!("{}/v1/stream", gateway.issuer),
            tls: strongroom_client::net::tls_config(Some(&gateway.ca)).expect("tls"),
        };
        let seen = Arc::new(Seen::default());
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss_before = fanout::rss_kib(gateway.pid().expect("the gateway runs"));

        // 1. Holding.
        eprintln!("bench: opening {connections} connections");
        let opening = Instant::now();
        let mut tasks = Vec::with_capacity(connections);
        for (n, device) in devices.into_iter().enumerate() {
            tasks.push(tokio::spawn(fleet::hold(
                n,
                device,
                target.clone(),
                seen.clone(),
            )));
            // Paced as devices come online, not as one burst: the storm
            // below measures the burst.
            if n % 256 == 255 {
                let up = seen.up.load(Ordering::Relaxed);
                if n - up > 2_048 {
                    wait_until(Duration::from_secs(30), || {
                        seen.up.load(Ordering::Relaxed) + 1_024 > n
                    })
                    .await;
                }
            }
        }
        wait_until(Duration::from_secs(300), || {
            seen.up.load(Ordering::Relaxed) >= connections
        })
        .await;
        let held = seen.up.load(Ordering::Relaxed);
        let open_s = opening.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss_after = fanout::rss_kib(gateway.pid().expect("the gateway runs"));
        let kib = rss_after.saturating_sub(rss_before) as f64 / held.max(1) as f64;
        eprintln!(
            "bench: {held} held after {open_s:.1} s; {kib:.2} KiB each ({rss_before} -> {rss_after} KiB)"
        );

        // 2. Fan-out, with the CPU the gateway and this process (the bank's
        // posts and every device) spent on it: on a machine that is busy
        // the two must fit in what is left.
        eprintln!("bench: {RATE} alerts/s for {SECONDS} s");
        let gateway_pid = gateway.pid().expect("the gateway runs");
        let cpu = || {
            (
                fanout::cpu::process_ms(gateway_pid),
                fanout::cpu::process_ms(std::process::id()),
            )
        };
        let cpu_before = cpu();
        let (p50, p99, posted, received) = fan_out(&gateway, &customers, &seen, 0, Duration::from_secs(60)).await;
        let cpu_after = cpu();
        let per_alert = |after: f64, before: f64| (after - before) / received.max(1) as f64;
        let gateway_cpu_ms = per_alert(cpu_after.0, cpu_before.0);
        let load_cpu_ms = per_alert(cpu_after.1, cpu_before.1);
        // Cores the phase kept busy at the posted rate.
        let cores_needed = (gateway_cpu_ms + load_cpu_ms) * RATE as f64 / 1000.0;
        eprintln!("bench: fan-out p50 {p50:.2} ms, p99 {p99:.2} ms, {received}/{posted}");

        // 3. The reconnect storm.
        eprintln!("bench: SIGKILL and restart the gateway");
        let hellos_before = seen.hellos.load(Ordering::Relaxed);
        gateway.restart();
        let ready = Instant::now();
        let storm_first = 1_000_000;
        let storm = fan_out(
            &gateway,
            &customers,
            &seen,
            storm_first,
            Duration::from_secs(600),
        );
        let back = async {
            wait_until(Duration::from_secs(600), || {
                seen.hellos.load(Ordering::Relaxed) - hellos_before >= held
                    && seen.up.load(Ordering::Relaxed) >= held
            })
            .await;
            ready.elapsed().as_secs_f64()
        };
        let ((_, storm_p99, storm_posted, storm_received), reconnect_all_s) =
            tokio::join!(storm, back);
        // Every alert of the storm arrived (or the wait above timed out).
        wait_until(Duration::from_secs(60), || {
            seen.arrivals.lock().unwrap().len() >= received + storm_received
        })
        .await;
        let due = (RATE * SECONDS) as usize;
        let rss_storm = fanout::rss_kib(gateway.pid().expect("the gateway runs"));
        // A reason never counted is absent from the metrics: none refused.
        let refused = |reason: &'static str| {
            let gateway = &gateway;
            let admin = &admin;
            async move {
                gateway
                    .metric(admin, &format!("refusals_total{{reason=\"{reason}\"}}"))
                    .await
                    .unwrap_or(0)
            }
        };
        let over_cap = refused("connection_limit").await;
        let queue_timeouts = refused("handshake_queue").await;
        let lost = (posted - received) + (storm_posted - storm_received);
        let doubled = seen.doubled.load(Ordering::Relaxed);
        let resent = seen.resent.load(Ordering::Relaxed);
        let failed = seen.failed_attempts.load(Ordering::Relaxed);
        let local = seen.local_failures.load(Ordering::Relaxed);
        seen.stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.abort();
        }
        let report = serde_json::json!({
            "connections_target": TARGET_CONNECTIONS,
            "connections_capped_by": capped_by,
            "connections_held": held,
            "open_all_s": open_s,
            "gateway_rss_kib_before": rss_before,
            "gateway_rss_kib_after": rss_after,
            "gateway_kib_per_connection": kib,
            "gateway_rss_kib_after_storm": rss_storm,
            "p50_ms_fanout": p50,
            "p99_ms_fanout": p99,
            "fanout_alerts_posted": posted,
            "fanout_alerts_received": received,
            "fanout_cpu_ms_per_alert_gateway": gateway_cpu_ms,
            "fanout_cpu_ms_per_alert_load_generator": load_cpu_ms,
            "fanout_cores_needed": cores_needed,
            "reconnect_all_s": reconnect_all_s,
            "reconnect_failed_attempts": failed,
            "reconnect_failed_here": local,
            "storm_refused_over_cap": over_cap,
            "storm_refused_waiting_for_handshake": queue_timeouts,
            "storm_p99_ms": storm_p99,
            "storm_alerts_posted": storm_posted,
            "storm_posts_due": due,
            "storm_alerts_received": storm_received,
            "alerts_lost": lost,
            "alerts_doubled": doubled,
            "events_resent": resent,
            "target_kib_met": kib <= 10.0,
            "target_fanout_met": p99 <= 250.0 && lost == 0,
            "target_connections_met": held >= TARGET_CONNECTIONS,
        });
        if json {
            println!("{report}");
        } else {
            println!("devices benchmark (one gateway, loopback, real TLS)");
            println!(
                "  {held} connections held (target {TARGET_CONNECTIONS}; capped by {capped_by}), opened in {open_s:.1} s"
            );
            println!(
                "  gateway memory: {kib:.2} KiB per connection ({rss_before} -> {rss_after} KiB resident; target <= 10)"
            );
            println!(
                "  fan-out {RATE} alerts/s: p50 {p50:.2} ms, p99 {p99:.2} ms (target <= 250), received {received}/{posted}"
            );
            println!(
                "  fan-out CPU per alert: gateway {gateway_cpu_ms:.3} ms, load generator {load_cpu_ms:.3} ms; {cores_needed:.2} cores at {RATE}/s"
            );
            println!(
                "  reconnect storm after SIGKILL: all {held} back in {reconnect_all_s:.1} s ({failed} failed attempts retried: {local} for want of a local port here, {over_cap} over the gateway's connection cap, {queue_timeouts} after waiting 12 s for a handshake); alerts during it: {storm_posted} of {due} posts accepted, p99 {storm_p99:.1} ms, {storm_received}/{storm_posted} received"
            );
            println!(
                "  lost {lost}, stored twice {doubled}, sent again and skipped {resent}; {rss_storm} KiB resident after the storm"
            );
        }
    });
}
