//! PostgreSQL, which several gateway processes can share. Each process
//! commits its batches on a writer thread with a connection of its own,
//! and the gateways' batches commit side by side: no lock is taken by
//! every batch. Two batches wait for each other only over the rows they
//! both change (one customer's devices, numbered by both), and take them
//! in one order, customer by customer (see `batch::Job`), so they cannot
//! deadlock; acknowledgements lock rows of their own (`device_acks`),
//! never the rows events are numbered under. What a job
//! [`Connection::announce`]s goes out once its batch has committed,
//! through NOTIFY or a Redis stream (see `announce`), and a listener thread
//! hears the other gateways' announcements. Reads use pooled connections.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;

use super::announce::{Broker, CHANNEL, Publisher};
use super::batch::{Job, next_batch, run_batch};
use super::{closed, newer_schema};
use crate::error::GatewayError;
use crate::sql::{Connection, PgSession};

/// The same schema as SQLite's, one file per SQLite migration (the table
/// `strongroom_schema` counts how many have run).
pub(super) const PG_MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_initial.sql"),
    include_str!("../../migrations/postgres/0002_history_index.sql"),
    include_str!("../../migrations/postgres/0003_staff.sql"),
    include_str!("../../migrations/postgres/0004_ack_times.sql"),
    include_str!("../../migrations/postgres/0005_cohorts.sql"),
    include_str!("../../migrations/postgres/0006_delivery_times.sql"),
    include_str!("../../migrations/postgres/0007_audience_and_demo.sql"),
    include_str!("../../migrations/postgres/0008_calls.sql"),
    include_str!("../../migrations/postgres/0009_bank_idp.sql"),
    include_str!("../../migrations/postgres/0010_cluster.sql"),
    include_str!("../../migrations/postgres/0011_idempotency.sql"),
    include_str!("../../migrations/postgres/0012_api_clients.sql"),
    include_str!("../../migrations/postgres/0013_sign_in_failures.sql"),
    include_str!("../../migrations/postgres/0014_event_streams.sql"),
    include_str!("../../migrations/postgres/0015_device_acks.sql"),
    include_str!("../../migrations/postgres/0016_retire_record_acks.sql"),
];

/// PostgreSQL read connections per gateway process (besides the writer's
/// and the listener's). Two gateways, or the test suite's parallel ones,
/// stay well under the server's default of 100 connections.
const PG_READERS: usize = 8;

/// A function that applies one announcement line; the flag says whether
/// this process committed it.
pub type AnnouncementHandler = Arc<dyn Fn(&str, bool) + Send + Sync>;

/// A pool of PostgreSQL sessions for reads, and what the writer and the
/// listener need.
pub(super) struct PostgresBackend {
    config: PgTarget,
    sessions: Mutex<Vec<PgSession>>,
    slots: tokio::sync::Semaphore,
    /// This process's name in announcements, so it skips its own.
    pub(super) node: String,
    /// `--broker`: where announcements go instead of NOTIFY.
    broker: Option<Broker>,
    /// The broker's stream for this database (see `announcement_stream`).
    stream: String,
    /// What announcements are authenticated with (see `announcement_key`).
    key: ring::hmac::Key,
    closed: AtomicBool,
    listener: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// What [`Db::listen`](super::Db::listen) was given, also called with
    /// this process's own committed announcements.
    on_announcement: Mutex<Option<AnnouncementHandler>>,
}

/// How the gateway reaches PostgreSQL: the connection settings and, for a
/// server on another machine, TLS that verifies the server's certificate
/// and host name (`sslmode=verify-full`).
#[derive(Clone)]
pub(super) struct PgTarget {
    config: postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

/// The connection settings of a `--database` URL.
pub(super) fn pg_config(url: &str) -> Result<PgTarget, GatewayError> {
    let (url, tls) = super::split_tls(url)?;
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| GatewayError::Config(format!("--database: {e}")))?;
    config
        .application_name("strongroom-gateway")
        .connect_timeout(Duration::from_secs(10));
    let tls = match tls {
        None => None,
        // `sslrootcert`'s CAs alone, as libpq trusts them; without it the
        // system's.
        Some(ca) => Some(tokio_postgres_rustls::MakeRustlsConnect::new(
            crate::tls::client_config(ca.as_deref(), ca.is_none())?,
        )),
    };
    Ok(PgTarget { config, tls })
}

