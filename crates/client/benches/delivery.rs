//! `cargo xtask bench delivery`: how long a bank event takes from the bank's
//! POST to the gateway until it is committed in the client's store, on
//! loopback over real TLS, and how the gateway holds 10,000 devices.
//!
//! 1. One real device (client core, encrypted store, real keychain): p50 and
//!    p99 at 100 and 1,000 alerts/s, measured from the moment the POST is
//!    sent to the moment the client announces the alert committed.
//!
//! The gateway's many devices (fan-out, memory per connection, the
//! reconnect storm) are `cargo xtask bench devices` (`benches/devices.rs`).
//!
//! `--runs N` repeats the 1,000/s phase N times (a fresh device each time)
//! and reports every run's p99 and the worst (`worst_p99_ms_1000_per_s`):
//! the target holds only if it holds in every run. For the slowest 1% of
//! each phase's alerts (and of the worst run) it prints when, after the
//! post was due, each alert reached the gateway's handler, was committed,
//! answered and written to the device's stream by the gateway (the
//! gateway's own times, `--bench`), read off the stream by the client,
//! verified, committed and announced (`slowest_1pct_stages_*`), so that a
//! regression shows where it is.
//!
//! Beside every run a probe times the disk's own flushes (`disk`): each
//! commit on the path waits for one, and on a virtual disk a flush can
//! stall every file at once. Each run's slowest flush from its first post
//! to its last arrival is printed (`disk_flush_worst_ms_each_run`), with
//! how many of the failed runs had a flush of 50 ms or more, and how many
//! of the slowest 1% (and of all alerts, to compare) were in flight while
//! a flush took 20 ms or more.
//!
//! Baseline, measured in the same run: the round trip of a bare bank API
//! request on the same TLS loopback (`GET /oauth/jwks`), so the figures can
//! be read against what the machine can do at all. Run under a private
//! D-Bus session with an unlocked keyring (xtask does this).

mod device;
mod disk;
mod fanout;
#[path = "../tests/support/mod.rs"]
mod support;

use device::OnlineDevice;
use disk::DiskFlushProbe;
use fanout::{index_of, percentile, post_alerts, sorted};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use strongroom_client::ClientEvent;

const ONE_DEVICE_SECONDS: u64 = 5;

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

/// An alert's times in the gateway (`GET /bench/stages` on its admin
/// listener, `--bench`): the post reached its handler, its commit
/// returned, its frame was written to the device's stream.
#[derive(Debug, Clone, Copy)]
struct GatewayStages {
    received: Instant,
    written: Option<Instant>,
    sent: Option<Instant>,
}

/// The gateway's stage times of the alerts since the last call, by alert
/// id, on this process's clock (the gateway's are microseconds since the
/// Unix epoch, on the same machine). The first call starts the gateway's
/// recording. A gateway that does not answer fails the benchmark: a
/// breakdown without the gateway's stages would say nothing of them.
async fn gateway_stages(gateway: &support::Gateway, admin: &str) -> HashMap<String, GatewayStages> {
    let rows: Vec<serde_json::Value> = gateway
        .http
        .get(format!("http://{admin}/bench/stages"))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("the gateway's stage times (GET /bench/stages)")
        .json()
        .await
        .expect("the gateway's stage times as JSON");
    let (now, now_us) = (
        Instant::now(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64),
    );
    let at = |us: u64| now.checked_sub(Duration::from_micros(now_us.saturating_sub(us)));
    rows.iter()
        .filter_map(|r| {
            let us = |key: &str| r[key].as_u64().and_then(at);
            Some((
                r["alert"].as_str()?.to_owned(),
                GatewayStages {
                    received: us("received_us")?,
                    written: us("written_us"),
                    sent: us("sent_us"),
                },
            ))
        })
        .collect()
}

