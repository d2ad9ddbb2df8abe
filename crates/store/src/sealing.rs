//! A row's sealed fields, sealed and opened under the keys of its unlocked
//! account, and the typed reads of the columns around them.

use rusqlite::Row;
use strongroom_core::AccountId;

use crate::crypto::{AccountKeys, FieldRef};
use crate::{Store, StoreError};

impl Store {
    pub(crate) fn keys(&self, account: AccountId) -> Result<&AccountKeys, StoreError> {
        self.accounts
            .get(&account)
            .ok_or(StoreError::AccountLocked(account))
    }

    pub(crate) fn seal(
        &self,
        account: AccountId,
        table: &'static str,
        column: &'static str,
        row: i64,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        self.keys(account)?.seal(
            &self.rng,
            self.master.current_version(),
            FieldRef::column(table, column, account, row),
            plaintext,
        )
    }

    pub(crate) fn open_field(
        &self,
        account: AccountId,
        table: &'static str,
        column: &'static str,
        row: i64,
        version: u32,
        sealed: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        self.keys(account)?.open(
            version,
            FieldRef::column(table, column, account, row),
            sealed,
        )
    }

    pub(crate) fn open_text(
        &self,
        account: AccountId,
        table: &'static str,
        column: &'static str,
        row: i64,
        version: u32,
        sealed: &[u8],
    ) -> Result<String, StoreError> {
        let bytes = self.open_field(account, table, column, row, version, sealed)?;
        String::from_utf8(bytes).map_err(|_| StoreError::Tampered { table, row })
    }
}

pub(crate) fn account_of(row: &Row<'_>, index: usize) -> rusqlite::Result<AccountId> {
    let value: i64 = row.get(index)?;
    AccountId::from_stored(value).ok_or(rusqlite::Error::IntegralValueOutOfRange(index, value))
}

/// A sealed column's bytes. STRICT tables keep the type, so anything but a
/// blob here means the file was edited.
pub(crate) fn blob<'a>(
    row: &'a Row<'_>,
    index: usize,
    table: &'static str,
    id: i64,
) -> Result<&'a [u8], StoreError> {
    row.get_ref(index)?
        .as_blob()
        .map_err(|_| StoreError::Tampered { table, row: id })
}

pub(crate) fn blob_or_null<'a>(
    row: &'a Row<'_>,
    index: usize,
    table: &'static str,
    id: i64,
) -> Result<Option<&'a [u8]>, StoreError> {
    row.get_ref(index)?
        .as_blob_or_null()
        .map_err(|_| StoreError::Tampered { table, row: id })
}
