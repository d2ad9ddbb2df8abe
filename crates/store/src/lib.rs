//! Strongroom's encrypted message store.
//!
//! One SQLite file (WAL, `synchronous=FULL`) holds linked accounts,
//! conversations, messages, alerts and the outbox. Every sensitive field is
//! sealed on its own with AES-256-GCM, bound to its table, row, column, account
//! and key version (see [`crypto`](crate::MasterKeys) and the crate README).
//! A flipped byte, or a ciphertext swapped or copied between rows, reads back
//! as [`StoreError::Tampered`] for that row only.
//!
//! Keys come from outside: the master key and each account's store key are
//! kept in the OS keychain by `strongroom-vault`; this crate never sees the
//! keychain. Search runs on an in-memory index built at the first search
//! after an unlock, so no plaintext word reaches the disk.
//!
//! [`Store`] is defined here; its operations live one family to a module
//! (opening, sealing, accounts, unlocking, conversations, messages, outbox,
//! alerts, bank links, search indexing, key rotation), each an `impl Store`.
#![deny(missing_docs)]

mod accounts;
mod alerts;
mod bank_links;
mod conversations;
mod crypto;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod indexing;
mod integrity;
mod message_content;
mod messages;
mod migrate;
mod model;
mod opening;
mod outbox;
mod rotation;
mod sealing;
pub mod search;
mod timeline;
mod unlock;

pub use crypto::{KEY_LEN, MasterKeys, random_key};
pub use error::StoreError;
pub use integrity::{Alarm, Anchor, IntegrityFindings, ScopeMismatch};
pub use migrate::SCHEMA_VERSION;
pub use model::*;
pub use rotation::RotationProgress;
pub use strongroom_core::{AccountId, Sensitive};
pub use unlock::UnlockReport;

use crypto::AccountKeys;
use integrity::AccountIntegrity;
use opening::Queries;
use ring::rand::SystemRandom;
use rotation::RotationCursor;
use rusqlite::Connection;
use search::SearchIndex;
use std::collections::HashMap;
use std::path::PathBuf;
use timeline::Timelines;

/// An account's store key, as kept in the keychain.
pub type AccountKey = Sensitive<[u8; KEY_LEN]>;

/// The encrypted store. One per database file; not shared between threads
/// (wrap it in a mutex).
pub struct Store {
    /// Held (locked) for the store's lifetime; see `open_at`.
    _lock: std::fs::File,
    conn: Connection,
    path: PathBuf,
    schema: u32,
    master: MasterKeys,
    accounts: HashMap<AccountId, AccountKeys>,
    conversation_accounts: HashMap<ConversationId, AccountId>,
    /// The search index, built at the first search after an unlock (see
    /// [`Store::search`]) and dropped when the last account locks.
    index: Option<SearchIndex>,
    /// Rows found damaged after unlock (by the index build), per account.
    damage_found: HashMap<AccountId, Vec<(&'static str, i64)>>,
    timelines: Timelines,
    rotation: RotationCursor,
    /// Each unlocked account's scopes and head as last committed.
    integrity: HashMap<AccountId, AccountIntegrity>,
    /// The counter of each account's anchor last handed out for the keychain.
    anchored: HashMap<AccountId, u64>,
    queries: Queries,
    rng: SystemRandom,
    next_conversation: i64,
    next_message: i64,
    next_alert: i64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("unlocked_accounts", &self.accounts.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
