//! What every request handler shares.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};

use axum::extract::ConnectInfo;
use axum::http::Request;
use ring::rand::SystemRandom;
use tokio::sync::{mpsc, watch};

use crate::config::Config;
use crate::db::Db;
use crate::hub::Hub;
use crate::keys::SigningState;
use crate::limits::{NonceIssuer, RateLimiter, ReplayCache, SignInLimiter};
use crate::page_tokens::PageTokens;

/// The gateway's shared state.
#[derive(Debug)]
pub struct AppState {
    /// How it was started.
    pub config: Config,
    /// The issuer URL (the public URL, no trailing slash).
    pub issuer: String,
    /// The database.
    pub db: Arc<Db>,
    /// Devices' acknowledgements waiting for the writer, recorded together.
    pub acks: Arc<crate::db::CoalescedWrites<crate::acks::Ack>>,
    /// Customers' ids by username, as the bank API looks them up.
    pub customer_ids: CustomerIds,
    /// Bank API keys found live in the last 100 ms.
    pub bank_keys: crate::bank::clients::LiveKeys,
    /// Customers' subject identifiers, the audience of every alert signed
    /// for them.
    pub customer_subjects: CustomerSubjects,
    /// Wakes open streams.
    pub hub: Arc<Hub>,
    /// The client connections held, and the cap on them.
    pub connections: Arc<crate::connections::ConnectionLimit>,
    /// The random source for tokens and signatures.
    pub rng: SystemRandom,
    /// The alert signing keys.
    pub signing: RwLock<SigningState>,
    /// DPoP nonces for the token endpoint.
    pub nonces: NonceIssuer,
    /// DPoP proof ids recently seen.
    pub replay: ReplayCache,
    /// Request rate per client IP or device.
    pub limiter: RateLimiter,
    /// Failed sign-ins.
    pub sign_ins: SignInLimiter,
    /// Argon2 password checks running at once (19 MiB each): one per CPU.
    pub password_checks: Arc<tokio::sync::Semaphore>,
    /// The verification page's one-time tokens.
    pub pages: PageTokens,
    /// Customer ids whose device just linked (the demo's scripted fraud
    /// check listens).
    pub links: mpsc::UnboundedSender<i64>,
    /// Customer ids whose conversation just changed, for the agent
    /// console's live updates (`/console/events`); `None` when changes may
    /// have been missed (every console reloads its queue).
    pub console_events: tokio::sync::broadcast::Sender<Option<i64>>,
    /// Becomes true when the gateway shuts down; streams close.
    pub shutdown: watch::Receiver<bool>,
    /// The bank's own authorization server, when the gateway is a
    /// protected resource beside it; `None` runs the built-in one.
    pub bank_as: Option<Arc<crate::bank_as::BankAs>>,
    /// The bank's signal transmitter, when it pushes CAEP events here.
    pub signals: Option<Arc<crate::signals::Transmitter>>,
    /// The bank's identity provider, when staff sign in through it.
    pub staff_idp: Option<Arc<crate::console::StaffIdp>>,
    /// An Argon2id hash of a random password, checked when a username is
    /// unknown so that timing does not reveal which usernames exist.
    pub dummy_password_hash: String,
    /// Per-alert stage times for the delivery benchmark (`--bench` only).
    pub stages: Option<Arc<crate::stages::StageProbe>>,
}

/// The shared state as handlers get it.
pub type Shared = Arc<AppState>;

impl AppState {
    /// The current signing state.
    pub fn signing(&self) -> SigningState {
        match self.signing.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the signing state after a rotation.
    pub fn set_signing(&self, state: SigningState) {
        match self.signing.write() {
            Ok(mut s) => *s = state,
            Err(poisoned) => *poisoned.into_inner() = state,
        }
    }

    /// The hash to check a password against when the username is unknown.
    pub fn dummy_hash(&self) -> String {
        self.dummy_password_hash.clone()
    }

    /// The gateway's resource identifier (RFC 8707, RFC 9728).
    pub fn resource(&self) -> &str {
        self.bank_as
            .as_ref()
            .map_or(self.issuer.as_str(), |a| a.resource())
    }

    /// The full URL of `path` on this gateway, as DPoP `htu` expects it.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

/// The client's IP address: what a trusted load balancer's PROXY header
/// said (see [`crate::proxy_protocol`]), else the connection's.
pub fn client_ip<B>(request: &Request<B>) -> IpAddr {
    if let Some(crate::proxy_protocol::ProxiedClient(Some(client))) = request.extensions().get() {
        return client.ip();
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// The most entries a [`Remembered`] map keeps.
const MAX_CUSTOMER_IDS: usize = 100_000;

/// A bounded map of facts about customers that never change once written
/// (when full it starts again from empty), so an entry never goes stale, on
/// this gateway or on another sharing its database.
#[derive(Debug)]
pub struct Remembered<K, V>(Mutex<HashMap<K, V>>);

impl<K, V> Default for Remembered<K, V> {
    fn default() -> Self {
        Remembered(Mutex::new(HashMap::new()))
    }
}

impl<K: std::hash::Hash + Eq, V: Clone> Remembered<K, V> {
    /// The value kept for `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        self.0.lock().ok()?.get(key).cloned()
    }

    /// Keeps `value` as `key`'s.
    pub fn insert(&self, key: K, value: V) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= MAX_CUSTOMER_IDS {
                map.clear();
            }
            map.insert(key, value);
        }
    }
}

/// Customers' ids by username. A username names the same customer for good
/// (the gateway never renames a customer, and removes only demo customers,
/// with no gateway running: `strongroom-gateway demo remove`).
pub type CustomerIds = Remembered<String, i64>;

/// Customers' subject identifiers (the audience of their alerts) by id;
/// a subject is written once, when the customer is created.
pub type CustomerSubjects = Remembered<i64, String>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_ids_are_kept_and_bounded() {
        let ids = CustomerIds::default();
        assert_eq!(ids.get("alice"), None);
        ids.insert("alice".to_owned(), 7);
        assert_eq!(ids.get("alice"), Some(7));
        for i in 0..MAX_CUSTOMER_IDS {
            ids.insert(format!("c{i}"), i as i64);
        }
        let kept = ids.0.lock().unwrap().len();
        assert!(kept <= MAX_CUSTOMER_IDS, "{kept} kept");
        assert_eq!(
            ids.get(&format!("c{}", MAX_CUSTOMER_IDS - 1)),
            Some(MAX_CUSTOMER_IDS as i64 - 1)
        );
    }
}
