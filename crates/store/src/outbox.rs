//! The outbox: messages the customer wrote, kept until the bank acknowledges
//! them, with their send attempts; an acknowledgement merges any echo.

use rusqlite::{OptionalExtension, params};
use strongroom_core::AccountId;

use crate::integrity::{MESSAGES, OUTBOX, Pending};
use crate::{
    ConversationId, Delivery, MessageId, Millis, OutboxItem, Page, SearchHit, Store, StoreError,
};

impl Store {
    /// Messages of an account waiting for the bank's acknowledgement, oldest
    /// first. Nothing leaves the outbox except through
    /// [`Store::acknowledge_outgoing`].
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`], [`StoreError::Tampered`] or
    /// [`StoreError::Database`].
    pub fn outbox(&self, account: AccountId) -> Result<Page<OutboxItem>, StoreError> {
        let keys = self.keys(account)?;
        let mac = if self.integrity_on() { "o.mac" } else { "NULL" };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT o.message_id, o.account_id, o.client_id, o.attempts, o.next_attempt_at, \
             o.created_at, {mac}, m.client_id_hash \
             FROM outbox o LEFT JOIN messages m ON m.id = o.message_id \
             WHERE o.account_id = ?1 ORDER BY o.created_at, o.message_id"
        ))?;
        let mut rows = stmt.query([account.get()])?;
        let mut read = Vec::new();
        while let Some(r) = rows.next()? {
            let message: i64 = r.get(0)?;
            // The outbox row's own MAC: its attempts and next try are acted on.
            let genuine = self.verify_row_mac(account, &OUTBOX, r, 0, message);
            read.push((
                message,
                r.get::<_, String>(2)?,
                r.get::<_, u32>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Option<Vec<u8>>>(7)?,
                genuine,
            ));
        }
        drop(rows);
        let mut page = Page::default();
        for (message, client_id, attempts, next_attempt_at, client_hash, genuine) in read {
            // The outbox row's clear columns are checked against the sealed
            // message: it must be this account's, under this idempotency key.
            let result = genuine
                .and_then(|()| self.message(MessageId(message)))
                .and_then(|m| {
                    let genuine = m.account == account
                        && client_hash.as_deref()
                            == Some(
                                keys.lookup_hash("client-id", client_id.as_bytes())
                                    .as_slice(),
                            );
                    if genuine {
                        Ok(OutboxItem {
                            message: m,
                            client_id,
                            attempts,
                            next_attempt_at,
                        })
                    } else {
                        Err(StoreError::Tampered {
                            table: "outbox",
                            row: message,
                        })
                    }
                });
            let table = if matches!(
                result,
                Err(StoreError::Tampered {
                    table: "outbox",
                    ..
                })
            ) {
                "outbox"
            } else {
                "messages"
            };
            page.push(result, table, message)?;
        }
        Ok(page)
    }

    /// Records a failed send attempt and when to try again.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] or [`StoreError::Database`].
    pub fn record_attempt(
        &mut self,
        id: MessageId,
        next_attempt_at: Millis,
    ) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let before = self.require_genuine(&tx, &OUTBOX, id.0)?;
        let changed = tx.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?1 WHERE message_id = ?2",
            params![next_attempt_at, id.0],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound {
                table: "outbox",
                row: id.0,
            });
        }
        let mut pending = Pending::default();
        self.track_row(&tx, &mut pending, &OUTBOX, id.0, before.as_ref())?;
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        Ok(())
    }

    /// The bank acknowledged a message: mark it sent, remember the bank's id
    /// for deduplication, and take it out of the outbox, in one transaction.
    /// Acknowledging twice is harmless.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`], [`StoreError::NotFound`] for an unknown
    /// idempotency key, or [`StoreError::Database`].
    pub fn acknowledge_outgoing(
        &mut self,
        account: AccountId,
        client_id: &str,
        bank_message_id: &str,
    ) -> Result<MessageId, StoreError> {
        let keys = self.keys(account)?;
        let client_hash = keys.lookup_hash("client-id", client_id.as_bytes());
        let bank_hash = keys.lookup_hash("bank-message-id", bank_message_id.as_bytes());
        let tx = self.conn.unchecked_transaction()?;
        let mut pending = Pending::default();
        let (id, conversation): (i64, i64) = tx
            .query_row(
                "SELECT id, conversation_id FROM messages \
                 WHERE client_id_hash = ?1 AND account_id = ?2",
                params![client_hash, account.get()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or(StoreError::NotFound {
                table: "outbox",
                row: 0,
            })?;
        // The bank may have echoed the message on the stream before this
        // acknowledgement, without our idempotency key: that echo was stored
        // as a message of its own. The queued row is the one to keep.
        let echo: Option<(i64, i64)> = tx
            .query_row(
                "SELECT id, conversation_id FROM messages WHERE bank_id_hash = ?1 AND id != ?2",
                params![bank_hash, id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((echo_id, _)) = echo {
            let echo_row = self.row_before_delete(&tx, &MESSAGES, echo_id)?;
            // An echo never has an outbox row; if one were there, the
            // cascade below would take it, and its term must go too.
            let echo_outbox = self.row_before_delete(&tx, &OUTBOX, echo_id)?;
            tx.execute("DELETE FROM messages WHERE id = ?1", [echo_id])?;
            if let Some(row) = &echo_row {
                self.untrack_row(&mut pending, &MESSAGES, echo_id, row)?;
            }
            if let Some(row) = &echo_outbox {
                self.untrack_row(&mut pending, &OUTBOX, echo_id, row)?;
            }
        }
        let before = self.require_genuine(&tx, &MESSAGES, id)?;
        // Record the bank's id whatever the delivery state, and move a queued
        // message to sent (a later state, delivered or read, is kept).
        tx.execute(
            "UPDATE messages SET bank_id_hash = ?1, \
             delivery = CASE WHEN delivery = ?2 THEN ?3 ELSE delivery END WHERE id = ?4",
            params![
                bank_hash,
                Delivery::Queued.to_sql(),
                Delivery::Sent.to_sql(),
                id
            ],
        )?;
        self.track_row(&tx, &mut pending, &MESSAGES, id, before.as_ref())?;
        let outbox_row = self.row_before_delete(&tx, &OUTBOX, id)?;
        tx.execute("DELETE FROM outbox WHERE message_id = ?1", [id])?;
        if let Some(row) = &outbox_row {
            self.untrack_row(&mut pending, &OUTBOX, id, row)?;
        }
        let delivery: i64 =
            tx.query_row("SELECT delivery FROM messages WHERE id = ?1", [id], |r| {
                r.get(0)
            })?;
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        if let Some((echo_id, echo_conversation)) = echo {
            if let Some(index) = &mut self.index {
                index.remove(SearchHit::Message(MessageId(echo_id)));
            }
            self.timelines
                .remove(ConversationId(echo_conversation), MessageId(echo_id));
        }
        self.timelines.set_delivery(
            ConversationId(conversation),
            MessageId(id),
            Delivery::from_sql(delivery, id)?,
        );
        Ok(MessageId(id))
    }
}
