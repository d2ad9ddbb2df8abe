//! What the window reads: the home screen's accounts and balances, the
//! alert feed, a conversation, search and the privacy ledger.

use std::collections::HashMap;
use strongroom_core::AccountId;
use strongroom_core::text::neutralize;
use strongroom_store::{Direction, SearchHit, Verification};

use super::app_core::{AppCore, account_id};
use super::error::AppError;
use super::highlight::highlights;
use super::views::{
    AccountView, AlertItem, LedgerEntry, LiveEvent, MessageView, SearchResult, Shared,
};
use crate::service::lock;

impl AppCore {
    /// The linked accounts.
    ///
    /// # Errors
    /// `locked` while the app is locked, `not_ready` before it has opened,
    /// and the store's own code when a row cannot be read.
    pub fn accounts(&self) -> Result<Vec<AccountView>, AppError> {
        self.touch();
        let client = self.client()?;
        let accounts = client.accounts()?;
        let mut out = Vec::new();
        let state = lock(&self.state);
        for a in accounts {
            // Kept with the link (balances.rs): no alert is read here.
            let (balance, history) = state.balances.view(a.id);
            out.push(AccountView {
                id: a.id.to_string(),
                bank_name: a.bank_name,
                issuer: a.issuer,
                linked_at: a.linked_at,
                flags: a.flags,
                connected: state.connected.contains(&a.id),
                balance,
                balance_history: history,
                unread: state.unread.get(&a.id).copied().unwrap_or(0),
            });
        }
        Ok(out)
    }

    /// The alert feed, newest first, of one account or all. Reading it
    /// marks the alerts seen.
    ///
    /// # Errors
    /// `locked` while the app is locked, `not_ready` before it has opened,
    /// and the store's own code when a row cannot be read.
    pub fn alerts(&self, account: Option<&str>, limit: usize) -> Result<Vec<AlertItem>, AppError> {
        self.touch();
        let client = self.client()?;
        let accounts = client.accounts()?;
        let wanted = account.map(account_id).transpose()?;
        let mut out = Vec::new();
        // Showing alerts marks them read.
        let mut seen = false;
        for a in accounts
            .into_iter()
            .filter(|a| wanted.is_none_or(|w| w == a.id))
        {
            for alert in client.alerts(a.id, limit.min(1000))? {
                out.push(AlertItem {
                    account: a.id.to_string(),
                    bank_name: a.bank_name.clone(),
                    alert,
                });
            }
            if lock(&self.state)
                .unread
                .remove(&a.id)
                .is_some_and(|n| n > 0)
            {
                seen = true;
            }
        }
        if seen {
            self.announce(LiveEvent::Unread {
                total: self.unread_total(),
            });
        }
        out.sort_by_key(|x| std::cmp::Reverse(x.alert.issued_at));
        out.truncate(limit);
        Ok(out)
    }

    /// Unread alerts over all accounts, for the tray.
    pub fn unread_total(&self) -> u32 {
        lock(&self.state).unread.values().sum()
    }

    /// A conversation, oldest first.
    ///
    /// # Errors
    /// `locked` while the app is locked, `not_ready` before it has opened,
    /// and the store's own code when a row cannot be read.
    pub fn conversation(&self, account: &str, limit: usize) -> Result<Vec<MessageView>, AppError> {
        self.touch();
        let account = account_id(account)?;
        let client = self.client()?;
        client.with_device(|d| {
            let link = d
                .store()
                .bank_link(account)?
                .ok_or_else(|| AppError::UnknownAccount(account.to_string()))?;
            let page = d
                .store()
                .latest_messages(link.conversation, limit.clamp(1, 500))?;
            Ok(page
                .items
                .into_iter()
                .rev()
                .map(|m| MessageView {
                    id: m.id.0,
                    direction: m.direction,
                    author: neutralize(&m.author).into_owned(),
                    body: neutralize(&m.body).into_owned(),
                    sent_at: m.sent_at,
                    delivery: m.delivery,
                })
                .collect())
        })
    }

    /// Searches messages and alerts, newest first, with highlight ranges.
    ///
    /// # Errors
    /// `locked` while the app is locked, `not_ready` before it has opened,
    /// and the store's own code when a row cannot be read.
    pub fn search(&self, query: &str) -> Result<Vec<SearchResult>, AppError> {
        self.touch();
        let client = self.client()?;
        let names: HashMap<AccountId, String> = client
            .accounts()?
            .into_iter()
            .map(|a| (a.id, a.bank_name))
            .collect();
        client.with_device(|d| {
            // The first search after an unlock builds the index (its cost
            // is in docs/benchmarks.md); the window shows it searching.
            let hits = d.store().search(query, 100)?;
            let mut out = Vec::new();
            for hit in hits {
                match hit {
                    SearchHit::Message(id) => {
                        let Ok(m) = d.store().message(id) else {
                            continue;
                        };
                        let text = neutralize(&m.body).into_owned();
                        out.push(SearchResult {
                            kind: "message",
                            account: m.account.to_string(),
                            bank_name: names.get(&m.account).cloned().unwrap_or_default(),
                            highlights: highlights(&text, query),
                            text,
                            at: m.sent_at,
                            alert_id: None,
                        });
                    }
                    SearchHit::Alert(id) => {
                        let Ok(a) = d.store().alert(id) else { continue };
                        if !matches!(a.details.verification, Verification::Verified { .. }) {
                            continue;
                        }
                        let text = neutralize(&a.details.text).into_owned();
                        out.push(SearchResult {
                            kind: "alert",
                            account: a.account.to_string(),
                            bank_name: names.get(&a.account).cloned().unwrap_or_default(),
                            highlights: highlights(&text, query),
                            text,
                            at: a.issued_at,
                            alert_id: Some(crate::service::alert_jti(&a.raw_jws)),
                        });
                    }
                }
            }
            out.sort_by_key(|x| std::cmp::Reverse(x.at));
            Ok(out)
        })
    }

    /// What was shared with which bank and when, newest first.
    ///
    /// # Errors
    /// `locked` while the app is locked, `not_ready` before it has opened,
    /// and the store's own code when a row cannot be read.
    pub fn privacy_ledger(&self) -> Result<Vec<LedgerEntry>, AppError> {
        self.touch();
        let client = self.client()?;
        let mut out = Vec::new();
        for a in client.accounts()? {
            out.push(LedgerEntry {
                at: a.linked_at,
                bank_name: a.bank_name.clone(),
                what: Shared::Linked,
            });
            for alert in client.alerts(a.id, 1000).unwrap_or_default() {
                if let Some(answer) = alert.answer {
                    out.push(LedgerEntry {
                        at: alert.answered_at.unwrap_or(alert.issued_at),
                        bank_name: a.bank_name.clone(),
                        what: Shared::FraudAnswer { answer },
                    });
                }
            }
            let sent = self
                .conversation(&a.id.to_string(), 500)
                .unwrap_or_default();
            for m in sent
                .into_iter()
                .filter(|m| m.direction == Direction::Outgoing)
            {
                out.push(LedgerEntry {
                    at: m.sent_at,
                    bank_name: a.bank_name.clone(),
                    what: Shared::ChatMessage {
                        characters: u32::try_from(m.body.chars().count()).unwrap_or(u32::MAX),
                    },
                });
            }
        }
        out.sort_by_key(|x| std::cmp::Reverse(x.at));
        Ok(out)
    }
}
