//! Push delivery (RFC 8935): each gateway runs one worker that leases due
//! events of enabled push streams from the outbox, POSTs each SET to its
//! stream's endpoint, and deletes it when the receiver answers 202. A
//! receiver that is down or answers 5xx or 429 gets the event again after
//! a growing backoff (1 s, 2 s, 4 s... at most 5 minutes), for as long as
//! the stream exists; one that refuses the SET (400, RFC 8935 section 2.4)
//! keeps it in the outbox with its error and no further attempt, logged,
//! since sending the same token again would be refused again.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::sign_set;
use crate::crypto::now_ms;
use crate::error::GatewayError;
use crate::sql::params;
use crate::state::AppState;

/// How many events one round leases.
const BATCH: i64 = 32;
/// How long a lease lasts: a gateway that dies mid-push leaves its events
/// to another after this.
const LEASE_MS: i64 = 60_000;
/// The longest wait between two attempts.
const MAX_BACKOFF_MS: i64 = 5 * 60 * 1000;
/// How often an idle worker looks for due events.
const IDLE: Duration = Duration::from_millis(250);
/// The most of a receiver's error answer kept.
const MAX_ERROR_CHARS: usize = 512;

/// A leased event.
struct Due {
    id: i64,
    claims: String,
    attempts: i64,
    url: String,
    authorization: Option<String>,
}

/// Starts the worker; it stops when `shutdown` changes.
pub fn start(state: Arc<AppState>, http: reqwest::Client, mut shutdown: watch::Receiver<bool>) {
    tokio::spawn(async move {
        loop {
            let sent = match round(&state, &http).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "pushing events to the bank's receivers");
                    0
                }
            };
            if sent == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(IDLE) => {}
                    _ = shutdown.changed() => return,
                }
            } else if *shutdown.borrow() {
                return;
            }
        }
    });
}

/// Leases the due events, pushes them, settles each. Returns how many
/// were tried.
async fn round(state: &Arc<AppState>, http: &reqwest::Client) -> Result<usize, GatewayError> {
    let now = now_ms();
    // Looked for with a read first: an idle worker must not take the
    // writer (and, on PostgreSQL, the cluster's batch lock) four times a
    // second.
    let any_due = state
        .db
        .read(move |c| -> Result<bool, GatewayError> {
            Ok(!c
                .query(
                    "SELECT o.id FROM ssf_outbox o JOIN ssf_streams s ON s.id = o.stream_id
                     WHERE s.method = 'urn:ietf:rfc:8935' AND s.status = 'enabled'
                       AND o.next_attempt_at <= ?1 AND o.lease_until <= ?1 LIMIT 1",
                    [now],
                )?
                .is_empty())
        })
        .await?;
    if !any_due {
        return Ok(0);
    }
    let due = state
        .db
        .write(move |c| -> Result<Vec<Due>, GatewayError> {
            let rows = c.query(
                "SELECT o.id, o.claims, o.attempts, s.endpoint_url, s.authorization_header
                 FROM ssf_outbox o JOIN ssf_streams s ON s.id = o.stream_id
                 WHERE s.method = 'urn:ietf:rfc:8935' AND s.status = 'enabled'
                   AND o.next_attempt_at <= ?1 AND o.lease_until <= ?1
                 ORDER BY o.id LIMIT ?2",
                params![now, BATCH],
            )?;
            let mut due = Vec::with_capacity(rows.len());
            for r in rows {
                let item = Due {
                    id: r.get(0)?,
                    claims: r.get(1)?,
                    attempts: r.get(2)?,
                    url: r.get(3)?,
                    authorization: r.get(4)?,
                };
                c.execute(
                    "UPDATE ssf_outbox SET lease_until = ?1 WHERE id = ?2",
                    params![now + LEASE_MS, item.id],
                )?;
                due.push(item);
            }
            Ok(due)
        })
        .await?;
    let tried = due.len();
    // At once, each bounded by the client's 10 s timeout: a receiver that
    // never answers delays a round by that, not by 10 s per event, and a
    // round stays well inside its lease.
    let outcomes =
        futures_util::future::join_all(due.iter().map(|item| push_one(state, http, item))).await;
    let lease = now + LEASE_MS;
    for (item, outcome) in due.iter().zip(outcomes) {
        settle(state, item, lease, outcome).await?;
    }
    Ok(tried)
}

/// What became of one push.
enum Outcome {
    /// 202: the receiver has it.
    Accepted,
    /// The receiver refused this SET (400): do not send it again.
    Refused(String),
    /// Down, 5xx, 429, or any other answer: try again later.
    Retry(String),
}

async fn push_one(state: &AppState, http: &reqwest::Client, item: &Due) -> Outcome {
    let set = match sign_set(state, &item.claims) {
        Ok(set) => set,
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    let mut request = http
        .post(&item.url)
        .header("content-type", "application/secevent+jwt")
        .header("accept", "application/json")
        .body(set);
    if let Some(authorization) = &item.authorization {
        request = request.header("authorization", authorization);
    }
    match request.send().await {
        Ok(r) if r.status() == reqwest::StatusCode::ACCEPTED => Outcome::Accepted,
        Ok(r) if r.status() == reqwest::StatusCode::BAD_REQUEST => {
            let body = r.text().await.unwrap_or_default();
            Outcome::Refused(body.chars().take(MAX_ERROR_CHARS).collect())
        }
        Ok(r) => Outcome::Retry(format!("answered {}", r.status())),
        Err(e) => Outcome::Retry(e.to_string()),
    }
}

/// The wait before attempt `attempts` + 1.
fn backoff_ms(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    (1000_i64 << doublings).min(MAX_BACKOFF_MS)
}

/// Records what became of a push. A retry or a refusal is written only
/// while this worker's lease (`lease`) still holds the row: a round that
/// overran it leaves the row to whoever leased it since.
async fn settle(
    state: &AppState,
    item: &Due,
    lease: i64,
    outcome: Outcome,
) -> Result<(), GatewayError> {
    let id = item.id;
    let attempts = item.attempts + 1;
    let now = now_ms();
    match &outcome {
        Outcome::Accepted => {
            crate::metrics::metrics().events_pushed.inc();
        }
        Outcome::Refused(why) => {
            tracing::error!(event = id, error = %why, "a receiver refused an event; it is kept, not sent again");
        }
        Outcome::Retry(why) => {
            tracing::warn!(event = id, attempts, error = %why, "an event could not be pushed; it will be again");
        }
    }
    state
        .db
        .write(move |c| -> Result<(), GatewayError> {
            match outcome {
                Outcome::Accepted => {
                    c.execute("DELETE FROM ssf_outbox WHERE id = ?1", [id])?;
                }
                Outcome::Refused(why) => {
                    c.execute(
                        "UPDATE ssf_outbox SET attempts = ?1, last_error = ?2,
                             next_attempt_at = ?3, lease_until = 0 WHERE id = ?4 AND lease_until = ?5",
                        params![attempts, why, i64::MAX, id, lease],
                    )?;
                }
                Outcome::Retry(why) => {
                    c.execute(
                        "UPDATE ssf_outbox SET attempts = ?1, last_error = ?2,
                             next_attempt_at = ?3, lease_until = 0 WHERE id = ?4 AND lease_until = ?5",
                        params![attempts, why, now + backoff_ms(attempts - 1), id, lease],
                    )?;
                }
            }
            Ok(())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_a_second_to_five_minutes() {
        assert_eq!(backoff_ms(0), 1000);
        assert_eq!(backoff_ms(3), 8000);
        assert_eq!(backoff_ms(9), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(1000), MAX_BACKOFF_MS);
    }
}
