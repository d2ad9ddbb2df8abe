//! Tamper evidence of whole rows and of the history (issue 17, finding 3):
//! every column the app shows or acts on, every row kind, rows deleted or
//! rolled back one by one, and the whole file put back to an older copy.
//! Each case is an attack a file editor can make without any key; each must
//! be reported, and the untouched rows must still read.

use crate::support::*;
use strongroom_store::*;

/// A store with every row kind: an account, its conversation, two incoming
/// messages, one queued outgoing message (with its outbox row), an alert
/// answered "not me" (its answer once "this was me", so an older answer
/// exists), an unanswered alert, and a bank link whose sequence moved.
struct World {
    fx: Fixture,
    conv: ConversationId,
    incoming: Vec<MessageId>,
    queued: MessageId,
    answered: AlertId,
    plain: AlertId,
    /// Sealed values and whole rows as they were before later writes, for
    /// the rollback attacks.
    old_answer: Vec<u8>,
    old_details: Vec<u8>,
    old_alert_row: Vec<rusqlite::types::Value>,
    old_link_row: Vec<rusqlite::types::Value>,
}

fn link(conversation: ConversationId, bank_name: &str) -> BankLink {
    bank_link(conversation, bank_name)
}

fn whole_row(
    conn: &rusqlite::Connection,
    table: &str,
    key: &str,
    id: i64,
) -> Vec<rusqlite::types::Value> {
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM {table} WHERE {key} = ?1"))
        .unwrap();
    let n = stmt.column_count();
    stmt.query_row([id], |r| (0..n).map(|i| r.get(i)).collect())
        .unwrap()
}

fn put_row(conn: &rusqlite::Connection, table: &str, row: &[rusqlite::types::Value]) {
    let marks = vec!["?"; row.len()].join(", ");
    conn.execute(
        &format!("INSERT OR REPLACE INTO {table} VALUES ({marks})"),
        rusqlite::params_from_iter(row.iter()),
    )
    .unwrap();
}

