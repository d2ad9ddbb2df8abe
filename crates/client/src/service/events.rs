//! What the client tells its listeners (the app, the CLI's `watch`) and
//! the records it lists: events after each commit, alerts as shown,
//! linked accounts.

use serde::Serialize;
use std::collections::BTreeMap;
use strongroom_core::AccountId;
use strongroom_core::text::neutralize;
use strongroom_store::{AlertDetails, FraudAnswer, Millis, Severity, Verification};
use ts_rs::TS;

use crate::error::ErrorReport;

/// Something that happened, for the app's live view and the CLI's `watch`.
/// Sent only after the data is committed to the store.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientEvent {
    /// The delivery stream of an account is open.
    Connected {
        /// Whose delivery stream opened.
        account: AccountId,
    },
    /// The stream closed; the client reconnects after `retry_in_ms`.
    Disconnected {
        /// Whose delivery stream closed.
        account: AccountId,
        /// What closed it, as a code and values (worded from `errors.ftl`
        /// in the reader's language); `None` when the bank closed the
        /// stream itself.
        error: Option<ErrorReport>,
        /// When the next attempt is.
        retry_in_ms: u64,
    },
    /// An alert was stored (verified, or quarantined if not).
    Alert {
        /// The linked account that received it.
        account: AccountId,
        /// What it says.
        alert: AlertView,
    },
    /// A chat message was stored.
    Message {
        /// The conversation's account.
        account: AccountId,
        /// Written by bank staff (else by the customer on another device).
        from_bank: bool,
        /// The author's name.
        author: String,
        /// The message as written (plain text; render it as text, never HTML).
        body: String,
    },
    /// The bank stored a message the customer sent.
    ChatAccepted {
        /// The account whose bank accepted the message.
        account: AccountId,
        /// The message's idempotency key.
        client_id: String,
    },
    /// The pilot features for this customer changed.
    Flags {
        /// The customer's account at that bank.
        account: AccountId,
        /// The complete set switched on.
        flags: BTreeMap<String, bool>,
    },
    /// The bank's alert keys were rotated by a statement signed with a
    /// pinned key.
    KeysRotated {
        /// The account whose bank rotated its keys.
        account: AccountId,
        /// The new set's version.
        version: u64,
    },
    /// What the device can say about the bank calling changed (a verified
    /// call statement, a contact proof, or the stream closing).
    CallStatus {
        /// The account whose bank it is.
        account: AccountId,
        /// The status now.
        status: strongroom_core::protocol::call::CallStatus,
        /// A call this device had not shown began: the moment to notify.
        started: bool,
    },
    /// Every event up to `seq` is stored and acknowledged to the bank.
    Committed {
        /// The account whose stream position advanced.
        account: AccountId,
        /// The acknowledged sequence number.
        seq: u64,
    },
    /// The bank no longer accepts this device; link again.
    LinkRevoked {
        /// The account to link again (its history stays until removed).
        account: AccountId,
    },
}

/// An alert as shown to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AlertView {
    /// The bank's id for it (what a fraud answer is bound to).
    pub id: String,
    /// The kind, for example `fraud_check`.
    pub kind: String,
    /// How urgent.
    pub severity: Severity,
    /// The text (render as text, never HTML).
    pub text: String,
    /// Amount in minor units.
    pub amount_minor: Option<i64>,
    /// Currency of the amount.
    pub currency: Option<String>,
    /// Merchant.
    pub merchant: Option<String>,
    /// Signed by a pinned key of the bank. When false, the alert is
    /// quarantined and must never be shown as the bank's.
    pub verified: bool,
    /// The key that signed it, or why verification failed.
    pub verification: String,
    /// When the bank issued it (ms).
    pub issued_at: Millis,
    /// The customer's answer, for fraud checks.
    pub answer: Option<FraudAnswer>,
    /// When the customer answered (ms).
    pub answered_at: Option<Millis>,
    /// The account's balance after this event, when the bank said.
    pub balance_minor: Option<i64>,
}

impl AlertView {
    pub(super) fn new(bank_alert_id: &str, details: &AlertDetails, issued_at: Millis) -> Self {
        let (verified, verification) = match &details.verification {
            Verification::Verified { key_id } => (true, key_id.clone()),
            Verification::Failed { reason } => (false, reason.clone()),
        };
        // Every string a bank (or a forger) chose is shown with its
        // bidirectional and invisible format characters neutralised, so it
        // reads in the order it was signed (strongroom_core::text).
        let shown = |text: &str| neutralize(text).into_owned();
        AlertView {
            id: bank_alert_id.to_owned(),
            kind: details.kind.clone(),
            severity: details.severity,
            text: shown(&details.text),
            amount_minor: details.amount_minor,
            currency: details.currency.as_deref().map(shown),
            merchant: details.merchant.as_deref().map(shown),
            verified,
            verification: shown(&verification),
            issued_at,
            answer: None,
            answered_at: None,
            balance_minor: details.balance_minor,
        }
    }
}

/// A linked account as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountSummary {
    /// The account's id on this device.
    pub id: AccountId,
    /// The bank's name.
    pub bank_name: String,
    /// The bank's issuer URL.
    pub issuer: String,
    /// When it was linked (ms).
    pub linked_at: Millis,
    /// The pilot features switched on.
    pub flags: BTreeMap<String, bool>,
}
