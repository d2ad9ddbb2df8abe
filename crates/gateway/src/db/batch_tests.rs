//! The writer's batches: which jobs run together, what fails alone, and
//! what queued records' callers hear.

use super::*;
use crate::db::Database;
use std::sync::atomic::{AtomicBool, Ordering};

/// A job that does nothing.
struct Noop;

impl Write for Noop {
    fn run(&mut self, _: &Connection<'_>) -> bool {
        true
    }

    fn repeatable(&self) -> bool {
        true
    }

    fn complete(self: Box<Self>, _: bool) {}

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

fn noop_job() -> Job {
    Job {
        customer: None,
        write: Box::new(Noop),
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
    insert_settings(c, names)
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

    // Hold the writer in a job until 200 records are queued (first, so
    // that no record's job can run before it and take some of them).
    let (release, holding) = hold_writer(&db).await;
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

/// Holds the writer in a write of its own, in a batch of its own, until
/// the returned sender is used; returns once the writer holds.
async fn hold_writer(
    db: &Arc<Db>,
) -> (
    std::sync::mpsc::Sender<()>,
    tokio::task::JoinHandle<Result<(), GatewayError>>,
) {
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (started, holds) = std::sync::mpsc::channel::<()>();
    let holding = {
        let db = Arc::clone(db);
        tokio::spawn(async move {
            db.write(move |_| {
                started.send(()).ok();
                held.recv().ok();
                Ok::<_, GatewayError>(())
            })
            .await
        })
    };
    while holds.try_recv().is_err() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (release, holding)
}

/// Repeatable writes run together, with no savepoint each; one that
/// fails sends its batch round again with savepoints, where it fails
/// alone and the others commit once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeatable_writes_run_together_and_a_failure_runs_the_batch_again_alone() {
    use std::sync::atomic::AtomicUsize;
    let (_dir, db) = sqlite_db().await;
    let runs = Arc::new(AtomicUsize::new(0));
    // Hold the writer until the writes below are queued, so that they
    // share one batch.
    let batch_of = |fail_every: Option<usize>, prefix: &'static str| {
        let (db, runs) = (Arc::clone(&db), Arc::clone(&runs));
        async move {
            let (release, holding) = hold_writer(&db).await;
            let mut writes = Vec::new();
            for i in 0..50 {
                let (db, runs) = (Arc::clone(&db), Arc::clone(&runs));
                writes.push(tokio::spawn(async move {
                    db.write_repeatable(move |c| {
                        runs.fetch_add(1, Ordering::SeqCst);
                        c.execute(
                            "INSERT INTO settings(name, value) VALUES (?1, 'x')",
                            [format!("{prefix}{i}")],
                        )?;
                        if fail_every.is_some_and(|n| i % n == 0) {
                            return Err(GatewayError::Storage("refused on purpose".into()));
                        }
                        Ok(())
                    })
                    .await
                }));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            release.send(()).unwrap();
            holding.await.unwrap().unwrap();
            let mut failed = 0;
            for w in writes {
                if w.await.unwrap().is_err() {
                    failed += 1;
                }
            }
            failed
        }
    };
    let count = |db: Arc<Db>, prefix: &'static str| async move {
        db.read(move |c| {
            c.query_row(
                "SELECT count(*) FROM settings WHERE name LIKE ?1",
                [format!("{prefix}%")],
                |r| r.get::<_, i64>(0),
            )
            .map_err(GatewayError::from)
        })
        .await
        .unwrap()
    };

    assert_eq!(batch_of(None, "ok").await, 0);
    assert_eq!(count(Arc::clone(&db), "ok").await, 50);
    assert_eq!(
        runs.swap(0, Ordering::SeqCst),
        50,
        "a batch with no failure runs each write once"
    );

    assert_eq!(batch_of(Some(10), "some").await, 5, "every tenth fails");
    assert_eq!(
        count(Arc::clone(&db), "some").await,
        45,
        "the failed writes' rows were rolled back, no others"
    );
    let ran = runs.load(Ordering::SeqCst);
    assert!(
        (51..=100).contains(&ran),
        "the batch ran together until a write failed, then again with savepoints: {ran} runs"
    );
}

/// Calls of [`write_again_settings`].
static WRITTEN_AGAIN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Inserts a setting named each of `names`.
fn insert_settings(c: &Connection<'_>, names: &[String]) -> Result<(), GatewayError> {
    for name in names {
        c.execute(
            "INSERT INTO settings(name, value) VALUES (?1, 'x')",
            [name.clone()],
        )?;
    }
    Ok(())
}

fn write_again_settings(c: &Connection<'_>, names: &[String]) -> Result<(), GatewayError> {
    WRITTEN_AGAIN.fetch_add(1, Ordering::SeqCst);
    insert_settings(c, names)
}

/// Queued records whose batch runs again (another write in it failed)
/// are written again, the same ones, and each caller is answered once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_records_whose_batch_runs_again_are_written_again_and_answered_once() {
    let (_dir, db) = sqlite_db().await;
    let queue = CoalescedWrites::new(write_again_settings);
    let (release, holding) = hold_writer(&db).await;
    let mut records = Vec::new();
    for i in 0..20 {
        let (db, queue) = (Arc::clone(&db), Arc::clone(&queue));
        records.push(tokio::spawn(async move {
            db.write_coalesced(&queue, format!("again{i}")).await
        }));
    }
    while queue.pending.lock().unwrap().len() < 20 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The queue's job is in the channel (sent as its first record was
    // queued); a failing write after it, sent by its first poll.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut failing = Box::pin(db.write_repeatable(|c| {
        c.execute(
            "INSERT INTO settings(name, value) VALUES ('again-failed', 'x')",
            (),
        )?;
        Err::<(), _>(GatewayError::Storage("refused on purpose".into()))
    }));
    assert!(
        futures_util::future::poll_immediate(&mut failing)
            .await
            .is_none(),
        "the failing write waits for the held writer"
    );
    release.send(()).unwrap();
    holding.await.unwrap().unwrap();
    for r in records {
        r.await.unwrap().expect("every queued record committed");
    }
    assert!(failing.await.is_err(), "the failing write failed");
    assert_eq!(
        WRITTEN_AGAIN.load(Ordering::SeqCst),
        2,
        "the records were written, rolled back with their batch, and written again"
    );
    let (kept, failed): (i64, i64) = db
        .read(|c| {
            c.query_row(
                "SELECT count(*) FILTER (WHERE name LIKE 'again_%' AND name <> 'again-failed'),
                        count(*) FILTER (WHERE name = 'again-failed')
                 FROM settings",
                (),
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(GatewayError::from)
        })
        .await
        .unwrap();
    assert_eq!(
        (kept, failed),
        (20, 0),
        "each record once, the failed write's row not at all"
    );
    assert!(
        queue.pending.lock().unwrap().is_empty(),
        "nothing left queued"
    );
}

