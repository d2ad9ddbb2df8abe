//! What an OS notification says about a live event, under the customer's
//! privacy setting: never the text of an unverified alert, and no amounts
//! or merchants unless the customer chose so.

use super::app_core::AppCore;
use super::views::{LiveEvent, NotificationPrivacy};

impl AppCore {
    /// The notification for a live event under the privacy setting, as
    /// `(title, body, account, alert id)`; `None` for events that do not
    /// notify. Quarantined alerts never notify as the bank's.
    pub fn notification_for(&self, event: &LiveEvent) -> Option<(String, String)> {
        let LiveEvent::Alert { alert, .. } = event else {
            return None;
        };
        let privacy = self.settings().notification_privacy;
        if !alert.alert.verified {
            return Some((
                "Strongroom".into(),
                "An alert failed verification and was quarantined.".into(),
            ));
        }
        Some(match privacy {
            NotificationPrivacy::Nothing => ("Strongroom".into(), "New activity".into()),
            NotificationPrivacy::HideAmounts => (
                alert.bank_name.clone(),
                kind_label(&alert.alert.kind).to_owned(),
            ),
            NotificationPrivacy::Full => (alert.bank_name.clone(), alert.alert.text.clone()),
        })
    }
}

/// The words for an alert kind, without any amount or merchant.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "purchase" => "Card purchase",
        "card_not_present" => "Online or phone purchase",
        "foreign_transaction" => "Transaction abroad",
        "declined" => "Declined transaction",
        "balance_low" => "Low balance",
        "deposit_received" => "Money in",
        "payment_due" => "Payment due",
        "new_device_sign_in" => "New device signed in",
        "security_detail_changed" => "Security details changed",
        "fraud_check" => "Please confirm a transaction",
        _ => "Message from your bank",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_amounts_never_reach_a_notification() {
        assert!(!kind_label("purchase").chars().any(|c| c.is_ascii_digit()));
    }
}
