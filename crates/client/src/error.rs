//! The client core's errors and the one shape in which every error reaches
//! the UI: `{code, values, message}`, with the code from one Rust enum so
//! that the window (and its generated types) branch on a closed set, never
//! on text. What a customer reads is the catalogue message `error-<code>`
//! (`crates/l10n/locales/<lang>/errors.ftl`) filled with the values; the
//! English `message` is for logs and the CLI's `--json`.

use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use strongroom_core::AccountId;
use strongroom_store::StoreError;
use strongroom_vault::VaultError;
use ts_rs::TS;

/// Declares [`ErrorCode`] from one list: each variant with its wire string,
/// so the string is written once and both directions come from it, and,
/// in brackets, the names of the values its message uses.
macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal $([$($value:ident),+])?, )*) => {
        /// Every code an error can carry to the UI, as it appears on the
        /// wire (snake_case strings). The UI's union of codes is generated
        /// from this enum (`ui/src/ipc/bindings.ts`).
        #[derive(Debug, Clone, PartialEq, Eq, Hash, TS)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* #[ts(rename = $code)] $variant, )*
            /// The bank's authorization server answered with this OAuth
            /// error (`oauth_` and the server's code, e.g.
            /// `oauth_invalid_client`).
            #[ts(untagged, type = "`oauth_${string}`")]
            OAuth(String),
        }

        impl ErrorCode {
            /// The code as the UI receives it.
            pub fn as_str(&self) -> Cow<'static, str> {
                match self {
                    $( ErrorCode::$variant => Cow::Borrowed($code), )*
                    ErrorCode::OAuth(error) => Cow::Owned(format!("oauth_{error}")),
                }
            }

            /// The code a lower crate (keychain, store, protocol) gave as
            /// text, if this enum knows it.
            fn known(code: &str) -> Option<Self> {
                match code {
                    $( $code => Some(ErrorCode::$variant), )*
                    _ => None,
                }
            }

            /// Every code but [`ErrorCode::OAuth`] (whose codes are the
            /// bank's), in the order declared: the catalogue test checks
            /// that each has its message in every language.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The names of the values an [`ErrorReport`] with this code
            /// carries, which are the variables its catalogue message
            /// (`errors.ftl`) may use.
            pub fn value_names(&self) -> &'static [&'static str] {
                match self {
                    $( ErrorCode::$variant => &[ $( $( stringify!($value), )+ )? ], )*
                    ErrorCode::OAuth(_) => &["error"],
                }
            }
        }
    };
}

