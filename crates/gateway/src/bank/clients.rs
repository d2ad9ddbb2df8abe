//! The bank's API clients: named API keys, each with the scopes its system
//! needs, added and revoked while the gateway runs (`strongroom-gateway
//! api-key add|list|revoke`). A bank rotates a key by adding a new one,
//! moving its system over, and revoking the old one: both work in between.
//!
//! Only each key's SHA-256 is stored. A request's key is looked up by that
//! hash; a key found live is believed for [`LIVE_FOR`] (100 ms) before it
//! is looked up again ([`LiveKeys`]), so a revocation or a scope change
//! holds on every gateway of the database within 100 ms. Why not on every
//! call: that lookup was a database read and a hand-off to the blocking
//! pool per bank request, and at 2,000 alerts/s the pool's threads took
//! 28 % of the gateway's CPU (`perf`, `bench devices`). An unknown or
//! revoked key is never remembered: it is looked up every time, so a new
//! key works at once. (The lookup is by the hash of a 256-bit random key:
//! timing it tells nothing about a key nobody has.)
//!
//! The first start makes one key named `initial` with every scope and
//! writes it to the data folder, so a new gateway can be reached at all;
//! a bank that wants narrower keys adds them and revokes `initial`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use ring::rand::SystemRandom;
use strongroom_core::protocol::jose::b64_encode;

use crate::crypto::{now_ms, random_token, sha256};
use crate::error::{GatewayError, Problem};
use crate::sql::{Connection, OptionalExtension, params};

/// The name of the key the first start makes.
pub const INITIAL: &str = "initial";

/// What a key may do, by part of the bank API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Create customers (`POST /bank/v1/customers`).
    Customers,
    /// Send alerts: transactions, custom and bank-signed alerts.
    Alerts,
    /// Read and write the staff chat.
    Chat,
    /// Read what customers answered and reported, and delivery states.
    Answers,
    /// Switch pilot features per customer.
    Flags,
    /// Rotate the alert signing key.
    Keys,
    /// Manage Shared Signals streams and poll their events.
    Events,
}

impl Scope {
    /// Every scope, in the order they are listed.
    pub const ALL: [Scope; 7] = [
        Scope::Customers,
        Scope::Alerts,
        Scope::Chat,
        Scope::Answers,
        Scope::Flags,
        Scope::Keys,
        Scope::Events,
    ];

    /// The scope's name, as stored and as given to the command.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Customers => "customers",
            Scope::Alerts => "alerts",
            Scope::Chat => "chat",
            Scope::Answers => "answers",
            Scope::Flags => "flags",
            Scope::Keys => "keys",
            Scope::Events => "events",
        }
    }

    /// The scope named `name`.
    ///
    /// # Errors
    /// [`GatewayError::Invalid`] naming the scopes there are.
    pub fn parse(name: &str) -> Result<Scope, GatewayError> {
        Scope::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| {
                GatewayError::Invalid(format!(
                    "no scope {name:?}; the scopes are {}",
                    all_scopes()
                ))
            })
    }

    /// The scope a bank API call needs; `None` for paths that are not
    /// bank API routes (they answer 404 or 405 on their own).
    pub fn of_route(method: &Method, path: &str) -> Option<Scope> {
        let post = method == Method::POST;
        if matches!(
            path,
            "/ssf/streams" | "/ssf/status" | "/ssf/verify" | "/ssf/poll"
        ) {
            return Some(Scope::Events);
        }
        Some(match path.strip_prefix("/bank/v1/")? {
            "customers" | "bench/devices" if post => Scope::Customers,
            "transactions" | "alerts" | "signed-alerts" if post => Scope::Alerts,
            "chat" => Scope::Chat,
            "fraud-answers" | "scam-reports" | "deliveries" if !post => Scope::Answers,
            "flags" if post => Scope::Flags,
            "keys/rotate" if post => Scope::Keys,
            _ => return None,
        })
    }
}

/// Every scope's name, space-separated.
pub fn all_scopes() -> String {
    Scope::ALL.map(Scope::as_str).join(" ")
}

/// The scopes of the key a request came with, put in its extensions by
/// the key check (what a stream may ask for depends on them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientScopes(pub Vec<Scope>);

