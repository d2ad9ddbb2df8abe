//! Failed sign-ins and wrong user codes within a window, by key: one
//! gateway keeps them in memory; gateways sharing a PostgreSQL database
//! keep them in it (`sign_in_failures`), so a guesser spreading passwords
//! over the gateways of a cluster gets no more than from one.
//!
//! Password guessing is slowed, never locked: a username's failures from
//! one source (its address or /64) earn that source growing delays, and a
//! source's failures over all usernames are capped; the username's owner,
//! signing in from elsewhere, waits at most [`MAX_USER_DELAY`] however many
//! guesses others make. A customer who signed in has a bounded number of
//! wrong user codes, and so has each pending user code.
//!
//! The rules are written once, over [`Failures`]: a map in memory, or the
//! table inside one write job (writes are serialised across the gateways of
//! a database, so parallel attempts at two gateways cannot both pass before
//! either is counted).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::crypto::now_ms;
use crate::db::Db;
use crate::error::GatewayError;
use crate::sql::{Connection, params};

/// Failures of one username from one source before delays start.
pub const FREE_FAILURES: usize = 3;
/// The longest delay a username and source can earn.
pub const MAX_SOURCE_DELAY: Duration = Duration::from_secs(15 * 60);
/// Failures of one username from every source before delays start.
pub const FREE_USER_FAILURES: usize = 10;
/// The longest delay failures from other sources can impose on a username.
pub const MAX_USER_DELAY: Duration = Duration::from_secs(30);
/// Failures allowed per source in [`SIGN_IN_WINDOW`], whatever the names.
pub const MAX_SOURCE_FAILURES: usize = 20;
/// Wrong user codes allowed per signed-in customer, per source and per
/// pending user code, in [`SIGN_IN_WINDOW`].
pub const MAX_CODE_FAILURES: usize = 5;
/// The window failures are counted over.
pub const SIGN_IN_WINDOW: Duration = Duration::from_secs(15 * 60);

const WINDOW_MS: i64 = 15 * 60 * 1000;

/// A wait as a person reads it: "3 seconds", "15 minutes".
pub fn spoken(wait: Duration) -> String {
    let s = wait.as_secs().max(1);
    match s {
        1 => "1 second".into(),
        2..=90 => format!("{s} seconds"),
        _ => format!("{} minutes", s.div_ceil(60)),
    }
}

/// The delay after `failures` failures, `free` of them without one:
/// 1 s, 2 s, 4 s... up to `max`.
fn growing_delay(failures: usize, free: usize, max: Duration) -> Duration {
    if failures < free {
        return Duration::ZERO;
    }
    let doublings = u32::try_from(failures - free).unwrap_or(u32::MAX).min(20);
    Duration::from_secs(1u64 << doublings).min(max)
}

/// Where failure times (milliseconds since the Unix epoch) are kept.
pub trait Failures {
    /// The times of `key`'s failures after `since`, oldest first.
    ///
    /// # Errors
    /// Storage failures.
    fn recent(&mut self, key: &str, since: i64) -> Result<Vec<i64>, GatewayError>;
    /// Counts a failure of `key` at `at`.
    ///
    /// # Errors
    /// Storage failures.
    fn add(&mut self, key: &str, at: i64) -> Result<(), GatewayError>;
    /// Forgets every failure of `key`.
    ///
    /// # Errors
    /// Storage failures.
    fn forget(&mut self, key: &str) -> Result<(), GatewayError>;
    /// Takes back `key`'s latest failure.
    ///
    /// # Errors
    /// Storage failures.
    fn take_back_latest(&mut self, key: &str) -> Result<(), GatewayError>;
}

/// How long `key` must still wait: its recent failures against the delay
/// they earn, counted from the last one.
fn wait(
    f: &mut dyn Failures,
    now: i64,
    key: &str,
    free: usize,
    max: Duration,
) -> Result<Duration, GatewayError> {
    let times = f.recent(key, now - WINDOW_MS)?;
    let Some(last) = times.last() else {
        return Ok(Duration::ZERO);
    };
    let since_last = Duration::from_millis(u64::try_from(now - last).unwrap_or(0));
    Ok(growing_delay(times.len(), free, max).saturating_sub(since_last))
}

