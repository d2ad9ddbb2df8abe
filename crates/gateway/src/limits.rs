//! Abuse limits kept in memory: request rate buckets, failed sign-in
//! counters, the DPoP proof replay cache and the DPoP nonce.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ring::hmac;
use strongroom_core::protocol::jose::b64_encode;

use crate::db::Db;
use crate::error::GatewayError;

/// Token buckets by key (a client IP or a device id).
///
/// Gateways sharing a PostgreSQL database share one bucket per key there
/// ([`crate::cluster::take_request`]), so a client spreading its requests
/// over them gets no more than from one.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
    shared: Option<Arc<Db>>,
}

impl RateLimiter {
    /// `rate` requests per second, bursts of twice that (at least 2), kept
    /// in memory.
    pub fn new(rate: f64) -> Self {
        RateLimiter {
            rate,
            burst: (rate * 2.0).max(2.0),
            buckets: Mutex::new(HashMap::new()),
            shared: None,
        }
    }

    /// The same limits, kept in `db` when other gateways share it.
    pub fn for_database(rate: f64, db: &Arc<Db>) -> Self {
        RateLimiter {
            shared: db.is_shared().then(|| Arc::clone(db)),
            ..RateLimiter::new(rate)
        }
    }

    /// Takes one token for `key`; `Ok(Err(seconds))` says how long to wait.
    ///
    /// # Errors
    /// [`GatewayError::Storage`] if the shared database does not answer.
    pub async fn take(&self, key: &str) -> Result<Result<(), u64>, GatewayError> {
        if let Some(db) = &self.shared
            && let Some(taken) =
                crate::cluster::take_request(db, key.to_owned(), self.rate, self.burst).await
        {
            return taken;
        }
        Ok(self.check(key))
    }

