//! Verifying alerts against the bank's keys pinned at link time, and rotating
//! those keys only through a statement signed by a pinned key.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::ProtocolError;
use super::alert::{ALERT_TYP, AlertClaims, AlertKind, VerifiedAlert};
use super::jose::{Jwk, Jws, parse_jws, payload_json, verify_es256};

/// The JWS `typ` of a key rotation statement.
pub const ROTATION_TYP: &str = "strongroom-key-rotation+jwt";

/// How far issued-at may be from now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimePolicy {
    /// The most an `iat` may be in the future (clock skew), seconds.
    pub max_future_s: i64,
    /// The oldest an alert may be when received, seconds. Events wait on the
    /// server until acknowledged, so this is days, not minutes.
    pub max_age_s: i64,
}

impl Default for TimePolicy {
    fn default() -> Self {
        TimePolicy {
            max_future_s: 5 * 60,
            max_age_s: 14 * 24 * 3600,
        }
    }
}

impl TimePolicy {
    fn check(&self, iat: i64, now: i64) -> Result<(), ProtocolError> {
        if iat > now.saturating_add(self.max_future_s) {
            return Err(ProtocolError::IssuedInFuture { iat, now });
        }
        if iat < now.saturating_sub(self.max_age_s) {
            return Err(ProtocolError::TooOld { iat, now });
        }
        Ok(())
    }
}

/// A bank's signing keys as pinned on this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinnedKeys {
    /// The bank's issuer URL.
    pub issuer: String,
    /// The keys alerts may be signed with.
    pub keys: Vec<Jwk>,
    /// The rotation sequence number of this set (0 when pinned at link).
    pub version: u64,
    /// The audience every alert for this device must name: the customer's
    /// subject identifier, told by the bank's token endpoint at link time.
    /// `None` only in links made before audiences existed, until their
    /// next token refresh tells it ([`PinnedKeys::learn_audience`]); until
    /// then every alert is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}

/// A signed statement that replaces a bank's pinned keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRotation {
    /// The bank's issuer URL.
    pub iss: String,
    /// Issued at, seconds.
    pub iat: i64,
    /// Strictly increasing sequence number of key sets.
    pub seq: u64,
    /// The complete new set of keys.
    pub keys: Vec<Jwk>,
    /// The RFC 7638 thumbprints of the complete set this statement replaces
    /// (empty from banks that do not say). Signed by the bank, it lets a key
    /// the bank still publishes vouch for the keys that came before it, so
    /// an alert transcript can be checked against the bank's published keys
    /// after its old keys are retired ([`crate::protocol::chain`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaces: Vec<String>,
}

impl PinnedKeys {
    /// Pins a bank's keys (at link time, from its JWKS) for the customer
    /// whose subject identifier is `audience`.
    ///
    /// # Errors
    /// [`ProtocolError::BadKey`] if the set is empty or holds a key that is
    /// not an ES256 signing key, or two keys share an id;
    /// [`ProtocolError::Malformed`] for an empty or over-long audience.
    pub fn pin(issuer: &str, audience: &str, keys: Vec<Jwk>) -> Result<Self, ProtocolError> {
        check_key_set(&keys)?;
        check_audience(audience)?;
        Ok(PinnedKeys {
            issuer: issuer.into(),
            keys,
            version: 0,
            audience: Some(audience.into()),
        })
    }

    /// Records the audience of a link made before audiences existed, as the
    /// bank's token endpoint now tells it. Returns whether anything changed:
    /// a known audience is never replaced (a link belongs to one customer
    /// for good).
    ///
    /// # Errors
    /// [`ProtocolError::WrongAudience`] when the bank names another
    /// audience than the pinned one; [`ProtocolError::Malformed`] for an
    /// empty or over-long one.
    pub fn learn_audience(&mut self, audience: &str) -> Result<bool, ProtocolError> {
        check_audience(audience)?;
        match &self.audience {
            Some(known) if known == audience => Ok(false),
            Some(known) => Err(ProtocolError::WrongAudience {
                expected: Some(known.clone()),
                got: Some(audience.into()),
            }),
            None => {
                self.audience = Some(audience.into());
                Ok(true)
            }
        }
    }

