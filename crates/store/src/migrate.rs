//! Schema migrations: one SQL file each, applied in order, each in its own
//! transaction, recorded in `PRAGMA user_version`.

use rusqlite::Connection;

use crate::error::StoreError;

/// The migrations, in order. Migration `i` (0-based) takes the schema from
/// version `i` to version `i + 1`. Never edit a released file: add a new one.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_alerts.sql"),
    include_str!("../migrations/0003_master_check.sql"),
    include_str!("../migrations/0004_bank_links.sql"),
    include_str!("../migrations/0005_integrity.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Brings the database up to `target` (at most [`SCHEMA_VERSION`]).
pub(crate) fn migrate(conn: &mut Connection, target: u32) -> Result<u32, StoreError> {
    let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for version in found..target {
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[version as usize])?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
    Ok(found)
}
