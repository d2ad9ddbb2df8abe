//! What the desktop app needs from the client core, as plain functions over
//! serializable views (`docs/ipc.md`). The Tauri shell only forwards its
//! commands here: no SQL, crypto, keychain or network code lives in the
//! shell. The app can lock (dropping every key from memory) and unlock
//! (opening the store again from the keychain, behind an optional
//! passphrase).

use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use strongroom_core::protocol::jose::b64_encode;
use strongroom_core::text::neutralize;
use strongroom_core::{AccountId, Sensitive};
use strongroom_store::{Direction, FraudAnswer, Millis, SearchHit, Verification};
use strongroom_vault::Vault;
use tokio::sync::broadcast;
use unicode_normalization::UnicodeNormalization;

use crate::net::BankHttp;
use crate::service::{AlertView, Client, ClientEvent, PendingLink, lock, now_ms};
use crate::{ClientError, Device, ErrorReport, FraudAnswerValue};

/// How long the keychain may take to answer at start before the app says
/// so (it may be showing the desktop's unlock prompt).
const KEYCHAIN_TIMEOUT: Duration = Duration::from_secs(45);

/// PBKDF2 iterations for the app passphrase (OWASP 2023 for SHA-256).
const PASSPHRASE_ITERATIONS: u32 = 600_000;

fn report(code: &str, message: impl Into<String>) -> ErrorReport {
    ErrorReport {
        code: code.into(),
        message: message.into(),
    }
}

/// How much an OS notification may say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationPrivacy {
    /// The alert's text.
    Full,
    /// What kind of alert, without amounts or merchants.
    HideAmounts,
    /// Only that something arrived.
    Nothing,
}

/// The app's settings (not secret; kept as `settings.json` in the data
/// folder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// How much notifications say.
    pub notification_privacy: NotificationPrivacy,
    /// Lock after this many idle minutes; 0 never.
    pub auto_lock_minutes: u32,
    /// The first-run screen was completed.
    pub first_run_done: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            notification_privacy: NotificationPrivacy::HideAmounts,
            auto_lock_minutes: 10,
            first_run_done: false,
        }
    }
}

/// What the start screen needs.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Keychain ok and store open.
    pub ready: bool,
    /// The lock screen is up.
    pub locked: bool,
    /// Nothing linked and the first-run screen not done.
    pub first_run: bool,
    /// An app passphrase is set.
    pub passphrase_set: bool,
    /// Why not ready (keychain missing or locked, ...).
    pub error: Option<ErrorReport>,
    /// How many accounts are linked.
    pub linked_accounts: usize,
    /// The demo bank's issuer, when the app runs against one.
    pub demo_issuer: Option<String>,
    /// Damage the store found in the history at unlock (damaged rows,
    /// deleted or rolled-back rows, an older copy of the file), per account.
    /// Shown as a warning; the rest of the history stays readable.
    pub damage: Vec<crate::DamageReport>,
}

/// A link waiting for approval, as shown.
#[derive(Debug, Clone, Serialize)]
pub struct PendingLinkView {
    /// Handle for `link_finish` / `link_cancel`.
    pub link_id: String,
    /// The bank's name.
    pub bank_name: String,
    /// The bank's issuer URL.
    pub issuer: String,
    /// The code to confirm at the bank.
    pub user_code: String,
    /// Where to confirm it.
    pub verification_uri: String,
    /// The same with the code filled in.
    pub verification_uri_complete: Option<String>,
    /// When the code expires (ms).
    pub expires_at: Millis,
    /// Exactly what the bank will get, one sentence each.
    pub shares: Vec<String>,
}

/// The consent receipt of a completed link.
#[derive(Debug, Clone, Serialize)]
pub struct LinkReceipt {
    /// The new account's id.
    pub account: String,
    /// The bank's name.
    pub bank_name: String,
    /// The bank's issuer URL.
    pub issuer: String,
    /// When (ms).
    pub linked_at: Millis,
    /// What is shared with the bank.
    pub shares: Vec<String>,
}

/// A balance figure.
#[derive(Debug, Clone, Serialize)]
pub struct Balance {
    /// Minor units.
    pub minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// As of (ms).
    pub at: Millis,
}

/// One point of the balance chart.
#[derive(Debug, Clone, Serialize)]
pub struct BalancePoint {
    /// When (ms).
    pub at: Millis,
    /// Minor units.
    pub minor: i64,
}

/// A linked account, as shown on the home screen.
#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    /// The account id.
    pub id: String,
    /// The bank's name.
    pub bank_name: String,
    /// The bank's issuer URL.
    pub issuer: String,
    /// When linked (ms).
    pub linked_at: Millis,
    /// Pilot features switched on.
    pub flags: BTreeMap<String, bool>,
    /// The delivery stream is open.
    pub connected: bool,
    /// The latest balance the bank reported, if any.
    pub balance: Option<Balance>,
    /// Balance history, oldest first.
    pub balance_history: Vec<BalancePoint>,
    /// Alerts not yet seen in the app.
    pub unread: u32,
}

/// An alert in the feed.
#[derive(Debug, Clone, Serialize)]
pub struct AlertItem {
    /// The account.
    pub account: String,
    /// The bank's name.
    pub bank_name: String,
    /// The alert.
    #[serde(flatten)]
    pub alert: AlertView,
}

