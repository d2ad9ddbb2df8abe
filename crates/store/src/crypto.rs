//! Sealing of sensitive fields. Hazmat: every rule here protects a customer's
//! money or privacy, so read the why-comments before changing anything.
//!
//! - Each sensitive field is sealed on its own with AES-256-GCM and a fresh
//!   random 96-bit nonce: `nonce || ciphertext || tag`.
//! - The associated data binds the table, the column, the account, the row id
//!   and the key version, so a ciphertext moved to another row, column, table
//!   or account, or relabelled with another key version, fails to open.
//! - Keys are derived with HKDF-SHA256 from the master key (keychain entry
//!   `store/master-key`, versioned for rotation) *and* the account's store key
//!   (keychain entry `account/<id>/store-key`). Both are needed: a copied disk
//!   image without the keychain reads nothing, and destroying one account's key
//!   makes that account's rows unreadable in every old copy of the file.
//! - Lookups by value (idempotency keys, bank message and alert ids) use
//!   HMAC-SHA256 keyed per account. Lookup keys depend on the account key only,
//!   so rotating the master key does not have to rewrite unique indexes.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, KeyType, Salt};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use std::collections::BTreeMap;
use strongroom_core::{AccountId, Sensitive};

use crate::error::StoreError;

/// Length of every key: master keys, account keys and derived keys.
pub const KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;
const HKDF_SALT: &[u8] = b"strongroom/store/v1";
const MASTER_FORMAT: &[u8; 4] = b"SRM1";

/// The store's master keys: the current version and any older versions that
/// rows may still be sealed under while a rotation is under way.
///
/// Serialized with [`MasterKeys::to_bytes`] into one small keychain entry
/// (41 bytes per version).
#[derive(Clone)]
pub struct MasterKeys {
    current: u32,
    keys: BTreeMap<u32, Sensitive<[u8; KEY_LEN]>>,
}

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKeys")
            .field("current", &self.current)
            .field("versions", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl MasterKeys {
    /// A first master key, version 1, from the system's secure random source.
    ///
    /// # Errors
    /// [`StoreError::Random`] if the system random source fails.
    pub fn generate() -> Result<Self, StoreError> {
        Ok(MasterKeys::from_key(1, random_key()?))
    }

    /// Master keys holding a single version.
    pub fn from_key(version: u32, key: Sensitive<[u8; KEY_LEN]>) -> Self {
        MasterKeys {
            current: version,
            keys: BTreeMap::from([(version, key)]),
        }
    }

    /// Adds a fresh key as the new current version and keeps the old ones, so
    /// that rows sealed under them stay readable until the rotation is done.
    ///
    /// # Errors
    /// [`StoreError::Random`] if the system random source fails.
    pub fn with_new_version(&self) -> Result<Self, StoreError> {
        let mut next = self.clone();
        next.current = self.current + 1;
        next.keys.insert(next.current, random_key()?);
        Ok(next)
    }

    /// Keeps only the current version: call once no row uses an older one.
    pub fn retire_old_versions(&self) -> Self {
        let mut next = self.clone();
        next.keys.retain(|v, _| *v == self.current);
        next
    }

    /// The version new data is sealed under.
    pub fn current_version(&self) -> u32 {
        self.current
    }

    /// Every version held.
    pub fn versions(&self) -> impl Iterator<Item = u32> + '_ {
        self.keys.keys().copied()
    }

    /// The keychain form: `SRM1`, the current version, then each version and key.
    pub fn to_bytes(&self) -> Sensitive<Vec<u8>> {
        let mut out = Vec::with_capacity(8 + self.keys.len() * (4 + KEY_LEN));
        out.extend_from_slice(MASTER_FORMAT);
        out.extend_from_slice(&self.current.to_be_bytes());
        for (version, key) in &self.keys {
            out.extend_from_slice(&version.to_be_bytes());
            out.extend_from_slice(key.expose());
        }
        Sensitive::new(out)
    }

    /// Reads the keychain form back.
    ///
    /// # Errors
    /// [`StoreError::BadMasterKey`] if the bytes are not a master key entry
    /// (for example an entry written by something else).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StoreError> {
        let body = bytes
            .strip_prefix(MASTER_FORMAT.as_slice())
            .ok_or(StoreError::BadMasterKey)?;
        let (current, mut rest) = body.split_at_checked(4).ok_or(StoreError::BadMasterKey)?;
        let current = u32::from_be_bytes(current.try_into().map_err(|_| StoreError::BadMasterKey)?);
        let mut keys = BTreeMap::new();
        while !rest.is_empty() {
            let (entry, tail) = rest
                .split_at_checked(4 + KEY_LEN)
                .ok_or(StoreError::BadMasterKey)?;
            let (version, key) = entry.split_at(4);
            let version =
                u32::from_be_bytes(version.try_into().map_err(|_| StoreError::BadMasterKey)?);
            let mut k = [0u8; KEY_LEN];
            k.copy_from_slice(key);
            keys.insert(version, Sensitive::new(k));
            rest = tail;
        }
        if !keys.contains_key(&current) {
            return Err(StoreError::BadMasterKey);
        }
        Ok(MasterKeys { current, keys })
    }

    pub(crate) fn key(&self, version: u32) -> Option<&Sensitive<[u8; KEY_LEN]>> {
        self.keys.get(&version)
    }

    /// A value that shows whether a master key version is the one a
    /// database was written with, without revealing the key.
    pub(crate) fn check_value(&self, version: u32) -> Option<Vec<u8>> {
        let key = self.keys.get(&version)?;
        let mac = hmac::Key::new(hmac::HMAC_SHA256, key.expose());
        Some(
            hmac::sign(&mac, b"strongroom/store/master-check")
                .as_ref()
                .to_vec(),
        )
    }
}

