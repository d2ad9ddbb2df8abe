//! Unlocking an account (its key checked, its history verified row by row
//! and as a whole, its newest messages kept in memory) and locking it again.

use rusqlite::{OptionalExtension, params};
use strongroom_core::AccountId;

use crate::crypto::AccountKeys;
use crate::indexing::index_alert;
use crate::integrity::{Anchor, IntegrityFindings};
use crate::timeline::WINDOW;
use crate::{AccountKey, ConversationId, Message, SearchHit, Store, StoreError};

/// What unlocking an account found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnlockReport {
    /// Messages and alerts opened and verified.
    pub opened: usize,
    /// Rows that failed their integrity check, as `(table, row)`.
    pub tampered: Vec<(&'static str, i64)>,
    /// What the check of the account's history as a whole found: rows
    /// deleted or rolled back, an older copy of the file.
    pub integrity: IntegrityFindings,
}

impl UnlockReport {
    /// True when nothing was found damaged.
    pub fn is_clean(&self) -> bool {
        self.tampered.is_empty() && self.integrity.is_clean()
    }
}

/// How many messages the unlock pass opens at a time.
const UNLOCK_CHUNK: i64 = 2_000;

impl Store {
    /// Loads an account's store key, checks the account's history as a
    /// whole (its row MACs against the head: rows deleted, rolled back or
    /// swapped), opens (and so verifies) every alert and the newest
    /// messages of each conversation, and keeps those in memory. Older
    /// messages are opened, and checked, when they are read or indexed: the
    /// time to unlock does not grow with the length of the history. The
    /// search index is not built here (see [`Store::search`]) unless it
    /// already exists, in which case the account joins it, which opens every
    /// message.
    ///
    /// # Errors
    /// [`StoreError::UnknownAccount`], [`StoreError::WrongAccountKey`] (the
    /// key is not this account's), or [`StoreError::Tampered`] if the account
    /// row itself is damaged. Damaged messages and alerts do not fail the
    /// unlock: they are listed in the report.
    pub fn unlock_account(
        &mut self,
        id: AccountId,
        key: &AccountKey,
    ) -> Result<UnlockReport, StoreError> {
        self.unlock_account_anchored(id, key, None)
    }

    /// [`Store::unlock_account`], also checking the account's history
    /// against the anchor kept outside the file (see [`Store::anchors_due`]):
    /// a file put back to an older copy is reported as
    /// [`Alarm::RolledBack`](crate::Alarm::RolledBack). Rows deleted or
    /// rolled back one by one are reported with or without an anchor, and
    /// so are rows whose MAC fails among those unlock opens (the alerts, the
    /// small tables and each conversation's newest messages); an older
    /// message is checked when it is read or indexed
    /// ([`Store::damage_found`]).
    ///
    /// # Errors
    /// As [`Store::unlock_account`]. Damage is reported, never an error.
    pub fn unlock_account_anchored(
        &mut self,
        id: AccountId,
        key: &AccountKey,
        anchor: Option<&Anchor>,
    ) -> Result<UnlockReport, StoreError> {
        let check: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT key_check FROM accounts WHERE id = ?1",
                [id.get()],
                |r| r.get(0),
            )
            .optional()?;
        let check = check.ok_or(StoreError::UnknownAccount(id))?;
        let keys = AccountKeys::derive(&self.master, key)?;
        if keys.lookup_hash("key-check", &id.get().to_be_bytes()) != check {
            return Err(StoreError::WrongAccountKey(id));
        }
        self.accounts.insert(id, keys);
        let mut report = UnlockReport::default();
        // First the history as a whole (and, for a store from before row
        // MACs, protecting it), then every row on its own below.
        if let Err(err) = self.check_integrity(id, anchor, &mut report) {
            self.accounts.remove(&id);
            return Err(err);
        }
        let whole_rows = std::mem::take(&mut report.tampered);
        // The key is proven right by the key check; a damaged account row
        // (its name or bank) is reported, and the history stays readable.
        match self.account(id) {
            Ok(_) => {}
            Err(err) if err.is_row_failure() => report.tampered.push(("accounts", id.get())),
            Err(err) => {
                self.accounts.remove(&id);
                return Err(err);
            }
        }
        if let Some(index) = &mut self.index {
            index.remove_account(id);
        }
        self.timelines.remove_account(id);
        self.damage_found.remove(&id);
        let conversations: Vec<i64> = self
            .conn
            .prepare("SELECT id FROM conversations WHERE account_id = ?1")?
            .query_map([id.get()], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for &conversation in &conversations {
            self.conversation_accounts
                .insert(ConversationId(conversation), id);
            self.timelines.start(ConversationId(conversation), id);
        }
        if self.index.is_some() {
            // The index exists (an account unlocked earlier was searched):
            // this account joins it, which opens every message once, as
            // building it does. In chunks, so that at most one chunk of
            // opened messages is held at a time.
            let mut after = i64::MIN;
            loop {
                let chunk = self.open_message_chunk(id, after)?;
                let Some(&(last, _, _)) = chunk.last() else {
                    break;
                };
                after = last;
                self.index_message_chunk(id, chunk, &mut report)?;
            }
        } else {
            // Only each conversation's newest messages are opened, into its
            // window: the time to the first screen and the memory held do
            // not grow with the history. The history as a whole (rows
            // deleted, rolled back or swapped) was checked above from the
            // row MACs; every other message is opened, and so checked, when
            // it is read or when the first search indexes it, and a damaged
            // one is reported there (`Page::tampered`, a search leaves it
            // out).
            for &conversation in &conversations {
                self.open_window(id, ConversationId(conversation), &mut report)?;
            }
        }
        if self.schema >= 2 {
            let page = self.alerts(id, usize::MAX)?;
            for alert in page.items {
                if let Some(index) = &mut self.index {
                    index_alert(index, &alert);
                }
                report.opened += 1;
            }
            report.tampered.extend(page.tampered);
        }
        if let Some(index) = &mut self.index {
            index.shrink();
        }
        for bad in whole_rows {
            if !report.tampered.contains(&bad) {
                report.tampered.push(bad);
            }
        }
        Ok(report)
    }

