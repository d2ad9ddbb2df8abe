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
//! keychain. Search runs on an in-memory index built when an account is
//! unlocked, so no plaintext word reaches the disk.
#![deny(missing_docs)]

mod crypto;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod integrity;
mod migrate;
mod model;
mod search;
mod timeline;

pub use crypto::{KEY_LEN, MasterKeys, random_key};
pub use error::StoreError;
pub use integrity::{Alarm, Anchor, IntegrityFindings, ScopeMismatch};
pub use migrate::SCHEMA_VERSION;
pub use model::*;
pub use strongroom_core::{AccountId, Sensitive};

use crypto::{AccountKeys, FieldRef};
use integrity::{
    ACCOUNTS, ALERTS, AccountIntegrity, BANK_LINKS, CONVERSATIONS, MESSAGES, OUTBOX, Pending,
};
use ring::rand::SystemRandom;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};
use search::SearchIndex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use timeline::Timelines;

/// An account's store key, as kept in the keychain.
pub type AccountKey = Sensitive<[u8; KEY_LEN]>;

/// What unlocking an account found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnlockReport {
    /// Messages and alerts opened and verified.
    pub opened: usize,
    /// Rows that failed their integrity check, as `(table, row)`.
    pub tampered: Vec<(&'static str, i64)>,
    /// What the check of the account's history as a whole found: rows
    /// deleted or rolled back, an older copy of the file.
    pub integrity: IntegrityFindings,
}

impl UnlockReport {
    /// True when nothing was found damaged.
    pub fn is_clean(&self) -> bool {
        self.tampered.is_empty() && self.integrity.is_clean()
    }
}

/// How far a key rotation has come.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationProgress {
    /// Rows re-sealed by this step.
    pub resealed: usize,
    /// True when every row has been visited. If `skipped` is empty the older
    /// master key versions may be retired from the keychain; otherwise they
    /// must be kept for the rows listed there.
    pub done: bool,
    /// Rows that could not be re-sealed (damaged, or of a locked account),
    /// as `(table, row)`, since the rotation started or the store opened.
    pub skipped: Vec<(&'static str, i64)>,
}

/// Where a rotation is, in memory: a cursor per sealed table and the rows
/// passed over. A reopen starts again from the first row, which retries them.
#[derive(Debug, Default)]
struct RotationCursor {
    cursor: [i64; 5],
    skipped: Vec<(&'static str, i64)>,
}

/// A table with sealed columns, for key rotation.
struct SealedTable {
    table: &'static str,
    account_column: &'static str,
    /// The column bound as the seal's context (see `FieldRef::context`).
    context_column: &'static str,
    columns: &'static [&'static str],
}

const SEALED_TABLES: &[SealedTable] = &[
    SealedTable {
        table: "accounts",
        account_column: "id",
        context_column: "0",
        columns: &["bank", "display_name"],
    },
    SealedTable {
        table: "conversations",
        account_column: "account_id",
        context_column: "0",
        columns: &["title"],
    },
    SealedTable {
        table: "messages",
        account_column: "account_id",
        context_column: "conversation_id",
        columns: &["content"],
    },
    SealedTable {
        table: "alerts",
        account_column: "account_id",
        context_column: "0",
        columns: &["details", "payload", "answer"],
    },
    SealedTable {
        table: "bank_links",
        account_column: "account_id",
        context_column: "0",
        columns: &["details"],
    },
];

/// Whether the open schema has a table (older schemas are opened by the
/// fixture tests).
fn table_in_schema(table: &str, schema: u32) -> bool {
    match table {
        "alerts" => schema >= 2,
        "bank_links" => schema >= 4,
        _ => true,
    }
}

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

/// Builds a message query; a macro so the SQL is a compile-time constant and
/// the statement cache is hit without formatting a string per call.
/// How many messages the unlock pass opens at a time.
const UNLOCK_CHUNK: i64 = 2_000;

/// The read queries, built once per open: they select every column a row's
/// MAC covers, and `mac` itself (NULL on a schema from before it).
#[derive(Debug)]
struct Queries {
    message_chunk: String,
    message_latest: String,
    message_by_id: String,
    alerts_latest: String,
    alert_by_id: String,
}

impl Queries {
    fn new(schema: u32) -> Self {
        let mac = Store::mac_column(schema);
        let messages = format!("SELECT {}, {mac} FROM messages ", MESSAGES.columns);
        let alerts = format!("SELECT {}, {mac} FROM alerts ", ALERTS.columns);
        Queries {
            message_chunk: format!(
                "{messages}WHERE account_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
            ),
            message_latest: format!(
                "{messages}WHERE conversation_id = ?1 ORDER BY sent_at DESC, id DESC LIMIT ?2"
            ),
            message_by_id: format!("{messages}WHERE id = ?1"),
            alerts_latest: format!(
                "{alerts}WHERE account_id = ?1 ORDER BY received_at DESC, id DESC LIMIT ?2"
            ),
            alert_by_id: format!("{alerts}WHERE id = ?1"),
        }
    }
}

fn account_of(row: &Row<'_>, index: usize) -> rusqlite::Result<AccountId> {
    let value: i64 = row.get(index)?;
    AccountId::from_stored(value).ok_or(rusqlite::Error::IntegralValueOutOfRange(index, value))
}

impl Store {
    /// Opens (or creates) the store at `path` and brings its schema up to date.
    /// Accounts stay locked until [`Store::unlock_account`].
    ///
    /// # Errors
    /// [`StoreError::NewerSchema`] for a file from a newer app, or
    /// [`StoreError::Database`] when SQLite cannot open the file (for example
    /// it is not a database), [`StoreError::InUse`] when another store holds
    /// it for more than a quarter of a second. The file is never wiped.
    pub fn open(path: impl AsRef<Path>, master: MasterKeys) -> Result<Self, StoreError> {
        Self::open_at(path.as_ref(), master, SCHEMA_VERSION)
    }

