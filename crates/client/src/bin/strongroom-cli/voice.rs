//! The CLI's voice: every line of its text output (not `--json`) in the
//! customer's language, from `cli.ftl` (with the shared `kinds.ftl` and
//! `errors.ftl`), and amounts written as the window writes them.

use strongroom_client::{AlertView, ClientEvent, DamageReport, ErrorCode, ErrorReport};
use strongroom_core::AccountId;
use strongroom_l10n::{Arg, Catalog, Domain, Lang, Locale, format_amount};
use strongroom_store::{Alarm, FraudAnswer};

use super::clean;

/// A count as a catalogue value (it picks the plural form).
pub(super) fn num<T: TryInto<i64>>(n: T) -> Arg<'static> {
    Arg::Num(n.try_into().unwrap_or(i64::MAX))
}

/// The language and formats the CLI writes in.
pub(super) struct Voice {
    catalog: &'static Catalog,
    tag: &'static str,
}

impl Voice {
    /// The system's locale (gettext's environment variables), or `choice`
    /// (`--lang`, `STRONGROOM_LANG`) when given.
    pub(super) fn new(choice: Option<Lang>) -> Voice {
        Voice::at(Locale::chosen(choice, Locale::system()))
    }

    fn at(locale: Locale) -> Voice {
        Voice {
            catalog: Catalog::get(Domain::Cli, locale.lang),
            tag: locale.tag,
        }
    }

    /// A language with its own formats, whatever the system's (for tests).
    #[cfg(test)]
    pub(super) fn of(lang: Lang) -> Voice {
        Voice::at(Locale::of(lang))
    }

    /// The message `id` with no values.
    pub(super) fn text(&self, id: &str) -> String {
        self.catalog.text(id)
    }

    /// The message `id` with values.
    pub(super) fn format(&self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        self.catalog.format(id, args)
    }

    /// Whether the catalogue has the message `id`.
    pub(super) fn has(&self, id: &str) -> bool {
        self.catalog.has(id)
    }

    /// Items joined as the language lists them ("a, b").
    pub(super) fn list(&self, items: impl IntoIterator<Item = String>) -> String {
        items
            .into_iter()
            .collect::<Vec<_>>()
            .join(&self.text("cli-list-separator"))
    }

    /// An amount as the window writes it in this locale (`€129.99`,
    /// `129,99 €`), made safe for a terminal (the currency is the bank's).
    pub(super) fn amount(&self, minor: i64, currency: &str) -> String {
        clean(&format_amount(minor, &clean(currency), self.tag))
    }

    /// What an alert kind is called (`kinds.ftl`); a kind this version
    /// does not know is shown as the bank sent it.
    pub(super) fn kind(&self, kind: &str) -> String {
        self.catalog
            .find(&format!("kind-{kind}"))
            .unwrap_or_else(|| clean(kind))
    }

    /// The lines an error ends the command with: what happened and what to
    /// do (`errors.ftl`, by the error's stable code and values), and the
    /// code, which scripts may match. The report's English words carry
    /// the technical detail the catalogue leaves out (which file, the
    /// system's reason); when they say more, they follow on a line of
    /// their own.
    pub(super) fn error_lines(&self, report: &ErrorReport) -> String {
        let code = clean(&report.code.to_string());
        let message = self.error_message(report);
        let id = Self::error_id(report);
        let mut lines = self.format(
            "cli-error",
            &[("message", Arg::Str(&message)), ("code", Arg::Str(&code))],
        );
        if self.has(&id)
            && Catalog::get(Domain::Cli, Lang::En).format(&id, &Self::error_values(report))
                != report.message
        {
            lines.push('\n');
            lines.push_str(&self.format(
                "cli-error-detail",
                &[("detail", Arg::Str(&clean(&report.message)))],
            ));
        }
        lines
    }

    /// The catalogue id of an error's message.
    fn error_id(report: &ErrorReport) -> String {
        match report.code {
            ErrorCode::OAuth(_) => "error-oauth".to_owned(),
            _ => format!("error-{}", clean(&report.code.to_string())),
        }
    }

    /// An error's values; counts come as decimal text, and as numbers they
    /// pick plural forms.
    fn error_values(report: &ErrorReport) -> Vec<(&str, Arg<'_>)> {
        report
            .values
            .iter()
            .map(|(name, value)| {
                let value = value.parse::<i64>().map_or(Arg::Str(value), Arg::Num);
                (name.as_str(), value)
            })
            .collect()
    }

    /// What happened, in the reader's language (`errors.ftl`, by the
    /// error's code and values); the report's English words when the
    /// catalogue has no message for the code.
    pub(super) fn error_message(&self, report: &ErrorReport) -> String {
        let id = Self::error_id(report);
        if self.has(&id) {
            clean(&self.format(&id, &Self::error_values(report)))
        } else {
            clean(&report.message)
        }
    }

