//! Tests that need the store's internals: fixtures of older schema versions.

use super::*;
use std::path::Path;

/// Fixed keys for the committed fixture databases. Test-only: real keys come
/// from the keychain.
pub(crate) fn fixture_keys() -> (MasterKeys, AccountKey, AccountId) {
    (
        MasterKeys::from_key(1, Sensitive::new([0x11; KEY_LEN])),
        Sensitive::new([0x22; KEY_LEN]),
        AccountId::from_random([0, 0, 0, 0, 0, 0, 0x0f, 0x42]),
    )
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Writes `tests/fixtures/v1.sqlite3`: a database at schema version 1 with
/// an account, a conversation, messages and an outbox entry, written by the
/// store itself at that version. Run it only when adding a migration:
/// `cargo test -p strongroom-store -- --ignored write_v1_fixture`.
#[test]
#[ignore = "writes the committed fixture; run by hand when adding a migration"]
fn write_v1_fixture() {
    let path = fixture_dir().join("v1.sqlite3");
    let _ = std::fs::remove_file(&path);
    let (master, key, account) = fixture_keys();
    let mut store = Store::open_at(&path, master, 1).unwrap();
    store
        .add_account(
            account,
            &key,
            "https://bank.example",
            "Everyday account",
            1_000,
        )
        .unwrap();
    let conv = store.add_conversation(account, "Card help", 2_000).unwrap();
    let msgs: Vec<NewMessage> = (0..3)
        .map(|i| NewMessage {
            conversation: conv,
            direction: Direction::Incoming,
            author: "Ana at the bank".into(),
            body: format!("Fixture message number {i} about your café card"),
            sent_at: 3_000 + i,
            received_at: Some(3_500 + i),
            delivery: Delivery::Delivered,
            client_id: None,
            bank_message_id: Some(format!("bank-{i}")),
        })
        .collect();
    store.insert_messages(&msgs).unwrap();
    store
        .queue_outgoing(conv, "Me", "Queued before the upgrade", "client-1", 4_000)
        .unwrap();
    store
        .conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(store);
    let _ = std::fs::remove_file(fixture_dir().join("v1.sqlite3-wal"));
    let _ = std::fs::remove_file(fixture_dir().join("v1.sqlite3-shm"));
    let _ = std::fs::remove_file(fixture_dir().join("v1.sqlite3.lock"));
}

fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    std::fs::copy(fixture_dir().join(name), &path).unwrap();
    (dir, path)
}

#[test]
fn migration_0001_creates_the_schema_from_an_empty_file() {
    let (_dir, path) = copy_fixture("v0.sqlite3");
    let version = |p: &Path| -> u32 {
        Connection::open(p)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(version(&path), 0, "the v0 fixture is an empty database");
    let (master, key, account) = fixture_keys();
    let mut store = Store::open_at(&path, master, 1).unwrap();
    store
        .add_account(account, &key, "https://bank.example", "Savings", 1)
        .unwrap();
    let conv = store.add_conversation(account, "Hello", 2).unwrap();
    store
        .queue_outgoing(conv, "Me", "first words", "c1", 3)
        .unwrap();
    assert_eq!(store.outbox(account).unwrap().items.len(), 1);
    drop(store);
    assert_eq!(version(&path), 1);
}

#[test]
fn migration_0002_adds_alerts_and_keeps_every_version_1_row() {
    let (_dir, path) = copy_fixture("v1.sqlite3");
    let (master, key, account) = fixture_keys();
    let mut store = Store::open(&path, master).unwrap();
    let report = store.unlock_account(account, &key).unwrap();
    assert_eq!(
        report.opened, 4,
        "three fixture messages and the queued one"
    );
    assert!(report.tampered.is_empty());
    let convs = store.conversations(account).unwrap();
    assert_eq!(convs.items.len(), 1);
    let page = store.latest_messages(convs.items[0].id, 10).unwrap();
    assert_eq!(page.items.len(), 4);
    assert_eq!(page.items[0].body, "Queued before the upgrade");
    assert_eq!(
        page.items[3].body,
        "Fixture message number 0 about your café card"
    );
    assert_eq!(
        store.outbox(account).unwrap().items[0].client_id,
        "client-1"
    );
    assert_eq!(
        store.search("CAFE", 10).unwrap().len(),
        3,
        "version 1 bodies are searchable"
    );
    // The new table works.
    let alert = NewAlert {
        account,
        bank_alert_id: "jti-1".into(),
        details: AlertDetails {
            kind: "balance_low".into(),
            severity: Severity::Warning,
            amount_minor: Some(1_000),
            currency: Some("EUR".into()),
            merchant: None,
            account_ref: Some("****1234".into()),
            text: "Balance below 10 EUR".into(),
            verification: Verification::Verified {
                key_id: "k1".into(),
            },
            balance_minor: None,
        },
        raw_jws: "a.b.c".into(),
        issued_at: 5_000,
        received_at: 5_001,
    };
    assert!(matches!(
        store.insert_alert(&alert).unwrap(),
        Inserted::New(_)
    ));
    assert_eq!(store.alerts(account, 10).unwrap().items.len(), 1);
    let version: u32 = store
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    // A dedup key from version 1 still dedups.
    let again = NewMessage {
        conversation: convs.items[0].id,
        direction: Direction::Incoming,
        author: "Ana".into(),
        body: "dup".into(),
        sent_at: 1,
        received_at: None,
        delivery: Delivery::Delivered,
        client_id: None,
        bank_message_id: Some("bank-1".into()),
    };
    assert!(matches!(
        store.insert_messages(&[again]).unwrap()[0],
        Inserted::Duplicate(_)
    ));
}

#[test]
fn a_database_from_a_newer_app_is_refused_not_wiped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let err = Store::open(&path, MasterKeys::generate().unwrap()).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1),
        "expected NewerSchema, got {err:?}"
    );
    let version: u32 = Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION + 1, "the file is left as it was");
}

