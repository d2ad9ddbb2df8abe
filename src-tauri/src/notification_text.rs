//! What a desktop notification says about a live event, under the
//! customer's privacy setting.
//!
//! An alert kind is named by the window's own table (`ui/src/lib/alert-kinds.json`,
//! read here at compile time), so a notification and the feed never call the
//! same alert by two names. The table lives with the UI because the words are
//! the window's; the shell only borrows them.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use strongroom_client::app::{CallStatusView, LiveEvent, NotificationPrivacy};

/// Kind code → label, as the window shows it.
static KIND_LABELS: LazyLock<BTreeMap<String, String>> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../ui/src/lib/alert-kinds.json"))
        .expect("ui/src/lib/alert-kinds.json is a JSON object of kind code to label")
});

/// The kind whose label names kinds this build does not know.
const UNKNOWN_KIND_READS_AS: &str = "custom";

/// The words for an alert kind, without any amount or merchant.
pub fn kind_label(kind: &str) -> &'static str {
    let labels = &*KIND_LABELS;
    labels
        .get(kind)
        .or_else(|| labels.get(UNKNOWN_KIND_READS_AS))
        .map_or("Message from your bank", String::as_str)
}

/// How urgent the notification of `event` is: critical for a verified
/// alert that asks "was this you?" (a fraud check, or a change of a
/// security detail), which the customer has minutes to answer; normal for
/// everything else, a quarantined alert included.
pub fn urgency_for(event: &LiveEvent) -> crate::notify::Urgency {
    match event {
        LiveEvent::Alert { alert, .. }
            if alert.alert.verified
                && strongroom_client::AlertKind::name_asks_answer(&alert.alert.kind) =>
        {
            crate::notify::Urgency::Critical
        }
        _ => crate::notify::Urgency::Normal,
    }
}

