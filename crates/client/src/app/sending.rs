//! What the customer sends their bank from the window: chat messages and
//! answers to fraud checks.

use super::app_core::{AppCore, account_id};
use super::error::AppError;
use crate::FraudAnswerValue;
use crate::service::lock;

impl AppCore {
    /// Answers a fraud check.
    ///
    /// # Errors
    /// The client's error.
    pub async fn answer_fraud_check(
        &self,
        account: &str,
        alert_id: &str,
        answer: &str,
    ) -> Result<(), AppError> {
        self.touch();
        let answer = match answer {
            "me" => FraudAnswerValue::Me,
            "not_me" => FraudAnswerValue::NotMe,
            _ => return Err(AppError::BadAnswer),
        };
        let account = account_id(account)?;
        let result = self
            .client()?
            .answer_fraud_check(account, alert_id, answer)
            .await;
        // Answered here, or already on another device: either way it no
        // longer waits.
        if matches!(
            result,
            Ok(()) | Err(crate::ClientError::AlreadyAnswered { .. })
        ) {
            lock(&self.state).open_checks.answered(account, alert_id);
        }
        Ok(result?)
    }

    /// Queues a chat message.
    ///
    /// # Errors
    /// The client's error.
    pub fn send_chat(&self, account: &str, body: &str) -> Result<String, AppError> {
        self.touch();
        let account = account_id(account)?;
        Ok(self.client()?.send_chat(account, body)?)
    }
}
