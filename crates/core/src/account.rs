//! Identity of a linked bank account.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Names one linked bank account on this device.
///
/// The id is random (63 bits, never zero) and chosen when the account is
/// linked, so that the keychain entries of an account that was unlinked and
/// the rows of a database that was restored from a backup can never be
/// mistaken for another account's. It is not secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(i64);

impl AccountId {
    /// Makes an account id from random bytes (for example from
    /// `ring::rand::SecureRandom`). The top bit is cleared so the id is a
    /// positive SQLite integer; zero becomes one.
    pub fn from_random(bytes: [u8; 8]) -> Self {
        let id = i64::from_be_bytes(bytes) & i64::MAX;
        AccountId(id.max(1))
    }

    /// Wraps a value read back from the store. Returns `None` for ids that
    /// [`AccountId::from_random`] never makes (zero or negative).
    pub fn from_stored(value: i64) -> Option<Self> {
        (value > 0).then_some(AccountId(value))
    }

    /// The id as stored in SQLite.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({:016x})", self.0)
    }
}

/// Printed as 16 lowercase hex digits: the form used in keychain entry names.
impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The text was not 16 hex digits of a valid account id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseAccountIdError;

impl fmt::Display for ParseAccountIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an account id is 16 hexadecimal digits")
    }
}

impl std::error::Error for ParseAccountIdError {}

impl FromStr for AccountId {
    type Err = ParseAccountIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 16 {
            return Err(ParseAccountIdError);
        }
        let value = i64::from_str_radix(s, 16).map_err(|_| ParseAccountIdError)?;
        AccountId::from_stored(value).ok_or(ParseAccountIdError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        let id = AccountId::from_random([0xff, 1, 2, 3, 4, 5, 6, 7]);
        assert!(id.get() > 0, "random ids are positive");
        let text = id.to_string();
        assert_eq!(text, "7f01020304050607");
        assert_eq!(text.parse::<AccountId>(), Ok(id));
    }

    #[test]
    fn rejects_ids_it_never_makes() {
        assert_eq!(AccountId::from_random([0; 8]).get(), 1);
        assert_eq!(
            "0000000000000000".parse::<AccountId>(),
            Err(ParseAccountIdError)
        );
        assert_eq!("xyz".parse::<AccountId>(), Err(ParseAccountIdError));
        assert!(AccountId::from_stored(-5).is_none());
    }
}
