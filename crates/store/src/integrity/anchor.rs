//! Layer 3, the anchor: an account's head kept outside the file (in the
//! keychain, by the client), so that an older copy of the whole file shows.

use strongroom_core::AccountId;

use crate::{Store, StoreError};

const ANCHOR_FORMAT: &[u8; 4] = b"SRA1";

/// Where an account's history stood when it was last written down outside
/// the database file (the client keeps it in the keychain, beside the
/// account's key): its write counter and head MAC. 44 bytes in keychain form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    /// The account's write counter.
    pub counter: u64,
    /// The MAC of the account's head at that counter.
    pub head: [u8; 32],
}

impl Anchor {
    /// The keychain form: `SRA1`, the counter, the head.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(44);
        out.extend_from_slice(ANCHOR_FORMAT);
        out.extend_from_slice(&self.counter.to_be_bytes());
        out.extend_from_slice(&self.head);
        out
    }

    /// Reads the keychain form back.
    ///
    /// # Errors
    /// [`StoreError::BadAnchor`] if the bytes are not an anchor.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StoreError> {
        let body = bytes
            .strip_prefix(ANCHOR_FORMAT.as_slice())
            .filter(|b| b.len() == 40)
            .ok_or(StoreError::BadAnchor)?;
        let (counter, head) = body.split_at(8);
        Ok(Anchor {
            counter: u64::from_be_bytes(counter.try_into().map_err(|_| StoreError::BadAnchor)?),
            head: head.try_into().map_err(|_| StoreError::BadAnchor)?,
        })
    }
}

impl Store {
    /// Where an unlocked account's history stands now, to keep outside the
    /// file (see [`Anchor`]). `None` for a locked account or an old schema.
    pub fn anchor(&self, account: AccountId) -> Option<Anchor> {
        let state = self.integrity.get(&account)?;
        let keys = self.keys(account).ok()?;
        Some(Anchor {
            counter: state.counter,
            head: keys.integrity_mac(&state.encode_head(account.get())),
        })
    }

    /// The anchors of unlocked accounts written since they were last
    /// handed out: what the client should put in the keychain now. Each is
    /// counted as handed out; call [`Store::anchor_failed`] if keeping it fails.
    pub fn anchors_due(&mut self) -> Vec<(AccountId, Anchor)> {
        let mut due = Vec::new();
        for &account in self.integrity.keys() {
            if let Some(anchor) = self.anchor(account)
                && self.anchored.get(&account) != Some(&anchor.counter)
            {
                due.push((account, anchor));
            }
        }
        for (account, anchor) in &due {
            self.anchored.insert(*account, anchor.counter);
        }
        due
    }

    /// Keeping an anchor failed: it is due again.
    pub fn anchor_failed(&mut self, account: AccountId) {
        self.anchored.remove(&account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_round_trip_and_refuse_other_bytes() {
        let anchor = Anchor {
            counter: 42,
            head: [7; 32],
        };
        let bytes = anchor.to_bytes();
        assert_eq!(bytes.len(), 44, "small enough for any keychain");
        assert_eq!(Anchor::from_bytes(&bytes).unwrap(), anchor);
        assert!(matches!(
            Anchor::from_bytes(&bytes[..43]),
            Err(StoreError::BadAnchor)
        ));
        assert!(matches!(
            Anchor::from_bytes(b"SRM1aaaaaaaa"),
            Err(StoreError::BadAnchor)
        ));
    }
}
