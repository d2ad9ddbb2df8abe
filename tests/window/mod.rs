//! The real window, shared by the app tests (`tests/app.rs`) and the app
//! benchmark (`tests/bench/app.rs`): a private Xvfb display, tauri-driver
//! with WebKitWebDriver, a minimal W3C WebDriver client, and process groups
//! that die with the run.
#![allow(dead_code, missing_docs)]

use crate::support::{Gateway, Guard};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod desktop;

pub const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A few W3C WebDriver calls over plain HTTP on loopback.
pub struct Driver {
    http: reqwest::Client,
    base: String,
    session: String,
}

impl Driver {
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
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

    /// Opens a session, which launches `application`. Also returns when
    /// the request that launched it was sent (for the startup benchmark).
    pub async fn start(port: u16, application: &Path) -> (Driver, Instant) {
        Driver::session(
            port,
            json!({"tauri:options": {"application": application}}),
            "tauri-driver",
        )
        .await
    }

    /// Opens a session with `capabilities` on the WebDriver server at
    /// `port` (tauri-driver, chromedriver), waiting for it to come up.
    pub async fn session(port: u16, capabilities: Value, server: &str) -> (Driver, Instant) {
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
            let sent = Instant::now();
            let reply = http
                .post(format!("{base}/session"))
                .json(&json!({"capabilities": {"alwaysMatch": capabilities}}))
                .send()
                .await;
            if let Ok(reply) = reply {
                let value: Value = reply.json().await.unwrap_or_default();
                if let Some(id) = value["value"]["sessionId"].as_str() {
                    let driver = Driver {
                        http,
                        base,
                        session: id.to_owned(),
                    };
                    return (driver, sent);
                }
                panic!("no session: {value}");
            }
            assert!(Instant::now() < deadline, "{server} did not come up");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The ids of the elements matching `css` now.
    pub async fn elements(&self, css: &str) -> Vec<String> {
        let found = self
            .call(
                "POST",
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits for an element matching `css` (and, if given, whose text
    /// contains `text`) and returns its id.
    pub async fn wait(&self, css: &str, text: Option<&str>, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            for id in self.elements(css).await {
                match text {
                    None => return id,
                    Some(t) => {
                        if self.text(&id).await.contains(t) {
                            return id;
                        }
                    }
                }
            }
            if Instant::now() >= deadline {
                // What the window shows instead says where it went wrong.
                let shown = self
                    .script("return document.body.innerText.slice(0, 1500)")
                    .await;
                panic!("no element {css} {text:?} within {secs} s; the page shows: {shown}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn text(&self, element: &str) -> String {
        self.call("GET", &format!("/element/{element}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn attribute(&self, element: &str, name: &str) -> Option<String> {
        self.call("GET", &format!("/element/{element}/attribute/{name}"), None)
            .await
            .as_str()
            .map(str::to_owned)
    }

    pub async fn click(&self, css: &str) {
        let id = self.wait(css, None, 20).await;
        self.call("POST", &format!("/element/{id}/click"), None)
            .await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
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

    /// Presses `keys` on the keyboard, one after another, through the
    /// WebDriver actions API: real key events at the focused element, no
    /// pointer. WebDriver key codes: Tab `\u{E004}`, Enter `\u{E007}`,
    /// Shift `\u{E008}`, Escape `\u{E00C}`.
    pub async fn keys(&self, keys: &str) {
        let mut actions = Vec::new();
        for k in keys.chars() {
            actions.push(json!({"type": "keyDown", "value": k.to_string()}));
            actions.push(json!({"type": "keyUp", "value": k.to_string()}));
        }
        self.call(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        )
        .await;
    }

    /// The `data-testid` of the focused element, if it has one.
    pub async fn focused(&self) -> Option<String> {
        self.script("return document.activeElement?.getAttribute('data-testid') ?? null")
            .await
            .as_str()
            .map(str::to_owned)
    }

    /// Presses Tab until the focused element's `data-testid` is `testid`
    /// (at most 80 times): the control is reachable by keyboard, in order.
    pub async fn tab_to(&self, testid: &str) {
        for _ in 0..80 {
            if self.focused().await.as_deref() == Some(testid) {
                return;
            }
            self.keys(TAB).await;
        }
        let shown = self
            .script("return document.body.innerText.slice(0, 800)")
            .await;
        panic!("Tab never reached [data-testid={testid}]; the page shows: {shown}");
    }

    /// Runs axe-core (ui/node_modules/axe-core, pinned in ui/package.json)
    /// on the page as it is now and returns its violations as
    /// `(rule, impact, nodes, first targets)`. Fails when axe checked no
    /// rule at all (it did not really run).
    pub async fn axe(&self) -> Vec<(String, String, u64, String)> {
        static AXE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let source = AXE.get_or_init(|| {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/ui/node_modules/axe-core/axe.min.js"
            );
            std::fs::read_to_string(path)
                .unwrap_or_else(|e| panic!("{path}: {e} (npm ci --prefix ui installs axe-core)"))
        });
        let script = format!(
            "const done = arguments[arguments.length - 1];\n\
             if (!window.axe) {{ {source}\n }}\n\
             window.axe.run(document, {{ resultTypes: ['violations'] }}).then(r => done({{\n\
               passes: r.passes.length,\n\
               violations: r.violations.map(v => [v.id, v.impact || 'none', v.nodes.length,\n\
                 v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')])}}),\n\
               e => done({{ passes: 0, violations: [['axe-error', 'critical', 1, String(e)]] }}));"
        );
        let found = self
            .call(
                "POST",
                "/execute/async",
                Some(json!({"script": script, "args": []})),
            )
            .await;
        let passes = found["passes"].as_u64().unwrap_or(0);
        assert!(passes > 0, "axe-core checked no rule: {found}");
        serde_json::from_value(found["violations"].clone())
            .unwrap_or_else(|e| panic!("axe's answer: {e}: {found}"))
    }

    /// Runs [`Driver::axe`], prints the counts by impact (and the moderate
    /// and minor findings), and returns the serious and critical ones, each
    /// named with `place`.
    pub async fn axe_audit(&self, place: &str) -> Vec<String> {
        let found = self.axe().await;
        let count = |impact: &str| {
            found
                .iter()
                .filter(|v| v.1 == impact)
                .map(|v| v.2)
                .sum::<u64>()
        };
        println!(
            "axe-core, {place}: {} critical, {} serious, {} moderate, {} minor ({} rules)",
            count("critical"),
            count("serious"),
            count("moderate"),
            count("minor"),
            found.len()
        );
        let mut serious = Vec::new();
        for v in found {
            if v.1 == "serious" || v.1 == "critical" {
                serious.push(format!(
                    "{place}: {} ({}) on {} nodes: {}",
                    v.0, v.1, v.2, v.3
                ));
            } else {
                println!("  {} ({}): {} nodes, {}", v.0, v.1, v.2, v.3);
            }
        }
        serious
    }

    pub async fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }
}

/// WebDriver's Tab and Enter keys.
pub const TAB: &str = "\u{E004}";
pub const ENTER: &str = "\u{E007}";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub fn tauri_driver() -> PathBuf {
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

/// An X server of our own for the test's windows. Xvfb picks a free
/// display itself (`-displayfd`, which also steps over the stale lock of an
/// X server that was killed) and says which once it accepts clients.
pub fn xvfb() -> (Guard, String) {
    use std::io::BufRead;
    let mut child = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1280x800x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb starts (apt install xvfb)");
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = std::io::BufReader::new(out).read_line(&mut line);
    }
    let guard = Guard(child);
    let n: u32 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("Xvfb did not start: {line:?}"));
    (guard, format!(":{n}"))
}

/// A process group (tauri-driver, WebKitWebDriver, the app, and any D-Bus
/// session around them), killed as a whole when the test ends.
pub struct Group(pub Child);

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

pub struct AppRun {
    pub driver: Driver,
    pub processes: Group,
    /// When the WebDriver request that launched the app was sent.
    pub launched: Instant,
}

/// Starts tauri-driver (and through it `application`) with the app's
/// environment. `wrap` runs tauri-driver inside another shell command (a
/// D-Bus session with a locked keyring).
pub async fn launch(
    display: &str,
    application: &Path,
    env: &[(&str, String)],
    wrap: Option<&str>,
) -> AppRun {
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
    let processes = Group(child);
    let (driver, launched) = Driver::start(port, application).await;
    AppRun {
        driver,
        processes,
        launched,
    }
}

/// Saves the app's window under `docs/screenshots/` (WebKitWebDriver's own
/// screenshot hangs under Xvfb, so the X server is asked; with no window
/// manager the window sits at the top left at its configured size).
pub fn screenshot(display: &str, name: &str) {
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

/// Parent of every process, from `/proc/<pid>/stat`.
pub fn parents() -> HashMap<u32, u32> {
    let mut map = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return map;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The name is in parentheses and may hold spaces; the parent is the
        // second field after it.
        if let Some(ppid) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok())
        {
            map.insert(pid, ppid);
        }
    }
    map
}

pub fn descends_from(pid: u32, ancestor: u32, parents: &HashMap<u32, u32>) -> bool {
    let mut at = pid;
    for _ in 0..64 {
        if at == ancestor {
            return true;
        }
        match parents.get(&at) {
            Some(&p) if p != 0 && p != at => at = p,
            _ => return false,
        }
    }
    false
}

/// The process running `binary` somewhere under `root` (tauri-driver).
pub fn app_pid(root: u32, binary: &Path) -> Option<u32> {
    app_pid_among(&parents(), root, binary)
}

/// [`app_pid`] over a process table already read.
pub fn app_pid_among(parents: &HashMap<u32, u32>, root: u32, binary: &Path) -> Option<u32> {
    parents.keys().copied().find(|&pid| {
        descends_from(pid, root, parents)
            && std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == binary)
    })
}

/// The app's environment for a test or benchmark run: its own data folder
/// (also its HOME, so nothing lands in the real one) and keychain service,
/// and the demo gateway's CA and issuer.
pub fn app_env(data: &Path, service: &str, gateway: &Gateway) -> Vec<(&'static str, String)> {
    vec![
        ("STRONGROOM_DATA_DIR", data.display().to_string()),
        ("STRONGROOM_KEYCHAIN_SERVICE", service.to_owned()),
        ("STRONGROOM_CA_FILE", gateway.ca.display().to_string()),
        ("STRONGROOM_DEMO_ISSUER", gateway.issuer.clone()),
        ("HOME", data.display().to_string()),
    ]
}

/// Links the demo bank through the window: first run, consent, user code,
/// and the customer's approval on the bank's page. Screenshots each step
/// when `shots` is set.
pub async fn link_demo_bank(d: &Driver, gateway: &Gateway, display: &str, shots: bool) {
    link_bank(d, display, shots, async |user_code: String| {
        gateway
            .approve(&user_code, "alice", "alice-demo", true)
            .await;
    })
    .await;
}

/// Links the bank the app offers (`STRONGROOM_DEMO_ISSUER`) through the
/// window; `approve` plays the customer at the bank with the user code.
pub async fn link_bank(d: &Driver, display: &str, shots: bool, approve: impl AsyncFnOnce(String)) {
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
    approve(user_code).await;
    d.wait("[data-testid=link-receipt]", Some("Demo Bank"), 60)
        .await;
    shot("link-receipt");
    d.click("[data-testid=link-done]").await;
}
