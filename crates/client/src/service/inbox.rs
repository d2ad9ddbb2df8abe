//! What arrives on the stream, stored before it is acknowledged: alerts
//! (verified against the pinned keys, or quarantined), chat messages,
//! flags and key rotations; and the stored alerts read back.

use strongroom_core::protocol::alert::AlertSeverity;
use strongroom_core::protocol::frames::{self, DeviceEvent};
use strongroom_core::protocol::verify::TimePolicy;
use strongroom_core::text::neutralize;
use strongroom_core::{AccountId, Sensitive};
use strongroom_store::{
    AlertDetails, Delivery, Direction, Inserted, Millis, NewAlert, NewMessage, Severity,
    StoreError, Verification,
};
use strongroom_vault::SecretKind;

use super::events::{AlertView, ClientEvent};
use super::{Client, Linked, lock, now_ms};
use crate::ClientError;

impl Client {
    /// The latest alerts of an account, newest first.
    ///
    /// # Errors
    /// [`ClientError::Store`] when a row cannot be read.
    pub fn alerts(&self, account: AccountId, limit: usize) -> Result<Vec<AlertView>, ClientError> {
        self.with_device(|d| {
            let page = d.store().alerts(account, limit)?;
            Ok(page
                .items
                .iter()
                .map(|a| {
                    // A quarantined alert is named by the fingerprint of its
                    // bytes, never by the id its (unverified) payload claims.
                    let id = match a.details.verification {
                        Verification::Verified { .. } => alert_jti(&a.raw_jws),
                        Verification::Failed { .. } => quarantine_id(&a.raw_jws),
                    };
                    let mut view = AlertView::new(&id, &a.details, a.issued_at);
                    view.answer = a.answer.map(|(answer, _)| answer);
                    view.answered_at = a.answer.map(|(_, at)| at);
                    view
                })
                .collect())
        })
    }

    pub(super) fn apply(
        &self,
        account: AccountId,
        linked: &Linked,
        event: DeviceEvent,
    ) -> Result<(), ClientError> {
        let now = now_ms();
        match event {
            DeviceEvent::Alert { jws } => {
                let alert = checked_alert(account, linked, jws, now);
                let inserted = self.with_device(|d| d.store().insert_alert(&alert))?;
                self.announce_alert(&alert, &inserted);
            }
            DeviceEvent::Chat { message } => {
                let link = self.link_of(account)?;
                let from_bank = message.from == frames::ChatAuthor::Staff;
                let inserted = self.with_device(|d| {
                    d.store().insert_messages(&[NewMessage {
                        conversation: link.conversation,
                        direction: if from_bank {
                            Direction::Incoming
                        } else {
                            Direction::Outgoing
                        },
                        author: neutralize(&message.author).into_owned(),
                        body: neutralize(&message.body).into_owned(),
                        sent_at: message.sent_at,
                        received_at: Some(now),
                        delivery: Delivery::Delivered,
                        client_id: message.client_id.clone(),
                        bank_message_id: Some(message.bank_message_id.clone()),
                    }])
                })?;
                if matches!(inserted.first(), Some(Inserted::New(_))) {
                    self.emit(ClientEvent::Message {
                        account,
                        from_bank,
                        author: message.author,
                        body: message.body,
                    });
                }
            }
            DeviceEvent::ChatAccepted {
                client_id,
                bank_message_id,
            } => {
                match self.with_device(|d| {
                    d.store()
                        .acknowledge_outgoing(account, &client_id, &bank_message_id)
                }) {
                    // Sent from another device, or already erased: nothing
                    // of ours to mark.
                    Ok(_) | Err(StoreError::NotFound { .. }) => {}
                    Err(other) => return Err(other.into()),
                }
                self.emit(ClientEvent::ChatAccepted { account, client_id });
            }
            DeviceEvent::Flags { flags } => {
                let mut link = self.link_of(account)?;
                link.flags = flags.clone();
                self.with_device(|d| d.store().set_bank_link(account, &link))?;
                self.emit(ClientEvent::Flags { account, flags });
            }
            DeviceEvent::CallStatus { jws } => {
                self.take_call_statement(account, linked, &jws);
            }
            DeviceEvent::KeyRotation { jws } => {
                let current = lock(&linked.verifier).pinned().clone();
                // A redelivered statement (already applied) or a refused one
                // (forged, stale) leaves the pinned keys as they are.
                if let Ok(next) = current.rotate(&jws, now / 1000, TimePolicy::default()) {
                    {
                        let json = serde_json::to_vec(&next).map_err(|_| {
                            ClientError::BankProtocol("the pinned keys do not serialize".into())
                        })?;
                        // The statement joins the chain a transcript carries
                        // before the keychain moves on: a crash in between
                        // leaves the statement to be applied again on
                        // redelivery, never a chain that skips it.
                        let mut link = self.link_of(account)?;
                        if link.link_keys.is_none() {
                            link.link_keys = Some(current.clone());
                        }
                        if !link.key_rotations.contains(&jws) {
                            link.key_rotations.push(jws.clone());
                        }
                        self.with_device(|d| d.store().set_bank_link(account, &link))?;
                        // Keychain first: the stream position only moves
                        // past the statement once the new keys are kept.
                        self.with_device(|d| {
                            d.vault()
                                .put(account, SecretKind::PinnedKeys, &Sensitive::new(json))
                        })?;
                        let version = next.version;
                        lock(&linked.verifier).set_pinned(next);
                        self.emit(ClientEvent::KeysRotated { account, version });
                    }
                }
            }
        }
        Ok(())
    }
}

