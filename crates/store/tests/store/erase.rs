//! Erasing an account: its rows go, and an old copy of the file cannot be
//! read for it once its key is gone.

use crate::support::*;
use strongroom_store::*;

#[test]
fn erasing_an_account_deletes_its_rows_and_old_copies_cannot_be_read() {
    let fx = Fixture::new();
    let mut store = fx.new_store();
    let other_account = AccountId::from_random([7; 8]);
    let other_key = random_key().unwrap();
    store
        .add_account(
            other_account,
            &other_key,
            "https://other.example",
            "Other",
            2,
        )
        .unwrap();
    let conv = store.add_conversation(fx.account, "t", 1).unwrap();
    let other_conv = store.add_conversation(other_account, "o", 1).unwrap();
    store
        .insert_messages(&[incoming(conv, "erase-me-please", 5, "b1")])
        .unwrap();
    store
        .insert_messages(&[incoming(other_conv, "keep me", 6, "b2")])
        .unwrap();
    store
        .insert_alert(&alert(fx.account, "j", "erase-me-alert", 7))
        .unwrap();
    store
        .queue_outgoing(conv, "Me", "queued erase-me", "c", 8)
        .unwrap();
    // An attacker's old copy of the files, taken before the unlink.
    store.checkpoint().unwrap();
    let copy = fx.dir.path().join("copy.sqlite3");
    std::fs::copy(fx.path(), &copy).unwrap();

    store.erase_account(fx.account).unwrap();
    assert_eq!(store.account_ids().unwrap(), vec![other_account]);
    assert!(store.search("erase", 10).unwrap().is_empty());
    assert_eq!(store.search("keep", 10).unwrap().len(), 1);
    drop(store);
    let conn = raw(&fx.path());
    for table in ["messages", "alerts", "outbox", "conversations"] {
        let n: i64 = conn
            .query_row(
                &format!("SELECT COUNT(*) FROM {table} WHERE account_id = ?1"),
                [fx.account.get()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 0, "{table} still has rows of the erased account");
    }
    drop(conn);

    // Control: with the account's key, the old copy does hold its history.
    {
        let mut old = Store::open(&copy, fx.master.clone()).unwrap();
        old.unlock_account(fx.account, &fx.key).unwrap();
        assert_eq!(
            old.search("erase", 10).unwrap().len(),
            3,
            "the copy predates the erase"
        );
    }
    // With the account key destroyed, the old copy reads nothing of it, even
    // with the master key, and no other key opens it.
    let mut old = Store::open(&copy, fx.master.clone()).unwrap();
    assert!(matches!(
        old.conversations(fx.account),
        Err(StoreError::AccountLocked(_))
    ));
    assert!(matches!(
        old.unlock_account(fx.account, &random_key().unwrap()),
        Err(StoreError::WrongAccountKey(_))
    ));
    assert!(old.search("erase", 10).unwrap().is_empty());
    old.unlock_account(other_account, &other_key).unwrap();
    assert_eq!(
        old.search("keep", 10).unwrap().len(),
        1,
        "other accounts are unaffected"
    );
}
