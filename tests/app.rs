//! The desktop app in a real window: Xvfb, tauri-driver and WebKitWebDriver
//! drive the built `strongroom` binary, which talks to a real
//! `strongroom-gateway` over TLS and keeps its keys in the real
//! gnome-keyring of the test session (`cargo xtask test` provides both).
//! Screenshots of the main screens are written to `docs/screenshots/`.

#[path = "../crates/client/tests/support/mod.rs"]
mod support;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{Gateway, Guard};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One app at a time: two WebKit windows, two drivers and a gateway each
/// would fight over two cores (and the screenshots' display).
static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A few W3C WebDriver calls over plain HTTP on loopback.
struct Driver {
    http: reqwest::Client,
    base: String,
    session: String,
}

impl Driver {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let request = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self.http.post(&url).json(&body.unwrap_or(json!({}))),
        };
        let reply: Value = request
            .send()
            .await
            .expect("webdriver answers")
            .json()
            .await
            .expect("webdriver JSON");
        reply["value"].clone()
    }

    async fn start(port: u16, application: &Path) -> Driver {
        // Plain HTTP on loopback; reqwest still wants its TLS set up.
        let tls = strongroom_client::net::tls_config(None).expect("system roots");
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .timeout(Duration::from_secs(120))
            .build()
            .expect("an HTTP client");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let reply = http
                .post(format!("{base}/session"))
                .json(&json!({"capabilities": {"alwaysMatch": {
                    "tauri:options": {"application": application}
                }}}))
                .send()
                .await;
            if let Ok(reply) = reply {
                let value: Value = reply.json().await.unwrap_or_default();
                if let Some(id) = value["value"]["sessionId"].as_str() {
                    return Driver {
                        http,
                        base,
                        session: id.to_owned(),
                    };
                }
                panic!("no session: {value}");
            }
            assert!(Instant::now() < deadline, "tauri-driver did not come up");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits for an element matching `css` (and, if given, whose text
    /// contains `text`) and returns its id.
    async fn wait(&self, css: &str, text: Option<&str>, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let found = self
                .call(
                    "POST",
                    "/elements",
                    Some(json!({"using": "css selector", "value": css})),
                )
                .await;
            if let Some(list) = found.as_array() {
                for e in list {
                    let Some(id) = e[ELEMENT].as_str() else {
                        continue;
                    };
                    match text {
                        None => return id.to_owned(),
                        Some(t) => {
                            if self.text(id).await.contains(t) {
                                return id.to_owned();
                            }
                        }
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "no element {css} {text:?} within {secs} s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn text(&self, element: &str) -> String {
        self.call("GET", &format!("/element/{element}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn attribute(&self, element: &str, name: &str) -> Option<String> {
        self.call("GET", &format!("/element/{element}/attribute/{name}"), None)
            .await
            .as_str()
            .map(str::to_owned)
    }

    async fn click(&self, css: &str) {
        let id = self.wait(css, None, 20).await;
        self.call("POST", &format!("/element/{id}/click"), None)
            .await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.wait(css, None, 20).await;
        self.call("POST", &format!("/element/{id}/clear"), None)
            .await;
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    async fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn tauri_driver() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let cargo_bin = home.join(".cargo/bin/tauri-driver");
    if cargo_bin.exists() {
        cargo_bin
    } else {
        PathBuf::from("tauri-driver")
    }
}

/// An X server of our own for the test's windows.
fn xvfb() -> (Guard, String) {
    for n in 90..140 {
        if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
            continue;
        }
        let display = format!(":{n}");
        let child = Command::new("Xvfb")
            .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts (apt install xvfb)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
            assert!(Instant::now() < deadline, "Xvfb did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        return (Guard(child), display);
    }
    panic!("no free X display");
}

/// A process group (tauri-driver, WebKitWebDriver, the app, and any D-Bus
/// session around them), killed as a whole when the test ends.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        let pid = self.0.id();
        // Kill the whole group only when the child really leads its own
        // group: a group kill of the test's own group would take the test
        // runner with it.
        let leads_group = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                let after_name = stat.rsplit_once(')')?.1.to_owned();
                after_name.split_whitespace().nth(2)?.parse::<u32>().ok()
            })
            == Some(pid);
        let target = if leads_group {
            format!("-{pid}")
        } else {
            pid.to_string()
        };
        let _ = Command::new("kill").args(["-KILL", "--", &target]).status();
        let _ = self.0.wait();
    }
}

struct AppRun {
    driver: Driver,
    _processes: Group,
}

/// Starts tauri-driver (and through it the app) with the app's
/// environment. `wrap` runs tauri-driver inside another shell command (a
/// D-Bus session with a locked keyring).
async fn launch(display: &str, env: &[(&str, String)], wrap: Option<&str>) -> AppRun {
    let port = free_port();
    let native = free_port();
    let driver_line = format!(
        "{} --port {port} --native-port {native}",
        tauri_driver().display()
    );
    let mut command = match wrap {
        None => {
            let mut c = Command::new(tauri_driver());
            c.args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ]);
            c
        }
        Some(wrapper) => {
            let mut c = Command::new("bash");
            c.arg("-c").arg(wrapper.replace("{DRIVER}", &driver_line));
            c
        }
    };
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    command
        .env("DISPLAY", display)
        .env("NO_AT_BRIDGE", "1")
        .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        command.env(k, v);
    }
    let child: Child = command.spawn().expect("tauri-driver starts");
    let driver = Driver::start(port, &support::binary("strongroom")).await;
    AppRun {
        driver,
        _processes: Group(child),
    }
}

