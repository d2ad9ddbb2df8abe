//! Time PostgreSQL's sessions spend waiting for locks, sampled from
//! `pg_stat_activity` by a `psql` of its own while a phase runs: every
//! 5 ms, which sessions of the benchmark's database wait, and for what
//! (`Lock`: heavyweight locks, such as advisory locks, row and transaction
//! locks, and the database-wide lock a committing NOTIFY takes; `LWLock`:
//! the server's internal short locks).

use std::process::{Child, Command, Stdio};

/// A running sampler; [`LockSampler::finish`] reads its result.
pub struct LockSampler {
    child: Child,
}

/// What a sampler saw.
pub struct LockWaits {
    /// Milliseconds spent waiting on heavyweight locks, summed over the
    /// database's sessions.
    pub lock_ms: f64,
    /// The same for internal lightweight locks.
    pub lwlock_ms: f64,
    /// `type:event` and its waiting milliseconds, largest first.
    pub by_event: Vec<(String, f64)>,
}

impl LockSampler {
    /// Starts sampling `database` (a PostgreSQL URL) for `seconds`.
    pub fn start(database: &str, seconds: u64) -> LockSampler {
        let sample = format!(
            "DO $$ DECLARE n int := 0; t0 timestamptz := clock_timestamp(); BEGIN
               WHILE clock_timestamp() < t0 + make_interval(secs => {seconds}) LOOP
                 PERFORM pg_stat_clear_snapshot();
                 INSERT INTO s SELECT wait_event_type, wait_event FROM pg_stat_activity
                   WHERE wait_event_type IN ('Lock', 'LWLock')
                     AND datname = current_database() AND pid <> pg_backend_pid();
                 n := n + 1;
                 PERFORM pg_sleep(0.005);
               END LOOP;
               INSERT INTO t VALUES (extract(epoch FROM clock_timestamp() - t0) * 1000 / n);
             END $$"
        );
        let child = Command::new("psql")
            .args([database, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1"])
            .args(["-c", "CREATE TEMP TABLE s (kind text, event text)"])
            .args(["-c", "CREATE TEMP TABLE t (period_ms float8)"])
            .args(["-c", &sample])
            .args(["-c", "SELECT 'period', period_ms FROM t"])
            .args([
                "-c",
                "SELECT kind || ':' || event, count(*) FROM s GROUP BY 1 ORDER BY 2 DESC",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("psql starts");
        LockSampler { child }
    }

    /// Waits for the sampling to end and sums its samples.
    pub fn finish(self) -> LockWaits {
        let output = self.child.wait_with_output().expect("psql ran");
        assert!(output.status.success(), "the lock sampler failed");
        let text = String::from_utf8_lossy(&output.stdout);
        let rows: Vec<(String, f64)> = text
            .lines()
            .filter_map(|l| l.split_once('|'))
            .filter_map(|(k, v)| Some((k.to_owned(), v.trim().parse::<f64>().ok()?)))
            .collect();
        let period = rows
            .iter()
            .find(|(k, _)| k == "period")
            .map(|(_, v)| *v)
            .expect("the sampler's period");
        let by_event: Vec<(String, f64)> = rows
            .into_iter()
            .filter(|(k, _)| k != "period")
            .map(|(k, n)| (k, n * period))
            .collect();
        // From +0.0: an empty f64 sum is -0.0, which prints as "-0".
        let sum = |kind: &str| {
            by_event
                .iter()
                .filter(|(k, _)| k.split(':').next() == Some(kind))
                .fold(0.0, |total, (_, ms)| total + ms)
        };
        LockWaits {
            lock_ms: sum("Lock"),
            lwlock_ms: sum("LWLock"),
            by_event,
        }
    }
}
