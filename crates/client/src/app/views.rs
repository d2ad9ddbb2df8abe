//! The serializable views the window receives from the app's commands and
//! its live-event channel. The UI's TypeScript types are generated from
//! these (`ui/src/ipc/bindings.ts`), so a field changed here changes there.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use strongroom_store::{Direction, Millis};
use ts_rs::TS;

use crate::error::ErrorReport;
use crate::service::AlertView;

/// How much an OS notification may say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Settings {
    /// How much notifications say.
    pub notification_privacy: NotificationPrivacy,
    /// Lock after this many idle minutes; 0 never.
    pub auto_lock_minutes: u32,
    /// The first-run screen was completed.
    pub first_run_done: bool,
    /// The language the app speaks (window, notifications, tray). Missing
    /// from settings saved before there was a choice: the system's.
    #[serde(default)]
    pub language: Language,
}

/// The language the customer chose, or the system's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Follow the system's locale (`LANGUAGE`, `LC_ALL`, `LC_MESSAGES`, `LANG`).
    #[default]
    System,
    /// English.
    En,
    /// German.
    De,
    /// French.
    Fr,
}

impl Language {
    /// The chosen catalogue language; `None` for the system's.
    pub fn lang(self) -> Option<strongroom_l10n::Lang> {
        use strongroom_l10n::Lang;
        match self {
            Language::System => None,
            Language::En => Some(Lang::En),
            Language::De => Some(Lang::De),
            Language::Fr => Some(Lang::Fr),
        }
    }
}

impl Settings {
    /// The locale the app speaks: the chosen language, else the system's
    /// (read from the environment at each call).
    pub fn locale(&self) -> strongroom_l10n::Locale {
        strongroom_l10n::Locale::chosen(self.language.lang(), strongroom_l10n::Locale::system())
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            notification_privacy: NotificationPrivacy::HideAmounts,
            auto_lock_minutes: 10,
            first_run_done: false,
            language: Language::System,
        }
    }
}

/// What the start screen needs.
#[derive(Debug, Clone, Serialize, TS)]
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
    /// The demo banks' issuers, when the app runs against demo banks
    /// (`STRONGROOM_DEMO_ISSUER`, one or more separated by spaces).
    pub demo_issuers: Vec<String>,
    /// Damage the store found in the history at unlock (damaged rows,
    /// deleted or rolled-back rows, an older copy of the file), per account.
    /// Shown as a warning; the rest of the history stays readable.
    pub damage: Vec<crate::DamageReport>,
    /// The BCP 47 tag the app speaks and formats in (`de-DE`): the
    /// system's locale or the customer's choice, resolved to a language with
    /// catalogues and a region whose formats the notifications write exactly
    /// as the window's `Intl` does (`strongroom_l10n::FORMAT_TAGS`).
    pub locale: String,
}

/// A link waiting for approval, as shown.
#[derive(Debug, Clone, Serialize, TS)]
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
    /// Exactly what the bank will get, one item each (the window words
    /// each in the customer's language: `link-share-<item>`).
    pub shares: Vec<Share>,
}

/// One thing a link shares with the bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Share {
    /// That the customer uses Strongroom on this device, and its public key.
    DeviceKey,
    /// Alerts about the customer's accounts (scope `alerts`).
    Alerts,
    /// Chat with the bank's staff, which the bank keeps (scope `chat`).
    Chat,
    /// Answers to fraud checks, bound to this device.
    FraudAnswers,
    /// Nothing else: no contacts, location, other banks or analytics.
    NothingElse,
}

/// Everything a link shares, in the order the window lists it.
pub const SHARES: [Share; 5] = [
    Share::DeviceKey,
    Share::Alerts,
    Share::Chat,
    Share::FraudAnswers,
    Share::NothingElse,
];

/// The consent receipt of a completed link.
#[derive(Debug, Clone, Serialize, TS)]
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
    pub shares: Vec<Share>,
}

/// A balance figure.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Balance {
    /// Minor units.
    pub minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// As of (ms).
    pub at: Millis,
}

/// One point of the balance chart.
#[derive(Debug, Clone, Serialize, TS)]
pub struct BalancePoint {
    /// When (ms).
    pub at: Millis,
    /// Minor units.
    pub minor: i64,
}

/// A linked account, as shown on the home screen.
#[derive(Debug, Clone, Serialize, TS)]
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
#[derive(Debug, Clone, Serialize, TS)]
pub struct AlertItem {
    /// The linked account (local id) the alert came through.
    pub account: String,
    /// The bank's name.
    pub bank_name: String,
    /// The alert.
    #[serde(flatten)]
    pub alert: AlertView,
}