/// See [`SignInLimiter::begin`].
fn begin_in(
    f: &mut dyn Failures,
    username: &str,
    source: &str,
    now: i64,
) -> Result<Result<(), Duration>, GatewayError> {
    let name = username.to_lowercase();
    let pair = format!("us:{name}|{source}");
    let user = format!("u:{name}");
    let src = format!("s:{source}");
    let wait = wait(f, now, &pair, FREE_FAILURES, MAX_SOURCE_DELAY)?.max(wait(
        f,
        now,
        &user,
        FREE_USER_FAILURES,
        MAX_USER_DELAY,
    )?);
    if !wait.is_zero() {
        return Ok(Err(wait.max(Duration::from_secs(1))));
    }
    let by_source = f.recent(&src, now - WINDOW_MS)?;
    if by_source.len() >= MAX_SOURCE_FAILURES {
        let oldest = by_source.first().copied().unwrap_or(now);
        let ends = u64::try_from(oldest + WINDOW_MS - now).unwrap_or(0);
        return Ok(Err(Duration::from_millis(ends).max(Duration::from_secs(1))));
    }
    for key in [pair, user, src] {
        f.add(&key, now)?;
    }
    Ok(Ok(()))
}

/// See [`SignInLimiter::succeeded`].
fn succeeded_in(f: &mut dyn Failures, username: &str, source: &str) -> Result<(), GatewayError> {
    let name = username.to_lowercase();
    f.forget(&format!("us:{name}|{source}"))?;
    f.take_back_latest(&format!("u:{name}"))?;
    f.take_back_latest(&format!("s:{source}"))
}

fn code_keys(username: &str, source: &str) -> [String; 2] {
    [
        format!("cu:{}", username.to_lowercase()),
        format!("cs:{source}"),
    ]
}

/// Whether every key has fewer than [`MAX_CODE_FAILURES`] in the window.
fn under_code_limit(f: &mut dyn Failures, keys: &[String], now: i64) -> Result<bool, GatewayError> {
    for key in keys {
        if f.recent(key, now - WINDOW_MS)?.len() >= MAX_CODE_FAILURES {
            return Ok(false);
        }
    }
    Ok(true)
}

/// One gateway's failures, in memory.
#[derive(Debug, Default)]
struct InMemory(HashMap<String, Vec<i64>>);

impl Failures for InMemory {
    fn recent(&mut self, key: &str, since: i64) -> Result<Vec<i64>, GatewayError> {
        Ok(match self.0.get_mut(key) {
            Some(times) => {
                times.retain(|t| *t > since);
                times.clone()
            }
            None => Vec::new(),
        })
    }
    fn add(&mut self, key: &str, at: i64) -> Result<(), GatewayError> {
        self.0.entry(key.to_owned()).or_default().push(at);
        Ok(())
    }
    fn forget(&mut self, key: &str) -> Result<(), GatewayError> {
        self.0.remove(key);
        Ok(())
    }
    fn take_back_latest(&mut self, key: &str) -> Result<(), GatewayError> {
        if let Some(times) = self.0.get_mut(key) {
            times.pop();
            if times.is_empty() {
                self.0.remove(key);
            }
        }
        Ok(())
    }
}

/// The cluster's failures, in its database (inside a write job).
struct InDatabase<'c, 'a>(&'c Connection<'a>);

