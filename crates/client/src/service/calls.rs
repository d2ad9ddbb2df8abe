//! Call status on this device: the bank's call statements and contact
//! proofs, verified against the bank's pinned keys and kept per account in
//! a [`CallWatch`]; and scam-call reports sent to the bank the caller
//! claimed to be.

use strongroom_core::AccountId;
use strongroom_core::protocol::call::{CallStatus, CallWatch};
use strongroom_core::protocol::frames::{self, ScamReportRequest, ShownCallStatus};

use super::events::ClientEvent;
use super::{Client, Linked, lock, now_ms};
use crate::ClientError;

/// What a call watch is kept in, per linked account.
pub(super) type Calls = std::sync::Mutex<CallWatch>;

impl Client {
    /// Takes a call statement from the stream. One that fails verification
    /// is dropped (it is never shown, and it is still acknowledged so the
    /// stream moves on); the reason goes to the log, not to the customer.
    pub(super) fn take_call_statement(&self, account: AccountId, linked: &Linked, jws: &str) {
        let now = now_ms() / 1000;
        let pinned = lock(&linked.verifier).pinned().clone();
        let mut watch = lock(&linked.calls);
        let taken = watch.apply_call(&pinned, jws, now);
        drop(watch);
        match taken {
            Ok(_) => self.announce_call_status(account, linked),
            Err(e) => eprintln!("strongroom: a call statement was refused ({})", e.code()),
        }
    }

    /// Takes a contact proof and the call statements sent with it.
    pub(super) fn take_contact(
        &self,
        account: AccountId,
        linked: &Linked,
        proof: &str,
        calls: &[String],
    ) {
        let now = now_ms() / 1000;
        let pinned = lock(&linked.verifier).pinned().clone();
        let mut watch = lock(&linked.calls);
        for jws in calls {
            // A statement already held comes back re-signed: refusing it as
            // a replay of an ended call is right, and harmless otherwise.
            let _ = watch.apply_call(&pinned, jws, now);
        }
        let taken = watch.apply_contact(&pinned, proof, now);
        drop(watch);
        match taken {
            Ok(()) => self.announce_call_status(account, linked),
            Err(e) => eprintln!("strongroom: a contact proof was refused ({})", e.code()),
        }
    }

    /// The stream of `account` closed: the device can check no caller
    /// until a new proof arrives.
    pub(super) fn lose_contact(&self, account: AccountId) {
        if let Some(linked) = lock(&self.inner.linked).get(&account).cloned() {
            lock(&linked.calls).lose_contact();
            self.announce_call_status(account, &linked);
        }
    }

    /// Tells the window the status now, and whether it shows a call for the
    /// first time (which notifies; a renewal, a re-sent start or the same
    /// call shown again after a reconnect does not).
    fn announce_call_status(&self, account: AccountId, linked: &Linked) {
        let now = now_ms() / 1000;
        let mut watch = lock(&linked.calls);
        let status = watch.status(now);
        let started = watch.take_started(now).is_some();
        drop(watch);
        self.emit(ClientEvent::CallStatus {
            account,
            status,
            started,
        });
    }

    /// What this device can honestly say now about `account`'s bank
    /// calling the customer. An account whose stream has not run since the
    /// app started says "can't check".
    ///
    /// # Errors
    /// [`ClientError::NotLinked`] for an unknown account.
    pub fn call_status(&self, account: AccountId) -> Result<CallStatus, ClientError> {
        self.link_of(account)?;
        let linked = lock(&self.inner.linked).get(&account).cloned();
        let now = now_ms() / 1000;
        Ok(
            linked.map_or(CallStatus::CantCheck { heard_at: None }, |l| {
                lock(&l.calls).status(now)
            }),
        )
    }

    /// Reports a call from someone who claimed to be `account`'s bank: a
    /// DPoP-bound request, so the bank knows it came from this enrolled
    /// device. Refused while the app shows a verified call from that bank
    /// (the caller is the bank). Returns when the bank received it (ms).
    ///
    /// # Errors
    /// [`ClientError::CallVerified`] while a verified call is open; network and
    /// bank errors as for any request.
    pub async fn report_scam_call(
        &self,
        account: AccountId,
        called_at: i64,
        caller_number: Option<String>,
        note: Option<String>,
    ) -> Result<i64, ClientError> {
        let shown_status = match self.call_status(account)? {
            CallStatus::TalkingNow { call } => {
                return Err(ClientError::CallVerified(call.agent));
            }
            CallStatus::NotCalling { .. } => ShownCallStatus::NotCalling,
            CallStatus::CantCheck { .. } => ShownCallStatus::CantCheck,
        };
        let request = ScamReportRequest {
            report_id: self.random_id()?,
            called_at,
            caller_number: caller_number.filter(|n| !n.trim().is_empty()),
            note: note.filter(|n| !n.trim().is_empty()),
            shown_status,
        };
        // Checked as the bank will check it, so a bad number or a long note
        // is refused here with the reason, before anything is sent.
        let body = frames::encode(&request);
        frames::decode_scam_report(body.as_bytes())?;
        let reply = self.post_to_bank(account, "/scam-reports", &body).await?;
        #[derive(serde::Deserialize)]
        struct Received {
            received_at: i64,
        }
        let received: Received = serde_json::from_slice(&reply.body)
            .map_err(|e| ClientError::BankProtocol(format!("scam report reply: {e}")))?;
        Ok(received.received_at)
    }
}