/// A new session on the server.
pub(super) fn pg_connect(target: &PgTarget) -> Result<PgSession, GatewayError> {
    let connected = match &target.tls {
        None => target.config.connect(postgres::NoTls),
        Some(tls) => target.config.connect(tls.clone()),
    };
    connected.map(PgSession::new).map_err(|e| {
        GatewayError::Storage(format!(
            "connecting to PostgreSQL: {}",
            crate::sql::Error::from(e)
        ))
    })
}

/// Applies every PostgreSQL migration not yet applied, in one transaction
/// under an advisory lock, so that gateways starting together migrate once.
pub(super) fn pg_migrate(session: &mut PgSession) -> Result<(), GatewayError> {
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

/// The setting `name`, stored as `candidate` by the first gateway that
/// asks: one statement each, so gateways starting together all keep the
/// first's.
fn setting_made_once(
    session: &mut PgSession,
    name: &str,
    candidate: &str,
) -> Result<String, GatewayError> {
    let conn = Connection::postgres(session);
    conn.execute(
        "INSERT INTO settings(name, value) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
        [name, candidate],
    )?;
    Ok(
        conn.query_row("SELECT value FROM settings WHERE name = ?1", [name], |r| {
            r.get(0)
        })?,
    )
}

/// The name of the broker stream this database's gateways announce on:
/// `strongroom:` and a random name the first gateway stored, so that the
/// clusters of two databases (a bank's test and production, say) sharing
/// one Redis server never hear each other.
fn announcement_stream(session: &mut PgSession, candidate: &str) -> Result<String, GatewayError> {
    let name = setting_made_once(session, "announcement_stream", candidate)?;
    Ok(format!("strongroom:{name}"))
}

/// The key every gateway of this database authenticates its announcements
/// with, derived from the cluster secret (`cluster::shared_key`'s; made
/// here from `candidate` if this is the database's first gateway). Anyone
/// who can NOTIFY on the database or write to the broker, a reporting
/// user or a broker shared with other systems, could otherwise announce a
/// chat message's body to a customer's stream, revoke streams, or wake
/// every stream at will.
fn announcement_key(
    session: &mut PgSession,
    candidate: &str,
) -> Result<ring::hmac::Key, GatewayError> {
    let secret = setting_made_once(session, "cluster_secret", candidate)?;
    crate::cluster::derive_key(&secret, "announcements")
}

/// How every batch's transaction opens: with no lock (see the module's
/// documentation).
pub(super) const BEGIN_BATCH: &str = "BEGIN";

/// The writer thread's loop: one transaction per batch, on a connection
/// made again if it broke.
pub(super) fn run_writer(
    pg: Arc<PostgresBackend>,
    mut publisher: Publisher,
    jobs: mpsc::Receiver<Job>,
) {
    let mut session: Option<PgSession> = None;
    let mut previous = 0;
    while let Some(batch) = next_batch(&jobs, previous) {
        previous = batch.len();
        if session.as_ref().is_none_or(|s| s.client.is_closed()) {
            session = match pg_connect(&pg.config) {
                Ok(mut s) => {
                    define_session_functions(&mut s);
                    Some(s)
                }
                Err(e) => {
                    tracing::error!(error = %e, "the database writer cannot connect");
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
        let committed = run_batch(&conn, batch, BEGIN_BATCH, &mut |conn, lines| {
            publisher.publish(conn, lines);
        });
        // This process hears its own commits here, before the callers do
        // (the listener skips them): its streams get the bodies too.
        if !committed.is_empty()
            && let Some(on_line) = pg.on_announcement.lock().ok().and_then(|h| h.clone())
        {
            for line in &committed {
                on_line(line, true);
            }
        }
    }
}

/// Gives the writer's new session the functions its writes call in one
/// round trip (see `acks::pg_define_record_acks`). One it cannot define
/// (the role lacks `TEMPORARY` on the database) is logged, and its writes
/// take their longer way.
fn define_session_functions(session: &mut PgSession) {
    let defined = crate::acks::pg_define_record_acks(&Connection::postgres(session));
    match defined {
        Ok(()) => session.functions.push(crate::acks::PG_RECORD_ACKS_FUNCTION),
        Err(e) => tracing::warn!(
            error = %e,
            "the database writer could not define its function for acknowledgements \
             (does its role have TEMPORARY on the database?); each batch of them takes \
             four round trips instead of one"
        ),
    }
    let defined = crate::events::pg_define_store_posted_alerts(&Connection::postgres(session));
    match defined {
        Ok(()) => session
            .functions
            .push(crate::events::PG_STORE_POSTED_ALERTS_FUNCTION),
        Err(e) => tracing::warn!(
            error = %e,
            "the database writer could not define its function for posted alerts \
             (does its role have TEMPORARY on the database?); each alert takes a \
             statement of its own instead of sharing one with its batch"
        ),
    }
}

impl PostgresBackend {
    /// Connects to the server named by `url`, migrating it first; the
    /// first session joins the read pool.
    pub(super) async fn open(
        url: &str,
        broker: Option<&Broker>,
    ) -> Result<Arc<PostgresBackend>, GatewayError> {
        let config = pg_config(url)?;
        let first = config.clone();
        let rng = ring::rand::SystemRandom::new();
        let candidate = crate::crypto::random_token(&rng);
        let secret =
            strongroom_core::protocol::jose::b64_encode(&crate::crypto::random_bytes::<32>(&rng));
        let (session, stream, key) = tokio::task::spawn_blocking(move || {
            let mut session = pg_connect(&first)?;
            pg_migrate(&mut session)?;
            let stream = announcement_stream(&mut session, &candidate)?;
            let key = announcement_key(&mut session, &secret)?;
            Ok::<_, GatewayError>((session, stream, key))
        })
        .await
        .map_err(|e| GatewayError::Storage(e.to_string()))??;
        Ok(Arc::new(PostgresBackend {
            config,
            sessions: Mutex::new(vec![session]),
            slots: tokio::sync::Semaphore::new(PG_READERS),
            node: crate::crypto::random_token(&rng),
            broker: broker.cloned(),
            stream,
            key,
            closed: AtomicBool::new(false),
            listener: Mutex::new(None),
            on_announcement: Mutex::new(None),
        }))
    }

    /// Starts the listening thread; see [`Db::listen`](super::Db::listen).
    pub(super) fn start_listening(
        self: &Arc<Self>,
        on_line: AnnouncementHandler,
    ) -> Result<(), GatewayError> {
        if let Ok(mut handler) = self.on_announcement.lock() {
            *handler = Some(Arc::clone(&on_line));
        }
        let pg = Arc::clone(self);
        let thread = std::thread::Builder::new()
            .name("gateway-announcements".into())
            .spawn(move || match &pg.broker {
                Some(broker) => super::announce::listen_redis(
                    broker, &pg.stream, &pg.key, &pg.node, &pg.closed, &on_line,
                ),
                None => pg.listen(on_line),
            })
            .map_err(|e| GatewayError::io("starting the database listener", e))?;
        if let Ok(mut slot) = self.listener.lock() {
            *slot = Some(thread);
        }
        Ok(())
    }

    /// Runs `f` on a pooled session, on the blocking pool.
    pub(super) async fn read<R, E, F>(self: &Arc<Self>, f: F) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<GatewayError> + Send + 'static,
        F: FnOnce(&Connection<'_>) -> Result<R, E> + Send + 'static,
    {
        let Ok(_slot) = self.slots.acquire().await else {
            return Err(closed());
        };
        let pg = Arc::clone(self);
        tokio::task::spawn_blocking(move || pg.read_blocking(f))
            .await
            .unwrap_or_else(|_| Err(E::from(GatewayError::Storage("a read panicked".into()))))
    }

    /// What the writer thread announces its commits with.
    pub(super) fn publisher(&self) -> Result<Publisher, GatewayError> {
        Publisher::new(
            &self.node,
            self.broker.as_ref(),
            &self.stream,
            self.key.clone(),
        )
    }

    /// Stops the listener and empties the read pool (the writer has
    /// stopped already).
    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.slots.close();
        if let Some(thread) = self.listener.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
        if let Ok(mut pool) = self.sessions.lock() {
            pool.clear();
        }
    }

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

    fn read_blocking<R, E>(&self, f: impl FnOnce(&Connection<'_>) -> Result<R, E>) -> Result<R, E>
    where
        E: From<GatewayError>,
    {
        let mut session = self.session().map_err(E::from)?;
        let result = f(&Connection::postgres(&mut session));
        self.give_back(session, true);
        result
    }

    /// Hears announcements through LISTEN until the database closes; see
    /// [`Db::listen`](super::Db::listen).
    fn listen(self: &Arc<Self>, on_line: AnnouncementHandler) {
        let mut missed_some = false;
        while !self.closed.load(Ordering::Relaxed) {
            let mut session = match pg_connect(&self.config) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "listening for other gateways");
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
                                if let Some((node, body)) =
                                    super::announce::opened(&self.key, n.payload())
                                    && node != self.node
                                {
                                    body.lines().for_each(|line| on_line(line, false));
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
