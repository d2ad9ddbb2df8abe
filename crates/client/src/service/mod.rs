//! The connected client: linking banks, the delivery stream of each linked
//! account, the outbox, chat and fraud answers. Everything persists through
//! the store and every secret through the vault; this module only moves
//! them between the bank and the device. Its rooms each add one part of
//! [`Client`].

mod calls;
mod events;
mod inbox;
mod link;
mod outbox;
mod stages;
mod stream;

pub use events::{AccountSummary, AlertView, ClientEvent};
pub(crate) use inbox::alert_jti;
pub use link::PendingLink;
pub use stages::AlertStages;

use ring::rand::{SecureRandom, SystemRandom};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use strongroom_core::AccountId;
use strongroom_core::protocol::jose::SigningKey;
use strongroom_core::protocol::verify::AlertVerifier;
use strongroom_store::Millis;
use tokio::sync::{Notify, broadcast};

use crate::net::BankHttp;
use crate::{ClientError, Device};

/// The key id the device's DPoP key carries (it never leaves the device).
const DEVICE_KEY_ID: &str = "device";

/// The longest lifetime taken from a bank's `expires_in` or `interval`: a
/// hostile or broken server must not overflow the clock arithmetic.
const MAX_BANK_SECONDS: u64 = 24 * 3600;

fn bank_seconds(secs: u64) -> Duration {
    Duration::from_secs(secs.clamp(1, MAX_BANK_SECONDS))
}

/// Now, in milliseconds since the epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

struct AccessToken {
    token: String,
    expires: Instant,
}

/// What the client keeps in memory per linked account.
struct Linked {
    key: SigningKey,
    access: tokio::sync::Mutex<Option<AccessToken>>,
    verifier: Mutex<AlertVerifier>,
    /// The bank's call status, as verified on this device.
    calls: calls::Calls,
    outbox: Notify,
}

struct Inner {
    device: Mutex<Device>,
    http: BankHttp,
    events: broadcast::Sender<ClientEvent>,
    linked: Mutex<HashMap<AccountId, Arc<Linked>>>,
    rng: SystemRandom,
    /// Per-alert stage times, when a benchmark asks for them.
    stages: Mutex<stages::Stages>,
}

/// The connected client. Cheap to clone; every clone is the same client.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the store half-written
    // (SQLite transactions), so the data is still good to use.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Client {
    /// A client over an opened device, talking to banks through `http`.
    pub fn new(device: Device, http: BankHttp) -> Self {
        let (events, _) = broadcast::channel(4096);
        Client {
            inner: Arc::new(Inner {
                device: Mutex::new(device),
                http,
                events,
                linked: Mutex::new(HashMap::new()),
                rng: SystemRandom::new(),
                stages: Mutex::new(stages::Stages::default()),
            }),
        }
    }

    /// Live events, each sent after its data is committed.
    pub fn subscribe(&self) -> broadcast::Receiver<ClientEvent> {
        self.inner.events.subscribe()
    }

    fn emit(&self, event: ClientEvent) {
        // No subscriber is fine: everything is in the store anyway.
        let _ = self.inner.events.send(event);
    }

    /// Runs `f` with the device (store and vault), blocking this thread
    /// briefly: every store call is one short SQLite transaction.
    pub fn with_device<T>(&self, f: impl FnOnce(&mut Device) -> T) -> T {
        f(&mut lock(&self.inner.device))
    }

    /// Runs `f` with this client on the blocking pool, for store and
    /// keychain work called from async code: a commit waits for the disk
    /// and a keychain call for D-Bus, and either would hold an async worker
    /// (and every task queued behind it) meanwhile, as would waiting for
    /// the device lock while the stream's commits hold it.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Client) -> Result<T, ClientError> + Send + 'static,
    ) -> Result<T, ClientError> {
        let client = self.clone();
        tokio::task::spawn_blocking(move || f(&client))
            .await
            .map_err(|e| {
                ClientError::Store(strongroom_store::StoreError::Io(format!(
                    "a store task stopped: {e}"
                )))
            })?
    }

    /// Starts (or stops) keeping when each alert from the stream was read,
    /// verified and committed on this device, for a benchmark's breakdown
    /// of where its slowest alerts spent their time. Off by default; kept
    /// for at most 200,000 alerts.
    pub fn record_alert_stages(&self, on: bool) {
        lock(&self.inner.stages).set_recording(on);
    }

    /// The stages kept since the last call, by the bank's alert id (the
    /// `id` of the alert's [`AlertView`](crate::AlertView)).
    pub fn take_alert_stages(&self) -> HashMap<String, AlertStages> {
        lock(&self.inner.stages).take()
    }

    fn random_u32(&self) -> u32 {
        let mut b = [0u8; 4];
        // A failed random source only makes the jitter less random.
        let _ = self.inner.rng.fill(&mut b);
        u32::from_le_bytes(b)
    }
}
