//! Strongroom's client core.
//!
//! [`Device`] joins the two foundations: it checks the OS keychain, loads (or
//! on first run creates) the store's master key there, opens the encrypted
//! store and unlocks each linked account with its store key from the
//! keychain. [`Client`] puts it online: it links banks ([`net`] speaks
//! OAuth, DPoP and TLS), keeps one delivery stream per linked bank, verifies
//! and stores what arrives, and sends chat and fraud answers. [`app`] is
//! what the desktop window calls.
#![deny(missing_docs)]

pub mod app;
mod bank_url;
mod device;
mod error;
pub mod net;
mod service;
pub mod transcript;

pub use device::{DATABASE_FILE, DamageReport, Device, StartupStatus, start};
pub use error::{ClientError, ErrorCode, ErrorReport};
pub use service::{AccountSummary, AlertStages, AlertView, Client, ClientEvent, PendingLink};
pub use strongroom_core::protocol::alert::AlertKind;
pub use strongroom_core::protocol::frames::FraudAnswerValue;
