//! What the bank's operations team watches: metrics and health checks on
//! the admin listener, and a request id on every answer.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

/// A plain HTTP GET on the admin listener: status and body.
async fn admin_get(addr: std::net::SocketAddr, path: &str) -> (u16, String, String) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(
        format!("GET {path} HTTP/1.1\r\nhost: admin\r\nconnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut raw = String::new();
    tcp.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("a response");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap();
    (status, head.to_lowercase(), body.to_owned())
}

/// The value of a metric line that starts with `name` (labels included).
fn value(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} in\n{metrics}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_listener_serves_metrics_and_health_and_answers_carry_ids() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start_with(dir.path(), "127.0.0.1:0", 1000.0, |c| {
        c.admin_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let admin = gateway.admin_addr.expect("an admin address");
    assert!(gateway.ready_line().ends_with(&format!(" admin={admin}")));
    let http = Http::new(&gateway);

    let (status, _, body) = admin_get(admin, "/healthz").await;
    assert_eq!((status, body.as_str()), (200, "alive\n"));
    let (status, _, body) = admin_get(admin, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["ready"], true, "{ready}");

    let (_, _, before) = admin_get(admin, "/metrics").await;
    let posted = value(&before, "strongroom_gateway_alerts_posted_total ");
    suspicious_purchase(&http).await;
    // A device without a token is refused: an authentication refusal.
    let refused = http.send("GET", "/v1/history", &[], b"").await;
    assert_eq!(refused.status, 401);
    let id = refused
        .header("x-request-id")
        .expect("a request id")
        .to_owned();
    assert_eq!(id.len(), 16, "{id}");
    let other = http.send("GET", "/v1/history", &[], b"").await;
    assert_ne!(
        other.header("x-request-id"),
        Some(id.as_str()),
        "one id per request"
    );

    let (status, head, after) = admin_get(admin, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        head.contains("content-type: application/openmetrics-text"),
        "{head}"
    );
    assert!(
        value(&after, "strongroom_gateway_alerts_posted_total ") >= posted + 1.0,
        "the fraud check was counted"
    );
    assert!(value(&after, "strongroom_gateway_refusals_total{reason=\"auth\"}") >= 1.0);
    assert!(value(&after, "strongroom_gateway_db_batch_seconds_count ") >= 1.0);
    assert!(
        after.contains("strongroom_gateway_streams_open 0"),
        "{after}"
    );
    assert!(!after.contains("alice"), "no customer in the metrics");

    // A database left at another schema version is not ready, and says so.
    let database = database_of(dir.path()).await;
    tokio::task::spawn_blocking(move || {
        let mut admin = strongroom_gateway::db::open_for_admin(&database).unwrap();
        let c = admin.connection();
        if c.is_postgres() {
            c.execute("UPDATE strongroom_schema SET version = 99", ())
                .unwrap();
        } else {
            c.execute_batch("PRAGMA user_version = 99").unwrap();
        }
    })
    .await
    .unwrap();
    let (status, _, body) = admin_get(admin, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (ready["ready"].clone(), ready["database"].clone()),
        (false.into(), "failing".into())
    );
    gateway.shutdown().await;
}