impl Failures for InDatabase<'_, '_> {
    fn recent(&mut self, key: &str, since: i64) -> Result<Vec<i64>, GatewayError> {
        let rows = self.0.query(
            "SELECT at_ms FROM sign_in_failures WHERE key = ?1 AND at_ms > ?2 ORDER BY at_ms, id",
            params![key, since],
        )?;
        rows.iter()
            .map(|r| r.get(0).map_err(GatewayError::from))
            .collect()
    }
    fn add(&mut self, key: &str, at: i64) -> Result<(), GatewayError> {
        self.0.execute(
            "INSERT INTO sign_in_failures (key, at_ms) VALUES (?1, ?2)",
            params![key, at],
        )?;
        Ok(())
    }
    fn forget(&mut self, key: &str) -> Result<(), GatewayError> {
        self.0
            .execute("DELETE FROM sign_in_failures WHERE key = ?1", [key])?;
        Ok(())
    }
    fn take_back_latest(&mut self, key: &str) -> Result<(), GatewayError> {
        self.0.execute(
            "DELETE FROM sign_in_failures WHERE id = (SELECT id FROM sign_in_failures \
             WHERE key = ?1 ORDER BY at_ms DESC, id DESC LIMIT 1)",
            [key],
        )?;
        Ok(())
    }
}

/// Deletes the failures past the window (the cluster's sweep).
///
/// # Errors
/// Storage failures.
pub fn sweep(c: &Connection<'_>, now: i64) -> Result<(), GatewayError> {
    c.execute(
        "DELETE FROM sign_in_failures WHERE at_ms <= ?1",
        [now - WINDOW_MS],
    )?;
    Ok(())
}

/// The limiter the verification page and the console's sign-in use.
#[derive(Debug, Default)]
pub struct SignInLimiter {
    memory: Mutex<InMemory>,
    shared: Option<Arc<Db>>,
}

impl SignInLimiter {
    /// Kept in `db` when other gateways may share it (PostgreSQL), else in
    /// memory.
    pub fn for_database(db: &Arc<Db>) -> Self {
        SignInLimiter {
            memory: Mutex::default(),
            shared: db.is_shared().then(|| Arc::clone(db)),
        }
    }

