//! Numbering and storing device events; signing and fanning out alerts.
//! These run on the writer thread, inside its transaction.

use std::collections::HashMap;
use std::sync::Arc;

use crate::db::SharedStatement;
use crate::sql::{Connection, OptionalExtension, params};
use crate::stages::StageProbe;
use strongroom_core::protocol::alert::{ALERT_TYP, AlertClaims, AlertEvent, AlertKind};
use strongroom_core::protocol::frames::{DeviceEvent, MAX_FRAME_BYTES, encode};
use strongroom_core::protocol::jose::SigningKey;

use crate::crypto::{now_ms, now_s, random_uuid};
use crate::error::GatewayError;

/// Device events committed by one write: (device id, seq), to wake streams
/// once the commit is durable.
pub type Committed = Vec<(String, u64)>;

/// The scope a device must have been granted to receive `event`: alerts,
/// key rotations and pilot features need `alerts`; chat needs `chat`.
pub fn required_scope(event: &DeviceEvent) -> &'static str {
    match event {
        DeviceEvent::Alert { .. }
        | DeviceEvent::KeyRotation { .. }
        | DeviceEvent::Flags { .. }
        | DeviceEvent::CallStatus { .. } => "alerts",
        DeviceEvent::Chat { .. } | DeviceEvent::ChatAccepted { .. } => "chat",
    }
}

/// Whether a space-separated scope list grants `scope`.
pub fn has_scope(granted: &str, scope: &str) -> bool {
    granted.split(' ').any(|s| s == scope)
}

/// The bytes a stream frame adds around an event body:
/// `{"type":"event","seq":<up to 20 digits>,"event":` and `}`.
const FRAME_OVERHEAD: usize = r#"{"type":"event","seq":,"event":}"#.len() + 20;

/// Encodes `event` for storage, refusing one whose stream frame would
/// exceed the protocol's 64 KiB frame limit (the device would refuse the
/// frame, reconnect, and get the same one again, forever).
///
/// # Errors
/// [`GatewayError::Invalid`] for an event too large to deliver.
pub fn encode_event(event: &DeviceEvent) -> Result<String, GatewayError> {
    let body = encode(event);
    if body.len() + FRAME_OVERHEAD > MAX_FRAME_BYTES {
        return Err(GatewayError::Invalid(format!(
            "the event would be a {} byte frame; frames are at most {MAX_FRAME_BYTES} bytes",
            body.len() + FRAME_OVERHEAD
        )));
    }
    Ok(body)
}

/// Appends `event` to `device_id`'s events with the next number, if the
/// device was granted the scope the event needs (see [`required_scope`]);
/// `None` when it was not (or the device does not exist), so numbers stay
/// gapless and a device never holds events it may not see.
///
/// # Errors
/// [`GatewayError::Storage`], or [`GatewayError::Invalid`] for an event over
/// the frame limit.
pub fn enqueue(
    conn: &Connection,
    device_id: &str,
    event: &DeviceEvent,
    alert_id: Option<&str>,
) -> Result<Option<u64>, GatewayError> {
    let body = encode_event(event)?;
    append_to_device(conn, device_id, required_scope(event), &body, alert_id)
}

