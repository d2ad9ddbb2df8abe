//! Group commit, the same for both databases: writes go to a dedicated
//! writer thread through a channel. The thread takes every job waiting in
//! the channel, runs them inside one transaction, and commits once, so one
//! fsync covers a whole batch, and no write ever blocks the async runtime.
//! A job that fails has its own changes rolled back and the others still
//! commit. A job's caller hears back only after the commit, so anything
//! acknowledged survives SIGKILL.

use std::sync::{Arc, mpsc};
use std::time::Duration;

use super::writes::{
    CallerWrite, CoalescedWrites, QueuedRecords, SharedStatement, SharedWrite, Write,
};
use super::{Db, closed};
use crate::error::GatewayError;
use crate::sql::Connection;

/// The advisory lock [`Db::write_exclusive`] takes (an arbitrary constant,
/// next to the one migrations take).
const SET_UP_LOCK: i64 = 5_353_520_102;

/// A batch slower than this is reported on stderr.
const SLOW_BATCH: Duration = Duration::from_millis(500);

/// The most jobs one commit covers; bounds the latency a batch adds.
const MAX_BATCH: usize = 512;

/// One write, and the customer whose rows it changes, when it names one.
///
/// With PostgreSQL, several gateways' batches commit at once, and each
/// holds the row locks it took until its commit. Two batches that took two
/// customers' rows in opposite orders would deadlock; a batch therefore
/// runs its jobs ordered by customer (those naming none first, and jobs of
/// one customer in the order they came), so that every gateway takes
/// customers' rows in the same, ascending, order. The jobs of one batch
/// were all waiting at once, with no caller told of any before the commit:
/// any order of them is one their callers could have seen.
pub(super) struct Job {
    customer: Option<i64>,
    write: Box<dyn Write>,
}

/// Starts the writer thread, which runs `run` over the job channel.
pub(super) fn start_writer(
    run: impl FnOnce(mpsc::Receiver<Job>) + Send + 'static,
) -> Result<(mpsc::Sender<Job>, std::thread::JoinHandle<()>), GatewayError> {
    let (tx, rx) = mpsc::channel::<Job>();
    let thread = std::thread::Builder::new()
        .name("gateway-db-writer".into())
        .spawn(move || run(rx))
        .map_err(|e| GatewayError::io("starting the database writer", e))?;
    Ok((tx, thread))
}

/// How long a small batch of a busy writer waits for more jobs before it
/// runs. Why: at 2,000 alerts/s the writer committed 2,300 batches a
/// second of one or two jobs (an alert, an acknowledgement), each with its
/// own WAL frames and fsync, and was 45 % of the gateway's CPU. One
/// millisecond is nothing beside a delivery.
const GATHER: Duration = Duration::from_millis(1);

/// A batch at least this large runs at once even when the writer is busy:
/// jobs are queuing faster than batches run, and waiting would only slow it.
const GATHERED: usize = 8;

/// Takes the jobs waiting in the channel (at least one, at most
/// [`MAX_BATCH`]); `None` when the channel closed. `previous` is how many
/// jobs the batch before had.
///
/// The writer is busy, and a small batch waits [`GATHER`] for company,
/// when a job was already waiting as the previous batch ended, or that
/// batch had several. A writer that had to wait for this job is not busy:
/// a caller that sends one write at a time, awaiting each (a stream's
/// acknowledgements, a bank posting serially), must not pay the wait on
/// every write, as no other job could join it.
pub(super) fn next_batch(jobs: &mpsc::Receiver<Job>, previous: usize) -> Option<Vec<Job>> {
    let (first, waited) = match jobs.try_recv() {
        Ok(job) => (job, false),
        Err(mpsc::TryRecvError::Empty) => (jobs.recv().ok()?, true),
        Err(mpsc::TryRecvError::Disconnected) => return None,
    };
    let mut batch = vec![first];
    drain(jobs, &mut batch);
    if waits_for_company(waited, previous, batch.len()) {
        // One sleep, not a wait that each new job would wake.
        std::thread::sleep(GATHER);
        drain(jobs, &mut batch);
    }
    Some(batch)
}

