//! Entry points for the cargo-fuzz targets in `fuzz/`: what arrives from
//! outside, decoded and checked exactly as the handlers do, without a
//! database. Each must return, never panic; where a decoder has a partner
//! (an encoder, a second parser of the same body) the two must agree, and a
//! disagreement panics so that the fuzzer reports it.
//!
//! - [`bank_request`]: the bank API's JSON bodies and the checks that run
//!   before anything is stored or signed.
//! - [`device_frame`]: a text frame on the device stream, as the stream
//!   classifies it.
//! - [`verification_form`]: the forms of the verification page and the OAuth
//!   endpoints.
//! - [`tls_server`]: the bytes a client sends to the TLS listener until
//!   its handshake would need the server's answer ([`crate::tls_stream`]:
//!   the ClientHello, the record layer, alerts and errors; what follows a
//!   handshake is in `tls_stream`'s own tests).

use axum::extract::ws::Message;
use strongroom_core::protocol::alert::AlertClaims;
use strongroom_core::protocol::frames::{MAX_CHAT_BODY_BYTES, decode_client_frame, encode};
use strongroom_core::protocol::jose::parse_jws;

use crate::bank::{
    self, BenchDevice, FlagsUpdate, MAX_FLAGS, MAX_REF_BYTES, NewAlert, NewCustomer,
    SignedAlertForward, StaffMessage,
};
use crate::rules::{AlertSettings, Transaction, alerts_for};
use crate::stream::{Incoming, classify};

/// The listener's TLS configuration for [`tls_server`]: the listener's
/// own (`tls::server_config_for`) with a self-signed certificate made once
/// per process.
fn tls_config() -> Option<std::sync::Arc<rustls::ServerConfig>> {
    static CONFIG: std::sync::OnceLock<Option<std::sync::Arc<rustls::ServerConfig>>> =
        std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).ok()?;
            let key =
                rustls_pki_types::PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into());
            crate::tls::server_config_for(vec![made.cert.der().clone()], key).ok()
        })
        .clone()
}

/// Bytes a client sends to the TLS listener: the first input byte picks
/// the size of the pieces they arrive in (1 to 4,081 bytes), the rest are
/// the bytes. See [`crate::tls_stream::feed_client_bytes`].
pub fn tls_server(data: &[u8]) {
    let (Some(config), Some((&first, bytes))) = (tls_config(), data.split_first()) else {
        return;
    };
    let _ = crate::tls_stream::feed_client_bytes(config, bytes, usize::from(first) * 16 + 1);
}

/// A client's first flight, as rustls's client sends it: the `tls_server`
/// target's seed, so that the fuzzer starts from a ClientHello that parses.
fn client_hello() -> Vec<u8> {
    let hello = || -> Option<Vec<u8>> {
        // The gateway's own client configuration, with no roots: only its
        // first flight is wanted.
        let config = crate::tls::client_config(None, false).ok()?;
        let name = rustls_pki_types::ServerName::try_from("localhost").ok()?;
        let mut client = rustls::ClientConnection::new(std::sync::Arc::new(config), name).ok()?;
        let mut out = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut out).ok()?;
        }
        Some(out)
    };
    hello().unwrap_or_default()
}

/// The bank API bodies, one per endpoint: the first input byte picks one
/// (modulo their number), the rest is the body.
const BANK_BODIES: [&str; 7] = [
    "customers",
    "transactions",
    "alerts",
    "signed-alerts",
    "chat",
    "flags",
    "bench-devices",
];

