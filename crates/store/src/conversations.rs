//! Conversations with the bank of an account, their sealed titles, and
//! which account each belongs to.

use rusqlite::{OptionalExtension, params};
use strongroom_core::AccountId;

use crate::integrity::{CONVERSATIONS, Pending};
use crate::sealing::account_of;
use crate::{Conversation, ConversationId, Millis, Page, Store, StoreError};

impl Store {
    /// Opens a conversation with the bank of an account.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`] or [`StoreError::Database`].
    pub fn add_conversation(
        &mut self,
        account: AccountId,
        title: &str,
        created_at: Millis,
    ) -> Result<ConversationId, StoreError> {
        let id = self.next_conversation;
        let title = self.seal(account, "conversations", "title", id, title.as_bytes())?;
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO conversations (id, account_id, title, created_at, key_version) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id,
                account.get(),
                title,
                created_at,
                self.master.current_version()
            ],
        )?;
        let mut pending = Pending::default();
        self.track_row(&tx, &mut pending, &CONVERSATIONS, id, None)?;
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        self.next_conversation += 1;
        self.conversation_accounts
            .insert(ConversationId(id), account);
        self.timelines.start(ConversationId(id), account);
        Ok(ConversationId(id))
    }

    /// The conversations of an account, oldest first.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`] or [`StoreError::Database`].
    pub fn conversations(&self, account: AccountId) -> Result<Page<Conversation>, StoreError> {
        self.keys(account)?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {}, {} FROM conversations WHERE account_id = ?1 ORDER BY created_at, id",
            CONVERSATIONS.columns,
            Self::mac_column(self.schema)
        ))?;
        let mut rows = stmt.query([account.get()])?;
        let mut page = Page::default();
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let (title, created_at, version): (Vec<u8>, i64, u32) =
                (row.get(2)?, row.get(3)?, row.get(4)?);
            let result = self
                .verify_row_mac(account, &CONVERSATIONS, row, 0, id)
                .and_then(|()| {
                    self.open_text(account, "conversations", "title", id, version, &title)
                })
                .map(|title| Conversation {
                    id: ConversationId(id),
                    account,
                    title,
                    created_at,
                });
            page.push(result, "conversations", id)?;
        }
        Ok(page)
    }

    pub(crate) fn conversation_account(
        &mut self,
        id: ConversationId,
    ) -> Result<AccountId, StoreError> {
        if let Some(account) = self.conversation_accounts.get(&id) {
            return Ok(*account);
        }
        let account = self
            .conn
            .query_row(
                "SELECT account_id FROM conversations WHERE id = ?1",
                [id.0],
                |r| account_of(r, 0),
            )
            .optional()?
            .ok_or(StoreError::NotFound {
                table: "conversations",
                row: id.0,
            })?;
        self.conversation_accounts.insert(id, account);
        Ok(account)
    }
}
