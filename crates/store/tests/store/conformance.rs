//! Conformance: every operation checked on a fresh store and again across
//! close and reopen, and the in-memory window against the file.

use crate::support::*;
use strongroom_store::*;

/// Every operation, checked once on a fresh store and, when `reopen` is set,
/// again after closing and reopening it between each write and its read.
fn conformance(reopen: bool) {
    let fx = Fixture::new();
    let mut store = fx.new_store();
    let cycle = |store: Store| {
        if reopen {
            drop(store);
            fx.reopen()
        } else {
            store
        }
    };

    // Accounts.
    store = cycle(store);
    assert_eq!(store.account_ids().unwrap(), vec![fx.account]);
    let account = store.account(fx.account).unwrap();
    assert_eq!(
        (account.bank.as_str(), account.display_name.as_str()),
        ("https://bank.example", "Everyday")
    );

    // Conversations.
    let conv = store
        .add_conversation(fx.account, "Card questions", 10)
        .unwrap();
    store = cycle(store);
    let convs = store.conversations(fx.account).unwrap();
    assert_eq!(convs.items.len(), 1);
    assert_eq!(convs.items[0].title, "Card questions");

    // Messages: batch insert, dedup by bank id, latest first, one by id.
    let batch: Vec<NewMessage> = (0..120)
        .map(|i| {
            incoming(
                conv,
                &format!("Message {i} about your savings"),
                1_000 + i,
                &format!("b{i}"),
            )
        })
        .collect();
    let inserted = store.insert_messages(&batch).unwrap();
    assert!(inserted.iter().all(|i| matches!(i, Inserted::New(_))));
    store = cycle(store);
    let again = store.insert_messages(&batch[5..7]).unwrap();
    assert_eq!(
        again,
        vec![
            Inserted::Duplicate(inserted[5].id()),
            Inserted::Duplicate(inserted[6].id())
        ]
    );
    assert_window_matches_file(&store, conv);
    let latest = store.latest_messages(conv, 50).unwrap();
    assert_eq!(latest.items.len(), 50);
    assert!(latest.tampered.is_empty());
    assert_eq!(latest.items[0].body, "Message 119 about your savings");
    assert_eq!(latest.items[49].body, "Message 70 about your savings");
    assert!(
        latest
            .items
            .windows(2)
            .all(|w| w[0].sent_at >= w[1].sent_at)
    );
    let one = store.message(inserted[3].id()).unwrap();
    assert_eq!(
        (one.direction, one.author.as_str()),
        (Direction::Incoming, "Ana at the bank")
    );
    assert!(matches!(
        store.message(MessageId(999_999)),
        Err(StoreError::NotFound {
            table: "messages",
            ..
        })
    ));

    // Outbox: queued once per idempotency key, survives reopen, leaves on ack only.
    let queued = store
        .queue_outgoing(conv, "Me", "Please block my card", "client-42", 5_000)
        .unwrap();
    assert!(matches!(queued, Inserted::New(_)));
    let dup = store
        .queue_outgoing(conv, "Me", "Please block my card", "client-42", 5_001)
        .unwrap();
    assert_eq!(dup, Inserted::Duplicate(queued.id()));
    store.record_attempt(queued.id(), 9_000).unwrap();
    store = cycle(store);
    let outbox = store.outbox(fx.account).unwrap().items;
    assert_eq!(outbox.len(), 1);
    assert_eq!(
        (
            outbox[0].client_id.as_str(),
            outbox[0].attempts,
            outbox[0].next_attempt_at
        ),
        ("client-42", 1, 9_000)
    );
    assert_eq!(outbox[0].message.delivery, Delivery::Queued);
    store
        .acknowledge_outgoing(fx.account, "client-42", "bank-msg-77")
        .unwrap();
    store
        .acknowledge_outgoing(fx.account, "client-42", "bank-msg-77")
        .unwrap();
    store = cycle(store);
    assert!(store.outbox(fx.account).unwrap().items.is_empty());
    assert_eq!(store.message(queued.id()).unwrap().delivery, Delivery::Sent);
    assert_window_matches_file(&store, conv);
    // The bank echoing our message back is deduplicated by its bank id.
    let echo = incoming(conv, "Please block my card", 5_002, "bank-msg-77");
    assert_eq!(
        store.insert_messages(&[echo]).unwrap(),
        vec![Inserted::Duplicate(queued.id())]
    );
    store.set_delivery(queued.id(), Delivery::Read).unwrap();
    store = cycle(store);
    assert_eq!(store.message(queued.id()).unwrap().delivery, Delivery::Read);
    assert_window_matches_file(&store, conv);
    // A message older than the whole window lands in the file, and the window
    // still agrees with it.
    store
        .insert_messages(&[incoming(conv, "late backfill", 1, "late-1")])
        .unwrap();
    assert_window_matches_file(&store, conv);

    // Alerts: dedup by jti, newest first, fraud answer sealed and kept.
    let a1 = store
        .insert_alert(&alert(
            fx.account,
            "jti-1",
            "Did you pay Électro Dépôt?",
            7_000,
        ))
        .unwrap();
    let a2 = store
        .insert_alert(&alert(fx.account, "jti-2", "New device signed in", 8_000))
        .unwrap();
    assert!(matches!(a1, Inserted::New(_)) && matches!(a2, Inserted::New(_)));
    assert_eq!(
        store
            .insert_alert(&alert(fx.account, "jti-1", "x", 1))
            .unwrap(),
        Inserted::Duplicate(a1.id())
    );
    store
        .answer_fraud_check(a1.id(), FraudAnswer::NotMe, 7_100)
        .unwrap();
    store = cycle(store);
    let alerts = store.alerts(fx.account, 10).unwrap();
    assert_eq!(
        alerts.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![a2.id(), a1.id()]
    );
    let answered = store.alert(a1.id()).unwrap();
    assert_eq!(answered.answer, Some((FraudAnswer::NotMe, 7_100)));
    assert_eq!(answered.details.amount_minor, Some(12_999));
    assert_eq!(answered.raw_jws, "eyJhbGciOiJFUzI1NiJ9.jti-1.sig");

    // Search: words and prefixes, case and accents folded, newest first,
    // across messages and alerts.
    assert_eq!(
        store.search("did electro DEPO", 10).unwrap(),
        vec![SearchHit::Alert(a1.id())]
    );
    assert_eq!(
        store.search("electro", 10).unwrap(),
        vec![SearchHit::Alert(a2.id()), SearchHit::Alert(a1.id())]
    );
    let hits = store.search("sav", 3).unwrap();
    assert_eq!(hits.len(), 3);
    assert_eq!(hits[0], SearchHit::Message(inserted[119].id()));
    assert_eq!(
        store.search("block card", 10).unwrap(),
        vec![SearchHit::Message(queued.id())]
    );
    assert!(store.search("nothing-like-this", 10).unwrap().is_empty());
}

