//! Shared by the end-to-end tests: a real `strongroom-gateway` process on
//! loopback with real TLS (its demo CA), the bank's own API, the customer's
//! side of the verification web page, and a device with a real keychain.
#![allow(dead_code, missing_docs)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use strongroom_client::{AccountSummary, Client, ClientEvent, Device, net::BankHttp};
use strongroom_core::AccountId;
use strongroom_vault::Vault;

pub mod idp;

/// A built binary of the workspace, beside the test executable's folder.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built; `cargo xtask test` builds every binary first (or run \
         `cargo build --workspace --bins`)",
        path.display()
    );
    path
}

/// A unique keychain service per test, so tests running side by side never
/// see each other's entries.
pub fn keychain_service(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("strongroom-e2e-{test}-{}-{nanos}", std::process::id())
}

/// A running gateway.
pub struct Gateway {
    pub dir: PathBuf,
    pub issuer: String,
    pub ca: PathBuf,
    pub api_key: String,
    pub port: u16,
    /// `https://127.0.0.1:PORT`: this process itself, which differs from
    /// the issuer when the gateway sits behind a proxy (`--public-url`).
    pub direct: String,
    child: Option<Child>,
    extra_args: Vec<String>,
    /// Environment variables set for the process (and its restarts).
    env: Vec<(String, String)>,
    /// Where its stderr (its JSON logs) goes, if not to the test's.
    log: Option<PathBuf>,
    pub http: reqwest::Client,
}

impl Gateway {
    /// Starts `strongroom-gateway --demo` in its own folder on a free port,
    /// with the synthetic stream and the scripted fraud check off (tests
    /// post their own transactions).
    pub fn start(dir: &Path, extra: &[&str]) -> Gateway {
        Gateway::start_at(dir, "127.0.0.1:0", extra)
    }

    /// [`Gateway::start`] on the address `listen`.
    pub fn start_at(dir: &Path, listen: &str, extra: &[&str]) -> Gateway {
        Gateway::start_logged(dir, listen, extra, None)
    }

    /// [`Gateway::start_at`], its logs appended to `log` if given.
    pub fn start_logged(dir: &Path, listen: &str, extra: &[&str], log: Option<&Path>) -> Gateway {
        Gateway::spawn(dir, listen, extra, log, &[])
    }

