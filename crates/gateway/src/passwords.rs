//! Password hashing with Argon2id: customers' bank passwords and staff
//! passwords are stored only as PHC strings, checked off the async runtime.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::crypto::random_bytes;
use crate::error::GatewayError;

/// The OWASP minimum for Argon2id: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with Argon2id (PHC string). Slow on purpose: call it
/// off the async runtime.
///
/// # Errors
/// [`GatewayError::Config`] if hashing fails.
pub fn hash_password(
    password: &str,
    rng: &ring::rand::SystemRandom,
) -> Result<String, GatewayError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>(rng))
        .map_err(|e| GatewayError::Config(format!("password salt: {e}")))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| GatewayError::Config(format!("password hash: {e}")))
}

/// Checks a password against a PHC string; false for a malformed hash.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// Checks a password on the blocking pool, holding `permit` (one of the
/// Argon2 slots) while it runs. Without a hash (an unknown username)
/// `dummy` (the gateway's dummy hash) is checked instead and the answer is
/// false: the same time either way, so response times do not tell which
/// usernames exist.
pub(crate) async fn check_password(
    dummy: String,
    permit: tokio::sync::OwnedSemaphorePermit,
    password: String,
    phc: Option<String>,
) -> bool {
    tokio::task::spawn_blocking(move || {
        let matches = verify_password(&password, phc.as_deref().unwrap_or(&dummy));
        drop(permit);
        matches && phc.is_some()
    })
    .await
    .unwrap_or(false)
}