error_codes! {
    // The keychain (strongroom_vault).
    /// No keychain service answers in this desktop session.
    KeychainMissing = "keychain_missing",
    /// The keychain is locked and was not unlocked when asked.
    KeychainLocked = "keychain_locked",
    /// The keychain refused Strongroom access.
    KeychainDenied = "keychain_denied",
    /// A secret is larger than a keychain entry may be.
    KeychainEntryTooLong = "keychain_entry_too_long",
    /// The keychain gave back other data than was stored.
    KeychainCorrupted = "keychain_corrupted",
    /// Any other keychain failure.
    KeychainFailed = "keychain_failed",
    /// The keychain did not answer in time (it may be showing its unlock
    /// prompt).
    KeychainTimeout = "keychain_timeout" [seconds],
    // The store (strongroom_store).
    /// A sealed row failed its integrity check.
    StoreTampered = "store_tampered",
    /// The account's store key is not loaded.
    StoreAccountLocked = "store_account_locked",
    /// The store key given is not the account's.
    StoreWrongKey = "store_wrong_key",
    /// The store has no such account.
    StoreUnknownAccount = "store_unknown_account",
    /// The store has no such row.
    StoreNotFound = "store_not_found",
    /// A master key version the rows need is not in the keychain.
    StoreMissingKeyVersion = "store_missing_key_version",
    /// The master key is not the one the database was written with.
    StoreWrongMasterKey = "store_wrong_master_key",
    /// The master key entry is malformed.
    StoreBadMasterKey = "store_bad_master_key",
    /// The store anchor entry is malformed.
    StoreBadAnchor = "store_bad_anchor",
    /// The database was written by a newer Strongroom.
    StoreNewerSchema = "store_newer_schema",
    /// A key rotation did not move to a newer key version.
    StoreRotationNotForward = "store_rotation_not_forward",
    /// The database is open in another Strongroom process.
    StoreInUse = "store_in_use",
    /// A file error in the store.
    StoreIo = "store_io",
    /// The system's random source failed in the store.
    StoreRandomFailed = "store_random_failed",
    /// SQLite failed.
    StoreDatabase = "store_database",
    // Signed data from the bank (strongroom_core::protocol).
    /// Input over its size limit.
    TooLarge = "too_large",
    /// Malformed signed data.
    Malformed = "malformed",
    /// A signature algorithm other than ES256.
    UnsupportedAlgorithm = "unsupported_algorithm",
    /// A JWS header Strongroom refuses.
    ForbiddenHeader = "forbidden_header",
    /// The wrong token type.
    WrongType = "wrong_type",
    /// Signed by a key that is not pinned.
    UnknownKey = "unknown_key",
    /// A signature that does not verify.
    BadSignature = "bad_signature",
    /// A key that cannot be used.
    BadKey = "bad_key",
    /// Signed data from another issuer than the linked bank.
    UnknownIssuer = "unknown_issuer",
    /// An alert received before.
    Replayed = "replayed",
    /// An alert addressed to another customer.
    WrongAudience = "wrong_audience",
    /// Issued too far in the future.
    IssuedInFuture = "issued_in_future",
    /// Issued too long ago.
    TooOld = "too_old",
    /// A key rotation that does not follow the pinned keys.
    StaleRotation = "stale_rotation",
    /// A signed call statement is past its expiry.
    Expired = "expired",
    /// A statement of a call the bank already ended (a replay).
    CallEnded = "call_ended",
    /// A chain of key rotations that breaks.
    BrokenKeyChain = "broken_key_chain",
    // The client core (ClientError).
    /// The data folder could not be created.
    DataFolder = "data_folder" [path],
    /// The database exists but the keychain holds no master key for it.
    MasterKeyMissing = "master_key_missing" [path],
    /// A key rotation could not re-seal every row.
    RotationIncomplete = "rotation_incomplete" [count],
    /// A linked account's store key is missing from the keychain.
    AccountKeyMissing = "account_key_missing",
    /// The bank could not be reached.
    Network = "network" [host],
    /// TLS could not be set up.
    Tls = "tls",
    /// The bank's answer breaks the protocol or lacks what Strongroom needs.
    BankProtocol = "bank_protocol",
    /// The bank refused a request.
    Refused = "refused" [status],
    /// The link code expired before it was approved.
    LinkExpired = "link_expired",
    /// The link was denied at the bank.
    LinkDenied = "link_denied",
    /// The bank no longer accepts this device.
    LinkRevoked = "link_revoked",
    /// The bank's authorization server gives the app no refresh token.
    NoRefreshToken = "no_refresh_token",
    /// No linked account by this id.
    NotLinked = "not_linked",
    /// No verified fraud check by this id.
    UnknownAlert = "unknown_alert",
    /// Another of the customer's devices answered the fraud check first,
    /// differently; `answer` is the bank's (`me` or `not_me`).
    AlreadyAnswered = "already_answered" [answer],
    /// A scam-call report while the bank's own verified call is open.
    CallVerified = "call_verified" [agent],
    /// Not a usable transcript.
    BadTranscript = "bad_transcript",
    /// The bank does not vouch for a transcript's keys.
    NotVouchedByBank = "not_vouched_by_bank" [issuer],
    /// An export could not be written.
    Export = "export" [path],
    // The desktop app (strongroom_client::app).
    /// The app is locked.
    Locked = "locked",
    /// The app is still opening the keychain and the store.
    NotReady = "not_ready",
    /// The passphrase is not the one set.
    WrongPassphrase = "wrong_passphrase",
    /// A new passphrase is too short.
    WeakPassphrase = "weak_passphrase" [minimum],
    /// A fraud answer other than `me` or `not_me`.
    BadAnswer = "bad_answer",
    /// The link was cancelled.
    LinkCancelled = "link_cancelled",
    /// The settings could not be saved.
    Settings = "settings",
    /// The system's random source failed.
    Random = "random",
    // The shell's updater (src-tauri/src/update.rs).
    /// The update server could not be reached or gave no valid answer.
    UpdateUnreachable = "update_unreachable" [current],
    /// The update server is not reached over https.
    UpdateInsecure = "update_insecure" [current],
    /// The update server's address is not valid.
    UpdateServer = "update_server" [current],
    /// The update's signature does not match the release key.
    UpdateSignature = "update_signature" [current],
    /// The update is signed as an older version than announced.
    UpdateDowngrade = "update_downgrade" [announced, signed, current],
    /// The update is not a package this installation can use.
    UpdateFormat = "update_format" [current],
    /// Installing needs an administrator's permission, not given.
    UpdateNotAuthorised = "update_not_authorised" [current],
    /// The update could not be installed; `outcome` is `unchanged` (the
    /// running version is untouched) or `unknown` (the installer stopped
    /// part of the way).
    UpdateFailed = "update_failed" [current, outcome],
    /// No update is waiting to be installed.
    UpdateNone = "update_none",
}

