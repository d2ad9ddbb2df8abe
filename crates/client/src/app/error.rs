//! The one error the app's commands return. It serializes as the UI's
//! `{code, values, message}` ([`ErrorReport`]), so the shell passes it
//! through untouched.

use serde::{Serialize, Serializer};

use crate::error::{ClientError, ErrorCode, ErrorReport};

/// Why a command of the app failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The client core failed (keychain, store, bank, ...).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Opening the keychain and the store failed earlier; this is that
    /// failure, as it was reported then.
    #[error("{}", .0.message)]
    Opening(ErrorReport),
    /// The keychain did not answer in time.
    #[error(
        "The system keychain did not answer within {0} seconds. It may be locked and waiting \
         for you to unlock it, or its service may be stuck. Unlock your keyring (on GNOME: \
         Passwords and Keys; on KDE: KWallet), or log out and in again, then choose Retry. \
         Nothing was written."
    )]
    KeychainTimeout(u64),
    /// The app is locked.
    #[error("Strongroom is locked.")]
    Locked,
    /// The keychain and the store are still opening.
    #[error("Strongroom is still starting; try again.")]
    NotReady,
    /// The passphrase given to unlock is not the one set.
    #[error("That passphrase is not the one set for Strongroom.")]
    WrongPassphrase,
    /// The current passphrase given to change it is not the one set.
    #[error("The current passphrase is not right.")]
    WrongCurrentPassphrase,
    /// A new passphrase is too short.
    #[error("Use at least {0} characters for the passphrase.")]
    WeakPassphrase(usize),
    /// A fraud answer other than `me` or `not_me`.
    #[error("answer `me` or `not_me`")]
    BadAnswer,
    /// No linked account has this id.
    #[error("no linked account {0:?}")]
    UnknownAccount(String),
    /// The link was cancelled (or never started here).
    #[error("The link was cancelled.")]
    LinkCancelled,
    /// The settings file could not be written.
    #[error("cannot save the settings: {0}")]
    Settings(#[source] std::io::Error),
    /// The system's random source failed.
    #[error("no randomness")]
    Random,
}

impl AppError {
    /// The stable code the UI branches on.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Client(err) => err.code(),
            AppError::Opening(report) => report.code.clone(),
            AppError::KeychainTimeout(_) => ErrorCode::KeychainTimeout,
            AppError::Locked => ErrorCode::Locked,
            AppError::NotReady => ErrorCode::NotReady,
            AppError::WrongPassphrase | AppError::WrongCurrentPassphrase => {
                ErrorCode::WrongPassphrase
            }
            AppError::WeakPassphrase(_) => ErrorCode::WeakPassphrase,
            AppError::BadAnswer => ErrorCode::BadAnswer,
            AppError::UnknownAccount(_) => ErrorCode::NotLinked,
            AppError::LinkCancelled => ErrorCode::LinkCancelled,
            AppError::Settings(_) => ErrorCode::Settings,
            AppError::Random => ErrorCode::Random,
        }
    }

    /// The error as the UI receives it: its code, the values the code's
    /// catalogue message uses, and the English message for logs.
    pub fn report(&self) -> ErrorReport {
        match self {
            AppError::Client(err) => ErrorReport::from(err),
            AppError::Opening(report) => report.clone(),
            other => {
                let report = ErrorReport::new(other.code(), other.to_string());
                match other {
                    AppError::KeychainTimeout(seconds) => report.with("seconds", seconds),
                    AppError::WeakPassphrase(minimum) => report.with("minimum", minimum),
                    _ => report,
                }
            }
        }
    }
}

impl From<strongroom_vault::VaultError> for AppError {
    fn from(err: strongroom_vault::VaultError) -> Self {
        AppError::Client(err.into())
    }
}

impl From<strongroom_store::StoreError> for AppError {
    fn from(err: strongroom_store::StoreError) -> Self {
        AppError::Client(err.into())
    }
}

impl From<&AppError> for ErrorReport {
    fn from(err: &AppError) -> Self {
        err.report()
    }
}

impl Serialize for AppError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.report().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_error_reaches_the_ui_as_code_and_message() {
        assert_eq!(
            serde_json::to_value(AppError::WrongCurrentPassphrase).unwrap(),
            serde_json::json!({
                "code": "wrong_passphrase",
                "values": {},
                "message": "The current passphrase is not right.",
            })
        );
        assert_eq!(
            AppError::KeychainTimeout(30).report().values,
            [("seconds".to_owned(), "30".to_owned())].into()
        );
        let keychain = AppError::from(strongroom_vault::VaultError::Locked);
        assert_eq!(keychain.report().code, ErrorCode::KeychainLocked);
        assert_eq!(
            keychain.report().message,
            strongroom_vault::VaultError::Locked.guidance()
        );
    }
}
