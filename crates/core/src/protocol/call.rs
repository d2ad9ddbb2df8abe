//! Call status: "is my bank really calling me?", answered from statements
//! the bank signs, never from anything a caller can say.
//!
//! Two statements, both signed with the bank's pinned alert keys and bound
//! to the customer (`aud`), each with its own JWS `typ` so that neither can
//! pass for an alert or for the other:
//!
//! - a **call statement** ([`CALL_TYP`]) opens, renews or ends one call; it
//!   expires (`exp`), so a call nobody renews stops counting by itself;
//! - a **contact proof** ([`CONTACT_TYP`]) says "as of `iat`, these are the
//!   calls open for you" (usually none); the device shows "not calling you"
//!   only while it holds a proof it received in the last
//!   [`FRESH_CONTACT_S`] seconds.
//!
//! [`CallWatch`] is the sans-I/O state of one bank on one device: it takes
//! statements and proofs as they arrive and answers [`CallWatch::status`].
//! A verified call shows only while the device is in contact too: once the
//! stream is lost or quiet for [`FRESH_CONTACT_S`] seconds, the device cannot
//! know that the call has not ended, and a caller who claims to be the bank
//! is exactly who the customer must not trust.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::ProtocolError;
use super::jose::{parse_jws, payload_json};
use super::verify::PinnedKeys;

/// The JWS `typ` of a call statement.
pub const CALL_TYP: &str = "strongroom-call+jwt";

/// The JWS `typ` of a contact proof.
pub const CONTACT_TYP: &str = "strongroom-contact+jwt";

/// The longest a call statement may count for: a call the agent does not
/// renew stops showing after this.
pub const MAX_CALL_STATEMENT_S: i64 = 30 * 60;

/// How recent the last contact proof must be for "not calling you".
pub const FRESH_CONTACT_S: i64 = 60;

/// How far a statement's clock may run ahead of the device's.
pub const MAX_SKEW_S: i64 = 60;

/// The most calls a contact proof may list as open for one customer: the
/// gateway opens no more, so that its proofs always pass.
pub const MAX_OPEN_CALLS: usize = 16;

/// The longest agent name, reason or id accepted, in bytes: the gateway
/// refuses a staff display name longer than this, so that every name it
/// signs passes on the device.
pub const MAX_FIELD_BYTES: usize = 128;

/// Why the bank is calling, from a short list the console offers (free
/// text would let one agent's words pass as the bank's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallReason {
    /// About a suspicious payment or a fraud check.
    SuspiciousPayment,
    /// About the customer's card (blocked, replaced, delivered).
    Card,
    /// About a loan, mortgage or overdraft application.
    Application,
    /// To confirm the customer's identity after a change of details.
    IdentityCheck,
    /// A call the customer asked for.
    RequestedCallback,
}

impl CallReason {
    /// Every reason, for the console's list and tests.
    pub const ALL: [CallReason; 5] = [
        CallReason::SuspiciousPayment,
        CallReason::Card,
        CallReason::Application,
        CallReason::IdentityCheck,
        CallReason::RequestedCallback,
    ];

    /// The snake_case name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            CallReason::SuspiciousPayment => "suspicious_payment",
            CallReason::Card => "card",
            CallReason::Application => "application",
            CallReason::IdentityCheck => "identity_check",
            CallReason::RequestedCallback => "requested_callback",
        }
    }

    /// The words a customer reads after "about".
    pub fn label(self) -> &'static str {
        match self {
            CallReason::SuspiciousPayment => "a suspicious payment",
            CallReason::Card => "your card",
            CallReason::Application => "your application",
            CallReason::IdentityCheck => "checking your identity",
            CallReason::RequestedCallback => "the call you asked for",
        }
    }

    /// The reason with this wire name.
    pub fn from_name(name: &str) -> Option<CallReason> {
        CallReason::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// Whether a call statement opens (or renews) a call or ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// The agent is on the phone with the customer now.
    Open,
    /// The call is over; it never counts again.
    Ended,
}

/// The payload of a call statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallClaims {
    /// The bank's issuer URL.
    pub iss: String,
    /// The customer's subject identifier (the pinned audience).
    pub aud: String,
    /// This statement's unique id.
    pub jti: String,
    /// Issued at, seconds.
    pub iat: i64,
    /// Stops counting at, seconds (at most [`MAX_CALL_STATEMENT_S`] after
    /// `iat`).
    pub exp: i64,
    /// The call's id: every statement of one call shares it.
    pub call_id: String,
    /// Open (or renewed) or ended.
    pub state: CallState,
    /// The agent's display name, as the bank vouches for it.
    pub agent: String,
    /// Why the bank is calling.
    pub reason: CallReason,
    /// When the call started, seconds.
    pub started_at: i64,
}

