//! What the bank and staff send, checked before anything is stored or
//! signed: a field a device would refuse, or text that could read other
//! than it was meant, is refused here with a 422 naming the field.

use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use strongroom_core::protocol::alert::AlertEvent;
use strongroom_core::protocol::jose::MAX_JWS_BYTES;

use crate::crypto::now_s;
use crate::error::Problem;
use crate::rules::Transaction;

/// Decodes a JSON body.
///
/// # Errors
/// 422 `invalid_body`.
pub(crate) fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|e| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("the body is not the expected JSON: {e}"),
        )
    })
}

/// A 422 naming the field that is wrong and why.
pub(crate) fn invalid(detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", detail)
}

/// A username: 1 to 64 of a-z, 0-9, `.`, `_`, `-`.
pub(crate) fn valid_username(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

/// An ISO 3166-1 alpha-2 code, upper case.
pub(crate) fn valid_country(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// The longest alert text, in bytes.
pub const MAX_ALERT_TEXT_BYTES: usize = 1024;
/// The longest merchant or account reference, in bytes.
pub const MAX_REF_BYTES: usize = 128;
/// The largest amount (or balance, either sign) accepted, in minor units:
/// 10^15, ten trillion in a two-decimal currency.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000;
/// The latest `respond_by` accepted: a year from now.
const MAX_RESPOND_WINDOW_S: i64 = 366 * 24 * 3600;

fn valid_currency(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// A short label (merchant, account reference, author): 1 to `max` bytes,
/// not blank, no control characters.
pub(crate) fn check_label(name: &str, value: &str, max: usize) -> Result<(), Problem> {
    if value.trim().is_empty() || value.len() > max || value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{name}: 1 to {max} bytes, not blank, no control characters"
        )));
    }
    check_shown_text(name, value)
}

/// Refuses text a customer or staff member will read that holds a
/// character able to reorder or hide what is shown (a bidirectional
/// control such as U+202E, an invisible format character): what the bank
/// signs must read as it was meant (Unicode TR#36; see
/// `strongroom_core::text`).
///
/// # Errors
/// 422 naming the field and the character.
pub(crate) fn check_shown_text(name: &str, value: &str) -> Result<(), Problem> {
    match strongroom_core::text::first_spoofing_char(value) {
        Some(c) => Err(invalid(format!(
            "{name}: U+{:04X} is not allowed: bidirectional and invisible format characters can make text read other than it is",
            c as u32
        ))),
        None => Ok(()),
    }
}

pub(crate) fn check_amount(name: &str, value: i64, negative_allowed: bool) -> Result<(), Problem> {
    let low = if negative_allowed {
        -MAX_AMOUNT_MINOR
    } else {
        0
    };
    if !(low..=MAX_AMOUNT_MINOR).contains(&value) {
        return Err(invalid(format!(
            "{name}: minor units from {low} to {MAX_AMOUNT_MINOR}"
        )));
    }
    Ok(())
}

/// Checks every member of an alert event before it is signed.
pub(crate) fn check_alert_event(event: &AlertEvent) -> Result<(), Problem> {
    if event.text.trim().is_empty()
        || event.text.len() > MAX_ALERT_TEXT_BYTES
        || event.text.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(invalid(format!(
            "text: 1 to {MAX_ALERT_TEXT_BYTES} bytes, no control characters but newlines"
        )));
    }
    check_shown_text("text", &event.text)?;
    if let Some(account_ref) = &event.account_ref {
        check_label("account_ref", account_ref, MAX_REF_BYTES)?;
    }
    if let Some(merchant) = &event.merchant {
        check_label("merchant", merchant, MAX_REF_BYTES)?;
    }
    if let Some(amount) = event.amount_minor {
        check_amount("amount_minor", amount, true)?;
    }
    if event
        .currency
        .as_deref()
        .is_some_and(|c| !valid_currency(c))
    {
        return Err(invalid("currency: ISO 4217, three upper-case letters"));
    }
    if event.country.as_deref().is_some_and(|c| !valid_country(c)) {
        return Err(invalid("country: ISO 3166-1 alpha-2, upper case"));
    }
    if let Some(respond_by) = event.respond_by
        && !(1..=now_s() + MAX_RESPOND_WINDOW_S).contains(&respond_by)
    {
        return Err(invalid(
            "respond_by: seconds since the epoch, at most a year from now",
        ));
    }
    Ok(())
}

pub(crate) fn check_transaction(tx: &Transaction) -> Result<(), Problem> {
    check_amount("amount_minor", tx.amount_minor, false)?;
    if let Some(balance) = tx.balance_after_minor {
        check_amount("balance_after_minor", balance, true)?;
    }
    if !valid_currency(&tx.currency) {
        return Err(invalid("currency: ISO 4217, three upper-case letters"));
    }
    if !valid_country(&tx.country) {
        return Err(invalid("country: ISO 3166-1 alpha-2, upper case"));
    }
    check_label("merchant", &tx.merchant, MAX_REF_BYTES)?;
    check_label("account_ref", &tx.account_ref, MAX_REF_BYTES)?;
    Ok(())
}

/// Refuses what devices would refuse on sight (protocol section 4.3 step
/// 1): over [`MAX_JWS_BYTES`], or not three non-empty base64url parts.
pub(crate) fn check_compact_jws(jws: &str) -> Result<(), Problem> {
    if jws.len() > MAX_JWS_BYTES {
        return Err(invalid(format!(
            "jws: {} bytes; alerts are at most {MAX_JWS_BYTES}",
            jws.len()
        )));
    }
    let parts: Vec<&str> = jws.split('.').collect();
    let base64url = |p: &&str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if parts.len() != 3 || !parts.iter().all(base64url) {
        return Err(invalid(
            "jws: a compact JWS, three non-empty base64url parts",
        ));
    }
    Ok(())
}
