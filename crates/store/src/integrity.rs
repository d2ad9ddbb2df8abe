//! Tamper evidence beyond single sealed fields (schema version 5).
//!
//! Sealing (`crypto.rs`) proves that a sealed field is the one written for
//! its row and column. It says nothing about the clear columns (times,
//! delivery state, the acknowledged sequence number), about a sealed field
//! put back to an older ciphertext of the *same* row, about a sealed column
//! set to NULL, about a row deleted, or about the whole file put back to an
//! older copy. Three layers close those gaps:
//!
//! 1. **Row MAC.** Every row carries `mac`: HMAC-SHA256 (a key derived from
//!    the account key) over the table name and every column of the row, clear
//!    and sealed, in a fixed order with types and lengths framed. Any change
//!    to any column, NULL included, fails it; the row is reported as
//!    `Tampered`, like a sealed field that fails to open.
//! 2. **Scopes and head.** Per account and scope (the messages of one
//!    conversation, or one other table) the store keeps how many rows there
//!    are and the XOR of one keyed term per row. The terms come from a
//!    second key over the row's MAC, so an attacker who reads every MAC in
//!    the file still cannot compute any term. A per-account head holds a
//!    write counter and a MAC over the scopes. Each write updates its scopes
//!    and the head in the same transaction. At unlock the scopes are
//!    recomputed from the rows: a deleted, added or rolled-back row (one put
//!    back to an older, genuinely MAC'd version) no longer adds up, and the
//!    scope names the conversation or table.
//! 3. **Anchor.** The head (counter and MAC, 44 bytes) is also kept outside
//!    the file, in the keychain, by the client. A file whose counter is
//!    behind the anchor, or equal with another head, is an older copy.
//!
//! What was found is kept: alarms are recorded in the head (under its MAC),
//! and the scopes keep their recorded values, so the report comes back at
//! every unlock until the account is erased. Nothing is ever deleted or
//! rewritten to make a report go away.

mod anchor;
mod findings;
mod head;
mod row_mac;
mod unlock_check;

pub use anchor::Anchor;
pub use findings::{Alarm, IntegrityFindings, ScopeMismatch};
pub(crate) use head::{AccountIntegrity, Pending};
pub(crate) use row_mac::{
    ACCOUNTS, ALERTS, ALERTS_SCOPE, BANK_LINKS, CONVERSATIONS, MAC_TABLES, MESSAGES, MacRow,
    OUTBOX, encode_row,
};
