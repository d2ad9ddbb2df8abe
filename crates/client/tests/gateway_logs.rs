//! Nothing secret or personal reaches the gateway's logs. A whole session
//! runs against the real gateway process with `--log-level debug` (one line
//! per request on top of everything else): a customer made with a planted
//! password links through the device grant, receives a fraud check with a
//! planted merchant and amount and answers it, writes to the bank and gets
//! a reply from an agent who signed in to the console with a planted
//! password. Then every log line is read as JSON and searched for each
//! planted value, the user code, the bank API key, the console's session,
//! the device's tokens and anything shaped like a JWS.

mod support;

use std::time::Duration;

use strongroom_client::{ClientEvent, FraudAnswerValue};
use support::{Gateway, TestDevice, add_staff, hidden_field, wait_for};

const CUSTOMER_PASSWORD: &str = "canary-Pw-7f3a9c1e";
const STAFF_PASSWORD: &str = "canary-Staff-5b2d8e40";
const MERCHANT: &str = "Canarymerchant Kx7Q";
const AMOUNT_MINOR: i64 = 987_653;
const CUSTOMER_TEXT: &str = "canary customer words 41c9";
const AGENT_TEXT: &str = "canary agent words 93fe";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_personal_value_reaches_the_gateway_logs() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("gateway.log");
    let gateway = Gateway::start_logged(
        dir.path(),
        "127.0.0.1:0",
        &["--log-level", "debug"],
        Some(&log),
    );
    let (status, reply) = gateway
        .bank(
            "POST",
            "/bank/v1/customers",
            Some(serde_json::json!({
                "username": "carol", "display_name": "Carol Canary",
                "password": CUSTOMER_PASSWORD, "home_country": "GB"
            })),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    add_staff(&gateway, "cora", "Cora Agent", "agent", STAFF_PASSWORD);

    // Link.
    let device = TestDevice::new("logs");
    let client = device.client(&gateway);
    let pending = client.start_link(&gateway.issuer).await.unwrap();
    let user_code = pending.user_code().to_owned();
    gateway
        .approve(&user_code, "carol", CUSTOMER_PASSWORD, true)
        .await;
    let account = client.finish_link(pending).await.unwrap();
    let mut events = client.subscribe();
    let runner = {
        let client = client.clone();
        tokio::spawn(async move { client.run_account(account).await })
    };
    wait_for(&mut events, 20, |e| {
        matches!(e, ClientEvent::Connected { .. }).then_some(())
    })
    .await;

    // A fraud check with planted details, answered.
    let ids = gateway
        .transaction(
            "carol",
            serde_json::json!({"amount_minor": AMOUNT_MINOR, "merchant": MERCHANT,
                "country": "US", "card_present": false, "currency": "USD"}),
        )
        .await;
    assert_eq!(ids.len(), 1);
    wait_for(&mut events, 20, |e| match e {
        ClientEvent::Alert { alert, .. } if alert.id == ids[0] => Some(()),
        _ => None,
    })
    .await;
    client
        .answer_fraud_check(account, &ids[0], FraudAnswerValue::NotMe)
        .await
        .unwrap();

    // Chat, both ways: the customer writes; an agent answers from the
    // console.
    client.send_chat(account, CUSTOMER_TEXT).unwrap();
    gateway.wait_for_chat("carol", CUSTOMER_TEXT).await;
    let page = gateway
        .http
        .get(format!("{}/console", gateway.direct))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_field(&page, "csrf").expect("a sign-in form");
    let signed_in = gateway
        .http
        .post(format!("{}/console/sign-in", gateway.direct))
        .form(&[
            ("username", "cora"),
            ("password", STAFF_PASSWORD),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status().as_u16(), 303);
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.split(';')
                .next()
                .filter(|c| c.starts_with("__Host-console="))
        })
        .expect("a session cookie")
        .to_owned();
    let queue = gateway
        .http
        .get(format!("{}/console", gateway.direct))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let conversation = queue
        .split("href=\"/console/c/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("carol's conversation in the queue")
        .to_owned();
    let page = gateway
        .http
        .get(format!("{}/console/c/{conversation}", gateway.direct))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form_token = hidden_field(&page, "csrf").expect("the reply form");
    let replied = gateway
        .http
        .post(format!("{}/console/c/{conversation}/reply", gateway.direct))
        .header("cookie", &cookie)
        .form(&[("body", AGENT_TEXT), ("csrf", &form_token)])
        .send()
        .await
        .unwrap();
    assert!(replied.status().as_u16() < 400, "the reply is sent");
    wait_for(&mut events, 20, |e| match e {
        ClientEvent::Message { body, .. } if body.contains(AGENT_TEXT) => Some(()),
        _ => None,
    })
    .await;
    runner.abort();
    // The device's own secrets, as the keychain holds them.
    let vault = strongroom_vault::Vault::with_service(&device.service);
    let refresh = vault
        .get(account, strongroom_vault::SecretKind::RefreshToken)
        .unwrap()
        .expect("a refresh token");
    let refresh = String::from_utf8(refresh.expose().clone()).unwrap();
    drop(gateway);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let text = std::fs::read_to_string(&log).expect("the gateway logged");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    // The session was logged, request by request, each with its id.
    let requests = lines.iter().filter(|l| l["message"] == "answered").count();
    assert!(requests >= 10, "{requests} request lines in\n{text}");
    assert!(
        lines
            .iter()
            .filter(|l| l["message"] == "answered")
            .all(|l| l["span"]["request_id"]
                .as_str()
                .is_some_and(|id| id.len() == 16)),
        "every request line names its request"
    );
    let amount = AMOUNT_MINOR.to_string();
    let major = format!("{}.{:02}", AMOUNT_MINOR / 100, AMOUNT_MINOR % 100);
    let cookie_value = cookie.split_once('=').unwrap().1.to_owned();
    let api_key = std::fs::read_to_string(dir.path().join("bank-api-key")).unwrap();
    for (what, planted) in [
        ("the customer's password", CUSTOMER_PASSWORD),
        ("the agent's password", STAFF_PASSWORD),
        ("the merchant", MERCHANT),
        ("the amount", amount.as_str()),
        ("the amount in major units", major.as_str()),
        ("the customer's message", CUSTOMER_TEXT),
        ("the agent's reply", AGENT_TEXT),
        ("the user code", user_code.as_str()),
        ("the bank API key", api_key.trim()),
        ("the console session", cookie_value.as_str()),
        ("the refresh token", refresh.as_str()),
        ("a JWS or JWT (a token, a proof, a signed alert)", "eyJ"),
    ] {
        assert!(!text.contains(planted), "{what} is in the gateway's log");
    }
}
