//! The customer's device: the keychain and the encrypted store opened
//! together, in the one order that never seals data under a key that is not
//! kept, and the start-up status and damage report the window shows.

use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;
use std::path::Path;
use strongroom_core::{AccountId, Sensitive};
use strongroom_store::{
    Alarm, Anchor, KEY_LEN, MasterKeys, Millis, ScopeMismatch, Store, StoreError, UnlockReport,
};
use strongroom_vault::{SecretKind, Vault};
use ts_rs::TS;

use crate::error::{ClientError, ErrorReport};

/// Name of the database file inside the app's data folder.
pub const DATABASE_FILE: &str = "strongroom.sqlite3";

/// What the app shows at start: whether the keychain and the store opened,
/// and if not, what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartupStatus {
    /// The keychain self-check passed and the store is open.
    pub ready: bool,
    /// Why not, when not ready.
    pub error: Option<ErrorReport>,
    /// How many bank accounts are linked on this device.
    pub linked_accounts: usize,
    /// Accounts whose history could not be unlocked, with the reason.
    pub locked_accounts: Vec<ErrorReport>,
    /// The store's schema version.
    pub schema_version: u32,
    /// Why an interrupted master key rotation could not be finished, if so.
    pub rotation_error: Option<ErrorReport>,
}

/// Opens the device for the app, turning any failure into a status the start
/// screen can explain. Never panics, never falls back to anything unsafe.
pub fn start(data_dir: &Path, vault: Vault) -> (Option<Device>, StartupStatus) {
    match Device::open(data_dir, vault) {
        Ok(mut device) => {
            let linked_accounts = device.store().account_ids().map_or(0, |ids| ids.len());
            let locked_accounts = device
                .unlock_reports()
                .iter()
                .filter_map(|(_, r)| r.as_ref().err().cloned())
                .collect();
            let status = StartupStatus {
                ready: true,
                error: None,
                linked_accounts,
                locked_accounts,
                schema_version: strongroom_store::SCHEMA_VERSION,
                rotation_error: device.rotation_error().cloned(),
            };
            (Some(device), status)
        }
        Err(err) => (
            None,
            StartupStatus {
                ready: false,
                error: Some(ErrorReport::from(&err)),
                linked_accounts: 0,
                locked_accounts: Vec::new(),
                schema_version: strongroom_store::SCHEMA_VERSION,
                rotation_error: None,
            },
        ),
    }
}

/// Damage the store found in one account's history at unlock, as the window
/// and the CLI show it: how many rows, in which conversation or table, and
/// whether the file is an older copy. The rest of the history stays readable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct DamageReport {
    /// The damaged account (local id).
    pub account: String,
    /// Rows that failed their integrity check and are not shown.
    pub damaged_rows: usize,
    /// Of which messages of the account's conversations.
    pub damaged_messages: usize,
    /// Of which alerts.
    pub damaged_alerts: usize,
    /// Conversations and tables whose rows were deleted, added or rolled
    /// back one by one.
    pub scopes: Vec<ScopeMismatch>,
    /// Damage to the history as a whole (an older copy of the file, an
    /// edited record).
    pub alarms: Vec<Alarm>,
}

impl DamageReport {
    /// One line a person can act on, for the CLI and logs.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.damaged_rows > 0 {
            parts.push(format!(
                "{} damaged row(s) hidden ({} message(s), {} alert(s))",
                self.damaged_rows, self.damaged_messages, self.damaged_alerts
            ));
        }
        for scope in &self.scopes {
            let place = match scope.conversation {
                Some(c) => format!("conversation {}", c.0),
                None => scope.table.to_owned(),
            };
            parts.push(format!(
                "{place}: {} row(s) recorded, {} found, or rows rolled back",
                scope.recorded_rows, scope.found_rows
            ));
        }
        for alarm in &self.alarms {
            parts.push(match alarm {
                Alarm::RolledBack { anchored, found } => format!(
                    "the database file is an older copy (write {found}, the keychain knows write {anchored})"
                ),
                Alarm::HeadForged => "the history's integrity record was edited".to_owned(),
                Alarm::HeadMissing => "the history's integrity record was removed".to_owned(),
            });
        }
        format!(
            "account {}: {}; the rest of the history is readable",
            self.account,
            parts.join("; ")
        )
    }

    fn of(account: AccountId, report: &UnlockReport) -> Option<Self> {
        if report.is_clean() {
            return None;
        }
        let count = |table: &str| report.tampered.iter().filter(|(t, _)| *t == table).count();
        Some(DamageReport {
            account: account.to_string(),
            damaged_rows: report.tampered.len(),
            damaged_messages: count("messages"),
            damaged_alerts: count("alerts"),
            scopes: report.integrity.scopes.clone(),
            alarms: report.integrity.alarms.clone(),
        })
    }
}

/// The customer's device: the keychain and the encrypted store, unlocked.
#[derive(Debug)]
pub struct Device {
    vault: Vault,
    store: Store,
    unlock_reports: Vec<(AccountId, Result<UnlockReport, ErrorReport>)>,
    rotation_error: Option<ErrorReport>,
}

