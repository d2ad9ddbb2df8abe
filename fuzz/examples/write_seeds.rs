//! Writes every fuzz target's seeds to `fuzz/seeds/<target>/`: valid inputs
//! from the entry points' own seed functions, so that the fuzzers start
//! past the decoders' first checks (a signature that verifies, a record that
//! opens). Run again when an input format changes:
//! `cargo run --manifest-path fuzz/Cargo.toml --example write_seeds`.

use std::path::Path;

use strongroom_client::transcript::{
    TRANSCRIPT_FORMAT, TRANSCRIPT_FORMAT_1, Transcript, verify_transcript,
};
use strongroom_core::protocol::alert::{
    ALERT_TYP, AlertClaims, AlertEvent, AlertKind, AlertSeverity,
};
use strongroom_core::protocol::chain::{KeyChain, thumbprints};
use strongroom_core::protocol::fuzzing as core;
use strongroom_core::protocol::verify::{KeyRotation, PinnedKeys, ROTATION_TYP};

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let frames: Vec<Vec<u8>> = [
        &br#"{"type":"event","seq":4,"event":{"type":"chat","message":{"bank_message_id":"m1","from":"staff","author":"Ana","body":"hello","sent_at":1}}}"#[..],
        br#"{"type":"event","seq":5,"event":{"type":"flags","flags":{"budgets":true}}}"#,
        br#"{"type":"hello","acked":9}"#,
        br#"{"type":"resume","after":3}"#,
        br#"{"client_id":"c-1","body":"Please call me","sent_at":17}"#,
        br#"{"alert_id":"a1","answer":"me","answered_at":5}"#,
        br#"{"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"BBBB","kid":"k"}]}"#,
    ]
    .iter()
    .map(|s| s.to_vec())
    .collect();
    let gateway = strongroom_gateway::fuzzing::seeds();
    let of_entry = |name: &str| -> Vec<Vec<u8>> {
        gateway
            .iter()
            .filter(|(entry, _)| *entry == name)
            .map(|(_, input)| input.clone())
            .collect()
    };
    let targets: Vec<(&str, Vec<Vec<u8>>)> = vec![
        (
            "parse_jws",
            vec![
                core::valid_alert().into_bytes(),
                core::valid_rotation().into_bytes(),
            ],
        ),
        ("verify_alert", vec![core::valid_alert().into_bytes()]),
        ("rotate_keys", vec![core::valid_rotation().into_bytes()]),
        ("decode_frames", frames),
        ("store_records", strongroom_store::fuzzing::seeds()),
        ("bank_request", of_entry("bank_request")),
        ("device_frame", of_entry("device_frame")),
        ("verification_form", of_entry("verification_form")),
        ("tls_server", of_entry("tls_server")),
        ("transcript", transcripts()),
    ];
    for (target, seeds) in targets {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        for (i, seed) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i}")), seed)?;
        }
        println!("{target}: {} seeds", seeds.len());
    }
    Ok(())
}

/// Transcripts of one alert signed now by the fixed fuzz bank, each
/// checking clean: format 2 with a chain of one rotation statement, format 2
/// with no rotation, and format 1 (still read).
fn transcripts() -> Vec<Vec<u8>> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(core::NOW);
    let rng = ring::rand::SystemRandom::new();
    let key = core::bank_key();
    let claims = AlertClaims::new(
        core::ISSUER,
        core::AUDIENCE,
        "seed-transcript-1",
        now,
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
    let alert = key
        .sign(ALERT_TYP, &claims, false, &rng)
        .expect("the fuzz bank signs");
    let pinned = PinnedKeys::pin(core::ISSUER, core::AUDIENCE, vec![key.jwk()])
        .expect("the fuzz bank's key pins");
    let rotation = KeyRotation {
        iss: core::ISSUER.into(),
        iat: now - 60,
        seq: 1,
        keys: vec![key.jwk()],
        replaces: thumbprints(&[key.jwk()]).into_iter().collect(),
    };
    let rotation = key
        .sign(ROTATION_TYP, &rotation, false, &rng)
        .expect("the fuzz bank signs");
    let v2 = |rotations: Vec<String>| Transcript {
        format: TRANSCRIPT_FORMAT.into(),
        issuer: core::ISSUER.into(),
        bank_name: "Fuzz Bank".into(),
        audience: core::AUDIENCE.into(),
        link_key_thumbprints: thumbprints(&[key.jwk()]).into_iter().collect(),
        key_chain: KeyChain {
            start: pinned.clone(),
            rotations,
        },
        alerts: vec![alert.clone()],
        exported_at: now * 1000,
    };
    let v1 = serde_json::json!({
        "format": TRANSCRIPT_FORMAT_1,
        "issuer": core::ISSUER,
        "bank_name": "Fuzz Bank",
        "pinned_keys": pinned,
        "alerts": [alert],
        "exported_at": now * 1000,
    });
    let files = [
        serde_json::to_vec_pretty(&v2(vec![rotation])),
        serde_json::to_vec_pretty(&v2(Vec::new())),
        serde_json::to_vec_pretty(&v1),
    ];
    files
        .into_iter()
        .map(|file| {
            let bytes = file.expect("a transcript serializes");
            match verify_transcript(&bytes) {
                Ok(check) => assert!(check.all_verified(), "the seed transcript verifies"),
                Err(e) => panic!("the seed transcript is a transcript: {e}"),
            }
            bytes
        })
        .collect()
}
