//! What the bank's own systems post to the gateway in these tests.

use super::Http;

/// The rules: a suspicious purchase is one fraud check, signed. Returns the alert's id.
pub async fn suspicious_purchase(http: &Http) -> String {
    let reply = http
        .bank(
            "POST",
            "/bank/v1/transactions",
            serde_json::json!({"customer": "alice", "account_ref": "****4321", "amount_minor": 12999,
                "currency": "EUR", "merchant": "Électro Dépôt", "country": "FR",
                "card_present": false, "status": "approved"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let alerts = reply.json()["alerts"].clone();
    assert_eq!(alerts.as_array().unwrap().len(), 1, "{alerts}");
    assert_eq!(alerts[0]["kind"], "fraud_check");
    alerts[0]["id"].as_str().unwrap().to_owned()
}
