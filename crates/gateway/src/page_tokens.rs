//! The verification page's one-time tokens, kept server side: a sign-in
//! form works once and a consent decision is taken once, so a replayed or
//! forged form does nothing. Bounded, so page views cannot grow memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ring::hmac;
use ring::rand::SystemRandom;
use strongroom_core::protocol::jose::{b64_decode, b64_encode};

use crate::crypto::{constant_time_eq, now_s, random_bytes, random_token};
use crate::db::Db;

/// How long a sign-in form or a consent decision stays usable.
const PAGE_TOKEN_TTL: Duration = Duration::from_secs(10 * 60);

/// The most one-time tokens of each kind kept at once. Every page view
/// makes one, so without a bound a flood of page views (from many
/// addresses, each under its rate limit) would grow memory without end;
/// past the bound the oldest are forgotten (their forms say "expired, try
/// again").
pub const MAX_PAGE_TOKENS: usize = 10_000;

/// Tokens in the order they were made, each forgotten after
/// [`PAGE_TOKEN_TTL`] or when [`MAX_PAGE_TOKENS`] newer ones exist.
#[derive(Debug)]
struct Bounded<V> {
    values: HashMap<String, (V, Instant)>,
    order: std::collections::VecDeque<String>,
}

impl<V> Default for Bounded<V> {
    fn default() -> Self {
        Bounded {
            values: HashMap::new(),
            order: std::collections::VecDeque::new(),
        }
    }
}

impl<V> Bounded<V> {
    fn insert(&mut self, token: String, value: V) {
        // The oldest come first: drop them while expired or over the bound
        // (a token already taken is only a stale name in `order`).
        while let Some(oldest) = self.order.front() {
            let expired = self
                .values
                .get(oldest)
                .is_none_or(|(_, at)| at.elapsed() >= PAGE_TOKEN_TTL);
            if !expired && self.values.len() < MAX_PAGE_TOKENS {
                break;
            }
            if let Some(oldest) = self.order.pop_front() {
                self.values.remove(&oldest);
            }
        }
        self.order.push_back(token.clone());
        self.values.insert(token, (value, Instant::now()));
    }

    fn take(&mut self, token: &str) -> Option<V> {
        self.values
            .remove(token)
            .filter(|(_, at)| at.elapsed() < PAGE_TOKEN_TTL)
            .map(|(v, _)| v)
    }

    fn len(&self) -> usize {
        self.values.len()
    }
}

/// A consent waiting for the customer's decision.
#[derive(Debug)]
pub(crate) struct PendingDecision {
    /// The user code the customer confirmed.
    pub(crate) user_code: String,
    /// Who signed in.
    pub(crate) customer_id: i64,
}

/// The page's one-time tokens: sign-in form tokens (CSRF) and consent
/// decision tokens. A token works once, expires in 10 minutes.
///
/// One gateway keeps them in memory, at most [`MAX_PAGE_TOKENS`] of each
/// kind. Gateways sharing a PostgreSQL database cannot know which of them
/// will get the form back, so there a token carries its expiry and value,
/// signed with the key they share, and only its use is recorded, in the
/// database ([`crate::cluster::first_use_of_page_token`]): showing a page
/// stores nothing, and a form posted to two gateways works once.
#[derive(Debug, Default)]
pub struct PageTokens {
    csrf: Mutex<Bounded<()>>,
    decisions: Mutex<Bounded<PendingDecision>>,
    shared: Option<SignedTokens>,
}

/// Tokens signed with the cluster's shared key, their use recorded in the
/// database.
struct SignedTokens {
    db: Arc<Db>,
    key: hmac::Key,
}

impl std::fmt::Debug for SignedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignedTokens")
    }
}

impl SignedTokens {
    fn make(&self, rng: &SystemRandom, kind: &str, value: &str) -> String {
        let body = format!(
            "{}.{}.{}",
            b64_encode(&random_bytes::<16>(rng)),
            now_s() + PAGE_TOKEN_TTL.as_secs() as i64,
            b64_encode(value.as_bytes())
        );
        let tag = hmac::sign(&self.key, format!("{kind}.{body}").as_bytes());
        format!("{body}.{}", b64_encode(&tag.as_ref()[..16]))
    }

