//! The chain of a bank's alert keys as one device saw it: the set pinned at
//! link time, then every rotation statement applied since. Replaying the
//! chain gives the set in force at any moment, so an alert signed years ago
//! with a key the bank has since retired still verifies; and, given the keys
//! the bank publishes now, it tells which keys of the chain the bank itself
//! vouches for.
//!
//! What a replayed chain proves, and what it does not, is spelled out in
//! `docs/security.md` ("Transcripts"): on its own, only that the alerts were
//! signed by the keys at the start of the chain or keys those rotated to.
//! Anyone can write a chain that starts at their own key; only a check
//! against the bank's published keys ([`KeyEpochs::vouched`]) ties keys to
//! the bank.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use super::ProtocolError;
use super::alert::VerifiedAlert;
use super::jose::{Jwk, parse_jws};
use super::verify::{AlertVerifier, KeyRotation, PinnedKeys, TimePolicy};

/// The most rotation statements a chain may hold. Banks rotate a few times
/// a year; the bound keeps a hostile transcript from costing much to check.
pub const MAX_ROTATIONS: usize = 1_000;

/// A chain of keys: where it starts and every rotation statement since, in
/// the order they were applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyChain {
    /// The set the chain starts from: the one pinned at link time when its
    /// `version` is 0.
    pub start: PinnedKeys,
    /// Rotation statements (compact JWS), each signed by a key of the set
    /// before it.
    pub rotations: Vec<String>,
}

/// One set of keys in a replayed chain and when it came into force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEpoch {
    /// The set in force from `since` on.
    pub keys: PinnedKeys,
    /// The issued-at (seconds) of the statement that brought this set in;
    /// `None` for the chain's start.
    pub since: Option<i64>,
    /// The key that signed that statement (a key of the previous set).
    pub signed_by: Option<Jwk>,
    /// The thumbprints the statement says it replaced (empty when the bank
    /// does not say).
    pub replaces: Vec<String>,
}

/// A chain whose every statement checked out, as its sequence of key sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEpochs {
    epochs: Vec<KeyEpoch>,
}

/// The thumbprints of a set of keys, for comparing sets by key, not by id:
/// a key id is only a label the signer chose.
pub fn thumbprints(keys: &[Jwk]) -> BTreeSet<String> {
    keys.iter().map(Jwk::thumbprint).collect()
}

impl KeyChain {
    /// Replays the chain: each statement must be signed by a key of the set
    /// before it, name the same issuer, move the sequence forward, be dated
    /// no earlier than the statement before it, and, when it says which set
    /// it replaces, name exactly the set in force.
    ///
    /// # Errors
    /// [`ProtocolError::BadKey`] or [`ProtocolError::Malformed`] for a start
    /// set that could never have been pinned (no keys, no audience);
    /// [`ProtocolError::BrokenKeyChain`] naming the first statement that
    /// fails and why; [`ProtocolError::TooLarge`] past [`MAX_ROTATIONS`].
    pub fn replay(&self) -> Result<KeyEpochs, ProtocolError> {
        if self.rotations.len() > MAX_ROTATIONS {
            return Err(ProtocolError::TooLarge {
                len: self.rotations.len(),
                max: MAX_ROTATIONS,
            });
        }
        // The start set goes through the same checks as a pin at link time.
        let audience = self
            .start
            .audience
            .as_deref()
            .ok_or(ProtocolError::Malformed("the key chain names no audience"))?;
        let mut start = PinnedKeys::pin(&self.start.issuer, audience, self.start.keys.clone())?;
        start.version = self.start.version;
        let mut epochs = vec![KeyEpoch {
            keys: start,
            since: None,
            signed_by: None,
            replaces: Vec::new(),
        }];
        for (index, compact) in self.rotations.iter().enumerate() {
            let broken = |reason: ProtocolError| ProtocolError::BrokenKeyChain {
                index,
                reason: Box::new(reason),
            };
            let last = epochs
                .last()
                .ok_or(ProtocolError::Malformed("empty chain"))?;
            let jws = parse_jws(compact).map_err(broken)?;
            let statement: KeyRotation = super::jose::payload_json(&jws).map_err(broken)?;
            // Replayed at its own date: age does not matter here, order does.
            let next = last
                .keys
                .rotate(
                    compact,
                    statement.iat,
                    TimePolicy {
                        max_future_s: 0,
                        max_age_s: 0,
                    },
                )
                .map_err(broken)?;
            if last.since.is_some_and(|since| statement.iat < since) {
                return Err(broken(ProtocolError::Malformed(
                    "a rotation is dated before the one it follows",
                )));
            }
            if !statement.replaces.is_empty()
                && statement.replaces.iter().cloned().collect::<BTreeSet<_>>()
                    != thumbprints(&last.keys.keys)
            {
                return Err(broken(ProtocolError::Malformed(
                    "the statement replaces another key set than the one in force",
                )));
            }
            let signed_by = last
                .keys
                .keys
                .iter()
                .find(|k| Some(&k.kid) == jws.header.kid.as_ref())
                .cloned();
            epochs.push(KeyEpoch {
                keys: next,
                since: Some(statement.iat),
                signed_by,
                replaces: statement.replaces,
            });
        }
        Ok(KeyEpochs { epochs })
    }
}

