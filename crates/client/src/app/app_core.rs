//! The app's core: one per process. It owns the lock state, the connected
//! client while unlocked, and the channel of live events; the other rooms
//! of `app` add its commands.

use ring::rand::SystemRandom;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use strongroom_core::AccountId;
use strongroom_vault::Vault;
use tokio::sync::broadcast;

use super::error::AppError;
use super::views::{AlertItem, LiveEvent, Settings, Status};
use crate::device::Device;
use crate::error::ErrorReport;
use crate::net::BankHttp;
use crate::service::{Client, ClientEvent, PendingLink, lock};

/// How long the keychain may take to answer at start before the app says
/// so (it may be showing the desktop's unlock prompt).
pub(super) const KEYCHAIN_TIMEOUT: Duration = Duration::from_secs(45);

/// The connected client and the tasks serving it, while unlocked.
pub(super) struct Online {
    pub(super) client: Client,
    pub(super) tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// What the app holds between commands.
#[derive(Default)]
pub(super) struct State {
    pub(super) online: Option<Online>,
    pub(super) passphrase_set: bool,
    pub(super) error: Option<ErrorReport>,
    pub(super) locked: bool,
    pub(super) pending: HashMap<String, PendingLink>,
    pub(super) cancelled: HashSet<String>,
    pub(super) connected: HashSet<AccountId>,
    pub(super) unread: HashMap<AccountId, u32>,
    /// Fraud checks waiting for an answer, for the tray.
    pub(super) open_checks: super::checks::OpenChecks,
    /// Each bank's balance and history, for the home screen.
    pub(super) balances: super::balances::Balances,
    /// Each account's bank name, for the live events: read once off the
    /// async workers when going online, not from the store per event.
    pub(super) bank_names: HashMap<AccountId, String>,
}

/// The desktop app's core: one per process.
pub struct AppCore {
    data_dir: PathBuf,
    pub(super) vault: Vault,
    extra_ca: Option<PathBuf>,
    demo_issuers: Vec<String>,
    pub(super) state: Mutex<State>,
    live: broadcast::Sender<LiveEvent>,
    last_activity: Mutex<Instant>,
    pub(super) rng: SystemRandom,
}

impl std::fmt::Debug for AppCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCore")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

/// The account a command names, parsed from the id the window holds.
pub(super) fn account_id(text: &str) -> Result<AccountId, AppError> {
    text.parse()
        .map_err(|_| AppError::UnknownAccount(text.to_owned()))
}

impl AppCore {
    /// The app's core over `data_dir` and `vault`. `extra_ca` is trusted
    /// besides the system roots (pilots, the demo bank). Nothing is opened
    /// yet: call [`AppCore::open`].
    pub fn new(
        data_dir: PathBuf,
        vault: Vault,
        extra_ca: Option<PathBuf>,
        demo_issuers: Vec<String>,
    ) -> Arc<Self> {
        let (live, _) = broadcast::channel(1024);
        Arc::new(AppCore {
            data_dir,
            vault,
            extra_ca,
            demo_issuers,
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
                    core.opening_failed(err.into());
                }
                Ok(Err(_)) | Err(_) => {
                    core.opening_failed(keychain_silent());
                }
            }
        });
        self.start_auto_lock();
    }

    /// Keeps why opening failed, for [`AppCore::status`] and every command
    /// until a retry succeeds.
    fn opening_failed(&self, err: AppError) -> AppError {
        lock(&self.state).error = Some(err.report());
        err
    }

    /// Opens the device from the keychain and starts every account's
    /// delivery stream.
    pub(super) async fn go_online(self: &Arc<Self>) -> Result<(), AppError> {
        let (data_dir, vault) = (self.data_dir.clone(), self.vault.clone());
        let opened = tokio::time::timeout(
            KEYCHAIN_TIMEOUT,
            tokio::task::spawn_blocking(move || Device::open(&data_dir, vault)),
        )
        .await;
        let device = match opened {
            Ok(Ok(Ok(device))) => device,
            Ok(Ok(Err(err))) => return Err(self.opening_failed(err.into())),
            Ok(Err(_)) | Err(_) => return Err(self.opening_failed(keychain_silent())),
        };
        // The system's CA files are read and parsed: off the workers too.
        let extra_ca = self.extra_ca.clone();
        let http = tokio::task::spawn_blocking(move || BankHttp::new(extra_ca.as_deref()))
            .await
            .map_err(|_| self.opening_failed(keychain_silent()))??;
        let client = Client::new(device, http);
        // Store reads, off the async workers; merged, so that an alert
        // the streams delivered meanwhile is not lost from the count.
        let reader = client.clone();
        let (open_checks, balances, names) = tokio::task::spawn_blocking(move || {
            let names: HashMap<AccountId, String> = reader
                .accounts()
                .unwrap_or_default()
                .into_iter()
                .map(|a| (a.id, a.bank_name))
                .collect();
            (
                super::checks::OpenChecks::read(&reader),
                super::balances::Balances::read(&reader),
                names,
            )
        })
        .await
        .unwrap_or_default();
        lock(&self.state).bank_names.extend(names);
        let mut tasks = client.run_all()?;
        tasks.push(self.forward(client.subscribe()));
        let mut state = lock(&self.state);
        state.open_checks.merge(open_checks);
        state.balances.merge(balances);
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
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // Events were missed: what is kept from them (the
                        // balances, the checks waiting) is read again.
                        let Some(core) = core.upgrade() else { return };
                        core.resync().await;
                        continue;
                    }
                    Err(_) => return,
                };
                let Some(core) = core.upgrade() else { return };
                if let Some(live) = core.to_live(event) {
                    let _ = core.live.send(live);
                }
            }
        })
    }

    /// Reads the balances and the checks waiting from the store again,
    /// off the async workers (after live events were missed).
    async fn resync(&self) {
        let Ok(client) = self.client() else { return };
        let Ok((open_checks, balances)) = tokio::task::spawn_blocking(move || {
            (
                super::checks::OpenChecks::read(&client),
                super::balances::Balances::read(&client),
            )
        })
        .await
        else {
            return;
        };
        let mut state = lock(&self.state);
        state.open_checks = open_checks;
        state.balances = balances;
    }

    /// The account's bank name: kept from going online or linking; read
    /// from the store (and kept) only for an account not seen yet.
    fn bank_name(&self, account: AccountId) -> String {
        if let Some(name) = lock(&self.state).bank_names.get(&account) {
            return name.clone();
        }
        let name = self
            .client()
            .ok()
            .and_then(|c| c.accounts().ok())
            .and_then(|a| a.into_iter().find(|x| x.id == account))
            .map(|a| a.bank_name)
            .unwrap_or_default();
        if !name.is_empty() {
            lock(&self.state).bank_names.insert(account, name.clone());
        }
        name
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
                error,
                retry_in_ms,
            } => {
                lock(&self.state).connected.remove(&account);
                LiveEvent::Disconnected {
                    account: account.to_string(),
                    error,
                    retry_in_ms,
                }
            }
            ClientEvent::Alert { account, alert } => {
                {
                    let mut state = lock(&self.state);
                    *state.unread.entry(account).or_default() += 1;
                    state.open_checks.note(account, &alert);
                    state.balances.note(account, &alert);
                }
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
            ClientEvent::LinkRevoked { account } => {
                // Its checks can no longer be answered.
                lock(&self.state).open_checks.forget(account);
                LiveEvent::LinkRevoked {
                    account: account.to_string(),
                }
            }
            ClientEvent::CallStatus {
                account,
                status,
                started,
            } => LiveEvent::CallStatus {
                status: super::calls::call_status_view(account, self.bank_name(account), status),
                started,
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

    pub(super) fn client(&self) -> Result<Client, AppError> {
        let state = lock(&self.state);
        if state.locked {
            return Err(AppError::Locked);
        }
        match &state.online {
            Some(online) => Ok(online.client.clone()),
            None => Err(state
                .error
                .clone()
                .map_or(AppError::NotReady, AppError::Opening)),
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
    pub fn save_settings(&self, settings: &Settings) -> Result<Settings, AppError> {
        let bytes = serde_json::to_vec_pretty(settings)
            .map_err(|e| AppError::Settings(std::io::Error::other(e)))?;
        std::fs::create_dir_all(&self.data_dir)
            .and_then(|()| {
                let tmp = self.data_dir.join("settings.json.tmp");
                std::fs::write(&tmp, bytes)?;
                std::fs::rename(tmp, self.settings_path())
            })
            .map_err(AppError::Settings)?;
        Ok(settings.clone())
    }

    /// The locale the app speaks ([`Settings::locale`] of the saved
    /// settings).
    pub fn locale(&self) -> strongroom_l10n::Locale {
        self.settings().locale()
    }

    /// Where the app stands.
    pub fn status(&self) -> Status {
        let settings = self.settings();
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
            first_run: linked == 0 && !settings.first_run_done,
            passphrase_set,
            error: state.error.clone(),
            linked_accounts: linked,
            demo_issuers: self.demo_issuers.clone(),
            locale: settings.locale().tag.to_owned(),
            damage,
        }
    }

    /// Retries opening after a keychain problem was fixed.
    ///
    /// # Errors
    /// The same problem, if it is still there.
    pub async fn retry(self: &Arc<Self>) -> Result<Status, AppError> {
        if lock(&self.state).online.is_none() && !lock(&self.state).locked {
            lock(&self.state).error = None;
            self.go_online().await?;
        }
        Ok(self.status())
    }
}

pub(super) fn keychain_silent() -> AppError {
    AppError::KeychainTimeout(KEYCHAIN_TIMEOUT.as_secs())
}
