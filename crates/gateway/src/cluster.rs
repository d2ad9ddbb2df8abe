//! What must hold across every gateway sharing one PostgreSQL database
//! (protocol section 15): a DPoP proof is accepted once, a client address
//! has one request rate, a verification page's one-time token is taken
//! once, a guesser's failed sign-ins are counted together
//! ([`crate::sign_ins`]), every gateway accepts the DPoP nonces and page tokens any of them
//! made, and the cluster makes one bank API key.
//!
//! Why the database and not a design that needs no shared state: a load
//! balancer may send a device's next request to any gateway, so whichever
//! gateway gets a proof, a request or a form must know what the others saw.
//! Binding each proof or nonce to the gateway that issued it would refuse
//! a replay without shared state, but it would also send honest clients
//! round in circles between gateways that each want their own nonce.
//!
//! Each check is one atomic statement (an upsert keyed by the proof, the
//! bucket or the token) on a pooled session, outside the writers' batches:
//! no gateway waits for another's lock, and two gateways racing on one
//! proof are ordered by its row. One gateway on its SQLite file keeps the
//! same state in memory ([`crate::limits`], [`crate::page_tokens`]), since
//! no other process answers its clients.

use std::sync::Arc;
use std::time::Duration;

use ring::hmac;
use ring::rand::SystemRandom;
use strongroom_core::protocol::jose::{b64_decode, b64_encode};
use tokio::sync::watch;

use crate::crypto::{now_s, random_bytes, sha256};
use crate::db::Db;
use crate::error::GatewayError;
use crate::keys::{get_setting, put_setting};
use crate::sql::params;

/// The database server's clock in milliseconds, fixed for one statement:
/// gateways whose own clocks differ still fill a bucket alike.
const DB_NOW_MS: &str = "(EXTRACT(EPOCH FROM statement_timestamp()) * 1000)::BIGINT";

/// How often expired proofs, used page tokens and full buckets are
/// deleted.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// A bucket untouched this long has refilled for any rate (bursts are two
/// seconds' worth), so its row says nothing and goes.
const IDLE_BUCKET_MS: i64 = 10 * 60 * 1000;

/// The secret every gateway of the database keys its DPoP nonces and page
/// tokens with, derived per use by `label`. It is made once: the first
/// gateway's write stores it (writes are serialised across gateways) and
/// the others read that one.
///
/// # Errors
/// [`GatewayError::Storage`] if it cannot be read or stored.
pub async fn shared_key(
    db: &Db,
    rng: &SystemRandom,
    label: &'static str,
) -> Result<hmac::Key, GatewayError> {
    let fresh = b64_encode(&random_bytes::<32>(rng));
    // Exclusive: gateways started together must all keep the first's.
    let stored = db
        .write_exclusive(move |c| {
            if let Some(secret) = get_setting(c, "cluster_secret")? {
                return Ok::<_, GatewayError>(secret);
            }
            put_setting(c, "cluster_secret", &fresh)?;
            Ok(fresh)
        })
        .await?;
    derive_key(&stored, label)
}

/// The key for `label` derived from the database's cluster secret (its
/// base64url form as stored in `settings`), as [`shared_key`] gives it.
///
/// # Errors
/// [`GatewayError::Storage`] if the stored secret is not 32 bytes.
pub(crate) fn derive_key(stored: &str, label: &str) -> Result<hmac::Key, GatewayError> {
    let secret = b64_decode(stored)
        .ok()
        .filter(|s| s.len() == 32)
        .ok_or_else(|| {
            GatewayError::Storage("the setting cluster_secret is not 32 bytes".into())
        })?;
    let master = hmac::Key::new(hmac::HMAC_SHA256, &secret);
    Ok(hmac::Key::new(
        hmac::HMAC_SHA256,
        hmac::sign(&master, label.as_bytes()).as_ref(),
    ))
}

