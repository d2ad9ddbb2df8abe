//! Attack tests for call statements and contact proofs.
use super::*;
use crate::protocol::jose::SigningKey;
use ring::rand::SystemRandom;

const BANK: &str = "https://bank.example";
const ALICE: &str = "customer-alice-7f3a";
const BOB: &str = "customer-bob-19c2";
const NOW: i64 = 1_800_000_000;

struct Bank {
    key: SigningKey,
    rng: SystemRandom,
}

impl Bank {
    fn new(kid: &str) -> Bank {
        let rng = SystemRandom::new();
        let (key, _) = SigningKey::generate(kid, &rng).unwrap();
        Bank { key, rng }
    }

    fn pinned(&self) -> PinnedKeys {
        PinnedKeys::pin(BANK, ALICE, vec![self.key.jwk()]).unwrap()
    }

    fn claims(&self, jti: &str, state: CallState, iat: i64) -> CallClaims {
        CallClaims {
            iss: BANK.into(),
            aud: ALICE.into(),
            jti: jti.into(),
            iat,
            exp: iat + MAX_CALL_STATEMENT_S,
            call_id: "call-1".into(),
            state,
            agent: "Hawa Diallo".into(),
            reason: CallReason::SuspiciousPayment,
            started_at: iat.min(NOW),
        }
    }

    fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> String {
        self.key.sign(typ, claims, false, &self.rng).unwrap()
    }

    fn call(&self, jti: &str, state: CallState, iat: i64) -> String {
        self.sign(CALL_TYP, &self.claims(jti, state, iat))
    }

    fn contact(&self, iat: i64, open: &[&str]) -> String {
        self.sign(
            CONTACT_TYP,
            &ContactClaims {
                iss: BANK.into(),
                aud: ALICE.into(),
                iat,
                open_calls: open.iter().map(|s| s.to_string()).collect(),
            },
        )
    }
}

fn talking(status: &CallStatus) -> bool {
    matches!(status, CallStatus::TalkingNow { .. })
}

#[test]
fn a_genuine_call_shows_until_it_ends_and_then_not_calling() {
    let bank = Bank::new("k1");
    let pinned = bank.pinned();
    let mut watch = CallWatch::new();
    assert_eq!(
        watch.status(NOW),
        CallStatus::CantCheck { heard_at: None },
        "nothing heard yet: can't check"
    );
    watch
        .apply_contact(&pinned, &bank.contact(NOW, &[]), NOW)
        .unwrap();
    assert_eq!(
        watch.status(NOW + 1),
        CallStatus::NotCalling { heard_at: NOW }
    );
    watch
        .apply_call(&pinned, &bank.call("s1", CallState::Open, NOW), NOW)
        .unwrap();
    match watch.status(NOW + 2) {
        CallStatus::TalkingNow { call } => {
            assert_eq!(call.agent, "Hawa Diallo");
            assert_eq!(call.reason, CallReason::SuspiciousPayment);
            assert_eq!(call.started_at, NOW);
        }
        other => panic!("expected talking now, got {other:?}"),
    }
    watch
        .apply_call(
            &pinned,
            &bank.call("s2", CallState::Ended, NOW + 5),
            NOW + 5,
        )
        .unwrap();
    assert_eq!(
        watch.status(NOW + 6),
        CallStatus::NotCalling { heard_at: NOW }
    );
    // Sixty seconds after the last proof the answer is honest; "since"
    // is the last word heard from the bank, the end at NOW + 5.
    assert_eq!(
        watch.status(NOW + FRESH_CONTACT_S + 1),
        CallStatus::CantCheck {
            heard_at: Some(NOW + 5)
        }
    );
}

