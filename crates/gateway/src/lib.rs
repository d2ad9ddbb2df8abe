//! Strongroom's reference bank gateway.
//!
//! One process that is, for a bank piloting Strongroom:
//! - an OAuth 2.0 authorization server for the desktop app: metadata
//!   (RFC 8414), the device authorization grant (RFC 8628) with a web page
//!   where the customer signs in and approves, DPoP-bound tokens
//!   (RFC 9449), refresh and revocation (RFC 7009), and the alert signing
//!   keys;
//! - the messaging API of `docs/protocol.md`: the delivery stream
//!   (WebSocket), chat, fraud answers and history;
//! - the bank integration API the bank's own systems call: customers,
//!   transactions turned into signed alerts, custom alerts, staff chat,
//!   flags, delivery status and key rotation;
//! - with `--demo`, a demo bank with seeded customers and synthetic
//!   transactions.
//!
//! Storage is an SQLite file or a PostgreSQL server, written by one
//! group-committing thread per process.
#![deny(missing_docs)]

pub mod acks;
pub mod admin;
pub mod api;
pub mod approvals;
pub mod auth;
pub mod bank;
pub mod bank_as;
pub mod calls;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod connections;
pub mod console;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod error;
pub mod events;
#[doc(hidden)]
pub mod fuzzing;
pub mod hub;
pub mod keys;
pub mod limits;
pub mod logging;
pub mod metrics;
pub mod oauth;
mod page;
pub mod page_tokens;
pub mod passwords;
pub mod proxy_protocol;
pub mod resource;
pub mod rules;
pub mod scam_reports;
pub mod server;
pub mod settings;
pub mod sign_ins;
pub mod signals;
pub mod sql;
pub mod staff;
pub mod stages;
pub mod state;
pub mod stream;
pub mod tls;
pub mod tls_stream;
pub mod transmitter;
pub mod user_codes;
pub mod web;

pub use config::Config;
pub use error::GatewayError;
pub use server::{RunningGateway, start};
