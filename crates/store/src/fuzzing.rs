//! Entry point for the cargo-fuzz target `store_records` (`fuzz/`): a
//! record as read back from the file, opened and decoded exactly as the
//! store does. It must return, never panic; a record that opens must not
//! open as any other field, and what decodes must encode back to itself.
//!
//! A sealed field is AES-256-GCM: the fuzzer cannot forge one, so the
//! decoders behind `open` are also fed the input as if it were a plaintext
//! that opened (what a file written by a buggy or older build would hold).

use std::sync::OnceLock;

use ring::rand::SystemRandom;
use strongroom_core::{AccountId, Sensitive};

use crate::crypto::{AccountKeys, FieldRef, KEY_LEN, MasterKeys};
use crate::model::{AlertDetails, BankLink, Direction, FraudAnswer, Millis};

/// The sealed fields the store decodes, as `(table, column)`: the first
/// input byte picks one (modulo their number, the last being the master
/// key's keychain form), the rest is the field.
const FIELDS: [(&str, &str); 6] = [
    ("messages", "content"),
    ("alerts", "details"),
    ("alerts", "payload"),
    ("alerts", "answer"),
    ("bank_links", "details"),
    ("keychain", "store/master-key"),
];

/// The row every fuzzed field claims to be in.
const ROW: i64 = 7;
/// The conversation a fuzzed message claims to be in.
const CONVERSATION: i64 = 3;

fn account() -> AccountId {
    AccountId::from_random([0x42; 8])
}

/// Fixed keys, so that seeds sealed once open on every run. Test material,
/// never used for anything else.
fn keys() -> Option<&'static AccountKeys> {
    static KEYS: OnceLock<Option<AccountKeys>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let master = MasterKeys::from_key(1, Sensitive::new([0x5a; KEY_LEN]));
        AccountKeys::derive(&master, &Sensitive::new([0xa5; KEY_LEN])).ok()
    })
    .as_ref()
}

fn field(table: &'static str, column: &'static str, row: i64) -> FieldRef {
    FieldRef {
        table,
        column,
        account: account(),
        row,
        context: if table == "messages" { CONVERSATION } else { 0 },
    }
}

/// Opens `data` as a sealed record (the first byte picks which) and decodes
/// it; decodes it also as an opened plaintext.
///
/// # Panics
/// When a record opens in another row too, or a decoded record does not
/// encode back to itself.
pub fn open_record(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let (table, column) = FIELDS[usize::from(selector) % FIELDS.len()];
    if table == "keychain" {
        master_keys(body);
        return;
    }
    let Some(keys) = keys() else {
        return;
    };
    if let Ok(plain) = keys.open(1, field(table, column, ROW), body) {
        assert!(
            keys.open(1, field(table, column, ROW + 1), body).is_err(),
            "a {table}.{column} field opened in another row"
        );
        decode(column, table, plain);
    }
    decode(column, table, body.to_vec());
}

/// Decodes an opened field as the store does, and checks that what decodes
/// encodes back to the same value.
fn decode(column: &str, table: &str, plain: Vec<u8>) {
    match (table, column) {
        ("messages", _) => {
            let original = plain.clone();
            if let Some(content) = crate::message_content::decode_content(plain) {
                assert_eq!(
                    crate::message_content::encode_content(
                        content.direction,
                        &content.author,
                        &content.body
                    ),
                    original,
                    "a message's content changed through decode and encode"
                );
                let _ = matches!(content.direction, Direction::Incoming);
            }
        }
        ("alerts", "details") => round_trip::<AlertDetails>(&plain),
        ("alerts", "payload") => {
            let _ = String::from_utf8(plain);
        }
        ("alerts", _) => round_trip::<(FraudAnswer, Millis)>(&plain),
        _ => round_trip::<BankLink>(&plain),
    }
}

fn round_trip<T>(plain: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    if let Ok(value) = serde_json::from_slice::<T>(plain) {
        let encoded = serde_json::to_vec(&value).unwrap_or_default();
        let again = serde_json::from_slice::<T>(&encoded).ok();
        assert_eq!(
            again.as_ref(),
            Some(&value),
            "a sealed record changed through decode and encode"
        );
    }
}