    /// One alert: whether it is the bank's, its kind, text and amount, the
    /// answer to a fraud check, and its id (for `answer`).
    pub(super) fn alert_line(&self, bank: &str, alert: &AlertView) -> String {
        let badge = if alert.verified {
            self.format("cli-badge-verified", &[("bank", Arg::Str(bank))])
        } else {
            self.text("cli-badge-quarantined")
        };
        let answer = match alert.answer {
            Some(FraudAnswer::ThisWasMe) => Some("cli-answered-me"),
            Some(FraudAnswer::NotMe) => Some("cli-answered-not-me"),
            None if alert.kind == "fraud_check" && alert.verified => Some("cli-awaiting-answer"),
            None => None,
        };
        let amount = match (alert.amount_minor, &alert.currency) {
            (Some(minor), Some(currency)) => self.amount(minor, currency),
            _ => String::new(),
        };
        let (kind, text, id) = (self.kind(&alert.kind), clean(&alert.text), clean(&alert.id));
        let answer = answer.map(|a| self.text(a)).unwrap_or_default();
        let line = match (amount.is_empty(), answer.is_empty()) {
            (true, true) => "cli-alert",
            (false, true) => "cli-alert-amount",
            (true, false) => "cli-alert-answer",
            (false, false) => "cli-alert-amount-answer",
        };
        self.format(
            line,
            &[
                ("badge", Arg::Str(&badge)),
                ("kind", Arg::Str(&kind)),
                ("text", Arg::Str(&text)),
                ("amount", Arg::Str(&amount)),
                ("answer", Arg::Str(&answer)),
                ("id", Arg::Str(&id)),
            ],
        )
    }

    /// Damage found in an account's history at unlock, as one warning line.
    pub(super) fn damage_line(&self, damage: &DamageReport) -> String {
        let mut findings = Vec::new();
        if damage.damaged_rows > 0 {
            findings.push(self.format(
                "cli-damage-rows",
                &[
                    ("rows", num(damage.damaged_rows)),
                    ("messages", num(damage.damaged_messages)),
                    ("alerts", num(damage.damaged_alerts)),
                ],
            ));
        }
        for scope in &damage.scopes {
            let counts = [
                ("recorded", num(scope.recorded_rows)),
                ("found", num(scope.found_rows)),
            ];
            findings.push(match scope.conversation {
                Some(c) => self.format(
                    "cli-damage-conversation",
                    &[&counts[..], &[("conversation", num(c.0))]].concat(),
                ),
                None => self.format(
                    "cli-damage-table",
                    &[&counts[..], &[("table", Arg::Str(scope.table))]].concat(),
                ),
            });
        }
        for alarm in &damage.alarms {
            findings.push(match alarm {
                Alarm::RolledBack { anchored, found } => self.format(
                    "cli-damage-rolled-back",
                    &[("anchored", num(*anchored)), ("found", num(*found))],
                ),
                Alarm::HeadForged => self.text("cli-damage-head-forged"),
                Alarm::HeadMissing => self.text("cli-damage-head-missing"),
            });
        }
        let findings = findings.join(&self.text("cli-damage-separator"));
        self.format(
            "cli-damage",
            &[
                ("account", Arg::Str(&damage.account)),
                ("findings", Arg::Str(&findings)),
            ],
        )
    }