/// An API client, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClient {
    /// Its name.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// When it was added, milliseconds since the Unix epoch.
    pub created_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

fn parse_scopes(stored: &str) -> Vec<Scope> {
    // A name this gateway does not know (a newer one wrote it) grants
    // nothing here.
    stored
        .split_whitespace()
        .filter_map(|s| Scope::parse(s).ok())
        .collect()
}

/// The hash a presented key is stored and looked up by.
pub fn key_hash(presented: &str) -> String {
    b64_encode(&sha256(presented.trim().as_bytes()))
}

/// Whose key `presented` is, with its scopes; `None` for no key, an
/// unknown key or a revoked one.
///
/// # Errors
/// Storage failures.
pub fn authenticate(
    c: &Connection<'_>,
    presented: &str,
) -> Result<Option<(String, Vec<Scope>)>, GatewayError> {
    authenticate_hash(c, &key_hash(presented))
}

/// [`authenticate`] for a key already hashed with [`key_hash`].
///
/// # Errors
/// Storage failures.
pub fn authenticate_hash(
    c: &Connection<'_>,
    hash: &str,
) -> Result<Option<(String, Vec<Scope>)>, GatewayError> {
    let row = c
        .query_row(
            "SELECT name, scopes FROM bank_api_keys WHERE hash = ?1 AND revoked_at IS NULL",
            [hash],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        )
        .optional()?;
    Ok(row.map(|(name, scopes)| (name, parse_scopes(&scopes))))
}

/// How long a key found live is believed without looking it up again: the
/// most a revocation or a scope change can lag on a running gateway.
pub const LIVE_FOR: Duration = Duration::from_millis(100);

/// The most keys remembered at once; a bank has a handful. More (keys
/// made and used by the thousand) start the memory again from empty.
const MAX_LIVE_KEYS: usize = 1024;

/// Keys found live in the last [`LIVE_FOR`], by [`key_hash`], with their
/// holder's name and scopes. Only live keys are kept.
#[derive(Debug, Default)]
pub struct LiveKeys(Mutex<HashMap<String, LiveKey>>);

/// A key found live: when, and whose it is with what scopes.
#[derive(Debug)]
struct LiveKey {
    found: Instant,
    name: String,
    scopes: Vec<Scope>,
}

impl LiveKeys {
    /// The holder and scopes of the key hashed `hash`, if it was found live
    /// less than [`LIVE_FOR`] ago.
    pub fn get(&self, hash: &str) -> Option<(String, Vec<Scope>)> {
        let keys = self.0.lock().ok()?;
        let key = keys.get(hash)?;
        (key.found.elapsed() < LIVE_FOR).then(|| (key.name.clone(), key.scopes.clone()))
    }

    /// Remembers that the key hashed `hash` was found live by a lookup
    /// that started at `asked` (taken before the read: a revocation
    /// committed while a slow read was under way must not be believed away
    /// for longer than [`LIVE_FOR`] after the read began). An entry from a
    /// later lookup is kept rather than replaced by an earlier one.
    pub fn found(&self, hash: String, name: String, scopes: Vec<Scope>, asked: Instant) {
        if let Ok(mut keys) = self.0.lock() {
            if keys.get(&hash).is_some_and(|kept| kept.found >= asked) {
                return;
            }
            if keys.len() >= MAX_LIVE_KEYS && !keys.contains_key(&hash) {
                keys.clear();
            }
            keys.insert(
                hash,
                LiveKey {
                    found: asked,
                    name,
                    scopes,
                },
            );
        }
    }
}

/// A valid key name: 1 to 64 of a-z, 0-9, '.', '_', '-'.
fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// A new key: `srk_` and 256 random bits.
fn new_key(rng: &SystemRandom) -> String {
    format!("srk_{}", random_token(rng))
}

