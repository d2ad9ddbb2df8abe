//! The outbox: its rows relabelled, and an echo of a sent message that
//! arrives before the bank's acknowledgement.

use crate::support::*;
use strongroom_store::*;

#[test]
fn an_outbox_row_relabelled_to_another_account_or_key_is_reported() {
    let fx = Fixture::new();
    let mut store = fx.new_store();
    let b = AccountId::from_random([5; 8]);
    store
        .add_account(b, &random_key().unwrap(), "https://b.example", "B", 2)
        .unwrap();
    let conv = store.add_conversation(fx.account, "t", 1).unwrap();
    let m1 = store
        .queue_outgoing(conv, "Me", "one", "c-1", 10)
        .unwrap()
        .id();
    let m2 = store
        .queue_outgoing(conv, "Me", "two", "c-2", 11)
        .unwrap()
        .id();
    let m3 = store
        .queue_outgoing(conv, "Me", "three", "c-3", 12)
        .unwrap()
        .id();
    drop(store);
    let conn = raw(&fx.path());
    conn.execute(
        "UPDATE outbox SET account_id = ?1 WHERE message_id = ?2",
        [b.get(), m1.0],
    )
    .unwrap();
    conn.execute(
        "UPDATE outbox SET client_id = 'c-9' WHERE message_id = ?1",
        [m2.0],
    )
    .unwrap();
    drop(conn);
    let mut store = fx.reopen();
    let mine = store.outbox(fx.account).unwrap();
    assert_eq!(
        mine.items.iter().map(|o| o.message.id).collect::<Vec<_>>(),
        vec![m3]
    );
    assert_eq!(mine.tampered, vec![("outbox", m2.0)]);
    store.unlock_account(b, &random_key().unwrap()).unwrap_err();
}

#[test]
fn an_echo_that_arrives_before_the_acknowledgement_is_merged_once() {
    let fx = Fixture::new();
    let mut store = fx.new_store();
    let conv = store.add_conversation(fx.account, "t", 1).unwrap();
    let queued = store
        .queue_outgoing(conv, "Me", "block my card", "c-1", 10)
        .unwrap()
        .id();
    // The bank's echo, without our idempotency key, arrives first...
    let echo = incoming(conv, "block my card", 11, "bank-77");
    assert!(matches!(
        store.insert_messages(&[echo]).unwrap()[0],
        Inserted::New(_)
    ));
    // ...then a read receipt, then the acknowledgement.
    store.set_delivery(queued, Delivery::Read).unwrap();
    store
        .acknowledge_outgoing(fx.account, "c-1", "bank-77")
        .unwrap();
    let page = store.latest_messages(conv, 10).unwrap();
    assert_eq!(page.items.len(), 1, "one message, not two: {page:?}");
    assert_eq!(
        (page.items[0].id, page.items[0].delivery),
        (queued, Delivery::Read)
    );
    assert!(store.outbox(fx.account).unwrap().items.is_empty());
    assert_window_matches_file(&store, conv);
    assert_eq!(
        store.search("block", 10).unwrap(),
        vec![SearchHit::Message(queued)]
    );
    // A later echo dedups against the recorded bank id.
    let again = incoming(conv, "block my card", 12, "bank-77");
    assert_eq!(
        store.insert_messages(&[again]).unwrap(),
        vec![Inserted::Duplicate(queued)]
    );
}
