//! Alice's devices as most tests need them: linked, streaming, past the
//! events every new stream starts with, and an app's pinned verifier.

use strongroom_core::protocol::frames::DeviceEvent;
use strongroom_core::protocol::jose::JwkSet;
use strongroom_core::protocol::verify::{AlertVerifier, PinnedKeys, TimePolicy};

use super::{Device, Http, Linker, Ws, next_event, open_stream};

/// Alice's phone, linked, its stream open and past its first event (the
/// customer's pilot flags).
pub async fn streaming_phone(linker: &Linker<'_>) -> (Device, Ws) {
    let phone = linker.link("alice").await;
    let (mut ws, _) = open_stream(linker, &phone, 0).await;
    let (_, event) = next_event(&mut ws).await;
    assert!(matches!(event, DeviceEvent::Flags { .. }), "{event:?}");
    (phone, ws)
}

/// Alice's phone and laptop; the phone's stream is past the alert that
/// told it of the laptop's sign-in.
pub async fn phone_and_laptop(linker: &Linker<'_>) -> (Device, Device, Ws) {
    let (phone, mut ws) = streaming_phone(linker).await;
    let laptop = linker.link("alice").await;
    let (_, event) = next_event(&mut ws).await;
    assert!(matches!(event, DeviceEvent::Alert { .. }), "{event:?}");
    (phone, laptop, ws)
}

/// The app's verifier for `device`: the gateway's published keys, pinned
/// for the device's audience.
pub async fn pinned_verifier(http: &Http, issuer: &str, device: &Device) -> AlertVerifier {
    let jwks: JwkSet =
        serde_json::from_slice(&http.send("GET", "/oauth/jwks", &[], b"").await.body).unwrap();
    AlertVerifier::new(
        PinnedKeys::pin(issuer, &device.audience, jwks.keys).unwrap(),
        TimePolicy::default(),
    )
}