/// An alert that verified against the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedAlert {
    /// The alert.
    pub alert: VerifiedAlert,
    /// The key that signed it.
    pub key: Jwk,
    /// The position in the chain of the set it verified against (0: the
    /// start set).
    pub epoch: usize,
}

#[derive(Deserialize)]
struct IssuedAt {
    iat: i64,
}

impl KeyEpochs {
    /// The sets in order, the start first.
    pub fn epochs(&self) -> &[KeyEpoch] {
        &self.epochs
    }

    /// The set the chain starts from.
    pub fn start(&self) -> &PinnedKeys {
        // A replay always yields at least the start set.
        &self.epochs[0].keys
    }

    /// The set in force at the end of the chain.
    pub fn current(&self) -> &PinnedKeys {
        &self.epochs[self.epochs.len() - 1].keys
    }

    /// The positions of the sets in force at `iat`, newest first: the last
    /// one brought in at or before it, and, when a rotation is dated the
    /// same second as the alert (dates are whole seconds), the set before
    /// that rotation too.
    fn epochs_at(&self, iat: i64) -> Vec<usize> {
        (0..self.epochs.len())
            .rev()
            .filter(|&i| {
                let from = self.epochs[i].since.is_none_or(|since| since <= iat);
                let until = self
                    .epochs
                    .get(i + 1)
                    .and_then(|next| next.since)
                    .is_none_or(|next| iat <= next);
                from && until
            })
            .collect()
    }

