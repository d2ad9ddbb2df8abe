//! Strongroom's core: domain types shared by every other crate.
//!
//! This crate does no I/O. It holds the types that must mean the same thing
//! everywhere: a [`Sensitive`] secret that cannot be printed, logged or
//! serialized by accident, the [`AccountId`] that names a linked bank
//! account in the store and in the keychain alike, and the bank link
//! [`protocol`]: signed alerts and their verification, the delivery stream's
//! frames and its state machine.
#![deny(missing_docs)]

mod account;
pub mod protocol;
mod sensitive;
pub mod text;

pub use account::{AccountId, ParseAccountIdError};
pub use sensitive::Sensitive;
