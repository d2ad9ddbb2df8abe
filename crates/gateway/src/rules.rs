//! The demo bank's alert rules: which alerts a card transaction raises.
//! Pure functions, so the rules are tested without a server.

use serde::Deserialize;
use strongroom_core::protocol::alert::{AlertEvent, AlertKind, AlertSeverity};
use utoipa::ToSchema;

/// How long the customer has to answer a fraud check, seconds.
pub const FRAUD_CHECK_WINDOW_S: i64 = 600;

/// Whether the transaction went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransactionStatus {
    /// Authorised.
    Approved,
    /// Refused by the bank.
    Declined,
}

/// Money out or money in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransactionKind {
    /// A card purchase.
    #[default]
    Purchase,
    /// Money received.
    Deposit,
}

/// A transaction as the bank's core system reports it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transaction {
    /// The customer's username.
    pub customer: String,
    /// The masked account reference (`****4321`).
    pub account_ref: String,
    /// Amount in minor units, never negative.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// Merchant (or, for a deposit, the payer).
    pub merchant: String,
    /// ISO 3166-1 alpha-2 country of the transaction.
    pub country: String,
    /// Whether the card was physically present.
    pub card_present: bool,
    /// Approved or declined.
    pub status: TransactionStatus,
    /// Purchase (default) or deposit.
    #[serde(default)]
    pub kind: TransactionKind,
    /// The balance afterwards, when the core system knows it.
    #[serde(default)]
    pub balance_after_minor: Option<i64>,
}

/// The customer's alert settings the rules need.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// ISO 3166-1 alpha-2 home country.
    pub home_country: String,
    /// Purchases at or above this raise a `purchase` alert.
    pub purchase_threshold_minor: i64,
    /// A balance below this raises `balance_low`.
    pub balance_low_minor: i64,
}

/// Digits after the decimal point for a currency (ISO 4217).
fn exponent(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "ISK" | "CLP" | "VND" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    }
}

/// Formats minor units as `129.99 EUR`.
pub fn format_amount(amount_minor: i64, currency: &str) -> String {
    let exp = exponent(currency);
    let sign = if amount_minor < 0 { "-" } else { "" };
    let abs = amount_minor.unsigned_abs();
    if exp == 0 {
        return format!("{sign}{abs} {currency}");
    }
    let unit = 10u64.pow(exp);
    format!(
        "{sign}{}.{:0width$} {currency}",
        abs / unit,
        abs % unit,
        width = exp as usize
    )
}