fn world() -> World {
    let fx = Fixture::new();
    let mut store = fx.new_store();
    let conv = store.add_conversation(fx.account, "Card help", 2).unwrap();
    let incoming = store
        .insert_messages(&[
            incoming(conv, "first message", 10, "b1"),
            incoming(conv, "second message", 20, "b2"),
        ])
        .unwrap()
        .iter()
        .map(|i| i.id())
        .collect();
    let queued = store
        .queue_outgoing(conv, "Me", "queued message", "client-1", 30)
        .unwrap()
        .id();
    store
        .set_bank_link(fx.account, &link(conv, "Old name"))
        .unwrap();
    store.set_acked_seq(fx.account, 3).unwrap();
    let answered = store
        .insert_alert(&alert(fx.account, "j1", "Card used abroad", 40))
        .unwrap()
        .id();
    let plain = store
        .insert_alert(&alert(fx.account, "j2", "Balance low", 50))
        .unwrap()
        .id();
    let old_alert_row;
    let old_link_row;
    {
        let conn = raw(&fx.path());
        old_alert_row = whole_row(&conn, "alerts", "id", answered.0);
        old_link_row = whole_row(&conn, "bank_links", "id", fx.account.get());
    }
    store
        .answer_fraud_check(answered, FraudAnswer::ThisWasMe, 60)
        .unwrap();
    let (old_answer, old_details): (Vec<u8>, Vec<u8>) = raw(&fx.path())
        .query_row(
            "SELECT answer, details FROM alerts WHERE id = ?1",
            [answered.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    store
        .answer_fraud_check(answered, FraudAnswer::NotMe, 70)
        .unwrap();
    store
        .set_bank_link(fx.account, &link(conv, "New name"))
        .unwrap();
    store.set_acked_seq(fx.account, 9).unwrap();
    store.checkpoint().unwrap();
    drop(store);
    World {
        fx,
        conv,
        incoming,
        queued,
        answered,
        plain,
        old_answer,
        old_details,
        old_alert_row,
        old_link_row,
    }
}

/// Unlocks after an attack and checks that `(table, row)` is reported and
/// that everything else still reads.
fn assert_row_reported(w: &World, case: &str, table: &'static str, row: i64) -> Store {
    let mut store = w.fx.open();
    let report = store.unlock_account(w.fx.account, &w.fx.key).unwrap();
    assert!(
        report.tampered.contains(&(table, row)),
        "{case}: {table} row {row} must be reported, got {report:?}"
    );
    assert!(!report.is_clean(), "{case}");
    // The rest stays readable.
    let messages = store.latest_messages(w.conv, 10).unwrap();
    let expected_messages = if table == "messages" { 2 } else { 3 };
    assert_eq!(
        messages.items.len(),
        expected_messages,
        "{case}: {messages:?}"
    );
    let alerts = store.alerts(w.fx.account, 10).unwrap();
    let expected_alerts = if table == "alerts" { 1 } else { 2 };
    assert_eq!(alerts.items.len(), expected_alerts, "{case}: {alerts:?}");
    store
}

fn attack(w: &World, sql: &str, params: impl rusqlite::Params) {
    let conn = raw(&w.fx.path());
    let changed = conn.execute(sql, params).unwrap();
    assert_eq!(changed, 1, "the attack changed nothing: {sql}");
}

#[test]
fn every_shown_clear_column_of_a_message_is_covered() {
    for (case, sql) in [
        (
            "sent_at moved",
            "UPDATE messages SET sent_at = sent_at + 3600000 WHERE id = ?1",
        ),
        (
            "received_at cleared",
            "UPDATE messages SET received_at = NULL WHERE id = ?1",
        ),
        (
            "received_at moved",
            "UPDATE messages SET received_at = 1 WHERE id = ?1",
        ),
        (
            "delivery changed",
            "UPDATE messages SET delivery = 3 WHERE id = ?1",
        ),
        (
            "bank id hash cleared",
            "UPDATE messages SET bank_id_hash = NULL WHERE id = ?1",
        ),
        (
            "mac cleared",
            "UPDATE messages SET mac = NULL WHERE id = ?1",
        ),
    ] {
        let w = world();
        let id = w.incoming[0].0;
        attack(&w, sql, [id]);
        let store = assert_row_reported(&w, case, "messages", id);
        assert!(
            matches!(store.message(MessageId(id)), Err(StoreError::Tampered { table: "messages", row }) if row == id),
            "{case}"
        );
        let page = store.latest_messages_from_file(w.conv, 10).unwrap();
        assert_eq!(page.tampered, vec![("messages", id)], "{case}");
    }
}

#[test]
fn clear_columns_swapped_between_two_messages_are_reported() {
    let w = world();
    let (a, b) = (w.incoming[0].0, w.incoming[1].0);
    let conn = raw(&w.fx.path());
    let at = |id: i64| -> i64 {
        conn.query_row("SELECT sent_at FROM messages WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap()
    };
    let (at_a, at_b) = (at(a), at(b));
    assert_ne!(at_a, at_b);
    for (id, value) in [(a, at_b), (b, at_a)] {
        conn.execute(
            "UPDATE messages SET sent_at = ?1 WHERE id = ?2",
            [value, id],
        )
        .unwrap();
    }
    drop(conn);
    let mut store = w.fx.open();
    let report = store.unlock_account(w.fx.account, &w.fx.key).unwrap();
    assert!(report.tampered.contains(&("messages", a)), "{report:?}");
    assert!(report.tampered.contains(&("messages", b)), "{report:?}");
    assert_eq!(store.latest_messages(w.conv, 10).unwrap().items.len(), 1);
}

#[test]
fn every_shown_or_acted_on_column_of_an_alert_is_covered() {
    for (case, sql) in [
        (
            "issued_at moved",
            "UPDATE alerts SET issued_at = issued_at - 86400000 WHERE id = ?1",
        ),
        (
            "received_at moved",
            "UPDATE alerts SET received_at = 0 WHERE id = ?1",
        ),
        (
            "answer set back to NULL",
            "UPDATE alerts SET answer = NULL WHERE id = ?1",
        ),
        (
            "alert id hash swapped",
            "UPDATE alerts SET alert_id_hash = x'00' WHERE id = ?1",
        ),
    ] {
        let w = world();
        attack(&w, sql, [w.answered.0]);
        let store = assert_row_reported(&w, case, "alerts", w.answered.0);
        assert!(
            matches!(
                store.alert(w.answered),
                Err(StoreError::Tampered {
                    table: "alerts",
                    ..
                })
            ),
            "{case}"
        );
        assert!(store.alert(w.plain).is_ok(), "{case}");
    }
}

#[test]
fn a_sealed_field_put_back_to_its_own_older_ciphertext_is_reported() {
    // The seal binds row, column and key version, but not time: an older
    // ciphertext of the same field opens. The row MAC catches it.
    for (case, column) in [("older answer", "answer"), ("older details", "details")] {
        let w = world();
        let old = if column == "answer" {
            w.old_answer.clone()
        } else {
            w.old_details.clone()
        };
        attack(
            &w,
            &format!("UPDATE alerts SET {column} = ?1 WHERE id = ?2"),
            rusqlite::params![old, w.answered.0],
        );
        let store = assert_row_reported(&w, case, "alerts", w.answered.0);
        assert!(
            store.alert(w.answered).is_err(),
            "{case}: never 'this was me'"
        );
    }
}

#[test]
fn outbox_columns_are_covered() {
    for (case, sql) in [
        (
            "attempts reset",
            "UPDATE outbox SET attempts = 99 WHERE message_id = ?1",
        ),
        (
            "next attempt pushed away",
            "UPDATE outbox SET next_attempt_at = 9e15 WHERE message_id = ?1",
        ),
        (
            "created_at moved",
            "UPDATE outbox SET created_at = 0 WHERE message_id = ?1",
        ),
    ] {
        let w = world();
        attack(&w, sql, [w.queued.0]);
        let mut store = w.fx.open();
        let report = store.unlock_account(w.fx.account, &w.fx.key).unwrap();
        assert!(
            report.tampered.contains(&("outbox", w.queued.0)),
            "{case}: {report:?}"
        );
        let page = store.outbox(w.fx.account).unwrap();
        assert_eq!(page.tampered, vec![("outbox", w.queued.0)], "{case}");
        // The queued message itself is intact and still shown.
        assert_eq!(store.latest_messages(w.conv, 10).unwrap().items.len(), 3);
    }
}

#[test]
fn bank_link_sequence_conversation_and_account_columns_are_covered() {
    let w = world();
    attack(
        &w,
        "UPDATE bank_links SET acked_seq = 1000000 WHERE id = ?1",
        [w.fx.account.get()],
    );
    let store = assert_row_reported(&w, "acked_seq pushed", "bank_links", w.fx.account.get());
    assert!(matches!(
        store.acked_seq(w.fx.account),
        Err(StoreError::Tampered {
            table: "bank_links",
            ..
        })
    ));
    assert!(store.bank_link(w.fx.account).is_err());

    let w = world();
    attack(
        &w,
        "UPDATE conversations SET created_at = 5 WHERE id = ?1",
        [w.conv.0],
    );
    let store = assert_row_reported(&w, "conversation created_at", "conversations", w.conv.0);
    assert_eq!(
        store.conversations(w.fx.account).unwrap().tampered,
        vec![("conversations", w.conv.0)]
    );

    let w = world();
    attack(
        &w,
        "UPDATE accounts SET linked_at = 5 WHERE id = ?1",
        [w.fx.account.get()],
    );
    let store = assert_row_reported(&w, "account linked_at", "accounts", w.fx.account.get());
    assert!(store.account(w.fx.account).is_err());
}

fn unlock_findings(w: &World) -> (Store, UnlockReport) {
    let mut store = w.fx.open();
    let report = store.unlock_account(w.fx.account, &w.fx.key).unwrap();
    (store, report)
}

#[test]
fn a_deleted_row_of_every_kind_is_reported_with_its_scope() {
    type Case = (&'static str, &'static str, fn(&World) -> i64, &'static str);
    let cases: [Case; 5] = [
        (
            "a message",
            "DELETE FROM messages WHERE id = ?1",
            |w| w.incoming[1].0,
            "messages",
        ),
        (
            "an alert",
            "DELETE FROM alerts WHERE id = ?1",
            |w| w.plain.0,
            "alerts",
        ),
        (
            "an outbox row",
            "DELETE FROM outbox WHERE message_id = ?1",
            |w| w.queued.0,
            "outbox",
        ),
        (
            "the bank link",
            "DELETE FROM bank_links WHERE id = ?1",
            |w| w.fx.account.get(),
            "bank_links",
        ),
        (
            "the conversation",
            "DELETE FROM conversations WHERE id = ?1",
            |w| w.conv.0,
            "conversations",
        ),
    ];
    for (case, sql, key, table) in cases {
        let w = world();
        attack(&w, sql, [key(&w)]);
        let (store, report) = unlock_findings(&w);
        let found: Vec<_> = report
            .integrity
            .scopes
            .iter()
            .filter(|s| s.table == table)
            .collect();
        assert_eq!(found.len(), 1, "{case}: {report:?}");
        assert_eq!(found[0].found_rows + 1, found[0].recorded_rows, "{case}");
        if table == "messages" {
            assert_eq!(
                found[0].conversation,
                Some(w.conv),
                "{case}: which conversation"
            );
        }
        assert!(!report.is_clean());
        // Nothing else is lost.
        if table != "alerts" {
            assert_eq!(
                store.alerts(w.fx.account, 10).unwrap().items.len(),
                2,
                "{case}"
            );
        }
        // And the report comes back at the next unlock: nothing adopted it.
        drop(store);
        let (_, again) = unlock_findings(&w);
        assert_eq!(again.integrity.scopes, report.integrity.scopes, "{case}");
    }
}

#[test]
fn a_row_rolled_back_to_an_older_genuine_version_is_reported() {
    // The alert before it was answered: a row with a valid MAC, from the
    // file as it was an hour ago.
    let w = world();
    put_row(&raw(&w.fx.path()), "alerts", &w.old_alert_row);
    let (store, report) = unlock_findings(&w);
    assert!(
        report
            .integrity
            .scopes
            .iter()
            .any(|s| s.table == "alerts" && s.found_rows == s.recorded_rows),
        "same count, other content: {report:?}"
    );
    assert!(!report.is_clean());
    assert_eq!(store.latest_messages(w.conv, 10).unwrap().items.len(), 3);

    // The bank link with its older sequence number.
    let w = world();
    put_row(&raw(&w.fx.path()), "bank_links", &w.old_link_row);
    let (_, report) = unlock_findings(&w);
    assert!(
        report
            .integrity
            .scopes
            .iter()
            .any(|s| s.table == "bank_links"),
        "{report:?}"
    );
}

#[test]
fn a_forged_record_or_a_removed_head_is_reported_for_good() {
    // Deleting a row and editing the record to match is caught by the head.
    let w = world();
    {
        let conn = raw(&w.fx.path());
        conn.execute("DELETE FROM alerts WHERE id = ?1", [w.plain.0])
            .unwrap();
        conn.execute(
            "UPDATE integrity_scopes SET rows = rows - 1 WHERE scope = -3",
            [],
        )
        .unwrap();
    }
    let (store, report) = unlock_findings(&w);
    assert!(
        report.integrity.alarms.contains(&Alarm::HeadForged),
        "{report:?}"
    );
    drop(store);
    let (_, again) = unlock_findings(&w);
    assert!(
        again.integrity.alarms.contains(&Alarm::HeadForged),
        "kept: {again:?}"
    );

    // Removing the head (and the account's MAC) to look like an old store
    // that would be trusted on first use.
    let w = world();
    {
        let conn = raw(&w.fx.path());
        conn.execute("DELETE FROM integrity_heads", []).unwrap();
    }
    let (_, report) = unlock_findings(&w);
    assert!(
        report.integrity.alarms.contains(&Alarm::HeadMissing),
        "{report:?}"
    );
}

#[test]
fn a_whole_file_put_back_to_an_older_copy_is_caught_by_the_anchor() {
    let w = world();
    let copy = w.fx.dir.path().join("older.sqlite3");
    std::fs::copy(w.fx.path(), &copy).unwrap();
    // Later writes, then the anchor the client keeps in the keychain.
    let mut store = w.fx.reopen();
    store
        .insert_messages(&[incoming(w.conv, "later message", 80, "b9")])
        .unwrap();
    store
        .answer_fraud_check(w.plain, FraudAnswer::NotMe, 90)
        .unwrap();
    let due = store.anchors_due();
    assert_eq!(due.len(), 1);
    let anchor = Anchor::from_bytes(&due[0].1.to_bytes()).unwrap();
    assert!(store.anchors_due().is_empty(), "handed out once");
    drop(store);

    // The same file with its anchor: clean.
    let mut store = w.fx.open();
    let report = store
        .unlock_account_anchored(w.fx.account, &w.fx.key, Some(&anchor))
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
    drop(store);

    // The older copy put back: every row in it is genuine, only the anchor
    // can tell.
    for suffix in ["-wal", "-shm"] {
        let mut p = w.fx.path().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    std::fs::copy(&copy, w.fx.path()).unwrap();
    let mut store = w.fx.open();
    let report = store
        .unlock_account_anchored(w.fx.account, &w.fx.key, Some(&anchor))
        .unwrap();
    assert!(report.tampered.is_empty(), "{report:?}");
    assert!(
        matches!(
            report.integrity.alarms.as_slice(),
            [Alarm::RolledBack { anchored, found }] if *anchored == anchor.counter && *found < anchor.counter
        ),
        "{report:?}"
    );
    // The older history still reads.
    assert_eq!(store.latest_messages(w.conv, 10).unwrap().items.len(), 3);
    drop(store);
    // The alarm is recorded in the file: it comes back without the anchor.
    let (_, again) = unlock_findings(&w);
    assert!(
        matches!(
            again.integrity.alarms.as_slice(),
            [Alarm::RolledBack { .. }]
        ),
        "{again:?}"
    );
}

#[test]
fn writes_refuse_to_re_mac_a_damaged_row() {
    let w = world();
    attack(
        &w,
        "UPDATE messages SET sent_at = 1 WHERE id = ?1",
        [w.incoming[0].0],
    );
    let mut store = w.fx.open();
    store.unlock_account(w.fx.account, &w.fx.key).unwrap();
    assert!(matches!(
        store.set_delivery(w.incoming[0], Delivery::Read),
        Err(StoreError::Tampered {
            table: "messages",
            ..
        })
    ));
    drop(store);
    let (_, report) = unlock_findings(&w);
    assert!(report.tampered.contains(&("messages", w.incoming[0].0)));
}

#[test]
fn ordinary_use_stays_clean_across_every_write_and_a_key_rotation() {
    let w = world();
    let mut store = w.fx.reopen();
    store.set_delivery(w.incoming[0], Delivery::Read).unwrap();
    store.record_attempt(w.queued, 100).unwrap();
    store
        .acknowledge_outgoing(w.fx.account, "client-1", "bank-q")
        .unwrap();
    let next = store.master_keys().with_new_version().unwrap();
    store.start_rotation(next).unwrap();
    while !store.rotation_step(2).unwrap().done {}
    store.retire_old_versions().unwrap();
    let master = store.master_keys().clone();
    drop(store);
    let mut store = Store::open(w.fx.path(), master).unwrap();
    let report = store.unlock_account(w.fx.account, &w.fx.key).unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert!(store.outbox(w.fx.account).unwrap().items.is_empty());
}