impl ErrorCode {
    /// The code of a lower crate's error, given as its text; `fallback`
    /// when a newer version of that crate has a code this enum lacks.
    fn from_lower(code: &'static str, fallback: ErrorCode) -> Self {
        ErrorCode::known(code).unwrap_or(fallback)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.as_str())
    }
}

/// An error as it crosses to the UI: a stable code, the values its
/// catalogue message uses, and an English message for logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ErrorReport {
    /// Stable, machine-readable: branch on this, and show the catalogue
    /// message `error-<code>` (`error-oauth` for every `oauth_*` code).
    pub code: ErrorCode,
    /// Values the message for `code` uses (catalogue `errors.ftl`), e.g. `seconds`.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// The same in English, with the technical detail, for logs and the
    /// CLI's `--json`. The window does not show it: it shows the catalogue
    /// message in the customer's language.
    pub message: String,
}

impl ErrorReport {
    /// A report with no values yet.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorReport {
            code,
            values: BTreeMap::new(),
            message: message.into(),
        }
    }

    /// Adds a value the code's message uses; `name` is one of
    /// [`ErrorCode::value_names`], numbers go as decimal text.
    #[must_use]
    pub fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        debug_assert!(
            self.code.value_names().contains(&name),
            "the message for {} uses no value {name}",
            self.code
        );
        self.values.insert(name.to_owned(), value.to_string());
        self
    }
}

