//! Strongroom's core: domain types shared by every other crate.
//!
//! This crate does no I/O. It holds the types that must mean the same thing
//! everywhere: a [`Sensitive`] secret that cannot be printed, logged or
//! serialized by accident, and the [`AccountId`] that names a linked bank
//! account in the store and in the keychain alike.
#![deny(missing_docs)]

mod account;
mod sensitive;

pub use account::{AccountId, ParseAccountIdError};
pub use sensitive::Sensitive;
