//! The one place that opens the gateway's database: the embedded SQLite
//! file (the default) or PostgreSQL (`--database postgres://...`), which
//! several gateway processes can share. Either way, writes are committed
//! in groups by one writer thread ([`batch`]) and reads run on the
//! blocking pool with pooled connections.

mod announce;
mod batch;
mod postgres;
mod sqlite;
mod writes;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc};

use crate::error::GatewayError;
use crate::sql::{Connection, PgSession};
pub use announce::Broker;
use batch::{Job, start_writer};
pub use postgres::AnnouncementHandler;
use postgres::PostgresBackend;
use sqlite::SqliteReaders;
pub use writes::{CoalescedWrites, SharedStatement};

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
    /// `--database`'s value: a `postgres://` or `postgresql://` URL. A
    /// server on another machine needs `sslmode=verify-full` (TLS, its
    /// certificate and host name verified), with `sslrootcert=FILE` for a
    /// CA of the bank's own (without it, the system's CAs); over a Unix
    /// socket or loopback TLS is optional.
    ///
    /// # Errors
    /// [`GatewayError::Config`] for anything else, or a URL that names a
    /// server on another host without TLS (the gateway will not send bank
    /// data in the clear over a network).
    pub fn parse_url(url: &str) -> Result<Database, GatewayError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(GatewayError::Config(
                "--database needs a postgres:// URL (without it the gateway uses its SQLite file)"
                    .into(),
            ));
        }
        let (plain, tls) = split_tls(url)?;
        let config: ::postgres::Config = plain
            .parse()
            .map_err(|e| GatewayError::Config(format!("--database: not a PostgreSQL URL: {e}")))?;
        for host in config.get_hosts() {
            if let ::postgres::config::Host::Tcp(name) = host
                && !is_loopback(name)
                && tls.is_none()
            {
                return Err(GatewayError::Config(format!(
                    "--database: {name} is not this machine; add sslmode=verify-full (and \
                     sslrootcert=FILE for the bank's own CA) so that the connection is \
                     encrypted and the server's certificate checked"
                )));
            }
        }
        Ok(Database::Postgres(url.to_owned()))
    }
}

/// Takes libpq's `sslmode` and `sslrootcert` out of a `--database` URL
/// (the PostgreSQL client does TLS its own way): the URL left, and the CA
/// file when TLS is on (`Some(None)`: the system's CAs). Only
/// `sslmode=verify-full` turns TLS on: the gateway always verifies the
/// certificate and the host name, so the modes that would not are refused
/// rather than quietly made stricter.
fn split_tls(url: &str) -> Result<(String, Option<Option<PathBuf>>), GatewayError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), None));
    };
    let decoded = |part: &str| -> Result<String, GatewayError> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(part)
            .ok()
            .and_then(|pairs| pairs.into_iter().next())
            .map(|(_, v)| v)
            .ok_or_else(|| GatewayError::Config(format!("--database: cannot read {part}")))
    };
    let (mut mode, mut root, mut rest) = (None, None, Vec::new());
    for part in query.split('&').filter(|p| !p.is_empty()) {
        match part.split_once('=').map_or(part, |(k, _)| k) {
            "sslmode" => mode = Some(decoded(part)?),
            "sslrootcert" => root = Some(decoded(part)?),
            _ => rest.push(part),
        }
    }
    let tls = match mode.as_deref() {
        None | Some("disable") if root.is_none() => None,
        None | Some("disable") => {
            return Err(GatewayError::Config(
                "--database: sslrootcert needs sslmode=verify-full".into(),
            ));
        }
        Some("verify-full") => {
            rest.push("sslmode=require");
            Some(root.filter(|r| r != "system").map(PathBuf::from))
        }
        Some(other) => {
            return Err(GatewayError::Config(format!(
                "--database: sslmode={other} is not supported; use sslmode=verify-full (the \
                 gateway always checks the server's certificate and host name) or, on this \
                 machine, no TLS"
            )));
        }
    };
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok((url, tls))
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
        Db::open_with(database, None).await
    }

    /// [`Db::open`], announcing commits to the other gateways through
    /// `broker` (`--broker`) rather than PostgreSQL's NOTIFY.
    ///
    /// # Errors
    /// As [`Db::open`]; [`GatewayError::Config`] for a broker with SQLite,
    /// which one gateway process owns.
    pub async fn open_with(
        database: &Database,
        broker: Option<&Broker>,
    ) -> Result<Db, GatewayError> {
        let (writer, thread, backend) = match database {
            Database::Sqlite(_) if broker.is_some() => {
                return Err(GatewayError::Config(
                    "--broker needs --database postgres://...: with SQLite one gateway \
                     process owns the data and has no one to tell"
                        .into(),
                ));
            }
            Database::Sqlite(path) => {
                let conn = sqlite::open_writer(path)?;
                let (writer, thread) = start_writer(move |jobs| sqlite::run_writer(conn, jobs))?;
                (writer, thread, Backend::Sqlite(SqliteReaders::new(path)))
            }
            Database::Postgres(url) => {
                let pg = PostgresBackend::open(url, broker).await?;
                let for_writer = Arc::clone(&pg);
                let publisher = pg.publisher()?;
                let (writer, thread) = start_writer(move |jobs| {
                    postgres::run_writer(for_writer, publisher, jobs);
                })?;
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

    /// Whether other gateway processes may share this database
    /// (PostgreSQL): then what must hold across all of them (a DPoP proof
    /// used once, one rate limit, a page token taken once) is kept in it;
    /// see [`crate::cluster`].
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Runs `f`, whose statements commit one by one, on a pooled
    /// PostgreSQL session outside the writer's batches: for the atomic
    /// single-statement checks of [`crate::cluster`], which must not wait
    /// for the batch lock. `None` with SQLite, whose one gateway keeps that
    /// state in memory.
    pub async fn across_gateways<R, F>(&self, f: F) -> Option<Result<R, GatewayError>>
    where
        R: Send + 'static,
        F: FnOnce(&Connection<'_>) -> Result<R, GatewayError> + Send + 'static,
    {
        match &self.backend {
            Backend::Sqlite(_) => None,
            Backend::Postgres(pg) => Some(pg.read(f).await),
        }
    }

    /// Whether the database answers and has every migration this gateway
    /// knows applied (no more, no fewer): the readiness check's database
    /// half.
    ///
    /// # Errors
    /// [`GatewayError::Storage`] if the database does not answer.
    pub async fn schema_is_current(&self) -> Result<bool, GatewayError> {
        let (sql, known) = match &self.backend {
            Backend::Sqlite(_) => ("PRAGMA user_version", sqlite::MIGRATIONS.len()),
            Backend::Postgres(_) => (
                "SELECT version FROM strongroom_schema",
                postgres::PG_MIGRATIONS.len(),
            ),
        };
        self.read(move |c| {
            let version: i64 = c.query_row(sql, (), |r| r.get(0))?;
            Ok(usize::try_from(version).is_ok_and(|v| v == known))
        })
        .await
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