/// The payload of a contact proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactClaims {
    /// The bank's issuer URL.
    pub iss: String,
    /// The customer's subject identifier (the pinned audience).
    pub aud: String,
    /// As of when, seconds.
    pub iat: i64,
    /// The ids of the calls open for this customer at `iat` (usually none).
    pub open_calls: Vec<String>,
}

/// A call the bank vouches for, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedCall {
    /// The call's id.
    pub call_id: String,
    /// The agent's display name.
    pub agent: String,
    /// Why.
    pub reason: CallReason,
    /// When it started, seconds.
    pub started_at: i64,
    /// When the statement stops counting, seconds.
    pub expires_at: i64,
}

/// What the device can honestly say about one bank calling, right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CallStatus {
    /// A genuine, unexpired statement for this customer says the bank is on
    /// the phone with them.
    TalkingNow {
        /// The call.
        call: VerifiedCall,
    },
    /// A fresh contact proof says no call is open.
    NotCalling {
        /// When the bank last proved contact, device seconds.
        heard_at: i64,
    },
    /// No fresh proof: offline, locked out, or stale. Nobody who calls
    /// can be checked.
    CantCheck {
        /// When the bank was last heard from (`None`: never since start).
        heard_at: Option<i64>,
    },
}

/// The call status of one bank on this device.
#[derive(Debug, Clone, Default)]
pub struct CallWatch {
    /// Calls by id: the newest statement of each (open or ended) until it
    /// expires. An ended call is kept until its last statement would have
    /// expired, so replaying any of its statements finds it ended.
    calls: HashMap<String, Known>,
    /// The last contact proof.
    contact: Option<Contact>,
    /// When the device last heard from its gateway (a proof or a statement),
    /// device clock.
    heard_at: Option<i64>,
    /// A proof was accepted and the stream has not closed since. Only a
    /// proof sets it: a statement alone (even a genuine one) does not say
    /// that no end was missed while cut off.
    in_contact: bool,
}

#[derive(Debug, Clone)]
struct Contact {
    /// When it arrived, device clock.
    heard_at: i64,
    /// Its `iat`, bank clock.
    iat: i64,
    /// The calls it lists as open.
    open_calls: Vec<String>,
    /// It lists an open call this device holds no statement for: someone
    /// from the bank is calling, but the device cannot say who.
    unknown_open: bool,
}

#[derive(Debug, Clone)]
struct Known {
    state: CallState,
    iat: i64,
    /// The latest expiry of any statement seen for the call.
    horizon: i64,
    call: VerifiedCall,
    /// [`CallWatch::take_started`] has reported the call once already.
    announced: bool,
    /// The call is held as ended only because a proof with this `iat` left
    /// it out (no signed end was seen): a newer start brings it back, as
    /// the proof may have been read before the start was committed.
    inferred_end: Option<i64>,
}

fn check_field(value: &str, what: &'static str) -> Result<(), ProtocolError> {
    if value.is_empty() || value.len() > MAX_FIELD_BYTES || value.chars().any(char::is_control) {
        return Err(ProtocolError::Malformed(what));
    }
    if crate::text::first_spoofing_char(value).is_some() {
        return Err(ProtocolError::Malformed(what));
    }
    Ok(())
}

/// What both statements check first: this bank, this customer, and not
/// issued past the allowed clock skew.
fn check_issued(
    pinned: &PinnedKeys,
    iss: &str,
    aud: &str,
    iat: i64,
    now: i64,
) -> Result<(), ProtocolError> {
    if iss != pinned.issuer {
        return Err(ProtocolError::UnknownIssuer(iss.to_owned()));
    }
    match &pinned.audience {
        Some(expected) if expected == aud => {}
        expected => {
            return Err(ProtocolError::WrongAudience {
                expected: expected.clone(),
                got: Some(aud.to_owned()),
            });
        }
    }
    if iat > now.saturating_add(MAX_SKEW_S) {
        return Err(ProtocolError::IssuedInFuture { iat, now });
    }
    Ok(())
}