/// Writes `tests/fixtures/v2.sqlite3`: schema version 2 with an account,
/// messages and an alert. Run by hand when adding a migration:
/// `cargo test -p strongroom-store -- --ignored write_v2_fixture`.
#[test]
#[ignore = "writes the committed fixture; run by hand when adding a migration"]
fn write_v2_fixture() {
    let path = fixture_dir().join("v2.sqlite3");
    let _ = std::fs::remove_file(&path);
    let (master, key, account) = fixture_keys();
    let mut store = Store::open_at(&path, master, 2).unwrap();
    store
        .add_account(
            account,
            &key,
            "https://bank.example",
            "Everyday account",
            1_000,
        )
        .unwrap();
    let conv = store.add_conversation(account, "Card help", 2_000).unwrap();
    store
        .insert_messages(&[NewMessage {
            conversation: conv,
            direction: Direction::Incoming,
            author: "Ana".into(),
            body: "Version two message".into(),
            sent_at: 3_000,
            received_at: Some(3_001),
            delivery: Delivery::Delivered,
            client_id: None,
            bank_message_id: Some("v2-1".into()),
        }])
        .unwrap();
    store.checkpoint().unwrap();
    drop(store);
    for suffix in ["-wal", "-shm", ".lock"] {
        let _ = std::fs::remove_file(fixture_dir().join(format!("v2.sqlite3{suffix}")));
    }
}

#[test]
fn migration_0003_records_the_master_key_check_and_refuses_a_wrong_key() {
    let (_dir, path) = copy_fixture("v2.sqlite3");
    let (master, key, account) = fixture_keys();
    let wrong = MasterKeys::from_key(1, Sensitive::new([0x33; KEY_LEN]));
    // The first open after the upgrade records the check of the key it is
    // given, so open with the right one first.
    let mut store = Store::open(&path, master.clone()).unwrap();
    store.unlock_account(account, &key).unwrap();
    let conv = store.conversations(account).unwrap().items[0].id;
    assert_eq!(
        store.latest_messages(conv, 5).unwrap().items[0].body,
        "Version two message"
    );
    let recorded: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM master_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(recorded, 1);
    drop(store);
    assert!(matches!(
        Store::open(&path, wrong),
        Err(StoreError::WrongMasterKey(1))
    ));
    assert!(Store::open(&path, master).is_ok());
}

