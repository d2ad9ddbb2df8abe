//! The demo bank: seeded customers, a synthetic stream of card transactions
//! for customers with a linked device, and a scripted suspicious purchase
//! some seconds after a customer's first device links.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ring::rand::SystemRandom;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::bank::{NewCustomer, create_customer, customer_id, record_transaction};
use crate::crypto::random_bytes;
use crate::error::GatewayError;
use crate::passwords::verify_password;
use crate::rules::{Transaction, TransactionKind, TransactionStatus};
use crate::sql::{Connection, OptionalExtension, params};
use crate::staff::{self, Role};
use crate::state::Shared;

/// The demo customers: username, password, display name, home country.
pub const DEMO_CUSTOMERS: [(&str, &str, &str, &str); 2] = [
    ("alice", "alice-demo", "Alice Example", "GB"),
    ("bob", "bob-demo", "Bob Beispiel", "DE"),
];

/// The demo's agent console accounts: username, password, name, role.
pub const DEMO_STAFF: [(&str, &str, &str, Role); 2] = [
    ("ana", "ana-console-demo", "Ana (Demo Bank)", Role::Agent),
    (
        "admin",
        "admin-console-demo",
        "Demo Bank admin",
        Role::Admin,
    ),
];

const MERCHANTS: [(&str, &str); 8] = [
    ("Corner Grocer", "GB"),
    ("Bäckerei Schmidt", "DE"),
    ("Électro Dépôt", "FR"),
    ("Café Lisboa", "PT"),
    ("Northern Rail", "GB"),
    ("Bücherwurm", "DE"),
    ("Tienda Sol", "ES"),
    ("Online Games Ltd", "IE"),
];

/// Creates the demo customers and console accounts if they do not exist
/// yet, and marks them as demo data (`demo = 1`), so that a gateway started
/// without `--demo` on this database refuses to run while they exist.
///
/// # Errors
/// Storage failures.
pub async fn seed(state: &Shared) -> Result<(), GatewayError> {
    for (username, password, name, country) in DEMO_CUSTOMERS {
        if customer_id(state, username).await?.is_some() {
            continue;
        }
        let created = create_customer(
            state,
            NewCustomer {
                username: username.into(),
                display_name: name.into(),
                password: Some(password.into()),
                idp_subject: None,
                home_country: country.into(),
                purchase_threshold_minor: None,
                balance_low_minor: None,
            },
        )
        .await;
        // Another gateway of a shared database, started at the same
        // moment, may have made this customer since the check above.
        if let Err(problem) = created
            && customer_id(state, username).await?.is_none()
        {
            return Err(GatewayError::Storage(problem.detail));
        }
    }
    let rng = state.rng.clone();
    state
        .db
        .write_exclusive(move |c| {
            let existing = staff::list(c)?;
            for (username, password, name, role) in DEMO_STAFF {
                if !existing.iter().any(|m| m.username == username) {
                    staff::add(c, &rng, None, username, name, role, password)?;
                    c.execute("UPDATE staff SET demo = 1 WHERE username = ?1", [username])?;
                }
            }
            for (username, ..) in DEMO_CUSTOMERS {
                c.execute(
                    "UPDATE customers SET demo = 1 WHERE username = ?1 AND password_hash != '!'",
                    [username],
                )?;
            }
            Ok::<_, GatewayError>(())
        })
        .await
}

/// The demo accounts in a database that can still sign in: marked demo
/// rows, and (for data folders seeded before rows were marked) any account
/// with a demo username whose password is still the published demo one.
/// Names are `customer alice`, `staff admin`.
///
/// # Errors
/// Storage failures.
pub fn leftovers(conn: &Connection) -> Result<Vec<String>, GatewayError> {
    let mut found = leftovers_in(
        conn,
        "customer",
        "SELECT username, password_hash, demo FROM customers WHERE",
        &DEMO_CUSTOMERS.map(|c| (c.0, c.1)),
    )?;
    found.extend(leftovers_in(
        conn,
        "staff",
        "SELECT username, password_hash, demo FROM staff WHERE disabled_at IS NULL AND",
        &DEMO_STAFF.map(|s| (s.0, s.1)),
    )?);
    Ok(found)
}

