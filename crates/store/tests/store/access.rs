//! Who may read: locked and unknown accounts, wrong account and master
//! keys, and a second store on a file already open.

use crate::support::*;
use strongroom_store::*;

#[test]
fn locked_and_unknown_accounts_and_wrong_keys_are_typed_errors() {
    let fx = Fixture::new();
    let mut store = fx.new_store();
    let conv = store.add_conversation(fx.account, "t", 1).unwrap();
    store
        .insert_messages(&[incoming(conv, "hello", 2, "b1")])
        .unwrap();
    drop(store);
    let mut store = fx.open();
    assert!(matches!(
        store.conversations(fx.account),
        Err(StoreError::AccountLocked(_))
    ));
    assert!(matches!(
        store.insert_messages(&[incoming(conv, "x", 3, "b2")]),
        Err(StoreError::AccountLocked(_))
    ));
    let wrong = random_key().unwrap();
    assert!(matches!(
        store.unlock_account(fx.account, &wrong),
        Err(StoreError::WrongAccountKey(_))
    ));
    let stranger = AccountId::from_random([9; 8]);
    assert!(matches!(
        store.unlock_account(stranger, &wrong),
        Err(StoreError::UnknownAccount(_))
    ));
    assert!(
        store.search("hello", 10).unwrap().is_empty(),
        "a locked account's words are not searchable"
    );
    store.unlock_account(fx.account, &fx.key).unwrap();
    assert_eq!(store.search("hello", 10).unwrap().len(), 1);
    store.lock_account(fx.account);
    assert!(store.search("hello", 10).unwrap().is_empty());
}

#[test]
fn wrong_master_key_cannot_read_anything() {
    let fx = Fixture::new();
    let mut store = fx.new_store();
    store
        .add_conversation(fx.account, "secret title", 1)
        .unwrap();
    drop(store);
    let err = Store::open(fx.path(), MasterKeys::generate().unwrap()).unwrap_err();
    assert!(matches!(err, StoreError::WrongMasterKey(1)), "got {err:?}");
    // Nothing was changed: the right key still opens everything.
    let store = fx.reopen();
    assert_eq!(store.account(fx.account).unwrap().display_name, "Everyday");
}

#[test]
fn a_second_store_on_the_same_file_is_refused() {
    let fx = Fixture::new();
    let store = fx.new_store();
    let err = Store::open(fx.path(), fx.master.clone()).unwrap_err();
    assert!(matches!(err, StoreError::InUse), "got {err:?}");
    drop(store);
    assert!(
        Store::open(fx.path(), fx.master.clone()).is_ok(),
        "free again once closed"
    );
}
