//! Accessibility in the real window: axe-core on every screen (first run,
//! link, home, a fraud check, chat, search, settings, lock), and a customer
//! who uses only the keyboard links a bank, answers a fraud check, sends a
//! chat message, searches, locks and unlocks, with no pointer event.

use super::*;
use window::ENTER;

/// Tabs to the control `testid` and presses Enter on it.
async fn press(d: &Driver, testid: &str) {
    d.tab_to(testid).await;
    d.keys(ENTER).await;
}

/// What the screen reader's live region says now.
async fn announced(d: &Driver) -> String {
    d.script("return document.querySelector('[aria-live=polite]')?.textContent ?? ''")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_passes_axe_and_a_customer_does_everything_by_keyboard() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let demo = DemoRun::new("a11y");
    let (display, gateway) = (&demo.display, &demo.gateway);
    let app = launch(display, &app_binary(), &demo.env, None).await;
    let d = &app.driver;
    d.wait("[data-testid=first-run-continue]", None, 60).await;
    // Any pointer event from here on fails the walk.
    d.script(
        "window.__pointerEvents = [];\
         for (const t of ['pointerdown', 'mousedown', 'wheel', 'touchstart'])\
           document.addEventListener(t, e => window.__pointerEvents.push(t), true);\
         return null",
    )
    .await;
    let mut serious = Vec::new();

    // First run, then link the demo bank.
    serious.extend(d.axe_audit("window, first run").await);
    press(d, "first-run-continue").await;
    press(d, "nav-link").await;
    d.wait("[data-testid=link-demo-bank]", None, 20).await;
    serious.extend(d.axe_audit("window, link").await);
    press(d, "link-demo-bank").await;
    press(d, "link-submit").await;
    d.wait("[data-testid=link-consent-accept]", None, 30).await;
    serious.extend(d.axe_audit("window, link consent").await);
    press(d, "link-consent-accept").await;
    let code = d.wait("[data-testid=link-user-code]", None, 30).await;
    let user_code = d.text(&code).await.trim().to_owned();
    serious.extend(d.axe_audit("window, link code").await);
    gateway
        .approve(&user_code, "alice", "alice-demo", true)
        .await;
    d.wait("[data-testid=link-receipt]", Some("Demo Bank"), 60)
        .await;
    serious.extend(d.axe_audit("window, link receipt").await);
    press(d, "link-done").await;

    // Home with alerts: a live alert is announced to screen readers.
    press(d, "nav-home").await;
    gateway
        .transaction(
            "alice",
            json!({"amount_minor": 14_250, "merchant": "Corner Café", "balance_after_minor": 182_000}),
        )
        .await;
    let fraud = gateway
        .transaction(
            "alice",
            json!({"amount_minor": 64_000, "country": "US", "card_present": false, "currency": "USD", "merchant": "Gadget Hub"}),
        )
        .await;
    d.wait(&format!("[data-alert-id=\"{}\"]", fraud[0]), None, 30)
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !announced(d).await.contains("Demo Bank") {
        assert!(
            Instant::now() < deadline,
            "no live announcement of the new alerts: {:?}",
            announced(d).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    serious.extend(d.axe_audit("window, home with a fraud check").await);

    // Answer the fraud check.
    press(d, "fraud-not-me").await;
    d.wait("[data-testid=fraud-answered]", None, 30).await;
    serious.extend(d.axe_audit("window, fraud check answered").await);

    // Chat: type and send.
    press(d, "nav-chat").await;
    d.tab_to("chat-input").await;
    let text = "Sent with the keyboard alone";
    d.keys(text).await;
    serious.extend(d.axe_audit("window, chat").await);
    press(d, "chat-send").await;
    d.wait("[data-testid=chat-message]", Some(text), 30).await;
    gateway.wait_for_chat("alice", text).await;

    // Search.
    press(d, "nav-search").await;
    d.tab_to("search-input").await;
    d.keys("Gadget").await;
    d.wait("[data-testid=search-result]", Some("Gadget"), 30)
        .await;
    serious.extend(d.axe_audit("window, search").await);

    // Settings.
    press(d, "nav-settings").await;
    d.wait("[data-testid=settings-language]", None, 20).await;
    serious.extend(d.axe_audit("window, settings").await);

    // Lock and unlock.
    press(d, "lock-now").await;
    d.wait("[data-testid=lock-screen]", None, 20).await;
    serious.extend(d.axe_audit("window, lock").await);
    press(d, "unlock-submit").await;
    d.wait("[data-testid=nav-home]", None, 30).await;

    let pointer = d.script("return window.__pointerEvents").await;
    assert_eq!(pointer, json!([]), "the walk used no pointer");
    assert!(
        serious.is_empty(),
        "serious or critical axe-core violations:\n{}",
        serious.join("\n")
    );
    drop(app);
}