fn key_from_secret(secret: &Sensitive<Vec<u8>>) -> Option<Sensitive<[u8; KEY_LEN]>> {
    let bytes: [u8; KEY_LEN] = secret.expose().as_slice().try_into().ok()?;
    Some(Sensitive::new(bytes))
}

impl Device {
    /// Opens the device's store in `data_dir` with keys from `vault`.
    ///
    /// Runs the keychain self-check first, so a missing or locked keychain is
    /// reported before anything is touched. On first run, the master key is
    /// created and stored in the keychain *before* the database is created,
    /// so no data is ever sealed under a key that is not kept. A key rotation
    /// that a crash interrupted is finished here.
    ///
    /// # Errors
    /// [`ClientError::Vault`] for keychain problems (nothing is written
    /// anywhere else), [`ClientError::Store`] or [`ClientError::DataFolder`].
    pub fn open(data_dir: &Path, vault: Vault) -> Result<Self, ClientError> {
        vault.self_check()?;
        let database = data_dir.join(DATABASE_FILE);
        let master = match vault.master_key()? {
            Some(bytes) => MasterKeys::from_bytes(bytes.expose())?,
            // The key is always stored before the database is created, so a
            // database without a key means the key was lost: never replace it.
            None if database.exists() => return Err(ClientError::MasterKeyMissing(database)),
            None => {
                let keys = MasterKeys::generate()?;
                vault.put_master_key(&keys.to_bytes())?;
                keys
            }
        };
        std::fs::create_dir_all(data_dir).map_err(|source| ClientError::DataFolder {
            path: data_dir.to_path_buf(),
            source,
        })?;
        owner_only(data_dir, &database).map_err(|source| ClientError::DataFolder {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let store = Store::open(&database, master)?;
        let mut device = Device {
            vault,
            store,
            unlock_reports: Vec::new(),
            rotation_error: None,
        };
        for id in device.store.account_ids()? {
            let report = device.unlock(id).map_err(|e| ErrorReport::from(&e));
            device.unlock_reports.push((id, report));
        }
        // Where each history stands now goes to the keychain at once: a
        // first unlock after an upgrade, or damage just recorded, moved it.
        device.anchor_store();
        if device.store.master_keys().versions().count() > 1 {
            // A rotation was interrupted. If it cannot finish now (an account
            // is locked), both key versions stay in the keychain and nothing
            // is lost; the next open tries again.
            if let Err(err) = device.finish_rotation() {
                device.rotation_error = Some(ErrorReport::from(&err));
            }
        }
        Ok(device)
    }

    fn unlock(&mut self, id: AccountId) -> Result<UnlockReport, ClientError> {
        let secret = self
            .vault
            .get(id, SecretKind::StoreKey)?
            .ok_or(ClientError::MissingAccountKey(id))?;
        let key = key_from_secret(&secret).ok_or(ClientError::MissingAccountKey(id))?;
        // The anchor is outside the file: a file put back to an older copy
        // is behind it. A malformed entry is an error for this account, not
        // a silent unlock without the check.
        let anchor = match self.vault.get(id, SecretKind::StoreAnchor)? {
            Some(bytes) => Some(Anchor::from_bytes(bytes.expose())?),
            None => None,
        };
        Ok(self
            .store
            .unlock_account_anchored(id, &key, anchor.as_ref())?)
    }

    /// Puts the anchor of every account written since the last call in the
    /// keychain (44 bytes each). Keychain writes are slow, so this runs at
    /// open, when the device is dropped (lock, quit) and when the caller
    /// chooses; an older copy of the file made after the last anchor and
    /// put back after a crash is the window this leaves (docs/security.md).
    /// A failed write is retried at the next call.
    pub fn anchor_store(&mut self) {
        for (account, anchor) in self.store.anchors_due() {
            let bytes = Sensitive::new(anchor.to_bytes());
            if self
                .vault
                .put(account, SecretKind::StoreAnchor, &bytes)
                .is_err()
            {
                self.store.anchor_failed(account);
            }
        }
    }

    /// Damage found in each account's history, for the window and the CLI:
    /// at open, and since (older messages the first search found damaged,
    /// [`Store::damage_found`]). Empty when every history checked out.
    pub fn damage(&self) -> Vec<DamageReport> {
        self.unlock_reports
            .iter()
            .filter_map(|(id, r)| {
                let report = r.as_ref().ok()?;
                let found = self.store.damage_found(*id);
                if found.is_empty() {
                    return DamageReport::of(*id, report);
                }
                let mut report = report.clone();
                for row in found {
                    if !report.tampered.contains(row) {
                        report.tampered.push(*row);
                    }
                }
                DamageReport::of(*id, &report)
            })
            .collect()
    }

    /// The store, for reading and writing history.
    pub fn store(&mut self) -> &mut Store {
        &mut self.store
    }

    /// The vault this device uses.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// What unlocking each linked account found at open.
    pub fn unlock_reports(&self) -> &[(AccountId, Result<UnlockReport, ErrorReport>)] {
        &self.unlock_reports
    }

    /// Why an interrupted key rotation could not be finished at open, if so.
    pub fn rotation_error(&self) -> Option<&ErrorReport> {
        self.rotation_error.as_ref()
    }

    /// Records a linked account: a fresh store key goes to the keychain
    /// first, then the account row is written sealed under it.
    ///
    /// # Errors
    /// [`ClientError::Vault`] or [`ClientError::Store`]; on a store failure
    /// the new key is removed from the keychain again.
    pub fn add_account(
        &mut self,
        bank: &str,
        display_name: &str,
        now: Millis,
    ) -> Result<AccountId, ClientError> {
        let mut id_bytes = [0u8; 8];
        SystemRandom::new()
            .fill(&mut id_bytes)
            .map_err(|_| StoreError::Random)?;
        let id = AccountId::from_random(id_bytes);
        let key = strongroom_store::random_key()?;
        self.vault.put(
            id,
            SecretKind::StoreKey,
            &Sensitive::new(key.expose().to_vec()),
        )?;
        if let Err(err) = self.store.add_account(id, &key, bank, display_name, now) {
            // Best effort: the key protects nothing yet, and a leftover entry
            // would only be an orphan.
            let _ = self.vault.delete(id, SecretKind::StoreKey);
            return Err(err.into());
        }
        Ok(id)
    }

    /// Erases an account from this device: its rows, then every keychain
    /// entry it had, so that no old copy of the database can be read for it.
    /// Running it again after an interruption finishes the job.
    ///
    /// # Errors
    /// [`ClientError::Store`] or [`ClientError::Vault`].
    pub fn erase_account(&mut self, id: AccountId) -> Result<(), ClientError> {
        // The store key goes first: from that moment no copy of the database
        // can be read for this account, whatever happens next. An interrupted
        // erase leaves a row whose key is missing, listed at the next open
        // (`account_key_missing`), and running the erase again finishes it.
        self.vault.delete(id, SecretKind::StoreKey)?;
        self.store.lock_account(id);
        self.store.erase_account(id)?;
        self.vault.forget_account(id)?;
        Ok(())
    }

    /// Rotates the store's master key: the new version goes to the keychain
    /// (beside the old one), every row is re-sealed in batches, then the old
    /// version is retired. A crash at any point is finished by the next
    /// [`Device::open`].
    ///
    /// # Errors
    /// [`ClientError::Vault`] or [`ClientError::Store`].
    pub fn rotate_master_key(&mut self) -> Result<(), ClientError> {
        let next = self.store.master_keys().with_new_version()?;
        self.vault.put_master_key(&next.to_bytes())?;
        self.store.start_rotation(next)?;
        self.finish_rotation()
    }

    fn finish_rotation(&mut self) -> Result<(), ClientError> {
        let mut progress = self.store.rotation_step(500)?;
        while !progress.done {
            progress = self.store.rotation_step(500)?;
        }
        if !progress.skipped.is_empty() {
            // Damaged rows, or rows of a locked account, still need the older
            // key: keep every version in the keychain.
            return Err(ClientError::RotationIncomplete(progress.skipped.len()));
        }
        let retired = self.store.retire_old_versions()?;
        self.vault.put_master_key(&retired.to_bytes())?;
        Ok(())
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        // Locking or quitting: the history's last state goes outside the file.
        self.anchor_store();
    }
}

/// The data folder is the user's alone (0700), and so is the database
/// (0600; SQLite gives its WAL and shared-memory files the database's
/// mode). The fields are sealed anyway, but another local user should not
/// even see how much history there is or when it was written.
#[cfg(unix)]
fn owner_only(dir: &Path, database: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    // Created here, owner-only, before SQLite opens it.
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(database)?;
    std::fs::set_permissions(database, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn owner_only(_dir: &Path, _database: &Path) -> std::io::Result<()> {
    // Elsewhere the per-user profile folder's own permissions apply.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Status.damage` as the window reads it (ui/src/ipc/types.ts:
    /// `DamageReport`, `ScopeMismatch`, `Alarm`): a serde attribute changed
    /// here must change the UI's types with it.
    #[test]
    fn damage_reaches_the_window_in_the_shape_the_ui_types_say() {
        use strongroom_store::{Alarm, ConversationId, ScopeMismatch};
        let report = DamageReport {
            account: "00000000000000a1".into(),
            damaged_rows: 2,
            damaged_messages: 1,
            damaged_alerts: 1,
            scopes: vec![ScopeMismatch {
                table: "messages",
                conversation: Some(ConversationId(3)),
                recorded_rows: 5,
                found_rows: 4,
            }],
            alarms: vec![
                Alarm::RolledBack {
                    anchored: 9,
                    found: 7,
                },
                Alarm::HeadForged,
                Alarm::HeadMissing,
            ],
        };
        assert_eq!(
            serde_json::to_value(&report).unwrap(),
            serde_json::json!({
                "account": "00000000000000a1",
                "damaged_rows": 2,
                "damaged_messages": 1,
                "damaged_alerts": 1,
                "scopes": [{"table": "messages", "conversation": 3, "recorded_rows": 5, "found_rows": 4}],
                "alarms": [{"RolledBack": {"anchored": 9, "found": 7}}, "HeadForged", "HeadMissing"],
            })
        );
    }
}
