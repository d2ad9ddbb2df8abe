//! Two banks in one window, as the demo starts them: two gateways with
//! their own issuers, keys, CAs and customers. Each alert and conversation
//! shows under its bank's verified name; search and notifications work
//! across both; unlinking one leaves the other.

use super::*;

/// The texts of the elements matching `css`.
async fn texts(d: &Driver, css: &str) -> Vec<String> {
    let v = d
        .script(&format!(
            "return [...document.querySelectorAll('{css}')].map(e => e.innerText)"
        ))
        .await;
    serde_json::from_value(v).unwrap_or_default()
}

/// Waits until some element matching `css` holds all of `parts`.
async fn wait_for_text(d: &Driver, css: &str, parts: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(t) = texts(d, css)
            .await
            .into_iter()
            .find(|t| parts.iter().all(|p| t.contains(p)))
        {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "no {css} with {parts:?}: {:#?}",
            texts(d, css).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_banks_in_one_window_each_under_its_verified_name() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let mut demo = DemoRun::new("two-banks");
    let other_dir = tempfile::tempdir().expect("a temp dir");
    let other = Gateway::start(other_dir.path(), &["--bank-name", "Musterbank"]);
    // The app trusts both demo CAs and offers both demo banks, as
    // `cargo xtask demo` starts it.
    let cas = other_dir.path().join("both-cas.pem");
    let bundle = [&demo.gateway.ca, &other.ca]
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("a demo CA"))
        .collect::<String>();
    std::fs::write(&cas, bundle).expect("the CA bundle");
    for (key, value) in &mut demo.env {
        match *key {
            "STRONGROOM_CA_FILE" => *value = cas.display().to_string(),
            "STRONGROOM_DEMO_ISSUER" => {
                *value = format!("{} {}", demo.gateway.issuer, other.issuer)
            }
            _ => {}
        }
    }
    let server = Desktop::serve();
    let app = launch(&demo.display, &app_binary(), &demo.env, None).await;
    let d = &app.driver;
    link_demo_bank(d, &demo.gateway, &demo.display, false).await;
    // The second bank, offered as the second demo bank.
    d.click("[data-testid=nav-link]").await;
    d.click("[data-testid=link-demo-bank-2]").await;
    d.click("[data-testid=link-submit]").await;
    d.wait("#link-title", Some("Musterbank"), 30).await;
    d.click("[data-testid=link-consent-accept]").await;
    let code = d.wait("[data-testid=link-user-code]", None, 30).await;
    let user_code = d.text(&code).await.trim().to_owned();
    other.approve(&user_code, "alice", "alice-demo", true).await;
    d.wait("[data-testid=link-receipt]", Some("Musterbank"), 60)
        .await;
    d.click("[data-testid=link-done]").await;

    // An alert from each bank, each under its own verified name.
    let gb = demo
        .gateway
        .transaction(
            "alice",
            json!({"amount_minor": 12_500, "merchant": "Corner Shop"}),
        )
        .await;
    let de = other
        .transaction(
            "alice",
            json!({"amount_minor": 15_000, "merchant": "Schmidt Shop"}),
        )
        .await;
    d.click("[data-testid=nav-home]").await;
    let gb_text = wait_for_text(
        d,
        &format!("[data-alert-id=\"{}\"]", gb[0]),
        &["Corner Shop"],
    )
    .await;
    let de_text = wait_for_text(
        d,
        &format!("[data-alert-id=\"{}\"]", de[0]),
        &["Schmidt Shop"],
    )
    .await;
    assert!(
        gb_text.contains("Demo Bank") && !gb_text.contains("Musterbank"),
        "{gb_text}"
    );
    assert!(
        de_text.contains("Musterbank") && !de_text.contains("Demo Bank"),
        "{de_text}"
    );
    // Both banks' cards.
    let page = d.script("return document.body.innerText").await.to_string();
    assert!(
        page.contains("Demo Bank") && page.contains("Musterbank"),
        "{page}"
    );
    // A notification from each, titled with its bank.
    server.wait(30, |s| s.summary == "Demo Bank");
    server.wait(30, |s| s.summary == "Musterbank");

    // Search across both banks.
    d.click("[data-testid=nav-search]").await;
    d.type_into("[data-testid=search-input]", "Shop").await;
    wait_for_text(
        d,
        "[data-testid=search-result]",
        &["Demo Bank", "Corner Shop"],
    )
    .await;
    wait_for_text(
        d,
        "[data-testid=search-result]",
        &["Musterbank", "Schmidt Shop"],
    )
    .await;

    // A conversation per bank.
    let (status, _) = other
        .bank(
            "POST",
            "/bank/v1/chat",
            Some(json!({"customer": "alice", "author": "Musterbank", "body": "Guten Tag from Musterbank"})),
        )
        .await;
    assert_eq!(status, 201);
    d.click("[data-testid=nav-chat]").await;
    let musterbank_thread = d
        .script(
            "return [...document.querySelectorAll('[data-testid^=chat-account-]')]\
             .find(e => e.innerText.includes('Musterbank'))?.getAttribute('data-testid') ?? null",
        )
        .await;
    let thread = musterbank_thread
        .as_str()
        .expect("a Musterbank conversation");
    d.click(&format!("[data-testid={thread}]")).await;
    d.wait(
        "[data-testid=chat-message]",
        Some("Guten Tag from Musterbank"),
        30,
    )
    .await;

    // Unlink one bank: its alerts go, the other's stay.
    d.click("[data-testid=nav-settings]").await;
    let unlink = d
        .script(
            "return [...document.querySelectorAll('li.acct')]\
             .find(e => e.innerText.includes('Musterbank'))\
             ?.querySelector('button[data-testid^=unlink-]')?.getAttribute('data-testid') ?? null",
        )
        .await;
    let unlink = unlink.as_str().expect("Musterbank's unlink button");
    d.click(&format!("[data-testid={unlink}]")).await;
    d.click("[data-testid=unlink-confirm]").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let banks = texts(d, "li.acct").await;
        if banks.len() == 1 {
            assert!(banks[0].contains("Demo Bank"), "{banks:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Musterbank is still linked: {banks:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    d.click("[data-testid=nav-home]").await;
    d.wait(&format!("[data-alert-id=\"{}\"]", gb[0]), None, 30)
        .await;
    assert!(
        d.elements(&format!("[data-alert-id=\"{}\"]", de[0]))
            .await
            .is_empty(),
        "the unlinked bank's alert is gone"
    );
    drop(app);
}
