//! The bank's alert signing keys: made on first run, kept in the database,
//! rotated by a statement signed with the current key.

use std::sync::Arc;

use crate::sql::{Connection, OptionalExtension, params};
use ring::rand::SystemRandom;
use strongroom_core::protocol::frames::DeviceEvent;
use strongroom_core::protocol::jose::{JwkSet, SigningKey};
use strongroom_core::protocol::verify::{KeyRotation, ROTATION_TYP};

use crate::crypto::{now_ms, now_s};
use crate::error::GatewayError;
use crate::events::{Committed, enqueue};

/// The signing state the gateway holds in memory.
#[derive(Debug, Clone)]
pub struct SigningState {
    /// The key new alerts are signed with.
    pub current: Arc<SigningKey>,
    /// The published set (what `jwks_uri` serves).
    pub published: JwkSet,
}

fn setting(conn: &Connection, name: &str) -> Result<Option<String>, GatewayError> {
    Ok(conn
        .query_row("SELECT value FROM settings WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()?)
}

fn set_setting(conn: &Connection, name: &str, value: &str) -> Result<(), GatewayError> {
    conn.execute(
        "INSERT INTO settings(name, value) VALUES (?1, ?2)
         ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )?;
    Ok(())
}

fn load_key(conn: &Connection, kid: &str, rng: &SystemRandom) -> Result<SigningKey, GatewayError> {
    let pkcs8: Vec<u8> = conn.query_row(
        "SELECT pkcs8 FROM signing_keys WHERE kid = ?1",
        [kid],
        |r| r.get(0),
    )?;
    SigningKey::from_pkcs8(kid, &pkcs8, rng)
        .map_err(|e| GatewayError::Storage(format!("signing key {kid}: {e}")))
}

fn insert_key(
    conn: &Connection,
    kid: &str,
    rng: &SystemRandom,
) -> Result<SigningKey, GatewayError> {
    let (key, pkcs8) = SigningKey::generate(kid, rng)
        .map_err(|e| GatewayError::Storage(format!("making a signing key: {e}")))?;
    conn.execute(
        "INSERT INTO signing_keys(kid, pkcs8, created_at, published) VALUES (?1, ?2, ?3, 1)",
        params![kid, pkcs8.expose(), now_ms()],
    )?;
    Ok(key)
}

fn published(conn: &Connection, rng: &SystemRandom) -> Result<JwkSet, GatewayError> {
    let mut stmt =
        conn.prepare("SELECT kid FROM signing_keys WHERE published = 1 ORDER BY created_at, kid")?;
    let kids: Vec<String> = stmt
        .query_map((), |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut keys = Vec::new();
    for kid in kids {
        keys.push(load_key(conn, &kid, rng)?.jwk());
    }
    Ok(JwkSet { keys })
}

/// Loads the signing state, making the first key (`k1`) on first run.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn load_or_create(conn: &Connection) -> Result<SigningState, GatewayError> {
    let rng = SystemRandom::new();
    let kid = match setting(conn, "current_kid")? {
        Some(kid) => kid,
        None => {
            insert_key(conn, "k1", &rng)?;
            set_setting(conn, "current_kid", "k1")?;
            set_setting(conn, "rotation_seq", "0")?;
            "k1".to_owned()
        }
    };
    Ok(SigningState {
        current: Arc::new(load_key(conn, &kid, &rng)?),
        published: published(conn, &rng)?,
    })
}

/// Rotates: makes the next key, publishes `[current, new]`, signs the
/// rotation statement with the current key, and enqueues it to every linked
/// device. Returns the new state and the events to wake.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn rotate(conn: &Connection, issuer: &str) -> Result<(SigningState, Committed), GatewayError> {
    let rng = SystemRandom::new();
    let old_kid = setting(conn, "current_kid")?
        .ok_or_else(|| GatewayError::Storage("no current signing key".into()))?;
    let old = load_key(conn, &old_kid, &rng)?;
    let count: i64 = conn.query_row("SELECT count(*) FROM signing_keys", (), |r| r.get(0))?;
    let new_kid = format!("k{}", count + 1);
    // The set devices have pinned until now, named in the statement so that
    // a key the bank still publishes later vouches for the keys before it
    // (an alert transcript checked against the bank, docs/security.md).
    let replaces = published(conn, &rng)?
        .keys
        .iter()
        .map(|k| k.thumbprint())
        .collect();
    let new = insert_key(conn, &new_kid, &rng)?;
    conn.execute(
        "UPDATE signing_keys SET published = CASE WHEN kid IN (?1, ?2) THEN 1 ELSE 0 END",
        params![old_kid, new_kid],
    )?;
    let seq: u64 = setting(conn, "rotation_seq")?
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
        + 1;
    let statement = KeyRotation {
        iss: issuer.to_owned(),
        iat: now_s(),
        seq,
        keys: vec![old.jwk(), new.jwk()],
        replaces,
    };
    let jws = old
        .sign(ROTATION_TYP, &statement, false, &rng)
        .map_err(|e| GatewayError::Storage(format!("signing the rotation: {e}")))?;
    set_setting(conn, "rotation_seq", &seq.to_string())?;
    set_setting(conn, "current_kid", &new_kid)?;
    let devices: Vec<String> = conn
        // In the order every append locks devices (by customer, then id),
        // so that a rotation and another gateway's batch wait for each
        // other rather than deadlock.
        .prepare("SELECT id FROM devices WHERE revoked_at IS NULL ORDER BY customer_id, id")?
        .query_map((), |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let event = DeviceEvent::KeyRotation { jws };
    let mut committed = Vec::new();
    for device in devices {
        if let Some(seq) = enqueue(conn, &device, &event, None)? {
            committed.push((device, seq));
        }
    }
    Ok((
        SigningState {
            current: Arc::new(new),
            published: JwkSet {
                keys: vec![old.jwk(), load_key(conn, &new_kid, &rng)?.jwk()],
            },
        },
        committed,
    ))
}

/// Reads a setting (used for the bank API key hash).
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn get_setting(conn: &Connection, name: &str) -> Result<Option<String>, GatewayError> {
    setting(conn, name)
}

/// Writes a setting.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn put_setting(conn: &Connection, name: &str, value: &str) -> Result<(), GatewayError> {
    set_setting(conn, name, value)
}