/// The stages of the slowest 1% of a run's alerts: for each, the mean time
/// after the post was due at which the alert passed it. The gateway's
/// three come from its stage times ([`gateway_stages`]); its answer to the
/// post comes once it has stored the alert; the client's three come from
/// its stage probe (`Client::record_alert_stages`); the last is when the
/// benchmark heard the announcement.
fn slowest_stages(
    arrivals: &[(usize, Instant, String)],
    sent: &HashMap<usize, Instant>,
    answered: &HashMap<usize, Instant>,
    gateway: &HashMap<String, GatewayStages>,
    stages: &HashMap<String, strongroom_client::AlertStages>,
    disk: &disk::FlushWindow,
) -> serde_json::Value {
    let ms = |from: Instant, to: Instant| to.saturating_duration_since(from).as_secs_f64() * 1e3;
    // Every arrival is ranked; a stage the gateway or the client did not
    // time is left out of that stage's mean only, and counted.
    // Each row also says whether, between its post's due time and its
    // announcement, the disk held a flush 20 ms or more.
    let mut rows: Vec<(f64, [Option<f64>; 8], bool)> = arrivals
        .iter()
        .filter_map(|(i, announced, id)| {
            let due = *sent.get(i)?;
            let g = gateway.get(id);
            let s = stages.get(id);
            let at = |t: Option<Instant>| t.map(|t| ms(due, t));
            Some((
                ms(due, *announced),
                [
                    at(g.map(|g| g.received)),
                    at(g.and_then(|g| g.written)),
                    at(answered.get(i).copied()),
                    at(g.and_then(|g| g.sent)),
                    at(s.map(|s| s.received)),
                    at(s.map(|s| s.verified)),
                    at(s.map(|s| s.committed)),
                    Some(ms(due, *announced)),
                ],
                disk.stalled_during(due, *announced),
            ))
        })
        .collect();
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    let slowest = &rows[..rows.len().div_ceil(100)];
    let mean = |k: usize| {
        let timed: Vec<f64> = slowest.iter().filter_map(|r| r.1[k]).collect();
        if timed.is_empty() {
            f64::NAN
        } else {
            (timed.iter().sum::<f64>() / timed.len() as f64 * 100.0).round() / 100.0
        }
    };
    let untimed = slowest
        .iter()
        .filter(|r| r.1.iter().any(Option::is_none))
        .count();
    // The same count over every alert, to compare with.
    let during_stall = slowest.iter().filter(|r| r.2).count();
    let all_during_stall = rows.iter().filter(|r| r.2).count();
    serde_json::json!({
        "alerts": slowest.len(),
        "alerts_with_a_stage_untimed": untimed,
        "in_flight_during_a_disk_flush_over_20_ms": during_stall,
        "all_alerts": rows.len(),
        "all_alerts_in_flight_during_a_disk_flush_over_20_ms": all_during_stall,
        "gateway_post_received_ms": mean(0),
        "gateway_written_ms": mean(1),
        "gateway_answered_ms": mean(2),
        "gateway_sent_ms": mean(3),
        "client_received_ms": mean(4),
        "client_verified_ms": mean(5),
        "client_committed_ms": mean(6),
        "announced_ms": mean(7),
    })
}