/// [`enqueue`] for an event already encoded (`body`), which needs `scope`.
fn append_to_device(
    conn: &Connection,
    device_id: &str,
    scope: &str,
    body: &str,
    alert_id: Option<&str>,
) -> Result<Option<u64>, GatewayError> {
    if conn.is_postgres() {
        let appended = append_postgres(
            conn,
            "",
            "id = ?1",
            body,
            alert_id.is_some(),
            params![device_id, scope, body, alert_id, now_ms()],
        )?;
        return Ok(appended.into_iter().next().map(|(_, seq)| seq));
    }
    let seq: Option<i64> = conn
        .prepare_cached(
            "UPDATE devices SET last_seq = last_seq + 1
             WHERE id = ?1 AND instr(' ' || scope || ' ', ' ' || ?2 || ' ') > 0
             RETURNING last_seq",
        )?
        .query_row(params![device_id, scope], |r| r.get(0))
        .optional()?;
    let Some(seq) = seq else {
        return Ok(None);
    };
    conn.prepare_cached(
        "INSERT INTO events(device_id, seq, body, alert_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![device_id, seq, body, alert_id, now_ms()])?;
    Ok(Some(u64::try_from(seq).unwrap_or(0)))
}

/// PostgreSQL: [`enqueue`] for every device `which` selects, in one
/// statement (a data-modifying WITH numbers and appends at once, one round
/// trip however many devices), each announced with its body so that open
/// streams, here or on another gateway, send it without reading it back.
/// Parameters: `?2` the scope the event needs, `?3` its body, `?4` its
/// alert id, `?5` the time; `which` uses `?1` (and `?6`); `first`, a
/// WITH query ending in a comma or nothing, runs in the same statement.
fn append_postgres(
    conn: &Connection,
    first: &str,
    which: &str,
    body: &str,
    alert: bool,
    params: Result<Vec<crate::sql::Value>, crate::sql::Error>,
) -> Result<Committed, GatewayError> {
    // The devices' rows are locked in id order, as every statement that
    // numbers several devices' events locks them (see
    // `PG_STORE_POSTED_ALERTS`): two gateways appending to one customer's
    // devices at once then wait for each other rather than deadlock. With
    // the lock the UPDATE takes anyway (FOR NO KEY UPDATE), not FOR
    // UPDATE: that one would also wait for, and deadlock with, the key
    // share that a device's first acknowledgement takes on its row (the
    // foreign key of `device_acks`).
    let sql = format!(
        "WITH {first} locked AS (
             SELECT id FROM devices
             WHERE {which} AND instr(' ' || scope || ' ', ' ' || ?2 || ' ') > 0
             ORDER BY id FOR NO KEY UPDATE),
         numbered AS (
             UPDATE devices d SET last_seq = d.last_seq + 1 FROM locked l WHERE d.id = l.id
             RETURNING d.id, d.last_seq)
         INSERT INTO events(device_id, seq, body, alert_id, created_at)
         SELECT id, last_seq, ?3, ?4, ?5 FROM numbered
         RETURNING device_id, seq"
    );
    let mut committed = Vec::new();
    for row in conn.query(&sql, params)? {
        let device: String = row.get(0)?;
        let seq: u64 = row.get(1)?;
        crate::hub::Announcement::Event {
            device: device.clone(),
            seq,
            alert,
            body: Some(body.to_owned()),
        }
        .announce(conn);
        committed.push((device, seq));
    }
    Ok(committed)
}

/// Locks `customer_id`'s devices' rows in id order (PostgreSQL; nothing
/// with SQLite, whose one writer runs one transaction at a time), for a
/// write that appends to one of them and then to the others: its appends
/// then take no row out of the order that every append takes them in (see
/// `append_postgres`), and another gateway's write for the same customer
/// waits for it rather than deadlocks with it.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn lock_customer_devices(conn: &Connection, customer_id: i64) -> Result<(), GatewayError> {
    if conn.is_postgres() {
        conn.query(
            "SELECT id FROM devices WHERE customer_id = ?1 ORDER BY id FOR NO KEY UPDATE",
            [customer_id],
        )?;
    }
    Ok(())
}

/// [`append_postgres`]'s `which` for a customer's linked devices but one.
const CUSTOMER_DEVICES: &str = "customer_id = ?1 AND revoked_at IS NULL AND id <> ?6";

/// The ids of a customer's linked (not revoked) devices.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn customer_devices(conn: &Connection, customer_id: i64) -> Result<Vec<String>, GatewayError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM devices WHERE customer_id = ?1 AND revoked_at IS NULL ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([customer_id], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Appends `event` to every linked device of `customer_id` except `except`
/// that was granted the scope it needs.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn enqueue_for_customer(
    conn: &Connection,
    customer_id: i64,
    except: Option<&str>,
    event: &DeviceEvent,
    alert_id: Option<&str>,
) -> Result<Committed, GatewayError> {
    let body = encode_event(event)?;
    append_to_customer(
        conn,
        customer_id,
        except,
        required_scope(event),
        &body,
        alert_id,
    )
}

/// [`enqueue_for_customer`] for an event already encoded (`body`), which
/// needs `scope`.
fn append_to_customer(
    conn: &Connection,
    customer_id: i64,
    except: Option<&str>,
    scope: &str,
    body: &str,
    alert_id: Option<&str>,
) -> Result<Committed, GatewayError> {
    if conn.is_postgres() {
        return append_postgres(
            conn,
            "",
            CUSTOMER_DEVICES,
            body,
            alert_id.is_some(),
            params![
                customer_id,
                scope,
                body,
                alert_id,
                now_ms(),
                except.unwrap_or("")
            ],
        );
    }
    let mut committed = Vec::new();
    for device in customer_devices(conn, customer_id)? {
        if Some(device.as_str()) == except {
            continue;
        }
        if let Some(seq) = append_to_device(conn, &device, scope, body, alert_id)? {
            committed.push((device, seq));
        }
    }
    Ok(committed)
}