/// Adds a key named `name` with `scopes` and returns it: the only time it
/// is shown.
///
/// # Errors
/// [`GatewayError::Invalid`] for a bad name, no scopes, or a name in use
/// (revoked names stay taken, so the audit trail keeps one meaning per
/// name); storage failures.
pub fn add(
    c: &Connection<'_>,
    rng: &SystemRandom,
    name: &str,
    scopes: &[Scope],
) -> Result<String, GatewayError> {
    if !valid_name(name) {
        return Err(GatewayError::Invalid(
            "a key's name: 1 to 64 of a-z, 0-9, '.', '_', '-'".into(),
        ));
    }
    if scopes.is_empty() {
        return Err(GatewayError::Invalid(format!(
            "a key needs at least one scope of: {}",
            all_scopes()
        )));
    }
    let mut names: Vec<&str> = Scope::ALL
        .into_iter()
        .filter(|s| scopes.contains(s))
        .map(Scope::as_str)
        .collect();
    names.dedup();
    let key = new_key(rng);
    let added = c.execute(
        "INSERT INTO bank_api_keys (name, hash, scopes, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO NOTHING",
        params![
            name,
            b64_encode(&sha256(key.as_bytes())),
            names.join(" "),
            now_ms()
        ],
    )?;
    if added == 0 {
        return Err(GatewayError::Invalid(format!(
            "there is already a key named {name:?} (names are not reused, even revoked)"
        )));
    }
    Ok(key)
}

/// Revokes the key named `name`: its next request is refused, on every
/// gateway of the database, and its Shared Signals streams are disabled
/// (their queued events dropped): nobody could manage them any more.
///
/// # Errors
/// [`GatewayError::Invalid`] if there is no such live key; storage
/// failures.
pub fn revoke(c: &Connection<'_>, name: &str) -> Result<(), GatewayError> {
    let revoked = c.execute(
        "UPDATE bank_api_keys SET revoked_at = ?1 WHERE name = ?2 AND revoked_at IS NULL",
        params![now_ms(), name],
    )?;
    if revoked == 0 {
        return Err(GatewayError::Invalid(format!(
            "no key named {name:?} that is not already revoked"
        )));
    }
    c.execute(
        "DELETE FROM ssf_outbox WHERE stream_id IN (SELECT id FROM ssf_streams WHERE client = ?1)",
        [name],
    )?;
    c.execute(
        "UPDATE ssf_streams SET status = 'disabled' WHERE client = ?1",
        [name],
    )?;
    Ok(())
}

/// Every key, live or revoked, by name.
///
/// # Errors
/// Storage failures.
pub fn list(c: &Connection<'_>) -> Result<Vec<ApiClient>, GatewayError> {
    let rows = c.query(
        "SELECT name, scopes, created_at, revoked_at FROM bank_api_keys ORDER BY name",
        (),
    )?;
    rows.iter()
        .map(|r| {
            Ok(ApiClient {
                name: r.get(0)?,
                scopes: parse_scopes(&r.get::<_, String>(1)?),
                created_at: r.get(2)?,
                revoked_at: r.get(3)?,
            })
        })
        .collect()
}

/// The list as the command prints it: name, scopes, and `revoked` if so.
pub fn describe(clients: &[ApiClient]) -> String {
    let mut out = String::new();
    for client in clients {
        let scopes = client.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>();
        let _ = write!(out, "{}\t{}", client.name, scopes.join(" "));
        if client.revoked_at.is_some() {
            out.push_str("\trevoked");
        }
        out.push('\n');
    }
    out.trim_end().to_owned()
}

/// What the first start does about the `initial` key; see
/// [`initial_key`].
#[derive(Debug, PartialEq, Eq)]
pub enum Initial {
    /// The key given was stored: write it to the data folder.
    Stored,
    /// The database has its keys; nothing to write.
    Kept,
}

/// On start: stores `key` as the `initial` key with every scope if the
/// database has no bank API key at all, or (`replace`, one gateway on its
/// own file whose key file was deleted) in place of a live `initial` key.
/// A revoked `initial` key is never brought back. One write job, and
/// writes are serialised across gateways: gateways started together make
/// one key.
///
/// # Errors
/// Storage failures.
pub fn initial_key(c: &Connection<'_>, key: &str, replace: bool) -> Result<Initial, GatewayError> {
    let hash = b64_encode(&sha256(key.as_bytes()));
    let any: Option<i64> = c
        .query_row("SELECT 1 FROM bank_api_keys LIMIT 1", (), |r| r.get(0))
        .optional()?;
    if any.is_none() {
        c.execute(
            "INSERT INTO bank_api_keys (name, hash, scopes, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![INITIAL, hash, all_scopes(), now_ms()],
        )?;
        return Ok(Initial::Stored);
    }
    if replace {
        let replaced = c.execute(
            "UPDATE bank_api_keys SET hash = ?1 WHERE name = ?2 AND revoked_at IS NULL",
            params![hash, INITIAL],
        )?;
        if replaced == 1 {
            return Ok(Initial::Stored);
        }
    }
    Ok(Initial::Kept)
}

