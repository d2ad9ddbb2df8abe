//! The messages of the delivery stream (one WebSocket per linked bank) and
//! of the device's requests. All JSON, all tagged with `type`, all decoded
//! through the size-checked functions here.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::ProtocolError;

/// The largest frame either side accepts on the stream, in bytes.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// The longest chat message body, in bytes.
pub const MAX_CHAT_BODY_BYTES: usize = 4 * 1024;

/// A chat message between the customer and bank staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatMessage {
    /// The bank's id for the message (deduplication).
    pub bank_message_id: String,
    /// The customer's idempotency key, when the customer wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `customer` or `staff`.
    pub from: ChatAuthor,
    /// The author's display name.
    pub author: String,
    /// The text (rendered as text, never as HTML).
    pub body: String,
    /// When it was sent, milliseconds since the epoch.
    pub sent_at: i64,
}

/// Who wrote a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatAuthor {
    /// The customer (echoed back to the device after the bank stored it).
    Customer,
    /// Bank staff.
    Staff,
}

/// Something the bank delivers to one device, numbered by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum DeviceEvent {
    /// A signed alert (compact JWS of a Security Event Token).
    Alert {
        /// The JWS, exactly as signed.
        jws: String,
    },
    /// A chat message.
    Chat {
        /// The message.
        message: ChatMessage,
    },
    /// The bank stored a message the customer sent.
    ChatAccepted {
        /// The customer's idempotency key.
        client_id: String,
        /// The bank's id for it.
        bank_message_id: String,
    },
    /// The pilot features switched on for this customer.
    Flags {
        /// Feature name to on/off.
        flags: BTreeMap<String, bool>,
    },
    /// A signed statement replacing the bank's alert keys.
    KeyRotation {
        /// The JWS, exactly as signed.
        jws: String,
    },
    /// A signed call statement: an agent opened, renewed or ended a call
    /// status for this customer ([`crate::protocol::call`]).
    CallStatus {
        /// The JWS, exactly as signed.
        jws: String,
    },
}

/// A frame from the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerFrame {
    /// First frame: the highest sequence number the server holds as
    /// acknowledged by this device.
    Hello {
        /// Highest acknowledged sequence number.
        acked: u64,
    },
    /// One numbered event.
    Event {
        /// Per-device sequence number, from 1, without gaps.
        seq: u64,
        /// The event.
        event: DeviceEvent,
    },
    /// A contact proof, unnumbered and never acknowledged: sent right after
    /// the device's `resume` and then on every keep-alive, so the device can tell it
    /// heard from its bank recently ([`crate::protocol::call`]).
    Contact {
        /// The contact proof's JWS, exactly as signed.
        jws: String,
        /// A freshly signed call statement for each call the proof lists,
        /// so a device that missed the start (it was offline, or
        /// restarted) can show who is calling.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        calls: Vec<String>,
    },
}

/// A frame from the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Send every event after `after` (the last number durably stored).
    Resume {
        /// Last acknowledged sequence number.
        after: u64,
    },
    /// Every event up to `seq` is durably stored.
    Ack {
        /// Cumulative acknowledgement.
        seq: u64,
    },
}

/// The customer's answer to a fraud check: the body of a DPoP-bound POST.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FraudAnswerRequest {
    /// The alert's id (its `jti`): the answer is bound to it.
    pub alert_id: String,
    /// The answer.
    pub answer: FraudAnswerValue,
    /// When the customer answered, milliseconds since the epoch.
    pub answered_at: i64,
}

/// A customer's report of a call from someone who claimed to be the bank:
/// the body of a DPoP-bound POST to the bank the caller claimed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScamReportRequest {
    /// The device's id for the report (idempotency key): sending it again
    /// never makes a second report.
    pub report_id: String,
    /// When the call came, milliseconds since the epoch.
    pub called_at: i64,
    /// The number the caller showed, if the customer gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_number: Option<String>,
    /// The customer's own words, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What the app showed for this bank when the report was made.
    pub shown_status: ShownCallStatus,
}

/// What the app showed when a scam call was reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShownCallStatus {
    /// "Not calling you": a fresh proof said no call was open.
    NotCalling,
    /// "Can't check".
    CantCheck,
}

impl ShownCallStatus {
    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            ShownCallStatus::NotCalling => "not_calling",
            ShownCallStatus::CantCheck => "cant_check",
        }
    }
}

/// The longest note on a scam-call report, in bytes.
pub const MAX_SCAM_NOTE_BYTES: usize = 1024;

/// "This was me" or "This wasn't me".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FraudAnswerValue {
    /// This was me.
    Me,
    /// This wasn't me.
    NotMe,
}

/// A chat message the customer sends: the body of a DPoP-bound POST.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendChatRequest {
    /// Idempotency key: sending it again never makes a second message.
    pub client_id: String,
    /// The message as the customer wrote it, plain text.
    pub body: String,
    /// When the customer wrote it, milliseconds since the epoch.
    pub sent_at: i64,
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ProtocolError> {
    if bytes.len() > MAX_FRAME_BYTES {
        return Err(ProtocolError::TooLarge {
            len: bytes.len(),
            max: MAX_FRAME_BYTES,
        });
    }
    serde_json::from_slice(bytes).map_err(|_| ProtocolError::Malformed("not a valid frame"))
}

/// Decodes a frame from the server.
///
/// # Errors
/// [`ProtocolError::TooLarge`] or [`ProtocolError::Malformed`].
pub fn decode_server_frame(bytes: &[u8]) -> Result<ServerFrame, ProtocolError> {
    let frame: ServerFrame = decode(bytes)?;
    if let ServerFrame::Event { seq: 0, .. } = frame {
        return Err(ProtocolError::Malformed("sequence numbers start at 1"));
    }
    if let ServerFrame::Event {
        event: DeviceEvent::Chat { message },
        ..
    } = &frame
    {
        check_body(&message.body)?;
    }
    Ok(frame)
}