    /// Checks the header and the signature of a JWS of type `typ` against the
    /// pinned keys; returns the id of the key that signed it.
    pub(crate) fn check_signature(
        &self,
        jws: &Jws<'_>,
        typ: &str,
    ) -> Result<String, ProtocolError> {
        let header = &jws.header;
        if header.alg != "ES256" {
            return Err(ProtocolError::UnsupportedAlgorithm(header.alg.clone()));
        }
        for (present, name) in [
            (header.jwk.is_some(), "jwk"),
            (header.jku.is_some(), "jku"),
            (header.x5u.is_some(), "x5u"),
            (header.x5c.is_some(), "x5c"),
            (header.crit.is_some(), "crit"),
        ] {
            if present {
                return Err(ProtocolError::ForbiddenHeader(name));
            }
        }
        if header.typ.as_deref() != Some(typ) {
            return Err(ProtocolError::WrongType(header.typ.clone()));
        }
        let key = self
            .keys
            .iter()
            .find(|k| Some(&k.kid) == header.kid.as_ref())
            .ok_or_else(|| ProtocolError::UnknownKey(header.kid.clone()))?;
        verify_es256(key, jws)?;
        Ok(key.kid.clone())
    }

    /// Applies a key rotation statement: it must be signed by a currently
    /// pinned key, name this bank, be recent, and move the sequence forward.
    /// Returns the new pinned set; `self` is unchanged.
    ///
    /// # Errors
    /// Any [`ProtocolError`] the checks find.
    pub fn rotate(
        &self,
        compact: &str,
        now: i64,
        policy: TimePolicy,
    ) -> Result<PinnedKeys, ProtocolError> {
        let jws = parse_jws(compact)?;
        self.check_signature(&jws, ROTATION_TYP)?;
        let statement: KeyRotation = payload_json(&jws)?;
        if statement.iss != self.issuer {
            return Err(ProtocolError::UnknownIssuer(statement.iss));
        }
        policy.check(statement.iat, now)?;
        if statement.seq <= self.version {
            return Err(ProtocolError::StaleRotation {
                got: statement.seq,
                pinned: self.version,
            });
        }
        check_key_set(&statement.keys)?;
        Ok(PinnedKeys {
            issuer: self.issuer.clone(),
            keys: statement.keys,
            version: statement.seq,
            audience: self.audience.clone(),
        })
    }
}

/// The longest audience accepted, in bytes.
pub const MAX_AUDIENCE_BYTES: usize = 256;

fn check_audience(audience: &str) -> Result<(), ProtocolError> {
    if audience.is_empty() || audience.len() > MAX_AUDIENCE_BYTES {
        return Err(ProtocolError::Malformed("an audience is 1 to 256 bytes"));
    }
    Ok(())
}

fn check_key_set(keys: &[Jwk]) -> Result<(), ProtocolError> {
    if keys.is_empty() {
        return Err(ProtocolError::BadKey("a key set needs at least one key"));
    }
    for (i, key) in keys.iter().enumerate() {
        key.public_point()?;
        if keys[..i].iter().any(|k| k.kid == key.kid) {
            return Err(ProtocolError::BadKey("two keys share an id"));
        }
    }
    Ok(())
}

/// Verifies alerts from one bank and refuses replays.
///
/// The replay memory holds the ids seen within the time policy's window;
/// anything older is refused as too old, so the memory stays bounded. After
/// a restart the store's unique alert ids play the same role.
#[derive(Debug, Clone)]
pub struct AlertVerifier {
    pinned: PinnedKeys,
    policy: TimePolicy,
    seen: HashMap<String, i64>,
}

impl AlertVerifier {
    /// A verifier for the bank whose keys are `pinned`.
    pub fn new(pinned: PinnedKeys, policy: TimePolicy) -> Self {
        AlertVerifier {
            pinned,
            policy,
            seen: HashMap::new(),
        }
    }

    /// The pinned keys in use.
    pub fn pinned(&self) -> &PinnedKeys {
        &self.pinned
    }

    /// Replaces the pinned keys after a verified rotation.
    pub fn set_pinned(&mut self, pinned: PinnedKeys) {
        self.pinned = pinned;
    }