    /// [`Gateway::start`] with environment variables `env` set for it, as
    /// its systemd unit sets them.
    pub fn start_with_env(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Gateway {
        Gateway::spawn(dir, "127.0.0.1:0", extra, None, env)
    }

    fn spawn(
        dir: &Path,
        listen: &str,
        extra: &[&str],
        log: Option<&Path>,
        env: &[(&str, &str)],
    ) -> Gateway {
        let extra_args: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let (child, ready) = spawn_gateway(dir, listen, &extra_args, log, &env);
        let (issuer, ca, key_file, listen) = ready;
        let port = listen.port();
        let api_key = std::fs::read_to_string(&key_file)
            .expect("the bank API key file")
            .trim()
            .to_owned();
        let tls = strongroom_client::net::tls_config(Some(&ca)).expect("the demo CA loads");
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client");
        Gateway {
            dir: dir.to_owned(),
            issuer,
            ca,
            api_key,
            port,
            direct: format!("https://{listen}"),
            child: Some(child),
            extra_args,
            env,
            log: log.map(Path::to_owned),
            http,
        }
    }

    /// SIGKILLs the gateway (no graceful anything).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port with the same data.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (child, (issuer, ..)) = spawn_gateway(
                &self.dir,
                &format!("127.0.0.1:{}", self.port),
                &self.extra_args,
                self.log.as_deref(),
                &self.env,
            );
            if issuer == self.issuer {
                self.child = Some(child);
                return;
            }
            assert!(Instant::now() < deadline, "the gateway did not restart");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// A call to the bank integration API of this process (not through a
    /// proxy in front of it).
    pub async fn bank(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.direct);
        let mut request = match method {
            "POST" => self.http.post(&url),
            _ => self.http.get(&url),
        }
        .header("authorization", format!("Bearer {}", self.api_key));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("the bank API answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }

    /// One series of the gateway's `/metrics` on its admin address
    /// `admin` (`--admin-listen`): `series` is its name after the
    /// `strongroom_gateway_` prefix, labels included. `None` when the
    /// metrics cannot be read or do not hold it.
    pub async fn metric(&self, admin: &str, series: &str) -> Option<u64> {
        let text = self
            .http
            .get(format!("http://{admin}/metrics"))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        let prefix = format!("strongroom_gateway_{series} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|v| v.trim().parse().ok())
    }

    /// Posts a card transaction for `customer` and returns the alert ids.
    pub async fn transaction(&self, customer: &str, fields: serde_json::Value) -> Vec<String> {
        let mut body = serde_json::json!({
            "customer": customer, "account_ref": "****4321", "amount_minor": 12_500,
            "currency": "GBP", "merchant": "Corner Shop", "country": "GB",
            "card_present": true, "status": "approved"
        });
        if let (Some(b), Some(f)) = (body.as_object_mut(), fields.as_object()) {
            for (k, v) in f {
                b.insert(k.clone(), v.clone());
            }
        }
        let (status, reply) = self.bank("POST", "/bank/v1/transactions", Some(body)).await;
        assert_eq!(status, 201, "transaction refused: {reply}");
        reply["alerts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The customer approves `user_code` on the bank's verification page,
    /// as a browser would: sign in, then press Approve (or Deny).
    pub async fn approve(&self, user_code: &str, username: &str, password: &str, approve: bool) {
        let page = self
            .http
            .get(format!("{}/device?user_code={user_code}", self.issuer))
            .send()
            .await
            .expect("the verification page")
            .text()
            .await
            .expect("the page's text");
        let csrf = hidden_field(&page, "csrf").expect("the sign-in form has a CSRF token");
        let consent = self
            .http
            .post(format!("{}/device", self.issuer))
            .form(&[
                ("user_code", user_code),
                ("username", username),
                ("password", password),
                ("csrf", &csrf),
            ])
            .send()
            .await
            .expect("sign-in answers")
            .text()
            .await
            .expect("the consent page");
        let decision = hidden_field(&consent, "decision")
            .unwrap_or_else(|| panic!("the consent page has a decision token: {consent}"));
        let done = self
            .http
            .post(format!("{}/device/decision", self.issuer))
            .form(&[
                ("decision", decision.as_str()),
                ("action", if approve { "approve" } else { "deny" }),
            ])
            .send()
            .await
            .expect("the decision answers")
            .text()
            .await
            .expect("the result page");
        let word = if approve { "approved" } else { "denied" };
        assert!(done.contains(word), "the result page says {word}: {done}");
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What a gateway's ready line says: its issuer, CA file, bank API key file
/// and the address it listens on.
type Ready = (String, PathBuf, PathBuf, std::net::SocketAddr);

fn spawn_gateway(
    dir: &Path,
    listen: &str,
    extra: &[String],
    log: Option<&Path>,
    env: &[(String, String)],
) -> (Child, Ready) {
    let stderr = match log {
        Some(path) => Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .expect("the gateway's log file"),
        ),
        None => Stdio::inherit(),
    };
    let mut child = Command::new(binary("strongroom-gateway"))
        .args(["--demo", "--data-dir"])
        .arg(dir)
        .args([
            "--listen",
            listen,
            "--demo-rate",
            "0",
            "--demo-fraud-after",
            "0",
        ])
        .args(extra)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("the gateway starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the ready line");
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("the ready line names {name}: {line:?}"))
    };
    let issuer = field("issuer");
    let ca = PathBuf::from(field("ca"));
    let key = PathBuf::from(field("api_key_file"));
    let listen = field("listen")
        .parse()
        .expect("the ready line's listen address");
    (child, (issuer, ca, key, listen))
}

/// The value of a hidden form field in an HTML page.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[at..];
    let value = rest.find("value=\"")? + 7;
    let end = rest[value..].find('"')?;
    Some(rest[value..value + end].replace("&amp;", "&"))
}

/// Seconds since the Unix epoch, as alerts' `iat` counts them.
pub fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A customer's device: its own data folder and keychain service.
pub struct TestDevice {
    pub dir: tempfile::TempDir,
    pub service: String,
}

impl TestDevice {
    pub fn new(test: &str) -> TestDevice {
        TestDevice {
            dir: tempfile::tempdir().expect("a temp dir"),
            service: keychain_service(test),
        }
    }

    /// Opens the device as the app would and puts it online.
    pub fn client(&self, gateway: &Gateway) -> Client {
        let device = Device::open(self.dir.path(), Vault::with_service(&self.service))
            .expect("the device opens with the real keychain");
        Client::new(
            device,
            BankHttp::new(Some(&gateway.ca)).expect("TLS with the demo CA"),
        )
    }

    /// `strongroom-cli` for this device.
    pub fn cli(&self, gateway: &Gateway) -> Command {
        let mut command = Command::new(binary("strongroom-cli"));
        command
            .arg("--data-dir")
            .arg(self.dir.path())
            .arg("--ca")
            .arg(&gateway.ca)
            .arg("--json")
            .env("STRONGROOM_KEYCHAIN_SERVICE", &self.service)
            .stdin(Stdio::null());
        command
    }
}

impl Drop for TestDevice {
    fn drop(&mut self) {
        // Leave no entries behind in the session keychain.
        let _ = Command::new("secret-tool")
            .args(["clear", "service", &self.service])
            .status();
    }
}

/// Adds a staff account with the gateway's administration command.
pub fn add_staff(gateway: &Gateway, username: &str, name: &str, role: &str, password: &str) {
    let mut child = Command::new(binary("strongroom-gateway"))
        .args([
            "staff",
            "add",
            "--username",
            username,
            "--name",
            name,
            "--role",
            role,
        ])
        .arg("--data-dir")
        .arg(&gateway.dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the gateway binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("the password is written");
    assert!(
        child.wait().is_ok_and(|s| s.success()),
        "staff add succeeds"
    );
}

/// Links `client` to the gateway's demo customer through the device grant.
pub async fn link(client: &Client, gateway: &Gateway, username: &str) -> AccountId {
    let pending = client
        .start_link(&gateway.issuer)
        .await
        .expect("the link starts");
    gateway
        .approve(
            pending.user_code(),
            username,
            &format!("{username}-demo"),
            true,
        )
        .await;
    client
        .finish_link(pending)
        .await
        .expect("the link completes")
}

/// Waits for an event matching `pick`, up to `secs` seconds.
pub async fn wait_for<T>(
    events: &mut tokio::sync::broadcast::Receiver<ClientEvent>,
    secs: u64,
    mut pick: impl FnMut(&ClientEvent) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| panic!("no matching event within {secs} s"));
        match event {
            Ok(event) => {
                if let Some(found) = pick(&event) {
                    return found;
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => panic!("event channel closed: {e}"),
        }
    }
}

pub fn only_account(client: &Client) -> AccountSummary {
    let accounts = client.accounts().expect("accounts");
    assert_eq!(accounts.len(), 1);
    accounts[0].clone()
}

/// A child process that is killed when the test ends, pass or panic, so a
/// failed test never leaves a `watch` reconnecting forever.
pub struct Guard(pub Child);

impl Guard {
    /// SIGKILLs it now.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A customer linked to a fresh gateway through the device grant, with the
/// client's delivery stream running (when asked). Everything stops and is
/// cleaned up when it is dropped.
pub struct Linked {
    /// The connected client.
    pub client: Client,
    /// The linked account.
    pub account: AccountId,
    /// Live events, subscribed before the stream started.
    pub events: tokio::sync::broadcast::Receiver<ClientEvent>,
    runner: Option<tokio::task::JoinHandle<()>>,
    /// The device (its folder and keychain service).
    pub device: TestDevice,
    /// The bank.
    pub gateway: Gateway,
    _dir: tempfile::TempDir,
}

impl Linked {
    /// Links `alice` for the test `name`, and runs the stream if `running`.
    pub async fn start(name: &str, running: bool) -> Linked {
        let dir = tempfile::tempdir().expect("a temp dir");
        let gateway = Gateway::start(dir.path(), &[]);
        let device = TestDevice::new(name);
        let client = device.client(&gateway);
        let account = link(&client, &gateway, "alice").await;
        let events = client.subscribe();
        let runner = running.then(|| {
            let client = client.clone();
            tokio::spawn(async move { client.run_account(account).await })
        });
        Linked {
            client,
            account,
            events,
            runner,
            device,
            gateway,
            _dir: dir,
        }
    }

    /// The device's DPoP key and refresh token, read from the keychain as
    /// the client keeps them.
    pub fn credentials(&self) -> (strongroom_core::protocol::jose::SigningKey, String) {
        let vault = Vault::with_service(&self.device.service);
        let key = vault
            .get(self.account, strongroom_vault::SecretKind::DeviceKey)
            .expect("the keychain answers")
            .expect("a device key");
        let key = strongroom_core::protocol::jose::SigningKey::from_pkcs8(
            "device",
            key.expose(),
            &ring::rand::SystemRandom::new(),
        )
        .expect("a P-256 key");
        let refresh = vault
            .get(self.account, strongroom_vault::SecretKind::RefreshToken)
            .expect("the keychain answers")
            .expect("a refresh token");
        (
            key,
            String::from_utf8(refresh.expose().clone()).expect("UTF-8"),
        )
    }
}

impl Drop for Linked {
    fn drop(&mut self) {
        if let Some(runner) = self.runner.take() {
            runner.abort();
        }
    }
}

/// Starts `strongroom-cli watch` for `device` against `gateway`: its
/// process (killed when dropped) and its JSON lines.
pub fn watch(
    device: &TestDevice,
    gateway: &Gateway,
) -> (Guard, std::sync::mpsc::Receiver<serde_json::Value>) {
    let mut child = device
        .cli(gateway)
        .arg("watch")
        .stdout(Stdio::piped())
        .spawn()
        .expect("strongroom-cli watch starts");
    let lines = json_lines(child.stdout.take().expect("its stdout"));
    (Guard(child), lines)
}

/// Reads JSON lines from a child's stdout on a thread.
pub fn json_lines(
    stdout: std::process::ChildStdout,
) -> std::sync::mpsc::Receiver<serde_json::Value> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Ok(value) = serde_json::from_str(&line)
                && tx.send(value).is_err()
            {
                break;
            }
        }
    });
    rx
}