/// A signed alert, ready to store.
#[derive(Debug, Clone)]
pub struct SignedAlert {
    /// Its `jti`.
    pub id: String,
    /// Its kind.
    pub kind: AlertKind,
    /// The compact JWS.
    pub jws: String,
}

/// Signs one alert with the current key: a fresh `jti`, `iat` now, and the
/// customer's subject identifier as `aud` (the same JWS goes to every
/// device of the customer, and to no other customer's).
///
/// # Errors
/// [`GatewayError::Storage`] if signing fails (it does not with a valid key).
pub fn sign_alert(
    key: &SigningKey,
    issuer: &str,
    audience: &str,
    kind: AlertKind,
    event: AlertEvent,
    rng: &ring::rand::SystemRandom,
) -> Result<SignedAlert, GatewayError> {
    let id = random_uuid(rng);
    let claims = AlertClaims::new(issuer, audience, &id, now_s(), kind, event);
    let jws = key
        .sign(ALERT_TYP, &claims, false, rng)
        .map_err(|e| GatewayError::Storage(format!("signing an alert: {e}")))?;
    crate::metrics::metrics().alerts_posted.inc();
    Ok(SignedAlert { id, kind, jws })
}

/// The event that carries `alert` to a device, encoded once for every
/// device, the store and the hub.
///
/// # Errors
/// [`GatewayError::Invalid`] for an alert over the frame limit.
pub fn alert_body(alert: &SignedAlert) -> Result<String, GatewayError> {
    encode_event(&DeviceEvent::Alert {
        jws: alert.jws.clone(),
    })
}

/// Stores a signed alert and enqueues it, as `body` (its
/// [`alert_body`]), to every linked device of the customer (except
/// `except`).
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn store_alert(
    conn: &Connection,
    customer_id: i64,
    alert: &SignedAlert,
    body: &str,
    except: Option<&str>,
) -> Result<Committed, GatewayError> {
    let scope = required_scope(&DeviceEvent::Alert { jws: String::new() });
    if conn.is_postgres() {
        // The alert's row and its events in one statement: one round trip
        // per alert on the writer every gateway's writes pass through.
        return append_postgres(
            conn,
            "alert AS (INSERT INTO alerts(id, customer_id, kind, jws, created_at)
                       VALUES (?4, ?1, ?7, ?8, ?5)),",
            CUSTOMER_DEVICES,
            body,
            true,
            params![
                customer_id,
                scope,
                body,
                alert.id,
                now_ms(),
                except.unwrap_or(""),
                alert.kind.name(),
                alert.jws
            ],
        );
    }
    conn.prepare_cached(
        "INSERT INTO alerts(id, customer_id, kind, jws, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        alert.id,
        customer_id,
        alert.kind.name(),
        alert.jws,
        now_ms()
    ])?;
    append_to_customer(conn, customer_id, except, scope, body, Some(&alert.id))
}

/// A bank's post of alerts for one customer, to store as one write of
/// [`PostedAlerts`]: the signed alerts, each with its [`alert_body`], and
/// the benchmark's stage probe with when the post reached its handler
/// (only while the delivery benchmark records).
#[derive(Debug)]
pub struct AlertPost {
    /// The customer whose devices get the alerts.
    pub customer_id: i64,
    /// The alerts, in the order the bank posted them, with their bodies.
    pub alerts: Vec<(SignedAlert, Arc<str>)>,
    /// The stage probe to tell, and when the post was received (µs).
    pub probe: Option<(Arc<StageProbe>, u64)>,
}

/// The [`SharedStatement`] that stores the bank's posted alerts: every
/// post of a batch's run of them in one statement with PostgreSQL
/// (see [`pg_define_store_posted_alerts`]), or one [`store_alert`] per
/// alert with SQLite (where a statement is no round trip) or where the
/// session could not define its function. Each post's output is one
/// [`Committed`] per alert, in its order.
#[derive(Debug)]
pub struct PostedAlerts;

impl SharedStatement for PostedAlerts {
    type Record = AlertPost;
    type Output = Vec<Committed>;

    fn customer(post: &AlertPost) -> Option<i64> {
        Some(post.customer_id)
    }

