//! The one place that opens the gateway's SQLite database.
//!
//! Writes go to a dedicated writer thread through a channel. The thread takes
//! every job waiting in the channel, runs each in its own savepoint inside one
//! transaction, and commits once (`synchronous=FULL`): group commit, so one
//! fsync covers a whole batch of alerts when the bank posts thousands a
//! second, and no write ever blocks the async runtime. A job's caller hears
//! back only after the commit, so anything acknowledged survives SIGKILL.
//! Reads run on the blocking pool with connections of their own (WAL lets
//! them proceed while the writer commits).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc;

use rusqlite::{Connection, OpenFlags};

use crate::error::GatewayError;

/// The migrations, applied in order; `PRAGMA user_version` counts how many
/// have run.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_history_index.sql"),
    include_str!("../migrations/0003_staff.sql"),
    include_str!("../migrations/0004_ack_times.sql"),
    include_str!("../migrations/0005_cohorts.sql"),
];

/// The most jobs one commit covers; bounds the latency a batch adds.
const MAX_BATCH: usize = 512;

/// Reads running at once, and read connections kept. Bounding them keeps
/// every read on a warm connection when thousands of streams wake at once,
/// instead of opening a connection (and a blocking thread) per stream.
const READERS: usize = 8;

/// What a job hands back after running: whether it succeeded (else its
/// savepoint is rolled back), and the function that reports to its caller
/// once the commit's outcome is known.
type Completion = Box<dyn FnOnce(bool) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> (bool, Completion) + Send>;

/// A handle on the database: the writer thread's channel and a pool of read
/// connections.
pub struct Db {
    writer: Mutex<Option<mpsc::Sender<Job>>>,
    readers: Mutex<Vec<Connection>>,
    read_slots: tokio::sync::Semaphore,
    path: PathBuf,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("path", &self.path).finish()
    }
}

fn open_writer(path: &Path) -> Result<Connection, GatewayError> {
    let conn = Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL;
         PRAGMA synchronous=FULL;
         PRAGMA foreign_keys=ON;
         PRAGMA busy_timeout=5000;",
    )?;
    migrate(&conn)?;
    Ok(conn)
}

/// Opens the database for an administration command run beside (or
/// instead of) the gateway, migrating it first. WAL and the busy timeout
/// let it share the file with a running gateway.
///
/// # Errors
/// [`GatewayError::Storage`] if the file cannot be opened or migrated.
pub fn open_for_admin(path: &Path) -> Result<Connection, GatewayError> {
    open_writer(path)
}

fn open_reader(path: &Path) -> Result<Connection, GatewayError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.execute_batch("PRAGMA busy_timeout=5000;")?;
    Ok(conn)
}

/// Applies every migration not yet applied, each in its own transaction.
fn migrate(conn: &Connection) -> Result<(), GatewayError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let applied = usize::try_from(version).unwrap_or(0);
    if applied > MIGRATIONS.len() {
        return Err(GatewayError::Storage(format!(
            "the database is at schema version {version}, newer than this gateway knows ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {};\nCOMMIT;",
            i + 1
        ))?;
    }
    Ok(())
}

fn run_writer(conn: Connection, jobs: mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut completions = Vec::with_capacity(batch.len());
        let began = conn.execute_batch("BEGIN IMMEDIATE").is_ok();
        for job in batch {
            if !began {
                // Without a transaction nothing can be committed: fail the job
                // without running it.
                completions.push(Box::new(|_: bool| {}) as Completion);
                continue;
            }
            if conn.execute_batch("SAVEPOINT job").is_err() {
                continue;
            }
            let (ok, done) = job(&conn);
            let _ = if ok {
                conn.execute_batch("RELEASE job")
            } else {
                conn.execute_batch("ROLLBACK TO job; RELEASE job")
            };
            completions.push(done);
        }
        let committed = began && conn.execute_batch("COMMIT").is_ok();
        if began && !committed {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for done in completions {
            done(committed);
        }
    }
}

