//! Group commit, the same for both databases: writes go to a dedicated
//! writer thread through a channel. The thread takes every job waiting in
//! the channel, runs each in its own savepoint inside one transaction, and
//! commits once, so one fsync (or, with PostgreSQL, one round of the
//! shared lock) covers a whole batch, and no write ever blocks the async
//! runtime. A job's caller hears back only after the commit, so anything
//! acknowledged survives SIGKILL.

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use super::{Db, closed};
use crate::error::GatewayError;
use crate::sql::Connection;

/// The advisory lock [`Db::write_exclusive`] takes (an arbitrary constant,
/// next to the one migrations take).
const SET_UP_LOCK: i64 = 5_353_520_102;

/// A batch slower than this is reported on stderr, with where its time went.
const SLOW_BATCH: Duration = Duration::from_millis(500);

/// The most jobs one commit covers; bounds the latency a batch adds.
const MAX_BATCH: usize = 512;

/// What a job hands back after running: whether it succeeded (else its
/// savepoint is rolled back), and the function that reports to its caller
/// once the commit's outcome is known.
type Completion = Box<dyn FnOnce(bool) + Send>;
/// What runs one write on the writer thread inside the batch's transaction.
type RunJob = Box<dyn FnOnce(&Connection<'_>) -> (bool, Completion) + Send>;

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
    run: RunJob,
}

/// Small writes that many callers make at once and one statement can
/// cover (a device's acknowledgement, say): each caller queues its record
/// with [`Db::write_coalesced`], and one job of the next batch writes every
/// record queued by then. Ten thousand devices acknowledging at once cost
/// one job (one savepoint; on PostgreSQL one statement) per batch, not one
/// each: with PostgreSQL every statement is a round trip, and the writer
/// is the one place that every gateway's writes pass through.
pub struct CoalescedWrites<T> {
    pending: Mutex<Vec<(T, tokio::sync::oneshot::Sender<bool>)>>,
    write: fn(&Connection<'_>, &[T]) -> Result<(), GatewayError>,
}

impl<T> CoalescedWrites<T> {
    /// A queue whose records `write` writes, all of a batch in one call
    /// (never with an empty slice).
    pub fn new(write: fn(&Connection<'_>, &[T]) -> Result<(), GatewayError>) -> Arc<Self> {
        Arc::new(CoalescedWrites {
            pending: Mutex::new(Vec::new()),
            write,
        })
    }
}

impl<T> std::fmt::Debug for CoalescedWrites<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queued = self.pending.lock().map_or(0, |p| p.len());
        f.debug_struct("CoalescedWrites")
            .field("queued", &queued)
            .finish()
    }
}

/// A [`CoalescedWrites`] queue's job until it runs. Dropped before it ran
/// (the database closed, or the writer had no connection for its batch),
/// it empties the queue, failing every record there: left queued, they
/// would wait for a job that no one sends, since only a record that finds
/// the queue empty sends one.
struct FailQueuedIfDropped<T>(Option<Arc<CoalescedWrites<T>>>);

impl<T> Drop for FailQueuedIfDropped<T> {
    fn drop(&mut self) {
        if let Some(queue) = self.0.take()
            && let Ok(mut pending) = queue.pending.lock()
        {
            pending.clear();
        }
    }
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

/// Sends a committed batch's announcements to the other gateway processes
/// (after the commit, outside any transaction; nothing for SQLite). It
/// cannot fail the batch: the commit stands whatever happens to them.
pub(super) type PublishAnnouncements<'a> = dyn FnMut(&Connection<'_>, &[String]) + 'a;