    /// Takes one token for `key` from this process's buckets; `Err(seconds)`
    /// says how long to wait.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() > 100_000 {
            // Full buckets carry no information: forget them.
            let full = self.burst;
            let rate = self.rate;
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < full
            });
        }
        let (tokens, at) = buckets.entry(key.to_owned()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

/// The key a client address is limited by: an IPv4 address as it is, an
/// IPv6 address by its /64 (one customer line or host gets a whole /64 and
/// rotates through it at will), an IPv4-mapped IPv6 address as the IPv4
/// address it is.
pub fn source_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Failed sign-ins and wrong user codes within a window, by key.
///
/// Password guessing is slowed, never locked: a username's failures from
/// one source (its address or /64) earn that source growing delays, and a
/// source's failures over all usernames are capped; the username's owner,
/// signing in from elsewhere, waits at most [`MAX_USER_DELAY`] however many
/// guesses others make. A customer who signed in has a bounded number of
/// wrong user codes, and so has each pending user code.
#[derive(Debug, Default)]
pub struct SignInLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

/// A wait as a person reads it: "3 seconds", "15 minutes".
pub fn spoken(wait: Duration) -> String {
    let s = wait.as_secs().max(1);
    match s {
        1 => "1 second".into(),
        2..=90 => format!("{s} seconds"),
        _ => format!("{} minutes", s.div_ceil(60)),
    }
}

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

/// The delay after `failures` failures, `free` of them without one:
/// 1 s, 2 s, 4 s... up to `max`.
fn growing_delay(failures: usize, free: usize, max: Duration) -> Duration {
    if failures < free {
        return Duration::ZERO;
    }
    let doublings = u32::try_from(failures - free).unwrap_or(u32::MAX).min(20);
    Duration::from_secs(1u64 << doublings).min(max)
}

impl SignInLimiter {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut HashMap<String, Vec<Instant>>, Instant) -> T,
    ) -> Option<T> {
        let now = Instant::now();
        let mut map = self.failures.lock().ok()?;
        if map.len() > 100_000 {
            map.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < SIGN_IN_WINDOW));
        }
        Some(f(&mut map, now))
    }

    /// How long `key` must still wait: its recent failures against the
    /// delay they earn, counted from the last one.
    fn wait(
        map: &mut HashMap<String, Vec<Instant>>,
        now: Instant,
        key: &str,
        free: usize,
        max: Duration,
    ) -> Duration {
        let Some(times) = map.get_mut(key) else {
            return Duration::ZERO;
        };
        times.retain(|t| now.duration_since(*t) < SIGN_IN_WINDOW);
        let (Some(last), n) = (times.last(), times.len()) else {
            return Duration::ZERO;
        };
        growing_delay(n, free, max).saturating_sub(now.duration_since(*last))
    }

    /// Counts a password attempt for `username` from `source` (a
    /// [`source_key`]) before the password is checked, if the limits allow
    /// one now; otherwise `Err(how long to wait)` and nothing is counted.
    /// Checking and counting happen under one lock, so parallel attempts
    /// cannot all pass before any is counted. A successful attempt is
    /// taken back with [`SignInLimiter::succeeded`].
    pub fn begin(&self, username: &str, source: &str) -> Result<(), Duration> {
        let name = username.to_lowercase();
        self.with(|map, now| {
            let pair = format!("us:{name}|{source}");
            let user = format!("u:{name}");
            let src = format!("s:{source}");
            let wait = Self::wait(map, now, &pair, FREE_FAILURES, MAX_SOURCE_DELAY).max(
                Self::wait(map, now, &user, FREE_USER_FAILURES, MAX_USER_DELAY),
            );
            if !wait.is_zero() {
                return Err(wait.max(Duration::from_secs(1)));
            }
            if let Some(times) = map.get_mut(&src) {
                times.retain(|t| now.duration_since(*t) < SIGN_IN_WINDOW);
                if times.len() >= MAX_SOURCE_FAILURES {
                    let oldest = times.first().copied().unwrap_or(now);
                    return Err(SIGN_IN_WINDOW.saturating_sub(now.duration_since(oldest)));
                }
            }
            for key in [pair, user, src] {
                map.entry(key).or_default().push(now);
            }
            Ok(())
        })
        .unwrap_or(Err(Duration::from_secs(1)))
    }

    /// Forgets a username's failures from `source` after it signs in, and
    /// takes back the attempt [`SignInLimiter::begin`] counted for the
    /// username and the source.
    pub fn succeeded(&self, username: &str, source: &str) {
        let name = username.to_lowercase();
        self.with(|map, _| {
            map.remove(&format!("us:{name}|{source}"));
            for key in [format!("u:{name}"), format!("s:{source}")] {
                if let Some(v) = map.get_mut(&key) {
                    v.pop();
                    if v.is_empty() {
                        map.remove(&key);
                    }
                }
            }
        });
    }

    /// Whether a signed-in `username` at `source` may try a user code now:
    /// fewer than [`MAX_CODE_FAILURES`] wrong codes for the customer and
    /// for the source in the window.
    pub fn code_allowed(&self, username: &str, source: &str) -> bool {
        let keys = [
            format!("cu:{}", username.to_lowercase()),
            format!("cs:{source}"),
        ];
        self.with(|map, now| {
            keys.iter().all(|key| {
                map.get_mut(key).is_none_or(|times| {
                    times.retain(|t| now.duration_since(*t) < SIGN_IN_WINDOW);
                    times.len() < MAX_CODE_FAILURES
                })
            })
        })
        .unwrap_or(false)
    }

    /// Counts a wrong user code by a signed-in `username` at `source`.
    pub fn code_failed(&self, username: &str, source: &str) {
        let keys = [
            format!("cu:{}", username.to_lowercase()),
            format!("cs:{source}"),
        ];
        self.with(|map, now| {
            for key in keys {
                map.entry(key).or_default().push(now);
            }
        });
    }

    /// Counts a failed sign-in that named the pending user `code`.
    pub fn code_named_in_failure(&self, code: &str) {
        self.with(|map, now| map.entry(format!("dc:{code}")).or_default().push(now));
    }

    /// Whether the pending user `code` may still be approved: fewer than
    /// [`MAX_CODE_FAILURES`] failed sign-ins named it in the window. A code
    /// someone is trying passwords with is spent; the customer's app starts
    /// a new one.
    pub fn code_usable(&self, code: &str) -> bool {
        self.with(|map, now| {
            map.get_mut(&format!("dc:{code}")).is_none_or(|times| {
                times.retain(|t| now.duration_since(*t) < SIGN_IN_WINDOW);
                times.len() < MAX_CODE_FAILURES
            })
        })
        .unwrap_or(false)
    }
}

/// DPoP proof ids seen within the proofs' allowed clock skew: a proof used
/// twice is refused.
///
/// Gateways sharing a PostgreSQL database remember proofs there
/// ([`crate::cluster::first_use_of_proof`]), so a proof used at one is
/// refused at every other.
#[derive(Debug, Default)]
pub struct ReplayCache {
    /// Proof key and id to the time it may be forgotten, and the size at
    /// which to sweep expired entries next (doubling, so a burst of fresh
    /// proofs never costs a sweep per request).
    seen: Mutex<(HashMap<String, i64>, usize)>,
    shared: Option<Arc<Db>>,
}