/// A chat message, as shown.
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    /// The stored message's id.
    pub id: i64,
    /// Who wrote it.
    pub direction: Direction,
    /// The author's name.
    pub author: String,
    /// The text (render as text).
    pub body: String,
    /// When sent (ms).
    pub sent_at: Millis,
    /// Delivery state.
    pub delivery: strongroom_store::Delivery,
}

/// A search result.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResult {
    /// `message` or `alert`.
    pub kind: &'static str,
    /// The account.
    pub account: String,
    /// The bank's name.
    pub bank_name: String,
    /// The matching text.
    pub text: String,
    /// When (ms).
    pub at: Millis,
    /// UTF-16 ranges of `text` that matched.
    pub highlights: Vec<(usize, usize)>,
    /// The bank's alert id, for alerts.
    pub alert_id: Option<String>,
}

/// One line of the privacy ledger.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerEntry {
    /// When (ms).
    pub at: Millis,
    /// With which bank.
    pub bank_name: String,
    /// What was shared.
    pub what: String,
}

/// A live event for the window (`docs/ipc.md`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A stream opened.
    Connected {
        /// The account.
        account: String,
    },
    /// A stream closed; retrying.
    Disconnected {
        /// The account.
        account: String,
        /// Why.
        reason: String,
        /// When the next try is.
        retry_in_ms: u64,
    },
    /// An alert was stored.
    Alert {
        /// The account.
        account: String,
        /// The alert.
        alert: Box<AlertItem>,
    },
    /// The conversation changed.
    Message {
        /// The account.
        account: String,
    },
    /// The bank stored a message the customer sent.
    ChatAccepted {
        /// The account.
        account: String,
        /// The message's idempotency key.
        client_id: String,
    },
    /// Pilot features changed.
    Flags {
        /// The account.
        account: String,
        /// The complete set.
        flags: BTreeMap<String, bool>,
    },
    /// The bank no longer accepts this device.
    LinkRevoked {
        /// The account.
        account: String,
    },
    /// A notification was clicked.
    OpenAlert {
        /// The account.
        account: String,
        /// The alert.
        alert_id: String,
    },
    /// The app locked itself.
    Locked,
    /// The number of unread alerts changed (the tray shows it).
    Unread {
        /// Unread alerts over all accounts.
        total: u32,
    },
    /// `strongroom://link?issuer=...` was opened.
    DeepLink {
        /// The bank to link.
        issuer: String,
    },
}

struct Online {
    client: Client,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

#[derive(Default)]
struct State {
    online: Option<Online>,
    passphrase_set: bool,
    error: Option<ErrorReport>,
    locked: bool,
    pending: HashMap<String, PendingLink>,
    cancelled: HashSet<String>,
    connected: HashSet<AccountId>,
    unread: HashMap<AccountId, u32>,
}

/// The desktop app's core: one per process.
pub struct AppCore {
    data_dir: PathBuf,
    vault: Vault,
    extra_ca: Option<PathBuf>,
    demo_issuer: Option<String>,
    state: Mutex<State>,
    live: broadcast::Sender<LiveEvent>,
    last_activity: Mutex<Instant>,
    rng: SystemRandom,
}

impl std::fmt::Debug for AppCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCore")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

fn account_id(text: &str) -> Result<AccountId, ErrorReport> {
    text.parse()
        .map_err(|_| report("not_linked", format!("no linked account {text:?}")))
}

impl AppCore {
    /// The app's core over `data_dir` and `vault`. `extra_ca` is trusted
    /// besides the system roots (pilots, the demo bank). Nothing is opened
    /// yet: call [`AppCore::open`].
    pub fn new(
        data_dir: PathBuf,
        vault: Vault,
        extra_ca: Option<PathBuf>,
        demo_issuer: Option<String>,
    ) -> Arc<Self> {
        let (live, _) = broadcast::channel(1024);
        Arc::new(AppCore {
            data_dir,
            vault,
            extra_ca,
            demo_issuer,
            state: Mutex::new(State::default()),
            live,
            last_activity: Mutex::new(Instant::now()),
            rng: SystemRandom::new(),
        })
    }

    /// Opens the device and goes online in the background, unless a
    /// passphrase is set (then the app starts locked). Must run inside the
    /// tokio runtime. Until the keychain answers, [`AppCore::status`] says
    /// not ready without an error; failures (keychain missing, locked, or
    /// silent) are kept for it.
    pub fn open(self: &Arc<Self>) {
        let core = self.clone();
        tokio::spawn(async move {
            let vault = core.vault.clone();
            let probe = tokio::task::spawn_blocking(move || vault.passphrase_verifier());
            match tokio::time::timeout(KEYCHAIN_TIMEOUT, probe).await {
                Ok(Ok(Ok(Some(_)))) => {
                    let mut state = lock(&core.state);
                    state.passphrase_set = true;
                    state.locked = true;
                }
                Ok(Ok(Ok(None))) => {
                    let _ = core.go_online().await;
                }
                Ok(Ok(Err(err))) => {
                    lock(&core.state).error = Some(ErrorReport::from(&ClientError::from(err)));
                }
                Ok(Err(_)) | Err(_) => lock(&core.state).error = Some(keychain_silent()),
            }
        });
        self.start_auto_lock();
    }

