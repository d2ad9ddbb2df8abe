//! The bank link protocol, sans I/O: signed alerts, pinned keys and their
//! rotation, the frames on the delivery stream, and the delivery state
//! machine. `docs/protocol.md` is the specification another bank can
//! implement from; this module is its reference implementation.

pub mod alert;
pub mod call;
pub mod chain;
pub mod dpop;
pub mod frames;
pub mod fuzzing;
pub mod jose;
pub mod sync;
pub mod verify;

/// Everything that can be wrong with protocol input. Every decoder and the
/// verifier return it; none of them panics on any input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The input is larger than the protocol allows; nothing was parsed.
    #[error("{len} bytes is over the {max}-byte limit")]
    TooLarge {
        /// Size received.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The input is not well formed.
    #[error("malformed input: {0}")]
    Malformed(&'static str),
    /// The JWS algorithm is not ES256 (this includes `none`).
    #[error("algorithm {0:?} is not accepted; only ES256 is")]
    UnsupportedAlgorithm(String),
    /// The header tries to supply or point at its own key, or marks an
    /// extension critical.
    #[error("the JWS header may not carry {0}")]
    ForbiddenHeader(&'static str),
    /// The JWS `typ` is not the one expected here.
    #[error("wrong token type {0:?}")]
    WrongType(Option<String>),
    /// No pinned key has this id.
    #[error("no pinned key {0:?}")]
    UnknownKey(Option<String>),
    /// The signature does not verify under the pinned key.
    #[error("the signature does not verify")]
    BadSignature,
    /// A key is not an ES256 P-256 signing key.
    #[error("bad key: {0}")]
    BadKey(&'static str),
    /// The issuer is not the bank these keys were pinned for.
    #[error("issuer {0:?} is not the linked bank")]
    UnknownIssuer(String),
    /// This alert id was already accepted.
    #[error("alert {0:?} was already received")]
    Replayed(String),
    /// The alert names another audience than this device's customer (a
    /// genuine alert forwarded from someone else), or none at all.
    #[error("the alert is addressed to {got:?}, not to this customer ({expected:?})")]
    WrongAudience {
        /// The audience pinned at link time (`None`: the link predates
        /// audiences and has not learnt its own yet).
        expected: Option<String>,
        /// The alert's `aud` (`None`: it names none).
        got: Option<String>,
    },
    /// Issued too far in the future.
    #[error("issued at {iat}, more than the allowed skew after now ({now})")]
    IssuedInFuture {
        /// The token's issued-at, in seconds.
        iat: i64,
        /// Now, in seconds.
        now: i64,
    },
    /// Issued too long ago.
    #[error("issued at {iat}, too long before now ({now})")]
    TooOld {
        /// The token's issued-at, in seconds.
        iat: i64,
        /// Now, in seconds.
        now: i64,
    },
    /// A signed statement that stops counting at `exp` is past it.
    #[error("expired at {exp}, before now ({now})")]
    Expired {
        /// The statement's expiry, in seconds.
        exp: i64,
        /// Now, in seconds.
        now: i64,
    },
    /// A statement of a call the bank has already ended: a replay.
    #[error("call {0:?} has ended")]
    CallEnded(String),
    /// A key rotation statement does not move the pinned set forward.
    #[error("key rotation {got} does not follow pinned version {pinned}")]
    StaleRotation {
        /// The statement's sequence number.
        got: u64,
        /// The pinned set's version.
        pinned: u64,
    },
    /// A chain of key rotations (in an alert transcript) does not hold:
    /// the statement at `index` is missing its predecessor, forged, out of
    /// order, or contradicts the set it claims to replace.
    #[error("the chain of keys breaks at rotation statement {index}: {reason}")]
    BrokenKeyChain {
        /// The position of the statement that fails, from 0.
        index: usize,
        /// Why it fails.
        reason: Box<ProtocolError>,
    },
}

impl ProtocolError {
    /// A stable machine-readable code, for `{code, message}` errors and logs.
    pub fn code(&self) -> &'static str {
        match self {
            ProtocolError::TooLarge { .. } => "too_large",
            ProtocolError::Malformed(_) => "malformed",
            ProtocolError::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            ProtocolError::ForbiddenHeader(_) => "forbidden_header",
            ProtocolError::WrongType(_) => "wrong_type",
            ProtocolError::UnknownKey(_) => "unknown_key",
            ProtocolError::BadSignature => "bad_signature",
            ProtocolError::BadKey(_) => "bad_key",
            ProtocolError::UnknownIssuer(_) => "unknown_issuer",
            ProtocolError::Replayed(_) => "replayed",
            ProtocolError::WrongAudience { .. } => "wrong_audience",
            ProtocolError::IssuedInFuture { .. } => "issued_in_future",
            ProtocolError::TooOld { .. } => "too_old",
            ProtocolError::Expired { .. } => "expired",
            ProtocolError::CallEnded(_) => "call_ended",
            ProtocolError::StaleRotation { .. } => "stale_rotation",
            ProtocolError::BrokenKeyChain { .. } => "broken_key_chain",
        }
    }
}
