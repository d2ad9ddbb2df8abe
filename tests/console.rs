//! The agent console in a real browser: headless Chromium (Debian's
//! `chromium` and `chromium-driver`) through WebDriver, against a real
//! gateway over TLS, with a real linked device on the other side.
//!
//! The browser trusts the demo CA the way a bank's staff would be set up:
//! the CA is in the NSS database of the browser's (temporary) home, not
//! waved through with a certificate-error switch.

#[path = "../crates/client/tests/support/mod.rs"]
mod support;
mod window;

use serde_json::json;
use std::path::Path;
use std::process::{Command, Stdio};
use strongroom_client::ClientEvent;
use support::{Gateway, TestDevice, add_staff, wait_for};
use window::{Driver, Group, free_port};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A browser home whose NSS database trusts each of `cas`.
fn browser_home(cas: &[&Path]) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("a temp dir");
    let db = home.path().join(".pki/nssdb");
    std::fs::create_dir_all(&db).expect("the NSS folder");
    let db = format!("sql:{}", db.display());
    let ok = Command::new("certutil")
        .args(["-d", &db, "-N", "--empty-password"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "certutil (libnss3-tools) makes the NSS database");
    for (i, ca) in cas.iter().enumerate() {
        let ok = Command::new("certutil")
            .args(["-d", &db, "-A", "-t", "C,,", "-n"])
            .arg(format!("strongroom-demo-ca-{i}"))
            .arg("-i")
            .arg(ca)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "the demo CA goes into the NSS database");
    }
    home
}

/// Starts chromedriver and a headless Chromium session with `home`.
async fn browser(home: &Path) -> (Group, Driver) {
    let port = free_port();
    let mut command = Command::new(CHROMEDRIVER);
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let driver = Group(
        command
            .arg(format!("--port={port}"))
            .env("HOME", home)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts (apt package chromium-driver)"),
    );
    let profile = home.join("profile");
    let (session, _) = Driver::session(
        port,
        json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        }),
        "chromedriver",
    )
    .await;
    (driver, session)
}

async fn go(d: &Driver, url: &str) {
    d.call("POST", "/url", Some(json!({"url": url}))).await;
}