    fn open_at(path: &Path, master: MasterKeys, schema: u32) -> Result<Self, StoreError> {
        // One writer per file: ids are allocated in memory, so a second store
        // on the same file (a second app instance) is refused up front.
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".lock");
        let mut options = std::fs::OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let lock = options
            .open(&lock_path)
            .map_err(|e| StoreError::Io(e.to_string()))?;
        // A child this program is starting holds a copy of the lock's
        // descriptor from fork until exec closes it (files are opened
        // close-on-exec), so a store closed a moment ago can still look
        // locked: only a lock held past a short wait is another instance.
        let patience = std::time::Instant::now() + std::time::Duration::from_millis(250);
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < patience => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(std::fs::TryLockError::WouldBlock) => return Err(StoreError::InUse),
                Err(std::fs::TryLockError::Error(e)) => return Err(StoreError::Io(e.to_string())),
            }
        }
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn)?;
        migrate::migrate(&mut conn, schema)?;
        let mut store = Store {
            _lock: lock,
            conn,
            path: path.to_path_buf(),
            schema,
            master,
            accounts: HashMap::new(),
            conversation_accounts: HashMap::new(),
            index: None,
            timelines: Timelines::default(),
            rotation: RotationCursor::default(),
            integrity: HashMap::new(),
            anchored: HashMap::new(),
            queries: Queries::new(schema),
            rng: SystemRandom::new(),
            next_conversation: 0,
            next_message: 0,
            next_alert: 0,
        };
        if schema >= 3 {
            store.check_master_keys()?;
        }
        store.next_conversation = store.next_id("conversations")?;
        store.next_message = store.next_id("messages")?;
        if schema >= 2 {
            store.next_alert = store.next_id("alerts")?;
        }
        Ok(store)
    }

    /// Compares every master key version held with the check value the
    /// database recorded for it, and records the values of new versions.
    fn check_master_keys(&self) -> Result<(), StoreError> {
        for version in self.master.versions() {
            let Some(check) = self.master.check_value(version) else {
                continue;
            };
            let stored: Option<Vec<u8>> = self
                .conn
                .query_row(
                    "SELECT check_value FROM master_keys WHERE version = ?1",
                    [version],
                    |r| r.get(0),
                )
                .optional()?;
            match stored {
                Some(stored) if stored != check => return Err(StoreError::WrongMasterKey(version)),
                Some(_) => {}
                None => {
                    self.conn.execute(
                        "INSERT INTO master_keys (version, check_value) VALUES (?1, ?2)",
                        params![version, check],
                    )?;
                }
            }
        }
        Ok(())
    }

    /// The first unused id of an AUTOINCREMENT table. Ids are chosen before
    /// the row is written because the sealed fields are bound to them; they
    /// are never reused, so no old ciphertext can ever fit a new row.
    fn next_id(&self, table: &str) -> Result<i64, StoreError> {
        let seq: Option<i64> = self
            .conn
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = ?1",
                [table],
                |r| r.get(0),
            )
            .optional()?;
        let max: Option<i64> =
            self.conn
                .query_row(&format!("SELECT MAX(id) FROM {table}"), [], |r| r.get(0))?;
        Ok(seq.unwrap_or(0).max(max.unwrap_or(0)) + 1)
    }

    /// Moves everything in the WAL into the database file and truncates
    /// the WAL (for backups and tests).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The master key versions this store holds, current last.
    pub fn master_keys(&self) -> &MasterKeys {
        &self.master
    }

    fn keys(&self, account: AccountId) -> Result<&AccountKeys, StoreError> {
        self.accounts
            .get(&account)
            .ok_or(StoreError::AccountLocked(account))
    }

    fn seal(
        &self,
        account: AccountId,
        table: &'static str,
        column: &'static str,
        row: i64,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let field = FieldRef {
            table,
            column,
            account,
            row,
            context: 0,
        };
        self.keys(account)?
            .seal(&self.rng, self.master.current_version(), field, plaintext)
    }

    fn open_field(
        &self,
        account: AccountId,
        table: &'static str,
        column: &'static str,
        row: i64,
        version: u32,
        sealed: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let field = FieldRef {
            table,
            column,
            account,
            row,
            context: 0,
        };
        self.keys(account)?.open(version, field, sealed)
    }

    fn open_text(
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

    // ---- accounts -------------------------------------------------------

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

    /// Loads an account's store key, opens (and so verifies) every message
    /// and alert of the account, and keeps the newest of each conversation
    /// in memory. The search index is not built here (see [`Store::search`])
    /// unless it already exists, in which case the account joins it.
    ///
    /// # Errors
    /// [`StoreError::UnknownAccount`], [`StoreError::WrongAccountKey`] (the
    /// key is not this account's), or [`StoreError::Tampered`] if the account
    /// row itself is damaged. Damaged messages and alerts do not fail the
    /// unlock: they are listed in the report.
    pub fn unlock_account(
        &mut self,
        id: AccountId,
        key: &AccountKey,
    ) -> Result<UnlockReport, StoreError> {
        self.unlock_account_anchored(id, key, None)
    }

    /// [`Store::unlock_account`], also checking the account's history
    /// against the anchor kept outside the file (see [`Store::anchors_due`]):
    /// a file put back to an older copy is reported as
    /// [`Alarm::RolledBack`]. Rows deleted or rolled back one by one, and
    /// rows whose MAC fails, are reported with or without an anchor.
    ///
    /// # Errors
    /// As [`Store::unlock_account`]. Damage is reported, never an error.
    pub fn unlock_account_anchored(
        &mut self,
        id: AccountId,
        key: &AccountKey,
        anchor: Option<&Anchor>,
    ) -> Result<UnlockReport, StoreError> {
        let check: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT key_check FROM accounts WHERE id = ?1",
                [id.get()],
                |r| r.get(0),
            )
            .optional()?;
        let check = check.ok_or(StoreError::UnknownAccount(id))?;
        let keys = AccountKeys::derive(&self.master, key)?;
        if keys.lookup_hash("key-check", &id.get().to_be_bytes()) != check {
            return Err(StoreError::WrongAccountKey(id));
        }
        self.accounts.insert(id, keys);
        let mut report = UnlockReport::default();
        // First the history as a whole (and, for a store from before row
        // MACs, protecting it), then every row on its own below.
        if let Err(err) = self.check_integrity(id, anchor, &mut report) {
            self.accounts.remove(&id);
            return Err(err);
        }
        let whole_rows = std::mem::take(&mut report.tampered);
        // The key is proven right by the key check; a damaged account row
        // (its name or bank) is reported, and the history stays readable.
        match self.account(id) {
            Ok(_) => {}
            Err(err) if err.is_row_failure() => report.tampered.push(("accounts", id.get())),
            Err(err) => {
                self.accounts.remove(&id);
                return Err(err);
            }
        }
        if let Some(index) = &mut self.index {
            index.remove_account(id);
        }
        self.timelines.remove_account(id);
        let conversations: Vec<i64> = self
            .conn
            .prepare("SELECT id FROM conversations WHERE account_id = ?1")?
            .query_map([id.get()], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for conversation in conversations {
            self.conversation_accounts
                .insert(ConversationId(conversation), id);
            self.timelines.start(ConversationId(conversation), id);
        }
        // One pass opens every message: for the search index, and to keep the
        // newest of each conversation in its in-memory window. In chunks, so
        // that at most one chunk of opened messages is held at a time: a
        // large history must not leave a large freed heap behind.
        let mut after = i64::MIN;
        loop {
            let chunk = self.open_message_chunk(id, after)?;
            let Some(&(last, _, _)) = chunk.last() else {
                break;
            };
            after = last;
            self.index_message_chunk(id, chunk, &mut report)?;
        }
        if self.schema >= 2 {
            let page = self.alerts(id, usize::MAX)?;
            for alert in page.items {
                if let Some(index) = &mut self.index {
                    index_alert(index, &alert);
                }
                report.opened += 1;
            }
            report.tampered.extend(page.tampered);
        }
        if let Some(index) = &mut self.index {
            index.shrink();
        }
        for bad in whole_rows {
            if !report.tampered.contains(&bad) {
                report.tampered.push(bad);
            }
        }
        Ok(report)
    }

    /// Opens up to [`UNLOCK_CHUNK`] of an account's messages after row `after`.
    #[allow(clippy::type_complexity)]
    fn open_message_chunk(
        &self,
        account: AccountId,
        after: i64,
    ) -> Result<Vec<(i64, ConversationId, Result<Message, StoreError>)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&self.queries.message_chunk)?;
        let mut rows = stmt.query(params![account.get(), after, UNLOCK_CHUNK])?;
        let mut opened = Vec::with_capacity(UNLOCK_CHUNK as usize);
        while let Some(row) = rows.next()? {
            let message_id: i64 = row.get(0)?;
            let conversation = ConversationId(row.get(2)?);
            opened.push((message_id, conversation, self.message_from_row(row)));
        }
        Ok(opened)
    }

    /// Keeps the newest opened messages in their windows (and indexes them
    /// if the index is built); damaged rows go to the report.
    #[allow(clippy::type_complexity)]
    fn index_message_chunk(
        &mut self,
        id: AccountId,
        opened: Vec<(i64, ConversationId, Result<Message, StoreError>)>,
        report: &mut UnlockReport,
    ) -> Result<(), StoreError> {
        for (row, conversation, result) in opened {
            match result {
                Ok(message) => {
                    if let Some(index) = &mut self.index {
                        index.add(
                            SearchHit::Message(message.id),
                            id,
                            message.sent_at,
                            &message.body,
                        );
                    }
                    self.timelines.add(message);
                    report.opened += 1;
                }
                Err(err) if err.is_row_failure() => {
                    report.tampered.push(("messages", row));
                    self.timelines.damaged(conversation);
                }
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }

    /// Forgets an account's key from memory (the account stays linked).
    pub fn lock_account(&mut self, id: AccountId) {
        self.accounts.remove(&id);
        self.integrity.remove(&id);
        self.anchored.remove(&id);
        self.timelines.remove_account(id);
        self.forget_in_index(id);
    }

    /// Drops an account from the search index, and the index itself once no
    /// account is unlocked: no word of a locked history stays in memory.
    fn forget_in_index(&mut self, id: AccountId) {
        if self.accounts.is_empty() {
            self.index = None;
        } else if let Some(index) = &mut self.index {
            index.remove_account(id);
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
        self.forget_in_index(id);
        Ok(())
    }

    // ---- conversations --------------------------------------------------

    /// Opens a conversation with the bank of an account.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`] or [`StoreError::Database`].
    pub fn add_conversation(
        &mut self,
        account: AccountId,
        title: &str,
        created_at: Millis,
    ) -> Result<ConversationId, StoreError> {
        let id = self.next_conversation;
        let title = self.seal(account, "conversations", "title", id, title.as_bytes())?;
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO conversations (id, account_id, title, created_at, key_version) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id,
                account.get(),
                title,
                created_at,
                self.master.current_version()
            ],
        )?;
        let mut pending = Pending::default();
        self.track_row(&tx, &mut pending, &CONVERSATIONS, id, None)?;
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        self.next_conversation += 1;
        self.conversation_accounts
            .insert(ConversationId(id), account);
        self.timelines.start(ConversationId(id), account);
        Ok(ConversationId(id))
    }

    /// The conversations of an account, oldest first.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`] or [`StoreError::Database`].
    pub fn conversations(&self, account: AccountId) -> Result<Page<Conversation>, StoreError> {
        self.keys(account)?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {}, {} FROM conversations WHERE account_id = ?1 ORDER BY created_at, id",
            CONVERSATIONS.columns,
            Self::mac_column(self.schema)
        ))?;
        let mut rows = stmt.query([account.get()])?;
        let mut page = Page::default();
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let (title, created_at, version): (Vec<u8>, i64, u32) =
                (row.get(2)?, row.get(3)?, row.get(4)?);
            let result = self
                .verify_row_mac(account, &CONVERSATIONS, row, 0, id)
                .and_then(|()| {
                    self.open_text(account, "conversations", "title", id, version, &title)
                })
                .map(|title| Conversation {
                    id: ConversationId(id),
                    account,
                    title,
                    created_at,
                });
            page.push(result, "conversations", id)?;
        }
        Ok(page)
    }

    fn conversation_account(&mut self, id: ConversationId) -> Result<AccountId, StoreError> {
        if let Some(account) = self.conversation_accounts.get(&id) {
            return Ok(*account);
        }
        let account = self
            .conn
            .query_row(
                "SELECT account_id FROM conversations WHERE id = ?1",
                [id.0],
                |r| account_of(r, 0),
            )
            .optional()?
            .ok_or(StoreError::NotFound {
                table: "conversations",
                row: id.0,
            })?;
        self.conversation_accounts.insert(id, account);
        Ok(account)
    }

    // ---- messages -------------------------------------------------------

    /// Stores messages in one transaction. A message whose idempotency key or
    /// bank id is already stored is not stored again: it comes back as
    /// [`Inserted::Duplicate`] with the stored id.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`], [`StoreError::NotFound`] for an unknown
    /// conversation, or [`StoreError::Database`]; on error nothing of the
    /// batch is stored.
    pub fn insert_messages(
        &mut self,
        messages: &[NewMessage],
    ) -> Result<Vec<Inserted<MessageId>>, StoreError> {
        self.write_messages(messages, false)
    }

    /// Stores a message the customer wrote and queues it in the outbox, in
    /// one transaction. Sending the same idempotency key twice stores it once.
    ///
    /// # Errors
    /// As [`Store::insert_messages`].
    pub fn queue_outgoing(
        &mut self,
        conversation: ConversationId,
        author: &str,
        body: &str,
        client_id: &str,
        now: Millis,
    ) -> Result<Inserted<MessageId>, StoreError> {
        let message = NewMessage {
            conversation,
            direction: Direction::Outgoing,
            author: author.to_owned(),
            body: body.to_owned(),
            sent_at: now,
            received_at: None,
            delivery: Delivery::Queued,
            client_id: Some(client_id.to_owned()),
            bank_message_id: None,
        };
        let mut inserted = self.write_messages(std::slice::from_ref(&message), true)?;
        inserted.pop().ok_or(StoreError::NotFound {
            table: "messages",
            row: 0,
        })
    }

    fn write_messages(
        &mut self,
        messages: &[NewMessage],
        to_outbox: bool,
    ) -> Result<Vec<Inserted<MessageId>>, StoreError> {
        let mut accounts = Vec::with_capacity(messages.len());
        for m in messages {
            accounts.push(self.conversation_account(m.conversation)?);
        }
        let version = self.master.current_version();
        let mut next = self.next_message;
        let mut results = Vec::with_capacity(messages.len());
        let mut to_index = Vec::new();
        let mut pending = Pending::default();
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO messages (id, account_id, conversation_id, content, \
                 sent_at, received_at, delivery, client_id_hash, bank_id_hash, key_version) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT(client_id_hash) DO NOTHING ON CONFLICT(bank_id_hash) DO NOTHING",
            )?;
            for (m, &account) in messages.iter().zip(&accounts) {
                let keys = self.keys(account)?;
                let client_hash = m
                    .client_id
                    .as_ref()
                    .map(|c| keys.lookup_hash("client-id", c.as_bytes()));
                let bank_hash = m
                    .bank_message_id
                    .as_ref()
                    .map(|b| keys.lookup_hash("bank-message-id", b.as_bytes()));
                let id = next;
                let field = FieldRef {
                    table: "messages",
                    column: "content",
                    account,
                    row: id,
                    context: m.conversation.0,
                };
                let author = display_author(&m.author);
                let plain = Sensitive::new(encode_content(m.direction, author, &m.body));
                let content = keys.seal(&self.rng, version, field, plain.expose())?;
                let changed = insert.execute(params![
                    id,
                    account.get(),
                    m.conversation.0,
                    content,
                    m.sent_at,
                    m.received_at,
                    m.delivery.to_sql(),
                    client_hash,
                    bank_hash,
                    version
                ])?;
                if changed == 1 {
                    next += 1;
                    self.track_row(&tx, &mut pending, &MESSAGES, id, None)?;
                    if to_outbox {
                        tx.execute(
                            "INSERT INTO outbox (message_id, account_id, client_id, attempts, \
                             next_attempt_at, created_at) VALUES (?1, ?2, ?3, 0, ?4, ?4)",
                            params![id, account.get(), m.client_id, m.sent_at],
                        )?;
                        self.track_row(&tx, &mut pending, &OUTBOX, id, None)?;
                    }
                    to_index.push(Message {
                        id: MessageId(id),
                        account,
                        conversation: m.conversation,
                        direction: m.direction,
                        author: author.to_owned(),
                        body: m.body.clone(),
                        sent_at: m.sent_at,
                        received_at: m.received_at,
                        delivery: m.delivery,
                    });
                    results.push(Inserted::New(MessageId(id)));
                } else {
                    let existing: i64 = tx.query_row(
                        "SELECT id FROM messages WHERE client_id_hash = ?1 OR bank_id_hash = ?2",
                        params![client_hash, bank_hash],
                        |r| r.get(0),
                    )?;
                    results.push(Inserted::Duplicate(MessageId(existing)));
                }
            }
        }
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        self.next_message = next;
        for message in to_index {
            if let Some(index) = &mut self.index {
                index.add(
                    SearchHit::Message(message.id),
                    message.account,
                    message.sent_at,
                    &message.body,
                );
            }
            self.timelines.add(message);
        }
        Ok(results)
    }

    /// The latest `limit` messages of a conversation, newest first.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`] or [`StoreError::Database`]. Tampered
    /// rows are listed in the page, not returned as an error.
    pub fn latest_messages(
        &self,
        conversation: ConversationId,
        limit: usize,
    ) -> Result<Page<Message>, StoreError> {
        if let Some(items) = self.timelines.latest(conversation, limit) {
            return Ok(Page {
                items,
                tampered: Vec::new(),
            });
        }
        self.latest_messages_from_file(conversation, limit)
    }

    /// [`Store::latest_messages`] read from the file, bypassing the in-memory
    /// window: every message opened and checked on the spot.
    ///
    /// # Errors
    /// As [`Store::latest_messages`].
    pub fn latest_messages_from_file(
        &self,
        conversation: ConversationId,
        limit: usize,
    ) -> Result<Page<Message>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&self.queries.message_latest)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = stmt.query(params![conversation.0, limit])?;
        let mut page = Page::default();
        while let Some(row) = rows.next()? {
            let result = self.message_from_row(row);
            page.push(result, "messages", row.get(0)?)?;
        }
        Ok(page)
    }

    /// One message.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::AccountLocked`],
    /// [`StoreError::Tampered`] or [`StoreError::Database`].
    pub fn message(&self, id: MessageId) -> Result<Message, StoreError> {
        let mut stmt = self.conn.prepare_cached(&self.queries.message_by_id)?;
        let mut rows = stmt.query([id.0])?;
        match rows.next()? {
            Some(row) => self.message_from_row(row),
            None => Err(StoreError::NotFound {
                table: "messages",
                row: id.0,
            }),
        }
    }

    fn message_from_row(&self, row: &Row<'_>) -> Result<Message, StoreError> {
        let id: i64 = row.get(0)?;
        let account = account_of(row, 1)?;
        let version: u32 = row.get(7)?;
        let conversation: i64 = row.get(2)?;
        self.verify_row_mac(account, &MESSAGES, row, 0, id)?;
        let content = self.open_content(
            account,
            id,
            conversation,
            version,
            blob(row, 3, "messages", id)?,
        )?;
        Ok(Message {
            id: MessageId(id),
            account,
            conversation: ConversationId(row.get(2)?),
            direction: content.direction,
            author: content.author,
            body: content.body,
            sent_at: row.get(4)?,
            received_at: row.get(5)?,
            delivery: Delivery::from_sql(row.get(6)?, id)?,
        })
    }

    fn open_content(
        &self,
        account: AccountId,
        id: i64,
        conversation: i64,
        version: u32,
        sealed: &[u8],
    ) -> Result<Content, StoreError> {
        let field = FieldRef {
            table: "messages",
            column: "content",
            account,
            row: id,
            context: conversation,
        };
        let plain = self.keys(account)?.open(version, field, sealed)?;
        decode_content(plain).ok_or(StoreError::Tampered {
            table: "messages",
            row: id,
        })
    }

    /// Updates a message's delivery state.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] or [`StoreError::Database`].
    pub fn set_delivery(&mut self, id: MessageId, delivery: Delivery) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let before = self.require_genuine(&tx, &MESSAGES, id.0)?;
        let conversation: i64 = tx
            .query_row(
                "UPDATE messages SET delivery = ?1 WHERE id = ?2 RETURNING conversation_id",
                params![delivery.to_sql(), id.0],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::NotFound {
                table: "messages",
                row: id.0,
            })?;
        let mut pending = Pending::default();
        self.track_row(&tx, &mut pending, &MESSAGES, id.0, before.as_ref())?;
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        self.timelines
            .set_delivery(ConversationId(conversation), id, delivery);
        Ok(())
    }

    // ---- outbox ---------------------------------------------------------

    /// Messages of an account waiting for the bank's acknowledgement, oldest
    /// first. Nothing leaves the outbox except through
    /// [`Store::acknowledge_outgoing`].
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`], [`StoreError::Tampered`] or
    /// [`StoreError::Database`].
    pub fn outbox(&self, account: AccountId) -> Result<Page<OutboxItem>, StoreError> {
        let keys = self.keys(account)?;
        let mac = if self.integrity_on() { "o.mac" } else { "NULL" };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT o.message_id, o.account_id, o.client_id, o.attempts, o.next_attempt_at, \
             o.created_at, {mac}, m.client_id_hash \
             FROM outbox o LEFT JOIN messages m ON m.id = o.message_id \
             WHERE o.account_id = ?1 ORDER BY o.created_at, o.message_id"
        ))?;
        let mut rows = stmt.query([account.get()])?;
        let mut read = Vec::new();
        while let Some(r) = rows.next()? {
            let message: i64 = r.get(0)?;
            // The outbox row's own MAC: its attempts and next try are acted on.
            let genuine = self.verify_row_mac(account, &OUTBOX, r, 0, message);
            read.push((
                message,
                r.get::<_, String>(2)?,
                r.get::<_, u32>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Option<Vec<u8>>>(7)?,
                genuine,
            ));
        }
        drop(rows);
        let mut page = Page::default();
        for (message, client_id, attempts, next_attempt_at, client_hash, genuine) in read {
            // The outbox row's clear columns are checked against the sealed
            // message: it must be this account's, under this idempotency key.
            let result = genuine
                .and_then(|()| self.message(MessageId(message)))
                .and_then(|m| {
                    let genuine = m.account == account
                        && client_hash.as_deref()
                            == Some(
                                keys.lookup_hash("client-id", client_id.as_bytes())
                                    .as_slice(),
                            );
                    if genuine {
                        Ok(OutboxItem {
                            message: m,
                            client_id,
                            attempts,
                            next_attempt_at,
                        })
                    } else {
                        Err(StoreError::Tampered {
                            table: "outbox",
                            row: message,
                        })
                    }
                });
            let table = if matches!(
                result,
                Err(StoreError::Tampered {
                    table: "outbox",
                    ..
                })
            ) {
                "outbox"
            } else {
                "messages"
            };
            page.push(result, table, message)?;
        }
        Ok(page)
    }

    /// Records a failed send attempt and when to try again.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] or [`StoreError::Database`].
    pub fn record_attempt(
        &mut self,
        id: MessageId,
        next_attempt_at: Millis,
    ) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let before = self.require_genuine(&tx, &OUTBOX, id.0)?;
        let changed = tx.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?1 WHERE message_id = ?2",
            params![next_attempt_at, id.0],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound {
                table: "outbox",
                row: id.0,
            });
        }
        let mut pending = Pending::default();
        self.track_row(&tx, &mut pending, &OUTBOX, id.0, before.as_ref())?;
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        Ok(())
    }

    /// The bank acknowledged a message: mark it sent, remember the bank's id
    /// for deduplication, and take it out of the outbox, in one transaction.
    /// Acknowledging twice is harmless.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`], [`StoreError::NotFound`] for an unknown
    /// idempotency key, or [`StoreError::Database`].
    pub fn acknowledge_outgoing(
        &mut self,
        account: AccountId,
        client_id: &str,
        bank_message_id: &str,
    ) -> Result<MessageId, StoreError> {
        let keys = self.keys(account)?;
        let client_hash = keys.lookup_hash("client-id", client_id.as_bytes());
        let bank_hash = keys.lookup_hash("bank-message-id", bank_message_id.as_bytes());
        let tx = self.conn.unchecked_transaction()?;
        let mut pending = Pending::default();
        let (id, conversation): (i64, i64) = tx
            .query_row(
                "SELECT id, conversation_id FROM messages \
                 WHERE client_id_hash = ?1 AND account_id = ?2",
                params![client_hash, account.get()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or(StoreError::NotFound {
                table: "outbox",
                row: 0,
            })?;
        // The bank may have echoed the message on the stream before this
        // acknowledgement, without our idempotency key: that echo was stored
        // as a message of its own. The queued row is the one to keep.
        let echo: Option<(i64, i64)> = tx
            .query_row(
                "SELECT id, conversation_id FROM messages WHERE bank_id_hash = ?1 AND id != ?2",
                params![bank_hash, id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((echo_id, _)) = echo {
            let echo_row = self.row_before_delete(&tx, &MESSAGES, echo_id)?;
            // An echo never has an outbox row; if one were there, the
            // cascade below would take it, and its term must go too.
            let echo_outbox = self.row_before_delete(&tx, &OUTBOX, echo_id)?;
            tx.execute("DELETE FROM messages WHERE id = ?1", [echo_id])?;
            if let Some(row) = &echo_row {
                self.untrack_row(&mut pending, &MESSAGES, echo_id, row)?;
            }
            if let Some(row) = &echo_outbox {
                self.untrack_row(&mut pending, &OUTBOX, echo_id, row)?;
            }
        }
        let before = self.require_genuine(&tx, &MESSAGES, id)?;
        // Record the bank's id whatever the delivery state, and move a queued
        // message to sent (a later state, delivered or read, is kept).
        tx.execute(
            "UPDATE messages SET bank_id_hash = ?1, \
             delivery = CASE WHEN delivery = ?2 THEN ?3 ELSE delivery END WHERE id = ?4",
            params![
                bank_hash,
                Delivery::Queued.to_sql(),
                Delivery::Sent.to_sql(),
                id
            ],
        )?;
        self.track_row(&tx, &mut pending, &MESSAGES, id, before.as_ref())?;
        let outbox_row = self.row_before_delete(&tx, &OUTBOX, id)?;
        tx.execute("DELETE FROM outbox WHERE message_id = ?1", [id])?;
        if let Some(row) = &outbox_row {
            self.untrack_row(&mut pending, &OUTBOX, id, row)?;
        }
        let delivery: i64 =
            tx.query_row("SELECT delivery FROM messages WHERE id = ?1", [id], |r| {
                r.get(0)
            })?;
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        if let Some((echo_id, echo_conversation)) = echo {
            if let Some(index) = &mut self.index {
                index.remove(SearchHit::Message(MessageId(echo_id)));
            }
            self.timelines
                .remove(ConversationId(echo_conversation), MessageId(echo_id));
        }
        self.timelines.set_delivery(
            ConversationId(conversation),
            MessageId(id),
            Delivery::from_sql(delivery, id)?,
        );
        Ok(MessageId(id))
    }

    // ---- alerts ---------------------------------------------------------

    /// Stores an alert. The same bank alert id is stored once.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`] or [`StoreError::Database`].
    pub fn insert_alert(&mut self, alert: &NewAlert) -> Result<Inserted<AlertId>, StoreError> {
        let account = alert.account;
        let keys = self.keys(account)?;
        let hash = keys.lookup_hash("bank-alert-id", alert.bank_alert_id.as_bytes());
        let id = self.next_alert;
        let details = serde_json::to_vec(&alert.details).map_err(|_| StoreError::Random)?;
        let details = self.seal(account, "alerts", "details", id, &details)?;
        let payload = self.seal(account, "alerts", "payload", id, alert.raw_jws.as_bytes())?;
        let tx = self.conn.unchecked_transaction()?;
        let changed = tx.execute(
            "INSERT INTO alerts (id, account_id, details, payload, answer, issued_at, \
             received_at, alert_id_hash, key_version) VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7, ?8) \
             ON CONFLICT(alert_id_hash) DO NOTHING",
            params![
                id,
                account.get(),
                details,
                payload,
                alert.issued_at,
                alert.received_at,
                hash,
                self.master.current_version()
            ],
        )?;
        if changed == 0 {
            let existing: i64 = tx.query_row(
                "SELECT id FROM alerts WHERE alert_id_hash = ?1",
                [hash],
                |r| r.get(0),
            )?;
            return Ok(Inserted::Duplicate(AlertId(existing)));
        }
        let mut pending = Pending::default();
        self.track_row(&tx, &mut pending, &ALERTS, id, None)?;
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        self.next_alert += 1;
        if let Some(index) = &mut self.index {
            index.add(
                SearchHit::Alert(AlertId(id)),
                account,
                alert.received_at,
                &alert_search_text(&alert.details),
            );
        }
        Ok(Inserted::New(AlertId(id)))
    }

    /// Finds a stored alert by the bank's id for it (its `jti`).
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`] or [`StoreError::Database`].
    pub fn find_alert(
        &self,
        account: AccountId,
        bank_alert_id: &str,
    ) -> Result<Option<AlertId>, StoreError> {
        let hash = self
            .keys(account)?
            .lookup_hash("bank-alert-id", bank_alert_id.as_bytes());
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM alerts WHERE alert_id_hash = ?1 AND account_id = ?2",
                params![hash, account.get()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(id.map(AlertId))
    }

    /// The latest `limit` alerts of an account, newest first.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`] or [`StoreError::Database`]. Tampered
    /// rows are listed in the page.
    pub fn alerts(&self, account: AccountId, limit: usize) -> Result<Page<Alert>, StoreError> {
        self.keys(account)?;
        let mut stmt = self.conn.prepare_cached(&self.queries.alerts_latest)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = stmt.query(params![account.get(), limit])?;
        let mut page = Page::default();
        while let Some(row) = rows.next()? {
            let result = self.alert_from_row(row);
            page.push(result, "alerts", row.get(0)?)?;
        }
        Ok(page)
    }

    /// One alert.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::AccountLocked`],
    /// [`StoreError::Tampered`] or [`StoreError::Database`].
    pub fn alert(&self, id: AlertId) -> Result<Alert, StoreError> {
        let mut stmt = self.conn.prepare_cached(&self.queries.alert_by_id)?;
        let mut rows = stmt.query([id.0])?;
        match rows.next()? {
            Some(row) => self.alert_from_row(row),
            None => Err(StoreError::NotFound {
                table: "alerts",
                row: id.0,
            }),
        }
    }

    fn alert_from_row(&self, row: &Row<'_>) -> Result<Alert, StoreError> {
        let id: i64 = row.get(0)?;
        let account = account_of(row, 1)?;
        let version: u32 = row.get(7)?;
        let tampered = || StoreError::Tampered {
            table: "alerts",
            row: id,
        };
        // The row MAC covers the clear times and whether there is an answer.
        self.verify_row_mac(account, &ALERTS, row, 0, id)?;
        let details = self.open_field(
            account,
            "alerts",
            "details",
            id,
            version,
            blob(row, 2, "alerts", id)?,
        )?;
        let details: AlertDetails = serde_json::from_slice(&details).map_err(|_| tampered())?;
        let raw_jws = self.open_text(
            account,
            "alerts",
            "payload",
            id,
            version,
            blob(row, 3, "alerts", id)?,
        )?;
        let answer = match blob_or_null(row, 4, "alerts", id)? {
            None => None,
            Some(sealed) => {
                let plain = self.open_field(account, "alerts", "answer", id, version, sealed)?;
                Some(serde_json::from_slice(&plain).map_err(|_| tampered())?)
            }
        };
        Ok(Alert {
            id: AlertId(id),
            account,
            details,
            raw_jws,
            issued_at: row.get(5)?,
            received_at: row.get(6)?,
            answer,
        })
    }

    /// Records the customer's answer to a fraud check (sealed, so a tampered
    /// file cannot turn "not me" into "this was me").
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::AccountLocked`],
    /// [`StoreError::Tampered`] or [`StoreError::Database`].
    pub fn answer_fraud_check(
        &mut self,
        id: AlertId,
        answer: FraudAnswer,
        at: Millis,
    ) -> Result<(), StoreError> {
        let alert = self.alert(id)?;
        let plain = serde_json::to_vec(&(answer, at)).map_err(|_| StoreError::Random)?;
        // The other sealed fields of the row must share its key version, so
        // re-seal them too when the row predates a rotation.
        let version = self.master.current_version();
        let details = serde_json::to_vec(&alert.details).map_err(|_| StoreError::Random)?;
        let details = self.seal(alert.account, "alerts", "details", id.0, &details)?;
        let payload = self.seal(
            alert.account,
            "alerts",
            "payload",
            id.0,
            alert.raw_jws.as_bytes(),
        )?;
        let sealed = self.seal(alert.account, "alerts", "answer", id.0, &plain)?;
        let tx = self.conn.unchecked_transaction()?;
        let before = self.require_genuine(&tx, &ALERTS, id.0)?;
        tx.execute(
            "UPDATE alerts SET details = ?1, payload = ?2, answer = ?3, key_version = ?4 WHERE id = ?5",
            params![details, payload, sealed, version, id.0],
        )?;
        let mut pending = Pending::default();
        self.track_row(&tx, &mut pending, &ALERTS, id.0, before.as_ref())?;
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        Ok(())
    }

    // ---- bank links -----------------------------------------------------

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
        let mut pending = Pending::default();
        self.track_row(
            &tx,
            &mut pending,
            &BANK_LINKS,
            account.get(),
            before.as_ref(),
        )?;
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
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
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        let tx = self.conn.unchecked_transaction()?;
        let before = self.require_genuine(&tx, &BANK_LINKS, account.get())?;
        let changed = tx.execute(
            "UPDATE bank_links SET acked_seq = MAX(acked_seq, ?1) WHERE id = ?2 AND acked_seq < ?1",
            params![seq, account.get()],
        )?;
        if changed == 0 {
            // Nothing moved: no new MAC, no new head.
            return Ok(());
        }
        let mut pending = Pending::default();
        self.track_row(
            &tx,
            &mut pending,
            &BANK_LINKS,
            account.get(),
            before.as_ref(),
        )?;
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        Ok(())
    }

    // ---- search ---------------------------------------------------------

    /// Messages and alerts of unlocked accounts whose text contains every
    /// query word as a word prefix (case- and accent-insensitive), newest first.
    ///
    /// The first search after an unlock builds the index: it opens every
    /// message and alert of the unlocked accounts again (about 0.6 s per
    /// 100,000 messages; the store benchmark's `unlock_index_build_ms`).
    /// Until then nothing derived from the history's words is in memory,
    /// and an app that is only opened to read an alert never pays for it.
    /// Damaged rows, reported at unlock, are left out.
    ///
    /// # Errors
    /// [`StoreError::Database`] if building the index cannot read the file.
    pub fn search(&mut self, query: &str, limit: usize) -> Result<Vec<SearchHit>, StoreError> {
        if self.accounts.is_empty() {
            // Nothing unlocked, nothing to find (and no index to build).
            return Ok(Vec::new());
        }
        let index = match &mut self.index {
            Some(index) => index,
            None => self.index.insert(self.build_index()?),
        };
        Ok(index.search(query, limit))
    }

    /// Opens every message and alert of the unlocked accounts into a new
    /// index, one chunk at a time.
    fn build_index(&self) -> Result<SearchIndex, StoreError> {
        let mut index = SearchIndex::default();
        for &id in self.accounts.keys() {
            let mut after = i64::MIN;
            loop {
                let chunk = self.open_message_chunk(id, after)?;
                let Some(&(last, _, _)) = chunk.last() else {
                    break;
                };
                after = last;
                for (_, _, opened) in chunk {
                    match opened {
                        Ok(message) => index.add(
                            SearchHit::Message(message.id),
                            id,
                            message.sent_at,
                            &message.body,
                        ),
                        Err(err) if err.is_row_failure() => {}
                        Err(other) => return Err(other),
                    }
                }
            }
            if self.schema >= 2 {
                for alert in self.alerts(id, usize::MAX)?.items {
                    index_alert(&mut index, &alert);
                }
            }
        }
        index.shrink();
        Ok(index)
    }

    // ---- key rotation ---------------------------------------------------

    /// Switches to new master keys: new data is sealed under their current
    /// version from now on. Call [`Store::rotation_step`] until it reports
    /// `done`, then retire the old versions from the keychain.
    ///
    /// The new keys must be in the keychain before this is called: after a
    /// crash, opening the store with them resumes the rotation where it
    /// stopped, because every row records its own key version.
    ///
    /// # Errors
    /// [`StoreError::RotationNotForward`] if the new current version is not
    /// newer, or [`StoreError::MissingKeyVersion`] if a version in use is
    /// missing from the new keys.
    pub fn start_rotation(&mut self, new_keys: MasterKeys) -> Result<(), StoreError> {
        if new_keys.current_version() <= self.master.current_version() {
            return Err(StoreError::RotationNotForward(
                self.master.current_version(),
            ));
        }
        if let Some(missing) = self.master.versions().find(|v| new_keys.key(*v).is_none()) {
            return Err(StoreError::MissingKeyVersion(missing));
        }
        self.rotation = RotationCursor::default();
        let previous = std::mem::replace(&mut self.master, new_keys.clone());
        if self.schema >= 3
            && let Err(err) = self.check_master_keys()
        {
            self.master = previous;
            return Err(err);
        }
        self.rekey(new_keys)
    }

    /// Replaces the master keys and re-derives every unlocked account's keys.
    fn rekey(&mut self, new_keys: MasterKeys) -> Result<(), StoreError> {
        let mut rederived = HashMap::new();
        for (id, keys) in &self.accounts {
            rederived.insert(*id, keys.extend(&new_keys)?);
        }
        self.accounts = rederived;
        self.master = new_keys;
        Ok(())
    }

    /// Re-seals up to `batch` rows still under an older key version, in one
    /// transaction. Safe to interrupt at any point.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`] if a row belongs to a locked account,
    /// [`StoreError::Tampered`] if a row fails to open (it keeps its old
    /// version; the older key must then be kept), or [`StoreError::Database`].
    pub fn rotation_step(&mut self, batch: usize) -> Result<RotationProgress, StoreError> {
        let target = self.master.current_version();
        let batch = i64::try_from(batch).unwrap_or(i64::MAX);
        let mut resealed = 0usize;
        let mut more = false;
        let mut pending = Pending::default();
        let tx = self.conn.unchecked_transaction()?;
        for (t, spec) in SEALED_TABLES.iter().enumerate() {
            if !table_in_schema(spec.table, self.schema) {
                continue;
            }
            let left = batch - i64::try_from(resealed).unwrap_or(i64::MAX);
            if left <= 0 {
                more = true;
                break;
            }
            // Rows are visited in id order from a cursor, so a row that cannot
            // be re-sealed is passed over (and reported) instead of being
            // selected again forever.
            let columns = spec.columns.join(", ");
            let sql = format!(
                "SELECT id, {}, {}, key_version, {columns} FROM {} \
                 WHERE key_version != ?1 AND id > ?2 ORDER BY id LIMIT ?3",
                spec.account_column, spec.context_column, spec.table
            );
            let mut select = tx.prepare(&sql)?;
            let mut rows = select.query(params![target, self.rotation.cursor[t], left])?;
            let mut updates = Vec::new();
            while let Some(row) = rows.next()? {
                let id: i64 = row.get(0)?;
                self.rotation.cursor[t] = id;
                let account = account_of(row, 1)?;
                let context: i64 = row.get(2)?;
                let version: u32 = row.get(3)?;
                let mut values = Vec::with_capacity(spec.columns.len());
                let mut failed = false;
                for (i, column) in spec.columns.iter().enumerate() {
                    let field = FieldRef {
                        table: spec.table,
                        column,
                        account,
                        row: id,
                        context,
                    };
                    let resealed = blob_or_null(row, 4 + i, spec.table, id).and_then(|sealed| {
                        sealed
                            .map(|sealed| {
                                let keys = self.keys(account)?;
                                let plain = Sensitive::new(keys.open(version, field, sealed)?);
                                keys.seal(&self.rng, target, field, plain.expose())
                            })
                            .transpose()
                    });
                    match resealed {
                        Ok(value) => values.push(value),
                        Err(StoreError::Database(e)) => return Err(StoreError::Database(e)),
                        Err(_) => {
                            failed = true;
                            break;
                        }
                    }
                }
                if failed {
                    self.rotation.skipped.push((spec.table, id));
                } else {
                    updates.push((id, version, values));
                }
            }
            drop(rows);
            drop(select);
            let assignments: Vec<String> = spec
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c} = ?{}", i + 4))
                .collect();
            let update = format!(
                "UPDATE {} SET key_version = ?1, {} WHERE id = ?2 AND key_version = ?3",
                spec.table,
                assignments.join(", ")
            );
            let mut stmt = tx.prepare(&update)?;
            let mac_spec = integrity::MAC_TABLES
                .iter()
                .find(|m| m.table == spec.table)
                .copied();
            for (id, version, values) in updates {
                // A row whose MAC fails is passed over like one whose seal
                // fails: re-sealing must not re-MAC what an attacker wrote.
                let before = match mac_spec {
                    Some(m) => match self.require_genuine(&tx, m, id) {
                        Ok(before) => before,
                        Err(err) if err.is_row_failure() => {
                            self.rotation.skipped.push((spec.table, id));
                            continue;
                        }
                        Err(err) => return Err(err),
                    },
                    None => None,
                };
                let mut args: Vec<rusqlite::types::Value> = vec![
                    i64::from(target).into(),
                    id.into(),
                    i64::from(version).into(),
                ];
                args.extend(values.into_iter().map(|v| match v {
                    Some(bytes) => rusqlite::types::Value::Blob(bytes),
                    None => rusqlite::types::Value::Null,
                }));
                stmt.execute(rusqlite::params_from_iter(args))?;
                if let Some(m) = mac_spec {
                    self.track_row(&tx, &mut pending, m, id, before.as_ref())?;
                }
                resealed += 1;
            }
        }
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        Ok(RotationProgress {
            resealed,
            done: !more && resealed == 0,
            skipped: self.rotation.skipped.clone(),
        })
    }

    /// Drops master key versions no row uses any more, once a rotation is
    /// done, and returns the keys to store in the keychain.
    ///
    /// # Errors
    /// [`StoreError::MissingKeyVersion`] naming a version still in use, or
    /// [`StoreError::Database`].
    pub fn retire_old_versions(&mut self) -> Result<MasterKeys, StoreError> {
        let current = self.master.current_version();
        if let Some(old) = self.versions_in_use()?.into_iter().find(|v| *v != current) {
            return Err(StoreError::MissingKeyVersion(old));
        }
        let retired = self.master.retire_old_versions();
        self.rekey(retired.clone())?;
        Ok(retired)
    }

    /// Every master key version some row is sealed under.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn versions_in_use(&self) -> Result<Vec<u32>, StoreError> {
        let mut versions = Vec::new();
        for spec in SEALED_TABLES {
            if !table_in_schema(spec.table, self.schema) {
                continue;
            }
            let mut stmt = self
                .conn
                .prepare(&format!("SELECT DISTINCT key_version FROM {}", spec.table))?;
            for v in stmt.query_map([], |r| r.get::<_, u32>(0))? {
                versions.push(v?);
            }
        }
        versions.sort_unstable();
        versions.dedup();
        Ok(versions)
    }
}

