//! Messages: stored in batches with deduplication, queued for sending,
//! read from the in-memory window or the file, and their delivery state.

use rusqlite::types::ValueRef;
use rusqlite::{OptionalExtension, Row, params};
use strongroom_core::{AccountId, Sensitive};

use crate::crypto::FieldRef;
use crate::integrity::{MESSAGES, OUTBOX, Pending, encode_row};
use crate::message_content::{Content, decode_content, display_author, encode_content};
use crate::sealing::{account_of, blob};
use crate::{
    ConversationId, Delivery, Direction, Inserted, Message, MessageId, Millis, NewMessage, Page,
    SearchHit, Store, StoreError,
};

impl Store {
    /// Stores messages in one transaction. A message whose idempotency key or
    /// bank id is already stored is not stored again: it comes back as
    /// [`Inserted::Duplicate`] with the stored id.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`], [`StoreError::NotFound`] for an unknown
    /// conversation, or [`StoreError::Database`]; on error nothing of the
    /// batch is stored.
    pub fn insert_messages(
        &mut self,
        messages: &[NewMessage],
    ) -> Result<Vec<Inserted<MessageId>>, StoreError> {
        self.write_messages(messages, false)
    }

    /// Stores a message the customer wrote and queues it in the outbox, in
    /// one transaction. Sending the same idempotency key twice stores it once.
    ///
    /// # Errors
    /// As [`Store::insert_messages`].
    pub fn queue_outgoing(
        &mut self,
        conversation: ConversationId,
        author: &str,
        body: &str,
        client_id: &str,
        now: Millis,
    ) -> Result<Inserted<MessageId>, StoreError> {
        let message = NewMessage {
            conversation,
            direction: Direction::Outgoing,
            author: author.to_owned(),
            body: body.to_owned(),
            sent_at: now,
            received_at: None,
            delivery: Delivery::Queued,
            client_id: Some(client_id.to_owned()),
            bank_message_id: None,
        };
        let mut inserted = self.write_messages(std::slice::from_ref(&message), true)?;
        inserted.pop().ok_or(StoreError::NotFound {
            table: "messages",
            row: 0,
        })
    }

    fn write_messages(
        &mut self,
        messages: &[NewMessage],
        to_outbox: bool,
    ) -> Result<Vec<Inserted<MessageId>>, StoreError> {
        let mut accounts = Vec::with_capacity(messages.len());
        for m in messages {
            accounts.push(self.conversation_account(m.conversation)?);
        }
        let version = self.master.current_version();
        let mut next = self.next_message;
        let mut results = Vec::with_capacity(messages.len());
        let mut to_index = Vec::new();
        let mut pending = Pending::default();
        let tx = self.conn.unchecked_transaction()?;
        {
            // The row's MAC is computed from the values bound here and
            // written with them: one statement a message, where reading the
            // row back and updating its MAC made three.
            let with_mac = self.integrity_on();
            let mut insert = tx.prepare_cached(if with_mac {
                "INSERT INTO messages (id, account_id, conversation_id, content, \
                 sent_at, received_at, delivery, client_id_hash, bank_id_hash, key_version, mac) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
                 ON CONFLICT(client_id_hash) DO NOTHING ON CONFLICT(bank_id_hash) DO NOTHING"
            } else {
                "INSERT INTO messages (id, account_id, conversation_id, content, \
                 sent_at, received_at, delivery, client_id_hash, bank_id_hash, key_version) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT(client_id_hash) DO NOTHING ON CONFLICT(bank_id_hash) DO NOTHING"
            })?;
            for (m, &account) in messages.iter().zip(&accounts) {
                let keys = self.keys(account)?;
                let client_hash = m
                    .client_id
                    .as_ref()
                    .map(|c| keys.lookup_hash("client-id", c.as_bytes()));
                let bank_hash = m
                    .bank_message_id
                    .as_ref()
                    .map(|b| keys.lookup_hash("bank-message-id", b.as_bytes()));
                let id = next;
                let field = FieldRef {
                    table: "messages",
                    column: "content",
                    account,
                    row: id,
                    context: m.conversation.0,
                };
                let author = display_author(&m.author);
                let plain = Sensitive::new(encode_content(m.direction, author, &m.body));
                let content = keys.seal(&self.rng, version, field, plain.expose())?;
                let mac = with_mac.then(|| {
                    keys.integrity_mac(&message_row_encoding(
                        id,
                        account,
                        m,
                        &content,
                        version,
                        client_hash.as_deref(),
                        bank_hash.as_deref(),
                    ))
                });
                let values = params![
                    id,
                    account.get(),
                    m.conversation.0,
                    content,
                    m.sent_at,
                    m.received_at,
                    m.delivery.to_sql(),
                    client_hash,
                    bank_hash,
                    version,
                    mac.as_ref().map(<[u8; 32]>::as_slice),
                ];
                let changed = insert.execute(if with_mac { values } else { &values[..10] })?;
                if changed == 1 {
                    next += 1;
                    if let Some(mac) = &mac {
                        self.track_inserted(
                            &mut pending,
                            &MESSAGES,
                            account,
                            m.conversation.0,
                            id,
                            mac,
                        )?;
                    }
                    if to_outbox {
                        tx.execute(
                            "INSERT INTO outbox (message_id, account_id, client_id, attempts, \
                             next_attempt_at, created_at) VALUES (?1, ?2, ?3, 0, ?4, ?4)",
                            params![id, account.get(), m.client_id, m.sent_at],
                        )?;
                        self.track_row(&tx, &mut pending, &OUTBOX, id, None)?;
                    }
                    to_index.push(Message {
                        id: MessageId(id),
                        account,
                        conversation: m.conversation,
                        direction: m.direction,
                        author: author.to_owned(),
                        body: m.body.clone(),
                        sent_at: m.sent_at,
                        received_at: m.received_at,
                        delivery: m.delivery,
                    });
                    results.push(Inserted::New(MessageId(id)));
                } else {
                    let existing: i64 = tx.query_row(
                        "SELECT id FROM messages WHERE client_id_hash = ?1 OR bank_id_hash = ?2",
                        params![client_hash, bank_hash],
                        |r| r.get(0),
                    )?;
                    results.push(Inserted::Duplicate(MessageId(existing)));
                }
            }
        }
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        self.next_message = next;
        for message in to_index {
            if let Some(index) = &mut self.index {
                index.add(
                    SearchHit::Message(message.id),
                    message.account,
                    message.sent_at,
                    &message.body,
                );
            }
            self.timelines.add(message);
        }
        Ok(results)
    }

