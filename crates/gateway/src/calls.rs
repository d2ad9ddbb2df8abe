//! Call status, the bank's side: an agent opens, renews and ends a call
//! status for a customer they are phoning; each change is signed as a call
//! statement (`strongroom_core::protocol::call`) and delivered to every
//! device of the customer. Devices are also given contact proofs (which
//! calls are open, as of now) on their streams, so "not calling you" is
//! never shown from old news. These run on the writer thread.

use crate::sql::{Connection, OptionalExtension, params};
use strongroom_core::protocol::call::{
    CALL_TYP, CONTACT_TYP, CallClaims, CallReason, CallState, ContactClaims, MAX_CALL_STATEMENT_S,
    MAX_OPEN_CALLS,
};
use strongroom_core::protocol::frames::DeviceEvent;
use strongroom_core::protocol::jose::SigningKey;

use crate::bank::subject_of;
use crate::crypto::{now_s, random_uuid};
use crate::error::GatewayError;
use crate::events::{Committed, enqueue_for_customer};
use crate::staff::{self, StaffMember};

/// An open call, as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCall {
    /// The call's id (every statement of the call names it).
    pub id: String,
    /// The customer phoned.
    pub customer_id: i64,
    /// Their username.
    pub customer: String,
    /// The agent's display name, as signed.
    pub agent: String,
    /// The staff account that opened it.
    pub staff_id: i64,
    /// Why.
    pub reason: CallReason,
    /// Seconds since the epoch.
    pub started_at: i64,
    /// When it stops counting unless renewed, seconds.
    pub expires_at: i64,
}

/// What one change did: the statement's devices to wake.
#[derive(Debug)]
pub struct CallChange {
    /// The call's id.
    pub call_id: String,
    /// The devices it was queued to.
    pub committed: Committed,
}

fn sign_statement(
    key: &SigningKey,
    issuer: &str,
    audience: String,
    call: &OpenCall,
    state: CallState,
    rng: &ring::rand::SystemRandom,
) -> Result<String, GatewayError> {
    let now = now_s();
    let claims = CallClaims {
        iss: issuer.to_owned(),
        aud: audience,
        jti: random_uuid(rng),
        iat: now,
        exp: match state {
            CallState::Open => call.expires_at,
            // An end counts for as long as the longest start could have,
            // so a replayed start always finds the call ended.
            CallState::Ended => now + MAX_CALL_STATEMENT_S,
        },
        call_id: call.id.clone(),
        state,
        agent: call.agent.clone(),
        reason: call.reason,
        started_at: call.started_at,
    };
    key.sign(CALL_TYP, &claims, false, rng)
        .map_err(|e| GatewayError::Storage(format!("signing a call statement: {e}")))
}

fn deliver(
    conn: &Connection,
    key: &SigningKey,
    issuer: &str,
    call: &OpenCall,
    state: CallState,
    rng: &ring::rand::SystemRandom,
) -> Result<Committed, GatewayError> {
    let audience = subject_of(conn, call.customer_id)?;
    let jws = sign_statement(key, issuer, audience, call, state, rng)?;
    enqueue_for_customer(
        conn,
        call.customer_id,
        None,
        &DeviceEvent::CallStatus { jws },
        None,
    )
}

