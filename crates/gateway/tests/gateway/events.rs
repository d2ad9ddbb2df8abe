//! The gateway as the bank's Shared Signals transmitter: a stream made by
//! the bank's API client, Security Event Tokens pushed to the bank's
//! receiver (a real HTTPS server with its own CA) or polled, each signed
//! with the key the gateway publishes; nothing lost while the receiver is
//! down or the gateway restarts.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use strongroom_core::protocol::jose::{Jwk, parse_jws, verify_es256};

use crate::support::*;

const FRAUD_ANSWER: &str = "urn:strongroom:secevent:fraud-answer";
const VERIFICATION: &str = "https://schemas.openid.net/secevent/ssf/event-type/verification";
const PUSH: &str = "urn:ietf:rfc:8935";
const POLL: &str = "urn:ietf:rfc:8936";

/// The bank's receiver: HTTPS with a certificate of its own CA, recording
/// what it is pushed, answering 202 (up) or 503 (down).
struct Receiver {
    url: String,
    ca: PathBuf,
    answer: Arc<AtomicU16>,
    received: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    _dir: tempfile::TempDir,
    handle: axum_server::Handle,
}

async fn receiver() -> Receiver {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = strongroom_gateway::tls::ensure_demo_certificates(dir.path()).unwrap();
    let answer = Arc::new(AtomicU16::new(202));
    let received: Arc<Mutex<Vec<(HeaderMap, String)>>> = Arc::default();
    let (a, r) = (Arc::clone(&answer), Arc::clone(&received));
    let app = axum::Router::new().route(
        "/events",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let (a, r) = (Arc::clone(&a), Arc::clone(&r));
            async move {
                let status = StatusCode::from_u16(a.load(Ordering::SeqCst)).unwrap();
                if status == StatusCode::ACCEPTED {
                    r.lock().unwrap().push((headers, body));
                }
                status
            }
        }),
    );
    let config = strongroom_gateway::tls::server_config(&cert, &key).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = axum_server::Handle::new();
    let server = axum_server::from_tcp_rustls(
        listener,
        axum_server::tls_rustls::RustlsConfig::from_config(config),
    )
    .handle(handle.clone());
    tokio::spawn(server.serve(app.into_make_service()));
    Receiver {
        url: format!("https://{addr}/events"),
        ca,
        answer,
        received,
        _dir: dir,
        handle,
    }
}

impl Receiver {
    fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// Waits until it holds `n` SETs (or fails after 20 s).
    async fn wait_for(&self, n: usize) -> Vec<(HeaderMap, String)> {
        for _ in 0..400 {
            if self.count() >= n {
                return self.received.lock().unwrap().clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the receiver got {} of {n} events", self.count());
    }
}

/// Checks a SET as the bank's receiver must: `typ`, signature by a key
/// the gateway publishes, issuer and audience. Returns its claims.
async fn verified(http: &Http, issuer: &str, set: &str, audience: &str) -> serde_json::Value {
    let jws = parse_jws(set).unwrap();
    assert_eq!(jws.header.typ.as_deref(), Some("secevent+jwt"));
    let keys = http.send("GET", "/oauth/jwks", &[], b"").await.json();
    let key: Jwk = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"].as_str() == jws.header.kid.as_deref())
        .map(|k| serde_json::from_value(k.clone()).unwrap())
        .expect("signed with a published key");
    verify_es256(&key, &jws).expect("the signature verifies");
    let claims: serde_json::Value = serde_json::from_slice(&jws.payload).unwrap();
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["aud"], audience);
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    claims
}

/// A stream's status, read in the database.
async fn stream_status(dir: &std::path::Path, stream_id: &str) -> String {
    let database = database_of(dir).await;
    let id = stream_id.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut admin = strongroom_gateway::db::open_for_admin(&database).unwrap();
        admin
            .connection()
            .query_row("SELECT status FROM ssf_streams WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap()
    })
    .await
    .unwrap()
}

