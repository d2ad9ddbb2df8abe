//! The desktop app in a real window: Xvfb, tauri-driver and WebKitWebDriver
//! drive the built `strongroom` binary, which talks to a real
//! `strongroom-gateway` over TLS and keeps its keys in the real
//! gnome-keyring of the test session (`cargo xtask test` provides both).
//! Screenshots of the main screens are written to `docs/screenshots/`.

#[path = "../crates/client/tests/support/mod.rs"]
mod support;
mod window;

#[path = "app/accessibility.rs"]
mod accessibility;
#[path = "app/languages.rs"]
mod languages;
#[path = "app/two_banks.rs"]
mod two_banks;

use serde_json::json;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{Gateway, Guard};
use window::desktop::Desktop;
use window::{Driver, launch, link_demo_bank, screenshot, xvfb};

fn app_binary() -> PathBuf {
    support::binary("strongroom")
}

/// One app at a time: two WebKit windows, two drivers and a gateway each
/// would fight over two cores (and the screenshots' display).
static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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
        let env = window::app_env(data.path(), &service, &gateway);
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

impl DemoRun {
    /// The app's data folder.
    fn data_dir(&self) -> PathBuf {
        self._dirs[1].path().to_owned()
    }
}

impl Drop for DemoRun {
    fn drop(&mut self) {
        let _ = Command::new("secret-tool")
            .args(["clear", "service", &self.service])
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_links_the_demo_bank_and_does_what_a_customer_needs() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let demo = DemoRun::new("app");
    let (display, gateway, env) = (&demo.display, &demo.gateway, &demo.env);
    let app = launch(display, &app_binary(), env, None).await;
    let d = &app.driver;

    // First run, then link the demo bank.
    link_demo_bank(d, gateway, display, true).await;

    // The window's JavaScript engine runs without its JIT (the shell starts
    // itself again with JSC_useJIT=0; see src-tauri/src/main.rs).
    let parents = window::parents();
    let pid = window::app_pid_among(&parents, app.processes.0.id(), &app_binary())
        .expect("the app's process");
    let web: Vec<u32> = parents
        .keys()
        .copied()
        .filter(|&p| {
            window::descends_from(p, pid, &parents)
                && std::fs::read_to_string(format!("/proc/{p}/comm"))
                    .is_ok_and(|c| c.starts_with("WebKitWebProces"))
        })
        .collect();
    assert!(!web.is_empty(), "the app has a WebKit web process");
    for p in web {
        let environ = std::fs::read(format!("/proc/{p}/environ")).unwrap_or_default();
        assert!(
            environ.split(|&b| b == 0).any(|v| v == b"JSC_useJIT=0"),
            "web process {p} runs with the JIT"
        );
    }

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
    answer_not_me(d, gateway, "alice", &fraud[0]).await;

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
    gateway
        .wait_for_chat("alice", "declined at the station")
        .await;
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

    // The light theme when the desktop asks for no dark one.
    let background = d
        .script("return getComputedStyle(document.body).backgroundColor;")
        .await;
    assert!(
        brightness(background.as_str().unwrap_or_default()) > 600,
        "a light background by default: {background}"
    );

    // Export the signed alert transcript from the window; the CLI verifies
    // it offline (no keychain, no store, no network).
    d.click("[data-testid=export-transcript]").await;
    let path_el = d.wait("[data-testid=export-path]", Some(".json"), 30).await;
    let shown = d.text(&path_el).await;
    let path = shown
        .split_whitespace()
        .find(|w| w.ends_with(".json"))
        .unwrap_or_else(|| panic!("the export names its file: {shown}"));
    let verified = Command::new(support::binary("strongroom-cli"))
        .args(["--json", "verify-transcript", path])
        .env(
            "STRONGROOM_KEYCHAIN_SERVICE",
            "strongroom-no-keychain-needed",
        )
        .output()
        .expect("strongroom-cli runs");
    let report = String::from_utf8_lossy(&verified.stdout);
    assert!(
        verified.status.success(),
        "the transcript verifies: {report}"
    );
    assert!(
        report.contains("\"failed\":0") && !report.contains("\"alerts\":0"),
        "every exported alert verifies: {report}"
    );

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
    let app = launch(display, &app_binary(), env, None).await;
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
    let again = launch(display, &app_binary(), env, None).await;
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
    let app = launch(&display, &app_binary(), &env, Some(&wrapper)).await;
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

/// Issue 17: a history file changed while the app was closed. One alert's
/// row is edited (its MAC fails) and one of the bank's chat messages is
/// deleted, with SQLite, in the real file. At the next start the window
/// says what happened, per bank and in words, on Home, on the account's
/// card and in the chat, and still shows everything else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_file_changed_while_closed_is_reported_and_the_rest_still_shows() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let demo = DemoRun::new("damage");
    let (display, gateway, env) = (&demo.display, &demo.gateway, &demo.env);
    let app = launch(display, &app_binary(), env, None).await;
    let d = &app.driver;
    link_demo_bank(d, gateway, display, false).await;

    // Two alerts and two chat messages from the bank.
    let kept = gateway
        .transaction(
            "alice",
            json!({"amount_minor": 14_250, "merchant": "Corner Café"}),
        )
        .await;
    d.wait(&format!("[data-alert-id=\"{}\"]", kept[0]), None, 30)
        .await;
    let edited = gateway
        .transaction(
            "alice",
            json!({"amount_minor": 31_500, "merchant": "Book Nook"}),
        )
        .await;
    assert!(
        !kept.is_empty() && !edited.is_empty(),
        "each purchase over the bank's threshold makes an alert"
    );
    d.wait(&format!("[data-alert-id=\"{}\"]", edited[0]), None, 30)
        .await;
    for body in [
        "Your new card is on its way.",
        "It should arrive by Friday.",
    ] {
        gateway
            .bank(
                "POST",
                "/bank/v1/chat",
                Some(json!({"customer": "alice", "author": "Ana (Demo Bank)", "body": body})),
            )
            .await;
    }
    d.click("[data-testid=nav-chat]").await;
    d.wait("[data-testid=chat-message]", Some("on its way"), 30)
        .await;
    d.wait("[data-testid=chat-message]", Some("by Friday"), 30)
        .await;
    assert!(
        d.elements("[data-testid=damage-banner]").await.is_empty(),
        "no warning while the history is intact"
    );

    // Quit the way a logout does (SIGTERM: the store and its keychain
    // anchor are closed cleanly), then change the file.
    quit(app).await;
    let db = demo.data_dir().join("strongroom.sqlite3");
    let conn = rusqlite::Connection::open(&db).expect("the app's database opens");
    let alerts: i64 = conn
        .query_row("SELECT count(*) FROM alerts", [], |r| r.get(0))
        .unwrap();
    assert!(alerts >= 2, "both alerts are stored: {alerts}");
    // The alert that arrived last: its date moved by a day.
    let changed = conn
        .execute(
            "UPDATE alerts SET issued_at = issued_at - 86400000 WHERE id = (SELECT max(id) FROM alerts)",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    // The first of the bank's two chat messages (the one before the last
    // stored): gone.
    let first_message: i64 = conn
        .query_row(
            "SELECT id FROM messages ORDER BY id DESC LIMIT 1 OFFSET 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let deleted = conn
        .execute("DELETE FROM messages WHERE id = ?1", [first_message])
        .unwrap();
    assert_eq!(deleted, 1);
    drop(conn);

    let again = launch(display, &app_binary(), env, None).await;
    let d = &again.driver;
    let banner = d
        .wait(
            "[data-testid=damage-banner]",
            Some("1 damaged alert in Demo Bank's history was hidden."),
            60,
        )
        .await;
    let text = d.text(&banner).await;
    assert_eq!(
        d.attribute(&banner, "role").await.as_deref(),
        Some("alert"),
        "the warning is announced"
    );
    for said in [
        "Part of Demo Bank's history on this device is damaged",
        "Messages were deleted or rolled back in your chat with Demo Bank",
        "Everything else in your history is still readable.",
        "Strongroom did not delete anything",
        "contact Demo Bank",
    ] {
        assert!(text.contains(said), "the warning says {said:?}: {text}");
    }
    d.wait("[data-testid=account-damage]", Some("damaged"), 10)
        .await;
    // The rest is still there; the edited alert is not shown as the bank's.
    d.wait(&format!("[data-alert-id=\"{}\"]", kept[0]), None, 30)
        .await;
    assert!(
        d.elements(&format!("[data-alert-id=\"{}\"]", edited[0]))
            .await
            .is_empty(),
        "the edited alert is hidden"
    );
    screenshot(display, "store-damage");

    // The chat it concerns says so too, above the message that is left.
    d.click("[data-testid=nav-chat]").await;
    d.wait("[data-testid=chat-message]", Some("by Friday"), 30)
        .await;
    d.wait(
        "[data-testid=damage-banner]",
        Some("Messages were deleted or rolled back in your chat with Demo Bank"),
        10,
    )
    .await;
    for id in d.elements("[data-testid=chat-message]").await {
        let shown = d.text(&id).await;
        assert!(
            !shown.contains("on its way"),
            "the deleted message is not shown: {shown}"
        );
    }
    drop(again);
}

/// The app beside the bank's own identity provider (a real OpenID
/// provider, `tests/idp`): the customer links from the window and approves
/// at the bank's IdP; a verified alert, a fraud check answered, chat both
/// ways, an alert after the access token expired (the app refreshed it),
/// and unlinking, after which the gateway holds the device revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_links_through_the_banks_own_identity_provider_with_jwt_access_tokens() {
    app_through_the_banks_idp(support::idp::TokenFormat::Jwt).await;
}

/// The same with opaque access tokens, which the gateway introspects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_links_through_the_banks_own_identity_provider_with_opaque_access_tokens() {
    app_through_the_banks_idp(support::idp::TokenFormat::Opaque).await;
}

async fn app_through_the_banks_idp(format: support::idp::TokenFormat) {
    use support::idp::{BankIdp, enrol_alice, free_port, gateway_beside};
    const ACCESS_TTL_S: u32 = 8;
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let (_x, display) = xvfb();
    let port = free_port();
    let idp = BankIdp::start(
        &format!("https://127.0.0.1:{port}"),
        format,
        ACCESS_TTL_S,
        300,
    );
    let gw_dir = tempfile::tempdir().unwrap();
    let gateway = gateway_beside(&idp, gw_dir.path(), port, &[]);
    enrol_alice(&gateway).await;
    let data = tempfile::tempdir().unwrap();
    let service = support::keychain_service("app-idp");
    let env = window::app_env(data.path(), &service, &gateway);
    let app = launch(&display, &app_binary(), &env, None).await;
    let d = &app.driver;
    window::link_bank(d, &display, false, async |code: String| {
        idp.approve(&code, "alice", "alice-pass-1", true).await;
    })
    .await;

    // A fraud check arrives verified and is answered from the window.
    let fraud = gateway
        .transaction(
            "alice-idp",
            json!({"amount_minor": 64_000, "country": "US", "card_present": false, "currency": "USD"}),
        )
        .await;
    let alert = d
        .wait(&format!("[data-alert-id=\"{}\"]", fraud[0]), None, 30)
        .await;
    assert_eq!(
        d.attribute(&alert, "data-verified").await.as_deref(),
        Some("true")
    );
    answer_not_me(d, &gateway, "alice-idp", &fraud[0]).await;

    // Chat both ways.
    gateway
        .bank(
            "POST",
            "/bank/v1/chat",
            Some(json!({"customer": "alice-idp", "author": "Ana (Demo Bank)", "body": "We blocked the card."})),
        )
        .await;
    d.click("[data-testid=nav-chat]").await;
    d.wait(
        "[data-testid=chat-message]",
        Some("We blocked the card."),
        30,
    )
    .await;
    d.type_into(
        "[data-testid=chat-input]",
        "Thank you, please send a new one",
    )
    .await;
    d.click("[data-testid=chat-send]").await;
    gateway
        .wait_for_chat("alice-idp", "please send a new one")
        .await;

    // Past the access token's life: the app refreshes it at the IdP and
    // the next alert still arrives.
    tokio::time::sleep(Duration::from_secs(u64::from(ACCESS_TTL_S) + 2)).await;
    let later = gateway
        .transaction("alice-idp", json!({"amount_minor": 12_500}))
        .await;
    d.click("[data-testid=nav-home]").await;
    d.wait(&format!("[data-alert-id=\"{}\"]", later[0]), None, 40)
        .await;

    // Unlink from Settings: ended at the gateway, revoked at the IdP.
    d.click("[data-testid=nav-settings]").await;
    let button = d.wait("button[data-testid^='unlink-']", None, 20).await;
    let testid = d
        .attribute(&button, "data-testid")
        .await
        .expect("the unlink button's test id");
    d.click(&format!("[data-testid='{testid}']")).await;
    d.click("[data-testid=unlink-confirm]").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if d.elements(&format!("[data-testid='{testid}']"))
            .await
            .is_empty()
        {
            break;
        }
        if Instant::now() > deadline {
            let text = d.script("return document.body.innerText;").await;
            panic!("the account stays after unlinking; the window shows:\n{text}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let db = rusqlite::Connection::open_with_flags(
        gw_dir.path().join("gateway.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let (linked, revoked): (i64, i64) = db
        .query_row(
            "SELECT count(*), count(revoked_at) FROM devices WHERE via_issuer IS NOT NULL",
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (linked, revoked),
        (1, 1),
        "the gateway holds the device unlinked"
    );
    drop(app);
    let _ = Command::new("secret-tool")
        .args(["clear", "service", &service])
        .status();
}

/// Answers the fraud check `alert` "this wasn't me" in the window, and
/// checks that the bank recorded that answer for `customer`.
async fn answer_not_me(d: &Driver, gateway: &Gateway, customer: &str, alert: &str) {
    d.click(&format!(
        "[data-alert-id=\"{alert}\"] [data-testid=fraud-not-me]"
    ))
    .await;
    d.wait("[data-testid=fraud-answered]", None, 30).await;
    let (_, answers) = gateway
        .bank(
            "GET",
            &format!("/bank/v1/fraud-answers?customer={customer}"),
            None,
        )
        .await;
    assert!(
        answers.to_string().contains(alert) && answers.to_string().contains("not_me"),
        "the bank recorded the answer: {answers}"
    );
}

/// Ends the app with SIGTERM (as a logout does), waits until it is gone,
/// then ends its WebDriver session's processes.
async fn quit(app: window::AppRun) {
    let pid = window::app_pid(app.processes.0.id(), &app_binary()).expect("the app's process");
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .is_ok_and(|s| s.success())
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
    {
        assert!(Instant::now() < deadline, "SIGTERM did not end the app");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(app);
}

/// The sum of the red, green and blue of a CSS `rgb(…)` colour (0 to 765).
fn brightness(css: &str) -> u32 {
    css.trim_start_matches("rgba(")
        .trim_start_matches("rgb(")
        .trim_end_matches(')')
        .split(',')
        .take(3)
        .filter_map(|c| c.trim().parse::<f64>().ok())
        .map(|c| c as u32)
        .sum()
}

/// The id of the alert that has keyboard focus, if any.
async fn focused_alert(d: &Driver) -> Option<String> {
    d.script("return document.activeElement && document.activeElement.dataset ? (document.activeElement.dataset.alertId || null) : null;")
        .await
        .as_str()
        .map(str::to_owned)
}

/// Notifications go to the desktop's notification service, say only what
/// the privacy setting allows, never carry bank text as markup, and a click
/// brings the window up on that alert. The tray icon counts what is
/// unread until it is seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_follow_the_privacy_setting_and_a_click_opens_the_alert() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let demo = DemoRun::new("notify");
    let (display, gateway, env) = (&demo.display, &demo.gateway, &demo.env);
    // The desktop's notification service, before the app starts.
    let server = Desktop::serve();
    let app = launch(display, &app_binary(), env, None).await;
    let d = &app.driver;
    link_demo_bank(d, gateway, display, false).await;
    // The default hides amounts; the customer chooses to see everything.
    // (On the settings screen, away from the feed: new alerts stay unread.)
    d.click("[data-testid=nav-settings]").await;
    d.click("[data-testid=privacy-full]").await;
    wait_for_setting(&demo, "notification_privacy", json!("full")).await;

    // Full: bank, amount and merchant; a merchant name made of markup is
    // escaped (the server reads bodies as markup).
    let first = gateway
        .transaction(
            "alice",
            json!({"amount_minor": 43_210, "merchant": "<a href=\"https://evil.example\">Evil</a> Shop"}),
        )
        .await;
    let full = server.wait(30, |s| s.body.contains("Evil"));
    assert_eq!(full.summary, "Demo Bank");
    assert_eq!(full.app_name, "Strongroom");
    assert!(
        full.body
            .contains("&lt;a href=&quot;https://evil.example&quot;&gt;")
            && !full.body.contains("<a"),
        "bank text is escaped for a markup server: {:?}",
        full.body
    );
    assert!(full.body.contains("432.10"), "the amount: {:?}", full.body);
    assert_eq!(full.actions, ["default", "Open"], "a click opens the alert");
    // The tray icon counts it.
    server.wait_tray("XAyatanaLabel", "1", 20);

    // Hide amounts: the bank and the kind only.
    d.click("[data-testid=privacy-hide-amounts]").await;
    wait_for_setting(&demo, "notification_privacy", json!("hide_amounts")).await;
    gateway
        .transaction(
            "alice",
            json!({"amount_minor": 55_550, "merchant": "Hidden Merchant"}),
        )
        .await;
    let hidden = server.wait(30, |s| s.id > full.id);
    assert_eq!(hidden.summary, "Demo Bank");
    assert_eq!(hidden.body, "Card purchase");
    server.wait_tray("XAyatanaLabel", "2", 20);

    // Nothing: not even the bank.
    d.click("[data-testid=privacy-nothing]").await;
    wait_for_setting(&demo, "notification_privacy", json!("nothing")).await;
    gateway
        .transaction(
            "alice",
            json!({"amount_minor": 66_660, "merchant": "Secret Merchant"}),
        )
        .await;
    let nothing = server.wait(30, |s| s.id > hidden.id);
    assert_eq!(
        (nothing.summary.as_str(), nothing.body.as_str()),
        ("Strongroom", "New activity")
    );
    for shown in server.shown() {
        assert!(
            !shown.body.contains("Secret") && !shown.body.contains("666.60"),
            "nothing of the alert leaks: {shown:?}"
        );
    }

    server.wait_tray("XAyatanaLabel", "3", 20);

    // Clicking the first notification, while the chat is open, opens that
    // alert on the home screen with the keyboard focus on it.
    d.click("[data-testid=nav-chat]").await;
    server.click(full.id);
    let deadline = Instant::now() + Duration::from_secs(20);
    while focused_alert(d).await.as_deref() != Some(first[0].as_str()) {
        assert!(
            Instant::now() < deadline,
            "the clicked alert did not open (focused: {:?})",
            focused_alert(d).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Seen: the tray's count clears.
    server.wait_tray("XAyatanaLabel", "", 20);
    drop(app);
}

/// Waits until the saved settings have `key` set to `want`.
async fn wait_for_setting(demo: &DemoRun, key: &str, want: serde_json::Value) {
    let file = demo.data_dir().join("settings.json");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let saved: Option<serde_json::Value> = std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        if saved.as_ref().map(|s| &s[key]) == Some(&want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{key} = {want} was never saved: {saved:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An app passphrase from the first run, auto-lock, a wrong and a right
/// passphrase, a restart that starts locked; the dark theme and keyboard
/// navigation along the way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passphrase_auto_lock_dark_theme_and_keyboard() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let demo = DemoRun::new("passphrase");
    let display = &demo.display;
    // The desktop asks for a dark theme.
    let mut env = demo.env.clone();
    env.push(("GTK_THEME", "Adwaita:dark".to_owned()));
    let app = launch(display, &app_binary(), &env, None).await;
    let d = &app.driver;
    let passphrase = "correct horse battery staple";
    d.wait("[data-testid=first-run-continue]", None, 60).await;
    d.type_into("[data-testid=passphrase-input]", passphrase)
        .await;
    d.click("[data-testid=first-run-continue]").await;
    d.wait("[data-testid=nav-settings]", None, 30).await;

    let background = d
        .script("return getComputedStyle(document.body).backgroundColor;")
        .await;
    assert!(
        brightness(background.as_str().unwrap_or_default()) < 200,
        "a dark background when the desktop is dark: {background}"
    );
    // Every control has a name a screen reader can say.
    let unnamed = d
        .script(
            "return [...document.querySelectorAll('button, input, select, textarea, a[href]')]
               .filter(e => !(e.getAttribute('aria-label') || e.getAttribute('aria-labelledby')
                 || (e.labels && e.labels.length) || e.textContent.trim() || e.title))
               .map(e => e.outerHTML.slice(0, 80));",
        )
        .await;
    assert_eq!(unnamed, json!([]), "controls without an accessible name");
    // Keyboard: Tab reaches the navigation, Enter opens Settings.
    let nav = d.wait("[data-testid=nav-settings]", None, 10).await;
    d.call(
        "POST",
        &format!("/element/{nav}/value"),
        Some(json!({"text": "\u{E007}"})),
    )
    .await;
    let minutes = d.wait("[data-testid=auto-lock-minutes]", None, 10).await;
    // The focus moves to the new screen's heading, and Tab goes on from
    // there into the screen's controls.
    let focused = d
        .script("const e = document.activeElement; return [e.tagName, e.textContent.trim()];")
        .await;
    assert_eq!(focused, json!(["H1", "Settings"]), "focus on the heading");
    let heading = d.wait("main h1", None, 10).await;
    d.call(
        "POST",
        &format!("/element/{heading}/value"),
        Some(json!({"text": "\u{E004}"})),
    )
    .await;
    let next = d
        .script(
            "const e = document.activeElement; return e.tagName !== 'H1' && !!e.closest('main') && e.matches('button, input, select, textarea, a[href]');",
        )
        .await;
    assert_eq!(next, true, "Tab reaches the first control of the screen");

    // Auto-lock after one idle minute (the app checks every 15 s).
    d.call("POST", &format!("/element/{minutes}/clear"), None)
        .await;
    d.call(
        "POST",
        &format!("/element/{minutes}/value"),
        Some(json!({"text": "1\u{E004}"})),
    )
    .await;
    wait_for_setting(&demo, "auto_lock_minutes", json!(1)).await;
    d.wait("[data-testid=lock-screen]", None, 120).await;

    // A wrong passphrase is refused and says so; the right one unlocks.
    d.type_into("[data-testid=unlock-passphrase]", "wrong guess")
        .await;
    d.click("[data-testid=unlock-submit]").await;
    d.wait("#unlock-error", Some("not right"), 20).await;
    d.type_into("[data-testid=unlock-passphrase]", passphrase)
        .await;
    d.click("[data-testid=unlock-submit]").await;
    d.wait("[data-testid=nav-settings]", None, 30).await;
    drop(app);

    // A restart starts locked, and the passphrase opens it.
    let again = launch(display, &app_binary(), &env, None).await;
    let d = &again.driver;
    d.wait("[data-testid=lock-screen]", None, 60).await;
    d.type_into("[data-testid=unlock-passphrase]", passphrase)
        .await;
    d.click("[data-testid=unlock-submit]").await;
    d.wait("[data-testid=nav-settings]", None, 30).await;
    drop(again);
}

/// A second launch with a `strongroom://` link goes to the running app,
/// which opens the link screen for that bank; SIGTERM quits cleanly and
/// the window comes back at the size it had.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_instance_deep_link_and_window_state() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let demo = DemoRun::new("instance");
    let (display, env) = (&demo.display, &demo.env);
    let app = launch(display, &app_binary(), env, None).await;
    let d = &app.driver;
    d.click("[data-testid=first-run-continue]").await;
    d.wait("[data-testid=nav-settings]", None, 30).await;

    // The customer clicks a link on their bank's website.
    let second = Command::new(app_binary())
        .arg("strongroom://link?issuer=https%3A%2F%2Fbank.example%2F")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("DISPLAY", display)
        .env("NO_AT_BRIDGE", "1")
        .stdin(std::process::Stdio::null())
        .spawn()
        .expect("a second launch starts");
    let mut second = support::Guard(second);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Ok(Some(status)) = second.0.try_wait() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the second launch kept running instead of handing over"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "the second launch hands over: {status}");
    let input = d.wait("[data-testid=link-issuer-input]", None, 20).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let value = d
            .script("return document.querySelector('[data-testid=link-issuer-input]').value;")
            .await;
        if value == "https://bank.example/" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the link screen shows the bank from the link: {value} ({input})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The link alone starts nothing: the customer must still submit.
    let consent = d
        .script("return document.querySelectorAll('[data-testid=link-consent-accept], [data-testid=link-waiting]').length;")
        .await;
    assert_eq!(consent, 0, "a deep link never goes past the address screen");

    // Resize, then quit with SIGTERM (as a logout does).
    d.call(
        "POST",
        "/window/rect",
        Some(json!({"width": 1100, "height": 740})),
    )
    .await;
    let rect = d.call("GET", "/window/rect", None).await;
    assert_eq!(
        (rect["width"].as_u64(), rect["height"].as_u64()),
        (Some(1100), Some(740)),
        "the window was resized: {rect}"
    );
    let pid = window::app_pid(app.processes.0.id(), &app_binary()).expect("the app's process");
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .is_ok_and(|s| s.success())
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
    {
        assert!(Instant::now() < deadline, "SIGTERM did not end the app");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(app);

    let again = launch(display, &app_binary(), env, None).await;
    again
        .driver
        .wait("[data-testid=nav-settings]", None, 60)
        .await;
    let rect = again.driver.call("GET", "/window/rect", None).await;
    assert_eq!(
        (rect["width"].as_u64(), rect["height"].as_u64()),
        (Some(1100), Some(740)),
        "the window came back at its size: {rect}"
    );
    drop(again);
}