/// The notification for a live event as `(title, body)`; `None` for events
/// that do not notify. Quarantined alerts never notify as the bank's. A
/// verified call that begins always notifies, even when privacy hides
/// everything else: the customer may be on the phone with a stranger right
/// now, and the one thing to know is that the bank really is calling.
pub fn notification_for(
    privacy: NotificationPrivacy,
    event: &LiveEvent,
) -> Option<(String, String)> {
    if let LiveEvent::CallStatus {
        status,
        started: true,
    } = event
    {
        return Some(call_started(privacy, status));
    }
    let LiveEvent::Alert { alert, .. } = event else {
        return None;
    };
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

/// The notification for a verified call that began.
fn call_started(privacy: NotificationPrivacy, status: &CallStatusView) -> (String, String) {
    match (privacy, &status.agent, &status.reason) {
        (NotificationPrivacy::Full, Some(agent), Some(reason)) => (
            format!("{} is calling you", status.bank_name),
            format!("{agent}, about {reason}. Verified by Strongroom."),
        ),
        (NotificationPrivacy::Nothing, ..) => {
            ("Strongroom".into(), "Your bank is calling you".into())
        }
        _ => (
            status.bank_name.clone(),
            format!(
                "{} is calling you. Verified by Strongroom.",
                status.bank_name
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use strongroom_client::AlertView;
    use strongroom_client::app::{AlertItem, CallState};
    use strongroom_core::protocol::alert::AlertKind;
    use strongroom_store::Severity;

    #[test]
    fn fraud_checks_are_critical_and_everything_else_normal() {
        use crate::notify::Urgency;
        assert_eq!(
            urgency_for(&alert_event("fraud_check", true)),
            Urgency::Critical
        );
        assert_eq!(
            urgency_for(&alert_event("security_detail_changed", true)),
            Urgency::Critical
        );
        for kind in AlertKind::ALL.map(AlertKind::name) {
            if !AlertKind::name_asks_answer(kind) {
                assert_eq!(
                    urgency_for(&alert_event(kind, true)),
                    Urgency::Normal,
                    "{kind}"
                );
            }
        }
        // A forged fraud check is quarantined, not pressed on the customer.
        assert_eq!(
            urgency_for(&alert_event("fraud_check", false)),
            Urgency::Normal
        );
    }

    fn alert_event(kind: &str, verified: bool) -> LiveEvent {
        LiveEvent::Alert {
            account: "00000000000000a1".into(),
            alert: Box::new(AlertItem {
                account: "00000000000000a1".into(),
                bank_name: "Demo Bank".into(),
                alert: AlertView {
                    id: "alert-1".into(),
                    kind: kind.into(),
                    severity: Severity::Info,
                    text: "Card purchase: 432.10 EUR at Corner Cafe".into(),
                    amount_minor: Some(43_210),
                    currency: Some("EUR".into()),
                    merchant: Some("Corner Cafe".into()),
                    verified,
                    verification: "key-1".into(),
                    issued_at: 1,
                    answer: None,
                    answered_at: None,
                    balance_minor: None,
                },
            }),
        }
    }

    /// What a notification that hides amounts says about an alert of `kind`.
    fn hiding_amounts(kind: &str) -> (String, String) {
        notification_for(NotificationPrivacy::HideAmounts, &alert_event(kind, true))
            .expect("an alert notifies")
    }

    #[test]
    fn the_table_names_every_kind_the_core_defines_and_no_other() {
        let core: BTreeSet<&str> = AlertKind::ALL.iter().map(|k| k.name()).collect();
        let table: BTreeSet<&str> = KIND_LABELS.keys().map(String::as_str).collect();
        assert_eq!(
            table, core,
            "ui/src/lib/alert-kinds.json must label exactly the core's alert kinds"
        );
    }

    #[test]
    fn a_notification_names_each_kind_with_the_windows_label() {
        for kind in AlertKind::ALL {
            let (title, body) = hiding_amounts(kind.name());
            assert_eq!(title, "Demo Bank");
            assert_eq!(
                body,
                KIND_LABELS[kind.name()],
                "the notification for {} says what the window says",
                kind.name()
            );
        }
    }

    #[test]
    fn a_kind_this_build_does_not_know_reads_as_a_message_from_the_bank() {
        assert_eq!(kind_label("kind_from_the_future"), KIND_LABELS["custom"]);
    }

    #[test]
    fn hidden_amounts_never_reach_a_notification() {
        for kind in AlertKind::ALL {
            let (_, body) = hiding_amounts(kind.name());
            assert!(
                !body.chars().any(|c| c.is_ascii_digit()) && !body.contains("Cafe"),
                "no amount or merchant in {body:?}"
            );
        }
    }

    #[test]
    fn a_quarantined_alert_never_notifies_as_the_banks() {
        for privacy in [
            NotificationPrivacy::Full,
            NotificationPrivacy::HideAmounts,
            NotificationPrivacy::Nothing,
        ] {
            let (title, body) =
                notification_for(privacy, &alert_event("purchase", false)).expect("it notifies");
            assert_eq!(title, "Strongroom");
            assert!(!body.contains("Demo Bank") && !body.contains("432"));
        }
    }

    #[test]
    fn only_alerts_and_calls_that_begin_notify() {
        let event = LiveEvent::Message {
            account: "00000000000000a1".into(),
        };
        assert_eq!(notification_for(NotificationPrivacy::Full, &event), None);
        for state in [
            CallState::TalkingNow,
            CallState::NotCalling,
            CallState::CantCheck,
        ] {
            let event = call_event(state, false);
            assert_eq!(
                notification_for(NotificationPrivacy::Full, &event),
                None,
                "a call status that is not a call beginning ({state:?}) stays quiet"
            );
        }
    }

    fn call_event(state: CallState, started: bool) -> LiveEvent {
        let talking = state == CallState::TalkingNow;
        LiveEvent::CallStatus {
            status: CallStatusView {
                account: "00000000000000a1".into(),
                bank_name: "Demo Bank".into(),
                state,
                agent: talking.then(|| "Hawa Lind".into()),
                reason: talking.then(|| "a suspicious payment".into()),
                since: talking.then_some(1_000),
                heard_at: Some(1_000),
            },
            started,
        }
    }

    #[test]
    fn a_call_that_begins_notifies_whatever_the_privacy() {
        let event = call_event(CallState::TalkingNow, true);
        assert_eq!(
            notification_for(NotificationPrivacy::Nothing, &event),
            Some(("Strongroom".into(), "Your bank is calling you".into()))
        );
        let (title, body) =
            notification_for(NotificationPrivacy::HideAmounts, &event).expect("it notifies");
        assert_eq!(title, "Demo Bank");
        assert!(
            body.contains("calling you") && !body.contains("Hawa"),
            "{body}"
        );
        let (title, body) =
            notification_for(NotificationPrivacy::Full, &event).expect("it notifies");
        assert_eq!(title, "Demo Bank is calling you");
        assert!(
            body.starts_with("Hawa Lind, about a suspicious payment"),
            "{body}"
        );
    }
}
