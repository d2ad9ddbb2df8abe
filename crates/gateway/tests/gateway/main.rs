//! The gateway in process, over real TLS on loopback with its demo CA, as
//! the app, the bank's systems and its staff meet it. One integration
//! binary (the test command runs it again on PostgreSQL by this name), one
//! file per feature, over the set-up in `support`.
#![allow(missing_docs)]

mod support;

mod adversarial;
mod alerts;
mod api_keys;
mod bank_api;
mod calls;
mod chat;
mod cluster;
mod console;
mod delivery;
mod device_grant;
mod dpop;
mod events;
mod idempotency;
mod limits;
mod operations;
mod startup;
mod stream;