    fn write(
        conn: &Connection<'_>,
        posts: &[&AlertPost],
    ) -> Result<Vec<Vec<Committed>>, GatewayError> {
        let stored = if conn.has_session_function(PG_STORE_POSTED_ALERTS_FUNCTION) {
            store_posted_postgres(conn, posts)?
        } else {
            posts
                .iter()
                .map(|post| {
                    post.alerts
                        .iter()
                        .map(|(alert, body)| store_alert(conn, post.customer_id, alert, body, None))
                        .collect::<Result<Vec<_>, _>>()
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        for (post, committed) in posts.iter().zip(&stored) {
            if let Some((probe, received_us)) = &post.probe {
                for ((alert, _), events) in post.alerts.iter().zip(committed) {
                    probe.storing(&alert.id, *received_us, events);
                }
            }
        }
        Ok(stored)
    }
}

/// The function, in each PostgreSQL writer session's temporary schema,
/// that stores posted alerts (see [`pg_define_store_posted_alerts`]);
/// public so that the PostgreSQL tests can check its plan.
pub const PG_STORE_POSTED_ALERTS_FUNCTION: &str = "store_posted_alerts";

/// The statement that stores posted alerts with PostgreSQL: `$1` the
/// alerts as a JSON array of `{ord, customer, id, kind, jws, body}` (as
/// text), in customer order and each customer's in the order posted;
/// `$2` the time; `$3` the scope an alert needs. It inserts the alerts,
/// locks each customer's devices that may see them in (customer, id)
/// order, moves each device's number on by its customer's count, and
/// appends the events numbered in the order posted. Returns (device, seq,
/// alert) per event.
///
/// Why this shape: one statement for a whole run of posts instead of one
/// per alert, on the writer whose chain of round trips bounds what one
/// gateway commits. Each customer's alerts travel as arrays to their
/// devices (one `unnest` per device). Every read of `devices` is of one
/// table by key (`= ANY` of an array), never a join with the posted list:
/// the planner guesses that list at 100 rows, and with statistics taken
/// while `devices` was nearly empty (a young deployment, or the benchmark
/// right after enrolling), a join made it scan every device once per
/// batch (0.52-0.65 ms of PostgreSQL CPU per alert in 3 of 8 rounds of
/// `bench gateway-pg`, against 0.11-0.18). Its function runs it with
/// sequential scans off, so that only an index answers that `= ANY`.
const PG_STORE_POSTED_ALERTS: &str =
    "WITH input AS (SELECT * FROM json_to_recordset($1::text::json)
            AS a(ord BIGINT, customer BIGINT, id TEXT, kind TEXT, jws TEXT, body TEXT)),
     alert AS (
         INSERT INTO alerts(id, customer_id, kind, jws, created_at)
         SELECT id, customer, kind, jws, $2 FROM input ORDER BY ord),
     posted AS MATERIALIZED (
         SELECT customer, count(*) AS n,
                array_agg(id ORDER BY ord) AS ids, array_agg(body ORDER BY ord) AS bodies
         FROM input GROUP BY customer),
     locked AS (
         SELECT d.id FROM devices d
         WHERE d.customer_id = ANY (ARRAY(SELECT customer FROM posted))
           AND d.revoked_at IS NULL AND instr(' ' || d.scope || ' ', ' ' || $3 || ' ') > 0
         ORDER BY d.customer_id, d.id
         FOR NO KEY UPDATE),
     numbered AS (
         UPDATE devices d SET last_seq = d.last_seq + p.n
         FROM posted p
         WHERE d.id = ANY (ARRAY(SELECT id FROM locked)) AND p.customer = d.customer_id
         RETURNING d.id, d.last_seq - p.n AS base, p.ids, p.bodies)
     INSERT INTO events(device_id, seq, body, alert_id, created_at)
     SELECT n.id, n.base + e.k, e.body, e.alert, $2
     FROM numbered n, unnest(n.ids, n.bodies) WITH ORDINALITY AS e(alert, body, k)
     RETURNING device_id, seq, alert_id";

/// Defines [`PG_STORE_POSTED_ALERTS_FUNCTION`] in this session's temporary
/// schema (the writer's, as it connects), as `crate::acks` defines its
/// own, and for the same reasons: its `SET` holds while it runs and
/// nowhere else, and it changes with the binary, with no migration. In
/// PL/pgSQL, so that the session plans the statement once and keeps the
/// plan (a SQL function is planned on every call: 0.9-1.0 ms a call
/// against 0.2-0.4 ms, measured with `psql` on 10,000 devices).
///
/// # Errors
/// [`GatewayError::Storage`], for one: a role without `TEMPORARY` on the
/// database.
pub(crate) fn pg_define_store_posted_alerts(c: &Connection<'_>) -> Result<(), GatewayError> {
    // Dropped first: CREATE OR REPLACE refuses a function whose parameter
    // names changed, as they would in a session a pooler kept from an
    // earlier binary.
    Ok(c.execute_batch(&format!(
        "DROP FUNCTION IF EXISTS pg_temp.{PG_STORE_POSTED_ALERTS_FUNCTION}(TEXT, BIGINT, TEXT);
         CREATE FUNCTION pg_temp.{PG_STORE_POSTED_ALERTS_FUNCTION}(TEXT, BIGINT, TEXT)
         RETURNS TABLE(out_device TEXT, out_seq BIGINT, out_alert TEXT) LANGUAGE plpgsql
         SET enable_seqscan = off
         AS $body$ BEGIN RETURN QUERY {PG_STORE_POSTED_ALERTS}; END $body$"
    ))?)
}

/// [`PostedAlerts`] with PostgreSQL's function: one call for every post,
/// each event announced with its body, in the order posted.
fn store_posted_postgres(
    conn: &Connection<'_>,
    posts: &[&AlertPost],
) -> Result<Vec<Vec<Committed>>, GatewayError> {
    let mut rows = Vec::new();
    // Where each alert's events go: (post, alert) by alert id.
    let mut place: HashMap<&str, (usize, usize)> = HashMap::new();
    for (p, post) in posts.iter().enumerate() {
        for (a, (alert, body)) in post.alerts.iter().enumerate() {
            rows.push(serde_json::json!({
                "ord": rows.len(), "customer": post.customer_id, "id": alert.id,
                "kind": alert.kind.name(), "jws": alert.jws, "body": &**body,
            }));
            place.insert(&alert.id, (p, a));
        }
    }
    let json = serde_json::Value::Array(rows).to_string();
    let scope = required_scope(&DeviceEvent::Alert { jws: String::new() });
    let returned = conn.query(
        &format!("SELECT * FROM pg_temp.{PG_STORE_POSTED_ALERTS_FUNCTION}(?1, ?2, ?3)"),
        params![json, now_ms(), scope],
    )?;
    let mut stored: Vec<Vec<Committed>> = posts
        .iter()
        .map(|post| vec![Vec::new(); post.alerts.len()])
        .collect();
    for row in returned {
        let device: String = row.get(0)?;
        let seq: u64 = row.get(1)?;
        let alert: String = row.get(2)?;
        let Some(&(p, a)) = place.get(alert.as_str()) else {
            return Err(GatewayError::Storage(format!(
                "storing alerts returned an event of alert {alert}, which was not posted"
            )));
        };
        stored[p][a].push((device, seq));
    }
    for (post, committed) in posts.iter().zip(&stored) {
        for ((_, body), events) in post.alerts.iter().zip(committed) {
            for (device, seq) in events {
                crate::hub::Announcement::Event {
                    device: device.clone(),
                    seq: *seq,
                    alert: true,
                    body: Some(body.to_string()),
                }
                .announce(conn);
            }
        }
    }
    Ok(stored)
}

/// A customer as the rules and pages need it.
#[derive(Debug, Clone)]
pub struct Customer {
    /// Row id.
    pub id: i64,
    /// Sign-in name.
    pub username: String,
    /// Name shown to staff and in chat.
    pub display_name: String,
    /// ISO 3166 alpha-2 home country.
    pub home_country: String,
    /// Purchases at or above this (minor units) raise an alert.
    pub purchase_threshold_minor: i64,
    /// A balance below this (minor units) raises an alert.
    pub balance_low_minor: i64,
    /// The pilot features switched on, as a JSON object.
    pub flags: String,
}

/// Looks a customer up by username.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn customer_by_username(
    conn: &Connection,
    username: &str,
) -> Result<Option<Customer>, GatewayError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, username, display_name, home_country, purchase_threshold_minor,
                    balance_low_minor, flags FROM customers WHERE username = ?1",
        )?
        .query_row([username], |r| {
            Ok(Customer {
                id: r.get(0)?,
                username: r.get(1)?,
                display_name: r.get(2)?,
                home_country: r.get(3)?,
                purchase_threshold_minor: r.get(4)?,
                balance_low_minor: r.get(5)?,
                flags: r.get(6)?,
            })
        })
        .optional()?)
}

/// The flags event for a customer's current pilot features.
pub fn flags_event(flags_json: &str) -> DeviceEvent {
    DeviceEvent::Flags {
        flags: serde_json::from_str(flags_json).unwrap_or_default(),
    }
}
