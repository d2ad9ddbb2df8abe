//! The gateway in process, over real TLS on loopback with its demo CA:
//! the link flow with DPoP and nonces, the verification page, the stream,
//! signed alerts from the rules, key rotation, revocation, problem+json for
//! bad input, rate limits, and a restart on the same data.
#![allow(missing_docs)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ring::rand::SystemRandom;
use rustls_pki_types::pem::PemObject;
use strongroom_core::protocol::alert::AlertKind;
use strongroom_core::protocol::dpop::make_proof;
use strongroom_core::protocol::frames::{
    ClientFrame, DeviceEvent, ServerFrame, decode_server_frame, encode,
};
use strongroom_core::protocol::jose::{JwkSet, SigningKey};
use strongroom_core::protocol::verify::{AlertVerifier, PinnedKeys, TimePolicy};
use strongroom_gateway::{Config, RunningGateway};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

async fn start(dir: &Path, listen: &str, rate_limit: f64) -> RunningGateway {
    start_with(dir, listen, rate_limit, |_| {}).await
}

async fn start_with(
    dir: &Path,
    listen: &str,
    rate_limit: f64,
    adjust: impl FnOnce(&mut Config),
) -> RunningGateway {
    let mut config = Config::from_args(
        [
            "--demo",
            "--listen",
            listen,
            "--demo-rate",
            "0",
            "--demo-fraud-after",
            "0",
        ]
        .iter()
        .map(|s| s.to_string()),
    )
    .expect("arguments parse");
    config.data_dir = dir.to_owned();
    config.rate_limit = rate_limit;
    config.database = postgres_database(dir).await;
    adjust(&mut config);
    strongroom_gateway::start(config)
        .await
        .expect("the gateway starts")
}

/// With `STRONGROOM_TEST_POSTGRES` set (a PostgreSQL superuser's URL, as
/// `cargo xtask test` sets it for its second pass), every gateway of these
/// tests keeps its data in PostgreSQL: one fresh database per data folder,
/// the same one again when a test restarts a gateway on the same folder.
async fn postgres_database(dir: &Path) -> Option<strongroom_gateway::db::Database> {
    static DATABASES: std::sync::Mutex<Vec<(std::path::PathBuf, String)>> =
        std::sync::Mutex::new(Vec::new());
    let admin = std::env::var("STRONGROOM_TEST_POSTGRES").ok()?;
    let server = admin
        .rsplit_once('/')
        .expect("a URL ending in /dbname")
        .0
        .to_owned();
    let (name, fresh) = {
        let mut databases = DATABASES.lock().unwrap();
        match databases.iter().find(|(d, _)| d == dir) {
            Some((_, name)) => (name.clone(), false),
            None => {
                let name = format!("gw_{}_{}", std::process::id(), databases.len());
                databases.push((dir.to_owned(), name.clone()));
                (name, true)
            }
        }
    };
    if fresh {
        let name = name.clone();
        tokio::task::spawn_blocking(move || {
            let mut client = postgres::Client::connect(&admin, postgres::NoTls)
                .expect("STRONGROOM_TEST_POSTGRES reaches a PostgreSQL server");
            client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
                .expect("an old database of this name goes");
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("a fresh database");
        })
        .await
        .unwrap();
    }
    Some(strongroom_gateway::db::Database::parse_url(&format!("{server}/{name}")).unwrap())
}

/// The files the gateway's own database adds to the data folder: none with
/// PostgreSQL.
fn database_files() -> &'static [&'static str] {
    if std::env::var_os("STRONGROOM_TEST_POSTGRES").is_some() {
        &[]
    } else {
        &["gateway.db"]
    }
}

mod adversarial;

/// A minimal HTTPS client: one request per connection, HTTP/1.1, trusting
/// only the demo CA. Enough to see exact statuses, headers and bodies.
struct Http {
    tls: Arc<rustls::ClientConfig>,
    addr: std::net::SocketAddr,
    api_key: String,
    /// The loopback address to connect from (another client's), if not the
    /// default 127.0.0.1.
    from: Option<std::net::Ipv4Addr>,
}

struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!(
                "status {} body is not JSON: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

fn client_tls(ca: &Path) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

impl Http {
    fn new(gateway: &RunningGateway) -> Http {
        Http {
            tls: client_tls(gateway.ca_file.as_ref().expect("demo CA")),
            addr: gateway.local_addr,
            api_key: std::fs::read_to_string(&gateway.api_key_file)
                .unwrap()
                .trim()
                .to_owned(),
            from: None,
        }
    }

    /// The same client, connecting from another loopback address.
    fn from(&self, address: [u8; 4]) -> Http {
        Http {
            tls: Arc::clone(&self.tls),
            addr: self.addr,
            api_key: self.api_key.clone(),
            from: Some(address.into()),
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Reply {
        let tcp = match self.from {
            None => tokio::net::TcpStream::connect(self.addr).await.unwrap(),
            Some(from) => {
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                socket.bind((from, 0).into()).unwrap();
                socket.connect(self.addr).await.unwrap()
            }
        };
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls));
        let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        tls.write_all(head.as_bytes()).await.unwrap();
        tls.write_all(body).await.unwrap();
        let mut raw = Vec::new();
        let _ = tls.read_to_end(&mut raw).await;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a complete response head");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap();
        let headers: HashMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
            .collect();
        let mut body = raw[split + 4..].to_vec();
        if headers
            .get("transfer-encoding")
            .is_some_and(|t| t == "chunked")
        {
            body = dechunk(&body);
        }
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn bank(&self, method: &str, path: &str, body: serde_json::Value) -> Reply {
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        self.send(
            method,
            path,
            &[
                ("authorization", format!("Bearer {}", self.api_key)),
                ("content-type", "application/json".into()),
            ],
            &body,
        )
        .await
    }

    async fn form(&self, path: &str, fields: &[(&str, &str)], dpop: Option<String>) -> Reply {
        let body = serde_urlencoded_encode(fields);
        let mut headers = vec![(
            "content-type",
            "application/x-www-form-urlencoded".to_owned(),
        )];
        if let Some(proof) = dpop {
            headers.push(("dpop", proof));
        }
        self.send("POST", path, &headers, body.as_bytes()).await
    }
}

/// The `jti` of a compact JWS (signature not checked).
fn jti_of(jws: &str) -> String {
    let parsed = strongroom_core::protocol::jose::parse_jws(jws).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&parsed.payload).unwrap();
    claims["jti"].as_str().unwrap().to_owned()
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
    out
}

fn serde_urlencoded_encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let enc = |s: &str| {
                s.bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                            (b as char).to_string()
                        }
                        _ => format!("%{b:02X}"),
                    })
                    .collect::<String>()
            };
            format!("{}={}", enc(k), enc(v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn hidden_field(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[at..];
    let value = rest.find("value=\"")? + 7;
    let end = rest[value..].find('"')?;
    Some(rest[value..value + end].to_owned())
}

fn assert_problem(reply: &Reply, status: u16, what: &str) {
    assert_eq!(reply.status, status, "{what}: {}", reply.text());
    assert!(
        reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/problem+json")),
        "{what}: content type {:?}",
        reply.header("content-type")
    );
    let body = reply.json();
    for member in ["type", "title", "status", "detail"] {
        assert!(
            body.get(member).is_some(),
            "{what}: problem has {member}: {body}"
        );
    }
    assert_eq!(body["status"], status, "{what}");
}

/// A device key and its tokens.
struct Device {
    key: SigningKey,
    access: String,
    refresh: String,
    /// The customer's subject identifier, the audience of their alerts.
    audience: String,
}

struct Linker<'a> {
    http: &'a Http,
    issuer: String,
    rng: SystemRandom,
}

impl Linker<'_> {
    fn proof(
        &self,
        key: &SigningKey,
        method: &str,
        path: &str,
        token: Option<&str>,
        nonce: Option<&str>,
    ) -> String {
        make_proof(
            key,
            method,
            &format!("{}{path}", self.issuer),
            now_s(),
            token,
            nonce,
            &self.rng,
        )
        .unwrap()
    }

    async fn device_authorization(&self, key: &SigningKey) -> serde_json::Value {
        self.device_authorization_for(key, "alerts chat").await
    }

    async fn device_authorization_for(&self, key: &SigningKey, scope: &str) -> serde_json::Value {
        let reply = self
            .http
            .form(
                "/oauth/device_authorization",
                &[("client_id", "strongroom-desktop"), ("scope", scope)],
                Some(self.proof(key, "POST", "/oauth/device_authorization", None, None)),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    }

    /// Polls once, fetching a nonce first when asked.
    async fn poll(&self, key: &SigningKey, device_code: &str) -> Reply {
        let fields = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
            ("client_id", "strongroom-desktop"),
        ];
        let first = self
            .http
            .form(
                "/oauth/token",
                &fields,
                Some(self.proof(key, "POST", "/oauth/token", None, None)),
            )
            .await;
        assert_eq!(first.status, 400);
        assert_eq!(
            first.json()["error"],
            "use_dpop_nonce",
            "a nonce is required"
        );
        let nonce = first
            .header("dpop-nonce")
            .expect("a DPoP-Nonce header")
            .to_owned();
        self.http
            .form(
                "/oauth/token",
                &fields,
                Some(self.proof(key, "POST", "/oauth/token", None, Some(&nonce))),
            )
            .await
    }

    async fn approve(
        &self,
        user_code: &str,
        username: &str,
        password: &str,
        action: &str,
    ) -> Reply {
        let page = self
            .http
            .send("GET", &format!("/device?user_code={user_code}"), &[], b"")
            .await;
        assert_eq!(page.status, 200);
        let csp = page.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
        assert_eq!(page.header("cache-control"), Some("no-store"));
        let csrf = hidden_field(&page.text(), "csrf").expect("a CSRF token");
        let consent = self
            .http
            .form(
                "/device",
                &[
                    ("user_code", user_code),
                    ("username", username),
                    ("password", password),
                    ("csrf", &csrf),
                ],
                None,
            )
            .await;
        let Some(decision) = hidden_field(&consent.text(), "decision") else {
            return consent;
        };
        assert!(
            consent.text().contains("Demo Bank"),
            "the consent page names the bank"
        );
        self.http
            .form(
                "/device/decision",
                &[("decision", &decision), ("action", action)],
                None,
            )
            .await
    }

    async fn link(&self, username: &str) -> Device {
        self.link_with_scope(username, "alerts chat").await
    }

    async fn link_with_scope(&self, username: &str, scope: &str) -> Device {
        let (key, _) = SigningKey::generate("device", &self.rng).unwrap();
        let auth = self.device_authorization_for(&key, scope).await;
        let user_code = auth["user_code"].as_str().unwrap().to_owned();
        let done = self
            .approve(&user_code, username, &format!("{username}-demo"), "approve")
            .await;
        assert!(done.text().contains("approved"), "{}", done.text());
        let reply = self.poll(&key, auth["device_code"].as_str().unwrap()).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let tokens = reply.json();
        assert_eq!(tokens["token_type"], "DPoP");
        Device {
            key,
            access: tokens["access_token"].as_str().unwrap().to_owned(),
            refresh: tokens["refresh_token"].as_str().unwrap().to_owned(),
            audience: tokens["strongroom_audience"]
                .as_str()
                .expect("the token response names the alerts' audience")
                .to_owned(),
        }
    }

    async fn api(
        &self,
        device: &Device,
        key: &SigningKey,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Reply {
        let htu = path.split('?').next().unwrap_or(path);
        self.http
            .send(
                method,
                path,
                &[
                    ("authorization", format!("DPoP {}", device.access)),
                    (
                        "dpop",
                        self.proof(key, method, htu, Some(&device.access), None),
                    ),
                    ("content-type", "application/json".into()),
                ],
                body,
            )
            .await
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open_stream(linker: &Linker<'_>, device: &Device, after: u64) -> (Ws, u64) {
    let url = format!("wss://{}/v1/stream", linker.http.addr);
    let mut request = url.as_str().into_client_request().unwrap();
    let proof = linker.proof(&device.key, "GET", "/v1/stream", Some(&device.access), None);
    request.headers_mut().insert(
        "authorization",
        format!("DPoP {}", device.access).parse().unwrap(),
    );
    request.headers_mut().insert("dpop", proof.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async_tls_with_config(
        request,
        None,
        false,
        Some(tokio_tungstenite::Connector::Rustls(Arc::clone(
            &linker.http.tls,
        ))),
    )
    .await
    .expect("the stream opens");
    let hello = next_frame(&mut ws).await;
    let ServerFrame::Hello { acked } = hello else {
        panic!("hello first, got {hello:?}")
    };
    ws.send(Message::text(encode(&ClientFrame::Resume { after })))
        .await
        .unwrap();
    (ws, acked)
}

async fn next_frame(ws: &mut Ws) -> ServerFrame {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("the stream is open")
            .expect("a valid message");
        if let Message::Text(text) = message {
            return decode_server_frame(text.as_bytes()).expect("a valid server frame");
        }
    }
}

async fn next_event(ws: &mut Ws) -> (u64, DeviceEvent) {
    match next_frame(ws).await {
        ServerFrame::Event { seq, event } => (seq, event),
        other => panic!("expected an event, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_stream_signed_alerts_fraud_answers_rotation_and_revocation() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    let line = gateway.ready_line();
    assert!(
        line.starts_with("strongroom-gateway ready issuer=https://127.0.0.1:"),
        "{line}"
    );
    assert!(
        line.contains(" ca=/") && line.contains(" api_key_file=/"),
        "{line}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert!(
            !dir.path().join("demo-ca-key.pem").exists(),
            "the demo CA key is never written"
        );
        for file in ["bank-api-key", "demo-server-key.pem"]
            .iter()
            .chain(database_files())
        {
            let mode = std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file} is private");
        }
    }
    let http = Http::new(&gateway);
    let linker = Linker {
        http: &http,
        issuer: gateway.issuer.clone(),
        rng: SystemRandom::new(),
    };
    let metadata = http
        .send("GET", "/.well-known/oauth-authorization-server", &[], b"")
        .await
        .json();
    assert_eq!(metadata["issuer"], gateway.issuer);
    assert_eq!(
        metadata["strongroom_api_base"],
        format!("{}/v1", gateway.issuer)
    );
    assert_eq!(
        metadata["strongroom_stream_endpoint"],
        format!("wss://{}/v1/stream", gateway.local_addr)
    );
    let jwks: JwkSet =
        serde_json::from_slice(&http.send("GET", "/oauth/jwks", &[], b"").await.body).unwrap();
    // Pending, then polling again at once: slow down.
    let (slow_key, _) = SigningKey::generate("slow", &linker.rng).unwrap();
    let auth = linker.device_authorization(&slow_key).await;
    let code = auth["user_code"].as_str().unwrap();
    assert_eq!(code.len(), 9);
    assert!(
        code.chars()
            .all(|c| c == '-' || "BCDFGHJKLMNPQRSTVWXZ".contains(c)),
        "{code}"
    );
    assert_eq!(
        auth["verification_uri"],
        format!("{}/device", gateway.issuer)
    );
    assert_eq!(auth["interval"], 5);
    let device_code = auth["device_code"].as_str().unwrap();
    assert_eq!(
        linker.poll(&slow_key, device_code).await.json()["error"],
        "authorization_pending"
    );
    assert_eq!(
        linker.poll(&slow_key, device_code).await.json()["error"],
        "slow_down"
    );
    // A wrong password never reaches the consent page; a denial is final.
    let wrong = linker
        .approve(code, "alice", "not-her-password", "approve")
        .await;
    assert_eq!(wrong.status, 401);
    assert!(hidden_field(&wrong.text(), "decision").is_none());
    let denied = linker.approve(code, "alice", "alice-demo", "deny").await;
    assert!(denied.text().contains("denied"), "{}", denied.text());

    let phone = linker.link("alice").await;
    let mut verifier = AlertVerifier::new(
        PinnedKeys::pin(&gateway.issuer, &phone.audience, jwks.keys.clone()).unwrap(),
        TimePolicy::default(),
    );
    let (mut ws, acked) = open_stream(&linker, &phone, 0).await;
    assert_eq!(acked, 0);
    let (seq, event) = next_event(&mut ws).await;
    assert_eq!(seq, 1);
    assert!(matches!(event, DeviceEvent::Flags { .. }), "{event:?}");

    // A second device: the first hears of it in a signed alert.
    let laptop = linker.link("alice").await;
    assert_eq!(
        laptop.audience, phone.audience,
        "every device of a customer hears the customer's audience"
    );
    let (seq, event) = next_event(&mut ws).await;
    let DeviceEvent::Alert { jws } = event else {
        panic!("{event:?}")
    };
    assert_eq!(seq, 2);
    assert_eq!(
        verifier.verify(&jws, now_s()).unwrap().kind,
        AlertKind::NewDeviceSignIn
    );

    // The rules: a suspicious purchase is one fraud check, signed.
    let reply = http
        .bank(
            "POST",
            "/bank/v1/transactions",
            serde_json::json!({"customer": "alice", "account_ref": "****4321", "amount_minor": 12999,
                "currency": "EUR", "merchant": "Électro Dépôt", "country": "FR",
                "card_present": false, "status": "approved"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let alerts = reply.json()["alerts"].clone();
    assert_eq!(alerts.as_array().unwrap().len(), 1, "{alerts}");
    assert_eq!(alerts[0]["kind"], "fraud_check");
    let alert_id = alerts[0]["id"].as_str().unwrap().to_owned();
    let (seq, event) = next_event(&mut ws).await;
    let DeviceEvent::Alert { jws } = event else {
        panic!("{event:?}")
    };
    let alert = verifier
        .verify(&jws, now_s())
        .expect("the alert verifies with the pinned keys");
    assert_eq!(
        (alert.id.as_str(), alert.kind),
        (alert_id.as_str(), AlertKind::FraudCheck)
    );
    assert_eq!(
        alert.event.text,
        "Did you spend 129.99 EUR at Électro Dépôt?"
    );
    ws.send(Message::text(encode(&ClientFrame::Ack { seq })))
        .await
        .unwrap();

    // Delivery status: acknowledged by the phone, not yet by the laptop.
    let mut acked_by_phone = false;
    for _ in 0..50 {
        let d = http
            .bank(
                "GET",
                &format!("/bank/v1/deliveries?alert_id={alert_id}"),
                serde_json::Value::Null,
            )
            .await
            .json();
        let rows = d["deliveries"].as_array().unwrap().clone();
        assert_eq!(rows.len(), 2, "{d}");
        if rows.iter().any(|r| r["acked"] == true) {
            assert_eq!(rows.iter().filter(|r| r["acked"] == true).count(), 1, "{d}");
            acked_by_phone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(acked_by_phone, "the ack was recorded");

    // Fraud answer: bound to the alert, idempotent, a change is a conflict.
    let answer = |a: &str| format!(r#"{{"alert_id":"{alert_id}","answer":"{a}","answered_at":1}}"#);
    let r = linker
        .api(
            &phone,
            &phone.key,
            "POST",
            "/v1/fraud-answers",
            answer("not_me").as_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = linker
        .api(
            &phone,
            &phone.key,
            "POST",
            "/v1/fraud-answers",
            answer("not_me").as_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "the same answer again");
    let r = linker
        .api(
            &phone,
            &phone.key,
            "POST",
            "/v1/fraud-answers",
            answer("me").as_bytes(),
        )
        .await;
    assert_problem(&r, 409, "a different answer");
    let r = linker
        .api(
            &phone,
            &phone.key,
            "POST",
            "/v1/fraud-answers",
            br#"{"alert_id":"nope","answer":"me","answered_at":1}"#,
        )
        .await;
    assert_problem(&r, 404, "an alert never sent");
    let answers = http
        .bank(
            "GET",
            "/bank/v1/fraud-answers?customer=alice",
            serde_json::Value::Null,
        )
        .await
        .json();
    assert_eq!(answers["answers"][0]["answer"], "not_me");
    assert_eq!(
        answers["answers"][0]["device_jkt"],
        phone.key.jwk().thumbprint()
    );

    // Bob's device cannot answer Alice's fraud check.
    let bobs = linker.link("bob").await;
    let r = linker
        .api(
            &bobs,
            &bobs.key,
            "POST",
            "/v1/fraud-answers",
            answer("me").as_bytes(),
        )
        .await;
    assert_problem(&r, 404, "another customer's alert");

    // A token with a proof from another key, and a replayed proof: refused.
    let r = linker
        .api(&phone, &laptop.key, "GET", "/v1/history?limit=5", b"")
        .await;
    assert_problem(&r, 401, "another key's proof");
    assert!(
        r.header("www-authenticate")
            .is_some_and(|w| w.starts_with("DPoP"))
    );
    let proof = linker.proof(&phone.key, "GET", "/v1/history", Some(&phone.access), None);
    let headers = [
        ("authorization", format!("DPoP {}", phone.access)),
        ("dpop", proof),
    ];
    assert_eq!(
        http.send("GET", "/v1/history", &headers, b"").await.status,
        200
    );
    assert_problem(
        &http.send("GET", "/v1/history", &headers, b"").await,
        401,
        "a replayed proof",
    );

    // History: the customer's alerts, newest first, in pages.
    let history = linker
        .api(&phone, &phone.key, "GET", "/v1/history?limit=1", b"")
        .await
        .json();
    let events = history["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{history}");
    assert_eq!(events[0]["event"]["type"], "alert", "{history}");
    assert_eq!(
        jti_of(events[0]["event"]["jws"].as_str().unwrap()),
        alert_id,
        "the newest first: {history}"
    );
    let cursor = history["next"].as_str().expect("a next page").to_owned();
    let older = linker
        .api(
            &phone,
            &phone.key,
            "GET",
            &format!("/v1/history?limit=200&cursor={cursor}"),
            b"",
        )
        .await
        .json();
    assert_eq!(older["events"].as_array().unwrap().len(), 1, "{older}");
    assert!(older["next"].is_null(), "{older}");
    assert_problem(
        &linker
            .api(&phone, &phone.key, "GET", "/v1/history?cursor=junk", b"")
            .await,
        400,
        "a cursor history never gave",
    );

    // Proofs from strangers, or for a token bound to another key, are not
    // remembered: only an authenticated proof's id enters the cache.
    let remembered = gateway.remembered_proofs();
    for _ in 0..5 {
        let (stranger, _) = SigningKey::generate("x", &linker.rng).unwrap();
        let r = http
            .send(
                "GET",
                "/v1/history",
                &[
                    ("authorization", "DPoP not-a-token".to_owned()),
                    (
                        "dpop",
                        linker.proof(&stranger, "GET", "/v1/history", Some("not-a-token"), None),
                    ),
                ],
                b"",
            )
            .await;
        assert_problem(&r, 401, "an unknown token");
        let r = linker
            .api(&phone, &laptop.key, "GET", "/v1/history", b"")
            .await;
        assert_problem(&r, 401, "another key's proof");
    }
    assert_eq!(gateway.remembered_proofs(), remembered);

    // Chat: idempotent per client id; accepted on the stream.
    let chat = br#"{"client_id":"c-1","body":"Hello bank","sent_at":1}"#;
    let first = linker
        .api(&phone, &phone.key, "POST", "/v1/chat", chat)
        .await;
    assert_eq!(first.status, 202, "{}", first.text());
    let again = linker
        .api(&phone, &phone.key, "POST", "/v1/chat", chat)
        .await;
    assert_eq!(
        again.json()["bank_message_id"],
        first.json()["bank_message_id"]
    );
    let (_, event) = next_event(&mut ws).await;
    assert!(
        matches!(event, DeviceEvent::ChatAccepted { ref client_id, .. } if client_id == "c-1"),
        "{event:?}"
    );
    let convo = http
        .bank(
            "GET",
            "/bank/v1/chat?customer=alice",
            serde_json::Value::Null,
        )
        .await
        .json();
    assert_eq!(
        convo["messages"].as_array().unwrap().len(),
        1,
        "stored once: {convo}"
    );

    // Key rotation: a statement signed by the pinned key, then alerts under the new key.
    let rotated = http
        .bank("POST", "/bank/v1/keys/rotate", serde_json::Value::Null)
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    let (_, event) = next_event(&mut ws).await;
    let DeviceEvent::KeyRotation { jws } = event else {
        panic!("{event:?}")
    };
    let pinned = verifier
        .pinned()
        .rotate(&jws, now_s(), TimePolicy::default())
        .expect("the rotation verifies");
    assert_eq!(pinned.version, 1);
    verifier.set_pinned(pinned);
    let r = http
        .bank("POST", "/bank/v1/alerts", serde_json::json!({"customer": "alice", "kind": "payment_due", "severity": "info", "text": "Card bill due"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let (_, event) = next_event(&mut ws).await;
    let DeviceEvent::Alert { jws } = event else {
        panic!("{event:?}")
    };
    let alert = verifier
        .verify(&jws, now_s())
        .expect("signed with the new key");
    assert_eq!(alert.key_id, "k2");

    // Revoking the refresh token closes the stream and kills the tokens.
    let r = http
        .form(
            "/oauth/revoke",
            &[
                ("token", &phone.refresh),
                ("token_type_hint", "refresh_token"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the stream closes");
    assert_eq!(closed, Some(1008));
    let r = linker
        .api(&phone, &phone.key, "GET", "/v1/history", b"")
        .await;
    assert_problem(&r, 401, "a revoked token");
    let other = linker
        .api(&laptop, &laptop.key, "GET", "/v1/history", b"")
        .await;
    assert_eq!(other.status, 200, "the other device's grant is untouched");

    // A restart on the same data keeps the key, the devices and their events.
    let addr = gateway.local_addr.to_string();
    let issuer = gateway.issuer.clone();
    gateway.shutdown().await;
    let gateway = start(dir.path(), &addr, 1000.0).await;
    assert_eq!(gateway.issuer, issuer);
    let http = Http::new(&gateway);
    assert_eq!(
        http.api_key, linker.http.api_key,
        "the bank API key is kept"
    );
    let linker = Linker {
        http: &http,
        issuer,
        rng: SystemRandom::new(),
    };
    let history = linker
        .api(&laptop, &laptop.key, "GET", "/v1/history?limit=200", b"")
        .await
        .json();
    assert!(
        history["events"].as_array().unwrap().len() >= 3,
        "{history}"
    );
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_problem_details_and_floods_get_429() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 2.0).await;
    let http = Http::new(&gateway);
    assert_problem(
        &http.send("GET", "/no/such/route", &[], b"").await,
        404,
        "unknown route",
    );
    let r = http.send("DELETE", "/oauth/token", &[], b"").await;
    assert_problem(&r, 405, "wrong method");
    assert_problem(
        &http.send("POST", "/bank/v1/transactions", &[], b"{}").await,
        401,
        "no bank API key",
    );
    assert_problem(
        &http.send("GET", "/v1/history", &[], b"").await,
        401,
        "no access token",
    );
    assert_problem(
        &http
            .bank(
                "POST",
                "/bank/v1/alerts",
                serde_json::json!("x".repeat(70 * 1024)),
            )
            .await,
        413,
        "over 64 KiB",
    );
    let malformed = http
        .send(
            "POST",
            "/bank/v1/transactions",
            &[("authorization", format!("Bearer {}", http.api_key))],
            b"{not json",
        )
        .await;
    assert_problem(&malformed, 422, "malformed JSON");
    let unknown = http
        .bank("POST", "/bank/v1/transactions", serde_json::json!({"customer": "nobody", "account_ref": "x",
            "amount_minor": 1, "currency": "EUR", "merchant": "m", "country": "FR", "card_present": true,
            "status": "approved"}))
        .await;
    assert_problem(&unknown, 404, "unknown customer");
    let long_chat = http
        .bank(
            "POST",
            "/bank/v1/chat",
            serde_json::json!({"customer": "alice", "author": "Ana", "body": "x".repeat(5000)}),
        )
        .await;
    assert_problem(&long_chat, 413, "chat over 4 KiB");
    // Every alert field is bounded and well-formed: nothing can make a JWS
    // or a frame a device would refuse forever.
    let tx = |field: &str, value: serde_json::Value| {
        let mut body = serde_json::json!({"customer": "alice", "account_ref": "****4321",
            "amount_minor": 12999, "currency": "EUR", "merchant": "Shop", "country": "FR",
            "card_present": true, "status": "approved"});
        body[field] = value;
        body
    };
    for (field, value) in [
        ("merchant", serde_json::json!("m".repeat(60 * 1024))),
        ("merchant", serde_json::json!("m".repeat(129))),
        ("merchant", serde_json::json!(" ")),
        ("account_ref", serde_json::json!("a".repeat(129))),
        ("currency", serde_json::json!("eur")),
        ("currency", serde_json::json!("EURO")),
        ("country", serde_json::json!("FRA")),
        ("country", serde_json::json!("fr")),
        ("amount_minor", serde_json::json!(i64::MAX)),
        ("amount_minor", serde_json::json!(-1)),
        ("balance_after_minor", serde_json::json!(i64::MIN)),
    ] {
        let r = http
            .bank("POST", "/bank/v1/transactions", tx(field, value))
            .await;
        assert_problem(&r, 422, &format!("transaction {field}"));
    }
    let ok = http
        .bank(
            "POST",
            "/bank/v1/transactions",
            tx("merchant", serde_json::json!("m".repeat(128))),
        )
        .await;
    assert_eq!(ok.status, 201, "128 bytes is allowed: {}", ok.text());
    let alert = |field: &str, value: serde_json::Value| {
        let mut body = serde_json::json!({"customer": "alice", "kind": "custom",
            "severity": "info", "text": "Hello"});
        body[field] = value;
        body
    };
    for (field, value) in [
        ("text", serde_json::json!("t".repeat(1025))),
        ("text", serde_json::json!("")),
        ("merchant", serde_json::json!("m".repeat(60 * 1024))),
        ("account_ref", serde_json::json!("a".repeat(129))),
        ("currency", serde_json::json!("E1R")),
        ("country", serde_json::json!("F")),
        ("amount_minor", serde_json::json!(i64::MIN)),
        ("respond_by", serde_json::json!(-5)),
    ] {
        let r = http
            .bank("POST", "/bank/v1/alerts", alert(field, value))
            .await;
        assert_problem(&r, 422, &format!("custom alert {field}"));
    }
    for jws in [
        "a.b".to_owned(),
        "a.b.c.d".to_owned(),
        "a..c".to_owned(),
        "a.b.c!".to_owned(),
        "eyJhbGciOiJFUzI1NiJ9.e30.c2ln".to_owned() + &"A".repeat(17 * 1024),
    ] {
        let r = http
            .bank(
                "POST",
                "/bank/v1/signed-alerts",
                serde_json::json!({"customer": "alice", "jws": jws}),
            )
            .await;
        assert_problem(&r, 422, "a signed alert devices would refuse");
    }
    let r = http
        .bank(
            "POST",
            "/bank/v1/chat",
            serde_json::json!({"customer": "alice", "author": "A".repeat(129), "body": "hi"}),
        )
        .await;
    assert_problem(&r, 422, "a staff author over 128 bytes");
    // The merged pilot-feature set is bounded too (it goes whole in every
    // flags event).
    for round in 0..2 {
        let flags: serde_json::Map<String, serde_json::Value> = (0..40)
            .map(|i| (format!("f{round}-{i}"), serde_json::Value::Bool(true)))
            .collect();
        let r = http
            .bank(
                "POST",
                "/bank/v1/flags",
                serde_json::json!({"customer": "alice", "flags": flags}),
            )
            .await;
        if round == 0 {
            assert_eq!(r.status, 200, "{}", r.text());
        } else {
            assert_problem(&r, 422, "more than 64 pilot features");
        }
    }
    // The OAuth endpoints speak RFC 6749 errors...
    let r = http
        .form("/oauth/token", &[("grant_type", "password")], None)
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "unsupported_grant_type");
    // ...and past the rate, 429 with Retry-After (the bank API is exempt).
    let mut limited = None;
    for _ in 0..20 {
        let r = http
            .form("/oauth/device_authorization", &[("client_id", "x")], None)
            .await;
        if r.status == 429 {
            limited = Some(r);
            break;
        }
    }
    let limited = limited.expect("the flood is limited");
    assert_problem(&limited, 429, "flood");
    // The messaging API shares the per-IP limit: unauthenticated requests
    // are refused before any proof is checked.
    assert_problem(
        &http.send("GET", "/v1/history", &[], b"").await,
        429,
        "the messaging API is limited per IP too",
    );
    assert!(
        limited
            .header("retry-after")
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|s| s >= 1)
    );
    for _ in 0..10 {
        let r = http
            .bank(
                "GET",
                "/bank/v1/chat?customer=alice",
                serde_json::Value::Null,
            )
            .await;
        assert_eq!(r.status, 200, "the bank API is not limited");
    }
    gateway.shutdown().await;
}

async fn close_code(ws: &mut Ws, within: Duration) -> Option<u16> {
    tokio::time::timeout(within, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the stream closes in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_pinged_silent_ones_closed_and_none_outlives_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start_with(dir.path(), "127.0.0.1:0", 1000.0, |c| {
        c.stream_ping_interval = Duration::from_millis(500);
        c.stream_idle_timeout = Duration::from_secs(2);
        c.access_token_ttl = 6;
    })
    .await;
    let http = Http::new(&gateway);
    let linker = Linker {
        http: &http,
        issuer: gateway.issuer.clone(),
        rng: SystemRandom::new(),
    };

    // A device that answers pings stays connected past the idle timeout,
    // until its token expires: then 4401 "token expired".
    let phone = linker.link("alice").await;
    let opened = std::time::Instant::now();
    let (mut ws, _) = open_stream(&linker, &phone, 0).await;
    let mut pings = 0;
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Ping(_))) => pings += 1,
                Some(Ok(Message::Close(frame))) => {
                    return frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                }
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the stream ends with its token");
    assert_eq!(closed, Some((4401, "token expired".to_owned())));
    assert!(pings >= 3, "pinged every 500 ms: {pings}");
    assert!(
        opened.elapsed() > Duration::from_secs(3),
        "kept open past the idle timeout while answering pings: {:?}",
        opened.elapsed()
    );

    // A device that sends nothing (not reading, so not answering pings) is
    // closed after the idle timeout.
    let laptop = linker.link("alice").await;
    let (mut ws, _) = open_stream(&linker, &laptop, 0).await;
    ws.flush().await.unwrap();
    assert_eq!(gateway.open_streams(), 1);
    // Unread, its pings are never answered; the gateway gives up on it.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(gateway.open_streams(), 0, "the silent stream was closed");
    drop(ws);
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_follows_the_granted_scope_and_history_serves_new_devices() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    let http = Http::new(&gateway);
    let linker = Linker {
        http: &http,
        issuer: gateway.issuer.clone(),
        rng: SystemRandom::new(),
    };
    // Earlier traffic, before any device of Bob's exists.
    let r = http
        .bank("POST", "/bank/v1/alerts", serde_json::json!({"customer": "bob", "kind": "payment_due", "severity": "info", "text": "Bill due"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let early_alert = r.json()["id"].as_str().unwrap().to_owned();
    let r = http
        .bank(
            "POST",
            "/bank/v1/chat",
            serde_json::json!({"customer": "bob", "author": "Ana", "body": "Welcome"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());

    let alerts_only = linker.link_with_scope("bob", "alerts").await;
    let chat_only = linker.link_with_scope("bob", "chat").await;
    let both = linker.link("bob").await;

    // History for a brand-new device: the customer's earlier alerts and
    // chat, newest first, as far as its scope reaches.
    let kinds = |h: &serde_json::Value| -> Vec<String> {
        h["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"]["type"].as_str().unwrap().to_owned())
            .collect()
    };
    let h = linker
        .api(&both, &both.key, "GET", "/v1/history", b"")
        .await
        .json();
    // Bob's alerts: the payment reminder, then a new-device alert for each
    // of the second and third links; the chat came after the reminder.
    assert_eq!(kinds(&h), ["alert", "alert", "chat", "alert"], "{h}");
    assert_eq!(h["events"][2]["event"]["message"]["body"], "Welcome");
    assert_eq!(h["events"][2]["event"]["message"]["from"], "staff");
    assert_eq!(
        jti_of(h["events"][3]["event"]["jws"].as_str().unwrap()),
        early_alert
    );
    let at: Vec<i64> = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["at"].as_i64().unwrap())
        .collect();
    assert!(at.windows(2).all(|w| w[0] >= w[1]), "newest first: {at:?}");
    let h = linker
        .api(&alerts_only, &alerts_only.key, "GET", "/v1/history", b"")
        .await
        .json();
    assert_eq!(kinds(&h), ["alert", "alert", "alert"], "{h}");
    let h = linker
        .api(&chat_only, &chat_only.key, "GET", "/v1/history", b"")
        .await
        .json();
    assert_eq!(kinds(&h), ["chat"], "{h}");
    // Walking the pages one by one visits every item once.
    let mut cursor: Option<String> = None;
    let mut walked = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/history?limit=1&cursor={c}"),
            None => "/v1/history?limit=1".to_owned(),
        };
        let page = linker.api(&both, &both.key, "GET", &path, b"").await.json();
        walked += page["events"].as_array().unwrap().len();
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(walked, 4);

    // Live delivery follows the scope too, and so does sending chat.
    let (mut a_ws, _) = open_stream(&linker, &alerts_only, 0).await;
    let (mut c_ws, _) = open_stream(&linker, &chat_only, 0).await;
    let r = http
        .bank(
            "POST",
            "/bank/v1/chat",
            serde_json::json!({"customer": "bob", "author": "Ana", "body": "Anything else?"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = http
        .bank("POST", "/bank/v1/alerts", serde_json::json!({"customer": "bob", "kind": "custom", "severity": "info", "text": "Later"}))
        .await;
    assert_eq!(r.status, 201);
    let later = r.json()["id"].as_str().unwrap().to_owned();
    let mut seen = Vec::new();
    loop {
        let (_, event) = next_event(&mut a_ws).await;
        assert!(
            !matches!(
                event,
                DeviceEvent::Chat { .. } | DeviceEvent::ChatAccepted { .. }
            ),
            "{event:?}"
        );
        if let DeviceEvent::Alert { jws } = &event
            && jti_of(jws) == later
        {
            break;
        }
        seen.push(event);
    }
    loop {
        let (_, event) = next_event(&mut c_ws).await;
        assert!(
            matches!(event, DeviceEvent::Chat { .. }),
            "only chat: {event:?}"
        );
        if let DeviceEvent::Chat { message } = &event
            && message.body == "Anything else?"
        {
            break;
        }
    }
    let r = linker
        .api(
            &alerts_only,
            &alerts_only.key,
            "POST",
            "/v1/chat",
            br#"{"client_id":"c","body":"hi","sent_at":1}"#,
        )
        .await;
    assert_problem(&r, 403, "chat without the chat scope");
    let r = linker
        .api(
            &chat_only,
            &chat_only.key,
            "POST",
            "/v1/chat",
            br#"{"client_id":"c","body":"hi","sent_at":1}"#,
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text());

    // `resume` past the last event is clamped: the next event still comes,
    // and acknowledging a number that does not exist closes with 1008.
    drop(a_ws);
    let (mut ws, _) = open_stream(&linker, &alerts_only, 1_000_000).await;
    let r = http
        .bank("POST", "/bank/v1/alerts", serde_json::json!({"customer": "bob", "kind": "custom", "severity": "info", "text": "After resume"}))
        .await;
    assert_eq!(r.status, 201);
    let newest = r.json()["id"].as_str().unwrap().to_owned();
    let (seq, event) = next_event(&mut ws).await;
    let DeviceEvent::Alert { jws } = event else {
        panic!("{event:?}")
    };
    assert_eq!(jti_of(&jws), newest);
    ws.send(Message::text(encode(&ClientFrame::Ack { seq: seq + 1000 })))
        .await
        .unwrap();
    assert_eq!(
        close_code(&mut ws, Duration::from_secs(5)).await,
        Some(1008)
    );
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_sign_ins_cannot_pass_the_per_username_limit() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    let http = Http::new(&gateway);
    let mut forms = Vec::new();
    for _ in 0..12 {
        let page = http.send("GET", "/device", &[], b"").await;
        forms.push(hidden_field(&page.text(), "csrf").unwrap());
    }
    let attempts = forms.iter().map(|csrf| async {
        http.form(
            "/device",
            &[
                ("user_code", "BCDF-GHJK"),
                ("username", "bob"),
                ("password", "not-bobs-password"),
                ("csrf", csrf),
            ],
            None,
        )
        .await
    });
    let replies = futures_util::future::join_all(attempts).await;
    let checked = replies.iter().filter(|r| r.status == 401).count();
    let refused = replies.iter().filter(|r| r.status == 429).count();
    assert!(
        checked <= strongroom_gateway::limits::FREE_FAILURES,
        "at most three wrong passwords from one source are checked before delays: {checked}"
    );
    assert_eq!(checked + refused, 12);
    // The guessing source waits, told how long.
    let page = http.send("GET", "/device", &[], b"").await;
    let csrf = hidden_field(&page.text(), "csrf").unwrap();
    let right = [
        ("user_code", "BCDF-GHJK"),
        ("username", "bob"),
        ("password", "bob-demo"),
        ("csrf", csrf.as_str()),
    ];
    if checked == strongroom_gateway::limits::FREE_FAILURES {
        let r = http.form("/device", &right, None).await;
        assert_eq!(r.status, 429, "{}", r.text());
        assert!(r.header("retry-after").is_some());
    }
    // Attack (adversarial review, finding 7): five wrong passwords locked
    // the real customer out for 15 minutes. From her own address she signs
    // in (and reaches the code check: this code does not exist).
    let owner = http.from([127, 0, 0, 2]);
    let page = owner.send("GET", "/device", &[], b"").await;
    let csrf = hidden_field(&page.text(), "csrf").unwrap();
    let r = owner
        .form(
            "/device",
            &[
                ("user_code", "BCDF-GHJK"),
                ("username", "bob"),
                ("password", "bob-demo"),
                ("csrf", &csrf),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("code is not right"), "{}", r.text());
    gateway.shutdown().await;
}

/// Attack (adversarial review, finding 7): after a valid sign-in, wrong
/// user codes were never counted, so a customer (or a stolen password)
/// could guess other people's pending codes.
#[tokio::test]
async fn wrong_user_codes_are_limited_even_after_a_valid_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    let http = Http::new(&gateway);
    let linker = Linker {
        http: &http,
        issuer: gateway.issuer.clone(),
        rng: SystemRandom::new(),
    };
    let guesses = [
        "BCDF-GHJK",
        "BCDF-GHJL",
        "BCDF-GHJM",
        "BCDF-GHJN",
        "BCDF-GHJP",
    ];
    for guess in guesses {
        let r = linker.approve(guess, "bob", "bob-demo", "approve").await;
        assert_eq!(r.status, 400, "{}", r.text());
    }
    // The sixth guess is refused before it is looked up, even a right one.
    let (key, _) = SigningKey::generate("device", &linker.rng).unwrap();
    let auth = linker.device_authorization(&key).await;
    let real = auth["user_code"].as_str().unwrap();
    let r = linker.approve(real, "bob", "bob-demo", "approve").await;
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(r.text().contains("Too many wrong codes"), "{}", r.text());
    // Someone trying passwords with a code they saw spends that code.
    let (key, _) = SigningKey::generate("device", &linker.rng).unwrap();
    let auth = linker.device_authorization(&key).await;
    let seen = auth["user_code"].as_str().unwrap();
    for i in 0..strongroom_gateway::limits::MAX_CODE_FAILURES {
        let owner = http.from([127, 0, 1, u8::try_from(i).unwrap() + 1]);
        let guesser = Linker {
            http: &owner,
            issuer: gateway.issuer.clone(),
            rng: SystemRandom::new(),
        };
        let r = guesser
            .approve(seen, "alice", "not-alices", "approve")
            .await;
        assert_eq!(r.status, 401, "{}", r.text());
    }
    let elsewhere = http.from([127, 0, 2, 1]);
    let alice = Linker {
        http: &elsewhere,
        issuer: gateway.issuer.clone(),
        rng: SystemRandom::new(),
    };
    let r = alice.approve(seen, "alice", "alice-demo", "approve").await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains("tried with wrong passwords"),
        "{}",
        r.text()
    );
    gateway.shutdown().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_private_on_start_and_the_demo_ca_is_constrained() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let gateway = start(&data, "127.0.0.1:0", 1000.0).await;
    let ca = std::fs::read(gateway.ca_file.as_ref().unwrap()).unwrap();
    gateway.shutdown().await;
    // An older layout: world-readable files and a stored CA key.
    for file in ["bank-api-key", "demo-server-key.pem"]
        .iter()
        .chain(database_files())
    {
        std::fs::set_permissions(data.join(file), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::write(data.join("demo-ca-key.pem"), "old").unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let gateway = start(&data, "127.0.0.1:0", 1000.0).await;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data directory");
    for file in [
        "gateway.db",
        "gateway.db-wal",
        "gateway.db-shm",
        "bank-api-key",
        "demo-server-key.pem",
    ] {
        let path = data.join(file);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{file}");
        } else {
            assert!(
                file.ends_with("-wal") || file.ends_with("-shm"),
                "{file} exists"
            );
        }
    }
    assert!(
        !data.join("demo-ca-key.pem").exists(),
        "the old CA key is removed"
    );
    // The CA is reused (its key is gone, so it could not make another
    // certificate) and carries name constraints (id-ce-nameConstraints,
    // 2.5.29.30).
    assert_eq!(
        std::fs::read(gateway.ca_file.as_ref().unwrap()).unwrap(),
        ca
    );
    let der = rustls_pki_types::CertificateDer::from_pem_slice(&ca).unwrap();
    assert!(
        der.windows(5).any(|w| w == [0x06, 0x03, 0x55, 0x1d, 0x1e]),
        "the demo CA has name constraints"
    );
    // And the server certificate still verifies under them.
    let http = Http::new(&gateway);
    assert_eq!(http.send("GET", "/oauth/jwks", &[], b"").await.status, 200);
    gateway.shutdown().await;
}

/// Signs a staff member in through the console's form; returns the
/// session cookie (`__Host-console=...`).
async fn console_sign_in(http: &Http, username: &str, password: &str) -> Reply {
    let page = http.send("GET", "/console", &[], b"").await;
    assert_eq!(page.status, 200);
    let csrf = hidden_field(&page.text(), "csrf").expect("a form token");
    http.form(
        "/console/sign-in",
        &[
            ("username", username),
            ("password", password),
            ("csrf", &csrf),
        ],
        None,
    )
    .await
}

fn session_cookie(reply: &Reply) -> String {
    let set = reply.header("set-cookie").expect("a session cookie");
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(set.contains(attribute), "{attribute} missing from {set}");
    }
    set.split(';').next().unwrap().to_owned()
}

async fn console_get(http: &Http, path: &str, cookie: &str) -> Reply {
    http.send("GET", path, &[("cookie", cookie.to_owned())], b"")
        .await
}

async fn console_post(http: &Http, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Reply {
    let body = serde_urlencoded_encode(fields);
    http.send(
        "POST",
        path,
        &[
            ("cookie", cookie.to_owned()),
            (
                "content-type",
                "application/x-www-form-urlencoded".to_owned(),
            ),
        ],
        body.as_bytes(),
    )
    .await
}

/// The id of the first alert waiting on the console's approvals page.
fn pending_approval_id(approvals_page: &str) -> String {
    approvals_page
        .split("action=\"/console/approvals/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a pending alert's form")
        .to_owned()
}

/// Approves or refuses (`action`) a pending alert as the session `cookie`.
async fn decide_approval(http: &Http, cookie: &str, id: &str, action: &str, csrf: &str) -> Reply {
    console_post(
        http,
        &format!("/console/approvals/{id}"),
        cookie,
        &[("action", action), ("csrf", csrf)],
    )
    .await
}

#[tokio::test]
async fn the_agent_console_signs_in_answers_resolves_and_audits() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    let http = Http::new(&gateway);
    let linker = Linker {
        http: &http,
        issuer: gateway.issuer.clone(),
        rng: SystemRandom::new(),
    };
    // Staff accounts come from the administration command (the demo made
    // two of its own first).
    // With PostgreSQL the command is pointed at the same database; it runs
    // off the async runtime, as it does from the command line.
    let place = match postgres_database(dir.path()).await {
        Some(strongroom_gateway::db::Database::Postgres(url)) => ["--database".to_owned(), url],
        _ => ["--data-dir".to_owned(), dir.path().display().to_string()],
    };
    for (username, name, role) in [
        ("silva", "Ana Silva", "agent"),
        ("root", "Rui Admin", "admin"),
    ] {
        let args: Vec<String> = [
            "add",
            "--username",
            username,
            "--name",
            name,
            "--role",
            role,
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(place.iter().cloned())
        .collect();
        tokio::task::spawn_blocking(move || {
            strongroom_gateway::staff::command(&args, &mut &b"correct horse battery staple\n"[..])
        })
        .await
        .unwrap()
        .unwrap();
    }
    // A customer writes from the app; the body is a script-injection attempt.
    let phone = linker.link("alice").await;
    let payload = "Is my card blocked? <script>alert(1)</script>";
    let chat = serde_json::json!({"client_id": "c-1", "body": payload, "sent_at": 1}).to_string();
    let r = linker
        .api(&phone, &phone.key, "POST", "/v1/chat", chat.as_bytes())
        .await;
    assert_eq!(r.status, 202, "{}", r.text());

    // Wrong passwords and replayed forms are refused.
    let refused = console_sign_in(&http, "silva", "not the password at all").await;
    assert_eq!(refused.status, 401);
    assert!(refused.header("set-cookie").is_none());
    let replay = http
        .form(
            "/console/sign-in",
            &[
                ("username", "silva"),
                ("password", "correct horse battery staple"),
                ("csrf", "made-up"),
            ],
            None,
        )
        .await;
    assert_eq!(replay.status, 400);

    let signed_in = console_sign_in(&http, "silva", "correct horse battery staple").await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.text());
    let ana = session_cookie(&signed_in);

    // The queue: Alice is waiting.
    let queue = console_get(&http, "/console", &ana).await;
    let html = queue.text();
    assert!(html.contains("data-customer=\"alice\""), "{html}");
    assert!(html.contains("waiting"));
    assert_eq!(
        queue.header("content-security-policy"),
        Some(
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
    );
    let href = html
        .split("href=\"/console/c/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to the conversation");
    let conversation = format!("/console/c/{href}");
    let page = console_get(&http, &conversation, &ana).await;
    let html = page.text();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script>"),
        "a customer's text is shown as text"
    );
    let csrf = hidden_field(&html, "csrf").expect("the session's form token");

    // A reply without the session's token is refused; with it, it reaches
    // the customer's device.
    let forged = console_post(
        &http,
        &format!("{conversation}/reply"),
        &ana,
        &[("body", "forged"), ("csrf", "not-it")],
    )
    .await;
    assert_eq!(forged.status, 403);
    let sent = console_post(
        &http,
        &format!("{conversation}/reply"),
        &ana,
        &[("body", "No, it is fine. Ana"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(sent.status, 303, "{}", sent.text());
    let history = linker
        .api(&phone, &phone.key, "GET", "/v1/history", b"")
        .await;
    assert_eq!(history.status, 200, "{}", history.text());
    let text = history.text();
    assert!(
        text.contains("No, it is fine. Ana") && text.contains("Ana Silva"),
        "the device's history has the reply: {text}"
    );
    assert!(
        !console_get(&http, "/console", &ana)
            .await
            .text()
            .contains("<strong>waiting</strong>"),
        "answered, no longer waiting"
    );

    // An alert composed in the console arrives signed by the bank's key,
    // and the app's verifier accepts it with the fields typed.
    let composed = console_post(
        &http,
        &format!("{conversation}/alert"),
        &ana,
        &[
            ("kind", "fraud_check"),
            ("severity", "critical"),
            ("text", "Did you try to pay Électro Dépôt?"),
            ("amount", "249.99"),
            ("currency", "eur"),
            ("merchant", "Électro Dépôt"),
            ("csrf", &csrf),
        ],
    )
    .await;
    assert_eq!(composed.status, 303, "{}", composed.text());
    let bad_amount = console_post(
        &http,
        &format!("{conversation}/alert"),
        &ana,
        &[
            ("kind", "purchase"),
            ("severity", "info"),
            ("text", "x"),
            ("amount", "12.345"),
            ("csrf", &csrf),
        ],
    )
    .await;
    assert_eq!(bad_amount.status, 400);

    // Four eyes (adversarial review, finding 5): a fraud check composed by
    // one agent is not signed until a second staff member approves it.
    assert_eq!(composed.header("location"), Some("/console/approvals"));
    let history = linker
        .api(&phone, &phone.key, "GET", "/v1/history?limit=5", b"")
        .await
        .json();
    assert!(
        !history.to_string().contains("\"alert\""),
        "nothing is signed or sent before approval: {history}"
    );
    let approvals = console_get(&http, "/console/approvals", &ana).await.text();
    assert!(
        approvals.contains("fraud_check") && approvals.contains("yours: another staff member"),
        "{approvals}"
    );
    let pending_id = pending_approval_id(&approvals);
    let own = decide_approval(&http, &ana, &pending_id, "approve", &csrf).await;
    assert_eq!(
        own.status,
        403,
        "the composer cannot approve: {}",
        own.text()
    );
    let second =
        session_cookie(&console_sign_in(&http, "root", "correct horse battery staple").await);
    let second_csrf = hidden_field(
        &console_get(&http, "/console/approvals", &second)
            .await
            .text(),
        "csrf",
    )
    .unwrap();
    let approved = decide_approval(&http, &second, &pending_id, "approve", &second_csrf).await;
    assert_eq!(approved.status, 303, "{}", approved.text());
    let again = decide_approval(&http, &second, &pending_id, "approve", &second_csrf).await;
    assert_eq!(again.status, 409, "approved once only");

    let jwks: JwkSet =
        serde_json::from_slice(&http.send("GET", "/oauth/jwks", &[], b"").await.body).unwrap();
    let mut verifier = AlertVerifier::new(
        PinnedKeys::pin(&gateway.issuer, &phone.audience, jwks.keys).unwrap(),
        TimePolicy::default(),
    );
    let history = linker
        .api(&phone, &phone.key, "GET", "/v1/history?limit=1", b"")
        .await
        .json();
    let jws = history["events"][0]["event"]["jws"]
        .as_str()
        .expect("the newest event is the alert")
        .to_owned();
    let verified = verifier.verify(&jws, now_s()).expect("signed by the bank");
    assert_eq!(verified.kind, AlertKind::FraudCheck);
    let event = &verified.event;
    assert_eq!(event.amount_minor, Some(24_999));
    assert_eq!(event.currency.as_deref(), Some("EUR"));
    assert_eq!(event.merchant.as_deref(), Some("Électro Dépôt"));
    assert!(event.respond_by.is_some(), "a fraud check has a deadline");

    // The delivery view: waiting, then delivered and acknowledged by the
    // phone, then answered, each with its time.
    let deliveries = format!("{conversation}/alerts");
    let row = |html: &str| -> String {
        let at = html
            .find(&format!("data-alert=\"{}\"", verified.id))
            .expect("the alert's row");
        html[at..].split("</tr>").next().unwrap().to_owned()
    };
    let before = row(&console_get(&http, &deliveries, &ana).await.text());
    assert!(
        before.contains("fraud_check") && before.contains("not answered"),
        "{before}"
    );
    assert!(!before.contains("acknowledged"), "{before}");
    let (mut ws, _) = open_stream(&linker, &phone, 0).await;
    loop {
        let (seq, event) = next_event(&mut ws).await;
        if matches!(&event, DeviceEvent::Alert { jws: got } if *got == jws) {
            ws.send(Message::text(encode(&ClientFrame::Ack { seq })))
                .await
                .unwrap();
            break;
        }
    }
    let answer = format!(
        r#"{{"alert_id":"{}","answer":"not_me","answered_at":{}}}"#,
        verified.id,
        now_s() * 1000
    );
    let r = linker
        .api(
            &phone,
            &phone.key,
            "POST",
            "/v1/fraud-answers",
            answer.as_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut after = String::new();
    for _ in 0..100 {
        after = row(&console_get(&http, &deliveries, &ana).await.text());
        if after.contains("acknowledged") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        after.contains("delivered 20")
            && after.contains("UTC, acknowledged 20")
            && after.contains("not_me at 20"),
        "{after}"
    );
    // Delivery is stored (not only known to the gateway that held the
    // stream): the bank API reads the same times.
    let api = http
        .bank(
            "GET",
            &format!("/bank/v1/deliveries?alert_id={}", verified.id),
            serde_json::Value::Null,
        )
        .await
        .json();
    let device = &api["deliveries"][0];
    assert_eq!(device["delivered"], true, "{api}");
    assert!(device["delivered_at_ms"].as_i64().is_some(), "{api}");
    assert!(
        device["acked_at_ms"].as_i64() >= device["delivered_at_ms"].as_i64(),
        "{api}"
    );

    // Resolved: out of the queue until Alice writes again.
    let resolved = console_post(
        &http,
        &format!("{conversation}/resolve"),
        &ana,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(resolved.status, 303);
    assert!(
        !console_get(&http, "/console", &ana)
            .await
            .text()
            .contains("alice")
    );
    let again =
        serde_json::json!({"client_id": "c-2", "body": "One more thing", "sent_at": 2}).to_string();
    let r = linker
        .api(&phone, &phone.key, "POST", "/v1/chat", again.as_bytes())
        .await;
    assert_eq!(r.status, 202);
    assert!(
        console_get(&http, "/console", &ana)
            .await
            .text()
            .contains("data-customer=\"alice\"")
    );

    // Agents do not see the audit log; admins see and export it.
    assert_eq!(console_get(&http, "/console/audit", &ana).await.status, 403);
    assert_eq!(
        console_get(&http, "/console/audit.csv", &ana).await.status,
        403
    );
    let root =
        session_cookie(&console_sign_in(&http, "root", "correct horse battery staple").await);

    // Pilot flags: admins only. A cohort's flag reaches its customers'
    // devices; a refused change keeps nothing.
    assert_eq!(console_get(&http, "/console/flags", &ana).await.status, 403);
    let flags_page = console_get(&http, "/console/flags", &root).await;
    assert_eq!(flags_page.status, 200);
    let admin_csrf = hidden_field(&flags_page.text(), "csrf").unwrap();
    let agent_try = console_post(
        &http,
        "/console/flags/set",
        &ana,
        &[
            ("cohort", "pilot-1"),
            ("flag", "quick_replies"),
            ("state", "on"),
            ("csrf", &csrf),
        ],
    )
    .await;
    assert_eq!(agent_try.status, 403, "an agent cannot switch flags");
    let refused = console_post(
        &http,
        "/console/flags/members",
        &root,
        &[
            ("cohort", "pilot-1"),
            ("customers", "alice nobody"),
            ("csrf", &admin_csrf),
        ],
    )
    .await;
    assert_eq!(refused.status, 400);
    assert!(
        !console_get(&http, "/console/flags", &root)
            .await
            .text()
            .contains("data-cohort")
    );
    for (path, fields) in [
        (
            "/console/flags/members",
            [("cohort", "pilot-1"), ("customers", "alice"), ("state", "")],
        ),
        (
            "/console/flags/set",
            [
                ("cohort", "pilot-1"),
                ("flag", "quick_replies"),
                ("state", "on"),
            ],
        ),
    ] {
        let mut fields = fields.to_vec();
        fields.push(("csrf", &admin_csrf));
        let r = console_post(&http, path, &root, &fields).await;
        assert_eq!(r.status, 303, "{path}: {}", r.text());
    }
    let flags = loop {
        if let (_, DeviceEvent::Flags { flags }) = next_event(&mut ws).await {
            break flags;
        }
    };
    assert_eq!(flags.get("quick_replies"), Some(&true), "{flags:?}");
    let listed = console_get(&http, "/console/flags", &root).await.text();
    assert!(
        listed.contains("quick_replies on") && listed.contains("<td>alice</td>"),
        "{listed}"
    );

    let audit = console_get(&http, "/console/audit", &root).await;
    assert_eq!(audit.status, 200);
    let csv = console_get(&http, "/console/audit.csv", &root).await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    let actions: Vec<String> = csv
        .text()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(4).unwrap().trim_matches('"').to_owned())
        .collect();
    assert_eq!(
        actions,
        [
            "staff.add",
            "staff.add",
            "staff.add",
            "staff.add",
            "console.sign_in_refused",
            "console.sign_in",
            "customer.read",
            "chat.reply",
            "alert.propose",
            "alert.self_approval_refused",
            "console.sign_in",
            "alert.approve",
            "customer.read",
            "customer.read",
            "chat.resolve",
            "console.sign_in",
            "cohort.add_members",
            "flags.set",
            "audit.export"
        ],
        "every staff read of a customer's conversation or alerts is audited \
         (adversarial review, finding 6)"
    );
    let text = csv.text();
    let line = |action: &str| {
        text.lines()
            .find(|l| l.contains(action))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        line("customer.read").contains("\"silva\"")
            && line("customer.read").contains("conversation of alice"),
        "who read what: {text}"
    );
    assert!(
        line("console.sign_in_refused").contains("(not signed in)")
            && line("console.sign_in_refused").contains("from 127.0.0.1"),
        "a refused sign-in names the username tried and where from, not the admin tool: {text}"
    );

    // Signed out, the cookie is cleared and worth nothing.
    let csrf = hidden_field(&console_get(&http, "/console", &ana).await.text(), "csrf").unwrap();
    let out = console_post(&http, "/console/sign-out", &ana, &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let after = console_get(&http, "/console", &ana).await.text();
    assert!(
        after.contains("action=\"/console/sign-in\""),
        "back to the sign-in form"
    );
}