/// Opens a call status for `customer_id`, by `staff`, for `reason`: stored,
/// audited (`call.start`), signed and queued to every device of the
/// customer. An agent has at most one open call per customer: opening
/// again renews it.
///
/// # Errors
/// [`GatewayError::Invalid`] for a disabled staff account or an unknown
/// customer; [`GatewayError::Storage`].
pub fn start(
    conn: &Connection,
    key: &SigningKey,
    issuer: &str,
    staff: &StaffMember,
    customer_id: i64,
    reason: CallReason,
    rng: &ring::rand::SystemRandom,
) -> Result<CallChange, GatewayError> {
    let open = open_calls(conn, Some(customer_id), now_s())?;
    if let Some(mine) = open.iter().find(|c| c.staff_id == staff.id) {
        return renew(conn, key, issuer, staff, &mine.id, rng);
    }
    // A contact proof listing more is refused by every device, which would
    // then say "can't check" while the bank is calling.
    if open.len() >= MAX_OPEN_CALLS {
        return Err(GatewayError::Invalid(format!(
            "this customer already has {MAX_OPEN_CALLS} open calls: end one first"
        )));
    }
    let now = now_s();
    let call = OpenCall {
        id: random_uuid(rng),
        customer_id,
        customer: String::new(),
        agent: staff.display_name.clone(),
        staff_id: staff.id,
        reason,
        started_at: now,
        expires_at: now + MAX_CALL_STATEMENT_S,
    };
    conn.execute(
        "INSERT INTO calls (id, customer_id, staff_id, agent, reason, started_at, renewed_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
        params![
            call.id,
            customer_id,
            staff.id,
            call.agent,
            reason.name(),
            now,
            call.expires_at
        ],
    )?;
    staff::audit(
        conn,
        Some(staff),
        "call.start",
        &format!(
            "call {} to customer {customer_id} about {}",
            call.id,
            reason.name()
        ),
    )?;
    let committed = deliver(conn, key, issuer, &call, CallState::Open, rng)?;
    Ok(CallChange {
        call_id: call.id,
        committed,
    })
}

/// Renews an open call for another 30 minutes (audited `call.renew`).
///
/// # Errors
/// [`GatewayError::Invalid`] when the call is not open;
/// [`GatewayError::Storage`].
pub fn renew(
    conn: &Connection,
    key: &SigningKey,
    issuer: &str,
    staff: &StaffMember,
    call_id: &str,
    rng: &ring::rand::SystemRandom,
) -> Result<CallChange, GatewayError> {
    let now = now_s();
    let mut call = open_call(conn, call_id, now)?;
    call.expires_at = now + MAX_CALL_STATEMENT_S;
    conn.execute(
        "UPDATE calls SET renewed_at = ?2, expires_at = ?3 WHERE id = ?1",
        params![call_id, now, call.expires_at],
    )?;
    staff::audit(conn, Some(staff), "call.renew", &format!("call {call_id}"))?;
    let committed = deliver(conn, key, issuer, &call, CallState::Open, rng)?;
    Ok(CallChange {
        call_id: call.id,
        committed,
    })
}

/// Ends an open call (audited `call.end`); its devices are told at once.
///
/// # Errors
/// [`GatewayError::Invalid`] when the call is not open;
/// [`GatewayError::Storage`].
pub fn end(
    conn: &Connection,
    key: &SigningKey,
    issuer: &str,
    staff: &StaffMember,
    call_id: &str,
    rng: &ring::rand::SystemRandom,
) -> Result<CallChange, GatewayError> {
    let now = now_s();
    let call = open_call(conn, call_id, now)?;
    conn.execute(
        "UPDATE calls SET ended_at = ?2 WHERE id = ?1",
        params![call_id, now],
    )?;
    staff::audit(conn, Some(staff), "call.end", &format!("call {call_id}"))?;
    let committed = deliver(conn, key, issuer, &call, CallState::Ended, rng)?;
    Ok(CallChange {
        call_id: call.id,
        committed,
    })
}

fn open_call(conn: &Connection, call_id: &str, now: i64) -> Result<OpenCall, GatewayError> {
    let found = conn
        .prepare_cached(
            "SELECT c.id, c.customer_id, u.username, c.agent, c.staff_id, c.reason, c.started_at, c.expires_at
             FROM calls c JOIN customers u ON u.id = c.customer_id
             WHERE c.id = ?1 AND c.ended_at IS NULL AND c.expires_at > ?2",
        )?
        .query_row(params![call_id, now], call_from_row)
        .optional()?;
    found.ok_or_else(|| GatewayError::Invalid("that call is not open (ended or expired)".into()))
}

fn call_from_row(r: &crate::sql::Row) -> Result<OpenCall, crate::sql::Error> {
    let reason: String = r.get(5)?;
    Ok(OpenCall {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        customer: r.get(2)?,
        agent: r.get(3)?,
        staff_id: r.get(4)?,
        // Only names from `CallReason` are ever written.
        reason: CallReason::from_name(&reason).unwrap_or(CallReason::RequestedCallback),
        started_at: r.get(6)?,
        expires_at: r.get(7)?,
    })
}