    /// Checks an alert without recording it: signature by a pinned key,
    /// ES256 only, no self-supplied keys, `secevent+jwt`, the pinned issuer,
    /// the pinned audience, issued-at within the policy, exactly one known event, and not an id
    /// already accepted.
    ///
    /// # Errors
    /// The first [`ProtocolError`] found. An alert that fails is never to be
    /// shown as coming from the bank.
    pub fn check(&self, compact: &str, now: i64) -> Result<VerifiedAlert, ProtocolError> {
        let jws = parse_jws(compact)?;
        let key_id = self.pinned.check_signature(&jws, ALERT_TYP)?;
        let claims: AlertClaims = payload_json(&jws)?;
        if claims.iss != self.pinned.issuer {
            return Err(ProtocolError::UnknownIssuer(claims.iss));
        }
        // A genuine alert for another customer (forwarded, or replayed into
        // this device's stream) is not this customer's bank speaking to
        // them. A link that does not know its audience yet accepts nothing.
        match (&self.pinned.audience, &claims.aud) {
            (Some(expected), Some(got)) if expected == got => {}
            (expected, got) => {
                return Err(ProtocolError::WrongAudience {
                    expected: expected.clone(),
                    got: got.clone(),
                });
            }
        }
        self.policy.check(claims.iat, now)?;
        if claims.jti.is_empty() || claims.jti.len() > 128 {
            return Err(ProtocolError::Malformed("an alert id is 1 to 128 bytes"));
        }
        if self.seen.contains_key(&claims.jti) {
            return Err(ProtocolError::Replayed(claims.jti));
        }
        let mut events = claims.events.into_iter();
        let (Some((uri, event)), None) = (events.next(), events.next()) else {
            return Err(ProtocolError::Malformed(
                "an alert carries exactly one event",
            ));
        };
        let kind =
            AlertKind::from_uri(&uri).ok_or(ProtocolError::Malformed("unknown event type"))?;
        Ok(VerifiedAlert {
            issuer: claims.iss,
            id: claims.jti,
            issued_at: claims.iat,
            kind,
            event,
            key_id,
        })
    }

