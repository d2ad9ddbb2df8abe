//! The installers, used the way a customer and a bank's administrator use
//! them: `apt-get install ./strongroom_*.deb`, the installed app in a real
//! window (Xvfb, WebDriver) linking the demo bank, signed updates from a
//! server on loopback (a wrong key and a tampered file refused, a good one
//! installed), `apt-get remove`; the gateway's .deb as a system service; the
//! .rpm's metadata.
//!
//! They change the machine's packages, so they are ignored by default.
//! `cargo xtask test` runs them after building the packages, and passes
//! their paths and the run's update-signing key in `STRONGROOM_TEST_*`.
//! They need root, or sudo without a password.

#[path = "../crates/client/tests/support/mod.rs"]
mod support;
mod window;

use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use support::Gateway;
use window::{launch, link_demo_bank, xvfb};

/// A path `cargo xtask test` passes in.
fn given(variable: &str) -> PathBuf {
    let path = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!("{variable} is not set: `cargo xtask test` builds the packages and sets it")
        });
    assert!(
        path.exists(),
        "{variable}: {} does not exist",
        path.display()
    );
    path
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program` as root: directly when we are root, else through `sudo -n`.
fn as_root(program: &str) -> Command {
    if is_root() {
        Command::new(program)
    } else {
        let mut c = Command::new("sudo");
        c.args(["-n", program]);
        c
    }
}

fn ok(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    let out = cmd.output().unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert!(
        out.status.success(),
        "{shown} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn apt_get(args: &[&str]) -> Command {
    let mut c = as_root("apt-get");
    c.env("DEBIAN_FRONTEND", "noninteractive").args(args);
    c
}

/// `${Version}` of an installed package, or `None` when it is not installed.
fn installed_version(package: &str) -> Option<String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f", "${db:Status-Abbrev} ${Version}", package])
        .output()
        .ok()?;
    // `${db:Status-Abbrev}` is three characters, the last often a space.
    let line = text(&out);
    let mut words = line.split_whitespace();
    let (status, version) = (words.next()?, words.next()?);
    (status == "ii").then(|| version.to_owned())
}

/// An installed program's `--version` and `--help`: the version is the
/// package's, and the help names what it must.
fn assert_version_and_help(program: &str, help_names: &[&str]) {
    let path = format!("/usr/bin/{program}");
    let version = text(&ok(Command::new(&path).arg("--version")));
    assert_eq!(
        version.trim(),
        format!("{program} 0.1.0"),
        "{path} --version"
    );
    let help = text(&ok(Command::new(&path).arg("--help")));
    for name in help_names {
        assert!(help.contains(name), "{path} --help names {name}: {help}");
    }
}

/// The installed manual page of `program`: `man` finds it among the
/// system's pages, and renders it with the names it must show.
fn assert_manual(program: &str, shows: &[&str]) {
    let page = format!("/usr/share/man/man1/{program}.1.gz");
    let man = |args: &[&str]| {
        let mut c = Command::new("man");
        // Plain ASCII, wide lines, no pager: the text as a script reads it.
        c.args(args)
            .env("LC_ALL", "C")
            .env("MANWIDTH", "120")
            .env("MANPAGER", "cat")
            .env("PAGER", "cat");
        text(&ok(&mut c))
    };
    assert_eq!(man(&["-w", program]).trim(), page, "man -w {program}");
    let rendered = man(&["-l", &page]);
    // Bold and underline as overstrikes (`x\bx`), if any, are dropped.
    let mut shown = String::new();
    let mut chars = rendered.chars().peekable();
    while let Some(c) = chars.next() {
        if chars.peek() == Some(&'\u{8}') {
            chars.next();
        } else {
            shown.push(c);
        }
    }
    for name in ["NAME", "SYNOPSIS", program].iter().chain(shows) {
        assert!(shown.contains(name), "man {program} shows {name}: {shown}");
    }
}

/// Removes `package` if an earlier, interrupted run left it installed.
fn start_clean(package: &str) {
    if installed_version(package).is_some() {
        ok(&mut apt_get(&["purge", "-y", package]));
    }
}

/// The update server of the test: answers `GET /update` with the offer of
/// the moment and `GET /package.deb` with its bytes, over plain HTTP on
/// loopback (the test build allows http; the signature is what protects).
struct UpdateServer {
    url: String,
    offer: Arc<Mutex<(serde_json::Value, Vec<u8>)>>,
}

impl UpdateServer {
    fn start() -> UpdateServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let offer = Arc::new(Mutex::new((json!({}), Vec::new())));
        let served = offer.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                let _ = reader.read_line(&mut request);
                // The rest of the head is read and dropped.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = request.split_whitespace().nth(1).unwrap_or("").to_owned();
                let (json, bytes) = served.lock().unwrap().clone();
                let (kind, body) = if path.starts_with("/update") {
                    ("application/json", json.to_string().into_bytes())
                } else if path == "/package.deb" {
                    ("application/vnd.debian.binary-package", bytes)
                } else {
                    ("text/plain", b"not found".to_vec())
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        UpdateServer { url, offer }
    }

    /// Offers `version`, announcing `signature` for the file and serving
    /// `bytes` as the file.
    fn offer(&self, version: &str, signature: &str, bytes: Vec<u8>) {
        let json = json!({
            "version": version,
            "notes": format!("Strongroom {version}"),
            "pub_date": "2026-11-24T12:00:00Z",
            "url": format!("{}/package.deb", self.url),
            "signature": signature,
        });
        *self.offer.lock().unwrap() = (json, bytes);
    }
}

/// The same package with another version in its control file: the newer
/// release the update server offers.
fn with_version(deb: &Path, version: &str, dir: &Path) -> PathBuf {
    let tree = dir.join("tree");
    ok(Command::new("dpkg-deb").arg("-R").arg(deb).arg(&tree));
    let control = tree.join("DEBIAN/control");
    let old = std::fs::read_to_string(&control).unwrap();
    let new: String = old
        .lines()
        .map(|l| {
            if l.starts_with("Version:") {
                format!("Version: {version}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert_ne!(old, new, "the control file names a version");
    std::fs::write(&control, new).unwrap();
    let out = dir.join(format!("strongroom_{version}_amd64.deb"));
    ok(Command::new("dpkg-deb")
        .args(["--root-owner-group", "-b"])
        .arg(&tree)
        .arg(&out));
    out
}

/// Signs `file` with the Tauri CLI and `key`, bound to `version` when
/// given (the signature's trusted comment): the `.sig` contents the update
/// JSON carries.
fn sign(key: &Path, file: &Path, version: Option<&str>) -> String {
    let mut cmd = Command::new(given("STRONGROOM_TAURI_CLI"));
    cmd.args(["signer", "sign", "-f"]).arg(key).args(["-p", ""]);
    if let Some(version) = version {
        cmd.args(["--app-version", version]);
    }
    ok(cmd.arg(file));
    let sig = PathBuf::from(format!("{}.sig", file.display()));
    let signature = std::fs::read_to_string(&sig).unwrap();
    std::fs::remove_file(sig).unwrap();
    signature
}

/// In the Settings page: check, see the offer, install; returns the
/// element that reports the outcome (`update-error` or `update-installed`).
async fn check_and_install(d: &window::Driver, version: &str) -> (String, String) {
    d.click("[data-testid=nav-settings]").await;
    d.click("[data-testid=update-check]").await;
    d.wait("[data-testid=update-offer]", Some(version), 30)
        .await;
    d.click("[data-testid=update-install]").await;
    for _ in 0..240 {
        for outcome in ["update-error", "update-installed"] {
            let found = d.elements(&format!("[data-testid={outcome}]")).await;
            if let Some(element) = found.first() {
                return (outcome.to_owned(), element.clone());
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("installing {version} showed no outcome within a minute");
}

async fn assert_refused(d: &window::Driver, version: &str, why: &str) {
    assert_refused_as(d, version, "update_signature", why).await;
}

async fn assert_refused_as(d: &window::Driver, version: &str, code: &str, why: &str) {
    let (outcome, element) = check_and_install(d, version).await;
    let message = d.text(&element).await;
    assert_eq!(
        outcome, "update-error",
        "{why}: refused, not installed ({message})"
    );
    assert_eq!(
        d.attribute(&element, "data-code").await.as_deref(),
        Some(code),
        "{why}: {message}"
    );
    assert!(
        message.contains("refused") && message.contains("0.1.0 keeps running"),
        "{why}: the message says what happened: {message}"
    );
    assert_eq!(
        installed_version("strongroom").as_deref(),
        Some("0.1.0"),
        "{why}: the installed version is untouched"
    );
    // The running app still works: its linked bank is there and it can
    // ask for updates again.
    assert!(
        !d.elements("[data-testid^=unlink-]").await.is_empty(),
        "{why}: the linked bank is still listed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "installs packages: run by `cargo xtask test`"]
async fn the_app_deb_installs_runs_takes_only_signed_updates_and_removes_cleanly() {
    let deb = given("STRONGROOM_TEST_APP_DEB");
    let update_key = given("STRONGROOM_TEST_UPDATE_KEY");
    start_clean("strongroom");

    // Installed the way a user does.
    ok(&mut apt_get(&["install", "-y", &deb.display().to_string()]));
    assert_eq!(installed_version("strongroom").as_deref(), Some("0.1.0"));
    let files: Vec<String> = text(&ok(Command::new("dpkg").args(["-L", "strongroom"])))
        .lines()
        .map(str::to_owned)
        .collect();
    for expected in [
        "/usr/bin/strongroom",
        "/usr/share/applications/Strongroom.desktop",
        METAINFO,
        "/usr/share/icons/hicolor/128x128/apps/strongroom.png",
        "/usr/share/doc/strongroom/copyright",
        "/usr/bin/strongroom-cli",
        "/usr/share/man/man1/strongroom-cli.1.gz",
        "/usr/share/bash-completion/completions/strongroom-cli",
    ] {
        assert!(
            files.iter().any(|f| f == expected),
            "{expected} in {files:?}"
        );
    }
    assert_desktop_metadata();
    let desktop = std::fs::read_to_string("/usr/share/applications/Strongroom.desktop").unwrap();
    for line in [
        "Exec=strongroom",
        "Icon=strongroom",
        "Name=Strongroom",
        "Type=Application",
    ] {
        assert!(desktop.lines().any(|l| l == line), "{line} in {desktop}");
    }
    let depends = text(&ok(Command::new("dpkg-query").args([
        "-W",
        "-f",
        "${Depends}",
        "strongroom",
    ])));
    assert!(depends.contains("libwebkit2gtk-4.1-0"), "{depends}");

    // The command-line client beside the app, with its manual.
    assert_version_and_help("strongroom-cli", &["link", "verify-transcript", "--json"]);
    assert_manual("strongroom-cli", &["verify-transcript", "--data-dir"]);

    // The installed binary, in a real window: the keychain check passes
    // (the first-run screen only comes after it) and the demo bank links.
    let gw_dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::start(gw_dir.path(), &[]);
    let (_x, display) = xvfb();
    let data = tempfile::tempdir().unwrap();
    let service = support::keychain_service("package");
    let server = UpdateServer::start();
    let mut env = window::app_env(data.path(), &service, &gateway);
    env.push(("STRONGROOM_UPDATE_URL", format!("{}/update", server.url)));
    let installed = Path::new("/usr/bin/strongroom");
    let app = launch(&display, installed, &env, None).await;
    let d = &app.driver;
    link_demo_bank(d, &gateway, &display, false).await;
    d.wait("[data-testid=account-card]", Some("Demo Bank"), 30)
        .await;

    // Version 0.2.0, signed three ways.
    let work = tempfile::tempdir().unwrap();
    let newer = with_version(&deb, "0.2.0", work.path());
    let bytes = std::fs::read(&newer).unwrap();
    let other_key = work.path().join("other.key");
    ok(Command::new(given("STRONGROOM_TAURI_CLI"))
        .args(["signer", "generate", "--ci", "--force", "-w"])
        .arg(&other_key));

    server.offer(
        "0.2.0",
        &sign(&other_key, &newer, Some("0.2.0")),
        bytes.clone(),
    );
    assert_refused(d, "0.2.0", "signed with a key that is not the app's").await;

    let mut tampered = bytes.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    server.offer("0.2.0", &sign(&update_key, &newer, Some("0.2.0")), tampered);
    assert_refused(d, "0.2.0", "one byte changed after signing").await;

    // Attack (adversarial review, finding 10): the updater could be
    // downgraded. A genuine, correctly signed older release (here 0.1.0
    // itself) announced as 0.2.0 is refused, and so is a signature that is
    // bound to no version.
    let old = std::fs::read(&deb).unwrap();
    server.offer("0.2.0", &sign(&update_key, &deb, Some("0.1.0")), old);
    assert_refused_as(
        d,
        "0.2.0",
        "update_downgrade",
        "an older release announced as newer",
    )
    .await;
    server.offer("0.2.0", &sign(&update_key, &newer, None), bytes.clone());
    assert_refused(d, "0.2.0", "a signature bound to no version").await;

    server.offer("0.2.0", &sign(&update_key, &newer, Some("0.2.0")), bytes);
    let (outcome, element) = check_and_install(d, "0.2.0").await;
    let message = d.text(&element).await;
    assert_eq!(
        outcome, "update-installed",
        "a good signature installs: {message}"
    );
    assert!(message.contains("0.2.0"), "{message}");
    assert_eq!(installed_version("strongroom").as_deref(), Some("0.2.0"));
    drop(app);

    // Removed the way a user does: nothing of the package is left; the
    // user's own data folder is theirs and stays.
    ok(&mut apt_get(&["remove", "-y", "strongroom"]));
    assert_eq!(installed_version("strongroom"), None);
    for file in &files {
        let path = Path::new(file);
        if !path.is_dir() {
            assert!(!path.exists(), "{file} is left after apt-get remove");
        }
    }
    for dir in ["/usr/lib/Strongroom", "/usr/share/doc/strongroom"] {
        assert!(
            !Path::new(dir).exists(),
            "{dir} is left after apt-get remove"
        );
    }
    assert!(
        std::fs::read_dir(data.path()).is_ok_and(|mut d| d.next().is_some()),
        "the user's data folder is kept"
    );
    let _ = Command::new("secret-tool")
        .args(["clear", "service", &service])
        .status();
}

#[test]
#[ignore = "installs packages: run by `cargo xtask test`"]
fn the_gateway_deb_installs_a_service_with_its_user_config_and_data_folder() {
    let deb = given("STRONGROOM_TEST_GATEWAY_DEB");
    start_clean("strongroom-gateway");
    ok(&mut apt_get(&["install", "-y", &deb.display().to_string()]));
    assert!(installed_version("strongroom-gateway").is_some());

    // A system user with no login, owning the data folder.
    let user = text(&ok(
        Command::new("getent").args(["passwd", "strongroom-gateway"])
    ));
    let fields: Vec<&str> = user.trim().split(':').collect();
    let uid: u32 = fields[2].parse().unwrap();
    assert!(uid < 1000, "a system user: {user}");

    // The command line documents itself, installed and in its manuals.
    assert_version_and_help(
        "strongroom-gateway",
        &["--config", "--demo", "staff", "demo"],
    );
    assert_manual("strongroom-gateway", &["--config", "--listen", "staff"]);
    assert_manual("strongroom-gateway-staff", &["add", "disable"]);
    assert!(
        Path::new("/usr/share/bash-completion/completions/strongroom-gateway").is_file(),
        "the gateway's bash completion is installed"
    );
    assert_eq!(fields[5], "/var/lib/strongroom-gateway", "{user}");
    assert_eq!(fields[6], "/usr/sbin/nologin", "{user}");
    let stat = |p: &str| {
        text(&ok(Command::new("stat").args(["-c", "%U:%G %a", p])))
            .trim()
            .to_owned()
    };
    assert_eq!(
        stat("/var/lib/strongroom-gateway"),
        "strongroom-gateway:strongroom-gateway 750"
    );
    assert_eq!(
        stat("/etc/strongroom-gateway/gateway.conf"),
        "root:strongroom-gateway 640"
    );
    let conffiles = text(&ok(Command::new("dpkg-query").args([
        "-W",
        "-f",
        "${Conffiles}",
        "strongroom-gateway",
    ])));
    assert!(
        conffiles.contains("/etc/strongroom-gateway/gateway.conf"),
        "the config file is a conffile: {conffiles}"
    );

    // The unit is valid and starts what the package installed.
    let unit = "/lib/systemd/system/strongroom-gateway.service";
    let text_of_unit = std::fs::read_to_string(unit).unwrap();
    assert!(text_of_unit.contains(
        "ExecStart=/usr/bin/strongroom-gateway --config /etc/strongroom-gateway/gateway.conf"
    ));
    assert!(text_of_unit.contains("User=strongroom-gateway"));
    let verify = Command::new("systemd-analyze")
        .args(["verify", unit])
        .output()
        .expect("systemd-analyze runs");
    let complaints = String::from_utf8_lossy(&verify.stderr);
    assert!(
        verify.status.success() && !complaints.contains("strongroom-gateway.service:"),
        "systemd-analyze verify finds nothing in the unit: {complaints}"
    );
    assert_unit_hardened(unit, &text_of_unit);
    assert_upgrades_keep_a_disabled_unit_disabled();

    // Attack (adversarial review, finding 1): the package shipped demo
    // mode on, so a bank's gateway let anyone in with published passwords.
    let shipped = text(&ok(
        as_root("cat").arg("/etc/strongroom-gateway/gateway.conf")
    ));
    assert!(
        shipped.lines().any(|l| l.trim() == "demo = false"),
        "the package ships with demo off"
    );
    assert!(
        !shipped.lines().any(|l| l.trim() == "demo = true"),
        "and never on"
    );

    // What the unit runs, as the service's user (this machine's init may
    // not be systemd): it reads the installed config, keeps its data in
    // /var/lib/strongroom-gateway and serves.
    let mut service = as_root("runuser");
    service
        .args(["-u", "strongroom-gateway", "--"])
        .args(["/usr/bin/strongroom-gateway", "--config"])
        .arg("/etc/strongroom-gateway/gateway.conf")
        // A free port: the test machine's 8443 may be taken. The package
        // ships with demo off (see below); demo on the command line lets the
        // service run without a certificate.
        .args(["--listen", "127.0.0.1:0", "--demo", "--demo-rate", "0"])
        .stdout(std::process::Stdio::piped());
    let mut child = service.spawn().expect("the gateway starts");
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    let _ = as_root("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    assert!(
        ready.contains("issuer=https://127.0.0.1:"),
        "ready line: {ready}"
    );
    let data = text(&ok(
        as_root("ls").args(["-A", "/var/lib/strongroom-gateway"])
    ));
    assert!(
        data.lines().any(|f| f == "gateway.db") && data.lines().any(|f| f == "demo-ca.pem"),
        "the database and the demo CA are in the data folder: {data}"
    );

    // Remove keeps the configuration (Debian's rule for conffiles); purge
    // removes it and keeps the bank's data.
    ok(&mut apt_get(&["remove", "-y", "strongroom-gateway"]));
    assert!(!Path::new("/usr/bin/strongroom-gateway").exists());
    assert!(!Path::new(unit).exists());
    assert!(Path::new("/etc/strongroom-gateway/gateway.conf").exists());
    ok(&mut apt_get(&["purge", "-y", "strongroom-gateway"]));
    assert!(!Path::new("/etc/strongroom-gateway").exists());
    assert!(
        Path::new("/var/lib/strongroom-gateway").exists(),
        "bank data is kept on purge"
    );
    let _ = as_root("rm")
        .args(["-rf", "/var/lib/strongroom-gateway"])
        .status();
}

/// The unit runs under systemd's notify protocol with a watchdog, and its
/// sandbox scores as systemd measures it (lower is safer: 1.6 before
/// ProtectProc, ProcSubset, RemoveIPC and PrivateMounts, 1.2 with them).
fn assert_unit_hardened(unit: &str, text_of_unit: &str) {
    for directive in [
        "Type=notify",
        "NotifyAccess=main",
        "WatchdogSec=",
        "ProtectProc=invisible",
        "ProcSubset=pid",
        "RemoveIPC=yes",
    ] {
        assert!(text_of_unit.contains(directive), "{directive} in the unit");
    }
    let security = ok(Command::new("systemd-analyze").args(["security", "--offline=true", unit]));
    let report = text(&security);
    let score: f64 = report
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for strongroom-gateway.service:")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("an exposure score in {report}"));
    println!("systemd-analyze security: strongroom-gateway.service exposure {score}");
    assert!(score <= 1.2, "exposure {score} (1.2 shipped):\n{report}");
}

/// Attack on the administrator's intent: the maintainer script enabled the
/// unit on every upgrade, so a gateway an administrator had disabled came
/// back after `apt-get upgrade`. The installed postinst is run against a
/// stand-in `systemctl` that records what it is asked.
fn assert_upgrades_keep_a_disabled_unit_disabled() {
    let postinst =
        std::fs::read_to_string("/var/lib/dpkg/info/strongroom-gateway.postinst").unwrap();
    let fake = tempfile::tempdir().unwrap();
    let (bin, booted) = (fake.path().join("bin"), fake.path().join("systemd"));
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&booted).unwrap();
    let systemctl = bin.join("systemctl");
    std::fs::write(
        &systemctl,
        "#!/bin/sh\necho \"$*\" >> \"$SYSTEMCTL_LOG\"\n\
         [ \"$1\" = is-enabled ] && exit \"$UNIT_DISABLED\"\nexit 0\n",
    )
    .unwrap();
    std::fs::set_permissions(
        &systemctl,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let script = postinst.replace("/run/systemd/system", &booted.display().to_string());
    let run = |previous: &str, disabled: bool| -> String {
        let log = fake.path().join(format!("log-{previous}-{disabled}"));
        let mut cmd = as_root("env");
        cmd.arg(format!(
            "PATH={}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        ))
        .arg(format!("SYSTEMCTL_LOG={}", log.display()))
        .arg(format!("UNIT_DISABLED={}", u8::from(disabled)))
        .args(["sh", "-c", &script, "postinst", "configure"]);
        if !previous.is_empty() {
            cmd.arg(previous);
        }
        ok(&mut cmd);
        std::fs::read_to_string(&log).unwrap_or_default()
    };
    let first = run("", false);
    assert!(
        first.contains("enable strongroom-gateway"),
        "first install enables: {first}"
    );
    assert!(first.contains("start strongroom-gateway"), "{first}");
    let disabled = run("0.0.9", true);
    assert!(
        !disabled
            .lines()
            .any(|l| l.starts_with("enable") || l.contains("restart")),
        "an upgrade leaves a disabled unit alone: {disabled}"
    );
    let enabled = run("0.0.9", false);
    assert!(
        enabled.contains("try-restart strongroom-gateway"),
        "{enabled}"
    );
    assert!(
        !enabled.lines().any(|l| l.starts_with("enable")),
        "{enabled}"
    );
}

#[test]
#[ignore = "reads the packages: run by `cargo xtask test`"]
fn the_app_rpm_names_its_files_licence_and_dependencies() {
    let rpm = given("STRONGROOM_TEST_APP_RPM");
    let query = |args: &[&str]| {
        let mut c = Command::new("rpm");
        c.arg("-qp").args(args).arg(&rpm);
        text(&ok(&mut c))
    };
    let info = query(&["--queryformat", "%{NAME} %{VERSION} %{LICENSE}"]);
    assert_eq!(info.trim(), "strongroom 0.1.0 Apache-2.0");
    let files = query(&["-l"]);
    for f in [
        "/usr/bin/strongroom",
        "/usr/share/applications/Strongroom.desktop",
        METAINFO,
    ] {
        assert!(files.lines().any(|l| l == f), "{f} in {files}");
    }
    let requires = query(&["--requires"]);
    assert!(requires.contains("libwebkit2gtk-4.1.so.0"), "{requires}");
    let mut head = [0u8; 4];
    std::fs::File::open(&rpm)
        .unwrap()
        .read_exact(&mut head)
        .unwrap();
    assert_eq!(head, [0xed, 0xab, 0xee, 0xdb], "an RPM lead");
}

/// The app's AppStream metadata, as the packages install it.
const METAINFO: &str = "/usr/share/metainfo/app.strongroom.Strongroom.metainfo.xml";

/// The installed AppStream metadata validates (`appstreamcli validate`,
/// no network) and launches the installed desktop file, whose name is
/// the one the app's notifications give as their `desktop-entry` hint.
fn assert_desktop_metadata() {
    let validated =
        ok(Command::new("appstreamcli").args(["validate", "--no-net", "--explain", METAINFO]));
    println!("appstreamcli validate: {}", text(&validated).trim());
    let metainfo = std::fs::read_to_string(METAINFO).unwrap();
    let launchable = metainfo
        .lines()
        .find_map(|l| l.trim().strip_prefix("<launchable type=\"desktop-id\">"))
        .and_then(|l| l.strip_suffix("</launchable>"))
        .expect("a desktop-id launchable");
    assert!(
        std::path::Path::new("/usr/share/applications")
            .join(launchable)
            .is_file(),
        "{launchable} is installed"
    );
    let hint = include_str!("../src-tauri/src/notify.rs")
        .lines()
        .find_map(|l| l.trim().strip_prefix("const DESKTOP_ENTRY: &str = \""))
        .and_then(|l| l.strip_suffix("\";"))
        .expect("the notifications' desktop-entry hint");
    assert_eq!(
        format!("{hint}.desktop"),
        launchable,
        "the notifications name the installed desktop file"
    );
}
