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

use rusqlite::types::ValueRef;
use serde::Serialize;
use std::collections::BTreeMap;

use crate::error::StoreError;
use crate::model::ConversationId;

/// A table whose rows carry a MAC.
#[derive(Debug)]
pub(crate) struct MacTable {
    pub table: &'static str,
    /// The row's key column (also the first of `columns`).
    pub key: &'static str,
    /// The column naming the account.
    pub account: &'static str,
    /// The SQL expression giving the row's scope.
    pub scope: &'static str,
    /// Every column but `mac`, in the order the MAC covers them.
    pub columns: &'static str,
    /// How many `columns` there are.
    pub count: usize,
}

/// Scope codes of the tables that are not messages (a conversation id is
/// always positive: AUTOINCREMENT from 1).
pub(crate) const SCOPE_ACCOUNT: i64 = -1;
pub(crate) const SCOPE_CONVERSATIONS: i64 = -2;
pub(crate) const SCOPE_ALERTS: i64 = -3;
pub(crate) const SCOPE_OUTBOX: i64 = -4;
pub(crate) const SCOPE_BANK_LINK: i64 = -5;

pub(crate) const ACCOUNTS: MacTable = MacTable {
    table: "accounts",
    key: "id",
    account: "id",
    scope: "-1",
    columns: "id, key_check, bank, display_name, linked_at, key_version",
    count: 6,
};
pub(crate) const CONVERSATIONS: MacTable = MacTable {
    table: "conversations",
    key: "id",
    account: "account_id",
    scope: "-2",
    columns: "id, account_id, title, created_at, key_version",
    count: 5,
};
pub(crate) const MESSAGES: MacTable = MacTable {
    table: "messages",
    key: "id",
    account: "account_id",
    scope: "conversation_id",
    columns: "id, account_id, conversation_id, content, sent_at, received_at, delivery, \
              key_version, client_id_hash, bank_id_hash",
    count: 10,
};
pub(crate) const ALERTS: MacTable = MacTable {
    table: "alerts",
    key: "id",
    account: "account_id",
    scope: "-3",
    columns: "id, account_id, details, payload, answer, issued_at, received_at, key_version, \
              alert_id_hash",
    count: 9,
};
pub(crate) const OUTBOX: MacTable = MacTable {
    table: "outbox",
    key: "message_id",
    account: "account_id",
    scope: "-4",
    columns: "message_id, account_id, client_id, attempts, next_attempt_at, created_at",
    count: 6,
};
pub(crate) const BANK_LINKS: MacTable = MacTable {
    table: "bank_links",
    key: "id",
    account: "account_id",
    scope: "-5",
    columns: "id, account_id, details, acked_seq, key_version",
    count: 5,
};

/// Every table with row MACs, the account's own row first (its MAC tells
/// whether the account was ever protected; see `Store::check_integrity`).
pub(crate) const MAC_TABLES: [&MacTable; 6] = [
    &ACCOUNTS,
    &CONVERSATIONS,
    &MESSAGES,
    &ALERTS,
    &OUTBOX,
    &BANK_LINKS,
];

/// The table a scope code stands for (messages for a conversation id).
pub(crate) fn scope_table(scope: i64) -> &'static str {
    match scope {
        SCOPE_ACCOUNT => "accounts",
        SCOPE_CONVERSATIONS => "conversations",
        SCOPE_ALERTS => "alerts",
        SCOPE_OUTBOX => "outbox",
        SCOPE_BANK_LINK => "bank_links",
        _ => "messages",
    }
}

/// The bytes a row MAC covers: the table name, then each column framed by
/// its type and (for text and blobs) its length, so that no two different
/// rows encode alike (NULL is not an empty blob, 1 is not "1").
pub(crate) fn encode_row<'a>(table: &str, values: impl Iterator<Item = ValueRef<'a>>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"strongroom/row/v1\0");
    out.extend_from_slice(table.as_bytes());
    out.push(0);
    for value in values {
        match value {
            ValueRef::Null => out.push(0),
            ValueRef::Integer(i) => {
                out.push(1);
                out.extend_from_slice(&i.to_be_bytes());
            }
            ValueRef::Real(r) => {
                out.push(2);
                out.extend_from_slice(&r.to_bits().to_be_bytes());
            }
            ValueRef::Text(t) => {
                out.push(3);
                out.extend_from_slice(&u64::try_from(t.len()).unwrap_or(u64::MAX).to_be_bytes());
                out.extend_from_slice(t);
            }
            ValueRef::Blob(b) => {
                out.push(4);
                out.extend_from_slice(&u64::try_from(b.len()).unwrap_or(u64::MAX).to_be_bytes());
                out.extend_from_slice(b);
            }
        }
    }
    out
}