/// A chat message, as shown.
#[derive(Debug, Clone, Serialize, TS)]
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
#[derive(Debug, Clone, Serialize, TS)]
pub struct SearchResult {
    /// `message` or `alert`.
    #[ts(type = "\"message\" | \"alert\"")]
    pub kind: &'static str,
    /// The linked account (local id) the match is stored under.
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
#[derive(Debug, Clone, Serialize, TS)]
pub struct LedgerEntry {
    /// When (ms).
    pub at: Millis,
    /// With which bank.
    pub bank_name: String,
    /// What was shared (the window words it: `settings-ledger-<kind>`).
    pub what: Shared,
}

/// What one entry of the privacy ledger shared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shared {
    /// This device was linked: its public key, and consent to alerts and chat.
    Linked,
    /// An answer to a fraud check.
    FraudAnswer {
        /// The answer.
        answer: strongroom_store::FraudAnswer,
    },
    /// A chat message, by its length.
    ChatMessage {
        /// How many characters.
        characters: u32,
    },
}

/// A live event for the window (`docs/ipc.md`).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A stream opened.
    Connected {
        /// Whose delivery stream opened.
        account: String,
    },
    /// A stream closed; retrying.
    Disconnected {
        /// Whose delivery stream closed.
        account: String,
        /// What closed it: a code and values the window words from
        /// `errors.ftl`; `null` when the bank closed the stream itself.
        error: Option<ErrorReport>,
        /// When the next try is.
        retry_in_ms: u64,
    },
    /// An alert was stored.
    Alert {
        /// The linked account that received it.
        account: String,
        /// The alert.
        alert: Box<AlertItem>,
    },
    /// The conversation changed.
    Message {
        /// The conversation's account.
        account: String,
    },
    /// The bank stored a message the customer sent.
    ChatAccepted {
        /// The account whose bank accepted the message.
        account: String,
        /// The message's idempotency key.
        client_id: String,
    },
    /// Pilot features changed.
    Flags {
        /// The customer's account at that bank.
        account: String,
        /// The complete set.
        flags: BTreeMap<String, bool>,
    },
    /// The bank no longer accepts this device.
    LinkRevoked {
        /// The account to link again (its history stays until removed).
        account: String,
    },
    /// A notification was clicked.
    OpenAlert {
        /// The account the notification was for.
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
    /// What the app can say about one bank calling changed.
    CallStatus {
        /// The status now.
        status: CallStatusView,
        /// A call this device had not shown began (notify once).
        started: bool,
    },
}

/// Whether one bank is calling the customer, as the window shows it: only
/// ever one of three answers, each only from what the device verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct CallStatusView {
    /// The linked account.
    pub account: String,
    /// The bank's name as verified at link time.
    pub bank_name: String,
    /// Which of the three answers.
    pub state: CallState,
    /// For `talking_now`: the agent's name as the bank signed it.
    pub agent: Option<String>,
    /// For `talking_now`: what the call is about, as the core's reason
    /// code (`suspicious_payment`, ...); the window and the notifications
    /// word it (`call-reason-<code>` in kinds.ftl).
    pub reason: Option<String>,
    /// For `talking_now`: when the call started (ms).
    pub since: Option<Millis>,
    /// When the bank last proved contact (ms); for `cant_check`, the
    /// "since" of "can't reach".
    pub heard_at: Option<Millis>,
}

/// The three answers to "is my bank really calling me?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// A genuine, unexpired statement for this customer: the bank's agent
    /// is on the phone with them.
    TalkingNow,
    /// A proof from the last minute says no call is open.
    NotCalling,
    /// No fresh proof: nobody who calls can be checked.
    CantCheck,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_saved_before_the_language_choice_keep_everything_else() {
        // A settings.json from an earlier version has no `language`: it must
        // still load (not fall back to the defaults and lose the privacy).
        let old = r#"{"notification_privacy":"full","auto_lock_minutes":5,"first_run_done":true}"#;
        let s: Settings = serde_json::from_str(old).expect("old settings load");
        assert_eq!(s.notification_privacy, NotificationPrivacy::Full);
        assert_eq!(s.auto_lock_minutes, 5);
        assert_eq!(s.language, Language::System);
        let chosen: Settings = serde_json::from_str(
            r#"{"notification_privacy":"full","auto_lock_minutes":5,"first_run_done":true,"language":"de"}"#,
        )
        .expect("settings load");
        assert_eq!(chosen.language.lang(), Some(strongroom_l10n::Lang::De));
    }
}