/// A sealed column's bytes. STRICT tables keep the type, so anything but a
/// blob here means the file was edited.
fn blob<'a>(
    row: &'a Row<'_>,
    index: usize,
    table: &'static str,
    id: i64,
) -> Result<&'a [u8], StoreError> {
    row.get_ref(index)?
        .as_blob()
        .map_err(|_| StoreError::Tampered { table, row: id })
}

fn blob_or_null<'a>(
    row: &'a Row<'_>,
    index: usize,
    table: &'static str,
    id: i64,
) -> Result<Option<&'a [u8]>, StoreError> {
    row.get_ref(index)?
        .as_blob_or_null()
        .map_err(|_| StoreError::Tampered { table, row: id })
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    // WAL for concurrent readers and crash safety; FULL so that a commit the
    // client acknowledges to the bank survives a power cut; secure_delete so
    // that erased rows are overwritten; temp_store in memory so that sorts and
    // temporary indexes never spill anything to a temp file.
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        // Without WAL the crash guarantees documented here do not hold.
        return Err(StoreError::Database(rusqlite::Error::InvalidParameterName(
            format!("journal_mode is {mode}, WAL is required"),
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

/// A message's sealed content: who wrote it and what.
struct Content {
    direction: Direction,
    author: String,
    body: String,
}

/// Authors are display names: one longer than the 65,535 bytes the content
/// format holds is cut on a character boundary rather than refused. Used for
/// both the file and the in-memory window so they always agree.
fn display_author(author: &str) -> &str {
    let mut cut = author.len().min(usize::from(u16::MAX));
    while !author.is_char_boundary(cut) {
        cut -= 1;
    }
    &author[..cut]
}

/// `direction (I|O) || author length (u16 BE) || author || body`, with an
/// author already cut by [`display_author`].
fn encode_content(direction: Direction, author: &str, body: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 + author.len() + body.len());
    out.push(match direction {
        Direction::Incoming => b'I',
        Direction::Outgoing => b'O',
    });
    out.extend_from_slice(
        &u16::try_from(author.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(author.as_bytes());
    out.extend_from_slice(body.as_bytes());
    out
}

fn decode_content(mut plain: Vec<u8>) -> Option<Content> {
    let direction = match plain.first()? {
        b'I' => Direction::Incoming,
        b'O' => Direction::Outgoing,
        _ => return None,
    };
    let len = usize::from(u16::from_be_bytes([*plain.get(1)?, *plain.get(2)?]));
    let author = std::str::from_utf8(plain.get(3..3 + len)?).ok()?.to_owned();
    // Reuse the decrypted buffer for the body: no second copy of the text.
    plain.drain(..3 + len);
    let body = String::from_utf8(plain).ok()?;
    Some(Content {
        direction,
        author,
        body,
    })
}

/// Adds an alert's searchable text to the index.
fn index_alert(index: &mut SearchIndex, alert: &Alert) {
    index.add(
        SearchHit::Alert(alert.id),
        alert.account,
        alert.received_at,
        &alert_search_text(&alert.details),
    );
}

fn alert_search_text(details: &AlertDetails) -> String {
    let mut text = details.text.clone();
    if let Some(merchant) = &details.merchant {
        text.push(' ');
        text.push_str(merchant);
    }
    text
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod aad_tests {
    use super::*;

    #[test]
    fn every_sealed_table_and_column_name_fits_the_associated_data() {
        for spec in SEALED_TABLES {
            for column in spec.columns {
                let field = FieldRef {
                    table: spec.table,
                    column,
                    account: AccountId::from_random([1; 8]),
                    row: 1,
                    context: 1,
                };
                let expected = 14 + spec.table.len() + 1 + column.len() + 1 + 28;
                assert_eq!(
                    field.aad(1).as_slice().len(),
                    expected,
                    "{}.{column}",
                    spec.table
                );
            }
        }
    }
}