#[test]
fn forged_forwarded_and_mistyped_statements_never_show_talking_now() {
    let bank = Bank::new("k1");
    let pinned = bank.pinned();
    let attempts: Vec<(&str, String, &str)> = vec![
        (
            "signed by another key under the pinned kid",
            Bank::new("k1").call("s1", CallState::Open, NOW),
            "bad_signature",
        ),
        (
            "signed by a key that is not pinned",
            Bank::new("k9").call("s1", CallState::Open, NOW),
            "unknown_key",
        ),
        (
            "a genuine statement for another customer",
            bank.sign(
                CALL_TYP,
                &CallClaims {
                    aud: BOB.into(),
                    ..bank.claims("s1", CallState::Open, NOW)
                },
            ),
            "wrong_audience",
        ),
        (
            "an alert's typ on a call statement",
            bank.sign(
                crate::protocol::alert::ALERT_TYP,
                &bank.claims("s1", CallState::Open, NOW),
            ),
            "wrong_type",
        ),
        (
            "a contact proof passed off as a call",
            bank.contact(NOW, &["call-1"]),
            "wrong_type",
        ),
        (
            "another issuer",
            bank.sign(
                CALL_TYP,
                &CallClaims {
                    iss: "https://evil.example".into(),
                    ..bank.claims("s1", CallState::Open, NOW)
                },
            ),
            "unknown_issuer",
        ),
        (
            "expired",
            bank.call("s1", CallState::Open, NOW - MAX_CALL_STATEMENT_S - 1),
            "expired",
        ),
        (
            "issued in the future",
            bank.sign(
                CALL_TYP,
                &CallClaims {
                    started_at: NOW + 3600,
                    ..bank.claims("s1", CallState::Open, NOW + 3600)
                },
            ),
            "issued_in_future",
        ),
        (
            "a start after its statement",
            bank.sign(
                CALL_TYP,
                &CallClaims {
                    started_at: NOW + 30,
                    ..bank.claims("s1", CallState::Open, NOW)
                },
            ),
            "malformed",
        ),
        (
            "a lifetime past 30 minutes",
            bank.sign(
                CALL_TYP,
                &CallClaims {
                    exp: NOW + MAX_CALL_STATEMENT_S + 1,
                    ..bank.claims("s1", CallState::Open, NOW)
                },
            ),
            "malformed",
        ),
        (
            "an agent name with a bidirectional override",
            bank.sign(
                CALL_TYP,
                &CallClaims {
                    agent: "Hawa \u{202E}knaB".into(),
                    ..bank.claims("s1", CallState::Open, NOW)
                },
            ),
            "malformed",
        ),
    ];
    for (what, compact, code) in attempts {
        let mut watch = CallWatch::new();
        let err = watch.apply_call(&pinned, &compact, NOW).unwrap_err();
        assert_eq!(err.code(), code, "{what}: {err}");
        assert!(!talking(&watch.status(NOW)), "{what} must not show a call");
    }
}

#[test]
fn an_ended_call_never_comes_back_by_replaying_its_start() {
    let bank = Bank::new("k1");
    let pinned = bank.pinned();
    let mut watch = CallWatch::new();
    let start = bank.call("s1", CallState::Open, NOW);
    watch.apply_call(&pinned, &start, NOW).unwrap();
    watch
        .apply_call(
            &pinned,
            &bank.call("s2", CallState::Ended, NOW + 5),
            NOW + 5,
        )
        .unwrap();
    let err = watch.apply_call(&pinned, &start, NOW + 10).unwrap_err();
    assert_eq!(err, ProtocolError::CallEnded("call-1".into()));
    assert!(!talking(&watch.status(NOW + 10)));
    // A renewal replayed after a newer one is refused too.
    let mut watch = CallWatch::new();
    let renewal = bank.call("s3", CallState::Open, NOW + 60);
    watch.apply_call(&pinned, &renewal, NOW + 60).unwrap();
    let err = watch.apply_call(&pinned, &start, NOW + 61).unwrap_err();
    assert_eq!(err.code(), "replayed");
}