/// One scope's row count and digest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Scope {
    pub rows: u64,
    pub digest: [u8; 32],
}

impl Scope {
    /// Adds (or, XOR being its own inverse, removes) a row's term.
    pub(crate) fn toggle(&mut self, term: &[u8; 32], adding: bool) {
        for (d, t) in self.digest.iter_mut().zip(term) {
            *d ^= t;
        }
        if adding {
            self.rows += 1;
        } else {
            self.rows = self.rows.saturating_sub(1);
        }
    }
}

/// Alarm bits kept in the head.
pub(crate) const ALARM_ROLLED_BACK: i64 = 1;
pub(crate) const ALARM_HEAD_FORGED: i64 = 2;
pub(crate) const ALARM_HEAD_MISSING: i64 = 4;

/// An unlocked account's integrity state, as last committed (or about to be,
/// in a transaction's copy). Writes work from this copy, never from the
/// scopes in the file, so nothing an attacker wrote there is re-MAC'd.
#[derive(Debug, Clone, Default)]
pub(crate) struct AccountIntegrity {
    pub counter: u64,
    pub alarms: i64,
    /// The keychain's counter when a rollback was found, else -1.
    pub anchored_from: i64,
    pub scopes: BTreeMap<i64, Scope>,
}

impl AccountIntegrity {
    pub(crate) fn fresh() -> Self {
        AccountIntegrity {
            anchored_from: -1,
            ..AccountIntegrity::default()
        }
    }

    /// The bytes the head MAC covers.
    pub(crate) fn encode_head(&self, account: i64) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.scopes.len() * 48);
        out.extend_from_slice(b"strongroom/head/v1\0");
        out.extend_from_slice(&account.to_be_bytes());
        out.extend_from_slice(&self.counter.to_be_bytes());
        out.extend_from_slice(&self.alarms.to_be_bytes());
        out.extend_from_slice(&self.anchored_from.to_be_bytes());
        for (scope, value) in &self.scopes {
            out.extend_from_slice(&scope.to_be_bytes());
            out.extend_from_slice(&value.rows.to_be_bytes());
            out.extend_from_slice(&value.digest);
        }
        out
    }
}

const ANCHOR_FORMAT: &[u8; 4] = b"SRA1";

/// Where an account's history stood when it was last written down outside
/// the database file (the client keeps it in the keychain, beside the
/// account's key): its write counter and head MAC. 44 bytes in keychain form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    /// The account's write counter.
    pub counter: u64,
    /// The MAC of the account's head at that counter.
    pub head: [u8; 32],
}

impl Anchor {
    /// The keychain form: `SRA1`, the counter, the head.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(44);
        out.extend_from_slice(ANCHOR_FORMAT);
        out.extend_from_slice(&self.counter.to_be_bytes());
        out.extend_from_slice(&self.head);
        out
    }

    /// Reads the keychain form back.
    ///
    /// # Errors
    /// [`StoreError::BadAnchor`] if the bytes are not an anchor.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StoreError> {
        let body = bytes
            .strip_prefix(ANCHOR_FORMAT.as_slice())
            .filter(|b| b.len() == 40)
            .ok_or(StoreError::BadAnchor)?;
        let (counter, head) = body.split_at(8);
        Ok(Anchor {
            counter: u64::from_be_bytes(counter.try_into().map_err(|_| StoreError::BadAnchor)?),
            head: head.try_into().map_err(|_| StoreError::BadAnchor)?,
        })
    }
}

/// A scope whose rows no longer add up to what the last write recorded:
/// rows were deleted, added, or put back to an older version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeMismatch {
    /// The table: `messages` for a conversation's messages.
    pub table: &'static str,
    /// The conversation, for messages.
    pub conversation: Option<ConversationId>,
    /// How many rows the last write recorded.
    pub recorded_rows: u64,
    /// How many rows the file holds now.
    pub found_rows: u64,
}

