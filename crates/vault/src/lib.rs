//! The vault: Strongroom's secrets in the OS keychain.
//!
//! Every secret Strongroom keeps (a linked account's refresh token, device
//! key, pinned bank keys and store key, and the store's master key) lives in
//! the platform keychain through keyring 4: the macOS Keychain, the Windows
//! Credential Manager or the Secret Service on Linux. Nothing here ever writes
//! a secret anywhere else. When the keychain is missing, locked or refuses
//! access, every call returns a [`VaultError`] that says what is wrong and how
//! to fix it; there is no plaintext fallback.
//!
//! Secrets go in and come out as [`Sensitive`] values, redacted in logs and
//! wiped from memory on drop.
#![deny(missing_docs)]

mod error;

pub use error::VaultError;

use ring::rand::{SecureRandom, SystemRandom};
use strongroom_core::{AccountId, Sensitive};

/// The keychain service name every Strongroom entry is filed under.
pub const SERVICE: &str = "strongroom";

/// The largest secret one entry may hold, in bytes.
///
/// Windows Credential Manager caps a credential blob at 2,560 bytes. The vault
/// enforces the same cap on every platform so that an account linked on Linux
/// can never hold an entry that the Windows build could not.
pub const MAX_SECRET_BYTES: usize = 2560;

/// What one keychain entry of a linked account holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// The account's OAuth refresh token.
    RefreshToken,
    /// The per-device ES256 private key that signs DPoP proofs (PKCS#8).
    DeviceKey,
    /// The bank's signing keys pinned at link time.
    PinnedKeys,
    /// The account's store key: destroying it makes the account's rows in
    /// every copy of the database unreadable.
    StoreKey,
    /// Where the account's history in the store last stood (its write
    /// counter and head MAC, 44 bytes), kept outside the database file so
    /// that a file put back to an older copy is noticed. Not secret; here
    /// because the file's editor cannot reach it.
    StoreAnchor,
}

impl SecretKind {
    /// Every kind, so that unlinking can delete them all.
    pub const ALL: [SecretKind; 5] = [
        SecretKind::RefreshToken,
        SecretKind::DeviceKey,
        SecretKind::PinnedKeys,
        SecretKind::StoreKey,
        SecretKind::StoreAnchor,
    ];

    fn label(self) -> &'static str {
        match self {
            SecretKind::RefreshToken => "refresh-token",
            SecretKind::DeviceKey => "device-key",
            SecretKind::PinnedKeys => "pinned-keys",
            SecretKind::StoreKey => "store-key",
            SecretKind::StoreAnchor => "store-anchor",
        }
    }
}

/// The OS keychain, seen through Strongroom's entries only.
///
/// Entry names are `account/<id>/<kind>`, `store/master-key` and
/// `app/passphrase` (the optional passphrase's verifier), under the
/// service [`SERVICE`] (or another service name given to
/// [`Vault::with_service`], which keeps test runs apart).
#[derive(Debug, Clone)]
pub struct Vault {
    service: String,
}

impl Default for Vault {
    fn default() -> Self {
        Vault::new()
    }
}

impl Vault {
    /// The vault of the installed app, under the service [`SERVICE`].
    pub fn new() -> Self {
        Vault::with_service(SERVICE)
    }

    /// A vault filed under another service name.
    pub fn with_service(service: impl Into<String>) -> Self {
        Vault {
            service: service.into(),
        }
    }

    /// The service name this vault files its entries under.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Checks at startup that the keychain works: writes, reads back and
    /// deletes a probe entry as large as the largest entry the vault allows.
    ///
    /// # Errors
    /// [`VaultError::NoService`], [`VaultError::Locked`],
    /// [`VaultError::AccessDenied`] or [`VaultError::TooLong`] tell the user
    /// what to fix; [`VaultError::Corrupted`] means the probe did not read
    /// back as written.
    pub fn self_check(&self) -> Result<(), VaultError> {
        let mut name_bytes = [0u8; 8];
        let mut probe = vec![0u8; MAX_SECRET_BYTES];
        let rng = SystemRandom::new();
        rng.fill(&mut name_bytes)
            .and_then(|()| rng.fill(&mut probe))
            .map_err(|_| VaultError::Platform("the system random generator failed".into()))?;
        let probe = Sensitive::new(probe);
        let name = format!("self-check/{:016x}", u64::from_be_bytes(name_bytes));
        self.write(&name, &probe)?;
        let read = self.read(&name);
        // Delete before judging the read so a failed check leaves nothing behind.
        let deleted = self.remove(&name);
        match read? {
            Some(back) if back == probe => deleted,
            _ => {
                deleted?;
                Err(VaultError::Corrupted)
            }
        }
    }

