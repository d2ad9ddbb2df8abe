//! `cargo xtask bench gateway-pg [--nodes 1,2,4] [--brokers redis,notify]
//! [--rounds N] [--json]`: the fan-out benchmark of `cargo xtask bench
//! delivery` (10,000 device connections acknowledging every event, 2,000
//! alerts/s posted through the bank API for 5 s, then as many as the
//! gateways take), run in one run on
//!
//! - the embedded SQLite gateway, one process (the baseline), and
//! - for each way of announcing commits in `--brokers` (`redis`: a Redis
//!   stream, `--broker`; `notify`: PostgreSQL's NOTIFY) and each count in
//!   `--nodes`, that many gateway processes sharing one fresh PostgreSQL
//!   database, the devices spread over them and each alert posted to a
//!   node the device is not connected to when there are two or more (so
//!   it crosses between processes).
//!
//! The summary keys (`p99_ms_pg_two_nodes`, ...) are the first broker's;
//! each run is under `<broker>_pg_<n>_nodes` (and `..._round_<r>`).
//!
//! `--rounds N` runs every set-up N times, one round after the other (1, 2,
//! 4 gateways, then 4, 2, 1, then 1, 2, 4 again), so that no gateway count
//! is always measured in a faster part of the run on this shared machine
//! than another: two
//! gateways are compared with one in the same round
//! (`alerts_per_s_pg_two_vs_one_node_each_round`), and the summary is the
//! median of those ratios; the target needs every round's.
//!
//! For each: p99 from POST to arrival at the device, the delivery rate when
//! the bank posts as fast as the gateways answer (64 posts in flight for
//! 5 s), and, with PostgreSQL, the time its sessions spent waiting for
//! locks during the 2,000/s phase per alert posted (sampled from
//! `pg_stat_activity`; see `fanout/locks.rs`), and the CPU time of the
//! gateways, PostgreSQL and Redis and the WAL written per alert delivered
//! in the saturated phase (`fanout/cpu.rs`). On two cores the rate cannot
//! grow with nodes; the targets are that lock waits stay near zero (below
//! 0.1 ms per alert) and two nodes deliver every alert and at least one
//! node's rate (`target_met`); p99 <= 250 ms is `p99_target_met`.
//!
//! Needs a PostgreSQL server and, for `redis`, a Redis server: xtask
//! starts private ones and passes their URLs in `STRONGROOM_TEST_POSTGRES`
//! and `STRONGROOM_TEST_REDIS`.

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

/// Every gateway's flags: the benchmark's stage endpoints, no rate limit.
const LOAD: [&str; 3] = ["--bench", "--rate-limit", "1000000"];

/// Lock waits per alert below this count as "near zero".
const LOCK_WAIT_TARGET_MS: f64 = 0.1;

/// The comma-separated values after `flag`, or `default`'s.
fn list<'a>(args: &'a [String], flag: &str, default: &'a str) -> impl Iterator<Item = &'a str> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map_or(default, String::as_str)
        .split(',')
        .map(str::trim)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let json = args.iter().any(|a| a == "--json");
    let mut nodes: Vec<usize> = list(&args, "--nodes", "1,2,4")
        .map(|n| n.parse().expect("--nodes: counts such as 1,2,4"))
        .collect();
    // Each count once: a round has one run of each.
    let mut seen = std::collections::HashSet::new();
    nodes.retain(|n| seen.insert(*n));
    assert!(
        nodes.iter().all(|&n| (1..=8).contains(&n)),
        "--nodes: from 1 to 8 gateways"
    );
    let rounds: usize = list(&args, "--rounds", "1")
        .next()
        .and_then(|n| n.parse().ok())
        .filter(|n| (1..=10).contains(n))
        .expect("--rounds: from 1 to 10");
    let brokers: Vec<String> = list(&args, "--brokers", "redis,notify")
        .map(str::to_owned)
        .collect();
    assert!(
        brokers.iter().all(|b| b == "redis" || b == "notify"),
        "--brokers: redis, notify or both"
    );
    let redis = brokers.iter().any(|b| b == "redis").then(|| {
        std::env::var("STRONGROOM_TEST_REDIS").expect("STRONGROOM_TEST_REDIS for --brokers redis")
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        eprintln!("bench: SQLite, one gateway");
        let dir = tempfile::tempdir().expect("temp dir");
        let single = support::Gateway::start(dir.path(), &LOAD);
        let sqlite = fanout::fanout(
            &[&single],
            CONNECTIONS,
            RATE,
            SECONDS,
            SATURATE_SECONDS,
            None,
        )
        .await;
        drop(single);

        let mut runs = Vec::new();
        for round in 1..=rounds {
            // Odd rounds run the counts as given, even rounds backwards
            // (1, 2 then 2, 1): a machine getting faster or slower through
            // the run favours neither count.
            let mut order = nodes.clone();
            if round % 2 == 0 {
                order.reverse();
            }
            for broker in &brokers {
                for &count in &order {
                    let figures = cluster(broker, count, round, redis.as_deref()).await;
                    runs.push(Run {
                        broker: broker.clone(),
                        nodes: count,
                        round,
                        figures,
                    });
                }
            }
        }
        report(json, &sqlite, &runs);
    });
}

