//! Linked accounts: listing, linking (sealed under the account's own store
//! key), reading, and erasing one with every row it owns.

use rusqlite::params;
use strongroom_core::AccountId;

use crate::crypto::AccountKeys;
use crate::integrity::{ACCOUNTS, Pending};
use crate::sealing::account_of;
use crate::{AccountKey, LinkedAccount, Millis, Store, StoreError};

impl Store {
    /// Ids of every linked account, locked or not, oldest link first.
    ///
    /// # Errors
    /// [`StoreError::Database`] on an SQLite failure.
    pub fn account_ids(&self) -> Result<Vec<AccountId>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM accounts ORDER BY linked_at, id")?;
        let ids = stmt
            .query_map([], |r| account_of(r, 0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ids)
    }

    /// Records a newly linked account, sealed under its own store key (which
    /// the caller has already put in the keychain), and unlocks it.
    ///
    /// # Errors
    /// [`StoreError::Database`] if the id is taken or SQLite fails.
    pub fn add_account(
        &mut self,
        id: AccountId,
        key: &AccountKey,
        bank: &str,
        display_name: &str,
        linked_at: Millis,
    ) -> Result<(), StoreError> {
        let keys = AccountKeys::derive(&self.master, key)?;
        let key_check = keys.lookup_hash("key-check", &id.get().to_be_bytes());
        self.accounts.insert(id, keys);
        let result =
            (|| {
                let bank = self.seal(id, "accounts", "bank", id.get(), bank.as_bytes())?;
                let name = self.seal(
                    id,
                    "accounts",
                    "display_name",
                    id.get(),
                    display_name.as_bytes(),
                )?;
                let tx = self.conn.unchecked_transaction()?;
                tx.execute(
                "INSERT INTO accounts (id, key_check, bank, display_name, linked_at, key_version) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id.get(), key_check, bank, name, linked_at, self.master.current_version()],
            )?;
                // The account is protected from its first row on.
                let mut pending = Pending::default();
                pending.fresh(id);
                self.track_row(&tx, &mut pending, &ACCOUNTS, id.get(), None)?;
                self.commit_heads(&tx, &mut pending)?;
                tx.commit()?;
                Ok(pending)
            })();
        match result {
            Ok(pending) => {
                self.adopt(pending);
                Ok(())
            }
            Err(err) => {
                self.accounts.remove(&id);
                Err(err)
            }
        }
    }

    /// Reads a linked account.
    ///
    /// # Errors
    /// [`StoreError::UnknownAccount`], [`StoreError::AccountLocked`] or
    /// [`StoreError::Tampered`].
    pub fn account(&self, id: AccountId) -> Result<LinkedAccount, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {}, {} FROM accounts WHERE id = ?1",
            ACCOUNTS.columns,
            Self::mac_column(self.schema)
        ))?;
        let mut rows = stmt.query([id.get()])?;
        let row = rows.next()?.ok_or(StoreError::UnknownAccount(id))?;
        self.verify_row_mac(id, &ACCOUNTS, row, 0, id.get())?;
        let (bank, name, linked_at, version): (Vec<u8>, Vec<u8>, i64, u32) =
            (row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?);
        Ok(LinkedAccount {
            id,
            bank: self.open_text(id, "accounts", "bank", id.get(), version, &bank)?,
            display_name: self.open_text(
                id,
                "accounts",
                "display_name",
                id.get(),
                version,
                &name,
            )?,
            linked_at,
        })
    }

    /// Erases an account: deletes its rows (with SQLite's secure delete, then
    /// a WAL checkpoint so no freed page keeps them) and drops its key from
    /// memory. The caller then destroys the key in the keychain, after which
    /// no copy of the database can be read for this account.
    ///
    /// # Errors
    /// [`StoreError::Database`] on an SQLite failure; nothing is half-deleted.
    pub fn erase_account(&mut self, id: AccountId) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM outbox WHERE account_id = ?1", [id.get()])?;
        if self.schema >= 4 {
            tx.execute("DELETE FROM bank_links WHERE account_id = ?1", [id.get()])?;
        }
        if self.schema >= 2 {
            tx.execute("DELETE FROM alerts WHERE account_id = ?1", [id.get()])?;
        }
        tx.execute("DELETE FROM messages WHERE account_id = ?1", [id.get()])?;
        tx.execute(
            "DELETE FROM conversations WHERE account_id = ?1",
            [id.get()],
        )?;
        if self.schema >= 5 {
            tx.execute(
                "DELETE FROM integrity_scopes WHERE account_id = ?1",
                [id.get()],
            )?;
            tx.execute(
                "DELETE FROM integrity_heads WHERE account_id = ?1",
                [id.get()],
            )?;
        }
        tx.execute("DELETE FROM accounts WHERE id = ?1", [id.get()])?;
        tx.commit()?;
        self.integrity.remove(&id);
        self.anchored.remove(&id);
        self.checkpoint()?;
        self.accounts.remove(&id);
        self.conversation_accounts.retain(|_, a| *a != id);
        self.timelines.remove_account(id);
        self.damage_found.remove(&id);
        self.forget_in_index(id);
        Ok(())
    }
}