/// Runs one batch in one transaction (`begin` opens it), each job in its
/// own savepoint, commits, then `publish`es what the jobs that succeeded
/// announced; reports to every caller once the outcome is known (and the
/// announcement sent, so that a caller's answer means the other gateways
/// were told). Returns the announcements that committed.
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
        let (ok, done) = (job.run)(conn);
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
    let committed = !broken && conn.execute_batch("COMMIT").is_ok();
    let total = started.elapsed();
    crate::metrics::metrics()
        .batch_seconds
        .observe(total.as_secs_f64());
    if total > SLOW_BATCH {
        // Where a slow batch spent its time: opening, its jobs (with
        // PostgreSQL, this includes waiting for another gateway's batch
        // that changes the same customer's rows), or committing.
        tracing::warn!(
            jobs,
            total_ms = u64::try_from(total.as_millis()).unwrap_or(u64::MAX),
            open_ms = u64::try_from(began.as_millis()).unwrap_or(u64::MAX),
            jobs_ms = u64::try_from((ran - began).as_millis()).unwrap_or(u64::MAX),
            commit_ms = u64::try_from((total - ran).as_millis()).unwrap_or(u64::MAX),
            "slow database batch"
        );
    }
    if committed {
        publish(conn, &announced);
    } else {
        let _ = conn.execute_batch("ROLLBACK");
        announced.clear();
    }
    for done in completions {
        done(committed);
    }
    announced
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

    async fn write_job<R, E, F>(&self, customer: Option<i64>, f: F) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<GatewayError> + Send + 'static,
        F: FnOnce(&Connection<'_>) -> Result<R, E> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel::<Result<R, E>>();
        let run: RunJob = Box::new(move |conn| {
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
        if !self.send(Job { customer, run }) {
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
            let mut guard = FailQueuedIfDropped(Some(Arc::clone(queue)));
            let run: RunJob = Box::new(move |conn| {
                let Some(queue) = guard.0.take() else {
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
                    tracing::error!(records = records.len(), error = %e, "writing queued records failed");
                }
                let ok = written.is_ok();
                let done: Completion = Box::new(move |committed| {
                    for reply in replies {
                        let _ = reply.send(ok && committed);
                    }
                });
                (ok, done)
            });
            // If the database closed, the job is dropped here, unrun. It
            // names no customer: the records are many devices' (their
            // rows in `device_acks`, say, which no customer's job locks).
            self.send(Job {
                customer: None,
                run,
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

    /// Hands a job to the writer thread; false once the database closed.
    fn send(&self, job: Job) -> bool {
        match self.writer.lock() {
            Ok(guard) => guard.as_ref().is_some_and(|w| w.send(job).is_ok()),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Database;
    use std::sync::atomic::{AtomicBool, Ordering};

    fn noop_job() -> Job {
        Job {
            customer: None,
            run: Box::new(|_| (true, Box::new(|_| ()))),
        }
    }

    #[test]
    fn only_a_small_batch_of_a_busy_writer_waits() {
        // A caller writing serially: the writer waited, the batch before
        // had one job.
        assert!(!waits_for_company(true, 1, 1));
        assert!(!waits_for_company(true, 0, 1), "the first batch");
        // A job was already waiting, or the batch before had several.
        assert!(waits_for_company(false, 1, 1));
        assert!(waits_for_company(true, 2, 1));
        assert!(waits_for_company(false, 1, GATHERED - 1));
        // Queuing faster than batches run: no wait.
        assert!(!waits_for_company(false, 5, GATHERED));
    }

    #[test]
    fn a_busy_writer_waits_for_company_and_an_idle_serial_or_full_one_does_not() {
        let (tx, rx) = mpsc::channel();
        // Waited for, after a batch of one (a caller writing serially): at
        // once, alone.
        let late = tx.clone();
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            late.send(noop_job()).unwrap();
        });
        assert_eq!(next_batch(&rx, 1).unwrap().len(), 1);
        sender.join().unwrap();
        // Already waiting when the batch before ended: busy, so a small
        // batch waits for company.
        tx.send(noop_job()).unwrap();
        let started = std::time::Instant::now();
        assert_eq!(next_batch(&rx, 1).unwrap().len(), 1);
        assert!(
            started.elapsed() >= GATHER,
            "a small batch of a busy writer waits"
        );
        // Busy with a queue already: no wait, everything in one batch.
        for _ in 0..GATHERED + 3 {
            tx.send(noop_job()).unwrap();
        }
        assert_eq!(next_batch(&rx, 1).unwrap().len(), GATHERED + 3);
        drop(tx);
        assert!(
            next_batch(&rx, 0).is_none(),
            "a closed channel ends the writer"
        );
    }

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
        let queue = CoalescedWrites::new(write_settings);
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
                db.write_coalesced(&queue, format!("k{i}")).await
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
        let refused = db.write_coalesced(&queue, "refused".into()).await;
        assert!(
            matches!(refused, Err(GatewayError::Storage(_))),
            "{refused:?}"
        );
        REFUSE.store(false, Ordering::SeqCst);
        db.write_coalesced(&queue, "after".into())
            .await
            .expect("the queue still works after a failed write");
        assert_eq!(settings(Arc::clone(&db)).await, 201);

        // Once closed, a record is refused at once rather than left waiting.
        db.close();
        let late = tokio::time::timeout(
            Duration::from_secs(5),
            db.write_coalesced(&queue, "late".into()),
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
        assert_eq!(version, super::super::sqlite::MIGRATIONS.len() as i64);
    }
}