/// Decodes `data` as a bank API body and runs the checks its handler runs
/// before touching storage. A transaction the API accepts must raise only
/// alerts the API can sign: otherwise the bank would see its valid call
/// refused after the rules ran.
///
/// # Panics
/// When an accepted transaction raises an alert that `check_alert_event`
/// refuses.
pub fn bank_request(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    match usize::from(selector) % BANK_BODIES.len() {
        0 => {
            if let Ok(new) = bank::json::<NewCustomer>(body) {
                let _ = bank::valid_username(&new.username);
                let _ = bank::check_shown_text("display_name", &new.display_name);
                let _ = bank::valid_country(&new.home_country);
                if let Some(t) = new.purchase_threshold_minor {
                    let _ = bank::check_amount("purchase_threshold_minor", t, false);
                }
                if let Some(t) = new.balance_low_minor {
                    let _ = bank::check_amount("balance_low_minor", t, true);
                }
            }
        }
        1 => {
            if let Ok(tx) = bank::json::<Transaction>(body)
                && bank::check_transaction(&tx).is_ok()
            {
                let settings = AlertSettings {
                    home_country: "NL".into(),
                    purchase_threshold_minor: 10_000,
                    balance_low_minor: 5_000,
                };
                for (kind, event) in alerts_for(&tx, &settings, crate::crypto::now_s()) {
                    if let Err(problem) = bank::check_alert_event(&event) {
                        panic!(
                            "an accepted transaction raised a {} alert the API refuses: {}",
                            kind.name(),
                            problem.detail
                        );
                    }
                }
            }
        }
        2 => {
            if let Ok(new) = bank::json::<NewAlert>(body) {
                let event = strongroom_core::protocol::alert::AlertEvent {
                    severity: new.severity,
                    text: new.text,
                    account_ref: new.account_ref,
                    amount_minor: new.amount_minor,
                    currency: new.currency,
                    merchant: new.merchant,
                    country: new.country,
                    respond_by: new.respond_by,
                    balance_minor: None,
                };
                let _ = bank::check_alert_event(&event);
            }
        }
        3 => {
            if let Ok(forward) = bank::json::<SignedAlertForward>(body)
                && bank::check_compact_jws(&forward.jws).is_ok()
                && let Ok(jws) = parse_jws(&forward.jws)
                && let Ok(claims) = serde_json::from_slice::<AlertClaims>(&jws.payload)
            {
                let _ = claims
                    .events
                    .keys()
                    .next()
                    .map(|uri| strongroom_core::protocol::alert::AlertKind::from_uri(uri));
            }
        }
        4 => {
            if let Ok(message) = bank::json::<StaffMessage>(body)
                && !message.body.trim().is_empty()
                && message.body.len() <= MAX_CHAT_BODY_BYTES
            {
                let _ = bank::check_label("author", &message.author, MAX_REF_BYTES);
                let _ = bank::check_shown_text("body", &message.body);
            }
        }
        5 => {
            if let Ok(update) = bank::json::<FlagsUpdate>(body) {
                let _ = update.flags.keys().any(|k| k.is_empty() || k.len() > 64)
                    || update.flags.len() > MAX_FLAGS;
            }
        }
        _ => {
            if let Ok(request) = bank::json::<BenchDevice>(body) {
                let _ = bank::valid_username(&request.customer);
            }
        }
    }
}

/// Classifies `data` as a text frame on the device stream, as the stream
/// does. A frame it accepts must encode back to a frame that decodes to the
/// same value.
///
/// # Panics
/// When an accepted frame does not survive encoding and decoding.
pub fn device_frame(data: &[u8]) {
    // WebSocket text frames are UTF-8: the WebSocket layer refuses anything
    // else before the stream sees it.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Incoming::Frame(frame) = classify(Some(Ok(Message::Text(text.into())))) {
        let again = decode_client_frame(encode(&frame).as_bytes());
        assert_eq!(
            again.as_ref().ok(),
            Some(&frame),
            "a client frame changed through encode and decode"
        );
    }
}

/// Reads `data` as a form body, as the verification page (sign-in and
/// decision) and the OAuth endpoints do. When the strict parser (OAuth)
/// accepts a body, the page's parser must read the same fields; a user code
/// that normalizes must normalize again from its displayed form.
///
/// # Panics
/// When the two form parsers disagree, or a user code does not survive
/// display.
pub fn verification_form(data: &[u8]) {
    let page = crate::web::form(data);
    if let Ok(strict) = crate::oauth::parse_form(data) {
        assert_eq!(strict, page, "the page and OAuth read a form differently");
    }
    let get = |name: &str| page.get(name).map(String::as_str).unwrap_or("");
    let _ = crate::web::credentials(get("username"), get("password"));
    let typed: String = get("user_code").chars().take(16).collect();
    if let Some(code) = crate::user_codes::normalize_user_code(&typed) {
        let shown = crate::user_codes::display_user_code(&code);
        assert_eq!(
            crate::user_codes::normalize_user_code(&shown).as_deref(),
            Some(code.as_str()),
            "a user code changed through display"
        );
    }
    let _ = matches!(get("action"), "approve" | "deny");
}

