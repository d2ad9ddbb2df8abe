//! The writes the writer thread runs ([`Write`]): a caller's function,
//! every record queued on a [`CoalescedWrites`] queue, or a caller's
//! record for a [`SharedStatement`]; and how each tells its caller the
//! outcome once the batch's commit is known.

use std::any::{Any, TypeId};
use std::sync::{Arc, Mutex};

use crate::error::GatewayError;
use crate::sql::Connection;

/// One write as the writer thread runs it (see `batch::run_batch`).
pub(super) trait Write: Send {
    /// Runs the write inside the batch's transaction; whether it
    /// succeeded (the changes of one that failed are rolled back).
    fn run(&mut self, conn: &Connection<'_>) -> bool;

    /// Whether [`Write::run`] may run again once its first run's changes
    /// were rolled back: it changes nothing but the database.
    fn repeatable(&self) -> bool;

    /// Tells the caller how its last run ended: committed, or not (also
    /// when it never ran).
    fn complete(self: Box<Self>, committed: bool);

    /// For a write that can share one statement with the writes of its
    /// kind beside it in a batch ([`SharedWrite`]): its kind, and the
    /// function that runs such a group. `None` for the others.
    fn group(&self) -> Option<(TypeId, RunGroup)> {
        None
    }

    /// The write, to be downcast by its [`RunGroup`] function.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// Runs a group of writes of one [`SharedStatement`] kind as one
/// statement, in the order given; whether it succeeded (when it did not,
/// the batch is rolled back and runs each alone).
pub(super) type RunGroup = fn(&Connection<'_>, &mut [&mut dyn Any]) -> bool;

/// A write that many callers make at once and one statement can cover for
/// all of them, each with its own answer: a bank's posted alerts, say.
/// Each caller's record goes to the writer as a job of its own
/// ([`Db::write_shared`](super::Db::write_shared)), placed in the batch
/// like any other (by customer); the jobs of one kind that end up next to
/// each other run as one call of [`SharedStatement::write`]. Unlike a
/// [`CoalescedWrites`] queue, each caller gets its own output, and a
/// record that makes the shared statement fail fails alone once the batch
/// runs again with each job on its own.
pub trait SharedStatement: Send + 'static {
    /// What one caller writes.
    type Record: Send + 'static;
    /// What one caller gets back.
    type Output: Send + 'static;

    /// The customer whose rows `record` changes, which places its job in
    /// the batch (see [`Db::write_for_customer`](super::Db::write_for_customer)),
    /// or `None` for a record that changes no customer's rows.
    fn customer(record: &Self::Record) -> Option<i64>;

    /// Writes `records`, in their order (a batch's jobs in customer
    /// order), returning one output per record, in the same order. It
    /// changes nothing but the database: a batch may run it again, with
    /// the same records or with some of them.
    ///
    /// # Errors
    /// [`GatewayError::Storage`] (or whatever a record is refused with):
    /// every record of the call then fails with it, or runs again alone.
    fn write(
        conn: &Connection<'_>,
        records: &[&Self::Record],
    ) -> Result<Vec<Self::Output>, GatewayError>;
}

/// A caller's record for a [`SharedStatement`], and where its output goes.
pub(super) struct SharedWrite<S: SharedStatement> {
    record: S::Record,
    result: Option<Result<S::Output, GatewayError>>,
    reply: tokio::sync::oneshot::Sender<Result<S::Output, GatewayError>>,
}

impl<S: SharedStatement> SharedWrite<S> {
    /// The write of `record`, answered on `reply`.
    pub(super) fn new(
        record: S::Record,
        reply: tokio::sync::oneshot::Sender<Result<S::Output, GatewayError>>,
    ) -> Self {
        SharedWrite {
            record,
            result: None,
            reply,
        }
    }
}

impl<S: SharedStatement> Write for SharedWrite<S> {
    fn run(&mut self, conn: &Connection<'_>) -> bool {
        let written = S::write(conn, &[&self.record]).and_then(|outputs| {
            outputs
                .into_iter()
                .next()
                .ok_or_else(|| GatewayError::Storage("a shared write answered nothing".into()))
        });
        let ok = written.is_ok();
        self.result = Some(written);
        ok
    }

    fn repeatable(&self) -> bool {
        true
    }

    fn complete(self: Box<Self>, committed: bool) {
        let _ = self.reply.send(outcome(self.result, committed));
    }

    fn group(&self) -> Option<(TypeId, RunGroup)> {
        Some((TypeId::of::<S>(), run_group::<S>))
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// [`RunGroup`] for the writes of `S`: one call of [`SharedStatement::write`]
/// with every record, each output to its write. The batch groups only
/// writes whose [`Write::group`] named `S`, so every one downcasts.
fn run_group<S: SharedStatement>(conn: &Connection<'_>, group: &mut [&mut dyn Any]) -> bool {
    let jobs = group.len();
    let mut writes: Vec<&mut SharedWrite<S>> = group
        .iter_mut()
        .filter_map(|w| w.downcast_mut::<SharedWrite<S>>())
        .collect();
    if writes.len() != jobs {
        return false;
    }
    let written = {
        let records: Vec<&S::Record> = writes.iter().map(|w| &w.record).collect();
        S::write(conn, &records)
    };
    match written {
        Ok(outputs) if outputs.len() == writes.len() => {
            for (write, output) in writes.iter_mut().zip(outputs) {
                write.result = Some(Ok(output));
            }
            true
        }
        // The batch rolls back and runs each write alone, which sets each
        // one's own result (and error).
        Ok(_) | Err(_) => false,
    }
}

/// What a caller hears of its write: its last run's result if the batch
/// committed, else that the transaction did not commit (also when it
/// never ran).
fn outcome<R, E: From<GatewayError>>(
    result: Option<Result<R, E>>,
    committed: bool,
) -> Result<R, E> {
    match result {
        Some(result) if committed => result,
        _ => Err(E::from(GatewayError::Storage(
            "the transaction did not commit".into(),
        ))),
    }
}

/// The function a caller's write runs (see [`CallerWrite`]).
pub(super) type WriteFn<R, E> = Box<dyn FnMut(&Connection<'_>) -> Result<R, E> + Send>;

/// A caller's function, and where its result goes.
pub(super) struct CallerWrite<R, E> {
    f: WriteFn<R, E>,
    repeatable: bool,
    result: Option<Result<R, E>>,
    reply: tokio::sync::oneshot::Sender<Result<R, E>>,
}

impl<R, E> CallerWrite<R, E>
where
    R: Send + 'static,
    E: From<GatewayError> + Send + 'static,
{
    /// A write that runs `f` once at most.
    pub(super) fn once<F>(f: F, reply: tokio::sync::oneshot::Sender<Result<R, E>>) -> Self
    where
        F: FnOnce(&Connection<'_>) -> Result<R, E> + Send + 'static,
    {
        let mut f = Some(f);
        CallerWrite {
            // The batch never runs a write twice that is not repeatable;
            // were it to, the second run fails instead of running nothing.
            f: Box::new(move |c| match f.take() {
                Some(f) => f(c),
                None => Err(E::from(GatewayError::Storage(
                    "a write that runs once was run again".into(),
                ))),
            }),
            repeatable: false,
            result: None,
            reply,
        }
    }

    /// A write whose `f` may run more than once (see
    /// [`Db::write_repeatable`](super::Db::write_repeatable)).
    pub(super) fn repeatable<F>(f: F, reply: tokio::sync::oneshot::Sender<Result<R, E>>) -> Self
    where
        F: FnMut(&Connection<'_>) -> Result<R, E> + Send + 'static,
    {
        CallerWrite {
            f: Box::new(f),
            repeatable: true,
            result: None,
            reply,
        }
    }
}

impl<R, E> Write for CallerWrite<R, E>
where
    R: Send + 'static,
    E: From<GatewayError> + Send + 'static,
{
    fn run(&mut self, conn: &Connection<'_>) -> bool {
        let result = (self.f)(conn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn repeatable(&self) -> bool {
        self.repeatable
    }

    fn complete(self: Box<Self>, committed: bool) {
        let _ = self.reply.send(outcome(self.result, committed));
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Small writes that many callers make at once and one statement can
/// cover (a device's acknowledgement, say): each caller queues its record
/// with [`Db::write_coalesced`](super::Db::write_coalesced), and one job of
/// the next batch writes every record queued by then. Ten thousand devices
/// acknowledging at once cost one job (on PostgreSQL one statement) per
/// batch, not one each: with PostgreSQL every statement is a round trip,
/// and the writer is the one place that every gateway's writes pass
/// through.
pub struct CoalescedWrites<T> {
    pub(super) pending: Mutex<Vec<(T, tokio::sync::oneshot::Sender<bool>)>>,
    write: fn(&Connection<'_>, &[T]) -> Result<(), GatewayError>,
}

impl<T> CoalescedWrites<T> {
    /// A queue whose records `write` writes, all of a batch in one call
    /// (never with an empty slice). `write` changes nothing but the
    /// database: a batch may run it again with the same records (see
    /// [`Write::repeatable`]).
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

/// A [`CoalescedWrites`] queue's job: on its first run it takes every
/// record queued, and writes them (again, if the batch runs it again).
pub(super) struct QueuedRecords<T> {
    queue: Arc<CoalescedWrites<T>>,
    taken: Option<(Vec<T>, Vec<tokio::sync::oneshot::Sender<bool>>)>,
    /// How its last run failed, if it did: logged once, when it completes.
    failed: Option<GatewayError>,
}

impl<T> QueuedRecords<T> {
    /// The job that will write what is queued on `queue` when it runs.
    pub(super) fn new(queue: Arc<CoalescedWrites<T>>) -> Self {
        QueuedRecords {
            queue,
            taken: None,
            failed: None,
        }
    }
}

impl<T: Send + 'static> Write for QueuedRecords<T> {
    fn run(&mut self, conn: &Connection<'_>) -> bool {
        let queue = &self.queue;
        let (records, _) = self.taken.get_or_insert_with(|| {
            queue
                .pending
                .lock()
                .map(|mut p| std::mem::take(&mut *p))
                .unwrap_or_default()
                .into_iter()
                .unzip()
        });
        self.failed = (queue.write)(conn, records).err();
        self.failed.is_none()
    }

    fn repeatable(&self) -> bool {
        true
    }

    fn complete(mut self: Box<Self>, committed: bool) {
        let ran = self.taken.is_some();
        if let (Some(e), Some((records, _))) = (&self.failed, &self.taken) {
            // Its callers hear only that it did not commit. Logged here, not
            // in `run`, which a batch may call twice.
            tracing::error!(records = records.len(), error = %e, "writing queued records failed");
        }
        let ok = ran && self.failed.is_none() && committed;
        // Drained, not taken: what it took stays taken, so that dropping
        // it does not empty the queue of records a later job will take.
        if let Some((_, replies)) = &mut self.taken {
            for reply in replies.drain(..) {
                let _ = reply.send(ok);
            }
        }
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Dropped before it ran (the database closed, or the writer had no
/// connection or transaction for its batch), the job empties the queue,
/// failing every record there: left queued, they would wait for a job
/// that no one sends, since only a record that finds the queue empty sends
/// one.
impl<T> Drop for QueuedRecords<T> {
    fn drop(&mut self) {
        if self.taken.is_none()
            && let Ok(mut pending) = self.queue.pending.lock()
        {
            pending.clear();
        }
    }
}