/// Phase 1: one real device, store and keychain included. Returns the
/// latencies, the alerts that never arrived, the slowest 1%'s stages, and
/// the disk's flushes from the first post to the last arrival.
async fn one_device(
    gateway: &support::Gateway,
    admin: &str,
    rate: u64,
    probe: &DiskFlushProbe,
) -> (Vec<f64>, usize, serde_json::Value, disk::FlushWindow) {
    let (device, mut events) = OnlineDevice::start(gateway, "bench").await;
    device.client.record_alert_stages(true);
    let count = (rate * ONE_DEVICE_SECONDS) as usize;
    let tag = format!("r{rate}");
    let sent: Arc<Mutex<HashMap<usize, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let answered: Arc<Mutex<HashMap<usize, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let collector = {
        let sent = sent.clone();
        let tag = tag.clone();
        tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(count);
            let mut arrivals = Vec::with_capacity(count);
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
                            arrivals.push((i, now, alert.id.clone()));
                        }
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(n))) => {
                        eprintln!("bench: the event channel lagged by {n}");
                    }
                    _ => break,
                }
            }
            (latencies, arrivals)
        })
    };
    // The disk's window is the posts' and deliveries', not the device's
    // start or close.
    let posting = Instant::now();
    let posted = post_alerts(
        &[gateway],
        Arc::new(vec!["alice".to_owned()]),
        &tag,
        rate,
        0..count,
        sent.clone(),
        Some(answered.clone()),
    )
    .await;
    let (latencies, arrivals) = collector.await.unwrap_or_default();
    let flushes = probe.window(posting, Instant::now()).await;
    let in_gateway = gateway_stages(gateway, admin).await;
    let stages = slowest_stages(
        &arrivals,
        &sent.lock().unwrap(),
        &answered.lock().unwrap(),
        &in_gateway,
        &device.client.take_alert_stages(),
        &flushes,
    );
    device.close().await;
    assert_eq!(posted, count, "every post accepted");
    let received = latencies.len();
    (sorted(latencies), count - received, stages, flushes)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let json = args.iter().any(|a| a == "--json");
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(1)
        .max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        // Its admin listener serves the alerts' stage times.
        let admin = format!("127.0.0.1:{}", support::idp::free_port());
        let gateway = support::Gateway::start(
            dir.path(),
            &["--bench", "--rate-limit", "1000000", "--admin-listen", &admin],
        );
        // The first call starts the gateway's recording of stage times.
        gateway_stages(&gateway, &admin).await;
        let baseline = baseline_rtt(&gateway).await;
        let base_p50 = percentile(&baseline, 50.0);
        let base_p99 = percentile(&baseline, 99.0);
        let mut report = serde_json::json!({
            "baseline_rtt_p50_ms": base_p50,
            "baseline_rtt_p99_ms": base_p99,
        });
        // The disk's flushes, timed beside every run (see `disk`): a run
        // over 50 ms during which the probe's own flush took 50 ms or more
        // is told apart from one where the program was slow.
        let probe = DiskFlushProbe::start(dir.path()).expect("the disk flush probe");
        let (mut run_p99s, mut run_missing, mut run_flush) =
            (Vec::new(), Vec::new(), Vec::new());
        // The slowest 1%'s stages in the run with the worst p99.
        let mut worst_stages = (f64::NAN, serde_json::Value::Null);
        for rate in [100u64, 1000] {
            eprintln!("bench: one device at {rate} alerts/s");
            let (lat, missing, stages, flush) =
                one_device(&gateway, &admin, rate, &probe).await;
            report[format!("slowest_1pct_stages_{rate}_per_s")] = stages.clone();
            if rate == 1000 {
                run_p99s.push(percentile(&lat, 99.0));
                run_missing.push(missing);
                run_flush.push(flush);
                worst_stages = (percentile(&lat, 99.0), stages);
                // Further runs of the 1,000/s phase (`--runs N`): the tail
                // must hold, and every alert arrive, in every one of them.
                for run in 2..=runs {
                    let (more, lost, stages, flush) =
                        one_device(&gateway, &admin, rate, &probe).await;
                    let p99 = percentile(&more, 99.0);
                    if p99.is_nan() || p99 > worst_stages.0 {
                        worst_stages = (p99, stages);
                    }
                    eprintln!(
                        "bench: run {run} of {runs} at 1000 alerts/s: p99 {p99:.2} ms, \
                         missing {lost}, slowest disk flush {:.1} ms",
                        flush.worst_ms
                    );
                    run_p99s.push(p99);
                    run_missing.push(lost);
                    run_flush.push(flush);
                }
                eprintln!(
                    "bench: run 1 of {runs} at 1000 alerts/s: p99 {:.2} ms",
                    run_p99s[0]
                );
            }
            let p50 = percentile(&lat, 50.0);
            let p99 = percentile(&lat, 99.0);
            report[format!("p50_ms_{rate}_per_s")] = p50.into();
            report[format!("p99_ms_{rate}_per_s")] = p99.into();
            report[format!("missing_{rate}_per_s")] = missing.into();
            report[format!("p99_vs_baseline_rtt_{rate}_per_s")] = (p99 / base_p99).into();
        }
        // A run with nothing measured (NaN) or an alert missing fails, as
        // a run over 50 ms does.
        let worst = run_p99s
            .iter()
            .copied()
            .fold(0.0, |w: f64, p| if p.is_nan() { f64::INFINITY } else { w.max(p) });
        let failed = |p: f64, lost: usize| p.is_nan() || p > 50.0 || lost > 0;
        let over = run_p99s
            .iter()
            .zip(&run_missing)
            .filter(|(p, lost)| failed(**p, **lost))
            .count();
        // The failed runs during which the probe's flush took 50 ms or
        // more (a lower bound of the stall: see `disk::FlushWindow`).
        let over_with_disk_stall = run_p99s
            .iter()
            .zip(&run_missing)
            .zip(&run_flush)
            .filter(|((p, lost), f)| failed(**p, **lost) && f.worst_ms >= 50.0)
            .count();
        let flush_worst: Vec<f64> = run_flush
            .iter()
            .map(|f| (f.worst_ms * 10.0).round() / 10.0)
            .collect();
        let flush_stalls: Vec<usize> = run_flush.iter().map(|f| f.stalls.len()).collect();
        // A run with no flush in its window had no probe: its worst is no
        // reading at all.
        report["disk_flushes_each_run"] = run_flush
            .iter()
            .map(|f| f.flushes)
            .collect::<Vec<_>>()
            .into();
        report["disk_flush_worst_ms_each_run"] = flush_worst.clone().into();
        report["disk_flush_stalls_over_20_ms_each_run"] = flush_stalls.clone().into();
        report["runs_over_50_ms_with_a_disk_flush_over_50_ms"] = over_with_disk_stall.into();
        report["missing_1000_per_s_each_run"] = run_missing.clone().into();
        report["slowest_1pct_stages_worst_run"] = worst_stages.1.clone();
        report["runs"] = runs.into();
        report["p99_ms_1000_per_s_each_run"] = run_p99s.clone().into();
        report["worst_p99_ms_1000_per_s"] = worst.into();
        report["runs_over_50_ms"] = over.into();
        let p99_1000 = if over > 0 { f64::INFINITY } else { worst };
        report["target_p99_ms_1000_per_s_met"] = (p99_1000 <= 50.0).into();
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
                "  1,000/s over {runs} run(s): p99 each {:?} ms; missing each {run_missing:?}; worst {worst:.2} ms; {over} over 50 ms or missing alerts",
                run_p99s.iter().map(|p| (p * 100.0).round() / 100.0).collect::<Vec<_>>()
            );
            println!(
                "  the disk's slowest flush during each run {flush_worst:?} ms, flushes over \
                 20 ms {flush_stalls:?}; {over_with_disk_stall} of the {over} run(s) over 50 ms \
                 or missing alerts had a flush of 50 ms or more"
            );
            println!(
                "  the slowest 1% of the worst run, mean ms after each post was due: {}",
                worst_stages.1
            );
            println!(
                "  target: p99 at 1,000/s <= 50 ms in every run: {}",
                report["target_p99_ms_1000_per_s_met"]
            );
        }
    });
}
