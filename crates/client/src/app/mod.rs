//! What the desktop app needs from the client core, as plain functions over
//! serializable views (`docs/ipc.md`). The Tauri shell only forwards its
//! commands here: no SQL, crypto, keychain or network code lives in the
//! shell. The app can lock (dropping every key from memory) and unlock
//! (opening the store again from the keychain, behind an optional
//! passphrase).

mod app_core;
mod balances;
mod calls;
mod checks;
mod deep_links;
mod error;
mod highlight;
mod linking;
mod lock;
mod reads;
mod sending;
mod transcripts;
mod views;

pub use app_core::AppCore;
pub use calls::call_status_view;
pub use checks::{CHECKS_COUNT_FOR_MS, waits_for_answer};
pub use deep_links::parse_deep_link;
pub use error::AppError;
pub use highlight::highlights;
pub use views::{
    AccountView, AlertItem, Balance, BalancePoint, CallState, CallStatusView, Language,
    LedgerEntry, LinkReceipt, LiveEvent, MessageView, NotificationPrivacy, PendingLinkView,
    SearchResult, Settings, Share, Shared, Status,
};

// Transcripts live in `crate::transcript`; these names stay for callers
// that knew them here.
pub use crate::transcript::{TRANSCRIPT_FORMAT, Transcript, TranscriptCheck, verify_transcript};

use std::path::PathBuf;

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
