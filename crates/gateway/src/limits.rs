//! Abuse limits kept in memory: request rate buckets, failed sign-in
//! counters, the DPoP proof replay cache and the DPoP nonce.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ring::hmac;
use strongroom_core::protocol::jose::b64_encode;

/// Token buckets by key (a client IP or a device id).
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// `rate` requests per second, bursts of twice that (at least 2).
    pub fn new(rate: f64) -> Self {
        RateLimiter {
            rate,
            burst: (rate * 2.0).max(2.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; `Err(seconds)` says how long to wait.
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

/// Failed sign-ins per username and per client IP within a window.
#[derive(Debug, Default)]
pub struct SignInLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

/// Failures allowed per username, and per IP, in [`SIGN_IN_WINDOW`].
pub const MAX_USER_FAILURES: usize = 5;
/// Failures allowed per client IP in [`SIGN_IN_WINDOW`].
pub const MAX_IP_FAILURES: usize = 20;
/// The window failed sign-ins are counted over.
pub const SIGN_IN_WINDOW: Duration = Duration::from_secs(15 * 60);

impl SignInLimiter {
    /// Counts an attempt for `username` from `ip` before the password is
    /// checked, if the limits allow one more; false (nothing counted) if
    /// they do not. Checking and counting happen under one lock, so
    /// parallel attempts cannot all pass the check before any is counted.
    /// A successful attempt is taken back with [`SignInLimiter::succeeded`].
    pub fn begin(&self, username: &str, ip: &str) -> bool {
        let now = Instant::now();
        let Ok(mut f) = self.failures.lock() else {
            return false;
        };
        if f.len() > 100_000 {
            f.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < SIGN_IN_WINDOW));
        }
        let keys = [
            (format!("u:{}", username.to_lowercase()), MAX_USER_FAILURES),
            (format!("ip:{ip}"), MAX_IP_FAILURES),
        ];
        for (key, max) in &keys {
            if let Some(v) = f.get_mut(key) {
                v.retain(|t| now.duration_since(*t) < SIGN_IN_WINDOW);
                if v.len() >= *max {
                    return false;
                }
            }
        }
        for (key, _) in keys {
            f.entry(key).or_default().push(now);
        }
        true
    }

    /// Forgets a username's failures after it signs in, and takes back the
    /// attempt [`SignInLimiter::begin`] counted for the IP.
    pub fn succeeded(&self, username: &str, ip: &str) {
        if let Ok(mut f) = self.failures.lock() {
            f.remove(&format!("u:{}", username.to_lowercase()));
            let key = format!("ip:{ip}");
            if let Some(v) = f.get_mut(&key) {
                v.pop();
                if v.is_empty() {
                    f.remove(&key);
                }
            }
        }
    }
}

/// DPoP proof ids seen within the proofs' allowed clock skew: a proof used
/// twice is refused.
#[derive(Debug, Default)]
pub struct ReplayCache {
    /// Proof key and id to the time it may be forgotten, and the size at
    /// which to sweep expired entries next (doubling, so a burst of fresh
    /// proofs never costs a sweep per request).
    seen: Mutex<(HashMap<String, i64>, usize)>,
}

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

    /// Records `jti` (with the key thumbprint, so ids from different keys
    /// never collide); false if it was already seen and has not expired.
    pub fn first_use(&self, jkt: &str, jti: &str, now: i64) -> bool {
        // A proof is valid within 60 s either side of now; keep ids a bit
        // longer than the window a proof can be accepted in.
        const KEEP_S: i64 = 2 * strongroom_core::protocol::dpop::DPOP_MAX_SKEW_S + 10;
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
                seen.insert(key, now + KEEP_S);
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
        NonceIssuer {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
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
    fn sign_in_attempts_are_counted_before_checking_and_lock_the_username() {
        let limiter = SignInLimiter::default();
        // Five attempts in flight at once: the sixth is refused before any
        // of them has finished.
        for _ in 0..MAX_USER_FAILURES {
            assert!(limiter.begin("Alice", "1.2.3.4"));
        }
        assert!(!limiter.begin("alice", "5.6.7.8"), "per username, any IP");
        assert!(limiter.begin("bob", "5.6.7.8"));
        limiter.succeeded("bob", "5.6.7.8");
        limiter.succeeded("alice", "1.2.3.4");
        assert!(
            limiter.begin("alice", "1.2.3.4"),
            "a success clears the name"
        );
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
        assert!(cache.first_use("k", "j1", 100));
        assert!(!cache.first_use("k", "j1", 150));
        assert!(cache.first_use("k2", "j1", 150));
        assert!(
            cache.first_use("k", "j1", 1000),
            "forgotten after the window"
        );
    }
}