/// The alerts a transaction raises, in order. A suspicious purchase (card
/// not present, abroad and at or over the threshold) raises one fraud check
/// instead of the separate purchase, card-not-present and foreign alerts.
pub fn alerts_for(
    tx: &Transaction,
    settings: &AlertSettings,
    now_s: i64,
) -> Vec<(AlertKind, AlertEvent)> {
    let amount = format_amount(tx.amount_minor, &tx.currency);
    let event = |severity, text: String| AlertEvent {
        severity,
        text,
        account_ref: Some(tx.account_ref.clone()),
        amount_minor: Some(tx.amount_minor),
        currency: Some(tx.currency.clone()),
        merchant: Some(tx.merchant.clone()),
        country: Some(tx.country.clone()),
        respond_by: None,
        balance_minor: tx.balance_after_minor,
    };
    let mut alerts = Vec::new();
    match tx.kind {
        TransactionKind::Deposit => alerts.push((
            AlertKind::DepositReceived,
            event(
                AlertSeverity::Info,
                format!("Money in: {amount} from {}", tx.merchant),
            ),
        )),
        TransactionKind::Purchase => {
            // At the threshold counts: "alert me for purchases of 100.00"
            // includes 100.00.
            let over = tx.amount_minor >= settings.purchase_threshold_minor;
            let foreign = !tx.country.eq_ignore_ascii_case(&settings.home_country);
            let not_present = !tx.card_present;
            if over && foreign && not_present {
                let mut check = event(
                    AlertSeverity::Critical,
                    format!("Did you spend {amount} at {}?", tx.merchant),
                );
                check.respond_by = Some(now_s + FRAUD_CHECK_WINDOW_S);
                alerts.push((AlertKind::FraudCheck, check));
            } else {
                if over {
                    alerts.push((
                        AlertKind::Purchase,
                        event(
                            AlertSeverity::Info,
                            format!("Card purchase: {amount} at {}", tx.merchant),
                        ),
                    ));
                }
                if not_present {
                    alerts.push((
                        AlertKind::CardNotPresent,
                        event(
                            AlertSeverity::Warning,
                            format!(
                                "Online or phone purchase (card not present): {amount} at {}",
                                tx.merchant
                            ),
                        ),
                    ));
                }
                if foreign {
                    alerts.push((
                        AlertKind::ForeignTransaction,
                        event(
                            AlertSeverity::Warning,
                            format!(
                                "Transaction abroad ({}): {amount} at {}",
                                tx.country, tx.merchant
                            ),
                        ),
                    ));
                }
            }
            if tx.status == TransactionStatus::Declined {
                alerts.push((
                    AlertKind::Declined,
                    event(
                        AlertSeverity::Warning,
                        format!("Declined: {amount} at {}", tx.merchant),
                    ),
                ));
            }
        }
    }
    if let Some(balance) = tx.balance_after_minor
        && balance < settings.balance_low_minor
    {
        let mut low = event(
            AlertSeverity::Warning,
            format!(
                "Your balance is low: {} left",
                format_amount(balance, &tx.currency)
            ),
        );
        low.amount_minor = Some(balance);
        low.merchant = None;
        low.country = None;
        alerts.push((AlertKind::BalanceLow, low));
    }
    alerts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> AlertSettings {
        AlertSettings {
            home_country: "GB".into(),
            purchase_threshold_minor: 10_000,
            balance_low_minor: 5_000,
        }
    }

    fn tx(amount: i64, country: &str, card_present: bool) -> Transaction {
        Transaction {
            customer: "alice".into(),
            account_ref: "****4321".into(),
            amount_minor: amount,
            currency: "EUR".into(),
            merchant: "Électro Dépôt".into(),
            country: country.into(),
            card_present,
            status: TransactionStatus::Approved,
            kind: TransactionKind::Purchase,
            balance_after_minor: None,
        }
    }

    fn kinds(tx: &Transaction) -> Vec<AlertKind> {
        alerts_for(tx, &settings(), 1_000)
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    }

    #[test]
    fn each_rule_raises_its_alert() {
        assert!(
            kinds(&tx(5_000, "GB", true)).is_empty(),
            "small home card-present: quiet"
        );
        assert_eq!(kinds(&tx(12_999, "GB", true)), [AlertKind::Purchase]);
        assert_eq!(
            kinds(&tx(10_000, "GB", true)),
            [AlertKind::Purchase],
            "at the threshold"
        );
        assert!(kinds(&tx(9_999, "GB", true)).is_empty(), "just under it");
        assert_eq!(kinds(&tx(500, "GB", false)), [AlertKind::CardNotPresent]);
        assert_eq!(kinds(&tx(500, "FR", true)), [AlertKind::ForeignTransaction]);
        let mut declined = tx(500, "GB", true);
        declined.status = TransactionStatus::Declined;
        assert_eq!(kinds(&declined), [AlertKind::Declined]);
        let mut low = tx(500, "GB", true);
        low.balance_after_minor = Some(4_210);
        let alerts = alerts_for(&low, &settings(), 0);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].0, AlertKind::BalanceLow);
        assert_eq!(alerts[0].1.text, "Your balance is low: 42.10 EUR left");
        let mut deposit = tx(250_000, "FR", false);
        deposit.kind = TransactionKind::Deposit;
        assert_eq!(kinds(&deposit), [AlertKind::DepositReceived]);
    }

    #[test]
    fn a_suspicious_purchase_is_one_fraud_check() {
        let alerts = alerts_for(&tx(12_999, "FR", false), &settings(), 1_000);
        assert_eq!(alerts.len(), 1);
        let (kind, event) = &alerts[0];
        assert_eq!(*kind, AlertKind::FraudCheck);
        assert_eq!(event.severity, AlertSeverity::Critical);
        assert_eq!(event.text, "Did you spend 129.99 EUR at Électro Dépôt?");
        assert_eq!(event.respond_by, Some(1_600));
        assert_eq!(event.amount_minor, Some(12_999));
    }

    #[test]
    fn amounts_format_with_the_currency_exponent() {
        assert_eq!(format_amount(12_999, "EUR"), "129.99 EUR");
        assert_eq!(format_amount(5, "GBP"), "0.05 GBP");
        assert_eq!(format_amount(1_500, "JPY"), "1500 JPY");
        assert_eq!(format_amount(-250, "USD"), "-2.50 USD");
    }
}