/// The refusal for a key without the scope a call needs (RFC 6750
/// section 3.1).
pub fn insufficient_scope(needed: Scope) -> Problem {
    let mut problem = Problem::new(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        format!("this API key lacks the scope {:?}", needed.as_str()),
    );
    problem.www_authenticate = Some(match needed {
        Scope::Customers => "Bearer error=\"insufficient_scope\", scope=\"customers\"",
        Scope::Alerts => "Bearer error=\"insufficient_scope\", scope=\"alerts\"",
        Scope::Chat => "Bearer error=\"insufficient_scope\", scope=\"chat\"",
        Scope::Answers => "Bearer error=\"insufficient_scope\", scope=\"answers\"",
        Scope::Flags => "Bearer error=\"insufficient_scope\", scope=\"flags\"",
        Scope::Keys => "Bearer error=\"insufficient_scope\", scope=\"keys\"",
        Scope::Events => "Bearer error=\"insufficient_scope\", scope=\"events\"",
    });
    problem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_key_is_believed_for_live_for_then_looked_up_again() {
        let keys = LiveKeys::default();
        let hash = key_hash("srk_example");
        assert_eq!(keys.get(&hash), None, "nothing is remembered unasked");
        keys.found(
            hash.clone(),
            "core".into(),
            vec![Scope::Alerts],
            Instant::now(),
        );
        assert_eq!(keys.get(&hash), Some(("core".into(), vec![Scope::Alerts])));
        // A slow lookup that started earlier does not replace it.
        let earlier = Instant::now() - Duration::from_millis(50);
        keys.found(hash.clone(), "old".into(), vec![], earlier);
        assert_eq!(keys.get(&hash), Some(("core".into(), vec![Scope::Alerts])));
        assert_eq!(keys.get(&key_hash("srk_other")), None);
        std::thread::sleep(LIVE_FOR);
        assert_eq!(
            keys.get(&hash),
            None,
            "after LIVE_FOR the key must be looked up again (a revocation shows)"
        );
    }

    #[test]
    fn live_keys_stay_bounded() {
        let keys = LiveKeys::default();
        for i in 0..MAX_LIVE_KEYS + 10 {
            keys.found(
                key_hash(&format!("srk_{i}")),
                format!("k{i}"),
                vec![],
                Instant::now(),
            );
        }
        let kept = keys.0.lock().unwrap().len();
        assert!(kept <= MAX_LIVE_KEYS, "{kept} kept");
        let last = key_hash(&format!("srk_{}", MAX_LIVE_KEYS + 9));
        assert!(keys.get(&last).is_some(), "the newest is kept");
    }

    #[test]
    fn every_bank_route_needs_one_scope() {
        let post = Method::POST;
        let get = Method::GET;
        assert_eq!(
            Scope::of_route(&post, "/bank/v1/alerts"),
            Some(Scope::Alerts)
        );
        assert_eq!(Scope::of_route(&get, "/bank/v1/chat"), Some(Scope::Chat));
        assert_eq!(
            Scope::of_route(&get, "/bank/v1/fraud-answers"),
            Some(Scope::Answers)
        );
        assert_eq!(
            Scope::of_route(&post, "/bank/v1/keys/rotate"),
            Some(Scope::Keys)
        );
        assert_eq!(Scope::of_route(&get, "/bank/v1/alerts"), None);
        assert_eq!(Scope::of_route(&post, "/v1/chat"), None);
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()).unwrap(), scope);
        }
        assert!(Scope::parse("admin").is_err());
    }

    #[test]
    fn names_are_short_and_plain() {
        assert!(valid_name("core-banking.2026"));
        for bad in ["", "Core", "a b", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }
}
