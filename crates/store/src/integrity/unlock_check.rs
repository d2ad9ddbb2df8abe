//! The check at unlock: an account's rows recomputed into scopes and
//! compared with its head and the anchor, alarms recorded for good, and a
//! store from before row MACs protected on its first unlock.

use rusqlite::OptionalExtension;
use rusqlite::types::ValueRef;
use std::collections::BTreeMap;
use strongroom_core::AccountId;

use super::anchor::Anchor;
use super::findings::{ScopeMismatch, alarms_of};
use super::head::{
    ALARM_HEAD_FORGED, ALARM_HEAD_MISSING, ALARM_ROLLED_BACK, AccountIntegrity, Pending, Scope,
    scope_table,
};
use super::row_mac::{MAC_TABLES, mac_row};
use crate::{ConversationId, Store, StoreError, UnlockReport};

impl Store {
    /// Checks an account's rows against its scopes, its head and the anchor
    /// kept outside the file; protects a store from before schema version 5
    /// on its first unlock. Findings go to `report`; alarms are recorded in
    /// the head so that they come back at every unlock.
    pub(crate) fn check_integrity(
        &mut self,
        account: AccountId,
        anchor: Option<&Anchor>,
        report: &mut UnlockReport,
    ) -> Result<(), StoreError> {
        if !self.integrity_on() {
            return Ok(());
        }
        let head: Option<(i64, i64, i64, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT counter, alarms, anchored_from, mac FROM integrity_heads \
                 WHERE account_id = ?1",
                [account.get()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let protected: bool = self.conn.query_row(
            "SELECT mac IS NOT NULL FROM accounts WHERE id = ?1",
            [account.get()],
            |r| r.get(0),
        )?;
        if head.is_none() && !protected && anchor.is_none() {
            report.integrity.trusted_on_first_use = true;
            return self.protect_first_time(account);
        }
        // The scopes as the rows make them now: for messages and alerts
        // their MACs alone are needed here (alerts and each conversation's
        // newest messages are then opened, and so checked, by the unlock;
        // older messages when they are read or indexed). The other tables
        // are small: each row is checked here.
        let mut actual: BTreeMap<i64, Scope> = BTreeMap::new();
        let mut bad_rows = Vec::new();
        {
            let keys = self.keys(account)?;
            for spec in MAC_TABLES {
                let light = spec.table == "messages" || spec.table == "alerts";
                let sql = if light {
                    format!(
                        "SELECT {}, {}, mac FROM {} WHERE {} = ?1",
                        spec.key, spec.scope, spec.table, spec.account
                    )
                } else {
                    format!(
                        "SELECT {}, {}, {}, mac FROM {} WHERE {} = ?1",
                        spec.account, spec.scope, spec.columns, spec.table, spec.account
                    )
                };
                let mut stmt = self.conn.prepare(&sql)?;
                let mut rows = stmt.query([account.get()])?;
                while let Some(row) = rows.next()? {
                    let (key, scope, mac) = if light {
                        let mac = match row.get_ref(2)? {
                            ValueRef::Blob(b) => Some(b.to_vec()),
                            _ => None,
                        };
                        (row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, mac)
                    } else {
                        let key: i64 = row.get(2)?;
                        let r = mac_row(spec, row, 0)?;
                        let ok = r
                            .mac
                            .as_deref()
                            .is_some_and(|tag| keys.integrity_verify(&r.encoded, tag));
                        if !ok {
                            bad_rows.push((spec.table, key));
                        }
                        (key, r.scope, r.mac)
                    };
                    let term = mac
                        .as_deref()
                        .map_or([0; 32], |m| keys.digest_term(spec.table, key, m));
                    actual.entry(scope).or_default().toggle(&term, true);
                }
            }
        }
        let mut stored_scopes = BTreeMap::new();
        {
            let mut stmt = self.conn.prepare(
                "SELECT scope, rows, digest FROM integrity_scopes WHERE account_id = ?1",
            )?;
            let mut rows = stmt.query([account.get()])?;
            while let Some(row) = rows.next()? {
                let digest: Vec<u8> = row.get(2)?;
                let rows_count: i64 = row.get(1)?;
                stored_scopes.insert(
                    row.get::<_, i64>(0)?,
                    Scope {
                        rows: u64::try_from(rows_count).unwrap_or(0),
                        digest: digest.try_into().unwrap_or([0xff; 32]),
                    },
                );
            }
        }
        let mut new_alarms = 0;
        let (mut state, found_counter) = match head {
            Some((counter, alarms, anchored_from, mac)) => {
                let stored = AccountIntegrity {
                    counter: u64::try_from(counter).unwrap_or(0),
                    alarms,
                    anchored_from,
                    scopes: stored_scopes,
                };
                let genuine = self
                    .keys(account)?
                    .integrity_verify(&stored.encode_head(account.get()), &mac);
                if let Some(anchor) = anchor
                    && (stored.counter < anchor.counter
                        || (stored.counter == anchor.counter && anchor.head.as_slice() != mac))
                {
                    new_alarms |= ALARM_ROLLED_BACK;
                }
                if genuine {
                    // The recorded scopes are kept, so a mismatch stays
                    // reported at every unlock rather than being adopted.
                    let scopes: std::collections::BTreeSet<i64> =
                        stored.scopes.keys().chain(actual.keys()).copied().collect();
                    for scope in scopes {
                        let recorded = stored.scopes.get(&scope).copied().unwrap_or_default();
                        let found = actual.get(&scope).copied().unwrap_or_default();
                        if recorded != found {
                            report.integrity.scopes.push(ScopeMismatch {
                                table: scope_table(scope),
                                conversation: (scope > 0).then_some(ConversationId(scope)),
                                recorded_rows: recorded.rows,
                                found_rows: found.rows,
                            });
                        }
                    }
                    let found = stored.counter;
                    (stored, found)
                } else {
                    // Nothing in the record can be trusted: go on from the
                    // rows as they are, with the alarm kept for good.
                    new_alarms |= ALARM_HEAD_FORGED;
                    let found = stored.counter;
                    (
                        AccountIntegrity {
                            scopes: actual,
                            ..stored
                        },
                        found,
                    )
                }
            }
            None => {
                new_alarms |= ALARM_HEAD_MISSING;
                (
                    AccountIntegrity {
                        scopes: actual,
                        ..AccountIntegrity::fresh()
                    },
                    0,
                )
            }
        };
        if new_alarms & ALARM_ROLLED_BACK != 0
            && let Some(anchor) = anchor
        {
            state.anchored_from = i64::try_from(anchor.counter).unwrap_or(i64::MAX);
        }
        let unrecorded = new_alarms & !state.alarms;
        state.alarms |= new_alarms;
        report.integrity.alarms = alarms_of(&state, found_counter);
        for bad in bad_rows {
            if !report.tampered.contains(&bad) {
                report.tampered.push(bad);
            }
        }
        if unrecorded != 0 {
            // Recorded now, in the head and under its MAC.
            let mut pending = Pending::default();
            pending.accounts.insert(account, state);
            pending.changed.extend(
                pending.accounts[&account]
                    .scopes
                    .keys()
                    .map(|s| (account, *s)),
            );
            let tx = self.conn.unchecked_transaction()?;
            self.commit_heads(&tx, &mut pending)?;
            tx.commit()?;
            self.adopt(pending);
        } else {
            if let Some(anchor) = anchor
                && anchor.counter == state.counter
            {
                self.anchored.insert(account, anchor.counter);
            }
            self.integrity.insert(account, state);
        }
        Ok(())
    }

    /// An account from before schema version 5: MACs every row as it is
    /// now (trust on first use) and records its scopes and head.
    fn protect_first_time(&mut self, account: AccountId) -> Result<(), StoreError> {
        let mut pending = Pending::default();
        pending.fresh(account);
        let tx = self.conn.unchecked_transaction()?;
        for spec in MAC_TABLES {
            let keys: Vec<i64> = tx
                .prepare(&format!(
                    "SELECT {} FROM {} WHERE {} = ?1",
                    spec.key, spec.table, spec.account
                ))?
                .query_map([account.get()], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for key in keys {
                self.track_row(&tx, &mut pending, spec, key, None)?;
            }
        }
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        Ok(())
    }
}