/// Starts `count` gateways on a fresh PostgreSQL database announcing
/// through `broker` (`redis`, at `redis`, or `notify`), runs the fan-out
/// load on them, and stops them; the load's figures.
async fn cluster(
    broker: &str,
    count: usize,
    round: usize,
    redis: Option<&str>,
) -> serde_json::Value {
    eprintln!("bench: round {round}: PostgreSQL, {count} gateway(s), announcing through {broker}");
    let database = support::fresh_database(&format!("bench{count}{broker}r{round}"));
    let dir = tempfile::tempdir().expect("temp dir");
    // One public URL for all, as behind a load balancer: DPoP proofs name
    // it, whichever node checks them.
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let public = format!("https://{listen}");
    let mut shared: Vec<&str> = [
        &LOAD[..],
        &["--database", &database, "--public-url", &public],
    ]
    .concat();
    if broker == "redis" {
        shared.extend(["--broker", redis.unwrap_or_default()]);
    }
    let gateways: Vec<support::Gateway> = (0..count)
        .map(|i| {
            let args = if i == 0 {
                [&shared[..], &["--listen", &listen]].concat()
            } else {
                shared.clone()
            };
            support::Gateway::start(dir.path(), &args)
        })
        .collect();
    let refs: Vec<&support::Gateway> = gateways.iter().collect();
    fanout::fanout(
        &refs,
        CONNECTIONS,
        RATE,
        SECONDS,
        SATURATE_SECONDS,
        Some(&database),
    )
    .await
}

/// One set-up's run: the broker, the number of gateways, the round, and
/// its figures (`fanout::fanout`'s).
struct Run {
    broker: String,
    nodes: usize,
    round: usize,
    figures: serde_json::Value,
}

impl Run {
    /// The round, when it is not the first (whose runs keep the names
    /// they had before `--rounds`).
    fn later_round(&self) -> Option<usize> {
        (self.round > 1).then_some(self.round)
    }
}

/// The median of `values` (NaN for none).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => f64::midpoint(values[n / 2 - 1], values[n / 2]),
    }
}

