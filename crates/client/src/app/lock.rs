//! Locking the app (every key leaves memory) and the optional app
//! passphrase that guards unlocking, kept in the keychain as a PBKDF2
//! verifier, never as the passphrase itself.

use ring::rand::{SecureRandom, SystemRandom};
use std::num::NonZeroU32;
use std::sync::Arc;
use strongroom_core::Sensitive;

use super::app_core::{AppCore, KEYCHAIN_TIMEOUT, keychain_silent};
use super::error::AppError;
use super::views::Status;
use crate::service::lock;

/// PBKDF2 iterations for the app passphrase (OWASP 2023 for SHA-256).
const PASSPHRASE_ITERATIONS: u32 = 600_000;

/// The shortest passphrase accepted, in characters.
const PASSPHRASE_MIN_CHARS: usize = 8;

impl AppCore {
    /// Locks: stops the streams and drops the store, so every key leaves
    /// memory (they are zeroized on drop where ring allows).
    pub fn lock_now(&self) {
        let online = {
            let mut state = lock(&self.state);
            state.locked = true;
            state.pending.clear();
            state.connected.clear();
            state.open_checks = super::checks::OpenChecks::default();
            state.balances = super::balances::Balances::default();
            state.bank_names.clear();
            state.online.take()
        };
        if let Some(online) = online {
            for task in online.tasks {
                task.abort();
            }
        }
    }

    /// Unlocks with the passphrase (when one is set) and goes online.
    ///
    /// # Errors
    /// `wrong_passphrase`, or a keychain or store error.
    pub async fn unlock(self: &Arc<Self>, passphrase: Option<&str>) -> Result<Status, AppError> {
        // A keychain read and 600,000 PBKDF2 rounds: on the blocking pool,
        // bounded as opening is, never on an async worker.
        let vault = self.vault.clone();
        let given = passphrase.map(|p| Sensitive::new(p.to_owned()));
        let check = tokio::task::spawn_blocking(move || -> Result<bool, AppError> {
            Ok(match vault.passphrase_verifier()? {
                None => true,
                Some(verifier) => given
                    .as_ref()
                    .is_some_and(|p| check_passphrase(verifier.expose(), p.expose())),
            })
        });
        match tokio::time::timeout(KEYCHAIN_TIMEOUT, check).await {
            Ok(Ok(Ok(true))) => {}
            Ok(Ok(Ok(false))) => return Err(AppError::WrongPassphrase),
            Ok(Ok(Err(err))) => return Err(err),
            Ok(Err(_)) | Err(_) => return Err(keychain_silent()),
        }
        if lock(&self.state).online.is_none() {
            self.go_online().await?;
        }
        self.touch();
        Ok(self.status())
    }

    /// Sets, changes or (with `next` = `None`) removes the app passphrase.
    ///
    /// # Errors
    /// `wrong_passphrase` when `current` does not match, `weak_passphrase`
    /// under 8 characters, or a keychain error.
    pub fn set_passphrase(
        &self,
        current: Option<&str>,
        next: Option<&str>,
    ) -> Result<(), AppError> {
        if let Some(verifier) = self.vault.passphrase_verifier()?
            && !current.is_some_and(|c| check_passphrase(verifier.expose(), c))
        {
            return Err(AppError::WrongCurrentPassphrase);
        }
        let result = match next {
            None => self
                .vault
                .put_passphrase_verifier(None)
                .map_err(AppError::from),
            Some(p) if p.chars().count() < PASSPHRASE_MIN_CHARS => {
                Err(AppError::WeakPassphrase(PASSPHRASE_MIN_CHARS))
            }
            Some(p) => {
                let verifier = make_verifier(p, &self.rng)?;
                self.vault
                    .put_passphrase_verifier(Some(&verifier))
                    .map_err(AppError::from)
            }
        };
        if result.is_ok() {
            lock(&self.state).passphrase_set = next.is_some();
        }
        result
    }
}

fn make_verifier(passphrase: &str, rng: &SystemRandom) -> Result<Sensitive<Vec<u8>>, AppError> {
    let mut salt = [0u8; 16];
    rng.fill(&mut salt).map_err(|_| AppError::Random)?;
    let mut out = [0u8; 32];
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        NonZeroU32::new(PASSPHRASE_ITERATIONS).unwrap_or(NonZeroU32::MIN),
        &salt,
        passphrase.as_bytes(),
        &mut out,
    );
    let mut verifier = salt.to_vec();
    verifier.extend_from_slice(&out);
    Ok(Sensitive::new(verifier))
}

fn check_passphrase(verifier: &[u8], passphrase: &str) -> bool {
    if verifier.len() != 48 {
        return false;
    }
    let (salt, expected) = verifier.split_at(16);
    ring::pbkdf2::verify(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        NonZeroU32::new(PASSPHRASE_ITERATIONS).unwrap_or(NonZeroU32::MIN),
        salt,
        passphrase.as_bytes(),
        expected,
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_passphrase_verifier_accepts_only_the_passphrase() {
        let v = make_verifier("correct horse", &SystemRandom::new()).unwrap();
        assert!(check_passphrase(v.expose(), "correct horse"));
        assert!(!check_passphrase(v.expose(), "correct horsE"));
        assert!(!check_passphrase(&v.expose()[..40], "correct horse"));
    }
}