/// The client core's one error type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The keychain failed; see [`VaultError::guidance`].
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The data folder could not be created.
    #[error("the data folder {path} could not be created: {source}")]
    DataFolder {
        /// The folder.
        path: PathBuf,
        /// The operating system's reason (permissions, disk full, ...).
        source: std::io::Error,
    },
    /// The database exists but the keychain holds no master key for it (the
    /// keychain was reset or is another one). Nothing is created or changed.
    #[error("the keychain holds no master key for the existing history in {0}")]
    MasterKeyMissing(PathBuf),
    /// A key rotation could not re-seal some rows; the older key is kept.
    #[error("{0} rows could not be re-sealed; the older master key is kept for them")]
    RotationIncomplete(usize),
    /// A linked account's store key is missing from the keychain.
    #[error("the keychain holds no store key for account {0}")]
    MissingAccountKey(AccountId),
    /// The bank could not be reached (connection, TLS handshake, timeout).
    #[error("cannot reach {url}: {detail}")]
    Network {
        /// Where.
        url: String,
        /// What failed.
        detail: String,
    },
    /// TLS could not be set up (for example an unreadable CA file).
    #[error("TLS: {0}")]
    Tls(String),
    /// The bank's answer breaks the protocol, or it lacks something
    /// Strongroom needs.
    #[error("the bank's answer is not usable: {0}")]
    BankProtocol(String),
    /// The bank refused a request (an RFC 9457 problem, or a bare status).
    #[error("the bank refused: {title} ({status}): {detail}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Short title.
        title: String,
        /// What was wrong.
        detail: String,
    },
    /// The authorization server answered with an OAuth error.
    #[error("the bank's authorization server said {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    OAuth {
        /// The OAuth error code.
        error: String,
        /// Its description, if given.
        description: Option<String>,
    },
    /// Linking: the code expired before the customer approved it.
    #[error("the link code expired before it was approved; start again")]
    LinkExpired,
    /// Linking: the customer (or the bank) denied the link.
    #[error("the link was denied at the bank")]
    LinkDenied,
    /// The bank no longer accepts this device (revoked or expired grant).
    #[error("the bank no longer accepts this device's link; link the account again")]
    LinkRevoked,
    /// Linking: the bank's authorization server issued no refresh token,
    /// so the link would end with the first access token.
    #[error(
        "the bank's authorization server {issuer} issued no refresh token, so the link would \
         end within minutes; the bank must allow refresh tokens (the offline_access scope) on \
         the device grant for the Strongroom app's client ({client_id})"
    )]
    NoRefreshToken {
        /// The authorization server.
        issuer: String,
        /// The client id the app uses there.
        client_id: String,
    },
    /// Signed data from the bank failed its checks.
    #[error(transparent)]
    Protocol(#[from] strongroom_core::protocol::ProtocolError),
    /// No linked account by this name.
    #[error("no linked account {0}")]
    NotLinked(String),
    /// No verified fraud check has this id.
    #[error("no fraud check {0:?} on this account")]
    UnknownAlert(String),
    /// The bank already has a different answer to this fraud check, given
    /// on another of the customer's devices; that answer is now stored here
    /// too.
    #[error("this fraud check was already answered on another device: {answer:?}")]
    AlreadyAnswered {
        /// The bank's answer.
        answer: strongroom_store::FraudAnswer,
        /// When it was given (ms), when the bank said.
        answered_at: Option<i64>,
    },
    /// A scam-call report while the bank's verified call status says its
    /// agent is on the phone: the caller is the bank.
    #[error("{0} is calling you now, and the app verified it: this is not a scam call")]
    CallVerified(String),
    /// A file given as an alert transcript is not one, or its parts
    /// contradict each other.
    #[error("not a usable Strongroom transcript: {0}")]
    BadTranscript(String),
    /// Checked against the bank's published keys, a transcript's alerts are
    /// not all signed by keys the bank vouches for.
    #[error("{issuer} does not vouch for this transcript: {detail}")]
    NotVouchedByBank {
        /// The bank asked.
        issuer: String,
        /// What does not match.
        detail: String,
    },
    /// An export could not be written; nothing was overwritten.
    #[error("cannot write {path}: {detail}")]
    Export {
        /// Where.
        path: PathBuf,
        /// What went wrong while writing it.
        detail: String,
    },
}

impl ClientError {
    /// A stable, machine-readable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            ClientError::Vault(v) => ErrorCode::from_lower(v.code(), ErrorCode::KeychainFailed),
            ClientError::Store(s) => ErrorCode::from_lower(s.code(), ErrorCode::StoreDatabase),
            ClientError::Protocol(p) => ErrorCode::from_lower(p.code(), ErrorCode::Malformed),
            ClientError::DataFolder { .. } => ErrorCode::DataFolder,
            ClientError::MasterKeyMissing(_) => ErrorCode::MasterKeyMissing,
            ClientError::RotationIncomplete(_) => ErrorCode::RotationIncomplete,
            ClientError::MissingAccountKey(_) => ErrorCode::AccountKeyMissing,
            ClientError::Network { .. } => ErrorCode::Network,
            ClientError::Tls(_) => ErrorCode::Tls,
            ClientError::BankProtocol(_) => ErrorCode::BankProtocol,
            ClientError::Refused { .. } => ErrorCode::Refused,
            ClientError::OAuth { error, .. } => ErrorCode::OAuth(error.clone()),
            ClientError::LinkExpired => ErrorCode::LinkExpired,
            ClientError::LinkDenied => ErrorCode::LinkDenied,
            ClientError::LinkRevoked => ErrorCode::LinkRevoked,
            ClientError::NoRefreshToken { .. } => ErrorCode::NoRefreshToken,
            ClientError::NotLinked(_) => ErrorCode::NotLinked,
            ClientError::UnknownAlert(_) => ErrorCode::UnknownAlert,
            ClientError::AlreadyAnswered { .. } => ErrorCode::AlreadyAnswered,
            ClientError::CallVerified(_) => ErrorCode::CallVerified,
            ClientError::BadTranscript(_) => ErrorCode::BadTranscript,
            ClientError::NotVouchedByBank { .. } => ErrorCode::NotVouchedByBank,
            ClientError::Export { .. } => ErrorCode::Export,
        }
    }

    /// What the customer reads: what happened and, where there is
    /// something to do, what to do.
    pub fn guidance(&self) -> String {
        match self {
            ClientError::Vault(v) => v.guidance().into(),
            ClientError::MasterKeyMissing(_) => format!(
                "{self}. Strongroom did not touch it. If you restored or reset your keychain, \
                 restore the entry \"store/master-key\" of the service \"strongroom\"; \
                 otherwise move the folder away and link your banks again."
            ),
            ClientError::MissingAccountKey(_) => format!(
                "{self}. The account's history cannot be read on this device; unlink and \
                 link it again to fetch it from the bank."
            ),
            ClientError::OAuth { error, .. } => format!("{self}. {}", oauth_advice(error)),
            other => other.to_string(),
        }
    }
}

