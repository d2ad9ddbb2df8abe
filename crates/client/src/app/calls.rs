//! "Is my bank really calling me?": the call status of each linked bank,
//! and scam-call reports, for the window, the tray and the CLI.

use strongroom_core::AccountId;
use strongroom_core::protocol::call::CallStatus;

use super::app_core::{AppCore, account_id};
use super::error::AppError;
use super::views::{CallState, CallStatusView};

/// The view of one bank's call status.
pub fn call_status_view(
    account: AccountId,
    bank_name: String,
    status: CallStatus,
) -> CallStatusView {
    let mut view = CallStatusView {
        account: account.to_string(),
        bank_name,
        state: CallState::CantCheck,
        agent: None,
        reason: None,
        since: None,
        heard_at: None,
    };
    match status {
        CallStatus::TalkingNow { call } => {
            view.state = CallState::TalkingNow;
            view.agent = Some(call.agent);
            view.reason = Some(call.reason.name().to_owned());
            view.since = Some(call.started_at.saturating_mul(1000));
        }
        CallStatus::NotCalling { heard_at } => {
            view.state = CallState::NotCalling;
            view.heard_at = Some(heard_at.saturating_mul(1000));
        }
        CallStatus::CantCheck { heard_at } => {
            view.heard_at = heard_at.map(|s| s.saturating_mul(1000));
        }
    }
    view
}

impl AppCore {
    /// The call status of every linked bank, as of now. Time alone changes
    /// it (a call expires, contact goes stale), so the window asks again
    /// every few seconds as well as on each `call_status` event.
    ///
    /// # Errors
    /// `locked` while the app is locked, `not_ready` before it has opened,
    /// and the store's own code when the accounts cannot be read.
    pub fn call_statuses(&self) -> Result<Vec<CallStatusView>, AppError> {
        let client = self.client()?;
        let mut out = Vec::new();
        for account in client.accounts()? {
            let status = client.call_status(account.id)?;
            out.push(call_status_view(account.id, account.bank_name, status));
        }
        Ok(out)
    }

    /// Reports a call from someone who claimed to be `account`'s bank, with
    /// when it came (ms), the number it showed and a note (both optional).
    /// Returns when the bank received it (ms).
    ///
    /// # Errors
    /// `call_verified` while the bank's verified call is open; the
    /// client's error otherwise.
    pub async fn report_scam_call(
        &self,
        account: &str,
        called_at: i64,
        caller_number: Option<String>,
        note: Option<String>,
    ) -> Result<i64, AppError> {
        self.touch();
        let account = account_id(account)?;
        Ok(self
            .client()?
            .report_scam_call(account, called_at, caller_number, note)
            .await?)
    }
}
