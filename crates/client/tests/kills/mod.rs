//! Processes killed mid-stream: the gateway, the client, and the client
//! while it stores a burst. Whatever dies, every alert ends up stored
//! exactly once, verified.

use std::time::Duration;

use crate::support::{self, Gateway, TestDevice, cli_link, next_matching};

/// The gateway is SIGKILLed and restarted mid-stream, then the client is
/// SIGKILLed mid-stream and started again: every alert ends up stored
/// exactly once, verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_or_doubled_when_the_gateway_and_the_client_are_killed() {
    const TOTAL: usize = 120;
    let dir = tempfile::tempdir().unwrap();
    let mut gateway = Gateway::start(dir.path(), &[]);
    let device = TestDevice::new("kill");
    cli_link(&device, &gateway, "alice").await;
    let (mut watch, lines) = support::watch(&device, &gateway);
    next_matching(&lines, 30, |v| v["type"] == "connected");
    let mut posted = Vec::new();
    for i in 0..TOTAL {
        if i == TOTAL / 3 {
            gateway.kill();
            gateway.restart();
        }
        if i == 2 * TOTAL / 3 {
            // SIGKILL: no chance to flush or say goodbye.
            watch.kill();
            let (w, _) = support::watch(&device, &gateway);
            watch = w;
        }
        let ids = gateway
            .transaction(
                "alice",
                serde_json::json!({"amount_minor": 10_000 + i as i64 * 100, "merchant": format!("Shop {i}")}),
            )
            .await;
        posted.extend(ids);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(posted.len(), TOTAL);
    // Wait until the bank holds the last alert as acknowledged.
    gateway
        .wait_acknowledged(posted.last().expect("alerts"))
        .await;
    watch.kill();
    support::assert_stored_once(&device, &gateway, posted);
}

/// The client is SIGKILLed while it stores a burst: alerts that arrive
/// together are verified, stored in one transaction with the stream
/// position and acknowledged once. Started again, it stores every alert
/// exactly once; the bank's counters show the bursts were real (fewer
/// acknowledgements than events acknowledged).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_or_doubled_when_the_client_is_killed_while_storing_a_burst() {
    const TOTAL: usize = 400;
    let dir = tempfile::tempdir().unwrap();
    let admin = format!("127.0.0.1:{}", support::idp::free_port());
    let gateway = Gateway::start(dir.path(), &["--admin-listen", &admin]);
    let device = TestDevice::new("kill-burst");
    cli_link(&device, &gateway, "alice").await;
    // Everything waits at the bank, so the stream opens onto one burst.
    let mut posted = Vec::new();
    for i in 0..TOTAL {
        let fields = serde_json::json!({
            "amount_minor": 10_000 + i as i64, "merchant": format!("Kiosk {i}")
        });
        posted.extend(gateway.transaction("alice", fields).await);
    }
    assert_eq!(posted.len(), TOTAL);
    let (mut watch, lines) = support::watch(&device, &gateway);
    next_matching(&lines, 30, |v| v["type"] == "alert");
    // SIGKILL as soon as the first alert is stored: the rest of the burst
    // is in flight, in memory, or mid-commit.
    watch.kill();
    let shown = lines.iter().filter(|v| v["type"] == "alert").count() + 1;
    assert!(
        shown < TOTAL,
        "killed mid-burst ({shown} of {TOTAL} stored)"
    );
    let (mut watch, _lines) = support::watch(&device, &gateway);
    gateway
        .wait_acknowledged(posted.last().expect("alerts"))
        .await;
    watch.kill();
    support::assert_stored_once(&device, &gateway, posted);
    let events = gateway
        .metric(&admin, "events_acknowledged_total")
        .await
        .expect("events_acknowledged_total in the metrics");
    let acks = gateway
        .metric(&admin, "acknowledgements_total")
        .await
        .expect("acknowledgements_total in the metrics");
    assert!(events >= TOTAL as u64, "{events} events acknowledged");
    assert!(
        acks < events,
        "bursts acknowledged once: {acks} frames for {events} events"
    );
}
