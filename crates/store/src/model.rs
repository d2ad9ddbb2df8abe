//! The records the store keeps, in the bank-messaging domain's words.

use serde::{Deserialize, Serialize};
use strongroom_core::AccountId;
use ts_rs::TS;

use crate::error::StoreError;

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// Id of a conversation with a bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
pub struct ConversationId(pub i64);

/// Id of a stored message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MessageId(pub i64);

/// Id of a stored alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AlertId(pub i64);

/// A bank account linked on this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkedAccount {
    /// The account's id.
    pub id: AccountId,
    /// The bank's issuer URL.
    pub bank: String,
    /// The name the customer sees.
    pub display_name: String,
    /// When it was linked.
    pub linked_at: Millis,
}

/// A conversation with bank staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conversation {
    /// The conversation's id.
    pub id: ConversationId,
    /// The account it belongs to.
    pub account: AccountId,
    /// Its title.
    pub title: String,
    /// When it was opened.
    pub created_at: Millis,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub enum Direction {
    /// From the bank to the customer.
    Incoming,
    /// From the customer to the bank.
    Outgoing,
}

/// Where a message is on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub enum Delivery {
    /// Written by the customer, waiting in the outbox.
    Queued,
    /// Acknowledged by the bank.
    Sent,
    /// Received from the bank, or delivered to staff.
    Delivered,
    /// Read by the other side.
    Read,
}

impl Delivery {
    pub(crate) fn to_sql(self) -> i64 {
        match self {
            Delivery::Queued => 0,
            Delivery::Sent => 1,
            Delivery::Delivered => 2,
            Delivery::Read => 3,
        }
    }

    pub(crate) fn from_sql(value: i64, row: i64) -> Result<Self, StoreError> {
        Ok(match value {
            0 => Delivery::Queued,
            1 => Delivery::Sent,
            2 => Delivery::Delivered,
            3 => Delivery::Read,
            _ => {
                return Err(StoreError::Tampered {
                    table: "messages",
                    row,
                });
            }
        })
    }
}

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// The conversation it belongs to.
    pub conversation: ConversationId,
    /// Who wrote it.
    pub direction: Direction,
    /// The author's name as shown.
    pub author: String,
    /// The text, exactly as written (rendered as text, never as HTML).
    pub body: String,
    /// When it was sent.
    pub sent_at: Millis,
    /// When this device received it.
    pub received_at: Option<Millis>,
    /// Its delivery state.
    pub delivery: Delivery,
    /// The customer's idempotency key, for messages sent from this device.
    pub client_id: Option<String>,
    /// The bank's id for the message, when the bank has assigned one.
    pub bank_message_id: Option<String>,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// The message's id.
    pub id: MessageId,
    /// The account it belongs to.
    pub account: AccountId,
    /// The conversation it belongs to.
    pub conversation: ConversationId,
    /// Who wrote it.
    pub direction: Direction,
    /// The author's name.
    pub author: String,
    /// The message as written: plain text, sealed at rest.
    pub body: String,
    /// When it was sent.
    pub sent_at: Millis,
    /// When this device received it.
    pub received_at: Option<Millis>,
    /// Its delivery state.
    pub delivery: Delivery,
}

/// Whether a write added a row or found it was already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted<T> {
    /// A new row was written.
    New(T),
    /// The same item (same idempotency key or bank id) was already stored.
    Duplicate(T),
}

impl<T: Copy> Inserted<T> {
    /// The row's id either way.
    pub fn id(&self) -> T {
        match self {
            Inserted::New(id) | Inserted::Duplicate(id) => *id,
        }
    }
}

/// A list read from the store: the rows that opened, and the rows that
/// failed their integrity check and are reported instead of shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    /// Rows that opened, in the order asked for.
    pub items: Vec<T>,
    /// Rows that failed to open, as `(table, row)`.
    pub tampered: Vec<(&'static str, i64)>,
}

impl<T> Page<T> {
    /// Adds a row that was read: kept if it opened, listed as damaged if it
    /// failed its integrity check, and any other error stops the read.
    pub(crate) fn push(
        &mut self,
        result: Result<T, StoreError>,
        table: &'static str,
        row: i64,
    ) -> Result<(), StoreError> {
        match result {
            Ok(item) => self.items.push(item),
            Err(err) if err.is_row_failure() => self.tampered.push((table, row)),
            Err(other) => return Err(other),
        }
        Ok(())
    }
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Page {
            items: Vec::new(),
            tampered: Vec::new(),
        }
    }
}

/// How severe an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub enum Severity {
    /// For information.
    Info,
    /// Worth a look.
    Warning,
    /// Act now.
    Critical,
}