/// The accounts `select` finds (its WHERE clause continued with the demo
/// condition) that are marked demo, or have a demo username whose password
/// is still the published one; named `<kind> <username>`.
fn leftovers_in(
    conn: &Connection,
    kind: &str,
    select: &str,
    published: &[(&str, &str)],
) -> Result<Vec<String>, GatewayError> {
    // The demo usernames are this module's constants, never input.
    let names = published
        .iter()
        .map(|(name, _)| format!("'{name}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = conn.prepare(&format!("{select} (demo != 0 OR username IN ({names}))"))?;
    let rows = stmt.query_map((), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut found = Vec::new();
    for row in rows {
        let (username, hash, demo) = row?;
        let published_password = published
            .iter()
            .any(|(name, password)| *name == username && verify_password(password, &hash));
        if demo != 0 || published_password {
            found.push(format!("{kind} {username}"));
        }
    }
    Ok(found)
}

/// Removes the demo accounts that [`leftovers`] finds, in one transaction:
/// customers with everything of theirs (devices, tokens, events, alerts,
/// chat, answers); staff are disabled with an unusable password instead,
/// because the append-only audit log keeps naming them. Writes one audit
/// line. Returns what was removed.
///
/// Run it with no gateway running on the database: gateways keep customer
/// ids by username, and a demo customer is the only one ever deleted.
///
/// # Errors
/// Storage failures (nothing is removed then).
pub fn remove(conn: &Connection) -> Result<Vec<String>, GatewayError> {
    let found = leftovers(conn)?;
    if found.is_empty() {
        return Ok(found);
    }
    conn.execute("BEGIN", ())?;
    let result = (|| -> Result<(), GatewayError> {
        for name in &found {
            if let Some(username) = name.strip_prefix("customer ") {
                remove_customer(conn, username)?;
            } else if let Some(username) = name.strip_prefix("staff ") {
                conn.execute(
                    "DELETE FROM staff_sessions WHERE staff_id IN
                        (SELECT id FROM staff WHERE username = ?1)",
                    [username],
                )?;
                conn.execute(
                    "UPDATE staff SET disabled_at = ?1, password_hash = '!', demo = 1
                     WHERE username = ?2",
                    params![crate::crypto::now_s(), username],
                )?;
            }
        }
        staff::audit(conn, None, "demo.remove", &found.join(", "))
    })();
    match result {
        Ok(()) => {
            conn.execute("COMMIT", ())?;
            Ok(found)
        }
        Err(e) => {
            let _ = conn.execute("ROLLBACK", ());
            Err(e)
        }
    }
}

fn remove_customer(conn: &Connection, username: &str) -> Result<(), GatewayError> {
    let Some(id) = conn
        .query_row(
            "SELECT id FROM customers WHERE username = ?1",
            [username],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
    else {
        return Ok(());
    };
    for sql in [
        "DELETE FROM spent_refresh_tokens WHERE device_id IN (SELECT id FROM devices WHERE customer_id = ?1)",
        "DELETE FROM access_tokens WHERE device_id IN (SELECT id FROM devices WHERE customer_id = ?1)",
        "DELETE FROM events WHERE device_id IN (SELECT id FROM devices WHERE customer_id = ?1)",
        "DELETE FROM device_acks WHERE device_id IN (SELECT id FROM devices WHERE customer_id = ?1)",
        "DELETE FROM fraud_answers WHERE alert_id IN (SELECT id FROM alerts WHERE customer_id = ?1)",
        "DELETE FROM alerts WHERE customer_id = ?1",
        "DELETE FROM pending_alerts WHERE customer_id = ?1",
        "DELETE FROM chat_messages WHERE customer_id = ?1",
        "DELETE FROM conversation_states WHERE customer_id = ?1",
        "DELETE FROM cohort_members WHERE customer_id = ?1",
        "DELETE FROM device_codes WHERE customer_id = ?1",
        "DELETE FROM devices WHERE customer_id = ?1",
        "DELETE FROM customers WHERE id = ?1",
    ] {
        conn.execute(sql, [id])?;
    }
    Ok(())
}

pub use crate::cli::demo_command as command;

fn pick(rng: &SystemRandom, n: usize) -> usize {
    let b = random_bytes::<4>(rng);
    (u32::from_le_bytes(b) as usize) % n.max(1)
}

fn synthetic(rng: &SystemRandom, username: &str, home: &str) -> Transaction {
    let (merchant, merchant_country) = MERCHANTS[pick(rng, MERCHANTS.len())];
    let roll = pick(rng, 100);
    let foreign = roll < 15;
    let country = if foreign { merchant_country } else { home };
    let kind = if roll >= 90 {
        TransactionKind::Deposit
    } else {
        TransactionKind::Purchase
    };
    let amount_minor = match kind {
        TransactionKind::Deposit => 50_000 + (pick(rng, 200_000) as i64),
        TransactionKind::Purchase => 200 + (pick(rng, 20_000) as i64),
    };
    Transaction {
        customer: username.into(),
        account_ref: "****4321".into(),
        amount_minor,
        currency: if home == "GB" { "GBP" } else { "EUR" }.into(),
        merchant: if kind == TransactionKind::Deposit {
            "Employer Payroll".into()
        } else {
            merchant.into()
        },
        country: country.into(),
        card_present: !(15..30).contains(&roll),
        status: if (30..35).contains(&roll) {
            TransactionStatus::Declined
        } else {
            TransactionStatus::Approved
        },
        kind,
        balance_after_minor: Some(2_000 + pick(rng, 300_000) as i64),
    }
}

/// The scripted suspicious purchase: abroad, card not present, over the
/// threshold, so it raises a fraud check.
fn suspicious(username: &str, home: &str) -> Transaction {
    let country = if home == "FR" { "ES" } else { "FR" };
    Transaction {
        customer: username.into(),
        account_ref: "****4321".into(),
        amount_minor: 12_999,
        currency: "EUR".into(),
        merchant: "Électro Dépôt".into(),
        country: country.into(),
        card_present: false,
        status: TransactionStatus::Approved,
        kind: TransactionKind::Purchase,
        balance_after_minor: None,
    }
}

async fn linked_customers(state: &Shared) -> Vec<(String, String)> {
    state
        .db
        .read(|c| -> Result<Vec<(String, String)>, GatewayError> {
            let mut stmt = c.prepare_cached(
                "SELECT DISTINCT c.username, c.home_country FROM customers c
                 JOIN devices d ON d.customer_id = c.id WHERE d.revoked_at IS NULL",
            )?;
            let rows = stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
        .unwrap_or_default()
}

async fn customer_by_id(state: &Shared, id: i64) -> Option<(String, String)> {
    state
        .db
        .read(move |c| -> Result<(String, String), GatewayError> {
            Ok(c.query_row(
                "SELECT username, home_country FROM customers WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .await
        .ok()
}

/// Prints the banner and starts the synthetic stream and the scripted fraud
/// check.
pub fn spawn(
    state: Shared,
    mut links: mpsc::UnboundedReceiver<i64>,
    ca: Option<PathBuf>,
) -> JoinHandle<()> {
    // Beside the bank's own authorization server, customers sign in there,
    // not on a page of the gateway's.
    let sign_in = match &state.bank_as {
        None => format!("sign in at {}/device", state.issuer),
        Some(bank_as) => format!(
            "customers sign in at the bank's authorization server {}",
            bank_as.issuer()
        ),
    };
    // The demo accounts' passwords are in the README, not in the logs.
    tracing::info!(
        bank = %state.config.bank_name,
        issuer = %state.issuer,
        customers = %sign_in,
        console = %format!("{}/console", state.issuer),
        ca = %ca
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(certificate given with --cert)".into()),
        transactions_per_s = state.config.demo_rate,
        fraud_check_after_s = state.config.demo_fraud_after,
        "demo bank ready: customers alice and bob, staff ana and admin (demo passwords in the README)"
    );
    tokio::spawn(async move {
        let mut shutdown = state.shutdown.clone();
        let rate = state.config.demo_rate;
        let period = if rate > 0.0 {
            Duration::from_secs_f64((1.0 / rate).min(86_400.0))
        } else {
            Duration::from_secs(86_400)
        };
        let mut ticker = tokio::time::interval(period);
        ticker.tick().await;
        let mut scheduled: HashSet<i64> = HashSet::new();
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = ticker.tick(), if rate > 0.0 => {
                    let customers = linked_customers(&state).await;
                    if customers.is_empty() {
                        continue;
                    }
                    let (username, home) = &customers[pick(&state.rng, customers.len())];
                    let tx = synthetic(&state.rng, username, home);
                    if let Err(e) = record_transaction(&state, tx).await {
                        tracing::warn!(detail = %e.detail, "a demo transaction failed");
                    }
                }
                Some(customer) = links.recv() => {
                    let after = state.config.demo_fraud_after;
                    if after <= 0.0 || !scheduled.insert(customer) {
                        continue;
                    }
                    let state = Arc::clone(&state);
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_secs_f64(after)).await;
                        if *state.shutdown.borrow() {
                            return;
                        }
                        if let Some((username, home)) = customer_by_id(&state, customer).await {
                            match record_transaction(&state, suspicious(&username, &home)).await {
                                Ok(alerts) => tracing::info!(
                                    alert = alerts.first().map_or("-", |a| a.id.as_str()),
                                    customer = %username,
                                    "demo fraud check sent"
                                ),
                                Err(e) => tracing::warn!(detail = %e.detail, "the demo fraud check failed"),
                            }
                        }
                    });
                }
            }
        }
    })
}