/// Whether a batch of `len` jobs waits [`GATHER`] for more: when the
/// writer is busy (it did not have to wait for the batch's first job, or
/// the batch before had several) and the batch is small.
fn waits_for_company(waited: bool, previous: usize, len: usize) -> bool {
    (!waited || previous > 1) && len < GATHERED
}

/// Adds the jobs waiting in the channel to `batch`, up to [`MAX_BATCH`].
fn drain(jobs: &mpsc::Receiver<Job>, batch: &mut Vec<Job>) {
    while batch.len() < MAX_BATCH {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

/// Where a batch's time went, for the slow-batch log: opening its
/// transaction, running its jobs, and committing (with a batch that ran
/// again, both tries).
#[derive(Debug, Default)]
struct Phases {
    open: Duration,
    jobs: Duration,
    commit: Duration,
}

impl Phases {
    /// Adds the time since `*mark` to `phase`, and moves `mark` to now.
    fn add(phase: &mut Duration, mark: &mut std::time::Instant) {
        let now = std::time::Instant::now();
        *phase += now - *mark;
        *mark = now;
    }
}

/// Whole milliseconds, for a log line.
fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Sends a committed batch's announcements to the other gateway processes
/// (after the commit, outside any transaction; nothing for SQLite). It
/// cannot fail the batch: the commit stands whatever happens to them.
pub(super) type PublishAnnouncements<'a> = dyn FnMut(&Connection<'_>, &[String]) + 'a;

/// Runs one batch in one transaction (`begin` opens it), commits, then
/// `publish`es what the jobs that succeeded announced; reports to every
/// caller once the outcome is known (and the announcement sent, so that a
/// caller's answer means the other gateways were told). Returns the
/// announcements that committed.
///
/// A batch whose every job is repeatable ([`Write::repeatable`]: the
/// alerts the bank posts, the devices' acknowledgements) runs them one
/// after the other with no savepoint of their own ([`run_together`]); only if one fails
/// is all of it rolled back and run again, each job in a savepoint of its
/// own ([`run_in_savepoints`]). Why: with PostgreSQL each savepoint is one
/// more round trip per job on the writer, the chain that bounds what one
/// gateway commits, and jobs that fail are rare.
pub(super) fn run_batch(
    conn: &Connection<'_>,
    batch: Vec<Job>,
    begin: &str,
    publish: &mut PublishAnnouncements<'_>,
) -> Vec<String> {
    let started = std::time::Instant::now();
    let mut batch = batch;
    // Stable: one customer's jobs keep their order.
    batch.sort_by_key(|job| job.customer);
    let together = batch.iter().all(|job| job.write.repeatable());
    let mut phases = Phases::default();
    let tried = if together {
        run_together(conn, &mut batch, begin, &mut phases)
    } else {
        None
    };
    let ran_again = together && tried.is_none();
    if ran_again {
        crate::metrics::metrics().batches_run_again.inc();
    }
    let (committed, mut announced) =
        tried.unwrap_or_else(|| run_in_savepoints(conn, &mut batch, begin, !together, &mut phases));
    let total = started.elapsed();
    crate::metrics::metrics()
        .batch_seconds
        .observe(total.as_secs_f64());
    if total > SLOW_BATCH {
        // With PostgreSQL, a batch's jobs include waiting for another
        // gateway's batch that changes the same customer's rows.
        tracing::warn!(
            jobs = batch.len(),
            total_ms = ms(total),
            open_ms = ms(phases.open),
            jobs_ms = ms(phases.jobs),
            commit_ms = ms(phases.commit),
            ran_again,
            committed,
            "slow database batch"
        );
    }
    if committed {
        publish(conn, &announced);
    } else {
        announced.clear();
    }
    for job in batch {
        job.write.complete(committed);
    }
    announced
}

/// Runs every job of `batch` in one transaction, with no savepoint per job:
/// `Some((committed, announced))` once the commit was tried, or `None` if a
/// job failed, everything then rolled back for [`run_in_savepoints`] to run
/// again.
fn run_together(
    conn: &Connection<'_>,
    batch: &mut [Job],
    begin: &str,
    phases: &mut Phases,
) -> Option<(bool, Vec<String>)> {
    let mut mark = std::time::Instant::now();
    // The savepoint round the whole batch is there to be released at the
    // end (see below), in the same round trips as BEGIN and COMMIT.
    let opened = conn.execute_batch(&format!("{begin}; SAVEPOINT batch"));
    Phases::add(&mut phases.open, &mut mark);
    if opened.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
        return Some((false, Vec::new()));
    }
    let mut announced = Vec::new();
    let mut rest = &mut *batch;
    while !rest.is_empty() {
        // The writes of one shared statement's kind side by side run as
        // one (see `SharedStatement`); any other write, alone.
        let run = shared_run(rest);
        let (now, later) = rest.split_at_mut(run);
        rest = later;
        let ok = match now {
            [job] => job.write.run(conn),
            group => run_shared(conn, group),
        };
        let lines = conn.take_announcements();
        if !ok {
            let _ = conn.execute_batch("ROLLBACK");
            Phases::add(&mut phases.jobs, &mut mark);
            return None;
        }
        announced.extend(lines);
    }
    Phases::add(&mut phases.jobs, &mut mark);
    // A statement that failed inside a job that still reported success
    // leaves a PostgreSQL transaction refusing every command, and COMMIT
    // then rolls back without an error; SQLite, after some errors (a full
    // disk), has rolled the transaction back and runs what follows on its
    // own. Either way releasing the batch's savepoint fails first, so such
    // a batch is never reported committed. (With a savepoint per job, each
    // job's RELEASE catches it.)
    let committed = conn.execute_batch("RELEASE batch; COMMIT").is_ok();
    if !committed {
        let _ = conn.execute_batch("ROLLBACK");
    }
    Phases::add(&mut phases.commit, &mut mark);
    Some((committed, announced))
}