    /// The latest `limit` messages of a conversation, newest first.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`] or [`StoreError::Database`]. Tampered
    /// rows are listed in the page, not returned as an error.
    pub fn latest_messages(
        &self,
        conversation: ConversationId,
        limit: usize,
    ) -> Result<Page<Message>, StoreError> {
        if let Some(items) = self.timelines.latest(conversation, limit) {
            return Ok(Page {
                items,
                tampered: Vec::new(),
            });
        }
        self.latest_messages_from_file(conversation, limit)
    }

    /// [`Store::latest_messages`] read from the file, bypassing the in-memory
    /// window: every message opened and checked on the spot.
    ///
    /// # Errors
    /// As [`Store::latest_messages`].
    pub fn latest_messages_from_file(
        &self,
        conversation: ConversationId,
        limit: usize,
    ) -> Result<Page<Message>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&self.queries.message_latest)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = stmt.query(params![conversation.0, limit])?;
        let mut page = Page::default();
        while let Some(row) = rows.next()? {
            let result = self.message_from_row(row);
            page.push(result, "messages", row.get(0)?)?;
        }
        Ok(page)
    }

    /// One message.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::AccountLocked`],
    /// [`StoreError::Tampered`] or [`StoreError::Database`].
    pub fn message(&self, id: MessageId) -> Result<Message, StoreError> {
        let mut stmt = self.conn.prepare_cached(&self.queries.message_by_id)?;
        let mut rows = stmt.query([id.0])?;
        match rows.next()? {
            Some(row) => self.message_from_row(row),
            None => Err(StoreError::NotFound {
                table: "messages",
                row: id.0,
            }),
        }
    }

    pub(crate) fn message_from_row(&self, row: &Row<'_>) -> Result<Message, StoreError> {
        let id: i64 = row.get(0)?;
        let account = account_of(row, 1)?;
        let version: u32 = row.get(7)?;
        let conversation: i64 = row.get(2)?;
        self.verify_row_mac(account, &MESSAGES, row, 0, id)?;
        let content = self.open_content(
            account,
            id,
            conversation,
            version,
            blob(row, 3, "messages", id)?,
        )?;
        Ok(Message {
            id: MessageId(id),
            account,
            conversation: ConversationId(row.get(2)?),
            direction: content.direction,
            author: content.author,
            body: content.body,
            sent_at: row.get(4)?,
            received_at: row.get(5)?,
            delivery: Delivery::from_sql(row.get(6)?, id)?,
        })
    }

    fn open_content(
        &self,
        account: AccountId,
        id: i64,
        conversation: i64,
        version: u32,
        sealed: &[u8],
    ) -> Result<Content, StoreError> {
        let field = FieldRef {
            table: "messages",
            column: "content",
            account,
            row: id,
            context: conversation,
        };
        let plain = self.keys(account)?.open(version, field, sealed)?;
        decode_content(plain).ok_or(StoreError::Tampered {
            table: "messages",
            row: id,
        })
    }

    /// Updates a message's delivery state.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] or [`StoreError::Database`].
    pub fn set_delivery(&mut self, id: MessageId, delivery: Delivery) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let before = self.require_genuine(&tx, &MESSAGES, id.0)?;
        let conversation: i64 = tx
            .query_row(
                "UPDATE messages SET delivery = ?1 WHERE id = ?2 RETURNING conversation_id",
                params![delivery.to_sql(), id.0],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::NotFound {
                table: "messages",
                row: id.0,
            })?;
        let mut pending = Pending::default();
        self.track_row(&tx, &mut pending, &MESSAGES, id.0, before.as_ref())?;
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        self.timelines
            .set_delivery(ConversationId(conversation), id, delivery);
        Ok(())
    }
}

/// What the row MAC of a new message covers ([`MESSAGES`]' columns, in their
/// order), built from the values about to be bound, so that the MAC is
/// written by the insert itself. The store's read paths check it against
/// the same encoding of the row as SQLite returns it: a column changed here
/// and not there fails every message read, so the conformance suite would
/// show it at once.
#[allow(clippy::too_many_arguments)]
fn message_row_encoding(
    id: i64,
    account: AccountId,
    m: &NewMessage,
    content: &[u8],
    version: u32,
    client_hash: Option<&[u8]>,
    bank_hash: Option<&[u8]>,
) -> Vec<u8> {
    encode_row(
        MESSAGES.table,
        [
            ValueRef::Integer(id),
            ValueRef::Integer(account.get()),
            ValueRef::Integer(m.conversation.0),
            ValueRef::Blob(content),
            ValueRef::Integer(m.sent_at),
            m.received_at.map_or(ValueRef::Null, ValueRef::Integer),
            ValueRef::Integer(m.delivery.to_sql()),
            ValueRef::Integer(i64::from(version)),
            client_hash.map_or(ValueRef::Null, ValueRef::Blob),
            bank_hash.map_or(ValueRef::Null, ValueRef::Blob),
        ]
        .into_iter(),
    )
}