/// Writes `tests/fixtures/v3.sqlite3`: schema version 3 with an account, a
/// message and an alert. Run by hand when adding a migration:
/// `cargo test -p strongroom-store -- --ignored write_v3_fixture`.
#[test]
#[ignore = "writes the committed fixture; run by hand when adding a migration"]
fn write_v3_fixture() {
    let path = fixture_dir().join("v3.sqlite3");
    let _ = std::fs::remove_file(&path);
    let (master, key, account) = fixture_keys();
    let mut store = Store::open_at(&path, master, 3).unwrap();
    store
        .add_account(
            account,
            &key,
            "https://bank.example",
            "Current account",
            1_000,
        )
        .unwrap();
    let conv = store.add_conversation(account, "Chat", 2_000).unwrap();
    store
        .insert_messages(&[NewMessage {
            conversation: conv,
            direction: Direction::Incoming,
            author: "Ana".into(),
            body: "Version three message".into(),
            sent_at: 3_000,
            received_at: Some(3_001),
            delivery: Delivery::Delivered,
            client_id: None,
            bank_message_id: Some("v3-1".into()),
        }])
        .unwrap();
    store.checkpoint().unwrap();
    drop(store);
    for suffix in ["-wal", "-shm", ".lock"] {
        let _ = std::fs::remove_file(fixture_dir().join(format!("v3.sqlite3{suffix}")));
    }
}

#[test]
fn migration_0004_adds_bank_links_keeps_version_3_rows_and_rotates_them() {
    let (_dir, path) = copy_fixture("v3.sqlite3");
    let (master, key, account) = fixture_keys();
    let mut store = Store::open(&path, master).unwrap();
    store.unlock_account(account, &key).unwrap();
    let conv = store.conversations(account).unwrap().items[0].id;
    assert_eq!(
        store.latest_messages(conv, 5).unwrap().items[0].body,
        "Version three message"
    );
    assert_eq!(store.bank_link(account).unwrap(), None);
    assert_eq!(store.acked_seq(account).unwrap(), 0);
    let link = BankLink {
        issuer: "https://bank.example".into(),
        bank_name: "Example Bank".into(),
        client_id: "strongroom-desktop".into(),
        scope: "alerts chat".into(),
        token_endpoint: "https://bank.example/oauth/token".into(),
        revocation_endpoint: "https://bank.example/oauth/revoke".into(),
        stream_endpoint: "wss://bank.example/v1/stream".into(),
        api_base: "https://bank.example/v1".into(),
        conversation: conv,
        flags: Default::default(),
        link_keys: None,
        key_rotations: Vec::new(),
        authorization_server: None,
        resource: None,
    };
    store.set_bank_link(account, &link).unwrap();
    store.set_acked_seq(account, 7).unwrap();
    store.set_acked_seq(account, 3).unwrap();
    assert_eq!(
        store.acked_seq(account).unwrap(),
        7,
        "never moves backwards"
    );
    // The sealed link survives a master key rotation.
    let next = store.master_keys().with_new_version().unwrap();
    store.start_rotation(next).unwrap();
    while !store.rotation_step(100).unwrap().done {}
    store.retire_old_versions().unwrap();
    assert_eq!(store.bank_link(account).unwrap(), Some(link));
    store.erase_account(account).unwrap();
    let left: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM bank_links", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0, "erasing an account erases its link");
}

/// The index exists only between the first search after an unlock and the
/// moment the last account locks, and answers the same either way.
#[test]
fn the_search_index_is_built_at_the_first_search_and_dropped_at_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite3");
    let (master, key, account) = fixture_keys();
    let mut store = Store::open(&path, master.clone()).unwrap();
    store
        .add_account(account, &key, "https://bank.example", "Everyday", 1)
        .unwrap();
    let conv = store.add_conversation(account, "Card help", 2).unwrap();
    let message = |i: i64, body: &str| NewMessage {
        conversation: conv,
        direction: Direction::Incoming,
        author: "Ana at the bank".into(),
        body: body.into(),
        sent_at: 10 + i,
        received_at: None,
        delivery: Delivery::Delivered,
        client_id: None,
        bank_message_id: Some(format!("bank-{i}")),
    };
    store
        .insert_messages(&[message(1, "your card is blocked")])
        .unwrap();
    assert!(store.index.is_none(), "writes alone build no index");
    // The first search reads what was written before it.
    assert_eq!(store.search("block", 10).unwrap().len(), 1);
    assert!(store.index.is_some());
    // Once built, later writes go straight into it.
    store
        .insert_messages(&[message(2, "card unblocked")])
        .unwrap();
    assert_eq!(store.search("card", 10).unwrap().len(), 2);
    store.lock_account(account);
    assert!(store.index.is_none(), "no words stay in memory once locked");
    assert!(store.search("card", 10).unwrap().is_empty());
    // Unlocking builds nothing; the next search finds both again.
    let report = store.unlock_account(account, &key).unwrap();
    assert_eq!(report.opened, 2);
    assert!(store.index.is_none());
    assert_eq!(store.search("card", 10).unwrap().len(), 2);
}
