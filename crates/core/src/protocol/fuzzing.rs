//! Entry points shared by the cargo-fuzz targets (`fuzz/`) and the
//! mutation test that runs on every `cargo xtask test`: each feeds arbitrary
//! input to a decoder or the verifier, which must return, never panic.

use std::sync::OnceLock;

use super::alert::{ALERT_TYP, AlertClaims, AlertEvent, AlertKind, AlertSeverity};
use super::frames;
use super::jose::{Jwk, JwkSet, SigningKey};
use super::verify::{AlertVerifier, KeyRotation, PinnedKeys, ROTATION_TYP, TimePolicy};

/// The issuer of the fixed test bank.
pub const ISSUER: &str = "https://fuzz.bank.example";
/// The customer the fixed test bank's alerts are for.
pub const AUDIENCE: &str = "fuzz-customer-1";
/// "Now" for every check, seconds.
pub const NOW: i64 = 1_800_000_000;

// A fixed P-256 key (PKCS#8), so fuzzing is reproducible and the verifier
// really checks signatures. Public test material, never used for anything
// else.
const BANK_PKCS8: &[u8] = include_bytes!("fuzz_bank_key.pk8");

/// The fixed test bank's signing key.
pub fn bank_key() -> SigningKey {
    let rng = ring::rand::SystemRandom::new();
    // The embedded document is a valid key; should it ever not be, fuzzing
    // must fail loudly at start, which `expect` does in this test-only path.
    SigningKey::from_pkcs8("fuzz-1", BANK_PKCS8, &rng).expect("the embedded fuzz key loads")
}

/// A valid alert from the fixed bank: the seed of every mutation.
pub fn valid_alert() -> String {
    let claims = AlertClaims::new(
        ISSUER,
        AUDIENCE,
        "seed-1",
        NOW,
        AlertKind::FraudCheck,
        AlertEvent {
            severity: AlertSeverity::Critical,
            text: "Did you pay 42.00 EUR?".into(),
            account_ref: Some("****0001".into()),
            amount_minor: Some(4_200),
            currency: Some("EUR".into()),
            merchant: Some("Shop".into()),
            country: None,
            respond_by: None,
            balance_minor: None,
        },
    );
    bank_key()
        .sign(ALERT_TYP, &claims, false, &ring::rand::SystemRandom::new())
        .unwrap_or_default()
}

/// A valid key rotation statement from the fixed bank.
pub fn valid_rotation() -> String {
    let statement = KeyRotation {
        iss: ISSUER.into(),
        iat: NOW,
        seq: 1,
        keys: vec![bank_key().jwk()],
        replaces: Vec::new(),
    };
    bank_key()
        .sign(
            ROTATION_TYP,
            &statement,
            false,
            &ring::rand::SystemRandom::new(),
        )
        .unwrap_or_default()
}

fn pinned() -> Option<PinnedKeys> {
    // Loading the key from PKCS#8 checks its public point, which costs as
    // much as a signature check: done once per process rather than once per
    // input, it doubles the fuzzers' speed. The pinned set is only read.
    static PINNED: OnceLock<Option<PinnedKeys>> = OnceLock::new();
    PINNED
        .get_or_init(|| PinnedKeys::pin(ISSUER, AUDIENCE, vec![bank_key().jwk()]).ok())
        .clone()
}

/// Runs the alert verifier on `text`.
pub fn verify_alert(text: &str) {
    if let Some(pinned) = pinned() {
        let _ = AlertVerifier::new(pinned, TimePolicy::default()).verify(text, NOW);
    }
}

/// Runs key rotation on `text`.
pub fn rotate_keys(text: &str) {
    if let Some(pinned) = pinned() {
        let _ = pinned.rotate(text, NOW, TimePolicy::default());
    }
}

/// Runs every frame and request decoder, and the JWKS and JWK decoders, on
/// `data`.
pub fn decode_frames(data: &[u8]) {
    let _ = frames::decode_server_frame(data);
    let _ = frames::decode_client_frame(data);
    let _ = frames::decode_send_chat(data);
    let _ = frames::decode_fraud_answer(data);
    if data.len() <= frames::MAX_FRAME_BYTES {
        if let Ok(set) = serde_json::from_slice::<JwkSet>(data) {
            for key in &set.keys {
                let _ = key.public_point();
                let _ = key.thumbprint();
            }
        }
        if let Ok(key) = serde_json::from_slice::<Jwk>(data) {
            let _ = key.public_point();
        }
    }
}