/// A fresh random 256-bit key, for a master key version or an account's
/// store key.
///
/// # Errors
/// [`StoreError::Random`] if the system random source fails.
pub fn random_key() -> Result<Sensitive<[u8; KEY_LEN]>, StoreError> {
    let mut key = [0u8; KEY_LEN];
    SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| StoreError::Random)?;
    Ok(Sensitive::new(key))
}

/// Where a sealed field lives: what its associated data binds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldRef {
    pub table: &'static str,
    pub column: &'static str,
    pub account: AccountId,
    pub row: i64,
    /// The row's place in the structure: the conversation of a message (so a
    /// message moved to another conversation fails to open), 0 elsewhere.
    pub context: i64,
}

impl FieldRef {
    /// A field of a row that has no place in a larger structure (context 0).
    pub(crate) fn column(
        table: &'static str,
        column: &'static str,
        account: AccountId,
        row: i64,
    ) -> FieldRef {
        FieldRef {
            table,
            column,
            account,
            row,
            context: 0,
        }
    }
}

/// Room for the longest associated data: the prefix (14), a table and a
/// column name (static identifiers, at most 30 bytes each, checked by a test),
/// two separators and 28 bytes of numbers.
const AAD_MAX: usize = 14 + 30 + 1 + 30 + 1 + 28;

/// Associated data, built on the stack: it is made for every field opened.
pub(crate) struct AadBuf {
    bytes: [u8; AAD_MAX],
    len: usize,
}