    /// [`AlertVerifier::check`], then remembers the id so a replay is refused.
    ///
    /// # Errors
    /// As [`AlertVerifier::check`].
    pub fn verify(&mut self, compact: &str, now: i64) -> Result<VerifiedAlert, ProtocolError> {
        let alert = self.check(compact, now)?;
        let horizon = now.saturating_sub(self.policy.max_age_s);
        self.seen.retain(|_, iat| *iat >= horizon);
        self.seen.insert(alert.id.clone(), alert.issued_at);
        Ok(alert)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::alert::{AlertEvent, AlertSeverity};
    use crate::protocol::jose::{SigningKey, b64_encode};
    use ring::rand::SystemRandom;

    const BANK: &str = "https://bank.example";
    const ALICE: &str = "customer-alice-7f3a";
    const NOW: i64 = 1_800_000_000;

    fn event() -> AlertEvent {
        AlertEvent {
            severity: AlertSeverity::Critical,
            text: "Did you spend 129.99 EUR at Électro Dépôt?".into(),
            account_ref: Some("****4321".into()),
            amount_minor: Some(12_999),
            currency: Some("EUR".into()),
            merchant: Some("Électro Dépôt".into()),
            country: Some("FR".into()),
            respond_by: Some(NOW + 600),
            balance_minor: None,
        }
    }

    struct Bank {
        key: SigningKey,
        rng: SystemRandom,
    }

    impl Bank {
        fn new(kid: &str) -> Self {
            let rng = SystemRandom::new();
            let (key, _) = SigningKey::generate(kid, &rng).unwrap();
            Bank { key, rng }
        }

        fn alert(&self, jti: &str, iat: i64) -> String {
            self.alert_for(ALICE, jti, iat)
        }

        fn alert_for(&self, aud: &str, jti: &str, iat: i64) -> String {
            let claims = AlertClaims::new(BANK, aud, jti, iat, AlertKind::FraudCheck, event());
            self.key.sign(ALERT_TYP, &claims, false, &self.rng).unwrap()
        }

        fn verifier(&self) -> AlertVerifier {
            AlertVerifier::new(
                PinnedKeys::pin(BANK, ALICE, vec![self.key.jwk()]).unwrap(),
                TimePolicy::default(),
            )
        }
    }

    fn resign_header(jws: &str, header: serde_json::Value) -> String {
        let mut parts = jws.split('.');
        let (_, payload, sig) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        format!(
            "{}.{payload}.{sig}",
            b64_encode(header.to_string().as_bytes())
        )
    }

    #[test]
    fn a_genuine_alert_verifies_once() {
        let bank = Bank::new("k1");
        let mut v = bank.verifier();
        let alert = v.verify(&bank.alert("a1", NOW), NOW).unwrap();
        assert_eq!(
            (alert.kind, alert.id.as_str(), alert.key_id.as_str()),
            (AlertKind::FraudCheck, "a1", "k1")
        );
        assert_eq!(alert.event.amount_minor, Some(12_999));
        assert_eq!(
            v.verify(&bank.alert("a1", NOW), NOW).unwrap_err(),
            ProtocolError::Replayed("a1".into())
        );
    }

    #[test]
    fn forged_alerts_are_refused_each_for_its_reason() {
        let bank = Bank::new("k1");
        let v = bank.verifier();
        let good = bank.alert("a1", NOW);

        // Signed by another key that claims the pinned kid.
        let impostor = Bank::new("k1");
        assert_eq!(
            v.check(&impostor.alert("a1", NOW), NOW).unwrap_err(),
            ProtocolError::BadSignature
        );
        // A key that is not pinned.
        let stranger = Bank::new("k9");
        assert_eq!(
            v.check(&stranger.alert("a1", NOW), NOW).unwrap_err(),
            ProtocolError::UnknownKey(Some("k9".into()))
        );
        // A payload changed after signing.
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        let mut claims: AlertClaims =
            serde_json::from_slice(&crate::protocol::jose::b64_decode(&parts[1]).unwrap()).unwrap();
        claims
            .events
            .values_mut()
            .for_each(|e| e.amount_minor = Some(1));
        parts[1] = b64_encode(&serde_json::to_vec(&claims).unwrap());
        assert_eq!(
            v.check(&parts.join("."), NOW).unwrap_err(),
            ProtocolError::BadSignature
        );
        // alg none, HS256, and a header carrying its own key.
        for alg in ["none", "HS256", "RS256", "ES384"] {
            let forged = resign_header(
                &good,
                serde_json::json!({"alg": alg, "kid": "k1", "typ": ALERT_TYP}),
            );
            assert_eq!(
                v.check(&forged, NOW).unwrap_err(),
                ProtocolError::UnsupportedAlgorithm(alg.into())
            );
        }
        let none_unsigned = format!(
            "{}.{}.",
            b64_encode(br#"{"alg":"none","typ":"secevent+jwt"}"#),
            good.split('.').nth(1).unwrap()
        );
        assert_eq!(
            v.check(&none_unsigned, NOW).unwrap_err(),
            ProtocolError::UnsupportedAlgorithm("none".into())
        );
        let with_jwk = resign_header(
            &good,
            serde_json::json!({"alg": "ES256", "kid": "k1", "typ": ALERT_TYP, "jwk": bank.key.jwk()}),
        );
        assert_eq!(
            v.check(&with_jwk, NOW).unwrap_err(),
            ProtocolError::ForbiddenHeader("jwk")
        );
        let wrong_typ = resign_header(
            &good,
            serde_json::json!({"alg": "ES256", "kid": "k1", "typ": "JWT"}),
        );
        assert_eq!(
            v.check(&wrong_typ, NOW).unwrap_err(),
            ProtocolError::WrongType(Some("JWT".into()))
        );
        // Another issuer, even when signed with the pinned key.
        let other = AlertClaims::new(
            "https://evil.example",
            ALICE,
            "a2",
            NOW,
            AlertKind::Custom,
            event(),
        );
        let other = bank.key.sign(ALERT_TYP, &other, false, &bank.rng).unwrap();
        assert_eq!(
            v.check(&other, NOW).unwrap_err(),
            ProtocolError::UnknownIssuer("https://evil.example".into())
        );
        // Time.
        assert!(matches!(
            v.check(&bank.alert("a3", NOW + 3600), NOW),
            Err(ProtocolError::IssuedInFuture { .. })
        ));
        assert!(matches!(
            v.check(&bank.alert("a4", NOW - 30 * 86_400), NOW),
            Err(ProtocolError::TooOld { .. })
        ));
        // Garbage.
        for junk in ["", "a.b", "a.b.c.d", "!!.??.**", &"x".repeat(20_000)] {
            assert!(v.check(junk, NOW).is_err(), "{junk:.20} must be refused");
        }
    }

    /// Attack (adversarial review, finding 2): Bob's genuine, bank-signed
    /// fraud check forwarded to Alice's device must not show as verified
    /// there; nor may an alert that names no audience.
    #[test]
    fn a_genuine_alert_for_another_customer_is_refused() {
        let bank = Bank::new("k1");
        let v = bank.verifier();
        assert_eq!(
            v.check(&bank.alert_for("customer-bob-01c2", "b1", NOW), NOW)
                .unwrap_err(),
            ProtocolError::WrongAudience {
                expected: Some(ALICE.into()),
                got: Some("customer-bob-01c2".into()),
            }
        );
        let mut claims = AlertClaims::new(BANK, ALICE, "b2", NOW, AlertKind::Custom, event());
        claims.aud = None;
        let no_aud = bank.key.sign(ALERT_TYP, &claims, false, &bank.rng).unwrap();
        assert_eq!(
            v.check(&no_aud, NOW).unwrap_err().code(),
            "wrong_audience",
            "an alert must name its audience"
        );
        assert!(v.check(&bank.alert("a1", NOW), NOW).is_ok());
    }

    /// Attack (adversarial review, finding 10): `x5c` was ignored and
    /// `"crit": null` was taken as absent. Both are refused now, whatever
    /// the signature.
    #[test]
    fn x5c_and_a_null_crit_are_refused() {
        let bank = Bank::new("k1");
        let v = bank.verifier();
        let good = bank.alert("a1", NOW);
        for (header, name) in [
            (
                serde_json::json!({"alg": "ES256", "kid": "k1", "typ": "secevent+jwt", "crit": null}),
                "crit",
            ),
            (
                serde_json::json!({"alg": "ES256", "kid": "k1", "typ": "secevent+jwt", "x5c": ["MIIB"]}),
                "x5c",
            ),
            (
                serde_json::json!({"alg": "ES256", "kid": "k1", "typ": "secevent+jwt", "jwk": null}),
                "jwk",
            ),
        ] {
            assert_eq!(
                v.check(&resign_header(&good, header), NOW).unwrap_err(),
                ProtocolError::ForbiddenHeader(name)
            );
        }
    }

    /// Finding 10 asked for low-S signatures or a reason: ECDSA signatures
    /// are malleable ((r, s) and (r, n - s) both verify), RFC 7518 does not
    /// require low-S, and banks sign with JOSE libraries that do not
    /// normalise, so requiring it would refuse half of a real bank's
    /// alerts. Nothing here is keyed on signature bytes: the malleated twin
    /// of an accepted alert is the same alert (same `jti`) and is refused as
    /// a replay.
    #[test]
    fn a_high_s_twin_of_an_accepted_alert_is_a_replay() {
        // n, the order of the P-256 group.
        const N: [u8; 32] = [
            0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            0xFF, 0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2,
            0xFC, 0x63, 0x25, 0x51,
        ];
        let bank = Bank::new("k1");
        let mut v = bank.verifier();
        let good = bank.alert("a1", NOW);
        let (input, sig) = good.rsplit_once('.').unwrap();
        let mut sig = crate::protocol::jose::b64_decode(sig).unwrap();
        // s' = n - s, big-endian subtraction.
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let d = i16::from(N[i]) - i16::from(sig[32 + i]) - borrow;
            borrow = i16::from(d < 0);
            sig[32 + i] = (d + 256 * borrow) as u8;
        }
        let twin = format!("{input}.{}", b64_encode(&sig));
        assert_ne!(twin, good);
        assert!(v.check(&twin, NOW).is_ok(), "the twin verifies as ECDSA");
        v.verify(&good, NOW).unwrap();
        assert_eq!(
            v.verify(&twin, NOW).unwrap_err(),
            ProtocolError::Replayed("a1".into()),
            "but it is the same alert"
        );
    }

    #[test]
    fn a_link_without_an_audience_accepts_nothing_until_it_learns_its_own() {
        let bank = Bank::new("k1");
        // As a keychain entry written before audiences existed reads back.
        let legacy = serde_json::json!({
            "issuer": BANK, "keys": [bank.key.jwk()], "version": 0
        });
        let mut pinned: PinnedKeys = serde_json::from_value(legacy).unwrap();
        let v = AlertVerifier::new(pinned.clone(), TimePolicy::default());
        assert_eq!(
            v.check(&bank.alert("a1", NOW), NOW).unwrap_err(),
            ProtocolError::WrongAudience {
                expected: None,
                got: Some(ALICE.into())
            }
        );
        assert_eq!(pinned.learn_audience(ALICE), Ok(true));
        assert_eq!(pinned.learn_audience(ALICE), Ok(false));
        assert!(
            pinned.learn_audience("customer-bob-01c2").is_err(),
            "a link's audience never changes"
        );
        let v = AlertVerifier::new(pinned, TimePolicy::default());
        assert!(v.check(&bank.alert("a1", NOW), NOW).is_ok());
    }

    #[test]
    fn keys_rotate_only_through_a_statement_signed_by_a_pinned_key() {
        let old = Bank::new("k1");
        let new = Bank::new("k2");
        let mut v = old.verifier();
        let statement = KeyRotation {
            iss: BANK.into(),
            iat: NOW,
            seq: 1,
            keys: vec![new.key.jwk()],
            replaces: Vec::new(),
        };
        // Signed by the new key itself: refused.
        let self_signed = new
            .key
            .sign(ROTATION_TYP, &statement, false, &new.rng)
            .unwrap();
        assert_eq!(
            v.pinned()
                .rotate(&self_signed, NOW, TimePolicy::default())
                .unwrap_err(),
            ProtocolError::UnknownKey(Some("k2".into()))
        );
        // An alert is not a rotation statement.
        assert!(matches!(
            v.pinned()
                .rotate(&old.alert("x", NOW), NOW, TimePolicy::default()),
            Err(ProtocolError::WrongType(_))
        ));
        let signed = old
            .key
            .sign(ROTATION_TYP, &statement, false, &old.rng)
            .unwrap();
        let rotated = v
            .pinned()
            .rotate(&signed, NOW, TimePolicy::default())
            .unwrap();
        assert_eq!(rotated.version, 1);
        // Replaying the statement: its signer is no longer pinned.
        assert_eq!(
            rotated
                .rotate(&signed, NOW, TimePolicy::default())
                .unwrap_err(),
            ProtocolError::UnknownKey(Some("k1".into()))
        );
        // A statement from the new key that does not move the sequence on.
        let stale = new
            .key
            .sign(ROTATION_TYP, &statement, false, &new.rng)
            .unwrap();
        assert_eq!(
            rotated
                .rotate(&stale, NOW, TimePolicy::default())
                .unwrap_err(),
            ProtocolError::StaleRotation { got: 1, pinned: 1 }
        );
        v.set_pinned(rotated);
        assert!(v.check(&new.alert("b1", NOW), NOW).is_ok());
        assert_eq!(
            v.check(&old.alert("b2", NOW), NOW).unwrap_err(),
            ProtocolError::UnknownKey(Some("k1".into()))
        );
        // An empty key set is refused.
        let empty = KeyRotation {
            iss: BANK.into(),
            iat: NOW,
            seq: 2,
            keys: vec![],
            replaces: Vec::new(),
        };
        let empty = new.key.sign(ROTATION_TYP, &empty, false, &new.rng).unwrap();
        assert!(matches!(
            v.pinned().rotate(&empty, NOW, TimePolicy::default()),
            Err(ProtocolError::BadKey(_))
        ));
    }
}
