//! The store's one error type.

use strongroom_core::AccountId;

/// Everything that can go wrong in the store, typed so callers never match
/// on strings.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A sealed field failed to open: a flipped byte, or a ciphertext moved,
    /// swapped or copied from another row. Only this row is affected; the rest
    /// of the store keeps working.
    #[error("the {table} row {row} has been tampered with")]
    Tampered {
        /// Table of the damaged row.
        table: &'static str,
        /// Id of the damaged row.
        row: i64,
    },
    /// The account is linked but its store key has not been supplied (for
    /// example it was destroyed when the account was unlinked).
    #[error("account {0} is locked: its store key is not loaded")]
    AccountLocked(AccountId),
    /// The account key supplied does not belong to this account.
    #[error("the store key supplied for account {0} is not its key")]
    WrongAccountKey(AccountId),
    /// No linked account with this id.
    #[error("no linked account {0}")]
    UnknownAccount(AccountId),
    /// A row was not found.
    #[error("no {table} row {row}")]
    NotFound {
        /// Table looked in.
        table: &'static str,
        /// Id looked for.
        row: i64,
    },
    /// Rows are sealed under a master key version the keychain entry does
    /// not hold.
    #[error("master key version {0} is needed but not available")]
    MissingKeyVersion(u32),
    /// The master key supplied is not the one this database was written
    /// with (for example the keychain was reset): nothing can be read, and
    /// nothing was changed.
    #[error("master key version {0} is not the key this database was written with")]
    WrongMasterKey(u32),
    /// The anchor entry (an account's history head kept in the keychain) is
    /// not in Strongroom's format.
    #[error("the store anchor entry is malformed")]
    BadAnchor,
    /// The master key entry is not in Strongroom's format.
    #[error("the master key entry is malformed")]
    BadMasterKey,
    /// The database was written by a newer Strongroom.
    #[error("the database has schema version {found}, newer than the {supported} this app knows")]
    NewerSchema {
        /// Version found in the file.
        found: u32,
        /// Newest version this build knows.
        supported: u32,
    },
    /// A key rotation was asked for with keys that do not move forward.
    #[error("a key rotation needs a newer master key version than {0}")]
    RotationNotForward(u32),
    /// Another Strongroom already has this database open.
    #[error("the database is already open in another Strongroom window or process")]
    InUse,
    /// A file next to the database could not be used.
    #[error("file error: {0}")]
    Io(String),
    /// The system random source failed.
    #[error("the system random source failed")]
    Random,
    /// SQLite failed (disk full, file not a database, I/O error, ...).
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
}

impl StoreError {
    /// True for failures that concern one row only (it was tampered with, or
    /// relabelled with a key version that is not held), so that a list can
    /// report the row and go on with the others.
    pub fn is_row_failure(&self) -> bool {
        matches!(
            self,
            StoreError::Tampered { .. } | StoreError::MissingKeyVersion(_)
        )
    }

    /// A stable machine-readable code for `{code, message}` errors in the UI.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Tampered { .. } => "store_tampered",
            StoreError::AccountLocked(_) => "store_account_locked",
            StoreError::WrongAccountKey(_) => "store_wrong_key",
            StoreError::UnknownAccount(_) => "store_unknown_account",
            StoreError::NotFound { .. } => "store_not_found",
            StoreError::MissingKeyVersion(_) => "store_missing_key_version",
            StoreError::WrongMasterKey(_) => "store_wrong_master_key",
            StoreError::BadMasterKey => "store_bad_master_key",
            StoreError::BadAnchor => "store_bad_anchor",
            StoreError::NewerSchema { .. } => "store_newer_schema",
            StoreError::RotationNotForward(_) => "store_rotation_not_forward",
            StoreError::InUse => "store_in_use",
            StoreError::Io(_) => "store_io",
            StoreError::Random => "store_random_failed",
            StoreError::Database(_) => "store_database",
        }
    }
}