    /// A live event of `watch` as a line; `None` for one a person need
    /// not see. `bank` names an account's bank.
    pub(super) fn event_line(
        &self,
        event: &ClientEvent,
        bank: impl Fn(&AccountId) -> String,
    ) -> Option<String> {
        Some(match event {
            ClientEvent::Alert { account, alert } => self.alert_line(&bank(account), alert),
            ClientEvent::Message {
                from_bank,
                author,
                body,
                ..
            } => self.format(
                if *from_bank {
                    "cli-event-chat"
                } else {
                    "cli-event-chat-own"
                },
                &[
                    ("author", Arg::Str(&clean(author))),
                    ("body", Arg::Str(&clean(body))),
                ],
            ),
            ClientEvent::Connected { account } => {
                self.format("cli-event-connected", &[("bank", Arg::Str(&bank(account)))])
            }
            ClientEvent::Disconnected {
                error, retry_in_ms, ..
            } => self.format(
                "cli-event-disconnected",
                &[
                    (
                        "reason",
                        Arg::Str(&match error {
                            Some(report) => self.error_message(report),
                            None => self.text("cli-event-bank-closed"),
                        }),
                    ),
                    ("ms", num(*retry_in_ms)),
                ],
            ),
            ClientEvent::ChatAccepted { .. } => self.text("cli-event-chat-accepted"),
            ClientEvent::Flags { flags, .. } => self.format(
                "cli-event-flags",
                &[("flags", Arg::Str(&clean(&format!("{flags:?}"))))],
            ),
            ClientEvent::KeysRotated { version, .. } => {
                self.format("cli-event-keys-rotated", &[("version", num(*version))])
            }
            ClientEvent::LinkRevoked { account } => {
                self.format("cli-event-revoked", &[("bank", Arg::Str(&bank(account)))])
            }
            ClientEvent::CallStatus {
                account, status, ..
            } => super::call_status::call_line(self, *account, &bank(account), status),
            ClientEvent::Committed { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strongroom_client::ClientError;

    fn voice(lang: Lang) -> Voice {
        Voice::of(lang)
    }

    fn alert() -> AlertView {
        AlertView {
            id: "a1".into(),
            kind: "fraud_check".into(),
            severity: strongroom_store::Severity::Info,
            text: "Did you pay?".into(),
            amount_minor: Some(12_999),
            currency: Some("EUR".into()),
            merchant: None,
            verified: true,
            verification: "k1".into(),
            issued_at: 0,
            answer: None,
            answered_at: None,
            balance_minor: None,
        }
    }

    #[test]
    fn amounts_are_written_as_the_window_writes_them() {
        let en = voice(Lang::En);
        assert_eq!(en.amount(12_999, "EUR"), "€129.99");
        assert_eq!(en.amount(12_999, "JPY"), "¥12,999");
        assert_eq!(en.amount(-5, "GBP"), "-£0.05");
        assert_eq!(voice(Lang::De).amount(123_456, "EUR"), "1.234,56\u{a0}€");
        // A currency the bank made up cannot smuggle a control sequence.
        assert!(!en.amount(1, "\u{1b}[2J").chars().any(char::is_control));
    }

    #[test]
    fn an_alert_line_names_its_kind_and_amount_in_the_language() {
        let line = voice(Lang::En).alert_line("Demo Bank", &alert());
        assert_eq!(
            line,
            "[verified: Demo Bank] Please confirm a transaction Did you pay? €129.99 \
             (awaiting your answer)  id=a1"
        );
        let mut quarantined = alert();
        quarantined.verified = false;
        quarantined.amount_minor = None;
        quarantined.kind = "made_up".into();
        assert_eq!(
            voice(Lang::En).alert_line("Demo Bank", &quarantined),
            "[QUARANTINED: not verified, not from your bank] made_up Did you pay?  id=a1"
        );
        let de = voice(Lang::De).alert_line("Demo Bank", &alert());
        assert!(
            de.contains("Bitte bestätigen Sie eine Zahlung") && de.contains("129,99\u{a0}€"),
            "German kind and amount: {de}"
        );
        let fr = voice(Lang::Fr).alert_line("Demo Bank", &alert());
        assert!(
            fr.contains("Veuillez confirmer une opération") && fr.contains("129,99\u{a0}€"),
            "French kind and amount: {fr}"
        );
    }

    #[test]
    fn damage_reads_as_it_did_before_it_was_translated() {
        let damage = DamageReport {
            account: "acc-1".into(),
            damaged_rows: 2,
            damaged_messages: 1,
            damaged_alerts: 1,
            scopes: vec![strongroom_store::ScopeMismatch {
                table: "alerts",
                conversation: None,
                recorded_rows: 5,
                found_rows: 4,
            }],
            alarms: vec![Alarm::RolledBack {
                anchored: 9,
                found: 7,
            }],
        };
        assert_eq!(
            voice(Lang::En).damage_line(&damage),
            "warning: account acc-1: 2 damaged row(s) hidden (1 message(s), 1 alert(s)); \
             alerts: 5 row(s) recorded, 4 found, or rows rolled back; the database file is an \
             older copy (write 7, the keychain knows write 9); the rest of the history is readable"
        );
        assert_eq!(
            voice(Lang::En).damage_line(&damage),
            damage_summary(&damage)
        );
        let de = voice(Lang::De).damage_line(&damage);
        assert!(de.starts_with("Warnung: Konto acc-1: 2 beschädigte Datensätze ausgeblendet (1 Nachricht, 1 Meldung); "), "{de}");
    }

    #[test]
    fn an_error_is_said_in_the_language_with_its_code_and_detail() {
        let err = ClientError::BadTranscript("cannot read /nope: gone".into());
        let report = ErrorReport::from(&err);
        let en = voice(Lang::En).error_lines(&report);
        assert!(
            en.starts_with("strongroom-cli: This file is not a usable Strongroom transcript")
                && en.contains("(bad_transcript)\n")
                && en.ends_with("cannot read /nope: gone)"),
            "{en}"
        );
        let de = voice(Lang::De).error_lines(&report);
        assert!(
            de.contains("(bad_transcript)") && !de.contains("This file"),
            "{de}"
        );
        // A count picks the plural form.
        let report = ErrorReport::from(&ClientError::RotationIncomplete(1));
        let en = voice(Lang::En).error_lines(&report);
        assert!(
            en.starts_with("strongroom-cli: One item in your history"),
            "{en}"
        );
    }

    /// The library's own English line, as the CLI printed it before.
    fn damage_summary(damage: &DamageReport) -> String {
        format!("warning: {}", damage.summary())
    }
}