    /// Opens a conversation's newest messages into its window: one more
    /// than the window holds, so that a longer conversation's window knows
    /// it is not the whole of it. A damaged row among them leaves the
    /// conversation to the file (its reads report the damage) and goes to
    /// the report.
    fn open_window(
        &mut self,
        account: AccountId,
        conversation: ConversationId,
        report: &mut UnlockReport,
    ) -> Result<(), StoreError> {
        let mut opened = Vec::with_capacity(WINDOW + 1);
        {
            let mut stmt = self.conn.prepare_cached(&self.queries.message_latest)?;
            let limit = i64::try_from(WINDOW + 1).unwrap_or(i64::MAX);
            let mut rows = stmt.query(params![conversation.0, limit])?;
            while let Some(row) = rows.next()? {
                let message_id: i64 = row.get(0)?;
                opened.push((message_id, conversation, self.message_from_row(row)));
            }
        }
        self.index_message_chunk(account, opened, report)
    }

    /// Opens up to [`UNLOCK_CHUNK`] of an account's messages after row `after`.
    #[allow(clippy::type_complexity)]
    pub(crate) fn open_message_chunk(
        &self,
        account: AccountId,
        after: i64,
    ) -> Result<Vec<(i64, ConversationId, Result<Message, StoreError>)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&self.queries.message_chunk)?;
        let mut rows = stmt.query(params![account.get(), after, UNLOCK_CHUNK])?;
        let mut opened = Vec::with_capacity(UNLOCK_CHUNK as usize);
        while let Some(row) = rows.next()? {
            let message_id: i64 = row.get(0)?;
            let conversation = ConversationId(row.get(2)?);
            opened.push((message_id, conversation, self.message_from_row(row)));
        }
        Ok(opened)
    }

    /// Keeps the newest opened messages in their windows (and indexes them
    /// if the index is built); damaged rows go to the report.
    #[allow(clippy::type_complexity)]
    fn index_message_chunk(
        &mut self,
        id: AccountId,
        opened: Vec<(i64, ConversationId, Result<Message, StoreError>)>,
        report: &mut UnlockReport,
    ) -> Result<(), StoreError> {
        for (row, conversation, result) in opened {
            match result {
                Ok(message) => {
                    if let Some(index) = &mut self.index {
                        index.add(
                            SearchHit::Message(message.id),
                            id,
                            message.sent_at,
                            &message.body,
                        );
                    }
                    self.timelines.add(message);
                    report.opened += 1;
                }
                Err(err) if err.is_row_failure() => {
                    report.tampered.push(("messages", row));
                    self.timelines.damaged(conversation);
                }
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }

    /// Forgets an account's key from memory (the account stays linked).
    pub fn lock_account(&mut self, id: AccountId) {
        self.accounts.remove(&id);
        self.damage_found.remove(&id);
        self.integrity.remove(&id);
        self.anchored.remove(&id);
        self.timelines.remove_account(id);
        self.forget_in_index(id);
    }
}