    /// Reads one secret of a linked account; `None` when there is none.
    ///
    /// # Errors
    /// A [`VaultError`] when the keychain cannot be used.
    pub fn get(
        &self,
        account: AccountId,
        kind: SecretKind,
    ) -> Result<Option<Sensitive<Vec<u8>>>, VaultError> {
        self.read(&account_entry(account, kind))
    }

    /// Stores (or replaces) one secret of a linked account.
    ///
    /// # Errors
    /// [`VaultError::TooLong`] when the secret is over [`MAX_SECRET_BYTES`]
    /// (nothing is written), or another [`VaultError`] when the keychain
    /// cannot be used.
    pub fn put(
        &self,
        account: AccountId,
        kind: SecretKind,
        secret: &Sensitive<Vec<u8>>,
    ) -> Result<(), VaultError> {
        self.write(&account_entry(account, kind), secret)
    }

    /// Deletes one secret of a linked account. Deleting a secret that is not
    /// there succeeds, so an interrupted unlink can simply run again.
    ///
    /// # Errors
    /// A [`VaultError`] when the keychain cannot be used.
    pub fn delete(&self, account: AccountId, kind: SecretKind) -> Result<(), VaultError> {
        self.remove(&account_entry(account, kind))
    }

    /// Deletes every secret of a linked account: the last step of unlinking.
    ///
    /// # Errors
    /// The first [`VaultError`] met; the remaining kinds are still tried, so a
    /// retry has less to do.
    pub fn forget_account(&self, account: AccountId) -> Result<(), VaultError> {
        let mut first_error = None;
        for kind in SecretKind::ALL {
            if let Err(err) = self.delete(account, kind) {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Reads the store's master key entry; `None` on first run.
    ///
    /// # Errors
    /// A [`VaultError`] when the keychain cannot be used.
    pub fn master_key(&self) -> Result<Option<Sensitive<Vec<u8>>>, VaultError> {
        self.read(MASTER_KEY_ENTRY)
    }

    /// Stores (or replaces) the store's master key entry.
    ///
    /// # Errors
    /// A [`VaultError`] when the keychain cannot be used.
    pub fn put_master_key(&self, key: &Sensitive<Vec<u8>>) -> Result<(), VaultError> {
        self.write(MASTER_KEY_ENTRY, key)
    }

    /// Reads the app passphrase's verifier (salt and PBKDF2 output); `None`
    /// when no passphrase is set.
    ///
    /// # Errors
    /// A [`VaultError`] when the keychain cannot be used.
    pub fn passphrase_verifier(&self) -> Result<Option<Sensitive<Vec<u8>>>, VaultError> {
        self.read(PASSPHRASE_ENTRY)
    }

    /// Stores the app passphrase's verifier, or removes it with `None`.
    ///
    /// # Errors
    /// A [`VaultError`] when the keychain cannot be used.
    pub fn put_passphrase_verifier(
        &self,
        verifier: Option<&Sensitive<Vec<u8>>>,
    ) -> Result<(), VaultError> {
        match verifier {
            Some(v) => self.write(PASSPHRASE_ENTRY, v),
            None => match self.entry(PASSPHRASE_ENTRY)?.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(err) => Err(VaultError::from_keyring(err)),
            },
        }
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, VaultError> {
        keyring::Entry::new(&self.service, name).map_err(VaultError::from_keyring)
    }

    fn read(&self, name: &str) -> Result<Option<Sensitive<Vec<u8>>>, VaultError> {
        match self.entry(name)?.get_secret() {
            Ok(secret) => Ok(Some(Sensitive::new(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(VaultError::from_keyring(err)),
        }
    }

    fn write(&self, name: &str, secret: &Sensitive<Vec<u8>>) -> Result<(), VaultError> {
        let len = secret.expose().len();
        if len > MAX_SECRET_BYTES {
            return Err(VaultError::TooLong {
                len,
                max: MAX_SECRET_BYTES,
            });
        }
        self.entry(name)?
            .set_secret(secret.expose())
            .map_err(VaultError::from_keyring)
    }

    fn remove(&self, name: &str) -> Result<(), VaultError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(VaultError::from_keyring(err)),
        }
    }
}

const MASTER_KEY_ENTRY: &str = "store/master-key";
const PASSPHRASE_ENTRY: &str = "app/passphrase";

fn account_entry(account: AccountId, kind: SecretKind) -> String {
    format!("account/{account}/{}", kind.label())
}
