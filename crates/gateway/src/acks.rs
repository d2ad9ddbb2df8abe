//! Devices' acknowledgements, recorded many at once: every open stream
//! acknowledges what it received, and one write per group commit covers
//! them all (see [`CoalescedWrites`](crate::db::CoalescedWrites)).

use crate::crypto::now_ms;
use crate::error::GatewayError;
use crate::sql::{Connection, params};

/// A device's acknowledgement of its events `previous`+1..=`seq`, to
/// record: the device's acknowledged number, and each alert's
/// acknowledgement time (and its delivery time, `delivered_at`, if not yet
/// recorded) for the console.
#[derive(Debug)]
pub struct Ack {
    /// The device acknowledging.
    pub(crate) device_id: String,
    /// Its acknowledged number before this one.
    pub(crate) previous: i64,
    /// The number it acknowledges up to.
    pub(crate) seq: i64,
    /// When the first of these alerts not yet recorded as delivered was
    /// written to its stream (ms).
    pub(crate) delivered_at: i64,
}

/// The function, in each PostgreSQL writer session's own temporary
/// schema, that records a batch's acknowledgements and says whether any
/// bank stream asked for their events, in one round trip (see
/// [`pg_define_record_acks`]); public so that the PostgreSQL tests can
/// check the plan of the statement it runs.
pub const PG_RECORD_ACKS_FUNCTION: &str = "record_device_acks";

/// The statement that records a batch's acknowledgements with PostgreSQL
/// (`$1` the acknowledgements as a JSON array of `{id, previous, seq,
/// delivered}`, as text; `$2` the time), to run with hash and merge joins
/// off: the body of [`PG_RECORD_ACKS_FUNCTION`], or run alone where the
/// session could not define it.
///
/// Why joins off: each acknowledgement names its rows by key, and with
/// the planner's guess of 100 rows for the JSON and a young `events`
/// table's statistics it chose to scan every device and every event
/// instead (seen with auto_explain in the gateway-pg benchmark). "Is an
/// alert" is written so that no index or statistic of `alert_id` can serve
/// it (COALESCE is not strict): with `alert_id IS NOT NULL`, statistics
/// taken before the first alert (every event then a device's own) made
/// the planner walk every alert's entry in `events_alert` for each
/// acknowledgement, 3-4 ms of the server's CPU per alert and a 10x slower
/// cluster in half the benchmark's runs (auto_explain, 2026-12-07).
const PG_RECORD_ACKS: &str = "WITH a AS (SELECT * FROM json_to_recordset($1::text::json)
            AS a(id TEXT, previous BIGINT, seq BIGINT, delivered BIGINT)),
     device AS (
         INSERT INTO device_acks (device_id, acked_seq)
         SELECT m.id, LEAST(m.seq, d.last_seq)
         FROM (SELECT id, max(seq) AS seq FROM a GROUP BY id) m
         JOIN devices d ON d.id = m.id
         ORDER BY m.id
         ON CONFLICT (device_id) DO UPDATE
         SET acked_seq = GREATEST(device_acks.acked_seq, EXCLUDED.acked_seq))
     UPDATE events e SET acked_at = $2, delivered_at = COALESCE(e.delivered_at, a.delivered)
     FROM a WHERE e.device_id = a.id AND e.seq > a.previous AND e.seq <= a.seq
         AND COALESCE(e.alert_id, '') <> ''";

/// Whether an enabled bank stream asked for the event kind `$3`, its
/// list split on whitespace as [`crate::transmitter::wanted`] splits it
/// (with a class, not a backslash, which `standard_conforming_strings`
/// would change).
const PG_STREAMS_WANT: &str = "SELECT EXISTS (
         SELECT 1 FROM ssf_streams
         WHERE status <> 'disabled'
           AND $3 = ANY (regexp_split_to_array(events_requested, '[[:space:]]+')))";

/// Defines [`PG_RECORD_ACKS_FUNCTION`] in this session's temporary schema
/// (the writer's, as it connects).
///
/// Why a function: run from here, the statement needed `SET LOCAL` before
/// and `RESET` after it, and a query for the bank streams: three more
/// round trips per batch on the writer, the chain that bounds what one
/// gateway commits. A function's `SET` clauses apply while it runs, and
/// nowhere else. Why temporary: it is the gateway's code rather than the
/// database's schema, so it changes with the binary, with no migration.
/// It needs the `TEMPORARY` privilege on the database; without it the
/// writer runs the statements one by one ([`record_acks`]). In PL/pgSQL,
/// which keeps the statements' plans for the session, where a SQL
/// function plans them again on every call (see
/// `crate::events::pg_define_store_posted_alerts`).
///
/// # Errors
/// [`GatewayError::Storage`].
pub(crate) fn pg_define_record_acks(c: &Connection<'_>) -> Result<(), GatewayError> {
    // Dropped first, as `pg_define_store_posted_alerts` does.
    Ok(c.execute_batch(&format!(
        "DROP FUNCTION IF EXISTS pg_temp.{PG_RECORD_ACKS_FUNCTION}(TEXT, BIGINT, TEXT);
         CREATE FUNCTION pg_temp.{PG_RECORD_ACKS_FUNCTION}(TEXT, BIGINT, TEXT)
         RETURNS BOOLEAN LANGUAGE plpgsql
         SET enable_hashjoin = off SET enable_mergejoin = off
         AS $body$ BEGIN {PG_RECORD_ACKS}; RETURN ({PG_STREAMS_WANT}); END $body$"
    ))?)
}

