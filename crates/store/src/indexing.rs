//! The store's side of search: the in-memory index is built from the
//! unlocked accounts at the first search, kept in step with every write,
//! and dropped with the last unlocked account.

use strongroom_core::AccountId;

use crate::search::SearchIndex;
use crate::{Alert, AlertDetails, SearchHit, Store, StoreError};

impl Store {
    /// Messages and alerts of unlocked accounts whose text contains every
    /// query word as a word prefix (case- and accent-insensitive), newest first.
    ///
    /// The first search after an unlock builds the index: it opens every
    /// message and alert of the unlocked accounts (the store benchmark's
    /// `first_search_ms_*` times it). Until then nothing derived from the
    /// history's words is in memory, and an app that is only opened to
    /// read an alert never pays for it. Damaged rows are left out of the
    /// index and listed by [`Store::damage_found`]: unlock opens only each
    /// conversation's newest messages, so an older damaged message is first
    /// found here (or when it is read).
    ///
    /// # Errors
    /// [`StoreError::Database`] if building the index cannot read the file.
    pub fn search(&mut self, query: &str, limit: usize) -> Result<Vec<SearchHit>, StoreError> {
        if self.accounts.is_empty() {
            // Nothing unlocked, nothing to find (and no index to build).
            return Ok(Vec::new());
        }
        let index = match &mut self.index {
            Some(index) => index,
            None => {
                let (index, damaged) = self.build_index()?;
                for (account, row) in damaged {
                    let found = self.damage_found.entry(account).or_default();
                    if !found.contains(&("messages", row)) {
                        found.push(("messages", row));
                    }
                }
                self.index.insert(index)
            }
        };
        Ok(index.search(query, limit))
    }

    /// Opens every message and alert of the unlocked accounts into a new
    /// index, one chunk at a time; also returns the messages that failed to
    /// open, by account.
    #[allow(clippy::type_complexity)]
    fn build_index(&self) -> Result<(SearchIndex, Vec<(AccountId, i64)>), StoreError> {
        let mut index = SearchIndex::default();
        let mut damaged = Vec::new();
        for &id in self.accounts.keys() {
            let mut after = i64::MIN;
            loop {
                let chunk = self.open_message_chunk(id, after)?;
                let Some(&(last, _, _)) = chunk.last() else {
                    break;
                };
                after = last;
                for (row, _, opened) in chunk {
                    match opened {
                        Ok(message) => index.add(
                            SearchHit::Message(message.id),
                            id,
                            message.sent_at,
                            &message.body,
                        ),
                        Err(err) if err.is_row_failure() => damaged.push((id, row)),
                        Err(other) => return Err(other),
                    }
                }
            }
            if self.schema >= 2 {
                for alert in self.alerts(id, usize::MAX)?.items {
                    index_alert(&mut index, &alert);
                }
            }
        }
        index.shrink();
        Ok((index, damaged))
    }

    /// Rows of an unlocked account found damaged after its unlock, as
    /// `(table, row)`: older messages, which unlock does not open, that
    /// failed when the first search opened them. Cleared when the account
    /// is locked or unlocked again.
    pub fn damage_found(&self, account: AccountId) -> &[(&'static str, i64)] {
        self.damage_found.get(&account).map_or(&[], Vec::as_slice)
    }

    /// Drops an account from the search index, and the index itself once no
    /// account is unlocked: no word of a locked history stays in memory.
    pub(crate) fn forget_in_index(&mut self, id: AccountId) {
        if self.accounts.is_empty() {
            self.index = None;
        } else if let Some(index) = &mut self.index {
            index.remove_account(id);
        }
    }
}

/// Adds an alert's searchable text to the index.
pub(crate) fn index_alert(index: &mut SearchIndex, alert: &Alert) {
    index.add(
        SearchHit::Alert(alert.id),
        alert.account,
        alert.received_at,
        &alert_search_text(&alert.details),
    );
}

pub(crate) fn alert_search_text(details: &AlertDetails) -> String {
    let mut text = details.text.clone();
    if let Some(merchant) = &details.merchant {
        text.push(' ');
        text.push_str(merchant);
    }
    text
}