/// The records of each call of [`SharedSettings`]' statement.
static SHARED_CALLS: std::sync::Mutex<Vec<Vec<String>>> = std::sync::Mutex::new(Vec::new());

/// A shared statement that inserts a setting per record (refusing all of
/// them if one is named `bad…`) and answers each record's place in its
/// call.
struct SharedSettings;

impl SharedStatement for SharedSettings {
    /// (customer, setting name).
    type Record = (i64, String);
    type Output = usize;

    fn customer(record: &(i64, String)) -> Option<i64> {
        Some(record.0)
    }

    fn write(c: &Connection<'_>, records: &[&(i64, String)]) -> Result<Vec<usize>, GatewayError> {
        SHARED_CALLS
            .lock()
            .unwrap()
            .push(records.iter().map(|(_, name)| name.clone()).collect());
        for (_, record) in records {
            if record.starts_with("bad") {
                return Err(GatewayError::Storage(format!(
                    "{record} refused on purpose"
                )));
            }
            c.execute(
                "INSERT INTO settings(name, value) VALUES (?1, 'x')",
                [record.clone()],
            )?;
        }
        Ok((0..records.len()).collect())
    }
}

/// Shared writes side by side in a batch (after it is ordered by
/// customer) run as one statement, in order, each answered with its own
/// output; a write of another kind between them splits them; a record
/// that makes the shared statement fail sends the batch round again,
/// where each runs alone and only it fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_writes_side_by_side_run_as_one_statement_and_a_bad_record_fails_alone() {
    use futures_util::future::{BoxFuture, poll_immediate};
    let (_dir, db) = sqlite_db().await;
    type Answer = BoxFuture<'static, Result<usize, GatewayError>>;
    let shared = |customer: i64, name: &str| -> Answer {
        let (db, name) = (Arc::clone(&db), name.to_owned());
        Box::pin(async move { db.write_shared::<SharedSettings>((customer, name)).await })
    };
    // A write for customer 2 that may run only once.
    let plain = || -> Answer {
        let db = Arc::clone(&db);
        Box::pin(async move {
            db.write_for_customer(2, |c| -> Result<usize, GatewayError> {
                Ok(c.execute(
                    "INSERT INTO settings(name, value) VALUES ('two', 'x')
                     ON CONFLICT (name) DO NOTHING",
                    (),
                )?)
            })
            .await
        })
    };
    // Sends each job in this order (a job is sent on its first poll),
    // while the writer is held, so that they share one batch.
    async fn queue(answers: &mut [Answer]) {
        for answer in answers.iter_mut() {
            assert!(poll_immediate(answer).await.is_none(), "the writer is held");
        }
    }
    // The writes of `answers` in one batch, in this order; their results.
    async fn in_one_batch(
        db: &Arc<Db>,
        mut answers: Vec<Answer>,
    ) -> Vec<Result<usize, GatewayError>> {
        let (release, holding) = hold_writer(db).await;
        queue(&mut answers).await;
        release.send(()).unwrap();
        holding.await.unwrap().unwrap();
        let mut results = Vec::new();
        for answer in answers {
            results.push(answer.await);
        }
        results
    }

    // Only shared writes, all succeeding: the batch runs together, with
    // no savepoint, its run of them as one statement.
    let answers = vec![shared(7, "seven0"), shared(5, "five0"), shared(7, "seven1")];
    let outputs: Vec<usize> = in_one_batch(&db, answers)
        .await
        .into_iter()
        .map(|r| r.expect("every write committed"))
        .collect();
    assert_eq!(
        outputs,
        vec![1, 0, 2],
        "in customer order, then as they came"
    );
    assert_eq!(
        std::mem::take(&mut *SHARED_CALLS.lock().unwrap()),
        vec![vec![
            "five0".to_owned(),
            "seven0".to_owned(),
            "seven1".to_owned()
        ]],
        "one statement for the whole batch"
    );

    let mut answers: Vec<Answer> = (0..5).map(|i| shared(1, &format!("one{i}"))).collect();
    answers.push(plain());
    answers.extend((0..5).map(|i| shared(3, &format!("three{i}"))));
    answers.push(shared(1, "one-late"));
    let outputs: Vec<usize> = in_one_batch(&db, answers)
        .await
        .into_iter()
        .map(|r| r.expect("every write committed"))
        .collect();
    let names = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        std::mem::take(&mut *SHARED_CALLS.lock().unwrap()),
        vec![
            names(&["one0", "one1", "one2", "one3", "one4", "one-late"]),
            names(&["three0", "three1", "three2", "three3", "three4"]),
        ],
        "customer 1's writes in one statement, in the order they came; the plain write \
         for customer 2 between them and customer 3's"
    );
    assert_eq!(
        outputs,
        vec![0, 1, 2, 3, 4, 1, 0, 1, 2, 3, 4, 5],
        "each write gets its own output (the plain write's is its row count)"
    );

    let answers = vec![shared(1, "a0"), shared(1, "bad1"), shared(1, "a2")];
    let results: Vec<_> = in_one_batch(&db, answers)
        .await
        .into_iter()
        .map(|r| r.map_err(|e| e.to_string()))
        .collect();
    assert_eq!(results[0], Ok(0));
    assert!(
        results[1]
            .as_ref()
            .is_err_and(|e| e.contains("bad1 refused")),
        "the bad record fails with its own error: {:?}",
        results[1]
    );
    assert_eq!(results[2], Ok(0), "the others commit, each run alone");
    assert_eq!(
        std::mem::take(&mut *SHARED_CALLS.lock().unwrap()),
        vec![
            names(&["a0", "bad1", "a2"]),
            names(&["a0"]),
            names(&["bad1"]),
            names(&["a2"]),
        ],
        "together first, then each alone"
    );
    let kept: Vec<String> = db
        .read(|c| {
            let rows = c.query(
                "SELECT name FROM settings WHERE name IN ('a0', 'bad1', 'a2') ORDER BY name",
                (),
            )?;
            rows.iter()
                .map(|r| r.get::<_, String>(0).map_err(GatewayError::from))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .unwrap();
    assert_eq!(kept, names(&["a0", "a2"]), "nothing of the bad record kept");

    // The same beside a write that may run only once (the batch runs in
    // savepoints from the start): the shared statement fails in a
    // savepoint of its own, and its records run alone after it.
    let answers = vec![shared(1, "b0"), shared(1, "bad2"), plain()];
    let results: Vec<bool> = in_one_batch(&db, answers)
        .await
        .iter()
        .map(Result::is_ok)
        .collect();
    assert_eq!(results, vec![true, false, true]);
    assert_eq!(
        std::mem::take(&mut *SHARED_CALLS.lock().unwrap()),
        vec![names(&["b0", "bad2"]), names(&["b0"]), names(&["bad2"])],
        "together in a savepoint first, then each alone"
    );
}
