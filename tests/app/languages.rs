//! The customer's language in the real window: the system's at first (a
//! French desktop), then German, English and the system's again from
//! Settings. In each: a fraud check, a low-balance alert with its amount in
//! the locale's format, an error from the app core and a notification.

use super::*;
use strongroom_l10n::{Arg, Catalog, Domain, Lang, format_amount};

/// What one language must look like.
struct Expect {
    lang: Lang,
    /// The tag the window formats in (`<html lang>`).
    tag: &'static str,
    /// The navigation's "Settings" and the fraud check's question and buttons.
    settings: &'static str,
    question: &'static str,
    this_was_me: &'static str,
    /// The low-balance alert's heading, and a card purchase's notification.
    low_balance: &'static str,
    card_purchase: &'static str,
}

const FRENCH: Expect = Expect {
    lang: Lang::Fr,
    tag: "fr-FR",
    settings: "Paramètres",
    question: "Est-ce bien vous\u{a0}?",
    this_was_me: "C'était moi",
    low_balance: "Solde bas",
    card_purchase: "Paiement par carte",
};
const GERMAN: Expect = Expect {
    lang: Lang::De,
    tag: "de-DE",
    settings: "Einstellungen",
    question: "Waren Sie das?",
    this_was_me: "Das war ich",
    low_balance: "Niedriger Kontostand",
    card_purchase: "Kartenzahlung",
};
const ENGLISH: Expect = Expect {
    lang: Lang::En,
    tag: "en-US",
    settings: "Settings",
    question: "Was this you?",
    this_was_me: "This was me",
    low_balance: "Low balance",
    card_purchase: "Card purchase",
};

/// `text` with no-break spaces as plain ones: WebDriver's element text
/// turns U+00A0 into a space, and French writes U+00A0 before `?` and
/// U+202F between thousands.
fn plain(text: &str) -> String {
    text.replace(['\u{a0}', '\u{202f}'], " ")
}

/// The text of every alert in the feed.
async fn alert_texts(d: &Driver) -> Vec<String> {
    let v = d
        .script(
            "return [...document.querySelectorAll('[data-testid=alert-item]')].map(a => a.innerText)",
        )
        .await;
    let texts: Vec<String> = serde_json::from_value(v).unwrap_or_default();
    texts.iter().map(|t| plain(t)).collect()
}

/// Waits until `<html lang>` is `tag` (the window applied the locale).
async fn wait_for_locale(d: &Driver, tag: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lang = d.script("return document.documentElement.lang").await;
        if lang.as_str() == Some(tag) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the window never spoke {tag}: {lang}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Checks the window, an error, a notification and the tray in `e`.
async fn check(demo: &DemoRun, d: &Driver, server: &Desktop, fraud: &str, e: &Expect) {
    let gateway = &demo.gateway;
    wait_for_locale(d, e.tag).await;
    d.wait("[data-testid=nav-settings]", Some(e.settings), 20)
        .await;
    d.click("[data-testid=nav-home]").await;
    let check = d
        .wait(
            &format!("[data-alert-id=\"{fraud}\"]"),
            Some(&plain(e.question)),
            20,
        )
        .await;
    let text = plain(&d.text(&check).await);
    assert!(text.contains(&plain(e.this_was_me)), "{:?}: {text}", e.lang);
    // The amounts as the notifications write them (strongroom_l10n), which
    // is what WebKit's Intl must write too.
    let fraud_amount = plain(&format_amount(64_000, "USD", e.tag));
    assert!(text.contains(&fraud_amount), "{fraud_amount:?} in {text}");
    let low_amount = plain(&format_amount(4_321, "GBP", e.tag));
    let alerts = alert_texts(d).await;
    assert!(
        alerts
            .iter()
            .any(|a| a.contains(e.low_balance) && a.contains(&low_amount)),
        "a low-balance alert with {low_amount:?} in {:?}: {alerts:#?}",
        e.lang
    );

    // An error from the app core reaches the window as a code and is
    // written from the catalogue: a bank address that does not resolve.
    d.click("[data-testid=nav-link]").await;
    d.type_into(
        "[data-testid=link-issuer-input]",
        "https://no-such-bank.invalid",
    )
    .await;
    d.click("[data-testid=link-submit]").await;
    let error = d.wait("p.banner.error[role=alert]", None, 60).await;
    let shown = plain(&d.text(&error).await);
    let words = Catalog::get(Domain::Desktop, e.lang);
    let host = [("host", Arg::Str("no-such-bank.invalid"))];
    let network = plain(&words.format("error-network", &host));
    assert_eq!(shown.trim(), network.trim(), "{:?}", e.lang);
    if e.lang != Lang::En {
        assert_ne!(
            network,
            plain(&Catalog::get(Domain::Desktop, Lang::En).format("error-network", &host))
        );
    }

    // A notification in the same language (the default hides amounts: the
    // kind's name only).
    let before = u32::try_from(server.shown().len()).unwrap_or(u32::MAX);
    gateway
        .transaction(
            "alice",
            json!({"amount_minor": 15_000, "merchant": "Kiosk"}),
        )
        .await;
    // (Waits for it, and fails naming what was shown when it is not there.)
    server.wait(30, |s| s.id > before && s.body == e.card_purchase);
}

/// Chooses `value` in Settings' language list.
async fn choose(demo: &DemoRun, d: &Driver, value: &str) {
    d.click("[data-testid=nav-settings]").await;
    d.click(&format!(
        "[data-testid=settings-language] option[value={value}]"
    ))
    .await;
    wait_for_setting(demo, "language", json!(value)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_and_notifications_speak_the_customers_language() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let mut demo = DemoRun::new("languages");
    // A French desktop.
    demo.env
        .retain(|(k, _)| !matches!(*k, "LANG" | "LANGUAGE" | "LC_ALL" | "LC_MESSAGES"));
    demo.env.push(("LANG", "fr_FR.UTF-8".into()));
    let server = Desktop::serve();
    let app = launch(&demo.display, &app_binary(), &demo.env, None).await;
    let d = &app.driver;
    link_demo_bank(d, &demo.gateway, &demo.display, false).await;
    let fraud = demo
        .gateway
        .transaction(
            "alice",
            json!({"amount_minor": 64_000, "country": "US", "card_present": false, "currency": "USD", "merchant": "Gadget Hub"}),
        )
        .await;
    demo.gateway
        .transaction(
            "alice",
            json!({"amount_minor": 2_000, "merchant": "Corner Shop", "balance_after_minor": 4_321}),
        )
        .await;

    check(&demo, d, &server, &fraud[0], &FRENCH).await;
    choose(&demo, d, "de").await;
    check(&demo, d, &server, &fraud[0], &GERMAN).await;
    choose(&demo, d, "en").await;
    // English chosen on a French desktop: English words, English formats.
    check(&demo, d, &server, &fraud[0], &ENGLISH).await;
    choose(&demo, d, "system").await;
    wait_for_locale(d, "fr-FR").await;
    screenshot(&demo.display, "home-fr");
    drop(app);
}
