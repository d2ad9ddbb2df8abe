//! The one place that opens the gateway's database: the embedded SQLite
//! file (the default) or PostgreSQL (`--database postgres://...`), which
//! several gateway processes can share.
//!
//! SQLite: writes go to a dedicated writer thread through a channel. The
//! thread takes every job waiting in the channel, runs each in its own
//! savepoint inside one transaction, and commits once (`synchronous=FULL`):
//! group commit, so one fsync covers a whole batch of alerts when the bank
//! posts thousands a second, and no write ever blocks the async runtime. A
//! job's caller hears back only after the commit, so anything acknowledged
//! survives SIGKILL. Reads run on the blocking pool with connections of
//! their own (WAL lets them proceed while the writer commits).
//!
//! PostgreSQL: the same group commit, on a writer thread of each gateway
//! process with a connection of its own. Each batch first takes one
//! transaction-scoped advisory lock, so the batches of all the gateways
//! sharing the database commit one after another: none can deadlock
//! against another over the device rows they both update, and while one
//! commits the others' batches grow. More gateways add connection, TLS and
//! stream capacity (the CPU-heavy part); writes stay batched. What a job
//! [`Connection::announce`]s goes out with its batch's commit as a NOTIFY
//! (transactional: only what committed is heard), and [`Db::listen`] hears
//! the other gateways' announcements. Reads run on the blocking pool with
//! pooled connections.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use rusqlite::OpenFlags;

use crate::error::GatewayError;
use crate::sql::{Connection, PgSession};

/// The SQLite migrations, applied in order; `PRAGMA user_version` counts
/// how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_history_index.sql"),
    include_str!("../migrations/0003_staff.sql"),
    include_str!("../migrations/0004_ack_times.sql"),
    include_str!("../migrations/0005_cohorts.sql"),
    include_str!("../migrations/0006_delivery_times.sql"),
    include_str!("../migrations/0007_audience_and_demo.sql"),
];

/// The same schema for PostgreSQL, one file per SQLite migration (the
/// table `strongroom_schema` counts how many have run).
const PG_MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_initial.sql"),
    include_str!("../migrations/postgres/0002_history_index.sql"),
    include_str!("../migrations/postgres/0003_staff.sql"),
    include_str!("../migrations/postgres/0004_ack_times.sql"),
    include_str!("../migrations/postgres/0005_cohorts.sql"),
    include_str!("../migrations/postgres/0006_delivery_times.sql"),
    include_str!("../migrations/postgres/0007_audience_and_demo.sql"),
];

/// The NOTIFY channel the gateways announce committed changes on.
const CHANNEL: &str = "strongroom_gateway";

/// A NOTIFY payload is at most 8000 bytes; announcements are cut into
/// payloads below that.
const MAX_PAYLOAD: usize = 7000;

/// A batch slower than this is reported on stderr, with where its time went.
const SLOW_BATCH: Duration = Duration::from_millis(500);

/// The most jobs one commit covers; bounds the latency a batch adds.
const MAX_BATCH: usize = 512;

/// Reads running at once, and read connections kept. Bounding them keeps
/// every read on a warm connection when thousands of streams wake at once,
/// instead of opening a connection (and a blocking thread) per stream.
const READERS: usize = 8;

/// PostgreSQL read connections per gateway process (besides the writer's
/// and the listener's). Two gateways, or the test suite's parallel ones,
/// stay well under the server's default of 100 connections.
const PG_READERS: usize = 8;

/// Where the gateway keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An embedded SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL server, by connection URL
    /// (`postgres://user@host:port/dbname`, or `host=/run/postgresql` for a
    /// Unix socket).
    Postgres(String),
}