/// How long a proof id is remembered: a proof is valid within 60 s either
/// side of now, so a bit longer than the window it can be accepted in.
const KEEP_PROOF_S: i64 = 2 * strongroom_core::protocol::dpop::DPOP_MAX_SKEW_S + 10;

impl ReplayCache {
    /// How many proof ids are remembered now (expired ones included until
    /// the next sweep).
    pub fn len(&self) -> usize {
        self.seen.lock().map(|g| g.0.len()).unwrap_or(0)
    }

    /// Whether no proof id is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A cache kept in `db` when other gateways share it, else in memory.
    pub fn for_database(db: &Arc<Db>) -> Self {
        ReplayCache {
            shared: db.is_shared().then(|| Arc::clone(db)),
            ..ReplayCache::default()
        }
    }

    /// Records `jti` (with the key thumbprint, so ids from different keys
    /// never collide), for every gateway sharing the database; false if it
    /// was already seen and has not expired.
    ///
    /// # Errors
    /// [`GatewayError::Storage`] if the shared database does not answer.
    pub async fn first_use(&self, jkt: &str, jti: &str, now: i64) -> Result<bool, GatewayError> {
        if let Some(db) = &self.shared
            && let Some(first) =
                crate::cluster::first_use_of_proof(db, jkt, jti, now, now + KEEP_PROOF_S).await
        {
            return first;
        }
        Ok(self.first_use_here(jkt, jti, now))
    }

    /// [`ReplayCache::first_use`] in this process's memory.
    fn first_use_here(&self, jkt: &str, jti: &str, now: i64) -> bool {
        let Ok(mut guard) = self.seen.lock() else {
            return false;
        };
        let (seen, sweep_at) = &mut *guard;
        if seen.len() >= (*sweep_at).max(10_000) {
            seen.retain(|_, expiry| *expiry > now);
            *sweep_at = seen.len() * 2;
        }
        let key = format!("{jkt}.{jti}");
        match seen.get(&key) {
            Some(expiry) if *expiry > now => false,
            _ => {
                seen.insert(key, now + KEEP_PROOF_S);
                true
            }
        }
    }
}

/// Server DPoP nonces (RFC 9449 section 8): an HMAC of the current
/// five-minute window, so no state is kept; the previous window's nonce is
/// still accepted, so a nonce lives 5 to 10 minutes.
pub struct NonceIssuer {
    key: hmac::Key,
}

impl std::fmt::Debug for NonceIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NonceIssuer")
    }
}

const NONCE_WINDOW_S: i64 = 300;