/// Records a DPoP proof (by its key's thumbprint and its `jti`) for every
/// gateway of the database, kept until `forget_at`: `Some(Ok(false))` if
/// any gateway saw it and it is not yet forgotten. `None` with SQLite.
pub async fn first_use_of_proof(
    db: &Db,
    jkt: &str,
    jti: &str,
    now: i64,
    forget_at: i64,
) -> Option<Result<bool, GatewayError>> {
    let proof = b64_encode(&sha256(format!("{jkt}.{jti}").as_bytes()));
    db.across_gateways(move |c| {
        let recorded = c.execute(
            "INSERT INTO dpop_proofs_seen (proof, forget_at) VALUES (?1, ?2) \
             ON CONFLICT (proof) DO UPDATE SET forget_at = EXCLUDED.forget_at \
             WHERE dpop_proofs_seen.forget_at <= ?3",
            params![proof, forget_at, now],
        )?;
        Ok(recorded == 1)
    })
    .await
}

/// Takes one request from `key`'s bucket, shared by every gateway of the
/// database: `rate` per second, up to `burst` at once. `Some(Ok(Err(s)))`
/// says how many seconds to wait. `None` with SQLite.
pub async fn take_request(
    db: &Db,
    key: String,
    rate: f64,
    burst: f64,
) -> Option<Result<Result<(), u64>, GatewayError>> {
    db.across_gateways(move |c| {
        // Every SET reads the row as it was, so the refill is written out
        // where it is used.
        let refill = format!(
            "LEAST(?2::DOUBLE PRECISION, rate_buckets.tokens \
             + GREATEST(0, {DB_NOW_MS} - rate_buckets.at_ms) * ?3::DOUBLE PRECISION / 1000.0)"
        );
        let sql = format!(
            "INSERT INTO rate_buckets (key, tokens, at_ms, allowed) \
             VALUES (?1, ?2::DOUBLE PRECISION - 1, {DB_NOW_MS}, 1) \
             ON CONFLICT (key) DO UPDATE SET \
             tokens = CASE WHEN {refill} >= 1 THEN {refill} - 1 ELSE {refill} END, \
             at_ms = GREATEST(rate_buckets.at_ms, {DB_NOW_MS}), \
             allowed = CASE WHEN {refill} >= 1 THEN 1 ELSE 0 END \
             RETURNING allowed, tokens"
        );
        let (allowed, tokens) = c.query_row(&sql, params![key, burst, rate], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?))
        })?;
        Ok(if allowed == 1 {
            Ok(())
        } else {
            Err(((1.0 - tokens) / rate).ceil().max(1.0) as u64)
        })
    })
    .await
}

/// Records that a page's one-time `token` (valid until `expires_at`) was
/// used, for every gateway of the database: `Some(Ok(false))` if it was
/// used before. `None` with SQLite.
pub async fn first_use_of_page_token(
    db: &Db,
    token: &str,
    expires_at: i64,
) -> Option<Result<bool, GatewayError>> {
    let token = b64_encode(&sha256(token.as_bytes()));
    db.across_gateways(move |c| {
        let recorded = c.execute(
            "INSERT INTO page_tokens_used (token, expires_at) VALUES (?1, ?2) \
             ON CONFLICT (token) DO NOTHING",
            params![token, expires_at],
        )?;
        Ok(recorded == 1)
    })
    .await
}

/// Deletes, every minute until `shutdown`, the proofs no gateway would
/// accept again, the page tokens past their expiry and the buckets that
/// have refilled. Nothing to do with SQLite.
pub fn start_sweeping(db: Arc<Db>, mut shutdown: watch::Receiver<bool>) {
    if !db.is_shared() {
        return;
    }
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(SWEEP_EVERY) => {}
                _ = shutdown.changed() => return,
            }
            let now = now_s();
            let swept = db
                .across_gateways(move |c| {
                    c.execute("DELETE FROM dpop_proofs_seen WHERE forget_at < ?1", [now])?;
                    c.execute("DELETE FROM page_tokens_used WHERE expires_at < ?1", [now])?;
                    c.execute(
                        &format!("DELETE FROM rate_buckets WHERE at_ms < {DB_NOW_MS} - ?1"),
                        [IDLE_BUCKET_MS],
                    )?;
                    crate::sign_ins::sweep(c, now * 1000)?;
                    Ok(())
                })
                .await;
            if let Some(Err(e)) = swept {
                tracing::warn!(error = %e, "sweeping the cluster's expired proofs and tokens");
            }
        }
    });
}
