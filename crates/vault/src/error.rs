//! What can go wrong with the keychain, in words a customer can act on.

/// A keychain failure, typed so that the app can show the right help screen.
///
/// Every variant has a stable [`code`](VaultError::code) for the UI and a
/// [`guidance`](VaultError::guidance) text for the customer. None of them ever
/// carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// No keychain service answers: on Linux no Secret Service provider
    /// (gnome-keyring, KeePassXC, KWallet) runs in this desktop session.
    #[error("no keychain service is available: {0}")]
    NoService(String),
    /// The keychain exists but is locked, and was not unlocked when asked.
    #[error("the keychain is locked")]
    Locked,
    /// The keychain refused Strongroom access.
    #[error("the keychain refused access: {0}")]
    AccessDenied(String),
    /// A secret is larger than any keychain entry may be.
    #[error("a secret of {len} bytes is longer than the {max}-byte keychain limit")]
    TooLong {
        /// Size of the secret that was refused.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The keychain gave back something other than what was stored.
    #[error("the keychain returned different data than was stored")]
    Corrupted,
    /// Any other failure reported by the platform.
    #[error("the keychain failed: {0}")]
    Platform(String),
}

impl VaultError {
    /// A stable machine-readable code, for `{code, message}` errors in the UI.
    pub fn code(&self) -> &'static str {
        match self {
            VaultError::NoService(_) => "keychain_missing",
            VaultError::Locked => "keychain_locked",
            VaultError::AccessDenied(_) => "keychain_denied",
            VaultError::TooLong { .. } => "keychain_entry_too_long",
            VaultError::Corrupted => "keychain_corrupted",
            VaultError::Platform(_) => "keychain_failed",
        }
    }

    /// What the customer can do about it. Nothing has been lost in any case:
    /// Strongroom stops rather than keep a secret anywhere else.
    pub fn guidance(&self) -> &'static str {
        match self {
            VaultError::NoService(_) => {
                "Strongroom keeps your bank credentials only in your system keychain, and none is \
                 running. On Linux, install and start a Secret Service provider such as GNOME \
                 Keyring (package gnome-keyring) or KeePassXC with Secret Service enabled, then \
                 restart Strongroom. Your messages and links are untouched."
            }
            VaultError::Locked => {
                "Your system keychain is locked. Unlock it (on Linux, open Passwords and Keys \
                 (Seahorse) and unlock the Login keyring; on macOS, Keychain Access) and try \
                 again. Nothing was lost."
            }
            VaultError::AccessDenied(_) => {
                "Your system keychain refused Strongroom access. Allow Strongroom when the \
                 keychain asks, or check your sandbox or keychain access settings, then try \
                 again. Nothing was lost."
            }
            VaultError::TooLong { .. } => {
                "Your system keychain cannot hold an entry as large as Strongroom needs. Please \
                 report this to Strongroom support; nothing was stored elsewhere."
            }
            VaultError::Corrupted => {
                "Your system keychain returned different data than Strongroom stored. Check the \
                 keychain's health (on Linux, restart GNOME Keyring) and try again."
            }
            VaultError::Platform(_) => {
                "Your system keychain reported an error. Restart your session and try again; if \
                 it persists, contact Strongroom support. Nothing was lost."
            }
        }
    }

    /// Sorts a keyring error into the cases a customer can act on.
    ///
    /// keyring reports a missing Secret Service as `NoDefaultStore` (the store
    /// could not even be created) or as a D-Bus failure naming the service;
    /// a locked collection, or an unlock prompt that was dismissed, as
    /// `NoStorageAccess`; a D-Bus or OS policy refusal carries "AccessDenied"
    /// or "denied" in the platform's message.
    pub(crate) fn from_keyring(err: keyring::Error) -> VaultError {
        match err {
            keyring::Error::NoDefaultStore => {
                VaultError::NoService("no keychain store could be opened".into())
            }
            keyring::Error::TooLong(_, max) => VaultError::TooLong {
                len: 0,
                max: max as usize,
            },
            keyring::Error::NoStorageAccess(inner) => {
                let text = inner.to_string();
                if mentions_denial(&text) {
                    VaultError::AccessDenied(text)
                } else {
                    VaultError::Locked
                }
            }
            keyring::Error::PlatformFailure(inner) => {
                let text = inner.to_string();
                if mentions_denial(&text) {
                    VaultError::AccessDenied(text)
                } else if mentions_missing_service(&text) {
                    VaultError::NoService(text)
                } else {
                    VaultError::Platform(text)
                }
            }
            other => VaultError::Platform(other.to_string()),
        }
    }
}

fn mentions_denial(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("accessdenied") || lower.contains("access denied") || lower.contains("denied")
}

fn mentions_missing_service(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [
        "serviceunknown",
        "no secret service",
        "not provided by any",
        "no such file or directory",
        "connection refused",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(text: &str) -> keyring::Error {
        keyring::Error::PlatformFailure(Box::new(std::io::Error::other(text.to_string())))
    }

    fn no_access(text: &str) -> keyring::Error {
        keyring::Error::NoStorageAccess(Box::new(std::io::Error::other(text.to_string())))
    }

    #[test]
    fn sorts_keyring_errors_into_actionable_cases() {
        assert_eq!(
            VaultError::from_keyring(keyring::Error::NoDefaultStore).code(),
            "keychain_missing"
        );
        assert_eq!(
            VaultError::from_keyring(platform(
                "zbus error: org.freedesktop.DBus.Error.ServiceUnknown: The name \
                 org.freedesktop.secrets was not provided by any .service files"
            ))
            .code(),
            "keychain_missing"
        );
        assert_eq!(
            VaultError::from_keyring(no_access("SS Error: object locked")).code(),
            "keychain_locked"
        );
        assert_eq!(
            VaultError::from_keyring(no_access("SS error: prompt dismissed")).code(),
            "keychain_locked"
        );
        assert_eq!(
            VaultError::from_keyring(platform(
                "zbus error: org.freedesktop.DBus.Error.AccessDenied: Rejected send message"
            ))
            .code(),
            "keychain_denied"
        );
        assert_eq!(
            VaultError::from_keyring(keyring::Error::TooLong("secret".into(), 2560)).code(),
            "keychain_entry_too_long"
        );
        assert_eq!(
            VaultError::from_keyring(platform("Crypto error: bad padding")).code(),
            "keychain_failed"
        );
    }

    #[test]
    fn every_error_has_guidance_that_promises_no_loss_or_names_a_fix() {
        let all = [
            VaultError::NoService(String::new()),
            VaultError::Locked,
            VaultError::AccessDenied(String::new()),
            VaultError::TooLong {
                len: 3000,
                max: 2560,
            },
            VaultError::Corrupted,
            VaultError::Platform(String::new()),
        ];
        for err in all {
            assert!(
                err.guidance().len() > 60,
                "{} needs guidance a customer can act on",
                err.code()
            );
        }
    }
}