pub fn next_matching(
    rx: &std::sync::mpsc::Receiver<serde_json::Value>,
    secs: u64,
    pick: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let value = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no matching line within {secs} s"));
        if pick(&value) {
            return value;
        }
    }
}

/// Links with `strongroom-cli link`, approving on the page as the customer.
pub async fn cli_link(device: &TestDevice, gateway: &Gateway, username: &str) -> String {
    cli_link_with(device, gateway, async |code: String| {
        gateway
            .approve(&code, username, &format!("{username}-demo"), true)
            .await;
    })
    .await
}

/// Links with `strongroom-cli link` to the gateway's URL; `approve` plays
/// the customer at the bank with the user code. The new account's id.
pub async fn cli_link_with(
    device: &TestDevice,
    gateway: &Gateway,
    approve: impl AsyncFnOnce(String),
) -> String {
    let mut child = Guard(
        device
            .cli(gateway)
            .args(["link", &gateway.issuer])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let lines = json_lines(child.0.stdout.take().unwrap());
    let pending = next_matching(&lines, 30, |v| v["type"] == "link_pending");
    let code = pending["user_code"].as_str().unwrap().to_owned();
    approve(code).await;
    let linked = tokio::task::spawn_blocking(move || {
        let linked = next_matching(&lines, 60, |v| v["type"] == "linked");
        let status = child.0.wait().unwrap();
        assert!(status.success(), "link exits 0");
        linked
    })
    .await
    .unwrap();
    linked["account"].as_str().unwrap().to_owned()
}

impl Gateway {
    /// Waits (up to 30 s) until the bank, asking this gateway, has a
    /// message holding `text` from `customer`.
    pub async fn wait_for_chat(&self, customer: &str, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (_, chat) = self
                .bank("GET", &format!("/bank/v1/chat?customer={customer}"), None)
                .await;
            if chat.to_string().contains(text) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the bank never got {text:?} from {customer}: {chat}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits (up to a minute) until the bank, asking this gateway, sees
    /// `alert` acknowledged by a device.
    pub async fn wait_acknowledged(&self, alert: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (_, deliveries) = self
                .bank(
                    "GET",
                    &format!("/bank/v1/deliveries?alert_id={alert}"),
                    None,
                )
                .await;
            if deliveries.to_string().contains("\"acked\":true") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{alert} not acknowledged: {deliveries}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Asserts that `device` (through `strongroom-cli alerts`) stored every
/// alert of `posted`, verified, each exactly once, and nothing else.
pub fn assert_stored_once(device: &TestDevice, gateway: &Gateway, mut posted: Vec<String>) {
    let out = device
        .cli(gateway)
        .args(["alerts", "--limit", "10000"])
        .output()
        .expect("strongroom-cli alerts");
    assert!(out.status.success());
    let mut stored: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["alert"]["verified"] == true)
        .filter_map(|v| v["alert"]["id"].as_str().map(str::to_owned))
        .collect();
    let all = stored.len();
    stored.sort();
    stored.dedup();
    assert_eq!(all, stored.len(), "no alert stored twice");
    posted.sort();
    assert_eq!(stored, posted, "every posted alert stored once, verified");
}

/// A fresh database on the test PostgreSQL server (its superuser's URL in
/// `STRONGROOM_TEST_POSTGRES`, which `cargo xtask` sets); its URL.
pub fn fresh_database(name: &str) -> String {
    let admin = std::env::var("STRONGROOM_TEST_POSTGRES").expect(
        "STRONGROOM_TEST_POSTGRES names a PostgreSQL superuser's URL; \
         `cargo xtask test` starts a private server and sets it",
    );
    let name = format!("{name}_{}", std::process::id());
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        let ok = Command::new("psql")
            .args([&admin, "-q", "-v", "ON_ERROR_STOP=1", "-c", &sql])
            .env("PGOPTIONS", "--client-min-messages=warning")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "psql ran {sql:?}");
    }
    format!("{}/{name}", admin.rsplit_once('/').expect("a URL").0)
}