impl Db {
    /// Opens (creating and migrating if needed) the database at `path` and
    /// starts its writer thread.
    ///
    /// # Errors
    /// [`GatewayError::Storage`] if the file cannot be opened or migrated.
    pub fn open(path: &Path) -> Result<Db, GatewayError> {
        let conn = open_writer(path)?;
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("gateway-db-writer".into())
            .spawn(move || run_writer(conn, rx))
            .map_err(|e| GatewayError::io("starting the database writer", e))?;
        Ok(Db {
            writer: Mutex::new(Some(tx)),
            readers: Mutex::new(Vec::new()),
            read_slots: tokio::sync::Semaphore::new(READERS),
            path: path.to_owned(),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Runs `f` on the writer thread inside the next group commit. Returns
    /// its result only once the commit is durable; if `f` fails, its own
    /// changes are rolled back and the rest of the batch still commits.
    ///
    /// # Errors
    /// `f`'s error, or [`GatewayError::Storage`] if the commit failed.
    pub async fn write<R, E, F>(&self, f: F) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<GatewayError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<R, E> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel::<Result<R, E>>();
        let job: Job = Box::new(move |conn| {
            let result = f(conn);
            let ok = result.is_ok();
            let done: Completion = Box::new(move |committed| {
                let result = if committed {
                    result
                } else {
                    Err(E::from(GatewayError::Storage(
                        "the transaction did not commit".into(),
                    )))
                };
                let _ = reply.send(result);
            });
            (ok, done)
        });
        let sent = match self.writer.lock() {
            Ok(guard) => guard.as_ref().map(|w| w.send(job).is_ok()).unwrap_or(false),
            Err(_) => false,
        };
        if !sent {
            return Err(E::from(GatewayError::Storage(
                "the database is closed".into(),
            )));
        }
        answer.await.unwrap_or_else(|_| {
            Err(E::from(GatewayError::Storage(
                "the database writer stopped".into(),
            )))
        })
    }

    /// Runs `f` with a read-only connection on the blocking thread pool.
    ///
    /// # Errors
    /// `f`'s error, or [`GatewayError::Storage`] if no connection opens.
    pub async fn read<R, E, F>(self: &std::sync::Arc<Self>, f: F) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<GatewayError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<R, E> + Send + 'static,
    {
        let Ok(_slot) = self.read_slots.acquire().await else {
            return Err(E::from(GatewayError::Storage(
                "the database is closed".into(),
            )));
        };
        let db = std::sync::Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let pooled = db.readers.lock().ok().and_then(|mut pool| pool.pop());
            let conn = match pooled {
                Some(conn) => conn,
                None => open_reader(&db.path)?,
            };
            let result = f(&conn);
            if let Ok(mut pool) = db.readers.lock()
                && pool.len() < READERS
            {
                pool.push(conn);
            }
            result
        })
        .await
        .unwrap_or_else(|_| Err(E::from(GatewayError::Storage("a read panicked".into()))))
    }

    /// Stops the writer after the jobs already queued, and waits for it.
    pub fn close(&self) {
        if let Ok(mut writer) = self.writer.lock() {
            writer.take();
        }
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_failed_job_rolls_back_alone_and_others_in_the_batch_commit() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Db::open(&dir.path().join("g.db")).unwrap());
        let mut handles = Vec::new();
        for i in 0..50 {
            let db = Arc::clone(&db);
            handles.push(tokio::spawn(async move {
                db.write(move |c| {
                    c.execute(
                        "INSERT INTO settings(name, value) VALUES (?1, 'x')",
                        [format!("k{i}")],
                    )?;
                    if i % 10 == 0 {
                        return Err(GatewayError::Storage("refused on purpose".into()));
                    }
                    Ok(())
                })
                .await
            }));
        }
        let mut failed = 0;
        for h in handles {
            if h.await.unwrap().is_err() {
                failed += 1;
            }
        }
        assert_eq!(failed, 5, "every tenth job fails");
        let count: i64 = db
            .read(|c| {
                c.query_row("SELECT count(*) FROM settings", [], |r| r.get(0))
                    .map_err(GatewayError::from)
            })
            .await
            .unwrap();
        assert_eq!(
            count, 45,
            "the failed jobs' rows were rolled back, no others"
        );
        db.close();
        let conn = Connection::open(dir.path().join("g.db")).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }
}
