//! Master key rotation: everything re-sealed, resumed after a crash, moving
//! forward only, and damaged rows passed over with their old key kept.

use crate::support::*;
use strongroom_store::*;

#[test]
fn key_rotation_reseals_everything_and_resumes_after_a_crash() {
    let fx = Fixture::new();
    let mut store = fx.new_store();
    let conv = store.add_conversation(fx.account, "t", 1).unwrap();
    let batch: Vec<NewMessage> = (0..300)
        .map(|i| incoming(conv, &format!("rotating {i}"), i, &format!("b{i}")))
        .collect();
    store.insert_messages(&batch).unwrap();
    let a = store
        .insert_alert(&alert(fx.account, "j", "rotate alert", 400))
        .unwrap()
        .id();
    store
        .answer_fraud_check(a, FraudAnswer::ThisWasMe, 401)
        .unwrap();
    let next = fx.master.with_new_version().unwrap();
    store.start_rotation(next.clone()).unwrap();
    let step = store.rotation_step(100).unwrap();
    assert_eq!(step.resealed, 100);
    assert!(!step.done);
    // Crash: the process dies between batches. The keychain already holds
    // both versions (`next`), so reopening with them resumes.
    drop(store);
    let mut store = Store::open(fx.path(), next.clone()).unwrap();
    store.unlock_account(fx.account, &fx.key).unwrap();
    assert_eq!(store.versions_in_use().unwrap(), vec![1, 2]);
    let mut steps = 0;
    while !store.rotation_step(64).unwrap().done {
        steps += 1;
        assert!(steps < 100, "rotation must finish");
    }
    assert_eq!(store.versions_in_use().unwrap(), vec![2]);
    let retired = store.retire_old_versions().unwrap();
    assert_eq!(retired.versions().collect::<Vec<_>>(), vec![2]);
    drop(store);
    // Only the new key is needed now, and nothing was lost.
    let mut store = Store::open(fx.path(), retired).unwrap();
    store.unlock_account(fx.account, &fx.key).unwrap();
    let page = store.latest_messages(conv, 1000).unwrap();
    assert_eq!(page.items.len(), 300);
    assert!(page.tampered.is_empty());
    assert_eq!(
        store.alert(a).unwrap().answer,
        Some((FraudAnswer::ThisWasMe, 401))
    );
    assert_eq!(store.account(fx.account).unwrap().display_name, "Everyday");
    // The old key alone no longer opens anything.
    drop(store);
    let mut old = Store::open(fx.path(), fx.master.clone()).unwrap();
    let report = old.unlock_account(fx.account, &fx.key).unwrap();
    assert_eq!(report.opened, 0, "nothing opens with the retired key");
    // Unlock opens the conversation's window (50 and one more) and the
    // alert; the other messages are reported when they are read.
    assert_eq!(
        report.tampered.len(),
        1 + 51 + 1,
        "account, the window's messages and the alert reported"
    );
    let page = old.latest_messages(conv, 1000).unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.tampered.len(), 300, "every message reported when read");
    assert!(matches!(
        old.account(fx.account),
        Err(StoreError::MissingKeyVersion(2))
    ));
}

#[test]
fn rotation_must_move_forward_and_keep_versions_in_use() {
    let fx = Fixture::new();
    let mut store = fx.new_store();
    assert!(matches!(
        store.start_rotation(fx.master.clone()),
        Err(StoreError::RotationNotForward(1))
    ));
    let unrelated = MasterKeys::generate()
        .unwrap()
        .with_new_version()
        .unwrap()
        .retire_old_versions();
    assert!(matches!(
        store.start_rotation(unrelated),
        Err(StoreError::MissingKeyVersion(1))
    ));
}

#[test]
fn rotation_passes_over_a_damaged_row_and_keeps_the_old_key_for_it() {
    let t = tamper_setup();
    let conn = raw(&t.fx.path());
    let mut content: Vec<u8> = conn
        .query_row(
            "SELECT content FROM messages WHERE id = ?1",
            [t.ids[1].0],
            |r| r.get(0),
        )
        .unwrap();
    content[20] ^= 4;
    conn.execute(
        "UPDATE messages SET content = ?1 WHERE id = ?2",
        rusqlite::params![content, t.ids[1].0],
    )
    .unwrap();
    drop(conn);
    let mut store = t.fx.reopen();
    store
        .start_rotation(t.fx.master.with_new_version().unwrap())
        .unwrap();
    let mut progress = store.rotation_step(2).unwrap();
    let mut steps = 0;
    while !progress.done {
        progress = store.rotation_step(2).unwrap();
        steps += 1;
        assert!(steps < 50, "the rotation must finish");
    }
    assert_eq!(progress.skipped, vec![("messages", t.ids[1].0)]);
    assert_eq!(store.versions_in_use().unwrap(), vec![1, 2]);
    assert!(
        store.retire_old_versions().is_err(),
        "the old key is still needed"
    );
    assert_eq!(store.message(t.ids[0]).unwrap().body, "first message");
}
