//! Abuse limits: request rate buckets, the DPoP proof replay cache and the
//! DPoP nonce (kept in memory, or shared through PostgreSQL by a cluster),
//! and the failed sign-in counters of [`crate::sign_ins`], re-exported.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

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

pub use crate::sign_ins::{
    FREE_FAILURES, FREE_USER_FAILURES, MAX_CODE_FAILURES, MAX_SOURCE_DELAY, MAX_SOURCE_FAILURES,
    MAX_USER_DELAY, SIGN_IN_WINDOW, SignInLimiter, spoken,
};

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
    fn ipv6_sources_are_keyed_on_their_64() {
        let a: std::net::IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: std::net::IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let c: std::net::IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(source_key(a), source_key(b), "one /64, one source");
        assert_ne!(source_key(a), source_key(c));
        let mapped: std::net::IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(source_key(mapped), "192.0.2.1");
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