/// Valid inputs for each entry point, the fuzzers' seeds:
/// `(entry point, input)`.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let bank = |endpoint: &str, body: &str| {
        let index = BANK_BODIES.iter().position(|e| *e == endpoint).unwrap_or(0);
        let mut input = vec![u8::try_from(index).unwrap_or(0)];
        input.extend_from_slice(body.as_bytes());
        ("bank_request", input)
    };
    vec![
        bank(
            "customers",
            r#"{"username":"ana.p","display_name":"Ana P","password":"correct horse","home_country":"NL","purchase_threshold_minor":10000}"#,
        ),
        bank(
            "transactions",
            r#"{"customer":"ana.p","account_ref":"****0001","amount_minor":12999,"currency":"EUR","merchant":"Shop","country":"DE","card_present":false,"status":"approved","balance_after_minor":4000}"#,
        ),
        bank(
            "transactions",
            r#"{"customer":"ana.p","account_ref":"****0001","amount_minor":500,"currency":"JPY","merchant":"Payer","country":"NL","card_present":true,"status":"approved","kind":"deposit"}"#,
        ),
        bank(
            "alerts",
            r#"{"customer":"ana.p","kind":"fraud_check","severity":"critical","text":"Did you pay?","amount_minor":4200,"currency":"EUR","merchant":"Shop","country":"DE"}"#,
        ),
        bank(
            "signed-alerts",
            r#"{"customer":"ana.p","jws":"eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJhMSJ9.c2ln"}"#,
        ),
        bank(
            "chat",
            r#"{"customer":"ana.p","author":"Ana (bank)","body":"Hello"}"#,
        ),
        bank(
            "flags",
            r#"{"customer":"ana.p","flags":{"budgets":true}}"#,
        ),
        bank(
            "bench-devices",
            r#"{"customer":"ana.p","jkt":"0123456789012345678901234567890123456789012"}"#,
        ),
        ("device_frame", br#"{"type":"resume","after":3}"#.to_vec()),
        ("device_frame", br#"{"type":"ack","seq":9}"#.to_vec()),
        (
            "verification_form",
            b"csrf=abc&user_code=BCDF-GHJK&username=ana.p&password=correct+horse".to_vec(),
        ),
        (
            "verification_form",
            b"action=approve&decision=tok%2D1".to_vec(),
        ),
        (
            "verification_form",
            b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=x&client_id=strongroom-desktop".to_vec(),
        ),
        // A ClientHello whole, and in 17-byte pieces.
        ("tls_server", [&[255u8][..], &client_hello()].concat()),
        ("tls_server", [&[1u8][..], &client_hello()].concat()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_reaches_its_decoder_and_is_accepted() {
        for (entry, input) in seeds() {
            match entry {
                "bank_request" => {
                    let endpoint = BANK_BODIES[usize::from(input[0]) % BANK_BODIES.len()];
                    let body = &input[1..];
                    let decoded = match endpoint {
                        "customers" => bank::json::<NewCustomer>(body).map(drop),
                        "transactions" => bank::json::<Transaction>(body).map(drop),
                        "alerts" => bank::json::<NewAlert>(body).map(drop),
                        "signed-alerts" => bank::json::<SignedAlertForward>(body).map(drop),
                        "chat" => bank::json::<StaffMessage>(body).map(drop),
                        "flags" => bank::json::<FlagsUpdate>(body).map(drop),
                        _ => bank::json::<BenchDevice>(body).map(drop),
                    };
                    assert!(decoded.is_ok(), "the {endpoint} seed does not decode");
                    bank_request(&input);
                }
                "device_frame" => {
                    let text = std::str::from_utf8(&input).unwrap_or_default();
                    assert!(
                        matches!(
                            classify(Some(Ok(Message::Text(text.into())))),
                            Incoming::Frame(_)
                        ),
                        "the frame seed {text} is refused"
                    );
                    device_frame(&input);
                }
                "tls_server" => {
                    let config = tls_config().expect("a TLS configuration");
                    let piece = usize::from(input[0]) * 16 + 1;
                    // A ClientHello, whole or in pieces, is taken: the
                    // server answers it and waits for the client's next
                    // flight.
                    assert!(input.len() > 100, "a ClientHello was made");
                    assert_eq!(
                        crate::tls_stream::feed_client_bytes(config, &input[1..], piece),
                        Ok(0)
                    );
                    tls_server(&input);
                }
                _ => {
                    assert!(
                        crate::oauth::parse_form(&input).is_ok(),
                        "a form seed does not parse"
                    );
                    verification_form(&input);
                }
            }
        }
    }

    #[test]
    fn the_page_and_oauth_agree_on_forms_with_odd_encodings() {
        for body in [
            &b"a=1&b=%ZZ"[..],
            b"=&=",
            b"a+b=c+d&%00=%FF",
            b"user_code=bcdf+ghjk",
            b"&&&",
        ] {
            verification_form(body);
        }
    }
}
