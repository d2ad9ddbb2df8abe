//! The embedded SQLite file, the default database. One writer connection
//! on the writer thread commits each batch with `synchronous=FULL`; reads
//! run on the blocking pool with read-only connections of their own, which
//! WAL lets proceed while the writer commits.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};

use rusqlite::OpenFlags;

use super::batch::{Job, next_batch, run_batch};
use super::{closed, newer_schema};
use crate::error::GatewayError;
use crate::sql::Connection;

/// The SQLite migrations, applied in order; `PRAGMA user_version` counts
/// how many have run.
pub(super) const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_initial.sql"),
    include_str!("../../migrations/0002_history_index.sql"),
    include_str!("../../migrations/0003_staff.sql"),
    include_str!("../../migrations/0004_ack_times.sql"),
    include_str!("../../migrations/0005_cohorts.sql"),
    include_str!("../../migrations/0006_delivery_times.sql"),
    include_str!("../../migrations/0007_audience_and_demo.sql"),
    include_str!("../../migrations/0008_calls.sql"),
    include_str!("../../migrations/0009_bank_idp.sql"),
    include_str!("../../migrations/0010_cluster.sql"),
    include_str!("../../migrations/0011_idempotency.sql"),
    include_str!("../../migrations/0012_api_clients.sql"),
    include_str!("../../migrations/0013_sign_in_failures.sql"),
    include_str!("../../migrations/0014_event_streams.sql"),
    include_str!("../../migrations/0015_device_acks.sql"),
    include_str!("../../migrations/0016_retire_record_acks.sql"),
];

/// Reads running at once, and read connections kept. Bounding them keeps
/// every read on a warm connection when thousands of streams wake at once,
/// instead of opening a connection (and a blocking thread) per stream.
const READERS: usize = 8;

/// A pool of SQLite read connections.
pub(super) struct SqliteReaders {
    readers: Arc<Mutex<Vec<rusqlite::Connection>>>,
    read_slots: tokio::sync::Semaphore,
    /// The database file.
    pub(super) path: PathBuf,
}

/// Opens the writer's connection, migrating the file first.
pub(super) fn open_writer(path: &Path) -> Result<rusqlite::Connection, GatewayError> {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL;
         PRAGMA synchronous=FULL;
         PRAGMA foreign_keys=ON;
         PRAGMA busy_timeout=5000;",
    )?;
    migrate(&conn)?;
    Ok(conn)
}

fn open_reader(path: &Path) -> Result<rusqlite::Connection, GatewayError> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.execute_batch("PRAGMA busy_timeout=5000;")?;
    Ok(conn)
}

/// Applies every migration not yet applied, each in its own transaction.
fn migrate(conn: &rusqlite::Connection) -> Result<(), GatewayError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let applied = usize::try_from(version).unwrap_or(0);
    if applied > MIGRATIONS.len() {
        return Err(newer_schema(version, MIGRATIONS.len()));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {};\nCOMMIT;",
            i + 1
        ))?;
    }
    Ok(())
}

/// The writer thread's loop: one transaction per batch.
pub(super) fn run_writer(conn: rusqlite::Connection, jobs: mpsc::Receiver<Job>) {
    let conn = Connection::sqlite(&conn);
    let mut previous = 0;
    while let Some(batch) = next_batch(&jobs, previous) {
        previous = batch.len();
        run_batch(&conn, batch, "BEGIN IMMEDIATE", &mut |_, _| {});
    }
}

impl SqliteReaders {
    /// An empty pool for the file at `path`.
    pub(super) fn new(path: &Path) -> SqliteReaders {
        SqliteReaders {
            readers: Arc::new(Mutex::new(Vec::new())),
            read_slots: tokio::sync::Semaphore::new(READERS),
            path: path.to_owned(),
        }
    }

    /// Runs `f` on a pooled read connection, on the blocking pool.
    pub(super) async fn read<R, E, F>(&self, f: F) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<GatewayError> + Send + 'static,
        F: FnOnce(&Connection<'_>) -> Result<R, E> + Send + 'static,
    {
        let Ok(_slot) = self.read_slots.acquire().await else {
            return Err(closed());
        };
        let readers = Arc::clone(&self.readers);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().ok().and_then(|mut pool| pool.pop());
            let conn = match pooled {
                Some(conn) => conn,
                None => open_reader(&path)?,
            };
            let result = f(&Connection::sqlite(&conn));
            if let Ok(mut pool) = readers.lock()
                && pool.len() < READERS
            {
                pool.push(conn);
            }
            result
        })
        .await
        .unwrap_or_else(|_| Err(E::from(GatewayError::Storage("a read panicked".into()))))
    }
}
