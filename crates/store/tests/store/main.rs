//! The store's one integration binary, a module per family: conformance
//! over every operation (on a fresh store and across close/reopen), access
//! with locked accounts and wrong keys, tamper evidence of rows and of the
//! history, erase, outbox, key rotation, search highlighting, the canary
//! scan and the kill test.

mod access;
mod adversarial;
mod bursts;
mod canary;
mod conformance;
mod erase;
mod highlights;
mod kill;
mod outbox;
mod rotation;
mod support;
mod tamper;