/// The keychain form of the master keys: what reads back must write the
/// same versions again.
fn master_keys(bytes: &[u8]) {
    if let Ok(keys) = MasterKeys::from_bytes(bytes) {
        let again = MasterKeys::from_bytes(keys.to_bytes().expose());
        let versions = |k: &MasterKeys| (k.current_version(), k.versions().collect::<Vec<_>>());
        assert_eq!(
            again.as_ref().map(versions).ok(),
            Some(versions(&keys)),
            "master keys changed through the keychain form"
        );
    }
}

/// Valid records, the fuzzer's seeds: each sealed under the fixed keys in
/// the place [`open_record`] opens it, and the master keys' keychain form.
pub fn seeds() -> Vec<Vec<u8>> {
    let Some(keys) = keys() else {
        return Vec::new();
    };
    let rng = SystemRandom::new();
    let details = AlertDetails {
        kind: "fraud_check".into(),
        severity: crate::model::Severity::Critical,
        amount_minor: Some(4_200),
        currency: Some("EUR".into()),
        merchant: Some("Shop".into()),
        account_ref: Some("****0001".into()),
        text: "Did you pay 42.00 EUR?".into(),
        verification: crate::model::Verification::Verified {
            key_id: "k-1".into(),
        },
        balance_minor: None,
    };
    let plains: [Vec<u8>; 5] = [
        crate::message_content::encode_content(Direction::Incoming, "Ana (bank)", "Hello, how can we help?"),
        serde_json::to_vec(&details).unwrap_or_default(),
        b"eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJhMSJ9.c2ln".to_vec(),
        serde_json::to_vec(&(FraudAnswer::NotMe, 1_800_000_000_000_i64)).unwrap_or_default(),
        br#"{"issuer":"https://bank.example","bank_name":"Bank","client_id":"strongroom-desktop","scope":"messages alerts","token_endpoint":"https://bank.example/token","revocation_endpoint":"https://bank.example/revoke","stream_endpoint":"wss://bank.example/stream","api_base":"https://bank.example/api","conversation":3,"flags":{"budgets":true}}"#.to_vec(),
    ];
    let mut seeds = Vec::new();
    for (selector, plain) in plains.iter().enumerate() {
        let (table, column) = FIELDS[selector];
        let tag = u8::try_from(selector).unwrap_or(0);
        if let Ok(sealed) = keys.seal(&rng, 1, field(table, column, ROW), plain) {
            seeds.push([&[tag][..], &sealed].concat());
        }
        seeds.push([&[tag][..], plain].concat());
    }
    let master = MasterKeys::from_key(1, Sensitive::new([7; KEY_LEN]));
    seeds.push([&[5u8][..], master.to_bytes().expose()].concat());
    seeds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sealed_seed_opens_and_decodes() {
        let keys = keys().expect("the fixed keys derive");
        let seeds = seeds();
        assert_eq!(seeds.len(), 11, "five sealed, five plain, one keychain");
        for seed in seeds.iter().step_by(2).take(5) {
            let (table, column) = FIELDS[usize::from(seed[0])];
            let plain = keys.open(1, field(table, column, ROW), &seed[1..]);
            assert!(plain.is_ok(), "the sealed {table}.{column} seed opens");
            open_record(seed);
        }
        for seed in &seeds {
            open_record(seed);
        }
    }

    #[test]
    fn a_flipped_byte_does_not_open_and_odd_records_do_not_panic() {
        let mut seed = seeds().remove(0);
        let last = seed.len() - 1;
        seed[last] ^= 1;
        let keys = keys().expect("the fixed keys derive");
        assert!(
            keys.open(1, field("messages", "content", ROW), &seed[1..])
                .is_err()
        );
        for odd in [
            &b""[..],
            b"\0",
            b"\0I\xff\xff",
            b"\0O\0\x01\xc3",
            b"\x05SRM1\0\0\0\x01",
            b"\x03[\"NotMe\",1e400]",
        ] {
            open_record(odd);
        }
    }
}
