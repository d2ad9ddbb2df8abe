//! Every protocol decoder and the verifier, fed a deterministic corpus of
//! mutated valid inputs (the same entry points the cargo-fuzz targets in
//! `fuzz/` use): each must return an error or a value, never panic, and a
//! mutated alert must never verify.

use strongroom_core::protocol::alert::ALERT_TYP;
use strongroom_core::protocol::fuzzing;
use strongroom_core::protocol::verify::{AlertVerifier, PinnedKeys, TimePolicy};

/// xorshift: the corpus is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(5) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out.remove(i);
            }
            2 => {
                let i = rng.below(out.len() + 1);
                out.insert(i, b".{}\"\\0-_A"[rng.below(9)]);
            }
            3 if !out.is_empty() => {
                let i = rng.below(out.len());
                out.truncate(i);
            }
            _ => {
                let i = rng.below(out.len() + 1);
                let j = rng.below(out.len() + 1);
                let (a, b) = (i.min(j), i.max(j));
                let chunk = out[a..b].to_vec();
                out.extend_from_slice(&chunk);
            }
        }
    }
    out
}

#[test]
fn the_seed_alert_verifies_so_mutations_are_meaningful() {
    let pinned = PinnedKeys::pin(
        fuzzing::ISSUER,
        fuzzing::AUDIENCE,
        vec![fuzzing::bank_key().jwk()],
    )
    .unwrap();
    let mut verifier = AlertVerifier::new(pinned, TimePolicy::default());
    assert!(
        verifier
            .verify(&fuzzing::valid_alert(), fuzzing::NOW)
            .is_ok()
    );
    assert!(
        fuzzing::valid_alert().contains('.'),
        "{ALERT_TYP} compact form"
    );
}

#[test]
fn mutated_alerts_never_panic_and_never_verify() {
    let seed = fuzzing::valid_alert();
    let pinned = PinnedKeys::pin(
        fuzzing::ISSUER,
        fuzzing::AUDIENCE,
        vec![fuzzing::bank_key().jwk()],
    )
    .unwrap();
    let verifier = AlertVerifier::new(pinned, TimePolicy::default());
    let mut rng = Rng(0x5eed_a1e7);
    let mut verified = 0;
    for _ in 0..20_000 {
        let input = mutate(&mut rng, seed.as_bytes());
        let Ok(text) = std::str::from_utf8(&input) else {
            continue;
        };
        fuzzing::verify_alert(text);
        fuzzing::rotate_keys(text);
        let _ = strongroom_core::protocol::jose::parse_jws(text);
        if text != seed && verifier.check(text, fuzzing::NOW).is_ok() {
            verified += 1;
        }
    }
    // Not even a different spelling of the same bytes: the base64url decoder
    // refuses non-canonical trailing bits.
    assert_eq!(verified, 0, "mutated alerts verified");
}

#[test]
fn mutated_frames_and_rotations_never_panic() {
    let seeds: Vec<Vec<u8>> = vec![
        br#"{"type":"event","seq":4,"event":{"type":"chat","message":{"bank_message_id":"m1","from":"staff","author":"Ana","body":"hello","sent_at":1}}}"#.to_vec(),
        br#"{"type":"event","seq":5,"event":{"type":"flags","flags":{"budgets":true}}}"#.to_vec(),
        br#"{"type":"hello","acked":9}"#.to_vec(),
        br#"{"type":"resume","after":3}"#.to_vec(),
        br#"{"client_id":"c-1","body":"Please call me","sent_at":17}"#.to_vec(),
        br#"{"alert_id":"a1","answer":"me","answered_at":5}"#.to_vec(),
        br#"{"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"BBBB","kid":"k"}]}"#.to_vec(),
        fuzzing::valid_rotation().into_bytes(),
    ];
    let mut rng = Rng(0xf4a3e5);
    for round in 0..30_000 {
        let seed = &seeds[round % seeds.len()];
        let input = mutate(&mut rng, seed);
        fuzzing::decode_frames(&input);
        if let Ok(text) = std::str::from_utf8(&input) {
            fuzzing::rotate_keys(text);
        }
    }
    // Oversized inputs are refused before parsing.
    fuzzing::decode_frames(&vec![b'['; 1 << 20]);
    fuzzing::verify_alert(&"a.".repeat(1 << 16));
}
