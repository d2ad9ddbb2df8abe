//! Two gateway processes on one PostgreSQL database, behind a TCP load
//! balancer (the way a bank runs more than one): a device connected through
//! one gateway receives alerts the bank posts to the other, a console
//! signed in on one hears a customer who wrote through the other, and when
//! the device's gateway is SIGKILLed the device reconnects to the survivor
//! and stores every alert exactly once: with the gateways announcing their
//! commits through PostgreSQL's NOTIFY, and through a Redis stream.
//!
//! Needs a PostgreSQL server: `cargo xtask test` starts a private one and
//! passes its superuser URL in `STRONGROOM_TEST_POSTGRES`, then runs these
//! tests with `--ignored`.

#[path = "../crates/client/tests/support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{
    Gateway, TestDevice, cli_link, fresh_database, hidden_field, json_lines, next_matching,
};

/// A TCP load balancer in front of the gateways, as HAProxy or a cloud
/// load balancer would be: each connection goes to the first backend that
/// accepts it, so when one dies new connections reach the next. TLS passes
/// through untouched (both gateways serve the same certificate).
struct Balancer {
    port: u16,
    backends: Arc<Mutex<Vec<SocketAddr>>>,
    /// Connections sent to each backend, by position.
    counts: Arc<Mutex<Vec<usize>>>,
    accepted: Arc<AtomicUsize>,
}

impl Balancer {
    async fn bind() -> Balancer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("bound").port();
        let backends: Arc<Mutex<Vec<SocketAddr>>> = Arc::default();
        let counts: Arc<Mutex<Vec<usize>>> = Arc::default();
        let accepted = Arc::new(AtomicUsize::new(0));
        let (b, c, a) = (backends.clone(), counts.clone(), accepted.clone());
        tokio::spawn(async move {
            while let Ok((mut down, _)) = listener.accept().await {
                a.fetch_add(1, Ordering::Relaxed);
                let targets = b.lock().unwrap().clone();
                let counts = c.clone();
                tokio::spawn(async move {
                    for (i, target) in targets.iter().enumerate() {
                        if let Ok(mut up) = tokio::net::TcpStream::connect(target).await {
                            counts.lock().unwrap()[i] += 1;
                            let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                            return;
                        }
                    }
                });
            }
        });
        Balancer {
            port,
            backends,
            counts,
            accepted,
        }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    fn route_to(&self, backends: &[&Gateway]) {
        let addrs: Vec<SocketAddr> = backends
            .iter()
            .map(|g| SocketAddr::from(([127, 0, 0, 1], g.port)))
            .collect();
        *self.counts.lock().unwrap() = vec![0; addrs.len()];
        *self.backends.lock().unwrap() = addrs;
    }

    fn counts(&self) -> Vec<usize> {
        self.counts.lock().unwrap().clone()
    }
}