#[test]
fn a_call_unrenewed_for_30_minutes_stops_counting() {
    let bank = Bank::new("k1");
    let pinned = bank.pinned();
    let mut watch = CallWatch::new();
    watch
        .apply_call(&pinned, &bank.call("s1", CallState::Open, NOW), NOW)
        .unwrap();
    // Kept in contact all along, by proofs that still list the call.
    let last = NOW + MAX_CALL_STATEMENT_S - 10;
    watch
        .apply_contact(&pinned, &bank.contact(last, &["call-1"]), last)
        .unwrap();
    assert!(talking(&watch.status(NOW + MAX_CALL_STATEMENT_S - 1)));
    assert!(!talking(&watch.status(NOW + MAX_CALL_STATEMENT_S)));
}

#[test]
fn a_verified_call_stops_showing_once_contact_is_lost_or_stale() {
    // The spoofer's moment: the bank's genuine call is over, the device is
    // offline and did not hear the end; someone calls claiming to be the
    // bank. The device must say "can't check", not the old call's name.
    let bank = Bank::new("k1");
    let pinned = bank.pinned();
    let mut watch = CallWatch::new();
    watch
        .apply_contact(&pinned, &bank.contact(NOW, &[]), NOW)
        .unwrap();
    watch
        .apply_call(&pinned, &bank.call("s1", CallState::Open, NOW), NOW)
        .unwrap();
    assert!(talking(&watch.status(NOW + 1)));
    watch.lose_contact();
    assert_eq!(
        watch.status(NOW + 2),
        CallStatus::CantCheck {
            heard_at: Some(NOW)
        },
        "the stream closed: the call may have ended unheard"
    );
    // Contact comes back and the bank still lists the call.
    watch
        .apply_contact(&pinned, &bank.contact(NOW + 10, &["call-1"]), NOW + 10)
        .unwrap();
    assert!(talking(&watch.status(NOW + 11)));
    // Quiet for more than a minute, though the statement has 29 to run.
    assert_eq!(
        watch.status(NOW + 10 + FRESH_CONTACT_S + 1),
        CallStatus::CantCheck {
            heard_at: Some(NOW + 10)
        }
    );
}

#[test]
fn a_queued_start_older_than_the_latest_proof_is_never_shown() {
    // A call began and ended while the device was offline; after the
    // reconnect the proof (no call open) comes before the queued start.
    let bank = Bank::new("k1");
    let pinned = bank.pinned();
    let mut watch = CallWatch::new();
    watch
        .apply_contact(&pinned, &bank.contact(NOW + 20, &[]), NOW + 20)
        .unwrap();
    let (state, _) = watch
        .apply_call(&pinned, &bank.call("s1", CallState::Open, NOW), NOW + 20)
        .unwrap();
    assert_eq!(state, CallState::Ended);
    assert_eq!(
        watch.status(NOW + 21),
        CallStatus::NotCalling { heard_at: NOW + 20 }
    );
    assert_eq!(watch.take_started(NOW + 21), None, "nothing to notify");
    // A replay of that start cannot bring it back; its queued end makes
    // the end final.
    let err = watch
        .apply_call(&pinned, &bank.call("s1", CallState::Open, NOW), NOW + 21)
        .unwrap_err();
    assert_eq!(err.code(), "call_ended");
    watch
        .apply_call(
            &pinned,
            &bank.call("s2", CallState::Ended, NOW + 5),
            NOW + 21,
        )
        .unwrap();
    let err = watch
        .apply_call(
            &pinned,
            &bank.call("s3", CallState::Open, NOW + 30),
            NOW + 30,
        )
        .unwrap_err();
    assert_eq!(err.code(), "call_ended", "a signed end is final");
}

#[test]
fn a_start_committed_after_a_proof_was_read_comes_back_with_the_next_proof() {
    // The gateway read the proof (no call open, iat NOW + 1) just before
    // the start (iat NOW) was committed; the proof reaches the device
    // first. The inferred end gives way to the start re-sent, signed
    // later, with the next proof: the genuine call shows and notifies.
    let bank = Bank::new("k1");
    let pinned = bank.pinned();
    let mut watch = CallWatch::new();
    watch
        .apply_contact(&pinned, &bank.contact(NOW + 1, &[]), NOW + 1)
        .unwrap();
    let (state, _) = watch
        .apply_call(&pinned, &bank.call("s1", CallState::Open, NOW), NOW + 1)
        .unwrap();
    assert_eq!(state, CallState::Ended);
    watch
        .apply_call(
            &pinned,
            &bank.call("s1b", CallState::Open, NOW + 31),
            NOW + 31,
        )
        .unwrap();
    watch
        .apply_contact(&pinned, &bank.contact(NOW + 31, &["call-1"]), NOW + 31)
        .unwrap();
    assert!(talking(&watch.status(NOW + 32)));
    assert!(watch.take_started(NOW + 32).is_some(), "it notifies once");
}