impl NonceIssuer {
    /// A nonce issuer keyed with `secret`.
    pub fn new(secret: &[u8]) -> Self {
        NonceIssuer::with_key(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// A nonce issuer keyed with `key`: the key every gateway sharing the
    /// database derives ([`crate::cluster::shared_key`]), so a nonce one
    /// gives out is good at all.
    pub fn with_key(key: hmac::Key) -> Self {
        NonceIssuer { key }
    }

    fn for_window(&self, window: i64) -> String {
        let tag = hmac::sign(&self.key, &window.to_be_bytes());
        format!("{window}.{}", b64_encode(&tag.as_ref()[..16]))
    }

    /// The nonce to hand out now.
    pub fn current(&self, now: i64) -> String {
        self.for_window(now.div_euclid(NONCE_WINDOW_S))
    }

    /// Whether `nonce` is this window's or the previous one's.
    pub fn valid(&self, nonce: &str, now: i64) -> bool {
        let window = now.div_euclid(NONCE_WINDOW_S);
        [window, window - 1].into_iter().any(|w| {
            let expected = self.for_window(w);
            crate::crypto::constant_time_eq(expected.as_bytes(), nonce.as_bytes())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refuse_past_the_burst_and_say_how_long_to_wait() {
        let limiter = RateLimiter::new(1.0);
        assert!(limiter.check("ip").is_ok());
        assert!(limiter.check("ip").is_ok());
        assert_eq!(limiter.check("ip"), Err(1));
        assert!(limiter.check("other").is_ok(), "keys are independent");
    }

    #[test]
    fn sign_in_attempts_are_counted_before_checking_and_slow_only_the_guesser() {
        let limiter = SignInLimiter::default();
        // Attempts in flight at once are counted before any finishes: past
        // the free ones, the next must wait.
        for _ in 0..FREE_FAILURES {
            assert!(limiter.begin("Alice", "1.2.3.4").is_ok());
        }
        let wait = limiter.begin("alice", "1.2.3.4").unwrap_err();
        assert!(wait >= Duration::from_millis(900), "{wait:?}");
        // Attack (adversarial review, finding 7): five wrong passwords
        // locked the real customer out for 15 minutes. Her own address is
        // not slowed by someone else's guesses.
        assert!(
            limiter.begin("alice", "5.6.7.8").is_ok(),
            "the owner, elsewhere"
        );
        limiter.succeeded("alice", "5.6.7.8");
        assert!(limiter.begin("bob", "1.2.3.4").is_ok(), "per username");
        limiter.succeeded("bob", "1.2.3.4");
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

    #[test]
    fn many_sources_delay_a_username_by_seconds_never_lock_it() {
        let limiter = SignInLimiter::default();
        // A botnet: one guess from each of many addresses.
        for i in 0..100 {
            let _ = limiter.begin("alice", &format!("10.0.{}.{}", i / 200, i % 200));
        }
        let wait = limiter.begin("alice", "192.0.2.1").unwrap_err();
        assert!(wait <= MAX_USER_DELAY, "{wait:?}");
    }

    #[test]
    fn a_source_is_capped_over_all_usernames() {
        let limiter = SignInLimiter::default();
        for i in 0..MAX_SOURCE_FAILURES {
            assert!(limiter.begin(&format!("user{i}"), "1.2.3.4").is_ok());
        }
        assert!(limiter.begin("someone-else", "1.2.3.4").is_err());
        assert!(limiter.begin("someone-else", "1.2.3.5").is_ok());
    }

    #[test]
    fn ipv6_sources_are_keyed_on_their_64() {
        let a: std::net::IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: std::net::IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let c: std::net::IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(source_key(a), source_key(b), "one /64, one source");
        assert_ne!(source_key(a), source_key(c));
        let mapped: std::net::IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(source_key(mapped), "192.0.2.1");
        let limiter = SignInLimiter::default();
        for i in 0..MAX_SOURCE_FAILURES {
            let rotated: std::net::IpAddr = format!("2001:db8:1:2::{:x}", i + 1).parse().unwrap();
            assert!(
                limiter
                    .begin(&format!("u{i}"), &source_key(rotated))
                    .is_ok()
            );
        }
        assert!(
            limiter.begin("u-next", &source_key(a)).is_err(),
            "rotating within the /64 does not escape the cap"
        );
    }

    #[test]
    fn wrong_user_codes_are_bounded_per_customer_and_each_code_per_failure() {
        let limiter = SignInLimiter::default();
        for _ in 0..MAX_CODE_FAILURES {
            assert!(limiter.code_allowed("alice", "1.2.3.4"));
            limiter.code_failed("alice", "1.2.3.4");
        }
        assert!(!limiter.code_allowed("alice", "1.2.3.4"));
        assert!(!limiter.code_allowed("alice", "5.6.7.8"), "per customer");
        assert!(!limiter.code_allowed("bob", "1.2.3.4"), "per source");
        assert!(limiter.code_allowed("bob", "5.6.7.8"));
        for _ in 0..MAX_CODE_FAILURES {
            assert!(limiter.code_usable("BCDFGHJK"));
            limiter.code_named_in_failure("BCDFGHJK");
        }
        assert!(!limiter.code_usable("BCDFGHJK"));
        assert!(limiter.code_usable("BCDFGHJL"));
    }

    #[test]
    fn nonces_expire_after_two_windows_and_proof_ids_are_single_use() {
        let issuer = NonceIssuer::new(b"secret");
        let n = issuer.current(1_000_000);
        assert!(issuer.valid(&n, 1_000_000));
        assert!(issuer.valid(&n, 1_000_000 + 300));
        assert!(!issuer.valid(&n, 1_000_000 + 700));
        assert!(!NonceIssuer::new(b"other").valid(&n, 1_000_000));
        let cache = ReplayCache::default();
        assert!(cache.first_use_here("k", "j1", 100));
        assert!(!cache.first_use_here("k", "j1", 150));
        assert!(cache.first_use_here("k2", "j1", 150));
        assert!(
            cache.first_use_here("k", "j1", 1000),
            "forgotten after the window"
        );
    }
}
