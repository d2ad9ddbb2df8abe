//! The commands the UI may call (each declared in build.rs and granted in
//! `capabilities/main.json`). Each is a one-line call into the client core's
//! [`AppCore`]; errors cross to the UI as `{code, message}`.

use std::path::PathBuf;
use std::sync::Arc;
use strongroom_client::app::{
    AccountView, AlertItem, AppCore, AppError, CallStatusView, LedgerEntry, LinkReceipt, LiveEvent,
    MessageView, PendingLinkView, SearchResult, Settings, Status,
};
use tauri::State;
use tauri::ipc::Channel;

type Core<'a> = State<'a, Arc<AppCore>>;
type Answer<T> = Result<T, AppError>;

/// Where the app stands: keychain, lock, first run.
#[tauri::command]
pub fn status(core: Core<'_>) -> Status {
    core.status()
}

/// Tries to open again after a keychain problem was fixed.
#[tauri::command]
pub async fn retry(core: Core<'_>) -> Answer<Status> {
    core.retry().await
}

/// Locks now: keys leave memory.
#[tauri::command]
pub fn lock(core: Core<'_>) {
    core.lock_now();
}

/// Unlocks (with the passphrase when one is set).
#[tauri::command]
pub async fn unlock(core: Core<'_>, passphrase: Option<String>) -> Answer<Status> {
    core.unlock(passphrase.as_deref()).await
}

/// Sets, changes or removes the app passphrase.
#[tauri::command]
pub fn set_passphrase(core: Core<'_>, current: Option<String>, next: Option<String>) -> Answer<()> {
    core.set_passphrase(current.as_deref(), next.as_deref())
}

/// The settings.
#[tauri::command]
pub fn settings(core: Core<'_>) -> Settings {
    core.settings()
}

/// Saves the settings.
#[tauri::command]
pub fn save_settings(core: Core<'_>, settings: Settings) -> Answer<Settings> {
    core.save_settings(&settings)
}

/// Starts linking a bank.
#[tauri::command]
pub async fn link_start(core: Core<'_>, issuer: String) -> Answer<PendingLinkView> {
    core.link_start(&issuer).await
}

/// Waits for the customer's approval at the bank.
#[tauri::command]
pub async fn link_finish(core: Core<'_>, link_id: String) -> Answer<LinkReceipt> {
    core.link_finish(&link_id).await
}

/// Cancels a started link.
#[tauri::command]
pub fn link_cancel(core: Core<'_>, link_id: String) {
    core.link_cancel(&link_id);
}

/// The linked accounts.
#[tauri::command]
pub fn accounts(core: Core<'_>) -> Answer<Vec<AccountView>> {
    core.accounts()
}

/// The alert feed.
#[tauri::command]
pub fn alerts(core: Core<'_>, account: Option<String>, limit: usize) -> Answer<Vec<AlertItem>> {
    core.alerts(account.as_deref(), limit)
}

/// A conversation with a bank.
#[tauri::command]
pub fn conversation(core: Core<'_>, account: String, limit: usize) -> Answer<Vec<MessageView>> {
    core.conversation(&account, limit)
}

/// Search across messages and alerts.
#[tauri::command]
pub fn search(core: Core<'_>, query: String) -> Answer<Vec<SearchResult>> {
    core.search(&query)
}

/// What was shared with which bank and when.
#[tauri::command]
pub fn privacy_ledger(core: Core<'_>) -> Answer<Vec<LedgerEntry>> {
    core.privacy_ledger()
}

/// Answers a fraud check.
#[tauri::command]
pub async fn answer_fraud_check(
    core: Core<'_>,
    account: String,
    alert_id: String,
    answer: String,
) -> Answer<()> {
    core.answer_fraud_check(&account, &alert_id, &answer).await
}

/// The idempotency key of a queued chat message.
#[derive(serde::Serialize)]
pub struct Queued {
    client_id: String,
}

/// Queues a chat message to the bank.
#[tauri::command]
pub fn send_chat(core: Core<'_>, account: String, body: String) -> Answer<Queued> {
    core.send_chat(&account, &body)
        .map(|client_id| Queued { client_id })
}

/// Whether the bank confirmed the revocation.
#[derive(serde::Serialize)]
pub struct Unlinked {
    revoked_at_bank: bool,
}

/// Unlinks an account: revokes at the bank, erases here.
#[tauri::command]
pub async fn unlink(core: Core<'_>, account: String) -> Answer<Unlinked> {
    core.unlink(&account)
        .await
        .map(|revoked_at_bank| Unlinked { revoked_at_bank })
}

/// Where the transcript was written.
#[derive(serde::Serialize)]
pub struct Exported {
    path: PathBuf,
}

/// Exports the signed alert transcript.
#[tauri::command]
pub fn export_transcript(core: Core<'_>, account: String) -> Answer<Exported> {
    core.export_transcript(&account)
        .map(|path| Exported { path })
}

/// Whether each linked bank is calling the customer, as of now.
#[tauri::command]
pub fn call_statuses(core: Core<'_>) -> Answer<Vec<CallStatusView>> {
    core.call_statuses()
}

/// When the bank received a scam-call report.
#[derive(serde::Serialize)]
pub struct ScamReportReceipt {
    received_at: i64,
}

/// Reports a call from someone claiming to be `account`'s bank.
#[tauri::command]
pub async fn report_scam_call(
    core: Core<'_>,
    account: String,
    called_at: i64,
    caller_number: Option<String>,
    note: Option<String>,
) -> Answer<ScamReportReceipt> {
    core.report_scam_call(&account, called_at, caller_number, note)
        .await
        .map(|received_at| ScamReportReceipt { received_at })
}

/// Streams live events to the window until it goes away.
#[tauri::command]
pub fn subscribe(core: Core<'_>, channel: Channel<LiveEvent>) {
    let mut events = core.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if channel.send(event).is_err() {
                        return;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return,
            }
        }
    });
}
