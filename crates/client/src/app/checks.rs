//! The fraud checks waiting for the customer's answer, for the tray: kept
//! up to date from what the app already sees (the alerts it receives, the
//! answers it sends, a bank unlinked) rather than by reading the store
//! again on every alert; read from the store once, when the app unlocks.

use std::collections::HashMap;

use strongroom_core::AccountId;
use strongroom_core::protocol::alert::AlertKind;

use super::app_core::AppCore;
use crate::AlertView;
use crate::service::{Client, lock};

/// How long an unanswered check counts: a bank gives minutes to answer
/// one (ten by default), so a day-old check is over; the window still
/// lists it.
pub const CHECKS_COUNT_FOR_MS: i64 = 24 * 60 * 60 * 1000;

/// How many of each bank's latest alerts are read at unlock for checks
/// still waiting.
const READ_AT_UNLOCK: usize = 200;

/// Whether `alert` asks "was this you?" and is not answered. A quarantined
/// alert (it failed verification) is never one: the app does not let it be
/// answered.
pub fn waits_for_answer(alert: &AlertView) -> bool {
    alert.verified && AlertKind::name_asks_answer(&alert.kind) && alert.answer.is_none()
}

/// The checks waiting, by bank and alert id, with when each was issued.
#[derive(Debug, Default)]
pub(super) struct OpenChecks(HashMap<(AccountId, String), i64>);

impl OpenChecks {
    /// Counts `alert` if it waits for an answer.
    pub(super) fn note(&mut self, account: AccountId, alert: &AlertView) {
        if waits_for_answer(alert) {
            self.0.insert((account, alert.id.clone()), alert.issued_at);
        }
    }

    /// The customer answered it.
    pub(super) fn answered(&mut self, account: AccountId, alert_id: &str) {
        self.0.remove(&(account, alert_id.to_owned()));
    }

    /// Adds the checks of `other` (read at unlock) to those already noted.
    pub(super) fn merge(&mut self, other: OpenChecks) {
        for (key, issued) in other.0 {
            self.0.entry(key).or_insert(issued);
        }
    }

    /// The bank was unlinked, or ended the link.
    pub(super) fn forget(&mut self, account: AccountId) {
        self.0.retain(|(a, _), _| *a != account);
    }

    /// The checks issued in the last [`CHECKS_COUNT_FOR_MS`] before `now`.
    pub(super) fn count(&self, now: i64) -> u32 {
        let open = self
            .0
            .values()
            .filter(|issued| **issued >= now - CHECKS_COUNT_FOR_MS)
            .count();
        u32::try_from(open).unwrap_or(u32::MAX)
    }

    /// The checks waiting in each bank's latest alerts (at unlock). A bank
    /// whose alerts cannot be read adds none: the window shows its error.
    pub(super) fn read(client: &Client) -> OpenChecks {
        let mut open = OpenChecks::default();
        for account in client.accounts().unwrap_or_default() {
            for alert in client
                .alerts(account.id, READ_AT_UNLOCK)
                .unwrap_or_default()
            {
                open.note(account.id, &alert);
            }
        }
        open
    }
}

impl AppCore {
    /// The fraud checks (and security-detail changes) over every bank that
    /// are verified, not answered and issued in the last day, for the
    /// tray; `None` while locked, when the app cannot tell.
    pub fn open_checks(&self) -> Option<u32> {
        let state = lock(&self.state);
        state.online.as_ref()?;
        Some(state.open_checks.count(crate::service::now_ms()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strongroom_store::Severity;

    fn alert(id: &str, kind: &str, verified: bool, issued_at: i64) -> AlertView {
        AlertView {
            id: id.into(),
            kind: kind.into(),
            severity: Severity::Critical,
            text: "Was this you?".into(),
            amount_minor: None,
            currency: None,
            merchant: None,
            verified,
            verification: String::new(),
            issued_at,
            answer: None,
            answered_at: None,
            balance_minor: None,
        }
    }

    #[test]
    fn open_checks_are_verified_unanswered_recent_and_per_bank() {
        let (a, b) = (
            AccountId::from_stored(1).unwrap(),
            AccountId::from_stored(2).unwrap(),
        );
        let now = 10 * CHECKS_COUNT_FOR_MS;
        let mut open = OpenChecks::default();
        open.note(a, &alert("f1", "fraud_check", true, now));
        open.note(a, &alert("s1", "security_detail_changed", true, now));
        open.note(b, &alert("f2", "fraud_check", true, now));
        // Not checks waiting: a purchase notice, a forged check, an old one.
        open.note(a, &alert("p1", "purchase", true, now));
        open.note(a, &alert("x1", "fraud_check", false, now));
        open.note(
            a,
            &alert("o1", "fraud_check", true, now - CHECKS_COUNT_FOR_MS - 1),
        );
        assert_eq!(open.count(now), 3);
        let mut answered = alert("f3", "fraud_check", true, now);
        answered.answer = Some(strongroom_store::FraudAnswer::NotMe);
        open.note(a, &answered);
        assert_eq!(open.count(now), 3, "an answered check does not wait");
        open.answered(a, "f1");
        assert_eq!(open.count(now), 2);
        open.forget(a);
        assert_eq!(open.count(now), 1, "bank b's check stays");
    }
}