/// What a person can do about an OAuth error from the bank's
/// authorization server (RFC 6749 section 5.2, RFC 8628 section 3.5,
/// RFC 8707, RFC 9449): most of them are the bank's set-up to mend, and
/// say so, naming what to ask for.
fn oauth_advice(error: &str) -> &'static str {
    match error {
        "invalid_client" | "unauthorized_client" => {
            "The bank's authorization server does not let the Strongroom app (client \
             strongroom-desktop) link this way: the bank must register it for the device grant \
             with DPoP-bound tokens."
        }
        "invalid_scope" => {
            "The bank's authorization server does not offer what Strongroom asks for (the scopes \
             alerts and chat): the bank must enable them for the app."
        }
        "invalid_target" => {
            "The bank's authorization server does not issue tokens for this gateway (its resource \
             indicator): the bank must register the gateway as a resource."
        }
        "invalid_dpop_proof" | "use_dpop_nonce" => {
            "The bank's authorization server did not accept this device's proof of its key. Check \
             that this computer's clock is right, then try again."
        }
        "invalid_grant" => "The bank no longer accepts this link: link the account again.",
        "access_denied" => "The link was refused at the bank; start again to retry.",
        "expired_token" => "The link code expired before it was approved; start again.",
        "temporarily_unavailable" | "server_error" => {
            "The bank's authorization server is not available now: try again in a few minutes."
        }
        _ => "If this goes on, tell the bank, quoting this message.",
    }
}

impl From<&ClientError> for ErrorReport {
    fn from(err: &ClientError) -> Self {
        let report = ErrorReport::new(err.code(), err.guidance());
        match err {
            ClientError::DataFolder { path, .. }
            | ClientError::MasterKeyMissing(path)
            | ClientError::Export { path, .. } => report.with("path", path.display()),
            ClientError::RotationIncomplete(count) => report.with("count", count),
            ClientError::Network { url, .. } => report.with("host", host_of(url)),
            ClientError::Refused { status, .. } => report.with("status", status),
            ClientError::OAuth { error, .. } => report.with("error", error),
            ClientError::CallVerified(agent) => report.with("agent", agent),
            ClientError::AlreadyAnswered { answer, .. } => report.with(
                "answer",
                match answer {
                    strongroom_store::FraudAnswer::ThisWasMe => "me",
                    strongroom_store::FraudAnswer::NotMe => "not_me",
                },
            ),
            ClientError::NotVouchedByBank { issuer, .. } => report.with("issuer", issuer),
            _ => report,
        }
    }
}