#[test]
fn after_a_loss_only_a_proof_restores_contact() {
    // The proof after a reconnect is skipped (the gateway's database was
    // briefly down) or refused (the device's clock runs fast); the
    // statements still arrive. None of them may bring back the old call.
    let bank = Bank::new("k1");
    let pinned = bank.pinned();
    let mut watch = CallWatch::new();
    watch
        .apply_contact(&pinned, &bank.contact(NOW, &[]), NOW)
        .unwrap();
    let start = bank.call("s1", CallState::Open, NOW);
    watch.apply_call(&pinned, &start, NOW).unwrap();
    watch.lose_contact();
    let _ = watch.apply_call(&pinned, &start, NOW + 5);
    watch
        .apply_call(&pinned, &bank.call("s2", CallState::Open, NOW + 6), NOW + 6)
        .unwrap();
    assert_eq!(
        watch.status(NOW + 7),
        CallStatus::CantCheck {
            heard_at: Some(NOW)
        },
        "statements alone do not say no end was missed"
    );
    // Before any proof at all, a statement shows nothing either.
    let mut fresh = CallWatch::new();
    fresh.apply_call(&pinned, &start, NOW).unwrap();
    assert_eq!(fresh.status(NOW), CallStatus::CantCheck { heard_at: None });
    watch
        .apply_contact(&pinned, &bank.contact(NOW + 8, &["call-1"]), NOW + 8)
        .unwrap();
    assert!(talking(&watch.status(NOW + 9)));
}

#[test]
fn a_late_end_is_taken_after_a_start_resent_with_a_proof() {
    // The proof re-sends the open call's start signed at its own `iat`;
    // the genuine end, signed before it, arrives next and must end it.
    let bank = Bank::new("k1");
    let pinned = bank.pinned();
    let mut watch = CallWatch::new();
    watch
        .apply_call(&pinned, &bank.call("s1", CallState::Open, NOW), NOW)
        .unwrap();
    watch
        .apply_call(
            &pinned,
            &bank.call("s1b", CallState::Open, NOW + 30),
            NOW + 30,
        )
        .unwrap();
    watch
        .apply_contact(&pinned, &bank.contact(NOW + 30, &["call-1"]), NOW + 30)
        .unwrap();
    assert!(talking(&watch.status(NOW + 31)));
    let (state, _) = watch
        .apply_call(
            &pinned,
            &bank.call("s2", CallState::Ended, NOW + 10),
            NOW + 31,
        )
        .unwrap();
    assert_eq!(state, CallState::Ended);
    assert!(!talking(&watch.status(NOW + 32)));
    // A start is still refused when it is not newer.
    let mut watch = CallWatch::new();
    watch
        .apply_call(
            &pinned,
            &bank.call("s3", CallState::Open, NOW + 30),
            NOW + 30,
        )
        .unwrap();
    let err = watch
        .apply_call(&pinned, &bank.call("s1", CallState::Open, NOW), NOW + 31)
        .unwrap_err();
    assert_eq!(err.code(), "replayed");
}