    /// The value of a genuine, unexpired, unused token, which is now used.
    async fn take(&self, kind: &str, token: &str) -> Option<String> {
        let (body, tag) = token.rsplit_once('.')?;
        let expected = hmac::sign(&self.key, format!("{kind}.{body}").as_bytes());
        if !constant_time_eq(&b64_decode(tag).ok()?, &expected.as_ref()[..16]) {
            return None;
        }
        let mut parts = body.splitn(3, '.');
        let (_, expires_at, value) = (parts.next()?, parts.next()?, parts.next()?);
        let expires_at: i64 = expires_at.parse().ok()?;
        if expires_at <= now_s() {
            return None;
        }
        match crate::cluster::first_use_of_page_token(&self.db, token, expires_at).await? {
            Ok(true) => String::from_utf8(b64_decode(value).ok()?).ok(),
            Ok(false) => None,
            Err(e) => {
                tracing::warn!(error = %e, "recording a page token's use");
                None
            }
        }
    }
}

impl PageTokens {
    /// Tokens signed with `key` and recorded in `db` when other gateways
    /// share it, else kept in memory.
    pub fn for_database(db: &Arc<Db>, key: hmac::Key) -> Self {
        PageTokens {
            shared: db.is_shared().then(|| SignedTokens {
                db: Arc::clone(db),
                key,
            }),
            ..PageTokens::default()
        }
    }

    /// A one-time form token (CSRF) for a page shown before sign-in.
    pub(crate) fn new_csrf(&self, rng: &SystemRandom) -> String {
        if let Some(signed) = &self.shared {
            return signed.make(rng, "csrf", "");
        }
        let token = random_token(rng);
        if let Ok(mut m) = self.csrf.lock() {
            m.insert(token.clone(), ());
        }
        token
    }

    /// Uses up a one-time form token; false if unknown, used or expired.
    pub(crate) async fn take_csrf(&self, token: &str) -> bool {
        if let Some(signed) = &self.shared {
            return signed.take("csrf", token).await.is_some();
        }
        self.csrf
            .lock()
            .ok()
            .and_then(|mut m| m.take(token))
            .is_some()
    }

    /// How many form tokens this process keeps now.
    pub fn csrf_count(&self) -> usize {
        self.csrf.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// A one-time token for the consent the signed-in customer is shown.
    pub(crate) fn new_decision(
        &self,
        rng: &SystemRandom,
        user_code: String,
        customer_id: i64,
    ) -> String {
        if let Some(signed) = &self.shared {
            return signed.make(rng, "decision", &format!("{customer_id}:{user_code}"));
        }
        let token = random_token(rng);
        if let Ok(mut m) = self.decisions.lock() {
            m.insert(
                token.clone(),
                PendingDecision {
                    user_code,
                    customer_id,
                },
            );
        }
        token
    }

    /// Uses up a consent token; `None` if unknown, used or expired.
    pub(crate) async fn take_decision(&self, token: &str) -> Option<PendingDecision> {
        if let Some(signed) = &self.shared {
            let value = signed.take("decision", token).await?;
            let (customer_id, user_code) = value.split_once(':')?;
            return Some(PendingDecision {
                user_code: user_code.to_owned(),
                customer_id: customer_id.parse().ok()?,
            });
        }
        self.decisions.lock().ok().and_then(|mut m| m.take(token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Attack (adversarial review, finding 10): every view of the page kept
    /// a token, with no bound.
    #[tokio::test]
    async fn form_tokens_are_bounded_and_single_use() {
        let rng = ring::rand::SystemRandom::new();
        let tokens = PageTokens::default();
        let first = tokens.new_csrf(&rng);
        let mut last = String::new();
        for _ in 0..MAX_PAGE_TOKENS + 500 {
            last = tokens.new_csrf(&rng);
        }
        assert_eq!(tokens.csrf_count(), MAX_PAGE_TOKENS);
        assert!(!tokens.take_csrf(&first).await, "the oldest was forgotten");
        assert!(tokens.take_csrf(&last).await);
        assert!(!tokens.take_csrf(&last).await, "once only");
        let decision = tokens.new_decision(&rng, "BCDFGHJK".into(), 7);
        assert_eq!(
            tokens.take_decision(&decision).await.map(|d| d.customer_id),
            Some(7)
        );
        assert!(tokens.take_decision(&decision).await.is_none());
    }
}
