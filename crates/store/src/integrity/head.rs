//! Layer 2, scopes and head: per account and scope a row count and an XOR
//! of keyed row terms, and the head that MACs them with a write counter.
//! Every write moves its rows' terms and commits a new head in its own
//! transaction.

use rusqlite::{Connection, params};
use std::collections::{BTreeMap, HashMap, HashSet};
use strongroom_core::AccountId;

use super::row_mac::{MacRow, MacTable, read_mac_row};
use crate::{Store, StoreError};

/// Scope codes of the tables that are not messages (a conversation id is
/// always positive: AUTOINCREMENT from 1).
pub(crate) const SCOPE_ACCOUNT: i64 = -1;
pub(crate) const SCOPE_CONVERSATIONS: i64 = -2;
pub(crate) const SCOPE_ALERTS: i64 = -3;
pub(crate) const SCOPE_OUTBOX: i64 = -4;
pub(crate) const SCOPE_BANK_LINK: i64 = -5;

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

/// The integrity states a write transaction changes, applied to the store
/// only once the transaction has committed.
#[derive(Default)]
pub(crate) struct Pending {
    pub(super) accounts: HashMap<AccountId, AccountIntegrity>,
    pub(super) changed: HashSet<(AccountId, i64)>,
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

    /// A row just inserted with the MAC its writer computed from the values
    /// it bound ([`encode_row`](super::row_mac::encode_row) over the same
    /// columns): its term joins its scope. The writer's way of saving the
    /// read-back and the `UPDATE` that [`Store::track_row`] costs, which on
    /// the message path made every insert three statements (the store
    /// benchmark's `insert_vs_plain`, docs/benchmarks.md).
    pub(crate) fn track_inserted(
        &self,
        pending: &mut Pending,
        spec: &MacTable,
        account: AccountId,
        scope: i64,
        key: i64,
        mac: &[u8; 32],
    ) -> Result<(), StoreError> {
        if !self.integrity_on() {
            return Ok(());
        }
        pending.toggle(self, account, scope, spec.table, key, Some(mac), true)
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
}