/// How many jobs at the start of `jobs` (at least one) run as one: those
/// of the first job's shared statement kind, if it has one.
fn shared_run(jobs: &[Job]) -> usize {
    let Some((kind, _)) = jobs.first().and_then(|job| job.write.group()) else {
        return 1;
    };
    jobs.iter()
        .take_while(|job| job.write.group().is_some_and(|(k, _)| k == kind))
        .count()
        .max(1)
}

/// Runs `group` (jobs of one shared statement kind, see [`shared_run`])
/// with one call of their kind's group function.
fn run_shared(conn: &Connection<'_>, group: &mut [Job]) -> bool {
    let Some((_, run)) = group.first().and_then(|job| job.write.group()) else {
        return false;
    };
    let mut writes: Vec<&mut dyn std::any::Any> =
        group.iter_mut().map(|job| job.write.as_any_mut()).collect();
    run(conn, &mut writes)
}

/// Runs every job of `batch` in one transaction, each in a savepoint of
/// its own, so that one that fails is rolled back alone; `(committed,
/// announced)`. With `groups`, the jobs of a shared statement side by
/// side first run as one, in one savepoint, and only if that fails each
/// alone (without: the batch ran together and failed, so they would
/// fail again).
fn run_in_savepoints(
    conn: &Connection<'_>,
    batch: &mut [Job],
    begin: &str,
    groups: bool,
    phases: &mut Phases,
) -> (bool, Vec<String>) {
    let mut mark = std::time::Instant::now();
    // Without a transaction nothing can be committed: the jobs are not
    // run, and their callers hear that their write did not commit.
    let opened = conn.execute_batch(&format!("{begin}; SAVEPOINT job"));
    Phases::add(&mut phases.open, &mut mark);
    if opened.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
        return (false, Vec::new());
    }
    // One savepoint is kept open ahead of every job: a job that fails is
    // rolled back to it (which keeps it for the next job); one that succeeds
    // is released and the next savepoint made in the same round trip.
    let mut announced = Vec::new();
    // Whether a job's changes were kept is unknown if its savepoint's
    // statement fails: commit nothing rather than report a job done that
    // was not.
    let mut step = |ok: bool| -> Result<bool, ()> {
        let lines = conn.take_announcements();
        let next = if ok {
            "RELEASE job; SAVEPOINT job"
        } else {
            "ROLLBACK TO job"
        };
        conn.execute_batch(next).map_err(|_| ())?;
        if ok {
            announced.extend(lines);
        }
        Ok(ok)
    };
    let mut rest = &mut *batch;
    let mut stepped = Ok(());
    while !rest.is_empty() && stepped.is_ok() {
        let run = if groups { shared_run(rest) } else { 1 };
        let (now, later) = rest.split_at_mut(run);
        rest = later;
        if now.len() > 1 {
            match step(run_shared(conn, now)) {
                Ok(true) => continue,
                Ok(false) => {}
                Err(()) => {
                    stepped = Err(());
                    break;
                }
            }
        }
        for job in now.iter_mut() {
            let ok = job.write.run(conn);
            if step(ok).is_err() {
                stepped = Err(());
                break;
            }
        }
    }
    Phases::add(&mut phases.jobs, &mut mark);
    if stepped.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
        return (false, Vec::new());
    }
    // Released first, as in `run_together`: a transaction that failed
    // unseen fails here, not in a COMMIT that rolls back.
    let committed = conn.execute_batch("RELEASE job; COMMIT").is_ok();
    if !committed {
        let _ = conn.execute_batch("ROLLBACK");
    }
    Phases::add(&mut phases.commit, &mut mark);
    (committed, announced)
}

