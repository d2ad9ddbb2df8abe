//! Tamper evidence of single rows: flipped bytes, ciphertexts swapped or
//! copied, relabelled key versions, moved messages; the damaged row is
//! reported and the rest still reads.

use crate::support::*;
use strongroom_store::*;

fn assert_only_row_tampered(t: &Tamper, store: &Store, bad: MessageId) {
    let err = store.message(bad).unwrap_err();
    assert!(
        matches!(err, StoreError::Tampered { table: "messages", row } if row == bad.0),
        "expected Tampered for messages row {}, got {err:?}",
        bad.0
    );
    let page = store.latest_messages(t.conv, 10).unwrap();
    assert_eq!(page.tampered, vec![("messages", bad.0)]);
    assert_eq!(page.items.len(), 2, "the other messages still read");
    assert!(
        store.alert(t.alert).is_ok(),
        "the rest of the store keeps working"
    );
}

#[test]
fn a_flipped_byte_in_a_sealed_body_is_reported_for_that_row() {
    let t = tamper_setup();
    let conn = raw(&t.fx.path());
    let mut body: Vec<u8> = conn
        .query_row(
            "SELECT content FROM messages WHERE id = ?1",
            [t.ids[1].0],
            |r| r.get(0),
        )
        .unwrap();
    body[15] ^= 0x01;
    conn.execute(
        "UPDATE messages SET content = ?1 WHERE id = ?2",
        rusqlite::params![body, t.ids[1].0],
    )
    .unwrap();
    drop(conn);
    let mut store = t.fx.open();
    let report = store.unlock_account(t.fx.account, &t.fx.key).unwrap();
    assert_eq!(report.tampered, vec![("messages", t.ids[1].0)]);
    assert_only_row_tampered(&t, &store, t.ids[1]);
}

#[test]
fn ciphertexts_swapped_between_rows_are_reported() {
    let t = tamper_setup();
    let conn = raw(&t.fx.path());
    let body = |id: MessageId| -> Vec<u8> {
        conn.query_row("SELECT content FROM messages WHERE id = ?1", [id.0], |r| {
            r.get(0)
        })
        .unwrap()
    };
    let (a, b) = (body(t.ids[0]), body(t.ids[2]));
    conn.execute(
        "UPDATE messages SET content = ?1 WHERE id = ?2",
        rusqlite::params![b, t.ids[0].0],
    )
    .unwrap();
    conn.execute(
        "UPDATE messages SET content = ?1 WHERE id = ?2",
        rusqlite::params![a, t.ids[2].0],
    )
    .unwrap();
    drop(conn);
    let mut store = t.fx.open();
    let report = store.unlock_account(t.fx.account, &t.fx.key).unwrap();
    assert_eq!(
        report.tampered.len(),
        2,
        "both swapped rows are reported: {report:?}"
    );
    for id in [t.ids[0], t.ids[2]] {
        assert!(
            matches!(store.message(id), Err(StoreError::Tampered { table: "messages", row }) if row == id.0)
        );
    }
    let page = store.latest_messages(t.conv, 10).unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(
        page.items[0].body, "second message",
        "the untouched row still reads"
    );
    assert!(store.alert(t.alert).is_ok());
}

#[test]
fn a_field_copied_to_another_row_or_column_is_reported() {
    let t = tamper_setup();
    let conn = raw(&t.fx.path());
    // Row 0's content copied over row 1's (row 0 keeps its own).
    conn.execute(
        "UPDATE messages SET content = (SELECT content FROM messages WHERE id = ?1) WHERE id = ?2",
        [t.ids[0].0, t.ids[1].0],
    )
    .unwrap();
    // And, in the alert, one column's ciphertext copied into another column
    // of the same row.
    conn.execute(
        "UPDATE alerts SET payload = details WHERE id = ?1",
        [t.alert.0],
    )
    .unwrap();
    drop(conn);
    let mut store = t.fx.open();
    let report = store.unlock_account(t.fx.account, &t.fx.key).unwrap();
    assert_eq!(
        report.tampered,
        vec![("messages", t.ids[1].0), ("alerts", t.alert.0)]
    );
    let err = store.message(t.ids[1]).unwrap_err();
    assert!(
        matches!(err, StoreError::Tampered { table: "messages", row } if row == t.ids[1].0),
        "{err:?}"
    );
    assert_eq!(store.message(t.ids[0]).unwrap().body, "first message");
    let err = store.alert(t.alert).unwrap_err();
    assert!(
        matches!(err, StoreError::Tampered { table: "alerts", row } if row == t.alert.0),
        "{err:?}"
    );
    assert_eq!(store.latest_messages(t.conv, 10).unwrap().items.len(), 2);
}