/// Saves the app's window under `docs/screenshots/` (WebKitWebDriver's own
/// screenshot hangs under Xvfb, so the X server is asked; with no window
/// manager the window sits at the top left at its configured size).
fn screenshot(display: &str, name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/screenshots")
        .join(format!("{name}.png"));
    let status = Command::new("import")
        .args([
            "-display",
            display,
            "-window",
            "root",
            "-crop",
            "960x680+0+0",
            "+repage",
        ])
        .arg(&path)
        .status()
        .expect("imagemagick import");
    assert!(status.success(), "screenshot {name}");
}

/// What the app tests run against: an X server, a demo gateway, and the
/// app's environment (its own data folder and keychain service, the demo
/// CA and issuer). The keychain entries go when it is dropped.
struct DemoRun {
    display: String,
    gateway: Gateway,
    env: Vec<(&'static str, String)>,
    service: String,
    _x: Guard,
    _dirs: [tempfile::TempDir; 2],
}

impl DemoRun {
    fn new(name: &str) -> DemoRun {
        let (x, display) = xvfb();
        let gw_dir = tempfile::tempdir().unwrap();
        let gateway = Gateway::start(gw_dir.path(), &[]);
        let data = tempfile::tempdir().unwrap();
        let service = support::keychain_service(name);
        let env = vec![
            ("STRONGROOM_DATA_DIR", data.path().display().to_string()),
            ("STRONGROOM_KEYCHAIN_SERVICE", service.clone()),
            ("STRONGROOM_CA_FILE", gateway.ca.display().to_string()),
            ("STRONGROOM_DEMO_ISSUER", gateway.issuer.clone()),
            ("HOME", data.path().display().to_string()),
        ];
        DemoRun {
            display,
            gateway,
            env,
            service,
            _x: x,
            _dirs: [gw_dir, data],
        }
    }
}

impl Drop for DemoRun {
    fn drop(&mut self) {
        let _ = Command::new("secret-tool")
            .args(["clear", "service", &self.service])
            .status();
    }
}

/// Links the demo bank through the window: first run, consent, user code,
/// and the customer's approval on the bank's page. Screenshots each step
/// when `shots` is set.
async fn link_demo_bank(d: &Driver, gateway: &Gateway, display: &str, shots: bool) {
    let shot = |name: &str| {
        if shots {
            screenshot(display, name);
        }
    };
    d.wait("[data-testid=first-run-continue]", None, 60).await;
    shot("first-run");
    d.click("[data-testid=first-run-continue]").await;
    d.click("[data-testid=nav-link]").await;
    d.click("[data-testid=link-demo-bank]").await;
    d.click("[data-testid=link-submit]").await;
    d.wait("[data-testid=link-consent-accept]", None, 30).await;
    shot("link-consent");
    d.click("[data-testid=link-consent-accept]").await;
    let code_el = d.wait("[data-testid=link-user-code]", None, 30).await;
    let user_code = d.text(&code_el).await.trim().to_owned();
    assert!(user_code.len() >= 8, "a user code is shown: {user_code:?}");
    shot("link-code");
    gateway
        .approve(&user_code, "alice", "alice-demo", true)
        .await;
    d.wait("[data-testid=link-receipt]", Some("Demo Bank"), 60)
        .await;
    shot("link-receipt");
    d.click("[data-testid=link-done]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_links_the_demo_bank_and_does_what_a_customer_needs() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let demo = DemoRun::new("app");
    let (display, gateway, env) = (&demo.display, &demo.gateway, &demo.env);
    let app = launch(display, env, None).await;
    let d = &app.driver;

    // First run, then link the demo bank.
    link_demo_bank(d, gateway, display, true).await;

    // Alerts arrive live, verified.
    let ids = gateway
        .transaction("alice", json!({"amount_minor": 14_250, "merchant": "Corner Café", "balance_after_minor": 182_000}))
        .await;
    let alert = d
        .wait(&format!("[data-alert-id=\"{}\"]", ids[0]), None, 30)
        .await;
    assert_eq!(
        d.attribute(&alert, "data-verified").await.as_deref(),
        Some("true")
    );
    // A fraud check, answered from the window, reaches the bank.
    let fraud = gateway
        .transaction(
            "alice",
            json!({"amount_minor": 64_000, "country": "US", "card_present": false, "currency": "USD", "merchant": "Gadget Hub"}),
        )
        .await;
    d.wait(&format!("[data-alert-id=\"{}\"]", fraud[0]), None, 30)
        .await;
    screenshot(display, "home");
    d.click(&format!(
        "[data-alert-id=\"{}\"] [data-testid=fraud-not-me]",
        fraud[0]
    ))
    .await;
    d.wait("[data-testid=fraud-answered]", None, 30).await;
    let (_, answers) = gateway
        .bank("GET", "/bank/v1/fraud-answers?customer=alice", None)
        .await;
    assert!(
        answers.to_string().contains(&fraud[0]) && answers.to_string().contains("not_me"),
        "the bank recorded the answer: {answers}"
    );

    // Chat both ways; a script-injection body stays inert text.
    let hostile = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>Hello";
    gateway
        .bank(
            "POST",
            "/bank/v1/chat",
            Some(json!({"customer": "alice", "author": "Ana (Demo Bank)", "body": "How can we help you today?"})),
        )
        .await;
    gateway
        .bank(
            "POST",
            "/bank/v1/chat",
            Some(json!({"customer": "alice", "author": "Compromised console", "body": hostile})),
        )
        .await;
    d.click("[data-testid=nav-chat]").await;
    d.wait("[data-testid=chat-message]", Some("How can we help"), 30)
        .await;
    d.wait("[data-testid=chat-message]", Some("<script>"), 30)
        .await;
    let inert = d
        .script(
            "return [document.title, document.querySelectorAll('[data-testid=chat-message] img, [data-testid=chat-message] script').length];",
        )
        .await;
    assert_ne!(inert[0], "pwned", "no injected script ran");
    assert_eq!(inert[1], 0, "no element was made from the message body");
    d.type_into(
        "[data-testid=chat-input]",
        "My card was declined at the station",
    )
    .await;
    d.click("[data-testid=chat-send]").await;
    d.wait(
        "[data-testid=chat-message]",
        Some("declined at the station"),
        20,
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, chat) = gateway
            .bank("GET", "/bank/v1/chat?customer=alice", None)
            .await;
        if chat.to_string().contains("declined at the station") {
            break;
        }
        assert!(Instant::now() < deadline, "the bank never got the message");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    screenshot(display, "chat");

    // Search finds the message, highlighted.
    d.click("[data-testid=nav-search]").await;
    d.type_into("[data-testid=search-input]", "station").await;
    let result = d
        .wait("[data-testid=search-result]", Some("station"), 20)
        .await;
    let marks = d
        .script("return document.querySelectorAll('[data-testid=search-result] mark').length;")
        .await;
    assert!(marks.as_u64().unwrap_or(0) >= 1, "the match is highlighted");
    let _ = result;
    screenshot(display, "search");

    d.click("[data-testid=nav-settings]").await;
    d.wait("[data-testid=privacy-full]", None, 20).await;
    screenshot(display, "settings");

    // Ending the process group ends the app and its WebDriver session
    // (WebKitWebDriver's own session delete hangs under Xvfb here).
    drop(app);
}

/// Lock, unlock, quit and restart with the history kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locking_unlocking_and_restarting_keep_the_history() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let demo = DemoRun::new("lock");
    let (display, gateway, env) = (&demo.display, &demo.gateway, &demo.env);
    let app = launch(display, env, None).await;
    let d = &app.driver;
    link_demo_bank(d, gateway, display, false).await;
    let ids = gateway
        .transaction("alice", json!({"amount_minor": 14_250}))
        .await;
    d.wait(&format!("[data-alert-id=\"{}\"]", ids[0]), None, 30)
        .await;
    // Lock and unlock.
    d.click("[data-testid=lock-now]").await;
    d.wait("[data-testid=lock-screen]", None, 20).await;
    screenshot(display, "lock");
    d.click("[data-testid=unlock-submit]").await;
    d.click("[data-testid=nav-home]").await;
    d.wait(&format!("[data-alert-id=\"{}\"]", ids[0]), None, 30)
        .await;

    // Quit and start again: the history is still there.
    drop(app);
    let again = launch(display, env, None).await;
    again
        .driver
        .wait(&format!("[data-alert-id=\"{}\"]", ids[0]), None, 60)
        .await;
    drop(again);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_keychain_at_start_shows_the_guidance_screen() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let (_x, display) = xvfb();
    // A login keyring with a password, then a session where it is locked.
    let keyring = tempfile::tempdir().unwrap();
    let k = keyring.path().display();
    let create = format!(
        "dbus-run-session -- bash -c 'printf %s pw | XDG_DATA_HOME={k} gnome-keyring-daemon --unlock --components=secrets >/dev/null && \
         printf %s seed | secret-tool store --label=seed app strongroom-seed'"
    );
    assert!(
        Command::new("bash")
            .arg("-c")
            .arg(&create)
            .status()
            .unwrap()
            .success()
    );
    let data = tempfile::tempdir().unwrap();
    let env = vec![
        (
            "STRONGROOM_DATA_DIR",
            data.path().join("app").display().to_string(),
        ),
        ("HOME", data.path().display().to_string()),
    ];
    // The session bus has no display, so the keyring's unlock prompt cannot
    // appear (as when the user cannot or does not unlock it); only the app
    // gets the display.
    let wrapper = format!(
        "exec env -u DISPLAY dbus-run-session -- bash -c 'XDG_DATA_HOME={k} gnome-keyring-daemon --start --components=secrets >/dev/null; DISPLAY={display} exec {{DRIVER}}'"
    );
    let app = launch(&display, &env, Some(&wrapper)).await;
    let error = app
        .driver
        .wait("[data-testid=keychain-error]", None, 60)
        .await;
    let text = app.driver.text(&error).await;
    assert!(
        text.to_lowercase().contains("locked"),
        "the screen says the keychain is locked: {text}"
    );
    screenshot(&display, "start-keychain-locked");
    drop(app);
    assert!(
        !data.path().join("app").join("strongroom.sqlite3").exists(),
        "nothing was written in clear"
    );
}
