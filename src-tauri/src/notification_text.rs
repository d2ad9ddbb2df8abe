//! What a desktop notification says about a live event, under the
//! customer's privacy setting, in their language.
//!
//! Every word comes from the catalogues (`crates/l10n/locales/<lang>/`):
//! an alert kind is named by `kinds.ftl`, which the window reads too, so a
//! notification and the feed never call the same alert by two names, and
//! an amount is written by the same rules as the window's `Intl`.

use strongroom_client::app::{CallStatusView, LiveEvent, NotificationPrivacy};
use strongroom_l10n::{Arg, Catalog, Domain, Lang, Locale};

/// The words for an alert kind in `lang`, without any amount or merchant.
/// A kind this build does not know reads as a message from the bank.
pub fn kind_label(kind: &str, lang: Lang) -> String {
    let words = Catalog::get(Domain::Desktop, lang);
    words
        .find(&format!("kind-{kind}"))
        .unwrap_or_else(|| words.text("kind-custom"))
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
///
/// With full privacy, an alert with an amount says its kind, the amount in
/// the customer's format and the merchant ("Kartenzahlung: 432,10 € bei
/// Corner Cafe"); one without says the bank's own text, which is the
/// bank's words in the bank's language.
pub fn notification_for(
    privacy: NotificationPrivacy,
    locale: Locale,
    event: &LiveEvent,
) -> Option<(String, String)> {
    let words = Catalog::get(Domain::Desktop, locale.lang);
    if let LiveEvent::CallStatus {
        status,
        started: true,
    } = event
    {
        return Some(call_started(privacy, words, status));
    }
    let LiveEvent::Alert { alert, .. } = event else {
        return None;
    };
    if !alert.alert.verified {
        return Some(("Strongroom".into(), words.text("notify-quarantined")));
    }
    let kind = kind_label(&alert.alert.kind, locale.lang);
    Some(match privacy {
        NotificationPrivacy::Nothing => ("Strongroom".into(), words.text("notify-new-activity")),
        NotificationPrivacy::HideAmounts => (alert.bank_name.clone(), kind),
        NotificationPrivacy::Full => {
            let body = match (&alert.alert.amount_minor, &alert.alert.currency) {
                (Some(minor), Some(currency)) => {
                    let amount = strongroom_l10n::format_amount(*minor, currency, locale.tag);
                    let mut args = vec![("kind", Arg::Str(&kind)), ("amount", Arg::Str(&amount))];
                    match alert.alert.merchant.as_deref() {
                        Some(merchant) => {
                            args.push(("merchant", Arg::Str(merchant)));
                            words.format("notify-alert-amount-merchant", &args)
                        }
                        None => words.format("notify-alert-amount", &args),
                    }
                }
                _ => alert.alert.text.clone(),
            };
            (alert.bank_name.clone(), body)
        }
    })
}

/// The notification for a verified call that began.
fn call_started(
    privacy: NotificationPrivacy,
    words: &Catalog,
    status: &CallStatusView,
) -> (String, String) {
    let bank = ("bank", Arg::Str(&status.bank_name));
    match (privacy, &status.agent, &status.reason) {
        (NotificationPrivacy::Full, Some(agent), Some(reason)) => {
            // A reason code this build does not know is shown as it came.
            let reason = words
                .find(&format!("call-reason-{reason}"))
                .unwrap_or_else(|| reason.clone());
            (
                words.format("notify-call-title", &[bank]),
                words.format(
                    "notify-call-body",
                    &[("agent", Arg::Str(agent)), ("reason", Arg::Str(&reason))],
                ),
            )
        }
        (NotificationPrivacy::Nothing, ..) => {
            ("Strongroom".into(), words.text("notify-call-hidden"))
        }
        _ => (
            status.bank_name.clone(),
            words.format("notify-call-bank", &[bank]),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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

    fn en() -> Locale {
        Locale::of(Lang::En)
    }

    /// What a notification that hides amounts says about an alert of `kind`.
    fn hiding_amounts(kind: &str, locale: Locale) -> (String, String) {
        notification_for(
            NotificationPrivacy::HideAmounts,
            locale,
            &alert_event(kind, true),
        )
        .expect("an alert notifies")
    }

    #[test]
    fn the_catalogue_names_every_kind_the_core_defines_in_every_language() {
        for lang in Lang::ALL {
            let words = Catalog::get(Domain::Desktop, lang);
            for kind in AlertKind::ALL {
                assert!(
                    words.has(&format!("kind-{}", kind.name())),
                    "kinds.ftl ({lang:?}) names {}",
                    kind.name()
                );
            }
        }
    }

    #[test]
    fn a_notification_names_each_kind_in_the_customers_language() {
        for kind in AlertKind::ALL {
            let (title, body) = hiding_amounts(kind.name(), en());
            assert_eq!(title, "Demo Bank");
            assert_eq!(body, kind_label(kind.name(), Lang::En));
        }
        assert_eq!(
            hiding_amounts("purchase", Locale::of(Lang::De)).1,
            "Kartenzahlung"
        );
        assert_eq!(
            hiding_amounts("purchase", Locale::of(Lang::Fr)).1,
            "Paiement par carte"
        );
        assert_eq!(hiding_amounts("purchase", en()).1, "Card purchase");
    }

    #[test]
    fn a_kind_this_build_does_not_know_reads_as_a_message_from_the_bank() {
        assert_eq!(
            kind_label("kind_from_the_future", Lang::De),
            "Nachricht Ihrer Bank"
        );
    }

    #[test]
    fn amounts_are_written_in_the_customers_format() {
        let full = |tag: &str| {
            notification_for(
                NotificationPrivacy::Full,
                Locale::parse(tag).expect("a locale"),
                &alert_event("purchase", true),
            )
            .expect("it notifies")
            .1
        };
        assert_eq!(full("en-GB"), "Card purchase: €432.10 at Corner Cafe");
        assert_eq!(
            full("de-DE"),
            "Kartenzahlung: 432,10\u{a0}€ bei Corner Cafe"
        );
        assert_eq!(
            full("fr-FR"),
            "Paiement par carte\u{a0}: 432,10\u{a0}€ chez Corner Cafe"
        );
    }

    #[test]
    fn hidden_amounts_never_reach_a_notification() {
        for lang in Lang::ALL {
            for kind in AlertKind::ALL {
                let (_, body) = hiding_amounts(kind.name(), Locale::of(lang));
                assert!(
                    !body.chars().any(|c| c.is_ascii_digit()) && !body.contains("Cafe"),
                    "no amount or merchant in {body:?}"
                );
            }
        }
    }

    #[test]
    fn a_quarantined_alert_never_notifies_as_the_banks() {
        for privacy in [
            NotificationPrivacy::Full,
            NotificationPrivacy::HideAmounts,
            NotificationPrivacy::Nothing,
        ] {
            let (title, body) = notification_for(privacy, en(), &alert_event("purchase", false))
                .expect("it notifies");
            assert_eq!(title, "Strongroom");
            assert!(!body.contains("Demo Bank") && !body.contains("432"));
        }
    }

    #[test]
    fn only_alerts_and_calls_that_begin_notify() {
        let event = LiveEvent::Message {
            account: "00000000000000a1".into(),
        };
        assert_eq!(
            notification_for(NotificationPrivacy::Full, en(), &event),
            None
        );
        for state in [
            CallState::TalkingNow,
            CallState::NotCalling,
            CallState::CantCheck,
        ] {
            let event = call_event(state, false);
            assert_eq!(
                notification_for(NotificationPrivacy::Full, en(), &event),
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
                reason: talking.then(|| "suspicious_payment".into()),
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
            notification_for(NotificationPrivacy::Nothing, en(), &event),
            Some(("Strongroom".into(), "Your bank is calling you".into()))
        );
        let (title, body) =
            notification_for(NotificationPrivacy::HideAmounts, en(), &event).expect("it notifies");
        assert_eq!(title, "Demo Bank");
        assert!(
            body.contains("calling you") && !body.contains("Hawa"),
            "{body}"
        );
        let (title, body) =
            notification_for(NotificationPrivacy::Full, en(), &event).expect("it notifies");
        assert_eq!(title, "Demo Bank is calling you");
        assert!(
            body.starts_with("Hawa Lind, about a suspicious payment"),
            "{body}"
        );
        let (title, body) =
            notification_for(NotificationPrivacy::Full, Locale::of(Lang::De), &event)
                .expect("it notifies");
        assert_eq!(title, "Demo Bank ruft Sie an");
        // The reason, sent as a code, is worded in the customer's language.
        assert_eq!(
            body,
            "Hawa Lind, Anlass: verdächtige Zahlung. Von Strongroom verifiziert."
        );
    }
}