#[test]
fn a_call_that_begins_is_reported_once() {
    let bank = Bank::new("k1");
    let pinned = bank.pinned();
    let mut watch = CallWatch::new();
    watch
        .apply_contact(&pinned, &bank.contact(NOW, &[]), NOW)
        .unwrap();
    assert_eq!(watch.take_started(NOW), None);
    watch
        .apply_call(&pinned, &bank.call("s1", CallState::Open, NOW), NOW)
        .unwrap();
    let call = watch.take_started(NOW + 1).expect("a call began");
    assert_eq!(call.agent, "Hawa Diallo");
    assert_eq!(watch.take_started(NOW + 2), None, "once");
    // Renewed, then shown again after a reconnect: still the same call.
    watch
        .apply_call(
            &pinned,
            &bank.call("s2", CallState::Open, NOW + 20),
            NOW + 20,
        )
        .unwrap();
    assert_eq!(watch.take_started(NOW + 21), None, "a renewal");
    watch.lose_contact();
    watch
        .apply_contact(&pinned, &bank.contact(NOW + 40, &["call-1"]), NOW + 40)
        .unwrap();
    assert!(talking(&watch.status(NOW + 41)));
    assert_eq!(watch.take_started(NOW + 41), None, "back in contact");
}

#[test]
fn a_proof_that_lists_no_call_ends_one_whose_end_was_missed() {
    let bank = Bank::new("k1");
    let pinned = bank.pinned();
    let mut watch = CallWatch::new();
    watch
        .apply_call(&pinned, &bank.call("s1", CallState::Open, NOW), NOW)
        .unwrap();
    // A proof that still lists it keeps it.
    watch
        .apply_contact(&pinned, &bank.contact(NOW + 20, &["call-1"]), NOW + 20)
        .unwrap();
    assert!(talking(&watch.status(NOW + 21)));
    watch
        .apply_contact(&pinned, &bank.contact(NOW + 40, &[]), NOW + 40)
        .unwrap();
    assert_eq!(
        watch.status(NOW + 41),
        CallStatus::NotCalling { heard_at: NOW + 40 }
    );
}

#[test]
fn a_proof_that_lists_a_call_the_device_never_saw_is_not_not_calling() {
    let bank = Bank::new("k1");
    let pinned = bank.pinned();
    let mut watch = CallWatch::new();
    watch
        .apply_contact(&pinned, &bank.contact(NOW, &["call-1"]), NOW)
        .unwrap();
    assert_eq!(
        watch.status(NOW),
        CallStatus::CantCheck {
            heard_at: Some(NOW)
        },
        "a call is open but the device cannot say who: it must not say nobody is calling"
    );
    watch
        .apply_call(&pinned, &bank.call("s1", CallState::Open, NOW), NOW)
        .unwrap();
    assert!(talking(&watch.status(NOW + 1)));
}

#[test]
fn old_forged_or_forwarded_contact_proofs_do_not_make_not_calling() {
    let bank = Bank::new("k1");
    let pinned = bank.pinned();
    let forwarded = bank.sign(
        CONTACT_TYP,
        &ContactClaims {
            iss: BANK.into(),
            aud: BOB.into(),
            iat: NOW,
            open_calls: vec![],
        },
    );
    for (what, compact, code) in [
        (
            "stale",
            bank.contact(NOW - FRESH_CONTACT_S - 1, &[]),
            "too_old",
        ),
        ("forged", Bank::new("k1").contact(NOW, &[]), "bad_signature"),
        ("forwarded", forwarded, "wrong_audience"),
        (
            "a call statement passed off as a proof",
            bank.call("s1", CallState::Ended, NOW),
            "wrong_type",
        ),
    ] {
        let mut watch = CallWatch::new();
        let err = watch.apply_contact(&pinned, &compact, NOW).unwrap_err();
        assert_eq!(err.code(), code, "{what}: {err}");
        assert_eq!(
            watch.status(NOW),
            CallStatus::CantCheck { heard_at: None },
            "{what}"
        );
    }
    // Losing the stream turns a fresh proof into "can't check" at once.
    let mut watch = CallWatch::new();
    watch
        .apply_contact(&pinned, &bank.contact(NOW, &[]), NOW)
        .unwrap();
    watch.lose_contact();
    assert_eq!(
        watch.status(NOW + 1),
        CallStatus::CantCheck {
            heard_at: Some(NOW)
        }
    );
}
