//! Master key rotation: every sealed row re-sealed under the new key
//! version in small resumable steps, then the old versions retired.

use rusqlite::params;
use std::collections::HashMap;

use crate::crypto::FieldRef;
use crate::integrity::{self, Pending};
use crate::sealing::{account_of, blob_or_null};
use crate::{MasterKeys, Sensitive, Store, StoreError};

/// How far a key rotation has come.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationProgress {
    /// Rows re-sealed by this step.
    pub resealed: usize,
    /// True when every row has been visited. If `skipped` is empty the older
    /// master key versions may be retired from the keychain; otherwise they
    /// must be kept for the rows listed there.
    pub done: bool,
    /// Rows that could not be re-sealed (damaged, or of a locked account),
    /// as `(table, row)`, since the rotation started or the store opened.
    pub skipped: Vec<(&'static str, i64)>,
}

/// Where a rotation is, in memory: a cursor per sealed table and the rows
/// passed over. A reopen starts again from the first row, which retries them.
#[derive(Debug, Default)]
pub(crate) struct RotationCursor {
    cursor: [i64; 5],
    skipped: Vec<(&'static str, i64)>,
}

/// A table with sealed columns, for key rotation.
struct SealedTable {
    table: &'static str,
    account_column: &'static str,
    /// The column bound as the seal's context (see `FieldRef::context`).
    context_column: &'static str,
    columns: &'static [&'static str],
}

const SEALED_TABLES: &[SealedTable] = &[
    SealedTable {
        table: "accounts",
        account_column: "id",
        context_column: "0",
        columns: &["bank", "display_name"],
    },
    SealedTable {
        table: "conversations",
        account_column: "account_id",
        context_column: "0",
        columns: &["title"],
    },
    SealedTable {
        table: "messages",
        account_column: "account_id",
        context_column: "conversation_id",
        columns: &["content"],
    },
    SealedTable {
        table: "alerts",
        account_column: "account_id",
        context_column: "0",
        columns: &["details", "payload", "answer"],
    },
    SealedTable {
        table: "bank_links",
        account_column: "account_id",
        context_column: "0",
        columns: &["details"],
    },
];

/// Whether the open schema has a table (older schemas are opened by the
/// fixture tests).
fn table_in_schema(table: &str, schema: u32) -> bool {
    match table {
        "alerts" => schema >= 2,
        "bank_links" => schema >= 4,
        _ => true,
    }
}

impl Store {
    /// Switches to new master keys: new data is sealed under their current
    /// version from now on. Call [`Store::rotation_step`] until it reports
    /// `done`, then retire the old versions from the keychain.
    ///
    /// The new keys must be in the keychain before this is called: after a
    /// crash, opening the store with them resumes the rotation where it
    /// stopped, because every row records its own key version.
    ///
    /// # Errors
    /// [`StoreError::RotationNotForward`] if the new current version is not
    /// newer, or [`StoreError::MissingKeyVersion`] if a version in use is
    /// missing from the new keys.
    pub fn start_rotation(&mut self, new_keys: MasterKeys) -> Result<(), StoreError> {
        if new_keys.current_version() <= self.master.current_version() {
            return Err(StoreError::RotationNotForward(
                self.master.current_version(),
            ));
        }
        if let Some(missing) = self.master.versions().find(|v| new_keys.key(*v).is_none()) {
            return Err(StoreError::MissingKeyVersion(missing));
        }
        self.rotation = RotationCursor::default();
        let previous = std::mem::replace(&mut self.master, new_keys.clone());
        if self.schema >= 3
            && let Err(err) = self.check_master_keys()
        {
            self.master = previous;
            return Err(err);
        }
        self.rekey(new_keys)
    }

    /// Replaces the master keys and re-derives every unlocked account's keys.
    fn rekey(&mut self, new_keys: MasterKeys) -> Result<(), StoreError> {
        let mut rederived = HashMap::new();
        for (id, keys) in &self.accounts {
            rederived.insert(*id, keys.extend(&new_keys)?);
        }
        self.accounts = rederived;
        self.master = new_keys;
        Ok(())
    }