    /// Runs `rule` on the failures: in the database's write job when
    /// shared, else under the memory's lock. A failure to count fails
    /// closed (the caller refuses the attempt).
    async fn run<T: Send + 'static>(
        &self,
        rule: impl FnOnce(&mut dyn Failures, i64) -> Result<T, GatewayError> + Send + 'static,
    ) -> Result<T, GatewayError> {
        let now = now_ms();
        match &self.shared {
            Some(db) => db.write(move |c| rule(&mut InDatabase(c), now)).await,
            None => {
                let mut memory = self
                    .memory
                    .lock()
                    .map_err(|_| GatewayError::Storage("the sign-in limiter is poisoned".into()))?;
                if memory.0.len() > 100_000 {
                    memory
                        .0
                        .retain(|_, v| v.iter().any(|t| *t > now - WINDOW_MS));
                }
                rule(&mut *memory, now)
            }
        }
    }

    /// Counts a password attempt for `username` from `source` (a
    /// [`crate::limits::source_key`]) before the password is checked, if
    /// the limits allow one now; otherwise `Err(how long to wait)` and
    /// nothing is counted. Checking and counting are one step, so parallel
    /// attempts cannot all pass before any is counted. A successful
    /// attempt is taken back with [`SignInLimiter::succeeded`].
    pub async fn begin(&self, username: &str, source: &str) -> Result<(), Duration> {
        let (username, source) = (username.to_owned(), source.to_owned());
        self.run(move |f, now| begin_in(f, &username, &source, now))
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "the sign-in limiter could not count an attempt");
                Err(Duration::from_secs(1))
            })
    }

    /// Forgets a username's failures from `source` after it signs in, and
    /// takes back the attempt [`SignInLimiter::begin`] counted for the
    /// username and the source.
    pub async fn succeeded(&self, username: &str, source: &str) {
        let (username, source) = (username.to_owned(), source.to_owned());
        if let Err(e) = self
            .run(move |f, _| succeeded_in(f, &username, &source))
            .await
        {
            tracing::error!(error = %e, "the sign-in limiter could not take back an attempt");
        }
    }

    /// Counts a user-code attempt by a signed-in `username` at `source`
    /// before the code is looked up, if the customer and the source each
    /// have fewer than [`MAX_CODE_FAILURES`] in the window; `false`, with
    /// nothing counted, otherwise. Checking and counting are one step, so
    /// parallel attempts cannot all pass before any is counted (RFC 8628
    /// section 5.1: user codes are guessable in principle). A right code
    /// takes its attempt back with [`SignInLimiter::code_succeeded`].
    pub async fn code_attempt(&self, username: &str, source: &str) -> bool {
        let keys = code_keys(username, source);
        self.run(move |f, now| {
            if !under_code_limit(f, &keys, now)? {
                return Ok(false);
            }
            for key in &keys {
                f.add(key, now)?;
            }
            Ok(true)
        })
        .await
        .unwrap_or(false)
    }

    /// Takes back the attempt [`SignInLimiter::code_attempt`] counted, once
    /// the code proved right (or was refused for something that is not a
    /// guess: a code spent by someone else's failed passwords).
    pub async fn code_succeeded(&self, username: &str, source: &str) {
        let keys = code_keys(username, source);
        let taken_back = self
            .run(move |f, _| keys.iter().try_for_each(|k| f.take_back_latest(k)))
            .await;
        if let Err(e) = taken_back {
            tracing::error!(error = %e, "the sign-in limiter could not take back a code attempt");
        }
    }

    /// Counts a failed sign-in that named the pending user `code`.
    pub async fn code_named_in_failure(&self, code: &str) {
        let key = format!("dc:{code}");
        if let Err(e) = self.run(move |f, now| f.add(&key, now)).await {
            tracing::error!(error = %e, "the sign-in limiter could not count a failure");
        }
    }

    /// Whether the pending user `code` may still be approved: fewer than
    /// [`MAX_CODE_FAILURES`] failed sign-ins named it in the window. A code
    /// someone is trying passwords with is spent; the customer's app starts
    /// a new one.
    pub async fn code_usable(&self, code: &str) -> bool {
        let keys = [format!("dc:{code}")];
        self.run(move |f, now| under_code_limit(f, &keys, now))
            .await
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::source_key;

    #[tokio::test]
    async fn sign_in_attempts_are_counted_before_checking_and_slow_only_the_guesser() {
        let limiter = SignInLimiter::default();
        // Attempts in flight at once are counted before any finishes: past
        // the free ones, the next must wait.
        for _ in 0..FREE_FAILURES {
            assert!(limiter.begin("Alice", "1.2.3.4").await.is_ok());
        }
        let wait = limiter.begin("alice", "1.2.3.4").await.unwrap_err();
        assert!(wait >= Duration::from_millis(900), "{wait:?}");
        // Attack (adversarial review, finding 7): five wrong passwords
        // locked the real customer out for 15 minutes. Her own address is
        // not slowed by someone else's guesses.
        assert!(
            limiter.begin("alice", "5.6.7.8").await.is_ok(),
            "the owner, elsewhere"
        );
        limiter.succeeded("alice", "5.6.7.8").await;
        assert!(
            limiter.begin("bob", "1.2.3.4").await.is_ok(),
            "per username"
        );
        limiter.succeeded("bob", "1.2.3.4").await;
    }

    #[test]
    fn delays_grow_and_are_capped() {
        assert_eq!(growing_delay(2, 3, MAX_SOURCE_DELAY), Duration::ZERO);
        assert_eq!(
            growing_delay(3, 3, MAX_SOURCE_DELAY),
            Duration::from_secs(1)
        );
        assert_eq!(
            growing_delay(6, 3, MAX_SOURCE_DELAY),
            Duration::from_secs(8)
        );
        assert_eq!(growing_delay(60, 3, MAX_SOURCE_DELAY), MAX_SOURCE_DELAY);
        assert_eq!(growing_delay(40, 10, MAX_USER_DELAY), MAX_USER_DELAY);
    }

    #[tokio::test]
    async fn many_sources_delay_a_username_by_seconds_never_lock_it() {
        let limiter = SignInLimiter::default();
        // A botnet: one guess from each of many addresses.
        for i in 0..100 {
            let _ = limiter
                .begin("alice", &format!("10.0.{}.{}", i / 200, i % 200))
                .await;
        }
        let wait = limiter.begin("alice", "192.0.2.1").await.unwrap_err();
        assert!(wait <= MAX_USER_DELAY, "{wait:?}");
    }

    #[tokio::test]
    async fn a_source_is_capped_over_all_usernames() {
        let limiter = SignInLimiter::default();
        for i in 0..MAX_SOURCE_FAILURES {
            assert!(limiter.begin(&format!("user{i}"), "1.2.3.4").await.is_ok());
        }
        assert!(limiter.begin("someone-else", "1.2.3.4").await.is_err());
        assert!(limiter.begin("someone-else", "1.2.3.5").await.is_ok());
    }

    #[tokio::test]
    async fn rotating_addresses_within_a_64_does_not_escape_the_cap() {
        let limiter = SignInLimiter::default();
        for i in 0..MAX_SOURCE_FAILURES {
            let rotated: std::net::IpAddr = format!("2001:db8:1:2::{:x}", i + 1).parse().unwrap();
            let source = source_key(rotated);
            assert!(limiter.begin(&format!("u{i}"), &source).await.is_ok());
        }
        let a: std::net::IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        assert!(limiter.begin("u-next", &source_key(a)).await.is_err());
    }

    #[tokio::test]
    async fn wrong_user_codes_are_bounded_per_customer_and_each_code_per_failure() {
        let limiter = SignInLimiter::default();
        // Attempts are counted before the code is looked up: five in
        // flight at once, and the sixth is refused before any finishes.
        for _ in 0..MAX_CODE_FAILURES {
            assert!(limiter.code_attempt("alice", "1.2.3.4").await);
        }
        assert!(!limiter.code_attempt("alice", "1.2.3.4").await);
        assert!(
            !limiter.code_attempt("alice", "5.6.7.8").await,
            "per customer"
        );
        assert!(!limiter.code_attempt("bob", "1.2.3.4").await, "per source");
        assert!(limiter.code_attempt("bob", "5.6.7.8").await);
        // A right code takes its attempt back: linking many devices is
        // not guessing.
        for _ in 0..3 * MAX_CODE_FAILURES {
            assert!(limiter.code_attempt("carol", "9.9.9.9").await);
            limiter.code_succeeded("carol", "9.9.9.9").await;
        }
        for _ in 0..MAX_CODE_FAILURES {
            assert!(limiter.code_usable("BCDFGHJK").await);
            limiter.code_named_in_failure("BCDFGHJK").await;
        }
        assert!(!limiter.code_usable("BCDFGHJK").await);
        assert!(limiter.code_usable("BCDFGHJL").await);
    }

    #[test]
    fn the_database_store_keeps_the_same_rules() {
        // The rules over the table, on an SQLite file with the gateway's
        // schema (PostgreSQL runs them in the cluster tests).
        let dir = tempfile::tempdir().unwrap();
        let mut admin =
            crate::db::open_for_admin(&crate::db::Database::Sqlite(dir.path().join("gateway.db")))
                .unwrap();
        let c = admin.connection();
        let mut store = InDatabase(&c);
        let now = 1_000_000_000;
        for i in 0..i64::try_from(FREE_FAILURES).unwrap() {
            assert_eq!(
                begin_in(&mut store, "alice", "1.2.3.4", now + i).unwrap(),
                Ok(())
            );
        }
        let wait = begin_in(&mut store, "alice", "1.2.3.4", now + 10)
            .unwrap()
            .unwrap_err();
        assert!(wait >= Duration::from_millis(900), "{wait:?}");
        // A success forgets the pair and takes back one count each.
        succeeded_in(&mut store, "alice", "1.2.3.4").unwrap();
        assert_eq!(
            begin_in(&mut store, "alice", "1.2.3.4", now + 20).unwrap(),
            Ok(())
        );
        assert_eq!(store.recent("u:alice", 0).unwrap().len(), FREE_FAILURES);
        // Past the window, the sweep leaves nothing.
        sweep(&c, now + WINDOW_MS + 21).unwrap();
        assert!(InDatabase(&c).recent("s:1.2.3.4", 0).unwrap().is_empty());
    }
}