    async fn go_online(self: &Arc<Self>) -> Result<(), ErrorReport> {
        let (data_dir, vault) = (self.data_dir.clone(), self.vault.clone());
        let opened = tokio::time::timeout(
            KEYCHAIN_TIMEOUT,
            tokio::task::spawn_blocking(move || Device::open(&data_dir, vault)),
        )
        .await;
        let device = match opened {
            Ok(Ok(Ok(device))) => device,
            Ok(Ok(Err(err))) => {
                let r = ErrorReport::from(&err);
                lock(&self.state).error = Some(r.clone());
                return Err(r);
            }
            Ok(Err(_)) | Err(_) => {
                let r = keychain_silent();
                lock(&self.state).error = Some(r.clone());
                return Err(r);
            }
        };
        let http = BankHttp::new(self.extra_ca.as_deref()).map_err(|e| ErrorReport::from(&e))?;
        let client = Client::new(device, http);
        let mut tasks = client.run_all().map_err(|e| ErrorReport::from(&e))?;
        tasks.push(self.forward(client.subscribe()));
        let mut state = lock(&self.state);
        state.error = None;
        state.locked = false;
        state.online = Some(Online { client, tasks });
        Ok(())
    }

    fn forward(
        self: &Arc<Self>,
        mut events: broadcast::Receiver<ClientEvent>,
    ) -> tokio::task::JoinHandle<()> {
        let core = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let event = match events.recv().await {
                    Ok(event) => event,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return,
                };
                let Some(core) = core.upgrade() else { return };
                if let Some(live) = core.to_live(event) {
                    let _ = core.live.send(live);
                }
            }
        })
    }

    fn bank_name(&self, account: AccountId) -> String {
        self.client()
            .ok()
            .and_then(|c| c.accounts().ok())
            .and_then(|a| a.into_iter().find(|x| x.id == account))
            .map(|a| a.bank_name)
            .unwrap_or_default()
    }

    fn to_live(&self, event: ClientEvent) -> Option<LiveEvent> {
        Some(match event {
            ClientEvent::Connected { account } => {
                lock(&self.state).connected.insert(account);
                LiveEvent::Connected {
                    account: account.to_string(),
                }
            }
            ClientEvent::Disconnected {
                account,
                reason,
                retry_in_ms,
            } => {
                lock(&self.state).connected.remove(&account);
                LiveEvent::Disconnected {
                    account: account.to_string(),
                    reason,
                    retry_in_ms,
                }
            }
            ClientEvent::Alert { account, alert } => {
                *lock(&self.state).unread.entry(account).or_default() += 1;
                LiveEvent::Alert {
                    account: account.to_string(),
                    alert: Box::new(AlertItem {
                        account: account.to_string(),
                        bank_name: self.bank_name(account),
                        alert,
                    }),
                }
            }
            ClientEvent::Message { account, .. } => LiveEvent::Message {
                account: account.to_string(),
            },
            ClientEvent::ChatAccepted { account, client_id } => LiveEvent::ChatAccepted {
                account: account.to_string(),
                client_id,
            },
            ClientEvent::Flags { account, flags } => LiveEvent::Flags {
                account: account.to_string(),
                flags,
            },
            ClientEvent::LinkRevoked { account } => LiveEvent::LinkRevoked {
                account: account.to_string(),
            },
            ClientEvent::KeysRotated { .. } | ClientEvent::Committed { .. } => return None,
        })
    }

    /// Live events for the window.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.live.subscribe()
    }

    /// Sends an event to the window (notification clicks, deep links).
    pub fn announce(&self, event: LiveEvent) {
        let _ = self.live.send(event);
    }

    /// Records user activity, for the auto-lock.
    pub fn touch(&self) {
        *lock(&self.last_activity) = Instant::now();
    }

    fn start_auto_lock(self: &Arc<Self>) {
        let core = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(15)).await;
                let Some(core) = core.upgrade() else { return };
                let minutes = core.settings().auto_lock_minutes;
                let idle = lock(&core.last_activity).elapsed();
                let online = lock(&core.state).online.is_some();
                if minutes > 0 && online && idle >= Duration::from_secs(u64::from(minutes) * 60) {
                    core.lock_now();
                    core.announce(LiveEvent::Locked);
                }
            }
        });
    }

    fn client(&self) -> Result<Client, ErrorReport> {
        let state = lock(&self.state);
        if state.locked {
            return Err(report("locked", "Strongroom is locked."));
        }
        match &state.online {
            Some(online) => Ok(online.client.clone()),
            None => Err(state.error.clone().unwrap_or_else(|| {
                report("not_ready", "Strongroom is still starting; try again.")
            })),
        }
    }

    // ---- settings and status ------------------------------------------------

    fn settings_path(&self) -> PathBuf {
        self.data_dir.join("settings.json")
    }

    /// The settings (defaults when none are saved or the file is damaged).
    pub fn settings(&self) -> Settings {
        std::fs::read(self.settings_path())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Saves the settings.
    ///
    /// # Errors
    /// `settings` when the file cannot be written.
    pub fn save_settings(&self, settings: &Settings) -> Result<Settings, ErrorReport> {
        let bytes =
            serde_json::to_vec_pretty(settings).map_err(|e| report("settings", e.to_string()))?;
        std::fs::create_dir_all(&self.data_dir)
            .and_then(|()| {
                let tmp = self.data_dir.join("settings.json.tmp");
                std::fs::write(&tmp, bytes)?;
                std::fs::rename(tmp, self.settings_path())
            })
            .map_err(|e| report("settings", format!("cannot save the settings: {e}")))?;
        Ok(settings.clone())
    }

    /// Where the app stands.
    pub fn status(&self) -> Status {
        let passphrase_set = lock(&self.state).passphrase_set;
        let linked = self
            .client()
            .ok()
            .and_then(|c| c.accounts().ok())
            .map_or(0, |a| a.len());
        let damage = self
            .client()
            .map(|c| c.with_device(|d| d.damage()))
            .unwrap_or_default();
        let state = lock(&self.state);
        Status {
            ready: state.online.is_some() && state.error.is_none(),
            locked: state.locked,
            first_run: linked == 0 && !self.settings().first_run_done,
            passphrase_set,
            error: state.error.clone(),
            linked_accounts: linked,
            demo_issuer: self.demo_issuer.clone(),
            damage,
        }
    }

    /// Retries opening after a keychain problem was fixed.
    ///
    /// # Errors
    /// The same problem, if it is still there.
    pub async fn retry(self: &Arc<Self>) -> Result<Status, ErrorReport> {
        if lock(&self.state).online.is_none() && !lock(&self.state).locked {
            lock(&self.state).error = None;
            self.go_online().await?;
        }
        Ok(self.status())
    }

    // ---- lock -----------------------------------------------------------------

    /// Locks: stops the streams and drops the store, so every key leaves
    /// memory (they are zeroized on drop where ring allows).
    pub fn lock_now(&self) {
        let online = {
            let mut state = lock(&self.state);
            state.locked = true;
            state.pending.clear();
            state.connected.clear();
            state.online.take()
        };
        if let Some(online) = online {
            for task in online.tasks {
                task.abort();
            }
        }
    }

    /// Unlocks with the passphrase (when one is set) and goes online.
    ///
    /// # Errors
    /// `wrong_passphrase`, or a keychain or store error.
    pub async fn unlock(self: &Arc<Self>, passphrase: Option<&str>) -> Result<Status, ErrorReport> {
        let verifier = self
            .vault
            .passphrase_verifier()
            .map_err(|e| ErrorReport::from(&ClientError::from(e)))?;
        if let Some(verifier) = verifier {
            let ok = passphrase.is_some_and(|p| check_passphrase(verifier.expose(), p));
            if !ok {
                return Err(report(
                    "wrong_passphrase",
                    "That passphrase is not the one set for Strongroom.",
                ));
            }
        }
        if lock(&self.state).online.is_none() {
            self.go_online().await?;
        }
        self.touch();
        Ok(self.status())
    }

    /// Sets, changes or (with `next` = `None`) removes the app passphrase.
    ///
    /// # Errors
    /// `wrong_passphrase` when `current` does not match, `weak_passphrase`
    /// under 8 characters, or a keychain error.
    pub fn set_passphrase(
        &self,
        current: Option<&str>,
        next: Option<&str>,
    ) -> Result<(), ErrorReport> {
        let keychain = |e: strongroom_vault::VaultError| ErrorReport::from(&ClientError::from(e));
        if let Some(verifier) = self.vault.passphrase_verifier().map_err(keychain)?
            && !current.is_some_and(|c| check_passphrase(verifier.expose(), c))
        {
            return Err(report(
                "wrong_passphrase",
                "The current passphrase is not right.",
            ));
        }
        let result = match next {
            None => self.vault.put_passphrase_verifier(None).map_err(keychain),
            Some(p) if p.chars().count() < 8 => Err(report(
                "weak_passphrase",
                "Use at least 8 characters for the passphrase.",
            )),
            Some(p) => {
                let verifier = make_verifier(p, &self.rng)?;
                self.vault
                    .put_passphrase_verifier(Some(&verifier))
                    .map_err(keychain)
            }
        };
        if result.is_ok() {
            lock(&self.state).passphrase_set = next.is_some();
        }
        result
    }

    // ---- linking ------------------------------------------------------------

    /// What a link shares with the bank, one sentence each.
    fn shares(bank: &str) -> Vec<String> {
        vec![
            format!(
                "{bank} learns that you use Strongroom on this device, and this device's public key."
            ),
            format!("{bank} can send this device alerts about your accounts (scope: alerts)."),
            format!("You and {bank}'s staff can chat; {bank} keeps what you send (scope: chat)."),
            format!("Your answers to fraud checks go to {bank}, bound to this device."),
            "Nothing else: no contacts, no location, no other banks, no analytics.".to_owned(),
        ]
    }

    /// Starts linking the bank at `issuer`.
    ///
    /// # Errors
    /// The client's error as `{code, message}`.
    pub async fn link_start(&self, issuer: &str) -> Result<PendingLinkView, ErrorReport> {
        self.touch();
        let client = self.client()?;
        let pending = client
            .start_link(issuer.trim())
            .await
            .map_err(|e| ErrorReport::from(&e))?;
        let mut id = [0u8; 12];
        self.rng
            .fill(&mut id)
            .map_err(|_| report("random", "no randomness"))?;
        let link_id = b64_encode(&id);
        let view = PendingLinkView {
            link_id: link_id.clone(),
            bank_name: pending.bank_name(),
            issuer: issuer.trim().trim_end_matches('/').to_owned(),
            user_code: pending.user_code().to_owned(),
            verification_uri: pending.verification_uri().to_owned(),
            verification_uri_complete: pending.verification_uri_complete().map(str::to_owned),
            expires_at: now_ms() + 600_000,
            shares: Self::shares(&pending.bank_name()),
        };
        lock(&self.state).pending.insert(link_id, pending);
        Ok(view)
    }

    /// Waits for the customer's approval of a started link and records it.
    ///
    /// # Errors
    /// `link_denied`, `link_expired`, `link_cancelled`, or another error.
    pub async fn link_finish(self: &Arc<Self>, link_id: &str) -> Result<LinkReceipt, ErrorReport> {
        let client = self.client()?;
        let pending = lock(&self.state)
            .pending
            .remove(link_id)
            .ok_or_else(|| report("link_cancelled", "This link was cancelled."))?;
        let bank = pending.bank_name();
        let finish = client.finish_link(pending);
        let core = self.clone();
        let id = link_id.to_owned();
        let cancelled = async move {
            loop {
                tokio::time::sleep(Duration::from_millis(300)).await;
                if lock(&core.state).cancelled.remove(&id) {
                    return;
                }
            }
        };
        let account = tokio::select! {
            result = finish => result.map_err(|e| ErrorReport::from(&e))?,
            () = cancelled => return Err(report("link_cancelled", "The link was cancelled.")),
        };
        let summary = client
            .accounts()
            .map_err(|e| ErrorReport::from(&e))?
            .into_iter()
            .find(|a| a.id == account)
            .ok_or_else(|| report("not_linked", "the new account is missing"))?;
        // Start its stream now.
        let task = {
            let client = client.clone();
            tokio::spawn(async move { client.run_account(account).await })
        };
        if let Some(online) = lock(&self.state).online.as_mut() {
            online.tasks.push(task);
        }
        Ok(LinkReceipt {
            account: account.to_string(),
            bank_name: bank.clone(),
            issuer: summary.issuer,
            linked_at: summary.linked_at,
            shares: Self::shares(&bank),
        })
    }

    /// Cancels a started link.
    pub fn link_cancel(&self, link_id: &str) {
        let mut state = lock(&self.state);
        state.pending.remove(link_id);
        state.cancelled.insert(link_id.to_owned());
    }

    // ---- reading ------------------------------------------------------------

    /// The linked accounts.
    ///
    /// # Errors
    /// A store error.
    pub fn accounts(&self) -> Result<Vec<AccountView>, ErrorReport> {
        self.touch();
        let client = self.client()?;
        let accounts = client.accounts().map_err(|e| ErrorReport::from(&e))?;
        let mut out = Vec::new();
        for a in accounts {
            let alerts = client.alerts(a.id, 500).unwrap_or_default();
            let mut history: Vec<BalancePoint> = Vec::new();
            let mut balance = None;
            for alert in alerts.iter().filter(|x| x.verified) {
                if let (Some(minor), Some(currency)) = (alert.balance_minor, &alert.currency) {
                    if balance.is_none() {
                        balance = Some(Balance {
                            minor,
                            currency: currency.clone(),
                            at: alert.issued_at,
                        });
                    }
                    history.push(BalancePoint {
                        at: alert.issued_at,
                        minor,
                    });
                }
            }
            history.reverse();
            let state = lock(&self.state);
            out.push(AccountView {
                id: a.id.to_string(),
                bank_name: a.bank_name,
                issuer: a.issuer,
                linked_at: a.linked_at,
                flags: a.flags,
                connected: state.connected.contains(&a.id),
                balance,
                balance_history: history,
                unread: state.unread.get(&a.id).copied().unwrap_or(0),
            });
        }
        Ok(out)
    }

    /// The alert feed, newest first, of one account or all. Reading it
    /// marks the alerts seen.
    ///
    /// # Errors
    /// A store error.
    pub fn alerts(
        &self,
        account: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AlertItem>, ErrorReport> {
        self.touch();
        let client = self.client()?;
        let accounts = client.accounts().map_err(|e| ErrorReport::from(&e))?;
        let wanted = account.map(account_id).transpose()?;
        let mut out = Vec::new();
        // Showing alerts marks them read.
        let mut seen = false;
        for a in accounts
            .into_iter()
            .filter(|a| wanted.is_none_or(|w| w == a.id))
        {
            for alert in client
                .alerts(a.id, limit.min(1000))
                .map_err(|e| ErrorReport::from(&e))?
            {
                out.push(AlertItem {
                    account: a.id.to_string(),
                    bank_name: a.bank_name.clone(),
                    alert,
                });
            }
            if lock(&self.state)
                .unread
                .remove(&a.id)
                .is_some_and(|n| n > 0)
            {
                seen = true;
            }
        }
        if seen {
            self.announce(LiveEvent::Unread {
                total: self.unread_total(),
            });
        }
        out.sort_by_key(|x| std::cmp::Reverse(x.alert.issued_at));
        out.truncate(limit);
        Ok(out)
    }

    /// Unread alerts over all accounts, for the tray.
    pub fn unread_total(&self) -> u32 {
        lock(&self.state).unread.values().sum()
    }

    /// A conversation, oldest first.
    ///
    /// # Errors
    /// A store error.
    pub fn conversation(
        &self,
        account: &str,
        limit: usize,
    ) -> Result<Vec<MessageView>, ErrorReport> {
        self.touch();
        let account = account_id(account)?;
        let client = self.client()?;
        client.with_device(|d| {
            let link = d
                .store()
                .bank_link(account)
                .map_err(|e| ErrorReport::from(&ClientError::from(e)))?
                .ok_or_else(|| report("not_linked", "no such account"))?;
            let page = d
                .store()
                .latest_messages(link.conversation, limit.clamp(1, 500))
                .map_err(|e| ErrorReport::from(&ClientError::from(e)))?;
            Ok(page
                .items
                .into_iter()
                .rev()
                .map(|m| MessageView {
                    id: m.id.0,
                    direction: m.direction,
                    author: neutralize(&m.author).into_owned(),
                    body: neutralize(&m.body).into_owned(),
                    sent_at: m.sent_at,
                    delivery: m.delivery,
                })
                .collect())
        })
    }

    /// Searches messages and alerts, newest first, with highlight ranges.
    ///
    /// # Errors
    /// A store error.
    pub fn search(&self, query: &str) -> Result<Vec<SearchResult>, ErrorReport> {
        self.touch();
        let client = self.client()?;
        let names: HashMap<AccountId, String> = client
            .accounts()
            .map_err(|e| ErrorReport::from(&e))?
            .into_iter()
            .map(|a| (a.id, a.bank_name))
            .collect();
        client.with_device(|d| {
            // The first search after an unlock builds the index (about
            // 0.6 s per 100,000 messages); the window shows it searching.
            let hits = d
                .store()
                .search(query, 100)
                .map_err(|e| ErrorReport::from(&ClientError::from(e)))?;
            let mut out = Vec::new();
            for hit in hits {
                match hit {
                    SearchHit::Message(id) => {
                        let Ok(m) = d.store().message(id) else {
                            continue;
                        };
                        let text = neutralize(&m.body).into_owned();
                        out.push(SearchResult {
                            kind: "message",
                            account: m.account.to_string(),
                            bank_name: names.get(&m.account).cloned().unwrap_or_default(),
                            highlights: highlights(&text, query),
                            text,
                            at: m.sent_at,
                            alert_id: None,
                        });
                    }
                    SearchHit::Alert(id) => {
                        let Ok(a) = d.store().alert(id) else { continue };
                        if !matches!(a.details.verification, Verification::Verified { .. }) {
                            continue;
                        }
                        let text = neutralize(&a.details.text).into_owned();
                        out.push(SearchResult {
                            kind: "alert",
                            account: a.account.to_string(),
                            bank_name: names.get(&a.account).cloned().unwrap_or_default(),
                            highlights: highlights(&text, query),
                            text,
                            at: a.issued_at,
                            alert_id: Some(crate::service::alert_jti(&a.raw_jws)),
                        });
                    }
                }
            }
            out.sort_by_key(|x| std::cmp::Reverse(x.at));
            Ok(out)
        })
    }

    /// What was shared with which bank and when, newest first.
    ///
    /// # Errors
    /// A store error.
    pub fn privacy_ledger(&self) -> Result<Vec<LedgerEntry>, ErrorReport> {
        self.touch();
        let client = self.client()?;
        let mut out = Vec::new();
        for a in client.accounts().map_err(|e| ErrorReport::from(&e))? {
            out.push(LedgerEntry {
                at: a.linked_at,
                bank_name: a.bank_name.clone(),
                what: "Linked this device: its public key, and consent to alerts and chat.".into(),
            });
            for alert in client.alerts(a.id, 1000).unwrap_or_default() {
                if let Some(answer) = alert.answer {
                    let what = match answer {
                        FraudAnswer::ThisWasMe => "this was me",
                        FraudAnswer::NotMe => "this wasn't me",
                    };
                    out.push(LedgerEntry {
                        at: alert.answered_at.unwrap_or(alert.issued_at),
                        bank_name: a.bank_name.clone(),
                        what: format!("Your answer to a fraud check: {what}."),
                    });
                }
            }
            let sent = self
                .conversation(&a.id.to_string(), 500)
                .unwrap_or_default();
            for m in sent
                .into_iter()
                .filter(|m| m.direction == Direction::Outgoing)
            {
                out.push(LedgerEntry {
                    at: m.sent_at,
                    bank_name: a.bank_name.clone(),
                    what: format!("A chat message ({} characters).", m.body.chars().count()),
                });
            }
        }
        out.sort_by_key(|x| std::cmp::Reverse(x.at));
        Ok(out)
    }

    // ---- acting -------------------------------------------------------------

    /// Answers a fraud check.
    ///
    /// # Errors
    /// The client's error.
    pub async fn answer_fraud_check(
        &self,
        account: &str,
        alert_id: &str,
        answer: &str,
    ) -> Result<(), ErrorReport> {
        self.touch();
        let answer = match answer {
            "me" => FraudAnswerValue::Me,
            "not_me" => FraudAnswerValue::NotMe,
            _ => return Err(report("bad_answer", "answer `me` or `not_me`")),
        };
        let account = account_id(account)?;
        self.client()?
            .answer_fraud_check(account, alert_id, answer)
            .await
            .map_err(|e| ErrorReport::from(&e))
    }

    /// Queues a chat message.
    ///
    /// # Errors
    /// The client's error.
    pub fn send_chat(&self, account: &str, body: &str) -> Result<String, ErrorReport> {
        self.touch();
        let account = account_id(account)?;
        self.client()?
            .send_chat(account, body)
            .map_err(|e| ErrorReport::from(&e))
    }

    /// Unlinks: revokes at the bank and erases here.
    ///
    /// # Errors
    /// The client's error.
    pub async fn unlink(&self, account: &str) -> Result<bool, ErrorReport> {
        self.touch();
        let account = account_id(account)?;
        let revoked = self
            .client()?
            .unlink(account)
            .await
            .map_err(|e| ErrorReport::from(&e))?;
        let mut state = lock(&self.state);
        state.unread.remove(&account);
        state.connected.remove(&account);
        Ok(revoked)
    }

    /// Writes the account's signed alerts and the chain of the bank's keys
    /// since link time to a new owner-only JSON file in the Downloads
    /// folder, for checking elsewhere (`strongroom-cli verify-transcript`).
    ///
    /// # Errors
    /// A keychain, store or file error.
    pub fn export_transcript(&self, account: &str) -> Result<PathBuf, ErrorReport> {
        self.touch();
        let account = account_id(account)?;
        let client = self.client()?;
        let transcript = client
            .transcript(account)
            .map_err(|e| ErrorReport::from(&e))?;
        // A new file, owner-only: a transcript names the customer and their
        // transactions.
        crate::transcript::export_to_folder(&downloads_dir(), account, &transcript)
            .map_err(|e| ErrorReport::from(&e))
    }

    /// The notification for a live event under the privacy setting, as
    /// `(title, body, account, alert id)`; `None` for events that do not
    /// notify. Quarantined alerts never notify as the bank's.
    pub fn notification_for(&self, event: &LiveEvent) -> Option<(String, String)> {
        let LiveEvent::Alert { alert, .. } = event else {
            return None;
        };
        let privacy = self.settings().notification_privacy;
        if !alert.alert.verified {
            return Some((
                "Strongroom".into(),
                "An alert failed verification and was quarantined.".into(),
            ));
        }
        Some(match privacy {
            NotificationPrivacy::Nothing => ("Strongroom".into(), "New activity".into()),
            NotificationPrivacy::HideAmounts => (
                alert.bank_name.clone(),
                kind_label(&alert.alert.kind).to_owned(),
            ),
            NotificationPrivacy::Full => (alert.bank_name.clone(), alert.alert.text.clone()),
        })
    }
}

fn keychain_silent() -> ErrorReport {
    report(
        "keychain_timeout",
        format!(
            "The system keychain did not answer within {} seconds. It may be locked and waiting \
             for you to unlock it, or its service may be stuck. Unlock your keyring (on GNOME: \
             Passwords and Keys; on KDE: KWallet), or log out and in again, then choose Retry. \
             Nothing was written.",
            KEYCHAIN_TIMEOUT.as_secs()
        ),
    )
}

/// The words for an alert kind, without any amount or merchant.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "purchase" => "Card purchase",
        "card_not_present" => "Online or phone purchase",
        "foreign_transaction" => "Transaction abroad",
        "declined" => "Declined transaction",
        "balance_low" => "Low balance",
        "deposit_received" => "Money in",
        "payment_due" => "Payment due",
        "new_device_sign_in" => "New device signed in",
        "security_detail_changed" => "Security details changed",
        "fraud_check" => "Please confirm a transaction",
        _ => "Message from your bank",
    }
}

