//! Layer 1, the row MAC: which columns of each table it covers, how a row
//! is encoded for it, and the checks that refuse a row that fails it.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row};
use strongroom_core::AccountId;

use crate::{Store, StoreError};

/// A table whose rows carry a MAC.
#[derive(Debug)]
pub(crate) struct MacTable {
    pub table: &'static str,
    /// The row's key column (also the first of `columns`).
    pub key: &'static str,
    /// The column naming the account.
    pub account: &'static str,
    /// The SQL expression giving the row's scope.
    pub scope: &'static str,
    /// Every column but `mac`, in the order the MAC covers them.
    pub columns: &'static str,
    /// How many `columns` there are.
    pub count: usize,
}

pub(crate) const ACCOUNTS: MacTable = MacTable {
    table: "accounts",
    key: "id",
    account: "id",
    scope: "-1",
    columns: "id, key_check, bank, display_name, linked_at, key_version",
    count: 6,
};
pub(crate) const CONVERSATIONS: MacTable = MacTable {
    table: "conversations",
    key: "id",
    account: "account_id",
    scope: "-2",
    columns: "id, account_id, title, created_at, key_version",
    count: 5,
};
pub(crate) const MESSAGES: MacTable = MacTable {
    table: "messages",
    key: "id",
    account: "account_id",
    scope: "conversation_id",
    columns: "id, account_id, conversation_id, content, sent_at, received_at, delivery, \
              key_version, client_id_hash, bank_id_hash",
    count: 10,
};
pub(crate) const ALERTS: MacTable = MacTable {
    table: "alerts",
    key: "id",
    account: "account_id",
    scope: "-3",
    columns: "id, account_id, details, payload, answer, issued_at, received_at, key_version, \
              alert_id_hash",
    count: 9,
};
/// The alerts' one scope, as [`ALERTS`]' `scope` says in SQL (a test
/// holds the two together).
pub(crate) const ALERTS_SCOPE: i64 = -3;
pub(crate) const OUTBOX: MacTable = MacTable {
    table: "outbox",
    key: "message_id",
    account: "account_id",
    scope: "-4",
    columns: "message_id, account_id, client_id, attempts, next_attempt_at, created_at",
    count: 6,
};
pub(crate) const BANK_LINKS: MacTable = MacTable {
    table: "bank_links",
    key: "id",
    account: "account_id",
    scope: "-5",
    columns: "id, account_id, details, acked_seq, key_version",
    count: 5,
};

/// Every table with row MACs, the account's own row first (its MAC tells
/// whether the account was ever protected; see `Store::check_integrity`).
pub(crate) const MAC_TABLES: [&MacTable; 6] = [
    &ACCOUNTS,
    &CONVERSATIONS,
    &MESSAGES,
    &ALERTS,
    &OUTBOX,
    &BANK_LINKS,
];

/// The bytes a row MAC covers: the table name, then each column framed by
/// its type and (for text and blobs) its length, so that no two different
/// rows encode alike (NULL is not an empty blob, 1 is not "1").
pub(crate) fn encode_row<'a>(table: &str, values: impl Iterator<Item = ValueRef<'a>>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"strongroom/row/v1\0");
    out.extend_from_slice(table.as_bytes());
    out.push(0);
    for value in values {
        match value {
            ValueRef::Null => out.push(0),
            ValueRef::Integer(i) => {
                out.push(1);
                out.extend_from_slice(&i.to_be_bytes());
            }
            ValueRef::Real(r) => {
                out.push(2);
                out.extend_from_slice(&r.to_bits().to_be_bytes());
            }
            ValueRef::Text(t) => {
                out.push(3);
                out.extend_from_slice(&u64::try_from(t.len()).unwrap_or(u64::MAX).to_be_bytes());
                out.extend_from_slice(t);
            }
            ValueRef::Blob(b) => {
                out.push(4);
                out.extend_from_slice(&u64::try_from(b.len()).unwrap_or(u64::MAX).to_be_bytes());
                out.extend_from_slice(b);
            }
        }
    }
    out
}

/// A row as its MAC sees it.
#[derive(Debug)]
pub(crate) struct MacRow {
    pub account: AccountId,
    pub scope: i64,
    pub encoded: Vec<u8>,
    pub mac: Option<Vec<u8>>,
}

fn account_value(value: i64) -> Result<AccountId, StoreError> {
    AccountId::from_stored(value).ok_or(StoreError::Database(
        rusqlite::Error::IntegralValueOutOfRange(0, value),
    ))
}