/// Prints the runs, as text or as one JSON object.
fn report(json: bool, sqlite: &serde_json::Value, runs: &[Run]) {
    let figure = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let complete = |v: &serde_json::Value| {
        v["fanout_alerts_received"] == v["fanout_alerts_posted"]
            && v["connections_held"].as_u64() == Some(CONNECTIONS as u64)
    };
    // The summary is the first broker's (`--brokers`' first).
    let primary = runs.first().map(|r| r.broker.clone()).unwrap_or_default();
    // The first broker's runs of `count` gateways, with their rounds.
    let of = |count: usize| -> Vec<(usize, &serde_json::Value)> {
        runs.iter()
            .filter(|r| r.broker == primary && r.nodes == count)
            .map(|r| (r.round, &r.figures))
            .collect()
    };
    let rate_sqlite = figure(sqlite, "alerts_per_s");
    let mut report = serde_json::json!({
        "p99_ms_sqlite_one_node": figure(sqlite, "p99_ms_fanout"),
        "alerts_per_s_sqlite_one_node": rate_sqlite,
        "sqlite_one_node": sqlite,
    });
    report["broker"] = primary.clone().into();
    report["rounds"] = runs.iter().map(|r| r.round).max().unwrap_or(0).into();
    for r in runs {
        let round = r.later_round().map(|n| format!("_round_{n}"));
        report[format!(
            "{}_pg_{}_nodes{}",
            r.broker,
            r.nodes,
            round.unwrap_or_default()
        )] = r.figures.clone();
    }
    let two = of(2);
    if !two.is_empty() {
        // Over the rounds: the median rate, the worst p99 and lock wait
        // (NaN, no reading, if any round has none: a target then fails).
        let worst = |k: &str| {
            two.iter()
                .map(|(_, v)| figure(v, k))
                .fold(0.0, |w: f64, x| {
                    if w.is_nan() || x.is_nan() {
                        f64::NAN
                    } else {
                        w.max(x)
                    }
                })
        };
        let rate_two = median(two.iter().map(|(_, v)| figure(v, "alerts_per_s")).collect());
        report["p99_ms_pg_two_nodes"] = worst("p99_ms_fanout").into();
        report["alerts_per_s_pg_two_nodes"] = rate_two.into();
        report["alerts_per_s_pg_vs_sqlite"] = (rate_two / rate_sqlite).into();
        report["lock_wait_ms_per_alert_two_nodes"] = worst("lock_wait_ms_per_alert").into();
        // The targets: lock waits near zero, and two nodes deliver
        // every alert and at least one node's rate, in every round. The
        // 250 ms p99 is reported beside them (on two shared cores it
        // measures the machine's saturation as much as the cluster).
        let mut met = two.iter().all(|(_, v)| complete(v))
            && worst("lock_wait_ms_per_alert") < LOCK_WAIT_TARGET_MS;
        let one = of(1);
        if !one.is_empty() {
            // Each round's two gateways against that round's one.
            let ratios: Vec<f64> = two
                .iter()
                .map(|(round, t)| {
                    one.iter()
                        .find(|(r, _)| r == round)
                        .map_or(f64::NAN, |(_, o)| {
                            figure(t, "alerts_per_s") / figure(o, "alerts_per_s")
                        })
                })
                .collect();
            report["alerts_per_s_pg_two_vs_one_node"] = median(ratios.clone()).into();
            report["alerts_per_s_pg_two_vs_one_node_each_round"] = ratios.clone().into();
            // (NaN >= 1.0 is false: a round without its pair fails.)
            met &= ratios.iter().all(|r| *r >= 1.0);
        }
        report["target_met"] = met.into();
        report["p99_target_met"] = (worst("p99_ms_fanout") <= 250.0).into();
    }
    if json {
        println!("{report}");
        return;
    }
    println!(
        "gateway-pg benchmark (loopback, real TLS, {CONNECTIONS} devices, {RATE} alerts/s for {SECONDS} s)"
    );
    let mut rows = vec![("SQLite, 1 gateway".to_owned(), sqlite)];
    rows.extend(runs.iter().map(|r| {
        let round = r.later_round().map(|n| format!(", round {n}"));
        (
            format!(
                "PostgreSQL+{}, {} gateway(s){}",
                r.broker,
                r.nodes,
                round.unwrap_or_default()
            ),
            &r.figures,
        )
    }));
    for (name, v) in rows {
        println!(
            "  {name:<32} p50 {:.2} ms, p99 {:.2} ms, received {}/{}, held {}; saturated: {:.0} alerts/s; lock wait {:.3} ms/alert (LWLock {:.3})",
            figure(v, "p50_ms_fanout"),
            figure(v, "p99_ms_fanout"),
            v["fanout_alerts_received"],
            v["fanout_alerts_posted"],
            v["connections_held"],
            figure(v, "alerts_per_s"),
            figure(v, "lock_wait_ms_per_alert"),
            figure(v, "lwlock_wait_ms_per_alert"),
        );
        if v["cpu_ms_per_alert"].is_object() {
            let cpu = &v["cpu_ms_per_alert"];
            println!(
                "  {:<32} per alert delivered (saturated): CPU gateways {:.3} ms, PostgreSQL {:.3} ms, Redis {:.3} ms; WAL {:.0} bytes; {:.2} transactions",
                "",
                figure(cpu, "gateways"),
                figure(cpu, "postgres"),
                figure(cpu, "redis"),
                figure(v, "wal_bytes_per_alert"),
                figure(v, "transactions_per_alert"),
            );
        }
        if let Some(events) = v["lock_waits_ms"].as_object() {
            let mut events: Vec<_> = events.iter().collect();
            events.sort_by(|a, b| {
                b.1.as_f64()
                    .partial_cmp(&a.1.as_f64())
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            let top: Vec<String> = events
                .into_iter()
                .take(4)
                .map(|(event, ms)| format!("{event} {:.0} ms", ms.as_f64().unwrap_or(0.0)))
                .collect();
            if !top.is_empty() {
                println!("  {:<32} waits: {}", "", top.join(", "));
            }
        }
    }
    if report["alerts_per_s_pg_two_vs_one_node"].is_number() {
        println!(
            "  two gateways against one ({primary}), each round: {} (median {})",
            report["alerts_per_s_pg_two_vs_one_node_each_round"],
            report["alerts_per_s_pg_two_vs_one_node"]
        );
    }
    println!(
        "  targets ({primary}): two nodes deliver every alert, lock wait < {LOCK_WAIT_TARGET_MS} ms/alert and at least one node's saturated rate in every round: {}; p99 <= 250 ms at {RATE}/s: {}",
        report["target_met"], report["p99_target_met"]
    );
}
