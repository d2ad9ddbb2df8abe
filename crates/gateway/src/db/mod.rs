//! The one place that opens the gateway's database: the embedded SQLite
//! file (the default) or PostgreSQL (`--database postgres://...`), which
//! several gateway processes can share. Either way, writes are committed
//! in groups by one writer thread ([`batch`]) and reads run on the
//! blocking pool with pooled connections.

mod batch;
mod postgres;
mod sqlite;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc};

use crate::error::GatewayError;
use crate::sql::{Connection, PgSession};
pub use batch::CoalescedWrites;
use batch::{Job, start_writer};
pub use postgres::AnnouncementHandler;
use postgres::PostgresBackend;
use sqlite::SqliteReaders;

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
        let config: ::postgres::Config = url
            .parse()
            .map_err(|e| GatewayError::Config(format!("--database: not a PostgreSQL URL: {e}")))?;
        for host in config.get_hosts() {
            if let ::postgres::config::Host::Tcp(name) = host
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

/// A handle on the database: the writer thread's channel, and the reads.
pub struct Db {
    writer: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    backend: Backend,
}

enum Backend {
    Sqlite(SqliteReaders),
    Postgres(Arc<PostgresBackend>),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.backend {
            Backend::Sqlite(s) => f.debug_struct("Db").field("sqlite", &s.path).finish(),
            Backend::Postgres(p) => f.debug_struct("Db").field("postgres", &p.node).finish(),
        }
    }
}

/// A connection for an administration command run beside (or instead of)
/// the gateway; see [`open_for_admin`].
pub struct AdminConnection {
    inner: AdminBackend,
}

enum AdminBackend {
    Sqlite(rusqlite::Connection),
    Postgres(Box<PgSession>),
}

impl AdminConnection {
    /// The connection, in autocommit mode.
    pub fn connection(&mut self) -> Connection<'_> {
        match &mut self.inner {
            AdminBackend::Sqlite(c) => Connection::sqlite(c),
            AdminBackend::Postgres(s) => Connection::postgres(s),
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
            Database::Sqlite(path) => AdminBackend::Sqlite(sqlite::open_writer(path)?),
            Database::Postgres(url) => {
                let config = postgres::pg_config(url)?;
                let mut session = postgres::pg_connect(&config)?;
                postgres::pg_migrate(&mut session)?;
                AdminBackend::Postgres(Box::new(session))
            }
        },
    })
}

fn newer_schema(version: i64, known: usize) -> GatewayError {
    GatewayError::Storage(format!(
        "the database is at schema version {version}, newer than this gateway knows ({known})"
    ))
}

fn closed<E: From<GatewayError>>() -> E {
    E::from(GatewayError::Storage("the database is closed".into()))
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
                let conn = sqlite::open_writer(path)?;
                let (writer, thread) = start_writer(move |jobs| sqlite::run_writer(conn, jobs))?;
                (writer, thread, Backend::Sqlite(SqliteReaders::new(path)))
            }
            Database::Postgres(url) => {
                let pg = PostgresBackend::open(url).await?;
                let for_writer = Arc::clone(&pg);
                let (writer, thread) =
                    start_writer(move |jobs| postgres::run_writer(for_writer, jobs))?;
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
    pub fn listen(&self, on_line: AnnouncementHandler) -> Result<(), GatewayError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(pg) => pg.start_listening(on_line),
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
            Backend::Postgres(pg) => pg.read(f).await,
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
            pg.close();
        }
    }
}