#[test]
fn conformance_on_a_fresh_store() {
    conformance(false);
}

#[test]
fn conformance_across_close_and_reopen() {
    conformance(true);
}

#[test]
fn the_conversation_window_follows_out_of_order_writes() {
    let fx = Fixture::new();
    let mut store = fx.new_store();
    let conv = store.add_conversation(fx.account, "t", 1).unwrap();
    let other = store.add_conversation(fx.account, "u", 1).unwrap();
    // Times arrive shuffled, as a backfill after a reconnect would.
    let times: Vec<i64> = (0..130).map(|i| (i * 37) % 130).collect();
    for chunk in times.chunks(9) {
        let batch: Vec<NewMessage> = chunk
            .iter()
            .map(|t| {
                incoming(
                    if t % 5 == 0 { other } else { conv },
                    &format!("m{t}"),
                    *t,
                    &format!("b{t}"),
                )
            })
            .collect();
        store.insert_messages(&batch).unwrap();
        assert_window_matches_file(&store, conv);
        assert_window_matches_file(&store, other);
    }
    // Same time, different ids: ties break the same way in both.
    store
        .insert_messages(&[
            incoming(conv, "tie a", 129, "tie-a"),
            incoming(conv, "tie b", 129, "tie-b"),
        ])
        .unwrap();
    assert_window_matches_file(&store, conv);
    drop(store);
    let store = fx.reopen();
    assert_window_matches_file(&store, conv);
    assert_window_matches_file(&store, other);
    assert_eq!(
        store.latest_messages(conv, 1).unwrap().items[0].body,
        "tie b"
    );
}