    /// Checks one alert against the set that was in force at its issued-at:
    /// an alert signed with a key before that key was pinned, or after it
    /// was rotated away, is refused, as the device itself refused it then.
    /// Age is not checked (old alerts stay provable); a date more than five
    /// minutes after `now` is.
    ///
    /// # Errors
    /// As [`AlertVerifier::check`]: [`ProtocolError::UnknownKey`] when the
    /// signing key was not in force at the alert's date.
    pub fn check_alert(&self, compact: &str, now: i64) -> Result<ChainedAlert, ProtocolError> {
        let jws = parse_jws(compact)?;
        // The date chooses the set; the signature check below covers it.
        let IssuedAt { iat } = super::jose::payload_json(&jws)?;
        let mut first_error = None;
        for epoch in self.epochs_at(iat) {
            let keys = &self.epochs[epoch].keys;
            let verifier = AlertVerifier::new(
                keys.clone(),
                TimePolicy {
                    max_future_s: 5 * 60,
                    max_age_s: i64::MAX / 4,
                },
            );
            match verifier.check(compact, now) {
                Ok(alert) => {
                    let key = keys
                        .keys
                        .iter()
                        .find(|k| k.kid == alert.key_id)
                        .cloned()
                        .ok_or_else(|| ProtocolError::UnknownKey(Some(alert.key_id.clone())))?;
                    return Ok(ChainedAlert { alert, key, epoch });
                }
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
        Err(first_error.unwrap_or(ProtocolError::Malformed(
            "no key set covers the alert's date",
        )))
    }

    /// The thumbprints of the chain's keys that the bank vouches for, given
    /// the thumbprints of the keys it publishes now (fetched over TLS from
    /// its `jwks_uri`):
    ///
    /// - a key it publishes now is its own;
    /// - a statement signed by a vouched key is the bank's, so the keys it
    ///   brings in are the bank's, and so are those it says it replaced
    ///   (when it says so, the replay checked they are the set in force).
    ///
    /// Nothing else vouches: a statement signed by a key the bank does not
    /// vouch for says nothing about the bank, even if it names the bank's
    /// keys (public keys are public; anyone can write "rotate to the bank's
    /// keys" under their own).
    pub fn vouched(&self, published: &BTreeSet<String>) -> BTreeSet<String> {
        let chain_keys: BTreeSet<String> = self
            .epochs
            .iter()
            .flat_map(|e| e.keys.keys.iter().map(Jwk::thumbprint))
            .collect();
        let mut vouched: BTreeSet<String> = chain_keys.intersection(published).cloned().collect();
        // Each pass adds at least one key or stops; the chain is bounded.
        loop {
            let before = vouched.len();
            for (i, epoch) in self.epochs.iter().enumerate().skip(1) {
                let Some(signer) = &epoch.signed_by else {
                    continue;
                };
                if !vouched.contains(&signer.thumbprint()) {
                    continue;
                }
                vouched.extend(epoch.keys.keys.iter().map(Jwk::thumbprint));
                if !epoch.replaces.is_empty() {
                    vouched.extend(self.epochs[i - 1].keys.keys.iter().map(Jwk::thumbprint));
                }
            }
            if vouched.len() == before {
                return vouched;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::alert::{ALERT_TYP, AlertClaims, AlertEvent, AlertKind, AlertSeverity};
    use crate::protocol::jose::SigningKey;
    use crate::protocol::verify::ROTATION_TYP;
    use ring::rand::SystemRandom;

    const BANK: &str = "https://bank.example";
    const ALICE: &str = "customer-alice-7f3a";
    const T0: i64 = 1_800_000_000;

    fn key(kid: &str) -> SigningKey {
        SigningKey::generate(kid, &SystemRandom::new()).unwrap().0
    }

    fn alert(key: &SigningKey, jti: &str, iat: i64) -> String {
        let event = AlertEvent {
            severity: AlertSeverity::Info,
            text: "Balance".into(),
            account_ref: None,
            amount_minor: None,
            currency: None,
            merchant: None,
            country: None,
            respond_by: None,
            balance_minor: Some(1),
        };
        let claims = AlertClaims::new(BANK, ALICE, jti, iat, AlertKind::Custom, event);
        key.sign(ALERT_TYP, &claims, false, &SystemRandom::new())
            .unwrap()
    }

    fn rotation(
        signer: &SigningKey,
        seq: u64,
        iat: i64,
        keys: &[&SigningKey],
        replaces: &[&SigningKey],
    ) -> String {
        let statement = KeyRotation {
            iss: BANK.into(),
            iat,
            seq,
            keys: keys.iter().map(|k| k.jwk()).collect(),
            replaces: replaces.iter().map(|k| k.jwk().thumbprint()).collect(),
        };
        signer
            .sign(ROTATION_TYP, &statement, false, &SystemRandom::new())
            .unwrap()
    }

    /// The gateway's rotations: k1, then [k1, k2], then [k2, k3].
    fn bank_chain() -> (SigningKey, SigningKey, SigningKey, KeyChain) {
        let (k1, k2, k3) = (key("k1"), key("k2"), key("k3"));
        let chain = KeyChain {
            start: PinnedKeys::pin(BANK, ALICE, vec![k1.jwk()]).unwrap(),
            rotations: vec![
                rotation(&k1, 1, T0 + 100, &[&k1, &k2], &[&k1]),
                rotation(&k2, 2, T0 + 200, &[&k2, &k3], &[&k1, &k2]),
            ],
        };
        (k1, k2, k3, chain)
    }

    #[test]
    fn old_alerts_verify_against_the_set_in_force_at_their_date() {
        let (k1, k2, k3, chain) = bank_chain();
        let epochs = chain.replay().unwrap();
        assert_eq!(epochs.current().version, 2);
        let old = epochs
            .check_alert(&alert(&k1, "a1", T0 + 10), T0 + 300)
            .unwrap();
        assert_eq!((old.epoch, old.key.kid.as_str()), (0, "k1"));
        assert!(
            epochs
                .check_alert(&alert(&k2, "a2", T0 + 150), T0 + 300)
                .is_ok()
        );
        assert!(
            epochs
                .check_alert(&alert(&k3, "a3", T0 + 250), T0 + 300)
                .is_ok()
        );
        // k1 after it was rotated away, k3 before it was brought in.
        assert_eq!(
            epochs
                .check_alert(&alert(&k1, "a4", T0 + 250), T0 + 300)
                .unwrap_err(),
            ProtocolError::UnknownKey(Some("k1".into()))
        );
        assert_eq!(
            epochs
                .check_alert(&alert(&k3, "a5", T0 + 50), T0 + 300)
                .unwrap_err(),
            ProtocolError::UnknownKey(Some("k3".into()))
        );
    }

    #[test]
    fn an_alert_dated_the_second_of_a_rotation_verifies_under_either_set() {
        let (k1, k2, k3) = (key("k1"), key("k2"), key("k3"));
        let chain = KeyChain {
            start: PinnedKeys::pin(BANK, ALICE, vec![k1.jwk()]).unwrap(),
            rotations: vec![
                rotation(&k1, 1, T0, &[&k1, &k2], &[&k1]),
                rotation(&k2, 2, T0, &[&k2, &k3], &[&k1, &k2]),
            ],
        };
        let epochs = chain.replay().unwrap();
        for k in [&k1, &k2, &k3] {
            assert!(
                epochs.check_alert(&alert(k, "a", T0), T0).is_ok(),
                "{}",
                k.kid()
            );
        }
        assert!(
            epochs
                .check_alert(&alert(&k1, "b", T0 + 1), T0 + 1)
                .is_err()
        );
    }

    #[test]
    fn a_missing_or_forged_statement_breaks_the_chain() {
        let (k1, k2, _, chain) = bank_chain();
        let mut missing = chain.clone();
        missing.rotations.remove(0);
        assert_eq!(
            missing.replay().unwrap_err(),
            ProtocolError::BrokenKeyChain {
                index: 0,
                reason: Box::new(ProtocolError::UnknownKey(Some("k2".into())))
            }
        );
        let mut forged = chain.clone();
        let stranger = key("k1");
        forged.rotations[0] = rotation(&stranger, 1, T0 + 100, &[&stranger, &k2], &[&k1]);
        assert!(matches!(
            forged.replay().unwrap_err(),
            ProtocolError::BrokenKeyChain { index: 0, reason } if *reason == ProtocolError::BadSignature
        ));
        let mut wrong_replaces = chain.clone();
        wrong_replaces.rotations[1] = rotation(&k2, 2, T0 + 200, &[&k2], &[&k2]);
        assert_eq!(
            wrong_replaces.replay().unwrap_err().code(),
            "broken_key_chain"
        );
        let mut backwards = chain;
        backwards.rotations[1] = rotation(&k2, 2, T0 + 50, &[&k2], &[&k1, &k2]);
        assert_eq!(backwards.replay().unwrap_err().code(), "broken_key_chain");
    }

    #[test]
    fn the_bank_vouches_back_through_replaced_sets_and_never_for_a_stranger() {
        let (k1, k2, k3, chain) = bank_chain();
        let epochs = chain.replay().unwrap();
        let published = thumbprints(&[k2.jwk(), k3.jwk()]);
        let vouched = epochs.vouched(&published);
        assert!(
            vouched.contains(&k1.jwk().thumbprint()),
            "k1 via k2's statement"
        );

        // A chain of one's own that rotates to the bank's published keys:
        // only the bank's keys are vouched, never the stranger's.
        let mine = key("k1");
        let forged = KeyChain {
            start: PinnedKeys::pin(BANK, ALICE, vec![mine.jwk()]).unwrap(),
            rotations: vec![rotation(&mine, 1, T0 + 100, &[&mine, &k2, &k3], &[&mine])],
        };
        let vouched = forged.replay().unwrap().vouched(&published);
        assert!(!vouched.contains(&mine.jwk().thumbprint()));

        // Without `replaces` (a bank that does not say), nothing is vouched
        // backwards.
        let plain = KeyChain {
            start: PinnedKeys::pin(BANK, ALICE, vec![k1.jwk()]).unwrap(),
            rotations: vec![
                rotation(&k1, 1, T0 + 100, &[&k1, &k2], &[]),
                rotation(&k2, 2, T0 + 200, &[&k2, &k3], &[]),
            ],
        };
        let vouched = plain.replay().unwrap().vouched(&published);
        assert!(!vouched.contains(&k1.jwk().thumbprint()));
        assert!(vouched.contains(&k3.jwk().thumbprint()));
    }
}