impl Database {
    /// `--database`'s value: a `postgres://` or `postgresql://` URL.
    ///
    /// # Errors
    /// [`GatewayError::Config`] for anything else, or a URL that names a
    /// server on another host (the gateway does not speak TLS to
    /// PostgreSQL, and will not send bank data in the clear over a network).
    pub fn parse_url(url: &str) -> Result<Database, GatewayError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(GatewayError::Config(
                "--database needs a postgres:// URL (without it the gateway uses its SQLite file)"
                    .into(),
            ));
        }
        let config: postgres::Config = url
            .parse()
            .map_err(|e| GatewayError::Config(format!("--database: not a PostgreSQL URL: {e}")))?;
        for host in config.get_hosts() {
            if let postgres::config::Host::Tcp(name) = host
                && !is_loopback(name)
            {
                return Err(GatewayError::Config(format!(
                    "--database: {name} is not this machine; the gateway speaks to PostgreSQL \
                     only over a Unix socket or loopback, because it does not encrypt that \
                     connection"
                )));
            }
        }
        Ok(Database::Postgres(url.to_owned()))
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What a job hands back after running: whether it succeeded (else its
/// savepoint is rolled back), and the function that reports to its caller
/// once the commit's outcome is known.
type Completion = Box<dyn FnOnce(bool) + Send>;
type Job = Box<dyn FnOnce(&Connection<'_>) -> (bool, Completion) + Send>;

/// Small writes that many callers make at once and one statement can
/// cover (a device's acknowledgement, say): each caller queues its record
/// with [`Db::write_together`], and one job of the next batch writes every
/// record queued by then. Ten thousand devices acknowledging at once cost
/// one job (one savepoint; on PostgreSQL one statement) per batch, not one
/// each: with PostgreSQL every statement is a round trip, and the writer
/// is the one place that every gateway's writes pass through.
pub struct Together<T> {
    pending: Mutex<Vec<(T, tokio::sync::oneshot::Sender<bool>)>>,
    write: fn(&Connection<'_>, &[T]) -> Result<(), GatewayError>,
}

impl<T> Together<T> {
    /// A queue whose records `write` writes, all of a batch in one call
    /// (never with an empty slice).
    pub fn new(write: fn(&Connection<'_>, &[T]) -> Result<(), GatewayError>) -> Arc<Self> {
        Arc::new(Together {
            pending: Mutex::new(Vec::new()),
            write,
        })
    }
}

/// A [`Together`] queue's job until it runs. Dropped unrun (the database
/// closed, or the writer had no connection for its batch), it empties the
/// queue, failing every record there: left queued, they would wait for a
/// job that no one sends, since only a record that finds the queue empty
/// sends one.
struct Unrun<T>(Option<Arc<Together<T>>>);

impl<T> Drop for Unrun<T> {
    fn drop(&mut self) {
        if let Some(queue) = self.0.take()
            && let Ok(mut pending) = queue.pending.lock()
        {
            pending.clear();
        }
    }
}

impl<T> std::fmt::Debug for Together<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queued = self.pending.lock().map_or(0, |p| p.len());
        f.debug_struct("Together").field("queued", &queued).finish()
    }
}

/// A handle on the database: the writer thread's channel, and the reads.
pub struct Db {
    writer: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    backend: Backend,
}

enum Backend {
    Sqlite(SqliteDb),
    Postgres(Arc<PgDb>),
}

/// A pool of SQLite read connections.
struct SqliteDb {
    readers: Arc<Mutex<Vec<rusqlite::Connection>>>,
    read_slots: tokio::sync::Semaphore,
    path: PathBuf,
}

/// A pool of PostgreSQL sessions for reads, and what the writer and the
/// listener need.
struct PgDb {
    config: postgres::Config,
    sessions: Mutex<Vec<PgSession>>,
    slots: tokio::sync::Semaphore,
    /// This process's name in announcements, so it skips its own.
    node: String,
    closed: AtomicBool,
    listener: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// What [`Db::listen`] was given, also called with this process's own
    /// committed announcements.
    hear: Mutex<Option<Hear>>,
}

/// A function that applies one announcement line; the flag says whether
/// this process committed it.
type Hear = Arc<dyn Fn(&str, bool) + Send + Sync>;

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.backend {
            Backend::Sqlite(s) => f.debug_struct("Db").field("sqlite", &s.path).finish(),
            Backend::Postgres(p) => f.debug_struct("Db").field("postgres", &p.node).finish(),
        }
    }
}