impl Db {
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
        self.write_job(None, f).await
    }

    /// [`Db::write`] for a write that changes one customer's rows (appends
    /// events to their devices, say): its batch runs it in customer order
    /// (see [`Job`]), so that no two gateways' batches deadlock over two
    /// customers' rows. A write that changes several customers' rows, or
    /// rows of none, is a plain [`Db::write`].
    ///
    /// # Errors
    /// As [`Db::write`].
    pub async fn write_for_customer<R, E, F>(&self, customer_id: i64, f: F) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<GatewayError> + Send + 'static,
        F: FnOnce(&Connection<'_>) -> Result<R, E> + Send + 'static,
    {
        self.write_job(Some(customer_id), f).await
    }

    /// [`Db::write_for_customer`] when `customer` is known, else
    /// [`Db::write`]: for a write that finds the customer whose rows it
    /// changes by a read made just before (a device's token, say).
    ///
    /// # Errors
    /// As [`Db::write`].
    pub async fn write_for<R, E, F>(&self, customer: Option<i64>, f: F) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<GatewayError> + Send + 'static,
        F: FnOnce(&Connection<'_>) -> Result<R, E> + Send + 'static,
    {
        self.write_job(customer, f).await
    }

    /// [`Db::write`] for what must happen once across every gateway of a
    /// shared database, such as first-run set-up (the first signing key, the
    /// first bank API key) or a key rotation: with PostgreSQL it first takes
    /// a lock that only these writes take ([`SET_UP_LOCK`], held until its
    /// batch commits), so a second gateway's runs after the first's commit
    /// and finds its work done. Rare by design: everyday writes never wait
    /// for it.
    ///
    /// # Errors
    /// As [`Db::write`].
    pub async fn write_exclusive<R, E, F>(&self, f: F) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<GatewayError> + Send + 'static,
        F: FnOnce(&Connection<'_>) -> Result<R, E> + Send + 'static,
    {
        self.write_job(None, move |c| {
            if c.is_postgres() {
                c.execute_batch(&format!("SELECT pg_advisory_xact_lock({SET_UP_LOCK})"))
                    .map_err(|e| E::from(GatewayError::from(e)))?;
            }
            f(c)
        })
        .await
    }

    /// [`Db::write`] for a write whose `f` changes nothing but the
    /// database, through the connection it is given: `f` may then run
    /// more than once, and only its last run's changes commit. A batch of
    /// such writes runs them without a savepoint each, one round trip per
    /// write less with PostgreSQL; if one fails, the batch is rolled back
    /// and runs again with savepoints (see [`run_batch`]). What `f`
    /// announces ([`Connection::announce`]) is sent for its last run only.
    ///
    /// # Errors
    /// As [`Db::write`].
    pub async fn write_repeatable<R, E, F>(&self, f: F) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<GatewayError> + Send + 'static,
        F: FnMut(&Connection<'_>) -> Result<R, E> + Send + 'static,
    {
        self.repeatable_job(None, f).await
    }

    /// [`Db::write_repeatable`] for a write that changes one customer's
    /// rows (see [`Db::write_for_customer`]).
    ///
    /// # Errors
    /// As [`Db::write`].
    pub async fn write_for_customer_repeatable<R, E, F>(
        &self,
        customer_id: i64,
        f: F,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<GatewayError> + Send + 'static,
        F: FnMut(&Connection<'_>) -> Result<R, E> + Send + 'static,
    {
        self.repeatable_job(Some(customer_id), f).await
    }

    async fn repeatable_job<R, E, F>(&self, customer: Option<i64>, f: F) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<GatewayError> + Send + 'static,
        F: FnMut(&Connection<'_>) -> Result<R, E> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel::<Result<R, E>>();
        let write = CallerWrite::repeatable(f, reply);
        self.send_and_wait(customer, Box::new(write), answer).await
    }

    async fn write_job<R, E, F>(&self, customer: Option<i64>, f: F) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<GatewayError> + Send + 'static,
        F: FnOnce(&Connection<'_>) -> Result<R, E> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel::<Result<R, E>>();
        let write = CallerWrite::once(f, reply);
        self.send_and_wait(customer, Box::new(write), answer).await
    }

    /// Sends `write` to the writer and waits for its `answer`.
    async fn send_and_wait<R, E>(
        &self,
        customer: Option<i64>,
        write: Box<dyn Write>,
        answer: tokio::sync::oneshot::Receiver<Result<R, E>>,
    ) -> Result<R, E>
    where
        E: From<GatewayError>,
    {
        if !self.send(Job { customer, write }) {
            return Err(closed());
        }
        answer.await.unwrap_or_else(|_| {
            Err(E::from(GatewayError::Storage(
                "the database writer could not run the write".into(),
            )))
        })
    }

    /// Queues `record` on `queue` and returns once a commit has made it
    /// durable, like [`Db::write`]; but every record queued before the
    /// writer reaches the queue's job is written by that one job, with
    /// one call of the queue's write function.
    ///
    /// # Errors
    /// [`GatewayError::Storage`] if the write or its commit failed (for
    /// every record it covered), or the database is closed.
    pub async fn write_coalesced<T: Send + 'static>(
        &self,
        queue: &Arc<CoalescedWrites<T>>,
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
            // If the database closed, the job is dropped here, unrun,
            // failing what is queued. It names no customer: the records
            // are many devices' (their rows in `device_acks`, say, which
            // no customer's job locks).
            self.send(Job {
                customer: None,
                write: Box::new(QueuedRecords::new(Arc::clone(queue))),
            });
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

    /// Writes `record` with `S`'s statement, which the batch shares with
    /// every record of `S` beside it (see [`SharedStatement`]); returns its
    /// output once the commit is durable. The record's customer
    /// ([`SharedStatement::customer`]) places it in the batch as
    /// [`Db::write_for_customer`] does.
    ///
    /// # Errors
    /// The statement's error (for this record alone: a batch whose shared
    /// statement failed runs each record again on its own), or
    /// [`GatewayError::Storage`] if the commit failed or the database is
    /// closed.
    pub async fn write_shared<S: SharedStatement>(
        &self,
        record: S::Record,
    ) -> Result<S::Output, GatewayError> {
        let customer = S::customer(&record);
        let (reply, answer) = tokio::sync::oneshot::channel();
        let write = SharedWrite::<S>::new(record, reply);
        self.send_and_wait(customer, Box::new(write), answer).await
    }

    /// Hands a job to the writer thread; false once the database closed.
    fn send(&self, job: Job) -> bool {
        match self.writer.lock() {
            Ok(guard) => guard.as_ref().is_some_and(|w| w.send(job).is_ok()),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
#[path = "batch_tests.rs"]
mod tests;