#[test]
fn relabelling_the_key_version_is_reported_for_that_row() {
    let t = tamper_setup();
    let conn = raw(&t.fx.path());
    conn.execute(
        "UPDATE messages SET key_version = 7 WHERE id = ?1",
        [t.ids[0].0],
    )
    .unwrap();
    drop(conn);
    let mut store = t.fx.open();
    let report = store.unlock_account(t.fx.account, &t.fx.key).unwrap();
    assert_eq!(report.tampered, vec![("messages", t.ids[0].0)]);
    // The row MAC covers the key version, so the relabel is caught before
    // the seal is even tried.
    assert!(matches!(
        store.message(t.ids[0]),
        Err(StoreError::Tampered { table: "messages", row }) if row == t.ids[0].0
    ));
    let page = store.latest_messages(t.conv, 10).unwrap();
    assert_eq!(page.tampered, vec![("messages", t.ids[0].0)]);
    assert_eq!(store.message(t.ids[1]).unwrap().body, "second message");
}

#[test]
fn a_tampered_alert_never_reads_as_verified() {
    let t = tamper_setup();
    let conn = raw(&t.fx.path());
    let mut details: Vec<u8> = conn
        .query_row(
            "SELECT details FROM alerts WHERE id = ?1",
            [t.alert.0],
            |r| r.get(0),
        )
        .unwrap();
    let last = details.len() - 1;
    details[last] ^= 0x80;
    conn.execute(
        "UPDATE alerts SET details = ?1 WHERE id = ?2",
        rusqlite::params![details, t.alert.0],
    )
    .unwrap();
    drop(conn);
    let store = t.fx.reopen();
    assert!(matches!(
        store.alert(t.alert),
        Err(StoreError::Tampered {
            table: "alerts",
            ..
        })
    ));
    let page = store.alerts(t.fx.account, 10).unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.tampered, vec![("alerts", t.alert.0)]);
    assert_eq!(store.latest_messages(t.conv, 10).unwrap().items.len(), 3);
}

#[test]
fn a_message_moved_to_another_conversation_is_reported() {
    let t = tamper_setup();
    let mut store = t.fx.reopen();
    let other = store.add_conversation(t.fx.account, "other", 2).unwrap();
    drop(store);
    let conn = raw(&t.fx.path());
    conn.execute(
        "UPDATE messages SET conversation_id = ?1 WHERE id = ?2",
        [other.0, t.ids[0].0],
    )
    .unwrap();
    drop(conn);
    let mut store = t.fx.open();
    let report = store.unlock_account(t.fx.account, &t.fx.key).unwrap();
    assert_eq!(report.tampered, vec![("messages", t.ids[0].0)]);
    let page = store.latest_messages(other, 10).unwrap();
    assert!(
        page.items.is_empty(),
        "the moved message must not show in the other conversation"
    );
    assert_eq!(page.tampered, vec![("messages", t.ids[0].0)]);
}

#[test]
fn a_damaged_account_row_does_not_lock_the_history() {
    let t = tamper_setup();
    let conn = raw(&t.fx.path());
    conn.execute("UPDATE accounts SET display_name = x'00'", [])
        .unwrap();
    drop(conn);
    let mut store = t.fx.open();
    let report = store.unlock_account(t.fx.account, &t.fx.key).unwrap();
    assert_eq!(report.tampered, vec![("accounts", t.fx.account.get())]);
    assert!(matches!(
        store.account(t.fx.account),
        Err(StoreError::Tampered {
            table: "accounts",
            ..
        })
    ));
    assert_eq!(store.latest_messages(t.conv, 10).unwrap().items.len(), 3);
}

/// Unlock opens only each conversation's newest messages: a byte flipped
/// in an older message (its MAC left as it was, so the history's scopes
/// still add up) is not in the unlock report. It is reported when the
/// first search opens it, and when the page that holds it is read; it is
/// never found by search.
#[test]
fn a_damaged_message_older_than_the_window_is_found_by_the_first_search() {
    let fx = Fixture::new();
    let mut store = fx.new_store();
    let conv = store.add_conversation(fx.account, "t", 1).unwrap();
    let batch: Vec<NewMessage> = (0..120)
        .map(|i| incoming(conv, &format!("history {i}"), i, &format!("b{i}")))
        .collect();
    let ids: Vec<i64> = store
        .insert_messages(&batch)
        .unwrap()
        .iter()
        .map(|i| i.id().0)
        .collect();
    drop(store);
    // The oldest message: far outside the newest 51.
    let old = ids[0];
    let conn = raw(&fx.path());
    let mut body: Vec<u8> = conn
        .query_row("SELECT content FROM messages WHERE id = ?1", [old], |r| {
            r.get(0)
        })
        .unwrap();
    body[15] ^= 0x01;
    conn.execute(
        "UPDATE messages SET content = ?1 WHERE id = ?2",
        rusqlite::params![body, old],
    )
    .unwrap();
    drop(conn);
    let mut store = fx.open();
    let report = store.unlock_account(fx.account, &fx.key).unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert!(store.damage_found(fx.account).is_empty());
    let hits = store.search("history", 500).unwrap();
    assert_eq!(hits.len(), 119, "every message but the damaged one");
    assert_eq!(store.damage_found(fx.account), [("messages", old)]);
    let page = store.latest_messages(conv, 500).unwrap();
    assert_eq!(page.tampered, vec![("messages", old)]);
    assert_eq!(page.items.len(), 119);
    // Locking forgets it; the next unlock and search find it again.
    store.lock_account(fx.account);
    assert!(store.damage_found(fx.account).is_empty());
}