fn open_writer(path: &Path) -> Result<rusqlite::Connection, GatewayError> {
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

/// A connection for an administration command run beside (or instead of)
/// the gateway; see [`open_for_admin`].
pub struct AdminConnection {
    inner: AdminInner,
}

enum AdminInner {
    Sqlite(rusqlite::Connection),
    Postgres(Box<PgSession>),
}

impl AdminConnection {
    /// The connection, in autocommit mode.
    pub fn connection(&mut self) -> Connection<'_> {
        match &mut self.inner {
            AdminInner::Sqlite(c) => Connection::sqlite(c),
            AdminInner::Postgres(s) => Connection::postgres(s),
        }
    }
}

/// Opens the database for an administration command run beside (or
/// instead of) the gateway, migrating it first. SQLite's WAL and busy
/// timeout let it share the file with a running gateway.
///
/// Call it outside an async runtime (the PostgreSQL client blocks).
///
/// # Errors
/// [`GatewayError::Storage`] if the database cannot be opened or migrated.
pub fn open_for_admin(database: &Database) -> Result<AdminConnection, GatewayError> {
    Ok(AdminConnection {
        inner: match database {
            Database::Sqlite(path) => AdminInner::Sqlite(open_writer(path)?),
            Database::Postgres(url) => {
                let config = pg_config(url)?;
                let mut session = pg_connect(&config)?;
                pg_migrate(&mut session)?;
                AdminInner::Postgres(Box::new(session))
            }
        },
    })
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

fn newer_schema(version: i64, known: usize) -> GatewayError {
    GatewayError::Storage(format!(
        "the database is at schema version {version}, newer than this gateway knows ({known})"
    ))
}

fn pg_config(url: &str) -> Result<postgres::Config, GatewayError> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| GatewayError::Config(format!("--database: {e}")))?;
    config
        .application_name("strongroom-gateway")
        .connect_timeout(Duration::from_secs(10));
    Ok(config)
}

fn pg_connect(config: &postgres::Config) -> Result<PgSession, GatewayError> {
    config
        .connect(postgres::NoTls)
        .map(PgSession::new)
        .map_err(|e| {
            GatewayError::Storage(format!(
                "connecting to PostgreSQL: {}",
                crate::sql::Error::from(e)
            ))
        })
}

