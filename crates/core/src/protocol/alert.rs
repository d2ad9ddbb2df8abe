//! Alerts: Security Event Tokens (RFC 8417) signed by the bank.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The JWS `typ` of an alert (RFC 8417 section 2.3).
pub const ALERT_TYP: &str = "secevent+jwt";

/// Event type URIs share this prefix; the rest is the [`AlertKind`] name.
pub const EVENT_URI_PREFIX: &str = "https://schemas.strongroom.app/secevent/";

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A card purchase over the customer's threshold.
    Purchase,
    /// A card-not-present (online, phone) purchase.
    CardNotPresent,
    /// A transaction abroad.
    ForeignTransaction,
    /// A declined transaction.
    Declined,
    /// The balance fell below the customer's threshold.
    BalanceLow,
    /// Money arrived.
    DepositReceived,
    /// A payment is due.
    PaymentDue,
    /// A new device signed in to the customer's bank.
    NewDeviceSignIn,
    /// A security detail (address, phone, password) changed.
    SecurityDetailChanged,
    /// The bank asks the customer to confirm a transaction.
    FraudCheck,
    /// Free text from the bank.
    Custom,
}

impl AlertKind {
    /// Every kind, for tables and tests.
    pub const ALL: [AlertKind; 11] = [
        AlertKind::Purchase,
        AlertKind::CardNotPresent,
        AlertKind::ForeignTransaction,
        AlertKind::Declined,
        AlertKind::BalanceLow,
        AlertKind::DepositReceived,
        AlertKind::PaymentDue,
        AlertKind::NewDeviceSignIn,
        AlertKind::SecurityDetailChanged,
        AlertKind::FraudCheck,
        AlertKind::Custom,
    ];

    /// Whether the customer is asked "was this you?" and answers it from
    /// the device, bound to the alert: a fraud check, and a change of a
    /// security detail (a scammer's first move is often to change the
    /// password or phone number).
    pub fn asks_answer(self) -> bool {
        matches!(
            self,
            AlertKind::FraudCheck | AlertKind::SecurityDetailChanged
        )
    }

    /// The kinds that ask an answer (see [`AlertKind::asks_answer`]), by
    /// name.
    pub fn name_asks_answer(name: &str) -> bool {
        AlertKind::ALL
            .iter()
            .any(|k| k.name() == name && k.asks_answer())
    }

    /// The snake_case name used in event URIs.
    pub fn name(self) -> &'static str {
        match self {
            AlertKind::Purchase => "purchase",
            AlertKind::CardNotPresent => "card_not_present",
            AlertKind::ForeignTransaction => "foreign_transaction",
            AlertKind::Declined => "declined",
            AlertKind::BalanceLow => "balance_low",
            AlertKind::DepositReceived => "deposit_received",
            AlertKind::PaymentDue => "payment_due",
            AlertKind::NewDeviceSignIn => "new_device_sign_in",
            AlertKind::SecurityDetailChanged => "security_detail_changed",
            AlertKind::FraudCheck => "fraud_check",
            AlertKind::Custom => "custom",
        }
    }

    /// The event type URI of this kind.
    pub fn uri(self) -> String {
        format!("{EVENT_URI_PREFIX}{}", self.name())
    }

    /// The kind named by an event type URI.
    pub fn from_uri(uri: &str) -> Option<Self> {
        let name = uri.strip_prefix(EVENT_URI_PREFIX)?;
        AlertKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// How urgent the bank says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertSeverity {
    /// For information.
    Info,
    /// Worth a look.
    Warning,
    /// Act now.
    Critical,
}

/// The fields of one event. Which ones are present depends on the kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertEvent {
    /// How urgent.
    pub severity: AlertSeverity,
    /// Text for the customer, shown as text (never HTML).
    pub text: String,
    /// The bank's masked reference to the account (`****1234`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_ref: Option<String>,
    /// Amount in minor units of `currency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_minor: Option<i64>,
    /// ISO 4217 code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Merchant name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant: Option<String>,
    /// ISO 3166 country of the transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// For fraud checks: answer before this time (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respond_by: Option<i64>,
    /// The account's balance after the event, in minor units of `currency`
    /// (for the app's balance and its chart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_minor: Option<i64>,
}

/// The claims of an alert (an RFC 8417 Security Event Token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertClaims {
    /// The bank's issuer URL, as pinned at link time.
    pub iss: String,
    /// Unique id of this alert.
    pub jti: String,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// The customer it is for: the bank's subject identifier of the
    /// customer, which the device learnt at link time (protocol section
    /// 4.2). Optional only so that an alert without one is refused with its
    /// own reason; every alert the bank signs names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Exactly one event, keyed by its type URI.
    pub events: BTreeMap<String, AlertEvent>,
}

impl AlertClaims {
    /// Claims holding one event of `kind`, for the customer whose subject
    /// identifier is `aud`.
    pub fn new(
        iss: &str,
        aud: &str,
        jti: &str,
        iat: i64,
        kind: AlertKind,
        event: AlertEvent,
    ) -> Self {
        AlertClaims {
            iss: iss.into(),
            jti: jti.into(),
            iat,
            aud: Some(aud.into()),
            events: BTreeMap::from([(kind.uri(), event)]),
        }
    }
}

/// An alert whose signature, issuer, time and uniqueness were checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedAlert {
    /// The bank that signed it.
    pub issuer: String,
    /// Its unique id.
    pub id: String,
    /// When it was issued (seconds).
    pub issued_at: i64,
    /// What happened.
    pub kind: AlertKind,
    /// The details.
    pub event: AlertEvent,
    /// The pinned key that signed it.
    pub key_id: String,
}