fn downloads_dir() -> PathBuf {
    // XDG user-dirs, else ~/Downloads.
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map_or_else(|| home.join(".config"), PathBuf::from)
        .join("user-dirs.dirs");
    if let Ok(text) = std::fs::read_to_string(config) {
        for line in text.lines() {
            if let Some(value) = line.strip_prefix("XDG_DOWNLOAD_DIR=") {
                let value = value
                    .trim_matches('"')
                    .replace("$HOME", &home.to_string_lossy());
                return PathBuf::from(value);
            }
        }
    }
    home.join("Downloads")
}

fn make_verifier(passphrase: &str, rng: &SystemRandom) -> Result<Sensitive<Vec<u8>>, ErrorReport> {
    let mut salt = [0u8; 16];
    rng.fill(&mut salt)
        .map_err(|_| report("random", "no randomness"))?;
    let mut out = [0u8; 32];
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        NonZeroU32::new(PASSPHRASE_ITERATIONS).unwrap_or(NonZeroU32::MIN),
        &salt,
        passphrase.as_bytes(),
        &mut out,
    );
    let mut verifier = salt.to_vec();
    verifier.extend_from_slice(&out);
    Ok(Sensitive::new(verifier))
}

fn check_passphrase(verifier: &[u8], passphrase: &str) -> bool {
    if verifier.len() != 48 {
        return false;
    }
    let (salt, expected) = verifier.split_at(16);
    ring::pbkdf2::verify(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        NonZeroU32::new(PASSPHRASE_ITERATIONS).unwrap_or(NonZeroU32::MIN),
        salt,
        passphrase.as_bytes(),
        expected,
    )
    .is_ok()
}