/// Applies every PostgreSQL migration not yet applied, in one transaction
/// under an advisory lock, so that gateways starting together migrate once.
fn pg_migrate(session: &mut PgSession) -> Result<(), GatewayError> {
    let conn = Connection::postgres(session);
    conn.execute_batch(
        "BEGIN;
         SELECT pg_advisory_xact_lock(5353520101);
         CREATE TABLE IF NOT EXISTS strongroom_schema (version BIGINT NOT NULL);",
    )?;
    let result = (|| -> Result<(), GatewayError> {
        let version: Option<i64> = conn
            .query("SELECT version FROM strongroom_schema", ())?
            .first()
            .map(|r| r.get(0))
            .transpose()?;
        let applied = match version {
            Some(v) => usize::try_from(v).unwrap_or(0),
            None => {
                conn.execute("INSERT INTO strongroom_schema (version) VALUES (0)", ())?;
                0
            }
        };
        if applied > PG_MIGRATIONS.len() {
            return Err(newer_schema(
                i64::try_from(applied).unwrap_or(i64::MAX),
                PG_MIGRATIONS.len(),
            ));
        }
        for sql in PG_MIGRATIONS.iter().skip(applied) {
            conn.execute_batch(sql)?;
        }
        conn.execute(
            "UPDATE strongroom_schema SET version = ?1",
            [i64::try_from(PG_MIGRATIONS.len()).unwrap_or(0)],
        )?;
        Ok(())
    })();
    match result {
        Ok(()) => Ok(conn.execute_batch("COMMIT")?),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Takes the jobs waiting in the channel (at least one, at most
/// [`MAX_BATCH`]); `None` when the channel closed.
fn next_batch(jobs: &mpsc::Receiver<Job>) -> Option<Vec<Job>> {
    let first = jobs.recv().ok()?;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    Some(batch)
}

/// Sends a batch's announcements inside its transaction (see
/// `PgDb::publish`; nothing for SQLite).
type Publish<'a> = dyn Fn(&Connection<'_>, &[String]) -> Result<(), GatewayError> + 'a;

/// Runs one batch in one transaction (`begin` opens it), each job in its
/// own savepoint, then `publish`es what the jobs that succeeded announced
/// and commits; reports to every caller once the outcome is known. Returns
/// the announcements that committed.
fn run_batch(
    conn: &Connection<'_>,
    batch: Vec<Job>,
    begin: &str,
    publish: &Publish<'_>,
) -> Vec<String> {
    let started = std::time::Instant::now();
    let jobs = batch.len();
    let mut completions = Vec::with_capacity(batch.len());
    // Without a transaction nothing can be committed: the jobs are dropped
    // unrun, and their callers hear that the writer could not take them.
    if conn.execute_batch(begin).is_err() {
        let _ = conn.execute_batch("ROLLBACK");
        return Vec::new();
    }
    let began = started.elapsed();
    // One savepoint is kept open ahead of every job: a job that fails is
    // rolled back to it (which keeps it for the next job); one that succeeds
    // is released and the next savepoint made in the same round trip.
    let mut announced = Vec::new();
    let mut broken = false;
    for (i, job) in batch.into_iter().enumerate() {
        let (ok, done) = job(conn);
        let lines = conn.take_announcements();
        completions.push(done);
        if broken {
            continue;
        }
        let last = i + 1 == jobs;
        if ok {
            let next = if last {
                "RELEASE job"
            } else {
                "RELEASE job; SAVEPOINT job"
            };
            match conn.execute_batch(next) {
                Ok(()) => announced.extend(lines),
                // Whether the job's changes were kept is unknown: commit
                // nothing rather than report a job done that was not.
                Err(_) => broken = true,
            }
        } else if conn.execute_batch("ROLLBACK TO job").is_err() {
            broken = true;
        }
    }
    let ran = started.elapsed();
    let committed =
        !broken && publish(conn, &announced).is_ok() && conn.execute_batch("COMMIT").is_ok();
    let total = started.elapsed();
    if total > SLOW_BATCH {
        // Where a slow batch spent its time: opening (with PostgreSQL, this
        // includes waiting for the other gateways' batches), its jobs, or
        // publishing and committing.
        eprintln!(
            "strongroom-gateway: slow database batch: {jobs} jobs in {} ms \
             (open {} ms, jobs {} ms, commit {} ms)",
            total.as_millis(),
            began.as_millis(),
            (ran - began).as_millis(),
            (total - ran).as_millis()
        );
    }
    if !committed {
        let _ = conn.execute_batch("ROLLBACK");
        announced.clear();
    }
    for done in completions {
        done(committed);
    }
    announced
}

fn run_sqlite_writer(conn: rusqlite::Connection, jobs: mpsc::Receiver<Job>) {
    let conn = Connection::sqlite(&conn);
    while let Some(batch) = next_batch(&jobs) {
        run_batch(&conn, batch, "BEGIN IMMEDIATE; SAVEPOINT job", &|_, _| {
            Ok(())
        });
    }
}

/// The advisory lock every gateway's batch takes first (an arbitrary
/// constant: "STRONGROOM" would not fit in 64 bits).
const BATCH_LOCK: i64 = 5_353_520_102;

fn run_postgres_writer(pg: Arc<PgDb>, jobs: mpsc::Receiver<Job>) {
    let mut session: Option<PgSession> = None;
    let begin = format!("BEGIN; SELECT pg_advisory_xact_lock({BATCH_LOCK}); SAVEPOINT job");
    while let Some(batch) = next_batch(&jobs) {
        if session.as_ref().is_none_or(|s| s.client.is_closed()) {
            session = match pg_connect(&pg.config) {
                Ok(s) => Some(s),
                Err(e) => {
                    eprintln!("strongroom-gateway: the database writer: {e}");
                    None
                }
            };
        }
        // With no connection the batch's jobs are dropped unrun: their
        // callers hear that the writer could not take them.
        let Some(session) = session.as_mut() else {
            continue;
        };
        let conn = Connection::postgres(session);
        let committed = run_batch(&conn, batch, &begin, &|conn, lines| pg.publish(conn, lines));
        // This process hears its own commits here, before the callers do
        // (the listener skips them): its streams get the bodies too.
        if !committed.is_empty()
            && let Some(hear) = pg.hear.lock().ok().and_then(|h| h.clone())
        {
            for line in &committed {
                hear(line, true);
            }
        }
    }
}

fn closed<E: From<GatewayError>>() -> E {
    E::from(GatewayError::Storage("the database is closed".into()))
}

impl PgDb {
    /// A pooled session, or a new one.
    fn session(&self) -> Result<PgSession, GatewayError> {
        let pooled = self.sessions.lock().ok().and_then(|mut pool| pool.pop());
        match pooled {
            Some(session) if !session.client.is_closed() => Ok(session),
            _ => pg_connect(&self.config),
        }
    }

    /// Puts a session back unless its connection broke (or a transaction
    /// was left open, which a failed ROLLBACK would mean).
    fn give_back(&self, session: PgSession, healthy: bool) {
        if healthy
            && !session.client.is_closed()
            && let Ok(mut pool) = self.sessions.lock()
        {
            pool.push(session);
        }
    }

    fn read<R, E>(&self, f: impl FnOnce(&Connection<'_>) -> Result<R, E>) -> Result<R, E>
    where
        E: From<GatewayError>,
    {
        let mut session = self.session().map_err(E::from)?;
        let result = f(&Connection::postgres(&mut session));
        self.give_back(session, true);
        result
    }

    /// Sends `lines` as NOTIFY payloads inside the current transaction
    /// (delivered to listeners when it commits), first line this node's
    /// name.
    fn publish(&self, conn: &Connection<'_>, lines: &[String]) -> Result<(), GatewayError> {
        let mut payload = String::new();
        for line in lines {
            if !payload.is_empty() && payload.len() + line.len() + 1 > MAX_PAYLOAD {
                self.notify(conn, &payload)?;
                payload.clear();
            }
            payload.push_str(line);
            payload.push('\n');
        }
        if !payload.is_empty() {
            self.notify(conn, &payload)?;
        }
        Ok(())
    }

    fn notify(&self, conn: &Connection<'_>, lines: &str) -> Result<(), GatewayError> {
        conn.execute(
            "SELECT pg_notify(?1, ?2)",
            crate::sql::params![CHANNEL, format!("{}\n{lines}", self.node)],
        )?;
        Ok(())
    }

    /// Hears announcements until the database closes; see [`Db::listen`].
    fn listen(self: &Arc<Self>, on_line: Hear) {
        let mut missed_some = false;
        while !self.closed.load(Ordering::Relaxed) {
            let mut session = match pg_connect(&self.config) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("strongroom-gateway: listening for other gateways: {e}");
                    std::thread::sleep(Duration::from_secs(1));
                    missed_some = true;
                    continue;
                }
            };
            if session
                .client
                .batch_execute(&format!("LISTEN {CHANNEL}"))
                .is_err()
            {
                std::thread::sleep(Duration::from_secs(1));
                missed_some = true;
                continue;
            }
            if missed_some {
                // Announcements sent while no one listened are lost; the
                // database is the truth, so wake everything to re-read it.
                on_line("*", false);
                missed_some = false;
            }
            loop {
                if self.closed.load(Ordering::Relaxed) {
                    return;
                }
                {
                    // Each notification is applied as it arrives: under a
                    // steady load there is never a quiet moment to wait
                    // for. The timeout only lets the loop see `closed`.
                    let mut notifications = session.client.notifications();
                    let mut iter = notifications.timeout_iter(Duration::from_millis(250));
                    loop {
                        match iter.next() {
                            Ok(Some(n)) => {
                                let mut lines = n.payload().lines();
                                if lines.next() != Some(self.node.as_str()) {
                                    lines.for_each(|line| on_line(line, false));
                                }
                            }
                            Ok(None) => break,
                            Err(_) => {
                                missed_some = true;
                                break;
                            }
                        }
                    }
                }
                if missed_some || session.client.is_closed() {
                    missed_some = true;
                    break;
                }
            }
        }
    }
}

fn start_writer(
    run: impl FnOnce(mpsc::Receiver<Job>) + Send + 'static,
) -> Result<(mpsc::Sender<Job>, std::thread::JoinHandle<()>), GatewayError> {
    let (tx, rx) = mpsc::channel::<Job>();
    let thread = std::thread::Builder::new()
        .name("gateway-db-writer".into())
        .spawn(move || run(rx))
        .map_err(|e| GatewayError::io("starting the database writer", e))?;
    Ok((tx, thread))
}

impl Db {
    /// Opens (creating and migrating if needed) the database and starts its
    /// writer thread.
    ///
    /// # Errors
    /// [`GatewayError::Storage`] if the database cannot be opened or
    /// migrated.
    pub async fn open(database: &Database) -> Result<Db, GatewayError> {
        let (writer, thread, backend) = match database {
            Database::Sqlite(path) => {
                let conn = open_writer(path)?;
                let (writer, thread) = start_writer(move |jobs| run_sqlite_writer(conn, jobs))?;
                let backend = Backend::Sqlite(SqliteDb {
                    readers: Arc::new(Mutex::new(Vec::new())),
                    read_slots: tokio::sync::Semaphore::new(READERS),
                    path: path.to_owned(),
                });
                (writer, thread, backend)
            }
            Database::Postgres(url) => {
                let config = pg_config(url)?;
                let first = config.clone();
                let session = tokio::task::spawn_blocking(move || {
                    let mut session = pg_connect(&first)?;
                    pg_migrate(&mut session)?;
                    Ok::<_, GatewayError>(session)
                })
                .await
                .map_err(|e| GatewayError::Storage(e.to_string()))??;
                let rng = ring::rand::SystemRandom::new();
                let pg = Arc::new(PgDb {
                    config,
                    sessions: Mutex::new(vec![session]),
                    slots: tokio::sync::Semaphore::new(PG_READERS),
                    node: crate::crypto::random_token(&rng),
                    closed: AtomicBool::new(false),
                    listener: Mutex::new(None),
                    hear: Mutex::new(None),
                });
                let for_writer = Arc::clone(&pg);
                let (writer, thread) =
                    start_writer(move |jobs| run_postgres_writer(for_writer, jobs))?;
                (writer, thread, Backend::Postgres(pg))
            }
        };
        Ok(Db {
            writer: Mutex::new(Some(writer)),
            thread: Mutex::new(Some(thread)),
            backend,
        })
    }

    /// Calls `on_line` with each line announced (see
    /// [`Connection::announce`]) by other gateway processes and by this
    /// one's commits, and with `*` after a gap in listening, when
    /// announcements may have been missed. Nothing to hear with SQLite.
    ///
    /// # Errors
    /// [`GatewayError::Io`] if the listening thread cannot start.
    pub fn listen(&self, on_line: Hear) -> Result<(), GatewayError> {
        let Backend::Postgres(pg) = &self.backend else {
            return Ok(());
        };
        if let Ok(mut hear) = pg.hear.lock() {
            *hear = Some(Arc::clone(&on_line));
        }
        let pg2 = Arc::clone(pg);
        let thread = std::thread::Builder::new()
            .name("gateway-db-listener".into())
            .spawn(move || pg2.listen(on_line))
            .map_err(|e| GatewayError::io("starting the database listener", e))?;
        if let Ok(mut slot) = pg.listener.lock() {
            *slot = Some(thread);
        }
        Ok(())
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
        F: FnOnce(&Connection<'_>) -> Result<R, E> + Send + 'static,
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
        if !self.send(job) {
            return Err(closed());
        }
        answer.await.unwrap_or_else(|_| {
            Err(E::from(GatewayError::Storage(
                "the database writer could not run the write".into(),
            )))
        })
    }

    /// Hands a job to the writer thread; false once the database closed.
    fn send(&self, job: Job) -> bool {
        match self.writer.lock() {
            Ok(guard) => guard.as_ref().is_some_and(|w| w.send(job).is_ok()),
            Err(_) => false,
        }
    }

    /// Queues `record` on `queue` and returns once a commit has made it
    /// durable, like [`Db::write`]; but every record queued before the
    /// writer reaches the queue's job is written by that one job, with
    /// one call of the queue's write function.
    ///
    /// # Errors
    /// [`GatewayError::Storage`] if the write or its commit failed (for
    /// every record it covered), or the database is closed.
    pub async fn write_together<T: Send + 'static>(
        &self,
        queue: &Arc<Together<T>>,
        record: T,
    ) -> Result<(), GatewayError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let first = {
            let mut pending = queue.pending.lock().map_err(|_| closed::<GatewayError>())?;
            pending.push((record, reply));
            pending.len() == 1
        };
        // Only the record that finds the queue empty sends a job: the job
        // takes the queue when it runs, so it also covers every record
        // queued after this one until then.
        if first {
            let mut unrun = Unrun(Some(Arc::clone(queue)));
            let job: Job = Box::new(move |conn| {
                let Some(queue) = unrun.0.take() else {
                    return (false, Box::new(|_| ()));
                };
                let taken = queue
                    .pending
                    .lock()
                    .map(|mut p| std::mem::take(&mut *p))
                    .unwrap_or_default();
                let (records, replies): (Vec<T>, Vec<_>) = taken.into_iter().unzip();
                let written = (queue.write)(conn, &records);
                if let Err(e) = &written {
                    // Its callers hear only that it did not commit.
                    eprintln!(
                        "strongroom-gateway: writing {} queued records failed: {e}",
                        records.len()
                    );
                }
                let ok = written.is_ok();
                let done: Completion = Box::new(move |committed| {
                    for reply in replies {
                        let _ = reply.send(ok && committed);
                    }
                });
                (ok, done)
            });
            // If the database closed, the job is dropped here, unrun.
            self.send(job);
        }
        match answer.await {
            Ok(true) => Ok(()),
            Ok(false) => Err(GatewayError::Storage(
                "the transaction did not commit".into(),
            )),
            // The job was dropped unrun: closed, or no connection.
            Err(_) => Err(GatewayError::Storage(
                "the database writer could not run the write".into(),
            )),
        }
    }

    /// Runs `f` with a connection outside any write transaction, on the
    /// blocking thread pool.
    ///
    /// # Errors
    /// `f`'s error, or [`GatewayError::Storage`] if no connection opens.
    pub async fn read<R, E, F>(&self, f: F) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<GatewayError> + Send + 'static,
        F: FnOnce(&Connection<'_>) -> Result<R, E> + Send + 'static,
    {
        match &self.backend {
            Backend::Sqlite(s) => s.read(f).await,
            Backend::Postgres(pg) => {
                let Ok(_slot) = pg.slots.acquire().await else {
                    return Err(closed());
                };
                let pg = Arc::clone(pg);
                tokio::task::spawn_blocking(move || pg.read(f))
                    .await
                    .unwrap_or_else(|_| {
                        Err(E::from(GatewayError::Storage("a read panicked".into())))
                    })
            }
        }
    }

    /// Stops the writer after the jobs already queued, and the listener,
    /// and waits for them.
    pub fn close(&self) {
        if let Ok(mut writer) = self.writer.lock() {
            writer.take();
        }
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
        if let Backend::Postgres(pg) = &self.backend {
            pg.closed.store(true, Ordering::Relaxed);
            pg.slots.close();
            if let Some(thread) = pg.listener.lock().ok().and_then(|mut t| t.take()) {
                let _ = thread.join();
            }
            if let Ok(mut pool) = pg.sessions.lock() {
                pool.clear();
            }
        }
    }
}

impl SqliteDb {
    async fn read<R, E, F>(&self, f: F) -> Result<R, E>
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A fresh SQLite database in a temporary folder (kept while the folder
    /// lives).
    async fn sqlite_db() -> (tempfile::TempDir, Arc<Db>) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&Database::Sqlite(dir.path().join("g.db")))
            .await
            .unwrap();
        (dir, Arc::new(db))
    }

    /// Calls of [`write_settings`], and whether it should fail.
    static WRITES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    static REFUSE: AtomicBool = AtomicBool::new(false);

    fn write_settings(c: &Connection<'_>, names: &[String]) -> Result<(), GatewayError> {
        WRITES.fetch_add(1, Ordering::SeqCst);
        if REFUSE.load(Ordering::SeqCst) {
            return Err(GatewayError::Storage("refused on purpose".into()));
        }
        for name in names {
            c.execute(
                "INSERT INTO settings(name, value) VALUES (?1, 'x')",
                [name.clone()],
            )?;
        }
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn records_queued_together_are_written_by_one_job_and_a_failure_or_close_strands_none() {
        let (_dir, db) = sqlite_db().await;
        let queue = Together::new(write_settings);
        let settings = |db: Arc<Db>| async move {
            db.read(|c| {
                c.query_row("SELECT count(*) FROM settings", (), |r| r.get::<_, i64>(0))
                    .map_err(GatewayError::from)
            })
            .await
            .unwrap()
        };

        // Hold the writer in a job until 200 records are queued.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let holding = {
            let db = Arc::clone(&db);
            tokio::spawn(async move {
                db.write(move |_| {
                    held.recv().ok();
                    Ok::<_, GatewayError>(())
                })
                .await
            })
        };
        let mut writers = Vec::new();
        for i in 0..200 {
            let (db, queue) = (Arc::clone(&db), Arc::clone(&queue));
            writers.push(tokio::spawn(async move {
                db.write_together(&queue, format!("k{i}")).await
            }));
        }
        while queue.pending.lock().unwrap().len() < 200 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        release.send(()).unwrap();
        holding.await.unwrap().unwrap();
        for w in writers {
            w.await.unwrap().expect("every queued record committed");
        }
        assert_eq!(
            WRITES.load(Ordering::SeqCst),
            1,
            "one write covered all 200"
        );
        assert_eq!(settings(Arc::clone(&db)).await, 200);

        // A failed write fails its records, and leaves the queue working.
        REFUSE.store(true, Ordering::SeqCst);
        let refused = db.write_together(&queue, "refused".into()).await;
        assert!(
            matches!(refused, Err(GatewayError::Storage(_))),
            "{refused:?}"
        );
        REFUSE.store(false, Ordering::SeqCst);
        db.write_together(&queue, "after".into())
            .await
            .expect("the queue still works after a failed write");
        assert_eq!(settings(Arc::clone(&db)).await, 201);

        // Once closed, a record is refused at once rather than left waiting.
        db.close();
        let late = tokio::time::timeout(
            Duration::from_secs(5),
            db.write_together(&queue, "late".into()),
        )
        .await
        .expect("a record after close is answered, not stranded");
        assert!(late.is_err());
        assert_eq!(
            queue.pending.lock().unwrap().len(),
            0,
            "nothing left queued"
        );
    }

    #[tokio::test]
    async fn a_failed_job_rolls_back_alone_and_others_in_the_batch_commit() {
        let (dir, db) = sqlite_db().await;
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
                c.query_row("SELECT count(*) FROM settings", (), |r| r.get(0))
                    .map_err(GatewayError::from)
            })
            .await
            .unwrap();
        assert_eq!(
            count, 45,
            "the failed jobs' rows were rolled back, no others"
        );
        db.close();
        let conn = rusqlite::Connection::open(dir.path().join("g.db")).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }
}