/// Damage to an account's history as a whole, kept in the head once found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Alarm {
    /// The file is an older copy than the one last anchored in the keychain.
    RolledBack {
        /// The write counter the keychain holds.
        anchored: u64,
        /// The write counter the file held.
        found: u64,
    },
    /// The account's head (its record of every scope) failed its MAC: the
    /// record itself was edited, so deletions may be hidden.
    HeadForged,
    /// The account's head was missing from a file that had protected the
    /// account before.
    HeadMissing,
}

/// What the integrity check of an account found beyond single rows (those
/// are in [`crate::UnlockReport::tampered`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IntegrityFindings {
    /// Scopes whose rows no longer add up.
    pub scopes: Vec<ScopeMismatch>,
    /// Damage to the history as a whole, found now or at an earlier unlock.
    pub alarms: Vec<Alarm>,
    /// The account had no MACs yet (a store from before schema version 5):
    /// they were computed now, trusting the file as it was.
    pub trusted_on_first_use: bool,
}

impl IntegrityFindings {
    /// True when nothing was found.
    pub fn is_clean(&self) -> bool {
        self.scopes.is_empty() && self.alarms.is_empty()
    }
}

/// The alarms recorded in a head, as reported.
pub(crate) fn alarms_of(state: &AccountIntegrity, found_counter: u64) -> Vec<Alarm> {
    let mut out = Vec::new();
    if state.alarms & ALARM_ROLLED_BACK != 0 {
        out.push(Alarm::RolledBack {
            anchored: u64::try_from(state.anchored_from).unwrap_or(0),
            found: found_counter,
        });
    }
    if state.alarms & ALARM_HEAD_FORGED != 0 {
        out.push(Alarm::HeadForged);
    }
    if state.alarms & ALARM_HEAD_MISSING != 0 {
        out.push(Alarm::HeadMissing);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_round_trip_and_refuse_other_bytes() {
        let anchor = Anchor {
            counter: 42,
            head: [7; 32],
        };
        let bytes = anchor.to_bytes();
        assert_eq!(bytes.len(), 44, "small enough for any keychain");
        assert_eq!(Anchor::from_bytes(&bytes).unwrap(), anchor);
        assert!(matches!(
            Anchor::from_bytes(&bytes[..43]),
            Err(StoreError::BadAnchor)
        ));
        assert!(matches!(
            Anchor::from_bytes(b"SRM1aaaaaaaa"),
            Err(StoreError::BadAnchor)
        ));
    }

    #[test]
    fn row_encoding_tells_null_from_empty_and_numbers_from_text() {
        let enc = |v: ValueRef<'_>| encode_row("t", std::iter::once(v));
        assert_ne!(enc(ValueRef::Null), enc(ValueRef::Blob(b"")));
        assert_ne!(enc(ValueRef::Integer(1)), enc(ValueRef::Text(b"1")));
        assert_ne!(enc(ValueRef::Text(b"ab")), enc(ValueRef::Blob(b"ab")));
        assert_ne!(
            encode_row("a", [ValueRef::Text(b"b"), ValueRef::Text(b"")].into_iter()),
            encode_row("a", [ValueRef::Text(b""), ValueRef::Text(b"b")].into_iter())
        );
    }
}

// ---- the store's side -------------------------------------------------------

use crate::{Store, UnlockReport};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::{HashMap, HashSet};
use strongroom_core::AccountId;

/// A row as its MAC sees it.
#[derive(Debug)]
pub(crate) struct MacRow {
    pub account: AccountId,
    pub scope: i64,
    pub encoded: Vec<u8>,
    pub mac: Option<Vec<u8>>,
}

fn account_value(value: i64) -> Result<AccountId, StoreError> {
    AccountId::from_stored(value).ok_or(StoreError::Database(
        rusqlite::Error::IntegralValueOutOfRange(0, value),
    ))
}

/// Reads a row's account, scope, encoding and stored MAC.
pub(crate) fn read_mac_row(
    conn: &Connection,
    spec: &MacTable,
    key: i64,
) -> Result<Option<MacRow>, StoreError> {
    let sql = format!(
        "SELECT {}, {}, {}, mac FROM {} WHERE {} = ?1",
        spec.account, spec.scope, spec.columns, spec.table, spec.key
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([key])?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    Ok(Some(mac_row(spec, row, 0)?))
}

/// The [`MacRow`] of a row selected as `account, scope, columns..., mac`
/// starting at `first`.
fn mac_row(spec: &MacTable, row: &Row<'_>, first: usize) -> Result<MacRow, StoreError> {
    let account = account_value(row.get(first)?)?;
    let scope: i64 = row.get(first + 1)?;
    let values = (first + 2..first + 2 + spec.count)
        .map(|i| row.get_ref(i))
        .collect::<Result<Vec<_>, _>>()?;
    let encoded = encode_row(spec.table, values.into_iter());
    let mac = match row.get_ref(first + 2 + spec.count)? {
        ValueRef::Blob(b) => Some(b.to_vec()),
        _ => None,
    };
    Ok(MacRow {
        account,
        scope,
        encoded,
        mac,
    })
}

/// The integrity states a write transaction changes, applied to the store
/// only once the transaction has committed.
#[derive(Default)]
pub(crate) struct Pending {
    accounts: HashMap<AccountId, AccountIntegrity>,
    changed: HashSet<(AccountId, i64)>,
}

impl Pending {
    /// Starts an account that has no state yet (a new link).
    pub(crate) fn fresh(&mut self, account: AccountId) {
        self.accounts.insert(account, AccountIntegrity::fresh());
    }

    fn state(
        &mut self,
        store: &Store,
        account: AccountId,
    ) -> Result<&mut AccountIntegrity, StoreError> {
        match self.accounts.entry(account) {
            std::collections::hash_map::Entry::Occupied(entry) => Ok(entry.into_mut()),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let state = store
                    .integrity
                    .get(&account)
                    .cloned()
                    .ok_or(StoreError::AccountLocked(account))?;
                Ok(entry.insert(state))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn toggle(
        &mut self,
        store: &Store,
        account: AccountId,
        scope: i64,
        table: &str,
        key: i64,
        mac: Option<&[u8]>,
        adding: bool,
    ) -> Result<(), StoreError> {
        // A row without a MAC (never protected, or its MAC removed) has no
        // term; its count still moves.
        let term = match mac {
            Some(mac) => store.keys(account)?.digest_term(table, key, mac),
            None => [0; 32],
        };
        self.state(store, account)?
            .scopes
            .entry(scope)
            .or_default()
            .toggle(&term, adding);
        self.changed.insert((account, scope));
        Ok(())
    }
}

impl Store {
    /// Whether the open schema has row MACs (the fixture tests open older ones).
    pub(crate) fn integrity_on(&self) -> bool {
        self.schema >= 5
    }

    /// The `mac` column in a query, or NULL on a schema without it.
    pub(crate) fn mac_column(schema: u32) -> &'static str {
        if schema >= 5 { "mac" } else { "NULL" }
    }

    /// Checks the MAC of a row selected by a read path as `columns..., mac`
    /// from index `first`.
    pub(crate) fn verify_row_mac(
        &self,
        account: AccountId,
        spec: &MacTable,
        row: &Row<'_>,
        first: usize,
        id: i64,
    ) -> Result<(), StoreError> {
        if !self.integrity_on() {
            return Ok(());
        }
        let values = (first..first + spec.count)
            .map(|i| row.get_ref(i))
            .collect::<Result<Vec<_>, _>>()?;
        let encoded = encode_row(spec.table, values.into_iter());
        match row.get_ref(first + spec.count)? {
            ValueRef::Blob(tag) if self.keys(account)?.integrity_verify(&encoded, tag) => Ok(()),
            _ => Err(StoreError::Tampered {
                table: spec.table,
                row: id,
            }),
        }
    }

    fn genuine(&self, row: &MacRow) -> Result<bool, StoreError> {
        let keys = self.keys(row.account)?;
        Ok(row
            .mac
            .as_deref()
            .is_some_and(|tag| keys.integrity_verify(&row.encoded, tag)))
    }

    /// A row about to be changed: refused if it fails its MAC, so that a
    /// write never re-MACs (and so blesses) what an attacker wrote.
    pub(crate) fn require_genuine(
        &self,
        conn: &Connection,
        spec: &MacTable,
        key: i64,
    ) -> Result<Option<MacRow>, StoreError> {
        if !self.integrity_on() {
            return Ok(None);
        }
        let row = read_mac_row(conn, spec, key)?;
        if let Some(r) = &row
            && !self.genuine(r)?
        {
            return Err(StoreError::Tampered {
                table: spec.table,
                row: key,
            });
        }
        Ok(row)
    }

    /// A row read before it is deleted (no check: a damaged row may go).
    pub(crate) fn row_before_delete(
        &self,
        conn: &Connection,
        spec: &MacTable,
        key: i64,
    ) -> Result<Option<MacRow>, StoreError> {
        if !self.integrity_on() {
            return Ok(None);
        }
        read_mac_row(conn, spec, key)
    }

    /// After a row was inserted or updated: computes and stores its MAC and
    /// moves its term in its scope (out of the old one if it changed).
    pub(crate) fn track_row(
        &self,
        conn: &Connection,
        pending: &mut Pending,
        spec: &MacTable,
        key: i64,
        before: Option<&MacRow>,
    ) -> Result<(), StoreError> {
        if !self.integrity_on() {
            return Ok(());
        }
        if let Some(before) = before {
            self.untrack_row(pending, spec, key, before)?;
        }
        if let Some(after) = read_mac_row(conn, spec, key)? {
            let mac = self.keys(after.account)?.integrity_mac(&after.encoded);
            conn.prepare_cached(&format!(
                "UPDATE {} SET mac = ?1 WHERE {} = ?2",
                spec.table, spec.key
            ))?
            .execute(params![mac.as_slice(), key])?;
            pending.toggle(
                self,
                after.account,
                after.scope,
                spec.table,
                key,
                Some(&mac),
                true,
            )?;
        }
        Ok(())
    }

    /// A row deleted: its term leaves its scope.
    pub(crate) fn untrack_row(
        &self,
        pending: &mut Pending,
        spec: &MacTable,
        key: i64,
        before: &MacRow,
    ) -> Result<(), StoreError> {
        if !self.integrity_on() {
            return Ok(());
        }
        pending.toggle(
            self,
            before.account,
            before.scope,
            spec.table,
            key,
            before.mac.as_deref(),
            false,
        )
    }

    /// Writes the changed scopes and a new head (counter + 1) of every
    /// account the transaction touched. Call last, inside the transaction.
    pub(crate) fn commit_heads(
        &self,
        conn: &Connection,
        pending: &mut Pending,
    ) -> Result<(), StoreError> {
        if !self.integrity_on() {
            return Ok(());
        }
        for &(account, scope) in &pending.changed {
            let value = pending
                .accounts
                .get(&account)
                .and_then(|s| s.scopes.get(&scope))
                .copied()
                .unwrap_or_default();
            conn.prepare_cached(
                "INSERT OR REPLACE INTO integrity_scopes (account_id, scope, rows, digest) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                account.get(),
                scope,
                i64::try_from(value.rows).unwrap_or(i64::MAX),
                value.digest.as_slice()
            ])?;
        }
        for (account, state) in &mut pending.accounts {
            state.counter += 1;
            let mac = self
                .keys(*account)?
                .integrity_mac(&state.encode_head(account.get()));
            conn.prepare_cached(
                "INSERT OR REPLACE INTO integrity_heads \
                 (account_id, counter, alarms, anchored_from, mac) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                account.get(),
                i64::try_from(state.counter).unwrap_or(i64::MAX),
                state.alarms,
                state.anchored_from,
                mac.as_slice()
            ])?;
        }
        Ok(())
    }

    /// Takes the committed states into memory.
    pub(crate) fn adopt(&mut self, pending: Pending) {
        self.integrity.extend(pending.accounts);
    }

    /// Where an unlocked account's history stands now, to keep outside the
    /// file (see [`Anchor`]). `None` for a locked account or an old schema.
    pub fn anchor(&self, account: AccountId) -> Option<Anchor> {
        let state = self.integrity.get(&account)?;
        let keys = self.keys(account).ok()?;
        Some(Anchor {
            counter: state.counter,
            head: keys.integrity_mac(&state.encode_head(account.get())),
        })
    }

    /// The anchors of unlocked accounts written since they were last
    /// handed out: what the client should put in the keychain now. Each is
    /// counted as handed out; call [`Store::anchor_failed`] if keeping it fails.
    pub fn anchors_due(&mut self) -> Vec<(AccountId, Anchor)> {
        let mut due = Vec::new();
        for &account in self.integrity.keys() {
            if let Some(anchor) = self.anchor(account)
                && self.anchored.get(&account) != Some(&anchor.counter)
            {
                due.push((account, anchor));
            }
        }
        for (account, anchor) in &due {
            self.anchored.insert(*account, anchor.counter);
        }
        due
    }

    /// Keeping an anchor failed: it is due again.
    pub fn anchor_failed(&mut self, account: AccountId) {
        self.anchored.remove(&account);
    }

    /// Checks an account's rows against its scopes, its head and the anchor
    /// kept outside the file; protects a store from before schema version 5
    /// on its first unlock. Findings go to `report`; alarms are recorded in
    /// the head so that they come back at every unlock.
    pub(crate) fn check_integrity(
        &mut self,
        account: AccountId,
        anchor: Option<&Anchor>,
        report: &mut UnlockReport,
    ) -> Result<(), StoreError> {
        if !self.integrity_on() {
            return Ok(());
        }
        let head: Option<(i64, i64, i64, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT counter, alarms, anchored_from, mac FROM integrity_heads \
                 WHERE account_id = ?1",
                [account.get()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let protected: bool = self.conn.query_row(
            "SELECT mac IS NOT NULL FROM accounts WHERE id = ?1",
            [account.get()],
            |r| r.get(0),
        )?;
        if head.is_none() && !protected && anchor.is_none() {
            report.integrity.trusted_on_first_use = true;
            return self.protect_first_time(account);
        }
        // The scopes as the rows make them now. Messages and alerts are
        // checked one by one by the unlock's read pass; their MACs alone
        // are needed here. The other tables are small: checked here.
        let mut actual: BTreeMap<i64, Scope> = BTreeMap::new();
        let mut bad_rows = Vec::new();
        {
            let keys = self.keys(account)?;
            for spec in MAC_TABLES {
                let light = spec.table == "messages" || spec.table == "alerts";
                let sql = if light {
                    format!(
                        "SELECT {}, {}, mac FROM {} WHERE {} = ?1",
                        spec.key, spec.scope, spec.table, spec.account
                    )
                } else {
                    format!(
                        "SELECT {}, {}, {}, mac FROM {} WHERE {} = ?1",
                        spec.account, spec.scope, spec.columns, spec.table, spec.account
                    )
                };
                let mut stmt = self.conn.prepare(&sql)?;
                let mut rows = stmt.query([account.get()])?;
                while let Some(row) = rows.next()? {
                    let (key, scope, mac) = if light {
                        let mac = match row.get_ref(2)? {
                            ValueRef::Blob(b) => Some(b.to_vec()),
                            _ => None,
                        };
                        (row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, mac)
                    } else {
                        let key: i64 = row.get(2)?;
                        let r = mac_row(spec, row, 0)?;
                        let ok = r
                            .mac
                            .as_deref()
                            .is_some_and(|tag| keys.integrity_verify(&r.encoded, tag));
                        if !ok {
                            bad_rows.push((spec.table, key));
                        }
                        (key, r.scope, r.mac)
                    };
                    let term = mac
                        .as_deref()
                        .map_or([0; 32], |m| keys.digest_term(spec.table, key, m));
                    actual.entry(scope).or_default().toggle(&term, true);
                }
            }
        }
        let mut stored_scopes = BTreeMap::new();
        {
            let mut stmt = self.conn.prepare(
                "SELECT scope, rows, digest FROM integrity_scopes WHERE account_id = ?1",
            )?;
            let mut rows = stmt.query([account.get()])?;
            while let Some(row) = rows.next()? {
                let digest: Vec<u8> = row.get(2)?;
                let rows_count: i64 = row.get(1)?;
                stored_scopes.insert(
                    row.get::<_, i64>(0)?,
                    Scope {
                        rows: u64::try_from(rows_count).unwrap_or(0),
                        digest: digest.try_into().unwrap_or([0xff; 32]),
                    },
                );
            }
        }
        let mut new_alarms = 0;
        let (mut state, found_counter) = match head {
            Some((counter, alarms, anchored_from, mac)) => {
                let stored = AccountIntegrity {
                    counter: u64::try_from(counter).unwrap_or(0),
                    alarms,
                    anchored_from,
                    scopes: stored_scopes,
                };
                let genuine = self
                    .keys(account)?
                    .integrity_verify(&stored.encode_head(account.get()), &mac);
                if let Some(anchor) = anchor
                    && (stored.counter < anchor.counter
                        || (stored.counter == anchor.counter && anchor.head.as_slice() != mac))
                {
                    new_alarms |= ALARM_ROLLED_BACK;
                }
                if genuine {
                    // The recorded scopes are kept, so a mismatch stays
                    // reported at every unlock rather than being adopted.
                    let scopes: std::collections::BTreeSet<i64> =
                        stored.scopes.keys().chain(actual.keys()).copied().collect();
                    for scope in scopes {
                        let recorded = stored.scopes.get(&scope).copied().unwrap_or_default();
                        let found = actual.get(&scope).copied().unwrap_or_default();
                        if recorded != found {
                            report.integrity.scopes.push(ScopeMismatch {
                                table: scope_table(scope),
                                conversation: (scope > 0).then_some(ConversationId(scope)),
                                recorded_rows: recorded.rows,
                                found_rows: found.rows,
                            });
                        }
                    }
                    let found = stored.counter;
                    (stored, found)
                } else {
                    // Nothing in the record can be trusted: go on from the
                    // rows as they are, with the alarm kept for good.
                    new_alarms |= ALARM_HEAD_FORGED;
                    let found = stored.counter;
                    (
                        AccountIntegrity {
                            scopes: actual,
                            ..stored
                        },
                        found,
                    )
                }
            }
            None => {
                new_alarms |= ALARM_HEAD_MISSING;
                (
                    AccountIntegrity {
                        scopes: actual,
                        ..AccountIntegrity::fresh()
                    },
                    0,
                )
            }
        };
        if new_alarms & ALARM_ROLLED_BACK != 0
            && let Some(anchor) = anchor
        {
            state.anchored_from = i64::try_from(anchor.counter).unwrap_or(i64::MAX);
        }
        let unrecorded = new_alarms & !state.alarms;
        state.alarms |= new_alarms;
        report.integrity.alarms = alarms_of(&state, found_counter);
        for bad in bad_rows {
            if !report.tampered.contains(&bad) {
                report.tampered.push(bad);
            }
        }
        if unrecorded != 0 {
            // Recorded now, in the head and under its MAC.
            let mut pending = Pending::default();
            pending.accounts.insert(account, state);
            pending.changed.extend(
                pending.accounts[&account]
                    .scopes
                    .keys()
                    .map(|s| (account, *s)),
            );
            let tx = self.conn.unchecked_transaction()?;
            self.commit_heads(&tx, &mut pending)?;
            tx.commit()?;
            self.adopt(pending);
        } else {
            if let Some(anchor) = anchor
                && anchor.counter == state.counter
            {
                self.anchored.insert(account, anchor.counter);
            }
            self.integrity.insert(account, state);
        }
        Ok(())
    }

    /// An account from before schema version 5: MACs every row as it is
    /// now (trust on first use) and records its scopes and head.
    fn protect_first_time(&mut self, account: AccountId) -> Result<(), StoreError> {
        let mut pending = Pending::default();
        pending.fresh(account);
        let tx = self.conn.unchecked_transaction()?;
        for spec in MAC_TABLES {
            let keys: Vec<i64> = tx
                .prepare(&format!(
                    "SELECT {} FROM {} WHERE {} = ?1",
                    spec.key, spec.table, spec.account
                ))?
                .query_map([account.get()], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for key in keys {
                self.track_row(&tx, &mut pending, spec, key, None)?;
            }
        }
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        Ok(())
    }
}