/// The outcome of checking an alert's signature against the bank's pinned
/// keys. Sealed with the alert, so a tampered file cannot promote a forged
/// alert to verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verification {
    /// Signed by a key pinned for this bank.
    Verified {
        /// The key id that signed it.
        key_id: String,
    },
    /// Failed verification: quarantined, never shown as the bank's.
    Failed {
        /// The verification error, kept so the customer can be told why.
        reason: String,
    },
}

/// The customer's answer to a fraud check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub enum FraudAnswer {
    /// "This was me."
    ThisWasMe,
    /// "This wasn't me."
    NotMe,
}

/// What an alert says, sealed as one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertDetails {
    /// The event kind, for example `fraud_check` or `balance_low`.
    pub kind: String,
    /// How severe it is.
    pub severity: Severity,
    /// Amount in minor units, if the alert has one.
    pub amount_minor: Option<i64>,
    /// ISO 4217 currency of the amount.
    pub currency: Option<String>,
    /// Merchant, if any.
    pub merchant: Option<String>,
    /// The bank's reference to the customer's account (masked).
    pub account_ref: Option<String>,
    /// The alert's text, searchable.
    pub text: String,
    /// The verification result.
    pub verification: Verification,
    /// The account's balance after the event, when the bank said (minor
    /// units of `currency`). Absent in alerts stored before it existed.
    #[serde(default)]
    pub balance_minor: Option<i64>,
}

/// An alert to store.
#[derive(Debug, Clone)]
pub struct NewAlert {
    /// The account it was delivered for.
    pub account: AccountId,
    /// The bank's unique id for the alert (the SET `jti`), for deduplication.
    pub bank_alert_id: String,
    /// What it says.
    pub details: AlertDetails,
    /// The signed JWS exactly as received, kept for offline verification.
    pub raw_jws: String,
    /// When the bank issued it.
    pub issued_at: Millis,
    /// When this device received it.
    pub received_at: Millis,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// The alert's id.
    pub id: AlertId,
    /// The account it belongs to.
    pub account: AccountId,
    /// What it says.
    pub details: AlertDetails,
    /// The signed JWS as received.
    pub raw_jws: String,
    /// When the bank issued it.
    pub issued_at: Millis,
    /// When this device received it.
    pub received_at: Millis,
    /// The fraud-check answer and when it was given, if answered.
    pub answer: Option<(FraudAnswer, Millis)>,
}

/// A message waiting for the bank's acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxItem {
    /// The queued message.
    pub message: Message,
    /// Its idempotency key, sent with every attempt.
    pub client_id: String,
    /// How many times sending was tried.
    pub attempts: u32,
    /// When to try next.
    pub next_attempt_at: Millis,
}

/// A search result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SearchHit {
    /// A message matched.
    Message(MessageId),
    /// An alert matched.
    Alert(AlertId),
}

/// How an account is linked to its bank: everything the client needs to talk
/// to it again after a restart, except the secrets (those are in the
/// keychain). Sealed as one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankLink {
    /// The bank's issuer URL, as discovered and checked at link time.
    pub issuer: String,
    /// The bank's name as shown to the customer.
    pub bank_name: String,
    /// The OAuth client id the device used.
    pub client_id: String,
    /// The scopes the customer consented to.
    pub scope: String,
    /// Token endpoint (refresh).
    pub token_endpoint: String,
    /// Revocation endpoint (unlink).
    pub revocation_endpoint: String,
    /// The `wss` delivery stream.
    pub stream_endpoint: String,
    /// Base URL of the device's requests (chat, fraud answers).
    pub api_base: String,
    /// The conversation with this bank's staff.
    pub conversation: ConversationId,
    /// The pilot features the bank switched on for this customer.
    #[serde(default)]
    pub flags: std::collections::BTreeMap<String, bool>,
    /// The bank's alert keys as pinned when the chain of keys started being
    /// kept: at link time (version 0), or for a link made before that, the
    /// set pinned then. With [`BankLink::key_rotations`] it lets an exported
    /// transcript prove old alerts after the bank rotated its keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_keys: Option<strongroom_core::protocol::verify::PinnedKeys>,
    /// Every key rotation statement applied since [`BankLink::link_keys`],
    /// in order, exactly as the bank signed it (compact JWS). Rotations are
    /// rare (a few a year), so the sealed field stays small.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_rotations: Vec<String>,
    /// Protocol version 2: the issuer of the bank's authorization server
    /// when it is not the gateway itself (tokens come from there; alerts
    /// still come from [`BankLink::issuer`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_server: Option<String>,
    /// Protocol version 2: the gateway's resource identifier, named in
    /// every token request (RFC 8707).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}
