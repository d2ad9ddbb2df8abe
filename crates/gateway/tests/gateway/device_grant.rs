//! Linking a device (the device authorization grant with DPoP): the user
//! code, polling too fast, the password and consent pages, and how a
//! customer's other devices hear of a new one.

use strongroom_core::protocol::alert::AlertKind;
use strongroom_core::protocol::frames::DeviceEvent;
use strongroom_core::protocol::jose::SigningKey;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_code_is_pending_then_slowed_and_a_wrong_password_or_a_denial_ends_it() {
    let (_dir, gateway) = demo_gateway().await;
    let http = Http::new(&gateway);
    let linker = Linker::new(&http, &gateway);
    // Pending, then polling again at once: slow down.
    let (slow_key, _) = SigningKey::generate("slow", &linker.rng).unwrap();
    let auth = linker.device_authorization(&slow_key).await;
    let code = auth["user_code"].as_str().unwrap();
    assert_eq!(code.len(), 9);
    assert!(
        code.chars()
            .all(|c| c == '-' || "BCDFGHJKLMNPQRSTVWXZ".contains(c)),
        "{code}"
    );
    assert_eq!(
        auth["verification_uri"],
        format!("{}/device", gateway.issuer)
    );
    assert_eq!(auth["interval"], 5);
    let device_code = auth["device_code"].as_str().unwrap();
    assert_eq!(
        linker.poll(&slow_key, device_code).await.json()["error"],
        "authorization_pending"
    );
    assert_eq!(
        linker.poll(&slow_key, device_code).await.json()["error"],
        "slow_down"
    );
    // A wrong password never reaches the consent page; a denial is final.
    let wrong = linker
        .approve(code, "alice", "not-her-password", "approve")
        .await;
    assert_eq!(wrong.status, 401);
    assert!(hidden_field(&wrong.text(), "decision").is_none());
    let denied = linker.approve(code, "alice", "alice-demo", "deny").await;
    assert!(denied.text().contains("denied"), "{}", denied.text());
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_device_is_announced_to_the_first_in_a_signed_alert() {
    let (_dir, gateway) = demo_gateway().await;
    let http = Http::new(&gateway);
    let linker = Linker::new(&http, &gateway);
    let phone = linker.link("alice").await;
    let mut verifier = pinned_verifier(&http, &gateway.issuer, &phone).await;
    let (mut ws, acked) = open_stream(&linker, &phone, 0).await;
    assert_eq!(acked, 0);
    let (seq, event) = next_event(&mut ws).await;
    assert_eq!(seq, 1);
    assert!(matches!(event, DeviceEvent::Flags { .. }), "{event:?}");

    // A second device: the first hears of it in a signed alert.
    let laptop = linker.link("alice").await;
    assert_eq!(
        laptop.audience, phone.audience,
        "every device of a customer hears the customer's audience"
    );
    let (seq, event) = next_event(&mut ws).await;
    let DeviceEvent::Alert { jws } = event else {
        panic!("{event:?}")
    };
    assert_eq!(seq, 2);
    assert_eq!(
        verifier.verify(&jws, now_s()).unwrap().kind,
        AlertKind::NewDeviceSignIn
    );
    gateway.shutdown().await;
}