/// Folds text for matching like the store's index: compatibility
/// decomposition, marks dropped, lower case.
fn fold_char(c: char) -> String {
    c.to_string()
        .nfkd()
        .filter(|ch| !unicode_normalization::char::is_combining_mark(*ch))
        .flat_map(char::to_lowercase)
        .collect()
}

/// UTF-16 ranges of `text` where a query word starts a word (the store's
/// search matches word prefixes, case- and accent-insensitively).
pub fn highlights(text: &str, query: &str) -> Vec<(usize, usize)> {
    // folded chars, each with the UTF-16 span of the source char
    let mut folded: Vec<(char, usize, usize)> = Vec::new();
    let mut at = 0usize;
    for c in text.chars() {
        let width = c.len_utf16();
        for f in fold_char(c).chars() {
            folded.push((f, at, at + width));
        }
        at += width;
    }
    let words: Vec<Vec<char>> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.chars()
                .flat_map(|c| fold_char(c).chars().collect::<Vec<_>>())
                .collect()
        })
        .collect();
    let mut ranges = Vec::new();
    for word in &words {
        if word.is_empty() {
            continue;
        }
        for start in 0..folded.len() {
            let at_word_start = start == 0 || !folded[start - 1].0.is_alphanumeric();
            if !at_word_start || start + word.len() > folded.len() {
                continue;
            }
            if folded[start..start + word.len()]
                .iter()
                .zip(word)
                .all(|(f, w)| f.0 == *w)
            {
                ranges.push((folded[start].1, folded[start + word.len() - 1].2));
            }
        }
    }
    ranges.sort_unstable();
    // Merge overlaps so the UI can split the text once.
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in ranges {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

// Transcripts live in `crate::transcript`; these names stay for callers
// that knew them here.
pub use crate::transcript::{TRANSCRIPT_FORMAT, Transcript, TranscriptCheck, verify_transcript};

/// Where the desktop app (Tauri's app data folder for its identifier) and
/// `strongroom-cli` keep their data when nothing overrides it.
pub fn default_data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("app.strongroom.desktop")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_find_word_prefixes_across_case_and_accents() {
        let text = "Café purchase at CAFÉ Dépôt, not decafe";
        let ranges = highlights(text, "cafe");
        assert_eq!(ranges, vec![(0, 4), (17, 21)]);
        assert_eq!(highlights("Électro Dépôt", "depot"), vec![(8, 13)]);
        // UTF-16 offsets past a non-BMP character.
        assert_eq!(highlights("💳 card", "card"), vec![(3, 7)]);
        assert!(highlights("nothing here", "zzz").is_empty());
    }

    #[test]
    fn the_passphrase_verifier_accepts_only_the_passphrase() {
        let v = make_verifier("correct horse", &SystemRandom::new()).unwrap();
        assert!(check_passphrase(v.expose(), "correct horse"));
        assert!(!check_passphrase(v.expose(), "correct horsE"));
        assert!(!check_passphrase(&v.expose()[..40], "correct horse"));
    }

    #[test]
    fn hidden_amounts_never_reach_a_notification() {
        assert!(!kind_label("purchase").chars().any(|c| c.is_ascii_digit()));
    }

    /// `Status.damage` as the window reads it (ui/src/ipc/types.ts:
    /// `DamageReport`, `ScopeMismatch`, `Alarm`): a serde attribute changed
    /// here must change the UI's types with it.
    #[test]
    fn damage_reaches_the_window_in_the_shape_the_ui_types_say() {
        use strongroom_store::{Alarm, ConversationId, ScopeMismatch};
        let report = crate::DamageReport {
            account: "00000000000000a1".into(),
            damaged_rows: 2,
            damaged_messages: 1,
            damaged_alerts: 1,
            scopes: vec![ScopeMismatch {
                table: "messages",
                conversation: Some(ConversationId(3)),
                recorded_rows: 5,
                found_rows: 4,
            }],
            alarms: vec![
                Alarm::RolledBack {
                    anchored: 9,
                    found: 7,
                },
                Alarm::HeadForged,
                Alarm::HeadMissing,
            ],
        };
        assert_eq!(
            serde_json::to_value(&report).unwrap(),
            serde_json::json!({
                "account": "00000000000000a1",
                "damaged_rows": 2,
                "damaged_messages": 1,
                "damaged_alerts": 1,
                "scopes": [{"table": "messages", "conversation": 3, "recorded_rows": 5, "found_rows": 4}],
                "alarms": [{"RolledBack": {"anchored": 9, "found": 7}}, "HeadForged", "HeadMissing"],
            })
        );
    }
}

/// The bank to link from a `strongroom://link?issuer=<https URL>` deep link;
/// `None` for anything else (a link can only start linking, which the
/// customer then confirms on the consent screen).
pub fn parse_deep_link(url: &str) -> Option<String> {
    let query = url.strip_prefix("strongroom://link?")?;
    for pair in query.split('&') {
        if let Some(value) = pair.strip_prefix("issuer=") {
            let issuer = percent_decode(value)?;
            return crate::net::require_secure(&issuer, "https")
                .ok()
                .map(|()| issuer);
        }
    }
    None
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod deep_link_tests {
    use super::parse_deep_link;

    #[test]
    fn only_https_issuers_come_from_a_deep_link() {
        assert_eq!(
            parse_deep_link("strongroom://link?issuer=https%3A%2F%2Fbank.example"),
            Some("https://bank.example".into())
        );
        assert_eq!(
            parse_deep_link("strongroom://link?issuer=http%3A%2F%2Fevil"),
            None
        );
        assert_eq!(parse_deep_link("strongroom://pay?to=x"), None);
        assert_eq!(parse_deep_link("strongroom://link?issuer=%zz"), None);
    }
}