    /// Re-seals up to `batch` rows still under an older key version, in one
    /// transaction. Safe to interrupt at any point.
    ///
    /// # Errors
    /// [`StoreError::AccountLocked`] if a row belongs to a locked account,
    /// [`StoreError::Tampered`] if a row fails to open (it keeps its old
    /// version; the older key must then be kept), or [`StoreError::Database`].
    pub fn rotation_step(&mut self, batch: usize) -> Result<RotationProgress, StoreError> {
        let target = self.master.current_version();
        let batch = i64::try_from(batch).unwrap_or(i64::MAX);
        let mut resealed = 0usize;
        let mut more = false;
        let mut pending = Pending::default();
        let tx = self.conn.unchecked_transaction()?;
        for (t, spec) in SEALED_TABLES.iter().enumerate() {
            if !table_in_schema(spec.table, self.schema) {
                continue;
            }
            let left = batch - i64::try_from(resealed).unwrap_or(i64::MAX);
            if left <= 0 {
                more = true;
                break;
            }
            // Rows are visited in id order from a cursor, so a row that cannot
            // be re-sealed is passed over (and reported) instead of being
            // selected again forever.
            let columns = spec.columns.join(", ");
            let sql = format!(
                "SELECT id, {}, {}, key_version, {columns} FROM {} \
                 WHERE key_version != ?1 AND id > ?2 ORDER BY id LIMIT ?3",
                spec.account_column, spec.context_column, spec.table
            );
            let mut select = tx.prepare(&sql)?;
            let mut rows = select.query(params![target, self.rotation.cursor[t], left])?;
            let mut updates = Vec::new();
            while let Some(row) = rows.next()? {
                let id: i64 = row.get(0)?;
                self.rotation.cursor[t] = id;
                let account = account_of(row, 1)?;
                let context: i64 = row.get(2)?;
                let version: u32 = row.get(3)?;
                let mut values = Vec::with_capacity(spec.columns.len());
                let mut failed = false;
                for (i, column) in spec.columns.iter().enumerate() {
                    let field = FieldRef {
                        table: spec.table,
                        column,
                        account,
                        row: id,
                        context,
                    };
                    let resealed = blob_or_null(row, 4 + i, spec.table, id).and_then(|sealed| {
                        sealed
                            .map(|sealed| {
                                let keys = self.keys(account)?;
                                let plain = Sensitive::new(keys.open(version, field, sealed)?);
                                keys.seal(&self.rng, target, field, plain.expose())
                            })
                            .transpose()
                    });
                    match resealed {
                        Ok(value) => values.push(value),
                        Err(StoreError::Database(e)) => return Err(StoreError::Database(e)),
                        Err(_) => {
                            failed = true;
                            break;
                        }
                    }
                }
                if failed {
                    self.rotation.skipped.push((spec.table, id));
                } else {
                    updates.push((id, version, values));
                }
            }
            drop(rows);
            drop(select);
            let assignments: Vec<String> = spec
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c} = ?{}", i + 4))
                .collect();
            let update = format!(
                "UPDATE {} SET key_version = ?1, {} WHERE id = ?2 AND key_version = ?3",
                spec.table,
                assignments.join(", ")
            );
            let mut stmt = tx.prepare(&update)?;
            let mac_spec = integrity::MAC_TABLES
                .iter()
                .find(|m| m.table == spec.table)
                .copied();
            for (id, version, values) in updates {
                // A row whose MAC fails is passed over like one whose seal
                // fails: re-sealing must not re-MAC what an attacker wrote.
                let before = match mac_spec {
                    Some(m) => match self.require_genuine(&tx, m, id) {
                        Ok(before) => before,
                        Err(err) if err.is_row_failure() => {
                            self.rotation.skipped.push((spec.table, id));
                            continue;
                        }
                        Err(err) => return Err(err),
                    },
                    None => None,
                };
                let mut args: Vec<rusqlite::types::Value> = vec![
                    i64::from(target).into(),
                    id.into(),
                    i64::from(version).into(),
                ];
                args.extend(values.into_iter().map(|v| match v {
                    Some(bytes) => rusqlite::types::Value::Blob(bytes),
                    None => rusqlite::types::Value::Null,
                }));
                stmt.execute(rusqlite::params_from_iter(args))?;
                if let Some(m) = mac_spec {
                    self.track_row(&tx, &mut pending, m, id, before.as_ref())?;
                }
                resealed += 1;
            }
        }
        self.commit_heads(&tx, &mut pending)?;
        tx.commit()?;
        self.adopt(pending);
        Ok(RotationProgress {
            resealed,
            done: !more && resealed == 0,
            skipped: self.rotation.skipped.clone(),
        })
    }

    /// Drops master key versions no row uses any more, once a rotation is
    /// done, and returns the keys to store in the keychain.
    ///
    /// # Errors
    /// [`StoreError::MissingKeyVersion`] naming a version still in use, or
    /// [`StoreError::Database`].
    pub fn retire_old_versions(&mut self) -> Result<MasterKeys, StoreError> {
        let current = self.master.current_version();
        if let Some(old) = self.versions_in_use()?.into_iter().find(|v| *v != current) {
            return Err(StoreError::MissingKeyVersion(old));
        }
        let retired = self.master.retire_old_versions();
        self.rekey(retired.clone())?;
        Ok(retired)
    }

    /// Every master key version some row is sealed under.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn versions_in_use(&self) -> Result<Vec<u32>, StoreError> {
        let mut versions = Vec::new();
        for spec in SEALED_TABLES {
            if !table_in_schema(spec.table, self.schema) {
                continue;
            }
            let mut stmt = self
                .conn
                .prepare(&format!("SELECT DISTINCT key_version FROM {}", spec.table))?;
            for v in stmt.query_map([], |r| r.get::<_, u32>(0))? {
                versions.push(v?);
            }
        }
        versions.sort_unstable();
        versions.dedup();
        Ok(versions)
    }
}

#[cfg(test)]
mod aad_tests {
    use super::*;
    use crate::AccountId;

    #[test]
    fn every_sealed_table_and_column_name_fits_the_associated_data() {
        for spec in SEALED_TABLES {
            for column in spec.columns {
                let field = FieldRef {
                    table: spec.table,
                    column,
                    account: AccountId::from_random([1; 8]),
                    row: 1,
                    context: 1,
                };
                let expected = 14 + spec.table.len() + 1 + column.len() + 1 + 28;
                assert_eq!(
                    field.aad(1).as_slice().len(),
                    expected,
                    "{}.{column}",
                    spec.table
                );
            }
        }
    }
}