/// The server a customer would recognise in an address (`bank.example`),
/// or the address as given when it does not parse.
fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use strongroom_core::protocol::ProtocolError;

    /// An OAuth error from the bank's server says what happened and what
    /// to do, in words, with its code.
    #[test]
    fn oauth_errors_say_what_to_do() {
        for (error, says) in [
            ("invalid_client", "the bank must register it"),
            ("invalid_target", "register the gateway as a resource"),
            ("invalid_scope", "enable them"),
            ("use_dpop_nonce", "clock"),
            ("invalid_grant", "link the account again"),
            ("made_up", "tell the bank"),
        ] {
            let err = ClientError::OAuth {
                error: error.into(),
                description: Some("detail from the server".into()),
            };
            let report = ErrorReport::from(&err);
            assert!(
                report.message.contains(says) && report.message.contains("detail from the server"),
                "{error}: {}",
                report.message
            );
            assert_eq!(report.code, ErrorCode::OAuth(error.into()));
        }
    }

    /// Every code the keychain, the store and the protocol give today is one
    /// the UI's union knows, under the same string.
    #[test]
    fn lower_crates_codes_reach_the_ui_unchanged() {
        let vault = [
            VaultError::NoService("x".into()),
            VaultError::Locked,
            VaultError::AccessDenied("x".into()),
            VaultError::TooLong { len: 2, max: 1 },
            VaultError::Corrupted,
            VaultError::Platform("x".into()),
        ];
        let store = [
            StoreError::Tampered { table: "t", row: 1 },
            StoreError::AccountLocked(AccountId::from_random([1; 8])),
            StoreError::WrongAccountKey(AccountId::from_random([1; 8])),
            StoreError::UnknownAccount(AccountId::from_random([1; 8])),
            StoreError::NotFound { table: "t", row: 1 },
            StoreError::MissingKeyVersion(1),
            StoreError::WrongMasterKey(1),
            StoreError::BadAnchor,
            StoreError::BadMasterKey,
            StoreError::NewerSchema {
                found: 2,
                supported: 1,
            },
            StoreError::RotationNotForward(1),
            StoreError::InUse,
            StoreError::Io("x".into()),
            StoreError::Random,
        ];
        let protocol = [
            ProtocolError::TooLarge { len: 2, max: 1 },
            ProtocolError::Malformed("x"),
            ProtocolError::UnsupportedAlgorithm("x".into()),
            ProtocolError::ForbiddenHeader("x"),
            ProtocolError::WrongType(None),
            ProtocolError::UnknownKey(None),
            ProtocolError::BadSignature,
            ProtocolError::BadKey("x"),
            ProtocolError::UnknownIssuer("x".into()),
            ProtocolError::Replayed("x".into()),
            ProtocolError::WrongAudience {
                expected: None,
                got: None,
            },
            ProtocolError::IssuedInFuture { iat: 2, now: 1 },
            ProtocolError::TooOld { iat: 1, now: 2 },
            ProtocolError::StaleRotation { got: 1, pinned: 2 },
            ProtocolError::Expired { exp: 1, now: 2 },
            ProtocolError::CallEnded("x".into()),
            ProtocolError::BrokenKeyChain {
                index: 0,
                reason: Box::new(ProtocolError::BadSignature),
            },
        ];
        let mut checked = 0;
        for (lower, err) in vault
            .into_iter()
            .map(|e| (e.code(), ClientError::from(e)))
            .chain(store.into_iter().map(|e| (e.code(), ClientError::from(e))))
            .chain(
                protocol
                    .into_iter()
                    .map(|e| (e.code(), ClientError::from(e))),
            )
        {
            assert_eq!(ErrorCode::known(lower), Some(err.code()), "{lower}");
            assert_eq!(err.code().as_str(), lower);
            checked += 1;
        }
        assert!(checked > 30);
    }

    /// `ALL` is declared from the same list as the enum: each code once,
    /// each one the UI can name back.
    #[test]
    fn all_lists_every_code_once() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert_eq!(ErrorCode::known(&code.as_str()).as_ref(), Some(code));
        }
        assert!(seen.contains("keychain_timeout") && seen.contains("update_none"));
    }

    #[test]
    fn an_oauth_error_keeps_the_servers_code_behind_oauth_() {
        let err = ClientError::OAuth {
            error: "invalid_client".into(),
            description: None,
        };
        let report = ErrorReport::from(&err);
        assert_eq!(
            serde_json::to_value(&report).unwrap(),
            serde_json::json!({
                "code": "oauth_invalid_client",
                "values": {"error": "invalid_client"},
                "message": "the bank's authorization server said invalid_client. The bank's \
                            authorization server does not let the Strongroom app (client \
                            strongroom-desktop) link this way: the bank must register it for the \
                            device grant with DPoP-bound tokens.",
            })
        );
    }

    #[test]
    fn a_missing_master_key_says_what_to_restore() {
        let report = ErrorReport::from(&ClientError::MasterKeyMissing("/x/db".into()));
        assert_eq!(report.code, ErrorCode::MasterKeyMissing);
        assert!(report.message.contains("store/master-key"), "{report:?}");
    }
}