/// Decodes a frame from the device.
///
/// # Errors
/// [`ProtocolError::TooLarge`] or [`ProtocolError::Malformed`].
pub fn decode_client_frame(bytes: &[u8]) -> Result<ClientFrame, ProtocolError> {
    decode(bytes)
}

/// Decodes a chat send request.
///
/// # Errors
/// [`ProtocolError::TooLarge`] or [`ProtocolError::Malformed`].
pub fn decode_send_chat(bytes: &[u8]) -> Result<SendChatRequest, ProtocolError> {
    let request: SendChatRequest = decode(bytes)?;
    check_body(&request.body)?;
    if request.client_id.is_empty() || request.client_id.len() > 64 {
        return Err(ProtocolError::Malformed("a client id is 1 to 64 bytes"));
    }
    Ok(request)
}

/// Decodes a fraud answer request.
///
/// # Errors
/// [`ProtocolError::TooLarge`] or [`ProtocolError::Malformed`].
pub fn decode_fraud_answer(bytes: &[u8]) -> Result<FraudAnswerRequest, ProtocolError> {
    decode(bytes)
}

/// Decodes a scam-call report.
///
/// # Errors
/// [`ProtocolError::TooLarge`] or [`ProtocolError::Malformed`].
pub fn decode_scam_report(bytes: &[u8]) -> Result<ScamReportRequest, ProtocolError> {
    let request: ScamReportRequest = decode(bytes)?;
    if request.report_id.is_empty() || request.report_id.len() > 64 {
        return Err(ProtocolError::Malformed("a report id is 1 to 64 bytes"));
    }
    if let Some(number) = &request.caller_number {
        let plain = number
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')'));
        if number.is_empty() || number.len() > 32 || !plain {
            return Err(ProtocolError::Malformed(
                "a caller number is up to 32 digits, spaces and + - ( )",
            ));
        }
    }
    if let Some(note) = &request.note {
        if note.len() > MAX_SCAM_NOTE_BYTES {
            return Err(ProtocolError::TooLarge {
                len: note.len(),
                max: MAX_SCAM_NOTE_BYTES,
            });
        }
        if crate::text::first_spoofing_char(note).is_some() {
            return Err(ProtocolError::Malformed(
                "a note may not hold bidirectional or invisible format characters",
            ));
        }
    }
    Ok(request)
}

fn check_body(body: &str) -> Result<(), ProtocolError> {
    if body.len() > MAX_CHAT_BODY_BYTES {
        return Err(ProtocolError::TooLarge {
            len: body.len(),
            max: MAX_CHAT_BODY_BYTES,
        });
    }
    if body.trim().is_empty() {
        return Err(ProtocolError::Malformed("a chat message needs text"));
    }
    // Bidirectional and invisible format characters could make the
    // message read otherwise to the staff than it was written.
    if crate::text::first_spoofing_char(body).is_some() {
        return Err(ProtocolError::Malformed(
            "a chat message may not hold bidirectional or invisible format characters",
        ));
    }
    Ok(())
}

/// Encodes any frame or request as JSON.
pub fn encode<T: Serialize>(value: &T) -> String {
    // These types hold only strings, numbers and maps with string keys:
    // serialization cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_bad_frames_are_typed_errors() {
        let frame = ServerFrame::Event {
            seq: 7,
            event: DeviceEvent::Chat {
                message: ChatMessage {
                    bank_message_id: "m1".into(),
                    client_id: None,
                    from: ChatAuthor::Staff,
                    author: "Ana".into(),
                    body: "<script>alert(1)</script>".into(),
                    sent_at: 1,
                },
            },
        };
        let text = encode(&frame);
        assert_eq!(decode_server_frame(text.as_bytes()).unwrap(), frame);
        assert_eq!(
            decode_client_frame(br#"{"type":"ack","seq":3}"#).unwrap(),
            ClientFrame::Ack { seq: 3 }
        );
        assert!(matches!(
            decode_server_frame(br#"{"type":"event","seq":0,"event":{"type":"flags","flags":{}}}"#),
            Err(ProtocolError::Malformed(_))
        ));
        assert!(matches!(
            decode_client_frame(br#"{"type":"ack","seq":-1}"#),
            Err(ProtocolError::Malformed(_))
        ));
        assert!(matches!(
            decode_client_frame(br#"{"type":"ack","seq":1,"extra":1}"#),
            Err(ProtocolError::Malformed(_))
        ));
        assert!(matches!(
            decode_client_frame(&vec![b' '; MAX_FRAME_BYTES + 1]),
            Err(ProtocolError::TooLarge { .. })
        ));
        let long = format!(
            r#"{{"client_id":"c","body":"{}","sent_at":1}}"#,
            "x".repeat(MAX_CHAT_BODY_BYTES + 1)
        );
        assert!(matches!(
            decode_send_chat(long.as_bytes()),
            Err(ProtocolError::TooLarge { .. })
        ));
        assert!(matches!(
            decode_send_chat(br#"{"client_id":"","body":"hi","sent_at":1}"#),
            Err(ProtocolError::Malformed(_))
        ));
        assert!(matches!(
            decode_send_chat(br#"{"client_id":"c","body":"  ","sent_at":1}"#),
            Err(ProtocolError::Malformed(_))
        ));
        assert_eq!(
            decode_fraud_answer(br#"{"alert_id":"a1","answer":"not_me","answered_at":5}"#)
                .unwrap()
                .answer,
            FraudAnswerValue::NotMe
        );
    }
}