/// Records a batch's acknowledgements (the write function of the gateway's
/// acknowledgement queue): with PostgreSQL in one statement, whatever
/// their number.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn record_acks(c: &Connection<'_>, acks: &[Ack]) -> Result<(), GatewayError> {
    let now = now_ms();
    if c.is_postgres() {
        // The acknowledgements travel as one JSON array. A device has at
        // most one acknowledgement waiting (its stream waits for each), but
        // the upsert takes each device's highest anyway. It locks only
        // `device_acks` rows, in device order: never the `devices` rows
        // that another gateway's batch may be appending events under (see
        // migrations/0015_device_acks.sql), and never the same rows in a
        // different order than another gateway's acknowledgements.
        let rows: Vec<serde_json::Value> = acks
            .iter()
            .map(|a| {
                serde_json::json!({
                    "id": a.device_id, "previous": a.previous,
                    "seq": a.seq, "delivered": a.delivered_at,
                })
            })
            .collect();
        let json = serde_json::Value::Array(rows).to_string();
        // Found by key, and whether a bank stream wants them announced, in
        // one round trip (see `pg_define_record_acks`), or in four where
        // the session could not define its function.
        let wanted: bool = if c.has_session_function(PG_RECORD_ACKS_FUNCTION) {
            c.query_row(
                &format!("SELECT pg_temp.{PG_RECORD_ACKS_FUNCTION}(?1, ?2, ?3)"),
                params![json, now, crate::transmitter::ALERT_ACKNOWLEDGED],
                |r| r.get(0),
            )?
        } else {
            c.execute_batch("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")?;
            c.execute(PG_RECORD_ACKS, params![json, now])?;
            c.execute_batch("RESET enable_hashjoin; RESET enable_mergejoin")?;
            crate::transmitter::wanted(c, crate::transmitter::ALERT_ACKNOWLEDGED)?
        };
        return if wanted {
            announce(c, acks, now)
        } else {
            Ok(())
        };
    }
    for a in acks {
        c.prepare_cached(
            "INSERT INTO device_acks (device_id, acked_seq)
             SELECT id, MIN(?1, last_seq) FROM devices WHERE id = ?2
             ON CONFLICT (device_id) DO UPDATE
             SET acked_seq = MAX(acked_seq, excluded.acked_seq)",
        )?
        .execute(params![a.seq, a.device_id])?;
        c.prepare_cached(
            "UPDATE events SET acked_at = ?4, delivered_at = COALESCE(delivered_at, ?5)
             WHERE device_id = ?2 AND seq > ?3 AND seq <= ?1 AND alert_id IS NOT NULL",
        )?
        .execute(params![a.seq, a.device_id, a.previous, now, a.delivered_at])?;
    }
    if crate::transmitter::wanted(c, crate::transmitter::ALERT_ACKNOWLEDGED)? {
        announce(c, acks, now)?;
    }
    Ok(())
}

/// Puts an `alert-acknowledged` event for each alert these acknowledge in
/// the outbox of the bank's streams, once a stream asked for them (looked
/// for only then: acknowledgements are the gateway's busiest write).
fn announce(c: &Connection<'_>, acks: &[Ack], now: i64) -> Result<(), GatewayError> {
    use crate::transmitter::{alert_acknowledged, enqueue};
    for a in acks {
        let rows = c.query(
            "SELECT e.alert_id, e.seq, al.customer_id, e.delivered_at FROM events e
             JOIN alerts al ON al.id = e.alert_id
             WHERE e.device_id = ?1 AND e.seq > ?2 AND e.seq <= ?3 ORDER BY e.seq",
            params![a.device_id, a.previous, a.seq],
        )?;
        for row in rows {
            let (alert_id, seq, customer_id, delivered): (String, i64, i64, Option<i64>) =
                (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
            enqueue(
                c,
                customer_id,
                &alert_acknowledged(&alert_id, &a.device_id, seq, delivered, now),
            )?;
        }
    }
    Ok(())
}
