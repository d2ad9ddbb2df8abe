//! Opening the store's file: one writer per file, SQLite set up for crash
//! safety, the schema brought up to date, and the master keys checked
//! against the values the file recorded for them.

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::collections::HashMap;
use std::path::Path;

use crate::integrity::{ALERTS, MESSAGES};
use crate::migrate::{self, SCHEMA_VERSION};
use crate::rotation::RotationCursor;
use crate::timeline::Timelines;
use crate::{MasterKeys, Store, StoreError};
use ring::rand::SystemRandom;

/// The read queries, built once per open: they select every column a row's
/// MAC covers, and `mac` itself (NULL on a schema from before it).
#[derive(Debug)]
pub(crate) struct Queries {
    pub(crate) message_chunk: String,
    pub(crate) message_latest: String,
    pub(crate) message_by_id: String,
    pub(crate) alerts_latest: String,
    pub(crate) alert_by_id: String,
}

impl Queries {
    pub(crate) fn new(schema: u32) -> Self {
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

    pub(crate) fn open_at(
        path: &Path,
        master: MasterKeys,
        schema: u32,
    ) -> Result<Self, StoreError> {
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
            damage_found: HashMap::new(),
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
    pub(crate) fn check_master_keys(&self) -> Result<(), StoreError> {
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