/// Verifies a call statement against the bank's pinned keys: signature,
/// `typ`, issuer, audience, lifetime and fields. Does not look at what came
/// before ([`CallWatch::apply_call`] does).
///
/// # Errors
/// The first [`ProtocolError`] found.
pub fn verify_call(
    pinned: &PinnedKeys,
    compact: &str,
    now: i64,
) -> Result<CallClaims, ProtocolError> {
    let jws = parse_jws(compact)?;
    pinned.check_signature(&jws, CALL_TYP)?;
    let claims: CallClaims = payload_json(&jws)?;
    check_issued(pinned, &claims.iss, &claims.aud, claims.iat, now)?;
    for (value, what) in [
        (&claims.jti, "a statement id is 1 to 128 bytes"),
        (&claims.call_id, "a call id is 1 to 128 bytes"),
        (&claims.agent, "an agent name is 1 to 128 plain characters"),
    ] {
        check_field(value, what)?;
    }
    if claims.started_at > claims.iat {
        return Err(ProtocolError::Malformed(
            "a call cannot start after its statement",
        ));
    }
    if claims.exp <= claims.iat || claims.exp > claims.iat.saturating_add(MAX_CALL_STATEMENT_S) {
        return Err(ProtocolError::Malformed(
            "a call statement counts for at most 30 minutes",
        ));
    }
    if claims.exp <= now {
        return Err(ProtocolError::Expired {
            exp: claims.exp,
            now,
        });
    }
    Ok(claims)
}

/// Verifies a contact proof: signature, `typ`, issuer, audience, and an
/// `iat` within [`FRESH_CONTACT_S`] of the device's clock either way.
///
/// # Errors
/// The first [`ProtocolError`] found.
pub fn verify_contact(
    pinned: &PinnedKeys,
    compact: &str,
    now: i64,
) -> Result<ContactClaims, ProtocolError> {
    let jws = parse_jws(compact)?;
    pinned.check_signature(&jws, CONTACT_TYP)?;
    let claims: ContactClaims = payload_json(&jws)?;
    check_issued(pinned, &claims.iss, &claims.aud, claims.iat, now)?;
    if claims.iat < now.saturating_sub(FRESH_CONTACT_S) {
        return Err(ProtocolError::TooOld {
            iat: claims.iat,
            now,
        });
    }
    if claims.open_calls.len() > MAX_OPEN_CALLS {
        return Err(ProtocolError::Malformed("at most 16 open calls"));
    }
    Ok(claims)
}

impl CallWatch {
    /// A watch that has heard nothing yet: it says "can't check".
    pub fn new() -> Self {
        CallWatch::default()
    }

    /// Takes a call statement. A statement older than one already seen for
    /// the same call, or one that would reopen an ended call, is refused.
    /// Returns the call as it now stands.
    ///
    /// # Errors
    /// As [`verify_call`]; [`ProtocolError::CallEnded`] for a statement of
    /// a call that has ended; [`ProtocolError::Replayed`] for one not newer
    /// than the call's latest.
    pub fn apply_call(
        &mut self,
        pinned: &PinnedKeys,
        compact: &str,
        now: i64,
    ) -> Result<(CallState, VerifiedCall), ProtocolError> {
        let claims = verify_call(pinned, compact, now)?;
        self.forget_expired(now);
        if let Some(known) = self.calls.get(&claims.call_id) {
            if known.state == CallState::Ended {
                // Only a signed end is final. An end inferred from a proof
                // gives way to a start signed after that proof, and to the
                // signed end itself.
                let revives = match known.inferred_end {
                    Some(proof_iat) => claims.state == CallState::Ended || claims.iat > proof_iat,
                    None => false,
                };
                if !revives {
                    return Err(ProtocolError::CallEnded(claims.call_id));
                }
            }
            // An end is taken whatever its `iat`: it can only take trust
            // away, and a start re-sent (re-signed later) with a contact
            // proof must not make the genuine end look like a replay.
            if claims.state == CallState::Open && claims.iat <= known.iat {
                return Err(ProtocolError::Replayed(claims.jti));
            }
        }
        // A start signed before the latest proof (an earlier second: one
        // signed in the same second may have come after it), which does
        // not list the call, was over by then (a queued start delivered after a
        // reconnect): it is kept as ended and never shown.
        let (state, inferred_end) = match self.contact {
            Some(ref c)
                if claims.state == CallState::Open
                    && claims.iat < c.iat
                    && !c.open_calls.contains(&claims.call_id) =>
            {
                (CallState::Ended, Some(c.iat))
            }
            _ => (claims.state, None),
        };
        let call = VerifiedCall {
            call_id: claims.call_id.clone(),
            agent: claims.agent,
            reason: claims.reason,
            started_at: claims.started_at,
            expires_at: claims.exp,
        };
        let known = self.calls.get(&claims.call_id);
        let horizon = known.map_or(claims.exp, |k| k.horizon.max(claims.exp));
        let announced = known.is_some_and(|k| k.announced);
        // A late end keeps the newer `iat` of a re-sent start, so that
        // ordering stays monotonic for what follows.
        let iat = known.map_or(claims.iat, |k| k.iat.max(claims.iat));
        self.calls.insert(
            claims.call_id,
            Known {
                state,
                iat,
                horizon,
                call: call.clone(),
                announced,
                inferred_end,
            },
        );
        // A statement is word from the bank, but only extends a contact a
        // proof began: after a loss, nothing shows until the next proof.
        if self.in_contact {
            self.hear(now);
        }
        Ok((state, call))
    }