impl AadBuf {
    fn push(&mut self, part: &[u8]) {
        // Table and column names are compile-time constants; a test checks
        // that every one fits, so this never truncates in practice.
        let end = (self.len + part.len()).min(AAD_MAX);
        self.bytes[self.len..end].copy_from_slice(&part[..end - self.len]);
        self.len = end;
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl FieldRef {
    pub(crate) fn aad(&self, version: u32) -> AadBuf {
        // Length-free framing is safe because table and column names are
        // static identifiers without NUL bytes, and the numbers are fixed width.
        let mut aad = AadBuf {
            bytes: [0; AAD_MAX],
            len: 0,
        };
        aad.push(b"strongroom/v1\0");
        aad.push(self.table.as_bytes());
        aad.push(&[0]);
        aad.push(self.column.as_bytes());
        aad.push(&[0]);
        aad.push(&self.account.get().to_be_bytes());
        aad.push(&self.row.to_be_bytes());
        aad.push(&self.context.to_be_bytes());
        aad.push(&version.to_be_bytes());
        aad
    }
}

/// The keys of one unlocked account: a sealing key per master key version
/// and the account's lookup key.
pub(crate) struct AccountKeys {
    /// Kept while the account is unlocked so that a key rotation can derive
    /// the sealing key of a new master version.
    account_key: Sensitive<[u8; KEY_LEN]>,
    sealing: BTreeMap<u32, LessSafeKey>,
    lookup: hmac::Key,
    /// Row and head MACs (see `integrity.rs`). From the account key only, so
    /// a master key rotation leaves the MACs' key alone.
    integrity: hmac::Key,
    /// The digest of a scope's rows: a second key, so that the values XORed
    /// together are never the MACs stored in the file (an attacker who sees
    /// every stored MAC still cannot compute any digest term).
    digest: hmac::Key,
}

struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn derive(ikm: &[&[u8]], info: &[u8]) -> Result<[u8; KEY_LEN], StoreError> {
    // The concatenation holds key material: Sensitive wipes it on drop.
    let joined = Sensitive::new(ikm.concat());
    let prk = Salt::new(HKDF_SHA256, HKDF_SALT).extract(joined.expose());
    let mut out = [0u8; KEY_LEN];
    prk.expand(&[info], Len(KEY_LEN))
        .and_then(|okm| okm.fill(&mut out))
        .map_err(|_| StoreError::Random)?;
    Ok(out)
}

impl AccountKeys {
    pub(crate) fn derive(
        master: &MasterKeys,
        account_key: &Sensitive<[u8; KEY_LEN]>,
    ) -> Result<Self, StoreError> {
        let mut sealing = BTreeMap::new();
        for (version, key) in &master.keys {
            let mut raw = derive(&[key.expose(), account_key.expose()], b"seal")?;
            let unbound = UnboundKey::new(&AES_256_GCM, &raw).map_err(|_| StoreError::Random)?;
            zeroize::Zeroize::zeroize(&mut raw);
            sealing.insert(*version, LessSafeKey::new(unbound));
        }
        let mut raw = derive(&[account_key.expose()], b"lookup")?;
        let lookup = hmac::Key::new(hmac::HMAC_SHA256, &raw);
        zeroize::Zeroize::zeroize(&mut raw);
        let mut raw = derive(&[account_key.expose()], b"integrity")?;
        let integrity = hmac::Key::new(hmac::HMAC_SHA256, &raw);
        zeroize::Zeroize::zeroize(&mut raw);
        let mut raw = derive(&[account_key.expose()], b"integrity-digest")?;
        let digest = hmac::Key::new(hmac::HMAC_SHA256, &raw);
        zeroize::Zeroize::zeroize(&mut raw);
        Ok(AccountKeys {
            account_key: account_key.clone(),
            sealing,
            lookup,
            integrity,
            digest,
        })
    }

    /// The same account's keys under other master keys (key rotation).
    pub(crate) fn extend(&self, master: &MasterKeys) -> Result<Self, StoreError> {
        AccountKeys::derive(master, &self.account_key)
    }

    /// A keyed hash for lookups by value: equal inputs give equal hashes for
    /// this account, and nothing about the input can be read from it.
    pub(crate) fn lookup_hash(&self, purpose: &str, value: &[u8]) -> Vec<u8> {
        let mut ctx = hmac::Context::with_key(&self.lookup);
        ctx.update(purpose.as_bytes());
        ctx.update(&[0]);
        ctx.update(value);
        ctx.sign().as_ref().to_vec()
    }

    /// The MAC of a row or head, over its canonical encoding.
    pub(crate) fn integrity_mac(&self, encoded: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(hmac::sign(&self.integrity, encoded).as_ref());
        out
    }

    /// Whether `tag` is the MAC of `encoded` (compared in constant time).
    pub(crate) fn integrity_verify(&self, encoded: &[u8], tag: &[u8]) -> bool {
        hmac::verify(&self.integrity, encoded, tag).is_ok()
    }

    /// A row's term in its scope's digest.
    pub(crate) fn digest_term(&self, table: &str, row: i64, mac: &[u8]) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.digest);
        ctx.update(table.as_bytes());
        ctx.update(&[0]);
        ctx.update(&row.to_be_bytes());
        ctx.update(mac);
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    pub(crate) fn seal(
        &self,
        rng: &SystemRandom,
        version: u32,
        field: FieldRef,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let key = self
            .sealing
            .get(&version)
            .ok_or(StoreError::MissingKeyVersion(version))?;
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce).map_err(|_| StoreError::Random)?;
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(field.aad(version).as_slice()),
                &mut out[NONCE_LEN..],
            )
            .map_err(|_| StoreError::Random)?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Opens a sealed field. Any failure (a flipped byte, a ciphertext from
    /// another row or column, a wrong key version) is `Tampered`.
    pub(crate) fn open(
        &self,
        version: u32,
        field: FieldRef,
        sealed: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let key = self
            .sealing
            .get(&version)
            .ok_or(StoreError::MissingKeyVersion(version))?;
        let tampered = || StoreError::Tampered {
            table: field.table,
            row: field.row,
        };
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(tampered());
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| tampered())?;
        let mut buf = body.to_vec();
        let plain_len = key
            .open_in_place(nonce, Aad::from(field.aad(version).as_slice()), &mut buf)
            .map_err(|_| tampered())?
            .len();
        buf.truncate(plain_len);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(row: i64) -> FieldRef {
        FieldRef {
            table: "messages",
            column: "content",
            account: AccountId::from_random([1; 8]),
            row,
            context: 0,
        }
    }

    #[test]
    fn master_keys_round_trip_through_the_keychain_form() {
        let keys = MasterKeys::generate().unwrap().with_new_version().unwrap();
        let bytes = keys.to_bytes();
        assert_eq!(
            bytes.expose().len(),
            8 + 2 * 36,
            "two versions, 36 bytes each"
        );
        let back = MasterKeys::from_bytes(bytes.expose()).unwrap();
        assert_eq!(back.current_version(), 2);
        assert_eq!(back.versions().collect::<Vec<_>>(), vec![1, 2]);
        assert!(matches!(
            MasterKeys::from_bytes(b"SRM1\0\0\0\x07"),
            Err(StoreError::BadMasterKey)
        ));
        assert!(matches!(
            MasterKeys::from_bytes(b"nonsense"),
            Err(StoreError::BadMasterKey)
        ));
    }

    #[test]
    fn sealed_fields_are_bound_to_their_place() {
        let master = MasterKeys::generate().unwrap();
        let keys = AccountKeys::derive(&master, &random_key().unwrap()).unwrap();
        let rng = SystemRandom::new();
        let sealed = keys.seal(&rng, 1, field(7), b"transfer 500 EUR").unwrap();
        assert_eq!(
            keys.open(1, field(7), &sealed).unwrap(),
            b"transfer 500 EUR"
        );
        assert!(matches!(
            keys.open(1, field(8), &sealed),
            Err(StoreError::Tampered {
                table: "messages",
                row: 8
            })
        ));
        let other_column = FieldRef {
            column: "title",
            ..field(7)
        };
        assert!(keys.open(1, other_column, &sealed).is_err());
        let mut flipped = sealed.clone();
        flipped[NONCE_LEN + 2] ^= 1;
        assert!(keys.open(1, field(7), &flipped).is_err());
        assert!(keys.open(1, field(7), &sealed[..10]).is_err());
        assert!(matches!(
            keys.open(2, field(7), &sealed),
            Err(StoreError::MissingKeyVersion(2))
        ));
    }

    #[test]
    fn another_account_key_cannot_open_and_hashes_differ() {
        let master = MasterKeys::generate().unwrap();
        let a = AccountKeys::derive(&master, &random_key().unwrap()).unwrap();
        let b = AccountKeys::derive(&master, &random_key().unwrap()).unwrap();
        let rng = SystemRandom::new();
        let sealed = a.seal(&rng, 1, field(1), b"hello").unwrap();
        assert!(b.open(1, field(1), &sealed).is_err());
        assert_ne!(a.lookup_hash("client", b"x"), b.lookup_hash("client", b"x"));
        assert_eq!(a.lookup_hash("client", b"x"), a.lookup_hash("client", b"x"));
        assert_ne!(a.lookup_hash("client", b"x"), a.lookup_hash("bank", b"x"));
    }
}