/// Reads a row's account, scope, encoding and stored MAC.
pub(crate) fn read_mac_row(
    conn: &Connection,
    spec: &MacTable,
    key: i64,
) -> Result<Option<MacRow>, StoreError> {
    let sql = format!(
        "SELECT {}, {}, {}, mac FROM {} WHERE {} = ?1",
        spec.account, spec.scope, spec.columns, spec.table, spec.key
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([key])?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    Ok(Some(mac_row(spec, row, 0)?))
}

/// The [`MacRow`] of a row selected as `account, scope, columns..., mac`
/// starting at `first`.
pub(super) fn mac_row(spec: &MacTable, row: &Row<'_>, first: usize) -> Result<MacRow, StoreError> {
    let account = account_value(row.get(first)?)?;
    let scope: i64 = row.get(first + 1)?;
    let values = (first + 2..first + 2 + spec.count)
        .map(|i| row.get_ref(i))
        .collect::<Result<Vec<_>, _>>()?;
    let encoded = encode_row(spec.table, values.into_iter());
    let mac = match row.get_ref(first + 2 + spec.count)? {
        ValueRef::Blob(b) => Some(b.to_vec()),
        _ => None,
    };
    Ok(MacRow {
        account,
        scope,
        encoded,
        mac,
    })
}

impl Store {
    /// Whether the open schema has row MACs (the fixture tests open older ones).
    pub(crate) fn integrity_on(&self) -> bool {
        self.schema >= 5
    }

    /// The `mac` column in a query, or NULL on a schema without it.
    pub(crate) fn mac_column(schema: u32) -> &'static str {
        if schema >= 5 { "mac" } else { "NULL" }
    }

    /// Checks the MAC of a row selected by a read path as `columns..., mac`
    /// from index `first`.
    pub(crate) fn verify_row_mac(
        &self,
        account: AccountId,
        spec: &MacTable,
        row: &Row<'_>,
        first: usize,
        id: i64,
    ) -> Result<(), StoreError> {
        if !self.integrity_on() {
            return Ok(());
        }
        let values = (first..first + spec.count)
            .map(|i| row.get_ref(i))
            .collect::<Result<Vec<_>, _>>()?;
        let encoded = encode_row(spec.table, values.into_iter());
        match row.get_ref(first + spec.count)? {
            ValueRef::Blob(tag) if self.keys(account)?.integrity_verify(&encoded, tag) => Ok(()),
            _ => Err(StoreError::Tampered {
                table: spec.table,
                row: id,
            }),
        }
    }

    fn genuine(&self, row: &MacRow) -> Result<bool, StoreError> {
        let keys = self.keys(row.account)?;
        Ok(row
            .mac
            .as_deref()
            .is_some_and(|tag| keys.integrity_verify(&row.encoded, tag)))
    }

    /// A row about to be changed: refused if it fails its MAC, so that a
    /// write never re-MACs (and so blesses) what an attacker wrote.
    pub(crate) fn require_genuine(
        &self,
        conn: &Connection,
        spec: &MacTable,
        key: i64,
    ) -> Result<Option<MacRow>, StoreError> {
        if !self.integrity_on() {
            return Ok(None);
        }
        let row = read_mac_row(conn, spec, key)?;
        if let Some(r) = &row
            && !self.genuine(r)?
        {
            return Err(StoreError::Tampered {
                table: spec.table,
                row: key,
            });
        }
        Ok(row)
    }

    /// A row read before it is deleted (no check: a damaged row may go).
    pub(crate) fn row_before_delete(
        &self,
        conn: &Connection,
        spec: &MacTable,
        key: i64,
    ) -> Result<Option<MacRow>, StoreError> {
        if !self.integrity_on() {
            return Ok(None);
        }
        read_mac_row(conn, spec, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alerts_scope_constant_is_the_one_the_sql_gives() {
        assert_eq!(ALERTS.scope.parse::<i64>(), Ok(ALERTS_SCOPE));
    }

    #[test]
    fn row_encoding_tells_null_from_empty_and_numbers_from_text() {
        let enc = |v: ValueRef<'_>| encode_row("t", std::iter::once(v));
        assert_ne!(enc(ValueRef::Null), enc(ValueRef::Blob(b"")));
        assert_ne!(enc(ValueRef::Integer(1)), enc(ValueRef::Text(b"1")));
        assert_ne!(enc(ValueRef::Text(b"ab")), enc(ValueRef::Blob(b"ab")));
        assert_ne!(
            encode_row("a", [ValueRef::Text(b"b"), ValueRef::Text(b"")].into_iter()),
            encode_row("a", [ValueRef::Text(b""), ValueRef::Text(b"b")].into_iter())
        );
    }
}