async fn answer_a_fraud_check(http: &Http, linker: &Linker<'_>, phone: &Device) -> String {
    let alert_id = suspicious_purchase(http).await;
    let answer = format!(r#"{{"alert_id":"{alert_id}","answer":"not_me","answered_at":1}}"#);
    let r = linker
        .post(phone, "/v1/fraud-answers", answer.as_bytes())
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    alert_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fraud_answers_are_pushed_to_the_bank_and_survive_a_receiver_and_a_gateway_down() {
    let receiver = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = receiver.ca.clone();
    let start_gateway = || {
        let ca = ca.clone();
        start_with(dir.path(), "127.0.0.1:0", 1000.0, move |c| {
            c.event_receivers_ca = Some(ca);
        })
    };
    let gateway = start_gateway().await;
    let http = Http::new(&gateway);

    // The transmitter's metadata, SSF 1.0 section 7.
    let config = http
        .send("GET", "/.well-known/ssf-configuration", &[], b"")
        .await
        .json();
    assert_eq!(config["issuer"], gateway.issuer.as_str());
    assert_eq!(config["jwks_uri"], format!("{}/oauth/jwks", gateway.issuer));
    assert_eq!(
        config["delivery_methods_supported"],
        serde_json::json!([PUSH, POLL])
    );

    // The bank's receiver makes a push stream for fraud answers.
    let made = http
        .bank(
            "POST",
            "/ssf/streams",
            serde_json::json!({
                "delivery": {"method": PUSH, "endpoint_url": receiver.url,
                             "authorization_header": "Bearer receiver-secret"},
                "events_requested": [FRAUD_ANSWER, VERIFICATION],
                "description": "fraud operations"
            }),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text());
    let stream = made.json();
    let stream_id = stream["stream_id"].as_str().unwrap().to_owned();
    assert_eq!(stream["aud"], "initial", "the API key's name");
    assert_eq!(
        stream["events_delivered"],
        serde_json::json!([FRAUD_ANSWER, VERIFICATION])
    );
    assert!(
        stream["delivery"].get("authorization_header").is_none(),
        "the receiver's secret is not shown back"
    );

    // Verification (SSF 1.0 section 8.1.4) carries the receiver's state.
    let verify = http
        .bank(
            "POST",
            "/ssf/verify",
            serde_json::json!({"stream_id": stream_id, "state": "s-1"}),
        )
        .await;
    assert_eq!(verify.status, 204, "{}", verify.text());
    let got = receiver.wait_for(1).await;
    let (headers, set) = &got[0];
    assert_eq!(headers["content-type"], "application/secevent+jwt");
    assert_eq!(headers["authorization"], "Bearer receiver-secret");
    let claims = verified(&http, &gateway.issuer, set, "initial").await;
    assert_eq!(claims["events"][VERIFICATION]["state"], "s-1");
    assert_eq!(
        claims["sub_id"],
        serde_json::json!({"format": "opaque", "id": stream_id})
    );

    // A fraud answer becomes a SET about the customer (RFC 9493 opaque
    // subject: the username the bank API uses).
    let linker = Linker::new(&http, &gateway);
    let phone = linker.link("alice").await;
    let alert_id = answer_a_fraud_check(&http, &linker, &phone).await;
    let got = receiver.wait_for(2).await;
    let claims = verified(&http, &gateway.issuer, &got[1].1, "initial").await;
    assert_eq!(
        claims["sub_id"],
        serde_json::json!({"format": "opaque", "id": "alice"})
    );
    let event = &claims["events"][FRAUD_ANSWER];
    assert_eq!(event["alert_id"], alert_id.as_str());
    assert_eq!(event["answer"], "not_me");
    assert_eq!(event["device_jkt"], phone.key.jwk().thumbprint().as_str());
    assert!(event["device_id"].as_str().is_some_and(|d| !d.is_empty()));

    // The receiver goes down: the next answer waits in the outbox, through
    // a restart of the gateway too, and arrives when the receiver is back.
    receiver.answer.store(503, Ordering::SeqCst);
    let second = answer_a_fraud_check(&http, &linker, &phone).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.count(), 2, "nothing accepted while down");
    gateway.shutdown().await;
    let gateway = start_gateway().await;
    let http = Http::new(&gateway);
    receiver.answer.store(202, Ordering::SeqCst);
    // The backoff after the failed attempts is a few seconds at most.
    let got = receiver.wait_for(3).await;
    let claims = verified(&http, &gateway.issuer, &got[2].1, "initial").await;
    assert_eq!(claims["events"][FRAUD_ANSWER]["alert_id"], second.as_str());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.count(), 3, "each event once");

    // Another API client cannot see or delete this stream.
    let key =
        crate::api_keys::api_key(dir.path(), &["add", "--name", "other", "--scope", "events"])
            .await
            .unwrap();
    let other = Http {
        api_key: key,
        ..Http::new(&gateway)
    };
    let url = format!("/ssf/streams?stream_id={stream_id}");
    let r = other.bank("GET", &url, serde_json::Value::Null).await;
    assert_eq!(r.status, 404, "{}", r.text());
    let r = other.bank("DELETE", &url, serde_json::Value::Null).await;
    assert_eq!(r.status, 404, "{}", r.text());
    receiver.handle.shutdown();
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_stream_gets_each_set_until_it_is_acknowledged() {
    let (dir, gateway) = demo_gateway().await;
    let http = Http::new(&gateway);
    let made = http
        .bank(
            "POST",
            "/ssf/streams",
            serde_json::json!({"delivery": {"method": POLL}, "events_requested": [FRAUD_ANSWER]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text());
    let stream = made.json();
    let stream_id = stream["stream_id"].as_str().unwrap().to_owned();
    let poll_url = stream["delivery"]["endpoint_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        poll_url,
        format!("{}/ssf/poll?stream_id={stream_id}", gateway.issuer)
    );
    let poll_path = poll_url.strip_prefix(&gateway.issuer).unwrap().to_owned();

    let linker = Linker::new(&http, &gateway);
    let phone = linker.link("alice").await;
    let alert_id = answer_a_fraud_check(&http, &linker, &phone).await;

    let poll = |body: serde_json::Value| http.bank("POST", &poll_path, body);
    let first = poll(serde_json::json!({"returnImmediately": true})).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let sets = first.json()["sets"].as_object().unwrap().clone();
    assert_eq!(sets.len(), 1, "{sets:?}");
    let (jti, set) = sets.iter().next().unwrap();
    let claims = verified(&http, &gateway.issuer, set.as_str().unwrap(), "initial").await;
    assert_eq!(claims["jti"], jti.as_str());
    assert_eq!(
        claims["events"][FRAUD_ANSWER]["alert_id"],
        alert_id.as_str()
    );
    // Not acknowledged: the same SET again.
    let again = poll(serde_json::json!({"returnImmediately": true}))
        .await
        .json();
    assert!(again["sets"].get(jti).is_some(), "{again}");
    // Acknowledged: gone.
    let acked = poll(serde_json::json!({"ack": [jti], "returnImmediately": true}))
        .await
        .json();
    assert_eq!(acked["sets"], serde_json::json!({}), "{acked}");
    assert_eq!(acked["moreAvailable"], false);

    // Paused streams keep their events; disabled ones drop them.
    let status = |s: &'static str| {
        http.bank(
            "POST",
            "/ssf/status",
            serde_json::json!({"stream_id": stream_id, "status": s}),
        )
    };
    assert_eq!(status("paused").await.status, 200);
    answer_a_fraud_check(&http, &linker, &phone).await;
    let held = poll(serde_json::json!({"returnImmediately": true}))
        .await
        .json();
    assert_eq!(held["sets"], serde_json::json!({}), "paused: {held}");
    assert_eq!(status("enabled").await.status, 200);
    let resumed = poll(serde_json::json!({"returnImmediately": true}))
        .await
        .json();
    assert_eq!(resumed["sets"].as_object().unwrap().len(), 1, "{resumed}");

    // A key without the events scope manages no stream.
    let key = crate::api_keys::api_key(
        dir.path(),
        &["add", "--name", "alerts-only", "--scope", "alerts"],
    )
    .await
    .unwrap();
    let narrow = Http {
        api_key: key,
        ..Http::new(&gateway)
    };
    let r = narrow.bank("POST", &poll_path, serde_json::json!({})).await;
    assert_problem(&r, 403, "polling without the events scope");
    // Attack: a key that may manage streams but not read customers'
    // answers asks for them as events instead.
    let key = crate::api_keys::api_key(
        dir.path(),
        &["add", "--name", "events-only", "--scope", "events"],
    )
    .await
    .unwrap();
    let events_only = Http {
        api_key: key,
        ..Http::new(&gateway)
    };
    let stream = |events: serde_json::Value| serde_json::json!({"delivery": {"method": POLL}, "events_requested": events});
    let refused = events_only
        .bank(
            "POST",
            "/ssf/streams",
            stream(serde_json::json!([FRAUD_ANSWER])),
        )
        .await;
    assert_problem(
        &refused,
        403,
        "fraud answers by event without the answers scope",
    );
    let verification_only = events_only
        .bank(
            "POST",
            "/ssf/streams",
            stream(serde_json::json!([VERIFICATION])),
        )
        .await;
    assert_eq!(
        verification_only.status,
        201,
        "{}",
        verification_only.text()
    );

    // Revoking a key disables its streams: nobody could manage them.
    let key = crate::api_keys::api_key(
        dir.path(),
        &["add", "--name", "fraud-ops", "--scope", "events,answers"],
    )
    .await
    .unwrap();
    let ops = Http {
        api_key: key,
        ..Http::new(&gateway)
    };
    let made = ops
        .bank(
            "POST",
            "/ssf/streams",
            stream(serde_json::json!([FRAUD_ANSWER])),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text());
    let ops_stream = made.json()["stream_id"].as_str().unwrap().to_owned();
    assert_eq!(stream_status(dir.path(), &ops_stream).await, "enabled");
    crate::api_keys::api_key(dir.path(), &["revoke", "--name", "fraud-ops"])
        .await
        .unwrap();
    assert_eq!(stream_status(dir.path(), &ops_stream).await, "disabled");

    let deleted = http
        .bank(
            "DELETE",
            &format!("/ssf/streams?stream_id={stream_id}"),
            serde_json::Value::Null,
        )
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    gateway.shutdown().await;
}

/// The bank's receiver as another implementation sees the SETs:
/// `tests/idp/bank-ssf-receiver.mjs`, which verifies each with panva's
/// `jose` against the keys named by the gateway's SSF configuration.
struct OutsideReceiver {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl OutsideReceiver {
    fn start(
        gateway: &strongroom_gateway::RunningGateway,
        certs: &std::path::Path,
        port: u16,
    ) -> (OutsideReceiver, String) {
        let idp = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/idp");
        assert!(
            idp.join("node_modules/jose").is_dir(),
            "the receiver's modules are missing: run `npm ci --prefix tests/idp` (`cargo xtask test` does)"
        );
        let (_, cert, key) = strongroom_gateway::tls::ensure_demo_certificates(certs).unwrap();
        let mut child = std::process::Command::new("node")
            .arg(idp.join("bank-ssf-receiver.mjs"))
            .args([
                "--cert",
                cert.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
            ])
            .args([
                "--port",
                &port.to_string(),
                "--transmitter",
                &gateway.issuer,
            ])
            .args(["--audience", "initial", "--token", "outside-secret"])
            .env("NODE_EXTRA_CA_CERTS", gateway.ca_file.as_ref().unwrap())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("node runs");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut receiver = OutsideReceiver { child, lines };
        let first = receiver.next_line();
        let url = serde_json::from_str::<serde_json::Value>(&first).unwrap()["url"]
            .as_str()
            .unwrap()
            .to_owned();
        (receiver, url)
    }

    fn next_line(&mut self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(20))
            .expect("the receiver printed a line in time")
    }
}

impl Drop for OutsideReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outside_receiver_verifies_the_sets_and_gets_what_was_sent_while_it_was_stopped() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, _, _) = strongroom_gateway::tls::ensure_demo_certificates(certs.path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gateway = start_with(dir.path(), "127.0.0.1:0", 1000.0, move |c| {
        c.event_receivers_ca = Some(ca);
    })
    .await;
    let http = Http::new(&gateway);
    let (mut outside, url) =
        tokio::task::block_in_place(|| OutsideReceiver::start(&gateway, certs.path(), 0));
    let port: u16 = url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/events")
        .parse()
        .unwrap();
    let made = http
        .bank(
            "POST",
            "/ssf/streams",
            serde_json::json!({
                "delivery": {"method": PUSH, "endpoint_url": url, "authorization_header": "Bearer outside-secret"},
                "events_requested": [FRAUD_ANSWER],
            }),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text());
    let linker = Linker::new(&http, &gateway);
    let phone = linker.link("alice").await;
    let first = answer_a_fraud_check(&http, &linker, &phone).await;
    let line = tokio::task::block_in_place(|| outside.next_line());
    let got: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        got["events"][FRAUD_ANSWER]["alert_id"],
        first.as_str(),
        "{got}"
    );
    assert_eq!(
        got["sub_id"],
        serde_json::json!({"format": "opaque", "id": "alice"})
    );

    // A delivered event leaves the outbox.
    let database = database_of(dir.path()).await;
    let waiting = move || {
        let database = database.clone();
        tokio::task::spawn_blocking(move || {
            let mut admin = strongroom_gateway::db::open_for_admin(&database).unwrap();
            admin
                .connection()
                .query_row("SELECT COUNT(*) FROM ssf_outbox", (), |r| {
                    r.get::<_, i64>(0)
                })
                .unwrap()
        })
    };
    let mut left = 1;
    for _ in 0..100 {
        left = waiting().await.unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(left, 0, "the delivered event is still in the outbox");

    // The receiver stops; an answer given meanwhile reaches it when it is
    // back on its address.
    drop(outside);
    let second = answer_a_fraud_check(&http, &linker, &phone).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (mut outside, again) =
        tokio::task::block_in_place(|| OutsideReceiver::start(&gateway, certs.path(), port));
    assert_eq!(again, url);
    let line = tokio::task::block_in_place(|| outside.next_line());
    let got: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        got["events"][FRAUD_ANSWER]["alert_id"],
        second.as_str(),
        "{got}"
    );
    drop(outside);
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_and_acknowledgement_states_reach_the_bank() {
    use futures_util::SinkExt;
    use strongroom_core::protocol::frames::{ClientFrame, DeviceEvent, encode};
    use tokio_tungstenite::tungstenite::Message;
    const DELIVERED: &str = "urn:strongroom:secevent:alert-delivered";
    const ACKNOWLEDGED: &str = "urn:strongroom:secevent:alert-acknowledged";
    let (_dir, gateway) = demo_gateway().await;
    let http = Http::new(&gateway);
    let made = http
        .bank(
            "POST",
            "/ssf/streams",
            serde_json::json!({"delivery": {"method": POLL}, "events_requested": [DELIVERED, ACKNOWLEDGED]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text());
    let stream_id = made.json()["stream_id"].as_str().unwrap().to_owned();
    let poll_path = format!("/ssf/poll?stream_id={stream_id}");
    let linker = Linker::new(&http, &gateway);
    let (_phone, mut ws) = streaming_phone(&linker).await;
    let alert = http
        .bank(
            "POST",
            "/bank/v1/alerts",
            serde_json::json!({"customer": "alice", "kind": "payment_due", "severity": "info", "text": "Card bill due"}),
        )
        .await;
    assert_eq!(alert.status, 201, "{}", alert.text());
    let alert_id = alert.json()["id"].as_str().unwrap().to_owned();
    let (seq, event) = next_event(&mut ws).await;
    assert!(matches!(event, DeviceEvent::Alert { .. }), "{event:?}");

    // Not acknowledged: after 2 s the delivery is recorded, and told.
    let mut delivered = None;
    for _ in 0..100 {
        let sets = http
            .bank(
                "POST",
                &poll_path,
                serde_json::json!({"returnImmediately": true}),
            )
            .await
            .json()["sets"]
            .clone();
        if let Some((jti, set)) = sets.as_object().unwrap().iter().next() {
            delivered = Some((jti.clone(), set.as_str().unwrap().to_owned()));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (jti, set) = delivered.expect("a delivery event within 10 s");
    let claims = verified(&http, &gateway.issuer, &set, "initial").await;
    let fields = &claims["events"][DELIVERED];
    assert_eq!(fields["alert_id"], alert_id.as_str(), "{claims}");
    assert_eq!(fields["seq"], seq);

    // The device stores it and says so: acknowledged, with its delivery time.
    ws.send(Message::text(encode(&ClientFrame::Ack { seq })))
        .await
        .unwrap();
    let mut acknowledged = None;
    for _ in 0..100 {
        let sets = http
            .bank(
                "POST",
                &poll_path,
                serde_json::json!({"ack": [jti], "returnImmediately": true}),
            )
            .await
            .json()["sets"]
            .clone();
        if let Some((_, set)) = sets.as_object().unwrap().iter().next() {
            acknowledged = Some(set.as_str().unwrap().to_owned());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let set = acknowledged.expect("an acknowledgement event within 10 s");
    let claims = verified(&http, &gateway.issuer, &set, "initial").await;
    let fields = &claims["events"][ACKNOWLEDGED];
    assert_eq!(fields["alert_id"], alert_id.as_str(), "{claims}");
    assert!(fields["delivered_at_ms"].as_i64().is_some(), "{claims}");
    assert!(fields["acknowledged_at_ms"].as_i64() >= fields["delivered_at_ms"].as_i64());
    gateway.shutdown().await;
}
