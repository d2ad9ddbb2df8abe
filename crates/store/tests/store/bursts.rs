//! A burst of alerts from the delivery stream stored in one transaction
//! with the stream position after it (`insert_alerts`): all of it or none
//! of it, on disk and in memory, and deduplicated like single inserts.

use crate::support::*;
use strongroom_store::*;

fn link(conversation: ConversationId) -> BankLink {
    bank_link(conversation, "Demo Bank")
}

#[test]
fn a_burst_and_its_position_commit_together_and_survive_a_reopen() {
    let fx = Fixture::new();
    let mut store = fx.new_store();
    let conv = store.add_conversation(fx.account, "Bank", 1).unwrap();
    store.set_bank_link(fx.account, &link(conv)).unwrap();
    store
        .insert_alert(&alert(fx.account, "j0", "stored before", 5))
        .unwrap();
    let burst = [
        alert(fx.account, "j1", "first of the burst", 10),
        alert(fx.account, "j0", "a redelivery", 11),
        alert(fx.account, "j2", "second of the burst", 12),
    ];
    let inserted = store.insert_alerts(fx.account, &burst, Some(7)).unwrap();
    assert!(matches!(inserted[0], Inserted::New(_)));
    assert!(matches!(inserted[1], Inserted::Duplicate(_)));
    assert!(matches!(inserted[2], Inserted::New(_)));
    assert_eq!(store.acked_seq(fx.account).unwrap(), 7);
    // The search index follows the commit.
    assert_eq!(store.search("burst", 10).unwrap().len(), 2);
    drop(store);
    let mut store = Store::open(fx.path(), fx.master.clone()).unwrap();
    let report = store.unlock_account(fx.account, &fx.key).unwrap();
    assert!(report.is_clean(), "{report:?}");
    let texts: Vec<String> = store
        .alerts(fx.account, 10)
        .unwrap()
        .items
        .into_iter()
        .map(|a| a.details.text)
        .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert_eq!(store.acked_seq(fx.account).unwrap(), 7);
    // A position never moves back.
    store
        .insert_alerts(fx.account, &[alert(fx.account, "j3", "later", 20)], Some(5))
        .unwrap();
    assert_eq!(store.acked_seq(fx.account).unwrap(), 7);
}

/// The position's row edited in the file (the attack: push the position
/// ahead so the bank sends nothing more) makes the burst fail as a whole:
/// no alert of it is stored, none is searchable, the ids are not used up,
/// and the next write still works.
#[test]
fn a_burst_that_cannot_commit_leaves_nothing_behind() {
    let fx = Fixture::new();
    let mut store = fx.new_store();
    let conv = store.add_conversation(fx.account, "Bank", 1).unwrap();
    store.set_bank_link(fx.account, &link(conv)).unwrap();
    assert!(store.search("burst", 10).unwrap().is_empty());
    raw(&fx.path())
        .execute(
            "UPDATE bank_links SET acked_seq = 1000000 WHERE id = ?1",
            [fx.account.get()],
        )
        .unwrap();
    let burst = [
        alert(fx.account, "j1", "first of the burst", 10),
        alert(fx.account, "j2", "second of the burst", 12),
    ];
    let failed = store.insert_alerts(fx.account, &burst, Some(3));
    assert!(
        matches!(
            failed,
            Err(StoreError::Tampered {
                table: "bank_links",
                ..
            })
        ),
        "{failed:?}"
    );
    assert!(store.alerts(fx.account, 10).unwrap().items.is_empty());
    assert!(store.search("burst", 10).unwrap().is_empty());
    // Without a position to move, the same alerts store, under the ids
    // the failed burst did not use up.
    let stored = store.insert_alerts(fx.account, &burst, None).unwrap();
    let ids: Vec<i64> = stored.iter().map(|i| i.id().0).collect();
    assert_eq!(ids, [1, 2]);
    assert_eq!(store.search("burst", 10).unwrap().len(), 2);
}
