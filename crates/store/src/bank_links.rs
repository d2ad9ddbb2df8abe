//! How each account is linked to its bank (sealed), and the delivery
//! sequence number acknowledged to the bank's stream.

use rusqlite::params;
use strongroom_core::AccountId;

use crate::integrity::{BANK_LINKS, MacRow, Pending};
use crate::{BankLink, Store, StoreError};

impl Store {
    /// Records (or replaces) how an account is linked to its bank, sealed.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`] or [`StoreError::Database`].
    pub fn set_bank_link(&mut self, account: AccountId, link: &BankLink) -> Result<(), StoreError> {
        let plain = serde_json::to_vec(link).map_err(|_| StoreError::Random)?;
        let sealed = self.seal(account, "bank_links", "details", account.get(), &plain)?;
        let tx = self.conn.unchecked_transaction()?;
        // A damaged link is refused rather than re-MAC'd with its clear
        // columns (the acknowledged sequence) as the attacker left them.
        let before = self.require_genuine(&tx, &BANK_LINKS, account.get())?;
        tx.execute(
            "INSERT INTO bank_links (id, account_id, details, acked_seq, key_version) \
             VALUES (?1, ?1, ?2, 0, ?3) \
             ON CONFLICT(id) DO UPDATE SET details = excluded.details, \
             key_version = excluded.key_version",
            params![account.get(), sealed, self.master.current_version()],
        )?;
        let pending = self.commit_link_row(tx, account, before.as_ref())?;
        self.adopt(pending);
        Ok(())
    }

    /// How an account is linked to its bank, if it is.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`], [`StoreError::Tampered`] or
    /// [`StoreError::Database`].
    pub fn bank_link(&self, account: AccountId) -> Result<Option<BankLink>, StoreError> {
        self.keys(account)?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {}, {} FROM bank_links WHERE id = ?1",
            BANK_LINKS.columns,
            Self::mac_column(self.schema)
        ))?;
        let mut rows = stmt.query([account.get()])?;
        let Some(row) = rows.next()? else {
            return Ok(None);
        };
        self.verify_row_mac(account, &BANK_LINKS, row, 0, account.get())?;
        let (sealed, version): (Vec<u8>, u32) = (row.get(2)?, row.get(4)?);
        let plain = self.open_field(
            account,
            "bank_links",
            "details",
            account.get(),
            version,
            &sealed,
        )?;
        serde_json::from_slice(&plain)
            .map(Some)
            .map_err(|_| StoreError::Tampered {
                table: "bank_links",
                row: account.get(),
            })
    }

    /// The highest delivery sequence number whose event is durably stored
    /// for this account (0 before the first event).
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`], [`StoreError::Tampered`] if the link's
    /// row fails its MAC (the number is acted on: it is never taken from a
    /// damaged row), or [`StoreError::Database`].
    pub fn acked_seq(&self, account: AccountId) -> Result<u64, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {}, {} FROM bank_links WHERE id = ?1",
            BANK_LINKS.columns,
            Self::mac_column(self.schema)
        ))?;
        let mut rows = stmt.query([account.get()])?;
        let Some(row) = rows.next()? else {
            return Ok(0);
        };
        self.verify_row_mac(account, &BANK_LINKS, row, 0, account.get())?;
        let seq: i64 = row.get(3)?;
        Ok(u64::try_from(seq).unwrap_or(0))
    }

    /// Records that every event up to `seq` is stored. Never moves backwards,
    /// so a late or repeated call is harmless. Committed with
    /// `synchronous=FULL` before the bank is told.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`], [`StoreError::Tampered`] if the link's
    /// row fails its MAC, or [`StoreError::Database`].
    pub fn set_acked_seq(&mut self, account: AccountId, seq: u64) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let mut pending = Pending::default();
        if !self.move_acked_seq(&tx, &mut pending, account, seq)? {
            // Nothing moved: no new MAC, no new head.
            return Ok(());
        }
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        Ok(())
    }

    /// Moves the stream position forward inside the caller's transaction
    /// (never back), with the link row's new MAC in `pending`. False when
    /// it did not move. The caller commits the heads.
    pub(crate) fn move_acked_seq(
        &self,
        tx: &rusqlite::Connection,
        pending: &mut Pending,
        account: AccountId,
        seq: u64,
    ) -> Result<bool, StoreError> {
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        let before = self.require_genuine(tx, &BANK_LINKS, account.get())?;
        let changed = tx.execute(
            "UPDATE bank_links SET acked_seq = MAX(acked_seq, ?1) WHERE id = ?2 AND acked_seq < ?1",
            params![seq, account.get()],
        )?;
        if changed == 0 {
            return Ok(false);
        }
        self.track_row(tx, pending, &BANK_LINKS, account.get(), before.as_ref())?;
        Ok(true)
    }

    /// Commits a change to an account's `bank_links` row with its new MAC
    /// and the account's new integrity head, in the same transaction.
    /// Returns the heads to adopt once committed.
    fn commit_link_row(
        &self,
        tx: rusqlite::Transaction<'_>,
        account: AccountId,
        before: Option<&MacRow>,
    ) -> Result<Pending, StoreError> {
        let mut pending = Pending::default();
        self.track_row(&tx, &mut pending, &BANK_LINKS, account.get(), before)?;
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        Ok(pending)
    }
}