/// Signs `username` in to the console of `gateway` itself (not through the
/// balancer); returns the session cookie.
async fn console_session(gateway: &Gateway, username: &str, password: &str) -> String {
    let page = gateway
        .http
        .get(format!("{}/console", gateway.direct))
        .send()
        .await
        .expect("the sign-in page")
        .text()
        .await
        .unwrap();
    let csrf = hidden_field(&page, "csrf").expect("the sign-in form's token");
    let signed_in = gateway
        .http
        .post(format!("{}/console/sign-in", gateway.direct))
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .expect("the sign-in answers");
    assert_eq!(signed_in.status().as_u16(), 303, "{username} signs in");
    signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-console="))
        .and_then(|v| v.split(';').next())
        .expect("the session cookie")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (STRONGROOM_TEST_POSTGRES); cargo xtask test runs it"]
async fn two_gateways_on_one_postgres_deliver_across_and_survive_losing_one() {
    deliver_across_and_survive_losing_one("cluster", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis (STRONGROOM_TEST_POSTGRES, STRONGROOM_TEST_REDIS); cargo xtask test runs it"]
async fn two_gateways_announcing_through_a_redis_stream_deliver_across_and_survive_losing_one() {
    let broker = std::env::var("STRONGROOM_TEST_REDIS")
        .expect("STRONGROOM_TEST_REDIS names a Redis server (cargo xtask test starts one)");
    deliver_across_and_survive_losing_one("cluster_redis", Some(&broker)).await;
}

/// The scenario of the module's documentation, the gateways announcing
/// their commits through PostgreSQL's NOTIFY, or through `broker`'s
/// stream.
async fn deliver_across_and_survive_losing_one(name: &str, broker: Option<&str>) {
    const TOTAL: usize = 60;
    let database = fresh_database(name);
    let balancer = Balancer::bind().await;
    // Both gateways: one database, one public URL (the balancer's), and one
    // data folder for the TLS certificate and the bank API key that a
    // deployment would hand to every node.
    let dir = tempfile::tempdir().expect("a temp dir");
    let public_url = balancer.url();
    let mut args = vec!["--database", database.as_str(), "--public-url", &public_url];
    if let Some(broker) = broker {
        args.extend(["--broker", broker]);
    }
    let a = Gateway::start(dir.path(), &args);
    let mut b = Gateway::start(dir.path(), &args);
    assert_eq!(a.issuer, b.issuer, "one issuer for both");
    // The balancer prefers B while it lives.
    balancer.route_to(&[&b, &a]);

    let device = TestDevice::new("cluster");
    let account = cli_link(&device, &a, "alice").await;
    // An agent watches live updates on A's console; the customer writes
    // through B.
    let cookie = console_session(&a, "ana", "ana-console-demo").await;
    let mut live = a
        .http
        .get(format!("{}/console/events", a.direct))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("the console's event stream");
    assert_eq!(live.status().as_u16(), 200);
    let chat = device
        .cli(&a)
        .args(["chat", &account, "Did my card get blocked?"])
        .output()
        .expect("strongroom-cli chat");
    assert!(
        chat.status.success(),
        "{}",
        String::from_utf8_lossy(&chat.stderr)
    );
    let mut heard = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !heard.contains("data:") {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, live.chunk()).await {
            Ok(Ok(Some(chunk))) => heard.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("A's console heard nothing of B's chat: {other:?} {heard:?}"),
        }
    }
    drop(live);
    let queue = a
        .http
        .get(format!("{}/console", a.direct))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("A's queue")
        .text()
        .await
        .unwrap();
    assert!(queue.contains("Alice"), "A's queue shows Alice: {queue}");

    let spawn_watch = || {
        let mut child = device
            .cli(&a)
            .arg("watch")
            .stdout(Stdio::piped())
            .spawn()
            .expect("strongroom-cli runs");
        let lines = json_lines(child.stdout.take().expect("stdout"));
        (support::Guard(child), lines)
    };
    let (mut watch, lines) = spawn_watch();
    next_matching(&lines, 30, |v| v["type"] == "connected");
    assert_eq!(
        balancer.counts()[1],
        0,
        "everything so far went through B: {:?}",
        balancer.counts()
    );

    // The bank posts every alert to A; the device is on B until B dies.
    let mut posted: Vec<String> = Vec::new();
    for i in 0..TOTAL {
        if i == TOTAL / 3 {
            // Everything so far reached the device through B.
            let first = posted.last().cloned().expect("alerts before the kill");
            a.wait_acknowledged(&first).await;
            b.kill();
        }
        let ids = a
            .transaction(
                "alice",
                serde_json::json!({"amount_minor": 20_000 + i as i64 * 100, "merchant": format!("Shop {i}")}),
            )
            .await;
        posted.extend(ids);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(posted.len(), TOTAL);
    let last = posted.last().cloned().expect("alerts");
    a.wait_acknowledged(&last).await;
    let counts = balancer.counts();
    assert!(
        counts[0] > 0 && counts[1] > 0,
        "the device used B, then A: {counts:?}"
    );
    watch.kill();
    drop(lines);

    support::assert_stored_once(&device, &a, posted);
    assert!(balancer.accepted.load(Ordering::Relaxed) > 0);
}
