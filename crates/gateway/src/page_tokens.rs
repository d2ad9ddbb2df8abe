//! The verification page's one-time tokens, kept server side: a sign-in
//! form works once and a consent decision is taken once, so a replayed or
//! forged form does nothing. Bounded, so page views cannot grow memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::crypto::random_token;

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

/// The page's one-time tokens, server side: sign-in form tokens (CSRF) and
/// consent decision tokens. A token works once, expires in 10 minutes, and
/// at most [`MAX_PAGE_TOKENS`] of each kind are kept.
#[derive(Debug, Default)]
pub struct PageTokens {
    csrf: Mutex<Bounded<()>>,
    decisions: Mutex<Bounded<PendingDecision>>,
}

impl PageTokens {
    /// A one-time form token (CSRF) for a page shown before sign-in.
    pub(crate) fn new_csrf(&self, rng: &ring::rand::SystemRandom) -> String {
        let token = random_token(rng);
        if let Ok(mut m) = self.csrf.lock() {
            m.insert(token.clone(), ());
        }
        token
    }

    /// Uses up a one-time form token; false if unknown, used or expired.
    pub(crate) fn take_csrf(&self, token: &str) -> bool {
        self.csrf
            .lock()
            .ok()
            .and_then(|mut m| m.take(token))
            .is_some()
    }

    /// How many form tokens are kept now.
    pub fn csrf_count(&self) -> usize {
        self.csrf.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// A one-time token for the consent the signed-in customer is shown.
    pub(crate) fn new_decision(
        &self,
        rng: &ring::rand::SystemRandom,
        user_code: String,
        customer_id: i64,
    ) -> String {
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
    pub(crate) fn take_decision(&self, token: &str) -> Option<PendingDecision> {
        self.decisions.lock().ok().and_then(|mut m| m.take(token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Attack (adversarial review, finding 10): every view of the page kept
    /// a token, with no bound.
    #[test]
    fn form_tokens_are_bounded_and_single_use() {
        let rng = ring::rand::SystemRandom::new();
        let tokens = PageTokens::default();
        let first = tokens.new_csrf(&rng);
        let mut last = String::new();
        for _ in 0..MAX_PAGE_TOKENS + 500 {
            last = tokens.new_csrf(&rng);
        }
        assert_eq!(tokens.csrf_count(), MAX_PAGE_TOKENS);
        assert!(!tokens.take_csrf(&first), "the oldest was forgotten");
        assert!(tokens.take_csrf(&last));
        assert!(!tokens.take_csrf(&last), "once only");
        let decision = tokens.new_decision(&rng, "BCDFGHJK".into(), 7);
        assert_eq!(
            tokens.take_decision(&decision).map(|d| d.customer_id),
            Some(7)
        );
        assert!(tokens.take_decision(&decision).is_none());
    }
}
