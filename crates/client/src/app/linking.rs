//! Linking a bank from the window (start, wait for the customer's approval,
//! cancel) and unlinking it, with what a link shares (which the window words).

use ring::rand::SecureRandom;
use std::sync::Arc;
use std::time::Duration;
use strongroom_core::protocol::jose::b64_encode;

use super::app_core::{AppCore, account_id};
use super::error::AppError;
use super::views::{LinkReceipt, PendingLinkView};
use crate::service::{lock, now_ms};

impl AppCore {
    /// Starts linking the bank at `issuer`.
    ///
    /// # Errors
    /// The client's error as `{code, message}`.
    pub async fn link_start(&self, issuer: &str) -> Result<PendingLinkView, AppError> {
        self.touch();
        let client = self.client()?;
        let pending = client.start_link(issuer.trim()).await?;
        let mut id = [0u8; 12];
        self.rng.fill(&mut id).map_err(|_| AppError::Random)?;
        let link_id = b64_encode(&id);
        let view = PendingLinkView {
            link_id: link_id.clone(),
            bank_name: pending.bank_name(),
            issuer: issuer.trim().trim_end_matches('/').to_owned(),
            user_code: pending.user_code().to_owned(),
            verification_uri: pending.verification_uri().to_owned(),
            verification_uri_complete: pending.verification_uri_complete().map(str::to_owned),
            expires_at: now_ms() + 600_000,
            shares: super::views::SHARES.to_vec(),
        };
        lock(&self.state).pending.insert(link_id, pending);
        Ok(view)
    }

    /// Waits for the customer's approval of a started link and records it.
    ///
    /// # Errors
    /// `link_denied`, `link_expired`, `link_cancelled`, or another error.
    pub async fn link_finish(self: &Arc<Self>, link_id: &str) -> Result<LinkReceipt, AppError> {
        let client = self.client()?;
        let pending = lock(&self.state)
            .pending
            .remove(link_id)
            .ok_or(AppError::LinkCancelled)?;
        let bank = pending.bank_name();
        let finish = client.finish_link(pending);
        let core = self.clone();
        let id = link_id.to_owned();
        let cancelled = async move {
            loop {
                tokio::time::sleep(Duration::from_millis(300)).await;
                if lock(&core.state).cancelled.remove(&id) {
                    return;
                }
            }
        };
        let account = tokio::select! {
            result = finish => result?,
            () = cancelled => return Err(AppError::LinkCancelled),
        };
        let summary = client
            .accounts()?
            .into_iter()
            .find(|a| a.id == account)
            .ok_or_else(|| AppError::UnknownAccount(account.to_string()))?;
        // Start its stream now.
        let task = {
            let client = client.clone();
            tokio::spawn(async move { client.run_account(account).await })
        };
        if let Some(online) = lock(&self.state).online.as_mut() {
            online.tasks.push(task);
        }
        Ok(LinkReceipt {
            account: account.to_string(),
            bank_name: bank.clone(),
            issuer: summary.issuer,
            linked_at: summary.linked_at,
            shares: super::views::SHARES.to_vec(),
        })
    }

    /// Cancels a started link.
    pub fn link_cancel(&self, link_id: &str) {
        let mut state = lock(&self.state);
        state.pending.remove(link_id);
        state.cancelled.insert(link_id.to_owned());
    }

    /// Unlinks: revokes at the bank and erases here.
    ///
    /// # Errors
    /// The client's error.
    pub async fn unlink(&self, account: &str) -> Result<bool, AppError> {
        self.touch();
        let account = account_id(account)?;
        let revoked = self.client()?.unlink(account).await?;
        let mut state = lock(&self.state);
        state.unread.remove(&account);
        state.connected.remove(&account);
        state.open_checks.forget(account);
        state.balances.forget(account);
        Ok(revoked)
    }
}