fn severity(s: AlertSeverity) -> Severity {
    match s {
        AlertSeverity::Info => Severity::Info,
        AlertSeverity::Warning => Severity::Warning,
        AlertSeverity::Critical => Severity::Critical,
    }
}

/// The `jti` of a stored alert's JWS, read without trusting it (it was
/// checked when it arrived; this is only to name it).
pub(crate) fn alert_jti(jws: &str) -> String {
    strongroom_core::protocol::jose::parse_jws(jws)
        .ok()
        .and_then(|j| serde_json::from_slice::<serde_json::Value>(&j.payload).ok())
        .and_then(|v| v.get("jti").and_then(|j| j.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// The id a quarantined alert is stored and shown under: a fingerprint of
/// its exact bytes.
pub(super) fn quarantine_id(jws: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, jws.as_bytes());
    format!(
        "quarantine:{}",
        strongroom_core::protocol::jose::b64_encode(digest.as_ref())
    )
}

/// What a quarantined alert is stored as: never the bank's claims as if
/// they were true, only a warning with the reason and a fingerprint of the
/// exact bytes (so a forged copy of a real alert's id cannot block the real
/// one from being stored).
fn quarantined(
    jws: &str,
    err: &strongroom_core::protocol::ProtocolError,
    now: Millis,
) -> (String, AlertDetails, Millis) {
    let id = quarantine_id(jws);
    let details = AlertDetails {
        kind: "unverified".into(),
        severity: Severity::Warning,
        amount_minor: None,
        currency: None,
        merchant: None,
        account_ref: None,
        text: "An alert that claims to be from your bank failed verification and was quarantined."
            .into(),
        verification: Verification::Failed {
            reason: format!("{} ({})", err, err.code()),
        },
        balance_minor: None,
    };
    (id, details, now)
}

impl Client {
    /// Announces an alert once it is committed, if it was new.
    pub(super) fn announce_alert(
        &self,
        alert: &NewAlert,
        inserted: &Inserted<strongroom_store::AlertId>,
    ) {
        if let Inserted::New(_) = inserted {
            self.emit(ClientEvent::Alert {
                account: alert.account,
                alert: AlertView::new(&alert.bank_alert_id, &alert.details, alert.issued_at),
            });
        }
    }
}

/// An alert from the stream, checked against the bank's pinned keys:
/// verified, or quarantined (named by the fingerprint of its bytes, never
/// by what its unverified payload claims), ready to store.
pub(super) fn checked_alert(
    account: AccountId,
    linked: &Linked,
    jws: String,
    now: Millis,
) -> NewAlert {
    let checked = lock(&linked.verifier).check(&jws, now / 1000);
    let (bank_alert_id, details, issued_at) = match checked {
        Ok(alert) => (
            alert.id.clone(),
            AlertDetails {
                kind: alert.kind.name().to_owned(),
                severity: severity(alert.event.severity),
                amount_minor: alert.event.amount_minor,
                currency: alert.event.currency.clone(),
                merchant: alert.event.merchant.clone(),
                account_ref: alert.event.account_ref.clone(),
                text: alert.event.text.clone(),
                verification: Verification::Verified {
                    key_id: alert.key_id.clone(),
                },
                balance_minor: alert.event.balance_minor,
            },
            alert.issued_at.saturating_mul(1000),
        ),
        Err(err) => quarantined(&jws, &err, now),
    };
    NewAlert {
        account,
        bank_alert_id,
        details,
        raw_jws: jws,
        issued_at,
        received_at: now,
    }
}
