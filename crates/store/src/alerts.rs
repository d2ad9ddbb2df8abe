//! Bank alerts: stored once per bank alert id, read back sealed and
//! verified, and the customer's sealed answer to a fraud check.

use rusqlite::types::ValueRef;
use rusqlite::{OptionalExtension, Row, params};
use strongroom_core::AccountId;

use crate::indexing::alert_search_text;
use crate::integrity::{ALERTS, ALERTS_SCOPE, Pending, encode_row};
use crate::sealing::{account_of, blob, blob_or_null};
use crate::{
    Alert, AlertDetails, AlertId, FraudAnswer, Inserted, Millis, NewAlert, Page, SearchHit, Store,
    StoreError,
};

impl Store {
    /// Stores an alert. The same bank alert id is stored once.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`] or [`StoreError::Database`].
    pub fn insert_alert(&mut self, alert: &NewAlert) -> Result<Inserted<AlertId>, StoreError> {
        let mut inserted = self.insert_alerts(alert.account, std::slice::from_ref(alert), None)?;
        inserted.pop().ok_or(StoreError::NotFound {
            table: "alerts",
            row: 0,
        })
    }

    /// Stores a burst of alerts from `account`'s delivery stream in one
    /// transaction, in order, and with them the account's stream position
    /// `acked_seq` when given ([`Store::set_acked_seq`]): one commit, and
    /// one wait for the disk, for the whole burst. The same bank alert id
    /// is stored once. Nothing of the burst is kept, on disk or in memory
    /// (ids, the search index, the integrity state), unless it all
    /// commits.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`], [`StoreError::Tampered`] when the
    /// account's link row fails its MAC (the position is not moved over an
    /// attacker's edit), or [`StoreError::Database`].
    pub fn insert_alerts(
        &mut self,
        account: AccountId,
        alerts: &[NewAlert],
        acked_seq: Option<u64>,
    ) -> Result<Vec<Inserted<AlertId>>, StoreError> {
        let version = self.master.current_version();
        let with_mac = self.integrity_on();
        let mut next = self.next_alert;
        let mut results = Vec::with_capacity(alerts.len());
        let mut to_index = Vec::new();
        let mut pending = Pending::default();
        let tx = self.conn.unchecked_transaction()?;
        for alert in alerts {
            let account = alert.account;
            let keys = self.keys(account)?;
            let hash = keys.lookup_hash("bank-alert-id", alert.bank_alert_id.as_bytes());
            let id = next;
            let details = serde_json::to_vec(&alert.details).map_err(|_| StoreError::Random)?;
            let details = self.seal(account, "alerts", "details", id, &details)?;
            let payload = self.seal(account, "alerts", "payload", id, alert.raw_jws.as_bytes())?;
            // The row MAC from the values bound here, written by the insert
            // itself (as for messages; see `messages.rs`).
            let mac = with_mac.then(|| {
                keys.integrity_mac(&encode_row(
                    ALERTS.table,
                    [
                        ValueRef::Integer(id),
                        ValueRef::Integer(account.get()),
                        ValueRef::Blob(&details),
                        ValueRef::Blob(&payload),
                        ValueRef::Null,
                        ValueRef::Integer(alert.issued_at),
                        ValueRef::Integer(alert.received_at),
                        ValueRef::Integer(i64::from(version)),
                        ValueRef::Blob(&hash),
                    ]
                    .into_iter(),
                ))
            });
            let values = params![
                id,
                account.get(),
                details,
                payload,
                alert.issued_at,
                alert.received_at,
                hash,
                version,
                mac.as_ref().map(<[u8; 32]>::as_slice),
            ];
            let changed = tx
                .prepare_cached(if with_mac {
                    "INSERT INTO alerts (id, account_id, details, payload, answer, issued_at, \
                     received_at, alert_id_hash, key_version, mac) \
                     VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7, ?8, ?9) \
                     ON CONFLICT(alert_id_hash) DO NOTHING"
                } else {
                    "INSERT INTO alerts (id, account_id, details, payload, answer, issued_at, \
                     received_at, alert_id_hash, key_version) \
                     VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7, ?8) \
                     ON CONFLICT(alert_id_hash) DO NOTHING"
                })?
                .execute(if with_mac { values } else { &values[..8] })?;
            if changed == 0 {
                let existing: i64 = tx.query_row(
                    "SELECT id FROM alerts WHERE alert_id_hash = ?1",
                    [&hash],
                    |r| r.get(0),
                )?;
                results.push(Inserted::Duplicate(AlertId(existing)));
                continue;
            }
            if let Some(mac) = &mac {
                self.track_inserted(&mut pending, &ALERTS, account, ALERTS_SCOPE, id, mac)?;
            }
            next += 1;
            to_index.push((id, alert));
            results.push(Inserted::New(AlertId(id)));
        }
        if let Some(seq) = acked_seq {
            self.move_acked_seq(&tx, &mut pending, account, seq)?;
        }
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        self.next_alert = next;
        if let Some(index) = &mut self.index {
            for (id, alert) in to_index {
                index.add(
                    SearchHit::Alert(AlertId(id)),
                    account,
                    alert.received_at,
                    &alert_search_text(&alert.details),
                );
            }
        }
        Ok(results)
    }