/// The calls open at `now`, for one customer or for all, oldest first.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn open_calls(
    conn: &Connection,
    customer_id: Option<i64>,
    now: i64,
) -> Result<Vec<OpenCall>, GatewayError> {
    const OPEN: &str = "SELECT c.id, c.customer_id, u.username, c.agent, c.staff_id, c.reason,
                c.started_at, c.expires_at
         FROM calls c JOIN customers u ON u.id = c.customer_id
         WHERE c.ended_at IS NULL AND c.expires_at > ?1";
    let rows = match customer_id {
        Some(id) => conn
            .prepare_cached(&format!(
                "{OPEN} AND c.customer_id = ?2 ORDER BY c.started_at"
            ))?
            .query_map(params![now, id], call_from_row)?
            .collect::<Result<Vec<_>, _>>()?,
        None => conn
            .prepare_cached(&format!("{OPEN} ORDER BY c.started_at"))?
            .query_map(params![now], call_from_row)?
            .collect::<Result<Vec<_>, _>>()?,
    };
    Ok(rows)
}

/// A contact proof for one customer's device: the ids of the calls open
/// for them now, signed with the current key and bound to the customer;
/// and a freshly signed statement of each of those calls, for a device
/// that missed its start.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn contact_proof(
    conn: &Connection,
    key: &SigningKey,
    issuer: &str,
    customer_id: i64,
    rng: &ring::rand::SystemRandom,
) -> Result<(String, Vec<String>), GatewayError> {
    let now = now_s();
    let audience = subject_of(conn, customer_id)?;
    let open = open_calls(conn, Some(customer_id), now)?;
    let statements = open
        .iter()
        .map(|call| sign_statement(key, issuer, audience.clone(), call, CallState::Open, rng))
        .collect::<Result<Vec<_>, _>>()?;
    let claims = ContactClaims {
        iss: issuer.to_owned(),
        aud: audience,
        iat: now,
        open_calls: open.into_iter().map(|c| c.id).collect(),
    };
    let proof = key
        .sign(CONTACT_TYP, &claims, false, rng)
        .map_err(|e| GatewayError::Storage(format!("signing a contact proof: {e}")))?;
    Ok((proof, statements))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staff::Role;

    #[test]
    fn a_customer_has_at_most_as_many_open_calls_as_a_proof_can_list() {
        let dir = tempfile::tempdir().unwrap();
        let mut admin =
            crate::db::open_for_admin(&crate::db::Database::Sqlite(dir.path().join("g.db")))
                .unwrap();
        let conn = admin.connection();
        let rng = ring::rand::SystemRandom::new();
        let (key, _) = SigningKey::generate("k1", &rng).unwrap();
        conn.execute(
            "INSERT INTO customers (id, username, display_name, password_hash, home_country, created_at, subject)
             VALUES (1, 'alice', 'Alice', 'x', 'GB', 0, 'customer-alice')",
            (),
        )
        .unwrap();
        let agents: Vec<StaffMember> = (1..=MAX_OPEN_CALLS as i64 + 1)
            .map(|id| {
                conn.execute(
                    "INSERT INTO staff (id, username, display_name, role, password_hash, created_at)
                     VALUES (?1, ?2, ?2, 'agent', 'x', 0)",
                    params![id, format!("agent{id}")],
                )
                .unwrap();
                StaffMember {
                    id,
                    username: format!("agent{id}"),
                    display_name: format!("agent{id}"),
                    role: Role::Agent,
                    disabled_at: None,
                }
            })
            .collect();
        let start_by = |agent: &StaffMember| {
            start(
                &conn,
                &key,
                "https://bank.example",
                agent,
                1,
                CallReason::SuspiciousPayment,
                &rng,
            )
        };
        for agent in &agents[..MAX_OPEN_CALLS] {
            start_by(agent).unwrap();
        }
        let refused = start_by(&agents[MAX_OPEN_CALLS]);
        assert!(
            matches!(&refused, Err(GatewayError::Invalid(m)) if m.contains("open calls")),
            "a 17th open call would make every contact proof fail: {refused:?}"
        );
        assert_eq!(
            open_calls(&conn, Some(1), now_s()).unwrap().len(),
            MAX_OPEN_CALLS
        );
        // An agent whose call is open renews it, cap or not.
        start_by(&agents[0]).unwrap();
    }
}
