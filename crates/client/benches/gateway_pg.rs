//! `cargo xtask bench gateway-pg`: the fan-out benchmark of
//! `cargo xtask bench delivery` (10,000 device connections acknowledging
//! every event, 2,000 alerts/s posted through the bank API for 5 s), run
//! side by side in one run on
//!
//! - the embedded SQLite gateway, one process (the baseline), and
//! - two gateway processes sharing one PostgreSQL database, the devices
//!   split between them and half of the alerts posted to the node the
//!   device is not connected to (they cross from one process to the other
//!   through NOTIFY).
//!
//! For each: p99 from POST to arrival at the device, and the delivery rate
//! when the bank posts as fast as the gateways answer (64 posts in flight
//! for 5 s; alerts delivered per second). Target: the two PostgreSQL nodes
//! deliver at least the SQLite node's rate, with p99 <= 250 ms.
//!
//! Needs a PostgreSQL server: xtask starts a private one and passes its
//! superuser URL in `STRONGROOM_TEST_POSTGRES`.

mod fanout;
#[path = "../tests/support/mod.rs"]
mod support;

const CONNECTIONS: usize = 10_000;
const RATE: u64 = 2_000;
const SECONDS: u64 = 5;
const SATURATE_SECONDS: u64 = 5;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let load = ["--bench", "--rate-limit", "1000000"];

        eprintln!("bench: SQLite, one gateway");
        let dir = tempfile::tempdir().expect("temp dir");
        let single = support::Gateway::start(dir.path(), &load);
        let one = fanout::fanout(&[&single], CONNECTIONS, RATE, SECONDS, SATURATE_SECONDS).await;
        drop(single);

        eprintln!("bench: PostgreSQL, two gateways");
        let database = support::fresh_database("bench");
        let dir = tempfile::tempdir().expect("temp dir");
        // One public URL for both, as behind a load balancer: DPoP proofs
        // name it, whichever node checks them.
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let public = format!("https://{listen}");
        let shared = [&load[..], &["--database", &database, "--public-url", &public]].concat();
        let a = support::Gateway::start(dir.path(), &[&shared[..], &["--listen", &listen]].concat());
        let b = support::Gateway::start(dir.path(), &shared);
        let two = fanout::fanout(&[&a, &b], CONNECTIONS, RATE, SECONDS, SATURATE_SECONDS).await;
        drop((a, b));

        let figure = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
        let p99_pg = figure(&two, "p99_ms_fanout");
        let p99_sqlite = figure(&one, "p99_ms_fanout");
        let rate_pg = figure(&two, "alerts_per_s");
        let rate_sqlite = figure(&one, "alerts_per_s");
        let complete = |v: &serde_json::Value| {
            v["fanout_alerts_received"] == v["fanout_alerts_posted"]
                && v["connections_held"].as_u64() == Some(CONNECTIONS as u64)
        };
        let report = serde_json::json!({
            "p99_ms_pg_two_nodes": p99_pg,
            "p99_ms_sqlite_one_node": p99_sqlite,
            "p50_ms_pg_two_nodes": figure(&two, "p50_ms_fanout"),
            "p50_ms_sqlite_one_node": figure(&one, "p50_ms_fanout"),
            "alerts_per_s_pg_two_nodes": rate_pg,
            "alerts_per_s_sqlite_one_node": rate_sqlite,
            "alerts_per_s_pg_vs_sqlite": rate_pg / rate_sqlite,
            "p99_pg_vs_sqlite": p99_pg / p99_sqlite,
            "sqlite_one_node": one,
            "pg_two_nodes": two,
            "target_p99_met": p99_pg <= 250.0 && complete(&two),
            "target_rate_met": rate_pg >= rate_sqlite,
            "target_met": rate_pg >= rate_sqlite && p99_pg <= 250.0 && complete(&two),
        });
        if json {
            println!("{report}");
        } else {
            println!("gateway-pg benchmark (loopback, real TLS, {CONNECTIONS} devices, {RATE} alerts/s for {SECONDS} s)");
            for (name, v) in [("SQLite, one gateway", &one), ("PostgreSQL, two gateways", &two)] {
                println!(
                    "  {name:<26} p50 {:.2} ms, p99 {:.2} ms, received {}/{}, held {}; saturated: {:.0} alerts/s delivered",
                    figure(v, "p50_ms_fanout"),
                    figure(v, "p99_ms_fanout"),
                    v["fanout_alerts_received"],
                    v["fanout_alerts_posted"],
                    v["connections_held"],
                    figure(v, "alerts_per_s"),
                );
            }
            println!(
                "  PostgreSQL / SQLite: rate {:.2}x, p99 {:.2}x",
                rate_pg / rate_sqlite,
                p99_pg / p99_sqlite
            );
            println!(
                "  targets: every alert delivered at {RATE}/s with p99 <= 250 ms: {}; saturated rate >= the SQLite node's: {}",
                report["target_p99_met"], report["target_rate_met"]
            );
        }
    });
}