    /// Finds a stored alert by the bank's id for it (its `jti`).
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`] or [`StoreError::Database`].
    pub fn find_alert(
        &self,
        account: AccountId,
        bank_alert_id: &str,
    ) -> Result<Option<AlertId>, StoreError> {
        let hash = self
            .keys(account)?
            .lookup_hash("bank-alert-id", bank_alert_id.as_bytes());
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM alerts WHERE alert_id_hash = ?1 AND account_id = ?2",
                params![hash, account.get()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(id.map(AlertId))
    }

    /// The latest `limit` alerts of an account, newest first.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`] or [`StoreError::Database`]. Tampered
    /// rows are listed in the page.
    pub fn alerts(&self, account: AccountId, limit: usize) -> Result<Page<Alert>, StoreError> {
        self.keys(account)?;
        let mut stmt = self.conn.prepare_cached(&self.queries.alerts_latest)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = stmt.query(params![account.get(), limit])?;
        let mut page = Page::default();
        while let Some(row) = rows.next()? {
            let result = self.alert_from_row(row);
            page.push(result, "alerts", row.get(0)?)?;
        }
        Ok(page)
    }

    /// One alert.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::AccountLocked`],
    /// [`StoreError::Tampered`] or [`StoreError::Database`].
    pub fn alert(&self, id: AlertId) -> Result<Alert, StoreError> {
        let mut stmt = self.conn.prepare_cached(&self.queries.alert_by_id)?;
        let mut rows = stmt.query([id.0])?;
        match rows.next()? {
            Some(row) => self.alert_from_row(row),
            None => Err(StoreError::NotFound {
                table: "alerts",
                row: id.0,
            }),
        }
    }

    fn alert_from_row(&self, row: &Row<'_>) -> Result<Alert, StoreError> {
        let id: i64 = row.get(0)?;
        let account = account_of(row, 1)?;
        let version: u32 = row.get(7)?;
        let tampered = || StoreError::Tampered {
            table: "alerts",
            row: id,
        };
        // The row MAC covers the clear times and whether there is an answer.
        self.verify_row_mac(account, &ALERTS, row, 0, id)?;
        let details = self.open_field(
            account,
            "alerts",
            "details",
            id,
            version,
            blob(row, 2, "alerts", id)?,
        )?;
        let details: AlertDetails = serde_json::from_slice(&details).map_err(|_| tampered())?;
        let raw_jws = self.open_text(
            account,
            "alerts",
            "payload",
            id,
            version,
            blob(row, 3, "alerts", id)?,
        )?;
        let answer = match blob_or_null(row, 4, "alerts", id)? {
            None => None,
            Some(sealed) => {
                let plain = self.open_field(account, "alerts", "answer", id, version, sealed)?;
                Some(serde_json::from_slice(&plain).map_err(|_| tampered())?)
            }
        };
        Ok(Alert {
            id: AlertId(id),
            account,
            details,
            raw_jws,
            issued_at: row.get(5)?,
            received_at: row.get(6)?,
            answer,
        })
    }

    /// Records the customer's answer to a fraud check (sealed, so a tampered
    /// file cannot turn "not me" into "this was me").
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::AccountLocked`],
    /// [`StoreError::Tampered`] or [`StoreError::Database`].
    pub fn answer_fraud_check(
        &mut self,
        id: AlertId,
        answer: FraudAnswer,
        at: Millis,
    ) -> Result<(), StoreError> {
        let alert = self.alert(id)?;
        let plain = serde_json::to_vec(&(answer, at)).map_err(|_| StoreError::Random)?;
        // The other sealed fields of the row must share its key version, so
        // re-seal them too when the row predates a rotation.
        let version = self.master.current_version();
        let details = serde_json::to_vec(&alert.details).map_err(|_| StoreError::Random)?;
        let details = self.seal(alert.account, "alerts", "details", id.0, &details)?;
        let payload = self.seal(
            alert.account,
            "alerts",
            "payload",
            id.0,
            alert.raw_jws.as_bytes(),
        )?;
        let sealed = self.seal(alert.account, "alerts", "answer", id.0, &plain)?;
        let tx = self.conn.unchecked_transaction()?;
        let before = self.require_genuine(&tx, &ALERTS, id.0)?;
        tx.execute(
            "UPDATE alerts SET details = ?1, payload = ?2, answer = ?3, key_version = ?4 WHERE id = ?5",
            params![details, payload, sealed, version, id.0],
        )?;
        let mut pending = Pending::default();
        self.track_row(&tx, &mut pending, &ALERTS, id.0, before.as_ref())?;
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        Ok(())
    }
}