    /// Takes a contact proof received at `now` (device clock). An open call
    /// the proof does not list, and that no statement has renewed since,
    /// is taken as ended: its end was missed while offline.
    ///
    /// # Errors
    /// As [`verify_contact`].
    pub fn apply_contact(
        &mut self,
        pinned: &PinnedKeys,
        compact: &str,
        now: i64,
    ) -> Result<(), ProtocolError> {
        let claims = verify_contact(pinned, compact, now)?;
        if self.contact.as_ref().is_some_and(|c| claims.iat < c.iat) {
            // An older proof than one already held tells nothing new.
            return Ok(());
        }
        for (id, known) in self.calls.iter_mut() {
            if known.state == CallState::Open
                && known.iat <= claims.iat
                && !claims.open_calls.contains(id)
            {
                known.state = CallState::Ended;
                known.inferred_end = Some(claims.iat);
            }
        }
        let unknown_open = claims.open_calls.iter().any(|id| {
            !self
                .calls
                .get(id)
                .is_some_and(|k| k.state == CallState::Open && k.call.expires_at > now)
        });
        self.contact = Some(Contact {
            heard_at: now,
            iat: claims.iat,
            open_calls: claims.open_calls,
            unknown_open,
        });
        self.in_contact = true;
        self.hear(now);
        self.forget_expired(now);
        Ok(())
    }

    /// The contact is lost: the stream closed, the link was revoked or the
    /// app locked. Until a new proof arrives the device can check nobody:
    /// neither "not calling you" nor a call it verified earlier shows.
    pub fn lose_contact(&mut self) {
        // `heard_at` is kept for "since ...", but no longer fresh.
        self.in_contact = false;
    }

    fn hear(&mut self, now: i64) {
        self.heard_at = Some(self.heard_at.map_or(now, |at| at.max(now)));
    }

    /// The call now showing as "talking to you now", the first time it
    /// shows: a call that begins notifies the customer once, not again when
    /// it is renewed, re-sent after a reconnect or shown again after
    /// contact came back.
    pub fn take_started(&mut self, now: i64) -> Option<VerifiedCall> {
        let CallStatus::TalkingNow { call } = self.status(now) else {
            return None;
        };
        let known = self.calls.get_mut(&call.call_id)?;
        if known.announced {
            return None;
        }
        known.announced = true;
        Some(call)
    }

    /// What to show now.
    pub fn status(&self, now: i64) -> CallStatus {
        let in_contact = self.in_contact
            && self
                .heard_at
                .is_some_and(|at| now.saturating_sub(at) <= FRESH_CONTACT_S);
        if !in_contact {
            return CallStatus::CantCheck {
                heard_at: self.heard_at,
            };
        }
        let open = self
            .calls
            .values()
            .filter(|k| {
                k.state == CallState::Open
                    && k.call.expires_at > now
                    && k.call.started_at <= now.saturating_add(MAX_SKEW_S)
            })
            .max_by_key(|k| k.iat);
        if let Some(known) = open {
            return CallStatus::TalkingNow {
                call: known.call.clone(),
            };
        }
        match &self.contact {
            Some(c) if !c.unknown_open && now.saturating_sub(c.heard_at) <= FRESH_CONTACT_S => {
                CallStatus::NotCalling {
                    heard_at: c.heard_at,
                }
            }
            _ => CallStatus::CantCheck {
                heard_at: self.heard_at,
            },
        }
    }

    fn forget_expired(&mut self, now: i64) {
        // Past its horizon a statement of the call is refused as expired by
        // `verify_call`, so the record is no longer needed to refuse it.
        self.calls.retain(|_, k| k.horizon > now);
    }
}

#[cfg(test)]
#[path = "call_tests.rs"]
mod tests;
