//! Random tokens, hashes and clocks, all through ring.

use ring::rand::{SecureRandom, SystemRandom};
use strongroom_core::protocol::jose::b64_encode;

/// `n` random bytes from the system's generator.
pub fn random_bytes<const N: usize>(rng: &SystemRandom) -> [u8; N] {
    let mut bytes = [0u8; N];
    // The system generator only fails when the OS has no entropy source at
    // all; a gateway without one must not hand out tokens.
    if rng.fill(&mut bytes).is_err() {
        tracing::error!("the system random generator failed");
        std::process::abort();
    }
    bytes
}

/// A random opaque token: 32 bytes, base64url.
pub fn random_token(rng: &SystemRandom) -> String {
    b64_encode(&random_bytes::<32>(rng))
}

/// Lower-case hexadecimal, two digits a byte.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random id in the UUID version 4 text form.
pub fn random_uuid(rng: &SystemRandom) -> String {
    let mut b = random_bytes::<16>(rng);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// SHA-256 of `data`: how tokens, codes and the bank API key are stored.
pub fn sha256(data: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Seconds since the Unix epoch.
pub fn now_s() -> i64 {
    now_ms() / 1000
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_tokens() {
        let rng = SystemRandom::new();
        let id = random_uuid(&rng);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4", "version 4");
        assert_ne!(random_token(&rng), random_token(&rng));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
