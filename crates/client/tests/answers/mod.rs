//! A fraud check answered on more than one of the customer's devices.

use strongroom_client::{ClientError, ClientEvent, FraudAnswerValue};

use crate::support::{self, Linked, wait_for};

/// A fraud check the customer answered on another of their devices stops
/// waiting on this one: the bank's refusal carries its answer, which this
/// device stores (before, it stayed unanswered here, counted in the tray
/// and offered again at every unlock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_answered_on_another_device_is_answered_here_too() {
    let mut t = Linked::start("answered-elsewhere", true).await;
    let other_device = support::TestDevice::new("answered-elsewhere-2");
    let other = other_device.client(&t.gateway);
    let other_account = support::link(&other, &t.gateway, "alice").await;
    let mut other_events = other.subscribe();
    let runner = {
        let other = other.clone();
        tokio::spawn(async move { other.run_account(other_account).await })
    };
    let ids = t
        .gateway
        .transaction(
            "alice",
            serde_json::json!({"amount_minor": 49_999, "country": "US", "card_present": false, "currency": "USD", "merchant": "Gadgets Online"}),
        )
        .await;
    for events in [&mut t.events, &mut other_events] {
        wait_for(events, 20, |e| match e {
            ClientEvent::Alert { alert, .. } if alert.id == ids[0] => Some(()),
            _ => None,
        })
        .await;
    }
    // The customer says "this wasn't me" on the other device first.
    other
        .answer_fraud_check(other_account, &ids[0], FraudAnswerValue::NotMe)
        .await
        .expect("the first answer is taken");
    let here = |c: &strongroom_client::Client, a| {
        c.alerts(a, 10)
            .unwrap()
            .into_iter()
            .find(|x| x.id == ids[0])
            .expect("the check is stored")
    };
    assert!(strongroom_client::app::waits_for_answer(&here(
        &t.client, t.account
    )));
    // "This was me" here cannot withdraw the fraud report: refused, with
    // the bank's answer, which this device now stores.
    let err = t
        .client
        .answer_fraud_check(t.account, &ids[0], FraudAnswerValue::Me)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::AlreadyAnswered {
                answer: strongroom_store::FraudAnswer::NotMe,
                answered_at: Some(_),
            }
        ),
        "{err:?}"
    );
    let stored = here(&t.client, t.account);
    assert_eq!(stored.answer, Some(strongroom_store::FraudAnswer::NotMe));
    assert!(!strongroom_client::app::waits_for_answer(&stored));
    // The bank still has the fraud report, from the other device.
    let (_, answers) = t
        .gateway
        .bank("GET", "/bank/v1/fraud-answers?customer=alice", None)
        .await;
    let mine: Vec<_> = answers["answers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|x| x["alert_id"] == ids[0].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(mine.len(), 1, "{answers}");
    assert_eq!(mine[0]["answer"], "not_me");
    runner.abort();
}
