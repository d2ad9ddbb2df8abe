//! Set-up shared by every family: a store in a temporary folder with a
//! linked account, and the messages and alerts the tests write.

use std::path::{Path, PathBuf};
use strongroom_store::*;

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub master: MasterKeys,
    pub key: AccountKey,
    pub account: AccountId,
}

impl Fixture {
    pub fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
            master: MasterKeys::generate().unwrap(),
            key: random_key().unwrap(),
            account: AccountId::from_random(rand8()),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("strongroom.sqlite3")
    }

    pub fn open(&self) -> Store {
        Store::open(self.path(), self.master.clone()).unwrap()
    }

    /// Opens and unlocks, as the app does at start.
    pub fn reopen(&self) -> Store {
        let mut store = self.open();
        store.unlock_account(self.account, &self.key).unwrap();
        store
    }

    pub fn new_store(&self) -> Store {
        let mut store = self.open();
        store
            .add_account(
                self.account,
                &self.key,
                "https://bank.example",
                "Everyday",
                1,
            )
            .unwrap();
        store
    }
}

pub fn rand8() -> [u8; 8] {
    let mut b = [0u8; 8];
    getrandom_like(&mut b);
    b
}

fn getrandom_like(buf: &mut [u8]) {
    // The store's own random key is a fine source of test randomness.
    let key = random_key().unwrap();
    for (i, b) in buf.iter_mut().enumerate() {
        *b = key.expose()[i % KEY_LEN];
    }
}

pub fn incoming(conversation: ConversationId, body: &str, at: i64, bank_id: &str) -> NewMessage {
    NewMessage {
        conversation,
        direction: Direction::Incoming,
        author: "Ana at the bank".into(),
        body: body.into(),
        sent_at: at,
        received_at: Some(at + 1),
        delivery: Delivery::Delivered,
        client_id: None,
        bank_message_id: Some(bank_id.into()),
    }
}

pub fn alert(account: AccountId, jti: &str, text: &str, at: i64) -> NewAlert {
    NewAlert {
        account,
        bank_alert_id: jti.into(),
        details: AlertDetails {
            kind: "fraud_check".into(),
            severity: Severity::Critical,
            amount_minor: Some(12_999),
            currency: Some("EUR".into()),
            merchant: Some("Électro Dépôt".into()),
            account_ref: Some("****4321".into()),
            text: text.into(),
            verification: Verification::Verified {
                key_id: "bank-2026".into(),
            },
            balance_minor: None,
        },
        raw_jws: format!("eyJhbGciOiJFUzI1NiJ9.{jti}.sig"),
        issued_at: at,
        received_at: at + 5,
    }
}

/// The database file opened without the store, as anyone holding the file can.
pub fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// The in-memory window and the file must always tell the same story.
pub fn assert_window_matches_file(store: &Store, conversation: ConversationId) {
    for limit in [1, 10, 50, 51, 500] {
        let window = store.latest_messages(conversation, limit).unwrap();
        let file = store
            .latest_messages_from_file(conversation, limit)
            .unwrap();
        assert_eq!(window, file, "window and file differ for limit {limit}");
    }
}

/// A store with three messages and an alert, closed, for the tamper tests.
pub struct Tamper {
    pub fx: Fixture,
    pub conv: ConversationId,
    pub ids: Vec<MessageId>,
    pub alert: AlertId,
}

pub fn tamper_setup() -> Tamper {
    let fx = Fixture::new();
    let mut store = fx.new_store();
    let conv = store.add_conversation(fx.account, "t", 1).unwrap();
    let ids = store
        .insert_messages(&[
            incoming(conv, "first message", 10, "b1"),
            incoming(conv, "second message", 20, "b2"),
            incoming(conv, "third message", 30, "b3"),
        ])
        .unwrap()
        .iter()
        .map(|i| i.id())
        .collect();
    let alert = store
        .insert_alert(&alert(fx.account, "j1", "Card used abroad", 40))
        .unwrap()
        .id();
    drop(store);
    Tamper {
        fx,
        conv,
        ids,
        alert,
    }
}

/// A bank link for `conversation`, from JSON, so that fields other
/// engineers add keep their defaults.
pub fn bank_link(conversation: ConversationId, bank_name: &str) -> BankLink {
    serde_json::from_value(serde_json::json!({
        "issuer": "https://bank.example",
        "bank_name": bank_name,
        "client_id": "strongroom",
        "scope": "messages",
        "token_endpoint": "https://bank.example/token",
        "revocation_endpoint": "https://bank.example/revoke",
        "stream_endpoint": "wss://bank.example/stream",
        "api_base": "https://bank.example/v1",
        "conversation": conversation.0,
    }))
    .unwrap()
}