async fn sign_in(d: &Driver, gateway: &Gateway, username: &str, password: &str) {
    go(d, &format!("{}/console", gateway.issuer)).await;
    d.type_into("#username", username).await;
    d.type_into("#password", password).await;
    d.click("button[type=submit]").await;
    d.wait("p.bar", None, 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_answer_send_alerts_and_switch_pilot_flags_from_the_console_in_chromium() {
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let gateway = Gateway::start(dir.path(), &[]);
    add_staff(
        &gateway,
        "silva",
        "Ana Silva",
        "agent",
        "correct horse battery staple",
    );

    // The customer's side: a real device (store, keychain, stream).
    let device = TestDevice::new("console");
    let client = device.client(&gateway);
    let account = support::link(&client, &gateway, "alice").await;
    let mut events = client.subscribe();
    let _streams = client.run_all().expect("the stream starts");
    wait_for(&mut events, 30, |e| {
        matches!(e, ClientEvent::Connected { .. }).then_some(())
    })
    .await;
    client
        .send_chat(account, "Is my card blocked?")
        .expect("the message is queued");
    wait_for(&mut events, 30, |e| {
        matches!(e, ClientEvent::ChatAccepted { .. }).then_some(())
    })
    .await;

    // Another bank, with its own gateway (its own staff, customers and
    // conversations): it writes to its customer Bob.
    let other_dir = tempfile::tempdir().expect("a temp dir");
    let other = Gateway::start(other_dir.path(), &["--bank-name", "Other Bank"]);
    let (status, _) = other
        .bank(
            "POST",
            "/bank/v1/chat",
            Some(json!({"customer": "bob", "author": "Other Bank", "body": "Your new card is on its way"})),
        )
        .await;
    assert_eq!(status, 201, "the other bank writes to Bob");

    let home = browser_home(&[&gateway.ca, &other.ca]);
    let (_chromedriver, d) = browser(home.path()).await;
    // Every page staff (and a customer linking) see is checked by axe-core.
    let mut a11y = Vec::new();
    go(&d, &format!("{}/device", gateway.issuer)).await;
    a11y.extend(d.axe_audit("console, customer's sign-in to link").await);
    go(&d, &format!("{}/console", gateway.issuer)).await;
    d.wait("#username", None, 20).await;
    a11y.extend(d.axe_audit("console, sign-in").await);

    // An agent signs in, finds Alice waiting, and answers.
    sign_in(&d, &gateway, "silva", "correct horse battery staple").await;
    d.wait("li[data-customer=alice]", Some("waiting"), 20).await;
    a11y.extend(d.axe_audit("console, queue").await);
    d.click("li[data-customer=alice] a").await;
    d.wait("ol.chat", Some("Is my card blocked?"), 20).await;
    a11y.extend(d.axe_audit("console, conversation").await);
    d.type_into("#body", "No, it is fine. Ana").await;
    d.click("form[action$='/reply'] button").await;
    let reply = wait_for(&mut events, 30, |e| match e {
        ClientEvent::Message {
            from_bank: true,
            author,
            body,
            ..
        } => Some((author.clone(), body.clone())),
        _ => None,
    })
    .await;
    assert_eq!(
        reply,
        ("Ana Silva".to_owned(), "No, it is fine. Ana".to_owned())
    );

    // She sends an alert; the device verifies it as the bank's.
    d.wait("#text", None, 20).await;
    d.type_into("#text", "Card payment at Corner Café").await;
    d.type_into("#amount", "42.50").await;
    d.type_into("#merchant", "Corner Café").await;
    d.click("form[action$='/alert'] button").await;
    let alert = wait_for(&mut events, 30, |e| match e {
        ClientEvent::Alert { alert, .. } => Some(alert.clone()),
        _ => None,
    })
    .await;
    assert!(alert.verified, "verified: {}", alert.verification);
    assert_eq!(
        (alert.amount_minor, alert.merchant.as_deref()),
        (Some(4_250), Some("Corner Café"))
    );

    // The queue follows new messages by itself (server-sent events): the
    // answered conversation comes back as waiting without a reload by hand.
    go(&d, &format!("{}/console", gateway.issuer)).await;
    d.wait("li[data-customer=alice]", Some("answered"), 20)
        .await;
    client
        .send_chat(account, "One more question")
        .expect("the message is queued");
    d.wait("li[data-customer=alice]", Some("waiting"), 20).await;

    // Pilot flags are for admins.
    go(&d, &format!("{}/console/flags", gateway.issuer)).await;
    d.wait("p.error", Some("Only an admin"), 20).await;
    go(&d, &format!("{}/console", gateway.issuer)).await;
    d.click("form[action='/console/sign-out'] button").await;
    d.wait("#username", None, 20).await;
    sign_in(&d, &gateway, "admin", "admin-console-demo").await;
    go(&d, &format!("{}/console/flags", gateway.issuer)).await;
    d.type_into("#m-cohort", "pilot-1").await;
    d.type_into("#m-customers", "alice").await;
    d.click("form[action='/console/flags/members'] button")
        .await;
    d.wait("tr[data-cohort=pilot-1]", Some("alice"), 20).await;
    a11y.extend(d.axe_audit("console, pilot flags").await);
    d.type_into("#f-cohort", "pilot-1").await;
    d.type_into("#f-flag", "quick_replies").await;
    d.click("form[action='/console/flags/set'] button").await;
    let flags = wait_for(&mut events, 30, |e| match e {
        ClientEvent::Flags { flags, .. } if flags.contains_key("quick_replies") => {
            Some(flags.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(flags.get("quick_replies"), Some(&true));

    // An agent of one bank cannot open another bank's conversation: the
    // other bank's console knows neither her session nor her account, and
    // her own bank's console has no trace of it.
    let bob = |g: &Gateway| format!("{}/console/c/2", g.issuer);
    go(&d, &bob(&other)).await;
    d.wait("#username", None, 20).await;
    let page = d.script("return document.body.innerText").await;
    assert!(
        !page.to_string().contains("Your new card"),
        "the other bank's conversation stays closed: {page}"
    );
    d.type_into("#username", "silva").await;
    d.type_into("#password", "correct horse battery staple")
        .await;
    d.click("button[type=submit]").await;
    d.wait("p.error", Some("not right"), 20).await;
    go(&d, &bob(&gateway)).await;
    let page = d.script("return document.body.innerText").await;
    assert!(
        !page.to_string().contains("Your new card"),
        "nothing of the other bank's conversation in this bank's console: {page}"
    );

    // Every action is in the audit log, with who did it.
    go(&d, &format!("{}/console/approvals", gateway.issuer)).await;
    d.wait("body", None, 20).await;
    a11y.extend(d.axe_audit("console, approvals").await);
    go(&d, &format!("{}/console/audit", gateway.issuer)).await;
    let table = d.wait("table.audit", Some("flags.set"), 20).await;
    a11y.extend(d.axe_audit("console, audit log").await);
    assert!(
        a11y.is_empty(),
        "serious or critical axe-core violations:\n{}",
        a11y.join("\n")
    );
    let text = d.text(&table).await;
    for (who, action) in [
        ("silva", "console.sign_in"),
        ("silva", "chat.reply"),
        ("silva", "alert.send"),
        ("silva", "console.sign_out"),
        ("admin", "cohort.add_members"),
        ("admin", "flags.set"),
    ] {
        assert!(
            text.lines().any(|l| l.contains(who) && l.contains(action)),
            "{who} {action} missing from the audit log:\n{text}"
        );
    }
}

/// One browser test at a time: the call-status test also runs the app's
/// window, and two cores do not run two browsers, a window and their
/// gateways side by side without timeouts.
/// Staff sign in through the bank's identity provider (a real OpenID
/// provider, `tests/idp`): the authorization code flow with PKCE in the
/// browser, the role from the groups claim, every sign-in audited with the
/// IdP's `sub`; someone outside the staff group is refused; signing out
/// ends the console session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_sign_in_through_the_banks_identity_provider_in_chromium() {
    let _one = ONE_AT_A_TIME.lock().await;
    let port = free_port();
    let resource = format!("https://127.0.0.1:{port}");
    let idp = support::idp::BankIdp::start(&resource, support::idp::TokenFormat::Jwt, 60, 300);
    let dir = tempfile::tempdir().expect("a temp dir");
    let idp_ca = idp.ca.to_string_lossy().into_owned();
    let client = idp.console_credentials.to_string_lossy().into_owned();
    let gateway = Gateway::start_at(
        dir.path(),
        &format!("127.0.0.1:{port}"),
        &[
            "--staff-sso-issuer",
            &idp.issuer,
            "--staff-sso-client",
            &client,
            "--staff-sso-ca",
            &idp_ca,
        ],
    );
    // A local account made before the bank switched to single sign-on signs
    // nobody in, even with a one-time form token from the customers' page.
    add_staff(
        &gateway,
        "legacy",
        "Old Account",
        "admin",
        "correct horse battery staple",
    );
    let page = gateway
        .http
        .get(format!("{}/device", gateway.issuer))
        .send()
        .await
        .expect("the verification page")
        .text()
        .await
        .expect("its text");
    let csrf = support::hidden_field(&page, "csrf").expect("a one-time form token");
    let local = gateway
        .http
        .post(format!("{}/console/sign-in", gateway.issuer))
        .form(&[
            ("username", "legacy"),
            ("password", "correct horse battery staple"),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .expect("the sign-in answers");
    assert_eq!(local.status().as_u16(), 404, "no local sign-in beside SSO");
    assert!(
        local.headers().get("set-cookie").is_none(),
        "no session from a local password"
    );

    // Each person in a browser of their own (the IdP remembers who signed in).
    let sign_in_sso = |user: &'static str| {
        let (gateway, idp) = (&gateway, &idp);
        async move {
            let profile = browser_home(&[&gateway.ca, &idp.ca]);
            let (driver, d) = browser(profile.path()).await;
            go(&d, &format!("{}/console", gateway.issuer)).await;
            d.click("#sso").await;
            d.wait("#username", None, 20).await;
            let url = d.call("GET", "/url", None).await;
            assert!(
                url.as_str().is_some_and(|u| u.starts_with(&idp.issuer)),
                "the console sends staff to the bank's IdP: {url}"
            );
            d.type_into("#username", user).await;
            d.type_into("#password", &format!("{user}-pass-1")).await;
            d.click("#sign-in").await;
            d.wait("#allow", None, 20).await;
            d.click("#allow").await;
            (driver, d, profile)
        }
    };

    // An admin: the console, the admin's pages, the audit log naming her sub.
    let (_chromedriver, d, _profile) = sign_in_sso("ada").await;
    let bar = d.text(&d.wait("p.bar", None, 20).await).await;
    assert!(bar.contains("(admin)"), "{bar}");
    go(&d, &format!("{}/console/audit", gateway.issuer)).await;
    let audit = d
        .text(&d.wait("table.audit", Some("console.sign_in"), 20).await)
        .await;
    assert!(
        audit.contains(&format!("{} sub=idp-ada", idp.issuer)),
        "the sign-in is audited with the IdP's sub:\n{audit}"
    );
    // Signing out ends the console session.
    d.click("form[action='/console/sign-out'] button").await;
    d.wait("#sso", None, 20).await;
    go(&d, &format!("{}/console/audit", gateway.issuer)).await;
    d.wait("#sso", None, 20).await;

    // An agent: the console, not the admin's pages.
    let (_chromedriver, d, _profile) = sign_in_sso("sam").await;
    let bar = d.text(&d.wait("p.bar", None, 20).await).await;
    assert!(bar.contains("(agent)"), "{bar}");
    assert!(!bar.contains("Audit log"), "{bar}");

    // Someone the bank has not put in the staff group.
    let (_chromedriver, d, _profile) = sign_in_sso("una").await;
    let refused = d.text(&d.wait("p.error", None, 20).await).await;
    assert!(refused.contains("not in the staff group"), "{refused}");
    go(&d, &format!("{}/console", gateway.issuer)).await;
    d.wait("#sso", None, 20).await;
}

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `strongroom-cli call-status --json` for `device`: its exit status and
/// its one line about the demo bank.
async fn cli_call_status(device: &TestDevice, gateway: &Gateway) -> (i32, serde_json::Value) {
    let mut command = device.cli(gateway);
    command.args(["call-status", "--json"]);
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the CLI's thread")
        .expect("strongroom-cli runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["type"] == "call_status")
        .unwrap_or_else(|| panic!("a call_status line in {text:?}"));
    (out.status.code().unwrap_or(-1), line)
}

/// "Is my bank really calling me?" end to end, with every part real: an
/// agent starts a call status in the console (Chromium); the customer's
/// window (WebKit, through tauri-driver) and the CLI on a second device
/// say "talking to you now" with the agent's name, the desktop shows a
/// notification and the tray a line; the agent ends the call and both say
/// "not calling you"; the customer reports a scam call from the window and
/// from the CLI and the console's queue shows both; the gateway stops and
/// both say "can't check".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agents_call_shows_verified_in_the_window_and_the_cli_and_scam_reports_reach_the_console()
 {
    let _one = ONE_AT_A_TIME.lock().await;
    const PASSWORD: &str = "correct horse battery staple";
    let (_x, display) = window::xvfb();
    // The desktop's notification service and tray, before the app starts.
    let desktop = window::desktop::Desktop::serve();
    let gw_dir = tempfile::tempdir().expect("a temp dir");
    let mut gateway = Gateway::start(gw_dir.path(), &[]);
    add_staff(&gateway, "silva", "Ana Silva", "agent", PASSWORD);

    // The customer's window, linked to the demo bank.
    let data = tempfile::tempdir().expect("a temp dir");
    let service = support::keychain_service("calls-window");
    let env = window::app_env(data.path(), &service, &gateway);
    let app = window::launch(&display, &support::binary("strongroom"), &env, None).await;
    let w = &app.driver;
    window::link_demo_bank(w, &gateway, &display, false).await;
    let card = "[data-testid=call-status]";
    let state = |s: &str| format!("[data-testid=call-status][data-state={s}]");
    w.wait(
        &state("not_calling"),
        Some("Demo Bank is not calling you. If someone says they are, hang up."),
        60,
    )
    .await;
    desktop.wait_tray_line("Demo Bank: not calling you", 30);

    // The same customer on a second device, with the CLI.
    let phone = TestDevice::new("calls-cli");
    support::cli_link(&phone, &gateway, "alice").await;
    let (code, line) = cli_call_status(&phone, &gateway).await;
    assert_eq!(
        (code, line["state"].as_str()),
        (1, Some("not_calling")),
        "{line}"
    );

    // The customer writes; the agent finds her in the queue and calls.
    w.click("[data-testid=nav-chat]").await;
    w.type_into(
        "[data-testid=chat-input]",
        "Someone on the phone says they are you",
    )
    .await;
    w.click("[data-testid=chat-send]").await;
    w.click("[data-testid=nav-home]").await;
    let home = browser_home(&[&gateway.ca]);
    let (_chromedriver, b) = browser(home.path()).await;
    sign_in(&b, &gateway, "silva", PASSWORD).await;
    b.wait("li[data-customer=alice]", Some("waiting"), 30).await;
    b.click("li[data-customer=alice] a").await;
    b.wait("section.calls [data-call-state=none]", None, 20)
        .await;
    b.script("document.querySelector('#reason').value = 'suspicious_payment'; return null")
        .await;
    b.click("button.start-call").await;
    b.wait(
        "section.calls [data-call-state=open]",
        Some("Ana Silva"),
        20,
    )
    .await;

    // The window: verified, with the agent's name; a notification; the tray.
    let shown = w.wait(&state("talking_now"), Some("Ana Silva"), 30).await;
    let text = w.text(&shown).await;
    assert!(
        text.contains("Talking to you now")
            && text.contains("Ana Silva, Demo Bank, about a suspicious payment, since"),
        "the window names the agent, the bank and the reason: {text:?}"
    );
    assert!(
        w.elements("[data-testid=scam-report-open]")
            .await
            .is_empty(),
        "a verified call offers no scam report"
    );
    // The default privacy hides amounts; a call that begins notifies anyway.
    let note = desktop.wait(30, |s| s.body.contains("calling you"));
    assert_eq!(note.summary, "Demo Bank");
    assert_eq!(
        note.body,
        "Demo Bank is calling you. Verified by Strongroom."
    );
    desktop.wait_tray_line("Demo Bank: talking to you now, Ana Silva", 30);
    let (code, line) = cli_call_status(&phone, &gateway).await;
    assert_eq!(
        (code, line["state"].as_str()),
        (0, Some("talking_now")),
        "{line}"
    );
    assert_eq!(line["agent"], "Ana Silva");

    // The agent ends the call.
    b.click("button.end-call").await;
    b.wait("section.calls [data-call-state=none]", None, 20)
        .await;
    w.wait(&state("not_calling"), None, 30).await;
    desktop.wait_tray_line("Demo Bank: not calling you", 30);
    let (code, line) = cli_call_status(&phone, &gateway).await;
    assert_eq!(
        (code, line["state"].as_str()),
        (1, Some("not_calling")),
        "{line}"
    );

    // Another caller claims to be the bank: the customer reports it, from
    // the window and from the CLI.
    w.click(&format!("{card} [data-testid=scam-report-open]"))
        .await;
    w.type_into("[data-testid=scam-report-number]", "+44 20 7946 0000")
        .await;
    w.type_into(
        "[data-testid=scam-report-note]",
        "Asked me to move my savings",
    )
    .await;
    w.click("[data-testid=scam-report-send]").await;
    w.wait(
        "[data-testid=scam-report-received]",
        Some("Demo Bank received your report"),
        30,
    )
    .await;
    let reported = phone
        .cli(&gateway)
        .args([
            "report-scam-call",
            "--number",
            "+44 20 7946 0001",
            "--note",
            "Wanted my card PIN",
        ])
        .output()
        .expect("strongroom-cli runs");
    assert!(
        reported.status.success(),
        "report-scam-call: {}",
        String::from_utf8_lossy(&reported.stderr)
    );
    go(&b, &format!("{}/console", gateway.issuer)).await;
    let queue = b
        .wait("ol.scam-reports", Some("Wanted my card PIN"), 20)
        .await;
    let queue = b.text(&queue).await;
    for want in [
        "Asked me to move my savings",
        "+44 20 7946 0000",
        "+44 20 7946 0001",
    ] {
        assert!(
            queue.contains(want),
            "{want:?} in the console's queue: {queue}"
        );
    }
    assert!(queue.contains("Scam-call report from alice"), "{queue}");

    // The bank goes quiet: nobody who calls can be checked.
    gateway.kill();
    let cant = w.wait(&state("cant_check"), None, 70).await;
    let text = w.text(&cant).await;
    assert!(
        text.contains("Can't reach Demo Bank since")
            && text.contains("don't trust anyone who calls claiming to be Demo Bank"),
        "{text:?}"
    );
    desktop.wait_tray_line("Demo Bank: can't check who calls", 30);
    let (code, line) = cli_call_status(&phone, &gateway).await;
    assert_eq!(
        (code, line["state"].as_str()),
        (3, Some("cant_check")),
        "{line}"
    );
    drop(app);
    let _ = Command::new("secret-tool")
        .args(["clear", "service", &service])
        .status();
}
