//! The recent window of each conversation, kept in memory while its account
//! is unlocked.
//!
//! Unlocking an account opens the newest [`WINDOW`] messages of each
//! conversation (and one more, to know whether there are more) and keeps
//! them here, so opening a conversation (the app's most frequent read)
//! costs no decryption. Every write through the store updates
//! it; locking or erasing the account drops it. A conversation with a damaged
//! row in its window is not kept, so its reads go to the file and report the
//! damage exactly as before. Nothing here is ever written anywhere.

use std::collections::{HashMap, HashSet, VecDeque};
use strongroom_core::AccountId;

use crate::model::{ConversationId, Delivery, Message, MessageId};

/// Messages kept per conversation: one screen of history.
pub(crate) const WINDOW: usize = 50;

struct Timeline {
    account: AccountId,
    /// Newest first, by `(sent_at, id)` like the SQL query.
    messages: VecDeque<Message>,
    /// False once an older message has been pushed out: the window then
    /// answers only for `limit <= messages.len()`.
    complete: bool,
}

/// The windows of every unlocked conversation.
#[derive(Default)]
pub(crate) struct Timelines {
    by_conversation: HashMap<ConversationId, Timeline>,
    /// Conversations with a damaged row: always read from the file.
    uncached: HashSet<ConversationId>,
}

fn newer(a: &Message, b: &Message) -> bool {
    (a.sent_at, a.id) > (b.sent_at, b.id)
}

impl Timelines {
    /// Starts an empty, complete window for a conversation (a new one, or
    /// every conversation of an account being unlocked).
    pub(crate) fn start(&mut self, conversation: ConversationId, account: AccountId) {
        self.uncached.remove(&conversation);
        self.by_conversation.insert(
            conversation,
            Timeline {
                account,
                messages: VecDeque::new(),
                complete: true,
            },
        );
    }

    /// Adds a message that is now stored (or was found at unlock).
    pub(crate) fn add(&mut self, message: Message) {
        let Some(timeline) = self.by_conversation.get_mut(&message.conversation) else {
            return;
        };
        let messages = &mut timeline.messages;
        if messages.len() == WINDOW
            && messages
                .back()
                .is_some_and(|oldest| newer(oldest, &message))
        {
            timeline.complete = false;
            return;
        }
        let at = messages.partition_point(|m| newer(m, &message));
        messages.insert(at, message);
        if messages.len() > WINDOW {
            messages.pop_back();
            timeline.complete = false;
        }
    }

    /// Marks a conversation as having a damaged row: reads go to the file.
    pub(crate) fn damaged(&mut self, conversation: ConversationId) {
        self.by_conversation.remove(&conversation);
        self.uncached.insert(conversation);
    }

    /// The newest `limit` messages, when the window can answer.
    pub(crate) fn latest(
        &self,
        conversation: ConversationId,
        limit: usize,
    ) -> Option<Vec<Message>> {
        if self.uncached.contains(&conversation) {
            return None;
        }
        let timeline = self.by_conversation.get(&conversation)?;
        if limit > timeline.messages.len() && !timeline.complete {
            return None;
        }
        Some(timeline.messages.iter().take(limit).cloned().collect())
    }

    /// A message's delivery state changed.
    pub(crate) fn set_delivery(
        &mut self,
        conversation: ConversationId,
        id: MessageId,
        delivery: Delivery,
    ) {
        if let Some(m) = self
            .by_conversation
            .get_mut(&conversation)
            .and_then(|t| t.messages.iter_mut().find(|m| m.id == id))
        {
            m.delivery = delivery;
        }
    }

    /// A message was deleted (an echo merged into the message it echoes).
    /// A window that was not complete can then no longer answer for its full
    /// length, which `latest` already accounts for.
    pub(crate) fn remove(&mut self, conversation: ConversationId, id: MessageId) {
        if let Some(timeline) = self.by_conversation.get_mut(&conversation) {
            timeline.messages.retain(|m| m.id != id);
        }
    }

    /// Drops every window of an account (lock, erase).
    pub(crate) fn remove_account(&mut self, account: AccountId) {
        self.by_conversation.retain(|_, t| t.account != account);
    }
}
